#!/bin/bash
# systemd_units.sh - the shipped systemd units are valid and hardened:
#   systemd-analyze verify passes on greffier-capture.service and greffier-web.service
#   (their ExecStart pointed at the built binary, the man pages of Documentation= on
#   MANPATH), `systemd-analyze security --offline=true` rates each at an overall exposure
#   of 2.0 or less, and the sysusers.d and tmpfiles.d files apply cleanly to an empty root.
# systemd-analyze missing is a failure, not a skip: `make deps` installs systemd.
# Environment: GREFFIER_BIN (default build/greffier).
set -u
cd "$(dirname "$0")/../.." || exit 2
BIN=${GREFFIER_BIN:-$PWD/build/greffier}
MAX_EXPOSURE=2.0
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }

command -v systemd-analyze >/dev/null 2>&1 || { echo "FAIL: systemd-analyze missing (make deps)"; exit 1; }
[ -x "$BIN" ] || { echo "FAIL: greffier binary $BIN missing (set GREFFIER_BIN or build it)"; exit 1; }
WORK=$(mktemp -d /tmp/greffier-units.XXXXXX) || exit 2
trap 'rm -rf "$WORK"' EXIT

# Documentation=man:greffier(8) is checked with man(1): give it the pages from docs/.
mkdir -p "$WORK/man/man8" "$WORK/man/man5"
cp docs/greffier.8 "$WORK/man/man8/" && cp docs/greffier.conf.5 "$WORK/man/man5/" ||
    fail "docs/greffier.8 or docs/greffier.conf.5 missing"
export MANPATH="$WORK/man"

for unit in greffier-capture.service greffier-web.service; do
    sed "s#/usr/bin/greffier #$BIN #" "systemd/$unit" >"$WORK/$unit"
    systemd-analyze verify "$WORK/$unit" >"$WORK/verify.out" 2>&1
    verify_rc=$?
    # Without man(1) installed, the Documentation= check cannot run: not the unit's fault.
    command -v man >/dev/null 2>&1 || sed -i "/Command 'man /d" "$WORK/verify.out"
    if [ "$verify_rc" != 0 ] ||
        grep -q . "$WORK/verify.out"; then
        fail "systemd-analyze verify $unit:"
        sed 's/^/    /' "$WORK/verify.out"
    else
        echo "ok: systemd-analyze verify $unit"
    fi
    systemd-analyze security --offline=true --no-pager "$WORK/$unit" >"$WORK/security.out" 2>&1
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$WORK/security.out")
    if [ -z "$score" ]; then
        fail "no exposure level for $unit:"
        tail -n 5 "$WORK/security.out" | sed 's/^/    /'
    elif python3 -c "import sys; sys.exit(0 if float('$score') <= $MAX_EXPOSURE else 1)"; then
        echo "ok: $unit exposure $score (at most $MAX_EXPOSURE)"
    else
        fail "$unit exposure $score, want at most $MAX_EXPOSURE:"
        grep '✗' "$WORK/security.out" | sed 's/^/    /'
    fi
done

# The capture unit grants CAP_NET_RAW only; the web unit nothing.
grep -qx 'CapabilityBoundingSet=CAP_NET_RAW' systemd/greffier-capture.service ||
    fail "capture unit: CapabilityBoundingSet is not CAP_NET_RAW alone"
grep -qx 'CapabilityBoundingSet=' systemd/greffier-web.service ||
    fail "web unit: CapabilityBoundingSet is not empty"
grep -q '^ListenStream\|^ListenDatagram' systemd/greffier-capture.service &&
    fail "capture unit has a listening socket"

# sysusers.d then tmpfiles.d on an empty root: the user, then the directories, owned by it.
ROOT=$WORK/root
mkdir -p "$ROOT/etc"
if systemd-sysusers --root="$ROOT" "$PWD/systemd/greffier.sysusers" >"$WORK/sysusers.out" 2>&1 &&
    grep -q '^greffier:x:[0-9]*:[0-9]*:.*:/var/lib/greffier:' "$ROOT/etc/passwd"; then
    echo "ok: sysusers creates greffier"
else
    fail "systemd-sysusers: $(cat "$WORK/sysusers.out")"
fi
if systemd-tmpfiles --root="$ROOT" --create "$PWD/systemd/greffier.tmpfiles" >"$WORK/tmpfiles.out" 2>&1; then
    uid=$(awk -F: '$1 == "greffier" { print $3 }' "$ROOT/etc/passwd")
    got=$(stat -c '%a %u' "$ROOT/var/lib/greffier" 2>/dev/null)
    [ "$got" = "700 $uid" ] || fail "tmpfiles: /var/lib/greffier is \"$got\", want \"700 $uid\""
    got=$(stat -c '%a %u' "$ROOT/etc/greffier/private" 2>/dev/null)
    [ "$got" = "700 0" ] || fail "tmpfiles: /etc/greffier/private is \"$got\", want \"700 0\""
    echo "ok: tmpfiles creates the directories"
else
    fail "systemd-tmpfiles: $(cat "$WORK/tmpfiles.out")"
fi

if [ "$FAILED" = 0 ]; then
    echo "1 passed, 0 failed"
    exit 0
fi
echo "0 passed, 1 failed"
exit 1

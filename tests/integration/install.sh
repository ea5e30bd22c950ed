#!/bin/bash
# install.sh - `make install DESTDIR=... PREFIX=/usr` puts every file in place with the
# right mode, a second install keeps a modified configuration file, the man pages render
# without a warning, and greffier.conf(5) documents every key of conf/greffier.conf.
# Environment: GREFFIER_BUILD (build folder holding greffier, default build).
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${GREFFIER_BUILD:-$PWD/build}
SAN=0
case "$BUILD" in *asan*) SAN=1 ;; esac
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }

[ -x "$BUILD/greffier" ] || { echo "FAIL: $BUILD/greffier missing (build it first)"; exit 1; }
for tool in make groff; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed"; exit 1; }
done
DEST=$(mktemp -d /tmp/greffier-install.XXXXXX) || exit 2
trap 'rm -rf "$DEST"' EXIT

install_once() {
    make -s install DESTDIR="$DEST" PREFIX=/usr BUILD="$BUILD" SAN=$SAN >"$DEST.out" 2>&1
    local rc=$?
    cat "$DEST.out"; rm -f "$DEST.out"
    return $rc
}

install_once || { echo "FAIL: make install failed"; exit 1; }

# path, mode
while read -r path mode; do
    [ -e "$DEST$path" ] || { fail "$path not installed"; continue; }
    got=$(stat -c '%a' "$DEST$path")
    [ "$got" = "$mode" ] || fail "$path has mode $got, want $mode"
done <<'LIST'
/usr/bin/greffier 755
/usr/lib/systemd/system/greffier-capture.service 644
/usr/lib/systemd/system/greffier-web.service 644
/usr/lib/sysusers.d/greffier.conf 644
/usr/lib/tmpfiles.d/greffier.conf 644
/usr/share/man/man8/greffier.8 644
/usr/share/man/man5/greffier.conf.5 644
/etc/greffier/greffier.conf 644
/etc/greffier/private 700
LIST
cmp -s conf/greffier.conf "$DEST/etc/greffier/greffier.conf" ||
    fail "installed greffier.conf differs from conf/greffier.conf"
grep -q '^ExecStart=/usr/bin/greffier -c /etc/greffier/greffier.conf capture$' \
    "$DEST/usr/lib/systemd/system/greffier-capture.service" ||
    fail "capture unit: ExecStart does not name /usr/bin/greffier"
"$DEST/usr/bin/greffier" -c "$DEST/etc/greffier/greffier.conf" config check >/dev/null ||
    fail "the installed configuration does not pass config check"
ok "first install: every file in place"

# A modified configuration survives a second install; the new sample goes next to it.
echo "# changed by the administrator" >>"$DEST/etc/greffier/greffier.conf"
cp "$DEST/etc/greffier/greffier.conf" "$DEST/conf.before"
install_once || fail "second make install failed"
cmp -s "$DEST/conf.before" "$DEST/etc/greffier/greffier.conf" ||
    fail "second install overwrote the modified configuration"
cmp -s conf/greffier.conf "$DEST/etc/greffier/greffier.conf.dist" ||
    fail "second install did not leave the new sample as greffier.conf.dist"
ok "second install keeps the modified configuration"

# PREFIX=/usr/local: the units name the binary where it went.
make -s install DESTDIR="$DEST/local" PREFIX=/usr/local BUILD="$BUILD" SAN=$SAN >/dev/null 2>&1 ||
    fail "make install PREFIX=/usr/local failed"
grep -q '^ExecStart=/usr/local/bin/greffier ' \
    "$DEST/local/usr/local/lib/systemd/system/greffier-capture.service" ||
    fail "PREFIX=/usr/local: the capture unit does not start /usr/local/bin/greffier"

# The man pages render without a warning.
for page in usr/share/man/man8/greffier.8 usr/share/man/man5/greffier.conf.5; do
    if ! groff -man -ww -z "$DEST/$page" >"$DEST/groff.err" 2>&1 || [ -s "$DEST/groff.err" ]; then
        fail "$page: groff warnings:"
        sed 's/^/    /' "$DEST/groff.err"
    fi
    if command -v man >/dev/null 2>&1; then
        MANWIDTH=80 man -l "$DEST/$page" >"$DEST/man.out" 2>"$DEST/man.err" ||
            fail "man -l $page failed: $(cat "$DEST/man.err")"
        [ -s "$DEST/man.out" ] || fail "man -l $page printed nothing"
    fi
done
ok "man pages render without warnings"

# Every key of the sample configuration is documented in greffier.conf(5), in its section.
missing=$(python3 - conf/greffier.conf docs/greffier.conf.5 <<'PY'
import re, sys
keys, section = [], None
for line in open(sys.argv[1]):
    m = re.match(r"\[(\w+)\]", line)
    if m:
        section = m.group(1)
    m = re.match(r"(\w+) =", line)
    if m:
        keys.append((section, m.group(1)))
page, where = open(sys.argv[2]).read().splitlines(), None
documented = set()
for line in page:
    m = re.match(r"\.SH \[(\w+)\]", line)
    if m:
        where = m.group(1)
    m = re.match(r"\.BI (\w+) ", line)
    if m:
        documented.add((where, m.group(1)))
print(" ".join("[%s] %s" % k for k in keys if k not in documented))
PY
)
[ -z "$missing" ] || fail "greffier.conf(5) does not document: $missing"
# And every command of greffier --help has its entry in greffier(8) (".TP" then ".B cmd").
cmds=$("$BUILD/greffier" --help | awk '$1 == "greffier" { print $2 }')
[ -n "$cmds" ] || fail "greffier --help lists no command"
missing=$(python3 - docs/greffier.8 $cmds <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
entries = set()
for prev, line in zip(lines, lines[1:]):
    m = re.match(r'\.BI? "?([a-z-]+)', line)
    if prev == ".TP" and m:
        entries.add(m.group(1))
print(" ".join(c for c in sys.argv[2:] if c not in entries))
PY
)
[ -z "$missing" ] || fail "greffier(8) does not document: $missing"
ok "greffier.conf(5) documents every key, greffier(8) every command"

if [ "$FAILED" = 0 ]; then
    echo "1 passed, 0 failed"
    exit 0
fi
echo "0 passed, 1 failed"
exit 1

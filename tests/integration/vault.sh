#!/bin/bash
# Recordings sealed at rest (docs/FORMAT.md), end to end: init, import a generated
# capture, `verify --all` says ok, no stored file holds an Ogg page ("OggS"), `audio`
# exports; one flipped byte makes verify name that recording alone "tampered" (exit 1)
# and `audio` refuse it; one cut short is "truncated"; a crash's .part file is closed
# at the next import and listed as an orphan; keygen + rekey + deleting the old private
# key leave every recording playable.
set -u
BIN=${GREFFIER_BIN:-build/greffier}
BUILD=${GREFFIER_BUILD:-build}
GEN="$BUILD/bench/gen_calls"
[ -x "$GEN" ] || { echo "skipped: no $GEN"; exit 0; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
D="$T/data"
fail=0
bad() { echo "FAIL: $*"; fail=1; }
step() { echo "ok: $*"; }

"$GEN" --calls 12 --duration 8 -o "$T/calls.pcap" >"$T/gen.out" 2>&1 || { cat "$T/gen.out"; exit 1; }
"$BIN" init -d "$D" >/dev/null || exit 1
"$BIN" -d "$D" import "$T/calls.pcap" >"$T/import.out" 2>&1 || { cat "$T/import.out"; exit 1; }
mapfile -t FILES < <(find "$D/recordings" -type f | sort)
[ "${#FILES[@]}" -ge 4 ] || bad "${#FILES[@]} recordings stored, want at least 4"
step "${#FILES[@]} recordings stored"
for f in "${FILES[@]}"; do
    case "$f" in *.gfv) ;; *) bad "$f: not a .gfv file" ;; esac
    grep -qa OggS "$f" && bad "$f holds plaintext Ogg"
    [ "$(head -c 16 "$f")" = "GREFFIER-VAULT1" ] || bad "$f: no vault magic"
    [ "$(stat -c %a "$f")" = 600 ] || bad "$f: mode $(stat -c %a "$f")"
done
step "no stored file holds \"OggS\""

"$BIN" -d "$D" verify --all >"$T/v.out" 2>&1 || { bad "verify --all on fresh data: exit $?"; cat "$T/v.out"; }
[ "$(grep -c ' ok ' "$T/v.out")" = "${#FILES[@]}" ] || { bad "verify --all: not all ok"; cat "$T/v.out"; }
step "verify --all: all ok"

mapfile -t IDS < <(grep ' ok ' "$T/v.out" | cut -d' ' -f1)
path_of() { grep "^$1 " "$T/v.out" | cut -d' ' -f3; }
"$BIN" -d "$D" audio "${IDS[0]}" -o "$T/x.wav" >/dev/null 2>"$T/a.err" || bad "audio: $(cat "$T/a.err")"
[ "$(head -c 4 "$T/x.wav")" = RIFF ] || bad "audio did not write a WAV"
"$BIN" -d "$D" audio "${IDS[0]}" -o "$T/x.ogg" >/dev/null 2>"$T/a.err" || bad "audio .ogg: $(cat "$T/a.err")"
[ "$(head -c 4 "$T/x.ogg")" = OggS ] || bad "audio .ogg is not Ogg"
step "audio exports WAV and Ogg"

# Tampered: one byte in the middle of recording 2.
P2="$D/$(path_of "${IDS[1]}")"
size=$(stat -c %s "$P2")
printf '\x5a' | dd of="$P2" bs=1 seek=$((size / 2)) conv=notrunc status=none
# Truncated: recording 3 cut at a chunk boundary (its last chunk dropped) ...
P3="$D/$(path_of "${IDS[2]}")"
truncate -s -100 "$P3"
"$BIN" -d "$D" verify --all >"$T/v2.out" 2>&1; rc=$?
[ $rc = 1 ] || bad "verify after damage: exit $rc, want 1"
grep -q "^${IDS[1]} tampered " "$T/v2.out" || { bad "recording ${IDS[1]} not reported tampered"; cat "$T/v2.out"; }
grep -q "^${IDS[2]} truncated " "$T/v2.out" || { bad "recording ${IDS[2]} not reported truncated"; cat "$T/v2.out"; }
[ "$(grep -c ' ok ' "$T/v2.out")" = $(( ${#IDS[@]} - 2 )) ] || { bad "others not ok"; cat "$T/v2.out"; }
step "verify: tampered and truncated named, the others ok"
"$BIN" -d "$D" verify "${IDS[1]}" >/dev/null 2>&1 && bad "verify ID of the tampered one: exit 0"
"$BIN" -d "$D" verify "${IDS[0]}" >/dev/null 2>&1 || bad "verify ID of an intact one: not 0"
"$BIN" -d "$D" audio "${IDS[1]}" -o "$T/t.wav" >/dev/null 2>"$T/a.err" && bad "audio exported a tampered recording"
[ -e "$T/t.wav" ] && bad "audio left a file for a tampered recording"
grep -q "altered" "$T/a.err" || bad "audio's refusal does not say altered: $(cat "$T/a.err")"
step "audio refuses the tampered recording"

# Keyless check (the capture host): sha256 only.
mv "$D/keys/recording-0001.key" "$T/k1"
"$BIN" -d "$D" verify "${IDS[0]}" >"$T/v3.out" 2>&1 || bad "keyless verify of an intact one: not 0"
grep -q "sha256 only" "$T/v3.out" || bad "keyless verify does not say sha256 only"
"$BIN" -d "$D" verify "${IDS[1]}" >/dev/null 2>&1 && bad "keyless verify of the tampered one: exit 0"
mv "$T/k1" "$D/keys/recording-0001.key"
step "keyless verify: sha256 only"

# A crash: a .part file left behind is closed at the next import and is an orphan.
cp "$P3" "$D/recordings/crashed.gfv.part"
"$BIN" -d "$D" import "$T/calls.pcap" >/dev/null 2>"$T/i2.err" || bad "second import failed"
[ -e "$D/recordings/crashed.gfv" ] && [ ! -e "$D/recordings/crashed.gfv.part" ] || bad ".part not recovered"
grep -q "interrupted by a crash" "$T/i2.err" || bad "recovery not logged: $(cat "$T/i2.err")"
"$BIN" -d "$D" verify --all >"$T/v4.out" 2>&1
grep -q "orphan recordings/crashed.gfv" "$T/v4.out" || { bad "orphan not listed"; cat "$T/v4.out"; }
rm -f "$D/recordings/crashed.gfv"
step "a crash's .part file recovered and listed as an orphan"

# Rotation: the damaged ones are skipped (never laundered), the others re-keyed.
rm -f "$P2" "$P3"
"$BIN" -d "$D" keygen >/dev/null || bad "keygen"
[ "$(stat -c %a "$D/keys/recording-0002.key")" = 600 ] || bad "new key not 0600"
"$BIN" -d "$D" rekey --retire 1 >"$T/r.out" 2>&1 && bad "rekey with missing recordings: exit 0"
grep -q "skipped" "$T/r.out" || bad "rekey does not say what it skipped"
[ -e "$D/keys/recording-0001.key" ] || bad "key 1 retired although recordings were skipped"
# Forget the two damaged recordings, then rekey for real.
python3 - "$D/index.sqlite" "${IDS[1]}" "${IDS[2]}" <<'PY' || bad "cannot edit the index"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM recordings WHERE call_ref IN (?, ?)", (int(sys.argv[2]), int(sys.argv[3])))
db.commit()
PY
"$BIN" -d "$D" rekey --retire 1 >"$T/r.out" 2>&1 || { bad "rekey: exit $?"; cat "$T/r.out"; }
[ -e "$D/keys/recording-0001.key" ] && bad "key 1 not retired"
"$BIN" -d "$D" verify --all >"$T/v5.out" 2>&1 || { bad "verify after rekey"; cat "$T/v5.out"; }
for id in "${IDS[0]}" "${IDS[3]}"; do
    "$BIN" -d "$D" audio "$id" -o "$T/k$id.wav" >/dev/null 2>"$T/a.err" || bad "audio $id after rekey: $(cat "$T/a.err")"
done
"$BIN" -d "$D" audio "${IDS[0]}" -o "$T/y.ogg" >/dev/null 2>&1
cmp -s "$T/x.ogg" "$T/y.ogg" || bad "the audio changed with rekey"
step "keygen, rekey --retire 1: every recording still plays with key 2 alone"

# The server layout of docs/ADMIN.md: the private key out of the data directory, handed to
# greffier-web by systemd in $CREDENTIALS_DIRECTORY/recording-keys (LoadCredential=).
mkdir -p "$T/cred/recording-keys"
mv "$D"/keys/recording-*.key "$T/cred/recording-keys/"
"$BIN" -d "$D" audio "${IDS[0]}" -o "$T/c1.ogg" >/dev/null 2>"$T/c.err" &&
    bad "audio played with no private key in the data directory nor a credential"
grep -q "recording-0002.key" "$T/c.err" || bad "the missing key is not named: $(cat "$T/c.err")"
CREDENTIALS_DIRECTORY="$T/cred" "$BIN" -d "$D" audio "${IDS[0]}" -o "$T/c2.ogg" >/dev/null \
    2>"$T/c.err" || bad "audio with the key as a systemd credential: $(cat "$T/c.err")"
cmp -s "$T/x.ogg" "$T/c2.ogg" || bad "the audio read through the credential differs"
mv "$T"/cred/recording-keys/*.key "$D/keys/"
step "the private key is read from \$CREDENTIALS_DIRECTORY/recording-keys when it is there"

[ $fail = 0 ] && echo "vault: all ok"
exit $fail

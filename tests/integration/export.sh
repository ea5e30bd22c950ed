#!/bin/bash
# Evidence bundles end to end (docs/EVIDENCE.md): init, import a generated capture,
# export two calls to a folder and to a zip; verify-bundle accepts both; then every file
# of the bundle in turn flipped, removed, and files added each make verify-bundle fail
# naming that file; another installation's --pubkey fails with its message; a tampered
# manifest fails its signature.  The signalling pcap opens in tshark with exactly the
# call's SIP messages; the calls are on legal hold (not with --no-hold); the audit chain
# has the holds and the export and still verifies.  The sh steps of docs/EVIDENCE.md are
# extracted and run as written, on the good bundle (pass) and on altered ones (fail); a
# local RFC 3161 authority (openssl ts -reply) answers manifest.tsq and the tsr is checked.
# Then tests/integration/export_api.py for POST /api/export.
set -u
BIN=${GREFFIER_BIN:-build/greffier}
BUILD=${GREFFIER_BUILD:-build}
GEN="$BUILD/bench/gen_calls"
HERE=$(cd "$(dirname "$0")" && pwd)
DOC="$HERE/../../docs/EVIDENCE.md"
[ -x "$GEN" ] || { echo "skipped: no $GEN"; exit 0; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
D="$T/data"
export GREFFIER_TEST_NOW=2024-05-01T12:00:00Z
fail=0
bad() { echo "FAIL: $*"; fail=1; }
step() { echo "ok: $*"; }
verify() { "$BIN" verify-bundle "$@" >"$T/vb.out" 2>&1; }
flip() { python3 -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
if b: b[len(b) // 2] ^= 0x5a
else: b = bytearray(b"x")
open(p, "wb").write(b)' "$1"; }
sql() { python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, r)))' "$D/index.sqlite" "$1"; }

"$GEN" --calls 8 --duration 6 -o "$T/calls.pcap" >"$T/gen.out" 2>&1 || { cat "$T/gen.out"; exit 1; }
"$BIN" init -d "$D" >/dev/null || exit 1
"$BIN" -d "$D" import "$T/calls.pcap" >"$T/import.out" 2>&1 || { cat "$T/import.out"; exit 1; }
mapfile -t REC < <("$BIN" -d "$D" calls --json | python3 -c 'import json, sys
for c in sorted(json.load(sys.stdin), key=lambda c: c["id"]):
    if c["recording"]: print(c["id"])')
[ "${#REC[@]}" -ge 3 ] || { bad "${#REC[@]} recorded calls, want 3"; exit 1; }
A=${REC[0]} B=${REC[1]} C=${REC[2]}
[ "$(stat -c %a "$D/keys/signing.key")" = 600 ] || bad "signing.key is not mode 0600"

# Usage and refusals first: nothing held, nothing written.
"$BIN" -d "$D" export "$A" --out "$T/x" >/dev/null 2>&1; [ $? = 2 ] || bad "export without --case: not a usage error"
"$BIN" -d "$D" export "$A" --case "" --out "$T/x" >/dev/null 2>&1; [ $? = 2 ] || bad "empty --case: not a usage error"
"$BIN" -d "$D" export 9999 --case K --out "$T/x" >/dev/null 2>"$T/e"; [ $? = 1 ] || bad "unknown id: not exit 1"
grep -q "no call with id 9999" "$T/e" || bad "unknown id: $(cat "$T/e")"
[ -e "$T/x" ] && bad "a refused export left $T/x"
[ -z "$(sql 'SELECT call_ref FROM legal_holds')" ] || bad "a refused export held calls"
step "refusals: no case (2), unknown id (1), nothing written or held"

"$BIN" -d "$D" export "$A" "$B" --case "Case 42/A" --out "$T/bundle" >"$T/ex.out" 2>&1 || { bad "export to a folder: $(cat "$T/ex.out")"; exit 1; }
"$BIN" -d "$D" export "$A" "$B" --case "Case 42/A" --out "$T/bundle.zip" >"$T/ex.out" 2>&1 || { bad "export to a zip: $(cat "$T/ex.out")"; exit 1; }
"$BIN" -d "$D" export "$A" --case "again" --out "$T/bundle" >/dev/null 2>&1 && bad "export over an existing bundle folder succeeded"
"$BIN" -d "$D" export "$A" --case "again" --out "$T/bundle.zip" >/dev/null 2>&1 && bad "export over an existing zip succeeded"
for f in manifest.json manifest.sig manifest.tsq signing.pub SHA256SUMS; do
    [ -f "$T/bundle/$f" ] || bad "bundle has no $f"
done
for id in "$A" "$B"; do
    for f in recording.ogg recording.wav metadata.json signalling.pcap signalling.txt audit.json; do
        [ -f "$T/bundle/call-$id/$f" ] || bad "bundle has no call-$id/$f"
    done
done
[ "$(head -c 4 "$T/bundle/call-$A/recording.ogg")" = OggS ] || bad "recording.ogg is not Ogg"
"$BIN" -d "$D" audio "$A" -o "$T/a.ogg" >/dev/null 2>&1 && cmp -s "$T/a.ogg" "$T/bundle/call-$A/recording.ogg" || bad "recording.ogg differs from greffier audio's"
"$BIN" -d "$D" audio "$A" -o "$T/a.wav" >/dev/null 2>&1 && cmp -s "$T/a.wav" "$T/bundle/call-$A/recording.wav" || bad "recording.wav differs from greffier audio's"
step "export: folder and zip written, the Ogg and WAV are those of greffier audio"

verify "$T/bundle" || { bad "verify-bundle of a fresh folder: exit $?"; cat "$T/vb.out"; }
tail -n 1 "$T/vb.out" | grep -q "^bundle verified" || bad "no summary line: $(tail -n 1 "$T/vb.out")"
grep -q "^ok call-$A/recording.wav: decodes to the same audio" "$T/vb.out" || bad "WAV/Ogg check not reported"
verify "$T/bundle.zip" || { bad "verify-bundle of a fresh zip: exit $?"; cat "$T/vb.out"; }
verify "$T/bundle" --pubkey "$D/keys/signing.pub" || bad "verify --pubkey of this installation: exit $?"
"$BIN" init -d "$T/other" >/dev/null || exit 1
verify "$T/bundle" --pubkey "$T/other/keys/signing.pub"; rc=$?
[ $rc = 1 ] || bad "verify --pubkey of another installation: exit $rc"
grep -q "^FAIL signing.pub: signed by another installation" "$T/vb.out" || { bad "wrong message for another installation's key"; cat "$T/vb.out"; }
verify "$T/bundle.zip" --pubkey "$T/other/keys/signing.pub" && bad "zip verified with another installation's key"
step "verify-bundle: folder and zip ok; another installation's --pubkey refused"

# The zip is a plain zip: Python's reader sees the same files, the recordings byte for
# byte (audit.json and the manifest differ: the folder's export is in the zip's audit).
python3 - "$T/bundle.zip" "$T/bundle" <<'PY' || bad "the zip does not hold the folder's files"
import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = sorted(z.namelist())
files = sorted(os.path.relpath(os.path.join(r, f), sys.argv[2]) for r, _, fs in os.walk(sys.argv[2]) for f in fs)
assert names == files, (names, files)
for n in names:
    assert z.getinfo(n).compress_type == zipfile.ZIP_STORED
    if n.endswith((".ogg", ".wav", ".pcap", "signing.pub")):
        assert z.read(n) == open(os.path.join(sys.argv[2], n), "rb").read(), n
PY
# One byte of the zip changed inside an entry's data: named.
python3 - "$T/bundle.zip" "$T/bad.zip" "call-$A/recording.wav" <<'PY'
import sys, zipfile
b = bytearray(open(sys.argv[1], "rb").read())
i = zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[3])
b[i.header_offset + 30 + len(i.filename) + 1000] ^= 1
open(sys.argv[2], "wb").write(b)
PY
verify "$T/bad.zip" && bad "a zip with a flipped byte verified"
grep -q "^FAIL call-$A/recording.wav" "$T/vb.out" || { bad "the zip's altered entry is not named"; cat "$T/vb.out"; }
head -c 100 "$T/bundle.zip" >"$T/short.zip"
"$BIN" verify-bundle "$T/short.zip" >/dev/null 2>&1; [ $? = 1 ] || bad "a truncated zip: not exit 1"
step "zip: readable by Python's zipfile, stored entries; altered and truncated zips refused"

# Every file in turn: one byte flipped, then removed.
mapfile -t FILES < <(cd "$T/bundle" && find . -type f | sed 's|^\./||' | sort)
n=0
for f in "${FILES[@]}"; do
    rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"; flip "$T/w/$f"
    if verify "$T/w"; then bad "flipped byte in $f: verified"; continue; fi
    # A signature that fails names manifest.json and manifest.sig on one line.
    case "$f" in
    manifest.sig) want="^FAIL .*manifest.sig" ;;
    *) want="^FAIL $f" ;;
    esac
    grep -q "$want" "$T/vb.out" || { bad "flipped byte in $f: not named"; cat "$T/vb.out"; }
    rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"; rm "$T/w/$f"
    if verify "$T/w"; then bad "removed $f: verified"; continue; fi
    grep -q "^FAIL $f" "$T/vb.out" || { bad "removed $f: not named"; cat "$T/vb.out"; }
    n=$((n + 1))
done
step "$n files: a flipped byte and a removal each fail, naming the file"

for extra in notes.txt "call-$A/extra.wav" "call-999/recording.ogg"; do
    rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"; mkdir -p "$(dirname "$T/w/$extra")"; echo x >"$T/w/$extra"
    verify "$T/w" && bad "added $extra: verified"
    grep -q "^FAIL $extra: not listed in manifest.json (added)" "$T/vb.out" || { bad "added $extra: not named"; cat "$T/vb.out"; }
done
rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"; sed -i 's/"case": "Case 42\/A"/"case": "Case 43\/A"/' "$T/w/manifest.json"
cmp -s "$T/w/manifest.json" "$T/bundle/manifest.json" && bad "the manifest edit did nothing"
verify "$T/w" && bad "a manifest with another case verified"
grep -q "^FAIL manifest.json: signature (manifest.sig) does not verify" "$T/vb.out" || { bad "edited manifest: no signature failure"; cat "$T/vb.out"; }
step "added files named; an edited manifest fails its signature"

# pubkey: the same key as the bundle's, the fingerprint openssl computes.
"$BIN" -d "$D" pubkey >"$T/pk.out" 2>&1 || bad "pubkey: exit $?"
fpr=$(openssl pkey -pubin -in "$D/keys/signing.pub" -outform DER | sha256sum | cut -c1-64)
grep -q "^SHA-256 fingerprint: $fpr$" "$T/pk.out" || bad "pubkey fingerprint is not openssl's $fpr"
sed '/^SHA-256/d' "$T/pk.out" | cmp -s - "$T/bundle/signing.pub" || bad "pubkey's PEM is not the bundle's signing.pub"
grep -q "\"signing_key_sha256\": \"$fpr\"" "$T/bundle/manifest.json" || bad "manifest does not name the key"
mv "$T/other/keys/signing.key" "$T/other/keys/signing.pub" "$T/"
"$BIN" -d "$T/other" pubkey >/dev/null 2>"$T/e" && bad "pubkey without a key: exit 0"
grep -q "keygen --signing" "$T/e" || bad "pubkey without a key does not say how to make one"
"$BIN" -d "$T/other" keygen --signing >/dev/null || bad "keygen --signing"
"$BIN" -d "$T/other" keygen --signing >/dev/null 2>&1 && bad "keygen --signing replaced a signing key"
[ "$(stat -c %a "$T/other/keys/signing.key")" = 600 ] || bad "keygen --signing key not 0600"
step "pubkey = bundle's signing.pub, fingerprint = openssl's; keygen --signing once"

# Signalling: exactly the call's SIP messages, with their Call-ID.
for id in "$A" "$B"; do
    "$BIN" -d "$D" call "$id" >"$T/call.json" || bad "call $id"
    want=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["sip_messages"]))' "$T/call.json")
    cid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["call_id"])' "$T/call.json")
    tshark -r "$T/bundle/call-$id/signalling.pcap" -Y sip -T fields -e sip.Call-ID >"$T/ts.out" 2>"$T/ts.err" || bad "tshark cannot read call-$id/signalling.pcap: $(cat "$T/ts.err")"
    got=$(wc -l <"$T/ts.out")
    [ "$got" = "$want" ] && [ "$want" -gt 0 ] || bad "call $id: tshark sees $got SIP messages, the index has $want"
    [ "$(sort -u "$T/ts.out")" = "$cid" ] || bad "call $id: Call-IDs in the pcap: $(sort -u "$T/ts.out" | tr '\n' ' '), want $cid"
    total=$(tshark -r "$T/bundle/call-$id/signalling.pcap" 2>/dev/null | wc -l)
    [ "$total" = "$want" ] || bad "call $id: $total packets in the pcap, want $want (only SIP)"
    grep -q "^$want messages$" "$T/bundle/call-$id/signalling.txt" || bad "call $id: ladder does not count $want messages"
done
step "signalling.pcap: tshark sees exactly the call's SIP messages and Call-ID"

# Metadata, holds, audit.
python3 - "$T/bundle/call-$A/metadata.json" "$A" <<'PY' || bad "metadata.json"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["call"]["id"] == int(sys.argv[2])
d = m["details"]
assert d["index_calls_row"]["id"] == int(sys.argv[2])
assert d["legal_hold"]["reason"] == "export Case 42/A", d["legal_hold"]
assert d["seal_state_at_export"] == "ok"
assert d["clock"]["capture_host"]["synchronised"] == "unknown"
assert "retention_days" in d["retention"]["rule"]
assert "peaks" not in d["index_recordings_row"]
PY
[ "$(sql "SELECT call_ref || ' ' || reason FROM legal_holds ORDER BY call_ref" | tr '\n' ';')" = "$A export Case 42/A;$B export Case 42/A;" ] || bad "holds: $(sql 'SELECT * FROM legal_holds')"
"$BIN" -d "$D" export "$C" --case "no hold" --no-hold --out "$T/nohold" >/dev/null 2>&1 || bad "export --no-hold"
[ -z "$(sql "SELECT call_ref FROM legal_holds WHERE call_ref = $C")" ] || bad "--no-hold held call $C"
verify "$T/nohold" || bad "the --no-hold bundle does not verify"
"$BIN" -d "$D" audit list >"$T/audit.json" || bad "audit list"
python3 - "$T/audit.json" "$A" "$B" "$C" "$(cat "$T/bundle/manifest.json" | sha256sum | cut -c1-64)" <<'PY' || bad "audit rows"
import json, sys
rows = json.load(open(sys.argv[1]))
a, b, c, man = sys.argv[2:6]
exports = [r for r in rows if r["action"] == "export"]
holds = sorted(r["target"] for r in rows if r["action"] == "hold")
assert holds == sorted([a, b]), holds
first = [r for r in exports if r["target"] == a + "," + b]
assert len(first) == 2, exports  # the folder and the zip
details = [json.loads(r["detail"]) for r in first]
assert all(d["case"] == "Case 42/A" and d["ids"] == a + "," + b and d["hold"] == "true" for d in details)
assert man in [d["manifest_sha256"] for d in details], (man, details)
assert [json.loads(r["detail"])["hold"] for r in exports if r["target"] == c] == ["false"]
assert all(r["user"].startswith("cli:") for r in exports)
PY
python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
assert [r["action"] for r in rows] == ["hold"], rows' "$T/bundle/call-$A/audit.json" || bad "audit.json of call $A is not its hold row"
"$BIN" -d "$D" audit verify >/dev/null || bad "audit verify after exports"
step "metadata, holds (not with --no-hold), audit rows with the manifest's hash; audit verify ok"

# A recording altered on disk is not exported, and a failed export leaves nothing behind.
if [ "${#REC[@]}" -ge 4 ] || { bad "${#REC[@]} recorded calls, want 4"; false; }; then
    E=${REC[3]}
    P=$("$BIN" -d "$D" verify "$E" | cut -d' ' -f3)
    flip "$D/$P"
    for out in "$T/failed" "$T/failed.zip"; do
        "$BIN" -d "$D" export "$E" --case "damaged" --out "$out" >/dev/null 2>"$T/e"; rc=$?
        [ $rc = 1 ] || bad "export of a tampered recording: exit $rc"
        grep -q "call $E: recording tampered" "$T/e" || bad "export of a tampered recording: $(cat "$T/e")"
        [ -e "$out" ] && bad "a failed export left $out"
    done
    ls "$T" | grep -q 'tmp-' && bad "a failed zip export left a temporary file: $(ls "$T")"
    [ "$(sql "SELECT reason FROM legal_holds WHERE call_ref = $E")" = "export damaged" ] || bad "the call of a failed export is not held"
    step "a tampered recording is not exported; nothing left behind; the call stays held"
fi

# The documented steps, exactly as written in docs/EVIDENCE.md.
awk '/^```sh$/ { on = 1; next } /^```/ { on = 0 } on' "$DOC" >"$T/steps.sh"
[ "$(grep -c . "$T/steps.sh")" -ge 6 ] || bad "docs/EVIDENCE.md has too few sh steps"
grep -q "openssl pkeyutl -verify" "$T/steps.sh" && grep -q "sha256sum --strict -c" "$T/steps.sh" || bad "the doc's steps lack the signature or the hashes"
steps() { (cd "$1" && sh -e "$T/steps.sh") >"$T/steps.out" 2>&1; }
rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"
steps "$T/w" || { bad "the documented steps fail on a good bundle"; cat "$T/steps.out"; }
mkdir "$T/unz" && (cd "$T/unz" && python3 -m zipfile -e "$T/bundle.zip" .) && steps "$T/unz" || bad "the documented steps fail on the unzipped zip"
for damage in "flip call-$A/recording.wav" "flip manifest.json" "flip SHA256SUMS" "flip manifest.sig" "add call-$A/extra" "rm call-$B/audit.json" "flip manifest.tsq"; do
    rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"
    set -- $damage
    case $1 in flip) flip "$T/w/$2" ;; add) echo x >"$T/w/$2" ;; rm) rm "$T/w/$2" ;; esac
    if [ "$2" = manifest.tsq ]; then
        # The tsq check is an imprint check: a flip in the nonce passes it, so only verify-bundle is asked.
        verify "$T/w" && bad "verify-bundle accepted a flipped manifest.tsq"
        continue
    fi
    steps "$T/w" && bad "the documented steps pass after: $damage"
done
step "docs/EVIDENCE.md steps: pass on the bundle, fail on each damage"

# RFC 3161: a local authority answers the request; the response is checked.
mkdir "$T/tsa" && cd "$T/tsa" || exit 1
cat >tsa.cnf <<EOF
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir = $T/tsa
serial = \$dir/serial
crypto_device = builtin
signer_cert = \$dir/tsa.crt
certs = \$dir/ca.crt
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
echo 01 >serial
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' >tsa.ext
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=test-tsa-ca -days 30 -addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1 &&
openssl req -newkey rsa:2048 -nodes -keyout tsa.key -out tsa.csr -subj /CN=test-tsa >/dev/null 2>&1 &&
openssl x509 -req -in tsa.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tsa.crt -days 30 -extfile tsa.ext >/dev/null 2>&1 || bad "cannot make the test TSA's certificates"
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.crt -subj /CN=other-ca -days 30 >/dev/null 2>&1
cd - >/dev/null || exit 1
rm -rf "$T/w"; cp -r "$T/bundle" "$T/w"
openssl ts -reply -config "$T/tsa/tsa.cnf" -queryfile "$T/w/manifest.tsq" -out "$T/w/manifest.tsr" >/dev/null 2>&1 || bad "the test TSA did not answer"
verify "$T/w" || { bad "bundle with a manifest.tsr: exit $?"; cat "$T/vb.out"; }
grep -q "^ok manifest.tsr: granted at .*signature is NOT checked" "$T/vb.out" || { bad "tsr without --tsa-ca not reported as such"; cat "$T/vb.out"; }
verify "$T/w" --tsa-ca "$T/tsa/ca.crt" || { bad "tsr with --tsa-ca: exit $?"; cat "$T/vb.out"; }
grep -q "^ok manifest.tsr: .*signature and TSA chain valid" "$T/vb.out" || bad "tsr --tsa-ca not reported valid"
verify "$T/w" --tsa-ca "$T/tsa/other-ca.crt" && bad "tsr verified with an unrelated CA"
awk '/^```sh-tsa-verify$/ { on = 1; next } /^```/ { on = 0 } on' "$DOC" >"$T/tsa-steps.sh"
(cd "$T/w" && TSA_CA="$T/tsa/ca.crt" sh -e "$T/tsa-steps.sh") >"$T/steps.out" 2>&1 || { bad "the documented time-stamp steps fail"; cat "$T/steps.out"; }
# A response to another request (another bundle's) does not match.
openssl ts -reply -config "$T/tsa/tsa.cnf" -queryfile "$T/nohold/manifest.tsq" -out "$T/w/manifest.tsr" >/dev/null 2>&1
verify "$T/w" && bad "a response to another request verified"
grep -q "^FAIL manifest.tsr" "$T/vb.out" || bad "the wrong tsr is not named"
(cd "$T/w" && TSA_CA="$T/tsa/ca.crt" sh -e "$T/tsa-steps.sh") >/dev/null 2>&1 && bad "the documented time-stamp steps accept another request's response"
step "manifest.tsr from a local TSA: matched; --tsa-ca checks the chain; a foreign tsr fails"

if [ -f "$HERE/export_api.py" ]; then
    python3 "$HERE/export_api.py" || bad "export_api.py"
fi

[ $fail = 0 ] && echo "export: all ok"
exit $fail

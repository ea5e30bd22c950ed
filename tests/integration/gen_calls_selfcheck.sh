#!/bin/bash
# gen_calls_selfcheck.sh - the capture generator that benchmarks, the demo and golden tests
# rely on must itself be right: same arguments give the same bytes, tshark reads every
# SIP message and RTP stream the truth file announces, with the announced outcomes, and
# the G.711 payload decodes to the announced tone frequencies.
# Environment: GREFFIER_BUILD (the build folder holding bench/gen_calls), TEST_OUT.
set -u
cd "$(dirname "$0")/../.." || exit 2
GEN=${GREFFIER_BUILD:-$PWD/build}/bench/gen_calls
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$GEN" ] || fail "$GEN missing (make tests builds it)"
for tool in tshark python3 timeout; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (make deps installs it)"
done
WORK=${TEST_OUT:-/tmp}/gen_calls_selfcheck.$$
mkdir -p "$WORK" || exit 2
trap 'rm -rf "$WORK"' EXIT

for codec in pcmu pcma; do
    args=(--calls 20 --duration 4 --concurrency 6 --codec "$codec" --seed 42 --scenario mix)
    timeout 30 "$GEN" "${args[@]}" -o "$WORK/a.pcap" 2>/dev/null || fail "gen_calls ${args[*]}"
    timeout 30 "$GEN" "${args[@]}" -o "$WORK/b.pcap" 2>/dev/null || fail "gen_calls ${args[*]}"
    cmp -s "$WORK/a.pcap" "$WORK/b.pcap" || fail "$codec: two runs differ"
    cmp -s "$WORK/a.truth.json" "$WORK/b.truth.json" || fail "$codec: truth files differ"

    timeout 60 tshark -r "$WORK/a.pcap" -Y sip -T fields -E separator='|' -e sip.Call-ID \
        -e sip.Method -e sip.Status-Code -e sip.CSeq.method >"$WORK/sip.txt" 2>/dev/null ||
        fail "tshark (sip)"
    timeout 60 tshark -r "$WORK/a.pcap" -q -z rtp,streams >"$WORK/rtp.txt" 2>/dev/null ||
        fail "tshark (rtp)"
    timeout 60 python3 - "$WORK/a.truth.json" "$WORK/sip.txt" "$WORK/rtp.txt" "$WORK/a.pcap" \
        "$codec" <<'EOF' || fail "$codec: the capture does not match its truth file"
import json, re, struct, sys
truth = json.load(open(sys.argv[1]))
calls = {c["call_id"]: c for c in truth["calls"]}
errors = []
final = {}
nsip = 0
for line in open(sys.argv[2]):
    cid, method, code, cseq_method = line.rstrip("\n").split("|")
    nsip += 1
    if code and cseq_method == "INVITE" and int(code) >= 200 and int(code) != 401:
        final.setdefault(cid, int(code))
if nsip != truth["sip_messages"]:
    errors.append("tshark sees %d SIP messages, truth says %d" % (nsip, truth["sip_messages"]))
if set(final) != set(calls):
    errors.append("Call-IDs with a final response differ from the truth's")
for cid, c in calls.items():
    if final.get(cid) != c["sip_code"]:
        errors.append("%s: final %s, truth %s" % (cid, final.get(cid), c["sip_code"]))
statuses = {c["status"] for c in calls.values()}
if statuses != {"answered", "cancelled", "busy", "rejected"}:
    errors.append("mix lacks an outcome: %s" % sorted(statuses))

# tshark's RTP streams (from the SDP): one per direction of each answered call.
streams = {}
for line in open(sys.argv[3]):
    f = line.split()
    if len(f) > 9 and re.match(r"^\d+\.\d+\.\d+\.\d+$", f[2]):
        streams["%s:%s" % (f[2], f[3])] = (int(f[8]), f[7])
want_pt = "g711U" if sys.argv[5] == "pcmu" else "g711A"
for c in calls.values():
    if c["status"] != "answered":
        continue
    for side in ("caller", "callee"):
        s = streams.get(c[side + "_rtp"])
        if s != (c["rtp_packets_" + side], want_pt):
            errors.append("%s %s: tshark stream %s, truth %d packets" %
                          (c["call_id"], side, s, c["rtp_packets_" + side]))

# Decode the first second of each stream and count zero crossings: the tone's frequency.
def ulaw(b):
    b = ~b & 0xFF
    s = (((b & 0x0F) << 3) + 0x84) << ((b >> 4) & 7)
    return -(s - 0x84) if b & 0x80 else s - 0x84
def alaw(b):
    b ^= 0x55
    e, m = (b >> 4) & 7, b & 0x0F
    s = (m << 4) + 8 if e == 0 else ((m << 4) + 0x108) << (e - 1)
    return s if b & 0x80 else -s
dec = ulaw if sys.argv[5] == "pcmu" else alaw
payload = {}
with open(sys.argv[4], "rb") as f:
    f.read(24)
    while True:
        h = f.read(16)
        if len(h) < 16:
            break
        caplen = struct.unpack("<IIII", h)[2]
        d = f.read(caplen)
        if len(d) == 214 and d[42] == 0x80:
            src = "%d.%d.%d.%d:%d" % (*d[26:30], struct.unpack(">H", d[34:36])[0])
            body = d[54:]
            # The alignment mark (digital silence) carries no tone: skip it.
            if len(set(body)) == 1 and body[0] in (0xFF, 0xD5):
                continue
            if len(payload.setdefault(src, [])) < 50:
                payload[src].append(body)
for c in calls.values():
    if c["status"] != "answered":
        continue
    for side in ("caller", "callee"):
        x = [dec(b) for b in b"".join(payload.get(c[side + "_rtp"], []))]
        zc = sum(1 for i in range(1, len(x)) if (x[i - 1] < 0) != (x[i] < 0))
        hz = zc / 2 / (len(x) / 8000.0) if x else 0
        if abs(hz - c[side + "_tone_hz"]) > 5:
            errors.append("%s %s: tone %.0f Hz, truth %d" % (c["call_id"], side, hz,
                                                              c[side + "_tone_hz"]))
for e in errors[:20]:
    print(e)
sys.exit(1 if errors else 0)
EOF
    echo "$codec: deterministic; SIP outcomes, RTP streams and tones match the truth file"
done
# The other codecs, DTMF and SRTP (their media is checked by media_codecs.py through
# greffier): same arguments, same bytes, and tshark finds every announced stream.
for extra in "--codec g722" "--codec g729" "--codec opus --dtmf 0#" "--codec pcmu --srtp --dtmf 5"; do
    # shellcheck disable=SC2206
    args=(--calls 10 --duration 4 --concurrency 4 --seed 43 --scenario mix $extra)
    timeout 30 "$GEN" "${args[@]}" -o "$WORK/a.pcap" 2>/dev/null || fail "gen_calls ${args[*]}"
    timeout 30 "$GEN" "${args[@]}" -o "$WORK/b.pcap" 2>/dev/null || fail "gen_calls ${args[*]}"
    cmp -s "$WORK/a.pcap" "$WORK/b.pcap" || fail "$extra: two runs differ"
    cmp -s "$WORK/a.truth.json" "$WORK/b.truth.json" || fail "$extra: truth files differ"
    # tshark finds the streams from the SDP, SRTP ones included (as protocol rtp).
    timeout 60 tshark -r "$WORK/a.pcap" -Y rtp -T fields -e ip.dst -e udp.dstport \
        >"$WORK/rtp.txt" 2>/dev/null || fail "tshark (rtp)"
    timeout 60 python3 - "$WORK/a.truth.json" "$WORK/rtp.txt" <<'EOF2' || fail "$extra: the capture does not match its truth file"
import collections, json, sys
truth = json.load(open(sys.argv[1]))
seen = collections.Counter(line.strip().replace("\t", ":") for line in open(sys.argv[2]))
errors = []
for c in truth["calls"]:
    if c["status"] != "answered":
        continue
    for side, other in (("caller", "callee"), ("callee", "caller")):
        if seen[c[other + "_rtp"]] != c["rtp_packets_" + side]:
            errors.append("%s %s: tshark sees %d packets, truth %d" % (
                c["call_id"], side, seen[c[other + "_rtp"]], c["rtp_packets_" + side]))
for e in errors[:20]:
    print(e)
sys.exit(1 if errors else 0)
EOF2
    echo "$extra: deterministic; RTP streams match the truth file"
done
echo "gen_calls selfcheck: OK (pcmu, pcma, g722, g729, opus, DTMF, SRTP)"

#!/bin/bash
# sipp_netns.sh - greffier against real SIP peers: SIPp places and answers calls across a
# veth pair between two private network namespaces, tcpdump records the wire, greffier
# imports the capture, and its call list must agree with what SIPp did.  Each answered
# call must have a recording (media_state "recorded") lasting from answer to BYE within
# 60 ms, audible (RMS) in every channel that carried RTP, and streams whose packet counts
# are what tshark counts on the wire for the same address pairs.
#
# The calls (one SIPp UAC, one SIPp UAS, both built from scenarios written below):
#   5 answered: INVITE/100/180/200/ACK, ~7 s of PCMA RTP (SIPp plays Debian's
#     /usr/share/sip-tester/g711a.pcap, the UAS echoes it with -rtp_echo), BYE/200;
#   3 busy: INVITE/100/180/486/ACK (the UAS answers 486 when the callee is 2099).
# Callers, display names and callees come from an injection file, one line per call.
#
# Needs root (network namespaces) and sipp, tcpdump, tshark, python3 (make deps). Not
# root or no `ip netns`: prints "SKIP: reason" and exits 0.  Traffic stays inside the two
# namespaces made here (10.213.0.0/30); nothing is sent anywhere else.
# Environment: GREFFIER_BIN (default build/greffier), TEST_OUT (where logs are kept).
set -u
cd "$(dirname "$0")/../.." || exit 2

. tests/integration/lib_netns.sh
netns_begin sipp_netns s 10.213.0 sipp tcpdump tshark python3 ss
PAUSE_MS=7200 # the call after ACK: g711a.pcap lasts 7.05 s
NCALLS=8
PCAP_AUDIO=/usr/share/sip-tester/g711a.pcap
CAP=$WORK/wire.pcap
DATA=$WORK/data
netns_up

# --- scenarios ---------------------------------------------------------------------------
cat >"$WORK/calls.csv" <<'EOF'
SEQUENTIAL
2001;Alice Martin;0612345678
2002;Bruno Petit;2099
2003;Camille Durand;+33612345679
2004;David Leroy;2099
2005;Elodie Moreau;2042
2006;Hugo Simon;2099
2007;Ines Michel;0170000000
2008;Julien Garcia;2043
EOF

sipp_scenarios "$WORK" "$PAUSE_MS" "$PCAP_AUDIO" || fail "sipp scenarios"

# --- capture, then the calls -------------------------------------------------------------
capture_start "$CAP"

(cd "$WORK" && exec ip netns exec "$NS_UAS" timeout 40 sipp -sf uas.xml -i "$IP_UAS" -p 5060 \
    -mi "$IP_UAS" -mp 6000 -rtp_echo -m "$NCALLS" -nostdin -trace_stat -stf uas_stat.csv \
    -fd 1 -trace_err -timeout 30 -timeout_error >uas.out 2>uas.err) &
UAS_PID=$!
PIDS+=("$UAS_PID")
wait_udp_listen "$NS_UAS" "$IP_UAS:5060" "$UAS_PID" ||
    fail "sipp UAS is not listening: $(tail -n 3 "$WORK/uas.err" "$WORK/uas.out" 2>/dev/null)"
step "sipp UAS listening on $IP_UAS:5060"

step "sipp UAC: $NCALLS calls"
(cd "$WORK" && exec ip netns exec "$NS_UAC" timeout 40 sipp -sf uac.xml "$IP_UAS:5060" \
    -i "$IP_UAC" -p 5060 -mi "$IP_UAC" -inf calls.csv -m "$NCALLS" -r "$NCALLS" -l "$NCALLS" \
    -nostdin -trace_stat -stf uac_stat.csv -fd 1 -trace_err -timeout 30 -timeout_error \
    >uac.out 2>uac.err) &
UAC_PID=$!
PIDS+=("$UAC_PID")
wait "$UAC_PID" # in the background so that a signal reaches the trap at once
UAC_RC=$?
wait "$UAS_PID"
UAS_RC=$?
step "sipp UAC exit $UAC_RC, UAS exit $UAS_RC"
capture_stop

[ "$UAC_RC" = 0 ] || fail "sipp UAC failed (exit $UAC_RC): $(tail -n 5 "$WORK/uac.err"; \
    cat "$WORK"/uac_*errors.log 2>/dev/null | head -n 20)"
[ "$UAS_RC" = 0 ] || fail "sipp UAS failed (exit $UAS_RC): $(tail -n 5 "$WORK/uas.err"; \
    cat "$WORK"/uas_*errors.log 2>/dev/null | head -n 20)"

# SIPp's own account: successful and failed calls from its statistics file.
read -r SIPP_OK SIPP_FAILED < <(python3 - "$WORK/uac_stat.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
head, last = rows[0], rows[-1]
print(last[head.index("SuccessfulCall(C)")], last[head.index("FailedCall(C)")])
EOF
) || fail "cannot read sipp statistics $WORK/uac_stat.csv"
step "sipp says: $SIPP_OK successful, $SIPP_FAILED failed calls"
[ "$SIPP_OK" = "$NCALLS" ] && [ "$SIPP_FAILED" = 0 ] ||
    fail "sipp expected $NCALLS successful calls, got $SIPP_OK ($SIPP_FAILED failed)"

# --- what the wire holds (tshark), the reference for greffier --------------------------
timeout 60 tshark -r "$CAP" -Y sip -T fields -E separator='|' -e sip.Call-ID -e sip.Method \
    -e sip.Status-Code -e sip.CSeq.method -e sip.from.user -e sip.from.display.info \
    -e sip.to.user >"$WORK/sip.txt" 2>"$WORK/tshark.err" || fail "tshark failed on $CAP"
timeout 60 tshark -r "$CAP" -Y 'udp && !sip' -T fields -e ip.src -e udp.srcport -e ip.dst \
    -e udp.dstport >"$WORK/rtp.txt" \
    2>>"$WORK/tshark.err" || fail "tshark failed on $CAP"
python3 - "$WORK/sip.txt" "$WORK/expected.json" <<'EOF' || fail "capture does not hold the expected SIP"
import json, sys
calls = {}
for line in open(sys.argv[1]):
    cid, method, code, cseq_method, from_user, from_name, to_user = line.rstrip("\n").split("|")
    c = calls.setdefault(cid, {"call_id": cid, "codes": [], "methods": []})
    if method == "INVITE":
        c.update(caller=from_user, caller_name=from_name.strip('"'), callee=to_user)
    if method:
        c["methods"].append(method)
    if code and cseq_method == "INVITE" and int(code) >= 200:
        c["final"] = int(code)
errors = []
for c in calls.values():
    want_busy = c.get("callee") == "2099"
    c["expect"] = "busy" if want_busy else "answered"
    if c.get("final") != (486 if want_busy else 200):
        errors.append("%s: final response %s" % (c["call_id"], c.get("final")))
    if not want_busy and "BYE" not in c["methods"]:
        errors.append("%s: no BYE" % c["call_id"])
    if "ACK" not in c["methods"]:
        errors.append("%s: no ACK" % c["call_id"])
if len(calls) != 8:
    errors.append("%d Call-IDs on the wire, want 8" % len(calls))
for e in errors:
    print("capture:", e)
json.dump(sorted(calls.values(), key=lambda c: c["caller"]), open(sys.argv[2], "w"), indent=1)
sys.exit(1 if errors else 0)
EOF
step "capture: $(wc -l <"$WORK/sip.txt") SIP messages in 8 calls as expected, \
$(wc -l <"$WORK/rtp.txt") other UDP (RTP) packets"

# --- greffier ---------------------------------------------------------------------------
timeout 30 "$BIN" init -d "$DATA" >"$WORK/init.out" 2>&1 ||
    fail "greffier init failed: $(tail -n 5 "$WORK/init.out")"
timeout 60 "$BIN" -d "$DATA" import "$CAP" >"$WORK/import.out" 2>"$WORK/import.err" ||
    fail "greffier import failed: $(tail -n 5 "$WORK/import.err" "$WORK/import.out")"
step "greffier import: $(grep -E '(^| )packets=' "$WORK/import.out" | tail -n 1)"
timeout 30 "$BIN" -d "$DATA" calls --json >"$WORK/calls.json" 2>"$WORK/calls.err" ||
    fail "greffier calls --json failed: $(tail -n 5 "$WORK/calls.err")"

python3 - "$WORK/expected.json" "$WORK/calls.json" "$WORK/import.out" "$PAUSE_MS" <<'EOF' ||
import json, re, sys
from datetime import datetime

expected = json.load(open(sys.argv[1]))
pause_s = int(sys.argv[4]) / 1000.0
errors = []
try:
    got = json.load(open(sys.argv[2]))
except ValueError as e:
    print("calls --json is not JSON:", e)
    sys.exit(1)
if not isinstance(got, list):
    print("calls --json is not an array")
    sys.exit(1)

summary = {}
for line in open(sys.argv[3]):
    if re.search(r"(^| )packets=", line):
        summary = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
if summary.get("calls") not in (None, str(len(expected))):
    errors.append("import summary says calls=%s, want %d" % (summary["calls"], len(expected)))

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
def when(c, key):
    v = c.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not ISO.match(v):
        errors.append("%s: %s=%r is not ISO 8601 UTC with milliseconds" % (c.get("call_id"), key, v))
        return None
    return datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")

FIELDS = ("id call_id caller caller_name callee callee_name start answer end duration_s "
          "status sip_code direction recording").split()
by_id = {}
for c in got:
    missing = [f for f in FIELDS if f not in c]
    if missing:
        errors.append("%s: fields missing: %s" % (c.get("call_id"), ", ".join(missing)))
    by_id.setdefault(c.get("call_id"), []).append(c)
if len(got) != len(expected):
    errors.append("greffier lists %d calls, the wire holds %d" % (len(got), len(expected)))

for e in expected:
    cid = e["call_id"]
    cs = by_id.get(cid, [])
    if len(cs) != 1:
        errors.append("%s: listed %d times, want once" % (cid, len(cs)))
        continue
    c = cs[0]
    def want(key, value):
        if c.get(key) != value:
            errors.append("%s: %s=%r, want %r" % (cid, key, c.get(key), value))
    want("caller", e["caller"])
    want("callee", e["callee"])
    want("caller_name", e["caller_name"])
    if c.get("direction") not in ("inbound", "outbound", "internal", "unknown"):
        errors.append("%s: direction=%r" % (cid, c.get("direction")))
    start, answer, end = when(c, "start"), when(c, "answer"), when(c, "end")
    if start is None or end is None:
        errors.append("%s: start=%r end=%r, want both" % (cid, c.get("start"), c.get("end")))
    elif end < start:
        errors.append("%s: ends before it starts" % cid)
    if e["expect"] == "answered":
        want("status", "answered")
        want("sip_code", 200)
        if answer is None:
            errors.append("%s: answered call without answer time" % cid)
        elif start and end and not (start <= answer <= end):
            errors.append("%s: answer time outside [start, end]" % cid)
        d = c.get("duration_s")
        if not isinstance(d, (int, float)) or not (pause_s - 1 <= d <= pause_s + 5):
            errors.append("%s: duration_s=%r, want about %.1f" % (cid, d, pause_s))
    else:
        want("status", "busy")
        want("sip_code", 486)
        want("answer", None)
        d = c.get("duration_s")
        if d not in (None, 0, 0.0):
            errors.append("%s: busy call with duration_s=%r" % (cid, d))

for e in errors:
    print("greffier:", e)
if errors:
    sys.exit(1)
print("greffier: %d calls agree with sipp and the wire (%d answered, %d busy)" % (
    len(expected), sum(e["expect"] == "answered" for e in expected),
    sum(e["expect"] == "busy" for e in expected)))
EOF
    fail "greffier's calls disagree with sipp (see above; $WORK/calls.json)"

step "greffier's call list agrees with sipp"

# --- the recordings of the answered calls -----------------------------------------------
python3 - "$BIN" "$DATA" "$WORK/calls.json" "$WORK/rtp.txt" "$WORK" <<'EOF' ||
import array, json, math, subprocess, sys, wave
from collections import Counter
from datetime import datetime

BIN, DATA, CALLS, RTP, WORK = sys.argv[1:6]
MIN_RMS = 200  # g711a.pcap is speech at around -20 dBFS (RMS in the thousands)
errors = []
wire = Counter("%s:%s>%s:%s" % tuple(line.split()) for line in open(RTP) if len(line.split()) == 4)

def when(v):
    return datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")

def greffier(*args):
    return subprocess.run([BIN, "-d", DATA] + list(args), capture_output=True, text=True,
                          timeout=60, check=True).stdout

answered = [c for c in json.load(open(CALLS)) if c.get("status") == "answered"]
for c in answered:
    cid, rec = c["call_id"], c.get("recording")
    if c.get("media_state") != "recorded" or not rec:
        errors.append("%s: media_state %r, recording %r" % (cid, c.get("media_state"), rec))
        continue
    talk = (when(c["end"]) - when(c["answer"])).total_seconds()
    if abs(rec["duration_s"] - talk) > 0.060:
        errors.append("%s: recording %.3f s, answer to BYE %.3f s" % (cid, rec["duration_s"], talk))
    streams = json.loads(greffier("call", str(c["id"])))["streams"]
    for s in streams:
        key = "%s>%s" % (s["src"], s["dst"])
        if s["packets"] != wire.get(key):
            errors.append("%s: stream %s: %d packets, tshark counts %s" % (cid, key, s["packets"],
                                                                          wire.get(key)))
    wav = "%s/call-%d.wav" % (WORK, c["id"])
    greffier("audio", str(c["id"]), "-o", wav)
    with wave.open(wav) as w:
        ch = w.getnchannels()
        x = array.array("h", w.readframes(w.getnframes()))
    levels = []
    for k in sorted({s["channel"] for s in streams if s["packets"] > 0}):
        y = x[k::ch]
        level = math.sqrt(sum(v * v for v in y) / max(1, len(y)))
        levels.append("%d: %.0f" % (k, level))
        if level < MIN_RMS:
            errors.append("%s: channel %d carried RTP but its RMS is %.0f" % (cid, k, level))
    if not levels:
        errors.append("%s: no stream with packets" % cid)
    print("%s: recording %.3f s (answer to BYE %.3f s), streams %s, RMS %s" % (
        cid, rec["duration_s"], talk, " ".join("%s=%d" % (s["src"], s["packets"]) for s in streams),
        ", ".join(levels)))
for e in errors:
    print("recordings:", e)
if len(answered) != 5:
    print("recordings: %d answered calls, want 5" % len(answered))
    sys.exit(1)
sys.exit(1 if errors else 0)
EOF
    fail "the recordings of the answered calls are not right (see above)"

step "PASS: greffier agrees with sipp on $NCALLS calls and records the 5 answered ones"
exit 0

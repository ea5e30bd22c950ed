#!/bin/bash
# baresip_opus.sh - greffier records an Opus call between two real SIP user agents:
# baresip (Debian's baresip-core) calls baresip across a veth pair between two private
# network namespaces, tcpdump records the wire, greffier imports the capture.
#
# Each baresip has its own configuration folder (written below): no registrar
# (regint=0), the callee answers at once (answermode=auto), the only audio codec is Opus
# (RFC 7587), the microphone is a WAV file of a sine made by sox (aufile), the speaker is
# a dead end (aubridge).  The caller sends 440 Hz and dials the callee with -e "/dial ...",
# and hangs up after CALL_S seconds (-t, which sends the BYE on its way out); the callee
# sends 1000 Hz.  Checked: one call, answered, recorded (media_state "recorded") from
# Opus at 16000 Hz, lasting answer to BYE within 60 ms; the caller's channel (left) is
# dominated by 440 Hz and the callee's (right) by 1000 Hz in every second of the call's
# middle; the streams' packet counts are what tshark counts on the wire for them.
#
# Needs root (network namespaces) and baresip, sox, tcpdump, tshark, python3 (make deps).
# Not root or no `ip netns`: prints "SKIP: reason" and exits 0.  Traffic stays inside the
# two namespaces made here (10.215.0.0/30).
# Environment: GREFFIER_BIN (default build/greffier), TEST_OUT (where logs are kept).
set -u
cd "$(dirname "$0")/../.." || exit 2

. tests/integration/lib_netns.sh
netns_begin baresip_opus bs 10.215.0 baresip sox tcpdump tshark python3 ss
CALL_S=8
CALLER_HZ=440
CALLEE_HZ=1000
CAP=$WORK/wire.pcap
DATA=$WORK/data
MODULES=/usr/lib/baresip/modules
[ -f "$MODULES/opus.so" ] && [ -f "$MODULES/aufile.so" ] && [ -f "$MODULES/aubridge.so" ] ||
    fail "baresip modules opus, aufile, aubridge missing in $MODULES (baresip-core installs them)"
netns_up

# One configuration folder per agent: config, accounts, contacts (baresip wants the file).
agent() { # name ip tone_hz
    local dir=$WORK/$1
    mkdir -p "$dir"
    timeout 30 sox -n -r 48000 -c 1 -b 16 "$dir/tone.wav" synth $((CALL_S + 20)) sine "$3" vol 0.5 \
        2>"$dir/sox.err" || fail "sox: $(cat "$dir/sox.err")"
    cat >"$dir/config" <<EOF
poll_method		epoll
sip_listen		$2:5060
audio_player		aubridge,speaker-$1
audio_alert		aubridge,alert-$1
audio_source		aufile,$dir/tone.wav
ausrc_channels		1
rtp_ports		20000-20100
module_path		$MODULES
module			stdio.so
module			opus.so
module			aufile.so
module			aubridge.so
module_app		account.so
module_app		menu.so
opus_bitrate		32000
EOF
    echo "<sip:$1@$2>;regint=0;answermode=auto;audio_codecs=opus/48000/2" >"$dir/accounts"
    : >"$dir/contacts"
}
agent caller "$IP_UAC" "$CALLER_HZ"
agent callee "$IP_UAS" "$CALLEE_HZ"

capture_start "$CAP"
(cd "$WORK" && exec ip netns exec "$NS_UAS" timeout 60 baresip -f "$WORK/callee" \
    </dev/null >callee.log 2>&1) &
CALLEE_PID=$!
PIDS+=("$CALLEE_PID")
wait_udp_listen "$NS_UAS" "$IP_UAS:5060" "$CALLEE_PID" ||
    fail "baresip (callee) is not listening: $(tail -n 5 "$WORK/callee.log")"
step "baresip callee listening on $IP_UAS:5060"

(cd "$WORK" && exec ip netns exec "$NS_UAC" timeout $((CALL_S + 20)) baresip -f "$WORK/caller" \
    -e "/dial sip:callee@$IP_UAS" -t "$CALL_S" </dev/null >caller.log 2>&1) &
CALLER_PID=$!
PIDS+=("$CALLER_PID")
wait "$CALLER_PID"
CALLER_RC=$?
step "baresip caller exit $CALLER_RC"
capture_stop
kill -TERM "$CALLEE_PID" 2>/dev/null # timeout(1) passes it on to baresip
wait "$CALLEE_PID" 2>/dev/null
[ "$CALLER_RC" = 0 ] || fail "baresip (caller) failed (exit $CALLER_RC): $(tail -n 5 "$WORK/caller.log")"
grep -q "Call established" "$WORK/caller.log" ||
    fail "baresip: the call was not established: $(grep -a -E 'call|sip' "$WORK/caller.log" | tail -n 5)"

timeout 60 tshark -r "$CAP" -Y 'udp && !sip' -T fields -e ip.src -e udp.srcport -e ip.dst \
    -e udp.dstport >"$WORK/rtp.txt" 2>"$WORK/tshark.err" || fail "tshark failed on $CAP"
step "capture: $(wc -l <"$WORK/rtp.txt") UDP packets other than SIP"

timeout 30 "$BIN" init -d "$DATA" >"$WORK/init.out" 2>&1 ||
    fail "greffier init failed: $(tail -n 5 "$WORK/init.out")"
timeout 60 "$BIN" -d "$DATA" import "$CAP" >"$WORK/import.out" 2>"$WORK/import.err" ||
    fail "greffier import failed: $(tail -n 5 "$WORK/import.err" "$WORK/import.out")"
step "greffier import: $(tail -n 1 "$WORK/import.out")"

python3 - "$BIN" "$DATA" "$WORK" "$CALLER_HZ" "$CALLEE_HZ" <<'EOF' ||
import json, os, subprocess, sys
from collections import Counter
from datetime import datetime

sys.path.insert(0, "tests/integration")
from mediacheck import dominant, probe_freqs, read_wav  # noqa: E402

BIN, DATA, WORK = sys.argv[1:4]
want_hz = (int(sys.argv[4]), int(sys.argv[5]))
errors = []

def greffier(*args):
    return subprocess.run([BIN, "-d", DATA] + list(args), capture_output=True, text=True,
                          timeout=60, check=True).stdout

def when(v):
    return datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")

calls = json.loads(greffier("calls", "--json"))
if len(calls) != 1:
    print("greffier lists %d calls, want 1: %s" % (len(calls), calls))
    sys.exit(1)
c = calls[0]
rec = c.get("recording")
if c.get("status") != "answered" or c.get("media_state") != "recorded" or not rec:
    print("call: status %r, media_state %r, recording %r" % (c.get("status"), c.get("media_state"), rec))
    sys.exit(1)
talk = (when(c["end"]) - when(c["answer"])).total_seconds()
if abs(rec["duration_s"] - talk) > 0.060:
    errors.append("recording %.3f s, answer to BYE %.3f s" % (rec["duration_s"], talk))
if rec.get("sample_rate") != 16000 or str(rec.get("codec_in")).lower() != "opus":
    errors.append("recording from %s at %s Hz, want opus at 16000" % (rec.get("codec_in"),
                                                                    rec.get("sample_rate")))
wire = Counter("%s:%s>%s:%s" % tuple(line.split())
               for line in open(os.path.join(WORK, "rtp.txt")) if len(line.split()) == 4)
streams = json.loads(greffier("call", str(c["id"])))["streams"]
if sorted(s["channel"] for s in streams) != [0, 1]:
    errors.append("streams on channels %s, want 0 and 1" % [s["channel"] for s in streams])
for s in streams:
    key = "%s>%s" % (s["src"], s["dst"])
    if s["packets"] != wire.get(key) or s["packets"] < 300:
        errors.append("stream %s: %d packets, tshark counts %s" % (key, s["packets"], wire.get(key)))
wav = os.path.join(WORK, "call.wav")
greffier("audio", str(c["id"]), "-o", wav)
rate, left, right = read_wav(wav)
grid = probe_freqs(rate, 20)
found = {0: [], 1: []}
for ch, x in ((0, left), (1, right)):
    for sec in range(1, int(talk) - 1):
        got = dominant(x[sec * rate:(sec + 1) * rate], rate, grid)
        found[ch].append(got)
        if got != want_hz[ch]:
            errors.append("channel %d, second %d: dominated by %d Hz, sent %d Hz"
                          % (ch, sec, got, want_hz[ch]))
print("call %s: recording %.3f s (answer to BYE %.3f s) at %d Hz, streams %s, dominant Hz "
      "caller %s callee %s" % (c["call_id"], rec["duration_s"], talk, rate,
                               " ".join("%s=%d" % (s["src"], s["packets"]) for s in streams),
                               found[0], found[1]))
for e in errors:
    print("recording:", e)
sys.exit(1 if errors else 0)
EOF
    fail "the Opus recording of the baresip call is not right (see above)"

step "PASS: an Opus call between two baresip agents is recorded at 16 kHz, each tone in its channel"
exit 0

#!/bin/bash
# serve_live.sh - `greffier serve`: capture and the web interface in one process, live.
#
# Two private network namespaces joined by a veth pair (10.215.0.0/30); serve captures on
# the UAS side (with 2 encoder threads: live_capture.sh covers the default of one) and
# listens on 0.0.0.0 there; SIPp places calls with PCMA audio across
# (the UAS echoes it).  Checked, in order:
#   1. no packet on the interface for [alarms] no_packets (2 s here): the alarm
#      no_packets:IFACE is raised and shows in GET /metrics (text format 0.0.4, parsed
#      strictly by promtext.py) from loopback;
#   2. /metrics from the other namespace (not loopback): refused without the token and
#      with a wrong one, served with "Authorization: Bearer TOKEN";
#   3. SIGHUP: the [alarms] thresholds apply, snaplen needs a restart; 20 SIP messages
#      without Call-ID raise the alarm drops (threshold 7), a calm interval clears it;
#   4. 4 answered calls and 1 busy: during them calls are active and the no_packets alarm
#      is cleared; afterwards the capture counters in /metrics (read live, in-process)
#      count the 5 INVITEs and no kernel drop;
#   5. SIGTERM: exit 0 within 10 s, every call indexed with its status, each answered one
#      with a recording that `greffier verify --all` finds ok, one log line per call;
#   6. kill -9 during 2 calls, restart on the same data: the index opens (integrity_check),
#      the 2 interrupted recordings are closed as truncated and their calls, which had a
#      live row since their recording started, are indexed (answered, end_reason crash,
#      recording truncated with its size and SHA-256, no duration: docs/CALLS.md);
#      verify --all says 4 ok and 2 truncated, no orphan; `greffier audio` decodes each
#      to a non-empty WAV and GET /api/calls/{id}/audio serves its Ogg stream; the calls
#      of step 4 are still there; then the public key made unreadable: the next call's
#      recording fails, raising recording_failed and key_unreadable:public.
# Needs root (network namespaces), sipp and python3 (make deps).  Not root or no `ip
# netns`: prints "SKIP: reason" and exits 0.  Traffic stays inside the namespaces.
# Environment: GREFFIER_BIN (default build/greffier), TEST_OUT (where logs are kept).
set -u
cd "$(dirname "$0")/../.." || exit 2

. tests/integration/lib_netns.sh
netns_begin serve_live sv 10.215.0 sipp python3 ss
netns_up
PROM=$PWD/tests/integration/promtext.py
PCAP_AUDIO=/usr/share/sip-tester/g711a.pcap
[ -r "$PCAP_AUDIO" ] || fail "$PCAP_AUDIO missing (Debian sip-tester)"
PORT=$((18500 + $$ % 1000))
TOKEN=metrics-token-$$
DATA=$WORK/data
CONF=$WORK/greffier.conf
timeout 30 "$BIN" init -d "$DATA" >"$WORK/init.out" 2>&1 || fail "greffier init: $(cat "$WORK/init.out")"
cat >"$CONF" <<EOF
[storage]
data_dir = $DATA
[capture]
interfaces = $IF_UAS
stats_interval = 1
[daemon]
user = root
[http]
listen = 0.0.0.0:$PORT
allow_plain_non_loopback = yes
metrics_token = $TOKEN
[media]
encoder_threads = 2
[alarms]
no_packets = 2s
[log]
level = info
EOF

# Waits until file holds a line matching pattern, or the daemon pid died; 10 s at most.
wait_for() { # file pattern pid
    local i
    for i in $(seq 100); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Sends SIGTERM and waits at most 10 s; sets rc to the exit status (or "timeout").
stop_daemon() { # pid
    kill -TERM "$1" 2>/dev/null
    local i
    rc=timeout
    for i in $(seq 100); do
        if ! kill -0 "$1" 2>/dev/null; then
            wait "$1"
            rc=$?
            return
        fi
        sleep 0.1
    done
}

start_serve() { # log
    ip netns exec "$NS_UAS" "$BIN" -c "$CONF" serve 2>"$1" &
    PID=$!
    PIDS+=("$PID")
    wait_for "$1" "capturing on $IF_UAS" "$PID" || fail "serve did not start: $(tail -n 5 "$1")"
    wait_for "$1" "http: listening" "$PID" || fail "serve is not listening: $(tail -n 5 "$1")"
}

# scrape NS URL [TOKEN]: /metrics into $WORK/metrics.txt (one series a line); status of
# promtext.py: 0 served and valid, 3 another HTTP status, 1 invalid or no answer.
scrape() {
    ip netns exec "$1" python3 "$PROM" "$2" ${3:+"$3"} >"$WORK/metrics.txt" 2>&1
}
local_url=http://127.0.0.1:$PORT/metrics
has() { grep -qxF -- "$1" "$WORK/metrics.txt"; }
metric() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/metrics.txt"; }

# --- 1. no packets ---------------------------------------------------------------------------
start_serve "$WORK/serve.log"
NOPKT="greffier_alarm_active{name=\"no_packets:$IF_UAS\"}"
for _ in $(seq 50); do
    scrape "$NS_UAS" "$local_url" && has "$NOPKT 1.0" && break
    sleep 0.2
done
scrape "$NS_UAS" "$local_url" || fail "/metrics from loopback: $(head -n 3 "$WORK/metrics.txt")"
has "$NOPKT 1.0" || fail "no_packets:$IF_UAS not raised after 10 s of silence: $(grep alarm "$WORK/metrics.txt")"
grep -q "alarm no_packets:$IF_UAS: no packet captured on $IF_UAS" "$WORK/serve.log" ||
    fail "the no_packets alarm is not logged"
has "greffier_capture_snapshot_present 1.0" && has "greffier_capture_snapshot_age_seconds 0.0" ||
    fail "serve: capture counters not read live"
step "quiet interface: alarm no_packets:$IF_UAS raised, /metrics valid from loopback"

# --- 2. /metrics from another address ------------------------------------------------------
remote_url=http://$IP_UAS:$PORT/metrics
scrape "$NS_UAC" "$remote_url"
r1=$?
grep -q "status 403" "$WORK/metrics.txt" || r1="$r1 ($(head -n 1 "$WORK/metrics.txt"))"
scrape "$NS_UAC" "$remote_url" "wrong-$TOKEN"
r2=$?
grep -q "status 403" "$WORK/metrics.txt" || r2="$r2 ($(head -n 1 "$WORK/metrics.txt"))"
[ "$r1" = 3 ] && [ "$r2" = 3 ] || fail "/metrics from $IP_UAC: without token $r1, wrong token $r2, want 403"
scrape "$NS_UAC" "$remote_url" "$TOKEN" || fail "/metrics with the token: $(head -n 3 "$WORK/metrics.txt")"
step "/metrics from $IP_UAC: 403 without the token and with a wrong one, 200 with it"

# --- 3. SIGHUP -----------------------------------------------------------------------------
sed -i 's/^no_packets = 2s/no_packets = 3s\ndrops = 7/; s/^stats_interval = 1/stats_interval = 1\nsnaplen = 9000/' "$CONF"
kill -HUP "$PID"
wait_for "$WORK/serve.log" "reload: .* setting" "$PID" || fail "no reload report after SIGHUP"
for want in 'reload: \[alarms\] no_packets changed: applied' 'reload: \[alarms\] drops changed: applied' \
    'reload: \[capture\] snaplen changed: needs a restart' 'reload: .* 3 settings changed'; do
    grep -q "$want" "$WORK/serve.log" || fail "SIGHUP: no \"$want\": $(grep reload: "$WORK/serve.log")"
done
step "SIGHUP: [alarms] no_packets and drops applied, snaplen needs a restart"

# 20 SIP requests without Call-ID: at least 10 drops in one interval (20 in one burst, or
# split over two), over the new threshold of 7.
ip netns exec "$NS_UAC" python3 - "$IP_UAS" <<'EOF' || fail "cannot send the junk SIP"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20):
    s.sendto(b"OPTIONS sip:x@%s SIP/2.0\r\nVia: SIP/2.0/UDP 10.215.0.1\r\n\r\n" % sys.argv[1].encode(),
             (sys.argv[1], 5060))
EOF
wait_for "$WORK/serve.log" "alarm drops: [0-9]* dropped in the last 1 s: kernel 0, interface 0, greffier [0-9]" "$PID" ||
    fail "no drops alarm after 10 messages dropped: $(grep alarm "$WORK/serve.log")"
wait_for "$WORK/serve.log" "alarm drops cleared" "$PID" || fail "the drops alarm is not cleared after a calm interval"
step "20 SIP messages without Call-ID: alarm drops raised (threshold 7), then cleared"

# --- 4. calls --------------------------------------------------------------------------------
cat >"$WORK/calls.csv" <<'EOF'
SEQUENTIAL
2001;Alice Martin;0612345678
2002;Bruno Petit;2099
2003;Camille Durand;+33612345679
2005;Elodie Moreau;2042
2007;Ines Michel;0170000000
EOF
sipp_scenarios "$WORK" 7200 "$PCAP_AUDIO" || fail "sipp scenarios"

run_calls() { # tag ncalls port csv uac.xml
    local tag=$1 n=$2 port=$3 csv=$4 uac=$5
    (cd "$WORK" && exec ip netns exec "$NS_UAS" timeout 60 sipp -sf uas.xml -i "$IP_UAS" \
        -p "$port" -mi "$IP_UAS" -mp $((port + 1000)) -rtp_echo -m "$n" -nostdin -timeout 50 \
        -timeout_error -trace_err -error_file "uas-$tag.err.log" >"uas-$tag.out" 2>&1) &
    UAS_PID=$!
    PIDS+=("$UAS_PID")
    wait_udp_listen "$NS_UAS" "$IP_UAS:$port" "$UAS_PID" || fail "sipp UAS is not listening"
    (cd "$WORK" && exec ip netns exec "$NS_UAC" timeout 60 sipp -sf "$uac" "$IP_UAS:$port" \
        -i "$IP_UAC" -p "$port" -mi "$IP_UAC" -inf "$csv" -m "$n" -r "$n" -l "$n" -nostdin \
        -timeout 50 -timeout_error -trace_err -error_file "uac-$tag.err.log" \
        >"uac-$tag.out" 2>&1) &
    UAC_PID=$!
    PIDS+=("$UAC_PID")
}

run_calls first 5 5060 calls.csv uac.xml
sleep 3
scrape "$NS_UAS" "$local_url" || fail "/metrics during the calls: $(head -n 3 "$WORK/metrics.txt")"
active=$(metric greffier_calls_active)
[ "${active%.0}" -ge 4 ] 2>/dev/null || fail "greffier_calls_active $active during 4 answered calls"
has "$NOPKT 0.0" || fail "no_packets not cleared once packets flow: $(grep no_packets "$WORK/metrics.txt")"
step "during the calls: greffier_calls_active $active, no_packets cleared"
wait "$UAC_PID"
UAC_RC=$?
wait "$UAS_PID"
UAS_RC=$?
[ "$UAC_RC" = 0 ] && [ "$UAS_RC" = 0 ] ||
    fail "sipp failed: UAC exit $UAC_RC, UAS exit $UAS_RC: $(head -n 20 "$WORK"/u*-first.err.log 2>/dev/null)"
sleep 1.5 # the last packets through the ring, then one stats interval
scrape "$NS_UAS" "$local_url" || fail "/metrics after the calls"
for want in 'greffier_sip_requests_total{method="INVITE"} 5.0' 'greffier_sip_requests_total{method="BYE"} 4.0' \
    'greffier_drops_total{reason="kernel"} 0.0' 'greffier_drops_total{reason="interface"} 0.0'; do
    has "$want" || fail "after the calls: no \"$want\" in /metrics: $(grep -E 'sip_requests|kernel|interface' "$WORK/metrics.txt")"
done
packets=$(metric greffier_packets_total)
[ "${packets%.0}" -gt 1000 ] 2>/dev/null || fail "greffier_packets_total $packets after 4 calls with audio"
step "sipp: 5 calls; /metrics: 5 INVITEs, 4 BYEs, $packets packets, no kernel drop"

# --- 5. SIGTERM --------------------------------------------------------------------------------
T_STOP=$SECONDS
stop_daemon "$PID"
[ "$rc" = 0 ] || fail "serve exit status $rc after SIGTERM (want 0 within 10 s): $(tail -n 5 "$WORK/serve.log")"
grep -q 'capture: stopped' "$WORK/serve.log" && grep -q 'http: stopping' "$WORK/serve.log" ||
    fail "SIGTERM: capture and http not both stopped: $(tail -n 5 "$WORK/serve.log")"
step "SIGTERM: exit 0 in $((SECONDS - T_STOP)) s"

timeout 30 "$BIN" -d "$DATA" calls --json >"$WORK/calls.json" 2>"$WORK/calls.err" ||
    fail "greffier calls --json: $(cat "$WORK/calls.err")"
python3 - "$WORK/calls.json" "$WORK/serve.log" <<'EOF' || fail "the calls are not all indexed right ($WORK/calls.json)"
import json, re, sys
calls = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
errors = []
got = sorted((c["caller"], c["status"], c["media_state"], (c["recording"] or {}).get("state"))
             for c in calls)
want = [("2001", "answered", "recorded", "complete"), ("2002", "busy", "not_answered", None),
        ("2003", "answered", "recorded", "complete"), ("2005", "answered", "recorded", "complete"),
        ("2007", "answered", "recorded", "complete")]
if got != want:
    errors.append("calls %s, want %s" % (got, want))
for c in calls:
    if not re.search(r"^<6>call %d %s: " % (c["id"], re.escape(c["call_id"])), log, re.M):
        errors.append("no log line for call %d" % c["id"])
for e in errors:
    print("calls:", e)
sys.exit(1 if errors else 0)
EOF
timeout 60 "$BIN" -d "$DATA" verify --all >"$WORK/verify.out" 2>&1 ||
    fail "verify --all after SIGTERM: $(cat "$WORK/verify.out")"
[ "$(grep -c ' ok ' "$WORK/verify.out")" = 4 ] || fail "verify --all: $(cat "$WORK/verify.out")"
step "5 calls indexed (4 answered with a complete recording, 1 busy), verify --all: 4 ok"

# --- 6. kill -9 during calls, restart -----------------------------------------------------------
mkdir -p "$WORK/long"
sipp_scenarios "$WORK/long" 20000 "$PCAP_AUDIO" || fail "sipp scenarios"
cp "$WORK/long/uac.xml" "$WORK/uac-long.xml"
cat >"$WORK/calls-long.csv" <<'EOF'
SEQUENTIAL
3001;Killed One;0699999991
3002;Killed Two;0699999992
EOF
start_serve "$WORK/serve2.log"
run_calls second 2 5070 calls-long.csv uac-long.xml
sleep 6 # 6 s of audio: two sealed chunks or more per recording
parts=$(find "$DATA/recordings" -name '*.part' | wc -l)
kill -KILL "$PID"
wait "$PID" 2>/dev/null
kill -TERM "$UAC_PID" "$UAS_PID" 2>/dev/null
wait "$UAC_PID" "$UAS_PID" 2>/dev/null
[ "$parts" = 2 ] || fail "$parts recordings in progress (.part) when killed, want 2"
step "kill -9 during 2 calls with recordings in progress"

python3 - "$DATA/index.sqlite" <<'EOF' || fail "index damaged after kill -9"
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]
sys.exit(0 if r == "ok" else 1)
EOF
printf 'crash-test-password\n' >"$WORK/pw"
timeout 30 "$BIN" -d "$DATA" user add superv --role supervisor --password-file "$WORK/pw" \
    >"$WORK/user.out" 2>&1 || fail "user add: $(cat "$WORK/user.out")"
start_serve "$WORK/serve3.log"
grep -q '2 recording(s) interrupted by a crash closed as truncated' "$WORK/serve3.log" ||
    fail "restart: the 2 recordings are not recovered: $(head -n 20 "$WORK/serve3.log")"
grep -q '2 call(s) cut by a crash indexed with their recording' "$WORK/serve3.log" ||
    fail "restart: the 2 calls in progress are not indexed: $(grep -E 'crash|vault' "$WORK/serve3.log")"
[ "$(find "$DATA/recordings" -name '*.part' | wc -l)" = 0 ] || fail "a .part file is left"
python3 - "$DATA/index.sqlite" <<'EOF' || fail "index damaged after the recovery"
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]
sys.exit(0 if r == "ok" else 1)
EOF
timeout 30 "$BIN" -d "$DATA" calls --json >"$WORK/calls2.json" 2>&1 || fail "calls after restart"
python3 - "$WORK/calls2.json" "$DATA" >"$WORK/killed.ids" <<'EOF' || fail "the calls after kill -9 are not indexed right ($WORK/calls2.json)"
import hashlib, json, os, sys
calls = json.load(open(sys.argv[1]))
errors = []
if len(calls) != 7:
    errors.append("%d calls, want the 5 of step 4 and the 2 killed" % len(calls))
killed = sorted((c for c in calls if c["caller"] in ("3001", "3002")), key=lambda c: c["caller"])
if [c["caller"] for c in killed] != ["3001", "3002"]:
    errors.append("the killed calls: %s" % [c["caller"] for c in killed])
for c in killed:
    r = c["recording"] or {}
    got = (c["status"], c["end_reason"], c["live"], c["media_state"], r.get("state"),
           r.get("duration_s"))
    if got != ("answered", "crash", False, "recorded", "truncated", None):
        errors.append("call %s: %s" % (c["caller"], got))
        continue
    blob = open(os.path.join(sys.argv[2], r["path"]), "rb").read()
    if r["bytes"] != len(blob) or r["sha256"] != hashlib.sha256(blob).hexdigest():
        errors.append("call %s: bytes/sha256 %s %s, file %d" % (c["caller"], r["bytes"], r["sha256"], len(blob)))
    if not r.get("start"):
        errors.append("call %s: no recording start" % c["caller"])
for e in errors:
    print("calls:", e, file=sys.stderr)
print(" ".join(str(c["id"]) for c in killed))
sys.exit(1 if errors else 0)
EOF
KILLED=$(cat "$WORK/killed.ids")
timeout 60 "$BIN" -d "$DATA" verify --all >"$WORK/verify2.out" 2>&1
[ "$(grep -c ' ok ' "$WORK/verify2.out")" = 4 ] && [ "$(grep -c '^[0-9]* truncated ' "$WORK/verify2.out")" = 2 ] &&
    ! grep -q 'orphan' "$WORK/verify2.out" || fail "verify --all after the restart: $(cat "$WORK/verify2.out")"
for id in $KILLED; do
    grep -q "^$id truncated " "$WORK/verify2.out" || fail "verify: call $id not truncated: $(cat "$WORK/verify2.out")"
    timeout 60 "$BIN" -d "$DATA" audio "$id" -o "$WORK/killed-$id.wav" >"$WORK/audio-$id.out" 2>&1 ||
        fail "greffier audio $id (truncated): $(cat "$WORK/audio-$id.out")"
    python3 - "$WORK/killed-$id.wav" <<'EOF' || fail "call $id: the WAV of the truncated recording is empty or invalid"
import sys, wave
w = wave.open(sys.argv[1])
# 6 s of call when killed: at least one sealed chunk, so at least a second of audio.
sys.exit(0 if w.getnframes() >= w.getframerate() else 1)
EOF
    ip netns exec "$NS_UAS" python3 - "$PORT" "$id" "$WORK/pw" <<'EOF' || fail "GET /api/calls/$id/audio (truncated)"
import http.client, json, sys
port, cid, pw = int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read().strip()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
c.request("POST", "/api/login", body=json.dumps({"user": "superv", "password": pw}),
          headers={"Content-Type": "application/json"})
r = c.getresponse(); r.read()
if r.status != 200:
    sys.exit("login: %d" % r.status)
cookie = r.getheader("Set-Cookie").split(";")[0]
c.request("GET", "/api/calls/%s/audio" % cid, headers={"Cookie": cookie})
r = c.getresponse(); body = r.read()
if r.status != 200 or not body.startswith(b"OggS") or len(body) < 4096:
    sys.exit("status %d, %d bytes, starts %r" % (r.status, len(body), body[:8]))
EOF
done
step "restart: index ok, the 2 calls cut by kill -9 indexed (answered, crash, truncated), verify 4 ok + 2 truncated, audio plays (CLI and HTTP)"

# The public key becomes unreadable (the daemon has no capability, root or not): the next
# recording fails, which raises recording_failed and key_unreadable:public.
PUB=$(ls "$DATA"/keys/recording-*.pub | tail -n 1)
chmod 000 "$PUB"
cat >"$WORK/calls-nokey.csv" <<'EOF'
SEQUENTIAL
4001;No Key;0611111111
EOF
sipp_scenarios "$WORK/long" 2000 "$PCAP_AUDIO" || fail "sipp scenarios"
cp "$WORK/long/uac.xml" "$WORK/uac-short.xml"
run_calls third 1 5080 calls-nokey.csv uac-short.xml
wait "$UAC_PID"
wait "$UAS_PID"
for _ in $(seq 50); do
    scrape "$NS_UAS" "$local_url" && has 'greffier_alarm_active{name="recording_failed"} 1.0' &&
        has 'greffier_alarm_active{name="key_unreadable:public"} 1.0' && break
    sleep 0.2
done
chmod 600 "$PUB"
has 'greffier_alarm_active{name="recording_failed"} 1.0' && has 'greffier_alarm_active{name="key_unreadable:public"} 1.0' ||
    fail "public key unreadable: alarms $(grep alarm_active "$WORK/metrics.txt"); log: $(grep -E 'alarm|recording' "$WORK/serve3.log" | tail -n 5)"
has 'greffier_drops_total{reason="recording_failed"} 1.0' || fail "the failed recording is not counted"
step "public key unreadable: alarms recording_failed and key_unreadable:public raised"
stop_daemon "$PID"
[ "$rc" = 0 ] || fail "restarted serve: exit status $rc after SIGTERM: $(tail -n 5 "$WORK/serve3.log")"

step "PASS: serve with capture"
exit 0

#!/bin/bash
# live_capture.sh - `greffier capture` as a daemon on a live interface.
#
# Two private network namespaces joined by a veth pair (10.214.0.0/30); greffier captures
# on the UAS side, SIPp places calls across.  Checked, in order:
#   1. privileges: started as root with [daemon] user = nobody, the daemon runs as nobody
#      with CapEff 0; started as nobody with only CAP_NET_RAW (ambient, as the systemd unit
#      does), it captures and then holds no capability either;
#   2. a run with sd_notify: READY=1 on $NOTIFY_SOCKET, WATCHDOG=1 pings while idle, a
#      STATUS= line; SIGHUP reports the changed settings (log level applied, snaplen needs
#      a restart); 5 answered and 2 busy calls; SIGTERM ends it with status 0 within 10 s
#      and `greffier calls --json` lists the 7 calls with their statuses;
#   3. kill -9 in the middle of calls, then a restart on the same data directory: the
#      index opens (integrity_check ok), `calls` works while the daemon runs, the calls
#      of step 2 are still there.
#
# Needs root (network namespaces) and sipp, python3 (make deps).  Not root or no
# `ip netns`: prints "SKIP: reason" and exits 0.  Traffic stays inside the namespaces.
# Environment: GREFFIER_BIN (default build/greffier), TEST_OUT (where logs are kept).
set -u
cd "$(dirname "$0")/../.." || exit 2

. tests/integration/lib_netns.sh
netns_begin live_capture lc 10.214.0 sipp python3 setpriv
id nobody >/dev/null 2>&1 || fail "no user nobody on this system"
chmod 0755 "$WORK" # nobody must reach its data directory below
netns_up

write_conf() { # file data_dir user
    cat >"$1" <<EOF
[storage]
data_dir = $2
[capture]
interfaces = $IF_UAS
stats_interval = 1
[daemon]
user = $3
[log]
level = info
EOF
}

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

# Field of /proc/PID/status.
proc_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# Sends SIGTERM and waits at most 10 s; sets rc to the exit status (or "timeout").  Not
# run in $(...): only this shell can wait for its children.
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

# --- 1. privileges ---------------------------------------------------------------------------
PRIV=$WORK/priv
mkdir -p "$PRIV"
timeout 30 "$BIN" init -d "$PRIV/data" >"$PRIV/init.out" 2>&1 || fail "greffier init: $(cat "$PRIV/init.out")"
chown -R nobody: "$PRIV/data"
write_conf "$PRIV/root.conf" "$PRIV/data" nobody
NOBODY_UID=$(id -u nobody)

# LeakSanitizer cannot inspect a process that changed user (it is no longer dumpable).
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" ip netns exec "$NS_UAS" \
    "$BIN" -c "$PRIV/root.conf" capture 2>"$PRIV/root.log" &
PID=$!
PIDS+=("$PID")
wait_for "$PRIV/root.log" "capturing on $IF_UAS" "$PID" ||
    fail "started as root: no \"capturing on\" line: $(tail -n 5 "$PRIV/root.log")"
uid=$(proc_field "$PID" Uid) capeff=$(proc_field "$PID" CapEff) capprm=$(proc_field "$PID" CapPrm)
[ "$uid" = "$NOBODY_UID" ] || fail "started as root with user = nobody: runs as uid $uid"
[ "$capeff" = 0000000000000000 ] || fail "started as root: CapEff=$capeff after the drop"
[ "$capprm" = 0000000000000000 ] || fail "started as root: CapPrm=$capprm after the drop"
grep -q "CapEff=0000000000000000" "$PRIV/root.log" || fail "the drop is not logged"
stop_daemon "$PID"
[ "$rc" = 0 ] || fail "started as root: exit status $rc after SIGTERM: $(tail -n 5 "$PRIV/root.log")"
step "started as root: runs as nobody (uid $uid) with CapEff $capeff, exit $rc"

# As the systemd unit starts it: an unprivileged user with CAP_NET_RAW as ambient capability.
write_conf "$PRIV/unit.conf" "$PRIV/data" greffier-no-such-user
chmod 0644 "$PRIV/unit.conf"
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" ip netns exec "$NS_UAS" \
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
    --inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw \
    "$BIN" -c "$PRIV/unit.conf" capture 2>"$PRIV/unit.log" &
PID=$!
PIDS+=("$PID")
wait_for "$PRIV/unit.log" "capturing on $IF_UAS" "$PID" ||
    fail "as nobody with CAP_NET_RAW: no \"capturing on\" line: $(tail -n 5 "$PRIV/unit.log")"
capeff=$(proc_field "$PID" CapEff) capamb=$(proc_field "$PID" CapAmb)
[ "$capeff" = 0000000000000000 ] && [ "$capamb" = 0000000000000000 ] ||
    fail "as nobody with CAP_NET_RAW: CapEff=$capeff CapAmb=$capamb after the drop"
stop_daemon "$PID"
[ "$rc" = 0 ] || fail "as nobody: exit status $rc after SIGTERM: $(tail -n 5 "$PRIV/unit.log")"
step "started as nobody with ambient CAP_NET_RAW: captures, then CapEff $capeff CapAmb $capamb"

# An account that does not exist, started as root: refused, with the way out named.
ip netns exec "$NS_UAS" "$BIN" -c "$PRIV/unit.conf" capture 2>"$PRIV/nouser.log"
rc=$?
[ "$rc" = 1 ] && grep -q 'greffier-no-such-user.*does not exist.*user = root' "$PRIV/nouser.log" ||
    fail "missing user: exit $rc, $(tail -n 2 "$PRIV/nouser.log")"
# An invalid configuration: exit 2 before anything is opened.
printf '[capture]\nsnaplen = 1\n' >"$PRIV/bad.conf"
"$BIN" -c "$PRIV/bad.conf" capture 2>"$PRIV/bad.log"
rc=$?
[ "$rc" = 2 ] || fail "invalid configuration: exit $rc, want 2"
step "missing user refused (exit 1), invalid configuration refused (exit 2)"

# --- 2. calls through the daemon -----------------------------------------------------------
DATA=$WORK/data
CONF=$WORK/greffier.conf
timeout 30 "$BIN" init -d "$DATA" >"$WORK/init.out" 2>&1 || fail "greffier init: $(cat "$WORK/init.out")"
write_conf "$CONF" "$DATA" root

# A stand-in for systemd's notification socket: every datagram to a log.
NOTIFY=$WORK/notify.sock
python3 - "$NOTIFY" "$WORK/notify.log" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as log:
    try:
        while True:
            log.write(s.recv(4096).decode() + "\n")
            log.flush()
    except socket.timeout:
        pass
EOF
PIDS+=("$!")
for _ in $(seq 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
[ -S "$NOTIFY" ] || fail "notification socket not created"

start_capture() { # log
    ip netns exec "$NS_UAS" env NOTIFY_SOCKET="$NOTIFY" WATCHDOG_USEC=1000000 \
        "$BIN" -c "$CONF" capture 2>"$1" &
    PID=$!
    PIDS+=("$PID")
    wait_for "$1" "capturing on $IF_UAS" "$PID" ||
        fail "capture did not start: $(tail -n 5 "$1")"
}

start_capture "$WORK/capture.log"
for _ in $(seq 50); do grep -q '^READY=1' "$WORK/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^READY=1' "$WORK/notify.log" || fail "no READY=1 on NOTIFY_SOCKET"
sleep 1.5 # no traffic yet: the loop must still feed the watchdog
pings=$(grep -c '^WATCHDOG=1' "$WORK/notify.log")
[ "$pings" -ge 2 ] || fail "$pings watchdog pings in 1.5 s without traffic, want at least 2"
grep -q "^STATUS=capturing on $IF_UAS" "$WORK/notify.log" || fail "no STATUS= line"
step "READY=1, $pings watchdog pings while idle, STATUS: $(grep '^STATUS=' "$WORK/notify.log" | tail -n 1)"

# SIGHUP: one setting applied live, one that needs a restart.
sed -i 's/^level = info/level = notice/; s/^stats_interval = 1/stats_interval = 1\nsnaplen = 9000/' "$CONF"
kill -HUP "$PID"
wait_for "$WORK/capture.log" "reload: .* setting" "$PID" || fail "no reload report after SIGHUP"
grep -q 'reload: \[log\] level changed: applied' "$WORK/capture.log" &&
    grep -q 'reload: \[capture\] snaplen changed: needs a restart' "$WORK/capture.log" ||
    fail "SIGHUP: changes not reported: $(grep reload: "$WORK/capture.log")"
step "SIGHUP: log level applied, snaplen needs a restart"

cat >"$WORK/calls.csv" <<'EOF'
SEQUENTIAL
2001;Alice Martin;0612345678
2002;Bruno Petit;2099
2003;Camille Durand;+33612345679
2004;David Leroy;2099
2005;Elodie Moreau;2042
2006;Hugo Simon;0170000000
2007;Ines Michel;2043
EOF

# The same sipp scenarios as sipp_netns.sh; PAUSE_MS is filled in per run below.
sipp_scenarios "$WORK" PAUSE_MS || fail "sipp scenarios"

run_calls() { # tag ncalls pause_ms port csv: starts the UAS and the UAC in the background
    local tag=$1 n=$2 pause=$3 port=$4 csv=$5
    sed "s/PAUSE_MS/$pause/" "$WORK/uac.xml" >"$WORK/uac-$tag.xml"
    (cd "$WORK" && exec ip netns exec "$NS_UAS" timeout 40 sipp -sf uas.xml -i "$IP_UAS" \
        -p "$port" -m "$n" -nostdin -timeout 30 -timeout_error \
        -trace_err -error_file "uas-$tag.err.log" >"uas-$tag.out" 2>&1) &
    UAS_PID=$!
    PIDS+=("$UAS_PID")
    sleep 0.5
    (cd "$WORK" && exec ip netns exec "$NS_UAC" timeout 40 sipp -sf "uac-$tag.xml" \
        "$IP_UAS:$port" -i "$IP_UAC" -p "$port" -inf "$csv" -m "$n" -r "$n" -l "$n" \
        -nostdin -timeout 30 -timeout_error -trace_err -error_file "uac-$tag.err.log" \
        >"uac-$tag.out" 2>&1) &
    UAC_PID=$!
    PIDS+=("$UAC_PID")
}

run_calls first 7 1000 5060 calls.csv
wait "$UAC_PID"
UAC_RC=$?
wait "$UAS_PID"
UAS_RC=$?
[ "$UAC_RC" = 0 ] && [ "$UAS_RC" = 0 ] ||
    fail "sipp failed: UAC exit $UAC_RC, UAS exit $UAS_RC: $(head -n 20 "$WORK"/u*-first.err.log 2>/dev/null)"
step "sipp: 7 calls placed (5 answered, 2 busy)"
sleep 0.5 # the last 200 to a BYE reaches the ring, then the 100 ms block timeout

T_STOP=$SECONDS
stop_daemon "$PID"
[ "$rc" = 0 ] || fail "capture exit status $rc after SIGTERM (want 0 within 10 s): $(tail -n 5 "$WORK/capture.log")"
grep -q '^STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 on NOTIFY_SOCKET"
step "SIGTERM: exit 0 in $((SECONDS - T_STOP)) s; $(grep 'capture: stopped' "$WORK/capture.log" | sed 's/^<[0-9]>//')"

check_calls() { # json file, min calls; checks the 7 calls of step 2
    python3 - "$1" <<'EOF'
import json, sys
calls = json.load(open(sys.argv[1]))
want = {"0612345678": "answered", "+33612345679": "answered", "2042": "answered",
        "0170000000": "answered", "2043": "answered"}
errors = []
calls = [c for c in calls if str(c.get("caller")).startswith("200")]  # not step 3's
answered = [c for c in calls if c.get("callee") in want]
busy = [c for c in calls if c.get("callee") == "2099"]
if len(answered) != 5 or len(busy) != 2:
    errors.append("%d answered and %d busy calls listed, want 5 and 2" % (len(answered), len(busy)))
for c in answered:
    if c.get("status") != "answered" or c.get("sip_code") != 200:
        errors.append("%s: status %s (%s), want answered (200)" % (c["callee"], c.get("status"), c.get("sip_code")))
for c in busy:
    if c.get("status") != "busy" or c.get("sip_code") != 486:
        errors.append("%s: status %s (%s), want busy (486)" % (c["caller"], c.get("status"), c.get("sip_code")))
callers = sorted(c.get("caller") for c in answered + busy)
if callers != ["2001", "2002", "2003", "2004", "2005", "2006", "2007"]:
    errors.append("callers %s" % callers)
for e in errors:
    print("calls:", e)
sys.exit(1 if errors else 0)
EOF
}
timeout 30 "$BIN" -d "$DATA" calls --json >"$WORK/calls.json" 2>"$WORK/calls.err" ||
    fail "greffier calls --json: $(cat "$WORK/calls.err")"
check_calls "$WORK/calls.json" || fail "the live capture did not index the 7 calls right ($WORK/calls.json)"
step "greffier calls: 7 calls indexed, 5 answered (200) and 2 busy (486)"

# --- 3. kill -9 mid-call, restart -----------------------------------------------------------
start_capture "$WORK/capture2.log"
cat >"$WORK/calls-long.csv" <<'EOF'
SEQUENTIAL
3001;Killed One;0699999991
3002;Killed Two;0699999992
3003;Killed Three;0699999993
EOF
run_calls second 3 20000 5070 calls-long.csv
sleep 2
kill -KILL "$PID"
wait "$PID" 2>/dev/null
kill -TERM "$UAC_PID" "$UAS_PID" 2>/dev/null # timeout(1) passes it on to sipp
wait "$UAC_PID" "$UAS_PID" 2>/dev/null
step "kill -9 during 3 calls in progress"

INDEX=$DATA/index.sqlite
python3 - "$INDEX" <<'EOF' || fail "index damaged after kill -9"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])  # read-write: recovers the WAL as greffier would
r = db.execute("PRAGMA integrity_check").fetchone()[0]
print("integrity_check:", r)
sys.exit(0 if r == "ok" else 1)
EOF
start_capture "$WORK/capture3.log"
timeout 30 "$BIN" -d "$DATA" calls --json >"$WORK/calls2.json" 2>"$WORK/calls2.err" ||
    fail "greffier calls after kill -9 and restart: $(cat "$WORK/calls2.err")"
check_calls "$WORK/calls2.json" || fail "the calls of step 2 are not all there after kill -9"
stop_daemon "$PID"
[ "$rc" = 0 ] || fail "restarted capture: exit status $rc after SIGTERM: $(tail -n 5 "$WORK/capture3.log")"
step "restart after kill -9: index ok, calls listed while the daemon runs, exit $rc"

step "PASS: live capture"
exit 0

#!/bin/bash
# greffier-web.service is Type=notify with WatchdogSec=: `greffier web` must say READY=1,
# keep pinging WATCHDOG=1 while it can serve (at half the interval systemd asks for in
# $WATCHDOG_USEC), and say STOPPING=1 on SIGTERM.  A stand-in for systemd's notification
# socket records every datagram.  Needs python3; no root, loopback only.
set -u
BIN=${GREFFIER_BIN:-build/greffier}
T=$(mktemp -d /tmp/greffier-webwd-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN" init -d "$T/data" >/dev/null || fail "init"
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as log:
    try:
        while True:
            log.write(s.recv(4096).decode() + "\n")
            log.flush()
    except socket.timeout:
        pass
PY
PIDS+=("$!")
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
[ -S "$T/notify.sock" ] || fail "notification socket not created"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 \
    "$BIN" -d "$T/data" web --listen "127.0.0.1:$PORT" 2>"$T/web.log" &
PID=$!
PIDS+=("$PID")
for _ in $(seq 50); do grep -q '^READY=1' "$T/notify.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^READY=1' "$T/notify.log" || fail "no READY=1: $(tail -n 5 "$T/web.log")"
sleep 2
pings=$(grep -c '^WATCHDOG=1' "$T/notify.log")
# 2 s at one ping per 200 ms: about 10; fewer than 5 would let systemd kill the unit.
[ "$pings" -ge 5 ] || fail "$pings watchdog pings in 2 s with WATCHDOG_USEC=400000, want >= 5"
kill -TERM "$PID"
wait "$PID"
rc=$?
[ "$rc" = 0 ] || fail "web exited $rc after SIGTERM"
grep -q '^STOPPING=1' "$T/notify.log" || fail "no STOPPING=1"
echo "ok: web: READY=1, $pings watchdog pings in 2 s, STOPPING=1 and exit 0 on SIGTERM"

#!/bin/bash
# The web UI in a real browser (Debian's chromium, playwright-core from npm): a supervisor
# logs in, searches by number, opens the call and plays it; the waveform is drawn; tags
# the call and adds a note; free-text search by name and tag; English; an auditor sees
# the export and legal hold controls.
# Screenshots go to $TEST_OUT/browser_replay/.
set -u
. "$(dirname "$0")/lib_browser.sh"
browser_setup browser_replay

"$BUILD/bench/gen_calls" --calls 6 --duration 10 --scenario answered -o "$T/calls.pcap" >/dev/null ||
    fail "generator"
"$BIN" init -d "$T/data" >/dev/null || fail "init"
"$BIN" -d "$T/data" import "$T/calls.pcap" >"$OUT/import.out" || fail "import"
NUMBER=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["calls"][0]; print(c["callee"])' "$T/calls.truth.json")
NAME=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["calls"][0]; print(c["caller_name"])' "$T/calls.truth.json")
printf 'une phrase de passe assez longue\n' >"$T/pw"
"$BIN" -d "$T/data" user add superv --role supervisor --password-file "$T/pw" >/dev/null 2>&1 ||
    fail "user add"
"$BIN" -d "$T/data" user add audit1 --role auditor --password-file "$T/pw" >/dev/null 2>&1 ||
    fail "user add auditor"
# An active alarm, as the capture process would raise it: the page shows a banner.
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("INSERT INTO alarms (name, severity, active, raised_at, message) VALUES (?, ?, 1, ?, ?)", ("disk_low", "warning", "2024-05-01T12:00:00Z", "4% libre sur /var/lib/greffier")); d.commit()' \
    "$T/data/index.sqlite" || fail "alarm"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" -d "$T/data" serve --no-capture --listen "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz')" \
        2>/dev/null && break
    sleep 0.1
done
timeout 90 node tests/web/replay.js "http://127.0.0.1:$PORT/" superv \
    "une phrase de passe assez longue" "$NUMBER" "$OUT" "$NAME" audit1 \
    "une phrase de passe assez longue"

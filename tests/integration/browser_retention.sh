#!/bin/bash
# The retention page in a real browser (Debian's chromium, playwright-core from npm): an
# admin of a public body opens "Conservation", makes a purge proposal and records the
# archives' visa; the calls are purged.  Screenshots go to $TEST_OUT/browser_retention/.
set -u
. "$(dirname "$0")/lib_browser.sh"
browser_setup browser_retention

START=$((1717243200 - 200 * 86400)) # 200 days before the frozen now
"$BUILD/bench/gen_calls" --calls 6 --duration 4 --start $START -o "$T/calls.pcap" >/dev/null ||
    fail "generator"
printf '[retention]\npublic_body = yes\n' >"$T/greffier.conf"
"$BIN" init -d "$T/data" >/dev/null || fail "init"
"$BIN" -c "$T/greffier.conf" -d "$T/data" import "$T/calls.pcap" >"$OUT/import.out" || fail "import"
CALLS=$("$BIN" -d "$T/data" calls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
printf 'une phrase de passe assez longue\n' >"$T/pw"
"$BIN" -d "$T/data" user add archiviste --role admin --password-file "$T/pw" >/dev/null 2>&1 ||
    fail "user add"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GREFFIER_TEST_NOW=2024-06-01T12:00:00Z "$BIN" -c "$T/greffier.conf" -d "$T/data" serve --no-capture \
    --listen "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz')" \
        2>/dev/null && break
    sleep 0.1
done
timeout 90 node tests/web/retention.js "http://127.0.0.1:$PORT/" archiviste \
    "une phrase de passe assez longue" "$CALLS" "$OUT" || exit 1
LEFT=$("$BIN" -d "$T/data" calls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$LEFT" = 0 ] || fail "$LEFT calls left after the visa"
echo "browser retention: proposal and visa purged the $CALLS calls"

#!/bin/bash
# The recording rules page in a real browser (Debian's chromium, playwright-core from
# npm): an admin opens "Règles", sees the rules in file order and the never-record list,
# runs an explanation and reads the deciding rule; a supervisor has no rules link.
# Screenshots go to $TEST_OUT/browser_rules/.
set -u
. "$(dirname "$0")/lib_browser.sh"
browser_setup browser_rules

cat >"$T/greffier.conf" <<'CONF'
[numbers]
internal = 2xxx

[rules]
timezone = Europe/Paris
never_record = 2999
default = skip

[rule urgences]
callee = 15, 112
action = record
retention = 3650
tags = urgence

[rule quality]
direction = inbound
days = mon-fri
hours = 08:00-12:00, 14:00-18:00
action = sample
sample = 25

[rule night]
days = fri
hours = 22:00-06:00
action = on_demand
CONF
"$BIN" init -d "$T/data" >/dev/null || fail "init"
printf 'une phrase de passe assez longue\n' >"$T/pw"
for u in admin:admin chef:supervisor; do
    "$BIN" -d "$T/data" user add "${u%%:*}" --role "${u##*:}" --password-file "$T/pw" \
        >/dev/null 2>&1 || fail "user add $u"
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GREFFIER_TEST_NOW=2024-06-05T10:00:00Z "$BIN" -c "$T/greffier.conf" -d "$T/data" serve \
    --no-capture --listen "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz')" \
        2>/dev/null && break
    sleep 0.1
done
timeout 90 node tests/web/rules.js "http://127.0.0.1:$PORT/" admin chef \
    "une phrase de passe assez longue" urgences,quality,night "$OUT" || exit 1
echo "browser rules: rules in order, explanation, no link for a supervisor"

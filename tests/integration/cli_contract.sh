#!/bin/bash
# The command-line contract: forms, exit statuses (0 done, 1 failed, 2 usage/config)
# and messages that name what is wrong.
set -u
BIN=${GREFFIER_BIN:-build/greffier}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0
expect() { # expected-status description command...
    local want=$1 what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: $what: exit $got, want $want"; sed 's/^/  | /' "$T/out" "$T/err"; fail=1
    else
        echo "ok: $what"
    fi
}
mentions() { # text description
    if ! grep -qF -- "$1" "$T/out" "$T/err"; then echo "FAIL: $2: output lacks \"$1\""; sed 's/^/  | /' "$T/err"; fail=1; fi
}

expect 2 "no command" "$BIN"
expect 2 "unknown command" "$BIN" frobnicate; mentions frobnicate "unknown command named"
expect 2 "unknown global option" "$BIN" --bogus calls
expect 0 "help" "$BIN" --help
expect 0 "init" "$BIN" init -d "$T/data"
for f in index.sqlite recordings keys keys/recording-0001.key keys/signing.key; do
    [ -e "$T/data/$f" ] || { echo "FAIL: init did not create $f"; fail=1; }
done
[ -f "$T/data/index.sqlite" ] || { echo "FAIL: index.sqlite is not a file"; fail=1; }
[ "$(stat -c %a "$T/data/keys/recording-0001.key")" = 600 ] || { echo "FAIL: key not 0600"; fail=1; }
[ "$(stat -c %a "$T/data")" = 700 ] || { echo "FAIL: data dir not 0700"; fail=1; }
expect 1 "init refuses an existing directory" "$BIN" init -d "$T/data"; mentions "refusing" "refusal explained"
key_before=$(sha256sum "$T/data/keys/recording-0001.key")
[ "$key_before" = "$(sha256sum "$T/data/keys/recording-0001.key")" ] || { echo "FAIL: key changed"; fail=1; }
expect 0 "global -d before init works too" "$BIN" -d "$T/data2" init
expect 0 "calls on an empty index" "$BIN" -d "$T/data" calls --json
[ "$(tr -d ' \n' <"$T/out")" = "[]" ] || { echo "FAIL: empty index is not []"; fail=1; }
expect 2 "calls --status bogus" "$BIN" -d "$T/data" calls --status bogus; mentions bogus "bad status named"
expect 2 "calls --from garbage" "$BIN" -d "$T/data" calls --from yesterday; mentions yesterday "bad date named"
expect 2 "calls --limit -3" "$BIN" -d "$T/data" calls --limit -3
expect 2 "calls --number letters" "$BIN" -d "$T/data" calls --number abc
expect 2 "calls unknown option" "$BIN" -d "$T/data" calls --colour
expect 0 "calls with every filter" "$BIN" -d "$T/data" calls --json --from 2024-01-01 --to 2024-01-02T00:00:00Z --number 0612345678 --status answered --limit 5
expect 1 "calls on a missing data dir" "$BIN" -d "$T/nope" calls; mentions "greffier init" "hint to init"
expect 2 "import without files" "$BIN" -d "$T/data" import
expect 1 "import of a missing file" "$BIN" -d "$T/data" import "$T/missing.pcap"; mentions "missing.pcap" "file named"
printf '[sip]\nports = 5060, 99999\n' >"$T/bad.conf"
expect 2 "bad config value" "$BIN" -c "$T/bad.conf" -d "$T/data" calls; mentions "bad.conf:2" "file:line"
expect 2 "config check on a bad file" "$BIN" -c "$T/bad.conf" config check; mentions "bad.conf:2" "file:line"
printf '[media]\nopus_frame_ms = 33\n' >"$T/frame.conf"
expect 2 "an Opus frame length that does not exist" "$BIN" -c "$T/frame.conf" config check; mentions "frame.conf:2: opus_frame_ms" "file:line and key"
printf '[sip]\nports = 5060\n' >"$T/good.conf"
expect 0 "config check on a good file" "$BIN" -c "$T/good.conf" config check
expect 2 "missing config file" "$BIN" -c "$T/absent.conf" config check; mentions "absent.conf" "file named"
exit $fail

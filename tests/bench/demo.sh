#!/bin/bash
# `make demo`: a dozen generated calls (answered, cancelled, busy, rejected, a 401
# challenge, a hold) imported into a fresh data directory, the calls table, then the web
# UI when this build has one.
#
# Usage: tests/bench/demo.sh BUILD_DIR      (environment: GREFFIER_BIN, DEMO_LISTEN)
set -eu
cd "$(dirname "$0")/../.."

BUILD=${1:-build}
BIN=${GREFFIER_BIN:-$PWD/$BUILD/greffier}
GEN=$PWD/$BUILD/bench/gen_calls
DEMO=$PWD/$BUILD/demo
DATA=$DEMO/data
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}

for f in "$BIN" "$GEN"; do
    if [ ! -x "$f" ]; then
        echo "demo: $f is missing: run 'make demo' (it builds both)" >&2
        exit 1
    fi
done

if [ -t 1 ]; then
    say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
    say() { printf '\n$ %s\n' "$*"; }
fi

mkdir -p "$DEMO"
say "$GEN --calls 12 --duration 30 --scenario mix -o $DEMO/calls.pcap"
"$GEN" --calls 12 --duration 30 --scenario mix -o "$DEMO/calls.pcap"

rm -rf "$DATA"
# The generator's site: the PBX's trunk is 192.0.2.1, extensions are four digits from 2.
CONF=$DEMO/greffier.conf
printf '[storage]\ndata_dir = %s\n[numbers]\ninternal = 2xxx\ntrunks = 192.0.2.1\n' "$DATA" >"$CONF"
BIN_C=("$BIN" -c "$CONF")
say "$BIN -c $CONF init"
"${BIN_C[@]}" init

say "$BIN -c $CONF import $DEMO/calls.pcap"
"${BIN_C[@]}" import "$DEMO/calls.pcap"

say "$BIN -c $CONF calls"
"${BIN_C[@]}" calls

echo
echo "What the generator made (the truth to compare with): $DEMO/calls.truth.json"

if "$BIN" serve --help >/dev/null 2>&1; then
    echo
    # A demo account with a fresh password (only this data directory knows it).
    PWFILE=$DEMO/demo.password
    (umask 077; od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$PWFILE"; echo >>"$PWFILE")
    # One account per role, sharing that password: the supervisor replays, the auditor
    # also exports and holds, the admin sees retention and purges.
    for account in demo:supervisor auditeur:auditor admin:admin; do
        say "$BIN -c $CONF user add ${account%%:*} --role ${account#*:} --password-file $PWFILE"
        "${BIN_C[@]}" user add "${account%%:*}" --role "${account#*:}" --password-file "$PWFILE"
    done
    echo "Starting the web UI on http://$LISTEN/ (Ctrl-C stops it)."
    echo "Log in as:  user demo   password $(cat "$PWFILE")"
    echo "            (auditeur: export and legal hold; admin: retention; same password)"
    echo "More accounts: $BIN -c $CONF user add NAME --role supervisor|auditor|admin"
    say "$BIN -c $CONF serve --no-capture --listen $LISTEN"
    exec "${BIN_C[@]}" serve --no-capture --listen "$LISTEN"
else
    echo
    echo "This build has no 'greffier serve' yet: the web UI arrives with a later issue."
    echo "Meanwhile: $BIN -d $DATA calls --json"
fi

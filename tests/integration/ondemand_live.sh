#!/bin/bash
# ondemand_live.sh - on-demand decisions reaching a running `greffier capture` through
# the index: the web API keeps a call while it is in progress.
#
# Two private network namespaces joined by a veth pair; a generated capture (two inbound
# calls, the first one by several seconds) is replayed in real time from the UAC side
# (ondemand_live.py replay: raw frames on the veth, paced by their timestamps), and
# `greffier capture` runs on the UAS side with `greffier serve --no-capture` beside it.
# Checked (ondemand_live.py check): both calls appear in GET /api/calls/live with
# decision "pending"; POST /api/calls/{id}/keep on the first during the call answers 202
# "requested" and the live list then says "kept" by the supervisor; after the calls,
# the first has its recording (verified, from the call's start) and keeps its id; the
# second, undecided, is destroyed once [rules] on_demand_grace (2 s, wall clock) passed,
# and no file of it is left.  Then the capture is killed (-9) during a replayed call:
# the next start destroys that undecided recording (decision by "crash").  About a
# minute: a call is stored 32 s after its BYE.
#
# Needs root (network namespaces) and python3.  Not root or no `ip netns`: "SKIP".
set -u
cd "$(dirname "$0")/../.." || exit 2

. tests/integration/lib_netns.sh
netns_begin ondemand_live odl 10.215.0 python3
netns_up
GEN=${GREFFIER_BUILD:-$(dirname "$BIN")}/bench/gen_calls
[ -x "$GEN" ] || fail "$GEN missing (make tests builds it)"

"$GEN" --calls 2 --duration 7 --scenario answered --seed 2 --concurrency 2 \
    -o "$WORK/x.pcap" >/dev/null 2>&1 || fail "gen_calls"
"$BIN" init -d "$WORK/data" >/dev/null || fail "init"
cat >"$WORK/g.conf" <<CONF
[storage]
data_dir = $WORK/data
[capture]
interfaces = $IF_UAS
[daemon]
user = root
[numbers]
internal = 2xxx
trunks = 192.0.2.1
[rules]
on_demand_grace = 2
[rule agents]
action = on_demand
CONF

step "capture and web start in $NS_UAS; replay from $NS_UAC"
ip netns exec "$NS_UAS" timeout 120 python3 tests/integration/ondemand_live.py check \
    "$BIN" "$WORK" "$NS_UAC" "$IF_UAC" >"$WORK/check.out" 2>&1
rc=$?
cat "$WORK/check.out"
[ $rc = 0 ] || fail "see above (logs in $WORK)"
step "done"
echo "PASS: on-demand keep through the API during a live call"

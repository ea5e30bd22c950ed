#!/bin/bash
# rules.sh - recording rules end to end: a generated capture imported under a policy that
# skips internal calls and never records one number.  Exactly the calls the policy keeps
# have a recording, the others say "not_recorded" and left no audio file anywhere; the
# index holds each call's rule, action, retention and tags; `rules explain` tells the
# same story; `config check` refuses an unreachable rule with its file:line; and
# keep_metadata_of_unrecorded = no leaves no row for the skipped calls.
# Environment: GREFFIER_BIN, GREFFIER_BUILD (holding bench/gen_calls), TEST_OUT.
set -u
cd "$(dirname "$0")/../.." || exit 2
BIN=${GREFFIER_BIN:-$PWD/build/greffier}
GEN=${GREFFIER_BUILD:-$PWD/build}/bench/gen_calls
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
[ -x "$BIN" ] || fail "$BIN missing"
[ -x "$GEN" ] || fail "$GEN missing (make tests builds it)"
WORK=${TEST_OUT:-/tmp}/rules.$$
mkdir -p "$WORK" || exit 2
trap 'rm -rf "$WORK"' EXIT

timeout 60 "$GEN" --calls 20 --duration 8 --seed 7 -o "$WORK/x.pcap" >/dev/null 2>&1 ||
    fail "gen_calls"
# The protected line: the callee of the first answered inbound call.
never=$(python3 -c '
import json, sys
calls = json.load(open(sys.argv[1]))["calls"]
print(next(c["callee"] for c in calls if c["status"] == "answered" and c["direction"] == "inbound"))
' "$WORK/x.truth.json") || fail "the capture has no answered inbound call"

write_conf() { # file keep_metadata
    cat >"$1" <<CONF
[numbers]
internal = 2xxx
trunks = 192.0.2.1

[rules]
timezone = Europe/Paris
never_record = $never
keep_metadata_of_unrecorded = $2

[rule no-internal]
direction = internal
action = skip
tags = internal

[rule outbound]
direction = outbound
action = record
retention = 30
tags = outbound, trunk
CONF
}
write_conf "$WORK/g.conf" yes
"$BIN" -c "$WORK/g.conf" config check >/dev/null || fail "the policy does not pass config check"

"$BIN" init -d "$WORK/d" >/dev/null || fail "init"
"$BIN" -c "$WORK/g.conf" -d "$WORK/d" import "$WORK/x.pcap" >"$WORK/import.txt" 2>&1 ||
    fail "import: $(cat "$WORK/import.txt")"
"$BIN" -d "$WORK/d" calls --json --limit 1000 >"$WORK/calls.json" || fail "calls --json"

python3 - "$WORK/x.truth.json" "$WORK/calls.json" "$WORK/d" "$never" "$WORK/import.txt" <<'PY' ||
import json, os, sqlite3, sys
truth = json.load(open(sys.argv[1]))["calls"]
calls = {c["call_id"]: c for c in json.load(open(sys.argv[2]))}
data, never = sys.argv[3], sys.argv[4]
errors = []

def policy(t):
    """(rule, action, recorded) that the policy gives to a call of the truth file."""
    if never in (t["caller"], t["callee"]):
        return "[never_record]", "skip", False
    if t["direction"] == "internal":
        return "no-internal", "skip", False
    if t["direction"] == "outbound":
        return "outbound", "record", True
    return "[default]", "record", True

db = sqlite3.connect(os.path.join(data, "index.sqlite"))
rows = {r[0]: r[1:] for r in db.execute(
    "SELECT call_id, rule, rule_action, retention_days, id FROM calls")}
tags = {}
for ref, tag in db.execute("SELECT call_ref, tag FROM call_tags"):
    tags.setdefault(ref, set()).add(tag)

recorded = skipped = 0
for t in truth:
    c = calls.get(t["call_id"])
    if c is None:
        errors.append("%s: not in the index" % t["call_id"])
        continue
    rule, action, keep = policy(t)
    answered = t["status"] == "answered"
    if answered and keep:
        recorded += 1
        if not c["recording"] or c["media_state"] != "recorded":
            errors.append("%s (%s): should be recorded, media_state %s" %
                          (t["call_id"], rule, c["media_state"]))
    else:
        if c["recording"]:
            errors.append("%s (%s): has a recording" % (t["call_id"], rule))
        want = "not_recorded" if answered else "not_answered"
        skipped += answered
        if c["media_state"] != want:
            errors.append("%s (%s): media_state %s, want %s" %
                          (t["call_id"], rule, c["media_state"], want))
    r = rows[t["call_id"]]
    if (r[0], r[1]) != (rule, action):
        errors.append("%s: index says rule %s action %s, want %s %s" %
                      (t["call_id"], r[0], r[1], rule, action))
    want_ret = 30 if rule == "outbound" else None
    if r[2] != want_ret:
        errors.append("%s: retention_days %s, want %s" % (t["call_id"], r[2], want_ret))
    want_tags = {"no-internal": {"internal"}, "outbound": {"outbound", "trunk"}}.get(rule, set())
    if tags.get(r[3], set()) != want_tags:
        errors.append("%s: tags %s, want %s" % (t["call_id"], tags.get(r[3]), want_tags))

files = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(data, "recordings")) for f in fs]
if len(files) != recorded:
    errors.append("%d files under recordings/, %d calls recorded" % (len(files), recorded))
summary = open(sys.argv[5]).read()
if "calls_not_recorded=%d " % skipped not in summary:
    errors.append("import summary does not say calls_not_recorded=%d: %s" % (skipped, summary))
if recorded == 0 or skipped < 2:
    errors.append("the capture does not exercise the policy (%d recorded, %d skipped)" %
                  (recorded, skipped))
for e in errors:
    print(e)
print("%d recorded, %d answered calls not recorded" % (recorded, skipped))
sys.exit(1 if errors else 0)
PY
    fail "the index does not follow the policy"
ok "only the calls the policy keeps have audio; the others are not_recorded, with no file"

# rules explain: the same decisions, without a capture.
explain() { "$BIN" -c "$WORK/g.conf" rules explain "$@"; }
out=$(explain --caller 2001 --callee 2002 --at 2024-01-15T10:00) || fail "explain exit $?"
grep -q "^rule: *no-internal (.*g.conf:10)$" <<<"$out" || fail "explain internal: $out"
grep -q "^decision: *skip$" <<<"$out" || fail "explain internal decision: $out"
grep -q "^tags: *internal$" <<<"$out" || fail "explain internal tags: $out"
out=$(explain --caller 0612345678 --callee "$never" --direction inbound) || fail "explain never"
grep -q "^rule: *never-record list" <<<"$out" || fail "explain never-record: $out"
grep -q "^decision: *skip (never recorded)$" <<<"$out" || fail "explain never decision: $out"
out=$(explain --caller 2001 --callee 0612345678 --at 2024-07-14T23:30) || fail "explain outbound"
grep -q "^call: .* outbound, Sunday 2024-07-14 23:30 Europe/Paris (2024-07-14T21:30:00Z)$" \
    <<<"$out" || fail "explain outbound call line: $out"
grep -q "^retention: *30 days$" <<<"$out" || fail "explain outbound retention: $out"
grep -q "^tags: *outbound, trunk$" <<<"$out" || fail "explain outbound tags: $out"
out=$(explain --caller 0612345678 --callee 2100) || fail "explain inbound"
grep -q "^rule: *default (no rule matched" <<<"$out" || fail "explain default: $out"
explain --caller 2001 >/dev/null 2>&1
[ $? -eq 2 ] || fail "explain without --callee: exit status not 2"
explain --caller 2001 --callee 2002 --direction sideways >/dev/null 2>&1
[ $? -eq 2 ] || fail "explain --direction sideways: exit status not 2"
explain --caller 2001 --callee 2002 --at tomorrow >/dev/null 2>&1
[ $? -eq 2 ] || fail "explain --at tomorrow: exit status not 2"
ok "rules explain shows the rule, decision, retention and tags; bad arguments exit 2"

# A rule after a catch-all can never match: config check says where.
printf '[rule all]\naction = record\n\n[rule late]\ncallee = 2000\naction = skip\n' \
    >"$WORK/bad.conf"
"$BIN" -c "$WORK/bad.conf" config check >/dev/null 2>"$WORK/bad.err"
[ $? -eq 2 ] || fail "config check of an unreachable rule: exit status not 2"
grep -q "bad.conf:4: rule late can never match: rule all before it matches every call" \
    "$WORK/bad.err" || fail "config check message: $(cat "$WORK/bad.err")"
"$BIN" -c "$WORK/bad.conf" rules explain --caller 1 --callee 2 >/dev/null 2>&1
[ $? -eq 2 ] || fail "rules explain with an invalid configuration: exit status not 2"
ok "config check reports an unreachable rule with its file:line"

# keep_metadata_of_unrecorded = no: the skipped calls leave no row at all.
write_conf "$WORK/nometa.conf" no
"$BIN" init -d "$WORK/d2" >/dev/null || fail "init d2"
"$BIN" -c "$WORK/nometa.conf" -d "$WORK/d2" import "$WORK/x.pcap" >/dev/null 2>&1 ||
    fail "import (keep_metadata_of_unrecorded = no)"
"$BIN" -d "$WORK/d2" calls --json --limit 1000 >"$WORK/calls2.json" || fail "calls --json (d2)"
python3 - "$WORK/x.truth.json" "$WORK/calls2.json" "$never" <<'PY' ||
import json, sys
truth = json.load(open(sys.argv[1]))["calls"]
got = {c["call_id"] for c in json.load(open(sys.argv[2]))}
never = sys.argv[3]
want = {t["call_id"] for t in truth
        if t["direction"] != "internal" and never not in (t["caller"], t["callee"])}
if got != want:
    print("rows kept: %s, want %s" % (sorted(got), sorted(want)))
    sys.exit(1)
PY
    fail "keep_metadata_of_unrecorded = no kept rows of skipped calls"
ok "keep_metadata_of_unrecorded = no: skipped calls leave no row"
echo "rules: 4 passed, 0 failed"

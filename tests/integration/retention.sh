#!/bin/bash
# Retention end to end (docs/RETENTION.md), with "now" frozen by GREFFIER_TEST_NOW:
# two batches of generated calls 200 and 84 days before now, rules giving some calls a
# 10-year retention and others a 30-day tag period; then purge --dry-run deletes nothing,
# purge removes exactly the expired calls (files, rows; tombstones without numbers; audit
# rows; audit verify ok), a held call survives until its hold is lifted, erasure by
# number, the public-body flow (purge refused, --propose writes the slip without any
# number, --approve purges exactly its items), no purged number left anywhere in the
# data directory (index, WAL, FTS), disk full with on_disk_full = stop (tmpfs), and
# reindex.
set -u
BIN=${GREFFIER_BIN:-build/greffier}
BUILD=${GREFFIER_BUILD:-build}
GEN="$BUILD/bench/gen_calls"
[ -x "$GEN" ] || { echo "skipped: no $GEN"; exit 0; }
T=$(mktemp -d)
MNT=""
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
step() { echo "ok: $*"; }
export GREFFIER_TEST_NOW=2024-06-01T12:00:00Z
OLD=$((1717243200 - 200 * 86400)) # 200 days before now: past the 180-day default
NEW=$((1717243200 - 84 * 86400))  # 84 days: within the default, past a 30-day tag

"$GEN" --calls 10 --duration 4 --seed 11 --start $OLD -o "$T/old.pcap" >/dev/null 2>&1 || exit 1
"$GEN" --calls 10 --duration 4 --seed 12 --start $NEW -o "$T/new.pcap" >/dev/null 2>&1 || exit 1

# Rules: callers in international form are kept 10 years (and tagged formation, which the
# rule's retention outranks); calls to an extension are tagged formation (30 days).
cat >"$T/greffier.conf" <<'EOF'
[retention]
tags = formation:30, litige:3650
[rule keep]
caller = +33*
action = record
retention = 3650
tags = formation
[rule train]
callee = 2xxx
action = record
tags = formation
EOF
sed 's/^\[retention\]$/[retention]\npublic_body = yes/' "$T/greffier.conf" >"$T/public.conf"

# The expected fate of each call, from its numbers and end: kept or purged at now.
expect() { # DATA_DIR -> tab-separated "ID purge|keep CALLER CALLEE CALLER_NAME CALLEE_NAME
           #             CALLER_NORM CALLEE_NORM"
    "$BIN" -c "$T/greffier.conf" -d "$1" calls --json 2>/dev/null | python3 -c '
import json, re, sys
from datetime import datetime, timezone
now = datetime(2024, 6, 1, 12, tzinfo=timezone.utc).timestamp()
for c in json.load(sys.stdin):
    end = c["end"] or c["start"]
    t = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
    if c["caller"].startswith("+33"):
        days = 3650
    elif re.fullmatch(r"2\d\d\d", c["callee"]):
        days = 30
    else:
        days = 180
    fate = "purge" if t + days * 86400 <= now else "keep"
    print(c["id"], fate, c["caller"], c["callee"], c["caller_name"] or "-",
          c["callee_name"] or "-", c["caller_norm"] or "-", c["callee_norm"] or "-", sep="\t")
'
}
ids() { "$BIN" -d "$1" calls --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(str(c["id"]) for c in sorted(json.load(sys.stdin), key=lambda c: c["id"])))'; }
recs() { "$BIN" -d "$1" verify --all 2>/dev/null | awk '$2 == "ok" { print $1, $3 }'; }
sql() { python3 -c 'import sqlite3,sys; [print("|".join("" if v is None else str(v) for v in r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$1/index.sqlite" "$2"; }
setup() { # DIR CONF
    "$BIN" init -d "$1" >/dev/null || exit 1
    "$BIN" -c "$2" -d "$1" import "$T/old.pcap" "$T/new.pcap" >"$T/import.out" 2>&1 || { cat "$T/import.out"; exit 1; }
}

D="$T/data"
setup "$D" "$T/greffier.conf"
expect "$D" >"$T/expect"
count() { awk -F'\t' -v f="$1" '$2 == f' "$2" | wc -l; }
n_purge=$(count purge "$T/expect")
n_keep=$(count keep "$T/expect")
[ "$n_purge" -ge 4 ] && [ "$n_keep" -ge 4 ] || bad "test data: $n_purge to purge, $n_keep to keep"
[ -n "$(awk -F'\t' '$2 == "keep" && $3 ~ /^[+]33/' "$T/expect")" ] || bad "no call kept by the rule's retention"
[ -n "$(awk -F'\t' '$2 == "purge" && $3 !~ /^[+]/ && $4 ~ /^2[0-9][0-9][0-9]$/' "$T/expect")" ] ||
    bad "no call purged by its tag period"
recs "$D" >"$T/recs.before"
ids "$D" >"$T/ids.before"
step "$(wc -l <"$T/expect") calls: $n_purge expired, $n_keep within retention"

# --dry-run: lists, deletes nothing.
C="-c $T/greffier.conf -d $D"
$BIN $C purge --dry-run >"$T/dry.out" 2>&1 || bad "purge --dry-run: exit $?"
[ "$(ids "$D")" = "$(cat "$T/ids.before")" ] || bad "dry run deleted calls"
[ "$(recs "$D")" = "$(cat "$T/recs.before")" ] || bad "dry run deleted recordings"
for id in $(awk '$2 == "purge" { print $1 }' "$T/expect"); do
    grep -q "^$id .*would be purged" "$T/dry.out" || bad "dry run does not list $id"
done
[ "$(grep -c '^[0-9].*would be purged' "$T/dry.out")" = "$n_purge" ] || { bad "dry run lists other calls"; cat "$T/dry.out"; }
step "purge --dry-run lists the $n_purge expired calls, deletes nothing"

# A held call (an expired one with a recording) survives the purge.
HELD=$(awk '$2 == "purge" { print $1 }' "$T/expect" | while read -r id; do grep -q "^$id " "$T/recs.before" && echo "$id" && break; done)
[ -n "$HELD" ] || bad "no expired call with a recording to hold"
$BIN $C hold "$HELD" --reason "contentieux 2024-17" >/dev/null || bad "hold $HELD failed"
$BIN $C hold --list | grep -q "\"call\": $HELD" || bad "hold --list does not show $HELD"
$BIN $C purge >"$T/purge.out" 2>&1 || { bad "purge: exit $?"; cat "$T/purge.out"; }
after=" $(ids "$D") "
for id in $(awk '$2 == "purge" { print $1 }' "$T/expect"); do
    if [ "$id" = "$HELD" ]; then
        case "$after" in *" $id "*) ;; *) bad "held call $id purged" ;; esac
    else
        case "$after" in *" $id "*) bad "expired call $id not purged" ;; esac
    fi
done
for id in $(awk '$2 == "keep" { print $1 }' "$T/expect"); do
    case "$after" in *" $id "*) ;; *) bad "call $id purged before its expiry" ;; esac
done
while read -r id path; do
    fate=$(awk -v i="$id" '$1 == i { print $2 }' "$T/expect")
    if [ "$fate" = purge ] && [ "$id" != "$HELD" ]; then
        [ -e "$D/$path" ] && bad "recording of purged call $id still there"
        [ -e "$D/$path.part" ] && bad "a .part of purged call $id still there"
    else
        [ -e "$D/$path" ] || bad "recording of kept call $id gone"
    fi
done <"$T/recs.before"
want=$(awk -v h="$HELD" '$2 == "purge" && $1 != h { print $1 }' "$T/expect" | sort -n | tr '\n' ' ')
got=$(sql "$D" "SELECT id FROM purged_calls WHERE reason = 'retention' ORDER BY id" | tr '\n' ' ')
[ "$got" = "$want" ] || bad "tombstones: [$got], want [$want]"
sql "$D" "SELECT * FROM purged_calls" >"$T/tomb"
grep -q "tag formation" "$T/tomb" || bad "no tombstone names the tag period"
grep -q "default" "$T/tomb" || bad "no tombstone names the default"
"$BIN" -d "$D" audit list 2>/dev/null >"$T/audit.json"
python3 - "$T/audit.json" "$want" <<'PY' || bad "no purge audit row with the ids"
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["action"] == "purge"]
want = sorted(int(x) for x in sys.argv[2].split())
ok = any(sorted(json.loads(r["detail"])["ids"]) == want for r in rows)
sys.exit(0 if ok else 1)
PY
"$BIN" -d "$D" audit verify >/dev/null 2>&1 || bad "audit verify after purge"
"$BIN" -d "$D" verify --all >"$T/v.out" 2>&1 || { bad "verify --all after purge"; cat "$T/v.out"; }
step "purge: exactly the expired calls (rule, tag, default) except the held one; tombstones, audit"

# No trace of the purged calls' numbers or names anywhere in the data directory.  Strings
# shorter than 7 bytes (extensions) are left out: they occur by chance in hashes and sizes.
awk -F'\t' -v h="$HELD" '$2 == "keep" || $1 == h { for (i = 3; i <= 8; i++) print $i }' "$T/expect" | sort -u >"$T/survivors"
leaks=0
while IFS=$'\t' read -r id fate caller callee cname ename cnorm enorm; do
    [ "$fate" = purge ] && [ "$id" != "$HELD" ] || continue
    for s in "$caller" "$callee" "$cname" "$ename" "$cnorm" "$enorm"; do
        [ "$s" = - ] || [ ${#s} -lt 7 ] && continue
        grep -qxF -- "$s" "$T/survivors" && continue # shared with a call still kept
        if grep -rlaF -- "$s" "$D" >"$T/leak"; then
            bad "purged call $id: \"$s\" found in $(tr '\n' ' ' <"$T/leak")"
            leaks=1
        fi
    done
done <"$T/expect"
[ $leaks = 0 ] && step "no purged number or name left in the data directory (index, WAL, FTS)"

# The hold lifted: the next purge takes it.
$BIN $C hold --lift "$HELD" >/dev/null || bad "hold --lift failed"
$BIN $C purge >/dev/null 2>&1 || bad "purge after lift: exit $?"
case " $(ids "$D") " in *" $HELD "*) bad "call $HELD not purged after its hold was lifted" ;; esac
sql "$D" "SELECT action FROM audit ORDER BY id" | tr '\n' ' ' | grep -q "hold purge hold_lift purge" ||
    bad "audit does not show hold, purge, hold_lift, purge"
step "the held call is purged once its hold is lifted"

# Erasure by number over a date range; a held call of that number is refused (exit 1).
read -r EID ECALLER < <(awk '$2 == "keep" && $3 ~ /^\+33/ { print $1, $3; exit }' "$T/expect")
$BIN $C purge --number "$ECALLER" --from 2023-01-01 --to 2023-01-02 >"$T/e0.out" 2>&1 || bad "empty erasure: exit $?"
case " $(ids "$D") " in *" $EID "*) ;; *) bad "erasure outside the date range purged $EID" ;; esac
$BIN $C hold "$EID" >/dev/null
$BIN $C purge --number "$ECALLER" --from 2023-01-01 --to 2025-01-01 --reason "demande RGPD 42" >"$T/e1.out" 2>&1
rc=$?
[ $rc = 1 ] || bad "erasure of a held call: exit $rc, want 1"
grep -q "legal hold" "$T/e1.out" || bad "erasure refusal does not say legal hold: $(cat "$T/e1.out")"
case " $(ids "$D") " in *" $EID "*) ;; *) bad "held call $EID erased" ;; esac
$BIN $C hold --lift "$EID" >/dev/null
$BIN $C purge --number "$ECALLER" --from 2023-01-01 --to 2025-01-01 --reason "demande RGPD 42" >"$T/e2.out" 2>&1 || bad "erasure: exit $?"
case " $(ids "$D") " in *" $EID "*) bad "erasure did not purge $EID" ;; esac
[ "$(sql "$D" "SELECT reason FROM purged_calls WHERE id = $EID")" = erasure ] || bad "tombstone reason of $EID"
grep -q "demande RGPD 42" <<<"$(sql "$D" "SELECT detail FROM audit WHERE action = 'purge'")" || bad "erasure reason not audited"
[ "$(ids "$D" | wc -w)" -gt 0 ] || bad "erasure purged everything"
step "erasure by number: range honoured, held call refused (exit 1), then erased"

# Public body: plain purge refuses, --propose writes the slip, --approve purges its items.
P="$T/public"
setup "$P" "$T/public.conf"
expect "$P" >"$T/pexpect"
PC="-c $T/public.conf -d $P"
$BIN $PC purge >"$T/p0.out" 2>&1
rc=$?
[ $rc = 1 ] || bad "public body: plain purge exit $rc, want 1"
grep -q -- "--propose" "$T/p0.out" || bad "plain purge does not suggest --propose"
[ "$(ids "$P" | wc -w)" = "$(wc -l <"$T/pexpect")" ] || bad "public body: plain purge deleted calls"
$BIN $PC purge --propose >"$T/prop.out" 2>&1 || { bad "--propose: exit $?"; cat "$T/prop.out"; }
N=$(sed -n 's/^purge proposal \([0-9]*\):.*/\1/p' "$T/prop.out")
CSV=$(grep '\.csv$' "$T/prop.out"); HTML=$(grep '\.html$' "$T/prop.out")
[ -n "$N" ] && [ -s "$CSV" ] && [ -s "$HTML" ] || { bad "--propose did not print a proposal and two files"; cat "$T/prop.out"; }
pwant=$(awk '$2 == "purge" { print $1 }' "$T/pexpect" | sort -n | tr '\n' ' ')
pgot=$(sed -n '/^identifiant,/,$p' "$CSV" | tail -n +2 | cut -d, -f1 | sort -n | tr '\n' ' ')
[ "$pgot" = "$pwant" ] || bad "slip CSV items [$pgot], want [$pwant]"
grep -q "Bordereau d'élimination n° $N" "$HTML" || bad "slip HTML has no title"
grep -q "CNIL" "$HTML" || bad "slip HTML does not print the legal basis"
grep -q "<td>$(echo $pwant | wc -w)</td>" "$HTML" || bad "slip HTML does not give the count"
for id in $pwant; do grep -q "<tr><td>$id</td>" "$HTML" || bad "slip HTML lacks item $id"; done
while IFS=$'\t' read -r id fate caller callee cname ename cnorm enorm; do
    for s in "$caller" "$callee" "$cname" "$ename" "$cnorm" "$enorm"; do
        [ "$s" = - ] && continue
        [ ${#s} -ge 5 ] || continue # an extension like 2345 could be an id or a byte count
        grep -qF -- "$s" "$CSV" "$HTML" && bad "slip holds \"$s\" (call $id)"
    done
done <"$T/pexpect"
[ "$(ids "$P" | wc -w)" = "$(wc -l <"$T/pexpect")" ] || bad "--propose deleted calls"
step "public body: purge refused; --propose wrote CSV and HTML (count, legal basis, ids, no number)"

$BIN $PC purge --approve "$N" >/dev/null 2>&1 && bad "--approve without --visa accepted"
$BIN $PC purge --approve "$N" --visa "AD75-2024-0099" >"$T/ap.out" 2>&1 || { bad "--approve: exit $?"; cat "$T/ap.out"; }
pleft=$(ids "$P")
for id in $pwant; do case " $pleft " in *" $id "*) bad "approved item $id not purged" ;; esac; done
[ "$(echo $pleft | wc -w)" = "$(count keep "$T/pexpect")" ] || bad "approve purged other calls"
[ "$(sql "$P" "SELECT count(*) FROM purged_calls WHERE proposal_ref = $N")" = "$(echo $pwant | wc -w)" ] ||
    bad "tombstones do not carry the proposal"
[ "$(sql "$P" "SELECT count(*) FROM purged_calls WHERE proposal_ref = $N AND rule = 'tag formation'")" -ge 1 ] ||
    bad "tombstones of the proposal do not name the tag period"
$BIN $PC purge --list-proposals >"$T/lp.json" || bad "--list-proposals"
python3 - "$T/lp.json" "$N" <<'PY' || bad "proposal not executed with its visa: $(cat "$T/lp.json")"
import json, sys
p = [x for x in json.load(open(sys.argv[1])) if x["id"] == int(sys.argv[2])][0]
sys.exit(0 if p["state"] == "executed" and p["visa"] == "AD75-2024-0099" and p["approved_by"].startswith("cli:") else 1)
PY
$BIN $PC purge --approve "$N" --visa "again" >/dev/null 2>&1 && bad "a second approval accepted"
"$BIN" -d "$P" audit verify >/dev/null 2>&1 || bad "audit verify (public)"
step "--approve with the visa purged exactly the proposal's items"

# Disk full, on_disk_full = stop: a tmpfs filled past half of min_free_percent.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/mnt" && mount -t tmpfs -o size=8m tmpfs "$T/mnt" 2>/dev/null; then
    MNT="$T/mnt"
    F="$MNT/data"
    "$BIN" init -d "$F" >/dev/null || bad "init on tmpfs"
    printf '[storage]\nmin_free_percent = 40\n' >"$T/disk.conf"
    avail=$(df -B1 --output=avail "$MNT" | tail -1)
    size=$(df -B1 --output=size "$MNT" | tail -1)
    fill=$((avail - size / 10)) # leave 10% free: below 40 / 2
    head -c "$fill" /dev/zero >"$MNT/ballast"
    "$BIN" -c "$T/disk.conf" -d "$F" import "$T/new.pcap" >"$T/df.out" 2>"$T/df.err" || bad "import on a full disk: exit $?"
    [ "$(ids "$F" | wc -w)" = 10 ] || bad "disk full: calls not indexed"
    [ -z "$(find "$F/recordings" -type f 2>/dev/null)" ] || bad "disk full: recordings written"
    grep -Eq 'drop_recording_disk_full=[1-9]' "$T/df.out" || bad "disk full: not counted: $(cat "$T/df.out")"
    [ "$(sql "$F" "SELECT count(*) FROM calls WHERE media_state = 'disk_full'")" -ge 1 ] || bad "media_state disk_full"
    [ "$(sql "$F" "SELECT active FROM alarms WHERE name = 'disk_low'")" = 1 ] || bad "disk_low alarm not raised"
    rm -f "$MNT/ballast"
    "$BIN" -c "$T/disk.conf" -d "$F" import "$T/old.pcap" >/dev/null 2>&1
    [ "$(sql "$F" "SELECT active FROM alarms WHERE name = 'disk_low'")" = 0 ] || bad "disk_low alarm not cleared"
    [ -n "$(find "$F/recordings" -type f 2>/dev/null)" ] || bad "no recording once space is back"
    step "disk full (stop): calls indexed, not recorded, counted; disk_low raised then cleared"

    # purge_oldest: the recordings not on hold go, oldest first, reason disk_full.
    printf '[storage]\nmin_free_percent = 40\non_disk_full = purge_oldest\n' >"$T/disk2.conf"
    mapfile -t OLDREC < <("$BIN" -d "$F" verify --all 2>/dev/null | awk '$2 == "ok" { print $1 }')
    [ "${#OLDREC[@]}" -ge 2 ] || bad "purge_oldest: too few recordings to start from"
    "$BIN" -d "$F" hold "${OLDREC[0]}" --reason "gel" >/dev/null || bad "hold on tmpfs"
    avail=$(df -B1 --output=avail "$MNT" | tail -1)
    head -c $((avail - size / 10)) /dev/zero >"$MNT/ballast"
    "$BIN" -c "$T/disk2.conf" -d "$F" import "$T/new.pcap" >/dev/null 2>"$T/df2.err" || bad "import (purge_oldest): exit $?"
    want=$(( ${#OLDREC[@]} - 1 ))
    [ "$(sql "$F" "SELECT count(*) FROM purged_calls WHERE reason = 'disk_full' AND had_recording = 1")" = "$want" ] ||
        bad "purge_oldest: $(sql "$F" "SELECT count(*) FROM purged_calls WHERE reason = 'disk_full'") purged, want $want"
    case " $(ids "$F") " in *" ${OLDREC[0]} "*) ;; *) bad "purge_oldest purged the held call" ;; esac
    [ "$(find "$F/recordings" -type f | wc -l)" = 1 ] || bad "purge_oldest: files left: $(find "$F/recordings" -type f | wc -l)"
    "$BIN" -d "$F" audit verify >/dev/null 2>&1 || bad "audit verify after purge_oldest"
    rm -f "$MNT/ballast"
    step "disk full (purge_oldest): every recording not on hold purged (disk_full tombstones), the held one kept"
else
    echo "skipped: disk full (needs root to mount a tmpfs)"
fi

# The capture daemon's daily purge (the same code as `greffier purge`): started on lo at
# "now" past purge_hour, it purges the expired calls, or with approval required raises
# purge_proposal_due.  Needs root to capture.
daemon_run() { # DIR CONF LOG PATTERN: starts capture, waits for PATTERN in LOG, stops it
    "$BIN" -c "$2" -d "$1" capture 2>"$3" &
    local pid=$! i
    for i in $(seq 100); do
        grep -q "$4" "$3" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM $pid 2>/dev/null
    wait $pid
}
if [ "$(id -u)" = 0 ]; then
    DD="$T/daemon"
    setup "$DD" "$T/greffier.conf"
    expect "$DD" >"$T/dexpect"
    { cat "$T/greffier.conf"; printf '[capture]\ninterfaces = lo\n[daemon]\nuser = root\n'; } >"$T/daemon.conf"
    daemon_run "$DD" "$T/daemon.conf" "$T/daemon.log" "retention: purged"
    grep -q "retention: purged $(count purge "$T/dexpect") calls (retention)" "$T/daemon.log" ||
        bad "daemon: no daily purge: $(grep -v clock: "$T/daemon.log" | tail -n 5)"
    dleft=" $(ids "$DD") "
    for id in $(awk -F'\t' '$2 == "purge" { print $1 }' "$T/dexpect"); do
        case "$dleft" in *" $id "*) bad "daemon: expired call $id not purged" ;; esac
    done
    [ "$(echo $dleft | wc -w)" = "$(count keep "$T/dexpect")" ] || bad "daemon purged calls not expired"
    sql "$DD" "SELECT user FROM audit WHERE action = 'purge'" | grep -qx daemon || bad "daemon purge not audited"
    DP="$T/daemon-public"
    setup "$DP" "$T/public.conf"
    { cat "$T/public.conf"; printf '[capture]\ninterfaces = lo\n[daemon]\nuser = root\n'; } >"$T/daemon-public.conf"
    daemon_run "$DP" "$T/daemon-public.conf" "$T/daemon-public.log" "purge_proposal_due"
    [ "$(ids "$DP" | wc -w)" = "$(wc -l <"$T/dexpect")" ] || bad "daemon (public body) purged calls"
    sql "$DP" "SELECT message FROM alarms WHERE name = 'purge_proposal_due' AND active = 1" |
        grep -q "^$(count purge "$T/dexpect") expired calls" || bad "daemon: no purge_proposal_due alarm"
    step "capture daemon: daily purge of the expired calls; with approval required, the purge_proposal_due alarm"
else
    echo "skipped: the capture daemon's daily purge (needs root to capture on lo)"
fi

# reindex: the index deleted, the calls that have a recording come back from the files.
R="$T/reindex"
setup "$R" "$T/greffier.conf"
"$BIN" -d "$R" calls --json >"$T/ri.before.json" 2>/dev/null
sql "$R" "SELECT c.call_id, c.rule, c.retention_days, (SELECT group_concat(tag) FROM call_tags WHERE call_ref = c.id) FROM calls c JOIN recordings r ON r.call_ref = c.id" | sort >"$T/ri.rules.before"
rm -f "$R"/index.sqlite*
$BIN -c "$T/greffier.conf" -d "$R" reindex >"$T/ri.out" 2>&1 || { bad "reindex: exit $?"; cat "$T/ri.out"; }
"$BIN" -d "$R" calls --json >"$T/ri.after.json" 2>/dev/null
# The end comes back from the audio's length: within a millisecond (one sample rounds).
python3 - "$T/ri.before.json" "$T/ri.after.json" >"$T/ri.diff" <<'PY' || { bad "reindex: calls differ"; cat "$T/ri.diff"; }
import json, sys
from datetime import datetime
def t(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
def key(c):
    r = c["recording"]
    return (c["call_id"], c["start"], c["caller"], c["callee"], c["status"], r["path"],
            r["sha256"], r["bytes"], r["duration_s"])
before = {key(c): c for c in json.load(open(sys.argv[1])) if c["recording"]}
after = {key(c): c for c in json.load(open(sys.argv[2]))}
bad = set(before) ^ set(after)
bad |= {k for k in before if k in after and abs(t(before[k]["end"]) - t(after[k]["end"])) > 0.0015}
for k in sorted(bad):
    print("differs:", k)
sys.exit(1 if bad or not before else 0)
PY
python3 -c 'import json,sys; print(sum(1 for c in json.load(open(sys.argv[1])) if c["recording"]))' "$T/ri.before.json" >"$T/ri.before"
sql "$R" "SELECT c.call_id, c.rule, c.retention_days, (SELECT group_concat(tag) FROM call_tags WHERE call_ref = c.id) FROM calls c JOIN recordings r ON r.call_ref = c.id" | sort >"$T/ri.rules.after"
diff -q "$T/ri.rules.before" "$T/ri.rules.after" >/dev/null || bad "reindex: rules, retention or tags differ"
"$BIN" -d "$R" verify --all >"$T/ri.v" 2>&1 || { bad "verify after reindex"; cat "$T/ri.v"; }
$BIN -c "$T/greffier.conf" -d "$R" reindex >"$T/ri2.out" 2>&1 || bad "second reindex: exit $?"
grep -q "^reindex: 0 calls added, 0 recordings attached to existing calls, $(cat "$T/ri.before") already indexed" "$T/ri2.out" ||
    bad "second reindex: $(cat "$T/ri2.out")"
step "reindex: $(cat "$T/ri.before") calls and recordings back from the files alone (rules, tags too), verify ok"

if [ $fail = 0 ]; then echo "retention: all checks passed"; else echo "retention: FAILED"; fi
exit $fail

#!/bin/bash
# import_crash.sh - kill -9 of an import in the middle of its calls, then the same import
# again (issue 4 "Crash"; docs/CALLS.md "Calls cut by a crash").  Checked:
#   1. while the import runs, the calls whose recording has started have a live row
#      (committed within a second or two), beside the calls already finished;
#   2. after kill -9: the index opens (integrity_check ok) and every call finished
#      before the kill verifies ok (`greffier verify ID...`);
#   3. the import again: it closes each live row with its file (end_reason crash,
#      recording truncated, or complete when its writer had finished it), then finishes
#      the capture: one row per call of the capture (no duplicate, none live), `verify
#      --all` names no file tampered nor orphan, and exactly the recordings indexed as
#      truncated are truncated (a call already closed as crash stays so: the re-import
#      does not redo it).
# Environment: GREFFIER_BIN, GREFFIER_BUILD (for bench/gen_calls), TEST_OUT.
set -u
BIN=${GREFFIER_BIN:-build/greffier}
BUILD=${GREFFIER_BUILD:-build}
GEN="$BUILD/bench/gen_calls"
[ -x "$GEN" ] || { echo "SKIP: no $GEN"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 0; }
T=$(mktemp -d)
IMPORT_PID=
cleanup() {
    [ -n "$IMPORT_PID" ] && kill -KILL "$IMPORT_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
D="$T/data"
fail() { echo "FAIL: $*"; exit 1; }
step() { echo "ok: $*"; }

# sql QUERY: the first column of the first row, read beside a writer (WAL).
sql() {
    python3 - "$D/index.sqlite" "$1" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
row = db.execute(sys.argv[2]).fetchone()
print(row[0] if row else "")
EOF
}

# 120 answered calls of 20 s, 30 at a time: the import takes several seconds.
"$GEN" --calls 120 --duration 20 --concurrency 30 --scenario answered -o "$T/calls.pcap" \
    >"$T/gen.out" 2>&1 || fail "gen_calls: $(cat "$T/gen.out")"
"$BIN" init -d "$D" >"$T/init.out" 2>&1 || fail "init: $(cat "$T/init.out")"

# --- 1. kill -9 once calls are both finished and in progress in the index ----------------
"$BIN" -d "$D" import "$T/calls.pcap" >"$T/import1.out" 2>"$T/import1.err" &
IMPORT_PID=$!
live=0 finished=0
for _ in $(seq 300); do
    kill -0 "$IMPORT_PID" 2>/dev/null || break
    if [ -f "$D/index.sqlite" ]; then
        live=$(sql "SELECT count(*) FROM calls WHERE live = 1" 2>/dev/null || echo 0)
        finished=$(sql "SELECT count(*) FROM calls WHERE live = 0" 2>/dev/null || echo 0)
        [ "${live:-0}" -ge 5 ] && [ "${finished:-0}" -ge 10 ] && break
    fi
    sleep 0.05
done
kill -KILL "$IMPORT_PID" 2>/dev/null || fail "the import ended before the kill (too fast a machine?)"
wait "$IMPORT_PID" 2>/dev/null
IMPORT_PID=
[ "${live:-0}" -ge 5 ] && [ "${finished:-0}" -ge 10 ] ||
    fail "before the kill: $live live rows and $finished finished calls, want >= 5 and >= 10"
parts=$(find "$D/recordings" -name '*.part' | wc -l)
[ "$parts" -ge 1 ] || fail "no recording in progress (.part) when killed"
step "kill -9 of the import with $finished calls finished, $live live rows, $parts .part files"

# --- 2. the index after the kill ---------------------------------------------------------
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "index damaged by kill -9"
mapfile -t DONE < <(python3 - "$D/index.sqlite" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (i,) in db.execute("SELECT c.id FROM calls c JOIN recordings r ON r.call_ref = c.id"
                       " WHERE c.live = 0 ORDER BY c.id"):
    print(i)
EOF
)
[ "${#DONE[@]}" -ge 10 ] || fail "${#DONE[@]} finished recordings in the index after the kill"
"$BIN" -d "$D" verify "${DONE[@]}" >"$T/verify1.out" 2>&1 ||
    fail "verify of the calls finished before the kill: $(grep -v ' ok ' "$T/verify1.out" | head)"
[ "$(grep -c ' ok ' "$T/verify1.out")" = "${#DONE[@]}" ] || fail "verify: $(cat "$T/verify1.out")"
step "index ok after kill -9; the ${#DONE[@]} recordings finished before it verify ok"

# --- 3. the same import again -------------------------------------------------------------
"$BIN" -d "$D" import "$T/calls.pcap" >"$T/import2.out" 2>"$T/import2.err" ||
    fail "import again: $(tail -n 5 "$T/import2.err")"
recovered=$(sed -n 's/.*<4>\([0-9]*\) call(s) cut by a crash indexed with their recording.*/\1/p' "$T/import2.err")
[ -n "$recovered" ] && [ "$recovered" -ge 1 ] ||
    fail "import again: no live row closed: $(grep -E 'crash|vault' "$T/import2.err" | head)"
[ "$(sql 'PRAGMA integrity_check')" = ok ] || fail "index damaged after the second import"
total=$(sql "SELECT count(*) FROM calls")
distinct=$(sql "SELECT count(*) FROM (SELECT DISTINCT call_id FROM calls)")
[ "$total" = 120 ] && [ "$distinct" = 120 ] ||
    fail "after the second import: $total rows for $distinct Call-IDs, want 120 and 120"
[ "$(sql "SELECT count(*) FROM calls WHERE live = 1")" = 0 ] || fail "live rows left"
crashed=$(sql "SELECT count(*) FROM calls c JOIN recordings r ON r.call_ref = c.id
               WHERE c.end_reason = 'crash' AND r.duration_s IS NULL")
[ "$crashed" = "$recovered" ] ||
    fail "$crashed calls closed as crash with their recording, the log says $recovered"
# Truncated: those whose writer died mid-call; complete: those it had finished and
# linked (the call ended in the second before the kill, its row not yet committed).
want_truncated=$(sql "SELECT count(*) FROM recordings WHERE state = 'truncated'")
[ "$want_truncated" -ge 1 ] || fail "no recording indexed as truncated after the kill"
"$BIN" -d "$D" verify --all >"$T/verify2.out" 2>&1
grep -qE 'tampered|orphan|missing' "$T/verify2.out" &&
    fail "verify --all after the second import: $(grep -E 'tampered|orphan|missing' "$T/verify2.out" | head)"
ok=$(grep -c ' ok ' "$T/verify2.out")
truncated=$(grep -c '^[0-9]* truncated ' "$T/verify2.out")
[ $((ok + truncated)) = 120 ] && [ "$truncated" = "$want_truncated" ] ||
    fail "verify --all: $ok ok, $truncated truncated of 120 ($recovered recovered): $(grep -v ' ok ' "$T/verify2.out" | head)"
step "import again: $recovered calls closed as crash ($want_truncated truncated), 120 rows, none twice, verify: $ok ok, $truncated truncated"
step "PASS: kill -9 of an import, then the import again"
exit 0

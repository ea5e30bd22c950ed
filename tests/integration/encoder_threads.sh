#!/bin/bash
# encoder_threads.sh - [media] encoder_threads = 3 records exactly what one thread does:
# a generated capture (mixed calls, PCMU and G.722) imported twice, once per setting;
# the index lists the same calls with the same media state, recording duration and
# size, and every recording decrypts (`greffier audio`) to the same Ogg bytes.  The
# daemon side (serve with threads, SIGTERM) is in serve_live.sh.
# Environment: GREFFIER_BIN (default build/greffier), GREFFIER_BUILD, TEST_OUT.
set -u
cd "$(dirname "$0")/../.." || exit 2
BIN=${GREFFIER_BIN:-$PWD/build/greffier}
BUILD=${GREFFIER_BUILD:-$(dirname "$BIN")}
WORK=${TEST_OUT:-/tmp}/encoder_threads
rm -rf "$WORK" && mkdir -p "$WORK" || exit 2
fail() { echo "FAIL: $*"; echo "logs kept in $WORK"; exit 1; }

total=0
for codec in pcmu g722; do
    cap=$WORK/$codec.pcap
    "$BUILD/bench/gen_calls" --calls 40 --duration 6 --codec "$codec" --seed 11 -o "$cap" \
        >/dev/null 2>&1 || fail "gen_calls $codec"
    for n in 1 3; do
        d=$WORK/data-$codec-$n
        printf '[media]\nencoder_threads = %s\n[log]\nlevel = notice\n' "$n" >"$WORK/t$n.conf"
        "$BIN" init -d "$d" >/dev/null 2>&1 || fail "init"
        "$BIN" -c "$WORK/t$n.conf" -d "$d" import "$cap" >"$WORK/import-$codec-$n.out" \
            2>"$WORK/import-$codec-$n.err" || fail "import with $n threads: $(tail -n 3 "$WORK/import-$codec-$n.err")"
        "$BIN" -d "$d" calls --json >"$WORK/calls-$codec-$n.json" || fail "calls"
    done
    python3 - "$WORK/calls-$codec-1.json" "$WORK/calls-$codec-3.json" <<'PY' || fail "$codec: the index differs between 1 and 3 encoder threads"
import json, sys
def view(path):
    out = []
    for c in json.load(open(path)):
        r = c["recording"] or {}
        out.append((c["id"], c["call_id"], c["status"], c["media_state"], r.get("duration_s"),
                    r.get("bytes"), r.get("state"), r.get("codec_in")))
    return out
a, b = view(sys.argv[1]), view(sys.argv[2])
for x, y in zip(a, b):
    if x != y:
        print("differs:", x, y)
sys.exit(0 if a == b and len(a) == 40 else 1)
PY
    ids=$(python3 -c 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(open(sys.argv[1])) if c["recording"]))' "$WORK/calls-$codec-1.json")
    n=0
    for id in $ids; do
        "$BIN" -d "$WORK/data-$codec-1" audio "$id" -o "$WORK/a1.ogg" >/dev/null 2>&1 || fail "audio $id (1 thread)"
        "$BIN" -d "$WORK/data-$codec-3" audio "$id" -o "$WORK/a3.ogg" >/dev/null 2>&1 || fail "audio $id (3 threads)"
        cmp -s "$WORK/a1.ogg" "$WORK/a3.ogg" || fail "$codec: call $id: the Ogg streams differ"
        n=$((n + 1))
    done
    [ "$n" -gt 10 ] || fail "$codec: only $n recordings"
    grep -q "encoder_backlog_waits=" "$WORK/import-$codec-3.out" || fail "no encoder_backlog_waits in the summary"
    total=$((total + n))
    echo "$codec: 40 calls, $n recordings identical with 1 and 3 encoder threads"
done
rm -rf "$WORK"
echo "ok: encoder threads, $total recordings byte-identical"

#!/bin/bash
# Runs every test of `make check` against one build folder and ends with the line
# "N passed, N failed" (N counts test programs and scripts, each may hold many cases).
# Usage: tests/run-all.sh BUILD_DIR     (environment: TESTS=pattern to run a subset)
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-build/asan}
export GREFFIER_BIN="$PWD/$BUILD/greffier"
export GREFFIER_BUILD="$PWD/$BUILD"
export SHARED_DIR="${SHARED_DIR:-$(cd .. && pwd)/shared}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
OUT="$PWD/$BUILD/test-output"
rm -rf "$OUT"; mkdir -p "$OUT"
export TEST_OUT="$OUT"

pass=0; fail=0; failed=()
run() { # name command...
    local name=$1; shift
    case "$name" in ${TESTS:-*}) ;; *) return ;; esac
    local log="$OUT/$name.log" start=$SECONDS
    mkdir -p "$(dirname "$log")"
    if "$@" >"$log" 2>&1; then
        pass=$((pass + 1)); printf 'PASS %-44s %3ss  %s\n' "$name" $((SECONDS - start)) "$(tail -n 1 "$log")"
    else
        fail=$((fail + 1)); failed+=("$name")
        printf 'FAIL %-44s %3ss  (log: %s)\n' "$name" $((SECONDS - start)) "$log"
        tail -n 25 "$log" | sed 's/^/    /'
    fi
}

run banned-functions tests/check-banned.sh
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
for f in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    run "fuzz-smoke/$n" "$f" -max-seconds=${FUZZ_SECONDS:-10} "tests/fuzz/corpus/${n#fuzz_}"
done
for s in tests/integration/*.sh; do
    [ -x "$s" ] && run "integration/$(basename "$s" .sh)" "$s"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

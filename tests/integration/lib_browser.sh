# Sourced by the browser_*.sh tests (not run alone): the set-up every one of them needs.
# browser_setup NAME: cd to the repository, BIN and BUILD from the environment, OUT =
# $TEST_OUT/NAME emptied (screenshots, logs), T a scratch folder removed on exit with the
# server whose pid is in SERVER, fail(), and Debian's chromium plus playwright-core from
# npm (installed once into tests/web/node_modules).
browser_setup() {
    cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
    BIN=${GREFFIER_BIN:-build/greffier}
    BUILD=${GREFFIER_BUILD:-build}
    OUT=${TEST_OUT:-/tmp}/$1
    rm -rf "$OUT"; mkdir -p "$OUT"
    T=$(mktemp -d); SERVER=
    trap 'browser_cleanup' EXIT
    [ -x /usr/bin/chromium ] || fail "chromium missing (make deps installs it)"
    command -v npm >/dev/null || fail "npm missing (make deps installs it)"
    if [ ! -d tests/web/node_modules/playwright-core ]; then
        (cd tests/web && npm install --no-audit --no-fund --silent) >"$OUT/npm.log" 2>&1 ||
            fail "npm install of playwright-core failed (see $OUT/npm.log)"
    fi
}

browser_cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}

fail() { echo "FAIL: $*"; exit 1; }

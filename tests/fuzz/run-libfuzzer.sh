#!/bin/sh
# `make fuzz`: every fuzz target under clang's libFuzzer with ASan+UBSan, for N seconds
# each (default 60), starting from the seed corpus in tests/fuzz/corpus/<name>/.
# New interesting inputs go to build/fuzz-clang/corpus/<name>/ (not committed; copy a
# crash reproducer into the seed corpus when fixing the bug it found).
set -eu
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET=${1:-60}
B=build/fuzz-clang
FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link"
make -s BUILD=$B CC=clang OPTFLAGS="$FLAGS" SANLDFLAGS= $B/libgreffier.a
status=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    seeds=tests/fuzz/corpus/${name#fuzz_}
    out=$B/corpus/${name#fuzz_}
    mkdir -p "$out" "$B/crashes"
    clang -std=c11 -D_GNU_SOURCE $FLAGS -fsanitize=fuzzer -Iinclude \
        $(pkg-config --cflags libpcap sofia-sip-ua sqlite3 openssl opus ogg sndfile libsrtp2 spandsp libbcg729 libmicrohttpd) \
        -o "$B/$name" "$src" $B/libgreffier.a \
        $(pkg-config --libs libpcap sofia-sip-ua sqlite3 openssl opus ogg sndfile libsrtp2 spandsp libbcg729 libmicrohttpd) -lm
    echo "== $name for ${SECONDS_PER_TARGET}s"
    "$B/$name" -max_total_time="$SECONDS_PER_TARGET" -artifact_prefix="$B/crashes/$name-" \
        "$out" "$seeds" || status=1
done
exit $status

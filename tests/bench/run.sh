#!/bin/bash
# greffier's benchmarks (`make bench`): not a test, it prints figures and the exact
# commands that produced them, so anyone can rerun one by hand.
#
# Usage: tests/bench/run.sh BUILD_DIR
# Environment:
#   RUNS=3            runs per measured command; the fastest (wall clock) is reported
#   SECTIONS=import   which sections to run, space separated, in order
#   BENCH_CALLS=1000 BENCH_DURATION=20   size of the generated capture
#   BENCH_LIVE_LEVELS="100 200 400 600 800 1000" BENCH_LIVE_DURATION=20   live section,
#   BENCH_LIVE_THREADS="1 2"   once per [media] encoder_threads value
#   GREFFIER_BIN      binary to measure (default BUILD_DIR/greffier; never an ASan build)
#
# Sections:
#   import   greffier import of the generated capture vs tshark and tcpdump reading it
#   media    the same import seen as a recorder: call-seconds recorded per CPU-second,
#            bytes per call-minute, peak memory per active call, encoder settings
#   vault    sealing N MB of Ogg Opus (AES-256-GCM chunks) vs writing it plainly, and the
#            sealing cost as a fraction of the Opus encoder's for the same audio
#            (BENCH_VAULT_MB=256, BENCH_VAULT_AUDIO_S=600)
#   search   GET /api/calls latency (p50/p95) over an index of SEARCH_CALLS=1000000
#            generated calls for the common filters, and time to the first audio byte of
#            a replay, through `greffier serve` with one keep-alive client
#   live     greffier capture fed by a replay through a veth at rising concurrency: the
#            most concurrent G.711 calls held without a drop, CPU per call (root only)
# Later sections (media, vault, search) are added as functions named section_<name> and
# listed in SECTIONS_ALL; each prints its own table and reuses gen_capture and measure.
set -u
cd "$(dirname "$0")/../.." || exit 2

BUILD=${1:-build}
BIN=${GREFFIER_BIN:-$PWD/$BUILD/greffier}
GEN=$PWD/$BUILD/bench/gen_calls
OUT=$PWD/$BUILD/bench
RUNS=${RUNS:-3}
CALLS=${BENCH_CALLS:-1000}
DURATION=${BENCH_DURATION:-20}
LIVE_LEVELS=${BENCH_LIVE_LEVELS:-100 200 400 600 800 1000}
LIVE_DURATION=${BENCH_LIVE_DURATION:-20}
LIVE_THREADS=${BENCH_LIVE_THREADS:-1 2}
SECTIONS_ALL="import media vault search live"
SECTIONS=${SECTIONS:-$SECTIONS_ALL}
TIMEFORMAT='%R %U %S'
LOG=$OUT/logs
mkdir -p "$OUT" "$LOG"

die() { echo "bench: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

[ -x "$GEN" ] || die "$GEN missing: run 'make $BUILD/bench/gen_calls' (make bench does)"

# --- helpers ---------------------------------------------------------------------------

# gen_capture CALLS DURATION: sets CAP to a capture of that size, generating it unless a
# copy made by the same generator binary with the same arguments is already there.
gen_capture() {
    local calls=$1 dur=$2
    CAP=$OUT/calls-${calls}x${dur}s.pcap
    TRUTH=${CAP%.pcap}.truth.json
    local args=(--calls "$calls" --duration "$dur" --scenario answered --seed 1 -o "$CAP")
    local stamp
    stamp="$(sha256sum "$GEN" | cut -d' ' -f1) ${args[*]}"
    if [ -s "$CAP" ] && [ -s "$TRUTH" ] && [ "$(cat "$CAP.stamp" 2>/dev/null)" = "$stamp" ]; then
        echo "capture: $CAP (cached; same generator and arguments)"
    else
        rm -f "$CAP" "$TRUTH" "$CAP.stamp"
        echo "\$ $GEN ${args[*]}"
        local t
        t=$( { time "$GEN" "${args[@]}" 2>"$LOG/gen.err" >/dev/null; } 2>&1 ) ||
            { cat "$LOG/gen.err" >&2; die "generator failed"; }
        cat "$LOG/gen.err"
        echo "generator: wall ${t%% *} s"
        echo "$stamp" >"$CAP.stamp"
    fi
    # What the capture holds, from the generator's truth file.
    read -r PACKETS TALK_MIN NCALLS < <(python3 - "$TRUTH" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
talk = sum(c["talk_s"] for c in t["calls"]) / 60.0
print(t["packets"], "%.1f" % talk, len(t["calls"]))
EOF
    ) || die "cannot read $TRUTH"
    CAP_BYTES=$(stat -c %s "$CAP")
}

# measure NAME PREP CMD...: runs CMD (after the shell snippet PREP, untimed) RUNS times and
# keeps the fastest wall clock in M_WALL with its CPU time (user+system) in M_CPU.  The
# command's stdout of the last run is in $LOG/NAME.out, its stderr in $LOG/NAME.err.
measure() {
    local name=$1 prep=$2; shift 2
    M_WALL="" M_CPU="" M_OK=1
    echo "\$ $*"
    local i t wall user sys
    for ((i = 1; i <= RUNS; i++)); do
        eval "$prep" || { M_OK=0; return; }
        if ! t=$( { time "$@" >"$LOG/$name.out" 2>"$LOG/$name.err"; } 2>&1 ); then
            echo "  FAILED (exit status), stderr:"; tail -n 5 "$LOG/$name.err" | sed 's/^/    /'
            M_OK=0; return
        fi
        read -r wall user sys <<<"$t"
        if [ -z "$M_WALL" ] || awk -v a="$wall" -v b="$M_WALL" 'BEGIN{exit !(a < b)}'; then
            M_WALL=$wall
            M_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.3f", u + s}')
        fi
    done
    echo "  best of $RUNS: wall $M_WALL s, cpu $M_CPU s"
}

div() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.0f", a / b; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }'; }

row() { printf '%-10s %9s %9s %13s %15s\n' "$@"; }
lrow() { printf '%-6s %6s %6s %5s %6s %6s %5s %10s %10s %8s %5s %6s\n' "$@"; }

# --- sections --------------------------------------------------------------------------

section_media() {
    echo
    echo "== media: recordings made by the import =="
    gen_capture "$CALLS" "$DURATION"
    if [ ! -x "$BIN" ] || ldd "$BIN" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        echo "media: SKIPPED: needs the release build ($BIN)"; return
    fi
    local data=$OUT/data-media
    rm -rf "$data" && "$BIN" init -d "$data" >/dev/null
    echo "\$ /usr/bin/time -v $BIN -d $data import $CAP"
    /usr/bin/time -v "$BIN" -d "$data" import "$CAP" >"$LOG/media.out" 2>"$LOG/media.time" ||
        { cat "$LOG/media.time"; return; }
    "$BIN" -d "$data" calls --json >"$LOG/media.json"
    python3 - "$LOG/media.time" "$LOG/media.json" "$CALLS" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + \
      float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
calls = json.load(open(sys.argv[2]))
recs = [c["recording"] for c in calls if c["recording"]]
secs = sum(r["duration_s"] for r in recs)
size = sum(r["bytes"] for r in recs)
r0 = recs[0] if recs else {}
print("recordings: %d, %.0f call-seconds, %.1f MB" % (len(recs), secs, size / 1e6))
print("encoder: Opus, two uncoupled mono streams, %s bit/s, %s ms frames, complexity %s, %s Hz"
      % (r0.get("bitrate"), r0.get("frame_ms"), r0.get("complexity"), r0.get("sample_rate")))
print("cpu: %.2f s  ->  %.0f call-seconds recorded per CPU-second (concurrent calls one core sustains)"
      % (cpu, secs / cpu if cpu else 0))
print("bytes per call-minute: %.1f kB (%.1f kbit/s)" % (size / (secs / 60) / 1e3 if secs else 0,
      size * 8 / secs / 1e3 if secs else 0))
print("peak memory: %.0f MB for %s calls at once -> %.0f kB per active call (upper bound: includes the process)"
      % (rss_kb / 1024, sys.argv[3], rss_kb / int(sys.argv[3])))
PY
}

section_vault() {
    echo
    echo "== vault: encryption overhead =="
    local prog=$PWD/$BUILD/bench/bench_vault
    [ -x "$prog" ] || { echo "vault: SKIPPED: $prog missing (make $BUILD/bench/bench_vault)"; return; }
    if ldd "$prog" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        echo "vault: SKIPPED: $prog is a sanitizer build"; return
    fi
    echo "\$ $prog ${BENCH_VAULT_MB:-256} ${BENCH_VAULT_AUDIO_S:-600} $OUT"
    "$prog" "${BENCH_VAULT_MB:-256}" "${BENCH_VAULT_AUDIO_S:-600}" "$OUT"
}

# The rising levels of section_live for one encoder_threads value ($threads); sets best.
# Uses section_live's locals (bash scoping is dynamic).
live_levels() {
    for level in $LIVE_LEVELS; do
        cap=$OUT/live-${level}.pcap
        local args=(--calls "$level" --duration "$LIVE_DURATION" --concurrency "$level"
                    --codec pcmu --scenario answered --seed 2 -o "$cap")
        if [ ! -s "$cap" ] || [ "$(cat "$cap.stamp" 2>/dev/null)" != "$(sha256sum "$GEN" | cut -d' ' -f1) ${args[*]}" ]; then
            "$GEN" "${args[@]}" >/dev/null 2>"$LOG/live-gen.err" || { cat "$LOG/live-gen.err"; break; }
            echo "$(sha256sum "$GEN" | cut -d' ' -f1) ${args[*]}" >"$cap.stamp"
        fi
        local packets span talk
        read -r packets span talk < <(python3 - "${cap%.pcap}.truth.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
span = max(c["end"] for c in t["calls"]) - t["start"]
print(t["packets"], "%.3f" % span, "%.1f" % sum(c["talk_s"] for c in t["calls"]))
PY
        )
        data=$OUT/data-live conf=$OUT/live.conf
        rm -rf "$data" && "$BIN" init -d "$data" >/dev/null
        printf '[storage]\ndata_dir = %s\n[capture]\ninterfaces = %s\nstats_interval = 1\n[media]\nencoder_threads = %s\n[daemon]\nuser = root\n[log]\nlevel = notice\n' \
            "$data" "$if_b" "$threads" >"$conf"
        ip netns exec "$ns_b" "$BIN" -c "$conf" capture 2>"$LOG/live-$level.log" &
        pid=$!
        local i
        for i in $(seq 100); do
            grep -q "capturing on" "$LOG/live-$level.log" && break
            sleep 0.1
        done
        read -r c0 < <(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        t0=$(date +%s.%N)
        # Poll the snapshot for the largest backlog and lowest complexity while replaying.
        ( while kill -0 "$pid" 2>/dev/null; do
              grep -E '^greffier_encoder_(backlog_seconds|complexity|queue_frames) ' "$data/run/capture.prom" 2>/dev/null
              sleep 1
          done >"$LOG/live-$level.snap" ) &
        local poller=$!
        echo "\$ ip netns exec $ns_a ${REPLAY[*]} -i $if_a $cap" >"$LOG/live-$level.replay"
        ip netns exec "$ns_a" "${REPLAY[@]}" -i "$if_a" "$cap" >>"$LOG/live-$level.replay" 2>&1
        t1=$(date +%s.%N)
        read -r c1 < <(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        sleep 2 # the ring's last block (100 ms timeout), then a stats interval
        kill -TERM "$pid"
        wait "$pid"
        kill "$poller" 2>/dev/null
        wait "$poller" 2>/dev/null
        result=$(python3 - "$LOG/live-$level.log" "$LOG/live-$level.snap" "$packets" "$level" \
            "$c0" "$c1" "$hz" "$t0" "$t1" "$span" "$talk" <<'PY'
import re, sys
log, snap, packets, level, c0, c1, hz, t0, t1, span, talk = sys.argv[1:]
m = re.search(r"capture: stopped: (\d+) packets, (\d+) calls, drops: kernel (\d+), interface (\d+), other (\d+)",
              open(log).read())
if not m:
    print("FAIL no final line in", log); sys.exit()
got, calls, kern, iface, other = map(int, m.groups())
wall = float(t1) - float(t0)
cpu = (int(c1) - int(c0)) / int(hz)
backlog, cplx, queue = 0.0, None, 0
for line in open(snap):
    name, value = line.split()
    if name.endswith("backlog_seconds"):
        backlog = max(backlog, float(value))
    elif name.endswith("queue_frames"):
        queue = max(queue, int(value))
    else:
        cplx = int(value) if cplx is None else min(cplx, int(value))
lost = int(packets) - got
ok = lost == 0 and kern == 0 and iface == 0 and other == 0
# speed: the capture's time span over the replay's wall time (1.00: real time).  Below it,
# RTP arrives slower than its timestamps run and audio ends up late however fast
# greffier is: the figures then say nothing about greffier's limit.
speed = float(span) / wall
verdict = "OK" if ok else ("SLOW" if speed < 0.95 else "DROP")
ms_per_call_s = 1000 * cpu / float(talk)
print(verdict, "%.2f" % speed, lost, kern, iface, other, "%.0f" % (100 * cpu / wall),
      "%.2f" % ms_per_call_s, "%.0f" % (1000 / ms_per_call_s), "%.2fs" % backlog,
      cplx if cplx is not None else "-", queue)
PY
        )
        read -r verdict speed lost kern iface other cpu mspcs percore backlog cplx queue <<<"$result"
        if [ "$verdict" = FAIL ]; then echo "live: $result"; break; fi
        lrow "$level" "$speed" "$lost" "$kern" "$iface" "$other" "$cpu" "$mspcs" "$percore" \
            "$backlog" "$cplx" "$queue"
        if [ "$verdict" = SLOW ]; then
            echo "       the sender ran at ${speed}x real time: it, not greffier, is the limit here"
            echo "       (load: $(cut -d' ' -f1-3 /proc/loadavg)); the level proves nothing"
            break
        fi
        if [ "$verdict" != OK ]; then
            echo "       dropped by reason: $(awk '/^greffier_drops_total/ && $2 != 0 { printf "%s %s  ", $1, $2 }' \
                "$data/run/capture.prom" | sed 's/greffier_drops_total{reason="\([a-z_]*\)"}/\1/g')"
            break
        fi
        best=$level
    done
}

# live: greffier capture on one end of a veth pair between two namespaces while
# replay_live (or tcpreplay) replays a generated G.711 capture of C concurrent calls into
# the other end at its recorded speed, for each C in LIVE_LEVELS and each encoder_threads
# value in LIVE_THREADS.  Per level: the drops (kernel, interface,
# greffier's own, from the daemon's last line), whether every packet reached greffier,
# the CPU the daemon used (/proc/PID/stat utime+stime over the replay) per concurrent
# call, and the largest backlog and lowest Opus complexity its snapshot showed.  Stops
# after the first level with a drop, or when the sender falls behind real time.  Needs
# root (namespaces) and the release build.
section_live() {
    echo
    echo "== live: concurrent G.711 calls held by greffier capture (a capture replayed into a veth) =="
    if [ "$(id -u)" != 0 ]; then echo "live: SKIPPED: needs root (network namespaces)"; return; fi
    # The sender: replay_live (tests/bench/replay_live.c: packets due together leave
    # together) keeps real time where tcpreplay's per-packet sleeps do not at these rates
    # (0.5-0.7x measured here); tcpreplay when it is not built.
    local REPLAY=("$PWD/$BUILD/bench/replay_live")
    if [ ! -x "${REPLAY[0]}" ]; then
        have tcpreplay || { echo "live: SKIPPED: neither $BUILD/bench/replay_live nor tcpreplay"; return; }
        REPLAY=(tcpreplay -q -T gtod)
    fi
    if [ ! -x "$BIN" ] || ldd "$BIN" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        echo "live: SKIPPED: needs the release build ($BIN)"; return
    fi
    local ns_a=greffier-bench-a-$$ ns_b=greffier-bench-b-$$ if_a=gbla$$ if_b=gblb$$
    local hz level cap data conf pid t0 t1 c0 c1 best="" result
    hz=$(getconf CLK_TCK)
    ip netns add "$ns_a" && ip netns add "$ns_b" &&
        ip link add "$if_a" netns "$ns_a" type veth peer name "$if_b" netns "$ns_b" &&
        ip -n "$ns_a" link set "$if_a" up && ip -n "$ns_b" link set "$if_b" up ||
        { echo "live: SKIPPED: cannot make the namespaces"; ip netns del "$ns_a" 2>/dev/null;
          ip netns del "$ns_b" 2>/dev/null; return; }
    echo "namespaces $ns_a ($if_a, ${REPLAY[0]##*/}) -> $ns_b ($if_b, greffier capture)"
    echo "calls last ${LIVE_DURATION}s and start spread over one call length: C calls overlap"
    echo "in the middle of each replay; the capture is $((2 * LIVE_DURATION))s of traffic."
    lrow C speed lost kern iface other "cpu%" "ms/call-s" "calls/core" backlog cplx queue
    local threads
    for threads in $LIVE_THREADS; do
        echo "[media] encoder_threads = $threads"
        best=""
        live_levels
        echo "encoder_threads $threads: highest level held with no loss and no drop: ${best:-none}"
    done
    ip netns del "$ns_a" 2>/dev/null
    ip netns del "$ns_b" 2>/dev/null
    echo "speed: capture time / replay time (1.00 = real time); lost: packets of the capture"
    echo "greffier never read; kern/iface: drops the kernel reports; other: greffier's own drops;"
    echo "cpu%: of one core, the whole daemon during the replay; ms/call-s: daemon CPU per second"
    echo "of talk (both directions decoded, Opus-encoded, sealed); calls/core: concurrent calls"
    echo "one core would sustain at that cost; backlog: largest lag of the newest packet behind"
    echo "the wall clock; cplx: lowest Opus complexity used; queue: most frames waiting for the"
    echo "encoder threads (bounded; the pipeline waits beyond it)."
    echo "(encoder_threads 1: capture, SIP, RTP and Opus on one thread; logs in $LOG/live-*)"
}

section_import() {
    echo
    echo "== import: greffier vs tshark vs tcpdump on the same capture =="
    gen_capture "$CALLS" "$DURATION"
    printf 'capture: %s calls, %s packets, %.1f MB, %s call-minutes of talk\n' \
        "$NCALLS" "$PACKETS" "$(awk -v b="$CAP_BYTES" 'BEGIN{print b / 1e6}')" "$TALK_MIN"

    local g_wall="" g_cpu="" t_wall="" t_cpu="" d_wall="" d_cpu=""
    echo
    if [ ! -x "$BIN" ]; then
        echo "greffier: SKIPPED: $BIN not built (run 'make' first; the figures below are"
        echo "          the reference tools only)"
    elif ldd "$BIN" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        echo "greffier: SKIPPED: $BIN is a sanitizer build; figures come from 'make' (release)"
    else
        local data=$OUT/data conf=$OUT/classify.conf
        # The classification path alone: every packet decoded, SIP parsed, calls indexed,
        # RTP matched and its statistics kept, but no audio decoded or encoded (a rule that
        # records nothing).  The media section measures the recordings.
        printf '[rules]\ndefault = skip\n' >"$conf"
        echo "(each run: rm -rf $data && $BIN init -d $data, untimed; $conf records nothing)"
        measure greffier "rm -rf '$data' && '$BIN' init -d '$data' >/dev/null" \
            "$BIN" -c "$conf" -d "$data" import "$CAP"
        if [ "$M_OK" = 1 ]; then
            g_wall=$M_WALL g_cpu=$M_CPU
            local summary
            summary=$(grep -E '(^| )packets=' "$LOG/greffier.out" | tail -n 1)
            [ -n "$summary" ] || summary=$(grep -E '(^| )packets=' "$LOG/greffier.err" | tail -n 1)
            echo "  greffier says: ${summary:-(no summary line found)}"
            local gp gc
            gp=$(sed -n 's/.*\bpackets=\([0-9]*\).*/\1/p' <<<"$summary")
            gc=$(sed -n 's/.*\bcalls=\([0-9]*\).*/\1/p' <<<"$summary")
            [ -n "$gp" ] && [ "$gp" != "$PACKETS" ] &&
                echo "  WARNING: greffier read $gp packets, the capture holds $PACKETS"
            [ -n "$gc" ] && [ "$gc" != "$NCALLS" ] &&
                echo "  WARNING: greffier found $gc calls, the capture holds $NCALLS"
        fi
    fi

    echo
    if have tshark; then
        measure tshark : tshark -r "$CAP" -q -z sip,stat
        [ "$M_OK" = 1 ] && t_wall=$M_WALL t_cpu=$M_CPU
    else
        echo "tshark: SKIPPED: not installed (apt-get install tshark)"
    fi
    echo
    if have tcpdump; then
        measure tcpdump : tcpdump -r "$CAP" -w /dev/null
        [ "$M_OK" = 1 ] && d_wall=$M_WALL d_cpu=$M_CPU
    else
        echo "tcpdump: SKIPPED: not installed (apt-get install tcpdump)"
    fi

    echo
    row tool "wall s" "cpu s" "packets/s" "call-min/cpu-s"
    local name w c
    for name in greffier tshark tcpdump; do
        case $name in
        greffier) w=$g_wall c=$g_cpu ;;
        tshark) w=$t_wall c=$t_cpu ;;
        tcpdump) w=$d_wall c=$d_cpu ;;
        esac
        if [ -z "$w" ]; then
            row "$name" - - - -
        else
            row "$name" "$w" "$c" "$(div "$PACKETS" "$w")" "$(div "$TALK_MIN" "$c")"
        fi
    done
    if [ -n "$g_wall" ]; then
        # packets/s ratio = inverse ratio of wall times (same packets).
        [ -n "$t_wall" ] && echo "greffier vs tshark:  $(ratio "$t_wall" "$g_wall")x the packets/s"
        [ -n "$d_wall" ] && echo "greffier vs tcpdump: $(ratio "$d_wall" "$g_wall")x the packets/s"
    else
        echo "(no greffier figures: ratios not computed)"
    fi
}

# --- search ----------------------------------------------------------------------------

# An index of SEARCH_CALLS synthetic calls (tests/bench/bench_search.c) after a few real
# recorded ones (for the replay figure), served by `greffier serve --no-capture`; the
# client (search_client.py) runs SEARCH_REQUESTS requests per kind of query.  The index
# is kept in $OUT/search-data and reused while the binaries and the size are the same.
section_search() {
    local n=${SEARCH_CALLS:-1000000} reqs=${SEARCH_REQUESTS:-200}
    local dir=$OUT/search-data pop=$PWD/$BUILD/bench/bench_search
    echo; echo "== search: $n calls in the index, $reqs requests per query =="
    [ -x "$pop" ] || { echo "$pop missing: run 'make bench'"; return 1; }
    local stamp
    stamp="$(sha256sum "$pop" "$BIN" "$GEN" | cut -d' ' -f1 | tr '\n' ' ') $n"
    if [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && [ -s "$dir/samples.txt" ]; then
        echo "index: $dir (cached; same binaries and size)"
    else
        rm -rf "$dir"; mkdir -p "$dir"
        "$GEN" --calls 5 --duration 30 --scenario answered --seed 3 -o "$dir/rec.pcap" \
            >/dev/null 2>&1 || { echo "generator failed"; return 1; }
        "$BIN" -d "$dir/data" init >/dev/null &&
            "$BIN" -d "$dir/data" import "$dir/rec.pcap" >"$LOG/search-import.out" 2>&1 ||
            { echo "init/import failed (see $LOG/search-import.out)"; return 1; }
        echo "\$ $pop $dir/data $n $dir/samples.txt"
        local t
        t=$( { time "$pop" "$dir/data" "$n" "$dir/samples.txt" 2>"$LOG/bench_search.err"; } 2>&1 ) ||
            { tail -n 3 "$LOG/bench_search.err"; return 1; }
        echo "filled in ${t%% *} s; index $(du -sh "$dir/data/index.sqlite" | cut -f1)"
        printf 'bench password 42\n' >"$dir/pw"
        "$BIN" -d "$dir/data" user add bench --role supervisor --password-file "$dir/pw" \
            >/dev/null 2>&1 || { echo "user add failed"; return 1; }
        echo "$stamp" >"$dir/stamp"
    fi
    local ids port pid
    ids=$("$BIN" -d "$dir/data" calls --json --limit 100 --to 2024-06-01 |
          python3 -c 'import json,sys; print(",".join(str(c["id"]) for c in json.load(sys.stdin) if c["recording"]))')
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$BIN" -d "$dir/data" serve --no-capture --listen "127.0.0.1:$port" 2>"$LOG/search-serve.err" &
    pid=$!
    for _ in $(seq 100); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz')" \
            2>/dev/null && break
        sleep 0.1
    done
    echo "\$ python3 tests/bench/search_client.py $port bench PASSWORD $dir/samples.txt $ids $reqs"
    python3 tests/bench/search_client.py "$port" bench "bench password 42" "$dir/samples.txt" \
        "$ids" "$reqs" || echo "search client failed"
    kill "$pid"; wait "$pid" 2>/dev/null
    echo "targets: p95 under 50 ms for search, under 50 ms to the first audio byte"
}

# --- main ------------------------------------------------------------------------------

{
    echo "greffier bench, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "runs per command: $RUNS (fastest reported)"
    for s in $SECTIONS; do
        if declare -F "section_$s" >/dev/null; then
            "section_$s"
        else
            echo; echo "== $s: no such section (have: $SECTIONS_ALL) =="
        fi
    done
} 2>&1 | tee "$OUT/results.txt"
exit "${PIPESTATUS[0]}"

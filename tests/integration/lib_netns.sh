# lib_netns.sh - sourced (not run) by the integration tests that put real SIP peers in two
# private network namespaces joined by a veth pair: sipp_netns.sh, live_capture.sh,
# baresip_opus.sh.  It gives them the same preamble, working folder, clean-up and network,
# so that a fix to any of these lands in all of them.
#
#   netns_begin NAME TAG SUBNET TOOL...  checks root, `ip` and the tools (not root or no
#       `ip`: "SKIP: reason", exit 0), the greffier binary, makes WORK ($TEST_OUT/NAME, or
#       a temporary folder removed on success), installs the clean-up trap and sets
#       NS_UAC NS_UAS (namespaces), IF_UAC IF_UAS (veth ends), IP_UAC=SUBNET.1 and
#       IP_UAS=SUBNET.2.  TAG is a short word (3 letters at most) that keeps interface
#       names within IFNAMSIZ.
#   netns_up                     creates both namespaces and the veth pair, brings all up.
#   capture_start CAP            tcpdump on the UAS side of the pair into CAP (immediate
#                                mode: a packet still in a ring block when it stops is lost).
#   capture_stop                 waits 0.5 s for the last packets, then stops tcpdump.
#   wait_udp_listen NS ADDR PID  waits (5 s at most) until ADDR (ip:port) is bound in NS.
#   skip, fail, step             messages; fail ends the test with status 1.
# Processes started in the background are added to PIDS; the clean-up ends those (TERM,
# then KILL after 0.2 s) and no other, and deletes the two namespaces.
# Environment: GREFFIER_BIN (default build/greffier), TEST_OUT (where logs are kept).

skip() { echo "SKIP: $*"; exit 0; }
fail() { echo "FAIL: $*"; FAILED=1; exit 1; }
step() { printf '[%2ds] %s\n' $((SECONDS - T0)) "$*"; }

netns_begin() { # name tag subnet tool...
    local name=$1 tag=$2 net=$3 tool
    shift 3
    T0=$SECONDS
    FAILED=0
    BIN=${GREFFIER_BIN:-$PWD/build/greffier}
    NS_UAC=greffier-$tag-uac-$$
    NS_UAS=greffier-$tag-uas-$$
    IF_UAC=g${tag}a$$
    IF_UAS=g${tag}b$$
    IP_UAC=$net.1
    IP_UAS=$net.2
    PIDS=()
    [ "$(id -u)" = 0 ] || skip "not root: network namespaces need root"
    command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"
    for tool in "$@" timeout; do
        command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (make deps installs it)"
    done
    [ -x "$BIN" ] || fail "greffier binary $BIN missing (set GREFFIER_BIN or build it)"
    if [ -n "${TEST_OUT:-}" ]; then
        WORK=$TEST_OUT/$name
        rm -rf "$WORK"
        mkdir -p "$WORK" || exit 2
    else
        WORK=$(mktemp -d "/tmp/greffier-$name.XXXXXX") || exit 2
    fi
    trap netns_cleanup EXIT
    trap 'FAILED=1; exit 130' INT TERM HUP
}

netns_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null && { sleep 0.2; break; }
    done
    for pid in "${PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    timeout 10 ip netns del "$NS_UAC" 2>/dev/null
    timeout 10 ip netns del "$NS_UAS" 2>/dev/null
    if [ "$FAILED" != 0 ]; then
        echo "logs kept in $WORK"
    elif [ -z "${TEST_OUT:-}" ]; then
        rm -rf "$WORK"
    fi
}

netns_up() {
    local side ns dev addr
    timeout 10 ip netns add "$NS_UAC" 2>"$WORK/netns.err" ||
        skip "ip netns unavailable: $(head -n 1 "$WORK/netns.err")"
    timeout 10 ip netns add "$NS_UAS" || fail "ip netns add $NS_UAS"
    timeout 10 ip link add "$IF_UAC" netns "$NS_UAC" type veth peer name "$IF_UAS" netns "$NS_UAS" ||
        fail "cannot create the veth pair"
    for side in "$NS_UAC $IF_UAC $IP_UAC" "$NS_UAS $IF_UAS $IP_UAS"; do
        read -r ns dev addr <<<"$side"
        timeout 10 ip -n "$ns" addr add "$addr/30" dev "$dev" || fail "address on $dev"
        timeout 10 ip -n "$ns" link set "$dev" up || fail "link up $dev"
        timeout 10 ip -n "$ns" link set lo up || fail "lo up in $ns"
    done
    step "namespaces $NS_UAC ($IP_UAC) and $NS_UAS ($IP_UAS) are up"
}

capture_start() { # pcap file
    ip netns exec "$NS_UAS" timeout 60 tcpdump -i "$IF_UAS" -n -U --immediate-mode -s 0 -w "$1" \
        >"$WORK/tcpdump.out" 2>"$WORK/tcpdump.err" &
    TCPDUMP_PID=$!
    PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 50); do
        grep -q "listening on" "$WORK/tcpdump.err" 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q "listening on" "$WORK/tcpdump.err" ||
        fail "tcpdump did not start: $(tail -n 2 "$WORK/tcpdump.err")"
    step "tcpdump is capturing on $IF_UAS"
}

capture_stop() {
    sleep 0.5 # let the last RTP and 200 OK reach tcpdump
    kill -INT "$TCPDUMP_PID" 2>/dev/null
    wait "$TCPDUMP_PID"
    step "tcpdump stopped: $(grep -E 'packets? captured' "$WORK/tcpdump.err")"
}

wait_udp_listen() { # namespace ip:port pid
    local i
    for i in $(seq 50); do
        ip netns exec "$1" ss -lun 2>/dev/null | grep -q "$2" && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# sipp_scenarios DIR PAUSE_MS [PCAP_AUDIO]: writes DIR/uac.xml and DIR/uas.xml from
# tests/integration/sipp/.  The UAC talks for PAUSE_MS after the ACK (pass the word
# PAUSE_MS to keep the placeholder and fill it per run), playing PCAP_AUDIO when given.
sipp_scenarios() {
    local dir=$1 pause=$2 audio=""
    local src
    src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/sipp"
    [ -n "${3:-}" ] &&
        audio="<nop><action><exec play_pcap_audio=\"$3\"/></action></nop>"
    sed -e "s|PAUSE_MS|$pause|" -e "s|<!-- AUDIO -->|$audio|" "$src/uac.xml.in" >"$dir/uac.xml" &&
        cp "$src/uas.xml" "$dir/uas.xml"
}

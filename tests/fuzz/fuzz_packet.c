/*
 * fuzz_packet.c - the network decoder and TCP reassembly on hostile frames.
 *
 * Input: first byte chooses the link type (index into link_types below, modulo its
 * size), the rest is the frame.  The decoder and the reassembler are created once and
 * live across inputs, so that fragment and flow state built by one input meets the
 * next; packet time advances with every input so that expiry runs too.  Every payload
 * byte delivered is read, so ASan sees any overread; the frame is copied into a buffer
 * of its exact size for the same reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/net.h"
#include "greffier/tcp_stream.h"

static const int link_types[] = {
    1,   /* 0: Ethernet */
    113, /* 1: Linux cooked v1 */
    276, /* 2: Linux cooked v2 */
    0,   /* 3: BSD null */
    108, /* 4: BSD loopback */
    101, /* 5: raw IP (LINKTYPE_RAW) */
    228, /* 6: raw IPv4 */
    229, /* 7: raw IPv6 */
    12,  /* 8: raw IP (DLT_RAW) */
};

static struct counters counters;
static struct net_decoder *decoder;
static struct tcp_reassembler *tcp;
static pkt_time_t now;
static volatile uint8_t sink;

static void touch(const uint8_t *p, size_t n)
{
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    sink ^= x;
}

/* Consumes up to the last newline, like a line framer that leaves a partial message. */
static size_t on_data(void *user, struct tcp_flow *flow, pkt_time_t ts, const uint8_t *data,
                      size_t len)
{
    (void)user;
    (void)flow;
    (void)ts;
    touch(data, len);
    size_t n = len;
    while (n > 0 && data[n - 1] != '\n')
        n--;
    return n;
}

static void deliver(void *user, const struct l4_packet *pkt)
{
    (void)user;
    touch(pkt->payload.p, pkt->payload.len);
    if (pkt->proto == L4_TCP)
        tcp_reassembler_segment(tcp, pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!decoder) {
        struct net_limits nl = {.frag_max_datagrams = 64,
                                .frag_max_bytes = 65535,
                                .frag_timeout = 1000000,
                                .vxlan_port = 4789};
        struct tcp_limits tl = {.max_flows = 256, .max_flow_buffer = 4096, .idle_timeout = 2000000};
        decoder = net_decoder_new(&nl, &counters, deliver, NULL);
        tcp = tcp_reassembler_new(&tl, &counters, on_data, free, NULL);
        if (!decoder || !tcp)
            abort();
    }
    if (size < 1)
        return 0;
    int linktype = link_types[data[0] % (sizeof(link_types) / sizeof(link_types[0]))];
    size_t n = size - 1;
    uint8_t *frame = malloc(n ? n : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, n);
    now += 10000;
    net_decode(decoder, linktype, now, frame, n);
    free(frame);
    if (now % 1000000 == 0) {
        net_expire(decoder, now);
        tcp_reassembler_expire(tcp, now);
    }
    return 0;
}

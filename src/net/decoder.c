/*
 * decoder.c - the network decoder's entry: owns the per-decoder state (limits,
 * counters, fragment table) and dispatches each frame on its pcap link type
 * (https://www.tcpdump.org/linktypes.html) to the link layer in decode_link.c.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "net_internal.h"

typedef void (*link_fn)(struct net_decoder *d, struct net_ctx *x, struct span s);

/* Link types by their DLT_ value as pcap_datalink() returns it, and by the LINKTYPE_
 * value of the file format where the two differ (raw IP is 12 on most systems, 14 on
 * OpenBSD, 101 in files; loopback is 108, 12 on OpenBSD, which we cannot tell from
 * raw IP, so 12 means raw IP). */
static const struct {
    int linktype;
    link_fn decode;
} link_table[] = {
    {0, net_decode_null},   /* DLT_NULL: 4-byte address family, host byte order */
    {1, net_decode_ether},  /* DLT_EN10MB */
    {12, net_decode_raw},   /* DLT_RAW */
    {14, net_decode_raw},   /* DLT_RAW on OpenBSD */
    {101, net_decode_raw},  /* LINKTYPE_RAW */
    {108, net_decode_null}, /* DLT_LOOP: 4-byte address family, network byte order */
    {113, net_decode_sll},  /* DLT_LINUX_SLL */
    {228, net_decode_raw4}, /* DLT_IPV4 */
    {229, net_decode_raw6}, /* DLT_IPV6 */
    {276, net_decode_sll2}, /* DLT_LINUX_SLL2 */
};

struct net_decoder *net_decoder_new(const struct net_limits *limits, struct counters *counters,
                                    net_deliver_fn deliver, void *user)
{
    struct net_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->limits.frag_max_datagrams = 1024;
    d->limits.frag_max_bytes = 65535;
    d->limits.frag_timeout = 30 * (pkt_time_t)1000000;
    d->limits.vxlan_port = 4789;
    if (limits) {
        /* Zero means "default" for the sizes; for vxlan_port it means "disabled". */
        if (limits->frag_max_datagrams)
            d->limits.frag_max_datagrams = limits->frag_max_datagrams;
        if (limits->frag_max_bytes)
            d->limits.frag_max_bytes = limits->frag_max_bytes;
        if (limits->frag_timeout > 0)
            d->limits.frag_timeout = limits->frag_timeout;
        d->limits.vxlan_port = limits->vxlan_port;
    }
    d->c = counters;
    d->deliver = deliver;
    d->user = user;
    d->frag = ipfrag_new(&d->limits, counters);
    d->sctp = sctp_reasm_new(&d->limits, counters);
    if (!d->frag || !d->sctp) {
        net_decoder_free(d);
        return NULL;
    }
    return d;
}

void net_decoder_free(struct net_decoder *d)
{
    if (!d)
        return;
    ipfrag_free(d->frag);
    sctp_reasm_free(d->sctp);
    free(d);
}

void net_decode(struct net_decoder *d, int linktype, pkt_time_t ts, const uint8_t *frame,
                size_t caplen)
{
    struct net_ctx x = {.ts = ts};
    struct span s = span_make(frame, frame ? caplen : 0);

    for (size_t i = 0; i < sizeof(link_table) / sizeof(link_table[0]); i++) {
        if (link_table[i].linktype == linktype) {
            link_table[i].decode(d, &x, s);
            return;
        }
    }
    COUNT(d->c, drop_link_unsupported);
    log_limited(LOG_DEBUG, "net: link type %d not supported", linktype);
}

/* The transport or tunnel protocol carried by a whole IPv4 or IPv6 datagram. */
void net_decode_ip_payload(struct net_decoder *d, struct net_ctx *x, uint8_t proto,
                           const struct ip_addr *src, const struct ip_addr *dst, struct span s)
{
    switch (proto) {
    case NET_IPPROTO_UDP:
        net_decode_udp(d, x, src, dst, s);
        break;
    case NET_IPPROTO_TCP:
        net_decode_tcp(d, x, src, dst, s);
        break;
    case NET_IPPROTO_SCTP:
        net_decode_sctp(d, x, src, dst, s);
        break;
    case NET_IPPROTO_GRE:
        net_decode_gre(d, x, s);
        break;
    case NET_IPPROTO_IPIP:
    case NET_IPPROTO_IPV6:
        net_decode_ipip(d, x, proto, s);
        break;
    default:
        COUNT(d->c, drop_ip_proto_other);
        break;
    }
}

void net_expire(struct net_decoder *d, pkt_time_t now)
{
    ipfrag_expire(d->frag, now);
    sctp_reasm_expire(d->sctp, now);
}

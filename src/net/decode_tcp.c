/*
 * decode_tcp.c - TCP (RFC 9293 §3.1): header length checked, ports, flags and sequence
 * number passed on with the segment's payload; reassembly is tcp_stream.c's job.
 */
#include "greffier/log.h"
#include "net_internal.h"

enum { TCP_MIN_HEADER = 20 };

void net_decode_tcp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                    const struct ip_addr *dst, struct span s)
{
    const char *err;
    uint16_t sport, dport;
    uint32_t seq;
    uint8_t doff, flags;
    size_t hlen;
    struct l4_packet pkt;

    err = "short TCP header";
    if (s.len < TCP_MIN_HEADER)
        goto malformed;
    span_be16(s, 0, &sport);
    span_be16(s, 2, &dport);
    span_be32(s, 4, &seq);
    span_u8(s, 12, &doff);
    span_u8(s, 13, &flags);
    hlen = (size_t)(doff >> 4) * 4;
    err = "TCP data offset below 5";
    if (hlen < TCP_MIN_HEADER)
        goto malformed;
    err = "TCP data offset beyond the segment";
    if (hlen > s.len)
        goto malformed;

    pkt.ts = x->ts;
    pkt.src = *src;
    pkt.dst = *dst;
    pkt.sport = sport;
    pkt.dport = dport;
    pkt.proto = L4_TCP;
    pkt.tcp_flags = flags;
    pkt.tcp_seq = seq;
    pkt.sctp_ppid = 0;
    pkt.vlan = x->vlan;
    pkt.payload = span_make(s.p + hlen, s.len - hlen);
    d->deliver(d->user, &pkt);
    return;

malformed:
    COUNT(d->c, drop_tcp_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

/*
 * decode_udp.c - UDP (RFC 768): the length field is checked against the bytes the IP
 * layer says are there; datagrams to the VXLAN port go to the tunnel layer, all others
 * are delivered in place (the hot path of RTP: no copy, no allocation).
 */
#include "greffier/log.h"
#include "net_internal.h"

enum { UDP_HEADER_LEN = 8 };

void net_decode_udp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                    const struct ip_addr *dst, struct span s)
{
    const char *err;
    uint16_t sport, dport, ulen;
    struct l4_packet pkt;

    err = "short UDP header";
    if (s.len < UDP_HEADER_LEN)
        goto malformed;
    span_be16(s, 0, &sport);
    span_be16(s, 2, &dport);
    span_be16(s, 4, &ulen);
    err = "UDP length below header length";
    if (ulen < UDP_HEADER_LEN)
        goto malformed;
    err = "UDP length beyond the IP payload";
    if (ulen > s.len)
        goto truncated;

    if (d->limits.vxlan_port && dport == d->limits.vxlan_port) {
        net_decode_vxlan(d, x, span_make(s.p + UDP_HEADER_LEN, ulen - UDP_HEADER_LEN));
        return;
    }

    pkt.ts = x->ts;
    pkt.src = *src;
    pkt.dst = *dst;
    pkt.sport = sport;
    pkt.dport = dport;
    pkt.proto = L4_UDP;
    pkt.tcp_flags = 0;
    pkt.tcp_seq = 0;
    pkt.sctp_ppid = 0;
    pkt.vlan = x->vlan;
    pkt.payload = span_make(s.p + UDP_HEADER_LEN, ulen - UDP_HEADER_LEN); /* trims padding */
    d->deliver(d->user, &pkt);
    return;

truncated:
    COUNT(d->c, drop_truncated);
    log_limited(LOG_DEBUG, "net: %s", err);
    return;
malformed:
    COUNT(d->c, drop_udp_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

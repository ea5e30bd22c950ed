/*
 * decode_ipv4.c - IPv4 (RFC 791): header checks, Ethernet padding trimmed to the total
 * length, fragments to ipfrag.c, the whole payload to the transport or tunnel layer.
 *
 * The header checksum is deliberately not verified: mirror ports and local captures
 * often carry offloaded (not yet computed) checksums, and dropping them would lose calls.
 */
#include <string.h>

#include "greffier/log.h"
#include "net_internal.h"

enum {
    IPV4_MIN_HEADER = 20,
    IPV4_FLAG_MF = 0x2000,
    IPV4_FRAG_OFFSET_MASK = 0x1fff,
};

void net_decode_ipv4(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    const char *err;
    uint8_t vihl, proto;
    uint16_t total, ident, frag;
    size_t hlen;
    struct ip_addr src, dst;
    struct span payload;

    err = "short IPv4 header";
    if (s.len < IPV4_MIN_HEADER)
        goto truncated;
    span_u8(s, 0, &vihl);
    span_be16(s, 2, &total);
    span_be16(s, 4, &ident);
    span_be16(s, 6, &frag);
    span_u8(s, 9, &proto);
    hlen = (size_t)(vihl & 0x0f) * 4;

    err = "IPv4 version not 4";
    if (vihl >> 4 != 4)
        goto malformed;
    err = "IPv4 header length below 20";
    if (hlen < IPV4_MIN_HEADER)
        goto malformed;
    err = "short IPv4 options";
    if (hlen > s.len)
        goto truncated;
    /* A total length of 0 is what a capture on the sending host shows for a TCP
     * segmentation offload super-frame (Wireshark: "reported as 0, presumed to be
     * because of TCP segmentation offload"); take what was captured. */
    if (total == 0)
        total = (uint16_t)(s.len > 0xffff ? 0xffff : s.len);
    err = "IPv4 total length below header length";
    if (total < hlen)
        goto malformed;
    err = "IPv4 total length beyond captured bytes";
    if (total > s.len)
        goto truncated;
    span_sub(s, hlen, total - hlen, &payload); /* trims Ethernet padding */

    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    src.family = dst.family = 4;
    memcpy(src.a, s.p + 12, 4);
    memcpy(dst.a, s.p + 16, 4);

    if ((frag & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET_MASK)) == 0) {
        net_decode_ip_payload(d, x, proto, &src, &dst, payload);
        return;
    }

    /* RFC 791 §3.2: a fragment; the datagram is decoded once it is whole. */
    COUNT(d->c, ip_fragments);
    struct ipfrag_key k = {.src = src, .dst = dst, .id = ident, .proto = proto};
    struct ipfrag_datagram *dg = ipfrag_add(d->frag, &k, (size_t)(frag & IPV4_FRAG_OFFSET_MASK) * 8,
                                            (frag & IPV4_FLAG_MF) != 0, proto, payload, x->ts);
    if (dg) {
        net_decode_ip_payload(d, x, proto, &src, &dst, span_make(dg->data, dg->len));
        ipfrag_release(dg);
    }
    return;

truncated:
    COUNT(d->c, drop_truncated);
    log_limited(LOG_DEBUG, "net: %s", err);
    return;
malformed:
    COUNT(d->c, drop_ip_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

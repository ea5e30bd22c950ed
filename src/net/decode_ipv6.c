/*
 * decode_ipv6.c - IPv6 (RFC 8200): fixed header checks, the extension header chain
 * (hop-by-hop, routing, destination options, AH, fragment; RFC 8200 §4, RFC 4302),
 * fragments to ipfrag.c, the upper-layer payload to the transport or tunnel layer.
 */
#include <string.h>

#include "greffier/log.h"
#include "net_internal.h"

enum {
    IPV6_HEADER_LEN = 40,
    IPV6_FRAG_HEADER_LEN = 8,
    NH_HOPOPTS = 0,
    NH_ROUTING = 43,
    NH_FRAGMENT = 44,
    NH_AH = 51,
    NH_NONE = 59,
    NH_DSTOPTS = 60,
};

/* Walks the extension headers from next header nh over s.  reassembled is true for
 * the payload of a reassembled datagram, which may not hold a second fragment header. */
static void decode_chain(struct net_decoder *d, struct net_ctx *x, uint8_t nh,
                         const struct ip_addr *src, const struct ip_addr *dst, struct span s,
                         bool reassembled)
{
    const char *err;
    uint8_t next, hlen8;
    uint16_t offflags;
    uint32_t id;
    size_t len;

    for (int n = 0; n <= NET_MAX_IPV6_EXT_HEADERS; n++) {
        switch (nh) {
        case NH_HOPOPTS:
        case NH_ROUTING:
        case NH_DSTOPTS:
        case NH_AH:
            err = "short IPv6 extension header";
            if (!span_u8(s, 0, &next) || !span_u8(s, 1, &hlen8))
                goto malformed;
            /* RFC 8200 §4.3: 8-octet units not counting the first; AH (RFC 4302 §2.2)
             * counts 4-octet units minus two. */
            len = nh == NH_AH ? ((size_t)hlen8 + 2) * 4 : ((size_t)hlen8 + 1) * 8;
            err = "IPv6 extension header longer than the payload";
            if (!span_tail(s, len, &s))
                goto malformed;
            nh = next;
            break;
        case NH_FRAGMENT: {
            struct span data;
            err = "short IPv6 fragment header";
            if (!span_u8(s, 0, &next) || !span_be16(s, 2, &offflags) || !span_be32(s, 4, &id) ||
                !span_tail(s, IPV6_FRAG_HEADER_LEN, &data))
                goto malformed;
            size_t off = offflags & 0xfff8;
            bool more = (offflags & 1) != 0;
            if (off == 0 && !more) {
                /* RFC 6946: an atomic fragment is a whole datagram. */
                nh = next;
                s = data;
                break;
            }
            COUNT(d->c, ip_fragments);
            err = "IPv6 fragment inside a reassembled datagram";
            if (reassembled)
                goto malformed;
            struct ipfrag_key k = {.src = *src, .dst = *dst, .id = id, .proto = 0};
            struct ipfrag_datagram *dg = ipfrag_add(d->frag, &k, off, more, next, data, x->ts);
            if (dg) {
                decode_chain(d, x, dg->proto, src, dst, span_make(dg->data, dg->len), true);
                ipfrag_release(dg);
            }
            return;
        }
        case NH_NONE:
            COUNT(d->c, drop_ip_proto_other);
            return;
        default:
            net_decode_ip_payload(d, x, nh, src, dst, s);
            return;
        }
    }
    err = "too many IPv6 extension headers";

malformed:
    COUNT(d->c, drop_ip_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

void net_decode_ipv6(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    const char *err;
    uint8_t v, nh;
    uint16_t plen;
    struct ip_addr src, dst;
    struct span payload;

    err = "short IPv6 header";
    if (s.len < IPV6_HEADER_LEN)
        goto truncated;
    span_u8(s, 0, &v);
    span_be16(s, 4, &plen);
    span_u8(s, 6, &nh);
    err = "IPv6 version not 6";
    if (v >> 4 != 6)
        goto malformed;
    /* Zero is a jumbogram (RFC 2675) or a segmentation offload capture: take what
     * was captured. */
    if (plen == 0)
        plen = (uint16_t)(s.len - IPV6_HEADER_LEN > 0xffff ? 0xffff : s.len - IPV6_HEADER_LEN);
    err = "IPv6 payload length beyond captured bytes";
    if (!span_sub(s, IPV6_HEADER_LEN, plen, &payload))
        goto truncated;

    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    src.family = dst.family = 6;
    memcpy(src.a, s.p + 8, 16);
    memcpy(dst.a, s.p + 24, 16);
    decode_chain(d, x, nh, &src, &dst, payload, false);
    return;

truncated:
    COUNT(d->c, drop_truncated);
    log_limited(LOG_DEBUG, "net: %s", err);
    return;
malformed:
    COUNT(d->c, drop_ip_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

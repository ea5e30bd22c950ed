/*
 * decode_tunnel.c - tunnels that carry mirrored or routed traffic: GRE (RFC 2784 with
 * the key and sequence extensions of RFC 2890), ERSPAN types I, II and III carried in
 * GRE (draft-foschiano-erspan-03), IP-in-IP (RFC 2003, RFC 2473, RFC 4213) and VXLAN
 * (RFC 7348).  Each one strips its header and hands the inner packet back to the link
 * or IP layer; the nesting depth is bounded so that a frame of tunnels within tunnels
 * cannot recurse without end.
 */
#include "greffier/log.h"
#include "net_internal.h"

enum {
    GRE_FLAG_C = 0x8000, /* checksum and reserved1 present (RFC 2784 §2.1) */
    GRE_FLAG_R = 0x4000, /* routing present (RFC 1701 only, unsupported) */
    GRE_FLAG_K = 0x2000, /* key present (RFC 2890 §2.1) */
    GRE_FLAG_S = 0x1000, /* sequence number present (RFC 2890 §2.2) */
    GRE_VERSION_MASK = 0x0007,
    GRE_BASE_HEADER = 4,
    ERSPAN2_HEADER = 8,
    ERSPAN3_HEADER = 12,
    ERSPAN3_PLATFORM_SUBHEADER = 8,
    VXLAN_HEADER = 8,
    VXLAN_FLAG_I = 0x08,
};

/* Enters one more level of tunnel; false (and counted) past the bound. */
static bool tunnel_enter(struct net_decoder *d, struct net_ctx *x)
{
    if (x->depth >= NET_MAX_TUNNEL_DEPTH) {
        COUNT(d->c, drop_tunnel_malformed);
        log_limited(LOG_DEBUG, "net: tunnels nested deeper than %d", NET_MAX_TUNNEL_DEPTH);
        return false;
    }
    x->depth++;
    return true;
}

/* ERSPAN type II: version 1, then the mirrored Ethernet frame. */
static bool erspan2(struct span s, struct span *inner)
{
    uint8_t ver;
    return span_u8(s, 0, &ver) && ver >> 4 == 1 && span_tail(s, ERSPAN2_HEADER, inner);
}

/* ERSPAN type III: version 2; frame type 0 (Ethernet) is the only one switches send in
 * practice; the O flag adds an 8-byte platform-specific subheader. */
static bool erspan3(struct span s, struct span *inner)
{
    uint8_t ver, b10, b11;
    if (!span_u8(s, 0, &ver) || !span_u8(s, 10, &b10) || !span_u8(s, 11, &b11))
        return false;
    if (ver >> 4 != 2 || ((b10 >> 2) & 0x1f) != 0)
        return false;
    size_t hlen = ERSPAN3_HEADER + ((b11 & 0x01) ? ERSPAN3_PLATFORM_SUBHEADER : 0);
    return span_tail(s, hlen, inner);
}

void net_decode_gre(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    const char *err;
    uint16_t flags, proto;
    size_t hlen = GRE_BASE_HEADER;
    struct span inner;

    if (!tunnel_enter(d, x))
        return;
    err = "short GRE header";
    if (!span_be16(s, 0, &flags) || !span_be16(s, 2, &proto))
        goto malformed;
    err = "GRE version other than 0 or source routing";
    if ((flags & GRE_VERSION_MASK) != 0 || (flags & GRE_FLAG_R))
        goto malformed;
    hlen += (flags & GRE_FLAG_C) ? 4 : 0;
    hlen += (flags & GRE_FLAG_K) ? 4 : 0;
    hlen += (flags & GRE_FLAG_S) ? 4 : 0;
    err = "GRE header longer than the packet";
    if (!span_tail(s, hlen, &inner))
        goto malformed;

    switch (proto) {
    case NET_ETH_IPV4:
        COUNT(d->c, tunnel_decapsulated);
        net_decode_ipv4(d, x, inner);
        return;
    case NET_ETH_IPV6:
        COUNT(d->c, tunnel_decapsulated);
        net_decode_ipv6(d, x, inner);
        return;
    case NET_ETH_TEB:
        COUNT(d->c, tunnel_decapsulated);
        net_decode_ether(d, x, inner);
        return;
    case NET_ETH_ERSPAN2:
        /* Type I has no sequence number and no ERSPAN header; type II has both. */
        err = "bad ERSPAN type II header";
        if ((flags & GRE_FLAG_S) && !erspan2(inner, &inner))
            goto malformed;
        COUNT(d->c, tunnel_decapsulated);
        net_decode_ether(d, x, inner);
        return;
    case NET_ETH_ERSPAN3:
        err = "bad or unsupported ERSPAN type III header";
        if (!erspan3(inner, &inner))
            goto malformed;
        COUNT(d->c, tunnel_decapsulated);
        net_decode_ether(d, x, inner);
        return;
    default:
        err = "GRE protocol not supported";
        goto malformed;
    }

malformed:
    COUNT(d->c, drop_tunnel_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

void net_decode_ipip(struct net_decoder *d, struct net_ctx *x, uint8_t proto, struct span s)
{
    if (!tunnel_enter(d, x))
        return;
    COUNT(d->c, tunnel_decapsulated);
    if (proto == NET_IPPROTO_IPIP)
        net_decode_ipv4(d, x, s);
    else
        net_decode_ipv6(d, x, s);
}

void net_decode_vxlan(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    const char *err;
    uint8_t flags;
    struct span inner;

    if (!tunnel_enter(d, x))
        return;
    err = "short VXLAN header";
    if (!span_u8(s, 0, &flags) || !span_tail(s, VXLAN_HEADER, &inner))
        goto malformed;
    err = "VXLAN header without the I flag";
    if (!(flags & VXLAN_FLAG_I))
        goto malformed;
    COUNT(d->c, tunnel_decapsulated);
    net_decode_ether(d, x, inner);
    return;

malformed:
    COUNT(d->c, drop_tunnel_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

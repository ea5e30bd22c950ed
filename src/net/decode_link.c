/*
 * decode_link.c - link layers: Ethernet II with 802.1Q / 802.1ad / 0x9100 tags
 * (IEEE 802.1Q-2018 §9), Linux cooked capture v1 and v2 (tcpdump.org LINKTYPE_LINUX_SLL,
 * LINKTYPE_LINUX_SLL2), BSD null/loopback (LINKTYPE_NULL, LINKTYPE_LOOP) and raw IP.
 * Each finds the ethertype or IP version and hands the rest to the IP layer.
 */
#include "greffier/log.h"
#include "net_internal.h"

enum {
    ETH_HEADER_LEN = 14,
    VLAN_TAG_LEN = 4,
    SLL_HEADER_LEN = 16,
    SLL_PROTO_OFF = 14,
    SLL2_HEADER_LEN = 20,
    SLL2_PROTO_OFF = 0,
    NULL_HEADER_LEN = 4,
};

void net_decode_ethertype(struct net_decoder *d, struct net_ctx *x, uint16_t type, struct span s)
{
    switch (type) {
    case NET_ETH_IPV4:
        net_decode_ipv4(d, x, s);
        break;
    case NET_ETH_IPV6:
        net_decode_ipv6(d, x, s);
        break;
    default:
        COUNT(d->c, drop_ethertype_unsupported);
        break;
    }
}

void net_decode_ether(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    const char *err;
    uint16_t type, tci;
    size_t off = 12;

    err = "short Ethernet header";
    if (!span_be16(s, off, &type))
        goto truncated;
    off += 2;
    /* Tags stack (QinQ and deeper); the outermost one names the VLAN. */
    for (int tags = 0; type == NET_ETH_8021Q || type == NET_ETH_8021AD || type == NET_ETH_QINQ_OLD;
         tags++) {
        err = "too many VLAN tags";
        if (tags == NET_MAX_VLAN_TAGS)
            goto unsupported;
        err = "short VLAN tag";
        if (!span_be16(s, off, &tci) || !span_be16(s, off + 2, &type))
            goto truncated;
        if (!x->vlan_seen) {
            x->vlan = tci & 0x0fff;
            x->vlan_seen = true;
        }
        off += VLAN_TAG_LEN;
    }
    struct span rest;
    span_tail(s, off, &rest); /* cannot fail: off bytes were read above */
    net_decode_ethertype(d, x, type, rest);
    return;

truncated:
    COUNT(d->c, drop_truncated);
    log_limited(LOG_DEBUG, "net: %s", err);
    return;
unsupported:
    COUNT(d->c, drop_ethertype_unsupported);
    log_limited(LOG_DEBUG, "net: %s", err);
}

void net_decode_sll(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    uint16_t type;
    struct span rest;

    if (!span_be16(s, SLL_PROTO_OFF, &type) || !span_tail(s, SLL_HEADER_LEN, &rest)) {
        COUNT(d->c, drop_truncated);
        return;
    }
    net_decode_ethertype(d, x, type, rest);
}

void net_decode_sll2(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    uint16_t type;
    struct span rest;

    if (!span_be16(s, SLL2_PROTO_OFF, &type) || !span_tail(s, SLL2_HEADER_LEN, &rest)) {
        COUNT(d->c, drop_truncated);
        return;
    }
    net_decode_ethertype(d, x, type, rest);
}

/* The address family is in the byte order of the host that captured (DLT_NULL) or in
 * network order (DLT_LOOP); families are small, so a value above 0xffff was read in
 * the wrong order.  AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD,
 * 30 on macOS. */
void net_decode_null(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    uint32_t family;
    struct span rest;

    if (!span_be32(s, 0, &family) || !span_tail(s, NULL_HEADER_LEN, &rest)) {
        COUNT(d->c, drop_truncated);
        return;
    }
    if (family > 0xffff)
        span_le32(s, 0, &family);
    switch (family) {
    case 2:
        net_decode_ipv4(d, x, rest);
        break;
    case 10:
    case 24:
    case 28:
    case 30:
        net_decode_ipv6(d, x, rest);
        break;
    default:
        COUNT(d->c, drop_ethertype_unsupported);
        break;
    }
}

/* Raw IP: the version nibble says which. */
void net_decode_raw(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    uint8_t v;

    if (!span_u8(s, 0, &v)) {
        COUNT(d->c, drop_truncated);
        return;
    }
    if (v >> 4 == 4)
        net_decode_ipv4(d, x, s);
    else if (v >> 4 == 6)
        net_decode_ipv6(d, x, s);
    else
        COUNT(d->c, drop_ip_malformed);
}

void net_decode_raw4(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    net_decode_ipv4(d, x, s);
}

void net_decode_raw6(struct net_decoder *d, struct net_ctx *x, struct span s)
{
    net_decode_ipv6(d, x, s);
}

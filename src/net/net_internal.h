/*
 * net_internal.h - what the layers of the network decoder (src/net/decode_*.c,
 * ipfrag.c, decoder.c) share with one another.  Not a public interface: nothing
 * outside src/net/ includes it.
 *
 * Each layer takes the decoder, the per-frame context and a span of the bytes it
 * owns, and either hands the rest to the next layer or bumps one DROP counter.
 * Spans always point into the captured frame or into a reassembly buffer that
 * lives for the duration of the call; no layer copies a payload.
 */
#ifndef GREFFIER_NET_INTERNAL_H
#define GREFFIER_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/counters.h"
#include "greffier/net.h"
#include "greffier/packet.h"
#include "greffier/span.h"

/* Hostile frames may nest tunnels or tags without end; these bound the recursion. */
#define NET_MAX_TUNNEL_DEPTH 8
#define NET_MAX_VLAN_TAGS 8
#define NET_MAX_IPV6_EXT_HEADERS 16

/* Ethertypes (IEEE registry) handled by the decoder. */
enum {
    NET_ETH_IPV4 = 0x0800,
    NET_ETH_IPV6 = 0x86dd,
    NET_ETH_8021Q = 0x8100,
    NET_ETH_8021AD = 0x88a8,
    NET_ETH_QINQ_OLD = 0x9100,
    NET_ETH_TEB = 0x6558,     /* transparent Ethernet bridging over GRE */
    NET_ETH_ERSPAN2 = 0x88be, /* ERSPAN type I (no GRE sequence) and II */
    NET_ETH_ERSPAN3 = 0x22eb,
};

/* IP protocol numbers (IANA) the decoder follows. */
enum {
    NET_IPPROTO_IPIP = 4,
    NET_IPPROTO_TCP = 6,
    NET_IPPROTO_UDP = 17,
    NET_IPPROTO_IPV6 = 41,
    NET_IPPROTO_GRE = 47,
    NET_IPPROTO_SCTP = 132,
};

struct ipfrag_table;
struct sctp_reasm;

struct net_decoder {
    struct net_limits limits;
    struct counters *c;
    net_deliver_fn deliver;
    void *user;
    struct ipfrag_table *frag;
    struct sctp_reasm *sctp;
};

/* What one frame carries down the layers: its time, its outermost VLAN and how many
 * tunnels deep the current layer is. */
struct net_ctx {
    pkt_time_t ts;
    uint16_t vlan;
    bool vlan_seen;
    uint8_t depth;
};

/* decode_link.c */
void net_decode_ether(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_ethertype(struct net_decoder *d, struct net_ctx *x, uint16_t type, struct span s);
void net_decode_sll(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_sll2(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_null(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_raw(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_raw4(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_raw6(struct net_decoder *d, struct net_ctx *x, struct span s);

/* decode_ipv4.c, decode_ipv6.c */
void net_decode_ipv4(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_ipv6(struct net_decoder *d, struct net_ctx *x, struct span s);
/* The IP payload of protocol proto, whole (never a fragment): transport or tunnel. */
void net_decode_ip_payload(struct net_decoder *d, struct net_ctx *x, uint8_t proto,
                           const struct ip_addr *src, const struct ip_addr *dst, struct span s);

/* decode_udp.c, decode_tcp.c, decode_sctp.c */
void net_decode_udp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                    const struct ip_addr *dst, struct span s);
void net_decode_tcp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                    const struct ip_addr *dst, struct span s);
void net_decode_sctp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                     const struct ip_addr *dst, struct span s);

/* decode_sctp.c: messages split over several DATA chunks (RFC 9260 §6.9). */
struct sctp_reasm *sctp_reasm_new(const struct net_limits *limits, struct counters *c);
void sctp_reasm_free(struct sctp_reasm *r);
void sctp_reasm_expire(struct sctp_reasm *r, pkt_time_t now);

/* decode_tunnel.c */
void net_decode_gre(struct net_decoder *d, struct net_ctx *x, struct span s);
void net_decode_ipip(struct net_decoder *d, struct net_ctx *x, uint8_t proto, struct span s);
void net_decode_vxlan(struct net_decoder *d, struct net_ctx *x, struct span s);

/* ipfrag.c - IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 815, RFC 8200 §4.5). */
struct ipfrag_key {
    struct ip_addr src, dst; /* the family is the IP version */
    uint32_t id;             /* 16 bits for IPv4, 32 for IPv6 */
    uint8_t proto;           /* IPv4 protocol; 0 for IPv6 (RFC 8200 keys by src, dst, id) */
};

/* A reassembled datagram, detached from the table: the caller decodes data[0..len)
 * and then gives it back with ipfrag_release(). */
struct ipfrag_datagram {
    uint8_t *data;
    size_t len;
    uint8_t proto; /* IPv4 protocol, or the next header of IPv6's first fragment */
};

struct ipfrag_table *ipfrag_new(const struct net_limits *limits, struct counters *c);
void ipfrag_free(struct ipfrag_table *t);
/* Adds a fragment at byte offset off; more is the MF/M flag; proto is the protocol or
 * next header it announces.  Returns the completed datagram or NULL. */
struct ipfrag_datagram *ipfrag_add(struct ipfrag_table *t, const struct ipfrag_key *k, size_t off,
                                   bool more, uint8_t proto, struct span data, pkt_time_t ts);
void ipfrag_release(struct ipfrag_datagram *dg);
void ipfrag_expire(struct ipfrag_table *t, pkt_time_t now);

/* A fixed-seed FNV-1a step: the tables are bounded, so a crafted collision costs
 * time linear in the bound, never memory. */
static inline uint32_t net_hash_bytes(uint32_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

#define NET_HASH_SEED 2166136261u

static inline size_t net_addr_len(const struct ip_addr *a)
{
    return a->family == 6 ? 16 : 4;
}

#endif

/*
 * net.h - the network decoder: one captured frame in, zero or more transport
 * payloads out (UDP datagrams, TCP segments, SCTP DATA chunks).
 *
 * Layers, each in its own file under src/net/: link (Ethernet, Linux cooked v1/v2,
 * BSD null/loopback, raw IP), 802.1Q/QinQ, IPv4 (with fragment reassembly), IPv6
 * (with fragment reassembly), tunnels (GRE, ERSPAN II/III, IP-in-IP, VXLAN), UDP,
 * TCP, SCTP.  Every malformed or unsupported frame bumps a named DROP counter.
 */
#ifndef GREFFIER_NET_H
#define GREFFIER_NET_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/counters.h"
#include "greffier/packet.h"

typedef void (*net_deliver_fn)(void *user, const struct l4_packet *pkt);

struct net_limits {
    size_t frag_max_datagrams; /* datagrams being reassembled at once (default 1024) */
    size_t frag_max_bytes;     /* largest reassembled datagram (default 65535) */
    pkt_time_t frag_timeout;   /* microseconds of packet time (default 30 s) */
    uint16_t vxlan_port;       /* UDP port decoded as VXLAN (default 4789); 0 disables */
};

struct net_decoder;

struct net_decoder *net_decoder_new(const struct net_limits *limits, struct counters *counters,
                                    net_deliver_fn deliver, void *user);
void net_decoder_free(struct net_decoder *d);

/* Decodes one frame of the given pcap link type (DLT_*).  caplen is what was captured.
 * Calls deliver for every transport payload found. */
void net_decode(struct net_decoder *d, int linktype, pkt_time_t ts, const uint8_t *frame,
                size_t caplen);

/* Expires fragment state older than the timeout, in packet time. */
void net_expire(struct net_decoder *d, pkt_time_t now);

#endif

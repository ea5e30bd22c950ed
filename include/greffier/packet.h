/*
 * packet.h - what the network decoder hands to the classifier: one transport-layer
 * payload with its addresses and capture time.
 *
 * Ownership: payload bytes are borrowed (from the capture buffer or a reassembly
 * buffer) and are valid only during the callback that receives the packet.
 */
#ifndef GREFFIER_PACKET_H
#define GREFFIER_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "greffier/span.h"

/* Capture time in microseconds since the Unix epoch.  Inside the pipeline, time is
 * always packet time, never the wall clock, so imports are deterministic. */
typedef int64_t pkt_time_t;

struct ip_addr {
    uint8_t family; /* 4 or 6; 0 when unset */
    uint8_t a[16];  /* IPv4 in the first four bytes, the rest zero */
};

enum l4_proto {
    L4_UDP = 17,
    L4_TCP = 6,
    L4_SCTP = 132,
};

/* TCP flag bits as on the wire. */
enum {
    TCPF_FIN = 0x01,
    TCPF_SYN = 0x02,
    TCPF_RST = 0x04,
    TCPF_PSH = 0x08,
    TCPF_ACK = 0x10,
};

struct l4_packet {
    pkt_time_t ts;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;     /* enum l4_proto */
    uint8_t tcp_flags; /* TCP only */
    uint32_t tcp_seq;  /* TCP only */
    uint32_t sctp_ppid; /* SCTP DATA chunk only */
    uint16_t vlan;     /* outermost 802.1Q id, 0 when untagged */
    struct span payload;
};

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* Formats as dotted quad or RFC 5952 text into buf (at least 46 bytes); returns buf. */
char *ip_addr_format(const struct ip_addr *a, char *buf, unsigned long size);
/* Parses IPv4 or IPv6 text; false when it is neither. */
bool ip_addr_parse(const char *text, struct ip_addr *out);

#endif

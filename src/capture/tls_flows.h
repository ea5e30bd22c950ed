/*
 * tls_flows.h - SIP over TLS connections seen on the wire.  Their signalling cannot be
 * read passively, so their calls cannot be recorded: each connection is counted and
 * indexed (addresses, first/last seen, volume) so that an admin knows what is missing.
 */
#ifndef GREFFIER_CAPTURE_TLS_FLOWS_H
#define GREFFIER_CAPTURE_TLS_FLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/packet.h"

struct tls_flow_stats {
    struct ip_addr a, b; /* a is the lower endpoint, so both directions share an entry */
    uint16_t a_port, b_port;
    pkt_time_t first, last;
    uint64_t packets, bytes;
};

struct tls_flows;
struct tls_flows *tls_flows_new(size_t max_flows);
void tls_flows_free(struct tls_flows *t);
/* Accounts one segment; past max_flows the segment is still counted in the last slot. */
void tls_flows_note(struct tls_flows *t, const struct l4_packet *pkt, size_t bytes);
/* Hands every flow to fn and empties the table. */
void tls_flows_drain(struct tls_flows *t, void (*fn)(void *user, const struct tls_flow_stats *f),
                     void *user);

#endif

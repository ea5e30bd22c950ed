/*
 * tcp_stream.h - per-flow TCP reassembly for SIP over TCP.
 *
 * Segments arrive in capture order, possibly retransmitted, overlapping or out of
 * order; each direction of a connection (a flow) is rebuilt into an in-order byte
 * stream and offered to the consumer, which says how many bytes it used (a SIP
 * message is framed only once its Content-Length body is complete).  Unused bytes
 * stay buffered.  Capture that starts mid-connection (no SYN) is picked up at the
 * first segment.  Memory is bounded per flow and in total; anything dropped is counted.
 */
#ifndef GREFFIER_TCP_STREAM_H
#define GREFFIER_TCP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/counters.h"
#include "greffier/packet.h"

struct tcp_flow {
    struct ip_addr src, dst;
    uint16_t sport, dport;
    pkt_time_t last_seen;
    pkt_time_t first_seen;
    void *app;          /* consumer's per-flow state, freed through app_free */
};

/* Offered the flow's contiguous unconsumed bytes; returns how many it consumed (0..len).
 * ts is the capture time of the segment that completed the data. */
typedef size_t (*tcp_data_fn)(void *user, struct tcp_flow *flow, pkt_time_t ts,
                              const uint8_t *data, size_t len);
typedef void (*tcp_app_free_fn)(void *app);

struct tcp_limits {
    size_t max_flows;         /* default 65536 */
    size_t max_flow_buffer;   /* unconsumed + out-of-order bytes per flow (default 256 KiB) */
    pkt_time_t idle_timeout;  /* microseconds (default 300 s) */
};

struct tcp_reassembler;

struct tcp_reassembler *tcp_reassembler_new(const struct tcp_limits *limits,
                                            struct counters *counters, tcp_data_fn on_data,
                                            tcp_app_free_fn app_free, void *user);
void tcp_reassembler_free(struct tcp_reassembler *r);
void tcp_reassembler_segment(struct tcp_reassembler *r, const struct l4_packet *seg);
/* True when the segment belongs to a flow being reassembled (either direction
 * not needed: each direction is its own flow). */
bool tcp_reassembler_has_flow(const struct tcp_reassembler *r, const struct l4_packet *seg);
/* Drops flows idle longer than the timeout (packet time). */
void tcp_reassembler_expire(struct tcp_reassembler *r, pkt_time_t now);

#endif

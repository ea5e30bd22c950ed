/*
 * rtp.h - the per-stream part of the media stage: RTP/RTCP parsing, per-stream
 * statistics and quality estimate, a bounded reorder buffer, RFC 4733 DTMF events and
 * RTCP reports.  SRTP decryption is in srtp_keys.h.
 *
 * Nothing here knows about calls or SDP: the integrator matches a datagram to a stream
 * (addresses, ports, SSRC) and to its codec, and owns one rtp_stats, one rtp_reorder and
 * one dtmf_tracker per stream.  No function allocates per packet; only the _new functions
 * allocate.  Time is packet time in microseconds (pkt_time_t), never the wall clock.
 *
 * References: RFC 3550 (RTP, §5.1 header, §6.4 SR/RR, A.1 sequence, A.8 jitter),
 * RFC 5761 §4 (RTP/RTCP on one port), RFC 4733 (telephone-event), ITU-T G.107 / G.113
 * (E-model, see docs/QUALITY.md).
 */
#ifndef GREFFIER_RTP_H
#define GREFFIER_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/codec.h"
#include "greffier/counters.h"
#include "greffier/packet.h"
#include "greffier/span.h"

/* ---- parsing (src/rtp/rtp_parse.c) ---- */

enum { RTP_HEADER_LEN = 12, RTP_MAX_CSRC = 15 };

struct rtp_packet {
    uint8_t payload_type; /* 0..127 */
    bool marker;
    bool padding;   /* the P bit was set; pad_len bytes were stripped */
    bool extension; /* the X bit was set; ext holds the extension data */
    uint8_t csrc_count;
    uint8_t pad_len;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    uint16_t ext_profile; /* "defined by profile" field of the header extension */
    struct span ext;      /* header extension data (after its 4-byte header); may be empty */
    size_t header_len;    /* fixed header + CSRCs + extension */
    struct span payload;  /* borrowed from the datagram, padding removed */
};

/* Parses an RTP header (RFC 3550 §5.1).  On failure returns false and sets *err to the
 * reason (a static string); out is then unspecified.  The payload may be empty (a
 * packet of padding only, used as keep-alive).  Does not check that the datagram is not
 * RTCP: call rtp_is_rtcp() first when both share a port. */
bool rtp_parse(struct span datagram, struct rtp_packet *out, const char **err);

/* RFC 5761 §4: version 2 and a second octet in 192..223 (RTCP packet types; as RTP,
 * marker set and payload type 64..95, which RTP must not use).  Cheap: two bytes. */
bool rtp_is_rtcp(struct span datagram);

/* Heuristic for streams no SDP announced: at least a fixed header, version 2, and a
 * payload type outside 72..76 (what RTCP SR/RR/SDES/BYE/APP look like with the marker
 * masked).  Many non-RTP datagrams pass: callers must also require a few packets in
 * sequence on the same SSRC before believing it (the stats' `valid` does that). */
bool rtp_plausible(struct span datagram);

/* ---- statistics (src/rtp/rtp_stats.c) ---- */

/* What rtp_stats_update made of a packet. */
enum rtp_seq_class {
    RTP_SEQ_IN_ORDER = 0, /* next in sequence, or ahead of it (a gap: loss so far) */
    RTP_SEQ_REORDERED,    /* behind the highest seen, not seen before */
    RTP_SEQ_DUPLICATE,    /* this sequence number was already received */
    RTP_SEQ_JUMP,         /* a big jump, not (yet) confirmed: not counted as received */
    RTP_SEQ_RESTART,      /* the second packet after a jump, or a new SSRC: a new run */
};

struct rtp_stats {
    /* identity */
    uint32_t ssrc;
    uint32_t ssrc_changes; /* times the SSRC differed from the previous packet's */
    bool valid;            /* two consecutive sequence numbers seen on the current SSRC
                              (RFC 3550 A.1 MIN_SEQUENTIAL): it looks like a real stream */
    uint64_t pt_seen[2];   /* bit n set: payload type n was seen */

    /* volume */
    uint64_t packets;    /* every packet given to rtp_stats_update */
    uint64_t bytes;      /* payload bytes of those packets */
    uint64_t received;   /* packets counted against `expected` (not duplicates or jumps) */
    uint64_t expected;   /* RFC 3550 A.3, summed over every run (SSRC or seq restart) */
    uint64_t duplicates; /* sequence number already received (within the last 128) */
    uint64_t reordered;  /* arrived behind the highest sequence number seen */
    uint64_t seq_jumps;  /* jumps of more than 3000 forward or 100 back (A.1) */
    uint64_t restarts;   /* runs started again after a confirmed jump or an SSRC change */

    /* timing */
    pkt_time_t first_arrival, last_arrival;
    pkt_time_t max_gap_us; /* longest time between two consecutive arrivals */
    double jitter;         /* RFC 3550 A.8, in RTP timestamp units of jitter_clock */
    uint32_t jitter_clock; /* clock rate of the last packet used for jitter (0: none) */
    uint32_t ts_step;      /* last timestamp step between consecutive sequence numbers */

    /* RFC 3550 A.1 state, private to rtp_stats.c */
    struct {
        bool started;
        bool bad_seq_set;
        uint16_t max_seq;
        uint16_t bad_seq;
        uint64_t cycles;   /* starts at 1 << 16 so a packet just before the first stays >= 0 */
        uint64_t base_ext; /* extended base sequence number of the current run */
        uint64_t run_expected_prior, run_received_prior; /* totals of finished runs */
        uint64_t run_received;
        uint64_t window[2]; /* bit i: max_ext - i was received (duplicate detection) */
        uint32_t last_ts;
        uint8_t last_pt;
        bool have_transit;
        int64_t last_arrival_units; /* arrival of the previous timing packet, RTP units */
        uint32_t last_timing_ts;
    } a1;
};

void rtp_stats_init(struct rtp_stats *s);

/* Accounts one packet, in arrival order (before the reorder buffer: jitter and reordering
 * are properties of the arrivals).  clock_rate is the RTP clock of the packet's payload
 * type (from the rtpmap, e.g. 8000); pass 0 for packets that must not feed the jitter
 * estimate, such as RFC 4733 events, whose timestamp is the start of the event, not of
 * the packet. */
enum rtp_seq_class rtp_stats_update(struct rtp_stats *s, const struct rtp_packet *pkt,
                                    pkt_time_t arrival, uint32_t clock_rate);

/* expected - received, never negative. */
uint64_t rtp_stats_lost(const struct rtp_stats *s);
/* Lost packets in percent of expected (0 when nothing was expected). */
double rtp_stats_loss_percent(const struct rtp_stats *s);
/* The A.8 jitter converted to milliseconds with the clock it was measured in. */
double rtp_stats_jitter_ms(const struct rtp_stats *s);
/* Packetisation in ms from the last timestamp step (20 when unknown). */
double rtp_stats_ptime_ms(const struct rtp_stats *s);
bool rtp_stats_pt_seen(const struct rtp_stats *s, uint8_t pt);

/* Estimated MOS-CQ (1.0..4.5) from the simplified E-model of docs/QUALITY.md:
 * R = 93.2 - Id(delay) - Ie_eff(codec, loss), MOS from R by ITU-T G.107 Annex B. */
double rtp_emodel_mos(enum codec_id codec, double loss_percent, double one_way_delay_ms);
/* The delay the E-model is given: 2 x jitter (a jitter buffer) + packetisation + codec
 * look-ahead; the network transit is invisible to a passive recorder. */
double rtp_stats_delay_ms(const struct rtp_stats *s, enum codec_id codec);
/* rtp_emodel_mos with this stream's loss and delay. */
double rtp_stats_mos(const struct rtp_stats *s, enum codec_id codec);

/* ---- reorder buffer (src/rtp/reorder.c) ---- */

/* A bounded buffer that releases packets in sequence order.  Slots are preallocated;
 * push copies the payload into a free slot.  The head (lowest sequence number) leaves
 * when it is the next expected one, when the buffer is full, when it has waited
 * max_wait, or on drain.  A packet behind the last one released is late and dropped,
 * never reordered into the past.  Protocol: push one packet, then pop until pop returns
 * false; drain at the end of the stream. */
struct rtp_reorder;

struct rtp_reorder_stats {
    uint64_t pushed;     /* packets given to push */
    uint64_t released;   /* packets returned by pop/drain */
    uint64_t lost;       /* sequence numbers skipped when releasing past a gap */
    uint64_t late;       /* dropped: behind the last released */
    uint64_t duplicates; /* dropped: same sequence number as one held or released */
    uint64_t oversized;  /* dropped: payload larger than max_payload */
    uint64_t overflow;   /* dropped: pushed into a full buffer without popping */
    uint64_t stray;      /* dropped: a jump of the sequence that the next packet did not
                            confirm (RFC 3550 A.1) */
    uint64_t restarts;   /* sequence restarts: new SSRC, or a jump confirmed */
    uint64_t released_full, released_timeout; /* releases forced past a gap, by cause */
};

enum rtp_reorder_result {
    RTP_REORDER_QUEUED = 0,
    RTP_REORDER_LATE,
    RTP_REORDER_DUPLICATE,
    RTP_REORDER_OVERSIZED,
    RTP_REORDER_OVERFLOW,
};

struct rtp_reorder_out {
    struct rtp_packet pkt; /* header fields; payload points into the buffer's slot and is
                              valid until the next push, reset or free (ext is empty) */
    pkt_time_t arrival;
    uint32_t lost_before; /* sequence numbers skipped just before this packet */
    bool discontinuity;   /* first packet after a sequence restart: lost_before is 0 and
                             the timestamp may not follow the previous packet's */
};

/* slots: 2..1024 packets held at most (e.g. 8 or 16: 160-320 ms at 20 ms ptime);
 * max_payload: largest payload copied (e.g. 1500; bigger ones are dropped);
 * max_wait: how long a packet waits for a missing predecessor, in packet time (µs);
 * counters: optional (NULL), bumped for every drop (drop_rtp_late, ...).
 * Returns NULL on allocation failure or invalid sizes. */
struct rtp_reorder *rtp_reorder_new(unsigned slots, size_t max_payload, pkt_time_t max_wait,
                                    struct counters *counters);
void rtp_reorder_free(struct rtp_reorder *r);
/* Forgets every held packet and the sequence state (e.g. the stream was re-matched). */
void rtp_reorder_reset(struct rtp_reorder *r);

enum rtp_reorder_result rtp_reorder_push(struct rtp_reorder *r, const struct rtp_packet *pkt,
                                         pkt_time_t arrival);
/* Releases the next packet if its time has come at `now`; false when none may leave yet. */
bool rtp_reorder_pop(struct rtp_reorder *r, pkt_time_t now, struct rtp_reorder_out *out);
/* Releases the next held packet whatever the gap (end of stream); false when empty. */
bool rtp_reorder_drain(struct rtp_reorder *r, struct rtp_reorder_out *out);
unsigned rtp_reorder_held(const struct rtp_reorder *r);
const struct rtp_reorder_stats *rtp_reorder_stats(const struct rtp_reorder *r);

/* ---- RFC 4733 telephone events (src/rtp/dtmf.c) ---- */

struct dtmf_payload {
    uint8_t event;     /* 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash, others as is */
    bool end;          /* E bit */
    uint8_t volume;    /* 0..63, -dBm0 */
    uint16_t duration; /* RTP timestamp units since the event's timestamp */
};

/* Parses the first 4-byte event block of an RFC 4733 §2.3 payload. */
bool dtmf_parse(struct span payload, struct dtmf_payload *out, const char **err);
/* '0'-'9', '*', '#', 'A'-'D', '!' for flash (16); '?' for any other event code. */
char dtmf_event_char(uint8_t event);

/* One key press, reported once. */
struct dtmf_event {
    uint8_t event;
    char symbol; /* dtmf_event_char(event) */
    uint8_t volume;
    bool ended; /* an end packet was seen (else: cut short by the next event,
                   a timeout or the end of the stream) */
    uint32_t ssrc;
    uint32_t start_ts;        /* RTP timestamp of the event (its start) */
    uint32_t duration;        /* RTP timestamp units (the longest duration seen) */
    pkt_time_t first_arrival; /* arrival of its first packet */
};

/* Per-stream tracker: feed it every packet of the stream's telephone-event payload type
 * (from the SDP rtpmap), in arrival order or out of the reorder buffer, and keep those
 * packets out of the audio decoder (they share the sequence numbers).  An event is
 * identified by its RTP timestamp (RFC 4733 §2.5.1.2); its end packet, sent three times
 * (§2.5.1.4), is reported once; packets of an event already reported are ignored. */
struct dtmf_tracker {
    bool active;
    struct dtmf_event cur;
    pkt_time_t last_arrival;
    bool have_done;
    uint32_t done_ssrc, done_ts; /* the last event reported */
    uint64_t malformed;          /* payloads that dtmf_parse rejected */
};

void dtmf_tracker_init(struct dtmf_tracker *t);
/* Returns how many events were completed by this packet (0, 1 or 2: a pending event cut
 * short by a new one that ends at once) and writes them to out[] in order; -1 when the
 * payload is malformed (counted in t->malformed). */
int dtmf_tracker_push(struct dtmf_tracker *t, const struct rtp_packet *pkt, pkt_time_t arrival,
                      struct dtmf_event out[2]);
/* Reports an event whose end never came once no packet arrived for `timeout` µs of packet
 * time.  Returns 1 and fills *out, or 0. */
int dtmf_tracker_expire(struct dtmf_tracker *t, pkt_time_t now, pkt_time_t timeout,
                        struct dtmf_event *out);
/* End of stream: reports a pending event.  Returns 1 and fills *out, or 0. */
int dtmf_tracker_flush(struct dtmf_tracker *t, struct dtmf_event *out);

/* ---- RTCP (src/rtp/rtcp.c) ---- */

enum { RTCP_MAX_REPORTS = 8 };

enum rtcp_type {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
};

struct rtcp_report_block {
    uint32_t reporter_ssrc;  /* the SR/RR sender that wrote this block */
    uint32_t ssrc;           /* the source reported on */
    uint8_t fraction_lost;   /* lost since the last report, in 1/256 */
    int32_t cumulative_lost; /* 24-bit signed on the wire (negative with duplicates) */
    uint32_t ext_highest_seq;
    uint32_t jitter;    /* RTP timestamp units */
    uint32_t lsr, dlsr; /* last SR (middle 32 bits of NTP), delay since it (1/65536 s) */
};

struct rtcp_info {
    bool has_sr;
    uint32_t sr_ssrc;
    uint64_t sr_ntp; /* 32.32 fixed point, seconds since 1900 */
    uint32_t sr_rtp_ts;
    uint32_t sr_packets, sr_octets;
    bool has_rr;
    uint32_t rr_ssrc;
    unsigned n_reports;       /* blocks stored in reports[] */
    unsigned reports_skipped; /* blocks beyond RTCP_MAX_REPORTS */
    struct rtcp_report_block reports[RTCP_MAX_REPORTS];
    unsigned n_packets; /* packets in the compound */
    unsigned n_sdes, n_bye, n_app, n_other;
    unsigned trailing_bytes; /* 1-3 zero bytes after the last packet (tolerated) */
};

/* Parses a compound RTCP datagram (RFC 3550 §6.1, validity checks of A.2): every
 * packet version 2, every length inside the datagram and the lengths adding up to it,
 * padding only on the last packet, report counts that fit their packet (1-3 zero bytes
 * after the last packet, seen from real stacks, are tolerated).  A first packet
 * other than SR/RR is accepted (RFC 5506 reduced-size RTCP).  SDES, BYE, APP and unknown
 * types are counted and skipped.  On failure returns false with *err set. */
bool rtcp_parse(struct span datagram, struct rtcp_info *out, const char **err);

#endif

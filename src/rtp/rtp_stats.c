/*
 * rtp_stats.c - per-stream statistics: sequence accounting after RFC 3550 A.1 (extended
 * sequence numbers, wraparound, restart after a confirmed big jump), expected and lost
 * packets (A.3), duplicates and reordering, interarrival jitter (A.8), arrival gaps, and
 * a MOS estimate from a simplified ITU-T G.107 E-model with G.113 Appendix I codec
 * values.  docs/QUALITY.md explains the numbers to the people who read them.
 *
 * Two departures from A.1, both because a recorder must account for every packet of a
 * stream it already matched to a call: there is no probation at the start (the first
 * packet counts; `valid` tells when two in sequence were seen), and a run that ends (new
 * SSRC, confirmed jump) adds its expected/received packets to the totals instead of
 * resetting them.
 */
#include <math.h>
#include <string.h>

#include "greffier/rtp.h"

enum {
    MAX_DROPOUT = 3000, /* A.1: a jump forward smaller than this is loss */
    MAX_MISORDER = 100, /* A.1: a step back smaller than this is reordering */
    SEQ_MOD = 1 << 16,
    DUP_WINDOW = 128, /* bits of a1.window; > MAX_MISORDER so every reordered seq fits */
};

void rtp_stats_init(struct rtp_stats *s)
{
    memset(s, 0, sizeof(*s));
}

static uint64_t ext_max(const struct rtp_stats *s)
{
    return s->a1.cycles + s->a1.max_seq;
}

static void refresh_totals(struct rtp_stats *s)
{
    s->expected = s->a1.run_expected_prior + (ext_max(s) - s->a1.base_ext + 1);
    s->received = s->a1.run_received_prior + s->a1.run_received;
}

/* Starts a run at seq (A.1 init_seq), folding the finished run into the totals.  cycles
 * starts at SEQ_MOD rather than 0 so that a reordered packet from before the first one
 * still has a non-negative extended number. */
static void run_start(struct rtp_stats *s, uint16_t seq)
{
    if (s->a1.started) {
        s->a1.run_expected_prior += ext_max(s) - s->a1.base_ext + 1;
        s->a1.run_received_prior += s->a1.run_received;
    }
    s->a1.started = true;
    s->a1.max_seq = seq;
    s->a1.cycles = SEQ_MOD;
    s->a1.base_ext = SEQ_MOD + (uint64_t)seq;
    s->a1.run_received = 0;
    s->a1.window[0] = s->a1.window[1] = 0;
    s->a1.bad_seq_set = false;
}

/* Bit i of the 128-bit window stands for extended sequence number max - i. */
static void window_advance(struct rtp_stats *s, unsigned n)
{
    uint64_t *w = s->a1.window;

    if (n >= DUP_WINDOW) {
        w[0] = w[1] = 0;
    } else if (n >= 64) {
        w[1] = w[0] << (n - 64);
        w[0] = 0;
    } else if (n > 0) {
        w[1] = (w[1] << n) | (w[0] >> (64 - n));
        w[0] <<= n;
    }
    w[0] |= 1;
}

static bool window_test_set(struct rtp_stats *s, unsigned back)
{
    uint64_t *w = &s->a1.window[back / 64];
    uint64_t bit = (uint64_t)1 << (back % 64);
    bool seen = (*w & bit) != 0;

    *w |= bit;
    return seen;
}

/* The next packet in order (or after a gap of fewer than MAX_DROPOUT). */
static void advance(struct rtp_stats *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->a1.max_seq);

    if (seq < s->a1.max_seq)
        s->a1.cycles += SEQ_MOD; /* wrapped */
    s->a1.max_seq = seq;
    window_advance(s, udelta);
    s->a1.run_received++;
    if (udelta == 1)
        s->valid = true;
}

static enum rtp_seq_class account_seq(struct rtp_stats *s, const struct rtp_packet *pkt)
{
    uint16_t seq = pkt->seq, udelta;

    if (!s->a1.started || pkt->ssrc != s->ssrc) {
        enum rtp_seq_class cls = RTP_SEQ_IN_ORDER;
        if (s->a1.started) {
            s->ssrc_changes++;
            s->restarts++;
            s->valid = false;
            s->a1.have_transit = false; /* a new source has its own timestamp origin */
            cls = RTP_SEQ_RESTART;
        }
        s->ssrc = pkt->ssrc;
        run_start(s, seq);
        window_advance(s, 0);
        s->a1.run_received = 1;
        return cls;
    }

    udelta = (uint16_t)(seq - s->a1.max_seq);
    if (udelta == 0)
        return RTP_SEQ_DUPLICATE;
    if (udelta < MAX_DROPOUT) {
        advance(s, seq);
        return RTP_SEQ_IN_ORDER;
    }
    if (udelta <= SEQ_MOD - MAX_MISORDER) {
        /* A big jump: believed only when the next packet follows it (A.1 bad_seq).  The
         * new run then starts at the jumped packet, which is counted after all. */
        if (s->a1.bad_seq_set && seq == s->a1.bad_seq) {
            s->restarts++;
            run_start(s, (uint16_t)(seq - 1));
            window_advance(s, 0);
            s->a1.run_received = 1;
            advance(s, seq);
            return RTP_SEQ_RESTART;
        }
        s->seq_jumps++;
        s->a1.bad_seq = (uint16_t)(seq + 1);
        s->a1.bad_seq_set = true;
        return RTP_SEQ_JUMP;
    }

    /* Behind the highest by 1..MAX_MISORDER-1. */
    unsigned back = SEQ_MOD - udelta;
    if (window_test_set(s, back))
        return RTP_SEQ_DUPLICATE;
    if (ext_max(s) - back < s->a1.base_ext)
        s->a1.base_ext = ext_max(s) - back; /* older than the first packet of the run */
    s->a1.run_received++;
    s->reordered++;
    return RTP_SEQ_REORDERED;
}

/* RFC 3550 A.8: D(i-1,i) = (R_i - R_{i-1}) - (S_i - S_{i-1}) in timestamp units, over
 * packets in arrival order; J += (|D| - J) / 16.  Arrival times are converted to the
 * stream's clock relative to the first arrival (truncated to whole units, as the RFC's
 * integer arrival clock would be), so 64 bits never overflow. */
static void update_jitter(struct rtp_stats *s, const struct rtp_packet *pkt, pkt_time_t arrival,
                          uint32_t clock)
{
    int64_t since, units;

    /* Hostile capture times or clock rates must not overflow: beyond 2^39 µs (6 days)
     * from the first packet, or a clock above 2^23 Hz, there is no estimate. */
    if (__builtin_sub_overflow(arrival, s->first_arrival, &since) || since > (INT64_C(1) << 39) ||
        since < -(INT64_C(1) << 39) || clock > (1u << 23)) {
        s->a1.have_transit = false;
        return;
    }
    units = since * (int64_t)clock / 1000000;

    if (clock != s->jitter_clock) {
        /* Another clock (payload type change): keep the estimate, in the new units. */
        if (s->jitter_clock)
            s->jitter = s->jitter * clock / s->jitter_clock;
        s->jitter_clock = clock;
        s->a1.have_transit = false;
    }
    if (s->a1.have_transit) {
        int64_t d = (units - s->a1.last_arrival_units) -
                    (int64_t)(int32_t)(pkt->timestamp - s->a1.last_timing_ts);
        if (d < 0)
            d = -d;
        s->jitter += ((double)d - s->jitter) / 16.0;
    }
    s->a1.have_transit = true;
    s->a1.last_arrival_units = units;
    s->a1.last_timing_ts = pkt->timestamp;
}

enum rtp_seq_class rtp_stats_update(struct rtp_stats *s, const struct rtp_packet *pkt,
                                    pkt_time_t arrival, uint32_t clock_rate)
{
    enum rtp_seq_class cls;
    uint16_t prev_max = s->a1.max_seq;
    bool was_started = s->a1.started;

    s->packets++;
    s->bytes += pkt->payload.len;
    s->pt_seen[pkt->payload_type >> 6 & 1] |= (uint64_t)1 << (pkt->payload_type & 63);
    if (s->packets == 1) {
        s->first_arrival = arrival;
    } else {
        pkt_time_t gap;
        if (!__builtin_sub_overflow(arrival, s->last_arrival, &gap) && gap > s->max_gap_us)
            s->max_gap_us = gap;
    }
    s->last_arrival = arrival;

    cls = account_seq(s, pkt);
    if (cls == RTP_SEQ_DUPLICATE)
        s->duplicates++;
    refresh_totals(s);
    if (clock_rate == 0 || cls == RTP_SEQ_DUPLICATE || cls == RTP_SEQ_JUMP)
        return cls;

    if (cls == RTP_SEQ_RESTART)
        s->a1.have_transit = false; /* new run: the timestamps start elsewhere */
    update_jitter(s, pkt, arrival, clock_rate);

    /* Packetisation: the timestamp step between consecutive sequence numbers of one
     * payload type, ignoring talkspurt starts (marker) where silence was suppressed. */
    if (cls == RTP_SEQ_IN_ORDER && was_started && (uint16_t)(pkt->seq - prev_max) == 1 &&
        pkt->payload_type == s->a1.last_pt && !pkt->marker) {
        uint32_t step = pkt->timestamp - s->a1.last_ts;
        if (step > 0 && step <= clock_rate / 4)
            s->ts_step = step;
    }
    if (cls != RTP_SEQ_REORDERED) {
        s->a1.last_ts = pkt->timestamp;
        s->a1.last_pt = pkt->payload_type;
    }
    return cls;
}

uint64_t rtp_stats_lost(const struct rtp_stats *s)
{
    return s->expected > s->received ? s->expected - s->received : 0;
}

double rtp_stats_loss_percent(const struct rtp_stats *s)
{
    if (s->expected == 0)
        return 0.0;
    return 100.0 * (double)rtp_stats_lost(s) / (double)s->expected;
}

double rtp_stats_jitter_ms(const struct rtp_stats *s)
{
    if (s->jitter_clock == 0)
        return 0.0;
    return s->jitter * 1000.0 / s->jitter_clock;
}

double rtp_stats_ptime_ms(const struct rtp_stats *s)
{
    if (s->ts_step == 0 || s->jitter_clock == 0)
        return 20.0;
    return s->ts_step * 1000.0 / s->jitter_clock;
}

bool rtp_stats_pt_seen(const struct rtp_stats *s, uint8_t pt)
{
    pt &= 0x7f;
    return (s->pt_seen[pt >> 6] >> (pt & 63)) & 1;
}

/* ---- E-model ----
 *
 * ITU-T G.107 with its default parameters gives R = 93.2 - Id - Ie_eff (+ A = 0).
 * Ie_eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl), with random loss (BurstR = 1)
 * and Ie/Bpl from G.113 Appendix I.  Id uses the usual simplification of G.107's delay
 * terms (Cole & Rosenbluth, 2001): Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3), with d
 * the one-way delay in ms.  MOS = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6 (G.107 Annex
 * B), clamped to 1..4.5.  Everything is on the narrowband scale (R max 93.2, MOS max
 * 4.41), wideband codecs included, so that all calls compare on one scale. */

struct emodel_codec {
    enum codec_id id;
    double ie;           /* equipment impairment factor */
    double bpl;          /* packet-loss robustness factor */
    double lookahead_ms; /* algorithmic delay beyond the frame itself */
};

static const struct emodel_codec emodel_codecs[] = {
    /* G.711 with the PLC of G.711 Appendix I (G.113 App. I: Bpl 25.1; 4.3 without PLC).
     * PLC is in every current phone and gateway, so it is assumed. */
    {CODEC_PCMU, 0.0, 25.1, 0.0},
    {CODEC_PCMA, 0.0, 25.1, 0.0},
    /* G.722: G.113 gives it only on the wideband scale (Ie,wb), which is not comparable
     * with narrowband R; on the narrowband scale it is at least as good as G.711, so it
     * gets G.711's values.  1.5 ms: its QMF filter delay. */
    {CODEC_G722, 0.0, 25.1, 1.5},
    /* G.729(A) (with VAD in G.113): Ie 11, Bpl 19; 5 ms look-ahead. */
    {CODEC_G729, 11.0, 19.0, 5.0},
    /* Opus has no G.113 values.  Its in-band FEC and PLC do better than G.711's PLC;
     * G.711+PLC values are used as a conservative stand-in.  6.5 ms look-ahead (SILK/CELT
     * default at 20 ms frames, RFC 6716). */
    {CODEC_OPUS, 0.0, 25.1, 6.5},
    /* Linear PCM: no coding impairment; loss concealed by the endpoint as for G.711. */
    {CODEC_L16, 0.0, 25.1, 0.0},
};

static const struct emodel_codec *emodel_lookup(enum codec_id codec)
{
    for (size_t i = 0; i < sizeof(emodel_codecs) / sizeof(emodel_codecs[0]); i++)
        if (emodel_codecs[i].id == codec)
            return &emodel_codecs[i];
    return &emodel_codecs[0]; /* unknown or not audio: G.711's values */
}

double rtp_emodel_mos(enum codec_id codec, double loss_percent, double delay_ms)
{
    const struct emodel_codec *c = emodel_lookup(codec);
    double ppl = loss_percent, d = delay_ms, id, ie_eff, r, mos;

    if (!(ppl > 0.0)) /* also catches NaN */
        ppl = 0.0;
    if (ppl > 100.0)
        ppl = 100.0;
    if (!(d > 0.0))
        d = 0.0;
    id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0.0);
    ie_eff = c->ie + (95.0 - c->ie) * ppl / (ppl + c->bpl);
    r = 93.2 - id - ie_eff;
    if (r <= 0.0)
        return 1.0;
    if (r >= 100.0)
        return 4.5;
    mos = 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
    return mos < 1.0 ? 1.0 : mos > 4.5 ? 4.5 : mos;
}

double rtp_stats_delay_ms(const struct rtp_stats *s, enum codec_id codec)
{
    return 2.0 * rtp_stats_jitter_ms(s) + rtp_stats_ptime_ms(s) +
           emodel_lookup(codec)->lookahead_ms;
}

double rtp_stats_mos(const struct rtp_stats *s, enum codec_id codec)
{
    return rtp_emodel_mos(codec, rtp_stats_loss_percent(s), rtp_stats_delay_ms(s, codec));
}

/*
 * stream.c - one RTP stream of a call: SRTP, statistics, reordering, DTMF, decoding and
 * placement on the call's timeline.
 *
 * Placement (the recording's timeline is the call's timeline): the first packet of a
 * stream is placed where its capture time falls; the following ones by their RTP
 * timestamps, which keep the audio continuous whatever the network jitter.  Two
 * corrections keep it honest over hours:
 *   - clock drift: over every window of WINDOW packets the smallest difference between
 *     where the capture time and where the RTP timestamp would put a packet is the
 *     drift plus the fastest packet's delay; when it exceeds DRIFT_MS the anchor moves
 *     by it, so a sender whose clock runs 100 ppm off stays within ~10 ms;
 *   - a talkspurt after silence whose RTP timestamp did not follow the silence (some
 *     stacks stop the clock) is re-anchored on its capture time at once.
 * Gaps (loss, hold, silence suppression, comfort noise) stay silent.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "media_internal.h"

#define WINDOW 10
#define DRIFT_MS 10
#define RESYNC_GAP ((pkt_time_t)200000)
#define RESYNC_MS 60
/* Largest decoded packet: 120 ms at 16 kHz (Opus), or L16 resampled. */
#define MAX_SAMPLES 4096

struct media_stream *stream_new(struct media *m, const struct l4_packet *p)
{
    struct media_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        COUNT(m->counters, drop_media_no_memory);
        return NULL;
    }
    s->src = p->src;
    s->dst = p->dst;
    s->sport = p->sport;
    s->dport = p->dport;
    s->channel = -1;
    rtp_stats_init(&s->stats);
    dtmf_tracker_init(&s->dtmf);
    return s;
}

void stream_free(struct media_stream *s)
{
    if (!s)
        return;
    rtp_reorder_free(s->reorder);
    srtp_stream_free(s->srtp);
    for (unsigned i = 0; i < s->ndecoders; i++)
        codec_decoder_free(s->decoders[i].dec);
    free(s);
}

void stream_bound(struct media *m, struct media_stream *s)
{
    if (!s->reorder && !s->rtcp_port)
        s->reorder = rtp_reorder_new(m->cfg->reorder_slots, MAX_PAYLOAD,
                                     (pkt_time_t)m->cfg->jitter_window_ms * 1000 / 2,
                                     m->counters);
}

/* ---- payload types ---------------------------------------------------------------- */

/* The rtpmap of pt in the SDP of the stream's receiver (it chose the numbers it wants
 * to receive), else in any SDP of the call; NULL when no SDP names it. */
static const struct sdp_payload *find_rtpmap(const struct media_stream *s, uint8_t pt)
{
    const struct call *c = s->cm->call;
    bool receiver_is_caller = s->channel == 1;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = c->noffers; i-- > 0;) {
            const struct call_media_offer *o = &c->offers[i];
            if (pass == 0 && o->from_caller != receiver_is_caller)
                continue;
            unsigned audio = 0;
            for (unsigned k = 0; k < o->sdp.count; k++) {
                const struct sdp_media *sm = &o->sdp.m[k];
                if (strcmp(sm->media, "audio") != 0)
                    continue;
                if (audio++ != s->m_index)
                    continue;
                for (unsigned j = 0; j < sm->npayloads; j++)
                    if (sm->payloads[j].pt == pt && sm->payloads[j].encoding[0])
                        return &sm->payloads[j];
            }
        }
    }
    return NULL;
}

static uint32_t default_clock(enum codec_id id)
{
    return id == CODEC_OPUS ? 48000 : id == CODEC_L16 ? 44100 : 8000;
}

static struct stream_decoder *decoder_for(struct media *m, struct media_stream *s, uint8_t pt)
{
    for (unsigned i = 0; i < s->ndecoders; i++)
        if (s->decoders[i].pt == pt)
            return &s->decoders[i];
    const struct sdp_payload *map = s->cm ? find_rtpmap(s, pt) : NULL;
    struct stream_decoder d = {.pt = pt};
    d.codec = codec_identify(map ? map->encoding : NULL, pt);
    d.clock = map && map->clock_rate ? map->clock_rate : default_clock(d.codec);
    if (d.codec != CODEC_NONE && d.codec != CODEC_CN && d.codec != CODEC_TELEPHONE_EVENT &&
        s->cm)
        d.dec = codec_decoder_new(d.codec, d.clock, map ? map->channels : 0);
    (void)m;
    /* A stream uses few payload types; past MAX_DECODERS the oldest slot is reused. */
    unsigned slot = s->ndecoders < MAX_DECODERS ? s->ndecoders++ : pt % MAX_DECODERS;
    if (slot < s->ndecoders && s->decoders[slot].dec && slot != s->ndecoders - 1)
        codec_decoder_free(s->decoders[slot].dec);
    s->decoders[slot] = d;
    return &s->decoders[slot];
}

/* ---- SRTP ------------------------------------------------------------------------- */

/* The sender's own a=crypto key encrypts what it sends (RFC 4568 §6.1). */
static void srtp_setup(struct media *m, struct media_stream *s)
{
    s->srtp_tried = true;
    const struct call *c = s->cm->call;
    bool sender_is_caller = s->channel == 0;
    for (size_t i = c->noffers; i-- > 0;) {
        const struct call_media_offer *o = &c->offers[i];
        if (o->from_caller != sender_is_caller)
            continue;
        unsigned audio = 0;
        for (unsigned k = 0; k < o->sdp.count; k++) {
            const struct sdp_media *sm = &o->sdp.m[k];
            if (strcmp(sm->media, "audio") != 0 || audio++ != s->m_index)
                continue;
            if (sm->ncrypto == 0)
                return;
            char err[128];
            s->srtp = srtp_stream_new(sm->crypto[0].suite, sm->crypto[0].key, err, sizeof(err));
            if (!s->srtp)
                log_limited(LOG_WARNING, "media: call %s: SRTP key unusable: %s", c->call_id,
                            err);
            (void)m;
            return;
        }
    }
}

/* ---- audio ------------------------------------------------------------------------ */

/* 8 kHz <-> 16 kHz: the recording has one rate, a call may switch codecs. */
static size_t convert_rate(const int16_t *in, size_t n, unsigned from, unsigned to, int16_t *out,
                           size_t max)
{
    if (from == to) {
        if (n > max)
            n = max;
        memcpy(out, in, n * sizeof(int16_t));
        return n;
    }
    size_t k = 0;
    if (from == 8000 && to == 16000) {
        for (size_t i = 0; i < n && k + 2 <= max; i++) {
            int next = i + 1 < n ? in[i + 1] : in[i];
            out[k++] = in[i];
            out[k++] = (int16_t)((in[i] + next) / 2);
        }
    } else {
        for (size_t i = 0; i + 1 < n && k < max; i += 2)
            out[k++] = (int16_t)((in[i] + in[i + 1]) / 2);
    }
    return k;
}

static int64_t arrival_pos(const struct call_media *cm, pkt_time_t arrival)
{
    return (int64_t)((arrival - cm->rec_start) * (int64_t)cm->rate / 1000000);
}

static int64_t ts_pos(const struct media_stream *s, uint32_t ts, unsigned rate)
{
    int32_t delta = (int32_t)(ts - s->anchor_ts);
    return s->anchor_pos + (int64_t)delta * rate / (int64_t)s->anchor_clock;
}

static void anchor(struct media_stream *s, int64_t pos, uint32_t ts, uint32_t clock)
{
    s->anchored = true;
    s->anchor_pos = pos;
    s->anchor_ts = ts;
    s->anchor_clock = clock;
    s->skew_count = 0;
}

/* Where a packet's audio goes, with the drift and resync corrections described above. */
static int64_t place(struct media_stream *s, const struct rtp_reorder_out *r, uint32_t clock)
{
    const struct call_media *cm = s->cm;
    int64_t apos = arrival_pos(cm, r->arrival);
    if (!s->anchored || r->discontinuity || clock != s->anchor_clock) {
        anchor(s, apos, r->pkt.timestamp, clock);
        s->last_arrival = r->arrival;
        return apos;
    }
    int64_t pos = ts_pos(s, r->pkt.timestamp, cm->rate);
    int64_t skew = apos - pos;
    int64_t resync = (int64_t)cm->rate * RESYNC_MS / 1000;
    if (r->arrival - s->last_arrival > RESYNC_GAP && (skew > resync || skew < -resync)) {
        anchor(s, apos, r->pkt.timestamp, clock);
        pos = apos;
    } else {
        if (s->skew_count == 0 || skew < s->skew_min)
            s->skew_min = skew;
        if (++s->skew_count >= WINDOW) {
            int64_t limit = (int64_t)cm->rate * DRIFT_MS / 1000;
            if (s->skew_min > limit || s->skew_min < -limit)
                s->anchor_pos += s->skew_min;
            s->skew_count = 0;
        }
    }
    s->last_arrival = r->arrival;
    return pos;
}

static void note_codec(struct call_media *cm, struct media_stream *s, enum codec_id id,
                       pkt_time_t ts)
{
    if (s->last_codec == id)
        return;
    const char *name = codec_name(id);
    if (s->last_codec != CODEC_NONE)
        media_event(cm, ts, "codec", s->channel, name);
    s->last_codec = id;
    if (!strstr(cm->codecs, name)) {
        size_t len = strlen(cm->codecs);
        snprintf(cm->codecs + len, sizeof(cm->codecs) - len, "%s%s", len ? "+" : "", name);
    }
}

static void on_dtmf(struct media *m, struct media_stream *s, const struct dtmf_event *ev)
{
    struct call_media *cm = s->cm;
    char digit[2] = {ev->symbol ? ev->symbol : '?', '\0'};
    int64_t offset = -1;
    if (cm->recording) {
        int64_t pos = s->anchored && s->anchor_clock == 8000
                          ? ts_pos(s, ev->start_ts, cm->rate)
                          : arrival_pos(cm, ev->first_arrival);
        offset = pos * 1000 / (int64_t)cm->rate;
    }
    media_event_at(cm, ev->first_arrival, offset, "dtmf", s->channel, digit);
    if (ev->symbol)
        ondemand_dtmf(m, cm, s->channel, ev->symbol, ev->first_arrival);
}

static void play(struct media *m, struct media_stream *s, const struct rtp_reorder_out *r)
{
    struct call_media *cm = s->cm;
    struct stream_decoder *d = decoder_for(m, s, r->pkt.payload_type);
    if (d->codec == CODEC_TELEPHONE_EVENT) {
        struct dtmf_event ev[2];
        int n = dtmf_tracker_push(&s->dtmf, &r->pkt, r->arrival, ev);
        for (int i = 0; i < n; i++)
            on_dtmf(m, s, &ev[i]);
        return;
    }
    if (d->codec == CODEC_CN)
        return; /* comfort noise: the gap stays silent */
    if (!recording_ensure(m, cm, r->arrival))
        return;
    if (!d->dec) {
        uint8_t pt = r->pkt.payload_type;
        COUNT(m->counters, drop_rtp_unknown_payload);
        if (!(s->unknown_pt_reported[pt / 8] & (1u << (pt % 8)))) {
            s->unknown_pt_reported[pt / 8] |= (uint8_t)(1u << (pt % 8));
            char detail[32];
            snprintf(detail, sizeof(detail), "payload type %u", pt);
            media_event(cm, r->arrival, "unknown_payload", s->channel, detail);
        }
        return;
    }
    note_codec(cm, s, d->codec, r->arrival);
    int16_t pcm[MAX_SAMPLES], conv[MAX_SAMPLES];
    long n = codec_decode(d->dec, r->pkt.payload.p, r->pkt.payload.len, pcm, MAX_SAMPLES);
    if (n < 0) {
        COUNT(m->counters, drop_rtp_undecodable);
        return;
    }
    if (n == 0)
        return;
    size_t k = convert_rate(pcm, (size_t)n, codec_decoder_output_rate(d->dec), cm->rate, conv,
                            MAX_SAMPLES);
    int64_t pos = place(s, r, d->clock);
    int64_t end = recording_end_pos(cm);
    if (pos >= end) {
        COUNT(m->counters, rtp_after_end);
        return;
    }
    if (pos + (int64_t)k > end)
        k = (size_t)(end - pos);
    if (timeline_write(cm->tl, s->channel, pos, conv, k) > 0) {
        s->late++;
        COUNT(m->counters, drop_audio_late);
    }
}

static void on_rtcp(struct media *m, struct media_stream *s, struct span datagram)
{
    struct rtcp_info info;
    const char *err;
    if (!rtcp_parse(datagram, &info, &err)) {
        COUNT(m->counters, drop_rtcp_malformed);
        return;
    }
    /* Reports about a stream of this call from the party receiving it. */
    for (unsigned i = 0; i < info.n_reports; i++) {
        const struct rtcp_report_block *b = &info.reports[i];
        for (struct media_stream *t = s->cm->streams; t; t = t->cnext) {
            if (t->rtcp_port || t->stats.ssrc != b->ssrc || t->stats.packets == 0)
                continue;
            uint32_t clock = t->ndecoders ? t->decoders[0].clock : 8000;
            t->rtcp_seen = true;
            t->rtcp_fraction_lost = b->fraction_lost / 256.0;
            t->rtcp_cumulative_lost = b->cumulative_lost;
            t->rtcp_jitter_ms = clock ? b->jitter * 1000.0 / clock : 0;
        }
    }
}

void stream_packet(struct media *m, struct media_stream *s, const struct l4_packet *p)
{
    struct span payload = p->payload;
    if (!s->cm) { /* unmatched: statistics only */
        struct rtp_packet pkt;
        const char *err;
        if (rtp_is_rtcp(payload) || !rtp_parse(payload, &pkt, &err))
            return;
        enum codec_id id = codec_identify(NULL, pkt.payload_type);
        rtp_stats_update(&s->stats, &pkt, p->ts, id == CODEC_NONE ? 8000 : default_clock(id));
        return;
    }
    COUNT(m->counters, rtp_packets);
    uint8_t plain[MAX_PAYLOAD + 64];
    bool rtcp = s->rtcp_port || rtp_is_rtcp(payload);
    if (!s->srtp_tried)
        srtp_setup(m, s);
    if (s->srtp) {
        if (payload.len > sizeof(plain)) {
            COUNT(m->counters, drop_rtp_oversized);
            return;
        }
        memcpy(plain, payload.p, payload.len);
        size_t len = payload.len;
        int r = rtcp ? srtp_stream_unprotect_rtcp(s->srtp, plain, &len)
                     : srtp_stream_unprotect_rtp(s->srtp, plain, &len);
        if (r != SRTP_STREAM_OK) {
            if (r == SRTP_STREAM_REPLAY) {
                COUNT(m->counters, drop_rtp_duplicate);
            } else {
                s->srtp_auth_failures++;
                COUNT(m->counters, drop_srtp_auth);
            }
            return;
        }
        payload = span_make(plain, len);
    }
    if (rtcp) {
        on_rtcp(m, s, payload);
        return;
    }
    struct rtp_packet pkt;
    const char *err;
    if (!rtp_parse(payload, &pkt, &err)) {
        COUNT(m->counters, drop_rtp_malformed);
        return;
    }
    struct stream_decoder *d = decoder_for(m, s, pkt.payload_type);
    rtp_stats_update(&s->stats, &pkt, p->ts,
                     d->codec == CODEC_TELEPHONE_EVENT ? 0 : d->clock);
    /* SRTP whose key was not in clear SDP (DTLS-SRTP, SIP over TLS): the headers are
     * clear and give the statistics, the audio is not decoded (it would be noise). */
    if (!s->reorder || (s->cm->encrypted && !s->srtp))
        return;
    /* A call the rules do not record needs its statistics, never its audio in order. */
    if (s->cm->decision.made && !s->cm->decision.recorded)
        return;
    rtp_reorder_push(s->reorder, &pkt, p->ts);
    struct rtp_reorder_out out;
    while (rtp_reorder_pop(s->reorder, p->ts, &out))
        play(m, s, &out);
}

void stream_flush(struct media *m, struct media_stream *s)
{
    if (!s->cm)
        return;
    struct rtp_reorder_out out;
    while (s->reorder && rtp_reorder_drain(s->reorder, &out))
        play(m, s, &out);
    struct dtmf_event ev;
    if (dtmf_tracker_flush(&s->dtmf, &ev))
        on_dtmf(m, s, &ev);
}

void stream_result(const struct media_stream *s, struct media_stream_result *out)
{
    memset(out, 0, sizeof(*out));
    out->channel = s->cm ? s->channel : -1;
    out->src = s->src;
    out->dst = s->dst;
    out->sport = s->sport;
    out->dport = s->dport;
    out->ssrc = s->stats.ssrc;
    out->ssrc_changes = s->stats.ssrc_changes;
    size_t len = 0;
    for (unsigned pt = 0; pt < 128 && len + 5 < sizeof(out->payload_types); pt++)
        if (rtp_stats_pt_seen(&s->stats, (uint8_t)pt))
            len += (size_t)snprintf(out->payload_types + len, sizeof(out->payload_types) - len,
                                    "%s%u", len ? "," : "", pt);
    enum codec_id codec = s->last_codec;
    if (codec == CODEC_NONE)
        for (unsigned i = 0; i < s->ndecoders; i++)
            if (s->decoders[i].codec != CODEC_TELEPHONE_EVENT &&
                s->decoders[i].codec != CODEC_CN) {
                codec = s->decoders[i].codec;
                break;
            }
    if (codec != CODEC_NONE)
        snprintf(out->codec, sizeof(out->codec), "%s", codec_name(codec));
    out->packets = s->stats.packets;
    out->bytes = s->stats.bytes;
    out->lost = rtp_stats_lost(&s->stats);
    out->duplicated = s->stats.duplicates;
    out->reordered = s->stats.reordered;
    out->late = s->late;
    if (s->reorder)
        out->late += rtp_reorder_stats(s->reorder)->late;
    out->jitter_ms = rtp_stats_jitter_ms(&s->stats);
    out->max_gap_ms = s->stats.max_gap_us / 1000.0;
    out->mos = s->stats.packets > 1 && codec != CODEC_NONE ? rtp_stats_mos(&s->stats, codec) : 0;
    out->first = s->stats.first_arrival;
    out->last = s->stats.last_arrival;
    out->srtp = s->srtp != NULL;
    out->srtp_auth_failures = s->srtp_auth_failures;
    out->rtcp_seen = s->rtcp_seen;
    out->rtcp_fraction_lost = s->rtcp_fraction_lost;
    out->rtcp_cumulative_lost = s->rtcp_cumulative_lost;
    out->rtcp_jitter_ms = s->rtcp_jitter_ms;
}

void stream_report_unmatched(struct media *m, struct media_stream *s,
                             void (*fn)(void *user, const struct media_stream_result *r),
                             void *user)
{
    /* One stray datagram that happened to look like RTP is not a stream (a Skype
     * packet, a game): only a run of consecutive sequence numbers is reported. */
    if (!s->stats.valid) {
        COUNT_N(m->counters, udp_not_rtp, s->stats.packets);
        return;
    }
    COUNT(m->counters, rtp_streams_unmatched);
    if (!fn)
        return;
    struct media_stream_result r;
    stream_result(s, &r);
    fn(user, &r);
}

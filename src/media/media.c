/*
 * media.c - matching RTP to calls and turning it into recordings (see media.h).
 *
 * Expectations: every audio m= line of every SDP offer or answer says "party X receives
 * at address:port".  A datagram sent to that address is the other party's voice; one
 * sent from it (symmetric RTP, RFC 4961) is X's.  The port alone is tried last, for
 * NAT.  The latest SDP wins when a port is reused by a later call.
 *
 * Flows: the first datagram of a 5-tuple is matched once; the flow table then maps
 * the 5-tuple straight to its stream, so the hot path is one hash lookup.  A flow that
 * matched nothing is an "unmatched" stream (statistics only) and is tried again when a
 * new SDP arrives, since RTP often starts before the 200 OK that describes it.
 *
 * Per stream (stream.c): SRTP, statistics, reordering, DTMF, decoding, placement.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "greffier/media.h"
#include "media_internal.h"

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t endpoint_hash(const struct ip_addr *a, uint16_t port)
{
    uint64_t h = hash_bytes(0xcbf29ce484222325ull, a->a, a->family == 6 ? 16 : 4);
    return hash_bytes(h, &port, sizeof(port));
}

/* Runs for every RTP packet: whole words and one multiply-xorshift round per word
 * rather than a byte-at-a-time hash (a 5-tuple lookup is most of the per-packet cost of
 * the media path before decoding). */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t addr_words(uint64_t h, const struct ip_addr *a)
{
    uint64_t w[2];
    memcpy(w, a->a, sizeof(w));
    h = mix(h, w[0]);
    return a->family == 6 ? mix(h, w[1]) : h;
}

static uint64_t flow_hash(const struct l4_packet *p)
{
    uint64_t h = addr_words(0x243f6a8885a308d3ull, &p->src);
    h = addr_words(h, &p->dst);
    return mix(h, ((uint64_t)p->sport << 16) | p->dport);
}

/* ---- expectations ----------------------------------------------------------------- */

static struct expectation **exp_bucket(struct media *m, const struct ip_addr *a, uint16_t port)
{
    return &m->exp[endpoint_hash(a, port) & (EXP_BUCKETS - 1)];
}

static void exp_remove_call(struct media *m, struct call_media *cm)
{
    for (struct expectation **pp = &cm->exps; *pp;) {
        struct expectation *e = *pp;
        struct expectation **b = exp_bucket(m, &e->addr, e->port);
        while (*b && *b != e)
            b = &(*b)->hnext;
        if (*b)
            *b = e->hnext;
        *pp = e->cnext;
        free(e);
    }
}

static void exp_add(struct media *m, struct call_media *cm, const struct ip_addr *a,
                    uint16_t port, bool receiver_is_caller, unsigned m_index, bool rtcp)
{
    struct expectation **b = exp_bucket(m, a, port);
    for (struct expectation *e = *b; e; e = e->hnext) {
        if (e->port == port && ip_addr_equal(&e->addr, a)) {
            /* The address now belongs to this call (a port reused by a later call). */
            if (e->cm != cm) {
                struct expectation **pp = &e->cm->exps;
                while (*pp && *pp != e)
                    pp = &(*pp)->cnext;
                if (*pp)
                    *pp = e->cnext;
                e->cm = cm;
                e->cnext = cm->exps;
                cm->exps = e;
            }
            e->receiver_is_caller = receiver_is_caller;
            e->m_index = m_index;
            e->rtcp = rtcp;
            return;
        }
    }
    struct expectation *e = calloc(1, sizeof(*e));
    if (!e)
        return;
    e->addr = *a;
    e->port = port;
    e->cm = cm;
    e->receiver_is_caller = receiver_is_caller;
    e->m_index = m_index;
    e->rtcp = rtcp;
    e->hnext = *b;
    *b = e;
    e->cnext = cm->exps;
    cm->exps = e;
}

static struct expectation *exp_find(struct media *m, const struct ip_addr *a, uint16_t port)
{
    for (struct expectation *e = *exp_bucket(m, a, port); e; e = e->hnext)
        if (e->port == port && ip_addr_equal(&e->addr, a))
            return e;
    return NULL;
}

/* NAT: the SDP named a private address but the packets use another one.  The port
 * alone decides when exactly one expectation has it. */
static struct expectation *exp_find_port(struct media *m, uint16_t port)
{
    struct expectation *found = NULL;
    for (struct call_media *cm = m->calls; cm; cm = cm->next)
        for (struct expectation *e = cm->exps; e; e = e->cnext)
            if (e->port == port) {
                if (found && found != e)
                    return NULL;
                found = e;
            }
    return found;
}

/* ---- flows ------------------------------------------------------------------------ */

static struct media_stream *flow_find(struct media *m, const struct l4_packet *p, uint64_t h)
{
    for (struct media_stream *s = m->flows[h & (FLOW_BUCKETS - 1)]; s; s = s->hnext)
        if (s->hash == h && s->sport == p->sport && s->dport == p->dport &&
            ip_addr_equal(&s->src, &p->src) && ip_addr_equal(&s->dst, &p->dst))
            return s;
    return NULL;
}

static void flow_unlink(struct media *m, struct media_stream *s)
{
    struct media_stream **pp = &m->flows[s->hash & (FLOW_BUCKETS - 1)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
}

/* Which call a new flow belongs to, and whose voice it carries. */
static struct expectation *match(struct media *m, const struct l4_packet *p, int *channel)
{
    struct expectation *e = exp_find(m, &p->dst, p->dport);
    if (e) {
        *channel = e->receiver_is_caller ? 1 : 0; /* sent to X: the other party speaks */
        return e;
    }
    e = exp_find(m, &p->src, p->sport);
    if (e) {
        *channel = e->receiver_is_caller ? 0 : 1; /* sent from X's own port: X speaks */
        return e;
    }
    e = exp_find_port(m, p->dport);
    if (e) {
        *channel = e->receiver_is_caller ? 1 : 0;
        return e;
    }
    return NULL;
}

static struct media_stream *flow_new(struct media *m, const struct l4_packet *p, uint64_t h)
{
    if (m->nflows >= MAX_FLOWS) {
        COUNT(m->counters, drop_rtp_flow_table_full);
        return NULL;
    }
    struct media_stream *s = stream_new(m, p);
    if (!s)
        return NULL;
    s->hash = h;
    s->hnext = m->flows[h & (FLOW_BUCKETS - 1)];
    m->flows[h & (FLOW_BUCKETS - 1)] = s;
    m->nflows++;
    return s;
}

/* Binds an unmatched or new stream to the call the expectations name. */
static void bind_stream(struct media *m, struct media_stream *s, const struct l4_packet *p)
{
    int channel;
    struct expectation *e = match(m, p, &channel);
    s->exp_generation = m->exp_generation;
    if (!e)
        return;
    /* An unmatched flow found its call: it leaves the unmatched list. */
    if (!s->cm) {
        struct media_stream **pp = &m->unmatched;
        while (*pp && *pp != s)
            pp = &(*pp)->cnext;
        if (*pp)
            *pp = s->cnext;
        m->nunmatched--;
    }
    s->cm = e->cm;
    s->channel = channel;
    s->m_index = e->m_index;
    s->rtcp_port = e->rtcp;
    s->cnext = e->cm->streams;
    e->cm->streams = s;
    stream_bound(m, s);
}

struct call *media_packet(struct media *m, const struct l4_packet *pkt)
{
    if (pkt->proto != L4_UDP)
        return NULL;
    uint64_t h = flow_hash(pkt);
    struct media_stream *s = flow_find(m, pkt, h);
    if (!s) {
        /* Only what looks like RTP or RTCP opens a flow: DNS, NTP or syslog do not. */
        if (!rtp_plausible(pkt->payload)) {
            COUNT(m->counters, udp_not_rtp);
            return NULL;
        }
        s = flow_new(m, pkt, h);
        if (!s)
            return NULL;
        bind_stream(m, s, pkt);
        if (!s->cm) {
            s->cnext = m->unmatched;
            m->unmatched = s;
            m->nunmatched++;
        }
    } else if (!s->cm && s->exp_generation != m->exp_generation) {
        bind_stream(m, s, pkt);
    }
    stream_packet(m, s, pkt);
    return s->cm ? s->cm->call : NULL;
}

/* ---- calls ------------------------------------------------------------------------ */

static struct call_media *call_media_of(struct call *c)
{
    return c->media;
}

void media_call_started(struct media *m, struct call *c)
{
    struct call_media *cm = calloc(1, sizeof(*cm));
    if (!cm) {
        COUNT(m->counters, drop_media_no_memory);
        return;
    }
    cm->call = c;
    cm->m = m;
    cm->next = m->calls;
    if (m->calls)
        m->calls->prev = cm;
    m->calls = cm;
    c->media = cm;
}

static bool is_hold(enum media_direction d)
{
    return d == MDIR_SENDONLY || d == MDIR_INACTIVE;
}

void media_offer(struct media *m, struct call *c, const struct call_media_offer *o)
{
    struct call_media *cm = call_media_of(c);
    if (!cm)
        return;
    unsigned audio = 0;
    for (unsigned i = 0; i < o->sdp.count; i++) {
        const struct sdp_media *sm = &o->sdp.m[i];
        if (strcmp(sm->media, "audio") != 0 || sm->port == 0 || !sm->addr.family)
            continue;
        exp_add(m, cm, &sm->addr, sm->port, o->from_caller, audio, false);
        if (sm->port < 65535)
            exp_add(m, cm, &sm->addr, (uint16_t)(sm->port + 1), o->from_caller, audio, true);
        /* Keys visible only through DTLS (a=fingerprint) or not at all: the media of
         * this call cannot be decrypted by a passive recorder. */
        if (strstr(sm->proto, "SAVP") && sm->ncrypto == 0)
            cm->encrypted = true;
        if (audio == 0 && c->answer) {
            bool hold = is_hold(sm->direction);
            if (hold != cm->on_hold[o->from_caller ? 0 : 1]) {
                cm->on_hold[o->from_caller ? 0 : 1] = hold;
                media_event(cm, o->ts, hold ? "hold" : "resume", o->from_caller ? 0 : 1,
                            media_direction_name(sm->direction));
            }
        }
        audio++;
    }
    m->exp_generation++;
}

void media_tick(struct media *m, pkt_time_t now,
                void (*unmatched)(void *user, const struct media_stream_result *s), void *user)
{
    for (struct call_media *cm = m->calls; cm; cm = cm->next)
        recording_advance(m, cm, now);
    /* Unmatched streams idle for a minute are over: reported and forgotten. */
    for (struct media_stream **pp = &m->unmatched; *pp;) {
        struct media_stream *s = *pp;
        if (now - s->stats.last_arrival > UNMATCHED_IDLE) {
            *pp = s->cnext;
            m->nunmatched--;
            stream_report_unmatched(m, s, unmatched, user);
            flow_unlink(m, s);
            m->nflows--;
            stream_free(s);
        } else {
            pp = &s->cnext;
        }
    }
}

void media_set_complexity(struct media *m, unsigned complexity)
{
    m->complexity = complexity;
    for (struct call_media *cm = m->calls; cm; cm = cm->next) {
        if (!cm->writer)
            continue;
        if (cm->lane) /* in order with the frames already queued */
            encoder_lane_set_complexity(cm->lane, complexity);
        else
            ogg_opus_writer_set_complexity(cm->writer, complexity);
        if (complexity < cm->complexity_min)
            cm->complexity_min = complexity;
    }
}

unsigned media_complexity(const struct media *m)
{
    return m->complexity;
}

bool media_disk_full_seen(struct media *m)
{
    bool seen = m->disk_full_seen;
    m->disk_full_seen = false;
    return seen;
}

void media_set_disk_full(struct media *m, bool full)
{
    if (m->disk_full == full)
        return;
    if (full)
        log_msg(LOG_ERR, "media: disk full: new calls are indexed but not recorded");
    else
        log_msg(LOG_NOTICE, "media: disk space is back: new calls are recorded again");
    m->disk_full = full;
}

void media_drain_unmatched(struct media *m,
                           void (*fn)(void *user, const struct media_stream_result *s),
                           void *user)
{
    while (m->unmatched) {
        struct media_stream *s = m->unmatched;
        m->unmatched = s->cnext;
        m->nunmatched--;
        stream_report_unmatched(m, s, fn, user);
        flow_unlink(m, s);
        m->nflows--;
        stream_free(s);
    }
}

void media_call_unindexed(struct media *m, struct call *c)
{
    (void)m;
    struct call_media *cm = call_media_of(c);
    if (cm)
        cm->unindexed = true;
}

void media_call_finished(struct media *m, struct call *c, struct call_media_result *out)
{
    memset(out, 0, sizeof(*out));
    struct call_media *cm = call_media_of(c);
    if (!cm) {
        snprintf(out->media_state, sizeof(out->media_state), "failed");
        return;
    }
    recording_close(m, cm, out);
    exp_remove_call(m, cm);
    while (cm->streams) {
        struct media_stream *s = cm->streams;
        cm->streams = s->cnext;
        flow_unlink(m, s);
        m->nflows--;
        stream_free(s);
    }
    if (cm->prev)
        cm->prev->next = cm->next;
    else
        m->calls = cm->next;
    if (cm->next)
        cm->next->prev = cm->prev;
    free(cm->events);
    free(cm);
    c->media = NULL;
}

struct media *media_new(const struct config *cfg, struct counters *counters,
                        const char *data_dir)
{
    struct media *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cfg = cfg;
    m->counters = counters;
    snprintf(m->data_dir, sizeof(m->data_dir), "%s", data_dir);
    m->complexity = cfg->opus_complexity;
    m->frame_ms = cfg->opus_frame_ms <= 20 ? 20 : cfg->opus_frame_ms <= 40 ? 40 : 60;
    if (cfg->encoder_threads > 1) {
        m->encoders = encoder_pool_new(cfg->encoder_threads, ENCODER_QUEUE_FRAMES, counters);
        if (!m->encoders) {
            free(m);
            return NULL;
        }
    }
    return m;
}

size_t media_encoder_queue(struct media *m)
{
    return m->encoders ? encoder_pool_queued(m->encoders) : 0;
}

void media_free(struct media *m)
{
    if (!m)
        return;
    while (m->calls) {
        struct call_media_result r;
        media_call_finished(m, m->calls->call, &r);
        media_result_free(&r);
    }
    media_drain_unmatched(m, NULL, NULL);
    encoder_pool_free(m->encoders); /* every lane is gone with its call */
    vault_pubkey_free(m->pubkey);
    free(m);
}

void media_result_free(struct call_media_result *r)
{
    if (!r)
        return;
    free(r->streams);
    free(r->events);
    free(r->owned_);
    memset(r, 0, sizeof(*r));
}

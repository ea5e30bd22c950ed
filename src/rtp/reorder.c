/*
 * reorder.c - a bounded reorder buffer per RTP stream: packets go in as they arrive and
 * come out in sequence order, so the decoder sees one timeline (RFC 3550 §5.1: the
 * sequence number "may be used by the receiver ... to restore packet sequence").
 *
 * Every packet gets a 64-bit ordering key: the epoch (bumped at every sequence
 * restart) in the high 32 bits and an extended sequence number in the low ones, placed
 * relative to the highest key pushed with the limits of RFC 3550 A.1 (a step back under
 * MAX_MISORDER is reordering, a step forward under MAX_DROPOUT is loss, anything else a
 * jump).  A new SSRC starts a new epoch at once; a jump within one SSRC is believed only
 * when the next packet follows it (A.1 bad_seq), the first jumped packet waiting in a
 * spare probation slot meanwhile, so one stray or very late packet cannot shift the
 * timeline.  Old epochs drain before a new one.
 *
 * Memory: slots + 1 buffers of max_payload bytes, allocated once; the held packets are
 * found by a linear scan, which for the 8-32 slots in use is cheaper than keeping an index.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/rtp.h"

enum {
    MAX_DROPOUT = 3000,
    MAX_MISORDER = 100,
    SEQ_MOD = 1 << 16,
    MAX_SLOTS = 1024,
    MAX_PAYLOAD = 65535,
};

#define EPOCH(key) ((key) >> 32)

struct slot {
    uint64_t key;
    pkt_time_t arrival;
    struct rtp_packet hdr;
    bool used;
    uint8_t *data;
};

struct rtp_reorder {
    unsigned nslots, held;
    size_t max_payload;
    pkt_time_t max_wait;
    struct counters *c;

    bool started;      /* a packet was accepted since the last reset */
    bool released_any; /* next_key is fixed: nothing may be placed before it */
    uint32_t ssrc;     /* SSRC of the current epoch */
    uint64_t ref_key;  /* highest key accepted: new packets are placed relative to it */
    uint64_t next_key; /* key the next release should have */
    uint64_t hist;     /* bit i: key next_key - 1 - i was released (not skipped) */

    bool old_valid; /* the SSRC before the last change, to recognise its stragglers */
    uint32_t old_ssrc;
    uint16_t old_seq;

    bool pending; /* slots[nslots] holds a jumped packet awaiting confirmation */

    struct rtp_reorder_stats st;
    struct slot *slots; /* nslots + 1: the last is the probation slot */
    uint8_t *mem;
};

struct rtp_reorder *rtp_reorder_new(unsigned slots, size_t max_payload, pkt_time_t max_wait,
                                    struct counters *counters)
{
    struct rtp_reorder *r;

    if (slots < 2 || slots > MAX_SLOTS || max_payload == 0 || max_payload > MAX_PAYLOAD ||
        max_wait < 0)
        return NULL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->slots = calloc(slots + 1, sizeof(*r->slots));
    r->mem = malloc((slots + 1) * max_payload);
    if (!r->slots || !r->mem) {
        rtp_reorder_free(r);
        return NULL;
    }
    for (unsigned i = 0; i <= slots; i++)
        r->slots[i].data = r->mem + i * max_payload;
    r->nslots = slots;
    r->max_payload = max_payload;
    r->max_wait = max_wait;
    r->c = counters;
    return r;
}

void rtp_reorder_free(struct rtp_reorder *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r->mem);
    free(r);
}

void rtp_reorder_reset(struct rtp_reorder *r)
{
    for (unsigned i = 0; i <= r->nslots; i++)
        r->slots[i].used = false;
    r->held = 0;
    r->started = r->released_any = r->old_valid = r->pending = false;
    r->hist = 0;
}

unsigned rtp_reorder_held(const struct rtp_reorder *r)
{
    return r->held;
}

const struct rtp_reorder_stats *rtp_reorder_stats(const struct rtp_reorder *r)
{
    return &r->st;
}

static enum rtp_reorder_result drop(struct rtp_reorder *r, enum rtp_reorder_result why)
{
    switch (why) {
    case RTP_REORDER_LATE:
        r->st.late++;
        if (r->c)
            COUNT(r->c, drop_rtp_late);
        break;
    case RTP_REORDER_DUPLICATE:
        r->st.duplicates++;
        if (r->c)
            COUNT(r->c, drop_rtp_duplicate);
        break;
    case RTP_REORDER_OVERSIZED:
        r->st.oversized++;
        if (r->c)
            COUNT(r->c, drop_rtp_oversized);
        break;
    case RTP_REORDER_OVERFLOW:
        r->st.overflow++;
        if (r->c)
            COUNT(r->c, drop_rtp_reorder_overflow);
        break;
    case RTP_REORDER_QUEUED:
        break;
    }
    return why;
}

/* The probation packet was not confirmed: it was a very late packet if it lay behind
 * the stream, otherwise a stray one. */
static void drop_pending(struct rtp_reorder *r)
{
    struct slot *p = &r->slots[r->nslots];

    if (!r->pending)
        return;
    r->pending = false;
    p->used = false;
    if ((uint16_t)(p->hdr.seq - (uint16_t)r->ref_key) >= SEQ_MOD / 2) {
        drop(r, RTP_REORDER_LATE);
    } else {
        r->st.stray++;
        if (r->c)
            COUNT(r->c, drop_rtp_seq_jump);
    }
}

static void fill(struct slot *sl, uint64_t key, const struct rtp_packet *pkt, pkt_time_t arrival)
{
    sl->key = key;
    sl->arrival = arrival;
    sl->hdr = *pkt;
    sl->hdr.ext = span_make(sl->data, 0);
    sl->hdr.extension = false;
    sl->hdr.payload = span_make(sl->data, pkt->payload.len);
    if (pkt->payload.len)
        memcpy(sl->data, pkt->payload.p, pkt->payload.len);
    sl->used = true;
}

static struct slot *free_slot(struct rtp_reorder *r)
{
    for (unsigned i = 0; i < r->nslots; i++)
        if (!r->slots[i].used)
            return &r->slots[i];
    return NULL;
}

/* First key of a new epoch; SEQ_MOD leaves room below for reordered packets. */
static uint64_t new_epoch_key(const struct rtp_reorder *r, uint16_t seq)
{
    uint64_t epoch = r->started ? EPOCH(r->ref_key) + 1 : 1;
    return (epoch << 32) + SEQ_MOD + seq;
}

/* Places pkt: sets *key, or returns the reason to drop it, or QUEUED with *probation set
 * when it went to the probation slot. */
static enum rtp_reorder_result place(struct rtp_reorder *r, const struct rtp_packet *pkt,
                                     pkt_time_t arrival, uint64_t *key, bool *probation)
{
    uint16_t ref_seq = (uint16_t)r->ref_key, udelta;

    *probation = false;
    if (!r->started) {
        *key = new_epoch_key(r, pkt->seq);
        r->ssrc = pkt->ssrc;
        return RTP_REORDER_QUEUED;
    }
    if (pkt->ssrc != r->ssrc) {
        /* Stragglers of the previous SSRC are late; anything else is a new source. */
        if (r->old_valid && pkt->ssrc == r->old_ssrc &&
            (uint16_t)(r->old_seq - pkt->seq) < MAX_MISORDER)
            return RTP_REORDER_LATE;
        drop_pending(r);
        r->old_valid = true;
        r->old_ssrc = r->ssrc;
        r->old_seq = ref_seq;
        r->ssrc = pkt->ssrc;
        r->st.restarts++;
        *key = new_epoch_key(r, pkt->seq);
        return RTP_REORDER_QUEUED;
    }

    udelta = (uint16_t)(pkt->seq - ref_seq);
    if (udelta < MAX_DROPOUT || udelta > SEQ_MOD - MAX_MISORDER) {
        if (r->pending && r->slots[r->nslots].hdr.seq == pkt->seq)
            return RTP_REORDER_DUPLICATE;
        drop_pending(r);
        *key = udelta < MAX_DROPOUT ? r->ref_key + udelta : r->ref_key - (SEQ_MOD - udelta);
        return RTP_REORDER_QUEUED;
    }

    /* A jump. */
    struct slot *p = &r->slots[r->nslots];
    if (r->pending && (uint16_t)(pkt->seq - p->hdr.seq) == 1) {
        /* Confirmed: the probation packet opens a new epoch, this one follows it. */
        struct slot *sl = free_slot(r);
        if (!sl)
            return RTP_REORDER_OVERFLOW;
        uint8_t *spare = sl->data;
        *sl = *p;
        sl->key = new_epoch_key(r, p->hdr.seq);
        sl->hdr.payload.p = sl->data;
        p->data = spare;
        p->used = false;
        r->pending = false;
        r->held++;
        r->st.restarts++;
        r->ref_key = sl->key;
        *key = sl->key + 1;
        return RTP_REORDER_QUEUED;
    }
    if (r->pending && p->hdr.seq == pkt->seq)
        return RTP_REORDER_DUPLICATE;
    drop_pending(r);
    fill(p, 0, pkt, arrival);
    r->pending = true;
    *probation = true;
    return RTP_REORDER_QUEUED;
}

enum rtp_reorder_result rtp_reorder_push(struct rtp_reorder *r, const struct rtp_packet *pkt,
                                         pkt_time_t arrival)
{
    enum rtp_reorder_result res;
    uint64_t key;
    bool probation;
    struct slot *sl;

    r->st.pushed++;
    if (pkt->payload.len > r->max_payload)
        return drop(r, RTP_REORDER_OVERSIZED);
    res = place(r, pkt, arrival, &key, &probation);
    if (res != RTP_REORDER_QUEUED)
        return drop(r, res);
    if (probation)
        return RTP_REORDER_QUEUED;

    if (!r->started || (!r->released_any && key < r->next_key))
        r->next_key = key; /* nothing released yet: the timeline may still start earlier */
    if (key < r->next_key) {
        uint64_t back = r->next_key - 1 - key;
        bool released = back < 64 && (r->hist >> back & 1);
        return drop(r, released ? RTP_REORDER_DUPLICATE : RTP_REORDER_LATE);
    }
    for (unsigned i = 0; i < r->nslots; i++)
        if (r->slots[i].used && r->slots[i].key == key)
            return drop(r, RTP_REORDER_DUPLICATE);
    sl = free_slot(r);
    if (!sl)
        return drop(r, RTP_REORDER_OVERFLOW);
    fill(sl, key, pkt, arrival);
    r->held++;
    if (!r->started || key > r->ref_key)
        r->ref_key = key;
    r->started = true;
    return RTP_REORDER_QUEUED;
}

static struct slot *head(struct rtp_reorder *r)
{
    struct slot *h = NULL;

    for (unsigned i = 0; i < r->nslots; i++)
        if (r->slots[i].used && (!h || r->slots[i].key < h->key))
            h = &r->slots[i];
    return h;
}

static void release(struct rtp_reorder *r, struct slot *h, struct rtp_reorder_out *out)
{
    uint64_t gap = 0;

    out->discontinuity = r->released_any && EPOCH(h->key) != EPOCH(r->next_key);
    if (!out->discontinuity && h->key > r->next_key)
        gap = h->key - r->next_key;
    out->pkt = h->hdr;
    out->pkt.payload.p = h->data;
    out->arrival = h->arrival;
    out->lost_before = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;

    if (out->discontinuity || gap >= 63)
        r->hist = 1;
    else
        r->hist = (r->hist << (gap + 1)) | 1;
    r->next_key = h->key + 1;
    r->released_any = true;
    r->st.lost += gap;
    r->st.released++;
    h->used = false;
    r->held--;
}

bool rtp_reorder_pop(struct rtp_reorder *r, pkt_time_t now, struct rtp_reorder_out *out)
{
    struct slot *h = head(r);
    pkt_time_t waited;

    if (!h)
        return false;
    /* In order; or the first of a new epoch; or an old epoch draining (its source
     * changed, nothing more will come to fill its gaps). */
    if (h->key == r->next_key || EPOCH(h->key) != EPOCH(r->next_key) ||
        EPOCH(h->key) != EPOCH(r->ref_key)) {
        release(r, h, out);
        return true;
    }
    if (r->held >= r->nslots) {
        r->st.released_full++;
        release(r, h, out);
        return true;
    }
    if (!__builtin_sub_overflow(now, h->arrival, &waited) && waited >= r->max_wait) {
        r->st.released_timeout++;
        release(r, h, out);
        return true;
    }
    return false;
}

bool rtp_reorder_drain(struct rtp_reorder *r, struct rtp_reorder_out *out)
{
    struct slot *h = head(r);

    if (!h) {
        drop_pending(r); /* a jump nothing confirmed */
        return false;
    }
    release(r, h, out);
    return true;
}

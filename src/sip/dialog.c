/*
 * dialog.c - the call state machine: SIP messages of each Call-ID in, calls out.
 *
 * One call per Call-ID carrying an INVITE dialog (RFC 3261 §12-§15):
 *   - the initial INVITE transaction decides the outcome: the first 2xx answers the
 *     call (forks resolved to the branch that answered, §13.2.2.4); a 401/407
 *     challenge followed by a new INVITE with a higher CSeq reopens the transaction;
 *   - CANCEL, 3xx-6xx and BYE end it; silence (no SIP, no RTP) ends it too, measured
 *     in packet time, never on the wall clock;
 *   - re-INVITE, UPDATE, PRACK and ACK carry new SDP: every offer and answer is kept
 *     as media expectations for the media stage;
 *   - a retransmission (the same bytes between the same endpoints) is kept as
 *     evidence but counted once and changes no state;
 *   - a call whose INVITE was not captured is picked up from a response to it (or a
 *     re-INVITE) and marked partial.
 * Finished calls linger a little (LINGER) so that the 200 to a BYE, an ACK or a late
 * retransmission still lands in the right call before it is handed to the sink.
 */
#include <stdlib.h>
#include <string.h>

#include "call_build.h"
#include "greffier/dialog.h"
#include "greffier/log.h"
#include "greffier/number.h"

/* RFC 3261 timer F/H: 64*T1 = 32 s, how long retransmissions of a final response may go on. */
#define LINGER ((pkt_time_t)32 * 1000000)
#define SECOND ((pkt_time_t)1000000)

struct dialog_entry {
    struct call *call;
    struct dialog_entry *hnext;       /* hash chain */
    struct dialog_entry *prev, *next; /* every live entry, oldest first */
    uint64_t hash;
    pkt_time_t linger_until; /* set when the call ended; 0 while it goes on */
    bool cancel_seen;
    /* Highest CSeq of a DTMF INFO from the caller [0] and the callee [1]: the same INFO
     * relayed by a proxy (another hop, not a retransmission) is one key, not two. */
    uint32_t info_cseq[2];
};

struct dialogs {
    const struct config *cfg;
    struct counters *counters;
    struct call_sink sink;
    struct dialog_entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    struct dialog_entry *head, *tail;
};

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV_SEED 0xcbf29ce484222325ull

struct dialogs *dialogs_new(const struct config *cfg, struct counters *counters,
                            const struct call_sink *sink)
{
    struct dialogs *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cfg = cfg;
    d->counters = counters;
    d->sink = *sink;
    d->nbuckets = 1024;
    d->buckets = calloc(d->nbuckets, sizeof(*d->buckets));
    if (!d->buckets) {
        free(d);
        return NULL;
    }
    return d;
}

size_t dialogs_active(const struct dialogs *d)
{
    return d->count;
}

static struct dialog_entry *lookup(struct dialogs *d, const char *call_id, uint64_t h)
{
    for (struct dialog_entry *e = d->buckets[h & (d->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->call->call_id, call_id) == 0)
            return e;
    return NULL;
}

static void rehash(struct dialogs *d)
{
    size_t n = d->nbuckets * 2;
    struct dialog_entry **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* keep the smaller table: slower chains, nothing lost */
    for (struct dialog_entry *e = d->head; e; e = e->next) {
        e->hnext = b[e->hash & (n - 1)];
        b[e->hash & (n - 1)] = e;
    }
    free(d->buckets);
    d->buckets = b;
    d->nbuckets = n;
}

static void unlink_entry(struct dialogs *d, struct dialog_entry *e)
{
    struct dialog_entry **pp = &d->buckets[e->hash & (d->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        d->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        d->tail = e->prev;
    d->count--;
}

static void finish(struct dialogs *d, struct dialog_entry *e)
{
    struct call *c = e->call;
    c->direction = call_classify_direction(d->cfg, c);
    unlink_entry(d, e);
    if (d->sink.call_finished)
        d->sink.call_finished(d->sink.user, c);
    call_free(c);
    free(e);
}

/* Status of an unanswered call from the final response of its INVITE (documented in
 * docs/CALLS.md): what a supervisor would call the outcome. */
static enum call_status status_from_code(int code, bool cancel_seen)
{
    if (code == 487 || cancel_seen)
        return CALL_CANCELLED;
    if (code == 486 || code == 600)
        return CALL_BUSY;
    if (code == 408)
        return CALL_TIMEOUT;
    if (code >= 500 && code < 600)
        return CALL_FAILED;
    return CALL_REJECTED; /* 3xx not followed, other 4xx, 603, 604, 606 */
}

static void end_call(struct dialog_entry *e, pkt_time_t ts, enum call_end_reason why)
{
    e->call->end = ts;
    e->call->end_reason = why;
    e->linger_until = ts + LINGER;
}

static void reopen_call(struct dialog_entry *e)
{
    e->call->end = 0;
    e->call->end_reason = END_NONE;
    e->linger_until = 0;
}

/* The caller is who the network asserts when it says so (RFC 3325), else From. */
static const struct sip_party *caller_identity(const struct sip_msg *m)
{
    if (m->pai.user)
        return &m->pai;
    if (m->rpid.user)
        return &m->rpid;
    return &m->from;
}

static void set_parties(struct dialogs *d, struct call *c, const struct sip_msg *m)
{
    const struct number_plan *plan = &d->cfg->plan;
    const struct sip_party *who = caller_identity(m);
    call_set_party(c, &c->caller, who, plan);
    if (!c->caller.name && m->from.display)
        c->caller.name = call_strdup(c, m->from.display);
    call_set_party(c, &c->callee, &m->to, plan);
    if (m->diversion.user)
        call_set_party(c, &c->redirecting, &m->diversion, plan);
}

static struct dialog_entry *create(struct dialogs *d, const struct sip_msg *m,
                                   const struct sip_wire *w, uint64_t h)
{
    struct call *c = call_new(m->call_id);
    struct dialog_entry *e = c ? calloc(1, sizeof(*e)) : NULL;
    if (!e) {
        call_free(c);
        COUNT(d->counters, drop_call_table_full);
        return NULL;
    }
    e->call = c;
    e->hash = h;
    c->start = w->ts;
    c->last_activity = w->ts;
    c->transport = w->transport;
    c->from_tag = call_strdup(c, m->from_tag);
    c->invite_cseq = m->cseq;
    set_parties(d, c, m);
    if (m->is_request) {
        c->caller_addr = w->src, c->caller_port = w->sport;
        c->callee_addr = w->dst, c->callee_port = w->dport;
        c->user_agent_caller = call_strdup(c, m->user_agent);
        /* An INVITE that already has a To tag is a re-INVITE: the call was set up
         * before the capture started. */
        c->partial = m->to_tag != NULL;
        if (c->partial)
            c->status = CALL_ANSWERED;
    } else {
        c->caller_addr = w->dst, c->caller_port = w->dport;
        c->callee_addr = w->src, c->callee_port = w->sport;
        c->partial = true;
    }
    if (c->partial)
        COUNT(d->counters, partial_calls);

    e->prev = d->tail;
    if (d->tail)
        d->tail->next = e;
    else
        d->head = e;
    d->tail = e;
    e->hnext = d->buckets[h & (d->nbuckets - 1)];
    d->buckets[h & (d->nbuckets - 1)] = e;
    if (++d->count > d->nbuckets)
        rehash(d);
    if (d->sink.call_started)
        d->sink.call_started(d->sink.user, c);
    return e;
}

/* True when the message was sent by the caller's side of the dialog.  A request comes
 * from the caller when its From tag is the caller's; a response from the other side. */
static bool sent_by_caller(const struct call *c, const struct sip_msg *m)
{
    bool caller_tag = c->from_tag && m->from_tag && strcmp(c->from_tag, m->from_tag) == 0;
    if (!c->from_tag || !m->from_tag)
        caller_tag = true;
    return m->is_request ? caller_tag : !caller_tag;
}

static void add_offer(struct dialogs *d, struct call *c, const struct sip_msg *m, pkt_time_t ts)
{
    if (!m->has_sdp)
        return;
    struct call_media_offer *o = call_add_offer(c, ts, sent_by_caller(c, m), &m->sdp);
    if (o && d->sink.media_changed)
        d->sink.media_changed(d->sink.user, c, o);
}

static void on_request(struct dialogs *d, struct dialog_entry *e, const struct sip_msg *m,
                       pkt_time_t ts)
{
    struct call *c = e->call;
    switch (m->method) {
    case SIPM_INVITE:
        if (!m->to_tag && c->status != CALL_ANSWERED && m->cseq > c->invite_cseq) {
            /* A new initial INVITE transaction, typically after a 401/407 challenge. */
            c->invite_cseq = m->cseq;
            c->sip_code = 0;
            c->status = CALL_IN_PROGRESS;
            e->cancel_seen = false;
            reopen_call(e);
        }
        if (!m->to_tag && !c->user_agent_caller)
            c->user_agent_caller = call_strdup(c, m->user_agent);
        add_offer(d, c, m, ts);
        break;
    case SIPM_CANCEL:
        if (c->status != CALL_ANSWERED) {
            e->cancel_seen = true;
            c->status = CALL_CANCELLED;
            if (!c->end)
                end_call(e, ts, END_FINAL_RESPONSE);
        }
        break;
    case SIPM_BYE:
        if (c->end_reason != END_BYE) {
            /* A BYE is only sent in a confirmed dialog: the 2xx was not captured. */
            if (c->status == CALL_IN_PROGRESS && m->to_tag)
                c->status = CALL_ANSWERED;
            end_call(e, ts, END_BYE);
        }
        break;
    case SIPM_ACK:
    case SIPM_PRACK:
    case SIPM_UPDATE:
        add_offer(d, c, m, ts);
        break;
    case SIPM_INFO:
        if (m->dtmf_key && d->sink.dtmf) {
            bool from_caller = sent_by_caller(c, m);
            uint32_t *last = &e->info_cseq[from_caller ? 0 : 1];
            if (m->cseq > *last) {
                *last = m->cseq;
                d->sink.dtmf(d->sink.user, c, from_caller, m->dtmf_key, ts);
            }
        }
        break;
    default:
        break;
    }
}

static void on_invite_response(struct dialogs *d, struct dialog_entry *e,
                               const struct sip_msg *m, pkt_time_t ts)
{
    struct call *c = e->call;
    bool initial = m->cseq == c->invite_cseq && c->status != CALL_ANSWERED;
    if (m->cseq == c->invite_cseq && c->status == CALL_ANSWERED && m->status >= 200 &&
        m->status < 300 && c->to_tag && m->to_tag && strcmp(c->to_tag, m->to_tag) != 0)
        return; /* a second fork answered too: the call is the first branch */
    if (!initial) {
        /* Response to a re-INVITE (or a repeat of the answer seen on another hop). */
        if (m->status >= 200 && m->status < 300)
            add_offer(d, c, m, ts);
        return;
    }
    if (m->status < 200) {
        if (m->status > 100)
            add_offer(d, c, m, ts); /* early media: 183 with SDP */
        return;
    }
    if (m->status < 300) {
        c->status = CALL_ANSWERED;
        c->answer = ts;
        c->sip_code = m->status;
        c->to_tag = call_strdup(c, m->to_tag);
        c->user_agent_callee = call_strdup(c, m->user_agent);
        reopen_call(e); /* a 200 racing a CANCEL wins: the call was answered */
        add_offer(d, c, m, ts);
        return;
    }
    c->sip_code = m->status;
    c->status = status_from_code(m->status, e->cancel_seen);
    if (!c->user_agent_callee)
        c->user_agent_callee = call_strdup(c, m->user_agent);
    end_call(e, ts, END_FINAL_RESPONSE);
    /* A challenge is often answered by a person typing a password: the new INVITE
     * (same Call-ID, higher CSeq) may come long after 32 s and is still this call. */
    if (m->status == 401 || m->status == 407)
        e->linger_until = ts + (pkt_time_t)d->cfg->ringing_timeout_s * SECOND;
}

static void on_response(struct dialogs *d, struct dialog_entry *e, const struct sip_msg *m,
                        pkt_time_t ts)
{
    switch (m->cseq_method) {
    case SIPM_INVITE:
        on_invite_response(d, e, m, ts);
        break;
    case SIPM_PRACK:
    case SIPM_UPDATE:
        if (m->status >= 200 && m->status < 300)
            add_offer(d, e->call, m, ts);
        break;
    default:
        break;
    }
}

static uint64_t wire_fingerprint(const struct sip_wire *w)
{
    uint64_t h = fnv1a(w->raw, w->raw_len, FNV_SEED);
    h = fnv1a(&w->src, sizeof(w->src), h);
    h = fnv1a(&w->dst, sizeof(w->dst), h);
    h = fnv1a(&w->sport, sizeof(w->sport), h);
    return fnv1a(&w->dport, sizeof(w->dport), h);
}

/* Messages that can open a call: an INVITE, or a response to one (the INVITE was lost). */
static bool opens_call(const struct sip_msg *m)
{
    return m->is_request ? m->method == SIPM_INVITE : m->cseq_method == SIPM_INVITE;
}

void dialogs_on_sip(struct dialogs *d, const struct sip_msg *m, const struct sip_wire *w)
{
    uint64_t h = fnv1a(m->call_id, strlen(m->call_id), FNV_SEED);
    struct dialog_entry *e = lookup(d, m->call_id, h);
    if (!e) {
        if (!opens_call(m)) {
            COUNT(d->counters, sip_non_call);
            return;
        }
        if (d->count >= d->cfg->max_calls) {
            COUNT(d->counters, drop_call_table_full);
            log_limited(LOG_WARNING, "call table full (%zu calls): call %s not tracked",
                        d->count, m->call_id);
            return;
        }
        e = create(d, m, w, h);
        if (!e)
            return;
    }
    struct call *c = e->call;
    bool retransmission = call_seen_before(c, wire_fingerprint(w));
    struct call_sip_message *kept =
        call_add_message(c, w, m->start_line, d->cfg->max_messages_per_call);
    if (kept)
        kept->retransmission = retransmission;
    if (w->ts > c->last_activity)
        c->last_activity = w->ts;
    if (retransmission) {
        COUNT(d->counters, sip_retransmissions);
        return;
    }
    if (m->is_request)
        on_request(d, e, m, w->ts);
    else
        on_response(d, e, m, w->ts);
}

void dialogs_touch(struct dialogs *d, struct call *c, pkt_time_t now)
{
    (void)d;
    if (now > c->last_activity)
        c->last_activity = now;
}

/* Decides whether an open call is over at packet time now; returns true when it is. */
static bool expire(const struct config *cfg, struct dialog_entry *e, pkt_time_t now)
{
    struct call *c = e->call;
    if (e->linger_until)
        return now >= e->linger_until;
    if (c->status == CALL_ANSWERED) {
        if (now - c->last_activity < (pkt_time_t)cfg->call_timeout_s * SECOND)
            return false;
    } else {
        if (now - c->last_activity < (pkt_time_t)cfg->ringing_timeout_s * SECOND)
            return false;
        c->status = CALL_TIMEOUT;
    }
    c->end = c->last_activity;
    c->end_reason = END_TIMEOUT;
    return true;
}

void dialogs_tick(struct dialogs *d, pkt_time_t now)
{
    struct dialog_entry *e = d->head;
    while (e) {
        struct dialog_entry *next = e->next;
        if (expire(d->cfg, e, now))
            finish(d, e);
        e = next;
    }
}

void dialogs_free(struct dialogs *d, pkt_time_t now, bool interrupted)
{
    if (!d)
        return;
    while (d->head) {
        struct dialog_entry *e = d->head;
        if (!expire(d->cfg, e, now) && interrupted && !e->call->end) {
            e->call->end = now;
            e->call->end_reason = END_INTERRUPTED;
        }
        finish(d, e);
    }
    free(d->buckets);
    free(d);
}

static bool is_internal(const struct config *cfg, const struct party *p)
{
    if (!p->number)
        return false;
    for (size_t i = 0; i < cfg->ninternal_patterns; i++)
        if (number_matches(cfg->internal_patterns[i], p->number))
            return true;
    return false;
}

enum call_direction call_classify_direction(const struct config *cfg, const struct call *c)
{
    if (config_is_trunk(cfg, &c->caller_addr))
        return DIR_INBOUND;
    if (config_is_trunk(cfg, &c->callee_addr))
        return DIR_OUTBOUND;
    bool caller_in = is_internal(cfg, &c->caller), callee_in = is_internal(cfg, &c->callee);
    if (caller_in && callee_in)
        return DIR_INTERNAL;
    if (caller_in)
        return DIR_OUTBOUND;
    if (callee_in)
        return DIR_INBOUND;
    return DIR_UNKNOWN;
}

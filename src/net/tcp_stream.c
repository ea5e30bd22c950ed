/*
 * tcp_stream.c - per-flow TCP reassembly for SIP over TCP (RFC 9293 §3.4 sequence
 * numbers, §3.10.7.4 segment acceptance, in a passive observer's version).
 *
 * A flow is one direction of a connection, found in a chained hash table (fixed seed)
 * by its 4-tuple, and kept on a list ordered by last activity for idle expiry.  Each
 * flow holds:
 *   - next_seq: the sequence number of the first byte not yet put in order;
 *   - buf: in-order bytes the consumer has not consumed yet (offered again, with what
 *     follows, on every new segment);
 *   - ooo: segments beyond a gap, sorted, disjoint (bytes already held win over a
 *     retransmission that disagrees, so nothing is delivered twice).
 * Comparisons use 32-bit serial arithmetic (RFC 1982) so the sequence space may wrap.
 *
 * Memory per flow is bounded by max_flow_buffer (buf + ooo): when a gap does not fill
 * before held data reaches the bound, the stream skips to the held data (drop_tcp_gap)
 * and the consumer resynchronises on the next message start; when the consumer leaves
 * more than the bound unconsumed, those bytes are dropped (drop_tcp_overflow).
 *
 * The common case costs no copy: an in-order segment on a flow with nothing buffered
 * is offered straight from the capture buffer, and only what the consumer leaves is
 * kept.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "greffier/tcp_stream.h"
#include "net_internal.h"

struct ooo_seg {
    struct ooo_seg *next;
    uint32_t seq;
    size_t len;
    uint8_t data[];
};

struct flow {
    struct tcp_flow pub; /* what the consumer sees */
    uint32_t hash;
    struct flow *hnext;         /* hash chain */
    struct flow *older, *newer; /* activity list, least recent first */
    uint32_t next_seq;
    bool fin;
    uint32_t fin_seq; /* sequence number the FIN occupies */
    uint8_t *buf;
    size_t len, cap;
    struct ooo_seg *ooo;
    size_t ooo_bytes;
};

struct tcp_reassembler {
    struct tcp_limits limits;
    struct counters *c;
    tcp_data_fn on_data;
    tcp_app_free_fn app_free;
    void *user;
    struct flow **buckets;
    size_t mask;
    struct flow *oldest, *newest;
    size_t count;
};

static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

struct tcp_reassembler *tcp_reassembler_new(const struct tcp_limits *limits,
                                            struct counters *counters, tcp_data_fn on_data,
                                            tcp_app_free_fn app_free, void *user)
{
    struct tcp_reassembler *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->limits.max_flows = 65536;
    r->limits.max_flow_buffer = 256 * 1024;
    r->limits.idle_timeout = 300 * (pkt_time_t)1000000;
    if (limits) {
        if (limits->max_flows)
            r->limits.max_flows = limits->max_flows;
        if (limits->max_flow_buffer)
            r->limits.max_flow_buffer = limits->max_flow_buffer;
        if (limits->idle_timeout > 0)
            r->limits.idle_timeout = limits->idle_timeout;
    }
    r->c = counters;
    r->on_data = on_data;
    r->app_free = app_free;
    r->user = user;
    size_t n = 64;
    while (n < r->limits.max_flows && n < ((size_t)1 << 20))
        n <<= 1;
    r->buckets = calloc(n, sizeof(*r->buckets));
    if (!r->buckets) {
        free(r);
        return NULL;
    }
    r->mask = n - 1;
    return r;
}

static void list_unlink(struct tcp_reassembler *r, struct flow *f)
{
    if (f->older)
        f->older->newer = f->newer;
    else
        r->oldest = f->newer;
    if (f->newer)
        f->newer->older = f->older;
    else
        r->newest = f->older;
    f->older = f->newer = NULL;
}

static void list_append(struct tcp_reassembler *r, struct flow *f)
{
    f->older = r->newest;
    f->newer = NULL;
    if (r->newest)
        r->newest->newer = f;
    else
        r->oldest = f;
    r->newest = f;
}

static void ooo_clear(struct flow *f)
{
    while (f->ooo) {
        struct ooo_seg *s = f->ooo;
        f->ooo = s->next;
        free(s);
    }
    f->ooo_bytes = 0;
}

static void flow_free(struct tcp_reassembler *r, struct flow *f)
{
    struct flow **pp = &r->buckets[f->hash & r->mask];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    list_unlink(r, f);
    r->count--;
    /* A message cut short by the close, or data held beyond a gap that never filled. */
    if (f->len || f->ooo)
        COUNT(r->c, drop_tcp_unfinished);
    if (f->pub.app && r->app_free)
        r->app_free(f->pub.app);
    ooo_clear(f);
    free(f->buf);
    free(f);
}

void tcp_reassembler_free(struct tcp_reassembler *r)
{
    if (!r)
        return;
    while (r->oldest)
        flow_free(r, r->oldest);
    free(r->buckets);
    free(r);
}

void tcp_reassembler_expire(struct tcp_reassembler *r, pkt_time_t now)
{
    while (r->oldest && now - r->oldest->pub.last_seen > r->limits.idle_timeout)
        flow_free(r, r->oldest);
}

static uint32_t flow_hash(const struct l4_packet *seg)
{
    uint32_t h = NET_HASH_SEED;
    h = net_hash_bytes(h, &seg->src.family, 1);
    h = net_hash_bytes(h, seg->src.a, net_addr_len(&seg->src));
    h = net_hash_bytes(h, seg->dst.a, net_addr_len(&seg->dst));
    h = net_hash_bytes(h, &seg->sport, sizeof(seg->sport));
    h = net_hash_bytes(h, &seg->dport, sizeof(seg->dport));
    return h;
}

static struct flow *flow_lookup(struct tcp_reassembler *r, const struct l4_packet *seg, uint32_t h)
{
    for (struct flow *f = r->buckets[h & r->mask]; f; f = f->hnext)
        if (f->hash == h && f->pub.sport == seg->sport && f->pub.dport == seg->dport &&
            ip_addr_equal(&f->pub.src, &seg->src) && ip_addr_equal(&f->pub.dst, &seg->dst))
            return f;
    return NULL;
}

bool tcp_reassembler_has_flow(const struct tcp_reassembler *r, const struct l4_packet *seg)
{
    uint32_t h = flow_hash(seg);
    for (const struct flow *f = r->buckets[h & r->mask]; f; f = f->hnext)
        if (f->hash == h && f->pub.sport == seg->sport && f->pub.dport == seg->dport &&
            ip_addr_equal(&f->pub.src, &seg->src) && ip_addr_equal(&f->pub.dst, &seg->dst))
            return true;
    return false;
}

static struct flow *flow_new(struct tcp_reassembler *r, const struct l4_packet *seg, uint32_t h)
{
    struct flow *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->pub.src = seg->src;
    f->pub.dst = seg->dst;
    f->pub.sport = seg->sport;
    f->pub.dport = seg->dport;
    f->pub.first_seen = seg->ts;
    f->pub.last_seen = seg->ts;
    f->hash = h;
    f->hnext = r->buckets[h & r->mask];
    r->buckets[h & r->mask] = f;
    list_append(r, f);
    r->count++;
    return f;
}

/* Appends to the unconsumed buffer; false when memory runs out. */
static bool buf_append(struct flow *f, const uint8_t *p, size_t n)
{
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4096;
        while (cap < f->len + n)
            cap *= 2;
        uint8_t *nb = realloc(f->buf, cap);
        if (!nb)
            return false;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return true;
}

/* Offers [p, p+n) until the consumer takes all or stops taking; returns what it took.
 * A consumer that frames one message per call is called again for the next. */
static size_t offer(struct tcp_reassembler *r, struct flow *f, pkt_time_t ts, const uint8_t *p,
                    size_t n)
{
    size_t used = 0;
    while (used < n) {
        size_t k = r->on_data(r->user, &f->pub, ts, p + used, n - used);
        if (k == 0)
            break;
        used += k > n - used ? n - used : k;
    }
    return used;
}

static void offer_buffer(struct tcp_reassembler *r, struct flow *f, pkt_time_t ts)
{
    if (f->len == 0)
        return;
    size_t used = offer(r, f, ts, f->buf, f->len);
    memmove(f->buf, f->buf + used, f->len - used);
    f->len -= used;
}

/* Moves held segments that the in-order stream has reached into the buffer. */
static void drain_ooo(struct tcp_reassembler *r, struct flow *f)
{
    while (f->ooo && seq_le(f->ooo->seq, f->next_seq)) {
        struct ooo_seg *s = f->ooo;
        uint32_t behind = f->next_seq - s->seq;
        f->ooo = s->next;
        f->ooo_bytes -= s->len;
        if (behind < s->len) {
            if (buf_append(f, s->data + behind, s->len - behind))
                f->next_seq += (uint32_t)(s->len - behind);
            else
                COUNT(r->c, drop_tcp_overflow);
        }
        free(s);
    }
}

static struct ooo_seg *seg_new(uint32_t seq, const uint8_t *p, size_t n)
{
    struct ooo_seg *s = malloc(sizeof(*s) + n);
    if (s) {
        s->next = NULL;
        s->seq = seq;
        s->len = n;
        memcpy(s->data, p, n);
    }
    return s;
}

/* Holds [seq, seq+n) beyond the gap; parts already held are not stored again. */
static void ooo_insert(struct tcp_reassembler *r, struct flow *f, uint32_t seq, const uint8_t *p,
                       size_t n)
{
    struct ooo_seg **pp = &f->ooo;

    while (n > 0) {
        while (*pp && seq_le((*pp)->seq + (uint32_t)(*pp)->len, seq))
            pp = &(*pp)->next;
        struct ooo_seg *next = *pp;
        size_t piece = n;
        if (next && seq_lt(next->seq, seq + (uint32_t)n))
            piece = seq_lt(seq, next->seq) ? (size_t)(next->seq - seq) : 0;
        if (piece > 0) {
            struct ooo_seg *s = seg_new(seq, p, piece);
            if (!s) {
                COUNT(r->c, drop_tcp_overflow);
                return;
            }
            s->next = next;
            *pp = s;
            pp = &s->next;
            f->ooo_bytes += piece;
            seq += (uint32_t)piece;
            p += piece;
            n -= piece;
            continue;
        }
        /* next covers seq: skip the bytes it already holds. */
        size_t skip = (uint32_t)(next->seq + (uint32_t)next->len - seq);
        if (skip >= n)
            return;
        seq += (uint32_t)skip;
        p += skip;
        n -= skip;
        pp = &next->next;
    }
}

/* Keeps the flow within max_flow_buffer (see the file comment). */
static void enforce_limit(struct tcp_reassembler *r, struct flow *f, pkt_time_t ts)
{
    size_t max = r->limits.max_flow_buffer;

    while (f->ooo && f->len + f->ooo_bytes > max) {
        /* The unconsumed bytes begin a message whose rest is in the gap: useless. */
        COUNT(r->c, drop_tcp_gap);
        log_limited(LOG_DEBUG, "tcp: gap of %u bytes never filled, skipping",
                    (unsigned)(f->ooo->seq - f->next_seq));
        f->len = 0;
        f->next_seq = f->ooo->seq;
        drain_ooo(r, f);
        offer_buffer(r, f, ts);
    }
    if (f->len > max) {
        COUNT(r->c, drop_tcp_overflow);
        log_limited(LOG_DEBUG, "tcp: %zu unconsumed bytes dropped", f->len);
        f->len = 0;
    }
}

static void add_data(struct tcp_reassembler *r, struct flow *f, uint32_t seq, struct span data,
                     pkt_time_t ts)
{
    const uint8_t *p = data.p;
    size_t n = data.len;

    if (seq_lt(seq, f->next_seq)) {
        /* Retransmitted or overlapping: only what lies beyond next_seq is new. */
        uint32_t behind = f->next_seq - seq;
        if (behind >= n)
            return;
        p += behind;
        n -= behind;
        seq = f->next_seq;
    }
    if (seq != f->next_seq) {
        ooo_insert(r, f, seq, p, n);
    } else if (f->len == 0 && !f->ooo) {
        f->next_seq += (uint32_t)n;
        size_t used = offer(r, f, ts, p, n);
        if (used < n && !buf_append(f, p + used, n - used))
            COUNT(r->c, drop_tcp_overflow);
    } else {
        if (buf_append(f, p, n)) {
            f->next_seq += (uint32_t)n;
        } else {
            COUNT(r->c, drop_tcp_overflow);
            return;
        }
        drain_ooo(r, f);
        offer_buffer(r, f, ts);
    }
    enforce_limit(r, f, ts);
}

void tcp_reassembler_segment(struct tcp_reassembler *r, const struct l4_packet *seg)
{
    uint8_t flags = seg->tcp_flags;
    uint32_t seq = seg->tcp_seq;
    uint32_t h;
    struct flow *f;

    if (seg->proto != L4_TCP)
        return;
    COUNT(r->c, tcp_segments);
    tcp_reassembler_expire(r, seg->ts);
    h = flow_hash(seg);
    f = flow_lookup(r, seg, h);

    if (flags & TCPF_SYN) {
        seq++; /* the SYN occupies the ISN; data starts after it */
        if (f && f->next_seq != seq) {
            /* A new connection on the same 4-tuple: the old one is over. */
            flow_free(r, f);
            f = NULL;
        }
    }
    if (!f) {
        /* Nothing worth a flow: a reset or a bare ACK. */
        if ((flags & TCPF_RST) || (!(flags & TCPF_SYN) && seg->payload.len == 0))
            return;
        if (r->count >= r->limits.max_flows) {
            COUNT(r->c, drop_tcp_overflow);
            log_limited(LOG_DEBUG, "tcp: flow table full (%zu flows)", r->count);
            return;
        }
        f = flow_new(r, seg, h);
        if (!f) {
            COUNT(r->c, drop_tcp_overflow);
            return;
        }
        f->next_seq = seq; /* ISN+1, or the first byte seen mid-connection */
    }
    f->pub.last_seen = seg->ts;
    list_unlink(r, f);
    list_append(r, f);

    if (seg->payload.len)
        add_data(r, f, seq, seg->payload, seg->ts);
    if (flags & TCPF_FIN) {
        f->fin = true;
        f->fin_seq = seq + (uint32_t)seg->payload.len;
    }
    /* Close once everything before the FIN is in order; a reset closes at once. */
    if ((flags & TCPF_RST) || (f->fin && seq_le(f->fin_seq, f->next_seq)))
        flow_free(r, f);
}

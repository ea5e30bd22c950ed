/*
 * ipfrag.c - IPv4 and IPv6 fragment reassembly (RFC 791 §3.2, RFC 815, RFC 8200 §4.5).
 *
 * Datagrams in progress are keyed by (source, destination, identification, protocol)
 * in a chained hash table with a fixed seed, and kept on an age list (oldest first) so
 * that expiry in packet time and eviction when the table is full cost O(1) each.
 * Everything is bounded: the number of datagrams, the size of each, and the number of
 * disjoint byte ranges a datagram may hold while its holes fill.
 *
 * Overlaps are decided the same way every time: bytes that agree with what arrived
 * before (a duplicate or a retransmission) are accepted; a fragment that contradicts
 * earlier bytes or the known end of the datagram is dropped whole and counted
 * (drop_frag_overlap), and the earlier data stands.  RFC 5722 asks IPv6 receivers to
 * discard the whole datagram instead; a passive recorder prefers to keep the datagram
 * the endpoint most probably accepted, and the attack RFC 5722 prevents (evading a
 * firewall) does not apply to a recorder.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "net_internal.h"

/* A real datagram of 64 KiB over a 1280-byte MTU has 52 fragments. */
#define FRAG_MAX_RANGES 64

struct frag_range {
    size_t start, end; /* [start, end) */
};

struct frag_entry {
    struct ipfrag_key key;
    uint32_t hash;
    struct frag_entry *hnext;         /* hash chain */
    struct frag_entry *older, *newer; /* age list */
    pkt_time_t first_ts;              /* arrival of the first fragment */
    uint8_t *buf;
    size_t cap;
    size_t total; /* datagram length, known once the last fragment came */
    bool total_known;
    bool proto_known;
    uint8_t proto;
    unsigned nranges;
    struct frag_range r[FRAG_MAX_RANGES]; /* sorted, disjoint, not adjacent */
    struct ipfrag_datagram dg;            /* handed out when complete */
};

struct ipfrag_table {
    size_t max_datagrams;
    size_t max_bytes;
    pkt_time_t timeout;
    struct counters *c;
    struct frag_entry **buckets;
    size_t mask;
    struct frag_entry *oldest, *newest;
    size_t count;
};

struct ipfrag_table *ipfrag_new(const struct net_limits *limits, struct counters *c)
{
    struct ipfrag_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->max_datagrams = limits->frag_max_datagrams;
    t->max_bytes = limits->frag_max_bytes;
    t->timeout = limits->frag_timeout;
    t->c = c;
    size_t n = 16;
    while (n < t->max_datagrams && n < ((size_t)1 << 20))
        n <<= 1;
    t->buckets = calloc(n, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    return t;
}

static void entry_destroy(struct frag_entry *e)
{
    free(e->buf);
    free(e);
}

/* Takes e out of the hash chain and the age list; the caller frees or hands it out. */
static void entry_unlink(struct ipfrag_table *t, struct frag_entry *e)
{
    struct frag_entry **pp = &t->buckets[e->hash & t->mask];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->older)
        e->older->newer = e->newer;
    else
        t->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        t->newest = e->older;
    t->count--;
}

void ipfrag_free(struct ipfrag_table *t)
{
    if (!t)
        return;
    while (t->oldest) {
        struct frag_entry *e = t->oldest;
        entry_unlink(t, e);
        entry_destroy(e);
    }
    free(t->buckets);
    free(t);
}

void ipfrag_release(struct ipfrag_datagram *dg)
{
    if (dg)
        entry_destroy((struct frag_entry *)(void *)((char *)dg - offsetof(struct frag_entry, dg)));
}

void ipfrag_expire(struct ipfrag_table *t, pkt_time_t now)
{
    while (t->oldest && now - t->oldest->first_ts > t->timeout) {
        struct frag_entry *e = t->oldest;
        entry_unlink(t, e);
        entry_destroy(e);
        COUNT(t->c, drop_frag_timeout);
    }
}

static uint32_t key_hash(const struct ipfrag_key *k)
{
    uint32_t h = NET_HASH_SEED;
    h = net_hash_bytes(h, &k->src.family, 1);
    h = net_hash_bytes(h, k->src.a, net_addr_len(&k->src));
    h = net_hash_bytes(h, k->dst.a, net_addr_len(&k->dst));
    h = net_hash_bytes(h, &k->id, sizeof(k->id));
    h = net_hash_bytes(h, &k->proto, 1);
    return h;
}

static bool key_equal(const struct ipfrag_key *a, const struct ipfrag_key *b)
{
    return a->id == b->id && a->proto == b->proto && ip_addr_equal(&a->src, &b->src) &&
           ip_addr_equal(&a->dst, &b->dst);
}

static struct frag_entry *lookup(struct ipfrag_table *t, const struct ipfrag_key *k, uint32_t h)
{
    for (struct frag_entry *e = t->buckets[h & t->mask]; e; e = e->hnext)
        if (e->hash == h && key_equal(&e->key, k))
            return e;
    return NULL;
}

static struct frag_entry *create(struct ipfrag_table *t, const struct ipfrag_key *k, uint32_t h,
                                 pkt_time_t ts)
{
    /* Full: the oldest datagram is the least likely to complete. */
    if (t->count >= t->max_datagrams && t->oldest) {
        struct frag_entry *old = t->oldest;
        entry_unlink(t, old);
        entry_destroy(old);
        COUNT(t->c, drop_frag_overflow);
    }
    struct frag_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->key = *k;
    e->hash = h;
    e->first_ts = ts;
    e->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = e;
    e->older = t->newest;
    if (t->newest)
        t->newest->newer = e;
    else
        t->oldest = e;
    t->newest = e;
    t->count++;
    return e;
}

/* Whether [off, end) with these bytes contradicts what e already holds. */
static bool contradicts(const struct frag_entry *e, size_t off, size_t end, struct span data)
{
    for (unsigned i = 0; i < e->nranges; i++) {
        size_t lo = e->r[i].start > off ? e->r[i].start : off;
        size_t hi = e->r[i].end < end ? e->r[i].end : end;
        if (lo < hi && memcmp(e->buf + lo, data.p + (lo - off), hi - lo) != 0)
            return true;
    }
    return false;
}

/* Adds [off, end) to the sorted range list, merging what it touches; false when the
 * list is full and the range touches nothing. */
static bool add_range(struct frag_entry *e, size_t off, size_t end)
{
    struct frag_range out[FRAG_MAX_RANGES];
    unsigned n = 0, i = 0;

    while (i < e->nranges && e->r[i].end < off)
        out[n++] = e->r[i++];
    size_t s = off, t = end;
    while (i < e->nranges && e->r[i].start <= end) {
        if (e->r[i].start < s)
            s = e->r[i].start;
        if (e->r[i].end > t)
            t = e->r[i].end;
        i++;
    }
    if (n + 1 + (e->nranges - i) > FRAG_MAX_RANGES)
        return false;
    out[n].start = s;
    out[n++].end = t;
    while (i < e->nranges)
        out[n++] = e->r[i++];
    memcpy(e->r, out, n * sizeof(out[0]));
    e->nranges = n;
    return true;
}

static bool ensure_capacity(struct ipfrag_table *t, struct frag_entry *e, size_t end)
{
    if (end <= e->cap)
        return true;
    size_t cap = e->cap ? e->cap * 2 : 2048;
    if (cap < end)
        cap = end;
    if (cap > t->max_bytes)
        cap = t->max_bytes;
    uint8_t *nb = realloc(e->buf, cap);
    if (!nb)
        return false;
    e->buf = nb;
    e->cap = cap;
    return true;
}

struct ipfrag_datagram *ipfrag_add(struct ipfrag_table *t, const struct ipfrag_key *k, size_t off,
                                   bool more, uint8_t proto, struct span data, pkt_time_t ts)
{
    const char *err;
    size_t end = off + data.len;
    uint32_t h = key_hash(k);
    struct frag_entry *e;

    ipfrag_expire(t, ts);
    e = lookup(t, k, h);

    if (end > t->max_bytes) {
        /* The datagram can never be delivered: free what it holds now. */
        if (e) {
            entry_unlink(t, e);
            entry_destroy(e);
        }
        err = "reassembled datagram too big";
        goto overflow;
    }
    if (data.len == 0 && more)
        return NULL; /* carries nothing and ends nothing */
    if (!e)
        e = create(t, k, h, ts);
    err = "out of memory";
    if (!e)
        goto overflow;

    err = "fragment beyond the end of its datagram";
    if (e->total_known && end > e->total)
        goto overlap;
    if (!more) {
        err = "second, different last fragment";
        if (e->total_known && end != e->total)
            goto overlap;
        err = "last fragment ends before data already received";
        if (e->nranges && e->r[e->nranges - 1].end > end)
            goto overlap;
    }
    err = "first fragments disagree on the protocol";
    if (off == 0 && e->proto_known && proto != e->proto)
        goto overlap;
    err = "fragment contradicts bytes already received";
    if (contradicts(e, off, end, data))
        goto overlap;

    if (data.len) {
        err = "too many holes";
        if (!ensure_capacity(t, e, end) || !add_range(e, off, end))
            goto overflow;
        memcpy(e->buf + off, data.p, data.len);
    }
    if (off == 0) {
        e->proto = proto;
        e->proto_known = true;
    }
    if (!more) {
        e->total = end;
        e->total_known = true;
    }
    if (!e->total_known || e->nranges != 1 || e->r[0].start != 0 || e->r[0].end != e->total)
        return NULL;

    entry_unlink(t, e);
    e->dg.data = e->buf;
    e->dg.len = e->total;
    e->dg.proto = e->proto;
    COUNT(t->c, ip_reassembled);
    return &e->dg;

overflow:
    COUNT(t->c, drop_frag_overflow);
    log_limited(LOG_DEBUG, "ipfrag: %s", err);
    return NULL;
overlap:
    COUNT(t->c, drop_frag_overlap);
    log_limited(LOG_DEBUG, "ipfrag: %s", err);
    return NULL;
}

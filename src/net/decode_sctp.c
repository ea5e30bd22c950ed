/*
 * decode_sctp.c - SCTP (RFC 9260, formerly RFC 4960): the 12-byte common header, then
 * chunks of (type, flags, length) padded to 4 bytes (§3.2).  Each user message carried
 * in DATA chunks (§3.3.1) is delivered as one l4_packet with its payload protocol
 * identifier; other chunks are skipped.
 *
 * A message larger than the path MTU is split over DATA chunks with consecutive TSNs,
 * the first flagged B, the last E (§6.9); SIP INVITEs with SDP and ISUP bodies are split
 * this way in real captures.  They are rebuilt here, per association and stream, when
 * the pieces arrive in TSN order (as they are sent); a piece out of sequence, a message
 * larger than frag_max_bytes or one left incomplete for frag_timeout is dropped and
 * counted (drop_sctp_fragmented).  Few messages are ever in progress at once, so a
 * small table scanned linearly does.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "net_internal.h"

enum {
    SCTP_COMMON_HEADER = 12,
    SCTP_CHUNK_HEADER = 4,
    SCTP_DATA_HEADER = 16,
    SCTP_CHUNK_DATA = 0,
    SCTP_DATA_FLAG_E = 0x01,
    SCTP_DATA_FLAG_B = 0x02,
    SCTP_REASM_SLOTS = 64,
};

struct sctp_partial {
    bool used;
    struct ip_addr src, dst;
    uint16_t sport, dport, sid;
    uint32_t next_tsn;
    uint32_t ppid; /* from the first piece */
    pkt_time_t first_ts;
    uint8_t *buf;
    size_t len, cap;
};

struct sctp_reasm {
    struct sctp_partial slot[SCTP_REASM_SLOTS];
    size_t max_bytes;
    pkt_time_t timeout;
    struct counters *c;
};

struct sctp_reasm *sctp_reasm_new(const struct net_limits *limits, struct counters *c)
{
    struct sctp_reasm *r = calloc(1, sizeof(*r));
    if (r) {
        r->max_bytes = limits->frag_max_bytes;
        r->timeout = limits->frag_timeout;
        r->c = c;
    }
    return r;
}

static void partial_drop(struct sctp_partial *p)
{
    free(p->buf);
    memset(p, 0, sizeof(*p));
}

void sctp_reasm_free(struct sctp_reasm *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < SCTP_REASM_SLOTS; i++)
        partial_drop(&r->slot[i]);
    free(r);
}

void sctp_reasm_expire(struct sctp_reasm *r, pkt_time_t now)
{
    for (size_t i = 0; i < SCTP_REASM_SLOTS; i++) {
        if (r->slot[i].used && now - r->slot[i].first_ts > r->timeout) {
            partial_drop(&r->slot[i]);
            COUNT(r->c, drop_sctp_fragmented);
        }
    }
}

static struct sctp_partial *partial_find(struct sctp_reasm *r, const struct l4_packet *pkt,
                                         uint16_t sid)
{
    for (size_t i = 0; i < SCTP_REASM_SLOTS; i++) {
        struct sctp_partial *p = &r->slot[i];
        if (p->used && p->sid == sid && p->sport == pkt->sport && p->dport == pkt->dport &&
            ip_addr_equal(&p->src, &pkt->src) && ip_addr_equal(&p->dst, &pkt->dst))
            return p;
    }
    return NULL;
}

/* A free slot, or the oldest one given up (and counted). */
static struct sctp_partial *partial_new(struct sctp_reasm *r)
{
    struct sctp_partial *oldest = &r->slot[0];
    for (size_t i = 0; i < SCTP_REASM_SLOTS; i++) {
        if (!r->slot[i].used)
            return &r->slot[i];
        if (r->slot[i].first_ts < oldest->first_ts)
            oldest = &r->slot[i];
    }
    partial_drop(oldest);
    COUNT(r->c, drop_sctp_fragmented);
    return oldest;
}

static bool partial_append(struct sctp_reasm *r, struct sctp_partial *p, struct span data)
{
    if (data.len > r->max_bytes - p->len)
        return false;
    if (p->len + data.len > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        while (cap < p->len + data.len)
            cap *= 2;
        uint8_t *nb = realloc(p->buf, cap);
        if (!nb)
            return false;
        p->buf = nb;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data.p, data.len);
    p->len += data.len;
    return true;
}

/* One piece of a split message; pkt carries the addresses, ports and time. */
static void data_piece(struct net_decoder *d, struct l4_packet *pkt, uint8_t flags, uint32_t tsn,
                       uint16_t sid, uint32_t ppid, struct span data)
{
    struct sctp_reasm *r = d->sctp;
    const char *err;
    struct sctp_partial *p;

    sctp_reasm_expire(r, pkt->ts);
    p = partial_find(r, pkt, sid);
    if (flags & SCTP_DATA_FLAG_B) {
        err = "SCTP message abandoned for a new one on its stream";
        if (p) {
            partial_drop(p);
            COUNT(d->c, drop_sctp_fragmented);
            log_limited(LOG_DEBUG, "net: %s", err);
        }
        p = partial_new(r);
        p->used = true;
        p->src = pkt->src;
        p->dst = pkt->dst;
        p->sport = pkt->sport;
        p->dport = pkt->dport;
        p->sid = sid;
        p->next_tsn = tsn + 1;
        p->ppid = ppid;
        p->first_ts = pkt->ts;
        err = "SCTP message too big";
        if (!partial_append(r, p, data))
            goto drop;
        return;
    }
    err = "SCTP message piece without its beginning";
    if (!p)
        goto drop_piece;
    if (tsn != p->next_tsn) {
        if ((int32_t)(tsn - p->next_tsn) < 0)
            return; /* a retransmitted piece already held */
        err = "SCTP message piece out of sequence";
        goto drop;
    }
    err = "SCTP message too big";
    if (!partial_append(r, p, data))
        goto drop;
    p->next_tsn++;
    if (flags & SCTP_DATA_FLAG_E) {
        pkt->sctp_ppid = p->ppid;
        pkt->payload = span_make(p->buf, p->len);
        d->deliver(d->user, pkt);
        partial_drop(p);
    }
    return;

drop:
    partial_drop(p);
drop_piece:
    COUNT(d->c, drop_sctp_fragmented);
    log_limited(LOG_DEBUG, "net: %s", err);
}

void net_decode_sctp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                     const struct ip_addr *dst, struct span s)
{
    const char *err;
    uint16_t sport, dport, clen, sid;
    uint8_t type, flags;
    uint32_t tsn, ppid;
    size_t off = SCTP_COMMON_HEADER;
    struct l4_packet pkt;

    err = "short SCTP common header";
    if (s.len < SCTP_COMMON_HEADER)
        goto malformed;
    span_be16(s, 0, &sport);
    span_be16(s, 2, &dport);

    pkt.ts = x->ts;
    pkt.src = *src;
    pkt.dst = *dst;
    pkt.sport = sport;
    pkt.dport = dport;
    pkt.proto = L4_SCTP;
    pkt.tcp_flags = 0;
    pkt.tcp_seq = 0;
    pkt.vlan = x->vlan;

    while (off < s.len) {
        struct span chunk, data;
        err = "short SCTP chunk header";
        if (!span_u8(s, off, &type) || !span_u8(s, off + 1, &flags) ||
            !span_be16(s, off + 2, &clen))
            goto malformed;
        err = "SCTP chunk length below 4";
        if (clen < SCTP_CHUNK_HEADER)
            goto malformed;
        err = "SCTP chunk longer than the packet";
        if (!span_sub(s, off, clen, &chunk))
            goto malformed;
        if (type == SCTP_CHUNK_DATA) {
            err = "SCTP DATA chunk without user data";
            if (clen <= SCTP_DATA_HEADER)
                goto malformed;
            span_be32(chunk, 4, &tsn);
            span_be16(chunk, 8, &sid);
            span_be32(chunk, 12, &ppid);
            span_tail(chunk, SCTP_DATA_HEADER, &data);
            if ((flags & (SCTP_DATA_FLAG_B | SCTP_DATA_FLAG_E)) ==
                (SCTP_DATA_FLAG_B | SCTP_DATA_FLAG_E)) {
                pkt.sctp_ppid = ppid;
                pkt.payload = data;
                d->deliver(d->user, &pkt);
            } else {
                data_piece(d, &pkt, flags, tsn, sid, ppid, data);
            }
        }
        /* The last chunk's padding may be absent; stepping past the end ends the loop. */
        off += ((size_t)clen + 3) & ~(size_t)3;
    }
    return;

malformed:
    COUNT(d->c, drop_sctp_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

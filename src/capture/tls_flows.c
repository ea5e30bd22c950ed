/*
 * tls_flows.c - a small table of SIP-over-TLS connections, keyed by both endpoints
 * in a canonical order (see tls_flows.h for why they are kept).
 */
#include <stdlib.h>
#include <string.h>

#include "tls_flows.h"

struct tls_flows {
    struct tls_flow_stats *slots;
    size_t n, max;
    size_t overflow; /* segments of connections beyond max, folded into no entry */
};

struct tls_flows *tls_flows_new(size_t max_flows)
{
    struct tls_flows *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->slots = calloc(max_flows, sizeof(*t->slots));
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->max = max_flows;
    return t;
}

void tls_flows_free(struct tls_flows *t)
{
    if (t)
        free(t->slots);
    free(t);
}

static int endpoint_cmp(const struct ip_addr *a, uint16_t ap, const struct ip_addr *b,
                        uint16_t bp)
{
    int r = memcmp(a, b, sizeof(*a));
    return r ? r : (int)ap - (int)bp;
}

void tls_flows_note(struct tls_flows *t, const struct l4_packet *pkt, size_t bytes)
{
    struct tls_flow_stats key = {0};
    if (endpoint_cmp(&pkt->src, pkt->sport, &pkt->dst, pkt->dport) <= 0) {
        key.a = pkt->src, key.a_port = pkt->sport, key.b = pkt->dst, key.b_port = pkt->dport;
    } else {
        key.a = pkt->dst, key.a_port = pkt->dport, key.b = pkt->src, key.b_port = pkt->sport;
    }
    /* Connections are few (phones keep one each): a linear scan is enough. */
    for (size_t i = 0; i < t->n; i++) {
        struct tls_flow_stats *f = &t->slots[i];
        if (f->a_port == key.a_port && f->b_port == key.b_port &&
            ip_addr_equal(&f->a, &key.a) && ip_addr_equal(&f->b, &key.b)) {
            f->packets++;
            f->bytes += bytes;
            if (pkt->ts > f->last)
                f->last = pkt->ts;
            return;
        }
    }
    if (t->n == t->max) {
        t->overflow++;
        return;
    }
    key.first = key.last = pkt->ts;
    key.packets = 1;
    key.bytes = bytes;
    t->slots[t->n++] = key;
}

void tls_flows_drain(struct tls_flows *t, void (*fn)(void *user, const struct tls_flow_stats *f),
                     void *user)
{
    for (size_t i = 0; i < t->n; i++)
        fn(user, &t->slots[i]);
    t->n = 0;
}

/*
 * call_build.c - creating a call and growing it inside its own arena.
 *
 * A call's strings, messages and offers all live in one su_home (sofia-sip's
 * reference-counted memory pool), so a call dies in one su_home_unref() and no
 * string derived from SIP outlives the call it belongs to.
 */
#include <string.h>

#include <sofia-sip/su_alloc.h>

#include "call_build.h"
#include "greffier/number.h"

struct call *call_new(const char *call_id)
{
    su_home_t *home = su_home_new(sizeof(su_home_t));
    if (!home)
        return NULL;
    struct call *c = su_zalloc(home, sizeof(*c));
    if (!c) {
        su_home_unref(home);
        return NULL;
    }
    c->home = home;
    c->call_id = su_strdup(home, call_id);
    if (!c->call_id) {
        su_home_unref(home);
        return NULL;
    }
    return c;
}

void call_free(struct call *c)
{
    if (c)
        su_home_unref((su_home_t *)c->home);
}

char *call_strdup(struct call *c, const char *s)
{
    return s ? su_strdup((su_home_t *)c->home, s) : NULL;
}

/* Grows an arena array by doubling; false when the arena is out of memory. */
static bool grow(struct call *c, void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *n = su_realloc((su_home_t *)c->home, *array, (isize_t)(ncap * elem));
    if (!n)
        return false;
    *array = n;
    *cap = ncap;
    return true;
}

struct call_sip_message *call_add_message(struct call *c, const struct sip_wire *w,
                                          const char *start_line, size_t max_messages)
{
    if (c->nmessages >= max_messages) {
        c->messages_dropped++;
        return NULL;
    }
    void *arr = c->messages;
    if (!grow(c, &arr, &c->messages_cap, c->nmessages + 1, sizeof(*c->messages))) {
        c->messages_dropped++;
        return NULL;
    }
    c->messages = arr;
    uint8_t *raw = su_alloc((su_home_t *)c->home, (isize_t)(w->raw_len ? w->raw_len : 1));
    if (!raw) {
        c->messages_dropped++;
        return NULL;
    }
    memcpy(raw, w->raw, w->raw_len);
    struct call_sip_message *m = &c->messages[c->nmessages++];
    memset(m, 0, sizeof(*m));
    m->ts = w->ts;
    m->src = w->src;
    m->dst = w->dst;
    m->sport = w->sport;
    m->dport = w->dport;
    m->transport = w->transport;
    m->start_line = call_strdup(c, start_line);
    m->raw = raw;
    m->raw_len = w->raw_len;
    return m;
}

struct call_media_offer *call_add_offer(struct call *c, pkt_time_t ts, bool from_caller,
                                        const struct sdp_media_list *sdp)
{
    void *arr = c->offers;
    if (!grow(c, &arr, &c->offers_cap, c->noffers + 1, sizeof(*c->offers)))
        return NULL;
    c->offers = arr;
    struct call_media_offer *o = &c->offers[c->noffers++];
    o->ts = ts;
    o->message_index = c->nmessages ? (unsigned)(c->nmessages - 1) : 0;
    o->from_caller = from_caller;
    o->sdp = *sdp;
    return o;
}

bool call_seen_before(struct call *c, uint64_t fingerprint)
{
    for (size_t i = 0; i < c->nfingerprints; i++)
        if (c->fingerprints[i] == fingerprint)
            return true;
    void *arr = c->fingerprints;
    if (grow(c, &arr, &c->fingerprints_cap, c->nfingerprints + 1, sizeof(uint64_t))) {
        c->fingerprints = arr;
        c->fingerprints[c->nfingerprints++] = fingerprint;
    }
    return false;
}

void call_set_party(struct call *c, struct party *p, const struct sip_party *from,
                    const struct number_plan *plan)
{
    p->number = call_strdup(c, from->user);
    p->name = call_strdup(c, from->display);
    p->uri = call_strdup(c, from->uri);
    p->number_norm = NULL;
    char norm[40];
    if (from->user && number_normalise(plan, from->user, norm, sizeof(norm)))
        p->number_norm = call_strdup(c, norm);
}

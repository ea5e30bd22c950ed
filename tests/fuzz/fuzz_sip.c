/*
 * fuzz_sip.c - hostile bytes through the SIP layer: datagram framing, sofia-sip parsing
 * of every framed message (every field read), and TCP/WebSocket stream framing fed in
 * pieces whose sizes come from the input itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/sip_msg.h"
#include "greffier/sip_stream.h"

#define MAX_MSG 16384

static volatile size_t sink;

static void touch_str(const char *s)
{
    if (s)
        sink += strlen(s);
}

static void touch_party(const struct sip_party *p)
{
    touch_str(p->user);
    touch_str(p->display);
    touch_str(p->uri);
}

static void parse_and_touch(void *user, const uint8_t *msg, size_t len)
{
    (void)user;
    /* An exact-size copy, so that a read past len is caught. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return;
    memcpy(copy, msg, len);
    const char *err = NULL;
    struct sip_msg *m = sip_msg_parse(copy, len, &err);
    if (!m) {
        touch_str(err);
        free(copy);
        return;
    }
    sink += (size_t)m->is_request + (size_t)m->method + (size_t)m->status + m->cseq +
            (size_t)m->cseq_method + (size_t)m->has_sdp + (size_t)m->sdp_malformed;
    touch_str(m->method_name);
    touch_str(m->reason);
    touch_str(m->request_uri);
    touch_str(m->call_id);
    touch_str(m->from_tag);
    touch_str(m->to_tag);
    touch_str(m->branch);
    touch_str(m->user_agent);
    touch_str(m->start_line);
    touch_str(sip_method_id_name(m->method));
    touch_party(&m->from);
    touch_party(&m->to);
    touch_party(&m->pai);
    touch_party(&m->rpid);
    touch_party(&m->diversion);
    if (m->has_sdp) {
        for (unsigned i = 0; i < m->sdp.count && i < SDP_MAX_MEDIA; i++) {
            const struct sdp_media *s = &m->sdp.m[i];
            sink += strlen(s->media) + strlen(s->proto) + s->port + s->addr.family;
            touch_str(media_direction_name(s->direction));
            for (unsigned p = 0; p < s->npayloads; p++)
                sink += s->payloads[p].pt + strlen(s->payloads[p].encoding) +
                        s->payloads[p].clock_rate + s->payloads[p].channels;
            for (unsigned k = 0; k < s->ncrypto; k++)
                sink += s->crypto[k].tag + strlen(s->crypto[k].suite) + strlen(s->crypto[k].key);
        }
    }
    sip_msg_free(m);
    free(copy);
}

/* Feeds the input as a TCP stream, as a reassembly buffer would: unconsumed bytes stay
 * in front of the next piece. */
static void stream(const uint8_t *data, size_t size)
{
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c;
    memset(&c, 0, sizeof(c));
    if (!st)
        return;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        sip_stream_state_free(st);
        return;
    }
    size_t have = 0, fed = 0, k = 0;
    while (fed < size) {
        /* piece sizes from the input's own bytes: 1..256 */
        size_t piece = (size_t)data[k++ % size] + 1;
        if (piece > size - fed)
            piece = size - fed;
        memcpy(buf + have, data + fed, piece);
        have += piece;
        fed += piece;
        /* exact-size copy of what is buffered */
        uint8_t *view = malloc(have ? have : 1);
        if (!view)
            break;
        memcpy(view, buf, have);
        size_t used = sip_stream_consume(st, view, have, MAX_MSG, &c, parse_and_touch, NULL);
        free(view);
        if (used > have)
            abort(); /* contract: never more than given */
        memmove(buf, buf + used, have - used);
        have -= used;
        if (sip_stream_is_tls(st))
            break;
    }
    free(buf);
    sip_stream_state_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct counters c;
    memset(&c, 0, sizeof(c));
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    sink += sip_looks_like_start_line(copy, size);
    sip_datagram_frames(copy, size, MAX_MSG, &c, parse_and_touch, NULL);
    free(copy);
    if (size > 0)
        stream(data, size);
    return 0;
}

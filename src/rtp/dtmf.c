/*
 * dtmf.c - RFC 4733 telephone events (ex RFC 2833): the payload (§2.3) and a per-stream
 * tracker that turns the packets of each key press into one event.
 *
 * A sender repeats an event's packets with a growing duration under one RTP timestamp,
 * the event's start (§2.5.1.2), and sends the final packet, E bit set, three times
 * (§2.5.1.4).  So the timestamp identifies the event: the first packet with a new
 * timestamp starts one, the first end packet reports it, and anything at or before the
 * timestamp last reported is a retransmission or a straggler.  When every end packet is
 * lost, the next event, a timeout or the end of the stream reports it instead.
 */
#include <string.h>

#include "greffier/rtp.h"

enum {
    EVENT_LEN = 4,
    /* A packet at most this far behind the last reported event, arriving within
     * STALE_US of the previous packet, belongs to it or to an older one. */
    STALE_TS = 1 << 20,
};
#define STALE_US INT64_C(2000000)

bool dtmf_parse(struct span payload, struct dtmf_payload *out, const char **err)
{
    const char *e;
    uint8_t flags;

    e = "short telephone-event payload";
    if (payload.len < EVENT_LEN)
        goto error;
    out->event = payload.p[0];
    flags = payload.p[1];
    out->end = (flags & 0x80) != 0;
    out->volume = flags & 0x3f; /* 0x40 is reserved: ignored */
    span_be16(payload, 2, &out->duration);
    return true;

error:
    *err = e;
    return false;
}

char dtmf_event_char(uint8_t event)
{
    static const char symbols[] = "0123456789*#ABCD!";

    return event < sizeof(symbols) - 1 ? symbols[event] : '?';
}

void dtmf_tracker_init(struct dtmf_tracker *t)
{
    memset(t, 0, sizeof(*t));
}

static void finish(struct dtmf_tracker *t, struct dtmf_event *out)
{
    *out = t->cur;
    t->active = false;
    t->have_done = true;
    t->done_ssrc = t->cur.ssrc;
    t->done_ts = t->cur.start_ts;
}

static bool stale(const struct dtmf_tracker *t, uint32_t ssrc, uint32_t ts, pkt_time_t arrival)
{
    pkt_time_t since;

    if (!t->have_done || ssrc != t->done_ssrc)
        return false;
    if (ts == t->done_ts)
        return true;
    if (t->done_ts - ts >= STALE_TS) /* not just behind: a restarted timestamp */
        return false;
    return !__builtin_sub_overflow(arrival, t->last_arrival, &since) && since < STALE_US;
}

int dtmf_tracker_push(struct dtmf_tracker *t, const struct rtp_packet *pkt, pkt_time_t arrival,
                      struct dtmf_event out[2])
{
    struct dtmf_payload pl;
    const char *err;
    int n = 0;

    if (!dtmf_parse(pkt->payload, &pl, &err)) {
        t->malformed++;
        return -1;
    }

    if (t->active && pkt->ssrc == t->cur.ssrc && pkt->timestamp == t->cur.start_ts) {
        if (pl.duration > t->cur.duration)
            t->cur.duration = pl.duration;
        t->last_arrival = arrival;
        if (pl.end) {
            t->cur.ended = true;
            finish(t, &out[n++]);
        }
        return n;
    }
    if (stale(t, pkt->ssrc, pkt->timestamp, arrival))
        return 0;
    if (t->active && pkt->ssrc == t->cur.ssrc && (int32_t)(pkt->timestamp - t->cur.start_ts) < 0 &&
        t->cur.start_ts - pkt->timestamp < STALE_TS)
        return 0; /* a straggler of an older event, arriving during this one */

    if (t->active)
        finish(t, &out[n++]); /* its end packets were lost */
    memset(&t->cur, 0, sizeof(t->cur));
    t->cur.event = pl.event;
    t->cur.symbol = dtmf_event_char(pl.event);
    t->cur.volume = pl.volume;
    t->cur.ssrc = pkt->ssrc;
    t->cur.start_ts = pkt->timestamp;
    t->cur.duration = pl.duration;
    t->cur.first_arrival = arrival;
    t->active = true;
    t->last_arrival = arrival;
    if (pl.end) {
        t->cur.ended = true;
        finish(t, &out[n++]);
    }
    return n;
}

int dtmf_tracker_expire(struct dtmf_tracker *t, pkt_time_t now, pkt_time_t timeout,
                        struct dtmf_event *out)
{
    pkt_time_t since;

    if (!t->active || __builtin_sub_overflow(now, t->last_arrival, &since) || since < timeout)
        return 0;
    finish(t, out);
    return 1;
}

int dtmf_tracker_flush(struct dtmf_tracker *t, struct dtmf_event *out)
{
    if (!t->active)
        return 0;
    finish(t, out);
    return 1;
}

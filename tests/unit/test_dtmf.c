/*
 * test_dtmf.c - RFC 4733 telephone events: payload parsing, the digit symbols, and the
 * tracker that reports each key press once (end packet sent three times, lost end
 * packets, the same digit twice, stragglers, timeout, flush); then three real captures
 * whose digits Wireshark lists (corpus oracles), skipped when the corpus is absent.
 */
#include <string.h>

#include "greffier/rtp.h"
#include "testhelp.h"
#include "testpcap.h"

static uint8_t pl[4];

static struct rtp_packet ev(uint32_t ts, uint8_t event, bool end, uint8_t volume, uint16_t duration)
{
    struct rtp_packet p;
    memset(&p, 0, sizeof(p));
    p.payload_type = 101;
    p.ssrc = 0xd7;
    p.timestamp = ts;
    pl[0] = event;
    pl[1] = (uint8_t)((end ? 0x80 : 0) | volume);
    pl[2] = (uint8_t)(duration >> 8);
    pl[3] = (uint8_t)duration;
    p.payload = span_make(pl, 4);
    return p;
}

struct sink {
    struct dtmf_event e[64];
    unsigned n;
};

static void push(struct dtmf_tracker *t, struct sink *k, const struct rtp_packet *p,
                 pkt_time_t arrival)
{
    struct dtmf_event out[2];
    int n = dtmf_tracker_push(t, p, arrival, out);
    CHECK(n >= 0 && n <= 2);
    for (int i = 0; i < n && k->n < 64; i++)
        k->e[k->n++] = out[i];
}

/* One key press as a sender does it: a packet every 50 ms of RTP time (400 units at
 * 8 kHz) with the duration growing, then the end packet three times. */
static void press(struct dtmf_tracker *t, struct sink *k, uint8_t event, uint32_t ts, pkt_time_t t0,
                  unsigned npkts, unsigned nend)
{
    struct rtp_packet p;
    for (unsigned i = 0; i < npkts; i++) {
        p = ev(ts, event, false, 10, (uint16_t)(400 * (i + 1)));
        p.marker = i == 0;
        push(t, k, &p, t0 + (pkt_time_t)i * 50000);
    }
    for (unsigned i = 0; i < nend; i++) {
        p = ev(ts, event, true, 10, (uint16_t)(400 * npkts + 80));
        push(t, k, &p, t0 + (pkt_time_t)npkts * 50000 + (pkt_time_t)i * 5000);
    }
}

static void test_parse(void)
{
    struct dtmf_payload d;
    const char *err = NULL;
    static const uint8_t a[] = {11, 0x80 | 0x40 | 7, 0x03, 0x20};
    CHECK(dtmf_parse(span_make(a, 4), &d, &err));
    CHECK_INT(d.event, 11);
    CHECK(d.end);
    CHECK_INT(d.volume, 7); /* the reserved bit is ignored */
    CHECK_INT(d.duration, 800);
    CHECK(!dtmf_parse(span_make(a, 3), &d, &err));
    CHECK_STR(err, "short telephone-event payload");
    static const uint8_t two[] = {1, 0x0a, 0, 160, 2, 0x8a, 1, 64}; /* stacked: first used */
    CHECK(dtmf_parse(span_make(two, 8), &d, &err));
    CHECK_INT(d.event, 1);
    CHECK(!d.end);

    static const char want[] = "0123456789*#ABCD!";
    for (unsigned e = 0; e < 17; e++)
        CHECK_INT(dtmf_event_char((uint8_t)e), want[e]);
    CHECK_INT(dtmf_event_char(17), '?');
    CHECK_INT(dtmf_event_char(255), '?');
}

static void test_digits(void)
{
    struct dtmf_tracker t;
    struct sink k = {.n = 0};
    dtmf_tracker_init(&t);

    /* "123#": four presses, each end packet three times. */
    static const uint8_t events[] = {1, 2, 3, 11};
    for (unsigned i = 0; i < 4; i++)
        press(&t, &k, events[i], 8000 + i * 16000, 1000000 + (pkt_time_t)i * 2000000, 3, 3);
    CHECK_INT(k.n, 4);
    for (unsigned i = 0; i < 4 && i < k.n; i++) {
        CHECK_INT(k.e[i].event, events[i]);
        CHECK_INT(k.e[i].symbol, "123#"[i]);
        CHECK_INT(k.e[i].start_ts, 8000 + i * 16000);
        CHECK_INT(k.e[i].duration, 1280);
        CHECK_INT(k.e[i].first_arrival, 1000000 + (pkt_time_t)i * 2000000);
        CHECK_INT(k.e[i].volume, 10);
        CHECK_INT(k.e[i].ssrc, 0xd7);
        CHECK(k.e[i].ended);
    }
    struct dtmf_event last;
    CHECK_INT(dtmf_tracker_flush(&t, &last), 0);

    /* A late copy of an end packet of '3' (already reported) is ignored. */
    struct rtp_packet p = ev(8000 + 2 * 16000, 3, true, 10, 1280);
    push(&t, &k, &p, 7100000);
    CHECK_INT(k.n, 4);
}

static void test_lost_ends_and_repeats(void)
{
    struct dtmf_tracker t;
    struct sink k = {.n = 0};
    dtmf_tracker_init(&t);

    /* '5' loses all its end packets: reported when '6' starts, not ended. */
    press(&t, &k, 5, 1000, 0, 4, 0);
    CHECK_INT(k.n, 0);
    press(&t, &k, 6, 20000, 3000000, 2, 3);
    CHECK_INT(k.n, 2);
    CHECK_INT(k.e[0].symbol, '5');
    CHECK(!k.e[0].ended);
    CHECK_INT(k.e[0].duration, 1600);
    CHECK_INT(k.e[1].symbol, '6');
    CHECK(k.e[1].ended);

    /* The same digit twice: two timestamps, two events. */
    press(&t, &k, 1, 40000, 5000000, 2, 3);
    press(&t, &k, 1, 44000, 5600000, 2, 3);
    CHECK_INT(k.n, 4);
    CHECK_INT(k.e[2].start_ts, 40000);
    CHECK_INT(k.e[3].start_ts, 44000);

    /* A straggler of '1' (first event) arriving while '9' is in progress. */
    press(&t, &k, 9, 60000, 7000000, 2, 0);
    struct rtp_packet p = ev(44000, 1, false, 10, 400);
    push(&t, &k, &p, 7110000);
    CHECK_INT(k.n, 4);

    /* Only end packets (the start was lost) for '0' while '9' is pending: two events in
     * one push. */
    struct dtmf_event out[2];
    p = ev(70000, 0, true, 10, 800);
    CHECK_INT(dtmf_tracker_push(&t, &p, 8000000, out), 2);
    CHECK_INT(out[0].symbol, '9');
    CHECK(!out[0].ended);
    CHECK_INT(out[1].symbol, '0');
    CHECK(out[1].ended);
    CHECK_INT(out[1].duration, 800);
    CHECK_INT(dtmf_tracker_push(&t, &p, 8005000, out), 0);
    CHECK_INT(dtmf_tracker_push(&t, &p, 8010000, out), 0);

    /* Timeout and flush. */
    press(&t, &k, 12, 90000, 9000000, 2, 0); /* 'A', started at 9.0 s, last at 9.05 s */
    CHECK_INT(dtmf_tracker_expire(&t, 9500000, 1000000, &out[0]), 0);
    CHECK_INT(dtmf_tracker_expire(&t, 10050000, 1000000, &out[0]), 1);
    CHECK_INT(out[0].symbol, 'A');
    CHECK_INT(dtmf_tracker_flush(&t, &out[0]), 0);
    press(&t, &k, 16, 100000, 11000000, 1, 0);
    CHECK_INT(dtmf_tracker_flush(&t, &out[0]), 1);
    CHECK_INT(out[0].symbol, '!');
    CHECK_INT(dtmf_tracker_flush(&t, &out[0]), 0);

    /* Malformed. */
    p = ev(1, 1, false, 0, 0);
    p.payload.len = 2;
    CHECK_INT(dtmf_tracker_push(&t, &p, 0, out), -1);
    CHECK_INT(t.malformed, 1);

    /* The timestamp restarting lower on the same SSRC, much later: a new event. */
    p = ev(500, 4, true, 10, 800);
    CHECK_INT(dtmf_tracker_push(&t, &p, 60000000, out), 1);
    CHECK_INT(out[0].symbol, '4');
}

/* ---- real captures ---- */

struct cap {
    uint8_t pt;
    unsigned nstreams;
    struct {
        uint32_t ssrc;
        struct dtmf_tracker t;
        char digits[64];
        size_t n;
    } s[8];
    unsigned packets;
};

static void add(struct cap *c, unsigned i, const struct dtmf_event *e)
{
    if (c->s[i].n + 1 < sizeof(c->s[i].digits))
        c->s[i].digits[c->s[i].n++] = e->symbol;
}

static void cap_packet(void *user, const struct l4_packet *l4)
{
    struct cap *c = user;
    struct rtp_packet p;
    const char *err;
    unsigned i;

    if (l4->proto != L4_UDP || rtp_is_rtcp(l4->payload) || !rtp_plausible(l4->payload) ||
        !rtp_parse(l4->payload, &p, &err) || p.payload_type != c->pt)
        return;
    for (i = 0; i < c->nstreams && c->s[i].ssrc != p.ssrc; i++)
        ;
    if (i == c->nstreams) {
        if (i == 8)
            return;
        c->nstreams++;
        c->s[i].ssrc = p.ssrc;
        dtmf_tracker_init(&c->s[i].t);
    }
    struct dtmf_event out[2];
    int n = dtmf_tracker_push(&c->s[i].t, &p, l4->ts, out);
    for (int k = 0; k < n; k++)
        add(c, i, &out[k]);
    c->packets++;
}

static void test_capture(const char *name, uint8_t pt, uint32_t ssrc, const char *want)
{
    char path[512];
    static struct cap c;
    if (!testpcap_path(name, path, sizeof(path)))
        return;
    memset(&c, 0, sizeof(c));
    c.pt = pt;
    CHECK(testpcap_each(path, cap_packet, &c) > 0);
    CHECK(c.packets > 0);
    for (unsigned i = 0; i < c.nstreams; i++) {
        struct dtmf_event e;
        if (dtmf_tracker_flush(&c.s[i].t, &e))
            add(&c, i, &e);
        if (c.s[i].ssrc == ssrc) {
            CHECK_STR(c.s[i].digits, want);
            printf("%s: ssrc 0x%08x digits %s\n", name, ssrc, c.s[i].digits);
        } else {
            CHECK_STR(c.s[i].digits, "");
        }
    }
    CHECK(c.nstreams >= 1);
}

int main(void)
{
    test_parse();
    test_digits();
    test_lost_ends_and_repeats();
    test_capture("corpus/public/metaswitch-pcmu-rfc2833-rtp-only.pcap", 101, 0x12cc6bf4,
                 "123456789**0#");
    test_capture("corpus/public/sipp-pcma-rfc2833-dtmf.pcap", 98, 0x421970fe, "98765#");
    test_capture("corpus/public/honeynet-fc4-asterisk-xlite-dtmf.pcap", 101, 0xa254e017,
                 "2255#4125#4321#");
    return TEST_REPORT("test_dtmf");
}

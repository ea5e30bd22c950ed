/*
 * test_rtp.c - RTP header parsing (padding, extension, CSRC, truncation at every
 * length), RTP/RTCP demultiplexing (RFC 5761), the unsignalled-RTP heuristic, per-stream
 * statistics (RFC 3550 A.1 sequence accounting, A.8 jitter) and the E-model MOS.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/rtp.h"
#include "testhelp.h"

/* ---- building packets ---- */

struct rtp_spec {
    uint8_t pt;
    bool marker;
    uint16_t seq;
    uint32_t ts, ssrc;
    unsigned ncsrc;
    unsigned ext_words; /* 0 and no_ext: no extension */
    bool with_ext;
    unsigned payload;
    unsigned pad; /* 0: no padding */
};

static size_t build(uint8_t *b, const struct rtp_spec *s)
{
    size_t n = 0;
    b[n++] = (uint8_t)(0x80 | (s->pad ? 0x20 : 0) | (s->with_ext ? 0x10 : 0) | s->ncsrc);
    b[n++] = (uint8_t)((s->marker ? 0x80 : 0) | s->pt);
    b[n++] = (uint8_t)(s->seq >> 8);
    b[n++] = (uint8_t)s->seq;
    for (int i = 3; i >= 0; i--)
        b[n++] = (uint8_t)(s->ts >> (8 * i));
    for (int i = 3; i >= 0; i--)
        b[n++] = (uint8_t)(s->ssrc >> (8 * i));
    for (unsigned c = 0; c < s->ncsrc; c++)
        for (int i = 0; i < 4; i++)
            b[n++] = (uint8_t)(0x10 + c);
    if (s->with_ext) {
        b[n++] = 0xbe;
        b[n++] = 0xde;
        b[n++] = (uint8_t)(s->ext_words >> 8);
        b[n++] = (uint8_t)s->ext_words;
        for (unsigned i = 0; i < 4 * s->ext_words; i++)
            b[n++] = 0xee;
    }
    for (unsigned i = 0; i < s->payload; i++)
        b[n++] = (uint8_t)(0x55 ^ i);
    for (unsigned i = 0; s->pad && i < s->pad; i++)
        b[n++] = i + 1 == s->pad ? (uint8_t)s->pad : 0;
    return n;
}

static struct rtp_packet pkt_of(uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t pt)
{
    struct rtp_packet p;
    memset(&p, 0, sizeof(p));
    p.seq = seq;
    p.timestamp = ts;
    p.ssrc = ssrc;
    p.payload_type = pt;
    p.payload = span_make("0123456789abcdef", 16);
    return p;
}

/* ---- parsing ---- */

struct parse_case {
    const char *name;
    struct rtp_spec spec;
    int truncate; /* bytes removed from the end (or, negative, a corruption below) */
    bool ok;
    size_t header_len, payload_len;
};

static const struct parse_case parse_cases[] = {
    {"minimal", {.seq = 1, .ssrc = 7}, 0, true, 12, 0},
    {"g711 20ms",
     {.pt = 8, .seq = 65535, .ts = 0xfffffff0u, .ssrc = 1, .payload = 160},
     0,
     true,
     12,
     160},
    {"marker", {.pt = 0, .marker = true, .payload = 10}, 0, true, 12, 10},
    {"two CSRC", {.ncsrc = 2, .payload = 20}, 0, true, 20, 20},
    {"15 CSRC", {.ncsrc = 15, .payload = 1}, 0, true, 72, 1},
    {"extension 1 word", {.with_ext = true, .ext_words = 1, .payload = 8}, 0, true, 20, 8},
    {"extension 0 words", {.with_ext = true, .ext_words = 0, .payload = 8}, 0, true, 16, 8},
    {"padding 4", {.payload = 20, .pad = 4}, 0, true, 12, 20},
    {"padding only", {.pad = 8}, 0, true, 12, 0},
    {"all of it",
     {.ncsrc = 3, .with_ext = true, .ext_words = 2, .payload = 33, .pad = 3},
     0,
     true,
     36,
     33},
    {"short header", {.payload = 0}, 1, false, 0, 0},
    {"CSRC beyond", {.ncsrc = 2}, 1, false, 0, 0},
    {"extension header cut", {.with_ext = true, .ext_words = 0}, 1, false, 0, 0},
    {"extension beyond", {.with_ext = true, .ext_words = 3}, 4, false, 0, 0},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        uint8_t buf[600];
        size_t n = build(buf, &c->spec) - (size_t)c->truncate;
        struct rtp_packet p;
        const char *err = NULL;
        bool ok = rtp_parse(span_make(buf, n), &p, &err);
        if (ok != c->ok)
            fprintf(stderr, "case %s: err %s\n", c->name, err ? err : "-");
        CHECK(ok == c->ok);
        if (!ok || !c->ok) {
            CHECK(err != NULL);
            continue;
        }
        CHECK_INT(p.header_len, c->header_len);
        CHECK_INT(p.payload.len, c->payload_len);
        CHECK_INT(p.seq, c->spec.seq);
        CHECK_INT(p.timestamp, c->spec.ts);
        CHECK_INT(p.ssrc, c->spec.ssrc);
        CHECK_INT(p.payload_type, c->spec.pt);
        CHECK(p.marker == c->spec.marker);
        CHECK_INT(p.csrc_count, c->spec.ncsrc);
        CHECK_INT(p.pad_len, c->spec.pad);
        CHECK(p.padding == (c->spec.pad != 0));
        CHECK(p.extension == c->spec.with_ext);
        if (c->spec.with_ext) {
            CHECK_INT(p.ext_profile, 0xbede);
            CHECK_INT(p.ext.len, 4 * c->spec.ext_words);
        }
        if (c->payload_len)
            CHECK_INT(p.payload.p[0], 0x55);
        CHECK(p.payload.p == buf + c->header_len);
    }
}

static void test_parse_corrupt(void)
{
    uint8_t buf[64];
    struct rtp_packet p;
    const char *err = NULL;
    size_t n;

    /* Version 1. */
    n = build(buf, &(struct rtp_spec){.payload = 4});
    buf[0] = (buf[0] & 0x3f) | 0x40;
    CHECK(!rtp_parse(span_make(buf, n), &p, &err));
    CHECK_STR(err, "RTP version not 2");
    /* Pad count 0. */
    n = build(buf, &(struct rtp_spec){.payload = 4, .pad = 2});
    buf[n - 1] = 0;
    CHECK(!rtp_parse(span_make(buf, n), &p, &err));
    CHECK_STR(err, "zero padding length");
    /* Pad count larger than the payload. */
    n = build(buf, &(struct rtp_spec){.payload = 4, .pad = 2});
    buf[n - 1] = 7;
    CHECK(!rtp_parse(span_make(buf, n), &p, &err));
    CHECK_STR(err, "padding longer than the payload");
    /* Pad count exactly the payload: an empty payload. */
    buf[n - 1] = 6;
    CHECK(rtp_parse(span_make(buf, n), &p, &err));
    CHECK_INT(p.payload.len, 0);
    /* Padding cannot eat the extension. */
    n = build(buf, &(struct rtp_spec){.with_ext = true, .ext_words = 1, .pad = 1});
    buf[n - 1] = 2;
    CHECK(!rtp_parse(span_make(buf, n), &p, &err));
}

/* Every prefix of a packet with everything in it, each in its own exact-size heap copy so
 * that ASan sees any read past the end. */
static void test_parse_truncation(void)
{
    uint8_t full[200];
    size_t n = build(
        full,
        &(struct rtp_spec){.ncsrc = 2, .with_ext = true, .ext_words = 2, .payload = 40, .pad = 4});
    unsigned ok_count = 0;
    for (size_t len = 0; len <= n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        struct rtp_packet p;
        const char *err;
        memcpy(copy, full, len);
        bool ok = rtp_parse(span_make(copy, len), &p, &err);
        if (len < 32) /* 12 + 8 CSRC + 4 ext header + 8 ext data */
            CHECK(!ok);
        if (ok) {
            ok_count++;
            CHECK(p.payload.p + p.payload.len <= copy + len);
            CHECK(p.header_len == 32);
        }
        free(copy);
    }
    CHECK(ok_count >= 1);
}

struct demux_case {
    uint8_t b0, b1;
    size_t len;
    bool rtcp, plausible;
};

static const struct demux_case demux_cases[] = {
    {0x80, 200, 28, true, false}, /* SR */
    {0x81, 201, 32, true, false}, /* RR with one block */
    {0x80, 202, 12, true, false}, /* SDES */
    {0x80, 203, 8, true, false},  /* BYE */
    {0x80, 204, 12, true, false}, /* APP */
    {0x80, 192, 12, true, true},  /* FIR (RFC 2032): RTCP, but PT 64 is not in 72..76 */
    {0x80, 223, 12, true, true},  /* top of the range */
    {0x80, 224, 12, false, true}, /* marker + PT 96: RTP */
    {0x80, 191, 12, false, true}, /* marker + PT 63 */
    {0x80, 72, 12, false, false}, /* PT 72 without marker: not RTCP, not plausible RTP */
    {0x80, 0, 12, false, true},   /* PCMU */
    {0x80, 8, 172, false, true},  /* PCMA */
    {0x80, 0x80 | 101, 16, false, true}, {0x80, 77, 12, false, true},
    {0x40, 200, 28, false, false}, /* version 1 */
    {0x00, 0, 12, false, false},   /* version 0 (STUN starts with 0x00/0x01) */
    {0x80, 200, 7, false, false},  /* too short for either */
    {0x80, 0, 11, false, false},   /* too short for RTP */
};

static void test_demux(void)
{
    for (size_t i = 0; i < sizeof(demux_cases) / sizeof(demux_cases[0]); i++) {
        const struct demux_case *c = &demux_cases[i];
        uint8_t buf[200] = {0};
        buf[0] = c->b0;
        buf[1] = c->b1;
        struct span s = span_make(buf, c->len);
        if (rtp_is_rtcp(s) != c->rtcp || rtp_plausible(s) != c->plausible)
            fprintf(stderr, "demux case %zu (%u %u)\n", i, c->b0, c->b1);
        CHECK(rtp_is_rtcp(s) == c->rtcp);
        CHECK(rtp_plausible(s) == c->plausible);
    }
}

/* ---- statistics ---- */

static void feed(struct rtp_stats *s, uint16_t seq, uint32_t ssrc, pkt_time_t t)
{
    struct rtp_packet p = pkt_of(seq, (uint32_t)seq * 160, ssrc, 0);
    rtp_stats_update(s, &p, t, 8000);
}

static void test_stats_wrap(void)
{
    struct rtp_stats s;
    rtp_stats_init(&s);
    for (unsigned i = 0; i < 30; i++)
        feed(&s, (uint16_t)(65520 + i), 1, (pkt_time_t)i * 20000);
    CHECK_INT(s.packets, 30);
    CHECK_INT(s.expected, 30);
    CHECK_INT(s.received, 30);
    CHECK_INT(rtp_stats_lost(&s), 0);
    CHECK_INT(s.duplicates, 0);
    CHECK_INT(s.reordered, 0);
    CHECK_INT(s.seq_jumps, 0);
    CHECK(s.valid);
    CHECK_INT(s.bytes, 30 * 16);

    /* A reordered packet across the wrap: 65535 after 0. */
    rtp_stats_init(&s);
    feed(&s, 65534, 1, 0);
    feed(&s, 0, 1, 40000);
    CHECK_INT(s.expected, 3);
    CHECK_INT(rtp_stats_lost(&s), 1);
    CHECK_INT(rtp_stats_update(&s, &(struct rtp_packet){.seq = 65535, .ssrc = 1}, 41000, 0),
              RTP_SEQ_REORDERED);
    CHECK_INT(s.expected, 3);
    CHECK_INT(rtp_stats_lost(&s), 0);
    CHECK_INT(s.reordered, 1);
}

static void test_stats_loss_dup_reorder(void)
{
    struct rtp_stats s;

    /* Loss of 10 in the middle, loss at the end is not known. */
    rtp_stats_init(&s);
    for (unsigned seq = 1; seq <= 100; seq++)
        if (seq < 40 || seq > 49)
            feed(&s, (uint16_t)seq, 5, seq * 20000);
    CHECK_INT(s.expected, 100);
    CHECK_INT(s.received, 90);
    CHECK_INT(rtp_stats_lost(&s), 10);
    CHECK(fabs(rtp_stats_loss_percent(&s) - 10.0) < 1e-9);
    CHECK_INT(s.max_gap_us, 11 * 20000);

    /* Duplicates: counted apart, never negative loss. */
    rtp_stats_init(&s);
    for (unsigned seq = 1; seq <= 10; seq++) {
        feed(&s, (uint16_t)seq, 5, seq * 20000);
        if (seq == 5) {
            struct rtp_packet p = pkt_of(5, 800, 5, 0);
            CHECK_INT(rtp_stats_update(&s, &p, seq * 20000 + 1, 8000), RTP_SEQ_DUPLICATE);
            CHECK_INT(rtp_stats_update(&s, &p, seq * 20000 + 2, 8000), RTP_SEQ_DUPLICATE);
        }
    }
    feed(&s, 3, 5, 300000); /* an old duplicate, behind the highest */
    CHECK_INT(s.packets, 13);
    CHECK_INT(s.duplicates, 3);
    CHECK_INT(s.received, 10);
    CHECK_INT(s.expected, 10);
    CHECK_INT(rtp_stats_lost(&s), 0);
    CHECK_INT(s.reordered, 0);

    /* Reordering: 1 2 4 3 5, and a packet from before the first one. */
    rtp_stats_init(&s);
    static const uint16_t order[] = {101, 100, 102, 104, 103, 105};
    static const int cls[] = {RTP_SEQ_IN_ORDER, RTP_SEQ_REORDERED, RTP_SEQ_IN_ORDER,
                              RTP_SEQ_IN_ORDER, RTP_SEQ_REORDERED, RTP_SEQ_IN_ORDER};
    for (unsigned i = 0; i < 6; i++) {
        struct rtp_packet p = pkt_of(order[i], order[i] * 160u, 9, 0);
        CHECK_INT(rtp_stats_update(&s, &p, i * 20000, 8000), cls[i]);
    }
    CHECK_INT(s.reordered, 2);
    CHECK_INT(s.expected, 6);
    CHECK_INT(rtp_stats_lost(&s), 0);
}

static void test_stats_jumps_ssrc(void)
{
    struct rtp_stats s;
    struct rtp_packet p;

    /* A confirmed jump starts a new run; both runs count. */
    rtp_stats_init(&s);
    for (unsigned seq = 1; seq <= 10; seq++)
        feed(&s, (uint16_t)seq, 1, seq * 20000);
    p = pkt_of(20000, 0, 1, 0);
    CHECK_INT(rtp_stats_update(&s, &p, 300000, 8000), RTP_SEQ_JUMP);
    p = pkt_of(20001, 160, 1, 0);
    CHECK_INT(rtp_stats_update(&s, &p, 320000, 8000), RTP_SEQ_RESTART);
    for (unsigned seq = 20002; seq <= 20010; seq++)
        feed(&s, (uint16_t)seq, 1, seq * 20000);
    CHECK_INT(s.seq_jumps, 1);
    CHECK_INT(s.restarts, 1);
    CHECK_INT(s.expected, 21);
    CHECK_INT(s.received, 21);
    CHECK_INT(rtp_stats_lost(&s), 0);

    /* A stray packet with a wild sequence number is not believed. */
    rtp_stats_init(&s);
    for (unsigned seq = 1; seq <= 10; seq++)
        feed(&s, (uint16_t)seq, 1, seq * 20000);
    p = pkt_of(40000, 0, 1, 0);
    CHECK_INT(rtp_stats_update(&s, &p, 210000, 8000), RTP_SEQ_JUMP);
    for (unsigned seq = 11; seq <= 20; seq++)
        feed(&s, (uint16_t)seq, 1, seq * 20000);
    CHECK_INT(s.expected, 20);
    CHECK_INT(s.received, 20);
    CHECK_INT(s.packets, 21);
    CHECK_INT(s.restarts, 0);

    /* SSRC change: a new run, the old one kept in the totals. */
    rtp_stats_init(&s);
    for (unsigned seq = 1; seq <= 10; seq++)
        if (seq != 4)
            feed(&s, (uint16_t)seq, 0xaaaa, seq * 20000);
    p = pkt_of(5000, 0, 0xbbbb, 0);
    CHECK_INT(rtp_stats_update(&s, &p, 220000, 8000), RTP_SEQ_RESTART);
    CHECK(!s.valid);
    for (unsigned seq = 5001; seq <= 5004; seq++)
        feed(&s, (uint16_t)seq, 0xbbbb, seq * 20000);
    CHECK(s.valid);
    CHECK_INT(s.ssrc, 0xbbbb);
    CHECK_INT(s.ssrc_changes, 1);
    CHECK_INT(s.expected, 15);
    CHECK_INT(s.received, 14);
    CHECK_INT(rtp_stats_lost(&s), 1);
}

static double ref_jitter(const int *delay_units, unsigned n)
{
    double j = 0;
    for (unsigned i = 1; i < n; i++) {
        double d = fabs((double)(delay_units[i] - delay_units[i - 1]));
        j += (d - j) / 16.0;
    }
    return j;
}

static void test_stats_jitter(void)
{
    struct rtp_stats s;
    struct rtp_packet p;

    /* Constant transit delay: jitter 0, even with a large constant offset. */
    rtp_stats_init(&s);
    for (unsigned i = 0; i < 200; i++) {
        p = pkt_of((uint16_t)i, 1000 + i * 160, 1, 0);
        rtp_stats_update(&s, &p, 1700000000000000 + 37000 + (pkt_time_t)i * 20000, 8000);
    }
    CHECK(s.jitter == 0.0);
    CHECK(fabs(rtp_stats_ptime_ms(&s) - 20.0) < 1e-9);

    /* Hand-computed: 2nd packet 10 ms (80 units) late, 3rd on time.
     * J1 = 80/16 = 5;  J2 = 5 + (80 - 5)/16 = 9.6875. */
    rtp_stats_init(&s);
    p = pkt_of(1, 0, 1, 0);
    rtp_stats_update(&s, &p, 0, 8000);
    p = pkt_of(2, 160, 1, 0);
    rtp_stats_update(&s, &p, 30000, 8000);
    CHECK(s.jitter == 5.0);
    p = pkt_of(3, 320, 1, 0);
    rtp_stats_update(&s, &p, 40000, 8000);
    CHECK(s.jitter == 9.6875);
    CHECK(fabs(rtp_stats_jitter_ms(&s) - 9.6875 / 8.0) < 1e-12);

    /* A pattern of delays (whole 125 µs units at 8 kHz) against the A.8 recurrence. */
    static const int delay[] = {0, 8, 3, 40, 0, 0, 17, 160, 2, 5, 5, 90, 1, 0, 33, 12, 7, 0};
    unsigned n = sizeof(delay) / sizeof(delay[0]);
    rtp_stats_init(&s);
    for (unsigned i = 0; i < n; i++) {
        p = pkt_of((uint16_t)(7 + i), 0xfffff000u + i * 160, 1, 0); /* timestamp wraps too */
        rtp_stats_update(&s, &p, 5000000 + (pkt_time_t)i * 20000 + delay[i] * 125, 8000);
    }
    CHECK(fabs(s.jitter - ref_jitter(delay, n)) < 1e-9);
    CHECK(s.jitter > 10.0);

    /* Packets given clock 0 (RFC 4733 events) do not touch jitter. */
    double before = s.jitter;
    p = pkt_of((uint16_t)(7 + n), 12345, 1, 101);
    rtp_stats_update(&s, &p, 99999999, 0);
    CHECK(s.jitter == before);
    CHECK(rtp_stats_pt_seen(&s, 101));
    CHECK(rtp_stats_pt_seen(&s, 0));
    CHECK(!rtp_stats_pt_seen(&s, 8));

    /* Opus at 48 kHz: 20 ms ptime from 960 steps; a 1 ms jitter means 48 units. */
    rtp_stats_init(&s);
    for (unsigned i = 0; i < 50; i++) {
        p = pkt_of((uint16_t)i, i * 960, 1, 111);
        rtp_stats_update(&s, &p, (pkt_time_t)i * 20000 + (i % 2) * 2000, 48000);
    }
    CHECK(fabs(rtp_stats_ptime_ms(&s) - 20.0) < 1e-9);
    CHECK(rtp_stats_jitter_ms(&s) > 1.0 && rtp_stats_jitter_ms(&s) < 2.0);
}

static void test_mos(void)
{
    static const enum codec_id codecs[] = {CODEC_PCMU, CODEC_PCMA, CODEC_G722, CODEC_G729,
                                           CODEC_OPUS, CODEC_L16,  CODEC_NONE};
    for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
        double prev = 5.0;
        for (double loss = 0; loss <= 50; loss += 0.5) {
            double m = rtp_emodel_mos(codecs[c], loss, 40);
            CHECK(m >= 1.0 && m <= 4.5);
            CHECK(m < prev);
            prev = m;
        }
        double prev_d = 5.0;
        for (double d = 0; d <= 600; d += 25) {
            double m = rtp_emodel_mos(codecs[c], 1.0, d);
            CHECK(m < prev_d);
            prev_d = m;
        }
    }
    /* G.711 without impairment: R = 93.2 -> MOS 4.41. */
    CHECK(fabs(rtp_emodel_mos(CODEC_PCMA, 0, 0) - 4.4094) < 1e-3);
    /* G.729 starts lower and falls faster. */
    CHECK(rtp_emodel_mos(CODEC_G729, 0, 0) < rtp_emodel_mos(CODEC_PCMU, 0, 0));
    CHECK(rtp_emodel_mos(CODEC_G729, 0, 0) > 4.0);
    CHECK(rtp_emodel_mos(CODEC_G729, 5, 40) < rtp_emodel_mos(CODEC_PCMU, 5, 40));
    /* Hand-computed: G.711, 5 % loss, 100 ms: Id = 2.4, Ie_eff = 95*5/30.1 = 15.78. */
    double r = 93.2 - 2.4 - 95.0 * 5.0 / 30.1;
    double want = 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
    CHECK(fabs(rtp_emodel_mos(CODEC_PCMU, 5, 100) - want) < 1e-9);
    CHECK(rtp_emodel_mos(CODEC_PCMU, 100, 1000) == 1.0);
    CHECK(rtp_emodel_mos(CODEC_PCMU, NAN, NAN) > 4.4);

    /* From stats: a lossy stream scores below a clean one. */
    struct rtp_stats clean, lossy;
    rtp_stats_init(&clean);
    rtp_stats_init(&lossy);
    for (unsigned seq = 0; seq < 500; seq++) {
        feed(&clean, (uint16_t)seq, 1, seq * 20000);
        if (seq % 20 != 7)
            feed(&lossy, (uint16_t)seq, 1, seq * 20000);
    }
    CHECK(fabs(rtp_stats_delay_ms(&clean, CODEC_PCMU) - 20.0) < 1e-9);
    CHECK(fabs(rtp_stats_loss_percent(&lossy) - 5.0) < 0.3);
    CHECK(rtp_stats_mos(&lossy, CODEC_PCMU) < rtp_stats_mos(&clean, CODEC_PCMU) - 0.3);
    CHECK(rtp_stats_mos(&clean, CODEC_PCMU) > 4.3);
}

int main(void)
{
    test_parse_table();
    test_parse_corrupt();
    test_parse_truncation();
    test_demux();
    test_stats_wrap();
    test_stats_loss_dup_reorder();
    test_stats_jumps_ssrc();
    test_stats_jitter();
    test_mos();
    return TEST_REPORT("test_rtp");
}

/*
 * test_rtcp.c - compound RTCP: SR and RR with report blocks, SDES/BYE/APP skipped,
 * padding, and hostile lengths (the AST-2017-012 class: counts and lengths that do not
 * fit), truncation at every byte and random corruption under ASan; then the RTCP of real
 * captures, skipped when the corpus is absent.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/rtp.h"
#include "testhelp.h"
#include "testpcap.h"

struct buf {
    uint8_t b[2048];
    size_t n;
};

static void u8(struct buf *b, unsigned v)
{
    b->b[b->n++] = (uint8_t)v;
}
static void u16(struct buf *b, unsigned v)
{
    u8(b, v >> 8);
    u8(b, v & 0xff);
}
static void u32(struct buf *b, uint32_t v)
{
    u16(b, v >> 16);
    u16(b, v & 0xffff);
}

/* Starts a packet; end_pkt() fills its length. */
static size_t begin(struct buf *b, unsigned count, unsigned type)
{
    size_t at = b->n;
    u8(b, 0x80 | count);
    u8(b, type);
    u16(b, 0);
    return at;
}
static void end_pkt(struct buf *b, size_t at)
{
    size_t words = (b->n - at) / 4 - 1;
    b->b[at + 2] = (uint8_t)(words >> 8);
    b->b[at + 3] = (uint8_t)words;
}

static void block(struct buf *b, uint32_t ssrc, unsigned fraction, uint32_t lost24,
                  uint32_t ext_seq, uint32_t jitter, uint32_t lsr, uint32_t dlsr)
{
    u32(b, ssrc);
    u8(b, fraction);
    u8(b, lost24 >> 16);
    u16(b, lost24 & 0xffff);
    u32(b, ext_seq);
    u32(b, jitter);
    u32(b, lsr);
    u32(b, dlsr);
}

/* SR with two blocks + SDES with a CNAME; returns the packet boundaries in *cut. */
static struct buf sr_sdes(size_t cut[2])
{
    struct buf b = {.n = 0};
    size_t at = begin(&b, 2, RTCP_SR);
    u32(&b, 0x11111111);
    u32(&b, 0xe1f2a3b4);
    u32(&b, 0x80000000);
    u32(&b, 123456);
    u32(&b, 1000);
    u32(&b, 160000);
    block(&b, 0x22222222, 13, 5, 70000, 40, 0xa3b48000, 65536);
    block(&b, 0x33333333, 0, 0xfffffe, 12, 0, 0, 0); /* -2: duplicates */
    end_pkt(&b, at);
    cut[0] = b.n;
    at = begin(&b, 1, RTCP_SDES);
    u32(&b, 0x11111111);
    u8(&b, 1); /* CNAME */
    u8(&b, 5);
    memcpy(b.b + b.n, "alice", 5);
    b.n += 5;
    u8(&b, 0);
    while (b.n % 4)
        u8(&b, 0);
    end_pkt(&b, at);
    cut[1] = b.n;
    return b;
}

static void test_sr_rr(void)
{
    size_t cut[2];
    struct buf b = sr_sdes(cut);
    struct rtcp_info info;
    const char *err = NULL;

    CHECK(rtcp_parse(span_make(b.b, b.n), &info, &err));
    CHECK(rtp_is_rtcp(span_make(b.b, b.n)));
    CHECK(info.has_sr);
    CHECK(!info.has_rr);
    CHECK_INT(info.sr_ssrc, 0x11111111);
    CHECK(info.sr_ntp == ((uint64_t)0xe1f2a3b4 << 32 | 0x80000000));
    CHECK_INT(info.sr_rtp_ts, 123456);
    CHECK_INT(info.sr_packets, 1000);
    CHECK_INT(info.sr_octets, 160000);
    CHECK_INT(info.n_reports, 2);
    CHECK_INT(info.reports[0].reporter_ssrc, 0x11111111);
    CHECK_INT(info.reports[0].ssrc, 0x22222222);
    CHECK_INT(info.reports[0].fraction_lost, 13);
    CHECK_INT(info.reports[0].cumulative_lost, 5);
    CHECK_INT(info.reports[0].ext_highest_seq, 70000);
    CHECK_INT(info.reports[0].jitter, 40);
    CHECK_INT(info.reports[0].lsr, 0xa3b48000);
    CHECK_INT(info.reports[0].dlsr, 65536);
    CHECK_INT(info.reports[1].cumulative_lost, -2);
    CHECK_INT(info.n_packets, 2);
    CHECK_INT(info.n_sdes, 1);

    /* RR (no blocks) + RR (one block) + BYE with a reason + APP + a feedback packet. */
    struct buf r = {.n = 0};
    size_t at = begin(&r, 0, RTCP_RR);
    u32(&r, 0x44444444);
    end_pkt(&r, at);
    at = begin(&r, 1, RTCP_RR);
    u32(&r, 0x55555555);
    block(&r, 0x66666666, 255, 0x7fffff, 1, 2, 3, 4);
    end_pkt(&r, at);
    at = begin(&r, 1, RTCP_BYE);
    u32(&r, 0x44444444);
    u8(&r, 3);
    memcpy(r.b + r.n, "bye", 3);
    r.n += 3;
    end_pkt(&r, at);
    at = begin(&r, 0, RTCP_APP);
    u32(&r, 0x44444444);
    memcpy(r.b + r.n, "TEST", 4);
    r.n += 4;
    end_pkt(&r, at);
    at = begin(&r, 1, 205); /* RTPFB generic NACK */
    u32(&r, 0x44444444);
    u32(&r, 0x66666666);
    u32(&r, 0x00070000);
    end_pkt(&r, at);
    CHECK(rtcp_parse(span_make(r.b, r.n), &info, &err));
    CHECK(info.has_rr);
    CHECK_INT(info.rr_ssrc, 0x44444444);
    CHECK_INT(info.n_reports, 1);
    CHECK_INT(info.reports[0].reporter_ssrc, 0x55555555);
    CHECK_INT(info.reports[0].cumulative_lost, 0x7fffff);
    CHECK_INT(info.reports[0].fraction_lost, 255);
    CHECK_INT(info.n_bye, 1);
    CHECK_INT(info.n_app, 1);
    CHECK_INT(info.n_other, 1);
    CHECK_INT(info.n_packets, 5);

    /* More blocks than RTCP_MAX_REPORTS: the rest are counted, not stored. */
    struct buf m = {.n = 0};
    at = begin(&m, 31, RTCP_RR);
    u32(&m, 1);
    for (unsigned i = 0; i < 31; i++)
        block(&m, 100 + i, 0, 0, i, 0, 0, 0);
    end_pkt(&m, at);
    CHECK(rtcp_parse(span_make(m.b, m.n), &info, &err));
    CHECK_INT(info.n_reports, RTCP_MAX_REPORTS);
    CHECK_INT(info.reports_skipped, 31 - RTCP_MAX_REPORTS);
    CHECK_INT(info.reports[RTCP_MAX_REPORTS - 1].ssrc, 100 + RTCP_MAX_REPORTS - 1);

    /* Padding on the last packet. */
    struct buf p = {.n = 0};
    at = begin(&p, 0, RTCP_RR);
    u32(&p, 7);
    u32(&p, 0);
    u32(&p, 0);
    p.b[p.n - 1] = 8;
    end_pkt(&p, at);
    p.b[at] |= 0x20;
    CHECK(rtcp_parse(span_make(p.b, p.n), &info, &err));
    CHECK_INT(info.rr_ssrc, 7);

    /* Two zero bytes after the last packet (a real stack's short SDES length). */
    b.b[b.n++] = 0;
    b.b[b.n++] = 0;
    CHECK(rtcp_parse(span_make(b.b, b.n), &info, &err));
    CHECK_INT(info.trailing_bytes, 2);
    CHECK_INT(info.n_sdes, 1);
}

struct hostile {
    const char *name;
    const char *err;
    void (*mutate)(struct buf *b, const size_t cut[2]);
};

static void m_len_beyond(struct buf *b, const size_t cut[2])
{
    b->b[cut[0] + 3] += 1; /* SDES one word longer than the datagram */
}
static void m_count_too_big(struct buf *b, const size_t cut[2])
{
    (void)cut;
    b->b[0] = 0x80 | 31; /* AST-2017-012: 31 blocks announced, 2 there */
}
static void m_len_short(struct buf *b, const size_t cut[2])
{
    (void)cut;
    b->b[3] = 5; /* SR of 24 bytes: shorter than its sender info */
}
static void m_version(struct buf *b, const size_t cut[2])
{
    b->b[cut[0]] = 0x40 | 1;
}
static void m_trailing(struct buf *b, const size_t cut[2])
{
    (void)cut;
    b->b[b->n++] = 0x80;
    b->b[b->n++] = 0xc9;
}
static void m_pad_not_last(struct buf *b, const size_t cut[2])
{
    (void)cut;
    b->b[0] |= 0x20;
}
static void m_pad_zero(struct buf *b, const size_t cut[2])
{
    b->b[cut[0]] |= 0x20;
    b->b[b->n - 1] = 0;
}
static void m_pad_huge(struct buf *b, const size_t cut[2])
{
    b->b[cut[0]] |= 0x20;
    b->b[b->n - 1] = 200;
}
static void m_len_zero_sr(struct buf *b, const size_t cut[2])
{
    (void)cut;
    b->b[2] = 0;
    b->b[3] = 0; /* 4 bytes: an SR header alone */
}
static void m_len_max(struct buf *b, const size_t cut[2])
{
    (void)cut;
    b->b[2] = 0xff;
    b->b[3] = 0xff;
}

static const struct hostile hostile_cases[] = {
    {"length beyond the datagram", "RTCP length beyond the datagram", m_len_beyond},
    {"report count beyond length", "SR report blocks beyond the packet", m_count_too_big},
    {"SR shorter than sender info", "short SR", m_len_short},
    {"second packet version 1", "RTCP version not 2", m_version},
    {"trailing bytes", "short RTCP header", m_trailing},
    {"padding before the last", "RTCP padding before the last packet", m_pad_not_last},
    {"padding zero", "RTCP padding length invalid", m_pad_zero},
    {"padding past the packet", "RTCP padding length invalid", m_pad_huge},
    {"SR length 0", "short SR", m_len_zero_sr},
    {"length 65535", "RTCP length beyond the datagram", m_len_max},
};

static void test_hostile(void)
{
    for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++) {
        size_t cut[2];
        struct buf b = sr_sdes(cut);
        struct rtcp_info info;
        const char *err = NULL;
        hostile_cases[i].mutate(&b, cut);
        uint8_t *copy = malloc(b.n);
        memcpy(copy, b.b, b.n);
        bool ok = rtcp_parse(span_make(copy, b.n), &info, &err);
        if (ok || !err || strcmp(err, hostile_cases[i].err) != 0)
            fprintf(stderr, "case %s: %s\n", hostile_cases[i].name, ok ? "accepted" : err);
        CHECK(!ok);
        CHECK_STR(err, hostile_cases[i].err);
        free(copy);
    }

    /* Other packet types with bad counts. */
    struct buf b = {.n = 0};
    size_t at = begin(&b, 3, RTCP_BYE); /* 3 sources, room for 1 */
    u32(&b, 1);
    end_pkt(&b, at);
    struct rtcp_info info;
    const char *err;
    CHECK(!rtcp_parse(span_make(b.b, b.n), &info, &err));
    CHECK_STR(err, "BYE sources beyond the packet");
    b.n = 0;
    at = begin(&b, 0, RTCP_APP);
    u32(&b, 1);
    end_pkt(&b, at);
    CHECK(!rtcp_parse(span_make(b.b, b.n), &info, &err));
    CHECK_STR(err, "short APP");
    CHECK(!rtcp_parse(span_make(b.b, 0), &info, &err));
    CHECK(!rtcp_parse(span_make(b.b, 3), &info, &err));
}

/* Every prefix: valid exactly at packet boundaries. */
static void test_truncation(void)
{
    size_t cut[2];
    struct buf b = sr_sdes(cut);
    for (size_t len = 0; len <= b.n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b.b, len);
        struct rtcp_info info;
        const char *err;
        bool ok = rtcp_parse(span_make(copy, len), &info, &err);
        CHECK(ok == (len == cut[0] || len == cut[1]));
        free(copy);
    }
}

static uint32_t lcg_state = 777;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

/* Random byte flips of a valid compound: never a crash, and the output stays sane. */
static void test_random(void)
{
    size_t cut[2];
    struct buf orig = sr_sdes(cut);
    unsigned accepted = 0;
    for (unsigned iter = 0; iter < 20000; iter++) {
        size_t n = orig.n - (lcg() % 3 == 0 ? lcg() % orig.n : 0);
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, orig.b, n);
        for (unsigned k = lcg() % 4 + 1; k > 0 && n; k--)
            copy[lcg() % n] ^= (uint8_t)(1u << (lcg() % 8));
        struct rtcp_info info;
        const char *err;
        if (rtcp_parse(span_make(copy, n), &info, &err)) {
            accepted++;
            CHECK(info.n_reports <= RTCP_MAX_REPORTS);
        }
        free(copy);
    }
    CHECK(accepted > 0);
}

/* ---- real captures ---- */

struct cap {
    unsigned rtcp, ok, reports, sr;
    struct rtcp_info first;
};

static void cap_packet(void *user, const struct l4_packet *l4)
{
    struct cap *c = user;
    struct rtcp_info info;
    const char *err;

    if (l4->proto != L4_UDP || !rtp_is_rtcp(l4->payload))
        return;
    c->rtcp++;
    if (rtcp_parse(l4->payload, &info, &err)) {
        if (c->ok++ == 0)
            c->first = info;
        c->reports += info.n_reports;
        c->sr += info.has_sr;
    } else {
        printf("rejected %u -> %u: %s\n", l4->sport, l4->dport, err);
    }
}

struct capture_case {
    const char *file;
    unsigned rtcp_frames; /* the oracle's count (tshark, which needs SDP or a heuristic) */
    unsigned ok;          /* what rtp_is_rtcp + rtcp_parse accept: all RTCP on any port */
    unsigned rejected;    /* look like RTCP to rtp_is_rtcp, but are not */
};

static const struct capture_case captures[] = {
    /* 4 relayed compounds whose SDES length is 2 bytes short: tolerated. */
    {"ws-sip-call-rtp-g711-xlite.pcap", 26, 28, 0},
    {"honeynet-fc4-asterisk-xlite-dtmf.pcap", 21, 21, 0},
    {"nasty-asterisk-ast-2017-012-rtcp-crash.pcap", 2, 2, 0},
    {"audiocodes-pcma-cn-prack.pcap", 2, 2, 0},
    /* 2 LLMNR queries (port 5355) whose id happens to start 0x84 0xc6. */
    {"freepbx-polycom-csipsimple-calls.pcapng", 9, 9, 2},
};

static void test_captures(void)
{
    for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
        char rel[256], path[512];
        struct cap c;
        snprintf(rel, sizeof(rel), "corpus/public/%s", captures[i].file);
        if (!testpcap_path(rel, path, sizeof(path)))
            return;
        memset(&c, 0, sizeof(c));
        CHECK(testpcap_each(path, cap_packet, &c) > 0);
        printf("%s: %u RTCP datagrams, %u parsed, %u SR, %u report blocks\n", captures[i].file,
               c.rtcp, c.ok, c.sr, c.reports);
        CHECK_INT(c.ok, captures[i].ok);
        CHECK_INT(c.rtcp - c.ok, captures[i].rejected);
        CHECK(c.ok >= captures[i].rtcp_frames);
        if (i == 2) {
            /* What tshark shows for the first SR of the AST-2017-012 capture. */
            CHECK(c.first.has_sr);
            CHECK_INT(c.first.sr_ssrc, 0x6a1b26d7);
            CHECK_INT(c.first.sr_packets, 121);
            CHECK_INT(c.first.sr_octets, 19360);
            CHECK_INT(c.first.sr_rtp_ts, 19992);
            CHECK_INT(c.first.n_reports >= 1, 1);
            CHECK_INT(c.first.reports[0].ssrc, 0x197f4b44);
            CHECK_INT(c.first.reports[0].ext_highest_seq, 30694);
            CHECK_INT(c.first.reports[0].lsr, 0x10217a58);
            CHECK_INT(c.first.reports[0].dlsr, 161873);
        }
    }
}

int main(void)
{
    test_sr_rr();
    test_hostile();
    test_truncation();
    test_random();
    test_captures();
    return TEST_REPORT("test_rtcp");
}

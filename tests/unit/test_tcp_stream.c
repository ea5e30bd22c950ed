/*
 * test_tcp_stream.c - TCP reassembly: in-order, piecewise consumption, messages split
 * over segments, retransmission, out-of-order, overlap, mid-connection pickup,
 * sequence wraparound, gaps that never fill, buffer overflow, FIN/RST, idle expiry and
 * the flow table bound.  The consumer frames lines ending in '\n', one per call.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/tcp_stream.h"
#include "testhelp.h"

static char out[8192];
static size_t outlen;
static int calls, apps_made, apps_freed;
static pkt_time_t last_ts;
static struct counters C;

static size_t on_line(void *user, struct tcp_flow *flow, pkt_time_t ts, const uint8_t *data,
                      size_t len)
{
    (void)user;
    calls++;
    last_ts = ts;
    if (!flow->app) {
        flow->app = malloc(1);
        apps_made++;
    }
    const uint8_t *nl = memchr(data, '\n', len);
    if (!nl)
        return 0;
    size_t n = (size_t)(nl - data) + 1;
    if (outlen + n < sizeof(out)) {
        memcpy(out + outlen, data, n);
        outlen += n;
        out[outlen] = '\0';
    }
    return n;
}

static void app_free(void *app)
{
    free(app);
    apps_freed++;
}

static void reset(void)
{
    memset(&C, 0, sizeof(C));
    out[0] = '\0';
    outlen = 0;
    calls = apps_made = apps_freed = 0;
}

static struct tcp_reassembler *make(size_t max_flows, size_t max_buf)
{
    struct tcp_limits lim = {
        .max_flows = max_flows, .max_flow_buffer = max_buf, .idle_timeout = 10000000};
    reset();
    return tcp_reassembler_new(&lim, &C, on_line, app_free, NULL);
}

/* One segment of the flow 10.0.0.1:40000 -> 10.0.0.2:5060 (or with another source port). */
static void seg_p(struct tcp_reassembler *r, unsigned sport, pkt_time_t ts, uint32_t seq,
                  unsigned flags, const char *data)
{
    struct l4_packet p;
    memset(&p, 0, sizeof(p));
    ip_addr_parse("10.0.0.1", &p.src);
    ip_addr_parse("10.0.0.2", &p.dst);
    p.sport = (uint16_t)sport;
    p.dport = 5060;
    p.proto = L4_TCP;
    p.ts = ts;
    p.tcp_seq = seq;
    p.tcp_flags = (uint8_t)flags;
    p.payload = span_make(data, strlen(data));
    tcp_reassembler_segment(r, &p);
}

static void seg(struct tcp_reassembler *r, uint32_t seq, unsigned flags, const char *data)
{
    seg_p(r, 40000, 1000, seq, flags, data);
}

#define A TCPF_ACK
#define PA (TCPF_ACK | TCPF_PSH)

static void test_in_order(void)
{
    struct tcp_reassembler *r = make(0, 0);
    seg(r, 999, TCPF_SYN, "");
    seg(r, 1000, PA, "a\n");
    seg(r, 1002, PA, "b\n");
    CHECK_STR(out, "a\nb\n");
    CHECK_INT(C.tcp_segments, 3);

    /* Several messages in one segment, consumed one per call. */
    calls = 0;
    seg(r, 1004, PA, "m1\nm2\nm3\n");
    CHECK_STR(out, "a\nb\nm1\nm2\nm3\n");
    CHECK_INT(calls, 3);

    /* One message over several segments; unconsumed bytes offered again with the next. */
    seg(r, 1013, PA, "hel");
    CHECK_STR(out, "a\nb\nm1\nm2\nm3\n");
    seg_p(r, 40000, 5555, 1016, PA, "lo");
    seg_p(r, 40000, 7777, 1018, PA, "\nrest");
    CHECK_STR(out, "a\nb\nm1\nm2\nm3\nhello\n");
    CHECK_INT(last_ts, 7777);
    seg(r, 1023, PA, "!\n");
    CHECK_STR(out, "a\nb\nm1\nm2\nm3\nhello\nrest!\n");
    CHECK_INT(apps_made, 1);
    tcp_reassembler_free(r);
    CHECK_INT(apps_freed, 1);
}

static void test_retransmission_and_overlap(void)
{
    struct tcp_reassembler *r = make(0, 0);
    seg(r, 100, PA, "a\n");
    seg(r, 100, PA, "a\n");
    seg(r, 102, PA, "bb");
    seg(r, 102, PA, "bb");         /* retransmitted while unconsumed */
    seg(r, 103, PA, "b\nc");       /* overlaps one byte */
    seg(r, 100, PA, "a\nbb\nc\n"); /* covers everything, one new byte */
    CHECK_STR(out, "a\nbb\nc\n");
    CHECK_INT(C.drop_tcp_gap + C.drop_tcp_overflow, 0);
    tcp_reassembler_free(r);
}

static void test_out_of_order(void)
{
    struct tcp_reassembler *r = make(0, 0);
    seg(r, 9, TCPF_SYN, "");
    seg(r, 14, PA, "3\n");
    seg(r, 12, PA, "2\n");
    CHECK_STR(out, "");
    seg(r, 10, PA, "1\n");
    CHECK_STR(out, "1\n2\n3\n");

    /* Held segments that overlap one another and the stream ("abcdefghijklmno\n" from 16). */
    seg(r, 24, PA, "ijkl");   /* [24,28) */
    seg(r, 22, PA, "ghij");   /* [22,26): only gh is new */
    seg(r, 27, PA, "lmno\n"); /* [27,32): mno\n is new */
    seg(r, 26, PA, "XX");     /* contradicts held bytes: those held stand */
    CHECK_STR(out, "1\n2\n3\n");
    seg(r, 16, PA, "ab");
    seg(r, 16, PA, "abcdefgh"); /* fills the gap, overlapping both sides */
    CHECK_STR(out, "1\n2\n3\nabcdefghijklmno\n");
    tcp_reassembler_free(r);
}

static void test_pickup_and_wrap(void)
{
    struct tcp_reassembler *r = make(0, 0);
    /* No SYN: the first segment seen starts the stream. */
    seg(r, 5000, PA, "mid\n");
    seg(r, 4990, PA, "0123456789"); /* before the start: ignored */
    CHECK_STR(out, "mid\n");
    tcp_reassembler_free(r);

    r = make(0, 0);
    seg(r, 0xfffffffcu, TCPF_SYN, "");
    seg(r, 0xffffffffu, PA, "c"); /* out of order across the wrap */
    seg(r, 0x00000000u, PA, "d\n");
    seg(r, 0xfffffffdu, PA, "ab");
    CHECK_STR(out, "abcd\n");
    seg(r, 0xfffffffdu, PA, "abcd\n"); /* retransmission across the wrap */
    seg(r, 2, PA, "e\n");
    CHECK_STR(out, "abcd\ne\n");
    tcp_reassembler_free(r);
}

static void test_gap_and_overflow(void)
{
    /* A gap that never fills: held data grows past the bound, the stream skips ahead. */
    struct tcp_reassembler *r = make(0, 64);
    seg(r, 0, PA, "x\npartial");
    seg(r, 100, PA, "0123456789012345678901234567890\n");
    CHECK_INT(C.drop_tcp_gap, 0);
    seg(r, 132, PA, "abcdefghijklmnopqrstuvwxyzabcd\n");
    CHECK_INT(C.drop_tcp_gap, 1);
    CHECK_STR(out, "x\n0123456789012345678901234567890\nabcdefghijklmnopqrstuvwxyzabcd\n");
    seg(r, 163, PA, "next\n");
    CHECK_STR(out, "x\n0123456789012345678901234567890\nabcdefghijklmnopqrstuvwxyzabcd\nnext\n");

    /* Unconsumed data beyond the bound is dropped; the stream goes on. */
    char big[80];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    seg(r, 168, PA, big);
    CHECK_INT(C.drop_tcp_overflow, 1);
    seg(r, 168 + 79, PA, "ok\n");
    CHECK(outlen >= 3 && memcmp(out + outlen - 3, "ok\n", 3) == 0);
    tcp_reassembler_free(r);
}

static void test_close_expire_bound(void)
{
    struct tcp_reassembler *r = make(2, 0);

    /* FIN after the data: delivered, then the flow is freed. */
    seg(r, 1, PA, "a\n");
    seg(r, 3, TCPF_FIN | A, "b\n");
    CHECK_STR(out, "a\nb\n");
    CHECK_INT(apps_freed, 1);
    seg(r, 5, A, ""); /* a bare ACK after close makes no flow */
    CHECK_INT(apps_made, 1);

    /* FIN before a missing segment: the flow waits for it. */
    seg(r, 100, PA, "c\n");
    seg(r, 104, TCPF_FIN | A, "");
    CHECK_INT(apps_freed, 1);
    seg(r, 102, PA, "d\n");
    CHECK_STR(out, "a\nb\nc\nd\n");
    CHECK_INT(apps_freed, 2);

    /* Closing with a message half received counts it. */
    CHECK_INT(C.drop_tcp_unfinished, 0);
    seg_p(r, 41000, 1000, 1, PA, "half a mess");
    seg_p(r, 41000, 1000, 12, TCPF_FIN | A, "age");
    CHECK_INT(C.drop_tcp_unfinished, 1);
    CHECK_INT(apps_freed, 3);

    /* RST frees at once. */
    seg(r, 200, PA, "e\n");
    seg(r, 202, TCPF_RST, "");
    CHECK_INT(apps_freed, 4);

    /* A new SYN on the same 4-tuple replaces the old flow. */
    seg(r, 300, PA, "f\n");
    seg(r, 5000, TCPF_SYN, "");
    CHECK_INT(apps_freed, 5);
    seg(r, 5001, PA, "g\n");
    CHECK_STR(out, "a\nb\nc\nd\ne\nf\ng\n");

    /* Flow table bound (2): a third flow is refused and counted. */
    seg_p(r, 40001, 1000, 1, PA, "h\n");
    seg_p(r, 40002, 1000, 1, PA, "i\n");
    CHECK_INT(C.drop_tcp_overflow, 1);
    CHECK_STR(out, "a\nb\nc\nd\ne\nf\ng\nh\n");

    /* Idle expiry frees both, and frees room for new flows. */
    tcp_reassembler_expire(r, 1000 + 5000000);
    CHECK_INT(apps_freed, 5);
    tcp_reassembler_expire(r, 1000 + 10000001);
    CHECK_INT(apps_freed, 7);
    seg_p(r, 40002, 20000000, 1, PA, "i\n");
    CHECK_STR(out, "a\nb\nc\nd\ne\nf\ng\nh\ni\n");
    /* Opportunistic expiry on the next segment. */
    seg_p(r, 40003, 40000000, 1, PA, "j\n");
    CHECK_INT(apps_freed, 8);
    tcp_reassembler_free(r);
    CHECK_INT(apps_freed, apps_made);
}

int main(void)
{
    test_in_order();
    test_retransmission_and_overlap();
    test_out_of_order();
    test_pickup_and_wrap();
    test_gap_and_overflow();
    test_close_expire_bound();
    return TEST_REPORT("test_tcp_stream");
}

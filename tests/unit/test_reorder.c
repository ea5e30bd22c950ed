/*
 * test_reorder.c - the bounded reorder buffer: in-order pass-through, swaps, release on
 * full buffer and on timeout with the gap counted as loss, late and duplicate packets,
 * sequence wraparound, SSRC change and sequence jumps (confirmed or stray), oversized
 * payloads, overflow, drain, and a shuffled stream checked packet by packet.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/rtp.h"
#include "testhelp.h"

static uint8_t payload_bytes[2000];

static struct rtp_packet mk(uint16_t seq, uint32_t ssrc, size_t len)
{
    struct rtp_packet p;
    memset(&p, 0, sizeof(p));
    p.seq = seq;
    p.timestamp = (uint32_t)seq * 160;
    p.ssrc = ssrc;
    p.payload_type = 8;
    /* The payload starts with the low byte of seq so a copy can be told apart. */
    payload_bytes[0] = (uint8_t)seq;
    payload_bytes[1] = (uint8_t)(seq >> 8);
    p.payload = span_make(payload_bytes, len);
    return p;
}

/* Pushes seq at time t (ms) and pops everything allowed; appends released seqs to out. */
struct run {
    struct rtp_reorder *r;
    uint32_t ssrc;
    uint16_t out[4096];
    uint32_t lost_before[4096];
    bool disc[4096];
    unsigned nout;
};

static void pop_all(struct run *x, pkt_time_t now)
{
    struct rtp_reorder_out o;
    while (rtp_reorder_pop(x->r, now, &o)) {
        CHECK(o.pkt.payload.len >= 2);
        CHECK_INT(o.pkt.payload.p[0] | o.pkt.payload.p[1] << 8, o.pkt.seq);
        x->lost_before[x->nout] = o.lost_before;
        x->disc[x->nout] = o.discontinuity;
        x->out[x->nout++] = o.pkt.seq;
    }
}

static enum rtp_reorder_result put(struct run *x, uint16_t seq, pkt_time_t t_ms)
{
    struct rtp_packet p = mk(seq, x->ssrc, 160);
    enum rtp_reorder_result res = rtp_reorder_push(x->r, &p, t_ms * 1000);
    memset(payload_bytes, 0xee, 4); /* the buffer must have copied it */
    pop_all(x, t_ms * 1000);
    return res;
}

static void drain_all(struct run *x)
{
    struct rtp_reorder_out o;
    while (rtp_reorder_drain(x->r, &o)) {
        x->lost_before[x->nout] = o.lost_before;
        x->disc[x->nout] = o.discontinuity;
        x->out[x->nout++] = o.pkt.seq;
    }
}

static struct run *run_new(unsigned slots, pkt_time_t wait_ms, struct counters *c)
{
    struct run *x = calloc(1, sizeof(*x));
    x->r = rtp_reorder_new(slots, 1500, wait_ms * 1000, c);
    x->ssrc = 0x1234;
    return x;
}

static void run_free(struct run *x)
{
    rtp_reorder_free(x->r);
    free(x);
}

static void check_out(const struct run *x, const uint16_t *want, unsigned n, int line)
{
    if (x->nout != n)
        fprintf(stderr, "line %d: released %u, want %u\n", line, x->nout, n);
    CHECK_INT(x->nout, n);
    for (unsigned i = 0; i < n && i < x->nout; i++) {
        if (x->out[i] != want[i])
            fprintf(stderr, "line %d: out[%u] = %u, want %u\n", line, i, x->out[i], want[i]);
        CHECK_INT(x->out[i], want[i]);
    }
}
#define CHECK_OUT(x, ...)                                                                          \
    do {                                                                                           \
        static const uint16_t w_[] = {__VA_ARGS__};                                                \
        check_out((x), w_, sizeof(w_) / sizeof(w_[0]), __LINE__);                                  \
    } while (0)

static void test_in_order_and_swap(void)
{
    struct run *x = run_new(8, 100, NULL);
    for (uint16_t s = 1; s <= 5; s++) {
        CHECK_INT(put(x, s, s * 20), RTP_REORDER_QUEUED);
        CHECK_INT(x->nout, s); /* released at once: no added delay in order */
    }
    CHECK_INT(put(x, 7, 120), RTP_REORDER_QUEUED);
    CHECK_INT(x->nout, 5); /* 6 missing: 7 waits */
    CHECK_INT(rtp_reorder_held(x->r), 1);
    CHECK_INT(put(x, 6, 125), RTP_REORDER_QUEUED);
    CHECK_OUT(x, 1, 2, 3, 4, 5, 6, 7);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 0);
    CHECK_INT(rtp_reorder_stats(x->r)->released, 7);
    run_free(x);
}

static void test_full_and_timeout(void)
{
    struct counters c;
    memset(&c, 0, sizeof(c));

    /* Full: 4 slots, 2 never comes. */
    struct run *x = run_new(4, 1000, &c);
    put(x, 1, 0);
    put(x, 3, 40);
    put(x, 4, 60);
    put(x, 5, 80);
    CHECK_INT(x->nout, 1);
    put(x, 6, 100); /* 4 held: the lowest goes, 2 counted lost */
    CHECK_OUT(x, 1, 3, 4, 5, 6);
    CHECK_INT(x->lost_before[1], 1);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 1);
    CHECK_INT(rtp_reorder_stats(x->r)->released_full, 1);
    /* 2 arrives now: late, dropped, counted. */
    CHECK_INT(put(x, 2, 110), RTP_REORDER_LATE);
    CHECK_INT(rtp_reorder_stats(x->r)->late, 1);
    CHECK_INT(c.drop_rtp_late, 1);
    run_free(x);

    /* Timeout: 60 ms of packet time. */
    x = run_new(16, 60, NULL);
    put(x, 10, 0);
    put(x, 13, 60); /* 11, 12 lost */
    put(x, 14, 80);
    CHECK_INT(x->nout, 1);
    pop_all(x, 119000);
    CHECK_INT(x->nout, 1);
    pop_all(x, 120000); /* 13 has waited 60 ms */
    CHECK_OUT(x, 10, 13, 14);
    CHECK_INT(x->lost_before[1], 2);
    CHECK_INT(x->lost_before[2], 0);
    CHECK_INT(rtp_reorder_stats(x->r)->released_timeout, 1);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 2);
    run_free(x);
}

static void test_duplicates(void)
{
    struct counters c;
    memset(&c, 0, sizeof(c));
    struct run *x = run_new(8, 1000, &c);
    put(x, 1, 0);
    CHECK_INT(put(x, 1, 1), RTP_REORDER_DUPLICATE); /* of a released one */
    put(x, 3, 40);
    CHECK_INT(put(x, 3, 41), RTP_REORDER_DUPLICATE); /* of a held one */
    put(x, 2, 42);
    CHECK_INT(put(x, 2, 43), RTP_REORDER_DUPLICATE);
    CHECK_OUT(x, 1, 2, 3);
    CHECK_INT(rtp_reorder_stats(x->r)->duplicates, 3);
    CHECK_INT(c.drop_rtp_duplicate, 3);
    CHECK_INT(rtp_reorder_stats(x->r)->late, 0);
    run_free(x);
}

static void test_wrap(void)
{
    struct run *x = run_new(8, 1000, NULL);
    put(x, 65533, 0);
    put(x, 65535, 40);
    put(x, 0, 60);
    put(x, 65534, 61);
    put(x, 2, 100);
    put(x, 1, 101);
    put(x, 3, 120);
    CHECK_OUT(x, 65533, 65534, 65535, 0, 1, 2, 3);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 0);
    run_free(x);
}

static void test_ssrc_change(void)
{
    struct run *x = run_new(8, 1000, NULL);
    put(x, 100, 0);
    put(x, 102, 40); /* held, waiting for 101 */
    x->ssrc = 0x9999;
    put(x, 7, 60); /* new source: old epoch drains first */
    CHECK_OUT(x, 100, 102, 7);
    CHECK_INT(x->lost_before[1], 1);
    CHECK(x->disc[2]);
    CHECK_INT(x->lost_before[2], 0);
    x->ssrc = 0x1234;
    CHECK_INT(put(x, 101, 61), RTP_REORDER_LATE); /* straggler of the old source */
    x->ssrc = 0x9999;
    put(x, 9, 100);
    put(x, 8, 101);
    CHECK_OUT(x, 100, 102, 7, 8, 9);
    CHECK_INT(rtp_reorder_stats(x->r)->restarts, 1);
    /* The old source really coming back (far from where it was) is a new epoch. */
    x->ssrc = 0x1234;
    put(x, 5000, 200);
    CHECK_INT(x->nout, 6);
    CHECK(x->disc[5]);
    run_free(x);
}

static void test_jumps(void)
{
    struct counters c;
    memset(&c, 0, sizeof(c));
    /* Confirmed jump. */
    struct run *x = run_new(8, 1000, &c);
    for (uint16_t s = 1; s <= 5; s++)
        put(x, s, s * 20);
    put(x, 30000, 120);
    CHECK_INT(x->nout, 5); /* on probation */
    put(x, 30001, 140);
    put(x, 30002, 160);
    CHECK_OUT(x, 1, 2, 3, 4, 5, 30000, 30001, 30002);
    CHECK(x->disc[5]);
    CHECK(!x->disc[6]);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 0);
    CHECK_INT(rtp_reorder_stats(x->r)->restarts, 1);
    run_free(x);

    /* Stray: one wild packet, then the stream goes on. */
    x = run_new(8, 1000, &c);
    for (uint16_t s = 1; s <= 5; s++)
        put(x, s, s * 20);
    put(x, 30000, 120);
    put(x, 6, 121);
    put(x, 7, 140);
    CHECK_OUT(x, 1, 2, 3, 4, 5, 6, 7);
    CHECK_INT(rtp_reorder_stats(x->r)->stray, 1);
    CHECK_INT(c.drop_rtp_seq_jump, 1);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 0);

    /* A very late packet (far behind) is late, not a restart. */
    for (uint16_t s = 8; s <= 400; s++)
        put(x, s, s * 20);
    put(x, 50, 8100);
    put(x, 401, 8101);
    CHECK_INT(x->nout, 401);
    CHECK_INT(x->out[400], 401);
    CHECK_INT(rtp_reorder_stats(x->r)->late, 1);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, 0);
    /* A jump left unconfirmed at the end of the stream is dropped by drain. */
    put(x, 20000, 9000);
    drain_all(x);
    CHECK_INT(x->nout, 401);
    CHECK_INT(rtp_reorder_stats(x->r)->stray, 2);
    run_free(x);
}

static void test_limits(void)
{
    struct counters c;
    memset(&c, 0, sizeof(c));
    CHECK(rtp_reorder_new(1, 1500, 0, NULL) == NULL);
    CHECK(rtp_reorder_new(8, 0, 0, NULL) == NULL);
    CHECK(rtp_reorder_new(8, 1500, -1, NULL) == NULL);
    CHECK(rtp_reorder_new(100000, 1500, 0, NULL) == NULL);

    struct rtp_reorder *r = rtp_reorder_new(4, 200, 1000000, &c);
    struct rtp_packet p = mk(1, 1, 201);
    CHECK_INT(rtp_reorder_push(r, &p, 0), RTP_REORDER_OVERSIZED);
    CHECK_INT(c.drop_rtp_oversized, 1);
    /* Pushing without popping: the fifth does not fit. */
    for (uint16_t s = 10; s < 14; s++) {
        p = mk(s, 1, 200);
        CHECK_INT(rtp_reorder_push(r, &p, 0), RTP_REORDER_QUEUED);
    }
    p = mk(14, 1, 200);
    CHECK_INT(rtp_reorder_push(r, &p, 0), RTP_REORDER_OVERFLOW);
    CHECK_INT(c.drop_rtp_reorder_overflow, 1);
    struct rtp_reorder_out o;
    unsigned n = 0;
    while (rtp_reorder_drain(r, &o)) {
        CHECK_INT(o.pkt.seq, 10 + n);
        CHECK_INT(o.pkt.payload.len, 200);
        n++;
    }
    CHECK_INT(n, 4);
    CHECK(!rtp_reorder_pop(r, 0, &o));

    /* Reset forgets everything: an "old" number is accepted again. */
    rtp_reorder_reset(r);
    p = mk(3, 1, 0); /* empty payload */
    CHECK_INT(rtp_reorder_push(r, &p, 0), RTP_REORDER_QUEUED);
    CHECK(rtp_reorder_pop(r, 0, &o));
    CHECK_INT(o.pkt.seq, 3);
    CHECK_INT(o.pkt.payload.len, 0);
    rtp_reorder_free(r);
    rtp_reorder_free(NULL);
}

/* A deterministic generator for the shuffle, the same on every run. */
static uint32_t lcg_state = 12345;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

static void test_shuffled_stream(void)
{
    enum { N = 3000 };
    static uint16_t order[N];
    static bool dropped[N];
    unsigned n = 0, ndropped = 0;
    uint16_t base = 65000; /* crosses the wrap */

    for (unsigned i = 0; i < N; i++)
        order[i] = (uint16_t)i;
    /* Displace packets by up to 3 places: swaps inside disjoint blocks of 4 (the first
     * packet stays first: it sets the timeline). */
    for (unsigned b = 1; b + 4 <= N; b += 4)
        for (unsigned k = 0; k < 3; k++)
            if (lcg() % 3 == 0) {
                unsigned i = b + lcg() % 4, j = b + lcg() % 4;
                uint16_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    struct run *x = run_new(8, 200, NULL);
    for (unsigned i = 0; i < N; i++) {
        if (i > 0 && lcg() % 50 == 0) {
            dropped[order[i]] = true;
            ndropped++;
            continue;
        }
        put(x, (uint16_t)(base + order[i]), i * 20);
        if (lcg() % 40 == 0)
            CHECK_INT(put(x, (uint16_t)(base + order[i]), i * 20 + 1), RTP_REORDER_DUPLICATE);
    }
    drain_all(x);
    /* Every packet not dropped comes out once, in order. */
    for (unsigned i = 0; i < N; i++)
        if (!dropped[i]) {
            if (n < x->nout && x->out[n] != (uint16_t)(base + i))
                fprintf(stderr, "shuffle: out[%u] = %u, want %u\n", n, x->out[n],
                        (uint16_t)(base + i));
            CHECK(n < x->nout && x->out[n] == (uint16_t)(base + i));
            n++;
        }
    CHECK_INT(x->nout, n);
    CHECK_INT(rtp_reorder_stats(x->r)->lost, ndropped);
    CHECK_INT(rtp_reorder_stats(x->r)->late, 0);
    run_free(x);
}

int main(void)
{
    test_in_order_and_swap();
    test_full_and_timeout();
    test_duplicates();
    test_wrap();
    test_ssrc_change();
    test_jumps();
    test_limits();
    test_shuffled_stream();
    return TEST_REPORT("test_reorder");
}

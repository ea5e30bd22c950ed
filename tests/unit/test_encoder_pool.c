/*
 * test_encoder_pool.c - the encoder threads ([media] encoder_threads): several calls'
 * frames encoded on 3 workers through a backlog of 4 frames give the same Ogg bytes as
 * the same frames encoded in order on this thread, complexity changes included; a full
 * backlog makes the producer wait (counted), never drops; a writer whose sink fails
 * makes its lane fail (push and drain say so) without touching the other lanes.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/media/encoder_pool.h"
#include "testhelp.h"

enum { LANES = 5, FRAMES = 60, FRAME = 480 /* 60 ms at 8 kHz */ };

struct buf {
    uint8_t *p;
    size_t len, cap;
    size_t fail_after; /* 0: never */
};

static int buf_write(void *user, const uint8_t *data, size_t len)
{
    struct buf *b = user;
    if (b->fail_after && b->len + len > b->fail_after)
        return -1;
    if (b->len + len > b->cap) {
        size_t cap = (b->len + len) * 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

static struct ogg_opus_writer *writer(struct buf *b, uint32_t serial)
{
    struct ogg_opus_settings st = {.sample_rate = 8000,
                                   .bitrate = 12000,
                                   .frame_ms = 60,
                                   .complexity = 0,
                                   .serial = serial,
                                   .comments = {NULL}};
    struct byte_sink sink = {.write = buf_write, .user = b};
    char err[256];
    return ogg_opus_writer_new(&st, &sink, err, sizeof(err));
}

/* Frame f of lane l: a tone on the left, every third frame silent on the right. */
static void frame(int l, int f, int16_t *left, int16_t *right)
{
    for (int i = 0; i < FRAME; i++) {
        left[i] = (int16_t)(((i * (l + 3) + f * 7) % 64 - 32) * 300);
        right[i] = (int16_t)(((i * (l + 5)) % 40 - 20) * 500);
    }
}

static void test_same_bytes(void)
{
    struct buf direct[LANES] = {{0}}, pooled[LANES] = {{0}};
    struct ogg_opus_writer *wd[LANES], *wp[LANES];
    struct encoder_lane *lanes[LANES];
    struct counters c = {0};
    struct encoder_pool *pool = encoder_pool_new(3, 4, &c);
    CHECK(pool != NULL);
    for (int l = 0; l < LANES; l++) {
        wd[l] = writer(&direct[l], 100 + l);
        wp[l] = writer(&pooled[l], 100 + l);
        lanes[l] = encoder_lane_new(pool, wp[l]);
        CHECK(wd[l] && wp[l] && lanes[l]);
    }
    int16_t left[FRAME], right[FRAME];
    int failures = 0;
    for (int f = 0; f < FRAMES; f++) {
        for (int l = 0; l < LANES; l++) {
            frame(l, f, left, right);
            const int16_t *r = f % 3 == 0 ? NULL : right;
            failures += ogg_opus_writer_push(wd[l], left, r, FRAME) != 0;
            failures += encoder_lane_push(lanes[l], left, r, FRAME) != 0;
            if (f == FRAMES / 2) {
                ogg_opus_writer_set_complexity(wd[l], 3);
                encoder_lane_set_complexity(lanes[l], 3);
            }
        }
    }
    CHECK_INT(failures, 0);
    for (int l = 0; l < LANES; l++) {
        CHECK_INT(encoder_lane_drain(lanes[l]), 0);
        encoder_lane_free(lanes[l]);
        CHECK_INT(ogg_opus_writer_finish(wd[l]), 0);
        CHECK_INT(ogg_opus_writer_finish(wp[l]), 0);
        CHECK(direct[l].len > 1000);
        CHECK_INT(pooled[l].len, direct[l].len);
        CHECK(pooled[l].len == direct[l].len &&
              memcmp(pooled[l].p, direct[l].p, direct[l].len) == 0);
        ogg_opus_writer_free(wd[l]);
        ogg_opus_writer_free(wp[l]);
        free(direct[l].p);
        free(pooled[l].p);
    }
    CHECK_INT(encoder_pool_queued(pool), 0);
    encoder_pool_free(pool);
}

/* One worker, room for one frame: the producer (a copy) outruns the encoder (an Opus
 * frame) and must wait; nothing is lost on the way. */
static void test_backlog_waits(void)
{
    struct buf out = {0}, ref = {0};
    struct counters c = {0};
    struct encoder_pool *pool = encoder_pool_new(1, 1, &c);
    struct ogg_opus_writer *w = writer(&out, 9), *wr = writer(&ref, 9);
    struct encoder_lane *lane = encoder_lane_new(pool, w);
    CHECK(pool && w && wr && lane);
    int16_t left[FRAME], right[FRAME];
    for (int f = 0; f < 4 * FRAMES; f++) {
        frame(1, f, left, right);
        CHECK_INT(encoder_lane_push(lane, left, right, FRAME), 0);
        ogg_opus_writer_push(wr, left, right, FRAME);
    }
    CHECK_INT(encoder_lane_drain(lane), 0);
    CHECK(c.encoder_backlog_waits > 0);
    encoder_lane_free(lane);
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    CHECK_INT(ogg_opus_writer_finish(wr), 0);
    CHECK(out.len == ref.len && memcmp(out.p, ref.p, ref.len) == 0);
    ogg_opus_writer_free(w);
    ogg_opus_writer_free(wr);
    free(out.p);
    free(ref.p);
    encoder_pool_free(pool);
}

static void test_failure(void)
{
    struct buf bad = {.fail_after = 600}, good = {0};
    struct counters c = {0};
    struct encoder_pool *pool = encoder_pool_new(2, 8, &c);
    struct ogg_opus_writer *wb = writer(&bad, 1), *wg = writer(&good, 2);
    struct encoder_lane *lb = encoder_lane_new(pool, wb), *lg = encoder_lane_new(pool, wg);
    CHECK(pool && wb && wg && lb && lg);
    int16_t left[FRAME], right[FRAME];
    int refused = 0;
    for (int f = 0; f < FRAMES; f++) {
        frame(0, f, left, right);
        refused += encoder_lane_push(lb, left, right, FRAME) != 0;
        CHECK_INT(encoder_lane_push(lg, left, right, FRAME), 0);
    }
    CHECK_INT(encoder_lane_drain(lb), -1);
    CHECK(refused > 0); /* once the failure was seen, later frames are refused */
    CHECK_INT(encoder_lane_push(lb, left, right, FRAME), -1);
    CHECK_INT(encoder_lane_drain(lg), 0);
    encoder_lane_free(lb);
    encoder_lane_free(lg);
    CHECK_INT(encoder_pool_queued(pool), 0);
    CHECK_INT(ogg_opus_writer_finish(wg), 0);
    ogg_opus_writer_free(wb);
    ogg_opus_writer_free(wg);
    free(bad.p);
    free(good.p);
    encoder_pool_free(pool);
}

int main(void)
{
    test_same_bytes();
    test_backlog_waits();
    test_failure();
    return TEST_REPORT("test_encoder_pool");
}

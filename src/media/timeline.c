/*
 * timeline.c - the two-channel ring between decoding and encoding (see timeline.h).
 */
#include <stdlib.h>
#include <string.h>

#include "timeline.h"

struct timeline {
    unsigned rate, frame;
    size_t nframes;      /* ring size in frames */
    int16_t *pcm[2];     /* nframes * frame samples each */
    uint8_t *has[2];     /* per ring frame: some audio was written */
    uint64_t encoded;    /* samples handed to the encoder, a multiple of frame until finish */
    uint64_t written_end;
    struct timeline_sink sink;
};

struct timeline *timeline_new(unsigned rate, unsigned frame_samples, unsigned ring_seconds,
                              struct timeline_sink sink)
{
    struct timeline *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->rate = rate;
    t->frame = frame_samples;
    t->nframes = (size_t)rate * ring_seconds / frame_samples + 1;
    t->sink = sink;
    for (int ch = 0; ch < 2; ch++) {
        t->pcm[ch] = calloc(t->nframes * t->frame, sizeof(int16_t));
        t->has[ch] = calloc(t->nframes, 1);
        if (!t->pcm[ch] || !t->has[ch]) {
            timeline_free(t);
            return NULL;
        }
    }
    return t;
}

void timeline_free(struct timeline *t)
{
    if (!t)
        return;
    for (int ch = 0; ch < 2; ch++) {
        free(t->pcm[ch]);
        free(t->has[ch]);
    }
    free(t);
}

/* Hands frame number f (absolute) to the encoder, n samples of it, and clears its slot. */
static int encode_frame(struct timeline *t, uint64_t f, size_t n)
{
    size_t slot = (size_t)(f % t->nframes);
    const int16_t *ch[2];
    for (int c = 0; c < 2; c++)
        ch[c] = t->has[c][slot] ? t->pcm[c] + slot * t->frame : NULL;
    int r = t->sink.push(t->sink.user, ch[0], ch[1], n);
    for (int c = 0; c < 2; c++) {
        if (t->has[c][slot])
            memset(t->pcm[c] + slot * t->frame, 0, t->frame * sizeof(int16_t));
        t->has[c][slot] = 0;
    }
    t->encoded += n;
    return r;
}

int timeline_flush_until(struct timeline *t, uint64_t pos)
{
    while (t->encoded + t->frame <= pos)
        if (encode_frame(t, t->encoded / t->frame, t->frame) != 0)
            return -1;
    return 0;
}

uint64_t timeline_write(struct timeline *t, int ch, int64_t pos, const int16_t *pcm, size_t n)
{
    uint64_t late = 0;
    if (pos < (int64_t)t->encoded) {
        uint64_t skip = (uint64_t)((int64_t)t->encoded - pos);
        if (skip >= n)
            return n;
        late = skip;
        pcm += skip;
        n -= (size_t)skip;
        pos = (int64_t)t->encoded;
    }
    uint64_t start = (uint64_t)pos, end = start + n;
    /* Room in the ring: a packet far ahead forces the oldest frames out (the jitter
     * window is shorter than the ring, so this only happens after a jump in time). */
    uint64_t capacity = (uint64_t)t->nframes * t->frame;
    if (end > t->encoded + capacity - t->frame)
        timeline_flush_until(t, end - capacity + t->frame);
    if (start < t->encoded) { /* the flush overtook part of this write */
        uint64_t skip = t->encoded - start;
        late += skip;
        pcm += skip;
        start = t->encoded;
    }
    for (uint64_t p = start; p < end;) {
        uint64_t f = p / t->frame;
        size_t slot = (size_t)(f % t->nframes), off = (size_t)(p % t->frame);
        size_t take = t->frame - off;
        if (take > end - p)
            take = (size_t)(end - p);
        memcpy(t->pcm[ch] + slot * t->frame + off, pcm, take * sizeof(int16_t));
        t->has[ch][slot] = 1;
        pcm += take;
        p += take;
    }
    if (end > t->written_end)
        t->written_end = end;
    return late;
}

int timeline_finish(struct timeline *t, uint64_t end)
{
    if (timeline_flush_until(t, end) != 0)
        return -1;
    if (end > t->encoded && encode_frame(t, t->encoded / t->frame, (size_t)(end - t->encoded)))
        return -1;
    return 0;
}

uint64_t timeline_encoded(const struct timeline *t)
{
    return t->encoded;
}

uint64_t timeline_written_end(const struct timeline *t)
{
    return t->written_end;
}

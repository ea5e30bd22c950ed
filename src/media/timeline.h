/*
 * timeline.h - private to the media stage: a call's two channels on one clock.
 *
 * Sample n of the recording is packet time rec_start + n/rate.  Decoded audio is
 * written at its position; what no packet covered is silence.  Audio is handed to the
 * encoder a frame at a time once the jitter window no longer waits for it, through a
 * ring of a few seconds: memory does not grow with the length of the call.  A frame in
 * which a channel received nothing is passed as digital silence (NULL), which the
 * encoder does not even encode.
 */
#ifndef GREFFIER_MEDIA_TIMELINE_H
#define GREFFIER_MEDIA_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/ogg_opus.h"

struct timeline;

/* Where whole frames go: the Opus writer itself, or an encoder lane (encoder_pool.h)
 * that encodes them on a worker thread.  push returns 0, or -1 when encoding failed. */
struct timeline_sink {
    int (*push)(void *user, const int16_t *left, const int16_t *right, size_t n);
    void *user;
};

struct timeline *timeline_new(unsigned rate, unsigned frame_samples, unsigned ring_seconds,
                              struct timeline_sink sink);
void timeline_free(struct timeline *t);

/* Writes n samples of channel ch at absolute position pos.  Samples before what was
 * already encoded are late: dropped and returned (the caller counts them). */
uint64_t timeline_write(struct timeline *t, int ch, int64_t pos, const int16_t *pcm, size_t n);
/* Encodes every whole frame that ends at or before pos.  Returns -1 on encoder failure. */
int timeline_flush_until(struct timeline *t, uint64_t pos);
/* Hands over everything up to exactly end (a last partial frame included); finishing
 * the Ogg stream is the caller's, once the sink has encoded it all. */
int timeline_finish(struct timeline *t, uint64_t end);
uint64_t timeline_encoded(const struct timeline *t);
/* Highest position written so far + 1 (0 when nothing was written). */
uint64_t timeline_written_end(const struct timeline *t);

#endif

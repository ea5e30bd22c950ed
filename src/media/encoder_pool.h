/*
 * encoder_pool.h - private to the media stage: Opus encoding on worker threads
 * ([media] encoder_threads > 1), so that the pipeline thread only parses and places audio.
 *
 * Each recording gets a lane: the frames its timeline hands over are copied into the lane
 * and encoded (then sealed and written: the writer's sink is the recording file) on the
 * lane's worker, in order.  Lanes are spread over the workers round-robin; a worker runs
 * its lanes' jobs first in, first out.
 *
 * Backlog: at most max_frames frames (ENCODER_QUEUE_FRAMES in the daemon) wait in all the
 * lanes together.  When it is full the pipeline thread waits for room (counted as
 * encoder_backlog_waits): a burst is absorbed by this queue, then by the kernel's capture ring, and
 * is never dropped here.
 *
 * Ownership and threads: a lane's writer (and its sink) belongs to the worker from
 * encoder_lane_new() until encoder_lane_drain() returns; only then may the pipeline
 * thread touch it again (finish, peaks, free).  Every function here is called from the
 * pipeline thread only.
 */
#ifndef GREFFIER_MEDIA_ENCODER_POOL_H
#define GREFFIER_MEDIA_ENCODER_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/counters.h"
#include "greffier/ogg_opus.h"

enum { ENCODER_QUEUE_FRAMES = 16384 }; /* ~31 MB of 8 kHz stereo frames of 60 ms */

struct encoder_pool;
struct encoder_lane;

/* threads workers (>= 1), at most max_frames (>= 1) frames queued; NULL when out of memory
 * or a thread cannot start. */
struct encoder_pool *encoder_pool_new(unsigned threads, size_t max_frames,
                                      struct counters *counters);
/* Stops and joins the workers; every lane must have been freed. */
void encoder_pool_free(struct encoder_pool *p);
/* Frames waiting now, in all lanes. */
size_t encoder_pool_queued(struct encoder_pool *p);

struct encoder_lane *encoder_lane_new(struct encoder_pool *p, struct ogg_opus_writer *w);
/* Queues n samples per channel (NULL: digital silence), copied.  -1 once an earlier frame
 * of the lane failed to encode or be written (the frame is then not queued). */
int encoder_lane_push(struct encoder_lane *l, const int16_t *left, const int16_t *right, size_t n);
void encoder_lane_set_complexity(struct encoder_lane *l, unsigned complexity);
/* Waits until every queued job of the lane is done; -1 when one of them failed. */
int encoder_lane_drain(struct encoder_lane *l);
/* Drains, then frees the lane (not its writer). */
void encoder_lane_free(struct encoder_lane *l);

#endif

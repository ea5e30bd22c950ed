/*
 * encoder_pool.c - Opus encoding on worker threads (encoder_pool.h).
 *
 * One mutex per worker guards its job list and the lanes it runs (pending count, failure
 * flag); one pool mutex guards the backlog count.  A worker never waits for the pipeline
 * thread, so the pipeline waiting for room or for a drain always ends.  A worker does
 * not touch a lane after counting its job done: the drain that sees the count reach
 * zero may free the lane at once.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "encoder_pool.h"
#include "greffier/log.h"

enum job_kind { JOB_FRAMES, JOB_COMPLEXITY };

struct job {
    struct job *next;
    struct encoder_lane *lane;
    enum job_kind kind;
    unsigned complexity;
    size_t n;
    bool has[2];
    int16_t pcm[]; /* left then right, n samples each when present */
};

struct worker {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct job *head, *tail;
    bool stop;
    struct encoder_pool *pool;
};

struct encoder_pool {
    unsigned n, next;
    struct worker *workers;
    struct counters *counters;
    pthread_mutex_t mu;
    pthread_cond_t room;
    size_t queued; /* frames queued and not yet encoded */
    size_t max_frames;
};

struct encoder_lane {
    struct worker *w;
    struct ogg_opus_writer *writer;
    size_t pending; /* jobs queued, under w->mu */
    bool failed;    /* under w->mu */
};

static void release_frame(struct encoder_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->queued--;
    pthread_cond_signal(&p->room);
    pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->work, &w->mu);
        struct job *j = w->head;
        if (!j)
            break; /* stopping, and nothing left */
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        struct encoder_lane *l = j->lane;
        bool skip = l->failed;
        pthread_mutex_unlock(&w->mu);

        int r = 0;
        if (j->kind == JOB_COMPLEXITY)
            ogg_opus_writer_set_complexity(l->writer, j->complexity);
        else if (!skip)
            r = ogg_opus_writer_push(l->writer, j->has[0] ? j->pcm : NULL,
                                     j->has[1] ? j->pcm + (j->has[0] ? j->n : 0) : NULL, j->n);
        /* The backlog first, so that a drained lane leaves nothing counted. */
        if (j->kind == JOB_FRAMES)
            release_frame(w->pool);
        free(j);

        pthread_mutex_lock(&w->mu);
        if (r != 0)
            l->failed = true;
        l->pending--;
        pthread_cond_broadcast(&w->done);
        /* l may be freed from here on. */
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct encoder_pool *encoder_pool_new(unsigned threads, size_t max_frames,
                                      struct counters *counters)
{
    struct encoder_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->workers = calloc(threads, sizeof(*p->workers));
    if (!p->workers) {
        free(p);
        return NULL;
    }
    p->counters = counters;
    p->max_frames = max_frames ? max_frames : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->room, NULL);
    for (unsigned i = 0; i < threads; i++) {
        struct worker *w = &p->workers[i];
        w->pool = p;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->work, NULL);
        pthread_cond_init(&w->done, NULL);
        p->n = i + 1;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            log_msg(LOG_ERR, "media: encoder thread %u cannot start", i + 1);
            encoder_pool_free(p);
            return NULL;
        }
        w->started = true;
    }
    return p;
}

void encoder_pool_free(struct encoder_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        struct worker *w = &p->workers[i];
        if (w->started) {
            pthread_mutex_lock(&w->mu);
            w->stop = true;
            pthread_cond_signal(&w->work);
            pthread_mutex_unlock(&w->mu);
            pthread_join(w->thread, NULL);
        }
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->done);
        pthread_mutex_destroy(&w->mu);
    }
    pthread_cond_destroy(&p->room);
    pthread_mutex_destroy(&p->mu);
    free(p->workers);
    free(p);
}

size_t encoder_pool_queued(struct encoder_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->queued;
    pthread_mutex_unlock(&p->mu);
    return n;
}

struct encoder_lane *encoder_lane_new(struct encoder_pool *p, struct ogg_opus_writer *writer)
{
    struct encoder_lane *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->w = &p->workers[p->next++ % p->n];
    l->writer = writer;
    return l;
}

static void enqueue(struct encoder_lane *l, struct job *j)
{
    struct worker *w = l->w;
    j->lane = l;
    pthread_mutex_lock(&w->mu);
    l->pending++;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
}

int encoder_lane_push(struct encoder_lane *l, const int16_t *left, const int16_t *right, size_t n)
{
    struct worker *w = l->w;
    struct encoder_pool *p = w->pool;
    pthread_mutex_lock(&w->mu);
    bool failed = l->failed;
    pthread_mutex_unlock(&w->mu);
    if (failed)
        return -1;
    size_t samples = (left ? n : 0) + (right ? n : 0);
    struct job *j = malloc(sizeof(*j) + samples * sizeof(int16_t));
    if (!j)
        return -1;
    *j = (struct job){.kind = JOB_FRAMES, .n = n, .has = {left != NULL, right != NULL}};
    if (left)
        memcpy(j->pcm, left, n * sizeof(int16_t));
    if (right)
        memcpy(j->pcm + (left ? n : 0), right, n * sizeof(int16_t));

    pthread_mutex_lock(&p->mu);
    if (p->queued >= p->max_frames) {
        COUNT(p->counters, encoder_backlog_waits);
        while (p->queued >= p->max_frames)
            pthread_cond_wait(&p->room, &p->mu);
    }
    p->queued++;
    pthread_mutex_unlock(&p->mu);
    enqueue(l, j);
    return 0;
}

void encoder_lane_set_complexity(struct encoder_lane *l, unsigned complexity)
{
    struct job *j = malloc(sizeof(*j));
    if (!j)
        return; /* the complexity stays: only the CPU it saves is lost */
    *j = (struct job){.kind = JOB_COMPLEXITY, .complexity = complexity};
    enqueue(l, j);
}

int encoder_lane_drain(struct encoder_lane *l)
{
    struct worker *w = l->w;
    pthread_mutex_lock(&w->mu);
    while (l->pending > 0)
        pthread_cond_wait(&w->done, &w->mu);
    int r = l->failed ? -1 : 0;
    pthread_mutex_unlock(&w->mu);
    return r;
}

void encoder_lane_free(struct encoder_lane *l)
{
    if (!l)
        return;
    encoder_lane_drain(l);
    free(l);
}

/*
 * test_ogg_opus.c - the recording encoder and its reader: tones in, Ogg Opus through a
 * memory sink, decoded back and measured (duration to the sample, dominant frequency per
 * channel by Goertzel, channel separation, a marker's position), digital silence without
 * encoder calls, incremental output, settings, waveform peaks, the reader on hostile
 * input, and the WAV export.  When opus-tools is installed its opusinfo and opusdec also
 * check a written file.
 *
 * `test_ogg_opus --write-seeds DIR` writes the fuzz seeds (tests/fuzz/corpus/ogg_reader).
 */
#include <dirent.h>
#include <math.h>
#include <ogg/ogg.h>
#include <opus/opus.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greffier/ogg_opus.h"
#include "greffier/wav_export.h"
#include "testhelp.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* --- memory sink and source ------------------------------------------------------------ */

struct mem {
    uint8_t *p;
    size_t len, cap;
    size_t writes;
    int fail_after; /* writes before the sink starts failing; < 0: never */
};

static int mem_write(void *user, const uint8_t *data, size_t len)
{
    struct mem *m = user;
    if (m->fail_after >= 0 && m->writes >= (size_t)m->fail_after)
        return -1;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap *= 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p)
            return -1;
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    m->writes++;
    return 0;
}

struct src {
    const uint8_t *p;
    size_t len, off;
    size_t max_read; /* 0: as much as asked */
};

static long src_read(void *user, uint8_t *buf, size_t len)
{
    struct src *s = user;
    size_t n = s->len - s->off;
    if (n > len)
        n = len;
    if (s->max_read && n > s->max_read)
        n = s->max_read;
    memcpy(buf, s->p + s->off, n);
    s->off += n;
    return (long)n;
}

/* --- decoding into memory -------------------------------------------------------------- */

struct pcm {
    int16_t *s; /* interleaved stereo */
    size_t frames, cap;
};

static int pcm_emit(void *user, const int16_t *stereo, size_t frames)
{
    struct pcm *p = user;
    if (p->frames + frames > p->cap) {
        size_t cap = p->cap ? p->cap : 8000;
        while (cap < p->frames + frames)
            cap *= 2;
        int16_t *s = realloc(p->s, cap * 2 * sizeof(int16_t));
        if (!s)
            return -1;
        p->s = s;
        p->cap = cap;
    }
    memcpy(p->s + p->frames * 2, stereo, frames * 2 * sizeof(int16_t));
    p->frames += frames;
    return 0;
}

static int decode_mem(const uint8_t *data, size_t len, size_t max_read, unsigned *rate,
                      struct pcm *out, char *err, size_t errsize)
{
    struct src s = {data, len, 0, max_read};
    struct byte_source bs = {src_read, &s};
    memset(out, 0, sizeof(*out));
    return ogg_opus_decode(&bs, rate, pcm_emit, out, err, errsize);
}

/* --- signals and measurements ---------------------------------------------------------- */

static void tone(int16_t *x, size_t n, size_t first, double freq, double amp, unsigned rate)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (int16_t)lrint(amp * sin(2 * M_PI * freq * (double)(first + i) / rate));
}

/* Power of one frequency in channel ch of [from, from+n) (Goertzel), per sample squared. */
static double goertzel(const struct pcm *p, int ch, size_t from, size_t n, double freq,
                       unsigned rate)
{
    double w = 2 * M_PI * freq / rate, coeff = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = p->s[(from + i) * 2 + ch] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return power / ((double)n * n);
}

/* The strongest frequency of channel ch over [from, from+n), scanned in 10 Hz steps. */
static double dominant(const struct pcm *p, int ch, size_t from, size_t n, unsigned rate)
{
    double best = 0, best_f = 0;
    for (double f = 50; f < rate / 2.0 - 50; f += 10) {
        double g = goertzel(p, ch, from, n, f, rate);
        if (g > best) {
            best = g;
            best_f = f;
        }
    }
    return best_f;
}

static double db(double a, double b)
{
    return 10 * log10((a + 1e-9) / (b + 1e-9));
}

static int max_abs(const struct pcm *p, int ch, size_t from, size_t to)
{
    int m = 0;
    for (size_t i = from; i < to && i < p->frames; i++) {
        int v = abs(p->s[i * 2 + ch]);
        if (v > m)
            m = v;
    }
    return m;
}

/* Energy centroid of channel ch over [from, to), in samples. */
static double centroid(const struct pcm *p, int ch, size_t from, size_t to)
{
    double e = 0, et = 0;
    for (size_t i = from; i < to && i < p->frames; i++) {
        double v = p->s[i * 2 + ch];
        e += v * v;
        et += v * v * (double)i;
    }
    return e > 0 ? et / e : -1;
}

static struct ogg_opus_settings settings(unsigned rate, unsigned bitrate, unsigned frame_ms,
                                         unsigned complexity)
{
    struct ogg_opus_settings s = {0};
    s.sample_rate = rate;
    s.bitrate = bitrate;
    s.frame_ms = frame_ms;
    s.complexity = complexity;
    s.serial = 0x47524546;
    s.comments[0] = "GREFFIER_CALL_ID=a84b4c76e66710@pbx.example";
    s.comments[1] = "CALLER=33612345678";
    s.comments[2] = "CALLEE=2041";
    s.comments[3] = "START=2026-11-23T11:57:43Z";
    return s;
}

/* Pushes generated audio in awkward chunk sizes, so frames never line up with pushes. */
typedef void (*gen_fn)(int16_t *l, int16_t *r, size_t first, size_t n, unsigned rate,
                       const void *arg);

static int push_gen(struct ogg_opus_writer *w, size_t total, unsigned rate, gen_fn gen,
                    const void *arg)
{
    static const size_t chunks[] = {137, 160, 480, 1, 999, 320, 77};
    int16_t l[1000], r[1000];
    size_t done = 0, k = 0;
    while (done < total) {
        size_t n = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];
        if (n > total - done)
            n = total - done;
        gen(l, r, done, n, rate, arg);
        if (ogg_opus_writer_push(w, l, r, n) != 0)
            return -1;
        done += n;
    }
    return 0;
}

/* --- tones, separation, alignment ------------------------------------------------------ */

struct two_tones {
    double fl, fr, marker;
};

enum { AMP = 10000 };

/* Tones everywhere but [4.9 s, 5.1 s), where both channels hold a 20 ms marker burst
 * starting at exactly 5.000 s.  The burst has a Hann envelope: SILK at 6 kbit/s turns the
 * abrupt end of a rectangular burst into a loud ringing (measured: 2.5x the input level
 * 5 ms after the end) that would move the centroid for reasons that are not timing. */
static void gen_tones(int16_t *l, int16_t *r, size_t first, size_t n, unsigned rate,
                      const void *arg)
{
    const struct two_tones *t = arg;
    tone(l, n, first, t->fl, AMP, rate);
    tone(r, n, first, t->fr, AMP, rate);
    for (size_t i = 0; i < n; i++) {
        size_t at = first + i;
        if (at >= rate * 49 / 10 && at < rate * 51 / 10) {
            l[i] = r[i] = 0;
            if (at >= rate * 5 && at < rate * 5 + rate / 50) {
                double hann = 0.5 - 0.5 * cos(2 * M_PI * (double)(at - rate * 5) / (rate / 50.0));
                l[i] = r[i] = (int16_t)lrint(hann * AMP * sin(2 * M_PI * t->marker * at / rate));
            }
        }
    }
}

static void test_tones(unsigned rate, double fl, double fr)
{
    struct ogg_opus_settings s = settings(rate, 12000, 60, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256];
    struct two_tones t = {fl, fr, 2000};
    size_t total = 10 * rate;

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_INT(push_gen(w, total, rate, gen_tones, &t), 0);
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    CHECK_INT(ogg_opus_writer_samples(w), total);
    unsigned frames = rate / 1000 * 60;
    CHECK_INT(ogg_opus_writer_encoder_calls(w), (total + frames - 1) / frames);
    ogg_opus_writer_free(w);

    struct pcm p;
    unsigned got_rate = 0;
    CHECK_INT(decode_mem(m.p, m.len, 0, &got_rate, &p, err, sizeof(err)), 0);
    CHECK_INT(got_rate, rate);
    CHECK_INT(p.frames, total); /* exact, to the sample */
    if (p.frames != total) {
        free(m.p);
        free(p.s);
        return;
    }
    /* Dominant frequency per channel, over 1 s of the steady part. */
    double dl = dominant(&p, 0, rate * 2, rate, rate), dr = dominant(&p, 1, rate * 2, rate, rate);
    CHECK(fabs(dl - fl) <= 10);
    CHECK(fabs(dr - fr) <= 10);
    /* Level: the tone comes back, if not at its exact level (SILK at 6 kbit/s is no
     * waveform coder: measured -0.6 to -8 dB on pure tones). */
    double want = (double)AMP * AMP / 4; /* Goertzel power of a sine of amplitude AMP */
    double gl = goertzel(&p, 0, rate, 3 * rate, fl, rate);
    double gr = goertzel(&p, 1, rate, 3 * rate, fr, rate);
    CHECK(db(gl, want) > -10 && db(gl, want) < 3);
    CHECK(db(gr, want) > -10 && db(gr, want) < 3);
    /* Separation: each party's tone at least 30 dB weaker in the other channel. */
    double sep_l = db(gl, goertzel(&p, 1, rate, 3 * rate, fl, rate));
    double sep_r = db(gr, goertzel(&p, 0, rate, 3 * rate, fr, rate));
    CHECK(sep_l >= 30);
    CHECK(sep_r >= 30);
    /* The marker at 5.000 s: its energy centroid is 10 ms later, found within 10 ms. */
    double want_c = rate * 5 + rate / 100.0, c[2];
    for (int ch = 0; ch < 2; ch++) {
        c[ch] = centroid(&p, ch, rate * 495 / 100, rate * 508 / 100);
        CHECK(fabs(c[ch] - want_c) <= rate / 100.0);
    }
    printf("tones %u Hz, %.0f/%.0f Hz: %zu bytes (%.0f bit/s), level %.1f/%.1f dB, separation "
           "%.1f/%.1f dB, marker at %+.2f/%+.2f ms\n",
           rate, fl, fr, m.len, m.len * 8.0 / 10, db(gl, want), db(gr, want), sep_l, sep_r,
           (c[0] - want_c) * 1000 / rate, (c[1] - want_c) * 1000 / rate);
    free(m.p);
    free(p.s);
}

/* --- digital silence ------------------------------------------------------------------- */

static void test_silence(void)
{
    const unsigned rate = 8000;
    struct ogg_opus_settings s = settings(rate, 12000, 60, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256];
    static int16_t l[8000], r[8000];

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    for (int i = 0; i < 30 * 10; i++) /* 30 s, in 100 ms pushes */
        CHECK_INT(ogg_opus_writer_push(w, NULL, NULL, rate / 10), 0);
    CHECK_INT(ogg_opus_writer_encoder_calls(w), 0);
    tone(l, rate, 0, 440, AMP, rate);
    tone(r, rate, 0, 1000, AMP, rate);
    CHECK_INT(ogg_opus_writer_push(w, l, r, rate), 0);
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    /* 1 s of tone = 16.7 frames of 60 ms: 17 encoder calls, and the padding of the last
     * (20 ms) covers the lookahead, so no extra frame. */
    uint64_t calls = ogg_opus_writer_encoder_calls(w);
    CHECK_INT(calls, 17);
    const struct waveform_peaks *pk = ogg_opus_writer_peaks(w);
    CHECK_INT(pk->count, 31 * 20);
    bool flat = true;
    for (size_t i = 0; i < 30 * 20 && i < pk->count; i++)
        for (int k = 0; k < 4; k++)
            flat = flat && pk->min_max[i * 4 + k] == 0;
    CHECK(flat);
    ogg_opus_writer_free(w);

    /* 500 silent packets of 17 bytes, 32 pages, 1 s of tones at about 12 kbit/s, the
     * headers: under 13 kB, where 31 s of coded zeros would take 25 kB. */
    CHECK(m.len < 13000);
    struct pcm p;
    unsigned got_rate;
    CHECK_INT(decode_mem(m.p, m.len, 0, &got_rate, &p, err, sizeof(err)), 0);
    CHECK_INT(p.frames, 31 * rate);
    /* Exact zeros, but for the codec's pre-echo of the tone onset (6.5 ms lookahead). */
    CHECK_INT(max_abs(&p, 0, 0, 30 * rate - rate / 100), 0);
    CHECK_INT(max_abs(&p, 1, 0, 30 * rate - rate / 100), 0);
    if (p.frames == 31 * rate) {
        CHECK(fabs(dominant(&p, 0, 30 * rate + rate / 4, rate / 2, rate) - 440) <= 10);
        CHECK(fabs(dominant(&p, 1, 30 * rate + rate / 4, rate / 2, rate) - 1000) <= 10);
    }
    printf("silence: 30 s + 1 s tone in %zu bytes, %" PRIu64 " encoder calls\n", m.len, calls);
    free(m.p);
    free(p.s);
}

/* Speech, then a hold (both NULL), then speech: the speech before the hold is not cut
 * (its lookahead tail is coded by one frame of zeros), and the hold is silent. */
static void test_silence_between(void)
{
    const unsigned rate = 8000;
    struct ogg_opus_settings s = settings(rate, 12000, 20, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256];
    static int16_t l[8000], r[8000];

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    tone(l, rate, 0, 440, AMP, rate);
    tone(r, rate, 0, 1000, AMP, rate);
    CHECK_INT(ogg_opus_writer_push(w, l, r, rate), 0);           /* 50 frames */
    CHECK_INT(ogg_opus_writer_push(w, NULL, NULL, 2 * rate), 0); /* 100 frames, 1 encoded */
    CHECK_INT(ogg_opus_writer_push(w, l, r, rate), 0);           /* 50 frames */
    CHECK_INT(ogg_opus_writer_finish(w), 0);                     /* + 1 for the lookahead */
    CHECK_INT(ogg_opus_writer_encoder_calls(w), 50 + 1 + 50 + 1);
    ogg_opus_writer_free(w);

    struct pcm p;
    unsigned got_rate;
    CHECK_INT(decode_mem(m.p, m.len, 0, &got_rate, &p, err, sizeof(err)), 0);
    CHECK_INT(p.frames, 4 * rate);
    if (p.frames == 4 * rate) {
        /* The last 5 ms before the hold are still the tone. */
        double g = goertzel(&p, 0, rate - rate / 200, rate / 200, 440, rate);
        CHECK(db(g, (double)AMP * AMP / 4) > -6);
        CHECK(max_abs(&p, 0, rate + rate / 20, 3 * rate - rate / 20) <= 16);
        CHECK(fabs(dominant(&p, 1, 3 * rate + rate / 4, rate / 2, rate) - 1000) <= 10);
    }
    free(m.p);
    free(p.s);
}

static void test_one_channel_null(void)
{
    const unsigned rate = 16000;
    struct ogg_opus_settings s = settings(rate, 12000, 40, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256];
    static int16_t x[3 * 16000];

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    tone(x, 3 * rate, 0, 700, AMP, rate);
    CHECK_INT(ogg_opus_writer_push(w, NULL, x, 3 * rate), 0); /* only the callee speaks */
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    CHECK(ogg_opus_writer_encoder_calls(w) >= 3 * 1000 / 40);
    const struct waveform_peaks *pk = ogg_opus_writer_peaks(w);
    CHECK_INT(pk->count, 60);
    if (pk->count >= 30) {
        CHECK_INT(pk->min_max[20 * 4 + 0], 0);
        CHECK_INT(pk->min_max[20 * 4 + 1], 0);
        CHECK(pk->min_max[20 * 4 + 2] <= -35 && pk->min_max[20 * 4 + 3] >= 35);
    }
    ogg_opus_writer_free(w);

    struct pcm p;
    unsigned got_rate;
    CHECK_INT(decode_mem(m.p, m.len, 0, &got_rate, &p, err, sizeof(err)), 0);
    CHECK_INT(p.frames, 3 * rate);
    if (p.frames == 3 * rate) {
        CHECK(max_abs(&p, 0, 0, p.frames) <= 16);
        CHECK(fabs(dominant(&p, 1, rate, rate, rate) - 700) <= 10);
    }
    free(m.p);
    free(p.s);
}

/* --- incremental output ---------------------------------------------------------------- */

static void gen_simple(int16_t *l, int16_t *r, size_t first, size_t n, unsigned rate,
                       const void *arg)
{
    (void)arg;
    tone(l, n, first, 300, AMP, rate);
    tone(r, n, first, 1200, AMP, rate);
}

static void test_incremental(unsigned frame_ms)
{
    const unsigned rate = 8000;
    struct ogg_opus_settings s = settings(rate, 12000, frame_ms, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256];
    int16_t l[160], r[160];

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    CHECK(m.writes >= 2); /* the headers leave at once */
    size_t last_writes = m.writes, last_at = 0, max_gap = 0, total = 20 * rate;
    for (size_t done = 0; done < total; done += 160) {
        gen_simple(l, r, done, 160, rate, NULL);
        CHECK_INT(ogg_opus_writer_push(w, l, r, 160), 0);
        if (m.writes != last_writes) {
            last_writes = m.writes;
            last_at = done + 160;
        }
        if (done + 160 - last_at > max_gap)
            max_gap = done + 160 - last_at;
    }
    CHECK(max_gap <= rate); /* never more than 1 s of audio held back */
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    ogg_opus_writer_free(w);
    printf("incremental, %u ms frames: at most %.2f s of audio between writes\n", frame_ms,
           (double)max_gap / rate);
    free(m.p);
}

/* A failing sink stops the writer with an error, never a crash. */
static void test_sink_failure(void)
{
    struct ogg_opus_settings s = settings(8000, 12000, 20, 0);
    struct mem m = {.fail_after = 0};
    struct byte_sink sink = {mem_write, &m};
    char err[256] = "";
    CHECK(ogg_opus_writer_new(&s, &sink, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "output failed") != NULL);

    m.fail_after = 4; /* the two header pages, then one audio page */
    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    int16_t x[8000] = {0};
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++)
        rc = ogg_opus_writer_push(w, x, x, 8000);
    CHECK_INT(rc, -1);
    CHECK_STR(ogg_opus_writer_error(w), "output failed");
    CHECK_INT(ogg_opus_writer_push(w, x, x, 160), -1);
    CHECK_INT(ogg_opus_writer_finish(w), -1);
    ogg_opus_writer_free(w);
    free(m.p);
}

/* --- settings -------------------------------------------------------------------------- */

static void test_settings(void)
{
    static const unsigned frame_ms[] = {20, 40, 60};
    static const unsigned bitrates[] = {12000, 16000, 24000};
    const unsigned rate = 8000;
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++) {
            struct ogg_opus_settings s = settings(rate, bitrates[j], frame_ms[i], 0);
            struct mem m = {.fail_after = -1};
            struct byte_sink sink = {mem_write, &m};
            char err[256];
            size_t total = 3 * rate + 123;
            struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
            CHECK(w != NULL);
            if (!w)
                continue;
            CHECK_INT(push_gen(w, total, rate, gen_simple, NULL), 0);
            CHECK_INT(ogg_opus_writer_finish(w), 0);
            CHECK_INT(ogg_opus_writer_pre_skip(w), 312); /* 6.5 ms at 48 kHz */
            ogg_opus_writer_free(w);
            /* Near the bitrate: SILK's VBR spends more on pure tones than on speech
             * (measured up to 1.35x here, 0.8-0.9x on speech-like signals). */
            double bps = (m.len - 200) * 8.0 * rate / total;
            CHECK(bps < bitrates[j] * 1.5);
            CHECK(bps > bitrates[j] * 0.3);
            struct pcm p;
            unsigned got_rate;
            CHECK_INT(decode_mem(m.p, m.len, 0, &got_rate, &p, err, sizeof(err)), 0);
            CHECK_INT(p.frames, total);
            if (p.frames == total) {
                CHECK(fabs(dominant(&p, 0, rate, rate, rate) - 300) <= 10);
                CHECK(fabs(dominant(&p, 1, rate, rate, rate) - 1200) <= 10);
            }
            printf("settings %u ms, %u bit/s: %zu bytes, %.0f bit/s\n", frame_ms[i], bitrates[j],
                   m.len, bps);
            free(m.p);
            free(p.s);
        }
    }

    /* Refused settings, with a reason. */
    static const struct {
        unsigned rate, bitrate, frame_ms, complexity;
        const char *why;
    } bad[] = {
        {44100, 12000, 20, 0, "sample rate"},
        {8000, 12000, 10, 0, "frame duration"},
        {8000, 100, 20, 0, "bitrate"},
        {8000, 12000, 20, 11, "complexity"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ogg_opus_settings s =
            settings(bad[i].rate, bad[i].bitrate, bad[i].frame_ms, bad[i].complexity);
        struct mem m = {.fail_after = -1};
        struct byte_sink sink = {mem_write, &m};
        char err[256] = "";
        CHECK(ogg_opus_writer_new(&s, &sink, err, sizeof(err)) == NULL);
        CHECK(strstr(err, bad[i].why) != NULL);
        CHECK_INT(m.len, 0);
    }
    struct ogg_opus_settings s = settings(8000, 12000, 20, 0);
    s.comments[1] = "no equals sign";
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256] = "";
    CHECK(ogg_opus_writer_new(&s, &sink, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KEY=value") != NULL);
}

/* The complexity set mid-stream applies from the next frame: a stream switched after the
 * first page is byte-identical to an unswitched one up to that page, and differs after. */
static void test_complexity_switch(void)
{
    const unsigned rate = 8000;
    struct mem m[2] = {{.fail_after = -1}, {.fail_after = -1}};
    size_t first_pages[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        struct ogg_opus_settings s = settings(rate, 12000, 60, 0);
        struct byte_sink sink = {mem_write, &m[k]};
        char err[256];
        struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
        CHECK(w != NULL);
        if (!w)
            return;
        /* 16 frames of 60 ms: exactly the first audio page (flushed at <= 1 s). */
        CHECK_INT(push_gen(w, 16 * 480, rate, gen_simple, NULL), 0);
        first_pages[k] = m[k].len;
        if (k == 1)
            ogg_opus_writer_set_complexity(w, 10);
        int16_t l[480], r[480];
        for (size_t done = 16 * 480; done < 3 * rate; done += 480) {
            gen_simple(l, r, done, 480, rate, NULL);
            CHECK_INT(ogg_opus_writer_push(w, l, r, 480), 0);
        }
        CHECK_INT(ogg_opus_writer_finish(w), 0);
        ogg_opus_writer_free(w);
    }
    CHECK_INT(first_pages[0], first_pages[1]);
    CHECK(first_pages[0] > 200);
    CHECK(memcmp(m[0].p, m[1].p, first_pages[0]) == 0);
    CHECK(m[0].len != m[1].len || memcmp(m[0].p, m[1].p, m[0].len) != 0);
    struct pcm p;
    unsigned got_rate;
    char err[256];
    CHECK_INT(decode_mem(m[1].p, m[1].len, 0, &got_rate, &p, err, sizeof(err)), 0);
    CHECK_INT(p.frames, 3 * rate);
    if (p.frames == 3 * rate)
        CHECK(fabs(dominant(&p, 1, 2 * rate, rate, rate) - 1200) <= 10);
    free(p.s);
    free(m[0].p);
    free(m[1].p);
}

/* --- peaks ----------------------------------------------------------------------------- */

static void test_peaks(void)
{
    const unsigned rate = 16000;
    struct ogg_opus_settings s = settings(rate, 12000, 60, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256];
    int16_t x[1600];

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    for (size_t done = 0; done < 10 * rate; done += 1600) {
        tone(x, 1600, done, 440, 32767, rate);
        CHECK_INT(ogg_opus_writer_push(w, x, NULL, 1600), 0); /* full scale vs silence */
    }
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    const struct waveform_peaks *pk = ogg_opus_writer_peaks(w);
    CHECK_INT(pk->per_second, 20);
    CHECK_INT(pk->count, 10 * 20);
    int bad = 0;
    for (size_t i = 0; i < pk->count; i++) {
        const int8_t *b = pk->min_max + i * 4;
        if (b[0] > -126 || b[1] < 126 || b[2] != 0 || b[3] != 0)
            bad++;
    }
    CHECK_INT(bad, 0);
    ogg_opus_writer_free(w);
    free(m.p);

    /* A duration that is not a whole number of buckets: the last one is partial. */
    m = (struct mem){.fail_after = -1};
    w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    tone(x, 1000, 0, 440, 8000, rate);
    CHECK_INT(ogg_opus_writer_push(w, x, x, 1000), 0); /* 62.5 ms */
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    pk = ogg_opus_writer_peaks(w);
    CHECK_INT(pk->count, 2);
    if (pk->count == 2)
        CHECK(pk->min_max[4 + 1] >= 25 && pk->min_max[4 + 1] <= 32);
    ogg_opus_writer_free(w);
    free(m.p);
}

/* --- edge lengths ---------------------------------------------------------------------- */

static void test_lengths(void)
{
    static const size_t lengths[] = {0, 1, 51, 52, 53, 479, 480, 481, 532, 533, 960, 8000};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        struct ogg_opus_settings s = settings(8000, 12000, 60, 0);
        struct mem m = {.fail_after = -1};
        struct byte_sink sink = {mem_write, &m};
        char err[256];
        struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
        CHECK(w != NULL);
        if (!w)
            continue;
        CHECK_INT(push_gen(w, lengths[i], 8000, gen_simple, NULL), 0);
        CHECK_INT(ogg_opus_writer_finish(w), 0);
        CHECK_INT(ogg_opus_writer_finish(w), 0); /* idempotent */
        CHECK_INT(ogg_opus_writer_push(w, NULL, NULL, 1), -1);
        ogg_opus_writer_free(w);
        struct pcm p;
        unsigned got_rate;
        CHECK_INT(decode_mem(m.p, m.len, 3, &got_rate, &p, err, sizeof(err)), 0);
        CHECK_INT(p.frames, lengths[i]);
        free(m.p);
        free(p.s);
    }
}

/* --- opus-tools, when installed -------------------------------------------------------- */

static bool have_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

static char tmpdir[64];

static void test_opus_tools(void)
{
    if (!have_tool("opusinfo") || !have_tool("opusdec")) {
        printf("opus-tools: SKIPPED (opusinfo/opusdec not installed: apt-get install "
               "opus-tools)\n");
        return;
    }
    const unsigned rate = 16000;
    struct ogg_opus_settings s = settings(rate, 12000, 60, 0);
    struct mem m = {.fail_after = -1};
    struct byte_sink sink = {mem_write, &m};
    char err[256], ogg[128], wav[128], log[128], cmd[512];
    size_t total = 3 * rate + 77;

    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w)
        return;
    CHECK_INT(push_gen(w, total, rate, gen_simple, NULL), 0);
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    ogg_opus_writer_free(w);
    snprintf(ogg, sizeof(ogg), "%s/tools.opus", tmpdir);
    snprintf(wav, sizeof(wav), "%s/tools.wav", tmpdir);
    snprintf(log, sizeof(log), "%s/tools.log", tmpdir);
    FILE *f = fopen(ogg, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(fwrite(m.p, 1, m.len, f), m.len);
    fclose(f);
    free(m.p);

    /* opusinfo checks pages, headers and granule positions and says WARNING otherwise. */
    snprintf(cmd, sizeof(cmd), "opusinfo %s >%s 2>&1", ogg, log);
    CHECK_INT(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "grep -qiE 'warning|error' %s", log);
    CHECK(system(cmd) != 0);
    snprintf(cmd, sizeof(cmd), "grep -q 'GREFFIER_CALL_ID=a84b4c76e66710@pbx.example' %s", log);
    CHECK_INT(system(cmd), 0);
    static const char *const lines[] = {
        "Channels: 2",
        "Streams: 2, Coupled: 0",
        "Channel Mapping Family: 1 Map: \\[0, 1\\]",
        "Original sample rate: 16000 Hz",
        "Pre-skip: 312",
        "Playback length: 0m:03.004s",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        snprintf(cmd, sizeof(cmd), "grep -q '%s' %s", lines[i], log);
        CHECK_INT(system(cmd), 0);
    }

    snprintf(cmd, sizeof(cmd), "opusdec --quiet %s %s >%s 2>&1", ogg, wav, log);
    CHECK_INT(system(cmd), 0);
    SF_INFO info = {0};
    SNDFILE *snd = sf_open(wav, SFM_READ, &info);
    CHECK(snd != NULL);
    if (snd) {
        CHECK_INT(info.channels, 2);
        /* opusdec writes the original rate (resampling from 48 kHz): the same duration. */
        double got = (double)info.frames / info.samplerate, want = (double)total / rate;
        CHECK(fabs(got - want) < 0.001);
        printf("opus-tools: opusinfo clean, opusdec %ld frames at %d Hz (%.4f s, want %.4f)\n",
               (long)info.frames, info.samplerate, got, want);
        sf_close(snd);
    }
    unlink(ogg);
    unlink(wav);
    unlink(log);
}

/* --- hostile input to the reader ------------------------------------------------------- */

static void make_small(struct mem *m, unsigned rate, unsigned frame_ms, size_t samples)
{
    struct ogg_opus_settings s = settings(rate, 12000, frame_ms, 0);
    struct byte_sink sink = {mem_write, m};
    char err[256];
    *m = (struct mem){.fail_after = -1};
    struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
    if (!w)
        return;
    push_gen(w, samples, rate, gen_simple, NULL);
    ogg_opus_writer_finish(w);
    ogg_opus_writer_free(w);
}

/* Builds an Ogg stream from packets (headers included), one page per packet, with
 * the last page marked end-of-stream at granule last_granule. */
static void make_ogg(struct mem *m, const uint8_t *const *pkts, const size_t *lens, size_t n,
                     int64_t last_granule)
{
    ogg_stream_state os;
    ogg_page og;
    *m = (struct mem){.fail_after = -1};
    ogg_stream_init(&os, 1234);
    for (size_t i = 0; i < n; i++) {
        ogg_packet op = {0};
        op.packet = (unsigned char *)pkts[i];
        op.bytes = (long)lens[i];
        op.b_o_s = i == 0;
        op.e_o_s = i + 1 == n;
        op.packetno = (ogg_int64_t)i;
        op.granulepos = i < 2 ? 0 : (i + 1 == n ? last_granule : (int64_t)(i - 1) * 960);
        ogg_stream_packetin(&os, &op);
        while (ogg_stream_flush(&os, &og)) {
            mem_write(m, og.header, (size_t)og.header_len);
            mem_write(m, og.body, (size_t)og.body_len);
        }
    }
    ogg_stream_clear(&os);
}

static const uint8_t tags_pkt[] = "OpusTags\x03\0\0\0abc\0\0\0\0";

static void test_hostile(void)
{
    struct mem good;
    struct pcm p;
    unsigned rate;
    char err[256];
    make_small(&good, 8000, 20, 4000);
    CHECK(good.len > 300);
    CHECK_INT(decode_mem(good.p, good.len, 0, &rate, &p, err, sizeof(err)), 0);
    CHECK_INT(p.frames, 4000);
    free(p.s);

    /* Truncated at every offset: a clean error, never more audio than the whole. */
    int fails = 0, bad_err = 0;
    for (size_t cut = 0; cut < good.len; cut++) {
        int rc = decode_mem(good.p, cut, 0, &rate, &p, err, sizeof(err));
        fails += rc != 0;
        if (rc != 0 && strncmp(err, "ogg opus: ", 10) != 0)
            bad_err++;
        if (p.frames > 4000)
            bad_err++;
        free(p.s);
    }
    CHECK_INT(fails, (int)good.len);
    CHECK_INT(bad_err, 0);
    decode_mem(good.p, 0, 0, &rate, &p, err, sizeof(err));
    CHECK_STR(err, "ogg opus: empty input");
    decode_mem(good.p, good.len - 10, 0, &rate, &p, err, sizeof(err));
    CHECK(strstr(err, "truncated stream") != NULL);
    free(p.s);

    /* Every byte flipped in turn: the page CRC catches it. */
    uint8_t *copy = malloc(good.len);
    CHECK(copy != NULL);
    if (!copy)
        return;
    fails = 0;
    for (size_t i = 0; i < good.len; i++) {
        memcpy(copy, good.p, good.len);
        copy[i] ^= (uint8_t)(1u << (i % 8));
        int rc = decode_mem(copy, good.len, 0, &rate, &p, err, sizeof(err));
        fails += rc != 0 && err[0];
        free(p.s);
    }
    CHECK_INT(fails, (int)good.len);
    free(copy);

    /* Not Ogg at all. */
    static const char text[] = "RIFF\x24\0\0\0WAVEfmt this is not an Ogg Opus file at all";
    decode_mem((const uint8_t *)text, sizeof(text), 0, &rate, &p, err, sizeof(err));
    CHECK_STR(err, "ogg opus: not an Ogg stream");
    free(p.s);
    free(good.p);

    /* Crafted OpusHead packets, with valid pages around them. */
    static const struct {
        uint8_t head[24];
        size_t len;
        const char *why; /* NULL: decodes */
    } heads[] = {
        {"OpusHead\x01\xff\0\0\x40\x1f\0\0\0\0\x01\x02\0\0\x01", 24, "more than 2 channels"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\x02\x02\0\0\x01", 23, "mapping family"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\xff\x02\0\0\x01", 23, "mapping family"},
        {"OpusHead\x10\x02\0\0\x40\x1f\0\0\0\0\x01\x02\0\0\x01", 23, "version"},
        {"OpusHead\x01\x00\0\0\x40\x1f\0\0\0\0\x00", 19, "0 channels"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\x01\x00\0\0\x01", 23, "0 streams"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\x01\x02\x03\0\x01", 23, "coupled"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\x01\x02\0\0\x07", 23, "does not exist"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\x01\x02\0\0", 22, "mapping table"},
        {"OpusHead\x01\x02\0\0\x40\x1f\0", 15, "too short"},
        {"OpusHeaX\x01\x01\0\0\x40\x1f\0\0\0\0\x00", 19, "no Opus stream"},
        /* Mono and family 0: decodable (the audio packet below is mono). */
        {"OpusHead\x01\x01\0\0\x40\x1f\0\0\0\0\x00", 19, NULL},
        {"OpusHead\x01\x01\0\0\x40\x1f\0\0\0\0\x01\x01\0\0", 22, NULL},
        /* An unmapped (silent) channel is legal: 255 in the table. */
        {"OpusHead\x01\x02\0\0\x40\x1f\0\0\0\0\x01\x01\0\0\xff", 23, NULL},
        /* Odd input rate: decoded at 48 kHz. */
        {"OpusHead\x01\x01\0\0\x44\xac\0\0\0\0\x00", 19, NULL},
    };
    OpusEncoder *enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, NULL);
    CHECK(enc != NULL);
    if (!enc)
        return;
    int16_t x[160];
    uint8_t audio[3][400];
    size_t alen[3];
    for (int k = 0; k < 3; k++) {
        tone(x, 160, 160 * (size_t)k, 500, AMP, 8000);
        opus_int32 n = opus_encode(enc, x, 160, audio[k], sizeof(audio[k]));
        alen[k] = n > 0 ? (size_t)n : 0;
    }
    opus_encoder_destroy(enc);
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        const uint8_t *pk[] = {heads[i].head, tags_pkt, audio[0], audio[1], audio[2]};
        size_t ln[] = {heads[i].len, sizeof(tags_pkt) - 1, alen[0], alen[1], alen[2]};
        struct mem m;
        make_ogg(&m, pk, ln, 5, 3 * 960 - 96);
        int rc = decode_mem(m.p, m.len, 0, &rate, &p, err, sizeof(err));
        if (heads[i].why) {
            CHECK_INT(rc, -1);
            CHECK(strstr(err, heads[i].why) != NULL);
            if (!strstr(err, heads[i].why))
                fprintf(stderr, "  head case %zu: %s\n", i, err);
        } else {
            CHECK_INT(rc, 0);
            if (rc)
                fprintf(stderr, "  head case %zu: %s\n", i, err);
            unsigned want_rate = heads[i].head[12] == 0x44 ? 48000 : 8000;
            CHECK_INT(rate, want_rate);
            CHECK_INT(p.frames, (3 * 960 - 96) / (48000 / want_rate));
            if (p.frames > 1000 && want_rate == 8000) {
                /* Mono: both channels carry it (or the right is the unmapped silence). */
                bool unmapped = heads[i].len == 23;
                CHECK(max_abs(&p, 0, 0, p.frames) > 1000);
                if (unmapped)
                    CHECK_INT(max_abs(&p, 1, 0, p.frames), 0);
                else
                    CHECK(memcmp(&p.s[0], &p.s[1], 2) == 0 && p.s[800] == p.s[801]);
            }
        }
        free(p.s);
        free(m.p);
    }

    /* Stream structure errors. */
    {
        uint8_t head[] = "OpusHead\x01\x01\0\0\x40\x1f\0\0\0\0\x00";
        const uint8_t *pk[] = {head, audio[0], audio[1]};
        size_t ln[] = {19, alen[0], alen[1]};
        struct mem m;
        make_ogg(&m, pk, ln, 3, 960);
        decode_mem(m.p, m.len, 0, &rate, &p, err, sizeof(err));
        CHECK(strstr(err, "not OpusTags") != NULL);
        free(p.s);
        free(m.p);
        /* End-of-stream granule before the pre-skip / beyond the audio. */
        const uint8_t *pk2[] = {head, tags_pkt, audio[0], audio[1]};
        size_t ln2[] = {19, sizeof(tags_pkt) - 1, alen[0], alen[1]};
        make_ogg(&m, pk2, ln2, 4, 5 * 960);
        decode_mem(m.p, m.len, 0, &rate, &p, err, sizeof(err));
        CHECK(strstr(err, "beyond the audio") != NULL);
        free(p.s);
        free(m.p);
        make_ogg(&m, pk2, ln2, 4, 100); /* before the audio of the previous page */
        decode_mem(m.p, m.len, 0, &rate, &p, err, sizeof(err));
        CHECK(strstr(err, "invalid end-of-stream granule") != NULL);
        free(p.s);
        free(m.p);
        /* A packet spanning hundreds of pages: refused before it is all in memory. */
        uint8_t *big = calloc(1, 400000);
        CHECK(big != NULL);
        if (big) {
            const uint8_t *pk4[] = {head, tags_pkt, big, audio[1]};
            size_t ln4[] = {19, sizeof(tags_pkt) - 1, 400000, alen[1]};
            make_ogg(&m, pk4, ln4, 4, 960);
            decode_mem(m.p, m.len, 0, &rate, &p, err, sizeof(err));
            CHECK(strstr(err, "packet too large") != NULL);
            free(p.s);
            free(m.p);
            free(big);
        }
        /* A corrupt Opus packet (an invalid code 3 TOC: 0 frames). */
        static const uint8_t junk[] = {0x03, 0x00};
        const uint8_t *pk3[] = {head, tags_pkt, junk, audio[1]};
        size_t ln3[] = {19, sizeof(tags_pkt) - 1, sizeof(junk), alen[1]};
        make_ogg(&m, pk3, ln3, 4, 960);
        decode_mem(m.p, m.len, 0, &rate, &p, err, sizeof(err));
        CHECK(strstr(err, "corrupt Opus packet") != NULL);
        free(p.s);
        free(m.p);
    }
}

/* --- WAV export ------------------------------------------------------------------------ */

static int count_dir(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_wav_export(void)
{
    static const unsigned rates[] = {8000, 16000};
    for (int k = 0; k < 2; k++) {
        struct mem m;
        size_t total = 2 * rates[k] + 33;
        make_small(&m, rates[k], 60, total);
        char path[128], err[256];
        snprintf(path, sizeof(path), "%s/call-%u.wav", tmpdir, rates[k]);
        struct src s = {m.p, m.len, 0, 0};
        struct byte_source bs = {src_read, &s};
        CHECK_INT(wav_export_from_ogg(&bs, false, path, err, sizeof(err)), 0);
        SF_INFO info = {0};
        SNDFILE *snd = sf_open(path, SFM_READ, &info);
        CHECK(snd != NULL);
        if (snd) {
            CHECK_INT(info.channels, 2);
            CHECK_INT(info.samplerate, rates[k]);
            CHECK_INT(info.frames, total);
            CHECK_INT(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
            static int16_t buf[2 * 16000];
            CHECK_INT(sf_readf_short(snd, buf, rates[k]), rates[k]);
            struct pcm p = {buf, rates[k], rates[k]};
            CHECK(fabs(dominant(&p, 0, rates[k] / 2, rates[k] / 2, rates[k]) - 300) <= 10);
            CHECK(fabs(dominant(&p, 1, rates[k] / 2, rates[k] / 2, rates[k]) - 1200) <= 10);
            sf_close(snd);
        }
        struct stat st;
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

        /* A damaged recording: an error, the old file untouched, no temporary left. */
        int before = count_dir(tmpdir);
        m.p[m.len - 20] ^= 1;
        s = (struct src){m.p, m.len, 0, 0};
        CHECK_INT(wav_export_from_ogg(&bs, false, path, err, sizeof(err)), -1);
        CHECK(strstr(err, "corrupt") != NULL);
        CHECK_INT(count_dir(tmpdir), before);
        snd = sf_open(path, SFM_READ, &info);
        CHECK(snd != NULL && info.frames == (sf_count_t)total);
        if (snd)
            sf_close(snd);
        unlink(path);
        CHECK_INT(wav_export_from_ogg(&bs, false, path, err, sizeof(err)), -1);
        CHECK(access(path, F_OK) != 0);
        CHECK_INT(count_dir(tmpdir), before - 1);

        /* Cut by a crash (the vault authenticated what is left), in its last page: an
         * error unless the caller knows it truncated, then the WAV holds the start, up
         * to the last whole page before the cut. */
        m.p[m.len - 20] ^= 1;
        s = (struct src){m.p, m.len - 200, 0, 0};
        CHECK_INT(wav_export_from_ogg(&bs, false, path, err, sizeof(err)), -1);
        CHECK(access(path, F_OK) != 0);
        s = (struct src){m.p, m.len - 200, 0, 0};
        CHECK_INT(wav_export_from_ogg(&bs, true, path, err, sizeof(err)), 0);
        snd = sf_open(path, SFM_READ, &info);
        CHECK(snd != NULL && info.frames > (sf_count_t)total / 2 &&
              info.frames < (sf_count_t)total);
        if (snd)
            sf_close(snd);
        unlink(path);
        free(m.p);
    }
    struct src s = {NULL, 0, 0, 0};
    struct byte_source bs = {src_read, &s};
    char err[256];
    CHECK_INT(wav_export_from_ogg(&bs, false, "/nonexistent-dir/x.wav", err, sizeof(err)), -1);
    CHECK(strstr(err, "No such file") != NULL);
}

/* --- fuzz seeds ------------------------------------------------------------------------ */

/* A seed is the fuzz target's mode byte (read size, checksum repair) then the file. */
static int write_file(const char *dir, const char *name, uint8_t mode, const struct mem *m)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(mode, f) == EOF || fwrite(m->p, 1, m->len, f) != m->len) {
        perror(path);
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

/* Small files: the fuzz target replays them and mutates them. */
static int write_seeds(const char *dir)
{
    struct mem m;
    int bad = 0;
    make_small(&m, 8000, 60, 2000);
    bad |= write_file(dir, "nb-60ms", 0x00, &m);
    free(m.p);
    make_small(&m, 16000, 20, 1000);
    bad |= write_file(dir, "wb-20ms", 0x09, &m);
    free(m.p);
    make_small(&m, 8000, 20, 0);
    bad |= write_file(dir, "empty", 0x04, &m);
    free(m.p);
    {
        /* Digital silence (CELT silent packets) around speech (SILK): mode switches. */
        struct ogg_opus_settings s = settings(8000, 12000, 20, 0);
        struct byte_sink sink = {mem_write, &m};
        char err[256];
        int16_t x[1600];
        m = (struct mem){.fail_after = -1};
        struct ogg_opus_writer *w = ogg_opus_writer_new(&s, &sink, err, sizeof(err));
        if (!w)
            return 1;
        tone(x, 1600, 0, 440, AMP, 8000);
        ogg_opus_writer_push(w, NULL, NULL, 800);
        ogg_opus_writer_push(w, x, NULL, 1600);
        ogg_opus_writer_push(w, NULL, NULL, 800);
        ogg_opus_writer_push(w, NULL, x, 400);
        ogg_opus_writer_finish(w);
        ogg_opus_writer_free(w);
        bad |= write_file(dir, "silence-speech", 0x0e, &m);
        free(m.p);
    }
    /* Mono family 0, hand-made. */
    OpusEncoder *enc = opus_encoder_create(8000, 1, OPUS_APPLICATION_VOIP, NULL);
    int16_t x[160];
    uint8_t a[2][200];
    size_t al[2];
    for (int k = 0; k < 2; k++) {
        tone(x, 160, 160 * (size_t)k, 500, AMP, 8000);
        opus_int32 n = opus_encode(enc, x, 160, a[k], sizeof(a[k]));
        al[k] = n > 0 ? (size_t)n : 0;
    }
    opus_encoder_destroy(enc);
    static const uint8_t head[] = "OpusHead\x01\x01\x38\x01\x40\x1f\0\0\0\0\x00";
    const uint8_t *pk[] = {head, tags_pkt, a[0], a[1]};
    size_t ln[] = {19, sizeof(tags_pkt) - 1, al[0], al[1]};
    make_ogg(&m, pk, ln, 4, 2 * 960 - 7);
    bad |= write_file(dir, "mono-family0", 0x0b, &m);
    free(m.p);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0)
        return write_seeds(argv[2]);

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ogg_opus.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_tones(8000, 440, 1000);
    test_tones(16000, 440, 1000);
    test_tones(16000, 440, 5000); /* above narrowband: proves wideband */
    test_silence();
    test_silence_between();
    test_one_channel_null();
    test_incremental(20);
    test_incremental(60);
    test_sink_failure();
    test_settings();
    test_complexity_switch();
    test_peaks();
    test_lengths();
    test_opus_tools();
    test_hostile();
    test_wav_export();
    rmdir(tmpdir);
    return TEST_REPORT("test_ogg_opus");
}

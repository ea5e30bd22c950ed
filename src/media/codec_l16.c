/*
 * codec_l16.c - L16 (RFC 3551 §4.5.11): uncompressed 16-bit big-endian samples at any
 * rate and channel count given by the rtpmap, channels interleaved per sample.
 *
 * Channels are averaged to mono.  The rate is brought to the nearest output rate the
 * timeline knows - 8000 Hz for clocks up to 11025 Hz, 16000 Hz above - by a windowed-
 * sinc polyphase resampler, the textbook one (J. O. Smith, "Digital Audio Resampling",
 * bandlimited interpolation): each output sample is the dot product of the input around
 * its exact position with a low-pass kernel taken from a table of 128 sub-sample phases.
 * The kernel is a Kaiser-windowed sinc (A = 60 dB) whose half-length is 12 samples at the
 * lower of the two rates (at 44100 -> 16000: 68 taps): flat to 0.40 x the lower rate
 * (6.4 kHz out of 16), -1 dB at 0.44, and anything that would alias below 0.45 x the
 * lower rate is 60 dB down.  Rounding the position to 1/128 of an input sample adds
 * noise of 2 pi f / (256 x input rate) relative to a tone of frequency f: -43 dB at
 * worst (6.4 kHz from 22050 Hz), -56 dB for 5 kHz from 44100 Hz, far less for speech,
 * whose energy is low up there.  Measured: over 500x real time per stream, and L16 on
 * the wire is rare.
 *
 * The position advances by the exact ratio in integers (no drift over a long call); the
 * kernel needs half its length of input ahead of each output, so the first packet yields
 * that many fewer samples (0.75 ms at 16 kHz out) and the count per packet varies by one
 * around the exact ratio; output sample n is the input at time n / output rate exactly.
 * At equal rates the samples are only downmixed.
 * Concealment is silence.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "codec_internal.h"

/* Kaiser design (A = 60 dB stop band, beta = 0.1102 (A - 8.7)): the transition band runs
 * from 0.40 to 0.55 x the lower rate, the -6 dB point is in its middle. */
#define L16_CUTOFF 0.475
#define L16_KAISER_BETA 5.65

enum {
    L16_MIN_RATE = 1000,
    L16_MAX_RATE = 96000,
    L16_MAX_CHANNELS = 8,
    L16_PHASES = 128,
    L16_HALF_TAPS = 12, /* kernel half-length, in samples at the lower of the two rates */
    L16_CHUNK = 512,    /* input frames resampled per step */
};

struct l16_state {
    unsigned in_rate, out_rate, channels;
    bool resample;
    unsigned taps; /* kernel length, even: taps/2 - 1 samples before the position */
    float *kernel; /* (L16_PHASES + 1) rows of taps */
    float *buf;    /* mono input: history, then the chunk being resampled */
    size_t have;   /* samples in buf */
    size_t pos;    /* buf index of the input sample at or before the next output */
    uint32_t frac; /* the next output lies frac/out_rate of a sample after pos */
};

static float sincf_(double x)
{
    return x == 0.0 ? 1.0f : (float)(sin(M_PI * x) / (M_PI * x));
}

/* Zeroth-order modified Bessel function of the first kind, by its power series (for the
 * Kaiser window; converges in a few dozen terms for the beta used here). */
static double bessel_i0(double x)
{
    double sum = 1, term = 1;

    for (int k = 1; k < 50 && term > 1e-12 * sum; k++) {
        term *= (x / (2 * k)) * (x / (2 * k));
        sum += term;
    }
    return sum;
}

/* Row p of the kernel interpolates at p/L16_PHASES of a sample after pos. */
static void l16_build_kernel(struct l16_state *st)
{
    unsigned lo = st->in_rate < st->out_rate ? st->in_rate : st->out_rate;
    double g = 2 * L16_CUTOFF * lo / st->in_rate; /* cutoff, in cycles per 2 input samples */
    double half = st->taps / 2.0, i0_beta = bessel_i0(L16_KAISER_BETA);

    for (unsigned p = 0; p <= L16_PHASES; p++) {
        float *row = st->kernel + (size_t)p * st->taps;
        double sum = 0;
        for (unsigned k = 0; k < st->taps; k++) {
            double x = (double)k - (st->taps / 2.0 - 1) - (double)p / L16_PHASES;
            double r = x / half;
            double w = fabs(r) >= 1 ? 0.0 : bessel_i0(L16_KAISER_BETA * sqrt(1 - r * r)) / i0_beta;
            row[k] = (float)(g * sincf_(g * x) * w);
            sum += row[k];
        }
        for (unsigned k = 0; k < st->taps; k++)
            row[k] = (float)(row[k] / sum); /* unity gain at DC for every phase */
    }
}

static void l16_fini(struct codec_decoder *d)
{
    struct l16_state *st = d->state;

    if (!st)
        return;
    free(st->kernel);
    free(st->buf);
    free(st);
}

static int l16_init(struct codec_decoder *d)
{
    struct l16_state *st;
    unsigned lo;

    if (d->rtp_clock < L16_MIN_RATE || d->rtp_clock > L16_MAX_RATE ||
        d->channels > L16_MAX_CHANNELS)
        return -1;
    st = calloc(1, sizeof(*st));
    if (!st)
        return -1;
    d->state = st;
    st->in_rate = d->rtp_clock;
    st->out_rate = d->output_rate;
    st->channels = d->channels;
    st->resample = st->in_rate != st->out_rate;
    if (!st->resample)
        return 0;
    lo = st->in_rate < st->out_rate ? st->in_rate : st->out_rate;
    st->taps = 2 * (unsigned)ceil((double)L16_HALF_TAPS * st->in_rate / lo);
    st->kernel = malloc((size_t)(L16_PHASES + 1) * st->taps * sizeof(float));
    st->buf = calloc((size_t)2 * st->taps + L16_CHUNK, sizeof(float));
    if (!st->kernel || !st->buf) {
        l16_fini(d);
        d->state = NULL;
        return -1;
    }
    l16_build_kernel(st);
    st->have = st->taps / 2 - 1; /* zeros before the first sample */
    st->pos = st->have;
    return 0;
}

static int16_t l16_frame(const uint8_t *f, unsigned ch)
{
    int32_t sum = 0;

    for (unsigned c = 0; c < ch; c++)
        sum += (int16_t)((f[2 * c] << 8) | f[2 * c + 1]);
    return (int16_t)(sum / (int32_t)ch);
}

static int16_t l16_clip(float v)
{
    if (v >= 32767.0f)
        return 32767;
    if (v <= -32768.0f)
        return -32768;
    return (int16_t)lrintf(v);
}

/* Appends `frames` downmixed frames to buf, emits every output the kernel can reach
 * (those beyond max are computed and dropped), then keeps only the history needed. */
static size_t l16_resample_chunk(struct l16_state *st, const uint8_t *in, size_t frames,
                                 int16_t *pcm, size_t n, size_t max)
{
    size_t before = st->taps / 2 - 1, shift;

    for (size_t i = 0; i < frames; i++)
        st->buf[st->have++] = l16_frame(in + 2 * st->channels * i, st->channels);
    while (st->pos + st->taps / 2 < st->have) {
        unsigned phase =
            (unsigned)(((uint64_t)st->frac * L16_PHASES + st->out_rate / 2) / st->out_rate);
        const float *row = st->kernel + (size_t)phase * st->taps;
        const float *x = st->buf + st->pos - before;
        float acc = 0;

        for (unsigned k = 0; k < st->taps; k++)
            acc += row[k] * x[k];
        if (n < max)
            pcm[n++] = l16_clip(acc);
        st->frac += st->in_rate;
        st->pos += st->frac / st->out_rate;
        st->frac %= st->out_rate;
    }
    shift = st->pos - before;
    if (shift > st->have)
        shift = st->have;
    memmove(st->buf, st->buf + shift, (st->have - shift) * sizeof(float));
    st->have -= shift;
    st->pos -= shift;
    return n;
}

static long l16_decode(struct codec_decoder *d, struct span p, int16_t *pcm, size_t max)
{
    struct l16_state *st = d->state;
    size_t frame = 2 * (size_t)st->channels, frames, n = 0;

    if (p.len % frame)
        return -1;
    frames = p.len / frame;
    if (!st->resample) {
        if (frames > max)
            frames = max;
        for (size_t i = 0; i < frames; i++)
            pcm[i] = l16_frame(p.p + i * frame, st->channels);
        return (long)frames;
    }
    for (size_t i = 0; i < frames; i += L16_CHUNK) {
        size_t k = frames - i < L16_CHUNK ? frames - i : L16_CHUNK;
        n = l16_resample_chunk(st, p.p + i * frame, k, pcm, n, max);
    }
    return (long)n;
}

const struct codec_ops codec_l16_ops = {
    .init = l16_init,
    .fini = l16_fini,
    .decode = l16_decode,
};

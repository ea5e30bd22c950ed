/*
 * test_codec.c - the RTP payload decoders, each fed by its own encoder: a known tone is
 * encoded (G.711 by a reference encoder written here from ITU-T G.711, G.722 by spandsp,
 * G.729 by bcg729, Opus by libopus, L16 by hand), split into 20 ms payloads, decoded by
 * codec_decode, and checked for sample count, dominant frequency (a Goertzel scan) and
 * signal-to-noise ratio.  Wideband codecs are also given a 5000 Hz tone, which only
 * survives if they really carry more than 4 kHz.  Plus the codec table, invalid
 * payloads, max, concealment, G.729 SID frames, Opus stereo and FEC, L16 resampling.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bcg729/encoder.h>
#include <opus.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>

#include "greffier/codec.h"
#include "testhelp.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { MAX_SIGNAL = 48000 * 2 }; /* one second, stereo, at the highest test rate */

/* ---- signal helpers ---- */

static void tone(int16_t *out, size_t n, unsigned rate, double freq, double amp)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (int16_t)lrint(amp * sin(2 * M_PI * freq * (double)i / rate));
}

/* Power at freq over x[0..n) with a Hann window (Goertzel). */
static double goertzel(const int16_t *x, size_t n, unsigned rate, double freq)
{
    double w = 2 * M_PI * freq / rate, c = 2 * cos(w), s1 = 0, s2 = 0;

    for (size_t i = 0; i < n; i++) {
        double win = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)(n - 1));
        double s0 = x[i] * win + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/* The strongest frequency between 50 Hz and Nyquist - 50, on a 10 Hz grid. */
static double dominant(const int16_t *x, size_t n, unsigned rate)
{
    double best = 0, best_f = 0;

    for (double f = 50; f <= rate / 2.0 - 50; f += 10) {
        double p = goertzel(x, n, rate, f);
        if (p > best) {
            best = p;
            best_f = f;
        }
    }
    return best_f;
}

static double energy(const int16_t *x, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += (double)x[i] * x[i];
    return e;
}

/* SNR (dB) of dec against ref over n samples, at the best delay of dec in [0, maxlag] and
 * the best gain (so that lossy codecs' delay and level do not count as noise). */
static double snr(const int16_t *ref, const int16_t *dec, size_t n, size_t maxlag)
{
    double best = -100;

    for (size_t lag = 0; lag <= maxlag; lag++) {
        double rr = 0, dd = 0, rd = 0;
        for (size_t i = 0; i < n; i++) {
            rr += (double)ref[i] * ref[i];
            dd += (double)dec[i + lag] * dec[i + lag];
            rd += (double)ref[i] * dec[i + lag];
        }
        if (rr == 0 || dd == 0)
            continue;
        double rho2 = rd * rd / (rr * dd);
        double s = rho2 >= 1 ? 100 : 10 * log10(rho2 / (1 - rho2));
        if (rd > 0 && s > best)
            best = s;
    }
    return best;
}

/* ---- ITU-T G.711 reference (the Sun Microsystems public domain g711.c algorithm) ---- */

static int seg_of(int v, const int *ends)
{
    for (int i = 0; i < 8; i++)
        if (v <= ends[i])
            return i;
    return 8;
}

static uint8_t linear2alaw(int16_t pcm)
{
    static const int seg_aend[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
    int v = pcm >> 3, mask, seg;
    uint8_t aval;

    if (v >= 0) {
        mask = 0xD5;
    } else {
        mask = 0x55;
        v = -v - 1;
    }
    seg = seg_of(v, seg_aend);
    if (seg >= 8)
        return (uint8_t)(0x7F ^ mask);
    aval = (uint8_t)(seg << 4);
    aval |= seg < 2 ? (v >> 1) & 0x0F : (v >> seg) & 0x0F;
    return (uint8_t)(aval ^ mask);
}

static uint8_t linear2ulaw(int16_t pcm)
{
    static const int seg_uend[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
    int v = pcm >> 2, mask, seg;

    if (v < 0) {
        v = -v;
        mask = 0x7F;
    } else {
        mask = 0xFF;
    }
    if (v > 8159)
        v = 8159;
    v += 0x84 >> 2;
    seg = seg_of(v, seg_uend);
    if (seg >= 8)
        return (uint8_t)(0x7F ^ mask);
    return (uint8_t)(((seg << 4) | ((v >> (seg + 1)) & 0x0F)) ^ mask);
}

static int16_t ulaw2linear(uint8_t u)
{
    int t;
    u = (uint8_t)~u;
    t = ((u & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    return (int16_t)((u & 0x80) ? 0x84 - t : t - 0x84);
}

static int16_t alaw2linear(uint8_t a)
{
    int t, seg;
    a ^= 0x55;
    t = (a & 0x0F) << 4;
    seg = (a & 0x70) >> 4;
    if (seg == 0)
        t += 8;
    else
        t = (t + 0x108) << (seg - 1);
    return (int16_t)((a & 0x80) ? t : -t);
}

/* ---- the codec table ---- */

struct identify_case {
    const char *name;
    uint8_t pt;
    enum codec_id want;
};

static const struct identify_case identify_cases[] = {
    {"PCMU", 0, CODEC_PCMU},
    {"pcmu", 96, CODEC_PCMU},
    {"pcma", 8, CODEC_PCMA},
    {"PCMA", 101, CODEC_PCMA},
    {"G722", 9, CODEC_G722},
    {"g722", 100, CODEC_G722},
    {"G729", 18, CODEC_G729},
    {"G729a", 18, CODEC_G729},
    {"G729A", 97, CODEC_G729},
    {"opus", 111, CODEC_OPUS},
    {"OPUS", 96, CODEC_OPUS},
    {"Opus", 0, CODEC_OPUS}, /* the rtpmap name wins over the static type */
    {"L16", 97, CODEC_L16},
    {"l16", 11, CODEC_L16},
    {"CN", 13, CODEC_CN},
    {"cn", 105, CODEC_CN},
    {"telephone-event", 101, CODEC_TELEPHONE_EVENT},
    {"TELEPHONE-EVENT", 101, CODEC_TELEPHONE_EVENT},
    {"", 0, CODEC_PCMU},
    {NULL, 0, CODEC_PCMU},
    {"", 8, CODEC_PCMA},
    {NULL, 9, CODEC_G722},
    {"", 13, CODEC_CN},
    {NULL, 18, CODEC_G729},
    {NULL, 3, CODEC_NONE}, /* GSM: not decoded */
    {"", 96, CODEC_NONE},  /* dynamic without rtpmap */
    {"GSM", 3, CODEC_NONE},
    {"G7291", 98, CODEC_NONE},
    {"AMR", 0, CODEC_NONE}, /* an unknown name does not fall back to the type */
    {"PCM", 0, CODEC_NONE},
    {"PCMUX", 0, CODEC_NONE},
    {"speex", 97, CODEC_NONE},
};

struct rate_case {
    enum codec_id id;
    const char *name;
    unsigned rate;
    uint32_t clock; /* for the decoder (0: default) */
    unsigned channels;
    unsigned decoder_rate;
    unsigned ticks;
};

static const struct rate_case rate_cases[] = {
    {CODEC_PCMU, "PCMU", 8000, 0, 0, 8000, 1000},
    {CODEC_PCMA, "PCMA", 8000, 8000, 1, 8000, 1000},
    {CODEC_G722, "G722", 16000, 0, 0, 16000, 500},
    {CODEC_G729, "G729", 8000, 8000, 1, 8000, 1000},
    {CODEC_OPUS, "opus", 16000, 48000, 2, 16000, 3000},
    {CODEC_OPUS, "opus", 16000, 0, 0, 16000, 3000},
    {CODEC_L16, "L16", 16000, 0, 0, 16000, 2756}, /* RFC 3551 default 44100 */
    {CODEC_L16, "L16", 16000, 44100, 2, 16000, 2756},
    {CODEC_L16, "L16", 16000, 48000, 1, 16000, 3000},
    {CODEC_L16, "L16", 16000, 16000, 1, 16000, 1000},
    {CODEC_L16, "L16", 16000, 8000, 1, 8000, 1000},
    {CODEC_L16, "L16", 16000, 11025, 1, 8000, 1378},
    {CODEC_L16, "L16", 16000, 12000, 1, 16000, 750},
    {CODEC_CN, "CN", 8000, 0, 0, 8000, 1000},
    {CODEC_CN, "CN", 8000, 16000, 0, 16000, 1000},
    {CODEC_TELEPHONE_EVENT, "telephone-event", 8000, 8000, 0, 8000, 1000},
    {CODEC_TELEPHONE_EVENT, "telephone-event", 8000, 48000, 0, 16000, 3000},
};

static void test_table(void)
{
    for (size_t i = 0; i < ARRAY_LEN(identify_cases); i++) {
        const struct identify_case *c = &identify_cases[i];
        enum codec_id got = codec_identify(c->name, c->pt);
        if (got != c->want)
            fprintf(stderr, "identify(\"%s\", %u)\n", c->name ? c->name : "(null)", c->pt);
        CHECK_INT(got, c->want);
    }
    for (size_t i = 0; i < ARRAY_LEN(rate_cases); i++) {
        const struct rate_case *c = &rate_cases[i];
        struct codec_decoder *d = codec_decoder_new(c->id, c->clock, c->channels);
        CHECK_STR(codec_name(c->id), c->name);
        CHECK_INT(codec_output_rate(c->id), c->rate);
        CHECK(d != NULL);
        if (!d)
            continue;
        CHECK_INT(codec_decoder_output_rate(d), c->decoder_rate);
        CHECK_INT(codec_rtp_ticks_per_1000_samples(d), c->ticks);
        codec_decoder_free(d);
    }
    CHECK_STR(codec_name(CODEC_NONE), "none");
    CHECK_INT(codec_output_rate(CODEC_NONE), 0);
    CHECK(codec_decoder_new(CODEC_NONE, 8000, 1) == NULL);
    CHECK(codec_decoder_new((enum codec_id)99, 8000, 1) == NULL);
    CHECK(codec_decoder_new(CODEC_L16, 200000, 1) == NULL); /* beyond the resampler */
    CHECK(codec_decoder_new(CODEC_L16, 16000, 9) == NULL);
    CHECK(codec_decoder_new(CODEC_PCMU, 8000, 9) == NULL);
    CHECK_INT(codec_rtp_ticks_per_1000_samples(NULL), 0);
    codec_decoder_free(NULL);
}

/* ---- decoding a whole signal, payload by payload ---- */

/* Decodes n_payloads payloads of `size` bytes each from enc, appending to out; checks
 * that each decodes to `want` samples; returns the total. */
static size_t decode_all(struct codec_decoder *d, const uint8_t *enc, size_t size,
                         size_t n_payloads, long want, int16_t *out, size_t cap)
{
    size_t total = 0;
    int bad = 0;

    for (size_t i = 0; i < n_payloads; i++) {
        long n = codec_decode(d, enc + i * size, size, out + total, cap - total);
        if (n != want && bad++ == 0)
            CHECK_INT(n, want);
        if (n > 0)
            total += (size_t)n;
    }
    CHECK_INT(bad, 0);
    return total;
}

struct tone_check {
    double freq;
    double min_snr; /* dB, after delay and gain alignment */
};

/* Dominant frequency and SNR of a decoded tone, leaving the codec's first 100 ms. */
static void check_tone(const char *what, const int16_t *ref, const int16_t *dec, size_t n,
                       unsigned rate, const struct tone_check *t, size_t maxlag)
{
    size_t skip = rate / 10, win = n - skip - maxlag;
    double f = dominant(dec + skip, win, rate);
    double s = snr(ref + skip, dec + skip, win, maxlag);

    if (getenv("VERBOSE") || fabs(f - t->freq) > 20 || s < t->min_snr)
        fprintf(stderr, "%s %.0f Hz: dominant %.0f Hz, SNR %.1f dB\n", what, t->freq, f, s);
    CHECK(fabs(f - t->freq) <= 20);
    CHECK(s >= t->min_snr);
}

static void test_g711_table(void)
{
    uint8_t all[256];
    int16_t pcm[256];
    struct codec_decoder *u = codec_decoder_new(CODEC_PCMU, 8000, 1);
    struct codec_decoder *a = codec_decoder_new(CODEC_PCMA, 8000, 1);
    int wrong_u = 0, wrong_a = 0;

    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    CHECK_INT(codec_decode(u, all, 256, pcm, 256), 256);
    for (int i = 0; i < 256; i++)
        wrong_u += pcm[i] != ulaw2linear((uint8_t)i);
    CHECK_INT(pcm[0x00], -32124);
    CHECK_INT(pcm[0x80], 32124);
    CHECK_INT(pcm[0xFF], 0);
    CHECK_INT(pcm[0x7F], 0);
    CHECK_INT(codec_decode(a, all, 256, pcm, 256), 256);
    for (int i = 0; i < 256; i++)
        wrong_a += pcm[i] != alaw2linear((uint8_t)i);
    CHECK_INT(pcm[0xD5], 8);
    CHECK_INT(pcm[0x55], -8);
    CHECK_INT(pcm[0xAA], 32256);
    CHECK_INT(pcm[0x2A], -32256);
    CHECK_INT(wrong_u, 0);
    CHECK_INT(wrong_a, 0);
    codec_decoder_free(u);
    codec_decoder_free(a);
}

static void test_g711(enum codec_id id, uint8_t (*encode)(int16_t))
{
    static int16_t ref[8000], out[8000];
    static uint8_t enc[8000];
    struct tone_check t = {440, 30};
    struct codec_decoder *d = codec_decoder_new(id, 8000, 1);

    tone(ref, 8000, 8000, t.freq, 12000);
    for (size_t i = 0; i < 8000; i++)
        enc[i] = encode(ref[i]);
    CHECK_INT(decode_all(d, enc, 160, 50, 160, out, 8000), 8000);
    check_tone(codec_name(id), ref, out, 8000, 8000, &t, 0);
    /* The codec's own quantisation: over 35 dB on a loud tone, no delay. */
    CHECK(snr(ref, out, 8000, 0) > 35);
    /* Two channels are averaged. */
    uint8_t st[4] = {encode(1000), encode(3000), encode(-2000), encode(-2000)};
    int16_t m[2];
    codec_decoder_free(d);
    d = codec_decoder_new(id, 8000, 2);
    CHECK_INT(codec_decode(d, st, 4, m, 2), 2);
    CHECK(abs(m[0] - 2000) < 100);
    CHECK(abs(m[1] + 2000) < 100);
    CHECK_INT(codec_decode(d, st, 3, m, 2), -1);
    codec_decoder_free(d);
}

static void test_g722(void)
{
    static const struct tone_check tones[] = {{1000, 20}, {5000, 15}, {7000, 10}};
    static int16_t ref[16000], out[16000];
    static uint8_t enc[8000];

    for (size_t k = 0; k < ARRAY_LEN(tones); k++) {
        g722_encode_state_t *e = g722_encode_init(NULL, 64000, 0);
        struct codec_decoder *d = codec_decoder_new(CODEC_G722, 8000, 1);

        tone(ref, 16000, 16000, tones[k].freq, 10000);
        CHECK_INT(g722_encode(e, enc, ref, 16000), 8000);
        /* 20 ms: 160 bytes, 160 RTP ticks, 320 samples at 16 kHz */
        CHECK_INT(decode_all(d, enc, 160, 50, 320, out, 16000), 16000);
        check_tone("G722", ref, out, 16000, 16000, &tones[k], 64);
        g722_encode_free(e);
        codec_decoder_free(d);
    }
}

/* G.729 frames of the signal, 10 bytes each (or SID/nothing with VAD). */
static size_t g729_encode(const int16_t *x, size_t n, bool vad, uint8_t *enc, uint8_t *lens)
{
    bcg729EncoderChannelContextStruct *e = initBcg729EncoderChannel(vad);
    size_t frames = n / 80;

    for (size_t i = 0; i < frames; i++)
        bcg729Encoder(e, x + 80 * i, enc + 10 * i, &lens[i]);
    closeBcg729EncoderChannel(e);
    return frames;
}

static void test_g729(void)
{
    static int16_t ref[8000], out[8000];
    static uint8_t enc[1000], lens[100];
    struct tone_check t = {440, 8};
    struct codec_decoder *d = codec_decoder_new(CODEC_G729, 8000, 1);
    size_t frames;

    tone(ref, 8000, 8000, t.freq, 8000);
    frames = g729_encode(ref, 8000, false, enc, lens);
    CHECK_INT(frames, 100);
    CHECK_INT(lens[0], 10);
    /* 20 ms: two frames, 20 bytes, 160 samples */
    CHECK_INT(decode_all(d, enc, 20, 50, 160, out, 8000), 8000);
    check_tone("G729", ref, out, 8000, 8000, &t, 80);
    CHECK(energy(out + 800, 7000) > 0.25 * energy(ref + 800, 7000));
    CHECK(energy(out + 800, 7000) < 4 * energy(ref + 800, 7000));

    /* Any whole number of frames, with or without a SID frame at the end. */
    static const struct {
        size_t len;
        long want;
    } sizes[] = {{10, 80}, {30, 240}, {60, 480}, {12, 160}, {2, 80},  {22, 240},
                 {7, -1},  {1, -1},   {11, -1},  {13, -1},  {19, -1}, {24, -1}};
    uint8_t payload[60];
    memcpy(payload, enc, 60);
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++)
        CHECK_INT(codec_decode(d, payload, sizes[i].len, out, 8000), sizes[i].want);

    /* Concealment: bcg729's erasure handling goes on with the voice, then silence. */
    decode_all(d, enc, 20, 10, 160, out, 8000);
    CHECK_INT(codec_conceal(d, out, 160), 160);
    CHECK(energy(out, 160) > 0);
    CHECK_INT(codec_conceal(d, out, 2005), 2005);
    CHECK(energy(out, 960) > 0);
    CHECK(energy(out + 960, 2005 - 960) == 0); /* past 120 ms: silence */
    codec_decoder_free(d);
}

/* Annex B: a real SID frame from bcg729's encoder (VAD on, a tone then low noise). */
static void test_g729_sid(void)
{
    static int16_t in[16000], out[16000];
    static uint8_t enc[2000], lens[200];
    uint8_t sid[2], payload[12];
    bool found = false;
    uint32_t seed = 1;

    tone(in, 8000, 8000, 440, 8000);
    for (size_t i = 8000; i < 16000; i++) {
        seed = seed * 1103515245u + 12345u;
        in[i] = (int16_t)((int)((seed >> 16) & 0x1F) - 16); /* faint noise */
    }
    g729_encode(in, 16000, true, enc, lens);
    for (size_t i = 100; i < 200 && !found; i++) {
        if (lens[i] == 2) {
            memcpy(sid, enc + 10 * i, 2);
            found = true;
        }
    }
    CHECK(found);
    if (!found)
        return;
    struct codec_decoder *d = codec_decoder_new(CODEC_G729, 8000, 1);
    memcpy(payload, enc, 10); /* a voice frame then the SID frame */
    memcpy(payload + 10, sid, 2);
    CHECK_INT(codec_decode(d, enc, 10, out, 8000), 80);
    CHECK_INT(codec_decode(d, payload, 12, out, 8000), 160);
    CHECK_INT(codec_decode(d, sid, 2, out, 8000), 80);
    /* comfort noise: quiet, not the tone */
    CHECK(energy(out, 80) < energy(in, 80));
    /* DTX after SID: concealment goes on with comfort noise */
    CHECK_INT(codec_conceal(d, out, 320), 320);
    codec_decoder_free(d);
}

static size_t opus_encode_all(OpusEncoder *e, const int16_t *x, size_t frames, size_t frame,
                              unsigned ch, uint8_t *enc, size_t stride, size_t *lens)
{
    for (size_t i = 0; i < frames; i++) {
        opus_int32 n =
            opus_encode(e, x + i * frame * ch, (int)frame, enc + i * stride, (opus_int32)stride);
        CHECK(n > 0);
        lens[i] = n > 0 ? (size_t)n : 0;
    }
    return frames;
}

/* Decodes payloads of varying length; returns the total samples. */
static size_t decode_var(struct codec_decoder *d, const uint8_t *enc, size_t stride,
                         const size_t *lens, size_t count, long want, int16_t *out, size_t cap)
{
    size_t total = 0;
    int bad = 0;

    for (size_t i = 0; i < count; i++) {
        long n = codec_decode(d, enc + i * stride, lens[i], out + total, cap - total);
        if (n != want && bad++ == 0)
            CHECK_INT(n, want);
        if (n > 0)
            total += (size_t)n;
    }
    CHECK_INT(bad, 0);
    return total;
}

static void test_opus(void)
{
    static const struct tone_check tones[] = {{440, 10}, {1000, 10}, {5000, 8}};
    static int16_t ref[16000], out[16000];
    static uint8_t enc[50 * 400];
    size_t lens[50];

    for (size_t k = 0; k < ARRAY_LEN(tones); k++) {
        int err;
        OpusEncoder *e = opus_encoder_create(16000, 1, OPUS_APPLICATION_VOIP, &err);
        struct codec_decoder *d = codec_decoder_new(CODEC_OPUS, 48000, 2);

        opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
        tone(ref, 16000, 16000, tones[k].freq, 10000);
        opus_encode_all(e, ref, 50, 320, 1, enc, 400, lens);
        CHECK_INT(decode_var(d, enc, 400, lens, 50, 320, out, 16000), 16000);
        check_tone("opus", ref, out, 16000, 16000, &tones[k], 400);

        /* PLC: something like the tone for a while, then silence past 120 ms */
        CHECK_INT(codec_conceal(d, out, 320), 320);
        CHECK(energy(out, 320) > 0);
        CHECK_INT(codec_conceal(d, out, 5010), 5010);
        CHECK(energy(out + 1920, 5010 - 1920) == 0);
        CHECK_INT(codec_conceal(d, out, 7), 7); /* not a multiple of 2.5 ms */
        opus_encoder_destroy(e);
        codec_decoder_free(d);
    }
}

/* A stereo stream with a different tone on each side: the mono output carries both. */
static void test_opus_stereo(void)
{
    static int16_t left[16000], right[16000], inter[32000], out[16000];
    static uint8_t enc[50 * 600];
    size_t lens[50];
    int err;
    OpusEncoder *e = opus_encoder_create(16000, 2, OPUS_APPLICATION_VOIP, &err);
    struct codec_decoder *d = codec_decoder_new(CODEC_OPUS, 48000, 2);

    opus_encoder_ctl(e, OPUS_SET_BITRATE(48000));
    tone(left, 16000, 16000, 700, 8000);
    tone(right, 16000, 16000, 2500, 8000);
    for (size_t i = 0; i < 16000; i++) {
        inter[2 * i] = left[i];
        inter[2 * i + 1] = right[i];
    }
    opus_encode_all(e, inter, 50, 320, 2, enc, 600, lens);
    CHECK_INT(opus_packet_get_nb_channels(enc + 600 * 10), 2);
    CHECK_INT(decode_var(d, enc, 600, lens, 50, 320, out, 16000), 16000);
    double p_l = goertzel(out + 1600, 12800, 16000, 700);
    double p_r = goertzel(out + 1600, 12800, 16000, 2500);
    double p_x = goertzel(out + 1600, 12800, 16000, 1600);
    CHECK(p_l > 100 * p_x);
    CHECK(p_r > 100 * p_x);
    CHECK(p_l > 0.25 * p_r && p_r > 0.25 * p_l); /* both sides, each at about half level */
    opus_encoder_destroy(e);
    codec_decoder_free(d);
}

/* In-band FEC: the tone changes at the lost packet; PLC would carry on with the old tone,
 * FEC from the next packet rebuilds the new one. */
static void test_opus_fec(void)
{
    static int16_t ref[16000], out[640];
    static uint8_t enc[50 * 400];
    size_t lens[50];
    int err;
    OpusEncoder *e = opus_encoder_create(16000, 1, OPUS_APPLICATION_VOIP, &err);
    struct codec_decoder *d = codec_decoder_new(CODEC_OPUS, 48000, 2);

    opus_encoder_ctl(e, OPUS_SET_BITRATE(24000));
    opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(30));
    tone(ref, 3200, 16000, 500, 8000);
    tone(ref + 3200, 12800, 16000, 1500, 8000);
    opus_encode_all(e, ref, 50, 320, 1, enc, 400, lens);
    decode_var(d, enc, 400, lens, 10, 320, ref, 16000); /* packets 0-9 (ref reused) */
    /* packet 10 lost; packet 11 at hand */
    CHECK_INT(codec_conceal_fec(d, enc + 400 * 11, lens[11], out, 320), 320);
    double f = dominant(out + 80, 240, 16000);
    CHECK(fabs(f - 1500) <= 70);
    CHECK_INT(codec_decode(d, enc + 400 * 11, lens[11], out, 640), 320);
    /* a longer gap: PLC first, FEC at the end; a next packet without FEC: PLC */
    CHECK_INT(codec_conceal_fec(d, enc + 400 * 13, lens[13], out, 640), 640);
    CHECK_INT(codec_conceal_fec(d, enc + 400 * 13, 0, out, 640), 640);
    uint8_t bad[2] = {0x03, 0x00};
    CHECK_INT(codec_conceal_fec(d, bad, 2, out, 320), 320);
    /* other codecs: plain concealment */
    struct codec_decoder *u = codec_decoder_new(CODEC_PCMU, 0, 0);
    out[0] = 1;
    CHECK_INT(codec_conceal_fec(u, enc, 10, out, 160), 160);
    CHECK(energy(out, 160) == 0);
    codec_decoder_free(u);
    opus_encoder_destroy(e);
    codec_decoder_free(d);
}

static void test_opus_invalid_and_max(void)
{
    struct codec_decoder *d = codec_decoder_new(CODEC_OPUS, 48000, 2);
    static int16_t x[960], out[2000];
    uint8_t pkt[400];
    int err;
    OpusEncoder *e = opus_encoder_create(16000, 1, OPUS_APPLICATION_VOIP, &err);
    static const uint8_t code3_no_frames[] = {0x03, 0x00};
    static const uint8_t code1_odd[] = {0x01, 0xAA, 0xBB, 0xCC};
    static const uint8_t code2_short[] = {0x02, 0xFF};

    CHECK_INT(codec_decode(d, code3_no_frames, sizeof(code3_no_frames), out, 2000), -1);
    CHECK_INT(codec_decode(d, code1_odd, sizeof(code1_odd), out, 2000), -1);
    CHECK_INT(codec_decode(d, code2_short, sizeof(code2_short), out, 2000), -1);
    /* a 60 ms packet: 960 samples, or what fits */
    tone(x, 960, 16000, 1000, 8000);
    opus_int32 n = opus_encode(e, x, 960, pkt, sizeof(pkt));
    CHECK(n > 0);
    CHECK_INT(codec_decode(d, pkt, (size_t)n, out, 2000), 960);
    out[100] = 12345;
    CHECK_INT(codec_decode(d, pkt, (size_t)n, out, 100), 100);
    CHECK_INT(out[100], 12345);
    opus_encoder_destroy(e);
    codec_decoder_free(d);
}

/* ---- L16 ---- */

static size_t l16_payloads(const int16_t *x, size_t frames, unsigned ch, uint8_t *out)
{
    for (size_t i = 0; i < frames * ch; i++) {
        out[2 * i] = (uint8_t)((uint16_t)x[i] >> 8);
        out[2 * i + 1] = (uint8_t)x[i];
    }
    return frames * ch * 2;
}

struct l16_case {
    unsigned rate, channels;
    double freq;
    unsigned out_rate;
    double min_snr;
};

static const struct l16_case l16_cases[] = {
    {8000, 1, 440, 8000, 60},    {16000, 1, 1000, 16000, 60}, {16000, 1, 5000, 16000, 60},
    {44100, 2, 1000, 16000, 50}, {44100, 2, 5000, 16000, 50}, {48000, 1, 1000, 16000, 50},
    {48000, 1, 5000, 16000, 50}, {11025, 1, 440, 8000, 50},   {12000, 1, 1000, 16000, 50},
    {32000, 2, 3000, 16000, 50}, {22050, 1, 6000, 16000, 40},
};

static void test_l16(void)
{
    static int16_t mono[48000], in[MAX_SIGNAL], ref[16000], out[16500];
    static uint8_t enc[MAX_SIGNAL * 2];

    for (size_t k = 0; k < ARRAY_LEN(l16_cases); k++) {
        const struct l16_case *c = &l16_cases[k];
        struct codec_decoder *d = codec_decoder_new(CODEC_L16, c->rate, c->channels);
        size_t per = c->rate / 50, frame = 2 * c->channels, total = 0;
        long lo = (long)c->out_rate / 50, hi = lo;

        CHECK(d != NULL);
        if (!d)
            continue;
        CHECK_INT(codec_decoder_output_rate(d), c->out_rate);
        tone(mono, c->rate, c->rate, c->freq, 10000);
        for (size_t i = 0; i < c->rate; i++)
            for (unsigned ch = 0; ch < c->channels; ch++)
                in[i * c->channels + ch] = mono[i];
        l16_payloads(in, c->rate, c->channels, enc);
        for (size_t i = 0; i < 50; i++) {
            long n = codec_decode(d, enc + i * per * frame, per * frame, out + total,
                                  ARRAY_LEN(out) - total);
            if (i > 0 && n < lo)
                lo = n;
            if (i > 0 && n > hi)
                hi = n;
            total += n > 0 ? (size_t)n : 0;
        }
        /* about one second, minus the resampler's look-ahead; one sample either way */
        CHECK(total <= c->out_rate && total + 60 >= c->out_rate);
        CHECK(hi - lo <= 2 && lo >= (long)c->out_rate / 50 - 1);
        /* the output is the tone sampled at the output rate, with no delay */
        tone(ref, c->out_rate, c->out_rate, c->freq, 10000);
        struct tone_check t = {c->freq, c->min_snr};
        check_tone("L16", ref, out, total, c->out_rate, &t, 0);
        codec_decoder_free(d);
    }
}

static void test_l16_misc(void)
{
    static int16_t x[9600], out[4000];
    static uint8_t enc[9600 * 2];
    struct codec_decoder *d;

    /* anti-aliasing: 12 kHz at 48 kHz would fold to 4 kHz at 16 kHz */
    d = codec_decoder_new(CODEC_L16, 48000, 1);
    tone(x, 9600, 48000, 12000, 10000);
    l16_payloads(x, 9600, 1, enc);
    long n = codec_decode(d, enc, 9600 * 2, out, 4000);
    CHECK(n > 3150 && n <= 3200);
    tone(x, 3000, 16000, 4000, 10000); /* what an aliased tone would carry */
    CHECK(energy(out + 100, 3000) < 1e-6 * energy(x, 3000)); /* 60 dB down */
    /* odd length, max, a tiny max keeps the stream in step */
    CHECK_INT(codec_decode(d, enc, 7, out, 4000), -1);
    CHECK_INT(codec_decode(d, enc, 1920, out, 5), 5);
    codec_decoder_free(d);

    /* stereo: a frame is 4 bytes; the sides are averaged */
    d = codec_decoder_new(CODEC_L16, 8000, 2);
    static const uint8_t st[8] = {0x10, 0x00, 0x00, 0x00, 0xF0, 0x00, 0xF0, 0x00};
    CHECK_INT(codec_decode(d, st, 8, out, 10), 2);
    CHECK_INT(out[0], 0x0800);
    CHECK_INT(out[1], -4096);
    CHECK_INT(codec_decode(d, st, 6, out, 10), -1);
    CHECK_INT(codec_decode(d, st, 8, out, 1), 1);
    out[0] = 5;
    CHECK_INT(codec_conceal(d, out, 100), 100);
    CHECK(energy(out, 100) == 0);
    codec_decoder_free(d);
}

/* ---- every codec: no payload, no audio, max, bad arguments ---- */

static void test_common(void)
{
    static const enum codec_id all[] = {CODEC_PCMU, CODEC_PCMA, CODEC_G722, CODEC_G729,
                                        CODEC_OPUS, CODEC_L16,  CODEC_CN,   CODEC_TELEPHONE_EVENT};
    uint8_t payload[320];
    int16_t out[16];

    memset(payload, 0x55, sizeof(payload));
    for (size_t i = 0; i < ARRAY_LEN(all); i++) {
        struct codec_decoder *d = codec_decoder_new(all[i], 0, 0);
        CHECK(d != NULL);
        CHECK_INT(codec_decode(d, payload, 0, out, 16), 0);
        CHECK_INT(codec_decode(d, NULL, 10, out, 16), -1);
        CHECK_INT(codec_decode(d, payload, 10, NULL, 16), -1);
        CHECK_INT(codec_conceal(d, out, 16), 16);
        CHECK_INT(codec_conceal(d, out, 0), 0);
        CHECK(codec_decode(d, payload, 20, NULL, 0) <= 0); /* decoded, nothing kept */
        CHECK_INT(codec_conceal(d, NULL, 0), 0);
        CHECK_INT(codec_conceal(d, NULL, 1), -1);
        codec_decoder_free(d);
    }
    CHECK_INT(codec_decode(NULL, payload, 10, out, 16), -1);
    CHECK_INT(codec_conceal(NULL, out, 16), -1);

    /* CN carries no duration, telephone-event is not audio: 0 samples */
    struct codec_decoder *cn = codec_decoder_new(CODEC_CN, 8000, 1);
    struct codec_decoder *te = codec_decoder_new(CODEC_TELEPHONE_EVENT, 8000, 1);
    static const uint8_t cn_payload[] = {0x40, 0x10, 0x20};
    static const uint8_t event[] = {0x05, 0x8a, 0x03, 0x20};
    CHECK_INT(codec_decode(cn, cn_payload, sizeof(cn_payload), out, 16), 0);
    CHECK_INT(codec_decode(te, event, sizeof(event), out, 16), 0);
    codec_decoder_free(cn);
    codec_decoder_free(te);

    /* max is respected: a tiny buffer with a canary behind it */
    static const struct {
        enum codec_id id;
        uint32_t clock;
        size_t len;
    } tiny[] = {{CODEC_PCMU, 8000, 160}, {CODEC_PCMA, 8000, 160}, {CODEC_G722, 8000, 160},
                {CODEC_G729, 8000, 20},  {CODEC_G729, 8000, 22},  {CODEC_L16, 16000, 320},
                {CODEC_L16, 44100, 320}, {CODEC_L16, 48000, 320}};
    for (size_t i = 0; i < ARRAY_LEN(tiny); i++) {
        struct codec_decoder *d = codec_decoder_new(tiny[i].id, tiny[i].clock, 1);
        for (int rep = 0; rep < 3; rep++) {
            out[7] = 0x7EEF;
            long n = codec_decode(d, payload, tiny[i].len, out, 7);
            CHECK(n == 7 || (n >= 0 && n < 7 && tiny[i].id == CODEC_L16));
            CHECK_INT(out[7], 0x7EEF);
        }
        CHECK_INT(codec_decode(d, payload, tiny[i].len, out, 0), 0);
        codec_decoder_free(d);
    }
}

int main(void)
{
    test_table();
    test_g711_table();
    test_g711(CODEC_PCMU, linear2ulaw);
    test_g711(CODEC_PCMA, linear2alaw);
    test_g722();
    test_g729();
    test_g729_sid();
    test_opus();
    test_opus_stereo();
    test_opus_fec();
    test_opus_invalid_and_max();
    test_l16();
    test_l16_misc();
    test_common();
    return TEST_REPORT("test_codec");
}

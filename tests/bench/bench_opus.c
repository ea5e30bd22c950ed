/*
 * bench_opus.c - how fast greffier's recording encoder runs and how big its output is:
 * "x real time per core" (seconds of two-party audio encoded per CPU second) and bytes
 * per call-minute, for two uncoupled mono Opus streams (RFC 7845 mapping family 1) at
 * 12 kbit/s in all, complexity 0, with 20 ms and 60 ms frames.
 *
 * It is one self-contained file (the Makefile builds tests/bench/<name>.c alone, without
 * libgreffier), so its encoding loop mirrors src/media/ogg_opus_writer.c: the same
 * encoder settings (OPUS_APPLICATION_VOIP, VBR, OPUS_SIGNAL_VOICE, wideband forced at
 * 16 kHz) and the same Ogg paging (a page flushed at least every second of audio).
 * Keep the two in step.
 *
 * Real call audio is not available, so the signal is speech-like: per channel, a voiced
 * source (harmonics of a wandering 100-220 Hz fundamental, falling 6 dB per octave) under
 * a syllable envelope (about 4 per second), talk spurts of 1-4 s taking turns between
 * the parties as in a conversation, and a background noise 45 dB below speech that never
 * stops (a live line is never digital silence).  A last row measures a hold: both
 * directions digital silence, where the writer emits a pre-encoded packet instead of
 * calling the encoder.
 *
 * Usage: bench_opus [SECONDS]   (audio per configuration, default 600)
 */
#include <math.h>
#include <ogg/ogg.h>
#include <opus/opus_multistream.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

enum { CHANNELS = 2, MAX_PACKET = 2 * 3 * 1275 + 16, SIGNAL_SECONDS = 60 };

static const unsigned char mapping[CHANNELS] = {0, 1};

/* splitmix64: deterministic noise, the same signal on every run. */
static uint64_t rng_state = 0x6772656666696572ull;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_uniform(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

/* SIGNAL_SECONDS of interleaved two-party speech-like audio at rate. */
static int16_t *make_signal(unsigned rate)
{
    size_t n = (size_t)rate * SIGNAL_SECONDS;
    int16_t *x = malloc(n * CHANNELS * sizeof(int16_t));
    if (!x)
        return NULL;
    double phase[CHANNELS] = {0, 0};
    size_t spurt_end = 0;
    int talker = 0;
    for (size_t i = 0; i < n; i++) {
        if (i >= spurt_end) { /* the next talk spurt, usually by the other party */
            spurt_end = i + (size_t)(rate * (1.0 + 3.0 * rng_uniform()));
            if (rng_uniform() < 0.8)
                talker ^= 1;
        }
        double t = (double)i / rate;
        for (int c = 0; c < CHANNELS; c++) {
            double v = 0;
            if (c == talker) {
                double f0 = (c ? 190 : 120) + 25 * sin(2 * M_PI * 0.7 * t + c) +
                            10 * sin(2 * M_PI * 3.1 * t);
                phase[c] += 2 * M_PI * f0 / rate;
                for (int k = 1; k * f0 < rate / 2.0 - 200 && k <= 30; k++)
                    v += sin(k * phase[c]) / k;
                double syll = sin(M_PI * fmod(t * (3.5 + c), 1.0)); /* syllables */
                v *= 6000 * syll * syll;
            }
            v += 30 * (rng_uniform() - 0.5) * 2; /* background, about -45 dB */
            if (v > 32767)
                v = 32767;
            if (v < -32768)
                v = -32768;
            x[i * CHANNELS + c] = (int16_t)lrint(v);
        }
    }
    return x;
}

struct result {
    double audio_s, cpu_s;
    uint64_t bytes, encoder_calls;
};

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_pages(ogg_stream_state *os, bool flush, uint64_t *bytes)
{
    ogg_page og;
    while (flush ? ogg_stream_flush(os, &og) : ogg_stream_pageout(os, &og))
        *bytes += (uint64_t)(og.header_len + og.body_len);
}

static OpusMSEncoder *encoder(unsigned rate, unsigned bitrate, unsigned complexity, int app)
{
    int e = OPUS_OK;
    OpusMSEncoder *enc =
        opus_multistream_encoder_create((opus_int32)rate, CHANNELS, 2, 0, mapping, app, &e);
    if (!enc || e != OPUS_OK)
        return NULL;
    opus_multistream_encoder_ctl(enc, OPUS_SET_BITRATE((opus_int32)bitrate));
    opus_multistream_encoder_ctl(enc, OPUS_SET_COMPLEXITY((opus_int32)complexity));
    opus_multistream_encoder_ctl(enc, OPUS_SET_VBR(1));
    opus_multistream_encoder_ctl(enc, OPUS_SET_VBR_CONSTRAINT(0));
    opus_multistream_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    if (rate == 16000)
        opus_multistream_encoder_ctl(enc, OPUS_SET_BANDWIDTH(OPUS_BANDWIDTH_WIDEBAND));
    return enc;
}

/* Encodes seconds of audio (the signal looped, or digital silence when x is NULL). */
static int run(unsigned rate, unsigned frame_ms, unsigned bitrate, unsigned complexity,
               const int16_t *x, double seconds, struct result *r)
{
    unsigned frame = rate / 1000 * frame_ms, page_frames = 1000 / frame_ms;
    size_t frames = (size_t)(seconds * 1000 / frame_ms),
           per_loop = SIGNAL_SECONDS * 1000 / frame_ms;
    unsigned char packet[MAX_PACKET], silence[MAX_PACKET];
    int16_t zeros[2880 * CHANNELS] = {0};
    ogg_stream_state os;
    ogg_packet op = {0};

    OpusMSEncoder *enc = encoder(rate, bitrate, complexity, OPUS_APPLICATION_VOIP);
    OpusMSEncoder *twin = encoder(rate, bitrate, complexity, OPUS_APPLICATION_RESTRICTED_LOWDELAY);
    if (!enc || !twin)
        return -1;
    int silence_len = opus_multistream_encode(twin, zeros, (int)frame, silence, MAX_PACKET);
    opus_multistream_encoder_destroy(twin);
    if (silence_len <= 0 || ogg_stream_init(&os, 1) != 0)
        return -1;

    memset(r, 0, sizeof(*r));
    double t0 = cpu_now();
    for (size_t f = 0; f < frames; f++) {
        int n;
        if (x) {
            const int16_t *pcm = x + (f % per_loop) * frame * CHANNELS;
            n = opus_multistream_encode(enc, pcm, (int)frame, packet, MAX_PACKET);
            r->encoder_calls++;
            if (n <= 0)
                return -1;
            op.packet = packet;
        } else {
            n = silence_len;
            op.packet = silence;
        }
        op.bytes = n;
        op.packetno = (ogg_int64_t)f + 2;
        op.granulepos = (ogg_int64_t)(f + 1) * frame * (48000 / rate);
        op.e_o_s = f + 1 == frames;
        ogg_stream_packetin(&os, &op);
        write_pages(&os, op.e_o_s || (f + 1) % page_frames == 0, &r->bytes);
    }
    r->cpu_s = cpu_now() - t0;
    r->audio_s = (double)frames * frame_ms / 1000;
    ogg_stream_clear(&os);
    opus_multistream_encoder_destroy(enc);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 600;
    if (argc > 1) {
        char *end;
        seconds = strtod(argv[1], &end);
        if (*end || seconds < 1 || seconds > 86400) {
            fprintf(stderr, "usage: bench_opus [SECONDS]   (1..86400, default 600)\n");
            return 2;
        }
    }
    static const struct {
        unsigned rate, frame_ms;
        bool silence;
    } cases[] = {
        {8000, 20, false},  {8000, 60, false}, {16000, 20, false},
        {16000, 60, false}, {8000, 60, true},  {16000, 60, true},
    };
    int16_t *sig8 = make_signal(8000), *sig16 = make_signal(16000);
    if (!sig8 || !sig16)
        return 1;
    printf("bench_opus: %s; two uncoupled mono streams, 12000 bit/s in all, complexity 0, "
           "VBR, %.0f s of audio per row\n",
           opus_get_version_string(), seconds);
    printf("%-7s %-6s %-14s %10s %10s %12s %14s %12s\n", "rate", "frame", "signal", "audio s",
           "cpu s", "x realtime", "bytes/call-min", "avg bit/s");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct result r;
        const int16_t *x = cases[i].silence ? NULL : cases[i].rate == 8000 ? sig8 : sig16;
        if (run(cases[i].rate, cases[i].frame_ms, 12000, 0, x, seconds, &r) != 0) {
            fprintf(stderr, "bench_opus: encoder failed\n");
            return 1;
        }
        char xrt[32];
        if (r.encoder_calls)
            snprintf(xrt, sizeof(xrt), "%.0f", r.audio_s / r.cpu_s);
        else
            snprintf(xrt, sizeof(xrt), "(no encoder)");
        printf("%-7u %-6u %-14s %10.0f %10.3f %12s %14.0f %12.0f\n", cases[i].rate,
               cases[i].frame_ms, cases[i].silence ? "hold (silence)" : "speech-like", r.audio_s,
               r.cpu_s, xrt, r.bytes * 60.0 / r.audio_s, r.bytes * 8.0 / r.audio_s);
    }
    free(sig8);
    free(sig16);
    return 0;
}

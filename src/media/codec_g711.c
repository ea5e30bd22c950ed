/*
 * codec_g711.c - PCMU and PCMA (ITU-T G.711, RTP payload RFC 3551 §4.5.14): one byte per
 * sample at 8000 Hz, decoded by table lookup.
 *
 * The two 256-entry tables are built at compile time by the expansion algorithm of ITU-T
 * G.711 (11/1988), tables 1a (A-law) and 2a (µ-law), written as in the well-known public
 * domain Sun Microsystems g711.c:
 *   µ-law: complement the byte; magnitude = ((mantissa << 3) + 132) << segment, minus the
 *          bias 132; the sign bit set means negative.
 *   A-law: invert the even bits (xor 0x55); segment 0 is linear: (mantissa << 4) + 8,
 *          segment s > 0 is ((mantissa << 4) + 0x108) << (s - 1); sign bit set = positive.
 * The results are 14-bit (µ-law) and 13-bit (A-law) G.711 values scaled to 16 bits
 * (full scale +-32124 and +-32256).  Decoding is one lookup per byte: this runs for
 * every packet of every call.  Silence is the concealment (a recording shows a gap).
 */
#include "codec_internal.h"

#define ULAW_MAG(u) (((((u)&0x0F) << 3) + 0x84) << (((u)&0x70) >> 4))
#define ULAW_OF(u) ((u)&0x80 ? 0x84 - ULAW_MAG(u) : ULAW_MAG(u) - 0x84)
#define ULAW(b) ((int16_t)ULAW_OF(~(b)&0xFF))

#define ALAW_SEG(a) (((a)&0x70) >> 4)
#define ALAW_MAG(a)                                                                                \
    (ALAW_SEG(a) == 0 ? (((a)&0x0F) << 4) + 8                                                      \
                      : ((((a)&0x0F) << 4) + 0x108) << (ALAW_SEG(a) ? ALAW_SEG(a) - 1 : 0))
#define ALAW_OF(a) ((a)&0x80 ? ALAW_MAG(a) : -ALAW_MAG(a))
#define ALAW(b) ((int16_t)ALAW_OF(((b) ^ 0x55) & 0xFF))

#define T4(f, b) f(b), f((b) + 1), f((b) + 2), f((b) + 3)
#define T16(f, b) T4(f, b), T4(f, (b) + 4), T4(f, (b) + 8), T4(f, (b) + 12)
#define T64(f, b) T16(f, b), T16(f, (b) + 16), T16(f, (b) + 32), T16(f, (b) + 48)
#define T256(f) T64(f, 0), T64(f, 64), T64(f, 128), T64(f, 192)

static const int16_t ulaw_table[256] = {T256(ULAW)};
static const int16_t alaw_table[256] = {T256(ALAW)};

enum { G711_MAX_CHANNELS = 8 };

static int g711_init(struct codec_decoder *d)
{
    return d->channels <= G711_MAX_CHANNELS ? 0 : -1;
}

/* RFC 3551 §4.1: several channels are interleaved sample by sample; they are averaged. */
static long g711_decode(const int16_t *table, const struct codec_decoder *d, struct span p,
                        int16_t *pcm, size_t max)
{
    unsigned ch = d->channels;
    size_t n;

    if (p.len % ch)
        return -1;
    n = p.len / ch;
    if (n > max)
        n = max;
    if (ch == 1) {
        for (size_t i = 0; i < n; i++)
            pcm[i] = table[p.p[i]];
        return (long)n;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t sum = 0;
        for (unsigned c = 0; c < ch; c++)
            sum += table[p.p[i * ch + c]];
        pcm[i] = (int16_t)(sum / (int32_t)ch);
    }
    return (long)n;
}

static long pcmu_decode(struct codec_decoder *d, struct span p, int16_t *pcm, size_t max)
{
    return g711_decode(ulaw_table, d, p, pcm, max);
}

static long pcma_decode(struct codec_decoder *d, struct span p, int16_t *pcm, size_t max)
{
    return g711_decode(alaw_table, d, p, pcm, max);
}

const struct codec_ops codec_pcmu_ops = {.init = g711_init, .decode = pcmu_decode};
const struct codec_ops codec_pcma_ops = {.init = g711_init, .decode = pcma_decode};

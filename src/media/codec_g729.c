/*
 * codec_g729.c - G.729, Annex A and Annex B (ITU-T G.729; RTP payload RFC 3551 §4.5.6)
 * decoded by bcg729.
 *
 * A payload is any number of 10-byte frames (10 ms, 80 samples at 8000 Hz each),
 * optionally followed by one 2-byte SID frame (Annex B comfort noise, sent when the
 * talker falls silent; RFC 3551 §4.5.6 puts it last).  Any other length is invalid.
 * A SID frame decodes to one frame of comfort noise.  Concealment is bcg729's own
 * frame-erasure handling (G.729 §4.4), which goes on generating comfort noise after a
 * SID frame (the sender is in DTX, nothing was really lost) and fades speech otherwise.
 */
#include <stdint.h>

#include <bcg729/decoder.h>

#include "codec_internal.h"

enum { G729_FRAME_BYTES = 10, G729_SID_BYTES = 2, G729_FRAME_SAMPLES = 80 };

static int g729_init(struct codec_decoder *d)
{
    d->state = initBcg729DecoderChannel();
    return d->state ? 0 : -1;
}

static void g729_fini(struct codec_decoder *d)
{
    closeBcg729DecoderChannel(d->state);
}

/* Decodes one frame (voice, SID or erased) and keeps what fits below max: frames that do
 * not fit are decoded all the same, into scratch, to keep the decoder in step. */
static size_t g729_frame(struct codec_decoder *d, const uint8_t *bits, uint8_t len, int erased,
                         int sid, int16_t *pcm, size_t n, size_t max)
{
    int16_t scratch[G729_FRAME_SAMPLES];
    size_t keep = max - n < G729_FRAME_SAMPLES ? max - n : G729_FRAME_SAMPLES;
    int16_t *out = keep == G729_FRAME_SAMPLES ? pcm + n : scratch;

    bcg729Decoder(d->state, bits, len, (uint8_t)erased, (uint8_t)sid, 0, out);
    if (out == scratch)
        memcpy(pcm + n, scratch, keep * sizeof(*pcm));
    return n + keep;
}

static long g729_decode(struct codec_decoder *d, struct span p, int16_t *pcm, size_t max)
{
    size_t frames = p.len / G729_FRAME_BYTES, rest = p.len % G729_FRAME_BYTES, n = 0;

    if (rest != 0 && rest != G729_SID_BYTES)
        return -1;
    for (size_t i = 0; i < frames; i++)
        n = g729_frame(d, p.p + i * G729_FRAME_BYTES, G729_FRAME_BYTES, 0, 0, pcm, n, max);
    if (rest == G729_SID_BYTES)
        n = g729_frame(d, p.p + frames * G729_FRAME_BYTES, G729_SID_BYTES, 0, 1, pcm, n, max);
    return (long)n;
}

static long g729_conceal(struct codec_decoder *d, int16_t *pcm, size_t samples)
{
    static const uint8_t erased[G729_FRAME_BYTES]; /* content ignored when erased */
    size_t plc = samples < codec_plc_limit(d) ? samples : codec_plc_limit(d), n = 0;

    while (n < plc)
        n = g729_frame(d, erased, G729_FRAME_BYTES, 1, 0, pcm, n, plc);
    codec_silence(pcm + n, samples - n);
    return (long)samples;
}

const struct codec_ops codec_g729_ops = {
    .init = g729_init,
    .fini = g729_fini,
    .decode = g729_decode,
    .conceal = g729_conceal,
};

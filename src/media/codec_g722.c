/*
 * codec_g722.c - G.722 (ITU-T G.722, 64 kbit/s sub-band ADPCM; RTP payload RFC 3551
 * §4.5.2) decoded by spandsp: one byte carries two samples at 16000 Hz.  The RTP clock
 * is 8000 all the same (RFC 3551's historical error, kept for compatibility), so a 20 ms
 * packet is 160 bytes, 160 RTP ticks and 320 output samples.
 *
 * spandsp has no packet loss concealment for G.722: a lost packet is silence, and the
 * ADPCM state simply carries on with the next packet (it re-converges within a few ms).
 */
#include <stdint.h>
#include <stdlib.h>

#include <spandsp/telephony.h> /* needs <stdint.h> first */
#include <spandsp/g722.h>

#include "codec_internal.h"

enum { G722_BITRATE = 64000, G722_CHUNK = 160 };

static int g722_init(struct codec_decoder *d)
{
    d->state = g722_decode_init(NULL, G722_BITRATE, 0);
    return d->state ? 0 : -1;
}

static void g722_fini(struct codec_decoder *d)
{
    g722_decode_free(d->state);
}

/* Bytes whose samples fit go straight into pcm; the rest still goes through the decoder
 * (through a small scratch buffer) so that its state stays in step. */
static long g722_decode_payload(struct codec_decoder *d, struct span p, int16_t *pcm, size_t max)
{
    g722_decode_state_t *st = d->state;
    size_t direct = p.len < max / 2 ? p.len : max / 2;
    size_t off = direct, n = 0;

    if (direct)
        n = (size_t)g722_decode(st, pcm, p.p, (int)direct);
    while (off < p.len) {
        int16_t scratch[2 * G722_CHUNK];
        size_t chunk = p.len - off < G722_CHUNK ? p.len - off : G722_CHUNK;
        size_t got = (size_t)g722_decode(st, scratch, p.p + off, (int)chunk);
        size_t keep = got < max - n ? got : max - n;

        memcpy(pcm + n, scratch, keep * sizeof(*pcm));
        n += keep;
        off += chunk;
    }
    return (long)n;
}

const struct codec_ops codec_g722_ops = {
    .init = g722_init,
    .fini = g722_fini,
    .decode = g722_decode_payload,
};

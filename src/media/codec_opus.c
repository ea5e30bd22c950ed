/*
 * codec_opus.c - Opus (RFC 6716; RTP payload RFC 7587) decoded by libopus at 16000 Hz
 * mono, whatever the encoder's bandwidth: libopus resamples internally, and 16 kHz keeps
 * everything the recording encoder will keep.
 *
 * Stereo: the rtpmap always says opus/48000/2 (RFC 7587 §7), whether the sender codes
 * mono or stereo, and the packet's TOC byte says which per packet.  The decoder is
 * created mono: libopus then downmixes a stereo packet itself (RFC 7587 §3.4 allows
 * a mono receiver for a stereo sender), which costs less than a stereo decode followed by
 * our own downmix - CELT sums the two channels' spectra, SILK keeps its mid channel.
 *
 * Loss: opus_decode(NULL) is the codec's PLC; with the next packet at hand,
 * codec_conceal_fec rebuilds the end of the gap from that packet's in-band FEC (LBRR).
 */
#include <stdlib.h>

#include <opus.h>

#include "codec_internal.h"

enum {
    OPUS_RATE = 16000,
    OPUS_MAX_SAMPLES = OPUS_RATE * 120 / 1000, /* the longest packet: 120 ms */
    OPUS_STEP = OPUS_RATE / 400,               /* PLC/FEC lengths are multiples of 2.5 ms */
};

struct opus_state {
    OpusDecoder *dec;
    int16_t scratch[OPUS_MAX_SAMPLES]; /* a packet longer than the caller's max */
};

static int opus_init(struct codec_decoder *d)
{
    struct opus_state *st = malloc(sizeof(*st));
    int err;

    if (!st)
        return -1;
    st->dec = opus_decoder_create(OPUS_RATE, 1, &err);
    if (!st->dec || err != OPUS_OK) {
        free(st);
        return -1;
    }
    d->state = st;
    return 0;
}

static void opus_fini(struct codec_decoder *d)
{
    struct opus_state *st = d->state;

    opus_decoder_destroy(st->dec);
    free(st);
}

static long opus_decode_payload(struct codec_decoder *d, struct span p, int16_t *pcm, size_t max)
{
    struct opus_state *st = d->state;
    int n, got;

    if (p.len > OPUS_MAX_SAMPLES * 100) /* far beyond any valid packet (1275 bytes/frame) */
        return -1;
    n = opus_packet_get_nb_samples(p.p, (opus_int32)p.len, OPUS_RATE);
    if (n <= 0 || n > OPUS_MAX_SAMPLES)
        return -1;
    if ((size_t)n <= max)
        return (got = opus_decode(st->dec, p.p, (opus_int32)p.len, pcm, n, 0)) < 0 ? -1 : got;
    got = opus_decode(st->dec, p.p, (opus_int32)p.len, st->scratch, n, 0);
    if (got < 0)
        return -1;
    if ((size_t)got > max)
        got = (int)max;
    memcpy(pcm, st->scratch, (size_t)got * sizeof(*pcm));
    return got;
}

/* PLC for up to the PLC limit (in whole 2.5 ms steps, a last partial step through
 * scratch), silence after. */
static long opus_conceal(struct codec_decoder *d, int16_t *pcm, size_t samples)
{
    struct opus_state *st = d->state;
    size_t plc = samples < codec_plc_limit(d) ? samples : codec_plc_limit(d);
    size_t whole = plc - plc % OPUS_STEP;

    if (whole && opus_decode(st->dec, NULL, 0, pcm, (int)whole, 0) < 0)
        return codec_silence(pcm, samples);
    if (whole < plc) {
        if (opus_decode(st->dec, NULL, 0, st->scratch, OPUS_STEP, 0) < 0)
            memset(st->scratch, 0, OPUS_STEP * sizeof(*pcm));
        memcpy(pcm + whole, st->scratch, (plc - whole) * sizeof(*pcm));
    }
    codec_silence(pcm + plc, samples - plc);
    return (long)samples;
}

/* The FEC data in `next` describes the one frame duration just before it: that much of
 * the end of the gap is rebuilt (libopus falls back to PLC when `next` has no LBRR),
 * the start of the gap is concealed as usual. */
static long opus_conceal_fec(struct codec_decoder *d, struct span next, int16_t *pcm,
                             size_t samples)
{
    struct opus_state *st = d->state;
    int n = 0;
    size_t fec;

    if (next.len <= OPUS_MAX_SAMPLES * 100)
        n = opus_packet_get_nb_samples(next.p, (opus_int32)next.len, OPUS_RATE);
    if (n <= 0 || (size_t)n > samples || n % OPUS_STEP)
        return opus_conceal(d, pcm, samples);
    fec = (size_t)n;
    opus_conceal(d, pcm, samples - fec);
    if (opus_decode(st->dec, next.p, (opus_int32)next.len, pcm + samples - fec, n, 1) < 0)
        codec_silence(pcm + samples - fec, fec);
    return (long)samples;
}

const struct codec_ops codec_opus_ops = {
    .init = opus_init,
    .fini = opus_fini,
    .decode = opus_decode_payload,
    .conceal = opus_conceal,
    .conceal_fec = opus_conceal_fec,
};

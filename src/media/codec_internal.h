/*
 * codec_internal.h - what codec.c shares with the per-codec decoders (codec_*.c).
 *
 * codec.c owns the table (name, static payload type, rates, ops) and the generic
 * struct codec_decoder; each codec_<name>.c supplies one const struct codec_ops and
 * keeps its own state behind d->state.  Nothing here is part of the public API.
 */
#ifndef GREFFIER_CODEC_INTERNAL_H
#define GREFFIER_CODEC_INTERNAL_H

#include <string.h>

#include "greffier/codec.h"
#include "greffier/span.h"

/* Codec-specific concealment (Opus PLC, G.729 erasure) is run for at most this many
 * output samples of one gap; the rest is silence.  Both libraries fade to silence well
 * before that anyway, so a ten-second gap costs nothing, and a recording does not
 * invent speech across a real gap. */
enum { CODEC_PLC_MAX_MS = 120 };

struct codec_decoder {
    enum codec_id id;
    const struct codec_ops *ops;
    uint32_t rtp_clock;   /* from the rtpmap, or the codec's default */
    unsigned channels;    /* from the rtpmap, or 1 */
    unsigned output_rate; /* 8000 or 16000 */
    void *state;          /* owned by the codec's ops (init allocates, fini frees) */
};

/* One codec's behaviour.  decode gets the whole payload and must run all of it through
 * a stateful decoder (so that the next packet decodes right) even when only max samples
 * are kept.  NULL conceal means silence; NULL conceal_fec means conceal. */
struct codec_ops {
    int (*init)(struct codec_decoder *d); /* 0, or -1 (unsupported parameters, no memory) */
    void (*fini)(struct codec_decoder *d);
    long (*decode)(struct codec_decoder *d, struct span payload, int16_t *pcm, size_t max);
    long (*conceal)(struct codec_decoder *d, int16_t *pcm, size_t samples);
    long (*conceal_fec)(struct codec_decoder *d, struct span next, int16_t *pcm, size_t samples);
};

extern const struct codec_ops codec_pcmu_ops, codec_pcma_ops, codec_g722_ops, codec_g729_ops,
    codec_opus_ops, codec_l16_ops;

static inline long codec_silence(int16_t *pcm, size_t samples)
{
    memset(pcm, 0, samples * sizeof(*pcm));
    return (long)samples;
}

/* Output samples that codec-specific concealment may fill before silence takes over. */
static inline size_t codec_plc_limit(const struct codec_decoder *d)
{
    return (size_t)d->output_rate * CODEC_PLC_MAX_MS / 1000;
}

#endif

/*
 * codec.c - the codec table and the decoder object: SDP encoding name or static payload
 * type -> codec, and one decoder per RTP stream dispatching through the codec's ops.
 *
 * Encoding names are matched case-insensitively (RFC 4566 §6, rtpmap; RFC 4855 §3 says
 * media subtype names are case-insensitive); a name given in an rtpmap always wins over
 * the static meaning of the payload type (RFC 3551 §6, table 4: 0 PCMU, 8 PCMA, 9 G722,
 * 13 CN, 18 G729).  Output is always mono 16-bit PCM at 8000 or 16000 Hz, so the media
 * timeline handles two rates, not one per codec.
 */
#include <stdlib.h>
#include <strings.h>

#include "codec_internal.h"

/* CN (RFC 3389) carries only a noise level and spectrum, and no duration: the timeline
 * fills the gap up to the next audio packet with silence.  telephone-event (RFC 4733) is
 * read by the DTMF path from the same packets.  Neither yields samples here. */
static long decode_nothing(struct codec_decoder *d, struct span payload, int16_t *pcm, size_t max)
{
    (void)d, (void)payload, (void)pcm, (void)max;
    return 0;
}

static const struct codec_ops no_audio_ops = {.decode = decode_nothing};

struct codec_desc {
    const char *name;       /* canonical encoding name, as codec_name() returns it */
    int static_pt;          /* RFC 3551 static payload type, or -1 */
    uint32_t default_clock; /* RTP clock when the rtpmap gives none */
    unsigned output_rate;   /* 0: follows the RTP clock (8000 up to 11025 Hz, else 16000) */
    const struct codec_ops *ops;
};

static const struct codec_desc codecs[] = {
    [CODEC_NONE] = {"none", -1, 0, 0, NULL},
    [CODEC_PCMU] = {"PCMU", 0, 8000, 8000, &codec_pcmu_ops},
    [CODEC_PCMA] = {"PCMA", 8, 8000, 8000, &codec_pcma_ops},
    /* RFC 3551 §4.5.2: G.722 samples at 16 kHz but its RTP clock is 8000. */
    [CODEC_G722] = {"G722", 9, 8000, 16000, &codec_g722_ops},
    [CODEC_G729] = {"G729", 18, 8000, 8000, &codec_g729_ops},
    /* RFC 7587 §4.1: the RTP clock is 48000 whatever Opus codes internally. */
    [CODEC_OPUS] = {"opus", -1, 48000, 16000, &codec_opus_ops},
    /* RFC 3551 gives L16 44100 Hz for its static types 10 and 11; dynamic ones carry
     * their rate in the rtpmap. */
    [CODEC_L16] = {"L16", -1, 44100, 0, &codec_l16_ops},
    [CODEC_CN] = {"CN", 13, 8000, 0, &no_audio_ops},
    [CODEC_TELEPHONE_EVENT] = {"telephone-event", -1, 8000, 0, &no_audio_ops},
};

/* Encoding names as seen in rtpmap lines.  G729A (Annex A) is bitstream-compatible with
 * G.729 and some devices announce it so; Annex B is an fmtp (annexb=yes), not a name,
 * but its SID frames are handled by the G.729 decoder either way. */
static const struct {
    const char *name;
    enum codec_id id;
} encoding_names[] = {
    {"PCMU", CODEC_PCMU},  {"PCMA", CODEC_PCMA},
    {"G722", CODEC_G722},  {"G729", CODEC_G729},
    {"G729A", CODEC_G729}, {"G729B", CODEC_G729},
    {"opus", CODEC_OPUS},  {"L16", CODEC_L16},
    {"CN", CODEC_CN},      {"telephone-event", CODEC_TELEPHONE_EVENT},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct codec_desc *desc_of(enum codec_id id)
{
    if ((unsigned)id >= ARRAY_LEN(codecs) || id == CODEC_NONE)
        return NULL;
    return &codecs[id];
}

static unsigned rate_for_clock(const struct codec_desc *c, uint32_t clock)
{
    if (c->output_rate)
        return c->output_rate;
    return clock <= 11025 ? 8000 : 16000;
}

enum codec_id codec_identify(const char *encoding, uint8_t payload_type)
{
    if (encoding && encoding[0]) {
        for (size_t i = 0; i < ARRAY_LEN(encoding_names); i++)
            if (strcasecmp(encoding, encoding_names[i].name) == 0)
                return encoding_names[i].id;
        return CODEC_NONE;
    }
    for (size_t i = 0; i < ARRAY_LEN(codecs); i++)
        if (codecs[i].static_pt >= 0 && codecs[i].static_pt == payload_type)
            return (enum codec_id)i;
    return CODEC_NONE;
}

const char *codec_name(enum codec_id id)
{
    const struct codec_desc *c = desc_of(id);
    return c ? c->name : "none";
}

unsigned codec_output_rate(enum codec_id id)
{
    const struct codec_desc *c = desc_of(id);
    return c ? rate_for_clock(c, c->default_clock) : 0;
}

struct codec_decoder *codec_decoder_new(enum codec_id id, uint32_t rtp_clock, unsigned channels)
{
    const struct codec_desc *c = desc_of(id);
    struct codec_decoder *d;

    if (!c)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->id = id;
    d->ops = c->ops;
    d->rtp_clock = rtp_clock ? rtp_clock : c->default_clock;
    d->channels = channels ? channels : 1;
    d->output_rate = rate_for_clock(c, d->rtp_clock);
    if (d->ops->init && d->ops->init(d) < 0) {
        free(d);
        return NULL;
    }
    return d;
}

void codec_decoder_free(struct codec_decoder *d)
{
    if (!d)
        return;
    if (d->ops->fini)
        d->ops->fini(d);
    free(d);
}

long codec_decode(struct codec_decoder *d, const uint8_t *payload, size_t len, int16_t *pcm,
                  size_t max)
{
    int16_t none;

    if (!d || (!payload && len) || (!pcm && max))
        return -1;
    if (!pcm)
        pcm = &none; /* max is 0: decoders may still form pcm + 0 */
    if (len == 0)
        return 0; /* nothing sent, nothing decoded: the timeline sees the gap */
    return d->ops->decode(d, span_make(payload, len), pcm, max);
}

long codec_conceal(struct codec_decoder *d, int16_t *pcm, size_t samples)
{
    int16_t none;

    if (!d || (!pcm && samples))
        return -1;
    if (!pcm)
        pcm = &none;
    if (!d->ops->conceal)
        return codec_silence(pcm, samples);
    return d->ops->conceal(d, pcm, samples);
}

long codec_conceal_fec(struct codec_decoder *d, const uint8_t *next, size_t len, int16_t *pcm,
                       size_t samples)
{
    int16_t none;

    if (!d || (!next && len) || (!pcm && samples))
        return -1;
    if (!pcm)
        pcm = &none;
    if (!d->ops->conceal_fec || len == 0)
        return codec_conceal(d, pcm, samples);
    return d->ops->conceal_fec(d, span_make(next, len), pcm, samples);
}

unsigned codec_decoder_output_rate(const struct codec_decoder *d)
{
    return d ? d->output_rate : 0;
}

unsigned codec_rtp_ticks_per_1000_samples(const struct codec_decoder *d)
{
    if (!d || !d->output_rate)
        return 0;
    return (unsigned)(((uint64_t)d->rtp_clock * 1000 + d->output_rate / 2) / d->output_rate);
}

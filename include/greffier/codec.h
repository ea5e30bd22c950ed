/*
 * codec.h - RTP payload decoders: one payload in, 16-bit PCM out.
 *
 * A table maps an SDP encoding name (rtpmap, case-insensitive) or a static payload type
 * to a decoder: PCMU, PCMA (ITU-T G.711), G722 (spandsp), G729/G729A/B (bcg729), opus
 * (libopus), L16, and CN (RFC 3389, decoded as silence).  Narrowband codecs produce
 * 8 kHz, wideband ones (G.722, Opus) 16 kHz, whatever their RTP clock says (G.722's RTP
 * clock is 8000 by RFC 3551's historical error; Opus's is 48000).  L16 is resampled to the
 * nearest of 8 or 16 kHz and downmixed to mono.
 */
#ifndef GREFFIER_CODEC_H
#define GREFFIER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum codec_id {
    CODEC_NONE = 0,
    CODEC_PCMU,
    CODEC_PCMA,
    CODEC_G722,
    CODEC_G729,
    CODEC_OPUS,
    CODEC_L16,
    CODEC_CN,
    CODEC_TELEPHONE_EVENT, /* RFC 4733: not audio, handled by the DTMF path */
};

/* Identifies a codec from an SDP rtpmap encoding name (NULL or "" for none) and the
 * payload type (used for static types 0, 8, 9, 13, 18 when there is no rtpmap). */
enum codec_id codec_identify(const char *encoding, uint8_t payload_type);
const char *codec_name(enum codec_id id); /* "PCMU", "G722", ... */
/* Output rate of the decoder: 8000 or 16000.  For L16, CN and telephone-event it depends
 * on the RTP clock (8000 up to 11025 Hz, 16000 above): this gives the rate for the
 * codec's default clock, codec_decoder_output_rate() the one of an actual decoder.
 * 0 for CODEC_NONE. */
unsigned codec_output_rate(enum codec_id id);

struct codec_decoder;

/* rtp_clock and channels come from the rtpmap (0 = the codec's default). */
struct codec_decoder *codec_decoder_new(enum codec_id id, uint32_t rtp_clock, unsigned channels);
void codec_decoder_free(struct codec_decoder *d);

/* The decoder's output rate (8000 or 16000), which for L16 follows its RTP clock. */
unsigned codec_decoder_output_rate(const struct codec_decoder *d);

/* Decodes one RTP payload.  Writes at most max samples (mono, at codec_output_rate) and
 * returns how many, or -1 when the payload is invalid for the codec (counted by caller).
 * A payload that decodes to more than max samples still goes whole through the decoder
 * (its state stays in step with the stream); the samples beyond max are dropped.  An
 * empty payload, CN and telephone-event decode to 0 samples. */
long codec_decode(struct codec_decoder *d, const uint8_t *payload, size_t len, int16_t *pcm,
                  size_t max);

/* Conceals `samples` lost samples (packet loss concealment where the codec has it,
 * silence otherwise).  Returns the number written. */
long codec_conceal(struct codec_decoder *d, int16_t *pcm, size_t samples);

/* Like codec_conceal, for a gap that ends just before the payload `next` (the first packet
 * received after the loss): an Opus decoder rebuilds the end of the gap from the in-band
 * FEC data (RFC 6716 §2.1.7, LBRR) that `next` may carry, and conceals the rest; other
 * codecs conceal as codec_conceal.  `next` is then decoded normally with codec_decode. */
long codec_conceal_fec(struct codec_decoder *d, const uint8_t *next, size_t len, int16_t *pcm,
                       size_t samples);

/* RTP timestamp units per output sample times 1000 (e.g. Opus: 48000/16000 -> 3000;
 * G.722: 8000/16000 -> 500; PCMU: 1000). */
unsigned codec_rtp_ticks_per_1000_samples(const struct codec_decoder *d);

#endif

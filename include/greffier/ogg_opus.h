/*
 * ogg_opus.h - the recording encoder: two PCM channels in, an Ogg Opus stream out.
 *
 * RFC 7845 with channel mapping family 1, two streams, none coupled: the caller on
 * channel 0 and the callee on channel 1 are coded independently, so that neither
 * party's voice leaks into the other's channel (a coupled stereo stream does at low
 * rates: unacceptable for evidence).  Bytes leave through a byte_sink, incrementally
 * (a page at a time): the vault wraps the sink with encryption, and a four-hour call
 * never grows memory.  Digital silence (hold, a direction that sends nothing) is not
 * given to the encoder: a pre-encoded silent frame is emitted instead.
 */
#ifndef GREFFIER_OGG_OPUS_H
#define GREFFIER_OGG_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the encoded bytes go.  write returns 0, or -1 on failure (the writer stops). */
struct byte_sink {
    int (*write)(void *user, const uint8_t *data, size_t len);
    void *user;
};

struct ogg_opus_settings {
    unsigned sample_rate;  /* 8000 or 16000 (input PCM rate; the Ogg header says so) */
    unsigned bitrate;      /* bits/s for both channels together, e.g. 12000 */
    unsigned frame_ms;     /* 20, 40 or 60 */
    unsigned complexity;   /* 0..10 */
    uint32_t serial;       /* Ogg stream serial number (deterministic: from the call id) */
    const char *comments[8]; /* "KEY=value" user comments, NULL-terminated or full */
};

struct waveform_peaks {
    unsigned per_second; /* 20 */
    size_t count;        /* buckets so far */
    int8_t *min_max;     /* count * 4: ch0 min, ch0 max, ch1 min, ch1 max (scaled to int8) */
};

struct ogg_opus_writer;

struct ogg_opus_writer *ogg_opus_writer_new(const struct ogg_opus_settings *s,
                                            const struct byte_sink *sink, char *err,
                                            size_t errsize);
/* Appends frames samples per channel; left or right NULL means digital silence.
 * Returns 0, or -1 when encoding or the sink failed. */
int ogg_opus_writer_push(struct ogg_opus_writer *w, const int16_t *left, const int16_t *right,
                         size_t frames);
/* Lowers or raises complexity mid-stream (under backlog). */
void ogg_opus_writer_set_complexity(struct ogg_opus_writer *w, unsigned complexity);
/* Flushes the last (padded) frame and the end-of-stream page.  Returns 0 or -1. */
int ogg_opus_writer_finish(struct ogg_opus_writer *w);
/* Samples per channel written so far (the recording's duration at sample_rate). */
uint64_t ogg_opus_writer_samples(const struct ogg_opus_writer *w);
const struct waveform_peaks *ogg_opus_writer_peaks(const struct ogg_opus_writer *w);
uint64_t ogg_opus_writer_encoder_calls(const struct ogg_opus_writer *w);
/* Why the last push or finish failed (a static string, "no error" when none did). */
const char *ogg_opus_writer_error(const struct ogg_opus_writer *w);
/* The OpusHead pre-skip: the encoder's lookahead in 48 kHz samples (RFC 7845 §4.2). */
unsigned ogg_opus_writer_pre_skip(const struct ogg_opus_writer *w);
void ogg_opus_writer_free(struct ogg_opus_writer *w);

/* Reading back (greffier audio, tests, export): decodes an Ogg Opus stream written by
 * this writer (any RFC 7845 family 0/1 stream with 1 or 2 channels) from a byte source
 * into interleaved stereo PCM, at the header's input rate.  emit is called per decoded
 * chunk; returns 0, or -1 with err set. */
/* (Details: *sample_rate is set before the first emit; a rate Opus cannot run at is
 * decoded at 48000.  On -1, what was emitted is the valid start of the recording; a
 * stream without its end-of-stream page is -1, "truncated stream".  An emit returning
 * nonzero stops the decode with -1.) */
struct byte_source {
    /* Reads up to len bytes; returns bytes read, 0 at end, -1 on error. */
    long (*read)(void *user, uint8_t *buf, size_t len);
    void *user;
};
int ogg_opus_decode(const struct byte_source *src, unsigned *sample_rate,
                    int (*emit)(void *user, const int16_t *stereo, size_t frames), void *user,
                    char *err, size_t errsize);

#endif

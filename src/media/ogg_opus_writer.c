/*
 * ogg_opus_writer.c - the recording encoder: caller and callee PCM in, Ogg Opus out.
 *
 * References: RFC 7845 (Ogg encapsulation for Opus: OpusHead §5.1, channel mapping
 * family 1 §5.1.1.2, OpusTags §5.2, granule positions and pre-skip §4.2-4.5), RFC 6716
 * (Opus), RFC 3533 (Ogg).
 *
 * The two channels are coded as two uncoupled mono streams (family 1, 2 streams, 0
 * coupled, mapping [0, 1]) so that neither party leaks into the other's channel.
 *
 * Choices, and why:
 * - Unconstrained VBR: a recording is a file, not a constant-rate channel, so there is
 *   no reason to spend bits on pauses; the average stays near the target bitrate and
 *   quiet stretches of a live direction cost less.  (At these rates Opus always picks
 *   SILK, whose rate control ignores the constraint: measured, the same bytes.)
 * - At 16 kHz input the bandwidth is forced to wideband: at 6 kbit/s per stream Opus's
 *   automatic choice would drop to narrowband, and then recording at 16 kHz would have
 *   been pointless (G.722 and wideband Opus calls would lose everything above 4 kHz).
 * - Digital silence (a whole frame where both channels were pushed as NULL) is not given
 *   to the encoder: a packet that decodes to silence, encoded once at start-up by a
 *   twin encoder, is emitted again (see build_silence).  The first silent frame after
 *   live audio is still encoded (as zeros), because the encoder's lookahead holds the
 *   last few milliseconds of the speech that precedes it.
 * - Bytes leave a page at a time, and a page is forced out at least every second of
 *   audio (ogg_stream_flush), so a crash loses at most the page in progress and the vault
 *   can seal chunks as they fill.  Memory does not grow with the call, except for the
 *   waveform peaks: 4 bytes per 1/20 s, 80 bytes per second, 1.2 MB for a four-hour call
 *   (the array doubles as it grows, so up to twice that is allocated).
 * - Granule positions count 48 kHz samples (RFC 7845 §4); the last page's granule is
 *   pre-skip + exactly the samples pushed, so decoders trim the padding of the last
 *   frame and the recording lasts exactly as long as the audio given to it.
 */
#include <limits.h>
#include <opus/opus_multistream.h>
#include <ogg/ogg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/ogg_opus.h"

enum {
    CHANNELS = 2,
    STREAMS = 2,
    COUPLED = 0,
    /* Generous bound on one multistream packet of up to 60 ms (RFC 6716 §3.2.1: 1275
     * bytes per 20 ms frame, per stream). */
    MAX_PACKET = STREAMS * 3 * 1275 + 16,
    PEAKS_PER_SECOND = 20,
    MAX_TAGS_BYTES = 64 * 1024,
    PAGE_MAX_MS = 1000,
};

static const char VENDOR[] = "greffier";

struct ogg_opus_writer {
    struct byte_sink sink;
    OpusMSEncoder *enc;
    ogg_stream_state os;
    bool os_ready;

    unsigned rate;        /* input rate, samples per second per channel */
    unsigned frame_size;  /* samples per channel in one frame */
    unsigned to48k;       /* 48000 / rate: granule units per sample */
    unsigned lookahead;   /* encoder delay in samples at rate (the pre-skip) */
    unsigned page_frames; /* frames after which a page is forced out */

    int16_t *pcm;      /* the frame being filled, interleaved caller, callee */
    size_t fill;       /* samples per channel already in pcm */
    bool frame_live;   /* some sample of this frame came from a non-NULL channel */
    bool tail_pending; /* the encoder's lookahead holds live audio not yet coded */
    bool in_silence;   /* the last packet was the silent packet */
    uint8_t *packet;   /* encoder output, MAX_PACKET bytes */
    uint8_t *silence;  /* the pre-encoded silent packet */
    size_t silence_len;

    uint64_t samples;    /* per channel, pushed */
    uint64_t frames_out; /* audio packets given to the Ogg stream */
    uint64_t encoder_calls;
    int64_t packetno;
    unsigned page_pending; /* audio packets not yet on a written page */
    bool failed;
    bool finished;
    const char *error;

    struct waveform_peaks peaks;
    size_t peaks_cap;    /* buckets allocated */
    unsigned bucket_len; /* samples per bucket */
    unsigned bucket_fill;
    int16_t bmin[CHANNELS], bmax[CHANNELS];
};

static void put_le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)((v >> 8) & 0xff);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)((v >> 8) & 0xff);
    p[2] = (uint8_t)((v >> 16) & 0xff);
    p[3] = (uint8_t)((v >> 24) & 0xff);
}

static bool rate_supported(unsigned rate)
{
    return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

/* An encoder with the recording's settings; NULL with *why set on failure. */
static OpusMSEncoder *encoder_new(const struct ogg_opus_settings *s, int application,
                                  const char **why)
{
    static const unsigned char mapping[CHANNELS] = {0, 1};
    int e = OPUS_OK;
    OpusMSEncoder *enc = opus_multistream_encoder_create(
        (opus_int32)s->sample_rate, CHANNELS, STREAMS, COUPLED, mapping, application, &e);
    if (!enc || e != OPUS_OK) {
        *why = opus_strerror(e);
        return NULL;
    }
    if (opus_multistream_encoder_ctl(enc, OPUS_SET_BITRATE((opus_int32)s->bitrate)) != OPUS_OK ||
        opus_multistream_encoder_ctl(enc, OPUS_SET_COMPLEXITY((opus_int32)s->complexity)) !=
            OPUS_OK ||
        opus_multistream_encoder_ctl(enc, OPUS_SET_VBR(1)) != OPUS_OK ||
        opus_multistream_encoder_ctl(enc, OPUS_SET_VBR_CONSTRAINT(0)) != OPUS_OK ||
        opus_multistream_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPUS_OK ||
        (s->sample_rate == 16000 &&
         opus_multistream_encoder_ctl(enc, OPUS_SET_BANDWIDTH(OPUS_BANDWIDTH_WIDEBAND)) !=
             OPUS_OK)) {
        *why = "encoder refused a setting";
        opus_multistream_encoder_destroy(enc);
        return NULL;
    }
    return enc;
}

/* Writes the pages libogg has ready (all of them when flush).  0, or -1 when the sink
 * failed. */
static int write_pages(struct ogg_opus_writer *w, bool flush)
{
    ogg_page og;
    while (flush ? ogg_stream_flush(&w->os, &og) : ogg_stream_pageout(&w->os, &og)) {
        if (w->sink.write(w->sink.user, og.header, (size_t)og.header_len) != 0 ||
            w->sink.write(w->sink.user, og.body, (size_t)og.body_len) != 0) {
            w->error = "output failed";
            w->failed = true;
            return -1;
        }
    }
    return 0;
}

/* RFC 7845 §5.1 with the family 1 mapping table (§5.1.1.2): 19 + 2 + 2 bytes. */
static size_t build_head(uint8_t *p, unsigned rate, unsigned preskip48)
{
    memcpy(p, "OpusHead", 8);
    p[8] = 1;        /* version */
    p[9] = CHANNELS; /* output channel count */
    put_le16(p + 10, preskip48);
    put_le32(p + 12, rate); /* original input rate, informational */
    put_le16(p + 16, 0);    /* output gain */
    p[18] = 1;              /* mapping family 1 */
    p[19] = STREAMS;
    p[20] = COUPLED;
    p[21] = 0; /* channel 0 (caller) <- stream 0 */
    p[22] = 1; /* channel 1 (callee) <- stream 1 */
    return 23;
}

/* RFC 7845 §5.2: vendor string and "KEY=value" user comments.  Returns the length, or 0
 * with *why set when a comment is not KEY=value or the whole does not fit. */
static size_t build_tags(uint8_t **out, const struct ogg_opus_settings *s, const char **why)
{
    size_t n = 0, len = 8 + 4 + sizeof(VENDOR) - 1 + 4;
    for (; n < sizeof(s->comments) / sizeof(s->comments[0]) && s->comments[n]; n++) {
        const char *c = s->comments[n], *eq = strchr(c, '=');
        if (!eq || eq == c) {
            *why = "user comment is not KEY=value";
            return 0;
        }
        for (const char *k = c; k < eq; k++) {
            if (*k < 0x20 || *k > 0x7d) { /* RFC 7845 §5.2: printable ASCII but '=' */
                *why = "user comment key is not printable ASCII";
                return 0;
            }
        }
        len += 4 + strlen(c);
        if (len > MAX_TAGS_BYTES) {
            *why = "user comments too long";
            return 0;
        }
    }
    uint8_t *p = malloc(len);
    if (!p) {
        *why = "out of memory";
        return 0;
    }
    size_t off = 0;
    memcpy(p, "OpusTags", 8);
    off += 8;
    put_le32(p + off, sizeof(VENDOR) - 1);
    off += 4;
    memcpy(p + off, VENDOR, sizeof(VENDOR) - 1);
    off += sizeof(VENDOR) - 1;
    put_le32(p + off, (uint32_t)n);
    off += 4;
    for (size_t i = 0; i < n; i++) {
        size_t cl = strlen(s->comments[i]);
        put_le32(p + off, (uint32_t)cl);
        off += 4;
        memcpy(p + off, s->comments[i], cl);
        off += cl;
    }
    *out = p;
    return off;
}

/* Puts one header packet on a page of its own (RFC 7845 §3: OpusHead alone on the first
 * page, OpusTags finishing its page before any audio). */
static int write_header_packet(struct ogg_opus_writer *w, uint8_t *data, size_t len, bool bos)
{
    ogg_packet op = {0};
    op.packet = data;
    op.bytes = (long)len;
    op.b_o_s = bos;
    op.granulepos = 0;
    op.packetno = w->packetno++;
    if (ogg_stream_packetin(&w->os, &op) != 0) {
        w->error = "ogg stream error";
        w->failed = true;
        return -1;
    }
    return write_pages(w, true);
}

/* Encodes one frame of zeros with a twin encoder: the packet emitted for digital silence.
 * The twin is CELT-only (RESTRICTED_LOWDELAY): CELT flags digital silence in its first
 * symbol, so in VBR each 20 ms frame costs 2 bytes and decodes to exact zeros (17 bytes
 * per 60 ms for both streams, against 29 for a SILK frame of zeros).  The decoder crosses
 * from CELT to SILK and back with its own transition smoothing (RFC 6716 §4.5). */
static int build_silence(struct ogg_opus_writer *w, const struct ogg_opus_settings *s,
                         const char **why)
{
    OpusMSEncoder *twin = encoder_new(s, OPUS_APPLICATION_RESTRICTED_LOWDELAY, why);
    if (!twin)
        return -1;
    memset(w->pcm, 0, (size_t)w->frame_size * CHANNELS * sizeof(int16_t));
    int n = opus_multistream_encode(twin, w->pcm, (int)w->frame_size, w->packet, MAX_PACKET);
    opus_multistream_encoder_destroy(twin);
    if (n <= 0) {
        *why = n < 0 ? opus_strerror(n) : "empty silent packet";
        return -1;
    }
    w->silence = malloc((size_t)n);
    if (!w->silence) {
        *why = "out of memory";
        return -1;
    }
    memcpy(w->silence, w->packet, (size_t)n);
    w->silence_len = (size_t)n;
    return 0;
}

struct ogg_opus_writer *ogg_opus_writer_new(const struct ogg_opus_settings *s,
                                            const struct byte_sink *sink, char *err, size_t errsize)
{
    const char *why;
    struct ogg_opus_writer *w = NULL;
    uint8_t head[32], *tags = NULL;
    size_t tags_len;
    opus_int32 la = 0;

    why = "no settings or no sink";
    if (!s || !sink || !sink->write)
        goto error;
    why = "sample rate not supported by Opus (8000, 12000, 16000, 24000 or 48000)";
    if (!rate_supported(s->sample_rate))
        goto error;
    why = "frame duration must be 20, 40 or 60 ms";
    if (s->frame_ms != 20 && s->frame_ms != 40 && s->frame_ms != 60)
        goto error;
    why = "bitrate out of range (4000..256000 bit/s for both channels)";
    if (s->bitrate < 4000 || s->bitrate > 256000)
        goto error;
    why = "complexity out of range (0..10)";
    if (s->complexity > 10)
        goto error;

    why = "out of memory";
    w = calloc(1, sizeof(*w));
    if (!w)
        goto error;
    w->sink = *sink;
    w->rate = s->sample_rate;
    w->frame_size = s->sample_rate / 1000 * s->frame_ms;
    w->to48k = 48000 / s->sample_rate;
    w->page_frames = PAGE_MAX_MS / s->frame_ms;
    w->bucket_len = s->sample_rate / PEAKS_PER_SECOND;
    w->peaks.per_second = PEAKS_PER_SECOND;
    w->pcm = calloc((size_t)w->frame_size * CHANNELS, sizeof(int16_t));
    w->packet = malloc(MAX_PACKET);
    if (!w->pcm || !w->packet)
        goto error;

    w->enc = encoder_new(s, OPUS_APPLICATION_VOIP, &why);
    if (!w->enc)
        goto error;
    why = "cannot read the encoder's lookahead";
    if (opus_multistream_encoder_ctl(w->enc, OPUS_GET_LOOKAHEAD(&la)) != OPUS_OK || la < 0 ||
        (unsigned)la * w->to48k > UINT16_MAX)
        goto error;
    w->lookahead = (unsigned)la;
    if (build_silence(w, s, &why) != 0)
        goto error;

    why = "ogg stream init failed";
    if (ogg_stream_init(&w->os, (int)s->serial) != 0)
        goto error;
    w->os_ready = true;
    tags_len = build_tags(&tags, s, &why);
    if (tags_len == 0)
        goto error;
    if (write_header_packet(w, head, build_head(head, w->rate, w->lookahead * w->to48k), true) !=
            0 ||
        write_header_packet(w, tags, tags_len, false) != 0) {
        why = w->error;
        goto error;
    }
    free(tags);
    return w;

error:
    if (err && errsize)
        snprintf(err, errsize, "ogg opus writer: %s", why);
    free(tags);
    ogg_opus_writer_free(w);
    return NULL;
}

/* Gives one packet to the Ogg stream.  The last packet carries the end-of-stream flag
 * and the trimmed granule position (RFC 7845 §4.4). */
static int emit_packet(struct ogg_opus_writer *w, uint8_t *data, size_t len, bool last)
{
    ogg_packet op = {0};
    w->frames_out++;
    op.packet = data;
    op.bytes = (long)len;
    op.e_o_s = last;
    op.packetno = w->packetno++;
    if (last)
        op.granulepos = (ogg_int64_t)((w->lookahead + w->samples) * w->to48k);
    else
        op.granulepos = (ogg_int64_t)(w->frames_out * w->frame_size * w->to48k);
    if (ogg_stream_packetin(&w->os, &op) != 0) {
        w->error = "ogg stream error";
        w->failed = true;
        return -1;
    }
    if (last || ++w->page_pending >= w->page_frames) {
        w->page_pending = 0;
        return write_pages(w, true);
    }
    return write_pages(w, false);
}

/* Codes the frame in w->pcm (fill is ignored: the caller has padded it). */
static int write_frame(struct ogg_opus_writer *w, bool last)
{
    if (!w->frame_live && !w->tail_pending) {
        w->in_silence = true;
        return emit_packet(w, w->silence, w->silence_len, last);
    }
    if (w->in_silence) {
        /* The decoder re-initialises SILK when it leaves the CELT silence (RFC 6716
         * §4.5.2; libopus opus_decode_frame), so the encoder starts afresh too, from the
         * same state: its history is zeros anyway. */
        opus_multistream_encoder_ctl(w->enc, OPUS_RESET_STATE);
        w->in_silence = false;
    }
    int n = opus_multistream_encode(w->enc, w->pcm, (int)w->frame_size, w->packet, MAX_PACKET);
    w->encoder_calls++;
    if (n <= 0) {
        w->error = n < 0 ? opus_strerror(n) : "encoder returned an empty packet";
        w->failed = true;
        return -1;
    }
    /* A live frame leaves live audio in the lookahead; a zero frame pushes it out. */
    w->tail_pending = w->frame_live;
    return emit_packet(w, w->packet, (size_t)n, last);
}

static void peaks_close_bucket(struct ogg_opus_writer *w)
{
    struct waveform_peaks *p = &w->peaks;
    if (p->count == w->peaks_cap) {
        size_t cap = w->peaks_cap ? w->peaks_cap * 2 : 20 * 60;
        int8_t *mm = realloc(p->min_max, cap * 4);
        if (!mm) {
            /* The waveform is a convenience: the recording goes on without it. */
            w->bucket_fill = 0;
            return;
        }
        p->min_max = mm;
        w->peaks_cap = cap;
    }
    int8_t *b = p->min_max + p->count * 4;
    for (int c = 0; c < CHANNELS; c++) {
        b[c * 2] = (int8_t)(w->bmin[c] / 256); /* -32768 -> -128, 32767 -> 127 */
        b[c * 2 + 1] = (int8_t)(w->bmax[c] / 256);
    }
    p->count++;
    w->bucket_fill = 0;
}

static void peaks_add(struct ogg_opus_writer *w, int16_t l, int16_t r)
{
    if (w->bucket_fill == 0) {
        w->bmin[0] = w->bmax[0] = l;
        w->bmin[1] = w->bmax[1] = r;
    } else {
        if (l < w->bmin[0])
            w->bmin[0] = l;
        if (l > w->bmax[0])
            w->bmax[0] = l;
        if (r < w->bmin[1])
            w->bmin[1] = r;
        if (r > w->bmax[1])
            w->bmax[1] = r;
    }
    if (++w->bucket_fill == w->bucket_len)
        peaks_close_bucket(w);
}

int ogg_opus_writer_push(struct ogg_opus_writer *w, const int16_t *left, const int16_t *right,
                         size_t frames)
{
    if (w->failed)
        return -1;
    if (w->finished) {
        w->error = "push after finish";
        return -1;
    }
    size_t done = 0;
    while (done < frames) {
        size_t n = w->frame_size - w->fill;
        if (n > frames - done)
            n = frames - done;
        int16_t *dst = w->pcm + w->fill * CHANNELS;
        for (size_t i = 0; i < n; i++) {
            int16_t l = left ? left[done + i] : 0, r = right ? right[done + i] : 0;
            dst[i * CHANNELS] = l;
            dst[i * CHANNELS + 1] = r;
            peaks_add(w, l, r);
        }
        if (left || right)
            w->frame_live = true;
        w->fill += n;
        w->samples += n;
        done += n;
        if (w->fill == w->frame_size) {
            /* Not the last frame: finish() always has the lookahead still to code. */
            if (write_frame(w, false) != 0)
                return -1;
            w->fill = 0;
            w->frame_live = false;
        }
    }
    return 0;
}

void ogg_opus_writer_set_complexity(struct ogg_opus_writer *w, unsigned complexity)
{
    if (complexity > 10)
        complexity = 10;
    /* The frame being filled has not been encoded yet: it is the first to use it. */
    opus_multistream_encoder_ctl(w->enc, OPUS_SET_COMPLEXITY((opus_int32)complexity));
}

int ogg_opus_writer_finish(struct ogg_opus_writer *w)
{
    if (w->failed)
        return -1;
    if (w->finished)
        return 0;
    /* The decoder must get pre-skip + every pushed sample (RFC 7845 §4.2): the encoder
     * delays its input by the lookahead, so one more frame may be needed to push the
     * tail out.  A frame is longer than the lookahead (>= 20 ms vs 6.5 ms), so at most
     * one extra frame follows the padded one. */
    uint64_t needed = w->samples + w->lookahead;
    if (w->fill > 0) {
        memset(w->pcm + w->fill * CHANNELS, 0,
               (w->frame_size - w->fill) * CHANNELS * sizeof(int16_t));
        bool last = (w->frames_out + 1) * w->frame_size >= needed;
        if (write_frame(w, last) != 0)
            return -1;
        w->fill = 0;
        w->frame_live = false;
        if (last)
            goto done;
    }
    memset(w->pcm, 0, (size_t)w->frame_size * CHANNELS * sizeof(int16_t));
    if (write_frame(w, true) != 0)
        return -1;
done:
    if (w->bucket_fill > 0)
        peaks_close_bucket(w);
    w->finished = true;
    return 0;
}

uint64_t ogg_opus_writer_samples(const struct ogg_opus_writer *w)
{
    return w->samples;
}

const struct waveform_peaks *ogg_opus_writer_peaks(const struct ogg_opus_writer *w)
{
    return &w->peaks;
}

uint64_t ogg_opus_writer_encoder_calls(const struct ogg_opus_writer *w)
{
    return w->encoder_calls;
}

const char *ogg_opus_writer_error(const struct ogg_opus_writer *w)
{
    return w->error ? w->error : "no error";
}

unsigned ogg_opus_writer_pre_skip(const struct ogg_opus_writer *w)
{
    return w->lookahead * w->to48k;
}

void ogg_opus_writer_free(struct ogg_opus_writer *w)
{
    if (!w)
        return;
    if (w->enc)
        opus_multistream_encoder_destroy(w->enc);
    if (w->os_ready)
        ogg_stream_clear(&w->os);
    free(w->pcm);
    free(w->packet);
    free(w->silence);
    free(w->peaks.min_max);
    free(w);
}

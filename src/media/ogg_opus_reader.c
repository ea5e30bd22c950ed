/*
 * ogg_opus_reader.c - decodes an Ogg Opus stream back to interleaved stereo PCM, for
 * replay, export and tests.
 *
 * References: RFC 7845 (OpusHead §5.1, channel mapping families 0 and 1 §5.1.1,
 * OpusTags §5.2, pre-skip and end trimming §4.2 and §4.4), RFC 3533 (Ogg pages),
 * RFC 6716 (Opus packets, decoded by libopus).
 *
 * The input is a file from disk, so it is treated as hostile: libogg checks every page's
 * capture pattern and CRC, the headers are read through spans, and every failure ends
 * the decode with a sentence saying what was wrong (truncated, corrupt, unsupported).
 * Only the first logical Opus stream is decoded; other multiplexed streams are ignored
 * and anything after its end-of-stream page too.  Audio is decoded at the header's
 * input rate when Opus can run at it (8/12/16/24/48 kHz), otherwise at 48 kHz; positions
 * are kept in 48 kHz units, which every supported rate divides exactly.
 */
#include <inttypes.h>
#include <opus/opus_multistream.h>
#include <ogg/ogg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/ogg_opus.h"
#include "greffier/span.h"

enum {
    READ_CHUNK = 4096,
    MAX_FRAME_48K = 5760, /* 120 ms, the longest Opus packet (RFC 6716 §3.2.5) */
    /* Far above any real multistream packet of <= 2 channels, low enough that a hostile
     * page chain cannot make libopus chew on megabytes. */
    MAX_PACKET_BYTES = 256 * 1024,
};

struct opus_head {
    uint8_t version;
    uint8_t channels;
    uint16_t preskip; /* 48 kHz samples */
    uint32_t input_rate;
    int16_t gain; /* Q7.8 dB */
    uint8_t family;
    uint8_t streams;
    uint8_t coupled;
    uint8_t mapping[2];
};

struct reader {
    const struct byte_source *src;
    int (*emit)(void *user, const int16_t *stereo, size_t frames);
    void *user;
    struct opus_head head;
    OpusMSDecoder *dec;
    unsigned rate;   /* decoding rate */
    unsigned to48k;  /* 48000 / rate */
    int16_t *pcm;    /* decoder output, MAX_FRAME_48K / to48k * channels */
    int16_t *stereo; /* the same, as stereo */
    int64_t pos48;   /* 48 kHz samples decoded so far, pre-skip included */
    int64_t emitted; /* frames emitted */
};

/* RFC 7845 §5.1.  Returns NULL, or why the header is refused. */
static const char *parse_head(struct span s, struct opus_head *h)
{
    uint16_t u16;

    memset(h, 0, sizeof(*h));
    if (s.len < 19)
        return "OpusHead too short";
    span_u8(s, 8, &h->version);
    span_u8(s, 9, &h->channels);
    span_le16(s, 10, &h->preskip);
    span_le32(s, 12, &h->input_rate);
    span_le16(s, 16, &u16);
    h->gain = (int16_t)u16;
    span_u8(s, 18, &h->family);
    /* §5.1: a major version other than 0 (upper four bits) is incompatible. */
    if (h->version >> 4 != 0)
        return "OpusHead version not supported (major version is not 0)";
    if (h->channels == 0)
        return "OpusHead says 0 channels";
    if (h->channels > 2)
        return "OpusHead has more than 2 channels (only mono and stereo are supported)";
    if (h->family == 0) {
        /* §5.1.1.1: one stream, coupled when stereo, no table. */
        h->streams = 1;
        h->coupled = (uint8_t)(h->channels - 1);
        h->mapping[0] = 0;
        h->mapping[1] = 1;
        return NULL;
    }
    if (h->family != 1)
        return "OpusHead channel mapping family not supported (only 0 and 1)";
    /* §5.1.1.2: stream count, coupled count, one table entry per channel. */
    if (s.len < 21u + h->channels)
        return "OpusHead too short for its channel mapping table";
    span_u8(s, 19, &h->streams);
    span_u8(s, 20, &h->coupled);
    if (h->streams == 0)
        return "OpusHead says 0 streams";
    if (h->coupled > h->streams)
        return "OpusHead has more coupled streams than streams";
    if ((unsigned)h->streams + h->coupled > 255)
        return "OpusHead stream counts too large";
    for (unsigned c = 0; c < h->channels; c++) {
        span_u8(s, 21 + c, &h->mapping[c]);
        if (h->mapping[c] != 255 && h->mapping[c] >= h->streams + h->coupled)
            return "OpusHead channel mapping refers to a stream that does not exist";
    }
    return NULL;
}

static bool opus_rate(uint32_t r)
{
    return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000;
}

static const char *start_decoder(struct reader *r, unsigned *sample_rate)
{
    const struct opus_head *h = &r->head;
    int e = OPUS_OK;

    r->rate = opus_rate(h->input_rate) ? h->input_rate : 48000;
    r->to48k = 48000 / r->rate;
    r->dec = opus_multistream_decoder_create((opus_int32)r->rate, h->channels, h->streams,
                                             h->coupled, h->mapping, &e);
    if (!r->dec || e != OPUS_OK)
        return "decoder refused the OpusHead stream layout";
    /* §5.1: the output gain is applied by the decoder. */
    if (opus_multistream_decoder_ctl(r->dec, OPUS_SET_GAIN(h->gain)) != OPUS_OK)
        return "decoder refused the OpusHead output gain";
    size_t max = MAX_FRAME_48K / r->to48k;
    r->pcm = malloc(max * h->channels * sizeof(int16_t));
    r->stereo = malloc(max * 2 * sizeof(int16_t));
    if (!r->pcm || !r->stereo)
        return "out of memory";
    *sample_rate = r->rate;
    return NULL;
}

/* Decodes one audio packet and emits the part of it inside [pre-skip, limit48), where
 * limit48 is the end-of-stream granule position or -1 for no trimming (§4.4). */
static const char *decode_packet(struct reader *r, const ogg_packet *op, int64_t limit48)
{
    if (op->bytes <= 0)
        return "empty audio packet (corrupt stream)";
    if (op->bytes > MAX_PACKET_BYTES)
        return "audio packet too large (corrupt stream)";
    int max = (int)(MAX_FRAME_48K / r->to48k);
    int n = opus_multistream_decode(r->dec, op->packet, (opus_int32)op->bytes, r->pcm, max, 0);
    if (n < 0)
        return "corrupt Opus packet";

    int64_t start48 = r->pos48, to = r->to48k;
    r->pos48 += (int64_t)n * to;
    /* First and one-past-last sample to emit, from their 48 kHz positions. */
    int64_t i0 = 0, i1 = n;
    if (start48 < r->head.preskip)
        i0 = (r->head.preskip - start48 + to - 1) / to;
    if (limit48 >= 0 && limit48 < r->pos48)
        i1 = limit48 > start48 ? (limit48 - start48 + to - 1) / to : 0;
    if (i0 >= i1)
        return NULL;

    const int16_t *src = r->pcm + i0 * r->head.channels;
    size_t frames = (size_t)(i1 - i0);
    if (r->head.channels == 1) {
        for (size_t i = 0; i < frames; i++)
            r->stereo[2 * i] = r->stereo[2 * i + 1] = src[i];
        src = r->stereo;
    }
    if (r->emit(r->user, src, frames) != 0)
        return "output failed";
    r->emitted += (int64_t)frames;
    return NULL;
}

/* True when the packet starts with the 8-byte magic signature of an Opus header. */
static bool has_magic(const ogg_packet *op, const char magic[8])
{
    return op->bytes >= 8 && memcmp(op->packet, magic, 8) == 0;
}

/* Reads more input into the sync layer.  1 on data, 0 at end, -1 on read error. */
static int feed(struct reader *r, ogg_sync_state *oy)
{
    char *buf = ogg_sync_buffer(oy, READ_CHUNK);
    if (!buf)
        return -1;
    long n = r->src->read(r->src->user, (uint8_t *)buf, READ_CHUNK);
    if (n < 0 || n > READ_CHUNK)
        return -1;
    if (n == 0)
        return 0;
    ogg_sync_wrote(oy, n);
    return 1;
}

int ogg_opus_decode(const struct byte_source *src, unsigned *sample_rate,
                    int (*emit)(void *user, const int16_t *stereo, size_t frames), void *user,
                    char *err, size_t errsize)
{
    struct reader r = {.src = src, .emit = emit, .user = user};
    ogg_sync_state oy;
    ogg_stream_state os;
    ogg_page og;
    ogg_packet op;
    const char *why = NULL;
    int ret = -1;
    bool have_os = false, have_head = false, have_tags = false, ended = false;
    uint64_t pages = 0;
    int serial = 0;

    ogg_sync_init(&oy);
    while (!ended) {
        int got = ogg_sync_pageout(&oy, &og);
        if (got < 0) {
            why = pages ? "corrupt Ogg page (bad checksum or lost sync)" : "not an Ogg stream";
            goto error;
        }
        if (got == 0) {
            int f = feed(&r, &oy);
            if (f < 0) {
                why = "read error";
                goto error;
            }
            if (f == 0)
                break;
            continue;
        }
        pages++;

        if (!have_head) {
            /* §3: the stream starts with a page holding only OpusHead; other logical
             * streams' first pages may come before it. */
            why = "no Opus stream (no OpusHead page at the start)";
            if (!ogg_page_bos(&og))
                goto error;
            serial = ogg_page_serialno(&og);
            if (ogg_stream_init(&os, serial) != 0) {
                why = "out of memory";
                goto error;
            }
            have_os = true;
            if (ogg_stream_pagein(&os, &og) != 0 || ogg_stream_packetout(&os, &op) != 1 ||
                !has_magic(&op, "OpusHead")) {
                ogg_stream_clear(&os);
                have_os = false;
                continue;
            }
            why = parse_head(span_make(op.packet, (size_t)op.bytes), &r.head);
            if (why)
                goto error;
            why = start_decoder(&r, sample_rate);
            if (why)
                goto error;
            have_head = true;
            continue;
        }

        if (ogg_page_serialno(&og) != serial)
            continue; /* another logical stream */
        why = "Ogg page refused (bad version or serial)";
        if (ogg_stream_pagein(&os, &og) != 0)
            goto error;
        /* libogg keeps an unfinished packet's bytes however many pages it spans: a
         * hostile file could make it hold the whole file. */
        why = "audio packet too large (corrupt stream)";
        if (os.body_fill - os.body_returned > MAX_PACKET_BYTES + 65536)
            goto error;
        bool eos = ogg_page_eos(&og) != 0;
        int64_t granule = ogg_page_granulepos(&og);
        int64_t page_start48 = r.pos48;
        int64_t limit48 = -1;
        if (eos && granule != -1) {
            /* §4.4: the last granule position trims the end; it can neither precede
             * the audio of earlier pages nor the pre-skip. */
            why = "invalid end-of-stream granule position";
            if (granule < 0 || granule < page_start48 || granule < r.head.preskip)
                goto error;
            limit48 = granule;
        }
        int got_packet;
        while ((got_packet = ogg_stream_packetout(&os, &op)) != 0) {
            why = "missing Ogg page (gap in the page sequence)";
            if (got_packet < 0)
                goto error;
            if (!have_tags) {
                /* §5.2: the second packet is OpusTags; its content is not needed. */
                why = "second packet is not OpusTags";
                if (!has_magic(&op, "OpusTags"))
                    goto error;
                have_tags = true;
                continue;
            }
            why = decode_packet(&r, &op, limit48);
            if (why)
                goto error;
        }
        if (eos) {
            why = "end-of-stream granule position beyond the audio decoded";
            if (limit48 > r.pos48)
                goto error;
            ended = true;
        }
    }

    if (!ended) {
        if (pages == 0)
            why = oy.fill > oy.returned ? "not an Ogg stream" : "empty input";
        else if (!have_head)
            why = "no Opus stream (no OpusHead page at the start)";
        else if (!have_tags)
            why = "truncated stream (no OpusTags)";
        else if (oy.fill > oy.returned)
            why = "truncated stream (partial last page)";
        else
            why = "truncated stream (no end-of-stream page)";
        goto error;
    }
    if (err && errsize)
        err[0] = '\0';
    ret = 0;
    goto out;

error:
    if (err && errsize) {
        if (have_head)
            snprintf(err, errsize, "ogg opus: %s after %" PRId64 " samples", why, r.emitted);
        else
            snprintf(err, errsize, "ogg opus: %s", why);
    }
out:
    if (have_os)
        ogg_stream_clear(&os);
    ogg_sync_clear(&oy);
    if (r.dec)
        opus_multistream_decoder_destroy(r.dec);
    free(r.pcm);
    free(r.stereo);
    return ret;
}

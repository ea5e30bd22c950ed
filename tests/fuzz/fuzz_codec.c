/*
 * fuzz_codec.c - the RTP payload decoders on arbitrary payloads, which come straight from
 * packets.  Input: byte 0 picks the codec (low 3 bits) and, for L16, the rate and channel
 * count (high bits); byte 1 the size of the output buffer; then records of one length
 * byte and that many payload bytes, each decoded in turn by the same decoder (the last
 * record takes what is left); an odd length byte also conceals a loss of 8 x that many
 * samples before the record (with FEC from it).  Checks the contract as well as memory
 * safety: -1 or at most max samples, nothing written past max, concealment fills
 * exactly what is asked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/codec.h"

static const enum codec_id ids[8] = {CODEC_PCMU, CODEC_PCMA, CODEC_G722, CODEC_G729,
                                     CODEC_OPUS, CODEC_L16,  CODEC_CN,   CODEC_TELEPHONE_EVENT};
static const uint32_t l16_rates[8] = {8000, 16000, 44100, 48000, 11025, 22050, 12000, 96000};

enum { OUT_MAX = 4096, CANARY = 0x5A5A };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int16_t out[OUT_MAX + 1];
    struct codec_decoder *d;
    enum codec_id id;
    size_t max, off = 2;

    if (size < 2)
        return 0;
    id = ids[data[0] & 7];
    if (id == CODEC_L16)
        d = codec_decoder_new(id, l16_rates[(data[0] >> 3) & 7], 1 + (data[0] >> 6));
    else
        d = codec_decoder_new(id, 0, 0);
    if (!d)
        abort();
    max = (size_t)data[1] * 16 + (data[1] & 15); /* 0 .. 4095 */
    while (off < size) {
        size_t len = data[off++];
        bool lost = len & 1;
        if (len > size - off)
            len = size - off;
        if (lost) {
            size_t gap = (size_t)data[off - 1] * 8;
            if (gap > OUT_MAX)
                gap = OUT_MAX;
            out[gap] = CANARY;
            if (codec_conceal_fec(d, data + off, len, out, gap) != (long)gap || out[gap] != CANARY)
                abort();
        }
        out[max] = CANARY;
        long n = codec_decode(d, data + off, len, out, max);
        if (n < -1 || n > (long)max || out[max] != CANARY)
            abort();
        off += len;
    }
    codec_decoder_free(d);
    return 0;
}

/*
 * fuzz_ogg_reader.c - ogg_opus_decode() on hostile files (the reader runs on recordings
 * read from disk during export and replay).
 *
 * Input: the first byte chooses how the source reads (its low 3 bits pick a read size,
 * so page boundaries fall anywhere in a read) and whether Ogg page checksums are
 * recomputed (bit 3): without that, nearly every mutation dies at the CRC check and the
 * header parser and the Opus decoder are never reached.  The rest is the stream.
 * Checked beyond memory safety: the output stays within what the input can describe
 * (120 ms per packet, and no packet is smaller than a byte), the rate is an Opus rate,
 * and failure comes with a message.
 *
 * Seeds (tests/fuzz/corpus/ogg_reader) come from `test_ogg_opus --write-seeds DIR`.
 */
#include <ogg/ogg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/ogg_opus.h"

struct input {
    const uint8_t *p;
    size_t len, off, chunk;
};

static long read_input(void *user, uint8_t *buf, size_t len)
{
    struct input *in = user;
    size_t n = in->len - in->off;
    if (n > len)
        n = len;
    if (n > in->chunk)
        n = in->chunk;
    memcpy(buf, in->p + in->off, n);
    in->off += n;
    return (long)n;
}

struct output {
    uint64_t frames;
    int16_t last;
};

static int emit(void *user, const int16_t *stereo, size_t frames)
{
    struct output *o = user;
    if (frames == 0 || frames > 5760)
        abort();
    o->last ^= stereo[0] ^ stereo[frames * 2 - 1]; /* ASan sees the whole chunk's ends */
    o->frames += frames;
    return 0;
}

/* Recomputes the CRC of every complete page found at an "OggS" capture pattern. */
static void fix_checksums(uint8_t *p, size_t len)
{
    for (size_t off = 0; off + 27 <= len; off++) {
        if (memcmp(p + off, "OggS", 4) != 0)
            continue;
        size_t nseg = p[off + 26], hlen = 27 + nseg, blen = 0;
        if (off + hlen > len)
            return;
        for (size_t i = 0; i < nseg; i++)
            blen += p[off + 27 + i];
        if (off + hlen + blen > len)
            return;
        ogg_page og = {p + off, (long)hlen, p + off + hlen, (long)blen};
        ogg_page_checksum_set(&og);
        off += hlen + blen - 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t chunks[] = {4096, 1, 2, 7, 27, 100, 255, 1000};
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (mode & 8)
        fix_checksums(copy, size - 1);

    struct input in = {copy, size - 1, 0, chunks[mode & 7]};
    struct byte_source src = {read_input, &in};
    struct output out = {0, 0};
    unsigned rate = 0;
    char err[200];
    int rc = ogg_opus_decode(&src, &rate, emit, &out, err, sizeof(err));
    if (rc != 0 && err[0] == '\0')
        abort();
    if (rc == 0 && rate != 8000 && rate != 12000 && rate != 16000 && rate != 24000 && rate != 48000)
        abort();
    /* At most 120 ms per byte of input. */
    if (out.frames > (uint64_t)size * 5760)
        abort();
    free(copy);
    return 0;
}

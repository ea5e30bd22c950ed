/*
 * bench_vault.c - what sealing recordings costs (`make bench`, section vault): the time
 * to write N MB of an Ogg Opus stream through the vault (AES-256-GCM chunks, STREAM
 * construction, docs/FORMAT.md) against writing the same bytes plainly, and that cost as
 * a fraction of the Opus encoder's cost for the same audio.
 *
 * The Ogg stream is made by greffier's own recording encoder (src/media/ogg_opus_writer.c,
 * 8 kHz, 12 kbit/s, 60 ms frames, complexity 0: the defaults) from a speech-like signal
 * (harmonics of a wandering fundamental under a syllable envelope, talk spurts taking
 * turns, a noise floor), timed in CPU seconds.  The stream is then written N MB in all to
 * a file in the same 4 KiB pieces the vault seals, once plainly and once sealed, each
 * followed by fdatasync, the fastest of RUNS runs kept.  Linked with libgreffier (the
 * Makefile links every bench program with it; the self-contained ones ignore it).
 *
 * Usage: bench_vault [MB [AUDIO_SECONDS [DIR]]]   (default 64 MB, 600 s, $TMPDIR or /tmp)
 */
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "greffier/keys.h"
#include "greffier/ogg_opus.h"
#include "greffier/vault.h"

enum { RATE = 8000, PIECE = 4096, RUNS = 3 };

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static int buf_write(void *user, const uint8_t *data, size_t len)
{
    struct buf *b = user;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

static int fd_write(void *user, const uint8_t *data, size_t len)
{
    int fd = *(int *)user;
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One channel of speech-like audio: voiced harmonics in talk spurts, else a noise floor.
 * talking(t) says whose turn it is. */
static void speech(int16_t *out, size_t n, uint64_t t0, int channel, uint32_t *seed)
{
    for (size_t i = 0; i < n; i++) {
        double t = (double)(t0 + i) / RATE;
        bool turn = ((int)(t / 2.5) % 2) == channel;
        double f0 = 140 + 40 * sin(2 * M_PI * 0.3 * t + channel);
        double env = turn ? 0.5 + 0.5 * sin(2 * M_PI * 4 * t) : 0;
        double v = 0;
        for (int h = 1; h <= 12; h++)
            v += sin(2 * M_PI * f0 * h * t) / h;
        *seed = *seed * 1664525u + 1013904223u;
        double noise = ((double)(*seed >> 8) / (1 << 24) - 0.5) * 0.01;
        out[i] = (int16_t)(6000 * env * v / 3 + 32767 * noise);
    }
}

/* Writes total bytes of the stream in PIECE pieces to path, plainly or sealed for pk;
 * returns the wall seconds (write + fdatasync), CPU seconds in *cpu; -1 on failure. */
static double write_file(const char *path, const struct buf *ogg, uint64_t total,
                         const struct vault_pubkey *pk, double *cpu)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    char err[256];
    struct byte_sink sink = {fd_write, &fd};
    struct vault_writer *vw = NULL;
    double w0 = wall_now(), c0 = cpu_now();
    if (pk) {
        vw = vault_writer_new(&sink, pk, "{}", 2, PIECE, err, sizeof(err));
        if (!vw) {
            close(fd);
            return -1;
        }
    }
    uint64_t done = 0;
    int rc = 0;
    while (done < total && rc == 0) {
        size_t off = (size_t)(done % ogg->len);
        size_t n = ogg->len - off < PIECE ? ogg->len - off : PIECE;
        rc = vw ? vault_writer_write(vw, ogg->p + off, n) : fd_write(&fd, ogg->p + off, n);
        done += n;
    }
    if (vw) {
        rc |= vault_writer_finish(vw);
        vault_writer_free(vw);
    }
    rc |= fdatasync(fd);
    double wall = wall_now() - w0;
    *cpu = cpu_now() - c0;
    close(fd);
    unlink(path);
    return rc == 0 ? wall : -1;
}

int main(int argc, char **argv)
{
    unsigned mb = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 64;
    unsigned seconds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 600;
    const char *tmp = argc > 3 ? argv[3] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[512], keys[600], path[700], err[256];
    if (mb == 0 || seconds == 0) {
        fprintf(stderr, "usage: bench_vault [MB [AUDIO_SECONDS [DIR]]]\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s/bench-vault-XXXXXX", tmp);
    if (!mkdtemp(dir))
        return 1;
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    struct vault_pubkey *pk = NULL;
    if (mkdir(keys, 0700) == 0 && keys_generate_recording_pair(keys, 1, err, sizeof(err)) == 0) {
        snprintf(path, sizeof(path), "%s/recording-0001.pub", keys);
        pk = vault_load_pubkey(path, 1, err, sizeof(err));
    }
    if (!pk) {
        fprintf(stderr, "bench_vault: key: %s\n", err);
        return 1;
    }

    /* The encoder's cost for `seconds` of two-party audio. */
    struct buf ogg = {0};
    struct byte_sink sink = {buf_write, &ogg};
    struct ogg_opus_settings st = {
        .sample_rate = RATE, .bitrate = 12000, .frame_ms = 60, .complexity = 0, .serial = 1};
    struct ogg_opus_writer *w = ogg_opus_writer_new(&st, &sink, err, sizeof(err));
    if (!w)
        return 1;
    enum { BLOCK = RATE / 50 };
    int16_t l[BLOCK], r[BLOCK];
    uint32_t seed = 1;
    double enc_cpu = 0;
    for (uint64_t t = 0; t < (uint64_t)seconds * RATE; t += BLOCK) {
        speech(l, BLOCK, t, 0, &seed);
        speech(r, BLOCK, t, 1, &seed);
        double c0 = cpu_now();
        if (ogg_opus_writer_push(w, l, r, BLOCK) != 0)
            return 1;
        enc_cpu += cpu_now() - c0;
    }
    double c0 = cpu_now();
    ogg_opus_writer_finish(w);
    enc_cpu += cpu_now() - c0;
    ogg_opus_writer_free(w);

    uint64_t total = (uint64_t)mb << 20;
    double plain = 1e9, sealed = 1e9, plain_cpu = 1e9, sealed_cpu = 1e9;
    snprintf(path, sizeof(path), "%s/out", dir);
    for (int i = 0; i < RUNS; i++) {
        double cpu;
        double t = write_file(path, &ogg, total, NULL, &cpu);
        if (t < 0)
            return 1;
        if (t < plain)
            plain = t, plain_cpu = cpu;
        t = write_file(path, &ogg, total, pk, &cpu);
        if (t < 0)
            return 1;
        if (t < sealed)
            sealed = t, sealed_cpu = cpu;
    }
    /* Sealing cost per byte, applied to the bytes this audio produced. */
    double seal_cpu_per_byte = (sealed_cpu - plain_cpu) / (double)total;
    double seal_for_audio = seal_cpu_per_byte * (double)ogg.len;
    printf("audio: %u s of two-party speech -> %zu bytes of Ogg Opus (%.0f bytes/min)\n", seconds,
           ogg.len, ogg.len * 60.0 / seconds);
    printf("encoder: %.3f CPU s (%.0fx real time)\n", enc_cpu, seconds / enc_cpu);
    printf("write %u MB in %d-byte pieces + fdatasync (fastest of %d):\n", mb, PIECE, RUNS);
    printf("  plain   wall %.3f s  cpu %.3f s  %.0f MB/s\n", plain, plain_cpu, mb / plain);
    printf("  sealed  wall %.3f s  cpu %.3f s  %.0f MB/s\n", sealed, sealed_cpu, mb / sealed);
    printf("ratio sealed/plain wall: %.2f\n", sealed / plain);
    printf("ratio sealed/plain cpu: %.2f\n", sealed_cpu / plain_cpu);
    printf("sealing cost / encoder cost for the same audio: %.4f (%.2f%%)\n",
           seal_for_audio / enc_cpu, 100 * seal_for_audio / enc_cpu);
    free(ogg.p);
    vault_pubkey_free(pk);
    snprintf(path, sizeof(path), "%s/recording-0001.pub", keys);
    unlink(path);
    snprintf(path, sizeof(path), "%s/recording-0001.key", keys);
    unlink(path);
    rmdir(keys);
    rmdir(dir);
    return 0;
}

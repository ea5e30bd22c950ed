/*
 * audio_files.c - a recording's WAV made in memory (libsndfile's virtual I/O), and the
 * check that a bundle's WAV is the decoding of its Ogg, sample for sample.
 *
 * The WAV is 16-bit PCM, two channels (caller, callee), at the Ogg's input rate, as
 * `greffier audio -o x.wav` writes it (both decode with ogg_opus_decode, which is
 * deterministic), so equality is exact: one differing sample is a failure.  A long call's
 * WAV is large (115 MB an hour at 16 kHz): it is written to a file when the bundle has
 * one to give (bundle_file_open), to memory only for the web's capped zip stream.
 */
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "export_int.h"

/* libsndfile's virtual file over a membuf (writing) or a fixed buffer (reading). */
struct vfile {
    struct membuf *m;  /* writing */
    const uint8_t *ro; /* reading */
    size_t ro_len;
    sf_count_t pos;
};

static size_t vlen(const struct vfile *v)
{
    return v->m ? v->m->len : v->ro_len;
}

static sf_count_t v_filelen(void *user)
{
    return (sf_count_t)vlen(user);
}

static sf_count_t v_seek(sf_count_t off, int whence, void *user)
{
    struct vfile *v = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? v->pos : (sf_count_t)vlen(v);
    if (base + off < 0)
        return -1;
    v->pos = base + off;
    return v->pos;
}

static sf_count_t v_read(void *ptr, sf_count_t count, void *user)
{
    struct vfile *v = user;
    const uint8_t *p = v->m ? v->m->p : v->ro;
    size_t len = vlen(v);
    if (count <= 0 || (size_t)v->pos >= len)
        return 0;
    size_t n = len - (size_t)v->pos < (size_t)count ? len - (size_t)v->pos : (size_t)count;
    memcpy(ptr, p + v->pos, n);
    v->pos += (sf_count_t)n;
    return (sf_count_t)n;
}

static sf_count_t v_write(const void *ptr, sf_count_t count, void *user)
{
    struct vfile *v = user;
    if (!v->m || count < 0)
        return 0;
    size_t end = (size_t)v->pos + (size_t)count;
    while (v->m->len < end) { /* grow, zero-filling any hole a seek left */
        static const uint8_t zeros[4096];
        size_t n = end - v->m->len < sizeof(zeros) ? end - v->m->len : sizeof(zeros);
        if (membuf_append(v->m, zeros, n) != 0)
            return 0;
    }
    memcpy(v->m->p + v->pos, ptr, (size_t)count);
    v->pos += count;
    return count;
}

static sf_count_t v_tell(void *user)
{
    return ((struct vfile *)user)->pos;
}

static SF_VIRTUAL_IO vio = {v_filelen, v_seek, v_read, v_write, v_tell};

struct wav_out {
    struct vfile v;
    int fd; /* >= 0: written to this file instead of v */
    SNDFILE *snd;
    unsigned rate;
    const char *why;
};

static int wav_emit(void *user, const int16_t *stereo, size_t frames)
{
    struct wav_out *o = user;
    if (!o->snd) {
        SF_INFO info = {
            .samplerate = (int)o->rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
        o->snd = o->fd >= 0 ? sf_open_fd(o->fd, SFM_WRITE, &info, SF_FALSE)
                            : sf_open_virtual(&vio, SFM_WRITE, &info, &o->v);
        if (!o->snd) {
            o->why = sf_strerror(NULL);
            return -1;
        }
    }
    if (sf_writef_short(o->snd, stereo, (sf_count_t)frames) != (sf_count_t)frames) {
        o->why = "writing the WAV failed (out of memory)";
        return -1;
    }
    return 0;
}

int wav_from_ogg(const uint8_t *ogg, size_t len, struct membuf *wav, int fd, char *err,
                 size_t errsize)
{
    struct mem_reader r;
    struct byte_source src = mem_source(&r, ogg, len);
    struct wav_out o = {.v = {.m = wav}, .fd = fd};
    char derr[256] = "";
    int rc = ogg_opus_decode(&src, &o.rate, wav_emit, &o, derr, sizeof(derr));
    if (rc == 0 && !o.snd) /* an empty recording still gets a valid, empty WAV */
        rc = wav_emit(&o, NULL, 0);
    if (o.snd && sf_close(o.snd) != 0 && rc == 0) {
        o.why = "closing the WAV failed";
        rc = -1;
    }
    if (rc != 0 || (fd < 0 && wav->failed)) {
        snprintf(err, errsize, "recording.wav: %s", o.why ? o.why : derr[0] ? derr : "failed");
        return -1;
    }
    return 0;
}

struct compare {
    SNDFILE *snd;
    SF_INFO info;
    unsigned rate;
    uint64_t frames;
    int16_t buf[2 * 4096];
    const char *why;
    char detail[160];
};

static int compare_emit(void *user, const int16_t *stereo, size_t frames)
{
    struct compare *c = user;
    if (c->rate != (unsigned)c->info.samplerate) {
        snprintf(c->detail, sizeof(c->detail), "sample rate %d Hz, the Ogg decodes at %u Hz",
                 c->info.samplerate, c->rate);
        return -1;
    }
    while (frames) {
        size_t n = frames < 4096 ? frames : 4096;
        sf_count_t got = sf_readf_short(c->snd, c->buf, (sf_count_t)n);
        if (got != (sf_count_t)n) {
            snprintf(c->detail, sizeof(c->detail), "ends after %llu frames, the Ogg has more",
                     (unsigned long long)(c->frames + (uint64_t)(got > 0 ? got : 0)));
            return -1;
        }
        for (size_t i = 0; i < 2 * n; i++)
            if (c->buf[i] != stereo[i]) {
                snprintf(c->detail, sizeof(c->detail),
                         "sample %llu of channel %zu differs from the Ogg's decoding",
                         (unsigned long long)(c->frames + i / 2), i % 2);
                return -1;
            }
        c->frames += n;
        stereo += 2 * n;
        frames -= n;
    }
    return 0;
}

int wav_matches_ogg(const uint8_t *wav, size_t wav_len, const uint8_t *ogg, size_t ogg_len,
                    char *why, size_t whysize)
{
    struct compare *c = calloc(1, sizeof(*c));
    struct vfile v = {.ro = wav, .ro_len = wav_len};
    struct mem_reader r;
    struct byte_source src = mem_source(&r, ogg, ogg_len);
    char derr[256] = "";
    int rc = -1;
    if (!c) {
        snprintf(why, whysize, "out of memory");
        return -1;
    }
    c->snd = sf_open_virtual(&vio, SFM_READ, &c->info, &v);
    if (!c->snd) {
        snprintf(why, whysize, "not a readable WAV file: %s", sf_strerror(NULL));
        goto out;
    }
    if (c->info.channels != 2 || (c->info.format & SF_FORMAT_SUBMASK) != SF_FORMAT_PCM_16 ||
        (c->info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_WAV) {
        snprintf(why, whysize, "not a 16-bit stereo PCM WAV");
        rc = 1;
        goto out;
    }
    if (ogg_opus_decode(&src, &c->rate, compare_emit, c, derr, sizeof(derr)) != 0) {
        if (c->detail[0]) {
            snprintf(why, whysize, "%s", c->detail);
            rc = 1;
        } else {
            snprintf(why, whysize, "recording.ogg does not decode: %s", derr);
        }
        goto out;
    }
    if (c->info.frames != (sf_count_t)c->frames) {
        snprintf(why, whysize, "%lld frames, the Ogg decodes to %llu", (long long)c->info.frames,
                 (unsigned long long)c->frames);
        rc = 1;
        goto out;
    }
    rc = 0;
out:
    if (c->snd)
        sf_close(c->snd);
    free(c);
    return rc;
}

/*
 * wav_export.c - decodes a recording to a WAV file (16-bit PCM, 2 channels: caller,
 * callee) through libsndfile, for listeners and tools that have no Opus decoder.
 *
 * The WAV is written under a temporary name (mkstemp) in the target's directory, then
 * fsync'd and renamed over the target: a failed or interrupted export never leaves a
 * partial file under the real name (rename(2) is atomic within a file system).
 */
#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/wav_export.h"

struct wav_job {
    int fd;
    SNDFILE *snd;
    unsigned rate; /* set by ogg_opus_decode before the first emit */
    const char *why;
};

/* Opens the WAV on the temporary file once the rate is known. */
static int open_wav(struct wav_job *x)
{
    SF_INFO info = {0};
    info.samplerate = (int)x->rate;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    x->snd = sf_open_fd(x->fd, SFM_WRITE, &info, SF_FALSE);
    if (!x->snd) {
        x->why = sf_strerror(NULL);
        return -1;
    }
    return 0;
}

static int emit(void *user, const int16_t *stereo, size_t frames)
{
    struct wav_job *x = user;
    if (!x->snd && open_wav(x) != 0)
        return -1;
    if (sf_writef_short(x->snd, stereo, (sf_count_t)frames) != (sf_count_t)frames) {
        x->why = sf_strerror(x->snd);
        return -1;
    }
    return 0;
}

/* Makes the rename durable (best effort: the export itself has succeeded). */
static void sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (!slash) {
        dir[0] = '.';
        len = 1;
    } else if (len == 0) {
        dir[0] = '/';
        len = 1;
    } else if (len < sizeof(dir)) {
        memcpy(dir, path, len);
    } else {
        return;
    }
    dir[len] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int wav_export_from_ogg(const struct byte_source *src, bool truncated, const char *path, char *err,
                        size_t errsize)
{
    struct wav_job x = {.fd = -1};
    char tmp[4096], derr[256];
    const char *why;
    bool have_tmp = false;
    int n;

    why = "path too long";
    n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        goto error;
    x.fd = mkstemp(tmp);
    if (x.fd < 0) {
        why = strerror(errno);
        goto error;
    }
    have_tmp = true;
    /* Cut short, the decode fails at the cut; what it emitted before is the valid start
     * of the recording (ogg_opus.h).  An error of the WAV side (x.why) still fails. */
    if (ogg_opus_decode(src, &x.rate, emit, &x, derr, sizeof(derr)) != 0 && (!truncated || x.why)) {
        why = x.why ? x.why : derr;
        goto error;
    }
    if (!x.snd && open_wav(&x) != 0) { /* an empty recording is an empty WAV */
        why = x.why;
        goto error;
    }
    n = sf_close(x.snd);
    x.snd = NULL;
    why = "cannot finish the WAV header";
    if (n != 0)
        goto error;
    if (fsync(x.fd) != 0 || close(x.fd) != 0) {
        x.fd = -1;
        why = strerror(errno);
        goto error;
    }
    x.fd = -1;
    if (rename(tmp, path) != 0) {
        why = strerror(errno);
        goto error;
    }
    sync_dir(path);
    if (err && errsize)
        err[0] = '\0';
    return 0;

error:
    if (err && errsize)
        snprintf(err, errsize, "wav export %s: %s", path, why);
    if (x.snd)
        sf_close(x.snd);
    if (x.fd >= 0)
        close(x.fd);
    if (have_tmp)
        unlink(tmp);
    return -1;
}

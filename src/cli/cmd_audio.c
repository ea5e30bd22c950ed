/*
 * cmd_audio.c - `greffier -d DIR audio ID -o FILE.ogg|FILE.wav`: a call's recording,
 * checked against the index, written as the Ogg Opus file itself or decoded to a 16-bit
 * stereo WAV (caller left, callee right).
 *
 * Nothing is written unless the stored file is intact (recording_verify: a recording the
 * index knows as truncated by a crash plays up to its last sealed chunk), and the
 * output appears whole or not at all: it is written under a temporary name beside FILE,
 * synced, then renamed (rename(2) is atomic within a file system).  The recording is
 * read only through recording_source.h, which the vault will make decrypt.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/recording_source.h"
#include "greffier/wav_export.h"

#define AUDIO_USAGE "[-d DIR] audio ID -o FILE.ogg|FILE.wav"

enum out_format { OUT_OGG, OUT_WAV };

/* The format is the output's extension, so the file's name never lies about it. */
static bool format_of(const char *path, enum out_format *f)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return false;
    if (strcasecmp(dot, ".ogg") == 0)
        *f = OUT_OGG;
    else if (strcasecmp(dot, ".wav") == 0)
        *f = OUT_WAV;
    else
        return false;
    return true;
}

/* Best effort: the file itself is already synced. */
static void sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (!slash)
        dir[len++] = '.';
    else if (len == 0)
        dir[len++] = '/';
    else if (len < sizeof(dir))
        memcpy(dir, path, len);
    else
        return;
    dir[len] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The Ogg Opus bytes of src into path, through a temporary file (mode 0600, as
 * mkstemp makes it: it is a call recording). */
static int copy_to_file(const struct byte_source *src, const char *path, char *err, size_t errsize)
{
    char tmp[4096];
    uint8_t buf[64 * 1024];
    const char *why;
    int fd = -1;

    int n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    why = "path too long";
    if (n < 0 || (size_t)n >= sizeof(tmp))
        goto error;
    fd = mkstemp(tmp);
    if (fd < 0) {
        why = strerror(errno);
        goto error;
    }
    for (;;) {
        long got = src->read(src->user, buf, sizeof(buf));
        why = "reading the recording failed";
        if (got < 0)
            goto error_tmp;
        if (got == 0)
            break;
        if (write_all(fd, buf, (size_t)got) != 0) {
            why = strerror(errno);
            goto error_tmp;
        }
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        why = strerror(errno);
        goto error_tmp;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        why = strerror(errno);
        goto error_tmp;
    }
    sync_parent(path);
    return 0;

error_tmp:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
error:
    snprintf(err, errsize, "%s: %s", path, why);
    return -1;
}

/* Exporting over the stored recording itself would destroy the evidence. */
static bool is_stored_file(const struct cli *cli, const struct recording_info *info,
                           const char *out)
{
    char stored[4352];
    struct stat a, b;
    snprintf(stored, sizeof(stored), "%s/%s", cli->cfg.data_dir, info->path);
    return stat(stored, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static int write_recording(struct cli *cli, struct index *ix, int64_t id, const char *out,
                           enum out_format fmt)
{
    struct recording_info info;
    char err[1024];

    switch (index_get_recording(ix, id, &info)) {
    case 1:
        break;
    case 0:
        fprintf(stderr, "greffier: audio: call %lld has no recording (media: %s)\n", (long long)id,
                info.media_state[0] ? info.media_state : "not processed");
        return EXIT_FAIL;
    case -2:
        fprintf(stderr, "greffier: audio: no call with id %lld\n", (long long)id);
        return EXIT_FAIL;
    default:
        fprintf(stderr, "greffier: audio: reading the index failed\n");
        return EXIT_FAIL;
    }
    if (is_stored_file(cli, &info, out)) {
        fprintf(stderr, "greffier: audio: %s is the stored recording itself; choose another file\n",
                out);
        return EXIT_USAGE;
    }
    /* One function decides whether the stored file is intact (the vault will check its
     * chunks instead); nothing is written when it is not. */
    int v = recording_verify(cli->cfg.data_dir, &info, err, sizeof(err));
    if (v != 0) {
        fprintf(stderr, "greffier: audio: %s%s\n", err, v > 0 ? "; nothing written" : "");
        return EXIT_FAIL;
    }

    bool truncated = strcmp(info.state, "truncated") == 0;
    struct byte_source src;
    struct recording_source *rs =
        recording_open_source(cli->cfg.data_dir, &info, &src, err, sizeof(err));
    if (!rs) {
        fprintf(stderr, "greffier: audio: %s\n", err);
        return EXIT_FAIL;
    }
    int rc = fmt == OUT_OGG ? copy_to_file(&src, out, err, sizeof(err))
                            : wav_export_from_ogg(&src, truncated, out, err, sizeof(err));
    recording_source_close(rs);
    if (rc != 0) {
        fprintf(stderr, "greffier: audio: call %lld: %s\n", (long long)id, err);
        return EXIT_FAIL;
    }
    if (truncated)
        printf("%s: recording of call %lld (truncated by a crash: up to its last sealed chunk, "
               "%s)\n",
               out, (long long)id, fmt == OUT_OGG ? "Ogg Opus" : "WAV, 16-bit, 2 channels");
    else
        printf("%s: recording of call %lld (%.3f s, %s)\n", out, (long long)id, info.duration_s,
               fmt == OUT_OGG ? "Ogg Opus" : "WAV, 16-bit, 2 channels");
    return EXIT_OK;
}

int cmd_audio(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    enum out_format fmt = OUT_OGG;
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "o:", opts, AUDIO_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'o':
            out = optarg;
            break;
        }
    }
    if (optind + 1 != argc) {
        cli_usage_error(optind >= argc ? "audio: no call ID given" : "audio: one call ID only");
        return EXIT_USAGE;
    }
    int64_t id;
    if (!cli_parse_call_id(argv[optind], &id)) {
        cli_usage_error("audio: \"%s\" is not a call ID (the id of `greffier calls`)",
                        argv[optind]);
        return EXIT_USAGE;
    }
    if (!out || !*out) {
        cli_usage_error("audio: -o FILE.ogg or -o FILE.wav is required");
        return EXIT_USAGE;
    }
    if (!format_of(out, &fmt)) {
        cli_usage_error("audio: -o %s: the file name must end in .ogg (Opus, as stored) or .wav",
                        out);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    rc = write_recording(cli, ix, id, out, fmt);
    index_close(ix);
    return rc;
}

/*
 * recording_file.c - a recording sealed by the vault as it is written, under a
 * temporary name, hashed (sealed bytes), synced periodically, made durable and renamed
 * into place on commit (see recording_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "greffier/log.h"

#include "recording_file.h"

struct recording_file {
    int fd;
    struct vault_writer *vw;
    unsigned sync_interval_s;
    struct timespec last_sync;
    char dir[4300];
    char tmp_path[4410];
    char final_path[4400];
    EVP_MD_CTX *sha;
    uint64_t bytes;
    int failed_errno;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* mkdir -p for the date folders, mode 0700 like the data directory. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(path, 0700);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return (mkdir(path, 0700) == 0 || errno == EEXIST) ? 0 : -1;
}

/* The vault writer's sink: sealed bytes to the file, hashed, and an fdatasync when
 * sync_interval_s went by since the last one (wall time: at import, faster than real
 * time, that is fewer syncs per second of audio, which only a crash could notice). */
static int sealed_write(void *user, const uint8_t *data, size_t len)
{
    struct recording_file *rf = user;
    if (rf->failed_errno)
        return -1;
    EVP_DigestUpdate(rf->sha, data, len);
    while (len > 0) {
        ssize_t w = write(rf->fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rf->failed_errno = w < 0 ? errno : EIO;
            return -1;
        }
        data += w;
        len -= (size_t)w;
        rf->bytes += (uint64_t)w;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - rf->last_sync.tv_sec >= (time_t)rf->sync_interval_s) {
        if (fdatasync(rf->fd) != 0) {
            rf->failed_errno = errno;
            return -1;
        }
        rf->last_sync = now;
    }
    return 0;
}

struct recording_file *recording_file_create(const char *data_dir, pkt_time_t start,
                                             const char *call_id, const struct vault_pubkey *pk,
                                             const void *meta, size_t metalen,
                                             unsigned sync_interval_s, char *relpath,
                                             size_t relsize, char *err, size_t errsize)
{
    struct recording_file *rf = calloc(1, sizeof(*rf));
    if (!rf) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    rf->fd = -1;
    time_t secs = (time_t)(start / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char day[32];
    strftime(day, sizeof(day), "%Y/%m/%d", &tm);
    /* Packet time and a hash of the Call-ID: unique, and nothing personal in the name. */
    snprintf(relpath, relsize, "recordings/%s/%lld-%016llx.gfv", day, (long long)start,
             (unsigned long long)fnv1a(call_id));
    snprintf(rf->dir, sizeof(rf->dir), "%s/recordings/%s", data_dir, day);
    snprintf(rf->final_path, sizeof(rf->final_path), "%s/%s", data_dir, relpath);
    snprintf(rf->tmp_path, sizeof(rf->tmp_path), "%s.part", rf->final_path);
    if (make_dirs(rf->dir) != 0) {
        snprintf(err, errsize, "%s: %s", rf->dir, strerror(errno));
        free(rf);
        return NULL;
    }
    rf->fd = open(rf->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    rf->sha = EVP_MD_CTX_new();
    if (rf->fd < 0 || !rf->sha || EVP_DigestInit_ex(rf->sha, EVP_sha256(), NULL) != 1) {
        snprintf(err, errsize, "%s: %s", rf->tmp_path, rf->fd < 0 ? strerror(errno) : "sha256");
        recording_file_abort(rf);
        return NULL;
    }
    /* Held until close: vault_recover() leaves a locked .part alone (a running daemon's
     * recording), and only closes those whose writer died. */
    (void)flock(rf->fd, LOCK_EX | LOCK_NB);
    rf->sync_interval_s = sync_interval_s ? sync_interval_s : 5;
    clock_gettime(CLOCK_MONOTONIC, &rf->last_sync);
    struct byte_sink sink = {.write = sealed_write, .user = rf};
    rf->vw = vault_writer_new(&sink, pk, meta, metalen, VAULT_CHUNK_DEFAULT, err, errsize);
    if (!rf->vw) {
        recording_file_abort(rf);
        return NULL;
    }
    return rf;
}

int recording_file_errno(const struct recording_file *rf)
{
    return rf ? rf->failed_errno : 0;
}

int recording_file_write(void *user, const uint8_t *data, size_t len)
{
    struct recording_file *rf = user;
    return vault_writer_write(rf->vw, data, len);
}

/* The recording already in place: its hash and size replace the new one's. */
static int hash_existing(struct recording_file *rf)
{
    uint8_t buf[16384];
    int fd = open(rf->final_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || EVP_DigestInit_ex(rf->sha, EVP_sha256(), NULL) != 1) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rf->bytes = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(rf->sha, buf, (size_t)n);
        rf->bytes += (uint64_t)n;
    }
    close(fd);
    return 0;
}

int recording_file_commit(struct recording_file *rf, bool replace_leftover, char *sha256,
                          uint64_t *bytes, char *err, size_t errsize)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (vault_writer_finish(rf->vw) != 0 && !rf->failed_errno) {
        snprintf(err, errsize, "%s: %s", rf->tmp_path, vault_writer_error(rf->vw));
        recording_file_abort(rf);
        return -1;
    }
    if (rf->failed_errno || fsync(rf->fd) != 0 || close(rf->fd) != 0) {
        snprintf(err, errsize, "%s: %s", rf->tmp_path,
                 strerror(rf->failed_errno ? rf->failed_errno : errno));
        if (rf->fd >= 0 && !rf->failed_errno)
            rf->fd = -1; /* close() was called */
        recording_file_abort(rf);
        return -1;
    }
    rf->fd = -1;
    /* link() never replaces: a re-import of the same call (same start and Call-ID, so
     * the same name) keeps the recording the index already describes; its data key was
     * random, so a new one would differ from the index's SHA-256.  A call the index does
     * not know found there what a killed import left (a truncated recording, or a
     * finished one whose row was not committed): the new recording replaces it. */
    if (link(rf->tmp_path, rf->final_path) != 0) {
        if (errno == EEXIST && replace_leftover) {
            if (rename(rf->tmp_path, rf->final_path) != 0) {
                snprintf(err, errsize, "%s: %s", rf->final_path, strerror(errno));
                recording_file_abort(rf);
                return -1;
            }
            log_msg(LOG_WARNING, "media: %s: replaced the recording a crash left there",
                    rf->final_path);
        } else if (errno != EEXIST || hash_existing(rf) != 0) {
            snprintf(err, errsize, "%s: %s", rf->final_path, strerror(errno));
            recording_file_abort(rf);
            return -1;
        }
    }
    unlink(rf->tmp_path);
    int dfd = open(rf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    EVP_DigestFinal_ex(rf->sha, md, &mdlen);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(sha256 + 2 * i, 3, "%02x", md[i]);
    *bytes = rf->bytes;
    EVP_MD_CTX_free(rf->sha);
    vault_writer_free(rf->vw);
    free(rf);
    return 0;
}

void recording_file_abort(struct recording_file *rf)
{
    if (!rf)
        return;
    if (rf->fd >= 0)
        close(rf->fd);
    unlink(rf->tmp_path);
    EVP_MD_CTX_free(rf->sha);
    vault_writer_free(rf->vw);
    free(rf);
}

/*
 * recording_source.c - a stored recording read back as Ogg Opus bytes, and checked
 * against the index.
 *
 * Recordings are plain Ogg Opus files for now; the index holds each one's size and
 * SHA-256 (FIPS 180-4, through OpenSSL's EVP interface) from the moment it was written.
 * The vault replaces both functions with AEAD chunk decryption and verification
 * (docs/ARCHITECTURE.md); nothing else reads a recording file directly.
 *
 * The path comes from the index, which a curious admin can edit: it must stay inside the
 * data directory (relative, no "..", not a symbolic link at the end).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greffier/recording_source.h"

enum { PATH_SIZE = 4352, HASH_CHUNK = 64 * 1024 };

struct recording_source {
    int fd;
};

/* Relative, every component a name (no "", ".", ".."). */
static bool path_is_inside(const char *p)
{
    if (!p[0] || p[0] == '/')
        return false;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n + (slash ? 1 : 0);
        if (slash && !*p)
            return false; /* trailing slash: a directory */
    }
    return true;
}

/* Opens DATA_DIR/path for reading; -1 with err set. */
static int open_stored(const char *data_dir, const struct recording_info *info, char *err,
                       size_t errsize)
{
    char file[PATH_SIZE];
    struct stat sb;
    size_t plen = strnlen(info->path, sizeof(info->path));

    if (plen == sizeof(info->path) || !path_is_inside(info->path)) {
        snprintf(err, errsize, "recording %lld: path \"%.*s\" is not inside the data directory",
                 (long long)info->call_rowid, (int)plen, info->path);
        return -1;
    }
    int n = snprintf(file, sizeof(file), "%s/%s", data_dir, info->path);
    if (n < 0 || (size_t)n >= sizeof(file)) {
        snprintf(err, errsize, "recording %lld: path too long", (long long)info->call_rowid);
        return -1;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errsize, "recording %lld: %s: %s", (long long)info->call_rowid, file,
                 strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errsize, "recording %lld: %s: not a regular file",
                 (long long)info->call_rowid, file);
        close(fd);
        return -1;
    }
    return fd;
}

static long fd_read(void *user, uint8_t *buf, size_t len)
{
    struct recording_source *rs = user;
    for (;;) {
        ssize_t n = read(rs->fd, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -1;
    }
}

struct recording_source *recording_open_source(const char *data_dir,
                                               const struct recording_info *info,
                                               struct byte_source *src, char *err, size_t errsize)
{
    int fd = open_stored(data_dir, info, err, errsize);
    if (fd < 0)
        return NULL;
    struct recording_source *rs = malloc(sizeof(*rs));
    if (!rs) {
        snprintf(err, errsize, "out of memory");
        close(fd);
        return NULL;
    }
    rs->fd = fd;
    src->read = fd_read;
    src->user = rs;
    return rs;
}

void recording_source_close(struct recording_source *rs)
{
    if (!rs)
        return;
    close(rs->fd);
    free(rs);
}

int recording_verify(const char *data_dir, const struct recording_info *info, char *err,
                     size_t errsize)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char got[2 * EVP_MAX_MD_SIZE + 1];
    uint64_t total = 0;
    int ret = -1;
    uint8_t *buf = NULL;
    EVP_MD_CTX *ctx = NULL;

    if (strnlen(info->sha256, sizeof(info->sha256)) != 64) {
        snprintf(err, errsize, "recording %lld: the index holds no SHA-256 for it",
                 (long long)info->call_rowid);
        return -1;
    }
    int fd = open_stored(data_dir, info, err, errsize);
    if (fd < 0)
        return -1;
    buf = malloc(HASH_CHUNK);
    ctx = EVP_MD_CTX_new();
    if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        snprintf(err, errsize, "recording %lld: cannot start SHA-256", (long long)info->call_rowid);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, HASH_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errsize, "recording %lld: %s: %s", (long long)info->call_rowid,
                     info->path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
            snprintf(err, errsize, "recording %lld: SHA-256 failed", (long long)info->call_rowid);
            goto out;
        }
        total += (uint64_t)n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        snprintf(err, errsize, "recording %lld: SHA-256 failed", (long long)info->call_rowid);
        goto out;
    }
    for (unsigned i = 0; i < mdlen; i++) {
        got[2 * i] = hex[md[i] >> 4];
        got[2 * i + 1] = hex[md[i] & 15];
    }
    got[2 * mdlen] = '\0';
    ret = 0;
    if (strcasecmp(got, info->sha256) != 0 && total != info->bytes) {
        snprintf(err, errsize,
                 "recording %lld is altered (sha256 mismatch; %llu bytes, the index says %llu)",
                 (long long)info->call_rowid, (unsigned long long)total,
                 (unsigned long long)info->bytes);
        ret = 1;
    } else if (strcasecmp(got, info->sha256) != 0) {
        snprintf(err, errsize, "recording %lld is altered (sha256 mismatch)",
                 (long long)info->call_rowid);
        ret = 1;
    } else if (total != info->bytes) {
        /* The bytes are those that were written: it is the index that disagrees. */
        snprintf(err, errsize, "recording %lld: %llu bytes, the index says %llu",
                 (long long)info->call_rowid, (unsigned long long)total,
                 (unsigned long long)info->bytes);
        ret = 1;
    }
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    close(fd);
    return ret;
}

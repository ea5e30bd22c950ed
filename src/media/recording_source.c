/*
 * recording_source.c - a stored recording read back as Ogg Opus bytes, and checked
 * against the index.
 *
 * Recordings are sealed by the vault (docs/FORMAT.md); the index holds the size and
 * SHA-256 (FIPS 180-4, through OpenSSL's EVP interface) of each sealed file from the
 * moment it was written.  Reading decrypts through vault_reader with the private key of
 * DATA_DIR/keys; checking compares the hash (no key needed) and then authenticates
 * every chunk.  Nothing else reads a recording file directly.
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
#include "greffier/vault.h"

enum { PATH_SIZE = 4352, HASH_CHUNK = 64 * 1024 };

struct recording_source {
    struct vault_reader *r;
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
        int e = errno;
        snprintf(err, errsize, "recording %lld: %s: %s", (long long)info->call_rowid, file,
                 strerror(e));
        errno = e; /* recording_check tells a missing file from an unreadable one */
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

struct recording_source *recording_open_source(const char *data_dir,
                                               const struct recording_info *info,
                                               struct byte_source *src, char *err, size_t errsize)
{
    char keys[PATH_SIZE], why[512];
    enum vault_status st;
    int fd = open_stored(data_dir, info, err, errsize);
    if (fd < 0)
        return NULL;
    struct recording_source *rs = malloc(sizeof(*rs));
    if (!rs) {
        snprintf(err, errsize, "out of memory");
        close(fd);
        return NULL;
    }
    snprintf(keys, sizeof(keys), "%s/keys", data_dir);
    /* A recording the index knows as truncated plays up to its last complete chunk. */
    unsigned flags = strcmp(info->state, "truncated") == 0 ? VAULT_OPEN_ALLOW_TRUNCATED : 0;
    rs->r = vault_reader_open(fd, keys, flags, &st, why, sizeof(why));
    if (!rs->r) {
        snprintf(err, errsize, "recording %lld: %s: %s", (long long)info->call_rowid, info->path,
                 why);
        free(rs);
        return NULL;
    }
    vault_reader_source(rs->r, src);
    return rs;
}

void recording_source_close(struct recording_source *rs)
{
    if (!rs)
        return;
    vault_reader_close(rs->r);
    free(rs);
}

/* SHA-256 and size of the whole file on fd; 0 or -1 (errno set). */
int recording_hash_fd(int fd, char got[65], uint64_t *total)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ret = -1;
    uint8_t *buf = malloc(HASH_CHUNK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    *total = 0;
    if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        errno = ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, HASH_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        *total += (uint64_t)n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        errno = EIO;
        goto out;
    }
    for (unsigned i = 0; i < mdlen; i++) {
        got[2 * i] = hex[md[i] >> 4];
        got[2 * i + 1] = hex[md[i] & 15];
    }
    got[2 * mdlen] = '\0';
    ret = 0;
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return ret;
}

/* Opens fd (which the reader then owns) and authenticates every chunk.  Returns the
 * vault status, err set on failure. */
static enum vault_status check_chunks(int fd, const char *keys, unsigned flags, char *err,
                                      size_t errsize)
{
    enum vault_status st;
    struct vault_reader *r = vault_reader_open(fd, keys, flags, &st, err, errsize);
    if (!r)
        return st;
    st = vault_reader_check_all(r);
    if (st != VAULT_OK)
        snprintf(err, errsize, "%s", vault_reader_error(r));
    vault_reader_close(r);
    return st;
}

enum recording_state recording_check(const char *data_dir, const struct recording_info *info,
                                     bool *keyed, char *err, size_t errsize)
{
    char got[65], keys[PATH_SIZE], why[512];
    uint64_t total = 0;
    long long id = (long long)info->call_rowid;
    *keyed = false;

    if (strnlen(info->sha256, sizeof(info->sha256)) != 64) {
        snprintf(err, errsize, "recording %lld: the index holds no SHA-256 for it", id);
        return RECORDING_UNCHECKED;
    }
    int fd = open_stored(data_dir, info, err, errsize);
    if (fd < 0)
        return errno == ENOENT ? RECORDING_MISSING : RECORDING_UNCHECKED;
    if (recording_hash_fd(fd, got, &total) != 0) {
        snprintf(err, errsize, "recording %lld: %s: %s", id, info->path, strerror(errno));
        close(fd);
        return RECORDING_UNCHECKED;
    }
    bool sha_ok = strcasecmp(got, info->sha256) == 0, size_ok = total == info->bytes;
    bool shorter = total < info->bytes;

    /* The chunks, when the private key is here (the replay side). */
    snprintf(keys, sizeof(keys), "%s/keys", data_dir);
    enum vault_status st = check_chunks(fd, keys, 0, why, sizeof(why));
    if (st == VAULT_E_KEY || st == VAULT_E_IO) {
        /* No key: the hash alone decides (it was computed over the sealed bytes). */
        if (sha_ok && size_ok) {
            snprintf(err, errsize, "recording %lld: sha256 only (%s)", id, why);
            return RECORDING_OK;
        }
        snprintf(err, errsize, "recording %lld is altered (sha256 mismatch; %llu bytes, the "
                               "index says %llu)", id, (unsigned long long)total,
                 (unsigned long long)info->bytes);
        return shorter ? RECORDING_TRUNCATED : RECORDING_TAMPERED;
    }
    *keyed = true;
    if (st == VAULT_OK && sha_ok && size_ok)
        return RECORDING_OK;
    if (st == VAULT_OK) {
        snprintf(err, errsize, "recording %lld is altered (every chunk authenticates, but the "
                               "sha256 differs from the index's)", id);
        return RECORDING_TAMPERED;
    }
    /* A file cut short fails at its last record only: reopened as truncated, every chunk
     * before the cut must still authenticate, and the index must expect more bytes (or
     * already know it as truncated). */
    if (st == VAULT_E_TRUNCATED || (st == VAULT_E_TAMPERED && shorter)) {
        char why2[512];
        int fd2 = open_stored(data_dir, info, why2, sizeof(why2));
        enum vault_status st2 =
            fd2 < 0 ? VAULT_E_IO
                    : check_chunks(fd2, keys, VAULT_OPEN_ALLOW_TRUNCATED, why2, sizeof(why2));
        if (st2 == VAULT_E_TRUNCATED &&
            (shorter || (sha_ok && strcmp(info->state, "truncated") == 0))) {
            snprintf(err, errsize, "recording %lld is truncated (%s; %llu bytes, the index "
                                   "says %llu)", id, why, (unsigned long long)total,
                     (unsigned long long)info->bytes);
            return RECORDING_TRUNCATED;
        }
        if (st2 != VAULT_E_TRUNCATED && st2 != VAULT_OK)
            snprintf(why, sizeof(why), "%s", why2);
    }
    snprintf(err, errsize, "recording %lld is altered (%s)", id, why);
    return RECORDING_TAMPERED;
}

/* The file is the very one the index describes (SHA-256 and size). */
static bool unchanged(const char *data_dir, const struct recording_info *info)
{
    char why[512], got[65];
    uint64_t total = 0;
    int fd = open_stored(data_dir, info, why, sizeof(why));
    if (fd < 0)
        return false;
    bool same = recording_hash_fd(fd, got, &total) == 0 &&
                strcasecmp(got, info->sha256) == 0 && total == info->bytes;
    close(fd);
    return same;
}

int recording_verify(const char *data_dir, const struct recording_info *info, char *err,
                     size_t errsize)
{
    bool keyed;
    switch (recording_check(data_dir, info, &keyed, err, errsize)) {
    case RECORDING_OK:
        return 0;
    case RECORDING_TRUNCATED:
        /* Cut by a crash and indexed as such (index_recover_live): it plays up to its
         * last sealed chunk, as long as not a byte changed since. */
        return strcmp(info->state, "truncated") == 0 && unchanged(data_dir, info) ? 0 : 1;
    case RECORDING_TAMPERED:
        return 1;
    default:
        return -1;
    }
}

uint64_t recording_source_size(const struct recording_source *rs)
{
    return vault_reader_size(rs->r);
}

long recording_source_read_at(struct recording_source *rs, uint64_t offset, uint8_t *buf,
                              size_t len)
{
    return vault_read_range(rs->r, offset, buf, len);
}

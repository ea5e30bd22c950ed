/*
 * open.c - the replay side of the vault: a sealed recording opened with its private
 * key, read at any offset by decrypting only the chunks the range touches, and checked
 * chunk by chunk (docs/FORMAT.md).
 *
 * The file is hostile until proven otherwise: every header field is range-checked
 * before use, and plaintext leaves a chunk only after its tag verified (STREAM: the
 * chunk's index and last flag are in its nonce, so reordering, dropping and truncation
 * all fail authentication).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "greffier/keys.h"
#include "vault_int.h"

struct vault_reader {
    int fd;
    uint8_t *hdr;
    size_t hlen;
    uint8_t key[VAULT_KEY];
    uint32_t chunk_size;
    uint64_t file_size;
    uint64_t nchunks;    /* readable chunks */
    size_t last_len;     /* sealed bytes of the last readable chunk */
    bool truncated;      /* the last readable chunk is not flagged last */
    uint64_t plain_size;
    uint8_t *meta;
    size_t metalen;
    uint8_t *sealed, *plain;
    int64_t cached;      /* chunk in plain, -1 none */
    size_t cached_len;
    uint64_t pos;        /* for the byte_source */
    enum vault_status status;
    char error[512];
};

static int fail(struct vault_reader *r, enum vault_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct vault_reader *r, enum vault_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    r->status = st;
    return -1;
}

static int read_at(struct vault_reader *r, uint64_t off, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = pread(r->fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(r, VAULT_E_IO, "read: %s", strerror(errno));
        if (n == 0)
            return fail(r, VAULT_E_TRUNCATED, "truncated: file ends at byte %llu",
                        (unsigned long long)off);
        buf += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Opens chunk i (sealed length len) into r->plain; -1 without setting an error. */
static int open_chunk(struct vault_reader *r, uint64_t i, size_t len, uint8_t last)
{
    uint8_t nonce[VAULT_NONCE];
    uint64_t off = r->hlen + i * ((uint64_t)r->chunk_size + VAULT_TAG);
    r->cached = -1;
    if (read_at(r, off, r->sealed, len) != 0)
        return -1;
    vault_nonce(nonce, r->hdr + VH_PREFIX, (uint32_t)i, last);
    if (vault_gcm_open(r->key, nonce, r->hdr, VH_IMMUTABLE, r->sealed, len, r->plain) != 0)
        return -1;
    r->cached = (int64_t)i;
    r->cached_len = len - VAULT_TAG;
    return 0;
}

static EVP_PKEY *load_private(struct vault_reader *r, const char *keys_dir, unsigned id)
{
    char name[32], path[4300];
    snprintf(name, sizeof(name), "recording-%04u.key", id);
    keys_private_path(keys_dir, name, path, sizeof(path));
    FILE *f = fopen(path, "re");
    if (!f) {
        fail(r, VAULT_E_KEY, "key %u: %s: %s", id, path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_X25519) {
        EVP_PKEY_free(k);
        fail(r, VAULT_E_KEY, "key %u: %s is not an X25519 private key", id, path);
        return NULL;
    }
    uint8_t raw[VAULT_X25519], fpr[VAULT_FPR];
    if (vault_raw_public(k, raw) != 0) {
        EVP_PKEY_free(k);
        fail(r, VAULT_E_KEY, "key %u: %s: no public part", id, path);
        return NULL;
    }
    vault_fingerprint(raw, fpr);
    if (memcmp(fpr, r->hdr + VH_KEY_FPR, VAULT_FPR) != 0) {
        EVP_PKEY_free(k);
        fail(r, VAULT_E_KEY, "key %u: %s is not the key this recording was sealed for", id,
             path);
        return NULL;
    }
    return k;
}

/* Magic, lengths and ranges; reads the whole header into r->hdr. */
static int read_header(struct vault_reader *r)
{
    uint8_t fixed[VH_FIXED];
    struct stat sb;
    if (fstat(r->fd, &sb) != 0)
        return fail(r, VAULT_E_IO, "stat: %s", strerror(errno));
    r->file_size = (uint64_t)sb.st_size;
    if (r->file_size < 16 || pread(r->fd, fixed, 16, 0) != 16 ||
        memcmp(fixed, VAULT_MAGIC, 16) != 0)
        return fail(r, VAULT_E_FORMAT, "header: not a sealed recording (no %.15s magic)",
                    VAULT_MAGIC);
    if (r->file_size < VH_FIXED)
        return fail(r, VAULT_E_TRUNCATED, "truncated: header cut short");
    if (read_at(r, 0, fixed, VH_FIXED) != 0)
        return -1;
    uint32_t hlen = vault_get32(fixed + VH_HEADER_LEN);
    uint32_t csize = vault_get32(fixed + VH_CHUNK_SIZE);
    uint32_t mlen = vault_get32(fixed + VH_META_LEN);
    if (csize < VAULT_CHUNK_MIN || csize > VAULT_CHUNK_MAX)
        return fail(r, VAULT_E_FORMAT, "header: chunk size %u out of range", csize);
    if (mlen < VAULT_TAG || mlen > VAULT_META_MAX + VAULT_TAG || hlen != VH_FIXED + mlen ||
        fixed[VH_RESERVED] != 0)
        return fail(r, VAULT_E_FORMAT, "header: inconsistent lengths");
    if (r->file_size < hlen)
        return fail(r, VAULT_E_TRUNCATED, "truncated: header cut short");
    r->hlen = hlen;
    r->chunk_size = csize;
    r->hdr = malloc(hlen);
    r->meta = malloc(mlen);
    r->sealed = malloc((size_t)csize + VAULT_TAG);
    r->plain = malloc((size_t)csize + VAULT_TAG);
    if (!r->hdr || !r->meta || !r->sealed || !r->plain)
        return fail(r, VAULT_E_IO, "out of memory");
    return read_at(r, 0, r->hdr, hlen);
}

/* Where the stream ends: the last record must open with the last flag. */
static int find_end(struct vault_reader *r, unsigned flags)
{
    uint64_t rec = (uint64_t)r->chunk_size + VAULT_TAG;
    uint64_t body = r->file_size - r->hlen;
    uint64_t full = body / rec, rem = body % rec;
    if (full + (rem ? 1 : 0) >= UINT32_MAX)
        return fail(r, VAULT_E_FORMAT, "too many chunks");
    uint64_t idx = rem ? full : full - 1;
    size_t len = rem ? (size_t)rem : (size_t)rec;
    if (body == 0) {
        idx = 0;
        fail(r, VAULT_E_TRUNCATED, "truncated: no chunk after the header");
    } else if (len >= VAULT_TAG && open_chunk(r, idx, len, 1) == 0) {
        r->nchunks = idx + 1;
        r->last_len = len;
        r->plain_size = idx * r->chunk_size + (len - VAULT_TAG);
        return 0;
    } else if (len == rec && open_chunk(r, idx, len, 0) == 0) {
        /* A whole chunk that is not the last: the writer stopped after it. */
        fail(r, VAULT_E_TRUNCATED, "truncated: no last chunk after chunk %llu",
             (unsigned long long)idx);
        idx++;
    } else if (len < VAULT_TAG) {
        fail(r, VAULT_E_TRUNCATED, "truncated: chunk %llu cut short", (unsigned long long)idx);
    } else {
        /* A partial record that does not open as the last: cut short, or altered;
         * only the index's byte count can tell (recording_verify does). */
        fail(r, VAULT_E_TAMPERED, "chunk %llu: authentication failed", (unsigned long long)idx);
    }
    if (!(flags & VAULT_OPEN_ALLOW_TRUNCATED) || r->status == VAULT_E_IO)
        return -1;
    /* Chunks 0..idx-1 are full and not last; each is checked when read. */
    r->truncated = true;
    r->nchunks = idx;
    r->last_len = (size_t)rec;
    r->plain_size = idx * r->chunk_size;
    r->status = VAULT_OK;
    return 0;
}

struct vault_reader *vault_reader_open(int fd, const char *keys_dir, unsigned flags,
                                       enum vault_status *status, char *err, size_t errsize)
{
    uint8_t nonce[VAULT_NONCE];
    EVP_PKEY *priv = NULL;
    struct vault_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        close(fd);
        *status = VAULT_E_IO;
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    r->fd = fd;
    r->cached = -1;
    if (read_header(r) != 0)
        goto error;
    unsigned id = vault_get32(r->hdr + VH_KEY_ID);
    priv = load_private(r, keys_dir, id);
    if (!priv)
        goto error;
    if (vault_unwrap(r->hdr, priv, r->key) != 0) {
        fail(r, VAULT_E_TAMPERED, "header: the data key does not unwrap with key %u (header "
                                  "altered)", id);
        goto error;
    }
    r->metalen = r->hlen - VH_FIXED - VAULT_TAG;
    vault_nonce(nonce, r->hdr + VH_PREFIX, UINT32_MAX, 2);
    if (vault_gcm_open(r->key, nonce, r->hdr, VH_IMMUTABLE, r->hdr + VH_FIXED,
                       r->hlen - VH_FIXED, r->meta) != 0) {
        fail(r, VAULT_E_TAMPERED, "header: metadata authentication failed");
        goto error;
    }
    if (find_end(r, flags) != 0)
        goto error;
    EVP_PKEY_free(priv);
    *status = VAULT_OK;
    return r;
error:
    EVP_PKEY_free(priv);
    *status = r->status;
    snprintf(err, errsize, "%s", r->error);
    vault_reader_close(r);
    return NULL;
}

uint64_t vault_reader_size(const struct vault_reader *r)
{
    return r->plain_size;
}

bool vault_reader_truncated(const struct vault_reader *r)
{
    return r->truncated;
}

unsigned vault_reader_key_id(const struct vault_reader *r)
{
    return vault_get32(r->hdr + VH_KEY_ID);
}

unsigned vault_reader_chunk_size(const struct vault_reader *r)
{
    return r->chunk_size;
}

const uint8_t *vault_reader_meta(const struct vault_reader *r, size_t *len)
{
    *len = r->metalen;
    return r->meta;
}

enum vault_status vault_reader_status(const struct vault_reader *r)
{
    return r->status;
}

const char *vault_reader_error(const struct vault_reader *r)
{
    return r->error[0] ? r->error : "no error";
}

/* Makes chunk i the cached one. */
static int load_chunk(struct vault_reader *r, uint64_t i)
{
    if (r->cached == (int64_t)i)
        return 0;
    bool last = i + 1 == r->nchunks;
    size_t len = last ? r->last_len : (size_t)r->chunk_size + VAULT_TAG;
    if (open_chunk(r, i, len, last && !r->truncated) == 0)
        return 0;
    if (r->status == VAULT_E_IO || r->status == VAULT_E_TRUNCATED)
        return -1;
    return fail(r, VAULT_E_TAMPERED, "chunk %llu: authentication failed", (unsigned long long)i);
}

long vault_read_range(struct vault_reader *r, uint64_t offset, void *buf, size_t len)
{
    uint8_t *out = buf;
    size_t done = 0;
    if (len > (size_t)1 << 30)
        len = (size_t)1 << 30;
    while (done < len && offset < r->plain_size) {
        uint64_t i = offset / r->chunk_size;
        size_t at = (size_t)(offset % r->chunk_size);
        if (load_chunk(r, i) != 0)
            return -1;
        size_t n = r->cached_len - at;
        if (n > len - done)
            n = len - done;
        memcpy(out + done, r->plain + at, n);
        done += n;
        offset += n;
    }
    return (long)done;
}

enum vault_status vault_reader_check_all(struct vault_reader *r)
{
    for (uint64_t i = 0; i < r->nchunks; i++)
        if (load_chunk(r, i) != 0)
            return r->status;
    if (r->truncated) {
        if (r->nchunks)
            fail(r, VAULT_E_TRUNCATED, "truncated: no last chunk after chunk %llu",
                 (unsigned long long)r->nchunks - 1);
        else
            fail(r, VAULT_E_TRUNCATED, "truncated: no complete chunk");
        return VAULT_E_TRUNCATED;
    }
    return VAULT_OK;
}

static long source_read(void *user, uint8_t *buf, size_t len)
{
    struct vault_reader *r = user;
    long n = vault_read_range(r, r->pos, buf, len);
    if (n > 0)
        r->pos += (uint64_t)n;
    return n;
}

void vault_reader_source(struct vault_reader *r, struct byte_source *src)
{
    r->pos = 0;
    src->read = source_read;
    src->user = r;
}

void vault_reader_close(struct vault_reader *r)
{
    if (!r)
        return;
    OPENSSL_cleanse(r->key, sizeof(r->key));
    if (r->plain)
        OPENSSL_cleanse(r->plain, (size_t)r->chunk_size + VAULT_TAG);
    if (r->fd >= 0)
        close(r->fd);
    free(r->hdr);
    free(r->meta);
    free(r->sealed);
    free(r->plain);
    free(r);
}

const uint8_t *vault_reader_header_(const struct vault_reader *r, size_t *len)
{
    *len = r->hlen;
    return r->hdr;
}

const uint8_t *vault_reader_key_(const struct vault_reader *r)
{
    return r->key;
}

int vault_reader_fd_(const struct vault_reader *r)
{
    return r->fd;
}

uint64_t vault_reader_file_size_(const struct vault_reader *r)
{
    return r->file_size;
}

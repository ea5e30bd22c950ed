/*
 * seal.c - the capture side of the vault: recording public keys, and a byte_sink that
 * seals what it is given into fixed-size AES-256-GCM chunks (docs/FORMAT.md).
 *
 * Only the public key is ever loaded here: the process that parses hostile packets
 * can write recordings and can never read one back (STYLE.md rule 8).  Plaintext lives
 * only in the one-chunk buffer below, never on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "vault_int.h"

struct vault_pubkey *vault_load_pubkey(const char *path, unsigned id, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_X25519) {
        snprintf(err, errsize, "%s: not an X25519 public key (PEM)", path);
        EVP_PKEY_free(key);
        return NULL;
    }
    struct vault_pubkey *pk = calloc(1, sizeof(*pk));
    if (!pk) {
        snprintf(err, errsize, "out of memory");
        EVP_PKEY_free(key);
        return NULL;
    }
    pk->id = id;
    pk->key = key;
    return pk;
}

/* "recording-NNNN.pub" -> NNNN (1..99999999), else 0. */
static unsigned pub_id(const char *name)
{
    static const char pre[] = "recording-", suf[] = ".pub";
    size_t n = strlen(name);
    if (n <= strlen(pre) + strlen(suf) || strncmp(name, pre, strlen(pre)) != 0 ||
        strcmp(name + n - strlen(suf), suf) != 0)
        return 0;
    unsigned long v = 0;
    for (const char *p = name + strlen(pre); p < name + n - strlen(suf); p++) {
        if (*p < '0' || *p > '9' || v > 9999999)
            return 0;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return (unsigned)v;
}

unsigned vault_newest_key_id(const char *keys_dir)
{
    DIR *d = opendir(keys_dir);
    unsigned best = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        unsigned id = pub_id(e->d_name);
        if (id > best)
            best = id;
    }
    closedir(d);
    return best;
}

struct vault_pubkey *vault_load_newest_pubkey(const char *data_dir, char *err, size_t errsize)
{
    char dir[4200], path[4300];
    snprintf(dir, sizeof(dir), "%s/keys", data_dir);
    unsigned id = vault_newest_key_id(dir);
    if (id == 0) {
        snprintf(err, errsize, "%s: no recording public key (recording-NNNN.pub; run greffier "
                               "init or keygen)", dir);
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/recording-%04u.pub", dir, id);
    return vault_load_pubkey(path, id, err, errsize);
}

unsigned vault_pubkey_id(const struct vault_pubkey *pk)
{
    return pk->id;
}

void vault_pubkey_free(struct vault_pubkey *pk)
{
    if (!pk)
        return;
    EVP_PKEY_free(pk->key);
    free(pk);
}

struct vault_writer {
    struct byte_sink out;
    uint8_t key[VAULT_KEY];
    uint8_t immutable[VH_IMMUTABLE]; /* every chunk's associated data */
    uint32_t chunk_size;
    uint32_t index;   /* the next chunk's counter */
    uint8_t *plain;   /* chunk_size bytes */
    uint8_t *sealed;  /* chunk_size + 16 */
    size_t fill;
    bool failed, finished;
    const char *error;
};

static int seal_chunk(struct vault_writer *w, uint8_t last)
{
    uint8_t nonce[VAULT_NONCE];
    if (w->index == UINT32_MAX) {
        w->error = "too many chunks";
        return -1;
    }
    vault_nonce(nonce, w->immutable + VH_PREFIX, w->index, last);
    if (vault_gcm_seal(w->key, nonce, w->immutable, VH_IMMUTABLE, w->plain, w->fill,
                       w->sealed) != 0) {
        w->error = "AES-GCM failed";
        return -1;
    }
    if (w->out.write(w->out.user, w->sealed, w->fill + VAULT_TAG) != 0) {
        w->error = "writing a chunk failed";
        return -1;
    }
    w->index++;
    w->fill = 0;
    return 0;
}

struct vault_writer *vault_writer_new(const struct byte_sink *out, const struct vault_pubkey *pk,
                                      const void *meta, size_t metalen, unsigned chunk_size,
                                      char *err, size_t errsize)
{
    uint8_t *hdr = NULL;
    uint8_t nonce[VAULT_NONCE];
    const char *why = "out of memory";
    if (chunk_size == 0)
        chunk_size = VAULT_CHUNK_DEFAULT;
    if (chunk_size < VAULT_CHUNK_MIN || chunk_size > VAULT_CHUNK_MAX || metalen > VAULT_META_MAX) {
        snprintf(err, errsize, "vault: chunk size %u or metadata size %zu out of range",
                 chunk_size, metalen);
        return NULL;
    }
    struct vault_writer *w = calloc(1, sizeof(*w));
    if (!w)
        goto error;
    w->out = *out;
    w->chunk_size = chunk_size;
    w->plain = malloc(chunk_size);
    w->sealed = malloc((size_t)chunk_size + VAULT_TAG);
    size_t hlen = VH_FIXED + metalen + VAULT_TAG;
    hdr = calloc(1, hlen);
    if (!w->plain || !w->sealed || !hdr)
        goto error;
    memcpy(hdr + VH_MAGIC, VAULT_MAGIC, 16);
    vault_put32(hdr + VH_HEADER_LEN, (uint32_t)hlen);
    vault_put32(hdr + VH_CHUNK_SIZE, chunk_size);
    vault_put32(hdr + VH_META_LEN, (uint32_t)(metalen + VAULT_TAG));
    why = "no randomness";
    if (RAND_bytes(w->key, VAULT_KEY) != 1 || RAND_bytes(hdr + VH_FILE_ID, 16) != 1 ||
        RAND_bytes(hdr + VH_PREFIX, VAULT_PREFIX) != 1)
        goto error;
    memcpy(w->immutable, hdr, VH_IMMUTABLE);
    why = "cannot wrap the data key for the recording public key";
    if (vault_wrap(hdr, pk->id, pk->key, w->key) != 0)
        goto error;
    why = "cannot seal the metadata";
    vault_nonce(nonce, hdr + VH_PREFIX, UINT32_MAX, 2);
    if (vault_gcm_seal(w->key, nonce, w->immutable, VH_IMMUTABLE, meta, metalen,
                       hdr + VH_FIXED) != 0)
        goto error;
    why = "writing the header failed";
    if (out->write(out->user, hdr, hlen) != 0)
        goto error;
    free(hdr);
    return w;
error:
    snprintf(err, errsize, "vault: %s", why);
    free(hdr);
    vault_writer_free(w);
    return NULL;
}

int vault_writer_write(void *user, const uint8_t *data, size_t len)
{
    struct vault_writer *w = user;
    if (w->failed || w->finished) {
        w->error = w->failed ? w->error : "write after finish";
        return -1;
    }
    while (len > 0) {
        size_t n = w->chunk_size - w->fill;
        if (n > len)
            n = len;
        memcpy(w->plain + w->fill, data, n);
        w->fill += n;
        data += n;
        len -= n;
        /* A full chunk leaves at once (not the last: the last is sealed by finish,
         * possibly empty), so a crash loses at most one chunk. */
        if (w->fill == w->chunk_size && seal_chunk(w, 0) != 0) {
            w->failed = true;
            return -1;
        }
    }
    return 0;
}

int vault_writer_finish(struct vault_writer *w)
{
    if (w->failed || w->finished)
        return -1;
    w->finished = true;
    if (seal_chunk(w, 1) != 0) {
        w->failed = true;
        return -1;
    }
    OPENSSL_cleanse(w->plain, w->chunk_size);
    return 0;
}

const char *vault_writer_error(const struct vault_writer *w)
{
    return w->error ? w->error : "no error";
}

void vault_writer_free(struct vault_writer *w)
{
    if (!w)
        return;
    OPENSSL_cleanse(w->key, sizeof(w->key));
    if (w->plain)
        OPENSSL_cleanse(w->plain, w->chunk_size);
    free(w->plain);
    free(w->sealed);
    free(w);
}

/*
 * rekey.c - a sealed recording's data key wrapped for another recording key, without
 * touching its chunks (docs/FORMAT.md "Re-keying").
 *
 * The chunks authenticate only the immutable part of the header (magic, lengths, file
 * id, nonce prefix), so the key block can be replaced while every chunk stays valid.
 * The file is checked whole first: re-keying must never launder an altered recording
 * into one whose new SHA-256 the index would then vouch for.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vault_int.h"

static int write_all(int fd, EVP_MD_CTX *sha, const uint8_t *p, size_t len)
{
    EVP_DigestUpdate(sha, p, len);
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

static void sync_dir_of(const char *path)
{
    char copy[4400];
    snprintf(copy, sizeof(copy), "%s", path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

enum vault_status vault_rekey_file(const char *path, const char *keys_dir,
                                   const struct vault_pubkey *pk, char *sha256, uint64_t *bytes,
                                   char *err, size_t errsize)
{
    enum vault_status st;
    char tmp[4400];
    uint8_t *hdr = NULL, buf[65536];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int out = -1;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    struct vault_reader *r = NULL;

    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || !sha) {
        snprintf(err, errsize, "%s: %s", path, fd < 0 ? strerror(errno) : "out of memory");
        EVP_MD_CTX_free(sha);
        return VAULT_E_IO;
    }
    r = vault_reader_open(fd, keys_dir, VAULT_OPEN_ALLOW_TRUNCATED, &st, err, errsize);
    if (!r)
        goto done;
    st = vault_reader_check_all(r);
    /* A truncated recording (recovered after a crash) is re-keyed as it is. */
    if (st != VAULT_OK && st != VAULT_E_TRUNCATED) {
        snprintf(err, errsize, "%s", vault_reader_error(r));
        goto done;
    }
    if (vault_reader_key_id(r) == pk->id) {
        sha256[0] = '\0'; /* already sealed for pk: left as it is */
        *bytes = vault_reader_file_size_(r);
        st = VAULT_OK;
        goto done;
    }
    size_t hlen;
    const uint8_t *old = vault_reader_header_(r, &hlen);
    hdr = malloc(hlen);
    st = VAULT_E_IO;
    if (!hdr) {
        snprintf(err, errsize, "out of memory");
        goto done;
    }
    memcpy(hdr, old, hlen);
    if (vault_wrap(hdr, pk->id, pk->key, vault_reader_key_(r)) != 0) {
        snprintf(err, errsize, "cannot wrap the data key for key %u", pk->id);
        goto done;
    }
    snprintf(tmp, sizeof(tmp), "%s.rekey", path);
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0 || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
        write_all(out, sha, hdr, hlen) != 0)
        goto io_error;
    uint64_t off = hlen, size = vault_reader_file_size_(r);
    int in = vault_reader_fd_(r);
    while (off < size) {
        size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
        ssize_t n = pread(in, buf, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || write_all(out, sha, buf, (size_t)n) != 0)
            goto io_error;
        off += (uint64_t)n;
    }
    if (fsync(out) != 0)
        goto io_error;
    if (close(out) != 0) {
        out = -1;
        goto io_error;
    }
    out = -1;
    if (rename(tmp, path) != 0)
        goto io_error;
    sync_dir_of(path);
    EVP_DigestFinal_ex(sha, md, &mdlen);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(sha256 + 2 * i, 3, "%02x", md[i]);
    *bytes = size;
    st = VAULT_OK;
    goto done;
io_error:
    snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
    if (out >= 0)
        close(out);
    unlink(tmp);
done:
    free(hdr);
    vault_reader_close(r);
    EVP_MD_CTX_free(sha);
    return st;
}

/*
 * keygen.c - creating key pairs with OpenSSL EVP and writing them as PEM files that
 * nobody but the owner can read (see keys.h for the layout).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "greffier/keys.h"

/* Writes the key through a file opened O_EXCL with mode 0600, then fsyncs it. */
static int write_pem(const char *path, EVP_PKEY *key, int private, char *err, size_t errsize)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    int ok = private ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                     : PEM_write_PUBKEY(f, key);
    if (ok && fflush(f) == 0 && fsync(fileno(f)) == 0) {
        if (fclose(f) == 0)
            return 0;
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(err, errsize, "%s: cannot write key: %s", path,
             ERR_reason_error_string(ERR_get_error()) ? ERR_reason_error_string(ERR_peek_error())
                                                      : strerror(errno));
    fclose(f);
    return -1;
}

static int generate(int type, const char *dir, const char *stem, char *err, size_t errsize)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(type, NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &key) <= 0) {
        snprintf(err, errsize, "key generation failed");
        EVP_PKEY_CTX_free(ctx);
        return -1;
    }
    EVP_PKEY_CTX_free(ctx);
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s.key", dir, stem);
    int r = write_pem(path, key, 1, err, errsize);
    if (r == 0) {
        snprintf(path, sizeof(path), "%s/%s.pub", dir, stem);
        r = write_pem(path, key, 0, err, errsize);
    }
    EVP_PKEY_free(key);
    return r;
}

int keys_generate_recording_pair(const char *keys_dir, unsigned id, char *err, size_t errsize)
{
    char stem[32];
    snprintf(stem, sizeof(stem), "recording-%04u", id);
    return generate(EVP_PKEY_X25519, keys_dir, stem, err, errsize);
}

int keys_generate_signing_pair(const char *keys_dir, char *err, size_t errsize)
{
    return generate(EVP_PKEY_ED25519, keys_dir, "signing", err, errsize);
}

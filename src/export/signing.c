/*
 * signing.c - the installation's Ed25519 signing key (RFC 8032, through OpenSSL EVP):
 * keys/signing.key signs manifest.json, keys/signing.pub goes into every bundle and is
 * what `greffier pubkey` prints for the court.  The fingerprint is the SHA-256 of the
 * public key's DER SubjectPublicKeyInfo, which anyone can recompute with
 * `openssl pkey -pubin -in signing.pub -outform DER | sha256sum`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "export_int.h"
#include "greffier/keys.h"

static EVP_PKEY *only_ed25519(EVP_PKEY *k)
{
    if (k && EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

EVP_PKEY *signing_load_private(const char *data_dir, char *err, size_t errsize)
{
    char keys[4200], path[4300];
    snprintf(keys, sizeof(keys), "%s/keys", data_dir);
    keys_private_path(keys, "signing.key", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize,
                 "%s: %s (an installation older than the signing key gets one "
                 "with: greffier keygen --signing)",
                 path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *k = only_ed25519(PEM_read_PrivateKey(f, NULL, NULL, NULL));
    fclose(f);
    if (!k)
        snprintf(err, errsize, "%s: not an Ed25519 private key in PEM", path);
    return k;
}

EVP_PKEY *signing_load_public_pem(const uint8_t *pem, size_t len)
{
    if (len > 4096)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return only_ed25519(k);
}

EVP_PKEY *signing_load_public_file(const char *path, char *err, size_t errsize)
{
    uint8_t buf[4097];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    EVP_PKEY *k = signing_load_public_pem(buf, n);
    if (!k)
        snprintf(err, errsize, "%s: not an Ed25519 public key in PEM", path);
    return k;
}

char *signing_public_pem(EVP_PKEY *key, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL, *p;
    if (bio && PEM_write_bio_PUBKEY(bio, key) == 1) {
        long n = BIO_get_mem_data(bio, &p);
        if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
            *len = (size_t)n;
        }
    }
    BIO_free(bio);
    return out;
}

int signing_fingerprint(EVP_PKEY *key, char *hex)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    int rc = n > 0 ? sha256_hex(der, (size_t)n, hex) : -1;
    OPENSSL_free(der);
    return rc;
}

int signing_sign(EVP_PKEY *key, const uint8_t *data, size_t len, uint8_t *sig)
{
    size_t siglen = SIG_BYTES;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* Ed25519 is "pure": no digest is named, the whole message is signed in one call. */
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &siglen, data, len) == 1 && siglen == SIG_BYTES;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

int signing_verify(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t *sig,
                   size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) != 1) {
        EVP_MD_CTX_free(md);
        return -1;
    }
    int r = EVP_DigestVerify(md, sig, siglen, data, len);
    EVP_MD_CTX_free(md);
    return r == 1 ? 1 : 0;
}

int export_signing_pubkey(const char *data_dir, char **pem, char *fingerprint, char *err,
                          size_t errsize)
{
    char path[4200];
    size_t len;
    snprintf(path, sizeof(path), "%s/keys/signing.pub", data_dir);
    EVP_PKEY *k = signing_load_public_file(path, err, errsize);
    if (!k) {
        if (strstr(err, "No such file"))
            snprintf(err + strlen(err), errsize - strlen(err),
                     " (create the signing key with: greffier keygen --signing)");
        return -1;
    }
    *pem = signing_public_pem(k, &len);
    int rc = *pem && signing_fingerprint(k, fingerprint) == 0 ? 0 : -1;
    if (rc != 0)
        snprintf(err, errsize, "%s: cannot encode the key", path);
    EVP_PKEY_free(k);
    return rc;
}

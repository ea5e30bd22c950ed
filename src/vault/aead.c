/*
 * aead.c - the vault's primitives: AES-256-GCM (NIST SP 800-38D) through OpenSSL EVP,
 * the STREAM nonce, and the data key wrapped for an X25519 recipient the way age does
 * it (RFC 7748 X25519, RFC 5869 HKDF-SHA256; docs/FORMAT.md "Key block").
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "vault_int.h"

void vault_nonce(uint8_t nonce[VAULT_NONCE], const uint8_t *prefix, uint32_t index,
                 uint8_t last)
{
    memcpy(nonce, prefix, VAULT_PREFIX);
    vault_put32(nonce + VAULT_PREFIX, index);
    nonce[11] = last;
}

int vault_gcm_seal(const uint8_t key[VAULT_KEY], const uint8_t nonce[VAULT_NONCE],
                   const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
                   uint8_t *out)
{
    int n = 0, ok = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
        EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1 &&
        (len == 0 || EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1) &&
        EVP_EncryptFinal_ex(c, out + len, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, VAULT_TAG, out + len) == 1)
        ok = 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

int vault_gcm_open(const uint8_t key[VAULT_KEY], const uint8_t nonce[VAULT_NONCE],
                   const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
                   uint8_t *out)
{
    if (len < VAULT_TAG)
        return -1;
    size_t plen = len - VAULT_TAG;
    uint8_t tag[VAULT_TAG];
    memcpy(tag, in + plen, VAULT_TAG);
    int n = 0, ok = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
        EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1 &&
        (plen == 0 || EVP_DecryptUpdate(c, out, &n, in, (int)plen) == 1) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, VAULT_TAG, tag) == 1 &&
        EVP_DecryptFinal_ex(c, out + plen, &n) == 1)
        ok = 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok && plen)
        memset(out, 0, plen); /* never hand out unauthenticated plaintext */
    return ok ? 0 : -1;
}

int vault_raw_public(EVP_PKEY *key, uint8_t raw[VAULT_X25519])
{
    size_t len = VAULT_X25519;
    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != VAULT_X25519)
        return -1;
    return 0;
}

void vault_fingerprint(const uint8_t raw[VAULT_X25519], uint8_t fpr[VAULT_FPR])
{
    uint8_t md[32];
    unsigned mdlen = 0;
    EVP_Digest(raw, VAULT_X25519, md, &mdlen, EVP_sha256(), NULL);
    memcpy(fpr, md, VAULT_FPR);
}

/* X25519(mine, peer) then HKDF-SHA256 (salt = ephemeral || recipient, info fixed). */
static int wrap_key(EVP_PKEY *mine, EVP_PKEY *peer, const uint8_t eph[VAULT_X25519],
                    const uint8_t rcpt[VAULT_X25519], uint8_t out[VAULT_KEY])
{
    uint8_t shared[VAULT_X25519], salt[2 * VAULT_X25519];
    size_t slen = sizeof(shared);
    int ok = 0;
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(mine, NULL);
    /* OpenSSL refuses an all-zero shared secret (a low-order peer point). */
    if (!dc || EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, peer) != 1 ||
        EVP_PKEY_derive(dc, shared, &slen) != 1 || slen != sizeof(shared)) {
        EVP_PKEY_CTX_free(dc);
        return -1;
    }
    EVP_PKEY_CTX_free(dc);
    memcpy(salt, eph, VAULT_X25519);
    memcpy(salt + VAULT_X25519, rcpt, VAULT_X25519);
    EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t olen = VAULT_KEY;
    if (kc && EVP_PKEY_derive_init(kc) == 1 && EVP_PKEY_CTX_set_hkdf_md(kc, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_salt(kc, salt, sizeof(salt)) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_key(kc, shared, sizeof(shared)) == 1 &&
        EVP_PKEY_CTX_add1_hkdf_info(kc, (const unsigned char *)VAULT_WRAP_INFO,
                                    strlen(VAULT_WRAP_INFO)) == 1 &&
        EVP_PKEY_derive(kc, out, &olen) == 1 && olen == VAULT_KEY)
        ok = 1;
    EVP_PKEY_CTX_free(kc);
    OPENSSL_cleanse(shared, sizeof(shared));
    return ok ? 0 : -1;
}

/* The wrap key is used once (a fresh ephemeral key per wrap), so its nonce is zero. */
static const uint8_t zero_nonce[VAULT_NONCE];

int vault_wrap(uint8_t *hdr, unsigned key_id, EVP_PKEY *recipient,
               const uint8_t data_key[VAULT_KEY])
{
    uint8_t rcpt[VAULT_X25519], wk[VAULT_KEY], out[VAULT_KEY + VAULT_TAG];
    EVP_PKEY *eph = NULL;
    int ok = -1;
    EVP_PKEY_CTX *gc = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
    if (!gc || EVP_PKEY_keygen_init(gc) != 1 || EVP_PKEY_keygen(gc, &eph) != 1)
        goto out;
    if (vault_raw_public(recipient, rcpt) != 0 || vault_raw_public(eph, hdr + VH_EPHEMERAL) != 0)
        goto out;
    vault_put32(hdr + VH_KEY_ID, key_id);
    vault_fingerprint(rcpt, hdr + VH_KEY_FPR);
    if (wrap_key(eph, recipient, hdr + VH_EPHEMERAL, rcpt, wk) != 0)
        goto out;
    if (vault_gcm_seal(wk, zero_nonce, hdr, VH_EPHEMERAL + VAULT_X25519, data_key, VAULT_KEY,
                       out) != 0)
        goto out;
    memcpy(hdr + VH_WRAPPED, out, sizeof(out));
    ok = 0;
out:
    OPENSSL_cleanse(wk, sizeof(wk));
    EVP_PKEY_free(eph);
    EVP_PKEY_CTX_free(gc);
    return ok;
}

int vault_unwrap(const uint8_t *hdr, EVP_PKEY *priv, uint8_t data_key[VAULT_KEY])
{
    uint8_t rcpt[VAULT_X25519], wk[VAULT_KEY];
    int ok = -1;
    EVP_PKEY *eph = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, hdr + VH_EPHEMERAL,
                                                VAULT_X25519);
    if (eph && vault_raw_public(priv, rcpt) == 0 &&
        wrap_key(priv, eph, hdr + VH_EPHEMERAL, rcpt, wk) == 0 &&
        vault_gcm_open(wk, zero_nonce, hdr, VH_EPHEMERAL + VAULT_X25519, hdr + VH_WRAPPED,
                       VAULT_KEY + VAULT_TAG, data_key) == 0)
        ok = 0;
    OPENSSL_cleanse(wk, sizeof(wk));
    EVP_PKEY_free(eph);
    return ok;
}

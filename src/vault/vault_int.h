/*
 * vault_int.h - private to the vault: the header layout of docs/FORMAT.md and the
 * primitives the writer, the reader and rekey share.
 */
#ifndef GREFFIER_VAULT_INT_H
#define GREFFIER_VAULT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "greffier/vault.h"

#define VAULT_MAGIC "GREFFIER-VAULT1\n"
#define VAULT_WRAP_INFO "greffier vault v1 key wrap"

/* Byte offsets in the header (all integers big-endian). */
enum {
    VH_MAGIC = 0,        /* 16 */
    VH_HEADER_LEN = 16,  /* u32: bytes before chunk 0 */
    VH_CHUNK_SIZE = 20,  /* u32: plaintext bytes per chunk */
    VH_FILE_ID = 24,     /* 16 random bytes */
    VH_PREFIX = 40,      /* 7 random bytes: the STREAM nonce prefix */
    VH_RESERVED = 47,    /* 1 byte, 0 */
    VH_META_LEN = 48,    /* u32: sealed metadata bytes (plaintext + 16) */
    VH_IMMUTABLE = 52,   /* the chunks' associated data ends here */
    VH_KEY_ID = 52,      /* u32: recording-NNNN */
    VH_KEY_FPR = 56,     /* 8: SHA-256 of the recipient's raw public key, first bytes */
    VH_EPHEMERAL = 64,   /* 32: ephemeral X25519 public key */
    VH_WRAPPED = 96,     /* 32: the data key under the wrap key */
    VH_WRAP_TAG = 128,   /* 16 */
    VH_FIXED = 144,      /* the sealed metadata starts here */
    VAULT_TAG = 16,
    VAULT_KEY = 32,
    VAULT_NONCE = 12,
    VAULT_PREFIX = 7,
    VAULT_FPR = 8,
    VAULT_X25519 = 32,
};

static inline uint32_t vault_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void vault_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The 12-byte nonce of chunk index (last: its last flag); index UINT32_MAX with
 * last = 2 is the metadata's. */
void vault_nonce(uint8_t nonce[VAULT_NONCE], const uint8_t *prefix, uint32_t index,
                 uint8_t last);

/* AES-256-GCM, tag appended to out.  in and out may not overlap. */
int vault_gcm_seal(const uint8_t key[VAULT_KEY], const uint8_t nonce[VAULT_NONCE],
                   const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
                   uint8_t *out);
/* Opens len bytes of ciphertext + tag into out (len - 16 bytes); 0 or -1. */
int vault_gcm_open(const uint8_t key[VAULT_KEY], const uint8_t nonce[VAULT_NONCE],
                   const uint8_t *aad, size_t aadlen, const uint8_t *in, size_t len,
                   uint8_t *out);

/* Raw X25519 public key bytes and their fingerprint. */
int vault_raw_public(EVP_PKEY *key, uint8_t raw[VAULT_X25519]);
void vault_fingerprint(const uint8_t raw[VAULT_X25519], uint8_t fpr[VAULT_FPR]);

/* Fills the key block (VH_KEY_ID..VH_FIXED) of hdr, whose immutable part is set:
 * the data key wrapped for recipient. */
int vault_wrap(uint8_t *hdr, unsigned key_id, EVP_PKEY *recipient,
               const uint8_t data_key[VAULT_KEY]);
/* Recovers the data key from hdr's key block with the recipient's private key. */
int vault_unwrap(const uint8_t *hdr, EVP_PKEY *priv, uint8_t data_key[VAULT_KEY]);

/* open.c, for rekey: the reader's header, data key, file descriptor and file size. */
const uint8_t *vault_reader_header_(const struct vault_reader *r, size_t *len);
const uint8_t *vault_reader_key_(const struct vault_reader *r);
int vault_reader_fd_(const struct vault_reader *r);
uint64_t vault_reader_file_size_(const struct vault_reader *r);

struct vault_pubkey {
    unsigned id;
    EVP_PKEY *key;
};

#endif

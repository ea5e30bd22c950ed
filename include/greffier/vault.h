/*
 * vault.h - recordings sealed at rest: a streaming AEAD file format (docs/FORMAT.md).
 *
 * A sealed file is a header (magic, chunk size, a random file id and nonce prefix, the
 * data key wrapped for one X25519 recording key, sealed metadata) followed by chunks of
 * plaintext sealed with AES-256-GCM under the STREAM construction (Hoang, Reyhanitabar,
 * Rogaway, Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
 * Misuse-Resistance", CRYPTO 2015): nonce = prefix(7) || counter(4, big-endian) ||
 * last(1).  Truncation, reordering, chunks moved between files and any flipped bit are
 * detected; any byte range decrypts by reading only the chunks it touches.
 *
 * Writing needs only a recording PUBLIC key (the capture side); reading needs the
 * private key named by the header's key id (DIR/keys/recording-NNNN.key).
 */
#ifndef GREFFIER_VAULT_H
#define GREFFIER_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/ogg_opus.h"

enum {
    VAULT_CHUNK_DEFAULT = 4096, /* plaintext bytes per chunk: ~2.7 s of 12 kbit/s Opus */
    VAULT_CHUNK_MIN = 256,
    VAULT_CHUNK_MAX = 1 << 20,
    VAULT_META_MAX = 65536, /* metadata plaintext */
};

/* What went wrong, for callers that must tell a damaged file from a missing key. */
enum vault_status {
    VAULT_OK = 0,
    VAULT_E_IO,        /* read/write/open failed (errno in the message) */
    VAULT_E_FORMAT,    /* not a vault file, or a header field out of range */
    VAULT_E_KEY,       /* the private key is missing, unreadable, or not the one sealed for */
    VAULT_E_TAMPERED,  /* a header or chunk failed authentication */
    VAULT_E_TRUNCATED, /* every chunk present authenticates, but the last one is missing */
};

/* ---- keys ---- */

struct vault_pubkey;

/* Loads keys/recording-NNNN.pub (SubjectPublicKeyInfo PEM, X25519) with id NNNN. */
struct vault_pubkey *vault_load_pubkey(const char *path, unsigned id, char *err, size_t errsize);
/* The recording public key with the highest id in DATA_DIR/keys. */
struct vault_pubkey *vault_load_newest_pubkey(const char *data_dir, char *err, size_t errsize);
unsigned vault_pubkey_id(const struct vault_pubkey *pk);
void vault_pubkey_free(struct vault_pubkey *pk);
/* The highest recording key id in keys_dir (0 when none), from the .pub files. */
unsigned vault_newest_key_id(const char *keys_dir);

/* ---- writing ---- */

struct vault_writer;

/* Starts a sealed stream: draws a data key, file id and nonce prefix, wraps the key for
 * pk, seals meta (may be NULL/0; at most VAULT_META_MAX bytes) and writes the header
 * to out.  out then receives whole sealed chunks only, one write per chunk, each as
 * soon as its plaintext is complete.  chunk_size 0 means VAULT_CHUNK_DEFAULT. */
struct vault_writer *vault_writer_new(const struct byte_sink *out, const struct vault_pubkey *pk,
                                      const void *meta, size_t metalen, unsigned chunk_size,
                                      char *err, size_t errsize);
/* A byte_sink write function (user is the vault_writer).  Returns 0 or -1. */
int vault_writer_write(void *w, const uint8_t *data, size_t len);
/* Seals the buffered rest (possibly empty) as the last chunk.  Returns 0 or -1. */
int vault_writer_finish(struct vault_writer *w);
/* Why the last write or finish failed. */
const char *vault_writer_error(const struct vault_writer *w);
void vault_writer_free(struct vault_writer *w);

/* ---- reading ---- */

enum {
    /* Open a file whose last chunk is missing (a crash): its complete chunks read. */
    VAULT_OPEN_ALLOW_TRUNCATED = 1,
};

struct vault_reader;

/* Opens the sealed file on fd (the reader owns fd from now on, even on failure): checks
 * the header, loads keys_dir/recording-NNNN.key for its key id, unwraps the data key,
 * opens the metadata and authenticates the last chunk.  On failure returns NULL with
 * *status and err set ("chunk 40: authentication failed", "truncated: no last chunk
 * after chunk 39").  keys_dir NULL: DATA_DIR-independent callers pass it always. */
struct vault_reader *vault_reader_open(int fd, const char *keys_dir, unsigned flags,
                                       enum vault_status *status, char *err, size_t errsize);
/* Plaintext bytes (of the complete chunks when the file is truncated). */
uint64_t vault_reader_size(const struct vault_reader *r);
bool vault_reader_truncated(const struct vault_reader *r);
unsigned vault_reader_key_id(const struct vault_reader *r);
unsigned vault_reader_chunk_size(const struct vault_reader *r);
/* The decrypted metadata (owned by the reader). */
const uint8_t *vault_reader_meta(const struct vault_reader *r, size_t *len);
/* Reads up to len plaintext bytes at offset, decrypting only the chunks touched.
 * Returns the bytes read (0 at the end), -1 on failure (vault_reader_error says which
 * chunk and why). */
long vault_read_range(struct vault_reader *r, uint64_t offset, void *buf, size_t len);
/* Authenticates every chunk in order.  VAULT_OK, or the status of the first failure. */
enum vault_status vault_reader_check_all(struct vault_reader *r);
enum vault_status vault_reader_status(const struct vault_reader *r);
const char *vault_reader_error(const struct vault_reader *r);
/* Sequential reads from offset 0 through a byte_source (user is the reader). */
void vault_reader_source(struct vault_reader *r, struct byte_source *src);
void vault_reader_close(struct vault_reader *r);

/* ---- re-wrapping ---- */

/* Rewrites the sealed file at path with its data key wrapped for pk instead (the chunks
 * are copied unchanged: they authenticate only the immutable part of the header).
 * Every chunk is authenticated first; the new file replaces the old atomically (write,
 * fsync, rename, fsync the folder).  sha256 (65 bytes) and bytes describe the new
 * file; sha256 is "" when the file was already sealed for pk (left untouched).
 * Returns VAULT_OK or the failure's status with err set. */
enum vault_status vault_rekey_file(const char *path, const char *keys_dir,
                                   const struct vault_pubkey *pk, char *sha256, uint64_t *bytes,
                                   char *err, size_t errsize);

/* ---- recovery ---- */

/* Closes what a crash left under DATA_DIR/recordings: every NAME.part file is renamed to
 * NAME (it reads up to its last complete chunk; `greffier verify` reports it as
 * truncated or as having no index row).  Returns the number recovered, -1 on error. */
int vault_recover(const char *data_dir);

#endif

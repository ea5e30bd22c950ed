/*
 * export_int.h - private to the export stage: a bundle's files in memory, and the
 * helpers each file of a bundle is made with (one source file each).
 */
#ifndef GREFFIER_EXPORT_INT_H
#define GREFFIER_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "greffier/export.h"
#include "greffier/ogg_opus.h"

enum {
    SHA256_HEX = 64,
    BUNDLE_NAME_MAX = 128, /* longest relative path inside a bundle */
    BUNDLE_FILES_MAX = 4096,
    TSQ_NONCE_BYTES = 8,
    SIG_BYTES = 64, /* Ed25519 (RFC 8032) */
};

#define BUNDLE_FORMAT "greffier-evidence-bundle-1"

/* A growable byte buffer; p is malloc'd and owned by the buffer. */
struct membuf {
    uint8_t *p;
    size_t len, cap;
    bool failed; /* an allocation failed: the content is incomplete */
};
int membuf_append(struct membuf *m, const void *data, size_t len);
void membuf_free(struct membuf *m);
/* A byte_source reading a buffer (the decoders' input). */
struct mem_reader {
    const uint8_t *p;
    size_t len, pos;
};
struct byte_source mem_source(struct mem_reader *r, const uint8_t *p, size_t len);

/* sha256.c: lowercase hex of the SHA-256 of len bytes (hex gets 65 bytes).  0 or -1. */
int sha256_hex(const void *data, size_t len, char *hex);
int sha256_raw(const void *data, size_t len, uint8_t *digest32);

/* bundle.c: a bundle being written.  Each file is hashed and written out when added;
 * its name, size and hash stay for the manifest. */
enum { BUNDLE_PATH_MAX = 4000 };
struct bfile {
    char name[BUNDLE_NAME_MAX + 1];
    size_t len;
    char sha256[SHA256_HEX + 1];
    uint32_t crc32, offset; /* zip */
};
struct bundle {
    struct bfile *files;
    size_t n, cap;
    char manifest_sha256[SHA256_HEX + 1];
    char path[BUNDLE_PATH_MAX + 1];
    char tmp[BUNDLE_PATH_MAX + 16]; /* the zip's temporary name */
    int dirfd;                      /* folder form */
    bool made_dir;
    FILE *zip; /* zip form */
    bool own_zip;
    bool linked; /* the zip is in place under path */
    uint64_t zip_pos;
    uint64_t max_bytes; /* 0: no limit */
    bool too_big;
};
/* Hashes data, writes it out under name and frees it (in every case).  0, or -1 with
 * err set (an unsafe or repeated name, a write error). */
int bundle_add(struct bundle *b, const char *name, uint8_t *data, size_t len, char *err,
               size_t errsize);
const struct bfile *bundle_find(const struct bundle *b, const char *name);
/* A file too large to hold in memory (a call's WAV): a descriptor to write it to, in
 * place in a folder, or an unnamed temporary file beside a zip.  -2 when the bundle is
 * a stream (the caller uses bundle_add), -1 with err set on failure.  Then
 * bundle_file_commit hashes it and puts it in, or bundle_file_abort removes it; both
 * close fd. */
int bundle_file_open(struct bundle *b, const char *name, char *err, size_t errsize);
int bundle_file_commit(struct bundle *b, const char *name, int fd, char *err, size_t errsize);
void bundle_file_abort(struct bundle *b, const char *name, int fd);
/* After the last file: the zip's central directory and its rename into place. */
int bundle_finish(struct bundle *b, char *err, size_t errsize);
/* A relative path a bundle may hold: "a/b" with [A-Za-z0-9._-] components, none empty,
 * "." or "..", at most BUNDLE_NAME_MAX bytes and two levels deep. */
bool bundle_name_ok(const char *name, size_t len);

/* signing.c: the installation's Ed25519 key (keys/signing.key, .pub). */
EVP_PKEY *signing_load_private(const char *data_dir, char *err, size_t errsize);
EVP_PKEY *signing_load_public_pem(const uint8_t *pem, size_t len);
EVP_PKEY *signing_load_public_file(const char *path, char *err, size_t errsize);
/* Public key as PEM (malloc'd, NUL-terminated, *len without the NUL); NULL on failure. */
char *signing_public_pem(EVP_PKEY *key, size_t *len);
int signing_fingerprint(EVP_PKEY *key, char *hex);
int signing_sign(EVP_PKEY *key, const uint8_t *data, size_t len, uint8_t *sig);
/* 1 valid, 0 not valid, -1 error. */
int signing_verify(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t *sig,
                   size_t siglen);

/* timestamp.c: RFC 3161 requests and responses. */
/* DER TimeStampReq: version 1, SHA-256 imprint of data, nonce, certReq true, no policy.
 * *der is malloc'd.  0 or -1. */
int tsq_build(const uint8_t *data, size_t len, const uint8_t *nonce, size_t nonce_len,
              uint8_t **der, size_t *der_len);
/* Checks a TimeStampResp against the request and the data: status granted, imprint and
 * nonce; its signature and certificate chain only with tsa_ca.  Writes what was and was
 * not checked to report.  0 when the checks made passed, 1 otherwise (why set). */
int tsr_check(const uint8_t *tsr, size_t tsr_len, const uint8_t *tsq, size_t tsq_len,
              const uint8_t *data, size_t len, const char *tsa_ca, char *time_out, size_t time_size,
              char *why, size_t whysize);

/* signalling.c: the call's SIP messages as a pcap (LINKTYPE_RAW) and as a ladder text.
 * *count is the number of messages.  0 or -1 with err set. */
int signalling_export(sqlite3 *db, int64_t call_id, struct membuf *pcap, struct membuf *ladder,
                      long *count, char *err, size_t errsize);

/* call_files.c: metadata.json and audit.json of one call. */
int call_metadata_json(struct index *ix, int64_t call_id, const char *seal_state, FILE *out);
int call_audit_json(sqlite3 *db, int64_t call_id, FILE *out);
/* The sqlite3_column value as a JSON member (text, integer, real, null; blobs as their
 * length): every column of a row, without knowing the schema. */
struct json_writer;
void json_row_members(struct json_writer *w, sqlite3_stmt *st, const char *skip);

/* clock_status.c: what the export host knows of its clock, as JSON members. */
void clock_status_json(struct json_writer *w);

/* audio_files.c: the recording's WAV, into wav (memory) when fd < 0, else into the
 * file fd (written from its start, left open). */
int wav_from_ogg(const uint8_t *ogg, size_t len, struct membuf *wav, int fd, char *err,
                 size_t errsize);
/* Decodes both and compares every sample: 0 equal, 1 different (why), -1 undecodable. */
int wav_matches_ogg(const uint8_t *wav, size_t wav_len, const uint8_t *ogg, size_t ogg_len,
                    char *why, size_t whysize);

/* manifest.c: reading a manifest (hostile input: never trusted, checked whole). */
struct manifest_file {
    char path[BUNDLE_NAME_MAX + 1];
    uint64_t bytes;
    char sha256[SHA256_HEX + 1];
};
struct manifest_call {
    int64_t id;
    char seal_state[16]; /* [a-z] only, as export writes it */
};
struct manifest {
    char signing_key_sha256[SHA256_HEX + 1];
    struct manifest_call calls[EXPORT_MAX_CALLS];
    size_t ncalls;
    char nonce_hex[2 * TSQ_NONCE_BYTES + 1];
    char sums_sha256[SHA256_HEX + 1];
    struct manifest_file *files;
    size_t nfiles;
};
int manifest_parse(const uint8_t *text, size_t len, struct manifest *m, char *err, size_t errsize);
void manifest_free(struct manifest *m);

/* zip.c: store-only zip files (PKWARE APPNOTE 6.3.10 §4.3), no zip64.  Writing: one
 * local entry per file as it is added, the central directory at the end. */
int zip_put(struct bundle *b, struct bfile *f, const uint8_t *data, char *err, size_t errsize);
/* The same from a file of f->len bytes whose CRC is already in f. */
int zip_put_fd(struct bundle *b, struct bfile *f, int fd, char *err, size_t errsize);
int zip_finish(struct bundle *b, char *err, size_t errsize);
struct zip_entry {
    char name[BUNDLE_NAME_MAX + 1];
    uint32_t crc32;
    size_t size;
    size_t data_offset; /* of the stored bytes in the archive */
};
/* Reads the central directory of an archive in memory; every entry is checked to be
 * stored, inside the archive, named safely and unique.  *entries malloc'd.  0 or -1. */
int zip_read_dir(const uint8_t *zip, size_t len, struct zip_entry **entries, size_t *n, char *err,
                 size_t errsize);
uint32_t zip_crc32(const uint8_t *p, size_t len);

#endif

/*
 * export.h - evidence bundles for litigation (docs/EVIDENCE.md): one or more calls
 * exported with their recordings, metadata, signalling and audit history, listed in a
 * manifest signed with the installation's Ed25519 key, so that a court expert can check
 * them with openssl and sha256sum alone.
 *
 * A bundle is written as its files are made, one file in memory at a time, to a folder
 * or a store-only zip; the web side zips into memory, so no decrypted audio touches the
 * server's disk.  `verify-bundle` reads either form back.
 */
#ifndef GREFFIER_EXPORT_H
#define GREFFIER_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct index;
struct bundle;

enum { EXPORT_MAX_CALLS = 100, EXPORT_CASE_MAX = 200 };

struct export_request {
    const char *data_dir; /* recordings and keys/ */
    struct index *ix;
    const int64_t *ids;
    size_t nids;
    const char *case_ref; /* required: printable UTF-8, at most EXPORT_CASE_MAX bytes */
    const char *user;     /* who exports: a web account, or "cli:UID" */
    bool hold;            /* put every exported call on legal hold */
};

enum export_status {
    EXPORT_OK = 0,
    EXPORT_FAILED = -1,  /* err says what and where */
    EXPORT_NO_CALL = -2, /* err names the unknown id */
    EXPORT_BAD_CASE = -3,
};

/* Where a bundle goes, opened before anything is held or audited.  A path: a zip when
 * it ends in ".zip" (written under a temporary name, linked into place at the end), a
 * new folder otherwise (it must not exist, or be an empty directory); files are mode
 * 0600, folders 0700.  A stream: the zip form into zip_out (the web reply), which the
 * caller closes, refusing to grow past max_bytes (0: no limit).  NULL on failure. */
struct bundle *bundle_open_path(const char *path, char *err, size_t errsize);
struct bundle *bundle_open_stream(FILE *zip_out, uint64_t max_bytes);
/* The export failed because the stream's max_bytes would have been exceeded. */
bool bundle_too_big(const struct bundle *b);
/* 0 when path can receive a bundle (absent, or an empty folder for the folder form),
 * -1 with err set. */
int bundle_check_output(const char *path, char *err, size_t errsize);
/* keep false: what was written is removed (a failed export leaves no decrypted audio). */
void bundle_close(struct bundle *b, bool keep);
/* The SHA-256 of manifest.json (lowercase hex) of a finished bundle. */
const char *bundle_manifest_sha256(const struct bundle *b);

/* Checks the calls, puts them on hold (unless !hold), writes the bundle into b, finishes
 * it (the zip's directory, the rename) and appends the "export" audit row (case, ids,
 * the manifest's SHA-256).  On failure the caller closes b with keep false. */
enum export_status export_build(const struct export_request *rq, struct bundle *b, char *err,
                                size_t errsize);

struct verify_options {
    const char *expected_pubkey; /* PEM file of the installation expected to have signed */
    const char *tsa_ca;          /* PEM CA file checking a manifest.tsr's signature */
};

/* `greffier verify-bundle`: one plain line per check to report; 0 when every check
 * passed, 1 when any failed (each failure names its file), -1 when the bundle cannot be
 * read at all (err says why). */
int bundle_verify(const char *path, const struct verify_options *opt, FILE *report, char *err,
                  size_t errsize);

/* The installation's signing public key (DATA_DIR/keys/signing.pub) as PEM text
 * (malloc'd) and the SHA-256 of its DER SubjectPublicKeyInfo in hex (65 bytes).  0, or
 * -1 with err set (no key: "greffier keygen --signing" creates one). */
int export_signing_pubkey(const char *data_dir, char **pem, char *fingerprint, char *err,
                          size_t errsize);

#endif

/*
 * export.h - evidence bundles for litigation (docs/EVIDENCE.md): one or more calls
 * exported with their recordings, metadata, signalling and audit history, listed in a
 * manifest signed with the installation's Ed25519 key, so that a court expert can check
 * them with openssl and sha256sum alone.
 *
 * A bundle is built in memory (one call's files at a time are decoded into it) and then
 * written as a folder or a store-only zip; the web side streams the zip from memory, so
 * no decrypted audio touches the server's disk.  `verify-bundle` reads either form back.
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

/* Checks the calls, puts them on hold (unless !hold), builds the bundle and appends the
 * "export" audit row (case, ids, the manifest's SHA-256).  *out is freed with
 * bundle_free. */
enum export_status export_build(const struct export_request *rq, struct bundle **out, char *err,
                                size_t errsize);
void bundle_free(struct bundle *b);

/* Writes the bundle to path: a zip when it ends in ".zip", otherwise a new folder (it
 * must not exist, or be an empty directory).  Files are mode 0600, folders 0700.
 * A zip is written under a temporary name and renamed.  0, or -1 with err set. */
int bundle_write_path(const struct bundle *b, const char *path, char *err, size_t errsize);
/* 0 when path can receive a bundle (absent, or an empty folder for the folder form),
 * -1 with err set: checked before anything is held or audited. */
int bundle_check_output(const char *path, char *err, size_t errsize);
/* The zip form into out (a file or a memory stream; it must be seekable).  0 or -1. */
int bundle_write_zip(const struct bundle *b, FILE *out, char *err, size_t errsize);
/* The SHA-256 of manifest.json (lowercase hex) of a built bundle. */
const char *bundle_manifest_sha256(const struct bundle *b);

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

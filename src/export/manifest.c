/*
 * manifest.c - reading manifest.json back (verify-bundle), as hostile input.
 *
 * SQLite's JSON functions parse it (json_valid, json_extract, json_each over an
 * in-memory database): no hand-written JSON parser.  Everything the verifier relies on
 * is checked here: the format name, the signing key's fingerprint and the time-stamp
 * nonce as lowercase hex of the right length, and each file's path (a safe bundle path,
 * unique), size (an integer >= 0) and SHA-256 (64 lowercase hex digits).
 */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

enum { MANIFEST_MAX = 4 << 20 };

static bool is_hex(const char *s, size_t want)
{
    if (!s || strlen(s) != want)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static const char sql_top[] =
    "SELECT json_extract(?1, '$.format'), json_extract(?1, '$.signing_key_sha256'),"
    " json_extract(?1, '$.timestamp_request.nonce'), json_extract(?1, '$.sha256sums_sha256'),"
    " json_type(?1, '$.files')";

static const char sql_files[] =
    "SELECT type, json_type(value, '$.path'), json_extract(value, '$.path'),"
    " json_type(value, '$.bytes'), json_extract(value, '$.bytes'),"
    " json_type(value, '$.sha256'), json_extract(value, '$.sha256')"
    " FROM json_each(?1, '$.files') ORDER BY key";

static const char sql_calls[] =
    "SELECT json_extract(value, '$.id'), json_type(value, '$.id'),"
    " json_extract(value, '$.seal_state') FROM json_each(?1, '$.calls') ORDER BY key";

/* The calls and their seal states, for the report only (the files prove the rest):
 * whatever is not an integer id with a short lowercase word is left out. */
static void read_calls(sqlite3 *db, const uint8_t *text, size_t len, struct manifest *m)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql_calls, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, (const char *)text, (int)len, SQLITE_STATIC) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    while (m->ncalls < EXPORT_MAX_CALLS && sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *seal = (const char *)sqlite3_column_text(st, 2);
        size_t n = seal ? strlen(seal) : 0;
        bool word = n > 0 && n < sizeof(m->calls[0].seal_state);
        for (size_t i = 0; word && i < n; i++)
            word = seal[i] >= 'a' && seal[i] <= 'z';
        if (!type || strcmp(type, "integer") != 0 || !word)
            continue;
        m->calls[m->ncalls].id = sqlite3_column_int64(st, 0);
        memcpy(m->calls[m->ncalls].seal_state, seal, n + 1);
        m->ncalls++;
    }
    sqlite3_finalize(st);
}

static bool text_is(sqlite3_stmt *st, int col, const char *want)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s && strcmp(s, want) == 0;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    snprintf(out, size, "%s", s ? s : "");
}

int manifest_parse(const uint8_t *text, size_t len, struct manifest *m, char *err, size_t errsize)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *why = "larger than 4 MiB";
    size_t cap = 0;
    memset(m, 0, sizeof(*m));
    if (len > MANIFEST_MAX)
        goto error;
    why = "holds a NUL byte";
    if (memchr(text, 0, len))
        goto error;
    why = "cannot open an in-memory database";
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) !=
        SQLITE_OK)
        goto error;
    why = "is not valid JSON";
    int64_t valid = 0;
    if (sqlite3_prepare_v2(db, "SELECT json_valid(?1) AND json_type(?1) = 'object'", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, (const char *)text, (int)len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || !(valid = sqlite3_column_int64(st, 0)))
        goto error;
    sqlite3_finalize(st);
    st = NULL;
    why = "cannot be read";
    if (sqlite3_prepare_v2(db, sql_top, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, (const char *)text, (int)len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto error;
    why = "\"format\" is not " BUNDLE_FORMAT;
    if (!text_is(st, 0, BUNDLE_FORMAT))
        goto error;
    why = "\"signing_key_sha256\" is not 64 hex digits";
    if (!is_hex((const char *)sqlite3_column_text(st, 1), SHA256_HEX))
        goto error;
    copy_col(st, 1, m->signing_key_sha256, sizeof(m->signing_key_sha256));
    why = "\"timestamp_request\".\"nonce\" is not 16 hex digits";
    if (!is_hex((const char *)sqlite3_column_text(st, 2), 2 * TSQ_NONCE_BYTES))
        goto error;
    copy_col(st, 2, m->nonce_hex, sizeof(m->nonce_hex));
    why = "\"sha256sums_sha256\" is not 64 hex digits";
    if (!is_hex((const char *)sqlite3_column_text(st, 3), SHA256_HEX))
        goto error;
    copy_col(st, 3, m->sums_sha256, sizeof(m->sums_sha256));
    why = "\"files\" is not an array";
    if (!text_is(st, 4, "array"))
        goto error;
    sqlite3_finalize(st);
    st = NULL;

    why = "cannot be read";
    if (sqlite3_prepare_v2(db, sql_files, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, (const char *)text, (int)len, SQLITE_STATIC) != SQLITE_OK)
        goto error;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        why = "more than 4096 files";
        if (m->nfiles >= BUNDLE_FILES_MAX)
            goto error;
        if (m->nfiles == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            struct manifest_file *f = realloc(m->files, ncap * sizeof(*f));
            why = "out of memory";
            if (!f)
                goto error;
            m->files = f;
            cap = ncap;
        }
        struct manifest_file *f = &m->files[m->nfiles];
        const char *path = (const char *)sqlite3_column_text(st, 2);
        why = "a \"files\" member is not an object with path, bytes and sha256";
        if (!text_is(st, 0, "object") || !text_is(st, 1, "text") || !text_is(st, 3, "integer") ||
            !text_is(st, 5, "text") || !path)
            goto error;
        why = "a file's path is not a safe relative path";
        if (!bundle_name_ok(path, (size_t)sqlite3_column_bytes(st, 2)))
            goto error;
        why = "a file's bytes is negative";
        if (sqlite3_column_int64(st, 4) < 0)
            goto error;
        why = "a file's sha256 is not 64 lowercase hex digits";
        if (!is_hex((const char *)sqlite3_column_text(st, 6), SHA256_HEX))
            goto error;
        copy_col(st, 2, f->path, sizeof(f->path));
        copy_col(st, 6, f->sha256, sizeof(f->sha256));
        f->bytes = (uint64_t)sqlite3_column_int64(st, 4);
        why = "a file is listed twice";
        for (size_t i = 0; i < m->nfiles; i++)
            if (strcmp(m->files[i].path, f->path) == 0)
                goto error;
        m->nfiles++;
    }
    why = "cannot be read";
    if (rc != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    st = NULL;
    read_calls(db, text, len, m);
    sqlite3_close(db);
    return 0;
error:
    snprintf(err, errsize, "manifest.json %s", why);
    sqlite3_finalize(st);
    sqlite3_close(db);
    manifest_free(m);
    return -1;
}

void manifest_free(struct manifest *m)
{
    free(m->files);
    m->files = NULL;
    m->nfiles = 0;
}

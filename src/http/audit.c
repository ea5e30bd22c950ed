/*
 * audit.c - the hash-chained audit trail (audit.h).
 *
 * The canonical text of a row is "greffier-audit-1\n" then, for id, ts, user, action,
 * target and detail in this order, the field's length in decimal, ':', its bytes and
 * '\n': length-prefixed so that no two different rows share a text.  hash is the
 * lowercase hex SHA-256 of prev_hash (64 hex characters) followed by that text.
 * ts is stored as written (ISO 8601, UTC, milliseconds), so verification never
 * re-formats a time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "greffier/audit.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/timefmt.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

enum { HASH_HEX = 64 };

pkt_time_t audit_now(void)
{
    return clock_now();
}

struct row {
    int64_t id;
    const char *field[5]; /* ts, user, action, target, detail */
};

static void hash_update_field(EVP_MD_CTX *md, const char *s)
{
    char len[24];
    size_t n = strlen(s);
    int k = snprintf(len, sizeof(len), "%zu:", n);
    EVP_DigestUpdate(md, len, (size_t)k);
    EVP_DigestUpdate(md, s, n);
    EVP_DigestUpdate(md, "\n", 1);
}

/* hex gets 65 bytes. */
static int row_hash(const char *prev_hash, const struct row *r, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    char id[24];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    if (ok) {
        EVP_DigestUpdate(md, prev_hash, strlen(prev_hash));
        EVP_DigestUpdate(md, "greffier-audit-1\n", 17);
        snprintf(id, sizeof(id), "%lld", (long long)r->id);
        hash_update_field(md, id);
        for (int i = 0; i < 5; i++)
            hash_update_field(md, r->field[i]);
        ok = EVP_DigestFinal_ex(md, d, &dlen) == 1 && dlen == HASH_HEX / 2;
    }
    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    for (unsigned i = 0; i < dlen; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[HASH_HEX] = '\0';
    return 0;
}

int audit_append(struct index *ix, const char *user, const char *action, const char *target,
                 const char *detail)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    const char *err = "begin";
    char prev[HASH_HEX + 1] = ZERO_HASH, hash[HASH_HEX + 1], ts[TIME_ISO_SIZE];
    bool own_txn = sqlite3_get_autocommit(db) != 0;
    struct row r = {0,
                    {ts, user ? user : "-", action, target ? target : "", detail ? detail : "{}"}};

    /* IMMEDIATE: the last hash must not change between reading it and appending. */
    if (sqlite3_exec(db, own_txn ? "BEGIN IMMEDIATE" : "SAVEPOINT audit_append", NULL, NULL,
                     NULL) != SQLITE_OK)
        goto error;
    err = "reading the last row";
    if (sqlite3_prepare_v2(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        goto rollback;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 1);
        r.id = sqlite3_column_int64(st, 0);
        if (!h || strlen(h) != HASH_HEX)
            goto rollback;
        memcpy(prev, h, HASH_HEX + 1);
    } else if (rc != SQLITE_DONE) {
        goto rollback;
    }
    sqlite3_finalize(st);
    st = NULL;
    r.id++;
    time_format_iso_ms(audit_now(), ts, sizeof(ts));
    err = "hashing";
    if (row_hash(prev, &r, hash) != 0)
        goto rollback;
    err = "inserting";
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO audit (id, ts, user, action, target, detail, prev_hash,"
                           " hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK)
        goto rollback;
    rc = sqlite3_bind_int64(st, 1, r.id);
    for (int i = 0; i < 5 && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_text(st, i + 2, r.field[i], -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 7, prev, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        goto rollback;
    sqlite3_finalize(st);
    st = NULL;
    err = "commit";
    if (sqlite3_exec(db, own_txn ? "COMMIT" : "RELEASE audit_append", NULL, NULL, NULL) !=
        SQLITE_OK)
        goto rollback;
    /* The journal's copy: the witness for rows removed from the end of the chain. */
    log_msg(LOG_NOTICE, "audit %lld %s %s %s %.16s", (long long)r.id, r.field[1], action,
            r.field[3], hash);
    return 0;

rollback:
    log_msg(LOG_ERR, "audit: %s: %s", err, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (own_txn)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    else
        sqlite3_exec(db, "ROLLBACK TO audit_append; RELEASE audit_append", NULL, NULL, NULL);
    return -1;
error:
    log_msg(LOG_ERR, "audit: %s: %s", err, sqlite3_errmsg(db));
    return -1;
}

int audit_verify(struct index *ix, int64_t *rows, int64_t *bad_id, char *why, size_t whysize)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    char prev[HASH_HEX + 1] = ZERO_HASH, hash[HASH_HEX + 1];
    int64_t expect_id = 1;
    int ret = 0, rc;

    *rows = 0;
    *bad_id = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, ts, user, action, target, detail, prev_hash, hash"
                           " FROM audit ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(why, whysize, "%s", sqlite3_errmsg(db));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct row r;
        r.id = sqlite3_column_int64(st, 0);
        for (int i = 0; i < 5; i++) {
            const char *s = (const char *)sqlite3_column_text(st, i + 1);
            r.field[i] = s ? s : "";
        }
        const char *row_prev = (const char *)sqlite3_column_text(st, 6);
        const char *row_hash_text = (const char *)sqlite3_column_text(st, 7);
        *bad_id = r.id;
        ret = 1;
        if (r.id != expect_id) {
            snprintf(why, whysize, "row %lld follows row %lld: rows are missing", (long long)r.id,
                     (long long)expect_id - 1);
            break;
        }
        if (!row_prev || strcmp(row_prev, prev) != 0) {
            snprintf(why, whysize, "prev_hash does not match the hash of row %lld",
                     (long long)r.id - 1);
            break;
        }
        if (row_hash(prev, &r, hash) != 0) {
            ret = -1;
            snprintf(why, whysize, "hashing failed");
            break;
        }
        if (!row_hash_text || strcmp(row_hash_text, hash) != 0) {
            snprintf(why, whysize, "the row's content does not match its hash");
            break;
        }
        memcpy(prev, hash, sizeof(prev));
        ret = 0;
        *bad_id = 0;
        (*rows)++;
        expect_id++;
    }
    if (ret == 0 && rc != SQLITE_DONE) {
        snprintf(why, whysize, "%s", sqlite3_errmsg(db));
        ret = -1;
    }
    sqlite3_finalize(st);
    return ret;
}

long audit_list_json(struct index *ix, long limit, long offset, FILE *out)
{
    return audit_list_target_json(ix, NULL, limit, offset, out);
}

long audit_list_target_json(struct index *ix, const char *target, long limit, long offset,
                            FILE *out)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    struct json_writer w;
    long rows = 0;
    /* Two statements rather than "?3 IS NULL OR target = ?3", which no index serves. */
    int rc = sqlite3_prepare_v2(db,
                                target ? "SELECT id, ts, user, action, target, detail, hash"
                                         " FROM audit WHERE target = ?3"
                                         " ORDER BY id DESC LIMIT ?1 OFFSET ?2"
                                       : "SELECT id, ts, user, action, target, detail, hash"
                                         " FROM audit ORDER BY id DESC LIMIT ?1 OFFSET ?2",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, limit > 0 ? limit : -1);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, offset > 0 ? offset : 0);
    if (rc == SQLITE_OK && target)
        rc = sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
    if (rc != SQLITE_OK) {
        log_msg(LOG_ERR, "audit: listing: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    static const char *const keys[] = {"ts", "user", "action", "target"};
    json_init(&w, out, false);
    json_array_begin(&w);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object_begin(&w);
        json_key(&w, "id");
        json_int(&w, sqlite3_column_int64(st, 0));
        for (int i = 0; i < 4; i++) {
            json_key(&w, keys[i]);
            json_string(&w, (const char *)sqlite3_column_text(st, i + 1));
        }
        /* detail is JSON we wrote; shown as a string so a reader never has to trust it. */
        json_key(&w, "detail");
        json_string(&w, (const char *)sqlite3_column_text(st, 5));
        json_key(&w, "hash");
        json_string(&w, (const char *)sqlite3_column_text(st, 6));
        json_object_end(&w);
        rows++;
    }
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "audit: listing: %s", sqlite3_errmsg(db));
        rows = -1;
    }
    sqlite3_finalize(st);
    json_array_end(&w);
    if (json_finish(&w) != 0)
        rows = -1;
    return rows;
}

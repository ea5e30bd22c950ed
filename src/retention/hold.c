/*
 * hold.c - legal holds: a call under a hold is never purged, whatever its retention,
 * until the hold is lifted (an auditor's decision, audited both ways).  The table keeps
 * the current holds; their history is the audit chain.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "greffier/audit.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

/* {"reason": reason} as JSON text, malloc'd (NULL when out of memory). */
static char *reason_detail(const char *reason)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    struct json_writer w;
    json_init(&w, f, false);
    json_object_begin(&w);
    json_key(&w, "reason");
    json_string(&w, reason);
    json_object_end(&w);
    bool bad = json_finish(&w) != 0;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

int retention_hold(struct index *ix, int64_t id, const char *user, const char *reason)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    char since[TIME_ISO_SIZE], target[32];
    char *detail = NULL;
    int ret = -1;
    if (!reason)
        reason = "";
    time_format_iso_ms(clock_now(), since, sizeof(since));
    snprintf(target, sizeof(target), "call:%lld", (long long)id);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    /* A call whose purge has begun (tombstone) is gone for every purpose. */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM calls WHERE id = ?1"
                           "  AND id NOT IN (SELECT id FROM purged_calls)),"
                           " (SELECT count(*) FROM legal_holds WHERE call_ref = ?1)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto error;
    bool exists = sqlite3_column_int(st, 0) > 0, held = sqlite3_column_int(st, 1) > 0;
    sqlite3_finalize(st);
    st = NULL;
    if (!exists || held) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return exists ? 0 : -2;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO legal_holds (call_ref, since, user, reason)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    st = NULL;
    detail = reason_detail(reason);
    if (!detail || audit_append(ix, user, "hold", target, detail) != 0)
        goto error;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    free(detail);
    return 1;
error:
    log_msg(LOG_ERR, "retention: hold on call %lld: %s", (long long)id, sqlite3_errmsg(db));
    free(detail);
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return ret;
}

int retention_hold_lift(struct index *ix, int64_t id, const char *user)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    char target[32];
    snprintf(target, sizeof(target), "call:%lld", (long long)id);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    if (sqlite3_prepare_v2(db, "DELETE FROM legal_holds WHERE call_ref = ?1", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_changes(db) == 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return 0;
    }
    if (audit_append(ix, user, "hold_lift", target, "{}") != 0)
        goto error;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    return 1;
error:
    log_msg(LOG_ERR, "retention: lifting the hold on call %lld: %s", (long long)id,
            sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

long retention_holds_json(struct index *ix, struct json_writer *w)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    long n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT call_ref, since, user, reason FROM legal_holds"
                           " ORDER BY since, call_ref",
                           -1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "retention: listing holds: %s", sqlite3_errmsg(db));
        return -1;
    }
    json_array_begin(w);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object_begin(w);
        json_key(w, "call");
        json_int(w, sqlite3_column_int64(st, 0));
        json_key(w, "since");
        json_string(w, (const char *)sqlite3_column_text(st, 1));
        json_key(w, "user");
        json_string(w, (const char *)sqlite3_column_text(st, 2));
        json_key(w, "reason");
        json_string(w, (const char *)sqlite3_column_text(st, 3));
        json_object_end(w);
        n++;
    }
    json_array_end(w);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    return n;
}

/*
 * reindex.c - a call's rows rebuilt from its recording's sealed metadata (`greffier
 * reindex`, docs/FORMAT.md "Metadata").
 *
 * The metadata is a JSON object; SQLite's JSON functions read it (json_extract, json_each
 * for the tags), so no JSON parser of our own touches decrypted data.  Members a file
 * does not have (older files carry only call_id, start, start_us, caller, callee) give
 * NULL columns.  A recording is only kept for an answered call, hence the status.  The
 * call's row goes in with the usual triggers (call_search) and id rule (never a purged
 * call's id); an existing call (same Call-ID and start) or recording path is left alone.
 */
#include <string.h>

#include "greffier/log.h"
#include "greffier/number.h"
#include "index_int.h"

static const char sql_call[] =
    "INSERT INTO calls (id, call_id, start_us, answer_us, end_us, last_activity_us, status,"
    " direction, end_reason, caller, caller_norm, caller_name, callee, callee_norm,"
    " callee_name, rule, rule_action, retention_days, media_state)"
    " SELECT 1 + max(coalesce((SELECT max(id) FROM calls), 0),"
    "  coalesce((SELECT max(id) FROM purged_calls), 0)),"
    " json_extract(:m, '$.call_id'),"
    " coalesce(json_extract(:m, '$.call_start_us'), json_extract(:m, '$.start_us')),"
    " json_extract(:m, '$.answer_us'), json_extract(:m, '$.start_us') + :duration_us,"
    " json_extract(:m, '$.start_us') + :duration_us, 'answered',"
    " coalesce(json_extract(:m, '$.direction'), 'unknown'), 'reindexed',"
    " json_extract(:m, '$.caller'), :caller_norm, json_extract(:m, '$.caller_name'),"
    " json_extract(:m, '$.callee'), :callee_norm, json_extract(:m, '$.callee_name'),"
    " json_extract(:m, '$.rule'), json_extract(:m, '$.rule_action'),"
    " json_extract(:m, '$.retention_days'), 'recorded'"
    " WHERE json_type(:m, '$.call_id') = 'text' AND json_type(:m, '$.start_us') = 'integer'"
    " ON CONFLICT (call_id, start_us) DO NOTHING";

static const char sql_find[] =
    "SELECT c.id, r.id IS NOT NULL FROM calls c LEFT JOIN recordings r ON r.call_ref = c.id"
    " WHERE c.call_id = json_extract(:m, '$.call_id')"
    " AND c.start_us = coalesce(json_extract(:m, '$.call_start_us'),"
    "  json_extract(:m, '$.start_us'))";

static const char sql_tags[] =
    "INSERT OR IGNORE INTO call_tags (call_ref, tag)"
    " SELECT :id, value FROM json_each(:m, '$.tags') WHERE type = 'text'";

static const char sql_recording[] =
    "INSERT INTO recordings (call_ref, path, codec_in, sample_rate, duration_s, bytes, sha256,"
    " start_us, answer_offset_ms, bitrate, frame_ms, state)"
    " SELECT :id, :path, json_extract(:m, '$.codec'),"
    " coalesce(json_extract(:m, '$.sample_rate'), :rate), :duration_s, :bytes, :sha256,"
    " json_extract(:m, '$.start_us'),"
    " (json_extract(:m, '$.answer_us') - json_extract(:m, '$.start_us')) / 1000,"
    " json_extract(:m, '$.bitrate'), json_extract(:m, '$.frame_ms'), :state";

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

static void bind_text(sqlite3_stmt *st, const char *name, const char *v, size_t len, int *rc)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0 && *rc == SQLITE_OK)
        *rc = v ? sqlite3_bind_text(st, i, v, (int)len, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static void bind_int(sqlite3_stmt *st, const char *name, int64_t v, int *rc)
{
    int i = sqlite3_bind_parameter_index(st, name);
    if (i > 0 && *rc == SQLITE_OK)
        *rc = sqlite3_bind_int64(st, i, v);
}

/* The caller's and callee's numbers of the metadata, normalised with the number plan
 * (empty when absent or not a number).  0, or -1. */
static int normalised(sqlite3 *db, const struct reindex_file *f, char norm[2][64])
{
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_OK;
    norm[0][0] = norm[1][0] = '\0';
    if (prepare(db, "SELECT json_extract(:m, '$.caller'), json_extract(:m, '$.callee')", &st) != 0)
        return -1;
    bind_text(st, ":m", f->meta, f->metalen, &rc);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        const char *n = (const char *)sqlite3_column_text(st, i);
        if (n && !number_normalise(f->plan, n, norm[i], sizeof(norm[i])))
            norm[i][0] = '\0';
    }
    sqlite3_finalize(st);
    return 0;
}

/* -1 error, 0 no such call, 1 found (*id, *has_recording). */
static int find_call(sqlite3 *db, const char *meta, size_t len, int64_t *id, bool *has_rec)
{
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_OK, ret = -1;
    if (prepare(db, sql_find, &st) != 0)
        return -1;
    bind_text(st, ":m", meta, len, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            *has_rec = sqlite3_column_int(st, 1) != 0;
            ret = 1;
        } else if (rc == SQLITE_DONE) {
            ret = 0;
        }
    }
    sqlite3_finalize(st);
    return ret;
}

int index_reindex_recording(struct index *ix, const struct reindex_file *f)
{
    sqlite3 *db = ix->db;
    sqlite3_stmt *st = NULL;
    const char *what = "begin";
    int rc = SQLITE_OK, ret = -1;
    int64_t id = 0;
    bool has_rec = false;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    what = "looking for the recording";
    int64_t known = 0;
    if (prepare(db, "SELECT count(*) FROM recordings WHERE path = :path", &st) != 0)
        goto error;
    bind_text(st, ":path", f->path, strlen(f->path), &rc);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto error;
    known = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (known) {
        ret = 0;
        goto done;
    }
    what = "looking for the call";
    int found = find_call(db, f->meta, f->metalen, &id, &has_rec);
    if (found < 0)
        goto error;
    if (found && has_rec) {
        ret = 0; /* the call has another recording: its row is left as it is */
        goto done;
    }
    if (!found) {
        what = "inserting the call";
        if (prepare(db, sql_call, &st) != 0)
            goto error;
        bind_text(st, ":m", f->meta, f->metalen, &rc);
        char norm[2][64];
        if (normalised(db, f, norm) != 0)
            goto error;
        bind_int(st, ":duration_us", (int64_t)(f->duration_s * 1e6), &rc);
        bind_text(st, ":caller_norm", norm[0][0] ? norm[0] : NULL, strlen(norm[0]), &rc);
        bind_text(st, ":callee_norm", norm[1][0] ? norm[1] : NULL, strlen(norm[1]), &rc);
        if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            goto error;
        sqlite3_finalize(st);
        st = NULL;
        if (sqlite3_changes(db) != 1) {
            log_msg(LOG_WARNING, "index: %s: its metadata names no call (no call_id or start)",
                    f->path);
            ret = -2;
            goto done;
        }
        id = sqlite3_last_insert_rowid(db);
        what = "inserting the tags";
        if (prepare(db, sql_tags, &st) != 0)
            goto error;
        bind_text(st, ":m", f->meta, f->metalen, &rc);
        bind_int(st, ":id", id, &rc);
        if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            goto error;
        sqlite3_finalize(st);
        st = NULL;
    }
    what = "inserting the recording";
    if (prepare(db, sql_recording, &st) != 0)
        goto error;
    bind_text(st, ":m", f->meta, f->metalen, &rc);
    bind_int(st, ":id", id, &rc);
    bind_text(st, ":path", f->path, strlen(f->path), &rc);
    bind_int(st, ":rate", f->sample_rate, &rc);
    if (rc == SQLITE_OK)
        rc =
            sqlite3_bind_double(st, sqlite3_bind_parameter_index(st, ":duration_s"), f->duration_s);
    bind_int(st, ":bytes", (int64_t)f->bytes, &rc);
    bind_text(st, ":sha256", f->sha256, strlen(f->sha256), &rc);
    bind_text(st, ":state", f->truncated ? "truncated" : "complete", f->truncated ? 9 : 8, &rc);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    st = NULL;
    ret = found ? 2 : 1;
done:
    if (sqlite3_exec(db, ret > 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    return ret;
error:
    log_msg(LOG_ERR, "index: reindexing %s: %s: %s", f->path, what, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

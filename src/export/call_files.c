/*
 * call_files.c - metadata.json and audit.json of one exported call.
 *
 * metadata.json holds the call as `greffier call ID` shows it (times in UTC), then every
 * column of its index rows as stored (calls and recordings, read with SELECT * so that
 * a column added later is exported without anyone remembering to), its tags and notes,
 * its retention and legal-hold state, the recording's seal state at export and what is
 * known of the clocks.  audit.json is every audit row about the call: rows whose target
 * is the call, and the exports that named it among others.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/index.h"
#include "greffier/json.h"
#include "export_int.h"

void json_row_members(struct json_writer *w, sqlite3_stmt *st, const char *skip)
{
    for (int i = 0; i < sqlite3_column_count(st); i++) {
        const char *name = sqlite3_column_name(st, i);
        if (!name || (skip && strcmp(name, skip) == 0))
            continue;
        json_key(w, name);
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            json_int(w, sqlite3_column_int64(st, i));
            break;
        case SQLITE_FLOAT:
            json_double(w, sqlite3_column_double(st, i));
            break;
        case SQLITE_TEXT:
            json_string_len(w, (const char *)sqlite3_column_text(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
            break;
        case SQLITE_BLOB: {
            char note[64];
            snprintf(note, sizeof(note), "(%d bytes of binary data)", sqlite3_column_bytes(st, i));
            json_string(w, note);
            break;
        }
        default:
            json_null(w);
            break;
        }
    }
}

/* key: the one row of sql (bound to id) as an object, or null.  0, or -1. */
static int row_object(sqlite3 *db, struct json_writer *w, const char *key, const char *sql,
                      int64_t id, const char *skip)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    json_key(w, key);
    if (rc == SQLITE_ROW) {
        json_object_begin(w);
        json_row_members(w, st, skip);
        json_object_end(w);
    } else {
        json_null(w);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* key: every row of sql as an array of objects.  0, or -1. */
static int rows_array(sqlite3 *db, struct json_writer *w, const char *key, const char *sql,
                      int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, id);
    if (key)
        json_key(w, key);
    json_array_begin(w);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object_begin(w);
        json_row_members(w, st, NULL);
        json_object_end(w);
        rc = SQLITE_OK;
    }
    json_array_end(w);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int call_metadata_json(struct index *ix, int64_t call_id, const char *seal_state, FILE *out)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    struct json_writer w;
    char *shown = NULL;
    size_t shown_len = 0;
    int failed = 0;
    FILE *m = open_memstream(&shown, &shown_len);
    if (!m)
        return -1;
    long r = index_show_call(ix, call_id, m);
    if (fclose(m) != 0 || r != 1) {
        free(shown);
        return -1;
    }
    /* The outer object is written by hand around the `greffier call` document. */
    fputs("{\n  \"format\": \"greffier-call-metadata-1\",\n"
          "  \"times\": \"ISO 8601 in UTC; *_us columns are microseconds since 1970-01-01 UTC\",\n"
          "  \"call\": ",
          out);
    fwrite(shown, 1, shown_len, out);
    free(shown);
    fputs(",\n  \"details\": ", out);
    json_init(&w, out, true);
    json_object_begin(&w);
    failed |=
        row_object(db, &w, "index_calls_row", "SELECT * FROM calls WHERE id = ?1", call_id, NULL);
    failed |= row_object(db, &w, "index_recordings_row",
                         "SELECT * FROM recordings WHERE call_ref = ?1", call_id, "peaks");
    json_key(&w, "seal_state_at_export");
    json_string(&w, seal_state);
    failed |= rows_array(db, &w, "tags",
                         "SELECT tag FROM call_tags WHERE call_ref = ?1 ORDER BY tag", call_id);
    failed |= rows_array(db, &w, "notes",
                         "SELECT ts, user, text FROM call_notes WHERE call_ref = ?1 ORDER BY id",
                         call_id);
    json_key(&w, "retention");
    json_object_begin(&w);
    failed |= row_object(db, &w, "rule",
                         "SELECT rule, rule_action, retention_days FROM calls WHERE id = ?1",
                         call_id, NULL);
    json_key(&w, "note");
    json_string(&w, "retention_days null: the installation's default retention applies");
    json_object_end(&w);
    failed |= row_object(db, &w, "legal_hold",
                         "SELECT since, user, reason FROM legal_holds WHERE call_ref = ?1", call_id,
                         NULL);
    json_key(&w, "clock");
    json_object_begin(&w);
    clock_status_json(&w);
    json_object_end(&w);
    json_object_end(&w);
    failed |= json_finish(&w);
    fputs("}\n", out);
    return failed ? -1 : 0;
}

int call_audit_json(sqlite3 *db, int64_t call_id, FILE *out)
{
    /* An export names its calls as "12,13": the call is found among them exactly. */
    static const char sql[] =
        "SELECT id, ts, user, action, target, detail, prev_hash, hash FROM audit"
        " WHERE target = CAST(?1 AS TEXT)"
        "  OR (action = 'export' AND instr(',' || target || ',', ',' || ?1 || ',') > 0)"
        " ORDER BY id";
    struct json_writer w;
    json_init(&w, out, true);
    json_object_begin(&w);
    json_key(&w, "note");
    json_string(&w, "the audit rows about this call, oldest first; each row's hash chains it "
                    "to the previous row of the installation's audit trail (greffier audit "
                    "verify)");
    int rc = rows_array(db, &w, "rows", sql, call_id);
    json_object_end(&w);
    return json_finish(&w) != 0 || rc != 0 ? -1 : 0;
}

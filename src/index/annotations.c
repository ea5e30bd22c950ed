/*
 * annotations.c - tags and notes that people add to calls (the web's supervisors and
 * auditors), beside the tags the recording rules set.
 *
 * Both feed the free-text search: call_search is kept by the triggers of migration 5,
 * so nothing here writes it.  Rare writes: statements are prepared per call.  Whether a
 * call exists is asked first, so that "no such call" (404) is told apart from "no such
 * tag" on it.
 */
#include <string.h>

#include "greffier/clock.h"
#include "greffier/log.h"
#include "greffier/timefmt.h"
#include "greffier/utf8.h"
#include "index_int.h"

bool index_tag_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > INDEX_TAG_MAX)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '_' || *t == '-' || *t == '.'))
            return false;
    return true;
}

/* Well-formed UTF-8; no control character but tab and newline (a note is shown in a
 * page and in the audit trail, where a carriage return or escape would mislead), nor the
 * bidirectional overrides that make text read backwards. */
bool index_note_valid(const char *text, size_t len)
{
    const uint8_t *p = (const uint8_t *)text;
    bool visible = false;
    if (len == 0 || len > INDEX_NOTE_MAX)
        return false;
    for (size_t i = 0; i < len;) {
        size_t bad, seq = utf8_sequence(p + i, len - i, &bad);
        if (seq == 0)
            return false;
        uint32_t cp = utf8_decode(p + i, seq);
        if ((cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp < 0xa0) ||
            (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
            return false;
        if (cp != ' ' && cp != '\t' && cp != '\n')
            visible = true;
        i += seq;
    }
    return visible;
}

/* A statement prepared for one use; b binds its named parameters. */
static bool prepare_one(struct index *ix, struct ix_binder *b, const char *sql)
{
    *b = (struct ix_binder){NULL, NULL, SQLITE_OK};
    if (sqlite3_prepare_v2(ix->db, sql, -1, &b->st, NULL) == SQLITE_OK)
        return true;
    log_msg(LOG_ERR, "index: annotations: %s", sqlite3_errmsg(ix->db));
    return false;
}

/* Steps and finalizes a bound statement that returns no row: rows changed, or -1. */
static int run(struct index *ix, struct ix_binder *b, int64_t id, const char *what)
{
    char err[200];
    int rc = ix_step_bound(ix->db, b, err, sizeof(err));
    int changes = sqlite3_changes(ix->db);
    sqlite3_finalize(b->st);
    if (rc != 0) {
        log_msg(LOG_ERR, "index: call %lld: %s: %s", (long long)id, what, err);
        return -1;
    }
    return changes;
}

/* 0 when call id exists, -2 when not, -1 on error. */
static int check_call(struct index *ix, int64_t id)
{
    int64_t n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ix->db, "SELECT count(*) FROM calls WHERE id = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        log_msg(LOG_ERR, "index: call %lld: %s", (long long)id, sqlite3_errmsg(ix->db));
        return -1;
    }
    return n > 0 ? 0 : -2;
}

int index_tag_add(struct index *ix, int64_t call_rowid, const char *tag)
{
    struct ix_binder b;
    int e = check_call(ix, call_rowid);
    if (e < 0)
        return e;
    if (!index_tag_valid(tag) ||
        !prepare_one(ix, &b, "INSERT OR IGNORE INTO call_tags (call_ref, tag) VALUES (:id, :tag)"))
        return -1;
    ix_bind_int(&b, ":id", call_rowid);
    ix_bind_text(&b, ":tag", tag);
    return run(ix, &b, call_rowid, "adding a tag");
}

int index_tag_remove(struct index *ix, int64_t call_rowid, const char *tag)
{
    struct ix_binder b;
    int e = check_call(ix, call_rowid);
    if (e < 0)
        return e;
    if (!prepare_one(ix, &b, "DELETE FROM call_tags WHERE call_ref = :id AND tag = :tag"))
        return -1;
    ix_bind_int(&b, ":id", call_rowid);
    ix_bind_text(&b, ":tag", tag);
    return run(ix, &b, call_rowid, "removing a tag");
}

int64_t index_note_add(struct index *ix, int64_t call_rowid, const char *user, const char *text,
                       size_t len)
{
    char now[TIME_ISO_SIZE];
    struct ix_binder b;
    int e = check_call(ix, call_rowid);
    if (e < 0)
        return e;
    if (!index_note_valid(text, len) ||
        !prepare_one(ix, &b,
                     "INSERT INTO call_notes (call_ref, ts, user, text)"
                     " VALUES (:id, :ts, :user, :text)"))
        return -1;
    time_format_iso_ms(clock_now(), now, sizeof(now));
    ix_bind_int(&b, ":id", call_rowid);
    ix_bind_text(&b, ":ts", now);
    ix_bind_text(&b, ":user", user);
    ix_bind_text_len(&b, ":text", text, len);
    if (run(ix, &b, call_rowid, "adding a note") != 1)
        return -1;
    return sqlite3_last_insert_rowid(ix->db);
}

int index_note_remove(struct index *ix, int64_t call_rowid, int64_t note_id, const char *by,
                      bool any_author)
{
    struct ix_binder b;
    int e = check_call(ix, call_rowid);
    if (e < 0)
        return e;
    /* Who wrote it, if it exists on this call. */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        ix->db, "SELECT user FROM call_notes WHERE call_ref = ?1 AND id = ?2", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, call_rowid);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, note_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    bool mine = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), by) == 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW) {
        log_msg(LOG_ERR, "index: call %lld: note: %s", (long long)call_rowid,
                sqlite3_errmsg(ix->db));
        return -1;
    }
    if (!mine && !any_author)
        return -3;
    if (!prepare_one(ix, &b, "DELETE FROM call_notes WHERE call_ref = :id AND id = :note"))
        return -1;
    ix_bind_int(&b, ":id", call_rowid);
    ix_bind_int(&b, ":note", note_id);
    return run(ix, &b, call_rowid, "removing a note");
}

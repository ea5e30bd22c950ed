/*
 * purge.c - removing a call for good: its recording, its index rows, and every trace of
 * its personal data in the database file, leaving a tombstone and an audit row.
 *
 * Order, so that a crash at any point is noticed and finished by the next run:
 *   1. one transaction commits the tombstones (purged_calls): the purge has begun;
 *   2. the recording files (and any .part) are unlinked and their folders fsynced;
 *   3. one transaction deletes the calls (the schema's cascades remove messages, offers,
 *      streams, events, tags, notes and the recording row; triggers clean call_search)
 *      and appends the audit row.
 * A call that has a tombstone and still has rows is a purge interrupted between 1 and 3
 * (retention_finish_interrupted).  The index never points at a deleted file unnoticed.
 *
 * Deleted rows leave their bytes in free pages, in old FTS5 segments and in the WAL
 * until those are overwritten; the purge therefore runs with secure_delete (freed pages
 * are zeroed), merges the search index ('optimize' rewrites it without the deleted
 * entries) and checkpoints the WAL with TRUNCATE (https://www.sqlite.org/pragma.html
 * #pragma_secure_delete, https://www.sqlite.org/fts5.html#the_optimize_command).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "greffier/audit.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

enum { PURGE_BATCH = 200 }; /* calls per write transaction and audit row */

const char *purge_reason_name(enum purge_reason r)
{
    switch (r) {
    case PURGE_ERASURE:
        return "erasure";
    case PURGE_DISK_FULL:
        return "disk_full";
    case PURGE_RETENTION:
        break;
    }
    return "retention";
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        log_msg(LOG_ERR, "retention: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -1;
}

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Unlinks DATA_DIR/rel and DATA_DIR/rel.part, then fsyncs their folder.  0 when both are
 * gone (or never existed), -1 otherwise (logged). */
static int remove_recording(const char *data_dir, const char *rel)
{
    char path[4700], part[4710];
    if (!rel[0])
        return 0;
    if (strstr(rel, "..") || rel[0] == '/') {
        log_msg(LOG_ERR, "retention: recording path \"%s\" is not under the data directory", rel);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", data_dir, rel);
    snprintf(part, sizeof(part), "%s.part", path);
    int ret = 0;
    if (unlink(path) != 0 && errno != ENOENT) {
        log_msg(LOG_ERR, "retention: removing %s: %s", path, strerror(errno));
        ret = -1;
    }
    if (unlink(part) != 0 && errno != ENOENT) {
        log_msg(LOG_ERR, "retention: removing %s: %s", part, strerror(errno));
        ret = -1;
    }
    char *slash = strrchr(path, '/');
    if (slash) {
        *slash = '\0';
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            if (fsync(fd) != 0)
                log_msg(LOG_WARNING, "retention: fsync %s: %s", path, strerror(errno));
            close(fd);
        }
    }
    return ret;
}

/* Zeroes what the deletes freed and rewrites the search index and the WAL, so that the
 * purged calls' numbers survive nowhere in the database files. */
static void scrub(sqlite3 *db)
{
    int log_frames = -1, done = -1;
    exec(db, "INSERT INTO call_search (call_search) VALUES ('optimize')");
    if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &done) !=
        SQLITE_OK)
        log_msg(LOG_WARNING,
                "retention: the WAL could not be checkpointed now (%s): purged data stays in "
                "it until the next checkpoint",
                sqlite3_errmsg(db));
}

static int begin(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db)) {
        log_msg(LOG_ERR, "retention: purge called inside a transaction");
        return -1;
    }
    if (exec(db, "PRAGMA secure_delete = ON") != 0)
        return -1;
    return exec(db, "BEGIN IMMEDIATE");
}

static int insert_tombstone(sqlite3 *db, sqlite3_stmt *st, const struct purge_item *it,
                            const char *when, enum purge_reason reason, int64_t proposal_ref)
{
    int rc = sqlite3_bind_int64(st, 1, it->id);
    rc |= sqlite3_bind_int64(st, 2, it->start_us);
    rc |= it->end_us > 0 ? sqlite3_bind_int64(st, 3, it->end_us) : sqlite3_bind_null(st, 3);
    rc |= sqlite3_bind_text(st, 4, when, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_text(st, 5, purge_reason_name(reason), -1, SQLITE_STATIC);
    rc |= sqlite3_bind_text(st, 6, it->exp.origin, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int(st, 7, (int)it->exp.days);
    rc |= sqlite3_bind_int(st, 8, it->has_recording);
    rc |= it->has_recording ? sqlite3_bind_int64(st, 9, (int64_t)it->bytes)
                            : sqlite3_bind_null(st, 9);
    rc |= proposal_ref > 0 ? sqlite3_bind_int64(st, 10, proposal_ref) : sqlite3_bind_null(st, 10);
    rc |= sqlite3_bind_int64(st, 11, it->id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "retention: tombstone of call %lld: %s", (long long)it->id,
                sqlite3_errmsg(db));
        return -1;
    }
    return sqlite3_changes(db) == 1 ? 1 : 0;
}

/* Step 1: the tombstones of the items not on hold; marked[i] says which got one. */
static int mark(sqlite3 *db, const struct purge_list *l, enum purge_reason reason,
                int64_t proposal_ref, bool *marked, struct purge_result *res)
{
    char when[TIME_ISO_SIZE];
    sqlite3_stmt *st = NULL;
    time_format_iso_ms(clock_now(), when, sizeof(when));
    if (begin(db) != 0)
        return -1;
    /* The hold is read inside the write transaction: a hold placed by the web process
     * before it wins, and one placed after it sees the tombstone and is refused. */
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO purged_calls (id, start_us, end_us, purged_at, reason,"
                           " rule, retention_days, had_recording, recording_bytes, proposal_ref)"
                           " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10"
                           " WHERE EXISTS (SELECT 1 FROM calls WHERE id = ?11)"
                           " AND NOT EXISTS (SELECT 1 FROM legal_holds WHERE call_ref = ?11)",
                           -1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "retention: %s", sqlite3_errmsg(db));
        rollback(db);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++) {
        marked[i] = false;
        if (l->v[i].held) {
            res->skipped_held++;
            continue;
        }
        int r = insert_tombstone(db, st, &l->v[i], when, reason, proposal_ref);
        if (r < 0) {
            sqlite3_finalize(st);
            rollback(db);
            return -1;
        }
        marked[i] = r == 1;
        if (r == 0)
            res->skipped_held++; /* put on hold (or gone) since it was selected */
    }
    sqlite3_finalize(st);
    if (exec(db, "COMMIT") != 0) {
        rollback(db);
        return -1;
    }
    return 0;
}

/* The audit detail: {"reason", "calls", "files", "bytes", "ids": [...], "proposal",
 * "note"}, in a string the caller frees. */
static char *audit_detail(const struct purge_list *l, const bool *marked, const char *reason,
                          const struct purge_result *res, int64_t proposal_ref, const char *note)
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
    json_key(&w, "calls");
    json_uint(&w, res->purged);
    json_key(&w, "files");
    json_uint(&w, res->files);
    json_key(&w, "bytes");
    json_uint(&w, res->bytes);
    json_key(&w, "skipped_held");
    json_uint(&w, res->skipped_held);
    json_key(&w, "ids");
    json_array_begin(&w);
    for (size_t i = 0; i < l->n; i++)
        if (!marked || marked[i])
            json_int(&w, l->v[i].id);
    json_array_end(&w);
    if (proposal_ref > 0) {
        json_key(&w, "proposal");
        json_int(&w, proposal_ref);
    }
    if (note) {
        json_key(&w, "note");
        json_string(&w, note);
    }
    json_object_end(&w);
    int bad = json_finish(&w);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    if (len > 0 && buf[len - 1] == '\n')
        buf[len - 1] = '\0';
    return buf;
}

/* Step 3: deletes the calls whose files are gone and appends the audit row. */
static int delete_rows(sqlite3 *db, struct index *ix, const struct purge_list *l, const bool *gone,
                       const char *user, const char *action, const char *detail)
{
    sqlite3_stmt *st = NULL;
    if (begin(db) != 0)
        return -1;
    if (sqlite3_prepare_v2(db, "DELETE FROM calls WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        goto error;
    for (size_t i = 0; i < l->n; i++) {
        if (!gone[i])
            continue;
        if (sqlite3_bind_int64(st, 1, l->v[i].id) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            goto error;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (audit_append(ix, user, action, "", detail ? detail : "{}") != 0)
        goto error;
    if (exec(db, "COMMIT") != 0)
        goto error;
    return 0;
error:
    log_msg(LOG_ERR, "retention: deleting purged calls: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    rollback(db);
    return -1;
}

/* One batch: tombstones, files, rows and its audit row (detail counts this batch). */
static int purge_batch(struct index *ix, const char *data_dir, const struct purge_list *l,
                       enum purge_reason reason, int64_t proposal_ref, const char *user,
                       const char *note, struct purge_result *res)
{
    sqlite3 *db = index_sqlite(ix);
    bool *marked = calloc(l->n, sizeof(*marked));
    if (!marked)
        return -1;
    int ret = -1;
    if (mark(db, l, reason, proposal_ref, marked, res) != 0)
        goto out;
    for (size_t i = 0; i < l->n; i++) {
        if (!marked[i])
            continue;
        if (remove_recording(data_dir, l->v[i].path) != 0) {
            marked[i] = false; /* its row stays, with its tombstone: finished next run */
            continue;
        }
        res->purged++;
        if (l->v[i].has_recording) {
            res->files++;
            res->bytes += l->v[i].bytes;
        }
    }
    char *detail = audit_detail(l, marked, purge_reason_name(reason), res, proposal_ref, note);
    ret = delete_rows(db, ix, l, marked, user, "purge", detail);
    free(detail);
out:
    free(marked);
    return ret;
}

int retention_purge(struct index *ix, const char *data_dir, const struct purge_list *l,
                    enum purge_reason reason, int64_t proposal_ref, const char *user,
                    const char *note, struct purge_result *res)
{
    memset(res, 0, sizeof(*res));
    long fin = retention_finish_interrupted(ix, data_dir);
    if (fin < 0)
        return -1;
    res->finished = (size_t)fin;
    if (l->n == 0)
        return 0;
    /* Batches keep each write transaction short: the capture daemon, writing the index
     * at the same time, waits at most its busy timeout for the lock. */
    int ret = 0;
    for (size_t at = 0; at < l->n && ret == 0; at += PURGE_BATCH) {
        struct purge_list part = {.v = l->v + at,
                                  .n = l->n - at < PURGE_BATCH ? l->n - at : PURGE_BATCH};
        struct purge_result r = {0};
        ret = purge_batch(ix, data_dir, &part, reason, proposal_ref, user, note, &r);
        res->purged += r.purged;
        res->skipped_held += r.skipped_held;
        res->files += r.files;
        res->bytes += r.bytes;
    }
    if (res->purged > 0)
        scrub(index_sqlite(ix));
    log_msg(ret == 0 ? LOG_NOTICE : LOG_ERR,
            "retention: purged %zu calls (%s), %zu files, %llu bytes%s", res->purged,
            purge_reason_name(reason), res->files, (unsigned long long)res->bytes,
            ret == 0 ? "" : "; then failed (see above): the next purge goes on");
    return ret;
}

long retention_finish_interrupted(struct index *ix, const char *data_dir)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    struct purge_list l = {0};
    if (sqlite3_prepare_v2(db,
                           "SELECT c.id, r.path FROM calls c JOIN purged_calls p ON p.id = c.id"
                           " LEFT JOIN recordings r ON r.call_ref = c.id ORDER BY c.id",
                           -1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "retention: %s", sqlite3_errmsg(db));
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (l.n == l.cap) {
            size_t cap = l.cap ? l.cap * 2 : 16;
            struct purge_item *v = realloc(l.v, cap * sizeof(*v));
            if (!v)
                break;
            l.v = v;
            l.cap = cap;
        }
        struct purge_item *it = &l.v[l.n++];
        memset(it, 0, sizeof(*it));
        it->id = sqlite3_column_int64(st, 0);
        const char *path = (const char *)sqlite3_column_text(st, 1);
        if (path && strlen(path) < sizeof(it->path))
            memcpy(it->path, path, strlen(path) + 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "retention: listing interrupted purges failed");
        purge_list_free(&l);
        return -1;
    }
    if (l.n == 0)
        return 0;
    bool *gone = calloc(l.n, sizeof(*gone));
    long done = 0;
    for (size_t i = 0; gone && i < l.n; i++) {
        gone[i] = remove_recording(data_dir, l.v[i].path) == 0;
        done += gone[i];
    }
    struct purge_result res = {.purged = (size_t)done};
    if (gone && done == 0) { /* nothing could be removed: nothing to record either */
        free(gone);
        purge_list_free(&l);
        return 0;
    }
    char *detail = gone ? audit_detail(&l, gone, "interrupted", &res, 0, NULL) : NULL;
    int r = gone ? delete_rows(db, ix, &l, gone, "daemon", "purge_finish", detail) : -1;
    free(detail);
    free(gone);
    purge_list_free(&l);
    if (r != 0)
        return -1;
    scrub(db);
    log_msg(LOG_NOTICE, "retention: finished %ld purges a crash had interrupted", done);
    return done;
}

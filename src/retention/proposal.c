/*
 * proposal.c - purge proposals: the public-archives flow.
 *
 * For a French public body, recordings are public archives (Code du patrimoine, art.
 * L212-2 and R212-14): destroying them is an elimination that needs the prior visa of
 * the archives service on an elimination slip (bordereau d'élimination).  A proposal
 * freezes the list of expired calls, its slip (slip.c) goes to the archives service,
 * and only the visa recorded by an admin lets the purge run, on exactly those calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "greffier/audit.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int retention_drop_proposed(struct index *ix, struct purge_list *l)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM purge_proposal_items i"
                           " JOIN purge_proposals p ON p.id = i.proposal_ref"
                           " WHERE i.call_ref = ?1 AND p.state IN ('pending', 'approved')",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++) {
        sqlite3_bind_int64(st, 1, l->v[i].id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            l->v[o++] = l->v[i];
        else if (rc != SQLITE_ROW) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    l->n = o;
    sqlite3_finalize(st);
    return 0;
}

static int insert_items(sqlite3 *db, int64_t id, const struct purge_list *l)
{
    sqlite3_stmt *st = NULL;
    char rule[128];
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO purge_proposal_items (proposal_ref, call_ref, start_us,"
                           " expires_us, rule, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        const struct purge_item *it = &l->v[i];
        snprintf(rule, sizeof(rule), "%s (%u j)", it->exp.origin, it->exp.days);
        int rc = sqlite3_bind_int64(st, 1, id);
        rc |= sqlite3_bind_int64(st, 2, it->id);
        rc |= sqlite3_bind_int64(st, 3, it->start_us);
        rc |= sqlite3_bind_int64(st, 4, it->exp.expires_us);
        rc |= sqlite3_bind_text(st, 5, rule, -1, SQLITE_TRANSIENT);
        rc |= sqlite3_bind_int64(st, 6, (int64_t)it->bytes);
        if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* Writes DATA_DIR/proposals/ID.EXT (mode 0600, replaced atomically). */
static int write_slip_file(struct index *ix, const struct config *cfg, const char *data_dir,
                           int64_t id, bool html)
{
    char dir[4200], path[4300], tmp[4310];
    snprintf(dir, sizeof(dir), "%s/proposals", data_dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_msg(LOG_ERR, "retention: %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%lld.%s", dir, (long long)id, html ? "html" : "csv");
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        log_msg(LOG_ERR, "retention: %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int r = retention_slip_write(ix, cfg, id, html, f);
    bool bad = r != 1 || fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        log_msg(LOG_ERR, "retention: writing %s failed", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int retention_propose(struct index *ix, const struct config *cfg, const char *data_dir,
                      pkt_time_t now, const char *user, int64_t *id, size_t *count)
{
    sqlite3 *db = index_sqlite(ix);
    struct purge_list l = {0};
    char created[TIME_ISO_SIZE], target[48], detail[160];
    sqlite3_stmt *st = NULL;
    *id = 0;
    *count = 0;
    if (retention_select_expired(ix, cfg, now, &l) != 0)
        return -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    if (retention_drop_proposed(ix, &l) != 0)
        goto error;
    if (l.n == 0) {
        rollback(db);
        purge_list_free(&l);
        return 0;
    }
    pkt_time_t first = INT64_MAX, last = INT64_MIN;
    uint64_t bytes = 0;
    for (size_t i = 0; i < l.n; i++) {
        first = l.v[i].start_us < first ? l.v[i].start_us : first;
        last = l.v[i].start_us > last ? l.v[i].start_us : last;
        bytes += l.v[i].bytes;
    }
    time_format_iso_ms(now, created, sizeof(created));
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO purge_proposals (created, created_by, state, calls,"
                           " first_start_us, last_start_us, bytes)"
                           " VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6)",
                           -1, &st, NULL) != SQLITE_OK)
        goto error;
    int rc = sqlite3_bind_text(st, 1, created, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 3, (int64_t)l.n);
    rc |= sqlite3_bind_int64(st, 4, first);
    rc |= sqlite3_bind_int64(st, 5, last);
    rc |= sqlite3_bind_int64(st, 6, (int64_t)bytes);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    st = NULL;
    *id = sqlite3_last_insert_rowid(db);
    if (insert_items(db, *id, &l) != 0)
        goto error;
    snprintf(target, sizeof(target), "proposal:%lld", (long long)*id);
    snprintf(detail, sizeof(detail), "{\"calls\":%zu,\"bytes\":%llu}", l.n,
             (unsigned long long)bytes);
    if (audit_append(ix, user, "purge_propose", target, detail) != 0)
        goto error;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    *count = l.n;
    purge_list_free(&l);
    if (write_slip_file(ix, cfg, data_dir, *id, false) != 0 ||
        write_slip_file(ix, cfg, data_dir, *id, true) != 0)
        return -1;
    return 0;
error:
    log_msg(LOG_ERR, "retention: creating a purge proposal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    rollback(db);
    purge_list_free(&l);
    *id = 0;
    return -1;
}

static int set_state(sqlite3 *db, int64_t id, const char *sql, const char *a, const char *b,
                     const char *c)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    const char *texts[] = {a, b, c};
    for (int i = 0; rc == SQLITE_OK && i < 3 && texts[i]; i++)
        rc = sqlite3_bind_text(st, i + 2, texts[i], -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Purges the calls of approved proposal id, then marks it executed. */
/* The visa, not the clock, decides which calls go: the tombstones still name the rule
 * each call's retention came from. */
static int execute(struct index *ix, const struct config *cfg, int64_t id, const char *user,
                   struct purge_result *res)
{
    sqlite3 *db = index_sqlite(ix);
    struct purge_list l = {0};
    char when[TIME_ISO_SIZE], note[48];
    if (retention_select_proposal(ix, cfg, id, &l) != 0)
        return -1;
    snprintf(note, sizeof(note), "proposal %lld", (long long)id);
    int r = retention_purge(ix, cfg->data_dir, &l, PURGE_RETENTION, id, user, note, res);
    purge_list_free(&l);
    if (r != 0)
        return -1;
    time_format_iso_ms(clock_now(), when, sizeof(when));
    return set_state(db, id,
                     "UPDATE purge_proposals SET state = 'executed', executed_at = ?2"
                     " WHERE id = ?1",
                     when, NULL, NULL);
}

int retention_approve(struct index *ix, const struct config *cfg, int64_t id, const char *visa,
                      const char *user, struct purge_result *res, char *msg, size_t msgsize)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    char when[TIME_ISO_SIZE], target[48];
    char *detail = NULL;
    memset(res, 0, sizeof(*res));
    msg[0] = '\0';
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    if (sqlite3_prepare_v2(db, "SELECT state FROM purge_proposals WHERE id = ?1", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
        goto error;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        rollback(db);
        snprintf(msg, msgsize, "no purge proposal %lld", (long long)id);
        return -2;
    }
    if (rc != SQLITE_ROW)
        goto error;
    if (strcmp((const char *)sqlite3_column_text(st, 0), "pending") != 0) {
        snprintf(msg, msgsize, "purge proposal %lld is %s, not pending", (long long)id,
                 (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        rollback(db);
        return -3;
    }
    sqlite3_finalize(st);
    st = NULL;
    time_format_iso_ms(clock_now(), when, sizeof(when));
    if (set_state(db, id,
                  "UPDATE purge_proposals SET state = 'approved', visa = ?2, approved_by = ?3,"
                  " approved_at = ?4 WHERE id = ?1",
                  visa, user, when) != 0)
        goto error;
    snprintf(target, sizeof(target), "proposal:%lld", (long long)id);
    {
        /* The visa is user text: written through the JSON writer, never pasted. */
        size_t len = 0;
        FILE *f = open_memstream(&detail, &len);
        struct json_writer w;
        if (!f)
            goto error;
        json_init(&w, f, false);
        json_object_begin(&w);
        json_key(&w, "visa");
        json_string(&w, visa);
        json_object_end(&w);
        int bad = json_finish(&w);
        fclose(f);
        if (bad)
            goto error;
        detail[strcspn(detail, "\n")] = '\0';
    }
    if (audit_append(ix, user, "purge_approve", target, detail) != 0)
        goto error;
    free(detail);
    detail = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto error;
    return execute(ix, cfg, id, user, res) == 0 ? 0 : -1;
error:
    log_msg(LOG_ERR, "retention: approving proposal %lld: %s", (long long)id, sqlite3_errmsg(db));
    snprintf(msg, msgsize, "approving proposal %lld failed (see the log)", (long long)id);
    free(detail);
    sqlite3_finalize(st);
    rollback(db);
    return -1;
}

long retention_resume_approved(struct index *ix, const struct config *cfg, const char *user)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    int64_t ids[64];
    size_t n = 0;
    long purged = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT id FROM purge_proposals WHERE state = 'approved'"
                           " ORDER BY id LIMIT 64",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        struct purge_result res;
        if (execute(ix, cfg, ids[i], user, &res) != 0)
            return -1;
        purged += (long)res.purged;
    }
    return purged;
}

long retention_proposals_json(struct index *ix, struct json_writer *w)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    char t[TIME_ISO_SIZE];
    long n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, created, created_by, state, calls, first_start_us,"
                           " last_start_us, bytes, visa, approved_by, approved_at, executed_at"
                           " FROM purge_proposals ORDER BY id DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    json_array_begin(w);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        static const char *const text_keys[] = {"visa", "approved_by", "approved_at",
                                                "executed_at"};
        json_object_begin(w);
        json_key(w, "id");
        json_int(w, sqlite3_column_int64(st, 0));
        json_key(w, "created");
        json_string(w, (const char *)sqlite3_column_text(st, 1));
        json_key(w, "created_by");
        json_string(w, (const char *)sqlite3_column_text(st, 2));
        json_key(w, "state");
        json_string(w, (const char *)sqlite3_column_text(st, 3));
        json_key(w, "calls");
        json_int(w, sqlite3_column_int64(st, 4));
        json_key(w, "first_start");
        json_string(w, time_format_iso_s(sqlite3_column_int64(st, 5), t, sizeof(t)));
        json_key(w, "last_start");
        json_string(w, time_format_iso_s(sqlite3_column_int64(st, 6), t, sizeof(t)));
        json_key(w, "bytes");
        json_int(w, sqlite3_column_int64(st, 7));
        for (int i = 0; i < 4; i++) {
            json_key(w, text_keys[i]);
            json_string(w, (const char *)sqlite3_column_text(st, 8 + i));
        }
        json_object_end(w);
        n++;
    }
    json_array_end(w);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? n : -1;
}

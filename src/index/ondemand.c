/*
 * ondemand.c - on-demand recording in the index (see ondemand.h, docs/RULES.md).
 *
 * Destroying a recording: the file goes first (unlink, then fsync of its folder), the
 * index after.  A crash between the two leaves a pending row whose file is gone, which
 * the next settlement destroys again (ENOENT is success); the other order could leave
 * audio on disk that the index says was destroyed.  The recording row goes with its
 * waveform (peaks are derived from the audio); the call row keeps its metadata, streams
 * and events with media_state "discarded".  A tombstone in purged_calls would also drop
 * the numbers and times, which statistics and the audit of the decision need.
 *
 * Rare writes (a few per on_demand call): statements are prepared per use.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/alarm.h"
#include "greffier/audit.h"
#include "greffier/clock.h"
#include "greffier/log.h"
#include "greffier/ondemand.h"
#include "greffier/timefmt.h"
#include "index_int.h"

/* Prepares sql; on failure logs it and returns NULL. */
static sqlite3_stmt *prepare(struct index *ix, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "index: on demand: %s", sqlite3_errmsg(ix->db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Steps a bound statement that returns no row and finalizes it.  0 or -1 (logged). */
static int run(struct index *ix, struct ix_binder *b)
{
    char err[256] = "";
    int rc = ix_step_bound(ix->db, b, err, sizeof(err));
    sqlite3_finalize(b->st);
    if (rc != 0)
        log_msg(LOG_ERR, "index: on demand: %s", err);
    return rc;
}

static int savepoint(struct index *ix, const char *what)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "%s ondemand", what);
    return sqlite3_exec(ix->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void rollback(struct index *ix)
{
    savepoint(ix, "ROLLBACK TO");
    savepoint(ix, "RELEASE");
}

static void now_iso(char *buf, size_t size)
{
    time_format_iso_ms(clock_now(), buf, size);
}

static void audit_call(struct index *ix, const char *user, const char *action, int64_t id,
                       const char *detail)
{
    char target[24];
    snprintf(target, sizeof(target), "%" PRId64, id);
    audit_append(ix, user, action, target, detail);
}

/* ---- the capture process ------------------------------------------------------- */

int ondemand_publish(struct index *ix, struct call *c, const struct media_rules_decision *d,
                     const char *relpath)
{
    sqlite3_stmt *st = prepare(
        ix, "INSERT INTO calls (call_id, start_us, answer_us, last_activity_us, status,"
            " direction, partial, transport, caller, caller_norm, caller_name, callee, callee_norm,"
            " callee_name, rule, rule_action, retention_days, live, pending_path, decision)"
            " VALUES (:call_id, :start_us, :answer_us, :last_activity_us, 'in_progress',"
            " :direction, :partial, :transport, :caller, :caller_norm, :caller_name, :callee,"
            " :callee_norm, :callee_name, :rule, :action, :retention_days, 1, :path, :decision)"
            " ON CONFLICT (call_id, start_us) DO NOTHING");
    if (!st)
        return -1;
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_text(&b, ":call_id", c->call_id);
    ix_bind_int(&b, ":start_us", c->start);
    ix_bind_opt_int(&b, ":answer_us", c->answer);
    ix_bind_opt_int(&b, ":last_activity_us", c->last_activity);
    ix_bind_text(&b, ":direction", call_direction_name(c->direction));
    ix_bind_int(&b, ":partial", c->partial);
    ix_bind_text(&b, ":transport", sip_transport_name(c->transport));
    ix_bind_text(&b, ":caller", c->caller.number);
    ix_bind_text(&b, ":caller_norm", c->caller.number_norm);
    ix_bind_text(&b, ":caller_name", c->caller.name);
    ix_bind_text(&b, ":callee", c->callee.number);
    ix_bind_text(&b, ":callee_norm", c->callee.number_norm);
    ix_bind_text(&b, ":callee_name", c->callee.name);
    ix_bind_chars(&b, ":rule", d->origin, sizeof(d->origin));
    ix_bind_chars(&b, ":action", d->action, sizeof(d->action));
    ix_bind_opt_int(&b, ":retention_days", d->retention_days);
    ix_bind_text(&b, ":path", relpath && relpath[0] ? relpath : NULL);
    /* A recorded call marked malicious is published too (its alarm is raised at once),
     * without an on-demand decision. */
    ix_bind_text(&b, ":decision", d->on_demand[0] ? d->on_demand : NULL);
    if (run(ix, &b) != 0)
        return -1;
    if (sqlite3_changes(ix->db) != 1) {
        c->id = -1;
        return 0;
    }
    c->id = sqlite3_last_insert_rowid(ix->db);
    return 1;
}

/* The live row's decision, to write only what changed: a read takes no write lock. */
static bool live_decision_is(struct index *ix, int64_t call_ref, const char *decision)
{
    sqlite3_stmt *st = prepare(ix, "SELECT decision IS :d FROM calls WHERE id = :id");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, decision, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, call_ref);
    bool same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    return same;
}

int ondemand_update_live(struct index *ix, int64_t call_ref, const struct media_rules_decision *d)
{
    if (d->on_demand[0] && !live_decision_is(ix, call_ref, d->on_demand)) {
        sqlite3_stmt *st = prepare(ix, "UPDATE calls SET decision = :decision, decision_by = :by,"
                                       " decision_at = :at WHERE id = :id AND live = 1"
                                       " AND decision IS NOT :decision");
        if (!st)
            return -1;
        char at[TIME_ISO_SIZE];
        bool decided = d->decided_by[0] != '\0';
        struct ix_binder b = {st, NULL, SQLITE_OK};
        ix_bind_chars(&b, ":decision", d->on_demand, sizeof(d->on_demand));
        ix_bind_text(&b, ":by", decided ? d->decided_by : NULL);
        ix_bind_text(&b, ":at", decided ? time_format_iso_ms(d->decided_at, at, sizeof(at)) : NULL);
        ix_bind_int(&b, ":id", call_ref);
        if (run(ix, &b) != 0)
            return -1;
    }
    if (d->malicious)
        return ondemand_mark_malicious(ix, call_ref, d->malicious_by);
    return 0;
}

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", s ? s : "");
}

/* Open requests on live (live = 1) or ended (0) calls, oldest first. */
static long open_requests(struct index *ix, int live, struct ondemand_request **out)
{
    *out = NULL;
    sqlite3_stmt *st = prepare(ix, "SELECT r.id, r.call_ref, r.action, r.user FROM call_requests r"
                                   " JOIN calls c ON c.id = r.call_ref"
                                   " WHERE r.done_at IS NULL AND c.live = :live ORDER BY r.id");
    if (!st)
        return -1;
    sqlite3_bind_int(st, 1, live);
    long n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            long ncap = cap ? cap * 2 : 8;
            struct ondemand_request *v = realloc(*out, (size_t)ncap * sizeof(*v));
            if (!v) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = v;
            cap = ncap;
        }
        struct ondemand_request *r = &(*out)[n++];
        r->id = sqlite3_column_int64(st, 0);
        r->call_ref = sqlite3_column_int64(st, 1);
        copy_text(st, 2, r->action, sizeof(r->action));
        copy_text(st, 3, r->user, sizeof(r->user));
    }
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: on demand requests: %s", sqlite3_errmsg(ix->db));
        free(*out);
        *out = NULL;
        n = -1;
    }
    sqlite3_finalize(st);
    return n;
}

long ondemand_live_requests(struct index *ix, struct ondemand_request **out)
{
    return open_requests(ix, 1, out);
}

int ondemand_request_done(struct index *ix, int64_t id, const char *outcome)
{
    sqlite3_stmt *st = prepare(ix, "UPDATE call_requests SET done_at = :at, outcome = :outcome"
                                   " WHERE id = :id AND done_at IS NULL");
    if (!st)
        return -1;
    char at[TIME_ISO_SIZE];
    now_iso(at, sizeof(at));
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_text(&b, ":at", at);
    ix_bind_text(&b, ":outcome", outcome);
    ix_bind_int(&b, ":id", id);
    return run(ix, &b);
}

int ondemand_stored(struct index *ix, int64_t call_ref, const struct media_rules_decision *d)
{
    int rc = 0;
    if (d->decided_by[0] &&
        (strcmp(d->on_demand, "kept") == 0 || strcmp(d->on_demand, "discarded") == 0))
        audit_call(ix, d->decided_by,
                   strcmp(d->on_demand, "kept") == 0 ? "call.kept" : "call.discarded", call_ref,
                   strcmp(d->decided_by, "dtmf") == 0 ? "{\"via\":\"dtmf\",\"during\":\"call\"}"
                                                      : "{\"during\":\"call\"}");
    if (d->malicious)
        rc = ondemand_mark_malicious(ix, call_ref, d->malicious_by);
    return rc;
}

/* ---- destroying a recording ---------------------------------------------------- */

/* Unlinks DATA_DIR/relpath and its temporary name, then syncs the folder.  0 when
 * neither exists any more. */
static int unlink_recording(const char *data_dir, const char *relpath)
{
    char path[4400], part[4410], dir[4400];
    if (!relpath[0] || relpath[0] == '/' || strstr(relpath, ".."))
        return -1; /* not a path the media stage wrote */
    snprintf(path, sizeof(path), "%s/%s", data_dir, relpath);
    snprintf(part, sizeof(part), "%s.part", path);
    int rc = 0;
    if (unlink(path) != 0 && errno != ENOENT)
        rc = -1;
    if (unlink(part) != 0 && errno != ENOENT)
        rc = -1;
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    if (rc != 0)
        log_msg(LOG_ERR, "on demand: cannot remove %s: %s", path, strerror(errno));
    return rc;
}

struct call_state {
    bool live;
    char decision[12]; /* "" when not on demand */
    char path[256];    /* the recording's, or the live row's pending_path */
};

/* 1 found, 0 no such call, -1 error. */
static int read_call(struct index *ix, int64_t id, struct call_state *cs)
{
    memset(cs, 0, sizeof(*cs));
    sqlite3_stmt *st = prepare(ix, "SELECT c.live, c.decision, coalesce(r.path, c.pending_path)"
                                   " FROM calls c LEFT JOIN recordings r ON r.call_ref = c.id"
                                   " WHERE c.id = :id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        cs->live = sqlite3_column_int(st, 0) != 0;
        copy_text(st, 1, cs->decision, sizeof(cs->decision));
        copy_text(st, 2, cs->path, sizeof(cs->path));
    } else if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: on demand: call %" PRId64 ": %s", id, sqlite3_errmsg(ix->db));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Records the decision on call id; discard destroys the recording first.  at: ISO text. */
static int settle_call(struct index *ix, const char *data_dir, int64_t id, bool keep,
                       const char *by, const char *at, const char *detail)
{
    struct call_state cs;
    if (read_call(ix, id, &cs) != 1)
        return -1;
    if (!keep && cs.path[0] && unlink_recording(data_dir, cs.path) != 0)
        return -1;
    if (savepoint(ix, "SAVEPOINT") != 0)
        return -1;
    if (!keep) {
        sqlite3_stmt *st = prepare(ix, "DELETE FROM recordings WHERE call_ref = :id");
        struct ix_binder b = {st, NULL, SQLITE_OK};
        ix_bind_int(&b, ":id", id);
        if (!st || run(ix, &b) != 0)
            goto fail;
    }
    sqlite3_stmt *st =
        prepare(ix, "UPDATE calls SET decision = :decision, decision_by = :by, decision_at = :at,"
                    " decision_deadline_us = NULL, pending_path = NULL,"
                    " media_state = CASE WHEN :keep THEN media_state ELSE 'discarded' END,"
                    " live = CASE WHEN :keep THEN live ELSE 0 END WHERE id = :id");
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_text(&b, ":decision", keep ? "kept" : "discarded");
    ix_bind_text(&b, ":by", by);
    ix_bind_text(&b, ":at", at);
    ix_bind_int(&b, ":keep", keep);
    ix_bind_int(&b, ":id", id);
    if (!st || run(ix, &b) != 0)
        goto fail;
    audit_call(ix, by, keep ? "call.kept" : "call.discarded", id, detail);
    savepoint(ix, "RELEASE");
    log_msg(LOG_NOTICE, "on demand: call %" PRId64 " %s by %s", id, keep ? "kept" : "discarded",
            by);
    return 0;
fail:
    rollback(ix);
    return -1;
}

/* Applies one request on an ended call; *state says what came of it. */
static int apply_ended(struct index *ix, const char *data_dir, int64_t id, const char *action,
                       const char *user, char *state, size_t statesize)
{
    struct call_state cs;
    char at[TIME_ISO_SIZE];
    int r = read_call(ix, id, &cs);
    if (r != 1)
        return -1;
    now_iso(at, sizeof(at));
    bool pending = strcmp(cs.decision, "pending") == 0;
    if (strcmp(action, "malicious") == 0) {
        if (pending &&
            settle_call(ix, data_dir, id, true, user, at, "{\"via\":\"malicious\"}") != 0)
            return -1;
        if (ondemand_mark_malicious(ix, id, user) != 0)
            return -1;
        snprintf(state, statesize, "marked");
        return 0;
    }
    bool keep = strcmp(action, "keep") == 0;
    if (!pending) {
        snprintf(state, statesize, "already %s", cs.decision[0] ? cs.decision : "recorded");
        return 0;
    }
    if (settle_call(ix, data_dir, id, keep, user, at, "{\"via\":\"request\"}") != 0)
        return -1;
    snprintf(state, statesize, "%s", keep ? "kept" : "discarded");
    return 0;
}

long ondemand_settle(struct index *ix, const char *data_dir, pkt_time_t now, bool expire)
{
    struct ondemand_request *rq;
    long n = open_requests(ix, 0, &rq), settled = 0;
    if (n < 0)
        return -1;
    for (long i = 0; i < n; i++) {
        char state[32];
        if (apply_ended(ix, data_dir, rq[i].call_ref, rq[i].action, rq[i].user, state,
                        sizeof(state)) == 0) {
            ondemand_request_done(ix, rq[i].id, state);
            settled++;
        }
    }
    free(rq);
    if (!expire)
        return settled;

    sqlite3_stmt *st = prepare(ix, "SELECT id, decision_deadline_us FROM calls"
                                   " WHERE decision = 'pending' AND live = 0"
                                   " AND decision_deadline_us < :now ORDER BY id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    int64_t *ids = NULL, *deadlines = NULL;
    size_t nids = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nids == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *a = realloc(ids, cap * sizeof(*a)),
                    *b = a ? realloc(deadlines, cap * sizeof(*b)) : NULL;
            if (a)
                ids = a;
            if (b)
                deadlines = b;
            if (!a || !b) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        ids[nids] = sqlite3_column_int64(st, 0);
        deadlines[nids++] = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: on demand: pending calls: %s", sqlite3_errmsg(ix->db));
        settled = -1;
    }
    /* Settled outside the SELECT: destroying changes the rows it walks. */
    for (size_t i = 0; settled >= 0 && i < nids; i++) {
        char at[TIME_ISO_SIZE];
        time_format_iso_ms(deadlines[i], at, sizeof(at));
        if (settle_call(ix, data_dir, ids[i], false, "grace", at,
                        "{\"via\":\"grace\",\"reason\":\"no decision before the deadline\"}") == 0)
            settled++;
    }
    free(ids);
    free(deadlines);
    return settled;
}

long ondemand_recover(struct index *ix, const char *data_dir)
{
    long settled = 0;
    int64_t last = 0;
    char at[TIME_ISO_SIZE];
    now_iso(at, sizeof(at));
    /* One row at a time (settling writes the rows walked).  Kept calls and calls not
     * on demand were closed with their recording by index_recover_live(); a row whose
     * .part file is still locked belongs to a process alive. */
    for (;;) {
        sqlite3_stmt *st = prepare(ix, "SELECT id, pending_path FROM calls WHERE live = 1"
                                       " AND decision IS NOT NULL AND decision <> 'kept'"
                                       " AND id > :last ORDER BY id LIMIT 1");
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, last);
        int rc = sqlite3_step(st);
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        const char *path = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : NULL;
        char part[4410] = "";
        if (path && path[0] && path[0] != '/' && !strstr(path, ".."))
            snprintf(part, sizeof(part), "%s/%s.part", data_dir, path);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW)
            break;
        last = id;
        if (part[0] && ix_held_by_writer(part))
            continue;
        settle_call(ix, data_dir, id, false, "crash", at,
                    "{\"via\":\"recovery\",\"reason\":\"capture stopped during the call\"}");
        sqlite3_stmt *u = prepare(ix, "UPDATE calls SET live = 0, end_reason = 'interrupted'"
                                      " WHERE id = :id");
        if (!u)
            return -1;
        struct ix_binder b = {u, NULL, SQLITE_OK};
        ix_bind_int(&b, ":id", id);
        if (run(ix, &b) != 0)
            return -1;
        settled++;
    }
    if (settled)
        log_msg(LOG_WARNING, "on demand: %ld call(s) in progress when capture stopped settled",
                settled);
    return settled;
}

/* ---- requests ----------------------------------------------------------------------- */

int ondemand_request(struct index *ix, const char *data_dir, int64_t call_ref, const char *action,
                     const char *user, char *state, size_t statesize, char *err, size_t errsize)
{
    struct call_state cs;
    bool malicious = strcmp(action, "malicious") == 0;
    if (!malicious && strcmp(action, "keep") != 0 && strcmp(action, "discard") != 0) {
        snprintf(err, errsize, "unknown action %s", action);
        return -1;
    }
    int r = read_call(ix, call_ref, &cs);
    if (r != 1)
        return r == 0 ? -2 : -1;
    if (!malicious && strcmp(cs.decision, "pending") != 0) {
        if (cs.decision[0])
            snprintf(err, errsize, "the call was already %s", cs.decision);
        else
            snprintf(err, errsize, "not an on_demand call (its recording rule decided alone)");
        return -3;
    }
    if (malicious && !cs.decision[0]) {
        /* Not on demand: nothing to hand to the capture process, whose recording is kept
         * anyway.  Also while the call is in progress (a live row since its recording
         * started): the tag, hold and alarm are index rows, which the finished call's
         * row keeps (same id). */
        if (ondemand_mark_malicious(ix, call_ref, user) != 0)
            return -1;
        snprintf(state, statesize, "marked");
        return 1;
    }
    sqlite3_stmt *st =
        prepare(ix, "INSERT INTO call_requests (call_ref, action, user, requested_at)"
                    " VALUES (:id, :action, :user, :at)");
    if (!st)
        return -1;
    char at[TIME_ISO_SIZE];
    now_iso(at, sizeof(at));
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_int(&b, ":id", call_ref);
    ix_bind_text(&b, ":action", action);
    ix_bind_text(&b, ":user", user);
    ix_bind_text(&b, ":at", at);
    if (run(ix, &b) != 0)
        return -1;
    int64_t req = sqlite3_last_insert_rowid(ix->db);
    if (cs.live) {
        snprintf(state, statesize, "requested");
        return 0;
    }
    if (apply_ended(ix, data_dir, call_ref, action, user, state, statesize) != 0) {
        snprintf(err, errsize, "applying the decision failed (see the log)");
        return -1;
    }
    ondemand_request_done(ix, req, state);
    return 1;
}

int ondemand_mark_malicious(struct index *ix, int64_t call_ref, const char *user)
{
    sqlite3_stmt *q = prepare(ix, "SELECT count(*) FROM call_tags WHERE call_ref = :id"
                                  " AND tag = 'malicious'");
    if (!q)
        return -1;
    sqlite3_bind_int64(q, 1, call_ref);
    int qrc = sqlite3_step(q);
    int64_t marked = qrc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    if (qrc != SQLITE_ROW)
        return -1;
    if (marked)
        return 0;
    if (savepoint(ix, "SAVEPOINT") != 0)
        return -1;
    char at[TIME_ISO_SIZE], who[96] = "", caller[48] = "", callee[48] = "";
    now_iso(at, sizeof(at));
    sqlite3_stmt *st = prepare(ix, "INSERT OR IGNORE INTO call_tags (call_ref, tag)"
                                   " VALUES (:id, 'malicious')");
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_int(&b, ":id", call_ref);
    if (!st || run(ix, &b) != 0)
        goto fail;
    st = prepare(ix, "INSERT OR IGNORE INTO legal_holds (call_ref, since, user, reason)"
                     " VALUES (:id, :at, :user, 'malicious call')");
    b = (struct ix_binder){st, NULL, SQLITE_OK};
    ix_bind_int(&b, ":id", call_ref);
    ix_bind_text(&b, ":at", at);
    ix_bind_text(&b, ":user", user);
    if (!st || run(ix, &b) != 0)
        goto fail;
    st = prepare(ix,
                 "SELECT coalesce(caller, '?'), coalesce(callee, '?') FROM calls WHERE id = :id");
    if (st) {
        sqlite3_bind_int64(st, 1, call_ref);
        if (sqlite3_step(st) == SQLITE_ROW) {
            copy_text(st, 0, caller, sizeof(caller));
            copy_text(st, 1, callee, sizeof(callee));
        }
        sqlite3_finalize(st);
    }
    /* Numbers come from the wire: only printable ASCII goes into the alarm's text. */
    for (char *p = caller; *p; p++)
        *p = *p > 0x20 && *p < 0x7f ? *p : '?';
    for (char *p = callee; *p; p++)
        *p = *p > 0x20 && *p < 0x7f ? *p : '?';
    snprintf(who, sizeof(who), "%s", user);
    for (char *p = who; *p; p++)
        *p = *p > 0x20 && *p < 0x7f ? *p : '?';
    char name[ALARM_NAME_MAX];
    snprintf(name, sizeof(name), "malicious_call:%" PRId64, call_ref);
    if (alarm_raise(ix, name, ALARM_ERROR, "call %" PRId64 " (%s -> %s) marked malicious by %s",
                    call_ref, caller, callee, who) != 0)
        goto fail;
    audit_call(ix, user, "call.malicious", call_ref, "{\"tag\":\"malicious\",\"legal_hold\":true}");
    savepoint(ix, "RELEASE");
    return 0;
fail:
    rollback(ix);
    return -1;
}

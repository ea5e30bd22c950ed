/*
 * expiry.c - when each call expires, and which calls a purge takes (retention.h).
 *
 * The precedence (docs/RETENTION.md): legal hold > the recording rule's retention >
 * the longest [retention] tags period among the call's tags > [retention] default_days.
 * Expiry is computed here in C rather than in SQL so that the CLI, the daemon, the web
 * page and the unit tests share one definition.  A purge run reads every call once: a
 * few hundred thousand rows a day is well within what SQLite serves in a second.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/json.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

enum { SECONDS_PER_DAY = 86400 };

/* The longest period among the blank-separated tags, 0 when none has one. */
static unsigned tag_period(const struct config *cfg, const char *tags, const char **which)
{
    unsigned best = 0;
    const char *p = tags;
    while (p && *p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        for (size_t i = 0; len > 0 && i < cfg->nretention_tags; i++) {
            const struct retention_tag *t = &cfg->retention_tags[i];
            if (strlen(t->tag) == len && memcmp(t->tag, p, len) == 0 && t->days > best) {
                best = t->days;
                *which = t->tag;
            }
        }
        p += len;
    }
    return best;
}

void retention_compute(const struct config *cfg, const struct retention_call *c,
                       struct retention_expiry *out)
{
    const char *tag = NULL;
    unsigned tdays = tag_period(cfg, c->tags, &tag);
    memset(out, 0, sizeof(*out));
    if (c->rule_days > 0) {
        out->source = RETENTION_RULE;
        out->days = c->rule_days;
        snprintf(out->origin, sizeof(out->origin), "rule %s", c->rule ? c->rule : "?");
    } else if (tdays > 0) {
        out->source = RETENTION_TAG;
        out->days = tdays;
        snprintf(out->origin, sizeof(out->origin), "tag %s", tag);
    } else {
        out->source = RETENTION_DEFAULT;
        out->days = cfg->retention_default_days;
        snprintf(out->origin, sizeof(out->origin), "default");
    }
    pkt_time_t from = c->end_us > 0 ? c->end_us : c->start_us;
    out->expires_us = from + (pkt_time_t)out->days * SECONDS_PER_DAY * 1000000;
    if (c->held) {
        out->source = RETENTION_HOLD;
        out->expires_us = RETENTION_NEVER;
    }
}

void purge_list_free(struct purge_list *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static struct purge_item *list_add(struct purge_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct purge_item *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    struct purge_item *it = &l->v[l->n++];
    memset(it, 0, sizeof(*it));
    return it;
}

/* Calls whose purge was begun (tombstone committed) are left to
 * retention_finish_interrupted(), never selected twice.  A live row is a call still in
 * progress (its recording being written): never expired; once closed (finished, or
 * recovered after a crash) it is a call as any other. */
static const char select_sql[] =
    "SELECT c.id, c.start_us, c.end_us, c.retention_days, c.rule,"
    " (SELECT group_concat(tag, ' ') FROM call_tags t WHERE t.call_ref = c.id),"
    " h.call_ref IS NOT NULL, r.path, r.bytes"
    " FROM calls c LEFT JOIN recordings r ON r.call_ref = c.id"
    " LEFT JOIN legal_holds h ON h.call_ref = c.id"
    " WHERE c.live = 0 AND c.id NOT IN (SELECT id FROM purged_calls)";

enum { COL_ID, COL_START, COL_END, COL_DAYS, COL_RULE, COL_TAGS, COL_HELD, COL_PATH, COL_BYTES };

struct selector {
    const char *where; /* appended to select_sql */
    int (*bind)(sqlite3_stmt *st, const void *arg);
    /* Keeps the item (true) or drops it. */
    bool (*keep)(const struct purge_item *it, const void *arg);
    const void *arg;
    int (*order)(const void *a, const void *b);
    size_t limit; /* 0: all */
};

static int run_selector(struct index *ix, const struct config *cfg, const struct selector *s,
                        struct purge_list *out)
{
    sqlite3 *db = index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("%s%s", select_sql, s->where ? s->where : "");
    int rc = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc == SQLITE_OK && s->bind)
        rc = s->bind(st, s->arg);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        struct retention_call c = {
            .start_us = sqlite3_column_int64(st, COL_START),
            .end_us = sqlite3_column_int64(st, COL_END),
            .rule_days = (unsigned)sqlite3_column_int(st, COL_DAYS),
            .rule = (const char *)sqlite3_column_text(st, COL_RULE),
            .tags = (const char *)sqlite3_column_text(st, COL_TAGS),
            .held = sqlite3_column_int(st, COL_HELD) != 0,
        };
        struct purge_item it = {
            .id = sqlite3_column_int64(st, COL_ID),
            .start_us = c.start_us,
            .end_us = c.end_us,
            .held = c.held,
            .has_recording = sqlite3_column_type(st, COL_PATH) != SQLITE_NULL,
            .bytes = (uint64_t)sqlite3_column_int64(st, COL_BYTES),
        };
        retention_compute(cfg, &c, &it.exp);
        const char *path = (const char *)sqlite3_column_text(st, COL_PATH);
        if (path && strlen(path) < sizeof(it.path))
            memcpy(it.path, path, strlen(path) + 1);
        if (s->keep && !s->keep(&it, s->arg))
            continue;
        struct purge_item *slot = list_add(out);
        if (!slot) {
            rc = SQLITE_NOMEM;
            break;
        }
        *slot = it;
    }
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "retention: selecting calls: %s",
                rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        purge_list_free(out);
        return -1;
    }
    sqlite3_finalize(st);
    if (s->order && out->n > 1)
        qsort(out->v, out->n, sizeof(out->v[0]), s->order);
    if (s->limit && out->n > s->limit)
        out->n = s->limit;
    return 0;
}

static int by_expiry(const void *a, const void *b)
{
    const struct purge_item *x = a, *y = b;
    if (x->exp.expires_us != y->exp.expires_us)
        return x->exp.expires_us < y->exp.expires_us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_start(const void *a, const void *b)
{
    const struct purge_item *x = a, *y = b;
    if (x->start_us != y->start_us)
        return x->start_us < y->start_us ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool keep_expired(const struct purge_item *it, const void *arg)
{
    pkt_time_t now = *(const pkt_time_t *)arg;
    return !it->held && it->exp.expires_us <= now;
}

int retention_select_expired(struct index *ix, const struct config *cfg, pkt_time_t now,
                             struct purge_list *out)
{
    struct selector s = {.keep = keep_expired, .arg = &now, .order = by_expiry};
    return run_selector(ix, cfg, &s, out);
}

static bool keep_not_held(const struct purge_item *it, const void *arg)
{
    (void)arg;
    return !it->held;
}

int retention_select_next(struct index *ix, const struct config *cfg, size_t n,
                          struct purge_list *out)
{
    struct selector s = {.keep = keep_not_held, .order = by_expiry, .limit = n};
    return run_selector(ix, cfg, &s, out);
}

int retention_select_oldest(struct index *ix, const struct config *cfg, size_t limit,
                            struct purge_list *out)
{
    struct selector s = {.where = " AND r.path IS NOT NULL",
                         .keep = keep_not_held,
                         .order = by_start,
                         .limit = limit};
    return run_selector(ix, cfg, &s, out);
}

struct number_query {
    const char *number, *norm;
    pkt_time_t from, to;
};

static int bind_number(sqlite3_stmt *st, const void *arg)
{
    const struct number_query *q = arg;
    int rc = sqlite3_bind_text(st, 1, q->number, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_text(st, 2, q->norm && q->norm[0] ? q->norm : q->number, -1, SQLITE_STATIC);
    rc |= sqlite3_bind_int64(st, 3, q->from);
    rc |= sqlite3_bind_int64(st, 4, q->to);
    return rc;
}

int retention_select_number(struct index *ix, const struct config *cfg, const char *number,
                            const char *norm, pkt_time_t from, pkt_time_t to,
                            struct purge_list *out)
{
    /* Exact numbers only: an erasure must not take a call whose number merely contains
     * the digits asked for. */
    struct number_query q = {number, norm, from, to};
    struct selector s = {
        .where = " AND (c.caller = ?1 OR c.callee = ?1 OR c.redirecting = ?1"
                 " OR c.caller_norm = ?2 OR c.callee_norm = ?2 OR c.redirecting_norm = ?2)"
                 " AND c.start_us >= ?3 AND c.start_us < ?4",
        .bind = bind_number,
        .arg = &q,
        .order = by_start,
    };
    return run_selector(ix, cfg, &s, out);
}

static int bind_proposal(sqlite3_stmt *st, const void *arg)
{
    return sqlite3_bind_int64(st, 1, *(const int64_t *)arg);
}

int retention_select_proposal(struct index *ix, const struct config *cfg, int64_t id,
                              struct purge_list *out)
{
    struct selector s = {
        .where = " AND c.id IN (SELECT call_ref FROM purge_proposal_items WHERE proposal_ref = ?1)",
        .bind = bind_proposal,
        .arg = &id,
        .order = by_start,
    };
    return run_selector(ix, cfg, &s, out);
}

static int bind_id(sqlite3_stmt *st, const void *arg)
{
    return sqlite3_bind_int64(st, 1, *(const int64_t *)arg);
}

/* The hold of call id as an object, or null. */
static int hold_json(sqlite3 *db, struct json_writer *w, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT since, user, reason FROM legal_holds WHERE call_ref = ?1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        sqlite3_finalize(st);
        json_null(w);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        static const char *const keys[] = {"since", "user", "reason"};
        json_object_begin(w);
        for (int i = 0; i < 3; i++) {
            json_key(w, keys[i]);
            json_string(w, (const char *)sqlite3_column_text(st, i));
        }
        json_object_end(w);
    } else {
        json_null(w);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int retention_call_json(struct index *ix, void *cfg, struct json_writer *w, int64_t id)
{
    struct purge_list l = {0};
    struct selector s = {.where = " AND c.id = ?1", .bind = bind_id, .arg = &id};
    char t[TIME_ISO_SIZE];
    int ret = run_selector(ix, cfg, &s, &l);
    json_key(w, "retention");
    if (ret != 0 || l.n != 1) {
        json_null(w);
        purge_list_free(&l);
        return ret;
    }
    const struct purge_item *it = &l.v[0];
    json_object_begin(w);
    json_key(w, "days");
    json_uint(w, it->exp.days);
    json_key(w, "expires");
    if (it->held) {
        json_null(w);
    } else {
        pkt_time_t from = it->end_us > 0 ? it->end_us : it->start_us;
        json_string(w,
                    time_format_iso_s(from + (pkt_time_t)it->exp.days * SECONDS_PER_DAY * 1000000,
                                      t, sizeof(t)));
    }
    json_key(w, "rule"); /* under a hold: the period that applies once it is lifted */
    json_string(w, it->exp.origin);
    json_key(w, "legal_hold");
    ret = hold_json(index_sqlite(ix), w, id);
    json_object_end(w);
    purge_list_free(&l);
    return ret;
}

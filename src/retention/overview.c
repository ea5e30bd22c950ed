/*
 * overview.c - what expires when (GET /api/retention, the web UI's retention page):
 * calls and bytes per retention rule and per month of expiry, the next calls to expire,
 * the legal holds, the purge proposals, and the purge history from the tombstones.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

enum { NEXT_SHOWN = 50, GROUPS_MAX = 256 };

struct group {
    char key[80];
    uint64_t calls, bytes, expired;
    pkt_time_t next; /* soonest expiry */
};

static struct group *group_of(struct group *g, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(g[i].key, key) == 0)
            return &g[i];
    if (*n == GROUPS_MAX)
        return NULL;
    struct group *e = &g[(*n)++];
    memset(e, 0, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->next = RETENTION_NEVER;
    return e;
}

static void write_groups(struct json_writer *w, const char *name, const char *keyname,
                         const struct group *g, size_t n)
{
    char t[TIME_ISO_SIZE];
    json_key(w, name);
    json_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        json_object_begin(w);
        json_key(w, keyname);
        json_string(w, g[i].key);
        json_key(w, "calls");
        json_uint(w, g[i].calls);
        json_key(w, "bytes");
        json_uint(w, g[i].bytes);
        json_key(w, "expired");
        json_uint(w, g[i].expired);
        json_key(w, "next_expiry");
        json_string(w, time_format_iso_s(g[i].next, t, sizeof(t)));
        json_object_end(w);
    }
    json_array_end(w);
}

static void write_next(struct json_writer *w, const struct purge_list *l, pkt_time_t now)
{
    char t[TIME_ISO_SIZE];
    json_key(w, "next");
    json_array_begin(w);
    for (size_t i = 0; i < l->n && i < NEXT_SHOWN; i++) {
        const struct purge_item *it = &l->v[i];
        json_object_begin(w);
        json_key(w, "id");
        json_int(w, it->id);
        json_key(w, "start");
        json_string(w, time_format_iso_s(it->start_us, t, sizeof(t)));
        json_key(w, "expires");
        json_string(w, time_format_iso_s(it->exp.expires_us, t, sizeof(t)));
        json_key(w, "expired");
        json_bool(w, it->exp.expires_us <= now);
        json_key(w, "rule");
        json_string(w, it->exp.origin);
        json_key(w, "days");
        json_uint(w, it->exp.days);
        json_key(w, "bytes");
        json_uint(w, it->bytes);
        json_object_end(w);
    }
    json_array_end(w);
}

/* Tombstones grouped by day of purge and reason, newest first. */
static int write_history(sqlite3 *db, struct json_writer *w)
{
    sqlite3_stmt *st = NULL;
    json_key(w, "history");
    json_array_begin(w);
    int rc = sqlite3_prepare_v2(db,
                                "SELECT substr(purged_at, 1, 10) AS day, reason, count(*),"
                                " coalesce(sum(recording_bytes), 0), sum(had_recording)"
                                " FROM purged_calls GROUP BY day, reason"
                                " ORDER BY day DESC, reason LIMIT 400",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object_begin(w);
        json_key(w, "day");
        json_string(w, (const char *)sqlite3_column_text(st, 0));
        json_key(w, "reason");
        json_string(w, (const char *)sqlite3_column_text(st, 1));
        json_key(w, "calls");
        json_int(w, sqlite3_column_int64(st, 2));
        json_key(w, "bytes");
        json_int(w, sqlite3_column_int64(st, 3));
        json_key(w, "recordings");
        json_int(w, sqlite3_column_int64(st, 4));
        json_object_end(w);
        rc = SQLITE_OK;
    }
    json_array_end(w);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int retention_overview_json(struct index *ix, const struct config *cfg, pkt_time_t now,
                            struct json_writer *w)
{
    struct purge_list l = {0};
    struct group *by_rule = calloc(GROUPS_MAX, sizeof(*by_rule));
    struct group *by_month = calloc(GROUPS_MAX, sizeof(*by_month));
    size_t nrule = 0, nmonth = 0;
    char t[TIME_ISO_SIZE];
    if (!by_rule || !by_month || retention_select_next(ix, cfg, 0, &l) != 0) {
        free(by_rule);
        free(by_month);
        return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
        const struct purge_item *it = &l.v[i];
        time_format_iso_s(it->exp.expires_us, t, sizeof(t));
        t[7] = '\0'; /* "2024-06" */
        struct group *g[2] = {group_of(by_rule, &nrule, it->exp.origin),
                              group_of(by_month, &nmonth, t)};
        for (int k = 0; k < 2; k++) {
            if (!g[k])
                continue;
            g[k]->calls++;
            g[k]->bytes += it->bytes;
            g[k]->expired += it->exp.expires_us <= now;
            if (it->exp.expires_us < g[k]->next)
                g[k]->next = it->exp.expires_us;
        }
    }
    json_object_begin(w);
    json_key(w, "now");
    json_string(w, time_format_iso_s(now, t, sizeof(t)));
    json_key(w, "default_days");
    json_uint(w, cfg->retention_default_days);
    json_key(w, "approval_required");
    json_bool(w, config_purge_approval_required(cfg));
    json_key(w, "legal_basis");
    json_string(w, cfg->legal_basis);
    write_groups(w, "by_rule", "rule", by_rule, nrule);
    write_groups(w, "by_month", "month", by_month, nmonth);
    free(by_rule);
    free(by_month);
    write_next(w, &l, now);
    purge_list_free(&l);
    json_key(w, "legal_holds");
    int ret = retention_holds_json(ix, w) < 0 ? -1 : 0;
    json_key(w, "proposals");
    if (retention_proposals_json(ix, w) < 0)
        ret = -1;
    if (write_history(index_sqlite(ix), w) != 0)
        ret = -1;
    json_object_end(w);
    return ret;
}

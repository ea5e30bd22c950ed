/*
 * alarms.c - the alarms table (alarm.h): raised by whichever process sees the
 * condition, read by the web process.  Rare writes: statements prepared per call.
 */
#include <stdarg.h>
#include <stdio.h>

#include "greffier/alarm.h"
#include "greffier/clock.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/timefmt.h"
#include "index_int.h"

static const char *severity_name(enum alarm_severity sev)
{
    return sev == ALARM_ERROR ? "error" : "warning";
}

static int exec_bound(struct index *ix, const char *sql, const char *name, const char *a,
                      const char *b, const char *c, int *changes)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
    const char *vals[] = {name, a, b, c};
    for (int i = 0; rc == SQLITE_OK && i < 4; i++)
        if (vals[i])
            rc = sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "alarm %s: %s", name, sqlite3_errmsg(ix->db));
        return -1;
    }
    if (changes)
        *changes = sqlite3_changes(ix->db);
    return 0;
}

int alarm_raise(struct index *ix, const char *name, enum alarm_severity sev, const char *fmt, ...)
{
    char message[ALARM_MESSAGE_MAX], now[TIME_ISO_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    time_format_iso_s(clock_now(), now, sizeof(now));

    /* Already active: count it, keep the first time it was raised, refresh the text. */
    int changed = 0;
    if (exec_bound(ix,
                   "UPDATE alarms SET raised_count = raised_count + 1, message = ?4,"
                   " severity = ?2 WHERE name = ?1 AND active = 1 AND ?3 IS NOT NULL",
                   name, severity_name(sev), now, message, &changed) != 0)
        return -1;
    if (changed)
        return 0;
    if (exec_bound(ix,
                   "INSERT INTO alarms (name, severity, active, raised_at, message)"
                   " VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (name) DO UPDATE SET"
                   " severity = ?2, active = 1, raised_at = ?3, cleared_at = NULL,"
                   " raised_count = raised_count + 1, message = ?4",
                   name, severity_name(sev), now, message, NULL) != 0)
        return -1;
    log_msg(sev == ALARM_ERROR ? LOG_ERR : LOG_WARNING, "alarm %s: %s", name, message);
    return 0;
}

int alarm_clear(struct index *ix, const char *name)
{
    char now[TIME_ISO_SIZE];
    int changed = 0;
    time_format_iso_s(clock_now(), now, sizeof(now));
    if (exec_bound(ix, "UPDATE alarms SET active = 0, cleared_at = ?2 WHERE name = ?1 AND active = 1",
                   name, now, NULL, NULL, &changed) != 0)
        return -1;
    if (changed)
        log_msg(LOG_NOTICE, "alarm %s cleared", name);
    return changed ? 1 : 0;
}

long alarm_count_active(struct index *ix)
{
    int64_t n = 0;
    if (ix_query_int(ix->db, "SELECT count(*) FROM alarms WHERE active = 1", &n) != SQLITE_OK) {
        log_msg(LOG_ERR, "alarms: %s", sqlite3_errmsg(ix->db));
        return -1;
    }
    return (long)n;
}

long alarm_list_json(struct index *ix, FILE *out)
{
    char since[TIME_ISO_SIZE];
    time_format_iso_s(clock_now() - (pkt_time_t)86400 * 1000000, since, sizeof(since));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT name, severity, active, raised_at, cleared_at, raised_count,"
                           " message FROM alarms WHERE active = 1 OR cleared_at >= ?1"
                           " ORDER BY active DESC, raised_at DESC, name",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, since, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
        log_msg(LOG_ERR, "alarms: %s", sqlite3_errmsg(ix->db));
        sqlite3_finalize(st);
        return -1;
    }
    struct json_writer w;
    json_init(&w, out, false);
    json_object_begin(&w);
    json_key(&w, "alarms");
    json_array_begin(&w);
    long n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_object_begin(&w);
        json_key(&w, "name");
        json_string(&w, (const char *)sqlite3_column_text(st, 0));
        json_key(&w, "severity");
        json_string(&w, (const char *)sqlite3_column_text(st, 1));
        json_key(&w, "active");
        json_bool(&w, sqlite3_column_int(st, 2) != 0);
        json_key(&w, "raised_at");
        json_string(&w, (const char *)sqlite3_column_text(st, 3));
        json_key(&w, "cleared_at");
        if (sqlite3_column_type(st, 4) == SQLITE_NULL)
            json_null(&w);
        else
            json_string(&w, (const char *)sqlite3_column_text(st, 4));
        json_key(&w, "raised_count");
        json_int(&w, sqlite3_column_int64(st, 5));
        json_key(&w, "message");
        json_string(&w, (const char *)sqlite3_column_text(st, 6));
        json_object_end(&w);
        n++;
    }
    json_array_end(&w);
    json_object_end(&w);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "alarms: %s", sqlite3_errmsg(ix->db));
        return -1;
    }
    return json_finish(&w) == 0 ? n : -1;
}

/*
 * test_retention.c - expiry and its precedence (legal hold > rule > longest tag period >
 * default), from a table of cases; the [retention] and [storage] keys of the config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "greffier/alarm.h"
#include "greffier/audit.h"
#include "greffier/config.h"
#include "greffier/index.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"
#include "testhelp.h"

#define DAY (86400LL * 1000000)
#define T0 1700000000000000LL

static int write_config(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_expiry(const struct config *cfg)
{
    static const struct {
        const char *what;
        pkt_time_t end; /* 0: never ended */
        unsigned rule_days;
        const char *tags;
        bool held;
        enum retention_source source;
        unsigned days;
        const char *origin;
    } cases[] = {
        {"default", T0 + 60000000, 0, NULL, false, RETENTION_DEFAULT, 180, "default"},
        {"no end: from the start", 0, 0, "", false, RETENTION_DEFAULT, 180, "default"},
        {"unknown tag", T0, 0, "other", false, RETENTION_DEFAULT, 180, "default"},
        {"one tag", T0, 0, "formation", false, RETENTION_TAG, 30, "tag formation"},
        {"longest tag wins", T0, 0, "formation litige x", false, RETENTION_TAG, 3650, "tag litige"},
        {"longest tag wins (order)", T0, 0, "litige formation", false, RETENTION_TAG, 3650,
         "tag litige"},
        {"rule beats tags", T0, 90, "litige", false, RETENTION_RULE, 90, "rule sales"},
        {"rule shorter than default", T0, 7, NULL, false, RETENTION_RULE, 7, "rule sales"},
        {"hold beats all", T0, 7, "formation", true, RETENTION_HOLD, 7, "rule sales"},
        {"tag prefix is not the tag", T0, 0, "litiges formatio", false, RETENTION_DEFAULT, 180,
         "default"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct retention_call c = {
            .start_us = T0,
            .end_us = cases[i].end,
            .rule_days = cases[i].rule_days,
            .rule = "sales",
            .tags = cases[i].tags,
            .held = cases[i].held,
        };
        struct retention_expiry e;
        retention_compute(cfg, &c, &e);
        if (e.source != cases[i].source || e.days != cases[i].days ||
            strcmp(e.origin, cases[i].origin) != 0)
            fprintf(stderr, "case \"%s\": source %d days %u origin %s\n", cases[i].what, e.source,
                    e.days, e.origin);
        CHECK_INT(e.source, cases[i].source);
        CHECK_INT(e.days, cases[i].days);
        CHECK_STR(e.origin, cases[i].origin);
        if (cases[i].held)
            CHECK_INT(e.expires_us, RETENTION_NEVER);
        else
            CHECK_INT(e.expires_us,
                      (cases[i].end ? cases[i].end : T0) + (pkt_time_t)cases[i].days * DAY);
    }
}

static int64_t sql_int(struct index *ix, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(index_sqlite(ix), sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void add_call(struct index *ix, int64_t id, const char *start_iso)
{
    pkt_time_t t = 0;
    char sql[256];
    CHECK(time_parse_iso(start_iso, &t));
    snprintf(sql, sizeof(sql),
             "INSERT INTO calls (id, call_id, start_us, end_us, status, direction, caller)"
             " VALUES (%lld, 'c%lld', %lld, %lld, 'answered', 'inbound', '0612345678')",
             (long long)id, (long long)id, (long long)t, (long long)t + 60000000);
    CHECK_INT(sqlite3_exec(index_sqlite(ix), sql, NULL, NULL, NULL), SQLITE_OK);
}

static pkt_time_t at(const char *iso)
{
    pkt_time_t t = 0;
    CHECK(time_parse_iso(iso, &t));
    return t;
}

/* The daemon's daily purge: only at or after purge_hour, once a day, holds kept, and with
 * approval required only the purge_proposal_due alarm; an interrupted purge finished. */
static void test_daily(const char *dir)
{
    char err[256];
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return;
    struct config cfg;
    config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", dir);
    add_call(ix, 1, "2023-01-01T10:00:00Z"); /* expired */
    add_call(ix, 2, "2024-05-20T10:00:00Z"); /* within 180 days */
    add_call(ix, 3, "2023-01-02T10:00:00Z"); /* expired, held */
    CHECK_INT(retention_hold(ix, 3, "auditor1", "plainte"), 1);
    CHECK_INT(retention_hold(ix, 3, "auditor1", "plainte"), 0);
    CHECK_INT(retention_hold(ix, 99, "auditor1", ""), -2);

    long day = 0;
    retention_daily(ix, &cfg, at("2024-06-01T02:59:00Z"), &day);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls"), 3); /* before purge_hour */
    retention_daily(ix, &cfg, at("2024-06-01T03:00:00Z"), &day);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls"), 2);
    CHECK_INT(sql_int(ix, "SELECT group_concat(id, '') FROM (SELECT id FROM calls ORDER BY id)"),
              23);
    CHECK_INT(sql_int(ix, "SELECT id FROM purged_calls WHERE reason = 'retention'"), 1);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM audit WHERE action = 'purge'"
                          " AND detail LIKE '%\"ids\":[1]%' ESCAPE '\\'"),
              1);
    add_call(ix, 4, "2023-01-03T10:00:00Z");
    /* A live row (a call in progress of a running capture) is never expired; once closed
     * (after a crash: index_recover_live) it is a call as any other. */
    add_call(ix, 6, "2023-01-03T11:00:00Z");
    CHECK_INT(sqlite3_exec(index_sqlite(ix), "UPDATE calls SET live = 1 WHERE id = 6", NULL,
                           NULL, NULL),
              SQLITE_OK);
    retention_daily(ix, &cfg, at("2024-06-01T18:00:00Z"), &day); /* same day: done already */
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 4"), 1);
    retention_daily(ix, &cfg, at("2024-06-02T03:10:00Z"), &day);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 4"), 0);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 6"), 1);
    CHECK_INT(sqlite3_exec(index_sqlite(ix),
                           "UPDATE calls SET live = 0, end_reason = 'crash' WHERE id = 6", NULL,
                           NULL, NULL),
              SQLITE_OK);
    long again = 0; /* a run of its own: the day's purge of `day` is done */
    retention_daily(ix, &cfg, at("2024-06-02T03:20:00Z"), &again);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 6"), 0);
    CHECK_INT(sql_int(ix, "SELECT id FROM purged_calls WHERE id = 6"), 6);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 3"), 1); /* still held */

    /* Approval required: nothing purged, an alarm with the count. */
    cfg.public_body = true;
    add_call(ix, 5, "2023-01-04T10:00:00Z");
    retention_daily(ix, &cfg, at("2024-06-03T04:00:00Z"), &day);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 5"), 1);
    CHECK_INT(sql_int(ix, "SELECT active FROM alarms WHERE name = 'purge_proposal_due'"), 1);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM alarms WHERE message LIKE '1 expired calls%'"), 1);

    /* The hold lifted: the call expires again. */
    CHECK_INT(retention_hold_lift(ix, 3, "auditor1"), 1);
    CHECK_INT(retention_hold_lift(ix, 3, "auditor1"), 0);

    /* A large purge goes in batches, so that the daemon's loop turns between them. */
    cfg.public_body = false;
    CHECK_INT(sqlite3_exec(index_sqlite(ix), "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int64_t id = 100; id < 100 + RETENTION_DAILY_BATCH + 1; id++)
        add_call(ix, id, "2022-12-01T10:00:00Z");
    CHECK_INT(sqlite3_exec(index_sqlite(ix), "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    CHECK(retention_daily(ix, &cfg, at("2024-06-04T05:00:00Z"), &day)); /* more to do */
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls"), 4); /* 2, 3, 5 and one of the batch */
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id >= 100"), 1);
    CHECK(!retention_daily(ix, &cfg, at("2024-06-04T05:00:01Z"), &day));
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls"), 1);             /* only 2, not expired */
    CHECK(!retention_daily(ix, &cfg, at("2024-06-04T06:00:00Z"), &day)); /* done today */

    /* A purge interrupted after its tombstone: finished by the next run, and no hold can
     * be placed on it meanwhile. */
    CHECK_INT(sqlite3_exec(index_sqlite(ix),
                           "INSERT INTO purged_calls (id, start_us, purged_at, reason)"
                           " SELECT id, start_us, 'x', 'retention' FROM calls WHERE id = 2",
                           NULL, NULL, NULL),
              SQLITE_OK);
    CHECK_INT(retention_hold(ix, 2, "auditor1", ""), -2);
    CHECK_INT(retention_finish_interrupted(ix, dir), 1);
    CHECK_INT(sql_int(ix, "SELECT count(*) FROM calls WHERE id = 2"), 0);
    CHECK_INT(retention_finish_interrupted(ix, dir), 0);
    int64_t rows = 0, bad = 0;
    char why[128];
    CHECK_INT(audit_verify(ix, &rows, &bad, why, sizeof(why)), 0);
    index_close(ix);
}

int main(void)
{
    char path[] = "/tmp/greffier-test-retention-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return 1;
    close(fd);

    struct config cfg;
    config_defaults(&cfg);
    CHECK_INT(cfg.retention_default_days, 180);
    CHECK_INT(cfg.min_free_percent, 10);
    CHECK_INT(cfg.on_disk_full, DISK_FULL_STOP);
    CHECK_INT(cfg.purge_hour, 3);
    CHECK(strstr(cfg.legal_basis, "CNIL") != NULL);
    CHECK(!config_purge_approval_required(&cfg));
    cfg.public_body = true;
    CHECK(config_purge_approval_required(&cfg)); /* auto follows public_body */
    cfg.purge_approval = PURGE_APPROVAL_NONE;
    CHECK(!config_purge_approval_required(&cfg));

    CHECK_INT(write_config(path, "[retention]\ntags = litige:3650, formation:30\n"
                                 "default_days = 180\n[storage]\non_disk_full = purge_oldest\n"),
              0);
    CHECK_INT(config_load(&cfg, path, stderr), 0);
    CHECK_INT(cfg.nretention_tags, 2);
    CHECK_INT(cfg.on_disk_full, DISK_FULL_PURGE_OLDEST);
    test_expiry(&cfg);

    /* Each bad value is an error naming the key. */
    static const char *const bad[] = {
        "[retention]\ntags = litige\n",      "[retention]\ntags = litige:0\n",
        "[retention]\ntags = li tige:x\n",   "[retention]\ntags = a:1, a:2\n",
        "[retention]\ntags = b@d:3\n",       "[retention]\npurge_approval = maybe\n",
        "[retention]\npurge_hour = 24\n",    "[retention]\ndefault_days = 0\n",
        "[storage]\non_disk_full = panic\n", "[storage]\nmin_free_percent = 100\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(write_config(path, bad[i]), 0);
        FILE *err = tmpfile();
        int n = config_load(&cfg, path, err);
        if (n != 1)
            fprintf(stderr, "bad config %zu: %d errors\n", i, n);
        CHECK_INT(n, 1);
        if (err)
            fclose(err);
    }
    CHECK_INT(write_config(path, "[retention]\npublic_body = yes\n"), 0);
    CHECK_INT(config_load(&cfg, path, stderr), 0);
    CHECK(config_purge_approval_required(&cfg));
    unlink(path);

    char dir[] = "/tmp/greffier-test-retention-ix-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    setenv("TZ", "UTC", 1);
    tzset();
    setenv("GREFFIER_TEST_NOW", "2024-06-01T00:00:00Z", 1);
    test_daily(dir);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    return TEST_REPORT("test_retention");
}

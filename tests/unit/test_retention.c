/*
 * test_retention.c - expiry and its precedence (legal hold > rule > longest tag period >
 * default), from a table of cases; the [retention] and [storage] keys of the config.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/config.h"
#include "greffier/retention.h"
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
        pkt_time_t end;   /* 0: never ended */
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
        {"longest tag wins", T0, 0, "formation litige x", false, RETENTION_TAG, 3650,
         "tag litige"},
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
        "[retention]\ntags = litige\n",
        "[retention]\ntags = litige:0\n",
        "[retention]\ntags = li tige:x\n",
        "[retention]\ntags = a:1, a:2\n",
        "[retention]\ntags = b@d:3\n",
        "[retention]\npurge_approval = maybe\n",
        "[retention]\npurge_hour = 24\n",
        "[retention]\ndefault_days = 0\n",
        "[storage]\non_disk_full = panic\n",
        "[storage]\nmin_free_percent = 100\n",
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
    return TEST_REPORT("test_retention");
}

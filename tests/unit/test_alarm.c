/*
 * test_alarm.c - the alarms table: raise, re-raise, clear, list; the clock override.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/alarm.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "testhelp.h"

static char *list(struct index *ix, long want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_INT(alarm_list_json(ix, f), want);
    fclose(f);
    return buf;
}

int main(void)
{
    char dir[] = "/tmp/greffier-test-alarm-XXXXXX", err[256];
    setenv("GREFFIER_TEST_NOW", "2025-02-03T04:05:06Z", 1);
    CHECK_INT(clock_now(), 1738555506LL * 1000000);
    CHECK(mkdtemp(dir) != NULL);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return 1;

    CHECK_INT(alarm_count_active(ix), 0);
    char *s = list(ix, 0);
    CHECK_STR(s, "{\"alarms\":[]}\n");
    free(s);

    CHECK_INT(alarm_raise(ix, "disk_low", ALARM_WARNING, "%d%% free on %s", 4, "/var/lib"), 0);
    CHECK_INT(alarm_raise(ix, "disk_low", ALARM_ERROR, "%d%% free on %s", 2, "/var/lib"), 0);
    CHECK_INT(alarm_raise(ix, "malicious_call:12", ALARM_ERROR, "call 12 marked"), 0);
    CHECK_INT(alarm_count_active(ix), 2);
    s = list(ix, 2);
    CHECK(strstr(s, "\"name\":\"disk_low\",\"severity\":\"error\",\"active\":true,"
                    "\"raised_at\":\"2025-02-03T04:05:06Z\",\"cleared_at\":null,"
                    "\"raised_count\":2,\"message\":\"2% free on /var/lib\"") != NULL);
    free(s);

    CHECK_INT(alarm_clear(ix, "disk_low"), 1);
    CHECK_INT(alarm_clear(ix, "disk_low"), 0);
    CHECK_INT(alarm_clear(ix, "never_raised"), 0);
    CHECK_INT(alarm_count_active(ix), 1);
    s = list(ix, 2); /* the cleared one is still listed for a day, after the active one */
    CHECK(strstr(s, "malicious_call:12") < strstr(s, "\"disk_low\""));
    CHECK(strstr(s, "\"cleared_at\":\"2025-02-03T04:05:06Z\"") != NULL);
    free(s);
    /* Raised again after clearing: active, counted, a new raise time. */
    CHECK_INT(alarm_raise(ix, "disk_low", ALARM_WARNING, "again"), 0);
    CHECK_INT(alarm_count_active(ix), 2);

    index_close(ix);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    return TEST_REPORT("test_alarm");
}

/*
 * clock.c - the wall clock, with the GREFFIER_TEST_NOW override for tests (clock.h).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "greffier/clock.h"
#include "greffier/log.h"
#include "greffier/timefmt.h"

/* Read once: a test sets it before starting the process. */
static pthread_once_t frozen_once = PTHREAD_ONCE_INIT;
static pkt_time_t frozen_at;
static bool frozen;

static void read_frozen(void)
{
    const char *s = getenv("GREFFIER_TEST_NOW");
    if (!s || !*s)
        return;
    if (time_parse_iso(s, &frozen_at)) {
        frozen = true;
        log_msg(LOG_WARNING, "clock: GREFFIER_TEST_NOW=%.40s replaces the wall clock"
                             " (meant for tests only)", s);
    } else {
        log_msg(LOG_WARNING, "clock: GREFFIER_TEST_NOW=\"%.40s\" is not ISO 8601: ignored", s);
    }
}

pkt_time_t clock_now(void)
{
    pthread_once(&frozen_once, read_frozen);
    if (frozen)
        return frozen_at;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (pkt_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

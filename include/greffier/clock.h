/*
 * clock.h - the wall clock for everything that is not packet time: retention expiry,
 * purges, audit timestamps, alarms, sessions' absolute dates.
 *
 * GREFFIER_TEST_NOW (ISO 8601, as time_parse_iso reads it) freezes that clock: tests use it
 * to purge "a year later" without waiting a year.  It is for tests only; a process that
 * honours it says so once on stderr, so it cannot go unnoticed in a service's journal.
 */
#ifndef GREFFIER_CLOCK_H
#define GREFFIER_CLOCK_H

#include "greffier/packet.h"

/* Microseconds since the Unix epoch, UTC. */
pkt_time_t clock_now(void);

#endif

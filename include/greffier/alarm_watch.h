/*
 * alarm_watch.h - the capture daemon's alarms (alarm.h), judged from what it counts:
 *   no_packets:IFACE   an interface silent for [alarms] no_packets (cleared by a packet)
 *   drops              at least [alarms] drops lost between two stats readings (kernel,
 *                      interface or greffier; cleared after an interval without)
 *   recording_failed   recordings that could not be written in the last interval
 *                      (cleared once recordings are written again without failure)
 *   key_unreadable:public  the public key cannot be read (checked at start, and again
 *                      when recordings fail)
 * The thresholds are read from the configuration at each check, so a reload (SIGHUP)
 * that changes them applies at once.  Wall-clock time: these are about the daemon, not
 * about the calls.
 */
#ifndef GREFFIER_ALARM_WATCH_H
#define GREFFIER_ALARM_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/config.h"
#include "greffier/counters.h"

struct index;
struct alarm_watch;

#define ALARM_KEY_PUBLIC "key_unreadable:public"

/* cfg is read at every check and must outlive the watch; now_ms is monotonic. */
struct alarm_watch *alarm_watch_new(struct index *ix, const struct config *cfg, int64_t now_ms);
void alarm_watch_free(struct alarm_watch *w);

/* Interface i (0..CONFIG_MAX_LIST-1) named name has read packets so far; cheap enough
 * for every turn of the loop. */
void alarm_watch_interface(struct alarm_watch *w, size_t i, const char *name, uint64_t packets,
                           int64_t now_ms);
/* At each stats interval, after the kernel's counters were added to c. */
void alarm_watch_interval(struct alarm_watch *w, const struct counters *c, unsigned interval_s);

#endif

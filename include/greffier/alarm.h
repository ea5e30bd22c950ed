/*
 * alarm.h - conditions an admin must hear about: no packets on an interface, drops
 * growing, disk low, recording failures, one-way audio, key unreadable, a call marked
 * malicious.
 *
 * An alarm is a named row of the index's alarms table, so that the capture process
 * raises it and the web process shows it (banner, /api/alarms, /metrics).  Raising an
 * active alarm again only counts; the transition inactive -> active is logged at the
 * alarm's severity, and active -> cleared at notice.  Names are short identifiers with
 * an optional ":detail" ("no_packets:eth1", "malicious_call:1234").
 */
#ifndef GREFFIER_ALARM_H
#define GREFFIER_ALARM_H

#include <stdbool.h>
#include <stdio.h>

struct index;

enum alarm_severity { ALARM_WARNING, ALARM_ERROR };

#define ALARM_NAME_MAX 96
#define ALARM_MESSAGE_MAX 400

/* Raises (or re-raises) name with a message for humans.  0, or -1 (logged). */
int alarm_raise(struct index *ix, const char *name, enum alarm_severity sev, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));
/* Clears name if active.  1 when it was active, 0 when not, -1 on error. */
int alarm_clear(struct index *ix, const char *name);
/* The number of active alarms, -1 on error. */
long alarm_count_active(struct index *ix);
/* Writes {"alarms": [{"name", "severity", "active", "raised_at", "cleared_at",
 * "raised_count", "message"}, ...]}: active ones first, then those cleared in the last
 * day, newest first.  Returns the number listed, -1 on error. */
long alarm_list_json(struct index *ix, FILE *out);

#endif

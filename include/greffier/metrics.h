/*
 * metrics.h - the Prometheus text exposition (format 0.0.4) of what greffier counts.
 *
 * The counters live in the capture process; /metrics is served by the web process.  In
 * the two-process deployment the capture process publishes its part every stats_interval
 * as DATA/run/capture.prom (written to a temporary name, then renamed: a reader sees a
 * whole snapshot or the previous one), stamped with its wall-clock time so that the web
 * side can show how old it is.  `greffier serve` (both roles in one process) writes the
 * same text straight from its own counters.
 *
 * Names: every STAT counter of counters.inc is greffier_NAME_total; every DROP counter is
 * one sample of greffier_drops_total{reason="NAME"} (the "drop_" prefix removed), so a
 * dashboard sums drops with one query.  Reference: Prometheus "Exposition formats",
 * text format 0.0.4.
 */
#ifndef GREFFIER_METRICS_H
#define GREFFIER_METRICS_H

#include <stdio.h>

#include "greffier/counters.h"
#include "greffier/packet.h"
#include "greffier/pipeline.h"

#define METRICS_SNAPSHOT "run/capture.prom" /* under the data directory */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes "# HELP name help" and "# TYPE name type". */
void metrics_family(FILE *out, const char *name, const char *type, const char *help);
/* Writes a label value between double quotes, escaped as the format wants (\\, \", \n). */
void metrics_label_value(FILE *out, const char *value);

/* The capture process's families: counters, SIP messages by method, calls active,
 * encoder complexity and backlog, and greffier_capture_snapshot_timestamp_seconds
 * (now, wall clock). */
void metrics_write_capture(FILE *out, const struct counters *c, const struct pipeline_stats *st,
                           pkt_time_t now);

/* Writes the capture families to DATA/run/capture.prom (tmp + rename; run/ is created
 * 0700).  0, or -1 with err set. */
int metrics_snapshot_write(const char *data_dir, const struct counters *c,
                           const struct pipeline_stats *st, pkt_time_t now, char *err,
                           size_t errsize);

#endif

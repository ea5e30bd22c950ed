/*
 * metrics_rows.c - the index's part of /metrics (metrics.h): calls by status, recordings
 * stored, purge tombstones by reason and the alarms table.  Every label value that can
 * occur is written, zero or not, so that a series never disappears from a dashboard.
 */
#include <inttypes.h>
#include <string.h>

#include "greffier/call.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/metrics.h"
#include "index_int.h"

/* Counts rows per label value: sql returns (label, count) rows.  -1 on error. */
static int count_by(struct index *ix, const char *sql, const char *const *labels, size_t nlabels,
                    int64_t *counts)
{
    sqlite3_stmt *st = NULL;
    memset(counts, 0, nlabels * sizeof(*counts));
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto error;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *label = (const char *)sqlite3_column_text(st, 0);
        for (size_t i = 0; label && i < nlabels; i++)
            if (strcmp(label, labels[i]) == 0)
                counts[i] = sqlite3_column_int64(st, 1);
    }
    if (rc != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    return 0;
error:
    log_msg(LOG_ERR, "metrics: %s", sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    return -1;
}

static void samples(FILE *out, const char *name, const char *label, const char *const *values,
                    size_t n, const int64_t *counts)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{%s=", name, label);
        metrics_label_value(out, values[i]);
        fprintf(out, "} %" PRId64 "\n", counts[i]);
    }
}

int index_write_metrics(struct index *ix, FILE *out)
{
    const char *status[CALL_TIMEOUT + 1];
    int64_t counts[CALL_TIMEOUT + 1], n = 0;
    for (int s = CALL_IN_PROGRESS; s <= CALL_TIMEOUT; s++)
        status[s] = call_status_name((enum call_status)s);
    if (count_by(ix, "SELECT status, count(*) FROM calls GROUP BY status", status, CALL_TIMEOUT + 1,
                 counts) != 0)
        return -1;
    metrics_family(out, "greffier_calls_indexed", "gauge",
                   "Calls in the index, by status (finished calls; in_progress: cut by a stop)");
    samples(out, "greffier_calls_indexed", "status", status, CALL_TIMEOUT + 1, counts);

    static const char *const states[] = {"complete", "truncated", "failed"};
    if (count_by(ix, "SELECT state, count(*) FROM recordings GROUP BY state", states, 3, counts) !=
        0)
        return -1;
    metrics_family(out, "greffier_recordings_stored", "gauge", "Recordings in the index, by state");
    samples(out, "greffier_recordings_stored", "state", states, 3, counts);
    if (ix_query_int(ix->db, "SELECT coalesce(sum(bytes), 0) FROM recordings", &n) != SQLITE_OK)
        return -1;
    metrics_family(out, "greffier_recordings_stored_bytes", "gauge",
                   "Bytes of the recordings in the index");
    fprintf(out, "greffier_recordings_stored_bytes %" PRId64 "\n", n);

    static const char *const reasons[] = {"retention", "erasure", "disk_full", "discarded"};
    if (count_by(ix, "SELECT reason, count(*) FROM purged_calls GROUP BY reason", reasons, 4,
                 counts) != 0)
        return -1;
    metrics_family(out, "greffier_purged_calls_total", "counter",
                   "Calls purged (tombstones in the index), by reason");
    samples(out, "greffier_purged_calls_total", "reason", reasons, 4, counts);

    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT name, active FROM alarms ORDER BY name", -1, &st,
                           NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "metrics: %s", sqlite3_errmsg(ix->db));
        return -1;
    }
    metrics_family(out, "greffier_alarm_active", "gauge",
                   "1 while the alarm is raised, 0 once cleared (alarms table)");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs("greffier_alarm_active{name=", out);
        metrics_label_value(out, (const char *)sqlite3_column_text(st, 0));
        fprintf(out, "} %d\n", sqlite3_column_int(st, 1) != 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "metrics: %s", sqlite3_errmsg(ix->db));
        return -1;
    }
    return 0;
}

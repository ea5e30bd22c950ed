/*
 * metrics.c - the capture process's part of /metrics, generated from counters.inc (so a
 * counter added there appears here without another line), and its snapshot file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greffier/metrics.h"

void metrics_family(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s ", name);
    /* HELP text escapes only backslash and newline. */
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fprintf(out, "\n# TYPE %s %s\n", name, type);
}

void metrics_label_value(FILE *out, const char *value)
{
    fputc('"', out);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            fputc('\\', out), fputc(*p, out);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void sip_by_method(FILE *out, const char *name, const char *help, const uint64_t *n)
{
    metrics_family(out, name, "counter", help);
    for (unsigned m = 0; m < PIPELINE_SIP_METHODS; m++) {
        fprintf(out, "%s{method=", name);
        metrics_label_value(out, m == SIPM_UNKNOWN ? "other" : sip_method_id_name(m));
        fprintf(out, "} %" PRIu64 "\n", n[m]);
    }
}

void metrics_write_capture(FILE *out, const struct counters *c, const struct pipeline_stats *st,
                           pkt_time_t now)
{
#define STAT 0
#define DROP 1
#define X(name, kind, help)                                                                        \
    if (kind == STAT) {                                                                            \
        metrics_family(out, "greffier_" #name "_total", "counter", help);                          \
        fprintf(out, "greffier_" #name "_total %" PRIu64 "\n", c->name);                           \
    }
#include "greffier/counters.inc"
#undef X
    metrics_family(out, "greffier_drops_total", "counter",
                   "Packets, messages, streams or calls dropped or not understood, by reason "
                   "(kernel and interface: lost before greffier saw them)");
#define X(name, kind, help)                                                                        \
    if (kind == DROP) {                                                                            \
        const char *reason = #name;                                                                \
        if (strncmp(reason, "drop_", 5) == 0)                                                      \
            reason += 5;                                                                           \
        fprintf(out, "greffier_drops_total{reason=\"%s\"} %" PRIu64 "\n", reason, c->name);        \
    }
#include "greffier/counters.inc"
#undef X
#undef STAT
#undef DROP
    sip_by_method(out, "greffier_sip_requests_total", "SIP requests parsed, by method",
                  st->sip_requests);
    sip_by_method(out, "greffier_sip_responses_total",
                  "SIP responses parsed, by the method of their CSeq", st->sip_responses);
    metrics_family(out, "greffier_calls_active", "gauge", "Calls being tracked now");
    fprintf(out, "greffier_calls_active %" PRIu64 "\n", st->calls_active);
    metrics_family(out, "greffier_encoder_complexity", "gauge",
                   "Opus complexity in use (lowered while capture is behind)");
    fprintf(out, "greffier_encoder_complexity %u\n", st->encoder_complexity);
    metrics_family(out, "greffier_encoder_backlog_seconds", "gauge",
                   "How far the newest packet handled is behind the wall clock");
    fprintf(out, "greffier_encoder_backlog_seconds %.3f\n", st->backlog_s);
    metrics_family(out, "greffier_encoder_queue_frames", "gauge",
                   "Audio frames waiting for the encoder threads ([media] encoder_threads)");
    fprintf(out, "greffier_encoder_queue_frames %" PRIu64 "\n", st->encoder_queue);
    metrics_family(out, "greffier_capture_snapshot_timestamp_seconds", "gauge",
                   "Wall-clock time at which the capture process wrote these values");
    fprintf(out, "greffier_capture_snapshot_timestamp_seconds %.3f\n", (double)now / 1e6);
}

int metrics_snapshot_write(const char *data_dir, const struct counters *c,
                           const struct pipeline_stats *st, pkt_time_t now, char *err,
                           size_t errsize)
{
    char dir[4200], path[4300], tmp[4310];
    snprintf(dir, sizeof(dir), "%s/run", data_dir);
    snprintf(path, sizeof(path), "%s/%s", data_dir, METRICS_SNAPSHOT);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsize, "%s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    metrics_write_capture(f, c, st, now);
    /* No fsync: a snapshot lost in a crash is replaced within stats_interval. */
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(err, errsize, "%s: write failed: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/*
 * call_report.c - the log line of a finished call and the one-way audio alarm.
 *
 * One-way audio (one party hears the other, not the reverse) is the classic symptom of
 * NAT or a firewall in the media path; a single call says little, a run of them says
 * the network changed, so the alarm carries the count of the last hour.  That hour is
 * packet time, like everything else in the pipeline: an import of last week's capture
 * judges last week's calls.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call_report.h"
#include "greffier/alarm.h"
#include "greffier/log.h"

#define SECOND ((pkt_time_t)1000000)
#define WINDOW (3600 * SECOND)
#define ONE_WAY_ALARM "one_way_audio"

enum { RECENT_MAX = 4096 }; /* one-way calls remembered for the hourly count */

struct call_report {
    const struct config *cfg;
    struct index *ix;
    struct counters *counters;
    pkt_time_t recent[RECENT_MAX]; /* ring of the end times of one-way calls */
    size_t head, n;
    bool raised;
};

struct call_report *call_report_new(const struct config *cfg, struct index *ix,
                                    struct counters *counters)
{
    struct call_report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cfg = cfg;
    r->ix = ix;
    r->counters = counters;
    r->raised = true; /* an alarm left from an earlier run is cleared by the first tick */
    return r;
}

void call_report_free(struct call_report *r)
{
    free(r);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Text from the wire (Call-ID, numbers) into the journal: control bytes become '?' so
 * that a hostile header cannot forge a log line or send terminal escapes. */
static void put_text(FILE *out, const char *s)
{
    for (s = or_dash(s); *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

void call_report_format(const struct call *c, const struct call_media_result *m, FILE *out)
{
    fprintf(out, "call %" PRId64 " ", c->id);
    put_text(out, c->call_id);
    fputs(": ", out);
    put_text(out, c->caller.number);
    fputs(" -> ", out);
    put_text(out, c->callee.number);
    fprintf(out, ", %s", call_status_name(c->status));
    if (c->sip_code)
        fprintf(out, " (%d)", c->sip_code);
    /* The talk time, as the index's duration_s: answer to end, to the millisecond
     * rounded half away from zero. */
    if (c->answer && c->end) {
        int64_t d = c->end - c->answer;
        int64_t ms = d >= 0 ? (d + 500) / 1000 : (d - 500) / 1000;
        fprintf(out, ", duration %s%" PRId64 ".%03" PRId64 " s", ms < 0 ? "-" : "",
                (ms < 0 ? -ms : ms) / 1000, (ms < 0 ? -ms : ms) % 1000);
    } else {
        fputs(", duration -", out);
    }

    /* The codec decoded, and the worst direction's MOS: what an admin looks at first. */
    const char *codec = m->rec.present ? m->rec.codec_in : NULL;
    double mos = 0;
    for (size_t i = 0; i < m->nstreams; i++) {
        const struct media_stream_result *s = &m->streams[i];
        if (!codec || !*codec)
            codec = s->codec[0] ? s->codec : NULL;
        if (s->mos > 0 && (mos == 0 || s->mos < mos))
            mos = s->mos;
    }
    fprintf(out, ", codec %s, MOS ", or_dash(codec));
    if (mos > 0)
        fprintf(out, "%.2f", mos);
    else
        fputc('-', out);
    if (m->rec.present)
        fprintf(out, ", recording %" PRIu64 " bytes (%s)", m->rec.bytes, m->rec.state);
    else
        fprintf(out, ", recording - (%s)", m->media_state);
}

bool call_report_one_way(const struct config *cfg, const struct call *c,
                         const struct call_media_result *m)
{
    if (c->status != CALL_ANSWERED || !c->answer)
        return false;
    pkt_time_t end = c->end ? c->end : c->last_activity;
    if (end <= c->answer || end - c->answer <= (pkt_time_t)cfg->alarm_one_way_s * SECOND)
        return false;
    uint64_t packets[2] = {0, 0};
    for (size_t i = 0; i < m->nstreams; i++) {
        int ch = m->streams[i].channel;
        if (ch == 0 || ch == 1)
            packets[ch] += m->streams[i].packets;
    }
    return (packets[0] == 0) != (packets[1] == 0);
}

/* One-way calls whose end lies within the hour before now. */
static size_t count_recent(struct call_report *r, pkt_time_t now)
{
    /* The ring is in end-time order: drop the old ones from its tail. */
    while (r->n > 0) {
        size_t oldest = (r->head + RECENT_MAX - r->n) % RECENT_MAX;
        if (now - r->recent[oldest] < WINDOW)
            break;
        r->n--;
    }
    return r->n;
}

void call_report_finished(struct call_report *r, const struct call *c,
                          const struct call_media_result *m)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (f) {
        call_report_format(c, m, f);
        if (fclose(f) == 0)
            log_msg(LOG_INFO, "%s", line);
        free(line);
    }
    if (!call_report_one_way(r->cfg, c, m))
        return;
    COUNT(r->counters, calls_one_way_audio);
    pkt_time_t end = c->end ? c->end : c->last_activity;
    r->recent[r->head] = end;
    r->head = (r->head + 1) % RECENT_MAX;
    if (r->n < RECENT_MAX)
        r->n++;
    size_t n = count_recent(r, end);
    if (alarm_raise(r->ix, ONE_WAY_ALARM, ALARM_WARNING,
                    "%zu%s call%s with audio in one direction only in the last hour (latest: "
                    "call %" PRId64 "): check NAT and firewalls in the media path",
                    n, n == RECENT_MAX ? " or more" : "", n == 1 ? "" : "s", c->id) == 0)
        r->raised = true;
}

void call_report_tick(struct call_report *r, pkt_time_t now)
{
    if (r->raised && count_recent(r, now) == 0 && alarm_clear(r->ix, ONE_WAY_ALARM) >= 0)
        r->raised = false;
}

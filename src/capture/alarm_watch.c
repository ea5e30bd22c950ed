/*
 * alarm_watch.c - the capture daemon's alarms (alarm_watch.h).
 *
 * Each alarm remembers whether it is raised so that a steady condition raises once and
 * clears once; the first time a condition is seen to be fine the alarm is cleared anyway,
 * because the index may hold one left active by an earlier run.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "greffier/alarm.h"
#include "greffier/alarm_watch.h"
#include "greffier/vault.h"

struct state {
    bool raised;  /* by this process */
    bool checked; /* cleared at least once: any leftover from an earlier run is gone */
};

struct interface_state {
    struct state st;
    uint64_t packets;
    int64_t quiet_since_ms;
};

struct alarm_watch {
    struct index *ix;
    const struct config *cfg;
    int64_t started_ms;
    struct interface_state ifs[CONFIG_MAX_LIST];
    struct counters last;
    struct state drops, failed, key;
};

struct alarm_watch *alarm_watch_new(struct index *ix, const struct config *cfg, int64_t now_ms)
{
    struct alarm_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->ix = ix;
    w->cfg = cfg;
    w->started_ms = now_ms;
    for (size_t i = 0; i < CONFIG_MAX_LIST; i++)
        w->ifs[i].quiet_since_ms = now_ms;
    return w;
}

void alarm_watch_free(struct alarm_watch *w)
{
    free(w);
}

static void clear(struct alarm_watch *w, struct state *st, const char *name)
{
    if (st->raised || !st->checked) {
        if (alarm_clear(w->ix, name) >= 0) {
            st->raised = false;
            st->checked = true;
        }
    }
}

void alarm_watch_interface(struct alarm_watch *w, size_t i, const char *name, uint64_t packets,
                           int64_t now_ms)
{
    if (i >= CONFIG_MAX_LIST)
        return;
    struct interface_state *s = &w->ifs[i];
    char alarm[ALARM_NAME_MAX];
    snprintf(alarm, sizeof(alarm), "no_packets:%s", name);
    if (packets != s->packets) {
        s->packets = packets;
        s->quiet_since_ms = now_ms;
        clear(w, &s->st, alarm);
        return;
    }
    int64_t quiet_ms = now_ms - s->quiet_since_ms;
    if (s->st.raised || quiet_ms < (int64_t)w->cfg->alarm_no_packets_s * 1000)
        return;
    if (alarm_raise(w->ix, alarm, ALARM_ERROR,
                    "no packet captured on %s for %" PRId64 " s: check the mirror port (SPAN), "
                    "its cable and that the interface is up",
                    name, quiet_ms / 1000) == 0)
        s->st.raised = s->st.checked = true;
}

/* Every DROP counter, the kernel's and the interface's included. */
static uint64_t all_drops(const struct counters *c)
{
    uint64_t n = 0;
#define STAT 0
#define DROP 1
#define X(name, kind, help) n += kind == DROP ? c->name : 0;
#include "greffier/counters.inc"
#undef X
#undef STAT
#undef DROP
    return n;
}

static void check_key(struct alarm_watch *w)
{
    char err[512];
    struct vault_pubkey *pk = vault_load_newest_pubkey(w->cfg->data_dir, err, sizeof(err));
    if (pk) {
        vault_pubkey_free(pk);
        clear(w, &w->key, ALARM_KEY_PUBLIC);
    } else if (alarm_raise(w->ix, ALARM_KEY_PUBLIC, ALARM_ERROR,
                           "the public key cannot be read, recordings cannot be sealed: %s",
                           err) == 0) {
        w->key.raised = w->key.checked = true;
    }
}

void alarm_watch_interval(struct alarm_watch *w, const struct counters *c, unsigned interval_s)
{
    const struct counters *last = &w->last;
    uint64_t kernel = c->drop_kernel - last->drop_kernel;
    uint64_t iface = c->drop_interface - last->drop_interface;
    uint64_t drops = all_drops(c) - all_drops(last);
    unsigned min = w->cfg->alarm_drops_min;
    if (min > 0 && drops >= min) {
        if (alarm_raise(w->ix, "drops", ALARM_WARNING,
                        "%" PRIu64 " dropped in the last %u s: kernel %" PRIu64
                        ", interface %" PRIu64 ", greffier %" PRIu64
                        " (greffier_drops_total in /metrics says why)",
                        drops, interval_s, kernel, iface, drops - kernel - iface) == 0)
            w->drops.raised = w->drops.checked = true;
    } else {
        clear(w, &w->drops, "drops");
    }

    uint64_t failed = c->drop_recording_failed - last->drop_recording_failed;
    uint64_t written = c->recordings - last->recordings;
    if (failed > 0) {
        if (alarm_raise(w->ix, "recording_failed", ALARM_ERROR,
                        "%" PRIu64 " recording%s could not be written in the last %u s (disk "
                        "full, permissions of the data directory, or the key)",
                        failed, failed == 1 ? "" : "s", interval_s) == 0)
            w->failed.raised = w->failed.checked = true;
        check_key(w); /* a key that went away shows up as failed recordings first */
    } else if (written > 0) {
        clear(w, &w->failed, "recording_failed");
    }
    w->last = *c;
}

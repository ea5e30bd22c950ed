/*
 * ondemand.c - keep, discard or mark a call under an on_demand rule while it is in
 * progress (docs/RULES.md "On demand").
 *
 * The recording of such a call is written exactly as any other, sealed from its first
 * byte: the "buffer" is the vault file itself, marked pending.  A decision comes from the
 * agent's keypad (RFC 4733 events on the agent's channel, or SIP INFO from the agent's
 * side, matched against the [rules] codes) or from outside (the web or the command line,
 * through the index: see media_on_demand_request).  Keep only changes the mark, so a kept
 * call is recorded from its start; discard destroys the file at once and stops recording
 * the call; malicious keeps it and asks the index stage to tag it, hold it and raise an
 * alarm.  Undecided calls are settled after their end by the index stage
 * (src/index/ondemand.c).
 *
 * Keys from the outside party are ignored: a caller must not be able to keep or destroy
 * the recording of the agent's call.
 */
#include <string.h>

#include "greffier/log.h"
#include "greffier/media.h"
#include "greffier/rules.h"
#include "media_internal.h"

/* Keys further apart than this start a new code: a "*" dialled in an IVR menu a minute
 * earlier does not combine with a "1" dialled now. */
#define CODE_GAP ((pkt_time_t)5 * 1000000)

static bool is_on_demand(const struct call_media *cm)
{
    return cm->decision.on_demand[0] != '\0';
}

/* Applies action a for by at packet time at.  Returns 0 when applied, 1 when the call was
 * already decided (the first decision stands), -1 when the call is not on demand. */
static int decide(struct media *m, struct call_media *cm, enum ondemand_action a, const char *by,
                  pkt_time_t at)
{
    struct media_rules_decision *md = &cm->decision;
    if (!is_on_demand(cm) && a != ONDEMAND_MALICIOUS)
        return -1;
    if (a == ONDEMAND_MALICIOUS) {
        if (strcmp(md->on_demand, "discarded") == 0)
            return 1; /* the audio is gone; the index stage still marks the call */
        if (!md->malicious) {
            md->malicious = true;
            snprintf(md->malicious_by, sizeof(md->malicious_by), "%s", by);
        }
        a = ONDEMAND_KEEP;
        if (!is_on_demand(cm))
            return 0;
    }
    if (strcmp(md->on_demand, "pending") != 0)
        return 1;
    snprintf(md->on_demand, sizeof(md->on_demand), "%s", a == ONDEMAND_KEEP ? "kept" : "discarded");
    snprintf(md->decided_by, sizeof(md->decided_by), "%s", by);
    md->decided_at = at;
    if (a == ONDEMAND_DISCARD)
        recording_destroy(m, cm);
    log_msg(LOG_NOTICE, "media: call %s: on_demand recording %s by %s", cm->call->call_id,
            md->on_demand, by);
    return 0;
}

void ondemand_dtmf(struct media *m, struct call_media *cm, int channel, char key, pkt_time_t ts)
{
    if (!cm->decision.made)
        recording_rules(m, cm);
    if (channel < 0 || channel > 1 || !(cm->agent_channels & (1u << channel)))
        return; /* the outside party, or a call whose agent is unknown */
    size_t n = strlen(cm->agent_digits);
    if (n && ts - cm->agent_digit_at > CODE_GAP)
        n = 0;
    if (n + 1 >= sizeof(cm->agent_digits)) {
        memmove(cm->agent_digits, cm->agent_digits + 1, n - 1);
        n--;
    }
    cm->agent_digits[n] = key;
    cm->agent_digits[n + 1] = '\0';
    cm->agent_digit_at = ts;
    enum ondemand_action a = rules_dtmf_code(m->cfg, cm->agent_digits);
    if (a == ONDEMAND_NONE)
        return;
    cm->agent_digits[0] = '\0';
    decide(m, cm, a, "dtmf", ts);
}

void media_sip_dtmf(struct media *m, struct call *c, bool from_caller, char key, pkt_time_t ts)
{
    struct call_media *cm = c->media;
    if (!cm)
        return;
    char digit[2] = {key, '\0'};
    int channel = from_caller ? 0 : 1;
    media_event(cm, ts, "dtmf", channel, digit);
    ondemand_dtmf(m, cm, channel, key, ts);
}

int media_on_demand_request(struct media *m, struct call *c, const char *action, const char *by,
                            pkt_time_t now)
{
    struct call_media *cm = c->media;
    enum ondemand_action a = ondemand_action_parse(action);
    if (!cm || a == ONDEMAND_NONE)
        return -1;
    return decide(m, cm, a, by, now);
}

void media_each_on_demand(struct media *m,
                          void (*fn)(void *user, struct call *c,
                                     const struct media_rules_decision *d, const char *relpath),
                          void *user)
{
    for (struct call_media *cm = m->calls; cm; cm = cm->next)
        if (is_on_demand(cm) || cm->decision.malicious)
            fn(user, cm->call, &cm->decision, cm->recording ? cm->relpath : "");
}

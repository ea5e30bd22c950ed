/*
 * explain.c - the decision for a call described by hand (`greffier rules explain`,
 * GET /api/rules/explain): the text of each field is checked and turned into the call
 * rules_decide() would see from the capture, so the command line and the web page can
 * never disagree with each other, nor with what capture does (see docs/RULES.md).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "greffier/dialog.h"
#include "greffier/number.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"

static const char *const weekdays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};

/* A number as SIP carries it in a user part: digits and the few signs dial plans use,
 * or a name ("anonymous").  Anything else (quotes, angle brackets, blanks) is refused
 * rather than matched, so hostile text never reaches an output unchecked. */
static bool number_text_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RULES_EXPLAIN_NUMBER_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              strchr("+*#._-", *s)))
            return false;
    return true;
}

/* An instant without a zone ("2024-01-15T09:30") is local time in the rules time zone,
 * as the rules' hours are; with one ("Z", "+01:00") it is taken as written. */
static bool parse_at(const char *text, pkt_time_t *out)
{
    pkt_time_t utc;
    if (strlen(text) > 40 || !time_parse_iso(text, &utc))
        return false;
    const char *clock = strpbrk(text, "T ");
    if (clock && strpbrk(clock, "Z+-")) {
        *out = utc;
        return true;
    }
    /* Read the fields back as UTC, then let mktime() place them in local time. */
    time_t secs = (time_t)(utc / 1000000);
    struct tm tm;
    if (utc < 0 || !gmtime_r(&secs, &tm))
        return false;
    tm.tm_isdst = -1;
    time_t local = mktime(&tm);
    if (local == (time_t)-1)
        return false;
    *out = (pkt_time_t)local * 1000000 + utc % 1000000;
    return true;
}

const char *rules_explain_call(const struct config *cfg, const struct rules_explain_input *in,
                               pkt_time_t now, struct rules_explanation *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    struct call *c = &out->call;
    if (!in->caller || !number_text_valid(in->caller)) {
        *why = "a number: 1 to 64 digits, letters or + * # . _ -";
        return "caller";
    }
    if (!in->callee || !number_text_valid(in->callee)) {
        *why = "a number: 1 to 64 digits, letters or + * # . _ -";
        return "callee";
    }
    if (in->call_id && (!in->call_id[0] || strlen(in->call_id) > RULES_EXPLAIN_CALL_ID_MAX)) {
        *why = "a Call-ID of 1 to 256 bytes";
        return "call_id";
    }
    snprintf(out->caller, sizeof(out->caller), "%s", in->caller);
    snprintf(out->callee, sizeof(out->callee), "%s", in->callee);
    snprintf(out->call_id, sizeof(out->call_id), "%s", in->call_id ? in->call_id : "");
    c->call_id = out->call_id;
    c->caller.number = out->caller;
    c->callee.number = out->callee;
    if (number_normalise(&cfg->plan, out->caller, out->caller_norm, sizeof(out->caller_norm)))
        c->caller.number_norm = out->caller_norm;
    if (number_normalise(&cfg->plan, out->callee, out->callee_norm, sizeof(out->callee_norm)))
        c->callee.number_norm = out->callee_norm;
    if (in->address) {
        struct cidr net;
        if (strlen(in->address) > 45 || strchr(in->address, '/') ||
            !cidr_parse(in->address, &net)) {
            *why = "an IP address (192.0.2.1, 2001:db8::1)";
            return "address";
        }
        c->caller_addr = net.addr;
    }
    if (in->direction) {
        if (!call_direction_parse(in->direction, &c->direction)) {
            *why = "inbound, outbound, internal or unknown";
            return "direction";
        }
    } else {
        c->direction = call_classify_direction(cfg, c);
    }
    out->at = now;
    if (in->at && !parse_at(in->at, &out->at)) {
        *why = "an ISO 8601 time (2024-01-15T09:30, local time in the rules time zone "
               "unless a zone is given)";
        return "at";
    }
    out->call_id_given = in->call_id != NULL;

    rules_decide(cfg, c, out->at, &out->decision);
    for (size_t i = 0; out->decision.rule_name && i < cfg->nrules; i++)
        if (strcmp(cfg->rules[i].name, out->decision.rule_name) == 0)
            out->rule = &cfg->rules[i];

    time_t secs = (time_t)(out->at / 1000000);
    struct tm tm;
    snprintf(out->local, sizeof(out->local), "?");
    if (localtime_r(&secs, &tm))
        snprintf(out->local, sizeof(out->local), "%s %04d-%02d-%02d %02d:%02d",
                 weekdays[tm.tm_wday], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min);
    return NULL;
}

int rules_explain_record(const struct rules_explanation *e)
{
    const struct rules_decision *d = &e->decision;
    if (d->action == RULES_SAMPLE && !e->call_id_given)
        return -1;
    return d->record ? 1 : 0;
}

/*
 * route_rules.c - the recording policy over HTTP, read-only, for admins (docs/API.md,
 * docs/RULES.md):
 *
 *   GET /api/rules            the running configuration's rules, in file order
 *   GET /api/rules/explain?caller=N&callee=N[&direction=D][&at=ISO8601][&call_id=ID]
 *                             [&address=IP]    which rule a call would meet, and why
 *
 * The web never edits greffier.conf: the file is the administrator's, reviewed and
 * reloaded by systemd (SIGHUP).  The view is audited (rules.view); an explanation reads
 * no stored data, so it is counted like any request but not audited as a search.  The
 * decision comes from rules_explain_call() (src/rules/explain.c), as `greffier rules
 * explain` does, so the page and the command cannot disagree.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/clock.h"
#include "greffier/json.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"
#include "http_int.h"

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const direction_names[] = {"unknown", "inbound", "outbound", "internal"};

static void string_list(struct json_writer *w, const char *key, const char (*items)[40], size_t n)
{
    json_key(w, key);
    json_array_begin(w);
    for (size_t i = 0; i < n; i++)
        json_string(w, items[i]);
    json_array_end(w);
}

static void tags_json(struct json_writer *w, const char (*tags)[RULE_TAG_SIZE], size_t n)
{
    json_key(w, "tags");
    json_array_begin(w);
    for (size_t i = 0; i < n; i++)
        json_string(w, tags[i]);
    json_array_end(w);
}

static void hours_json(struct json_writer *w, const struct config_rule *r)
{
    json_key(w, "hours");
    json_array_begin(w);
    for (size_t i = 0; i < r->nhours; i++) {
        char text[16];
        unsigned from = r->hours[i].from, to = r->hours[i].to ? r->hours[i].to : 24 * 60;
        snprintf(text, sizeof(text), "%02u:%02u-%02u:%02u", from / 60, from % 60, to / 60,
                 to % 60);
        json_string(w, text);
    }
    json_array_end(w);
}

static void conditions_json(struct json_writer *w, const struct config_rule *r)
{
    json_key(w, "conditions");
    json_object_begin(w);
    string_list(w, "caller", r->caller, r->ncaller);
    string_list(w, "callee", r->callee, r->ncallee);
    string_list(w, "number", r->number, r->nnumber);
    json_key(w, "directions");
    json_array_begin(w);
    for (unsigned d = 0; d < 4; d++)
        if (r->directions & (1u << d))
            json_string(w, direction_names[d]);
    json_array_end(w);
    json_key(w, "addresses");
    json_array_begin(w);
    for (size_t i = 0; i < r->naddress; i++) {
        char a[64], text[72];
        ip_addr_format(&r->address[i].addr, a, sizeof(a));
        snprintf(text, sizeof(text), "%s/%u", a, r->address[i].prefix_len);
        json_string(w, text);
    }
    json_array_end(w);
    json_key(w, "days");
    json_array_begin(w);
    for (unsigned d = 0; d < 7; d++)
        if (r->days & (1u << d))
            json_string(w, day_names[d]);
    json_array_end(w);
    hours_json(w, r);
    json_object_end(w);
}

static void rule_json(struct json_writer *w, const struct config_rule *r, size_t position)
{
    json_object_begin(w);
    json_key(w, "position");
    json_uint(w, position);
    json_key(w, "name");
    json_string(w, r->name);
    json_key(w, "line");
    json_uint(w, r->line);
    conditions_json(w, r);
    json_key(w, "action");
    json_string(w, rules_action_name(r->action));
    json_key(w, "sample_percent");
    if (r->action == RULES_SAMPLE)
        json_uint(w, r->sample_percent);
    else
        json_null(w);
    json_key(w, "retention_days");
    if (r->retention_days)
        json_uint(w, r->retention_days);
    else
        json_null(w);
    tags_json(w, r->tags, r->ntags);
    json_object_end(w);
}

static void policy_json(struct json_writer *w, const struct config *cfg)
{
    json_object_begin(w);
    json_key(w, "config_path");
    json_string(w, cfg->path);
    json_key(w, "read_only");
    json_bool(w, true);
    json_key(w, "timezone");
    json_string(w, cfg->rules_timezone);
    json_key(w, "default");
    json_string(w, rules_action_name((enum rules_action)cfg->rules_default));
    json_key(w, "keep_metadata_of_unrecorded");
    json_bool(w, cfg->keep_metadata_of_unrecorded);
    string_list(w, "never_record", cfg->never_record, cfg->nnever_record);
    json_key(w, "on_demand");
    json_object_begin(w);
    json_key(w, "keep_code");
    json_string(w, cfg->keep_code);
    json_key(w, "discard_code");
    json_string(w, cfg->discard_code);
    json_key(w, "malicious_code");
    json_string(w, cfg->malicious_code);
    json_key(w, "grace_s");
    json_uint(w, cfg->on_demand_grace_s);
    json_object_end(w);
    json_key(w, "retention");
    json_object_begin(w);
    json_key(w, "default_days");
    json_uint(w, cfg->retention_default_days);
    json_key(w, "tags");
    json_array_begin(w);
    for (size_t i = 0; i < cfg->nretention_tags; i++) {
        json_object_begin(w);
        json_key(w, "tag");
        json_string(w, cfg->retention_tags[i].tag);
        json_key(w, "days");
        json_uint(w, cfg->retention_tags[i].days);
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
    json_key(w, "rules");
    json_array_begin(w);
    for (size_t i = 0; i < cfg->nrules; i++)
        rule_json(w, &cfg->rules[i], i + 1);
    json_array_end(w);
    json_object_end(w);
}

static void explanation_json(struct json_writer *w, const struct config *cfg,
                             const struct rules_explanation *e)
{
    const struct rules_decision *d = &e->decision;
    char when[TIME_ISO_SIZE];
    json_object_begin(w);
    json_key(w, "call");
    json_object_begin(w);
    json_key(w, "caller");
    json_string(w, e->caller);
    json_key(w, "callee");
    json_string(w, e->callee);
    json_key(w, "direction");
    json_string(w, call_direction_name(e->call.direction));
    json_key(w, "at");
    json_string(w, time_format_iso_s(e->at, when, sizeof(when)));
    json_key(w, "local");
    json_string(w, e->local);
    json_key(w, "timezone");
    json_string(w, cfg->rules_timezone);
    json_object_end(w);
    json_key(w, "rule");
    json_string(w, rules_decision_origin(d));
    json_key(w, "source");
    json_string(w, d->source == RULES_FROM_RULE           ? "rule"
                   : d->source == RULES_FROM_NEVER_RECORD ? "never_record"
                                                          : "default");
    json_key(w, "line");
    if (e->rule)
        json_uint(w, e->rule->line);
    else
        json_null(w);
    json_key(w, "action");
    json_string(w, rules_action_name(d->action));
    json_key(w, "record");
    int rec = rules_explain_record(e);
    if (rec < 0)
        json_null(w);
    else
        json_bool(w, rec == 1);
    json_key(w, "sample_percent");
    if (d->action == RULES_SAMPLE)
        json_uint(w, d->sample_percent);
    else
        json_null(w);
    json_key(w, "retention_days");
    if (d->retention_days)
        json_uint(w, d->retention_days);
    else
        json_null(w);
    tags_json(w, d->tags, d->ntags);
    json_object_end(w);
}

/* Replies with what fill writes, or a 500 when the text cannot be built. */
static enum MHD_Result reply_json_built(struct http_req *rq, const void *arg,
                                        void (*fill)(struct json_writer *w, struct http_req *rq,
                                                     const void *arg))
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    struct json_writer w;
    json_init(&w, m, false);
    fill(&w, rq, arg);
    bool bad = json_finish(&w) != 0;
    if (fclose(m) != 0 || bad) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the reply could not be built", NULL);
    }
    return http_reply_json(rq, MHD_HTTP_OK, text, len);
}

static void fill_policy(struct json_writer *w, struct http_req *rq, const void *arg)
{
    (void)arg;
    policy_json(w, &rq->srv->cfg);
}

enum MHD_Result route_rules(struct http_req *rq)
{
    http_audit(rq, rq->sess.user, "rules.view", "", AUDIT_END);
    return reply_json_built(rq, NULL, fill_policy);
}

static const char *const explain_params[] = {"caller", "callee", "direction",
                                             "at",     "call_id", "address"};
enum { NEXPLAIN_PARAMS = sizeof(explain_params) / sizeof(explain_params[0]) };

struct explain_args {
    const char *value[NEXPLAIN_PARAMS];
    const char *bad;   /* the first unknown or repeated parameter */
    const char *why;
};

/* Through the iterator with lengths: a value with an escaped NUL ("1%00<b>") would
 * otherwise be read as its harmless prefix. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    struct explain_args *a = cls;
    (void)kind;
    for (size_t i = 0; i < NEXPLAIN_PARAMS; i++) {
        if (strlen(key) != key_size || strcmp(key, explain_params[i]) != 0)
            continue;
        if (a->value[i]) {
            a->bad = explain_params[i];
            a->why = "given more than once";
            return MHD_NO;
        }
        if (value && strlen(value) != value_size) {
            a->bad = explain_params[i];
            a->why = "contains a NUL byte";
            return MHD_NO;
        }
        a->value[i] = value ? value : "";
        return MHD_YES;
    }
    a->bad = "?";
    a->why = "unknown parameter (caller, callee, direction, at, call_id, address)";
    return MHD_NO;
}

static void fill_explanation(struct json_writer *w, struct http_req *rq, const void *arg)
{
    explanation_json(w, &rq->srv->cfg, arg);
}

enum MHD_Result route_rules_explain(struct http_req *rq)
{
    struct explain_args a = {{NULL}, NULL, NULL};
    MHD_get_connection_values_n(rq->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    char msg[200];
    if (a.bad) {
        snprintf(msg, sizeof(msg), "%s: %s", a.bad, a.why);
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", msg, a.bad);
    }
    const struct rules_explain_input in = {a.value[0], a.value[1], a.value[2],
                                           a.value[3], a.value[4], a.value[5]};
    /* Large (a struct call and its numbers) and short-lived: on the heap, not on the
     * stack of a connection thread. */
    struct rules_explanation *e = malloc(sizeof(*e));
    if (!e)
        return MHD_NO;
    const char *why = NULL;
    const char *bad = rules_explain_call(&rq->srv->cfg, &in, clock_now(), e, &why);
    enum MHD_Result r;
    if (bad) {
        snprintf(msg, sizeof(msg), "%s: %s", bad, why);
        r = http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", msg, bad);
    } else {
        r = reply_json_built(rq, e, fill_explanation);
    }
    free(e);
    return r;
}

/* The rules page's script (src/http/ui/rules.js), compiled in like app.js. */
enum MHD_Result route_ui_rules_js(struct http_req *rq)
{
    const struct ui_asset *a = ui_asset_find("rules.js");
    if (!a)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such page", NULL);
    return http_reply(rq, MHD_HTTP_OK, a->type, (char *)a->data, a->len, false);
}

/*
 * fuzz_rules_explain.c - rules_explain_call() on arbitrary fields, as they arrive in the
 * query string of GET /api/rules/explain or on the command line of `rules explain`.
 * The input is split on newlines into caller, callee, direction, at, call_id and address
 * (a missing line is a missing field).  Beyond memory safety it checks the contract: a
 * refusal names one of the six fields with a reason; an acceptance holds only numbers of
 * the allowed characters, has an origin and a local time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/config.h"
#include "greffier/rules.h"

static struct config cfg;
static bool ready;

static void setup(void)
{
    static const char *const keys[][2] = {
        {"direction", "inbound"}, {"days", "mon-fri"}, {"hours", "08:00-12:00, 22:00-06:00"},
        {"action", "sample"},     {"sample", "30"},    {"address", "10.0.0.0/8, 2001:db8::/32"},
    };
    char err[256];
    config_defaults(&cfg);
    struct config_rule *r = &cfg.rules[cfg.nrules++];
    memset(r, 0, sizeof(*r));
    memcpy(r->name, "office", 7);
    r->line = 1;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!rules_parse_key(r, keys[i][0], keys[i][1], err, sizeof(err)))
            abort();
    memcpy(cfg.never_record[cfg.nnever_record++], "2999", 5);
    ready = true;
}

static bool number_chars_ok(const char *s)
{
    for (; *s; s++)
        if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+*#._-", *s))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {"caller", "callee", "direction",
                                         "at",     "call_id", "address"};
    static char buf[4096];
    static struct rules_explanation e;
    const char *part[6] = {NULL};
    if (!ready)
        setup();
    if (size >= sizeof(buf))
        size = sizeof(buf) - 1;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf;
    for (size_t i = 0; i < 6 && p; i++) {
        part[i] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    const struct rules_explain_input in = {part[0], part[1], part[2], part[3], part[4], part[5]};
    const char *why = NULL;
    const char *bad = rules_explain_call(&cfg, &in, 1700000000LL * 1000000, &e, &why);
    if (bad) {
        bool known = false;
        for (size_t i = 0; i < 6; i++)
            known |= strcmp(bad, fields[i]) == 0;
        if (!known || !why || !*why)
            abort();
        return 0;
    }
    if (!number_chars_ok(e.caller) || !number_chars_ok(e.callee) || !e.caller[0] ||
        !e.callee[0] || !rules_decision_origin(&e.decision) || !e.local[0])
        abort();
    if (e.decision.source == RULES_FROM_RULE && !e.rule)
        abort();
    return 0;
}

/*
 * test_rules_explain.c - rules_explain_call(), the decision for a call described by hand
 * (`rules explain`, GET /api/rules/explain): a table of calls with the rule each meets,
 * `at` read as local time in the rules time zone unless it carries one, the direction
 * classified from [numbers] when not given, and a table of bad fields, each refused with
 * its own name.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/config.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"
#include "testhelp.h"

static char tmpdir[] = "/tmp/test_rules_explain.XXXXXX";
static char conf_path[80];

static const char policy[] = "[numbers]\n"
                             "internal = 2xxx\n"
                             "[rules]\n"
                             "timezone = Europe/Paris\n"
                             "never_record = 2999\n"
                             "default = skip\n"
                             "[rule lab]\n"
                             "address = 10.1.0.0/16\n"
                             "action = record\n"
                             "[rule office]\n"
                             "direction = inbound\n"
                             "days = mon-fri\n"
                             "hours = 08:00-12:00\n"
                             "action = sample\n"
                             "sample = 50\n";

struct explain_case {
    const char *caller, *callee, *direction, *at, *call_id, *address;
    const char *origin;    /* the decision's origin */
    const char *direction_seen;
    const char *local;     /* NULL: not checked */
    int record;            /* rules_explain_record() */
};

static const struct explain_case cases[] = {
    /* Monday 15 January 2024, 09:30 in Paris (winter: UTC+1). */
    {"0612345678", "2001", NULL, "2024-01-15T09:30", NULL, NULL, "office", "inbound",
     "Monday 2024-01-15 09:30", -1},
    /* The same instant written in UTC. */
    {"0612345678", "2001", NULL, "2024-01-15T08:30:00Z", NULL, NULL, "office", "inbound",
     "Monday 2024-01-15 09:30", -1},
    /* 08:30 in Paris is 07:30Z: before the window read in UTC, inside it in Paris. */
    {"0612345678", "2001", NULL, "2024-01-15T08:30", NULL, NULL, "office", "inbound",
     "Monday 2024-01-15 08:30", -1},
    {"0612345678", "2001", NULL, "2024-01-15T12:30", NULL, NULL, "[default]", "inbound", NULL, 0},
    {"0612345678", "2001", "outbound", "2024-01-15T09:30", NULL, NULL, "[default]", "outbound",
     NULL, 0},
    {"2001", "2002", NULL, "2024-01-15T09:30", NULL, NULL, "[default]", "internal", NULL, 0},
    {"0612345678", "2999", NULL, "2024-01-15T09:30", NULL, NULL, "[never_record]", "inbound",
     NULL, 0},
    {"2001", "2002", NULL, "2024-01-15T09:30", NULL, "10.1.2.3", "lab", "internal", NULL, 1},
    {"0612345678", "2001", NULL, "2024-01-15T09:30", "a@b", NULL, "office", "inbound", NULL,
     -2 /* decided: 0 or 1 */},
    /* No `at`: the given now (Saturday 20 January 2024, 10:00 UTC). */
    {"0612345678", "2001", NULL, NULL, NULL, NULL, "[default]", "inbound",
     "Saturday 2024-01-20 11:00", 0},
};

struct bad_case {
    struct rules_explain_input in;
    const char *field;
};

static const struct bad_case bad[] = {
    {{NULL, "2", NULL, NULL, NULL, NULL}, "caller"},
    {{"", "2", NULL, NULL, NULL, NULL}, "caller"},
    {{"1", NULL, NULL, NULL, NULL, NULL}, "callee"},
    {{"1", "<script>", NULL, NULL, NULL, NULL}, "callee"},
    {{"1", "2' OR 1=1", NULL, NULL, NULL, NULL}, "callee"},
    {{"12345678901234567890123456789012345678901234567890123456789012345", "2", NULL, NULL, NULL,
      NULL},
     "caller"},
    {{"1", "2", "sideways", NULL, NULL, NULL}, "direction"},
    {{"1", "2", "", NULL, NULL, NULL}, "direction"},
    {{"1", "2", NULL, "2024-02-30T10:00", NULL, NULL}, "at"},
    {{"1", "2", NULL, "tomorrow", NULL, NULL}, "at"},
    {{"1", "2", NULL, NULL, "", NULL}, "call_id"},
    {{"1", "2", NULL, NULL, NULL, "10.0.0.0/8"}, "address"},
    {{"1", "2", NULL, NULL, NULL, "not-an-ip"}, "address"},
};

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(conf_path, sizeof(conf_path), "%s/greffier.conf", tmpdir);
    FILE *f = fopen(conf_path, "wb");
    if (!f || fputs(policy, f) < 0 || fclose(f) != 0)
        return 2;
    static struct config cfg;
    CHECK_INT(config_load(&cfg, conf_path, stderr), 0);
    rules_apply_timezone(&cfg);
    pkt_time_t now = 0;
    CHECK(time_parse_iso("2024-01-20T10:00:00Z", &now));

    static struct rules_explanation e;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct explain_case *c = &cases[i];
        const struct rules_explain_input in = {c->caller,  c->callee,  c->direction,
                                               c->at,      c->call_id, c->address};
        const char *why = NULL;
        const char *badf = rules_explain_call(&cfg, &in, now, &e, &why);
        CHECK(badf == NULL);
        if (badf)
            continue;
        CHECK_STR(rules_decision_origin(&e.decision), c->origin);
        CHECK_STR(call_direction_name(e.call.direction), c->direction_seen);
        if (c->local)
            CHECK_STR(e.local, c->local);
        if (c->record == -2)
            CHECK(rules_explain_record(&e) == 0 || rules_explain_record(&e) == 1);
        else
            CHECK_INT(rules_explain_record(&e), c->record);
        CHECK((e.rule != NULL) == (e.decision.source == RULES_FROM_RULE));
        /* The explanation owns its copies. */
        CHECK(e.call.caller.number == e.caller && e.call.callee.number == e.callee);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        const char *badf = rules_explain_call(&cfg, &bad[i].in, now, &e, &why);
        CHECK_STR(badf ? badf : "(accepted)", bad[i].field);
        CHECK(badf == NULL || (why && why[0]));
    }

    unlink(conf_path);
    rmdir(tmpdir);
    return TEST_REPORT("test_rules_explain");
}

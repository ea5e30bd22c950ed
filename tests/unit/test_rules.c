/*
 * test_rules.c - recording rules: a table of calls against one rule set (directions,
 * numbers, addresses, days and hours in Europe/Paris winter and summer time, windows
 * across midnight), the never_record list winning over every rule, sampling that is
 * reproducible and close to its percentage, and broken rule sets with their file:line.
 * On demand: a second table of calls against rules with on_demand, sample and record rows
 * (with their retention), the agent's side of each direction, and the DTMF codes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/config.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"
#include "testhelp.h"

static char tmpdir[] = "/tmp/test_rules.XXXXXX";
static char conf_path[64];

/* Loads text as greffier.conf; returns the messages without the directory (caller frees). */
static char *load(struct config *cfg, const char *text, int *errors)
{
    FILE *f = fopen(conf_path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(conf_path);
        exit(2);
    }
    char *raw = NULL;
    size_t rawlen = 0, dirlen = strlen(tmpdir) + 1;
    FILE *mem = open_memstream(&raw, &rawlen);
    *errors = config_load(cfg, conf_path, mem);
    fclose(mem);
    rules_apply_timezone(cfg); /* what the command line does once at start-up */
    char *out = calloc(rawlen + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < rawlen;) {
        if ((i == 0 || raw[i - 1] == '\n') && strncmp(raw + i, conf_path, dirlen) == 0)
            i += dirlen;
        else
            out[o++] = raw[i++];
    }
    free(raw);
    return out;
}

static const char policy[] =
    "[numbers]\n"
    "internal = 2xxx\n"
    "[rules]\n"
    "timezone = Europe/Paris\n"
    "never_record = 2999, +33140000000\n"
    "default = skip\n"
    "[rule night]\n"
    "days = mon-fri\n"
    "hours = 22:00-06:00\n"
    "action = skip\n"
    "[rule reception]\n"
    "callee = 2000\n"
    "direction = inbound\n"
    "days = mon-fri\n"
    "hours = 08:00-12:00, 14:00-18:30\n"
    "action = record\n"
    "retention = 90\n"
    "tags = reception, accueil\n"
    "[rule quality]\n"
    "direction = inbound\n"
    "action = sample\n"
    "sample = 100%\n"
    "[rule outbound]\n"
    "direction = outbound\n"
    "number = 01xxxxxxxx\n"
    "action = on_demand\n"
    "[rule trunk]\n"
    "address = 192.0.2.0/24\n"
    "action = record\n";

struct decide_case {
    int line;
    const char *caller, *caller_norm, *callee, *callee_norm;
    enum call_direction dir;
    const char *caller_ip;
    const char *at; /* UTC instant */
    const char *origin;
    enum rules_action action;
    bool record;
};

static const struct decide_case decide_cases[] = {
    /* Monday 15 January 2024, Paris is UTC+1. */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T08:30:00Z",
     "reception", RULES_RECORD, true},
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T07:10:00Z",
     "reception", RULES_RECORD, true}, /* 08:10 local */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T06:10:00Z",
     "quality", RULES_SAMPLE, true}, /* 07:10 local */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T12:00:00Z",
     "quality", RULES_SAMPLE, true}, /* 13:00: lunch break */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T17:29:59Z",
     "reception", RULES_RECORD, true}, /* 18:29:59 */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T17:30:00Z",
     "quality", RULES_SAMPLE, true}, /* 18:30: the end is excluded */
    /* Monday 15 July 2024, Paris is UTC+2. */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-07-15T06:10:00Z",
     "reception", RULES_RECORD, true}, /* 08:10 local */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-07-15T05:50:00Z",
     "quality", RULES_SAMPLE, true}, /* 07:50 local */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-07-15T03:50:00Z",
     "quality", RULES_SAMPLE, true}, /* 05:50 local: that night began on Sunday, which
                                       * the night rule does not list */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-07-16T03:50:00Z",
     "night", RULES_SKIP, false}, /* Tuesday 05:50 local: Monday's night */
    /* Saturday: no reception. */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-20T09:00:00Z",
     "quality", RULES_SAMPLE, true},
    /* Nights: Monday 23:00, and Saturday 01:00 (the window opened on Friday). */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T22:00:00Z",
     "night", RULES_SKIP, false},
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-20T00:00:00Z",
     "night", RULES_SKIP, false},
    /* Monday 01:00: that night began on Sunday, which the rule does not list. */
    {__LINE__, "0611111111", NULL, "2000", NULL, DIR_INBOUND, NULL, "2024-01-15T00:00:00Z",
     "quality", RULES_SAMPLE, true},
    /* Outbound to a Paris landline: on demand (recorded as pending). */
    {__LINE__, "2001", NULL, "0140123456", "33140123456", DIR_OUTBOUND, NULL,
     "2024-01-15T10:00:00Z", "outbound", RULES_ON_DEMAND, true},
    /* Outbound to a mobile through the trunk: the trunk rule. */
    {__LINE__, "2001", NULL, "0612345678", "33612345678", DIR_OUTBOUND, "192.0.2.5",
     "2024-01-15T10:00:00Z", "trunk", RULES_RECORD, true},
    /* Internal: no rule, the default (skip). */
    {__LINE__, "2001", NULL, "2002", NULL, DIR_INTERNAL, NULL, "2024-01-15T10:00:00Z",
     "[default]", RULES_SKIP, false},
    /* never_record wins over reception, over the trunk, in any form of the number. */
    {__LINE__, "0611111111", NULL, "2999", NULL, DIR_INBOUND, NULL, "2024-01-15T08:30:00Z",
     "[never_record]", RULES_SKIP, false},
    {__LINE__, "2999", NULL, "0612345678", "33612345678", DIR_OUTBOUND, "192.0.2.5",
     "2024-01-15T10:00:00Z", "[never_record]", RULES_SKIP, false},
    {__LINE__, "0140000000", "33140000000", "2000", NULL, DIR_INBOUND, "192.0.2.1",
     "2024-01-15T08:30:00Z", "[never_record]", RULES_SKIP, false},
};

static void fill_call(struct call *c, const struct decide_case *t)
{
    memset(c, 0, sizeof(*c));
    c->call_id = (char *)"case@test";
    c->caller.number = (char *)t->caller;
    c->caller.number_norm = (char *)t->caller_norm;
    c->callee.number = (char *)t->callee;
    c->callee.number_norm = (char *)t->callee_norm;
    c->direction = t->dir;
    if (t->caller_ip) {
        struct cidr net;
        if (cidr_parse(t->caller_ip, &net))
            c->caller_addr = net.addr;
    }
}

static void test_decide(void)
{
    struct config *cfg = malloc(sizeof(*cfg));
    int errors;
    char *msg = load(cfg, policy, &errors);
    CHECK_INT(errors, 0);
    CHECK_STR(msg, "");
    free(msg);
    CHECK_INT(cfg->nrules, 5);
    for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]); i++) {
        const struct decide_case *t = &decide_cases[i];
        struct call c;
        struct rules_decision d;
        pkt_time_t at = 0;
        fill_call(&c, t);
        if (!time_parse_iso(t->at, &at))
            fprintf(stderr, "case line %d: bad instant\n", t->line);
        rules_decide(cfg, &c, at, &d);
        const char *origin = rules_decision_origin(&d);
        if (strcmp(origin, t->origin) != 0 || d.action != t->action || d.record != t->record)
            fprintf(stderr, "case at line %d: got %s %s %d\n", t->line, origin,
                    rules_action_name(d.action), d.record);
        CHECK_STR(origin, t->origin);
        CHECK_INT(d.action, t->action);
        CHECK_INT(d.record, t->record);
        CHECK_INT(d.never_record_hit, strcmp(t->origin, "[never_record]") == 0);
    }
    /* The reception rule's retention and tags come with its decision. */
    struct call c;
    struct rules_decision d;
    pkt_time_t at = 0;
    fill_call(&c, &decide_cases[0]);
    CHECK(time_parse_iso(decide_cases[0].at, &at));
    rules_decide(cfg, &c, at, &d);
    CHECK_INT(d.retention_days, 90);
    CHECK_INT(d.ntags, 2);
    CHECK_STR(d.ntags > 1 ? d.tags[1] : "", "accueil");
    free(cfg);
}

/* Without any rule, every call gets [rules] default (record unless told). */
static void test_no_rules(void)
{
    struct config *cfg = malloc(sizeof(*cfg));
    config_defaults(cfg);
    struct call c;
    struct rules_decision d;
    fill_call(&c, &decide_cases[0]);
    rules_decide(cfg, &c, 0, &d);
    CHECK_STR(rules_decision_origin(&d), "[default]");
    CHECK_INT(d.action, RULES_RECORD);
    CHECK(d.record);
    CHECK(d.rule_name == NULL);
    free(cfg);
}

static void test_sampling(void)
{
    static const unsigned percents[] = {1, 10, 50, 90};
    char id[64];
    for (size_t k = 0; k < sizeof(percents) / sizeof(percents[0]); k++) {
        int p = (int)percents[k], chosen = 0;
        for (int i = 0; i < 10000; i++) {
            snprintf(id, sizeof(id), "a84b4c76e66710-%d@192.0.2.4", i);
            bool a = rules_sample_chosen(id, (unsigned)p);
            chosen += a;
            if (a != rules_sample_chosen(id, (unsigned)p))
                CHECK(!"sampling not reproducible");
        }
        /* 10,000 draws: the standard deviation is at most 50, so 2.5 % is > 5 sigma. */
        if (chosen < p * 100 - 250 || chosen > p * 100 + 250)
            fprintf(stderr, "%d%%: %d of 10000 chosen\n", p, chosen);
        CHECK(chosen >= p * 100 - 250 && chosen <= p * 100 + 250);
    }
    CHECK(rules_sample_chosen("x", 100));
    /* A smaller percentage keeps a subset of a larger one's calls. */
    unsigned subset = 1;
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "%d", i);
        if (rules_sample_chosen(id, 10) && !rules_sample_chosen(id, 20))
            subset = 0;
    }
    CHECK(subset);
}

struct error_case {
    int line;
    const char *text;
    const char *messages;
};

static const struct error_case error_cases[] = {
    {__LINE__, "[rule a]\naction = sample\n",
     "greffier.conf:1: rule a: action = sample needs sample = PERCENT\n"},
    {__LINE__, "[rule a]\naction = record\nsample = 10\n",
     "greffier.conf:1: rule a: sample = 10 contradicts action = record (only for action = "
     "sample)\n"},
    {__LINE__, "[rule a]\naction = skip\nretention = 30\n",
     "greffier.conf:1: rule a: retention contradicts action = skip (nothing is recorded)\n"},
    {__LINE__, "[rule a]\ncallee = 2000\n",
     "greffier.conf:1: rule a has no action (record, skip, sample, on_demand)\n"},
    {__LINE__,
     "[rule all]\naction = record\n\n[rule b]\ncallee = 2000\naction = skip\n[rule c]\n"
     "action = skip\n",
     "greffier.conf:4: rule b can never match: rule all before it matches every call\n"
     "greffier.conf:7: rule c can never match: rule all before it matches every call\n"},
    {__LINE__, "[rule a]\ndays = mon-fry\naction = record\n",
     "greffier.conf:2: days: \"mon-fry\" is not a day (mon, tue, wed, thu, fri, sat, sun) or a "
     "range (mon-fri)\n"},
    {__LINE__, "[rule a]\nhours = 08:00-24:30\naction = record\n",
     "greffier.conf:2: hours: \"08:00-24:30\" is not a time window (HH:MM-HH:MM, such as "
     "08:00-18:30)\n"},
    {__LINE__, "[rule a]\nhours = 8h-18h\naction = record\n",
     "greffier.conf:2: hours: \"8h-18h\" is not a time window (HH:MM-HH:MM, such as "
     "08:00-18:30)\n"},
    {__LINE__, "[rule a]\nhours = 09:00-09:00\naction = record\n",
     "greffier.conf:2: hours: \"09:00-09:00\" is empty or the whole day (leave hours out for all "
     "day)\n"},
    {__LINE__, "[rule a]\ncolour = red\naction = record\n",
     "greffier.conf:2: unknown key \"colour\" in [rule a] (caller, callee, number, direction, "
     "address, days, hours, action, sample, retention, tags)\n"},
    {__LINE__, "[rule a]\naction = record\naction = skip\n",
     "greffier.conf:3: duplicate key \"action\" in [rule a]\n"},
    {__LINE__, "[rule a]\ncallee=1\naction = record\n[rule a]\ncallee=2\naction = skip\n",
     "greffier.conf:4: duplicate rule \"a\" (first on line 1)\n"},
    {__LINE__, "[rule a b]\naction = record\n",
     "greffier.conf:1: rule name \"a b\" may hold only letters, digits, _ - and .\n"},
    {__LINE__, "[rule a]\naction = keep\n",
     "greffier.conf:2: action: \"keep\" is not an action (record, skip, sample, on_demand)\n"
     "greffier.conf:1: rule a has no action (record, skip, sample, on_demand)\n"},
    {__LINE__, "[rule a]\naction = sample\nsample = 0\n",
     "greffier.conf:3: sample: \"0\" is not a number from 1 to 100\n"
     "greffier.conf:1: rule a: action = sample needs sample = PERCENT\n"},
    {__LINE__, "[rule a]\ndirection = sideways\naction = skip\n",
     "greffier.conf:2: direction: \"sideways\" is not a direction (inbound, outbound, internal, "
     "unknown)\n"},
    {__LINE__, "[rule a]\ncaller = 06abc\naction = skip\n",
     "greffier.conf:2: caller: \"06abc\" is not a number pattern (digits, a leading +, x, a "
     "final *)\n"},
    {__LINE__, "[rule a]\naddress = 192.0.2.300\naction = skip\n",
     "greffier.conf:2: address: \"192.0.2.300\" is not an IP address or network\n"},
    {__LINE__, "[rules]\ntimezone = Mars/Olympus_Mons\n",
     "greffier.conf:2: timezone: \"Mars/Olympus_Mons\" is not an installed time zone (such as "
     "Europe/Paris)\n"},
    {__LINE__, "[rules]\ndefault = sample\n",
     "greffier.conf:2: default: \"sample\" is not record or skip\n"},
    {__LINE__, "[rules]\nnever_record = 2xx?\n",
     "greffier.conf:2: never_record: \"2xx?\" is not a number pattern (digits, a leading +, x, a "
     "final *)\n"},
    {__LINE__, "[rules]\nkeep_code = *1x\n",
     "greffier.conf:2: keep_code: \"*1x\" is not a DTMF code (up to 8 of 0-9 * # A-D)\n"},
    {__LINE__, "[rules]\nmalicious_code = 123456789\n",
     "greffier.conf:2: malicious_code: \"123456789\" is not a DTMF code (up to 8 of 0-9 * # A-D)"
     "\n"},
    {__LINE__, "[rules]\nkeep_code = *1\ndiscard_code = \"#*1\"\n",
     "greffier.conf: [rules] discard_code \"#*1\" ends with keep_code \"*1\": dialling it would "
     "trigger both\n"},
    {__LINE__, "[rules]\nkeep_code = *5\nmalicious_code = *5\n",
     "greffier.conf: [rules] keep_code \"*5\" ends with malicious_code \"*5\": dialling it would "
     "trigger both\n"},
    /* Valid: codes switched off, or distinct. */
    {__LINE__, "[rules]\nkeep_code =\ndiscard_code = 0\nmalicious_code = \"#9\"\n", ""},
    /* Valid: a catch-all last is fine, days wrap, 24:00 ends a window. */
    {__LINE__,
     "[rule we]\ndays = fri-mon\nhours = 18:00-24:00\naction = skip\n[rule rest]\n"
     "action = sample\nsample = 5\n",
     ""},
};

static void test_errors(void)
{
    struct config *cfg = malloc(sizeof(*cfg));
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *t = &error_cases[i];
        int errors;
        char *msg = load(cfg, t->text, &errors);
        if (strcmp(msg, t->messages) != 0)
            fprintf(stderr, "case at line %d:\n%s", t->line, msg);
        CHECK_STR(msg, t->messages);
        CHECK(t->messages[0] ? errors > 0 : errors == 0);
        free(msg);
    }
    free(cfg);
}

/* Days across the week's end: fri-mon is Friday, Saturday, Sunday and Monday. */
static void test_days_wrap(void)
{
    struct config *cfg = malloc(sizeof(*cfg));
    int errors;
    char *msg = load(cfg, "[rules]\ntimezone = UTC\n[rule we]\ndays = fri-mon\naction = skip\n",
                     &errors);
    CHECK_INT(errors, 0);
    free(msg);
    CHECK_INT(cfg->rules[0].days, 0x71); /* mon, fri, sat, sun */
    static const struct {
        const char *at;
        bool skip;
    } days[] = {
        {"2024-01-15T12:00Z", true},  {"2024-01-16T12:00Z", false}, {"2024-01-18T12:00Z", false},
        {"2024-01-19T12:00Z", true},  {"2024-01-21T23:59Z", true},
    };
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        struct call c;
        struct rules_decision d;
        pkt_time_t at = 0;
        fill_call(&c, &decide_cases[0]);
        CHECK(time_parse_iso(days[i].at, &at));
        rules_decide(cfg, &c, at, &d);
        CHECK_INT(d.action == RULES_SKIP, days[i].skip);
    }
    free(cfg);
}

/* ---- on demand ---------------------------------------------------------------- */

static const char od_policy[] =
    "[numbers]\n"
    "internal = 2xxx\n"
    "[rules]\n"
    "timezone = UTC\n"
    "never_record = 2950\n"
    "default = skip\n"
    "[rule hotline]\n"
    "callee = 2100\n"
    "direction = inbound\n"
    "action = on_demand\n"
    "retention = 30\n"
    "tags = hotline\n"
    "[rule desk]\n"
    "number = 22xx\n"
    "action = on_demand\n"
    "[rule emergency]\n"
    "callee = 2112\n"
    "action = record\n"
    "retention = 3650\n"
    "[rule quality]\n"
    "direction = inbound\n"
    "action = sample\n"
    "sample = 50\n"
    "retention = 180\n";

struct od_case {
    int line;
    const char *caller, *callee, *call_id;
    enum call_direction dir;
    const char *origin;
    enum rules_action action;
    bool record;
    unsigned retention;
};

/* Which Call-IDs a 50 % sample keeps is fixed by the hash: checked below. */
static const struct od_case od_cases[] = {
    {__LINE__, "0611111111", "2100", "a@x", DIR_INBOUND, "hotline", RULES_ON_DEMAND, true, 30},
    {__LINE__, "2001", "2100", "b@x", DIR_INTERNAL, "[default]", RULES_SKIP, false, 0},
    {__LINE__, "2201", "0611111111", "c@x", DIR_OUTBOUND, "desk", RULES_ON_DEMAND, true, 0},
    {__LINE__, "0611111111", "2201", "d@x", DIR_INBOUND, "desk", RULES_ON_DEMAND, true, 0},
    {__LINE__, "0611111111", "2112", "e@x", DIR_INBOUND, "emergency", RULES_RECORD, true, 3650},
    /* never_record wins over on_demand (caller or callee) and over sampling. */
    {__LINE__, "2950", "2201", "f@x", DIR_INTERNAL, "[never_record]", RULES_SKIP, false, 0},
    {__LINE__, "0611111111", "2950", "g@x", DIR_INBOUND, "[never_record]", RULES_SKIP, false, 0},
    /* Sampled: the same Call-ID gets the same answer on every run. */
    {__LINE__, "0611111111", "2300", "sample-3@x", DIR_INBOUND, "quality", RULES_SAMPLE, true,
     180},
    {__LINE__, "0611111111", "2300", "sample-2@x", DIR_INBOUND, "quality", RULES_SAMPLE, false,
     180},
    {__LINE__, "2001", "0611111111", "h@x", DIR_OUTBOUND, "[default]", RULES_SKIP, false, 0},
};

static void test_on_demand_table(void)
{
    struct config *cfg = malloc(sizeof(*cfg));
    int errors;
    char *msg = load(cfg, od_policy, &errors);
    CHECK_INT(errors, 0);
    CHECK_STR(msg, "");
    free(msg);
    /* The table's two sampled Call-IDs fall on either side of 50 %. */
    CHECK(rules_sample_chosen("sample-3@x", 50));
    CHECK(!rules_sample_chosen("sample-2@x", 50));
    for (size_t i = 0; i < sizeof(od_cases) / sizeof(od_cases[0]); i++) {
        const struct od_case *t = &od_cases[i];
        struct call c;
        struct rules_decision d;
        memset(&c, 0, sizeof(c));
        c.call_id = (char *)t->call_id;
        c.caller.number = (char *)t->caller;
        c.callee.number = (char *)t->callee;
        c.direction = t->dir;
        rules_decide(cfg, &c, 1705309200000000, &d); /* 2024-01-15 09:00 UTC */
        const char *origin = rules_decision_origin(&d);
        if (strcmp(origin, t->origin) != 0 || d.action != t->action || d.record != t->record ||
            d.retention_days != t->retention)
            fprintf(stderr, "on demand case at line %d: got %s %s %d %u\n", t->line, origin,
                    rules_action_name(d.action), d.record, d.retention_days);
        CHECK_STR(origin, t->origin);
        CHECK_INT(d.action, t->action);
        CHECK_INT(d.record, t->record);
        CHECK_INT(d.retention_days, t->retention);
    }
    free(cfg);
}

/* The agent is the internal party; codes are matched on the end of the digits. */
static void test_dtmf_codes(void)
{
    CHECK_INT(rules_agent_channels(DIR_INBOUND), 2);
    CHECK_INT(rules_agent_channels(DIR_OUTBOUND), 1);
    CHECK_INT(rules_agent_channels(DIR_INTERNAL), 3);
    CHECK_INT(rules_agent_channels(DIR_UNKNOWN), 0);

    struct config *cfg = malloc(sizeof(*cfg));
    config_defaults(cfg);
    CHECK_STR(cfg->keep_code, "*1");
    CHECK_STR(cfg->discard_code, "*0");
    CHECK_STR(cfg->malicious_code, "*9");
    CHECK_INT(cfg->on_demand_grace_s, 120);
    static const struct {
        const char *digits;
        enum ondemand_action want;
    } codes[] = {
        {"*1", ONDEMAND_KEEP},   {"123*1", ONDEMAND_KEEP}, {"*0", ONDEMAND_DISCARD},
        {"*9", ONDEMAND_MALICIOUS}, {"1", ONDEMAND_NONE},  {"*", ONDEMAND_NONE},
        {"*1#", ONDEMAND_NONE},  {"", ONDEMAND_NONE},      {"**1", ONDEMAND_KEEP},
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        CHECK_INT(rules_dtmf_code(cfg, codes[i].digits), codes[i].want);
    cfg->keep_code[0] = '\0'; /* switched off: never matches */
    CHECK_INT(rules_dtmf_code(cfg, "*1"), ONDEMAND_NONE);
    CHECK_STR(ondemand_action_name(ONDEMAND_DISCARD), "discard");
    CHECK_INT(ondemand_action_parse("malicious"), ONDEMAND_MALICIOUS);
    CHECK_INT(ondemand_action_parse("delete"), ONDEMAND_NONE);
    free(cfg);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(conf_path, sizeof(conf_path), "%s/greffier.conf", tmpdir);
    test_decide();
    test_no_rules();
    test_sampling();
    test_errors();
    test_days_wrap();
    test_on_demand_table();
    test_dtmf_codes();
    unlink(conf_path);
    rmdir(tmpdir);
    return TEST_REPORT("test_rules");
}

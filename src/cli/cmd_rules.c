/*
 * cmd_rules.c - `greffier -c FILE rules explain --caller N --callee N [--direction D]
 * [--at ISO8601] [--call-id ID] [--address IP]`: which recording rule a call would meet
 * and what it decides, so an administrator can check a policy before it applies
 * (see docs/RULES.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "greffier/clock.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"

#define RULES_USAGE                                                                                \
    "-c FILE rules explain --caller N --callee N [--direction D] [--at ISO8601] "                 \
    "[--call-id ID] [--address IP]"

static void print_decision(const struct cli *cli, const struct rules_explanation *e)
{
    const struct config *cfg = &cli->cfg;
    const struct call *c = &e->call;
    const struct rules_decision d = e->decision;
    const bool call_id_given = e->call_id_given;
    char when[TIME_ISO_SIZE];

    printf("call:      %s -> %s, %s, %s %s (%s)\n", c->caller.number, c->callee.number,
           call_direction_name(c->direction), e->local,
           cfg->rules_timezone[0] ? cfg->rules_timezone : "local time",
           time_format_iso_s(e->at, when, sizeof(when)));

    const struct config_rule *r = e->rule;
    switch (d.source) {
    case RULES_FROM_NEVER_RECORD:
        printf("rule:      never-record list ([rules] never_record)\n");
        break;
    case RULES_FROM_DEFAULT:
        printf("rule:      default (no rule matched; [rules] default = %s)\n",
               rules_action_name(d.action));
        break;
    case RULES_FROM_RULE:
        printf("rule:      %s (%s:%u)\n", d.rule_name, cfg->path, r ? r->line : 0);
        break;
    }

    switch (d.action) {
    case RULES_RECORD:
        printf("decision:  record\n");
        break;
    case RULES_SKIP:
        printf("decision:  skip%s\n", d.never_record_hit ? " (never recorded)" : "");
        break;
    case RULES_SAMPLE:
        if (call_id_given)
            printf("decision:  sample %u%% -> this call: %s\n", d.sample_percent,
                   d.record ? "recorded" : "not recorded");
        else
            printf("decision:  sample %u%% (chosen per call from its Call-ID; give --call-id "
                   "to see one call's outcome)\n",
                   d.sample_percent);
        break;
    case RULES_ON_DEMAND:
        printf("decision:  on demand (recorded, then kept only if the agent dials %s, or "
               "someone keeps it, within %u s of its end)\n",
               cfg->keep_code[0] ? cfg->keep_code : "(no keep code)", cfg->on_demand_grace_s);
        break;
    }
    if (d.record || (d.action == RULES_SAMPLE && !call_id_given)) {
        if (d.retention_days)
            printf("retention: %u days\n", d.retention_days);
        else
            printf("retention: general\n");
    }
    printf("tags:      ");
    if (!d.ntags)
        printf("none");
    for (size_t i = 0; i < d.ntags; i++)
        printf("%s%s", i ? ", " : "", d.tags[i]);
    printf("\n");
}

int cmd_rules(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"caller", required_argument, NULL, 'f'},  {"callee", required_argument, NULL, 't'},
        {"direction", required_argument, NULL, 'r'}, {"at", required_argument, NULL, 'a'},
        {"call-id", required_argument, NULL, 'i'}, {"address", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *caller = NULL, *callee = NULL, *call_id = NULL;
    const char *direction = NULL, *at_text = NULL, *address = NULL;
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, RULES_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'f': caller = optarg; break;
        case 't': callee = optarg; break;
        case 'r': direction = optarg; break;
        case 'a': at_text = optarg; break;
        case 'i': call_id = optarg; break;
        case 'p': address = optarg; break;
        }
    }
    if (optind + 1 != argc || strcmp(argv[optind], "explain") != 0 || !caller || !callee) {
        cli_usage_error("usage: greffier " RULES_USAGE);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;

    const struct rules_explain_input in = {caller, callee, direction, at_text, call_id, address};
    struct rules_explanation e;
    const char *why = NULL;
    const char *bad = rules_explain_call(&cli->cfg, &in, clock_now(), &e, &why);
    if (bad) {
        cli_usage_error("rules explain: --%s: %s", strcmp(bad, "call_id") == 0 ? "call-id" : bad,
                        why);
        return EXIT_USAGE;
    }
    print_decision(cli, &e);
    return EXIT_OK;
}

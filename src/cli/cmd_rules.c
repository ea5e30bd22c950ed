/*
 * cmd_rules.c - `greffier -c FILE rules explain --caller N --callee N [--direction D]
 * [--at ISO8601] [--call-id ID] [--address IP]`: which recording rule a call would meet
 * and what it decides, so an administrator can check a policy before it applies
 * (see docs/RULES.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "greffier/dialog.h"
#include "greffier/number.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"

#define RULES_USAGE                                                                                \
    "-c FILE rules explain --caller N --callee N [--direction D] [--at ISO8601] "                 \
    "[--call-id ID] [--address IP]"

static const char *const weekdays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};

/* An instant without a zone ("2024-01-15T09:30") is local time in the rules time zone,
 * as the rules' hours are; with one ("Z", "+01:00") it is taken as written. */
static bool parse_at(const char *text, pkt_time_t *out)
{
    pkt_time_t utc;
    if (!time_parse_iso(text, &utc))
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

static bool parse_direction(const char *s, enum call_direction *out)
{
    static const struct {
        const char *name;
        enum call_direction d;
    } names[] = {{"inbound", DIR_INBOUND},
                 {"outbound", DIR_OUTBOUND},
                 {"internal", DIR_INTERNAL},
                 {"unknown", DIR_UNKNOWN}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].d;
            return true;
        }
    }
    return false;
}

static const struct config_rule *find_rule(const struct config *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->nrules; i++)
        if (strcmp(cfg->rules[i].name, name) == 0)
            return &cfg->rules[i];
    return NULL;
}

static void print_decision(const struct cli *cli, const struct call *c, pkt_time_t at,
                           bool call_id_given)
{
    const struct config *cfg = &cli->cfg;
    struct rules_decision d;
    char when[TIME_ISO_SIZE];
    rules_decide(cfg, c, at, &d);

    time_t secs = (time_t)(at / 1000000);
    struct tm tm;
    char local[64] = "?";
    if (localtime_r(&secs, &tm))
        snprintf(local, sizeof(local), "%s %04d-%02d-%02d %02d:%02d", weekdays[tm.tm_wday],
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    printf("call:      %s -> %s, %s, %s %s (%s)\n", c->caller.number, c->callee.number,
           call_direction_name(c->direction), local,
           cfg->rules_timezone[0] ? cfg->rules_timezone : "local time",
           time_format_iso_s(at, when, sizeof(when)));

    const struct config_rule *r = find_rule(cfg, d.rule_name);
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
    if (strlen(caller) > 64 || strlen(callee) > 64) {
        cli_usage_error("rules explain: number too long");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;

    struct call c;
    char caller_norm[48], callee_norm[48];
    memset(&c, 0, sizeof(c));
    c.call_id = (char *)(call_id ? call_id : "");
    c.caller.number = (char *)caller;
    c.callee.number = (char *)callee;
    if (number_normalise(&cli->cfg.plan, caller, caller_norm, sizeof(caller_norm)))
        c.caller.number_norm = caller_norm;
    if (number_normalise(&cli->cfg.plan, callee, callee_norm, sizeof(callee_norm)))
        c.callee.number_norm = callee_norm;
    if (address) {
        struct cidr net;
        if (!cidr_parse(address, &net) || strchr(address, '/')) {
            cli_usage_error("rules explain: --address \"%s\" is not an IP address", address);
            return EXIT_USAGE;
        }
        c.caller_addr = net.addr;
    }
    if (direction) {
        if (!parse_direction(direction, &c.direction)) {
            cli_usage_error("rules explain: --direction must be inbound, outbound, internal or "
                            "unknown");
            return EXIT_USAGE;
        }
    } else {
        c.direction = call_classify_direction(&cli->cfg, &c);
    }
    pkt_time_t at = (pkt_time_t)time(NULL) * 1000000;
    if (at_text && !parse_at(at_text, &at)) {
        cli_usage_error("rules explain: --at \"%s\" is not an ISO 8601 time "
                        "(2024-01-15T09:30, local time unless a zone is given)",
                        at_text);
        return EXIT_USAGE;
    }
    print_decision(cli, &c, at, call_id != NULL);
    return EXIT_OK;
}

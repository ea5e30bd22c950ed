/*
 * cmd_ondemand.c - `greffier keep ID`, `greffier discard ID`, `greffier malicious ID`:
 * the decision on an on_demand call from the command line (admins, tests), audited as
 * "cli:UID" (docs/RULES.md "On demand").
 *
 * A call in progress gets a request that the capture process applies within a second;
 * a call that has ended is settled here and now (a discard destroys its recording).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/audit.h"
#include "greffier/index.h"
#include "greffier/ondemand.h"

static int run(struct cli *cli, int argc, char **argv, const char *action, const char *usage)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, usage, &status)) != -1)
        if (ch == CLI_OPT_STOP)
            return status;
    if (optind + 1 != argc) {
        cli_usage_error(optind >= argc ? "%s: no call ID given" : "%s: one call ID only", action);
        return EXIT_USAGE;
    }
    int64_t id;
    if (!cli_parse_call_id(argv[optind], &id)) {
        cli_usage_error("%s: \"%s\" is not a call ID (the id of `greffier calls`)", action,
                        argv[optind]);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    char actor[32], target[24], state[32] = "", err[160] = "";
    snprintf(actor, sizeof(actor), "cli:%u", (unsigned)getuid());
    snprintf(target, sizeof(target), "%lld", (long long)id);
    char verb[24];
    snprintf(verb, sizeof(verb), "call.%s", action);
    audit_append(ix, actor, verb, target, "{\"via\":\"cli\"}");
    int r = ondemand_request(ix, cli->cfg.data_dir, id, action, actor, state, sizeof(state), err,
                             sizeof(err));
    index_close(ix);
    switch (r) {
    case 0:
    case 1:
        printf("call %lld: %s\n", (long long)id, state);
        return EXIT_OK;
    case -2:
        fprintf(stderr, "greffier: %s: no call with id %lld\n", action, (long long)id);
        return EXIT_FAIL;
    case -3:
        fprintf(stderr, "greffier: %s: call %lld: %s\n", action, (long long)id, err);
        return EXIT_FAIL;
    default:
        fprintf(stderr, "greffier: %s: call %lld: %s\n", action, (long long)id,
                err[0] ? err : "index error (see the log)");
        return EXIT_FAIL;
    }
}

int cmd_keep(struct cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, "keep", "[-d DIR] keep ID");
}

int cmd_discard(struct cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, "discard", "[-d DIR] discard ID");
}

int cmd_malicious(struct cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, "malicious", "[-d DIR] malicious ID");
}

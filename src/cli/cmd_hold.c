/*
 * cmd_hold.c - legal holds from the command line (retention.h):
 *
 *   hold ID [--reason TEXT]   the call is kept whatever its retention, until lifted
 *   hold --lift ID            its retention applies again (it may be purged at once)
 *   hold --list               the calls on hold (JSON)
 *
 * Placing and lifting are audited as "cli:UID".
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/retention.h"

#define HOLD_USAGE "[-d DIR] hold ID [--reason TEXT] | hold --lift ID | hold --list"

int cmd_hold(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"lift", no_argument, NULL, 'L'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *reason = NULL;
    bool lift = false, list = false;
    int ch, status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, HOLD_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'r':
            reason = optarg;
            break;
        case 'L':
            lift = true;
            break;
        case 'l':
            list = true;
            break;
        }
    }
    int64_t id = 0;
    bool ok =
        list ? (optind == argc && !lift && !reason)
             : (optind + 1 == argc && cli_parse_call_id(argv[optind], &id) && !(lift && reason));
    if (!ok) {
        cli_usage_error("usage: greffier %s", HOLD_USAGE);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    char user[32];
    snprintf(user, sizeof(user), "cli:%u", (unsigned)getuid());
    if (list) {
        struct json_writer w;
        json_init(&w, stdout, true);
        rc = retention_holds_json(ix, &w) < 0 || json_finish(&w) != 0 ? EXIT_FAIL : EXIT_OK;
    } else if (lift) {
        int r = retention_hold_lift(ix, id, user);
        if (r == 1)
            printf("call %lld: legal hold lifted\n", (long long)id);
        else if (r == 0)
            fprintf(stderr, "greffier: hold: call %lld is not on legal hold\n", (long long)id);
        rc = r == 1 ? EXIT_OK : EXIT_FAIL;
    } else {
        int r = retention_hold(ix, id, user, reason);
        if (r == 1)
            printf("call %lld: on legal hold\n", (long long)id);
        else if (r == 0)
            printf("call %lld: already on legal hold\n", (long long)id);
        else if (r == -2)
            fprintf(stderr, "greffier: hold: no call %lld\n", (long long)id);
        rc = r >= 0 ? EXIT_OK : EXIT_FAIL;
    }
    index_close(ix);
    return rc;
}

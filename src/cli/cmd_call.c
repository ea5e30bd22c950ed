/*
 * cmd_call.c - `greffier -d DIR call ID [--json]`: everything the index holds about one
 * call (index_show_call), always as JSON; and the parsing of a call ID shared with
 * `greffier audio`.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/retention.h"

#define CALL_USAGE "[-d DIR] call ID [--json]"

bool cli_parse_call_id(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!s || !*s)
        return false;
    /* Digits only: strtoll would take blanks, a sign and "0x"-less junk after them. */
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v <= 0)
        return false;
    *out = v;
    return true;
}

int cmd_call(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, CALL_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'j':
            break; /* the only output there is */
        }
    }
    if (optind + 1 != argc) {
        cli_usage_error(optind >= argc ? "call: no call ID given" : "call: one call ID only");
        return EXIT_USAGE;
    }
    int64_t id;
    if (!cli_parse_call_id(argv[optind], &id)) {
        cli_usage_error("call: \"%s\" is not a call ID (the id of `greffier calls`)", argv[optind]);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    long found = index_show_call_ext(ix, id, stdout, retention_call_json, &cli->cfg);
    index_close(ix);
    if (found == 0)
        fprintf(stderr, "greffier: call: no call with id %lld\n", (long long)id);
    return found == 1 ? EXIT_OK : EXIT_FAIL;
}

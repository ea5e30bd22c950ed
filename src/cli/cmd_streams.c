/*
 * cmd_streams.c - `greffier -d DIR streams --unmatched [--json]`: the RTP streams that
 * matched no call (index_list_unmatched_streams), as a JSON array, oldest first.
 * A call's own streams are shown by `greffier call ID`.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "greffier/index.h"

#define STREAMS_USAGE "[-d DIR] streams --unmatched [--json]"

int cmd_streams(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"unmatched", no_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, STREAMS_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'u': /* the only listing so far; the option keeps room for others */
        case 'j':
            break; /* always JSON */
        }
    }
    if (optind < argc) {
        cli_usage_error("streams: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    long n = index_list_unmatched_streams(ix, stdout);
    index_close(ix);
    return n < 0 ? EXIT_FAIL : EXIT_OK;
}

/*
 * options.c - the options every subcommand shares.  -c FILE and -d DIR are accepted
 * after the subcommand too (`greffier init -d DIR`), and --help / unknown options get
 * the same answer everywhere; each subcommand only handles its own options.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_getopt(struct cli *cli, int argc, char **argv, const char *own,
               const struct option *opts, const char *usage, int *status)
{
    /* A leading '+' (stop at the first operand: `config check`) must stay in front. */
    char shortopts[64];
    bool stop_at_operand = own && own[0] == '+';
    snprintf(shortopts, sizeof(shortopts), "%sc:d:%s", stop_at_operand ? "+" : "",
             own ? own + stop_at_operand : "");
    for (;;) {
        int ch = getopt_long(argc, argv, shortopts, opts, NULL);
        switch (ch) {
        case 'c':
            cli->config_path = optarg;
            continue;
        case 'd':
            cli->data_dir = optarg;
            continue;
        case 'h':
            printf("usage: greffier %s\n", usage);
            *status = EXIT_OK;
            return CLI_OPT_STOP;
        case '?':
        case ':':
            fprintf(stderr, "usage: greffier %s\n", usage);
            *status = EXIT_USAGE;
            return CLI_OPT_STOP;
        default:
            return ch; /* the subcommand's own option, or -1 at the first operand */
        }
    }
}

int cli_parse_common(struct cli *cli, int argc, char **argv, const char *usage)
{
    static const struct option help[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int status, ch = cli_getopt(cli, argc, argv, "+", help, usage, &status);
    if (ch == CLI_OPT_STOP)
        return status == EXIT_OK ? -2 : -1;
    return optind;
}

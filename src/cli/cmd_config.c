/*
 * cmd_config.c - `greffier -c FILE config check`: every error as FILE:LINE: message,
 * exit 2 when there is any (the daemon refuses such a file too).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_config(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, "-c FILE config check");
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    if (first >= argc || strcmp(argv[first], "check") != 0 || first + 1 != argc) {
        cli_usage_error("usage: greffier -c FILE config check");
        return EXIT_USAGE;
    }
    const char *path = cli->config_path ? cli->config_path : DEFAULT_CONFIG;
    struct config cfg;
    config_defaults(&cfg);
    int errors = config_load(&cfg, path, stderr);
    if (errors) {
        fprintf(stderr, "greffier: %s: %d error%s\n", path, errors, errors == 1 ? "" : "s");
        return EXIT_USAGE;
    }
    printf("%s: configuration is valid\n", path);
    return EXIT_OK;
}

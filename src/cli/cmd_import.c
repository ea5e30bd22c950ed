/*
 * cmd_import.c - `greffier -d DIR import FILE...`: the daemon's pipeline fed from
 * capture files, then one summary line with every counter and every drop by reason.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/pipeline.h"
#include "greffier/retention.h"
#include "greffier/vault.h"

struct index *cli_open_index(struct cli *cli)
{
    char err[512];
    struct index *ix = index_open(cli->cfg.data_dir, false, err, sizeof(err));
    if (!ix)
        fprintf(stderr, "greffier: %s: %s (create it with: greffier init -d %s)\n",
                cli->cfg.data_dir, err, cli->cfg.data_dir);
    return ix;
}

void cli_recover_recordings(struct cli *cli, struct index *ix)
{
    /* The live rows first: whether a file still has its .part name tells a truncated
     * recording from one whose writer finished it (index_recover_live). */
    long rows = index_recover_live(ix, cli->cfg.data_dir);
    if (rows > 0)
        log_msg(LOG_WARNING, "%ld call(s) cut by a crash indexed with their recording", rows);
    int n = vault_recover(cli->cfg.data_dir);
    if (n > 0)
        log_msg(LOG_WARNING, "%d recording(s) interrupted by a crash closed as truncated", n);
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, "[-d DIR] import FILE...");
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    if (first >= argc) {
        cli_usage_error("import: no capture file given");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    cli_recover_recordings(cli, ix);

    struct counters counters = {0};
    struct pipeline *p = pipeline_new(&cli->cfg, ix, &counters);
    if (!p) {
        index_close(ix);
        cli_usage_error("import: out of memory");
        return EXIT_FAIL;
    }
    /* The capture daemon checks each minute; an import, once before it writes. */
    pipeline_set_disk_full(p, retention_disk_check(ix, &cli->cfg, false) == DISK_FULL);
    int status = EXIT_OK;
    for (int i = first; i < argc; i++) {
        char err[1024];
        if (capture_read_file(p, argv[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "greffier: %s\n", err);
            status = EXIT_FAIL;
        } else if (err[0]) {
            fprintf(stderr, "greffier: warning: %s\n", err);
        }
    }
    pipeline_finish(p, false);
    index_close(ix);
    counters_print_summary(&counters, stdout);
    return status;
}

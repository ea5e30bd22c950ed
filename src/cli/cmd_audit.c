/*
 * cmd_audit.c - `greffier -d DIR audit verify`: walks the audit chain (audit.h) and
 * names the first broken link (exit 1); `audit list [--limit N]`: the rows as JSON,
 * newest first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "greffier/audit.h"
#include "greffier/index.h"

#define AUDIT_USAGE "[-d DIR] audit verify | audit list [N]"

int cmd_audit(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, AUDIT_USAGE);
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    const char *sub = first < argc ? argv[first] : "";
    bool verify = strcmp(sub, "verify") == 0 && first + 1 == argc;
    bool list = strcmp(sub, "list") == 0 && first + 2 >= argc;
    long limit = 0;
    if (list && first + 1 < argc) {
        char *end;
        errno = 0;
        limit = strtol(argv[first + 1], &end, 10);
        if (errno || end == argv[first + 1] || *end || limit <= 0)
            list = false;
    }
    if (!verify && !list) {
        cli_usage_error("usage: greffier %s", AUDIT_USAGE);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    if (list) {
        long n = audit_list_json(ix, limit, 0, stdout);
        index_close(ix);
        return n < 0 ? EXIT_FAIL : EXIT_OK;
    }
    int64_t rows, bad;
    char why[256] = "";
    int r = audit_verify(ix, &rows, &bad, why, sizeof(why));
    index_close(ix);
    if (r == 0) {
        printf("audit chain intact: %lld rows\n", (long long)rows);
        return EXIT_OK;
    }
    if (r == 1)
        printf("audit chain broken at row %lld: %s (%lld rows before it are intact)\n",
               (long long)bad, why, (long long)rows);
    else
        fprintf(stderr, "greffier: audit verify: %s\n", why);
    return EXIT_FAIL;
}

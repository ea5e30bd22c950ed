/*
 * cmd_calls.c - `greffier -d DIR calls [--json] [--from ISO8601] [--to ISO8601]
 * [--number DIGITS] [--status S] [--limit N] [--q TEXT] [--direction D] [--min-duration S]
 * [--tag TAG]`: the index, newest first.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/number.h"
#include "greffier/timefmt.h"

#define CALLS_USAGE                                                                                \
    "[-d DIR] calls [--json] [--from ISO8601] [--to ISO8601] [--number DIGITS] [--status S] "      \
    "[--limit N] [--q TEXT] [--direction D] [--min-duration SECONDS] [--tag TAG]"

/* A number to search: digits, with an optional leading '+' and visual separators. */
static bool valid_search_number(const char *s)
{
    size_t digits = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (!(*p == '+' && p == s) && !strchr(" .-()", *p))
            return false;
    }
    return digits > 0 && digits <= 32;
}

int cmd_calls(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},    {"number", required_argument, NULL, 'n'},
        {"status", required_argument, NULL, 's'}, {"limit", required_argument, NULL, 'l'},
        {"q", required_argument, NULL, 'q'},     {"direction", required_argument, NULL, 'D'},
        {"min-duration", required_argument, NULL, 'm'}, {"tag", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    struct call_filter f = {0};
    bool json = false;
    char digits[40] = "", norm[40], fts[INDEX_FTS_QUERY_SIZE];
    const char *why;
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, CALLS_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'j': json = true; break;
        case 'f':
        case 't': {
            pkt_time_t t;
            if (!time_parse_iso(optarg, &t)) {
                cli_usage_error("calls: --%s: \"%s\" is not an ISO 8601 date or time",
                                ch == 'f' ? "from" : "to", optarg);
                return EXIT_USAGE;
            }
            if (ch == 'f')
                f.has_from = true, f.from = t;
            else
                f.has_to = true, f.to = t;
            break;
        }
        case 'n':
            if (!valid_search_number(optarg)) {
                cli_usage_error("calls: --number: \"%s\" is not a telephone number (digits)",
                                optarg);
                return EXIT_USAGE;
            }
            /* Only the digits: "06 12 34 56 78" finds the same calls as "0612345678". */
            for (size_t i = 0, n = 0; optarg[i] && n + 1 < sizeof(digits); i++)
                if (isdigit((unsigned char)optarg[i]) || optarg[i] == '+')
                    digits[n++] = optarg[i], digits[n] = '\0';
            break;
        case 's':
            if (!call_status_parse(optarg, &f.status)) {
                cli_usage_error("calls: --status: \"%s\" is not one of answered, cancelled, "
                                "busy, rejected, failed, timeout, in_progress", optarg);
                return EXIT_USAGE;
            }
            f.has_status = true;
            break;
        case 'q':
            if (!index_fts_query(optarg, fts, sizeof(fts), &why)) {
                cli_usage_error("calls: --q: %s", why);
                return EXIT_USAGE;
            }
            f.fts = fts;
            break;
        case 'D':
            if (!call_direction_parse(optarg, &f.direction)) {
                cli_usage_error("calls: --direction: \"%s\" is not one of inbound, outbound, "
                                "internal, unknown", optarg);
                return EXIT_USAGE;
            }
            f.has_direction = true;
            break;
        case 'm': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v <= 0 || v > 86400 * 7) {
                cli_usage_error("calls: --min-duration: \"%s\" is not a number of seconds "
                                "(1 to 604800)", optarg);
                return EXIT_USAGE;
            }
            f.min_duration_us = (int64_t)v * 1000000;
            break;
        }
        case 'T':
            if (!index_tag_valid(optarg)) {
                cli_usage_error("calls: --tag: \"%s\" is not a tag (letters, digits, _ - ., at "
                                "most 31)", optarg);
                return EXIT_USAGE;
            }
            f.tag = optarg;
            break;
        case 'l': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v <= 0 || v > 100000000) {
                cli_usage_error("calls: --limit: \"%s\" is not a positive number", optarg);
                return EXIT_USAGE;
            }
            f.limit = v;
            break;
        }
        }
    }
    if (optind < argc) {
        cli_usage_error("calls: unexpected argument \"%s\"", argv[optind]);
        return EXIT_USAGE;
    }
    if (f.has_from && f.has_to && f.to <= f.from) {
        cli_usage_error("calls: --to must be later than --from");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    if (digits[0]) {
        f.number = digits[0] == '+' ? digits + 1 : digits;
        if (number_normalise(&cli->cfg.plan, digits, norm, sizeof(norm)))
            f.number_norm = norm;
    }
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    long n = index_list_calls(ix, &f, json, stdout);
    index_close(ix);
    return n < 0 ? EXIT_FAIL : EXIT_OK;
}

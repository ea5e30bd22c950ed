/*
 * cmd_export.c - evidence bundles (docs/EVIDENCE.md, include/greffier/export.h).
 *
 *   greffier -d DIR export ID... --case REF --out PATH [--no-hold]
 *       the bundle as a new folder, or a zip when PATH ends in .zip; the calls are put
 *       on legal hold unless --no-hold; audited as user "cli:UID"
 *   greffier verify-bundle PATH [--pubkey FILE] [--tsa-ca FILE]
 *       checks a bundle without the index or any private key; exit 1 naming each file
 *       that fails
 *   greffier -d DIR pubkey
 *       the installation's signing public key (PEM) and its SHA-256 fingerprint, to be
 *       published or handed to the court before any bundle is
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/export.h"
#include "greffier/index.h"

#define EXPORT_USAGE "[-d DIR] export ID... --case REF --out PATH[.zip] [--no-hold]"
#define VERIFY_BUNDLE_USAGE "verify-bundle PATH [--pubkey FILE] [--tsa-ca FILE]"
#define PUBKEY_USAGE "[-d DIR] pubkey"

int cmd_export(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"case", required_argument, NULL, 'C'},
        {"out", required_argument, NULL, 'o'},
        {"no-hold", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *case_ref = NULL, *out = NULL;
    bool hold = true;
    int ch, status;
    while ((ch = cli_getopt(cli, argc, argv, "o:", opts, EXPORT_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'C':
            case_ref = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'n':
            hold = false;
            break;
        }
    }
    if (optind >= argc || !case_ref || !out) {
        cli_usage_error("export: usage: greffier %s", EXPORT_USAGE);
        return EXIT_USAGE;
    }
    size_t nids = (size_t)(argc - optind);
    if (nids > EXPORT_MAX_CALLS) {
        cli_usage_error("export: at most %d calls per bundle", EXPORT_MAX_CALLS);
        return EXIT_USAGE;
    }
    int64_t ids[EXPORT_MAX_CALLS];
    for (size_t i = 0; i < nids; i++)
        if (!cli_parse_call_id(argv[optind + (int)i], &ids[i])) {
            cli_usage_error("export: \"%s\" is not a call ID", argv[optind + (int)i]);
            return EXIT_USAGE;
        }
    char err[1024], user[32];
    if (bundle_check_output(out, err, sizeof(err)) != 0) {
        fprintf(stderr, "greffier: export: %s\n", err);
        return EXIT_FAIL;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    struct bundle *b = bundle_open_path(out, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "greffier: export: %s\n", err);
        index_close(ix);
        return EXIT_FAIL;
    }
    snprintf(user, sizeof(user), "cli:%u", (unsigned)getuid());
    struct export_request rq = {cli->cfg.data_dir, ix, ids, nids, case_ref, user, hold};
    enum export_status st = export_build(&rq, b, err, sizeof(err));
    index_close(ix);
    if (st != EXPORT_OK) {
        bundle_close(b, false);
        fprintf(stderr, "greffier: export: %s\n", err);
        return st == EXPORT_BAD_CASE ? EXIT_USAGE : EXIT_FAIL;
    }
    printf("%s: evidence bundle of %zu call(s), case \"%s\", manifest SHA-256 %s%s\n", out, nids,
           case_ref, bundle_manifest_sha256(b), hold ? "; calls on legal hold" : "");
    bundle_close(b, true);
    return EXIT_OK;
}

int cmd_verify_bundle(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"pubkey", required_argument, NULL, 'p'},
        {"tsa-ca", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct verify_options opt = {NULL, NULL};
    int ch, status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, VERIFY_BUNDLE_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'p':
            opt.expected_pubkey = optarg;
            break;
        case 't':
            opt.tsa_ca = optarg;
            break;
        }
    }
    if (optind + 1 != argc) {
        cli_usage_error("verify-bundle: usage: greffier %s", VERIFY_BUNDLE_USAGE);
        return EXIT_USAGE;
    }
    char err[1024] = "";
    int r = bundle_verify(argv[optind], &opt, stdout, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "greffier: verify-bundle: %s\n", err);
        return EXIT_FAIL;
    }
    return r == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_pubkey(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, PUBKEY_USAGE);
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    if (first < argc) {
        cli_usage_error("pubkey: no operand expected");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    char *pem = NULL, fpr[65], err[1024];
    if (export_signing_pubkey(cli->cfg.data_dir, &pem, fpr, err, sizeof(err)) != 0) {
        fprintf(stderr, "greffier: pubkey: %s\n", err);
        return EXIT_FAIL;
    }
    printf("%sSHA-256 fingerprint: %s\n", pem, fpr);
    free(pem);
    return EXIT_OK;
}

/*
 * cmd_keys.c - recording key rotation.
 *
 *   greffier -d DIR keygen               a new recording key pair, the next id, mode 0600
 *   greffier -d DIR keygen --signing     the Ed25519 bundle signing key, for a data
 *                                        directory made before it existed (once)
 *   greffier -d DIR rekey [--retire ID]  every recording's data key wrapped for the
 *                                        newest pair; then, with --retire, the old
 *                                        private key deleted
 *
 * Re-keying rewrites only each file's key block (docs/FORMAT.md "Re-keying"): the audio
 * is not re-encrypted.  Each file is checked whole first (hash and every chunk) so that
 * an altered recording is never re-sealed into one the index would then vouch for.
 * The capture daemon picks up a new key at its next start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/keys.h"
#include "greffier/recording_source.h"
#include "greffier/vault.h"

int cmd_keygen(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"signing", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char keys[4200], err[1024];
    bool signing = false;
    int ch, status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, "[-d DIR] keygen [--signing]", &status)) !=
           -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        if (ch == 's')
            signing = true;
    }
    if (optind < argc) {
        cli_usage_error("keygen: no operand expected");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    cli_data_path(cli, "keys", keys, sizeof(keys));
    if (access(keys, W_OK | X_OK) != 0) {
        fprintf(stderr, "greffier: keygen: %s: %s (create it with: greffier init)\n", keys,
                strerror(errno));
        return EXIT_FAIL;
    }
    /* The signing key is the installation's identity in court: it is created once (at
     * init, or here for a data directory older than it) and never replaced. */
    if (signing) {
        if (keys_generate_signing_pair(keys, err, sizeof(err)) != 0) {
            fprintf(stderr, "greffier: keygen --signing: %s%s\n", err,
                    errno == EEXIST ? " (the signing key exists and is never replaced)" : "");
            return EXIT_FAIL;
        }
        printf("%s/signing.key and .pub created: `greffier pubkey` prints the public key and "
               "its fingerprint, to publish before the first export\n", keys);
        return EXIT_OK;
    }
    unsigned id = vault_newest_key_id(keys) + 1;
    if (keys_generate_recording_pair(keys, id, err, sizeof(err)) != 0) {
        fprintf(stderr, "greffier: keygen: %s\n", err);
        return EXIT_FAIL;
    }
    printf("%s/recording-%04u.key and .pub created: new recordings are sealed for key %u "
           "from the capture daemon's next start; `greffier rekey` moves the old ones to it\n",
           keys, id, id);
    return EXIT_OK;
}

static int rekey_one(struct cli *cli, struct index *ix, int64_t id, const char *keys,
                     const struct vault_pubkey *pk)
{
    struct recording_info info;
    char err[1024], path[4400], sha[65];
    uint64_t bytes = 0;
    bool keyed = false;
    if (index_get_recording(ix, id, &info) != 1) {
        printf("%lld skipped: no recording row\n", (long long)id);
        return -1;
    }
    enum recording_state st = recording_check(cli->cfg.data_dir, &info, &keyed, err, sizeof(err));
    if ((st != RECORDING_OK && st != RECORDING_TRUNCATED) || !keyed) {
        printf("%lld skipped %s: %s\n", (long long)id, info.path,
               err[0] ? err : "cannot be checked");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", cli->cfg.data_dir, info.path);
    if (vault_rekey_file(path, keys, pk, sha, &bytes, err, sizeof(err)) != VAULT_OK) {
        printf("%lld failed %s: %s\n", (long long)id, info.path, err);
        return -1;
    }
    if (!sha[0]) {
        printf("%lld unchanged %s (already key %u)\n", (long long)id, info.path,
               vault_pubkey_id(pk));
        return 0;
    }
    if (index_update_recording_file(ix, id, sha, bytes) != 0) {
        printf("%lld failed %s: re-keyed, but the index was not updated (verify will call it "
               "tampered: its sha256 is now %s)\n", (long long)id, info.path, sha);
        return -1;
    }
    printf("%lld rekeyed %s (key %u)\n", (long long)id, info.path, vault_pubkey_id(pk));
    return 0;
}

int cmd_rekey(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"retire", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *retire = NULL;
    int ch;
    int status;
    static const char usage[] = "[-d DIR] rekey [--retire OLD_ID]";
    while ((ch = cli_getopt(cli, argc, argv, "", opts, usage, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'r': retire = optarg; break;
        }
    }
    int64_t old_id = 0;
    if (optind < argc || (retire && (!cli_parse_call_id(retire, &old_id) || old_id > 9999999))) {
        cli_usage_error("rekey: usage: rekey [--retire OLD_ID] (OLD_ID: the NNNN of "
                        "keys/recording-NNNN.key)");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    char keys[4200], err[1024];
    cli_data_path(cli, "keys", keys, sizeof(keys));
    struct vault_pubkey *pk = vault_load_newest_pubkey(cli->cfg.data_dir, err, sizeof(err));
    if (!pk) {
        fprintf(stderr, "greffier: rekey: %s\n", err);
        return EXIT_FAIL;
    }
    if (retire && (unsigned)old_id == vault_pubkey_id(pk)) {
        cli_usage_error("rekey: key %lld is the newest: it cannot be retired", (long long)old_id);
        vault_pubkey_free(pk);
        return EXIT_USAGE;
    }
    struct index *ix = cli_open_index(cli);
    int64_t *ids = NULL;
    long n = ix ? index_recording_ids(ix, &ids) : -1, bad = 0;
    for (long i = 0; i < n; i++)
        bad += rekey_one(cli, ix, ids[i], keys, pk) != 0;
    free(ids);
    if (ix)
        index_close(ix);
    vault_pubkey_free(pk);
    if (n < 0)
        return EXIT_FAIL;
    if (bad) {
        fprintf(stderr, "greffier: rekey: %ld of %ld recordings not re-keyed%s\n", bad, n,
                retire ? "; no key retired" : "");
        return EXIT_FAIL;
    }
    if (retire) {
        char path[4300];
        snprintf(path, sizeof(path), "%s/recording-%04u.key", keys, (unsigned)old_id);
        if (unlink(path) != 0) {
            fprintf(stderr, "greffier: rekey: %s: %s\n", path, strerror(errno));
            return EXIT_FAIL;
        }
        printf("%s deleted\n", path);
    }
    return EXIT_OK;
}

/*
 * cli.h - private to the command line: the parsed global options and the
 * subcommands' entry points.  Exit status: 0 done, 1 failed, 2 usage or config error.
 */
#ifndef GREFFIER_CLI_H
#define GREFFIER_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "greffier/config.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define DEFAULT_CONFIG "/etc/greffier/greffier.conf"

struct cli {
    const char *config_path; /* NULL: the default, read only when it exists */
    const char *data_dir;    /* -d, overriding the config */
    struct config cfg;
};

/* Applies a subcommand's own -c/-d (they are accepted after the subcommand too) and
 * loads the configuration.  Returns EXIT_OK or EXIT_USAGE (errors already printed). */
int cli_load_config(struct cli *cli);

/* Paths inside the data directory. */
void cli_data_path(const struct cli *cli, const char *name, char *out, unsigned long size);

void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses -c/-d (and --help) after a subcommand; returns the index of the first operand,
 * -1 on a usage error (printed), -2 when --help was answered. */
int cli_parse_common(struct cli *cli, int argc, char **argv, const char *usage);

/* getopt_long for subcommands with options of their own (own: their short options,
 * opts: their long ones, with {"help", no_argument, NULL, 'h'}): handles -c, -d, --help
 * and unknown options itself and returns the next option of the subcommand's own, -1
 * after the last, or CLI_OPT_STOP with *status the exit status to return. */
struct option;
enum { CLI_OPT_STOP = -2 };
int cli_getopt(struct cli *cli, int argc, char **argv, const char *own,
               const struct option *opts, const char *usage, int *status);
/* Opens the data directory's index, printing why not on failure. */
struct index *cli_open_index(struct cli *cli);

/* Closes the live rows of the calls a crash cut (index_recover_live), then the .part
 * recordings it left (vault_recover), logging how many: at the start of import and
 * capture, once the index is open. */
void cli_recover_recordings(struct cli *cli, struct index *ix);

/* SIGHUP (reload.c): re-reads cli->cfg's file; applies the log level and the [alarms]
 * thresholds to cli->cfg, logs every other changed key as needing a restart. */
void cli_reload(struct cli *cli);

/* The capture daemon (cmd_capture.c): `greffier capture`, and `greffier serve` with the
 * web server in the same process when with_web (listen: NULL for [http] listen). */
int daemon_main(struct cli *cli, bool with_web, const char *listen);

/* A call ID as `greffier calls` shows it: decimal digits only, > 0. */
bool cli_parse_call_id(const char *s, int64_t *out);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_calls(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_capture(struct cli *cli, int argc, char **argv);
int cmd_call(struct cli *cli, int argc, char **argv);
int cmd_audio(struct cli *cli, int argc, char **argv);
int cmd_streams(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_keygen(struct cli *cli, int argc, char **argv);
int cmd_rekey(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_web(struct cli *cli, int argc, char **argv);
int cmd_rules(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_verify_bundle(struct cli *cli, int argc, char **argv);
int cmd_pubkey(struct cli *cli, int argc, char **argv);
int cmd_purge(struct cli *cli, int argc, char **argv);
int cmd_hold(struct cli *cli, int argc, char **argv);
int cmd_reindex(struct cli *cli, int argc, char **argv);
int cmd_keep(struct cli *cli, int argc, char **argv);
int cmd_discard(struct cli *cli, int argc, char **argv);
int cmd_malicious(struct cli *cli, int argc, char **argv);

#endif

/*
 * main.c - `greffier [-c FILE] [-d DIR] COMMAND [ARGS]`: global options, then one
 * subcommand from the table below.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/log.h"
#include "greffier/rules.h"
#include "greffier/version.h"

struct command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    {"init", cmd_init, "init -d DIR                 create a data directory and its keys"},
    {"import", cmd_import, "import FILE...              read pcap/pcapng files into the index"},
    {"calls", cmd_calls,
     "calls [--json] [--from ISO8601] [--to ISO8601] [--number DIGITS] [--status S] "
     "[--limit N]"},
    {"call", cmd_call,
     "call ID [--json]            one call: streams, events, SIP messages (JSON)"},
    {"audio", cmd_audio,
     "audio ID -o FILE.ogg|.wav   write a call's recording (Opus, or 16-bit WAV)"},
    {"streams", cmd_streams,
     "streams --unmatched         RTP streams that matched no call (JSON)"},
    {"verify", cmd_verify,
     "verify ID...|--all          is each recording intact: ok, truncated, tampered, missing"},
    {"keygen", cmd_keygen,
     "keygen [--signing]          a new recording key pair (the next id), or the signing key"},
    {"purge", cmd_purge,
     "purge [--dry-run] | --number N --from D --to D | --propose | --approve N --visa REF"},
    {"hold", cmd_hold, "hold ID [--reason TEXT] | hold --lift ID | hold --list   legal holds"},
    {"reindex", cmd_reindex,
     "reindex                     rebuild the index's calls from the sealed recordings"},
    {"rekey", cmd_rekey,
     "rekey [--retire OLD_ID]     every recording's key re-wrapped for the newest key pair"},
    {"export", cmd_export,
     "export ID... --case REF --out PATH[.zip] [--no-hold]  evidence bundle (docs/EVIDENCE.md)"},
    {"verify-bundle", cmd_verify_bundle,
     "verify-bundle PATH [--pubkey FILE] [--tsa-ca FILE]  check an evidence bundle"},
    {"pubkey", cmd_pubkey,
     "pubkey                      the bundle signing key (PEM) and fingerprint"},
    {"config", cmd_config, "config check                validate the configuration file"},
    {"keep", cmd_keep, "keep ID                     keep an on_demand call's recording"},
    {"discard", cmd_discard, "discard ID                  destroy an on_demand call's recording"},
    {"malicious", cmd_malicious,
     "malicious ID                mark a call malicious: kept, tagged, held, alarm"},
    {"rules", cmd_rules,
     "rules explain --caller N --callee N [--direction D] [--at ISO8601] [--call-id ID]"},
    {"capture", cmd_capture,
     "capture                     the capture daemon (systemd: Type=notify)"},
    {"serve", cmd_serve,
     "serve --no-capture [--listen ADDR:PORT]  the web interface (search, replay, audit)"},
    {"web", cmd_web, "web [--listen ADDR:PORT]    the same as serve --no-capture"},
    {"user", cmd_user,
     "user add|passwd|del|list    web accounts (add NAME --role R [--password-file F])"},
    {"audit", cmd_audit, "audit verify|list           check the audit chain, or print it (JSON)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: greffier [-c FILE] [-d DIR] COMMAND [ARGS]\n"
                 "  -c FILE   configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -d DIR    data directory (overrides [storage] data_dir)\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  greffier %s\n", commands[i].usage);
}

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("greffier: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_load_config(struct cli *cli)
{
    config_defaults(&cli->cfg);
    const char *path = cli->config_path;
    if (!path && access(DEFAULT_CONFIG, F_OK) == 0)
        path = DEFAULT_CONFIG;
    if (path && config_load(&cli->cfg, path, stderr) != 0) {
        cli_usage_error("%s: configuration is invalid", path);
        return EXIT_USAGE;
    }
    if (cli->data_dir) {
        if (strlen(cli->data_dir) >= sizeof(cli->cfg.data_dir)) {
            cli_usage_error("-d: path too long");
            return EXIT_USAGE;
        }
        snprintf(cli->cfg.data_dir, sizeof(cli->cfg.data_dir), "%s", cli->data_dir);
    }
    log_set_level(cli->cfg.log_level);
    /* Once, at start-up: the rules read local time through localtime_r (rules.h). */
    rules_apply_timezone(&cli->cfg);
    return EXIT_OK;
}

void cli_data_path(const struct cli *cli, const char *name, char *out, unsigned long size)
{
    snprintf(out, size, "%s/%s", cli->cfg.data_dir, name);
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    /* "+": stop at the subcommand, whose own options follow it. */
    while ((ch = getopt_long(argc, argv, "+c:d:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': cli.config_path = optarg; break;
        case 'd': cli.data_dir = optarg; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("greffier %s\n", GREFFIER_VERSION); return EXIT_OK;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[optind];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;
            /* The subcommand parses its own options from sub_argv[1]; 0 makes glibc reset
             * its whole state (1 keeps the "+" of the scan above and stops permuting). */
            optind = 0;
            return commands[i].run(&cli, sub_argc, sub_argv);
        }
    }
    if (strcmp(name, "version") == 0) {
        printf("greffier %s\n", GREFFIER_VERSION);
        return EXIT_OK;
    }
    cli_usage_error("unknown command \"%s\" (try greffier --help)", name);
    return EXIT_USAGE;
}

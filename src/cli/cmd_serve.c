/*
 * cmd_serve.c - `greffier -d DIR serve --no-capture [--listen ADDR:PORT]` and its alias
 * `greffier web [--listen ADDR:PORT]`: the web interface alone (http.h), until SIGTERM
 * or SIGINT.  The capture daemon is `greffier capture`; running both in one process
 * (`serve` without --no-capture) is not implemented yet and is refused.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "greffier/http.h"
#include "greffier/log.h"
#include "greffier/sdnotify.h"

#define SERVE_USAGE "[-d DIR] serve --no-capture [--listen ADDR:PORT]"

static int run(struct cli *cli, int argc, char **argv, bool need_no_capture, const char *usage)
{
    static const struct option opts[] = {
        {"no-capture", no_argument, NULL, 'n'},
        {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL;
    bool no_capture = !need_no_capture;
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, usage, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'n':
            no_capture = true;
            break;
        case 'l':
            listen = optarg;
            break;
        }
    }
    if (optind < argc) {
        cli_usage_error("%s: unexpected argument \"%s\"", argv[0], argv[optind]);
        return EXIT_USAGE;
    }
    if (!no_capture) {
        cli_usage_error("serve: capture and web in one process is not available yet: run "
                        "`greffier capture` and `greffier serve --no-capture` (or `greffier "
                        "web`) side by side");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;

    /* Blocked before the server's threads start, so they inherit the mask and only
     * sigwait() below sees the signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    struct http_server *srv = http_start(&cli->cfg, listen, err, sizeof(err));
    if (!srv) {
        fprintf(stderr, "greffier: %s: %s\n", argv[0], err);
        return EXIT_FAIL;
    }
    sdnotify("READY=1");
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0 || sig != SIGHUP)
            break;
        log_msg(LOG_NOTICE, "http: SIGHUP: the configuration is read at start only");
    }
    sdnotify("STOPPING=1");
    log_msg(LOG_NOTICE, "http: stopping");
    http_stop(srv);
    return EXIT_OK;
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, true, SERVE_USAGE);
}

int cmd_web(struct cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, false, "[-d DIR] web [--listen ADDR:PORT]");
}

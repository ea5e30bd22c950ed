/*
 * cmd_serve.c - `greffier [-c FILE] [-d DIR] serve [--no-capture] [--listen ADDR:PORT]`
 * and its alias `greffier web [--listen ADDR:PORT]`.
 *
 * `serve` runs the capture daemon and the web interface in one process (daemon_main in
 * cmd_capture.c): for the demo and small sites, since the process that parses packets
 * then also holds the private key.  `serve --no-capture` and `web` run the web interface
 * alone (http.h) until SIGTERM or SIGINT, beside `greffier capture`; SIGHUP re-reads the
 * configuration (the log level applies, the rest needs a restart).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "greffier/http.h"
#include "greffier/log.h"
#include "greffier/sdnotify.h"

#define SERVE_USAGE "[-c FILE] [-d DIR] serve [--no-capture] [--listen ADDR:PORT]"

static int run(struct cli *cli, int argc, char **argv, bool capture_by_default, const char *usage)
{
    static const struct option opts[] = {
        {"no-capture", no_argument, NULL, 'n'},
        {"listen", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL;
    bool no_capture = !capture_by_default;
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
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    if (!no_capture)
        return daemon_main(cli, true, listen);

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
    /* WatchdogSec= of greffier-web.service: pinged at half the interval, and only while
     * a request could still get the index (http_alive). */
    uint64_t wd_usec = sdnotify_watchdog_usec();
    struct timespec wait = {1, 0};
    if (wd_usec) {
        wait.tv_sec = (time_t)(wd_usec / 2000000);
        wait.tv_nsec = (long)(wd_usec / 2 % 1000000) * 1000;
    }
    for (;;) {
        if (wd_usec && http_alive(srv))
            sdnotify("WATCHDOG=1");
        int sig = wd_usec ? sigtimedwait(&set, NULL, &wait) : 0;
        if (!wd_usec && sigwait(&set, &sig) != 0)
            break;
        if (sig < 0 && errno == EAGAIN)
            continue; /* the watchdog's turn */
        if (sig != SIGHUP)
            break;
        cli_reload(cli);
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
    return run(cli, argc, argv, false, "[-c FILE] [-d DIR] web [--listen ADDR:PORT]");
}

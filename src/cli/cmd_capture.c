/*
 * cmd_capture.c - `greffier [-c FILE] [-d DIR] capture`: the capture daemon.
 *
 * Start-up fails hard, in this order, so that nothing runs half-configured: the
 * configuration (exit 2 when invalid), the index, the capture handles (the last step that
 * needs CAP_NET_RAW), then the privilege drop (privdrop.h), then READY=1 to systemd.
 * From then on it degrades instead of failing: drops are counted and logged.
 *
 * The loop waits for packets at most POLL_MS, then moves the pipeline's clock to the
 * wall clock (pipeline_idle) so calls end even when the wire goes quiet.  The systemd
 * watchdog is fed from the loop only, so a loop stuck anywhere (a pipeline stage, the
 * index) stops the pings and systemd restarts the service (WatchdogSec=).
 *
 * Signals (blocked outside ppoll, so none is lost between two waits): SIGTERM and SIGINT
 * stop the capture, finish every call in progress marked interrupted, commit and exit 0;
 * SIGHUP re-reads the configuration file and logs what changed: the log level applies
 * at once, every other change is reported as needing a restart.
 *
 * `greffier serve` (capture and the web server in one process) will reuse daemon_run()
 * with the web server's descriptors added to the same loop; it is not in this build.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/capture_live.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/ondemand.h"
#include "greffier/pipeline.h"
#include "greffier/privdrop.h"
#include "greffier/retention.h"
#include "greffier/sdnotify.h"
#include "greffier/vault.h"

enum {
    POLL_MS = 250,          /* longest wait for packets: timers and signals are this late */
    SUMMARY_EVERY_S = 60,   /* the stats line, and the most often drops are logged */
    RETENTION_EVERY_S = 60, /* the disk check, and the look at the clock for the purge */
};

/* Set by the signal handlers only: the unavoidable global state of a daemon. */
static volatile sig_atomic_t stop_signal, reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reload_requested = 1;
    else
        stop_signal = sig;
}

struct daemon {
    struct cli *cli;
    struct index *ix;
    struct capture_live *cl;
    struct pipeline *p;
    struct counters counters;
    sigset_t wait_mask; /* the mask during ppoll: the daemon's signals unblocked */

    /* Counters at the last summary line and drops not yet logged. */
    struct counters at_summary;
    uint64_t unlogged_kernel, unlogged_iface;
    int64_t drops_logged_at; /* monotonic ms, 0 when never */
    long purged_day;         /* the day of the last daily purge (retention_daily) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pkt_time_t wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (pkt_time_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Every DROP counter except the two the kernel reports. */
static uint64_t other_drops(const struct counters *c)
{
    uint64_t n = 0;
#define STAT 0
#define DROP 1
#define X(name, kind, help) n += kind == DROP ? c->name : 0;
#include "greffier/counters.inc"
#undef X
#undef STAT
#undef DROP
    return n - c->drop_kernel - c->drop_interface;
}

static void notify_status(struct daemon *d)
{
    const struct counters *c = &d->counters;
    sdnotifyf("STATUS=capturing on %s: %" PRIu64 " packets, %" PRIu64
              " calls, drops: kernel %" PRIu64 ", interface %" PRIu64 ", other %" PRIu64,
              capture_live_names(d->cl), c->packets, c->calls, c->drop_kernel, c->drop_interface,
              other_drops(c));
}

/* Reads the kernel's statistics; drops are logged at once the first time, then at most
 * once a minute with everything dropped since the last message. */
static void read_stats(struct daemon *d, int64_t now_ms)
{
    struct capture_drops delta;
    capture_live_stats(d->cl, &d->counters, &delta);
    d->unlogged_kernel += delta.kernel;
    d->unlogged_iface += delta.iface;
    if ((d->unlogged_kernel || d->unlogged_iface) &&
        (d->drops_logged_at == 0 || now_ms - d->drops_logged_at >= SUMMARY_EVERY_S * 1000)) {
        log_msg(LOG_WARNING,
                "capture: packets lost before greffier saw them: %" PRIu64
                " by the kernel (capture ring full: raise [capture] buffer_mb, check CPU load), "
                "%" PRIu64 " by the interface (NIC ring or driver: ethtool -G, ethtool -S)",
                d->unlogged_kernel, d->unlogged_iface);
        d->unlogged_kernel = d->unlogged_iface = 0;
        d->drops_logged_at = now_ms;
    }
    notify_status(d);
}

static void log_summary(struct daemon *d)
{
    const struct counters *c = &d->counters, *last = &d->at_summary;
    log_msg(LOG_INFO,
            "stats: last %ds: %" PRIu64 " packets, %" PRIu64 " SIP messages, %" PRIu64
            " calls; total: %" PRIu64 " packets, %" PRIu64 " calls, drops: kernel %" PRIu64
            ", interface %" PRIu64 ", other %" PRIu64,
            SUMMARY_EVERY_S, c->packets - last->packets, c->sip_messages - last->sip_messages,
            c->calls - last->calls, c->packets, c->calls, c->drop_kernel, c->drop_interface,
            other_drops(c));
    d->at_summary = *c;
}

/* ---- SIGHUP: reload ------------------------------------------------------------------- */

struct reload {
    struct config *running;
    const struct config *fresh;
    unsigned changes;
};

static void on_changed(void *user, const char *section, const char *key)
{
    struct reload *r = user;
    r->changes++;
    if (strcmp(section, "log") == 0 && strcmp(key, "level") == 0) {
        r->running->log_level = r->fresh->log_level;
        log_set_level(r->fresh->log_level);
        log_msg(LOG_NOTICE, "reload: [log] level changed: applied");
    } else {
        log_msg(LOG_NOTICE, "reload: [%s] %s changed: needs a restart", section, key);
    }
}

/* Logs each line of a config_load() error report at LOG_ERR. */
static void log_lines(char *text)
{
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        log_msg(LOG_ERR, "reload: %s", line);
    }
}

static void reload(struct daemon *d)
{
    struct config *running = &d->cli->cfg;
    if (running->path[0] == '\0') {
        log_msg(LOG_NOTICE, "reload: started without a configuration file, nothing to read");
        return;
    }
    struct config *fresh = malloc(sizeof(*fresh));
    char *report = NULL;
    size_t report_len = 0;
    FILE *errs = open_memstream(&report, &report_len);
    if (!fresh || !errs) {
        log_msg(LOG_ERR, "reload: out of memory");
        free(fresh);
        if (errs)
            fclose(errs);
        free(report);
        return;
    }
    int errors = config_load(fresh, running->path, errs);
    fclose(errs);
    if (errors) {
        log_lines(report);
        log_msg(LOG_ERR, "reload: %s is invalid (%d error%s): keeping the running configuration",
                running->path, errors, errors == 1 ? "" : "s");
    } else {
        /* -d on the command line still wins over the file. */
        if (d->cli->data_dir)
            snprintf(fresh->data_dir, sizeof(fresh->data_dir), "%s", running->data_dir);
        struct reload r = {.running = running, .fresh = fresh};
        config_diff(running, fresh, on_changed, &r);
        log_msg(LOG_NOTICE, "reload: %s read, %u setting%s changed", running->path, r.changes,
                r.changes == 1 ? "" : "s");
    }
    free(report);
    free(fresh);
}

/* ---- start-up and loop ------------------------------------------------------------------ */

static void setup_signals(struct daemon *d)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    sigset_t block;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: ppoll returns */
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&block, sigs[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    sigprocmask(SIG_BLOCK, &block, &d->wait_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigdelset(&d->wait_mask, sigs[i]);
}

/* Disk space and the daily purge (src/retention/daemon.c), between two index
 * transactions: the purge commits its own.  write_failed: a recording write failed with
 * ENOSPC, which applies [storage] on_disk_full whatever statvfs says. */
static bool retention_step(struct daemon *d, bool write_failed)
{
    const struct config *cfg = &d->cli->cfg;
    pipeline_commit(d->p);
    pipeline_set_disk_full(d->p, retention_disk_check(d->ix, cfg, write_failed) == DISK_FULL);
    return retention_daily(d->ix, cfg, clock_now(), &d->purged_day);
}

static int run_loop(struct daemon *d)
{
    const struct config *cfg = &d->cli->cfg;
    uint64_t wd_usec = sdnotify_watchdog_usec();
    int64_t wd_every_ms = wd_usec ? (int64_t)(wd_usec / 2000) : 0;
    if (wd_usec && wd_every_ms < 1)
        wd_every_ms = 1;
    int64_t now = mono_ms();
    int64_t next_stats = now + (int64_t)cfg->stats_interval_s * 1000;
    int64_t next_summary = now + SUMMARY_EVERY_S * 1000;
    int64_t next_ping = now;
    int64_t next_retention = now;
    char err[1024];

    while (!stop_signal) {
        if (capture_live_poll(d->cl, d->p, POLL_MS, &d->wait_mask, err, sizeof(err)) < 0) {
            log_msg(LOG_ERR, "capture: %s", err);
            return EXIT_FAIL;
        }
        pipeline_idle(d->p, wall_usec());
        now = mono_ms();
        if (reload_requested) {
            reload_requested = 0;
            reload(d);
        }
        if (now >= next_stats) {
            read_stats(d, now);
            next_stats = now + (int64_t)cfg->stats_interval_s * 1000;
        }
        bool enospc = pipeline_disk_full_seen(d->p); /* a write failed: check now */
        if (now >= next_retention || enospc) {
            /* A purge larger than one batch goes on at the next turn of the loop. */
            bool more = retention_step(d, enospc);
            next_retention = mono_ms() + (more ? 0 : RETENTION_EVERY_S * 1000);
        }
        if (now >= next_summary) {
            log_summary(d);
            next_summary = now + SUMMARY_EVERY_S * 1000;
        }
        /* Here and only here: the loop turned and the pipeline took its time step. */
        if (wd_every_ms && now >= next_ping) {
            sdnotify("WATCHDOG=1");
            next_ping = now + wd_every_ms;
        }
    }
    log_msg(LOG_NOTICE, "capture: %s received, stopping", strsignal(stop_signal));
    return EXIT_OK;
}

static void log_privileges(void)
{
    struct privdrop_caps caps;
    if (privdrop_read_caps(&caps) != 0)
        return;
    log_msg(LOG_INFO, "privileges: uid %u, gid %u, CapEff=%016" PRIx64 " CapPrm=%016" PRIx64,
            (unsigned)getuid(), (unsigned)getgid(), caps.eff, caps.prm);
}

int cmd_capture(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, "[-c FILE] [-d DIR] capture");
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    if (first < argc) {
        cli_usage_error("capture: unexpected argument \"%s\"", argv[first]);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;

    struct daemon *d = calloc(1, sizeof(*d));
    if (!d) {
        log_msg(LOG_ERR, "capture: out of memory");
        return EXIT_FAIL;
    }
    d->cli = cli;
    char err[1024];
    int status = EXIT_FAIL;

    d->ix = cli_open_index(cli);
    if (!d->ix)
        goto out;
    d->cl = capture_live_open(&cli->cfg, err, sizeof(err));
    if (!d->cl) {
        log_msg(LOG_ERR, "capture: %s", err);
        goto out;
    }
    if (privdrop(cli->cfg.user, err, sizeof(err)) != 0) {
        log_msg(LOG_ERR, "privileges: %s", err);
        goto out;
    }
    log_privileges();
    /* As the daemon's user, who must read the key at each recording: fail at start
     * rather than at every call. */
    struct vault_pubkey *pk = vault_load_newest_pubkey(cli->cfg.data_dir, err, sizeof(err));
    if (!pk) {
        log_msg(LOG_ERR, "capture: %s", err);
        goto out;
    }
    log_msg(LOG_INFO, "capture: recordings sealed for key %u", vault_pubkey_id(pk));
    vault_pubkey_free(pk);
    cli_recover_recordings(cli);
    /* The live rows of on_demand calls a previous capture left when it died. */
    ondemand_recover(d->ix, cli->cfg.data_dir);
    if (access(cli->cfg.data_dir, R_OK | W_OK | X_OK) != 0)
        log_msg(LOG_WARNING,
                "capture: %s is not writable by uid %u: recordings will fail (chown it to the "
                "daemon's user)",
                cli->cfg.data_dir, (unsigned)getuid());
    d->p = pipeline_new(&cli->cfg, d->ix, &d->counters);
    if (!d->p) {
        log_msg(LOG_ERR, "capture: out of memory");
        goto out;
    }
    setup_signals(d);

    log_msg(LOG_NOTICE, "capture: capturing on %s, data in %s", capture_live_names(d->cl),
            cli->cfg.data_dir);
    log_msg(LOG_INFO, "capture: filter: %s", capture_live_filter(d->cl));
    sdnotify("READY=1");
    notify_status(d);

    status = run_loop(d);

    sdnotify("STOPPING=1");
    struct capture_drops last;
    capture_live_stats(d->cl, &d->counters, &last);
    capture_live_close(d->cl);
    d->cl = NULL;
    pipeline_finish(d->p, true); /* calls in progress end marked interrupted, all committed */
    d->p = NULL;
    log_msg(LOG_NOTICE,
            "capture: stopped: %" PRIu64 " packets, %" PRIu64 " calls, drops: kernel %" PRIu64
            ", interface %" PRIu64 ", other %" PRIu64,
            d->counters.packets, d->counters.calls, d->counters.drop_kernel,
            d->counters.drop_interface, other_drops(&d->counters));

out:
    pipeline_finish(d->p, true);
    capture_live_close(d->cl);
    if (d->ix)
        index_close(d->ix);
    free(d);
    return status;
}

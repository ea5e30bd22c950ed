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
 * SIGHUP re-reads the configuration file (reload.c): the log level and the [alarms]
 * thresholds apply at once, every other change is reported as needing a restart.
 *
 * Every stats_interval the loop also judges the alarms (alarm_watch.h) and publishes the
 * counters for /metrics (metrics.h: DATA/run/capture.prom).
 *
 * `greffier serve` is this daemon with the web server started in the same process
 * (http.h: its own threads, after the privilege drop and with the signals already
 * blocked so that only this loop sees them); /metrics then reads the counters from here.
 * It holds the private key in the process that parses packets: for the demo and small
 * sites only (docs/ADMIN.md).  On SIGTERM the capture stops and every call is sealed
 * before the web server stops.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/alarm.h"
#include "greffier/alarm_watch.h"
#include "greffier/capture_live.h"
#include "greffier/clock.h"
#include "greffier/http.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/metrics.h"
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

    struct alarm_watch *alarms;

    /* serve: the web server of this process, and the copy of the counters its request
     * threads read for /metrics (under snap_lock, refreshed at every turn of the loop). */
    struct http_server *web;
    pthread_mutex_t snap_lock;
    struct counters snap;
    struct pipeline_stats snap_stats;
    struct http_capture_metrics live;
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

/* ---- /metrics ---------------------------------------------------------------------------- */

/* Refreshes the copy the web threads read (serve) and, when to_file, the snapshot the
 * web process reads (capture). */
static void publish(struct daemon *d, bool to_file)
{
    struct pipeline_stats st;
    pipeline_get_stats(d->p, &st);
    if (d->web) {
        pthread_mutex_lock(&d->snap_lock);
        d->snap = d->counters;
        d->snap_stats = st;
        pthread_mutex_unlock(&d->snap_lock);
    }
    char err[512];
    if (to_file && metrics_snapshot_write(d->cli->cfg.data_dir, &d->counters, &st, clock_now(),
                                          err, sizeof(err)) != 0)
        log_limited(LOG_WARNING, "metrics: snapshot not written: %s", err);
}

/* http_capture_metrics.write, on a web request thread. */
static void write_live_metrics(void *user, FILE *out)
{
    struct daemon *d = user;
    struct counters c;
    struct pipeline_stats st;
    pthread_mutex_lock(&d->snap_lock);
    c = d->snap;
    st = d->snap_stats;
    pthread_mutex_unlock(&d->snap_lock);
    metrics_write_capture(out, &c, &st, clock_now());
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
            cli_reload(d->cli);
        }
        for (size_t i = 0; i < capture_live_count(d->cl); i++)
            alarm_watch_interface(d->alarms, i, capture_live_name(d->cl, i),
                                  capture_live_packets(d->cl, i), now);
        bool stats_due = now >= next_stats;
        if (stats_due) {
            read_stats(d, now);
            alarm_watch_interval(d->alarms, &d->counters, cfg->stats_interval_s);
            next_stats = now + (int64_t)cfg->stats_interval_s * 1000;
        }
        bool enospc = pipeline_disk_full_seen(d->p); /* a write failed: check now */
        if (now >= next_retention || enospc) {
            /* A purge larger than one batch goes on at the next turn of the loop. */
            bool more = retention_step(d, enospc);
            next_retention = mono_ms() + (more ? 0 : RETENTION_EVERY_S * 1000);
        }
        if (stats_due || d->web)
            publish(d, stats_due);
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

int daemon_main(struct cli *cli, bool with_web, const char *listen)
{
    struct daemon *d = calloc(1, sizeof(*d));
    if (!d) {
        log_msg(LOG_ERR, "capture: out of memory");
        return EXIT_FAIL;
    }
    d->cli = cli;
    pthread_mutex_init(&d->snap_lock, NULL);
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
     * rather than at every call, and say so where the admin looks (the alarm). */
    struct vault_pubkey *pk = vault_load_newest_pubkey(cli->cfg.data_dir, err, sizeof(err));
    if (!pk) {
        log_msg(LOG_ERR, "capture: %s", err);
        alarm_raise(d->ix, ALARM_KEY_PUBLIC, ALARM_ERROR,
                    "the public key cannot be read, the capture daemon cannot start: %s", err);
        goto out;
    }
    alarm_clear(d->ix, ALARM_KEY_PUBLIC);
    log_msg(LOG_INFO, "capture: recordings sealed for key %u", vault_pubkey_id(pk));
    vault_pubkey_free(pk);
    cli_recover_recordings(cli, d->ix);
    /* The live rows of on_demand calls a previous capture left when it died. */
    ondemand_recover(d->ix, cli->cfg.data_dir);
    if (access(cli->cfg.data_dir, R_OK | W_OK | X_OK) != 0)
        log_msg(LOG_WARNING,
                "capture: %s is not writable by uid %u: recordings will fail (chown it to the "
                "daemon's user)",
                cli->cfg.data_dir, (unsigned)getuid());
    /* Before any thread starts (encoder workers, web server): they inherit the mask, so
     * only this loop's ppoll sees the signals. */
    setup_signals(d);
    d->p = pipeline_new(&cli->cfg, d->ix, &d->counters);
    d->alarms = alarm_watch_new(d->ix, &cli->cfg, mono_ms());
    if (!d->p || !d->alarms) {
        log_msg(LOG_ERR, "capture: out of memory");
        goto out;
    }
    if (with_web) {
        d->web = http_start(&cli->cfg, listen, err, sizeof(err));
        if (!d->web) {
            log_msg(LOG_ERR, "http: %s", err);
            goto out;
        }
        d->live = (struct http_capture_metrics){.write = write_live_metrics, .user = d};
        publish(d, false);
        http_set_capture_metrics(d->web, &d->live);
    }

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
    if (d->web) {
        log_msg(LOG_NOTICE, "http: stopping");
        http_stop(d->web); /* after every call is sealed: its requests are in flight */
    }
    alarm_watch_free(d->alarms);
    if (d->ix)
        index_close(d->ix);
    pthread_mutex_destroy(&d->snap_lock);
    free(d);
    return status;
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
    return daemon_main(cli, false, NULL);
}

/*
 * daemon.c - what the capture daemon does for retention: the daily purge (or, when
 * purges need approval, the alarm saying a proposal is due) and the disk-space check.
 *
 * Both go through the same functions as `greffier purge`, so the daemon and the command
 * line cannot disagree on what expires.  They are called from the daemon's loop between
 * two index transactions.
 */
#include <stdbool.h>
#include <sys/statvfs.h>
#include <time.h>

#include "greffier/alarm.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/retention.h"

/* purge_oldest: recordings purged per batch, and batches per check (the daemon's loop,
 * and its watchdog, must turn: the next check goes on a minute later). */
enum { DISK_PURGE_BATCH = 20, DISK_PURGE_BATCHES = 50 };

#define DAEMON_USER "daemon"

static size_t count_unproposed(struct index *ix, const struct config *cfg, pkt_time_t now)
{
    struct purge_list l = {0};
    if (retention_select_expired(ix, cfg, now, &l) != 0)
        return 0;
    size_t n = retention_drop_proposed(ix, &l) == 0 ? l.n : 0;
    purge_list_free(&l);
    return n;
}

bool retention_daily(struct index *ix, const struct config *cfg, pkt_time_t now, long *last_day)
{
    time_t t = (time_t)(now / 1000000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return false;
    long day = (long)(tm.tm_year + 1900) * 1000 + tm.tm_yday;
    /* At the purge hour, or at the first chance after it (a daemon that was down then). */
    if (day == *last_day || tm.tm_hour < (int)cfg->purge_hour)
        return false;
    *last_day = day;
    if (config_purge_approval_required(cfg)) {
        size_t n = count_unproposed(ix, cfg, now);
        if (n > 0)
            alarm_raise(ix, "purge_proposal_due", ALARM_WARNING,
                        "%zu expired calls wait for a purge proposal and its approval "
                        "(greffier purge --propose)",
                        n);
        else
            alarm_clear(ix, "purge_proposal_due");
        return false;
    }
    struct purge_list l = {0};
    struct purge_result res;
    if (retention_select_expired(ix, cfg, now, &l) != 0)
        return false;
    bool more = l.n > RETENTION_DAILY_BATCH;
    if (more)
        l.n = RETENTION_DAILY_BATCH; /* the oldest expiries first */
    int r = retention_purge(ix, cfg->data_dir, &l, PURGE_RETENTION, 0, DAEMON_USER, "daily purge",
                            &res);
    purge_list_free(&l);
    if (r != 0) {
        alarm_raise(ix, "purge_failed", ALARM_ERROR, "the daily purge failed: see the log");
        return false;
    }
    alarm_clear(ix, "purge_failed");
    if (more)
        *last_day = 0; /* not done for today: the next call takes the next batch */
    return more;
}

double disk_free_percent(const char *data_dir)
{
    struct statvfs sv;
    if (statvfs(data_dir, &sv) != 0 || sv.f_blocks == 0)
        return -1;
    /* f_bavail: what an unprivileged daemon may still write. */
    return 100.0 * (double)sv.f_bavail / (double)sv.f_blocks;
}

enum disk_state retention_disk_check(struct index *ix, const struct config *cfg, bool write_failed)
{
    double min = cfg->min_free_percent, free_pct = disk_free_percent(cfg->data_dir);
    if (free_pct < 0 && !write_failed) {
        log_msg(LOG_WARNING, "disk: cannot read the free space of %s", cfg->data_dir);
        return DISK_OK;
    }
    if (free_pct >= min && !write_failed) {
        alarm_clear(ix, "disk_low");
        return DISK_OK;
    }
    bool full = write_failed || free_pct < min / 2;
    alarm_raise(ix, "disk_low", full ? ALARM_ERROR : ALARM_WARNING,
                "%s: %.1f%% free, below [storage] min_free_percent = %u%s%s", cfg->data_dir,
                free_pct, cfg->min_free_percent,
                write_failed ? " (a recording write failed: no space left)" : "",
                !full                                 ? ""
                : cfg->on_disk_full == DISK_FULL_STOP ? ": new calls are not recorded"
                                                      : ": purging the oldest recordings");
    if (!full)
        return DISK_LOW;
    if (cfg->on_disk_full == DISK_FULL_STOP)
        return DISK_FULL;
    /* After a failed write, at least one batch goes even if statvfs sees room. */
    for (int batch = 0;
         batch < DISK_PURGE_BATCHES && (batch == 0 || (free_pct >= 0 && free_pct < min)); batch++) {
        struct purge_list l = {0};
        struct purge_result res;
        if (retention_select_oldest(ix, cfg, DISK_PURGE_BATCH, &l) != 0 || l.n == 0) {
            purge_list_free(&l);
            break;
        }
        int r = retention_purge(ix, cfg->data_dir, &l, PURGE_DISK_FULL, 0, DAEMON_USER, "disk full",
                                &res);
        purge_list_free(&l);
        if (r != 0 || res.purged == 0)
            break;
        free_pct = disk_free_percent(cfg->data_dir);
    }
    return free_pct < min / 2 ? DISK_FULL : free_pct < min ? DISK_LOW : DISK_OK;
}

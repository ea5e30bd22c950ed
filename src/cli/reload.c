/*
 * reload.c - SIGHUP: re-read the configuration file and apply what can change safely
 * in a running daemon (capture, web or serve); every other changed key is logged by
 * name as needing a restart.
 *
 * What applies at once is a table: the log level, the [alarms] thresholds (the alarm
 * watch and the media stage read them from the running configuration at each check),
 * and [retention] and the disk keys of [storage] (the daily purge and the disk check read
 * them at each run).  Users need no reload: they are rows of the index, read at each login.  An
 * invalid file changes nothing: its errors are logged and the running configuration
 * stays.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "greffier/log.h"

typedef void apply_fn(struct config *running, const struct config *fresh);

static void apply_log_level(struct config *running, const struct config *fresh)
{
    running->log_level = fresh->log_level;
    log_set_level(fresh->log_level);
}

static void apply_no_packets(struct config *running, const struct config *fresh)
{
    running->alarm_no_packets_s = fresh->alarm_no_packets_s;
}

static void apply_drops(struct config *running, const struct config *fresh)
{
    running->alarm_drops_min = fresh->alarm_drops_min;
}

static void apply_one_way(struct config *running, const struct config *fresh)
{
    running->alarm_one_way_s = fresh->alarm_one_way_s;
}

/* Keys read afresh from the running configuration at each use: a copy applies them. */
#define COPY_FIELD(name, field)                                                                    \
    static void name(struct config *running, const struct config *fresh)                          \
    {                                                                                              \
        memcpy(&running->field, &fresh->field, sizeof(running->field));                            \
    }
COPY_FIELD(apply_default_days, retention_default_days)
COPY_FIELD(apply_public_body, public_body)
COPY_FIELD(apply_purge_approval, purge_approval)
COPY_FIELD(apply_legal_basis, legal_basis)
COPY_FIELD(apply_purge_hour, purge_hour)
COPY_FIELD(apply_min_free, min_free_percent)
COPY_FIELD(apply_on_disk_full, on_disk_full)

static void apply_retention_tags(struct config *running, const struct config *fresh)
{
    memcpy(running->retention_tags, fresh->retention_tags, sizeof(running->retention_tags));
    running->nretention_tags = fresh->nretention_tags;
}

static const struct {
    const char *section, *key;
    apply_fn *apply;
} live_keys[] = {
    {"log", "level", apply_log_level},
    {"alarms", "no_packets", apply_no_packets},
    {"alarms", "drops", apply_drops},
    {"alarms", "one_way_audio", apply_one_way},
    {"retention", "default_days", apply_default_days},
    {"retention", "tags", apply_retention_tags},
    {"retention", "public_body", apply_public_body},
    {"retention", "purge_approval", apply_purge_approval},
    {"retention", "legal_basis", apply_legal_basis},
    {"retention", "purge_hour", apply_purge_hour},
    {"storage", "min_free_percent", apply_min_free},
    {"storage", "on_disk_full", apply_on_disk_full},
};

struct reload {
    struct config *running;
    const struct config *fresh;
    unsigned changes;
};

static void on_changed(void *user, const char *section, const char *key)
{
    struct reload *r = user;
    r->changes++;
    for (size_t i = 0; i < sizeof(live_keys) / sizeof(live_keys[0]); i++) {
        if (strcmp(section, live_keys[i].section) == 0 && strcmp(key, live_keys[i].key) == 0) {
            live_keys[i].apply(r->running, r->fresh);
            log_msg(LOG_NOTICE, "reload: [%s] %s changed: applied", section, key);
            return;
        }
    }
    log_msg(LOG_NOTICE, "reload: [%s] %s changed: needs a restart", section, key);
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

void cli_reload(struct cli *cli)
{
    struct config *running = &cli->cfg;
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
        if (cli->data_dir)
            snprintf(fresh->data_dir, sizeof(fresh->data_dir), "%s", running->data_dir);
        struct reload r = {.running = running, .fresh = fresh};
        config_diff(running, fresh, on_changed, &r);
        log_msg(LOG_NOTICE, "reload: %s read, %u setting%s changed", running->path, r.changes,
                r.changes == 1 ? "" : "s");
    }
    free(report);
    free(fresh);
}

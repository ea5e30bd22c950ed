/*
 * retention.h - how long each call is kept, and the purge that ends it (docs/RETENTION.md).
 *
 * A call expires (days) after its end (its start when it never ended), where days is, by
 * precedence: the retention of the recording rule that matched it (calls.retention_days),
 * else the longest [retention] tags period among its tags, else [retention] default_days.
 * A legal hold (legal_holds) suspends expiry whatever the period.
 *
 * A purge removes the recording file and the call's index rows and leaves a tombstone
 * (purged_calls: ids, dates, reason, rule; no personal data), audited.  Its order makes a
 * crash harmless: the tombstone is committed first (it marks the purge as begun), then
 * the file is unlinked, then the call's rows are deleted; any call that still has rows
 * and a tombstone is a purge to finish, which every purge run does first.
 *
 * With approval required (a public body's archives), expired calls are purged only
 * through a purge proposal approved with the archives service's visa.
 */
#ifndef GREFFIER_RETENTION_H
#define GREFFIER_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "greffier/config.h"
#include "greffier/packet.h"

struct index;
struct json_writer;

/* ---- expiry ------------------------------------------------------------------------- */

enum retention_source {
    RETENTION_HOLD = 0, /* on legal hold: never expires while it lasts */
    RETENTION_RULE,     /* the recording rule's retention */
    RETENTION_TAG,      /* the longest tag period */
    RETENTION_DEFAULT,  /* [retention] default_days */
};

struct retention_call {
    pkt_time_t start_us;
    pkt_time_t end_us;  /* 0: the call never ended (expiry counts from its start) */
    unsigned rule_days; /* calls.retention_days; 0 when the rule gave none */
    const char *rule;   /* calls.rule, may be NULL */
    const char *tags;   /* the call's tags separated by blanks, may be NULL */
    bool held;
};

#define RETENTION_NEVER INT64_MAX

struct retention_expiry {
    enum retention_source source;
    unsigned days;         /* the period that applies, even under a hold */
    pkt_time_t expires_us; /* RETENTION_NEVER under a hold */
    char origin[80];       /* "rule NAME", "tag NAME", "default" (under a hold too) */
};

/* Applies the precedence above.  Never fails. */
void retention_compute(const struct config *cfg, const struct retention_call *c,
                       struct retention_expiry *out);

/* Writes the member "retention": {"days", "expires" (ISO 8601, null under a hold),
 * "rule" (where the period comes from), "legal_hold": null | {"since", "user",
 * "reason"}} of call id into the object open in w.  user is the struct config.  A
 * signature of index_call_extra_fn (index_show_call_ext).  0, or -1. */
int retention_call_json(struct index *ix, void *cfg, struct json_writer *w, int64_t id);

/* ---- candidates ---------------------------------------------------------------------- */

struct purge_item {
    int64_t id;
    pkt_time_t start_us, end_us; /* end_us 0: none */
    struct retention_expiry exp;
    bool held;
    bool has_recording;
    uint64_t bytes;
    char path[256]; /* recording path relative to the data directory, "" when none */
};

struct purge_list {
    struct purge_item *v;
    size_t n, cap;
};

void purge_list_free(struct purge_list *l);

/* Calls expired at now and not on hold, oldest expiry first.  0, or -1 (logged). */
int retention_select_expired(struct index *ix, const struct config *cfg, pkt_time_t now,
                             struct purge_list *out);
/* Every call whose number (caller, callee or redirecting, as dialled or normalised)
 * is number or norm and that started in [from, to), held ones included (flagged).
 * 0, or -1. */
int retention_select_number(struct index *ix, const struct config *cfg, const char *number,
                            const char *norm, pkt_time_t from, pkt_time_t to,
                            struct purge_list *out);
/* Every call with a recording, not on hold, oldest start first (disk full).  0, or -1. */
int retention_select_oldest(struct index *ix, const struct config *cfg, size_t limit,
                            struct purge_list *out);
/* The calls of proposal id that still exist, with held ones flagged.  0, or -1. */
int retention_select_proposal(struct index *ix, const struct config *cfg, int64_t id,
                              struct purge_list *out);
/* The next n calls to expire (held ones left out), soonest first.  0, or -1. */
int retention_select_next(struct index *ix, const struct config *cfg, size_t n,
                          struct purge_list *out);

/* ---- purge --------------------------------------------------------------------------- */

enum purge_reason { PURGE_RETENTION = 0, PURGE_ERASURE, PURGE_DISK_FULL };

const char *purge_reason_name(enum purge_reason r);

struct purge_result {
    size_t purged;
    size_t skipped_held; /* on hold when the purge ran: left alone */
    size_t files;        /* recording files removed */
    uint64_t bytes;
    size_t finished; /* purges a crash had interrupted, completed first */
};

/* Purges every item of l not on hold, by batches of 200: tombstones (with proposal_ref
 * when > 0), files, rows and the batch's audit row (user, action "purge", detail with the
 * reason, counts and ids, and note when not NULL); then the free pages and the search
 * index are scrubbed so that the purged numbers are not left in the database file.  0, or -1 (logged; what was
 * done stays done and the next run finishes it). */
int retention_purge(struct index *ix, const char *data_dir, const struct purge_list *l,
                    enum purge_reason reason, int64_t proposal_ref, const char *user,
                    const char *note, struct purge_result *res);

/* Completes purges a crash interrupted (tombstone present, rows still there).  Returns
 * the number completed, -1 on error. */
long retention_finish_interrupted(struct index *ix, const char *data_dir);

/* ---- legal holds (auditors) ---------------------------------------------------------- */

/* 1 placed, 0 already on hold, -2 no such call, -1 error.  Audited ("hold"). */
int retention_hold(struct index *ix, int64_t id, const char *user, const char *reason);
/* 1 lifted, 0 was not on hold, -1 error.  Audited ("hold_lift"). */
int retention_hold_lift(struct index *ix, int64_t id, const char *user);
/* [{"call": ID, "since", "user", "reason"}, ...] written to w.  Count, -1. */
long retention_holds_json(struct index *ix, struct json_writer *w);

/* ---- purge proposals (public archives) ----------------------------------------------- */

/* Gathers the expired calls that are in no pending or approved proposal into a new
 * proposal and writes its slip to DATA_DIR/proposals/ID.csv and ID.html.  *id is 0 when
 * nothing had expired (nothing created).  Audited ("purge_propose").  0, or -1. */
int retention_propose(struct index *ix, const struct config *cfg, const char *data_dir,
                      pkt_time_t now, const char *user, int64_t *id, size_t *count);

/* Drops from l the calls already in a pending or approved proposal.  0, or -1. */
int retention_drop_proposed(struct index *ix, struct purge_list *l);

/* Writes the slip of proposal id: csv or printable HTML (French).  1, 0 when there is
 * no such proposal, -1 on error. */
int retention_slip_write(struct index *ix, const struct config *cfg, int64_t id, bool html,
                         FILE *out);

/* Records the visa of pending proposal id and purges its calls (skipping those put on
 * hold since).  -2 no such proposal, -3 not pending (msg says its state), 0 done, -1. */
int retention_approve(struct index *ix, const struct config *cfg, int64_t id, const char *visa,
                      const char *user, struct purge_result *res, char *msg, size_t msgsize);

/* Proposals newest first as a JSON array written to w: {"id", "created", "created_by",
 * "state", "calls", "first_start", "last_start", "bytes", "visa", "approved_by",
 * "approved_at", "executed_at"}.  Count, -1. */
long retention_proposals_json(struct index *ix, struct json_writer *w);

/* Runs again the proposals approved but not executed (a crash between the visa and the
 * purge).  The number of calls purged, -1. */
long retention_resume_approved(struct index *ix, const struct config *cfg, const char *user);

/* GET /api/retention: {"now", "default_days", "approval_required", "legal_basis",
 * "by_rule": [{"rule", "calls", "bytes", "expired", "next_expiry"}], "by_month": [{"month",
 * ...}], "next": [{"id", "start", "expires", "expired", "rule", "days", "bytes"}] (the 50
 * soonest), "legal_holds": [...], "proposals": [...], "history": [{"day", "reason",
 * "calls", "bytes", "recordings"}]} written to w.  0, or -1. */
int retention_overview_json(struct index *ix, const struct config *cfg, pkt_time_t now,
                            struct json_writer *w);

/* ---- the daemons --------------------------------------------------------------------- */

/* Once a day at [retention] purge_hour local time: purges expired calls, or with approval
 * required raises the purge_proposal_due alarm.  Call it often (each second is fine);
 * *last_day remembers the day done (start it at 0).  The daemons' user is "daemon".
 * A purge takes at most RETENTION_DAILY_BATCH calls at a time, so that the daemon's loop
 * (and its watchdog) turns between batches: true when more are waiting, and the caller
 * should call again soon. */
enum { RETENTION_DAILY_BATCH = 1000 };
bool retention_daily(struct index *ix, const struct config *cfg, pkt_time_t now, long *last_day);

/* The disk check of the data directory's file system (statvfs). */
enum disk_state { DISK_OK = 0, DISK_LOW, DISK_FULL };

/* Free space in percent of the data directory's file system, -1 on error. */
double disk_free_percent(const char *data_dir);

/* Raises or clears the disk_low alarm and applies [storage] on_disk_full below half the
 * threshold, or when write_failed (a recording write failed with ENOSPC, whatever
 * statvfs says: quotas, inodes); purge_oldest purges until the threshold is met again.
 * Returns the state the capture should follow: DISK_FULL means "do not start
 * recordings" (stop). */
enum disk_state retention_disk_check(struct index *ix, const struct config *cfg, bool write_failed);

#endif

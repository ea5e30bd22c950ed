/*
 * ondemand.h - on-demand recording in the index: the live rows of calls in progress,
 * the decisions asked through the web or the command line, and the settlement of
 * pending recordings after the call (docs/RULES.md "On demand").
 *
 * The capture process and the web process are separate: they meet only in the index.
 * The capture process publishes each on_demand call in progress as a calls row with
 * live = 1 (the id the web lists and acts on), polls call_requests for those calls at
 * its idle tick and applies them to the recording it holds (media.h
 * media_on_demand_request).  After a call's end its recording is sealed in place and
 * marked pending; any process may then settle it: a keep only changes the mark, a
 * discard or a deadline passed destroys the file (unlinked, its recording row and
 * waveform deleted; the call row keeps metadata with media_state "discarded").
 * Every decision is audited (audit.h) with who made it: a user, "cli:UID", "dtmf" or
 * "grace".
 */
#ifndef GREFFIER_ONDEMAND_H
#define GREFFIER_ONDEMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/call.h"
#include "greffier/media_result.h"
#include "greffier/packet.h"

struct index;

/* ---- the capture process ------------------------------------------------------- */

/* Gives call c in progress its live row (status in_progress, the decision of an
 * on_demand call or NULL, the rule, relpath: its recording) and sets c->id.  The
 * pipeline publishes every call with a recording this way, on demand or not.  Returns 1 when published, 0 when the
 * call is already indexed (a capture imported again: c->id = -1, the call is not live),
 * -1 on error (logged). */
int ondemand_publish(struct index *ix, struct call *c, const struct media_rules_decision *d,
                     const char *relpath);
/* Keeps the live row's decision current (what the web lists); the malicious mark is
 * applied at once.  0 or -1. */
int ondemand_update_live(struct index *ix, int64_t call_ref, const struct media_rules_decision *d);

struct ondemand_request {
    int64_t id, call_ref;
    char action[12]; /* keep, discard, malicious */
    char user[72];
};
/* The requests not applied yet on live calls, oldest first, in *out (malloc'd, the
 * caller frees).  Returns their number, -1 on error. */
long ondemand_live_requests(struct index *ix, struct ondemand_request **out);
/* Marks request id applied, with its outcome ("kept", "already discarded" ...). */
int ondemand_request_done(struct index *ix, int64_t id, const char *outcome);

/* After index_store_media: audits the decision taken during the call and applies the
 * malicious mark.  0 or -1. */
int ondemand_stored(struct index *ix, int64_t call_ref, const struct media_rules_decision *d);

/* Live rows of undecided on-demand calls left by a capture process that died: their
 * recording (recovered by vault_recover as a truncated file) is destroyed and the rows
 * stop being live (kept ones are closed by index_recover_live, which runs first).  A
 * row whose .part file is still locked by a living writer is left alone.  Returns the
 * number of rows settled, -1 on error. */
long ondemand_recover(struct index *ix, const char *data_dir);

/* ---- any process ---------------------------------------------------------------- */

/* Applies the requests waiting on calls that have ended, then, when expire is true,
 * destroys every pending recording whose deadline is before now (packet time in the
 * pipeline; the wall clock elsewhere).  Returns the number of calls settled, -1 on error. */
long ondemand_settle(struct index *ix, const char *data_dir, pkt_time_t now, bool expire);

/* The web's and the command line's entry: action keep, discard or malicious on
 * call_ref by user.  Returns 1 when applied at once (the call has ended; *state is
 * "kept", "discarded" or "marked"), 0 when the call is in progress (the capture process
 * applies it within a second; *state is "requested"), -2 when there is no such call,
 * -3 when it cannot be done (err says why: not an on_demand call, already decided),
 * -1 on error. */
int ondemand_request(struct index *ix, const char *data_dir, int64_t call_ref, const char *action,
                     const char *user, char *state, size_t statesize, char *err, size_t errsize);

/* Marks call_ref malicious: tag "malicious", a legal hold (reason "malicious call"), the
 * alarm "malicious_call:ID" (error) and an audit row.  Marking twice does nothing more.
 * 0 or -1. */
int ondemand_mark_malicious(struct index *ix, int64_t call_ref, const char *user);

#endif

/*
 * store_media.c - writing what the media stage learnt of a call into the index: its
 * media state, recording, RTP streams and timed events (media_result.h); and the
 * streams that matched no call.
 *
 * Like store_call.c, one call's media is written inside a savepoint: the index never
 * holds a recording without its streams.  A call's media is written once; storing it
 * again (the same capture imported twice) leaves the first copy alone, as calls are.
 * Sentinels of the media stage (mos 0, offsets -1, channel -1, RTCP never seen) become
 * NULL, so that SQL and JSON readers see "not measured" rather than a fake zero.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "greffier/log.h"
#include "greffier/timefmt.h"
#include "index_int.h"

/* call_ref < 0: an unmatched stream (NULL call, NULL channel). */
static int store_stream(struct index *ix, int64_t call_ref, const struct media_stream_result *s,
                        char *err, size_t errsize)
{
    struct ix_binder b = {ix->st[ST_INSERT_STREAM], NULL, SQLITE_OK};
    if (call_ref > 0)
        ix_bind_int(&b, ":call_ref", call_ref);
    else
        ix_bind_null(&b, ":call_ref");
    if (call_ref > 0 && (s->channel == 0 || s->channel == 1))
        ix_bind_int(&b, ":channel", s->channel);
    else
        ix_bind_null(&b, ":channel");
    ix_bind_addr(&b, ":src_ip", ":src_port", &s->src, s->sport);
    ix_bind_addr(&b, ":dst_ip", ":dst_port", &s->dst, s->dport);
    ix_bind_int(&b, ":ssrc", s->ssrc);
    ix_bind_int(&b, ":ssrc_changes", s->ssrc_changes);
    ix_bind_chars(&b, ":payload_types", s->payload_types, sizeof(s->payload_types));
    ix_bind_chars(&b, ":codec", s->codec, sizeof(s->codec));
    ix_bind_u64(&b, ":packets", s->packets);
    ix_bind_u64(&b, ":bytes", s->bytes);
    ix_bind_u64(&b, ":lost", s->lost);
    ix_bind_u64(&b, ":duplicated", s->duplicated);
    ix_bind_u64(&b, ":reordered", s->reordered);
    ix_bind_u64(&b, ":late", s->late);
    ix_bind_double(&b, ":jitter_ms", s->jitter_ms);
    ix_bind_double(&b, ":max_gap_ms", s->max_gap_ms);
    if (s->mos > 0)
        ix_bind_double(&b, ":mos", s->mos);
    else
        ix_bind_null(&b, ":mos");
    ix_bind_opt_int(&b, ":first_us", s->first);
    ix_bind_opt_int(&b, ":last_us", s->last);
    ix_bind_int(&b, ":srtp", s->srtp);
    ix_bind_u64(&b, ":srtp_auth_failures", s->srtp_auth_failures);
    ix_bind_int(&b, ":rtcp_seen", s->rtcp_seen);
    if (s->rtcp_seen) {
        ix_bind_double(&b, ":rtcp_fraction_lost", s->rtcp_fraction_lost);
        ix_bind_int(&b, ":rtcp_cumulative_lost", s->rtcp_cumulative_lost);
        ix_bind_double(&b, ":rtcp_jitter_ms", s->rtcp_jitter_ms);
    } else {
        ix_bind_null(&b, ":rtcp_fraction_lost");
        ix_bind_null(&b, ":rtcp_cumulative_lost");
        ix_bind_null(&b, ":rtcp_jitter_ms");
    }
    return ix_step_bound(ix->db, &b, err, errsize);
}

static int store_recording(struct index *ix, int64_t call_ref, const struct recording_result *r,
                           char *err, size_t errsize)
{
    struct ix_binder b = {ix->st[ST_INSERT_RECORDING], NULL, SQLITE_OK};
    /* min, max for each of the two channels per bucket */
    if (r->npeaks > SIZE_MAX / 4) {
        snprintf(err, errsize, "recording: %zu waveform peaks", r->npeaks);
        return -1;
    }
    ix_bind_int(&b, ":call_ref", call_ref);
    ix_bind_chars(&b, ":path", r->path, sizeof(r->path));
    ix_bind_chars(&b, ":codec_in", r->codec_in, sizeof(r->codec_in));
    ix_bind_int(&b, ":sample_rate", r->sample_rate);
    ix_bind_double(&b, ":duration_s", r->duration_s);
    ix_bind_u64(&b, ":bytes", r->bytes);
    ix_bind_chars(&b, ":sha256", r->sha256, sizeof(r->sha256));
    ix_bind_opt_int(&b, ":start_us", r->start);
    if (r->answer_offset_ms >= 0)
        ix_bind_int(&b, ":answer_offset_ms", r->answer_offset_ms);
    else
        ix_bind_null(&b, ":answer_offset_ms");
    ix_bind_int(&b, ":bitrate", r->bitrate);
    ix_bind_int(&b, ":frame_ms", r->frame_ms);
    ix_bind_int(&b, ":complexity", r->complexity);
    ix_bind_int(&b, ":peaks_per_second", r->peaks_per_second);
    if (r->peaks && r->npeaks)
        ix_bind_blob(&b, ":peaks", r->peaks, r->npeaks * 4);
    else
        ix_bind_null(&b, ":peaks");
    ix_bind_chars(&b, ":state", r->state, sizeof(r->state));
    return ix_step_bound(ix->db, &b, err, errsize);
}

static int store_event(struct index *ix, int64_t call_ref, const struct media_event *e, char *err,
                       size_t errsize)
{
    struct ix_binder b = {ix->st[ST_INSERT_EVENT], NULL, SQLITE_OK};
    ix_bind_int(&b, ":call_ref", call_ref);
    ix_bind_int(&b, ":ts_us", e->ts);
    if (e->offset_ms >= 0)
        ix_bind_int(&b, ":offset_ms", e->offset_ms);
    else
        ix_bind_null(&b, ":offset_ms");
    ix_bind_chars(&b, ":kind", e->kind, sizeof(e->kind));
    ix_bind_chars(&b, ":detail", e->detail, sizeof(e->detail));
    if (e->channel == 0 || e->channel == 1)
        ix_bind_int(&b, ":channel", e->channel);
    else
        ix_bind_null(&b, ":channel");
    return ix_step_bound(ix->db, &b, err, errsize);
}

/* The UPDATE changed nothing: 1 when the call exists (its media is already stored),
 * 0 when there is no such call, -1 on error. */
static int call_exists(struct index *ix, int64_t id, char *err, size_t errsize)
{
    sqlite3_stmt *st = ix->st[ST_GET_RECORDING];
    int rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        snprintf(err, errsize, "%s", sqlite3_errmsg(ix->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The recording rules' decision: calls.rule, rule_action, retention_days and call_tags. */
static int store_decision(struct index *ix, int64_t call_rowid,
                          const struct media_rules_decision *d, char *err, size_t errsize)
{
    struct ix_binder b = {ix->st[ST_SET_DECISION], NULL, SQLITE_OK};
    ix_bind_chars(&b, ":rule", d->origin, sizeof(d->origin));
    ix_bind_chars(&b, ":action", d->action, sizeof(d->action));
    ix_bind_opt_int(&b, ":retention_days", d->retention_days);
    /* On demand: the decision so far (src/index/ondemand.c settles a pending one). */
    char at[TIME_ISO_SIZE];
    bool od = d->on_demand[0] != '\0';
    bool decided = od && d->decided_by[0];
    ix_bind_text(&b, ":decision", od ? d->on_demand : NULL);
    ix_bind_text(&b, ":decision_by", decided ? d->decided_by : NULL);
    ix_bind_text(&b, ":decision_at",
                 decided ? time_format_iso_ms(d->decided_at, at, sizeof(at)) : NULL);
    if (od && strcmp(d->on_demand, "pending") == 0)
        ix_bind_int(&b, ":deadline", d->deadline);
    else
        ix_bind_null(&b, ":deadline");
    ix_bind_int(&b, ":id", call_rowid);
    if (ix_step_bound(ix->db, &b, err, errsize) != 0)
        return -1;
    for (size_t i = 0; i < d->ntags && i < RULE_MAX_TAGS; i++) {
        struct ix_binder t = {ix->st[ST_INSERT_TAG], NULL, SQLITE_OK};
        ix_bind_int(&t, ":call_ref", call_rowid);
        ix_bind_chars(&t, ":tag", d->tags[i], sizeof(d->tags[i]));
        if (ix_step_bound(ix->db, &t, err, errsize) != 0)
            return -1;
    }
    return 0;
}

int index_store_media(struct index *ix, int64_t call_rowid, const struct call_media_result *r)
{
    char err[512] = "";
    struct ix_binder b = {ix->st[ST_SET_MEDIA_STATE], NULL, SQLITE_OK};

    if (!strnlen(r->media_state, sizeof(r->media_state))) {
        snprintf(err, sizeof(err), "no media state");
        goto fail;
    }
    if ((r->nstreams && !r->streams) || (r->nevents && !r->events)) {
        snprintf(err, sizeof(err), "streams or events missing");
        goto fail;
    }
    if (ix_step_done(ix->db, ix->st[ST_SAVEPOINT], err, sizeof(err)) != SQLITE_DONE)
        goto fail;

    ix_bind_chars(&b, ":media_state", r->media_state, sizeof(r->media_state));
    ix_bind_int(&b, ":id", call_rowid);
    if (ix_step_bound(ix->db, &b, err, sizeof(err)) != 0)
        goto rollback;
    if (sqlite3_changes(ix->db) != 1) {
        int exists = call_exists(ix, call_rowid, err, sizeof(err));
        if (exists == 0)
            snprintf(err, sizeof(err), "no such call");
        if (exists != 1)
            goto rollback;
        log_msg(LOG_DEBUG, "index: call %lld: media already stored, kept", (long long)call_rowid);
        goto release;
    }
    if (r->decision.made && store_decision(ix, call_rowid, &r->decision, err, sizeof(err)) != 0)
        goto rollback;
    if (r->rec.present && store_recording(ix, call_rowid, &r->rec, err, sizeof(err)) != 0)
        goto rollback;
    for (size_t i = 0; i < r->nstreams; i++) {
        if (store_stream(ix, call_rowid, &r->streams[i], err, sizeof(err)) != 0)
            goto rollback;
    }
    for (size_t i = 0; i < r->nevents; i++) {
        if (store_event(ix, call_rowid, &r->events[i], err, sizeof(err)) != 0)
            goto rollback;
    }
release:
    if (ix_step_done(ix->db, ix->st[ST_RELEASE], err, sizeof(err)) != SQLITE_DONE)
        goto rollback;
    return 0;

rollback:
    /* As in index_store_call: ROLLBACK TO keeps the savepoint, RELEASE ends it. */
    ix_step_done(ix->db, ix->st[ST_ROLLBACK_TO], NULL, 0);
    ix_step_done(ix->db, ix->st[ST_RELEASE], NULL, 0);
fail:
    log_msg(LOG_ERR, "index: storing media of call %lld: %s", (long long)call_rowid, err);
    return -1;
}

int index_store_unmatched_stream(struct index *ix, const struct media_stream_result *s)
{
    char err[512] = "";
    if (store_stream(ix, -1, s, err, sizeof(err)) != 0) {
        log_msg(LOG_ERR, "index: storing unmatched stream: %s", err);
        return -1;
    }
    return 0;
}

/* Copies a text column into a fixed field; false when it does not fit (a row written by
 * another tool), so that a path is never silently cut. */
static bool copy_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (!s) {
        dst[0] = '\0';
        return true;
    }
    if (n >= size || memchr(s, '\0', n))
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

int index_get_recording(struct index *ix, int64_t call_rowid, struct recording_info *out)
{
    enum { C_MEDIA_STATE, C_REC_ID, C_PATH, C_SHA256, C_BYTES, C_RATE, C_DURATION, C_STATE };
    sqlite3_stmt *st = ix->st[ST_GET_RECORDING];
    const char *err = NULL;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    out->call_rowid = call_rowid;
    int rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), call_rowid);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = -2;
    } else if (rc != SQLITE_ROW) {
        err = sqlite3_errmsg(ix->db);
    } else if (!copy_col(st, C_MEDIA_STATE, out->media_state, sizeof(out->media_state))) {
        err = "media_state too long";
    } else if (sqlite3_column_type(st, C_REC_ID) == SQLITE_NULL) {
        ret = 0;
    } else if (!copy_col(st, C_PATH, out->path, sizeof(out->path)) ||
               !copy_col(st, C_SHA256, out->sha256, sizeof(out->sha256)) ||
               !copy_col(st, C_STATE, out->state, sizeof(out->state))) {
        err = "recording row with an over-long path, sha256 or state";
    } else {
        int64_t bytes = sqlite3_column_int64(st, C_BYTES);
        int64_t rate = sqlite3_column_int64(st, C_RATE);
        out->bytes = bytes > 0 ? (uint64_t)bytes : 0;
        out->sample_rate = rate > 0 && rate <= 384000 ? (unsigned)rate : 0;
        out->duration_s = sqlite3_column_double(st, C_DURATION);
        ret = 1;
    }
    /* Before the reset, which may replace the text sqlite3_errmsg pointed to. */
    if (err)
        log_msg(LOG_ERR, "index: recording of call %lld: %s", (long long)call_rowid, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

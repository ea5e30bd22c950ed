/*
 * recording.c - a call's recording: when it starts, how it advances with packet time,
 * and how it is closed (see docs/RECORDINGS.md).
 *
 * It starts at the answer, or at the first early media (RTP after a 183) when
 * [media] keep_early_media is on; the index keeps where the answer falls in the file.
 * It ends at the call's end (BYE).  Narrowband calls are recorded at 8 kHz, calls with
 * a wideband codec (G.722, Opus, L16 above 11 kHz) at 16 kHz.  Only answered calls keep
 * their recording; early media of a call that was never answered is discarded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/json.h"
#include "greffier/dialog.h"
#include "greffier/log.h"
#include "greffier/rules.h"
#include "greffier/timefmt.h"
#include "media_internal.h"

static bool wideband(enum codec_id id, uint32_t clock)
{
    return id == CODEC_G722 || id == CODEC_OPUS || (id == CODEC_L16 && clock > 11025);
}

/* 16 kHz when the codec chosen in any SDP of the call (its first audio payload) is
 * wideband: the recording keeps what the call carried. */
static unsigned call_rate(const struct call *c)
{
    for (size_t i = 0; i < c->noffers; i++)
        for (unsigned k = 0; k < c->offers[i].sdp.count; k++) {
            const struct sdp_media *sm = &c->offers[i].sdp.m[k];
            if (strcmp(sm->media, "audio") != 0 || sm->npayloads == 0)
                continue;
            const struct sdp_payload *p = &sm->payloads[0];
            if (wideband(codec_identify(p->encoding, p->pt), p->clock_rate))
                return 16000;
        }
    return 8000;
}

static uint32_t hash32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

void media_event_at(struct call_media *cm, pkt_time_t ts, int64_t offset_ms, const char *kind,
                    int channel, const char *detail)
{
    if (cm->nevents == cm->events_cap) {
        size_t cap = cm->events_cap ? cm->events_cap * 2 : 8;
        struct media_event *n = realloc(cm->events, cap * sizeof(*n));
        if (!n)
            return;
        cm->events = n;
        cm->events_cap = cap;
    }
    struct media_event *e = &cm->events[cm->nevents++];
    memset(e, 0, sizeof(*e));
    e->ts = ts;
    e->offset_ms = offset_ms;
    e->channel = channel;
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
}

void media_event(struct call_media *cm, pkt_time_t ts, const char *kind, int channel,
                 const char *detail)
{
    int64_t offset = cm->recording && ts >= cm->rec_start ? (ts - cm->rec_start) / 1000 : -1;
    media_event_at(cm, ts, offset, kind, channel, detail);
}

/* Asks the recording rules once per call, at the call's start time (hours and days are
 * those of the INVITE, not of the first audio), and keeps a copy of the answer. */
bool recording_rules(struct media *m, struct call_media *cm)
{
    struct media_rules_decision *md = &cm->decision;
    if (md->made)
        return md->recorded;
    /* The dialog tracker classifies the direction only when the call ends; the rules
     * need it now, from the same INVITE addresses and numbers. */
    struct call view = *cm->call;
    if (view.direction == DIR_UNKNOWN)
        view.direction = call_classify_direction(m->cfg, &view);
    struct rules_decision d;
    rules_decide(m->cfg, &view, view.start, &d);
    md->made = true;
    md->recorded = d.record;
    snprintf(md->origin, sizeof(md->origin), "%s", rules_decision_origin(&d));
    snprintf(md->action, sizeof(md->action), "%s", rules_action_name(d.action));
    md->retention_days = d.retention_days;
    for (size_t i = 0; i < d.ntags && i < RULE_MAX_TAGS; i++)
        snprintf(md->tags[md->ntags++], RULE_TAG_SIZE, "%s", d.tags[i]);
    /* The agent's keys count on every recorded call (malicious_code), and keep or
     * discard the recording of an on_demand one. */
    if (d.record)
        cm->agent_channels = rules_agent_channels(view.direction);
    if (d.action == RULES_ON_DEMAND && d.record)
        snprintf(md->on_demand, sizeof(md->on_demand), "pending");
    return md->recorded;
}

/* A write that failed for lack of space tells the daemon to check the disk now
 * (media_disk_full_seen) rather than at its next minute. */
static void note_disk_full(struct media *m, const struct recording_file *rf, int err)
{
    if (recording_file_errno(rf) == ENOSPC || err == ENOSPC)
        m->disk_full_seen = true;
}

static int writer_sink(void *user, const uint8_t *data, size_t len)
{
    return recording_file_write(user, data, len);
}

/* The timeline's sinks: the writer on this thread, or the lane of a worker. */
static int push_direct(void *user, const int16_t *left, const int16_t *right, size_t n)
{
    return ogg_opus_writer_push(user, left, right, n);
}

static int push_lane(void *user, const int16_t *left, const int16_t *right, size_t n)
{
    return encoder_lane_push(user, left, right, n);
}

/* The metadata sealed in the recording's header (docs/FORMAT.md), so that `greffier
 * reindex` can rebuild the call's row from the recordings alone.  It is sealed when the
 * recording starts (rewriting it later would reuse its nonce), so it holds what is known
 * then; the end and the duration are read from the audio itself.  malloc'd JSON, NULL
 * when out of memory. */
static char *recording_meta(const struct media *m, const struct call_media *cm, pkt_time_t start,
                            size_t *len)
{
    const struct call *c = cm->call;
    const struct media_rules_decision *md = &cm->decision;
    char *buf = NULL, when[TIME_ISO_SIZE];
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    struct json_writer w;
    json_init(&w, f, false);
    json_object_begin(&w);
    json_key(&w, "call_id");
    json_string(&w, c->call_id);
    json_key(&w, "start");
    json_string(&w, time_format_iso_ms(start, when, sizeof(when)));
    json_key(&w, "start_us");
    json_int(&w, (int64_t)start);
    json_key(&w, "caller");
    json_string(&w, c->caller.number);
    json_key(&w, "callee");
    json_string(&w, c->callee.number);
    /* Added for reindex (older files stop here; readers ignore what they do not know). */
    json_key(&w, "call_start_us");
    json_int(&w, (int64_t)c->start);
    if (c->answer) {
        json_key(&w, "answer_us");
        json_int(&w, (int64_t)c->answer);
    }
    json_key(&w, "caller_name");
    json_string(&w, c->caller.name);
    json_key(&w, "callee_name");
    json_string(&w, c->callee.name);
    json_key(&w, "direction");
    enum call_direction dir =
        c->direction == DIR_UNKNOWN ? call_classify_direction(m->cfg, c) : c->direction;
    json_string(&w, call_direction_name(dir));
    json_key(&w, "rule");
    json_string(&w, md->made ? md->origin : NULL);
    json_key(&w, "rule_action");
    json_string(&w, md->made ? md->action : NULL);
    if (md->retention_days) {
        json_key(&w, "retention_days");
        json_uint(&w, md->retention_days);
    }
    json_key(&w, "tags");
    json_array_begin(&w);
    for (size_t i = 0; i < md->ntags; i++)
        json_string(&w, md->tags[i]);
    json_array_end(&w);
    json_key(&w, "codec");
    json_string(&w, cm->codecs[0] ? cm->codecs : NULL);
    json_key(&w, "sample_rate");
    json_uint(&w, cm->rate);
    json_key(&w, "bitrate");
    json_uint(&w, m->cfg->opus_bitrate);
    json_key(&w, "frame_ms");
    json_uint(&w, m->frame_ms);
    json_object_end(&w);
    int ok = json_finish(&w);
    if (fclose(f) != 0 || ok != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

bool recording_ensure(struct media *m, struct call_media *cm, pkt_time_t first_audio)
{
    if (cm->recording)
        return true;
    if (cm->failed)
        return false;
    /* A call the rules do not record never gets a file: no audio is written anywhere. */
    if (!recording_rules(m, cm))
        return false;
    if (m->disk_full) {
        if (!cm->disk_full)
            COUNT(m->counters, drop_recording_disk_full);
        cm->disk_full = true;
        return false;
    }
    const struct call *c = cm->call;
    pkt_time_t start;
    bool early = !c->answer || first_audio < c->answer;
    if (early) {
        if (!m->cfg->keep_early_media)
            return false;
        start = first_audio;
    } else {
        start = c->answer;
    }
    if (c->end && start >= c->end)
        return false;

    char err[512], when[TIME_ISO_SIZE];
    cm->rate = call_rate(c);
    /* Loaded once per media stage: a key made by `greffier keygen` is used from the
     * next start.  A missing key fails each recording (and says so) until then. */
    if (!m->pubkey)
        m->pubkey = vault_load_newest_pubkey(m->data_dir, err, sizeof(err));
    if (!m->pubkey)
        goto fail;
    size_t metalen = 0;
    char *meta = recording_meta(m, cm, start, &metalen);
    if (!meta) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    cm->file = recording_file_create(m->data_dir, start, c->call_id, m->pubkey, meta, metalen,
                                     m->cfg->seal_interval_s, cm->relpath, sizeof(cm->relpath),
                                     err, sizeof(err));
    free(meta);
    if (!cm->file)
        goto fail;
    char cid[160], caller[80], callee[80], started[80];
    snprintf(cid, sizeof(cid), "GREFFIER_CALL_ID=%s", c->call_id);
    snprintf(caller, sizeof(caller), "CALLER=%s", c->caller.number ? c->caller.number : "");
    snprintf(callee, sizeof(callee), "CALLEE=%s", c->callee.number ? c->callee.number : "");
    snprintf(started, sizeof(started), "START=%s", time_format_iso_ms(start, when, sizeof(when)));
    struct ogg_opus_settings st = {
        .sample_rate = cm->rate,
        .bitrate = m->cfg->opus_bitrate,
        .frame_ms = m->frame_ms,
        .complexity = m->complexity,
        .serial = hash32(c->call_id),
        .comments = {cid, caller, callee, started,
                     "CHANNELS=left: caller, right: callee", NULL},
    };
    struct byte_sink sink = {.write = writer_sink, .user = cm->file};
    cm->writer = ogg_opus_writer_new(&st, &sink, err, sizeof(err));
    cm->complexity_min = m->complexity;
    if (!cm->writer)
        goto fail;
    /* The ring holds the jitter window and two seconds more: enough for any packet the
     * window still waits for, and no more (it is memory per active call). */
    unsigned ring_s = (m->cfg->jitter_window_ms + 999) / 1000 + 2;
    struct timeline_sink tsink = {push_direct, cm->writer};
    if (m->encoders) {
        cm->lane = encoder_lane_new(m->encoders, cm->writer);
        tsink = (struct timeline_sink){push_lane, cm->lane};
    }
    cm->tl = (!m->encoders || cm->lane)
                 ? timeline_new(cm->rate, cm->rate * m->frame_ms / 1000, ring_s, tsink)
                 : NULL;
    if (!cm->tl) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail;
    }
    cm->rec_start = start;
    cm->recording = true;
    if (early)
        media_event(cm, first_audio, "early_media", -1, "");
    return true;

fail:
    note_disk_full(m, cm->file, errno);
    log_msg(LOG_ERR, "media: call %s: recording not started: %s", c->call_id, err);
    COUNT(m->counters, drop_recording_failed);
    encoder_lane_free(cm->lane); /* nothing queued yet */
    cm->lane = NULL;
    ogg_opus_writer_free(cm->writer);
    cm->writer = NULL;
    recording_file_abort(cm->file);
    cm->file = NULL;
    cm->failed = true;
    return false;
}

void recording_destroy(struct media *m, struct call_media *cm)
{
    (void)m;
    timeline_free(cm->tl);
    cm->tl = NULL;
    ogg_opus_writer_free(cm->writer);
    cm->writer = NULL;
    recording_file_abort(cm->file); /* unlinks the sealed .part */
    cm->file = NULL;
    cm->recording = false;
    cm->decision.recorded = false; /* recording_ensure never starts it again */
}

int64_t recording_end_pos(const struct call_media *cm)
{
    if (!cm->call->end)
        return INT64_MAX;
    if (cm->call->end <= cm->rec_start)
        return 0;
    return (int64_t)((cm->call->end - cm->rec_start) * (int64_t)cm->rate / 1000000);
}

void recording_advance(struct media *m, struct call_media *cm, pkt_time_t now)
{
    if (!cm->recording || cm->failed)
        return;
    pkt_time_t horizon = now - (pkt_time_t)m->cfg->jitter_window_ms * 1000;
    if (horizon <= cm->rec_start)
        return;
    int64_t pos = (int64_t)((horizon - cm->rec_start) * (int64_t)cm->rate / 1000000);
    int64_t end = recording_end_pos(cm);
    if (pos > end)
        pos = end;
    if (timeline_flush_until(cm->tl, (uint64_t)pos) != 0) {
        note_disk_full(m, cm->file, 0);
        log_msg(LOG_ERR, "media: call %s: encoding failed: %s", cm->call->call_id,
                ogg_opus_writer_error(cm->writer));
        cm->failed = true;
    }
}

static void copy_results(struct call_media *cm, struct call_media_result *out)
{
    size_t n = 0;
    for (struct media_stream *s = cm->streams; s; s = s->cnext)
        if (!s->rtcp_port)
            n++;
    out->streams = n ? calloc(n, sizeof(*out->streams)) : NULL;
    if (out->streams)
        for (struct media_stream *s = cm->streams; s; s = s->cnext)
            if (!s->rtcp_port)
                stream_result(s, &out->streams[out->nstreams++]);
    out->events = cm->nevents ? calloc(cm->nevents, sizeof(*out->events)) : NULL;
    if (out->events) {
        memcpy(out->events, cm->events, cm->nevents * sizeof(*out->events));
        out->nevents = cm->nevents;
    }
}

static void close_file(struct media *m, struct call_media *cm, struct call_media_result *out)
{
    const struct call *c = cm->call;
    struct recording_result *rec = &out->rec;
    uint64_t end = c->end ? (uint64_t)recording_end_pos(cm) : timeline_written_end(cm->tl);
    char err[256] = "";
    /* The last frames are handed over, every queued frame encoded, then the stream ends. */
    if (cm->failed || timeline_finish(cm->tl, end) != 0 ||
        (cm->lane && encoder_lane_drain(cm->lane) != 0) ||
        ogg_opus_writer_finish(cm->writer) != 0) {
        log_msg(LOG_ERR, "media: call %s: recording failed: %s", c->call_id,
                ogg_opus_writer_error(cm->writer));
        goto fail;
    }
    const struct waveform_peaks *pk = ogg_opus_writer_peaks(cm->writer);
    if (pk && pk->count) {
        int8_t *copy = malloc(pk->count * 4);
        if (copy) {
            memcpy(copy, pk->min_max, pk->count * 4);
            out->owned_ = copy;
            rec->peaks = copy;
            rec->npeaks = pk->count;
            rec->peaks_per_second = pk->per_second;
        }
    }
    uint64_t samples = ogg_opus_writer_samples(cm->writer);
    if (recording_file_commit(cm->file, cm->unindexed, rec->sha256, &rec->bytes, err,
                              sizeof(err)) != 0) {
        cm->file = NULL;
        log_msg(LOG_ERR, "media: call %s: recording not stored: %s", c->call_id, err);
        goto fail;
    }
    cm->file = NULL;
    rec->present = true;
    snprintf(rec->path, sizeof(rec->path), "%s", cm->relpath);
    snprintf(rec->codec_in, sizeof(rec->codec_in), "%s", cm->codecs[0] ? cm->codecs : "none");
    rec->sample_rate = cm->rate;
    rec->duration_s = (double)samples / cm->rate;
    rec->start = cm->rec_start;
    rec->answer_offset_ms = c->answer ? (c->answer - cm->rec_start) / 1000 : -1;
    rec->bitrate = m->cfg->opus_bitrate;
    rec->frame_ms = m->frame_ms;
    rec->complexity = cm->complexity_min;
    snprintf(rec->state, sizeof(rec->state), "complete");
    snprintf(out->media_state, sizeof(out->media_state), "recorded");
    COUNT(m->counters, recordings);
    COUNT_N(m->counters, recording_bytes, rec->bytes);
    return;
fail:
    note_disk_full(m, cm->file, 0);
    COUNT(m->counters, drop_recording_failed);
    recording_file_abort(cm->file);
    cm->file = NULL;
    snprintf(out->media_state, sizeof(out->media_state), "failed");
}

void recording_close(struct media *m, struct call_media *cm, struct call_media_result *out)
{
    const struct call *c = cm->call;
    for (struct media_stream *s = cm->streams; s; s = s->cnext)
        stream_flush(m, s);
    bool allowed = recording_rules(m, cm);
    /* Unless the file is closed below (close_file drains after the last frames), the
     * worker must be done with the writer and the file before they are dropped. */
    if (cm->lane && !(cm->recording && c->status == CALL_ANSWERED && allowed))
        encoder_lane_drain(cm->lane);
    out->decision = cm->decision;
    if (cm->encrypted && !cm->recording && allowed)
        COUNT(m->counters, calls_media_encrypted);
    struct media_rules_decision *md = &cm->decision;
    if (strcmp(md->on_demand, "discarded") == 0) {
        /* Destroyed during the call (recording_destroy): nothing of it is left. */
        snprintf(out->media_state, sizeof(out->media_state), "discarded");
    } else if (!allowed && c->status == CALL_ANSWERED) {
        COUNT(m->counters, calls_not_recorded);
        snprintf(out->media_state, sizeof(out->media_state), "not_recorded");
    } else if (!cm->recording) {
        snprintf(out->media_state, sizeof(out->media_state), "%s",
                 cm->failed                   ? "failed"
                 : cm->disk_full              ? "disk_full"
                 : cm->encrypted              ? "encrypted"
                 : c->status == CALL_ANSWERED ? "no_media"
                                              : "not_answered");
    } else if (c->status != CALL_ANSWERED) {
        COUNT(m->counters, early_media_discarded);
        recording_file_abort(cm->file);
        cm->file = NULL;
        snprintf(out->media_state, sizeof(out->media_state), "not_answered");
    } else {
        close_file(m, cm, out);
    }
    if (strcmp(md->on_demand, "pending") == 0) {
        /* Nothing recorded, nothing to decide; else the grace period starts at the end. */
        if (!out->rec.present)
            md->on_demand[0] = '\0';
        pkt_time_t end = c->end ? c->end : c->last_activity;
        md->deadline = end + (pkt_time_t)m->cfg->on_demand_grace_s * 1000000;
    }
    out->decision = cm->decision;
    copy_results(cm, out);
    timeline_free(cm->tl);
    cm->tl = NULL;
    encoder_lane_free(cm->lane); /* drained already: frees the lane only */
    cm->lane = NULL;
    ogg_opus_writer_free(cm->writer);
    cm->writer = NULL;
}

void media_each_recording(struct media *m,
                          void (*fn)(void *user, struct call *c,
                                     const struct media_rules_decision *d, const char *relpath),
                          void *user)
{
    for (struct call_media *cm = m->calls; cm; cm = cm->next)
        if (cm->recording && cm->relpath[0])
            fn(user, cm->call, &cm->decision, cm->relpath);
}

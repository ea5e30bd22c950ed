/*
 * pipeline.c - classification and dispatch: which transport payloads are SIP, and
 * where everything else goes.
 *
 * A UDP datagram or SCTP chunk is SIP when it uses a configured SIP port or, with
 * detection on, starts with a SIP start line.  A TCP segment is reassembled when it
 * uses a SIP port, belongs to a flow already being reassembled, or opens with a SIP
 * start line or a WebSocket upgrade.  TCP on a SIP-over-TLS port is never parsed:
 * its flows are counted and indexed so an admin knows which calls were not readable.
 * All other UDP goes to the media stage (RTP).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greffier/dialog.h"
#include "greffier/log.h"
#include "greffier/media.h"
#include "greffier/net.h"
#include "greffier/ondemand.h"
#include "greffier/pipeline.h"
#include "greffier/sip_msg.h"
#include "greffier/sip_stream.h"
#include "greffier/tcp_stream.h"
#include "call_report.h"
#include "tls_flows.h"

#define SECOND ((pkt_time_t)1000000)
/* Calls written per index transaction during a burst; each commit is one fsync. */
#define CALLS_PER_COMMIT 500
/* The longest a published live row waits for its commit (import: see publish_live). */
#define LIVE_COMMIT_MS 1000

struct pipeline {
    const struct config *cfg;
    struct index *ix;
    struct counters *counters;
    struct net_decoder *net;
    struct tcp_reassembler *tcp;
    struct dialogs *dialogs;
    struct media *media;
    struct tls_flows *tls;
    struct call_report *report;
    uint8_t sip_port[65536 / 8];
    uint8_t tls_port[65536 / 8];
    pkt_time_t now;
    pkt_time_t next_tick;
    pkt_time_t next_commit; /* live capture: see pipeline_idle() */
    pkt_time_t newest_frame; /* capture time of the newest frame (backlog measure) */
    uint64_t frames_since_idle;
    pkt_time_t last_complexity_change, calm_since;
    unsigned uncommitted;
    bool in_transaction;
    bool live_uncommitted;   /* a live row was published since the last commit */
    int64_t committed_at_ms; /* monotonic, at the last commit */
    bool on_demand; /* on_demand rules or a malicious code: the idle tick serves them */
    pkt_time_t backlog; /* at the last pipeline_idle() */
    uint64_t sip_requests[PIPELINE_SIP_METHODS], sip_responses[PIPELINE_SIP_METHODS];

    /* The packet being classified, for the framing callbacks. */
    const struct l4_packet *current;
    enum sip_transport current_transport;
};

static bool port_in(const uint8_t *set, uint16_t port)
{
    return set[port >> 3] & (1u << (port & 7));
}

static void port_add(uint8_t *set, uint16_t port)
{
    set[port >> 3] |= (uint8_t)(1u << (port & 7));
}

/* ---- index sink ---------------------------------------------------------------- */

static void begin_if_needed(struct pipeline *p)
{
    if (!p->in_transaction && index_begin(p->ix) == 0)
        p->in_transaction = true;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void commit(struct pipeline *p)
{
    if (p->in_transaction) {
        index_commit(p->ix);
        p->in_transaction = false;
    }
    p->uncommitted = 0;
    p->live_uncommitted = false;
    p->committed_at_ms = mono_ms();
}

static void on_call_started(void *user, struct call *c)
{
    struct pipeline *p = user;
    media_call_started(p->media, c);
}

static void on_sip_dtmf(void *user, struct call *c, bool from_caller, char key, pkt_time_t ts)
{
    struct pipeline *p = user;
    media_sip_dtmf(p->media, c, from_caller, key, ts);
}

static void on_media_changed(void *user, struct call *c, const struct call_media_offer *o)
{
    struct pipeline *p = user;
    media_offer(p->media, c, o);
}

/* The recording is closed (durable on disk) before the call's row is written: an index
 * row never points at a file that is not there. */
static void on_call_finished(void *user, struct call *c)
{
    struct pipeline *p = user;
    struct call_media_result media;
    /* Our live row, or no row at all: what is at the recording's name was left by a
     * killed import (a re-import keeps the file a row describes). */
    int64_t existing;
    if (c->id > 0 ||
        (c->id == 0 && c->call_id && index_find_call(p->ix, c->call_id, c->start, &existing) == 0))
        media_call_unindexed(p->media, c);
    media_call_finished(p->media, c, &media);
    /* [rules] keep_metadata_of_unrecorded = no: a call the rules did not record leaves
     * no row either (only the calls_not_recorded counter). */
    if (media.decision.made && !media.decision.recorded && !p->cfg->keep_metadata_of_unrecorded) {
        call_report_finished(p->report, c, &media);
        media_result_free(&media);
        return;
    }
    begin_if_needed(p);
    int r = index_store_call(p->ix, c);
    if (r > 0) {
        COUNT(p->counters, calls);
        if (index_store_media(p->ix, c->id, &media) != 0)
            COUNT(p->counters, drop_index_error);
    } else if (r == 0) {
        COUNT(p->counters, calls_already_indexed);
    } else {
        COUNT(p->counters, drop_index_error);
        log_msg(LOG_ERR, "index: call %s not stored", c->call_id);
    }
    if (r > 0 && (media.decision.on_demand[0] || media.decision.malicious) &&
        ondemand_stored(p->ix, c->id, &media.decision) != 0)
        COUNT(p->counters, drop_index_error);
    if (r > 0)
        call_report_finished(p->report, c, &media);
    media_result_free(&media);
    if (++p->uncommitted >= CALLS_PER_COMMIT)
        commit(p);
}

/* ---- live rows: no audio on disk without a row -------------------------------------- */

static void publish_recording(void *user, struct call *c, const struct media_rules_decision *d,
                              const char *relpath)
{
    struct pipeline *p = user;
    if (c->id != 0)
        return; /* published already, or indexed before (-1) */
    begin_if_needed(p);
    int r = ondemand_publish(p->ix, c, d, relpath);
    if (r < 0)
        COUNT(p->counters, drop_index_error);
    else if (r > 0)
        p->live_uncommitted = true;
}

/* Every recording started since the last tick gets its live row (status in_progress,
 * live = 1, pending_path = its file): after a kill -9, the restart closes the row with
 * the truncated file (index_recover_live), instead of leaving an orphan.  Live, the
 * idle tick commits every second.  An import has no idle tick and commits every
 * CALLS_PER_COMMIT calls: a row published meanwhile is committed once it has waited
 * LIVE_COMMIT_MS of real time (the clock only bounds a loss, it decides no content). */
static void publish_live(struct pipeline *p)
{
    media_each_recording(p->media, publish_recording, p);
    if (p->live_uncommitted && mono_ms() - p->committed_at_ms >= LIVE_COMMIT_MS)
        commit(p);
}

/* ---- on demand (ondemand.h) ------------------------------------------------------- */

struct on_demand_pass {
    struct pipeline *p;
    const struct ondemand_request *rq;
    long nrq;
};

/* Each on_demand call in progress: its live row first (the id the web acts on), then
 * the requests waiting for it, then the row brought up to date. */
static void on_demand_call(void *user, struct call *c, const struct media_rules_decision *d,
                           const char *relpath)
{
    struct on_demand_pass *pass = user;
    struct pipeline *p = pass->p;
    if (c->id == 0) {
        begin_if_needed(p);
        if (ondemand_publish(p->ix, c, d, relpath) < 0)
            COUNT(p->counters, drop_index_error);
        return;
    }
    if (c->id < 0)
        return; /* indexed before (the same capture imported again): not live */
    for (long i = 0; i < pass->nrq; i++) {
        if (pass->rq[i].call_ref != c->id)
            continue;
        static const char *const outcome[] = {"not on demand", "applied", "already decided"};
        int r = media_on_demand_request(p->media, c, pass->rq[i].action, pass->rq[i].user, p->now);
        ondemand_request_done(p->ix, pass->rq[i].id, outcome[r + 1]);
    }
    if (ondemand_update_live(p->ix, c->id, d) != 0)
        COUNT(p->counters, drop_index_error);
}

/* Reads need no transaction: the write lock is taken only when there is something to
 * write (the web's requests must not wait behind an idle capture). */
static void on_demand_tick(struct pipeline *p)
{
    struct ondemand_request *rq = NULL;
    long n = ondemand_live_requests(p->ix, &rq);
    struct on_demand_pass pass = {p, rq, n > 0 ? n : 0};
    media_each_on_demand(p->media, on_demand_call, &pass);
    free(rq);
    /* Ended calls: requests that came after their end, and deadlines passed. */
    if (ondemand_settle(p->ix, p->cfg->data_dir, p->now, true) < 0)
        COUNT(p->counters, drop_index_error);
}

static void store_unmatched(void *user, const struct media_stream_result *s)
{
    struct pipeline *p = user;
    begin_if_needed(p);
    if (index_store_unmatched_stream(p->ix, s) != 0)
        COUNT(p->counters, drop_index_error);
}

/* ---- SIP ------------------------------------------------------------------------ */

static void on_sip_message(void *user, const uint8_t *bytes, size_t len)
{
    struct pipeline *p = user;
    const struct l4_packet *pkt = p->current;
    const char *err = NULL;
    struct sip_msg *m = sip_msg_parse(bytes, len, &err);
    if (!m) {
        if (err && strstr(err, "Call-ID"))
            COUNT(p->counters, drop_sip_no_callid);
        else
            COUNT(p->counters, drop_sip_malformed);
        log_limited(LOG_DEBUG, "sip: message of %zu bytes dropped: %s", len,
                    err ? err : "unparsable");
        return;
    }
    COUNT(p->counters, sip_messages);
    if ((unsigned)m->method < PIPELINE_SIP_METHODS)
        (m->is_request ? p->sip_requests : p->sip_responses)[m->method]++;
    if (m->sdp_malformed)
        COUNT(p->counters, drop_sdp_malformed);
    struct sip_wire w = {
        .ts = pkt->ts,
        .src = pkt->src,
        .dst = pkt->dst,
        .sport = pkt->sport,
        .dport = pkt->dport,
        .transport = p->current_transport,
        .raw = bytes,
        .raw_len = len,
    };
    dialogs_on_sip(p->dialogs, m, &w);
    sip_msg_free(m);
}

/* TCP: the reassembler offers in-order bytes of a flow; SIP framing takes whole messages. */
static size_t on_tcp_data(void *user, struct tcp_flow *flow, pkt_time_t ts, const uint8_t *data,
                          size_t len)
{
    struct pipeline *p = user;
    if (!flow->app) {
        flow->app = sip_stream_state_new();
        if (!flow->app)
            return len; /* out of memory: the bytes are lost, counted as TCP overflow */
    }
    struct l4_packet synthetic = {
        .ts = ts,
        .src = flow->src,
        .dst = flow->dst,
        .sport = flow->sport,
        .dport = flow->dport,
        .proto = L4_TCP,
    };
    const struct l4_packet *saved = p->current;
    p->current = &synthetic;
    p->current_transport = TRANSPORT_TCP;
    size_t used = sip_stream_consume(flow->app, data, len, p->cfg->max_message_bytes,
                                     p->counters, on_sip_message, p);
    if (sip_stream_is_tls(flow->app))
        tls_flows_note(p->tls, &synthetic, len);
    p->current = saved;
    return used;
}

static bool looks_like_sip_over_tcp_start(struct span payload)
{
    if (sip_looks_like_start_line(payload.p, payload.len))
        return true;
    /* RFC 7118: SIP over WebSocket starts with an HTTP Upgrade naming the "sip" protocol. */
    if (payload.len < 16 || !span_starts_with_ci(payload, "GET ", 4))
        return false;
    size_t n = payload.len < 2048 ? payload.len : 2048;
    return memmem(payload.p, n, "websocket", 9) || memmem(payload.p, n, "WebSocket", 9);
}

/* ---- classification ------------------------------------------------------------ */

static void on_l4(void *user, const struct l4_packet *pkt)
{
    struct pipeline *p = user;
    const struct config *cfg = p->cfg;
    bool sip_port = port_in(p->sip_port, pkt->sport) || port_in(p->sip_port, pkt->dport);

    switch (pkt->proto) {
    case L4_UDP:
        /* RTP's first byte is 0x80..0xbf, never a SIP method's letter: the detection
         * costs one comparison on the media path. */
        if (sip_port || (cfg->sip_detect_any_port && pkt->payload.len > 0 &&
                         pkt->payload.p[0] >= 'A' && pkt->payload.p[0] <= 'Z' &&
                         sip_looks_like_start_line(pkt->payload.p, pkt->payload.len))) {
            p->current = pkt;
            p->current_transport = TRANSPORT_UDP;
            sip_datagram_frames(pkt->payload.p, pkt->payload.len, cfg->max_message_bytes,
                                p->counters, on_sip_message, p);
            p->current = NULL;
        } else {
            COUNT(p->counters, udp_not_sip);
            struct call *c = media_packet(p->media, pkt);
            if (c)
                dialogs_touch(p->dialogs, c, pkt->ts);
        }
        break;
    case L4_TCP:
        if (port_in(p->tls_port, pkt->sport) || port_in(p->tls_port, pkt->dport)) {
            tls_flows_note(p->tls, pkt, pkt->payload.len);
            break;
        }
        if (sip_port || tcp_reassembler_has_flow(p->tcp, pkt) ||
            (cfg->sip_detect_any_port && looks_like_sip_over_tcp_start(pkt->payload))) {
            tcp_reassembler_segment(p->tcp, pkt);
        }
        break;
    case L4_SCTP:
        if (sip_port || sip_looks_like_start_line(pkt->payload.p, pkt->payload.len)) {
            COUNT(p->counters, sctp_chunks);
            p->current = pkt;
            p->current_transport = TRANSPORT_SCTP;
            sip_datagram_frames(pkt->payload.p, pkt->payload.len, cfg->max_message_bytes,
                                p->counters, on_sip_message, p);
            p->current = NULL;
        }
        break;
    default:
        break;
    }
}

/* ---- lifecycle ------------------------------------------------------------------ */

struct pipeline *pipeline_new(const struct config *cfg, struct index *ix,
                              struct counters *counters)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cfg = cfg;
    p->ix = ix;
    p->counters = counters;
    for (size_t i = 0; i < cfg->nsip_ports; i++)
        port_add(p->sip_port, cfg->sip_ports[i]);
    for (size_t i = 0; i < cfg->nsip_tls_ports; i++)
        port_add(p->tls_port, cfg->sip_tls_ports[i]);
    /* The malicious code works on every recorded call: its alarm must not wait for
     * the call's end. */
    p->on_demand = cfg->malicious_code[0] != '\0';
    for (size_t i = 0; i < cfg->nrules; i++)
        p->on_demand |= cfg->rules[i].action == RULES_ON_DEMAND;

    struct net_limits nl = {
        .frag_max_datagrams = 1024,
        .frag_max_bytes = 65535,
        .frag_timeout = 30 * SECOND,
        .vxlan_port = 4789,
    };
    struct tcp_limits tl = {
        .max_flows = 65536,
        .max_flow_buffer = 4 * (size_t)cfg->max_message_bytes,
        .idle_timeout = 300 * SECOND,
    };
    struct call_sink sink = {
        .user = p,
        .call_started = on_call_started,
        .media_changed = on_media_changed,
        .call_finished = on_call_finished,
        .dtmf = on_sip_dtmf,
    };
    p->net = net_decoder_new(&nl, counters, on_l4, p);
    p->tcp = tcp_reassembler_new(&tl, counters, on_tcp_data, sip_stream_state_free, p);
    p->media = media_new(cfg, counters, cfg->data_dir);
    p->dialogs = dialogs_new(cfg, counters, &sink);
    p->tls = tls_flows_new(4096);
    p->report = call_report_new(cfg, ix, counters);
    p->committed_at_ms = mono_ms();
    if (!p->net || !p->tcp || !p->media || !p->dialogs || !p->tls || !p->report) {
        pipeline_finish(p, false);
        return NULL;
    }
    return p;
}

static void tick(struct pipeline *p)
{
    dialogs_tick(p->dialogs, p->now);
    media_tick(p->media, p->now, store_unmatched, p);
    net_expire(p->net, p->now);
    tcp_reassembler_expire(p->tcp, p->now);
    publish_live(p);
    if (p->on_demand)
        on_demand_tick(p);
    call_report_tick(p->report, p->now);
    p->next_tick = p->now + SECOND;
}

void pipeline_frame(struct pipeline *p, int linktype, pkt_time_t ts, const uint8_t *frame,
                    size_t caplen, size_t wirelen)
{
    (void)wirelen;
    COUNT(p->counters, packets);
    COUNT_N(p->counters, bytes, caplen);
    /* Packet time only moves forward: a frame stamped in the past (clock step on the
     * capture host, merged files) must not re-open or re-time finished calls. */
    if (ts > p->now)
        p->now = ts;
    if (ts > p->newest_frame)
        p->newest_frame = ts;
    p->frames_since_idle++;
    net_decode(p->net, linktype, ts, frame, caplen);
    if (p->now >= p->next_tick)
        tick(p);
}

/* Backlog: how far behind the wall clock the newest packet handled is.  Past BACKLOG_HIGH
 * the encoder's complexity goes down a step (at most once per BACKLOG_STEP), before the
 * kernel ring overflows and packets are lost; once the lag stays under BACKLOG_LOW for
 * BACKLOG_CALM it goes back up a step, never above the configured value. */
#define BACKLOG_HIGH (1 * SECOND)
#define BACKLOG_LOW (SECOND / 10)
#define BACKLOG_STEP (5 * SECOND)
#define BACKLOG_CALM (60 * SECOND)

static void adapt_complexity(struct pipeline *p, pkt_time_t wall_now)
{
    if (!p->frames_since_idle) {
        p->backlog = 0; /* nothing waited */
        return;
    }
    pkt_time_t lag = wall_now - p->newest_frame;
    p->backlog = lag > 0 ? lag : 0;
    unsigned c = media_complexity(p->media);
    if (lag > BACKLOG_HIGH) {
        p->calm_since = 0;
        if (c > 0 && wall_now - p->last_complexity_change >= BACKLOG_STEP) {
            media_set_complexity(p->media, c - 1);
            p->last_complexity_change = wall_now;
            COUNT(p->counters, encoder_complexity_lowered);
            log_msg(LOG_WARNING, "capture is %.1f s behind: Opus complexity lowered to %u",
                    (double)lag / SECOND, c - 1);
        }
    } else if (lag < BACKLOG_LOW && c < p->cfg->opus_complexity) {
        if (!p->calm_since)
            p->calm_since = wall_now;
        if (wall_now - p->calm_since >= BACKLOG_CALM) {
            media_set_complexity(p->media, c + 1);
            p->calm_since = wall_now;
            p->last_complexity_change = wall_now;
            COUNT(p->counters, encoder_complexity_raised);
            log_msg(LOG_NOTICE, "capture caught up: Opus complexity back to %u", c + 1);
        }
    }
}

void pipeline_idle(struct pipeline *p, pkt_time_t wall_now)
{
    adapt_complexity(p, wall_now);
    p->frames_since_idle = 0;
    if (wall_now > p->now)
        p->now = wall_now;
    if (p->now >= p->next_tick)
        tick(p);
    else
        /* Live, the recordings advance at every turn of the loop, not once a second:
         * encoding a second of every call at once stalls one thread for long enough (0.6 s
         * at 200 calls) that packets waiting in the ring meanwhile come out late. */
        media_tick(p->media, p->now, store_unmatched, p);
    if (p->now >= p->next_commit) {
        commit(p);
        p->next_commit = p->now + SECOND;
    }
}

void pipeline_commit(struct pipeline *p)
{
    commit(p);
}

void pipeline_set_disk_full(struct pipeline *p, bool full)
{
    media_set_disk_full(p->media, full);
}

bool pipeline_disk_full_seen(struct pipeline *p)
{
    return media_disk_full_seen(p->media);
}

void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->calls_active = dialogs_active(p->dialogs);
    out->encoder_complexity = media_complexity(p->media);
    out->backlog_s = (double)p->backlog / SECOND;
    out->encoder_queue = media_encoder_queue(p->media);
    memcpy(out->sip_requests, p->sip_requests, sizeof(out->sip_requests));
    memcpy(out->sip_responses, p->sip_responses, sizeof(out->sip_responses));
}

void pipeline_count_read_error(struct pipeline *p)
{
    COUNT(p->counters, pcap_read_errors);
}

static void store_tls_flow(void *user, const struct tls_flow_stats *f)
{
    struct pipeline *p = user;
    COUNT(p->counters, sip_tls_flows);
    begin_if_needed(p);
    if (index_store_tls_flow(p->ix, &f->a, f->a_port, &f->b, f->b_port, f->first, f->last,
                             f->packets, f->bytes) != 0)
        COUNT(p->counters, drop_index_error);
}

void pipeline_finish(struct pipeline *p, bool interrupted)
{
    if (!p)
        return;
    /* The reassembler goes first: its last bytes may still complete SIP messages. */
    tcp_reassembler_free(p->tcp);
    dialogs_free(p->dialogs, p->now, interrupted);
    if (p->media)
        media_drain_unmatched(p->media, store_unmatched, p);
    media_free(p->media);
    if (p->tls)
        tls_flows_drain(p->tls, store_tls_flow, p);
    tls_flows_free(p->tls);
    net_decoder_free(p->net);
    /* The calls just stored: a decision asked meanwhile, a deadline the input passed.
     * One still within its grace stays pending (settled by the next run, keep/discard). */
    if (p->ix && p->dialogs) {
        begin_if_needed(p);
        if (ondemand_settle(p->ix, p->cfg->data_dir, p->now, true) < 0)
            COUNT(p->counters, drop_index_error);
    }
    call_report_free(p->report);
    commit(p);
    free(p);
}

/*
 * test_index_media.c - the media part of the index (schema migration 2): storing a
 * call's recording, streams and events atomically and once, unmatched streams, reading
 * a recording's row back, the `calls --json` recording object, `call ID` JSON, and an
 * index written by migration 1 brought up to date.
 *
 * White-box where it must be: the private header gives the connection, to count rows
 * and to rebuild a version 1 database.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/index/index_int.h"
#include "greffier/index.h"
#include "jsoncheck.h"
#include "testhelp.h"

#define S 1000000LL
#define T0 (1714640400 * S) /* 2024-05-02T09:00:00Z */

static char tmpdir[64];

/* ---- fixtures ---- */

static struct ip_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct ip_addr ip = {4, {a, b, c, d}};
    return ip;
}

static struct ip_addr v6_doc(uint8_t last)
{
    struct ip_addr ip = {6, {0x20, 0x01, 0x0d, 0xb8}};
    ip.a[15] = last;
    return ip;
}

static struct call_sip_message msgs[2];
static struct call_media_offer offers[1];

/* An answered call with two messages and one SDP offer carrying an SRTP key. */
static void make_call(struct call *c, const char *call_id, pkt_time_t start)
{
    memset(c, 0, sizeof(*c));
    c->call_id = (char *)call_id;
    c->start = start;
    c->answer = start + 5 * S;
    c->end = start + 70 * S;
    c->status = CALL_ANSWERED;
    c->sip_code = 200;
    c->direction = DIR_INBOUND;
    c->end_reason = END_BYE;
    c->transport = TRANSPORT_UDP;
    c->caller = (struct party){"0611111111", "33611111111", "Alice", NULL};
    c->callee = (struct party){"0622222222", "33622222222", "Bob", NULL};

    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < 2; i++) {
        msgs[i].ts = start + i * 5 * S;
        msgs[i].src = v4(192, 0, 2, 10);
        msgs[i].dst = v6_doc(1);
        msgs[i].sport = 5060;
        msgs[i].dport = 5062;
        msgs[i].transport = TRANSPORT_UDP;
    }
    msgs[0].start_line = "INVITE sip:0622222222@pbx SIP/2.0";
    msgs[1].start_line = "SIP/2.0 200 OK";
    c->messages = msgs;
    c->nmessages = 2;

    memset(offers, 0, sizeof(offers));
    offers[0].ts = start;
    offers[0].from_caller = true;
    struct sdp_media_list *l = &offers[0].sdp;
    l->count = 1;
    memcpy(l->m[0].media, "audio", 6);
    memcpy(l->m[0].proto, "RTP/SAVP", 9);
    l->m[0].addr = v4(192, 0, 2, 20);
    l->m[0].port = 40000;
    l->m[0].npayloads = 2;
    l->m[0].payloads[0] = (struct sdp_payload){0, "PCMU", 8000, 1};
    l->m[0].payloads[1] = (struct sdp_payload){101, "telephone-event", 8000, 0};
    l->m[0].ncrypto = 1;
    l->m[0].crypto[0].tag = 1;
    memcpy(l->m[0].crypto[0].suite, "AES_CM_128_HMAC_SHA1_80", 24);
    memcpy(l->m[0].crypto[0].key, "SECRETKEYd0RmdmcmVCspeEc3QGZiNWpVLFJhQX1c", 41);
    c->offers = offers;
    c->noffers = 1;
}

static const int8_t peaks[3 * 4] = {-10, 10, -3, 3, -100, 90, -1, 1, 0, 0, -127, 127};
static struct media_stream_result streams[2];
static struct media_event events[3];

static void stream(struct media_stream_result *s, int channel, struct ip_addr src, uint16_t sport,
                   struct ip_addr dst, uint16_t dport, uint32_t ssrc, pkt_time_t first)
{
    memset(s, 0, sizeof(*s));
    s->channel = channel;
    s->src = src;
    s->sport = sport;
    s->dst = dst;
    s->dport = dport;
    s->ssrc = ssrc;
    memcpy(s->payload_types, "0,101", 6);
    memcpy(s->codec, "PCMU", 5);
    s->packets = 3250;
    s->bytes = 3250 * 172;
    s->first = first;
    s->last = first + 65 * S;
}

static void event(struct media_event *e, pkt_time_t ts, int64_t offset_ms, const char *kind,
                  const char *detail, int channel)
{
    memset(e, 0, sizeof(*e));
    e->ts = ts;
    e->offset_ms = offset_ms;
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    snprintf(e->detail, sizeof(e->detail), "%s", detail);
    e->channel = channel;
}

/* A recorded call: the recording, two streams (one per party), three events. */
static void make_media(struct call_media_result *r, pkt_time_t start)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->media_state, sizeof(r->media_state), "recorded");
    struct recording_result *rec = &r->rec;
    rec->present = true;
    snprintf(rec->path, sizeof(rec->path), "recordings/2024/05/02/call-1.ogg");
    snprintf(rec->codec_in, sizeof(rec->codec_in), "PCMU+G722");
    rec->sample_rate = 16000;
    rec->duration_s = 65.4321;
    rec->bytes = 98765;
    memset(rec->sha256, 'a', 64);
    rec->start = start + 5 * S;
    rec->answer_offset_ms = 1500;
    rec->bitrate = 12000;
    rec->frame_ms = 60;
    rec->complexity = 0;
    rec->peaks_per_second = 20;
    rec->peaks = peaks;
    rec->npeaks = 3;
    snprintf(rec->state, sizeof(rec->state), "complete");

    stream(&streams[0], 0, v4(192, 0, 2, 20), 40000, v4(192, 0, 2, 30), 50000, 0xDEADBEEF,
           start + 5 * S);
    streams[0].jitter_ms = 2.5;
    streams[0].max_gap_ms = 60.25;
    streams[0].mos = 4.21;
    streams[0].lost = 7;
    streams[0].rtcp_seen = true;
    streams[0].rtcp_fraction_lost = 0.0125;
    streams[0].rtcp_cumulative_lost = 9;
    streams[0].rtcp_jitter_ms = 3.125;
    stream(&streams[1], 1, v6_doc(2), 50000, v6_doc(3), 40000, 12345, start + 6 * S);
    streams[1].srtp = true;
    streams[1].srtp_auth_failures = 2;
    streams[1].ssrc_changes = 1;
    streams[1].packets = UINT64_MAX; /* saturated, not wrapped */
    r->streams = streams;
    r->nstreams = 2;

    event(&events[0], start + 17 * S, 12000, "dtmf", "5", 0);
    event(&events[1], start + 30 * S, -1, "hold", "", -1);
    event(&events[2], start + 40 * S, 33500, "codec", "G722", 1);
    r->events = events;
    r->nevents = 3;
}

static int64_t count(struct index *ix, const char *sql)
{
    int64_t n = -1;
    CHECK_INT(ix_query_int(ix->db, sql, &n), SQLITE_OK);
    return n;
}

static char *text_of(struct index *ix, const char *sql)
{
    sqlite3_stmt *st;
    char *out = NULL;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

static char *calls_json(struct index *ix, const struct call_filter *f, long want_rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    CHECK_INT(index_list_calls(ix, f, true, out), want_rows);
    fclose(out);
    CHECK(json_valid(buf));
    return buf;
}

static char *show(struct index *ix, int64_t id, long want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    CHECK_INT(index_show_call(ix, id, out), want);
    fclose(out);
    return buf;
}

static char *unmatched(struct index *ix, long want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    CHECK_INT(index_list_unmatched_streams(ix, out), want);
    fclose(out);
    CHECK(json_valid(buf));
    return buf;
}

static size_t occurrences(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

static void check_all(const char *s, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!strstr(s, want[i]))
            fprintf(stderr, "missing %s in\n%s", want[i], s);
        CHECK(strstr(s, want[i]) != NULL);
    }
}

/* ---- tests ---- */

static int64_t test_store(struct index *ix)
{
    struct call c;
    struct call_media_result r;
    make_call(&c, "media-1@x", T0);
    CHECK_INT(index_store_call(ix, &c), 1);
    make_media(&r, T0);
    CHECK_INT(index_store_media(ix, c.id, &r), 0);

    CHECK_INT(count(ix, "SELECT count(*) FROM recordings"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams"), 2);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_events"), 3);
    char *s = text_of(ix, "SELECT media_state FROM calls WHERE call_id = 'media-1@x'");
    CHECK_STR(s, "recorded");
    free(s);

    /* The recording row. */
    s = text_of(ix, "SELECT path || '|' || codec_in || '|' || sample_rate || '|' || bytes || '|'"
                    " || answer_offset_ms || '|' || bitrate || '|' || frame_ms || '|' ||"
                    " complexity || '|' || peaks_per_second || '|' || state FROM recordings");
    CHECK_STR(s, "recordings/2024/05/02/call-1.ogg|PCMU+G722|16000|98765|1500|12000|60|0|20|"
                 "complete");
    free(s);
    CHECK_INT(count(ix, "SELECT length(peaks) FROM recordings"), 12);
    s = text_of(ix, "SELECT hex(peaks) FROM recordings");
    CHECK_STR(s, "F60AFD039C5AFF010000817F");
    free(s);
    CHECK_INT(count(ix, "SELECT start_us FROM recordings"), T0 + 5 * S);
    CHECK_INT(count(ix, "SELECT call_ref FROM recordings"), c.id);

    /* Streams: the SSRC as an unsigned integer, sentinels as NULL, counts saturated. */
    CHECK_INT(count(ix, "SELECT ssrc FROM streams WHERE channel = 0"), 0xDEADBEEFLL);
    s = text_of(ix, "SELECT src_ip || ':' || src_port || '>' || dst_ip || ':' || dst_port || '|'"
                    " || payload_types || '|' || codec || '|' || lost || '|' || mos || '|' ||"
                    " rtcp_fraction_lost || '|' || rtcp_cumulative_lost || '|' || rtcp_jitter_ms"
                    " FROM streams WHERE channel = 0");
    CHECK_STR(s, "192.0.2.20:40000>192.0.2.30:50000|0,101|PCMU|7|4.21|0.0125|9|3.125");
    free(s);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams WHERE channel = 1 AND mos IS NULL"
                        " AND rtcp_seen = 0 AND rtcp_fraction_lost IS NULL"
                        " AND rtcp_cumulative_lost IS NULL AND rtcp_jitter_ms IS NULL"
                        " AND srtp = 1 AND srtp_auth_failures = 2 AND ssrc_changes = 1"
                        " AND src_ip = '2001:db8::2'"),
              1);
    CHECK_INT(count(ix, "SELECT packets FROM streams WHERE channel = 1"), INT64_MAX);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams WHERE call_ref IS NULL"), 0);

    /* Events: -1 offset and channel are NULL. */
    CHECK_INT(count(ix, "SELECT count(*) FROM call_events WHERE kind = 'hold'"
                        " AND offset_ms IS NULL AND channel IS NULL AND detail IS NULL"),
              1);
    CHECK_INT(count(ix, "SELECT offset_ms FROM call_events WHERE kind = 'dtmf'"), 12000);
    CHECK_INT(count(ix, "SELECT channel FROM call_events WHERE kind = 'codec'"), 1);

    /* Stored again (a re-import): nothing changes. */
    CHECK_INT(index_store_media(ix, c.id, &r), 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM recordings"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams"), 2);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_events"), 3);
    return c.id;
}

/* Refused results leave nothing behind, and only that call's part is undone. */
static void test_refused(struct index *ix)
{
    struct call_media_result r;
    make_media(&r, T0);
    int64_t streams_before = count(ix, "SELECT count(*) FROM streams");

    CHECK_INT(index_store_media(ix, 999999, &r), -1); /* no such call */
    CHECK_INT(count(ix, "SELECT count(*) FROM streams"), streams_before);

    struct call c;
    make_call(&c, "media-bad@x", T0 + 3600 * S);
    CHECK_INT(index_store_call(ix, &c), 1);
    r.media_state[0] = '\0';
    CHECK_INT(index_store_media(ix, c.id, &r), -1);

    make_media(&r, T0);
    snprintf(r.rec.state, sizeof(r.rec.state), "bogus"); /* CHECK constraint */
    CHECK_INT(index_store_media(ix, c.id, &r), -1);
    make_media(&r, T0);
    r.rec.path[0] = '\0'; /* NOT NULL */
    CHECK_INT(index_store_media(ix, c.id, &r), -1);
    make_media(&r, T0);
    events[2].kind[0] = '\0'; /* the last row fails: the earlier ones are undone too */
    CHECK_INT(index_store_media(ix, c.id, &r), -1);
    /* Inside a batch, the batch survives the failed call. */
    CHECK_INT(index_begin(ix), 0);
    CHECK_INT(index_store_media(ix, c.id, &r), -1);
    CHECK_INT(index_commit(ix), 0);

    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM calls WHERE id = %lld AND media_state IS NULL",
             (long long)c.id);
    CHECK_INT(count(ix, sql), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams"), streams_before);
    CHECK_INT(count(ix, "SELECT count(*) FROM recordings"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_events"), 3);

    /* A fixed result then goes in. */
    make_media(&r, T0);
    snprintf(r.rec.path, sizeof(r.rec.path), "recordings/call-bad.ogg");
    CHECK_INT(index_store_media(ix, c.id, &r), 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM recordings"), 2);
}

static int64_t test_no_recording(struct index *ix)
{
    struct call c;
    struct call_media_result r;
    make_call(&c, "media-none@x", T0 - 3600 * S);
    c.noffers = 0;
    CHECK_INT(index_store_call(ix, &c), 1);
    memset(&r, 0, sizeof(r));
    snprintf(r.media_state, sizeof(r.media_state), "no_media");
    CHECK_INT(index_store_media(ix, c.id, &r), 0);
    return c.id;
}

static void test_get_recording(struct index *ix, int64_t with, int64_t without)
{
    struct recording_info info;
    memset(&info, 0x55, sizeof(info));
    CHECK_INT(index_get_recording(ix, with, &info), 1);
    CHECK_INT(info.call_rowid, with);
    CHECK_STR(info.path, "recordings/2024/05/02/call-1.ogg");
    CHECK_INT(strlen(info.sha256), 64);
    CHECK_INT(info.bytes, 98765);
    CHECK_INT(info.sample_rate, 16000);
    CHECK(info.duration_s > 65.4320 && info.duration_s < 65.4322);
    CHECK_STR(info.state, "complete");
    CHECK_STR(info.media_state, "recorded");

    CHECK_INT(index_get_recording(ix, without, &info), 0);
    CHECK_STR(info.media_state, "no_media");
    CHECK_STR(info.path, "");
    CHECK_INT(index_get_recording(ix, 999999, &info), -2);

    /* A call the media stage never saw. */
    struct call c;
    make_call(&c, "media-never@x", T0 - 7200 * S);
    c.nmessages = c.noffers = 0;
    CHECK_INT(index_store_call(ix, &c), 1);
    CHECK_INT(index_get_recording(ix, c.id, &info), 0);
    CHECK_STR(info.media_state, "");

    /* A path longer than the field (written by another tool) is an error, not cut. */
    char sql[512];
    snprintf(sql, sizeof(sql),
             "UPDATE recordings SET path = hex(zeroblob(150))"
             " WHERE call_ref = %lld",
             (long long)with);
    CHECK_INT(sqlite3_exec(ix->db, "SAVEPOINT t", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_exec(ix->db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(index_get_recording(ix, with, &info), -1);
    CHECK_INT(sqlite3_exec(ix->db, "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(index_get_recording(ix, with, &info), 1);
}

static void test_calls_json(struct index *ix)
{
    struct call_filter f = {0};
    f.has_from = true;
    f.from = T0;
    f.has_to = true;
    f.to = T0 + 1;
    char *s = calls_json(ix, &f, 1);
    const char *want[] = {
        "\"call_id\": \"media-1@x\"",
        "\"recording\": {",
        "\"path\": \"recordings/2024/05/02/call-1.ogg\"",
        "\"codec_in\": \"PCMU+G722\"",
        "\"sample_rate\": 16000,",
        "\"duration_s\": 65.432,",
        "\"bytes\": 98765,",
        "\"sha256\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
        "\"start\": \"2024-05-02T09:00:05.000Z\"",
        "\"answer_offset_s\": 1.500,",
        "\"state\": \"complete\"",
        "\"bitrate\": 12000,",
        "\"frame_ms\": 60,",
        "\"complexity\": 0",
        "\"media_state\": \"recorded\"",
        /* the contract fields stay */
        "\"duration_s\": 65.000,",
        "\"status\": \"answered\"",
        "\"sip_messages\": 2",
        "\"partial\": false",
    };
    check_all(s, want, sizeof(want) / sizeof(want[0]));
    free(s);

    /* Without a recording: null, and the media state says why. */
    f.from = T0 - 3600 * S;
    f.to = f.from + 1;
    s = calls_json(ix, &f, 1);
    CHECK(strstr(s, "\"recording\": null") != NULL);
    CHECK(strstr(s, "\"media_state\": \"no_media\"") != NULL);
    free(s);
    f.from = T0 - 7200 * S;
    f.to = f.from + 1;
    s = calls_json(ix, &f, 1);
    CHECK(strstr(s, "\"recording\": null") != NULL);
    CHECK(strstr(s, "\"media_state\": null") != NULL);
    free(s);

    /* The join adds no row. */
    f = (struct call_filter){0};
    free(calls_json(ix, &f, (long)count(ix, "SELECT count(*) FROM calls")));
}

static void test_show(struct index *ix, int64_t id)
{
    char *s = show(ix, id, 1);
    CHECK(json_valid(s));
    const char *want[] = {
        "\"id\": ",
        "\"call_id\": \"media-1@x\"",
        "\"recording\": {",
        "\"media_state\": \"recorded\"",
        "\"streams\": [",
        "\"ssrc\": 3735928559,",
        "\"ssrc\": 12345,",
        "\"src\": \"192.0.2.20:40000\"",
        "\"src_ip\": \"192.0.2.20\"",
        "\"src_port\": 40000,",
        "\"dst\": \"192.0.2.30:50000\"",
        "\"src\": \"[2001:db8::2]:50000\"",
        "\"channel\": 0,",
        "\"channel\": 1,",
        "\"jitter_ms\": 2.500,",
        "\"max_gap_ms\": 60.250,",
        "\"mos\": 4.21,",
        "\"mos\": null,",
        "\"rtcp_seen\": true",
        "\"rtcp_fraction_lost\": 0.0125,",
        "\"rtcp_cumulative_lost\": 9,",
        "\"rtcp_jitter_ms\": 3.125",
        "\"srtp\": true",
        "\"packets\": 9223372036854775807,",
        "\"first\": \"2024-05-02T09:00:05.000Z\"",
        "\"events\": [",
        "\"ts\": \"2024-05-02T09:00:17.000Z\"",
        "\"offset_s\": 12.000,",
        "\"offset_s\": null,",
        "\"offset_s\": 33.500,",
        "\"kind\": \"dtmf\"",
        "\"detail\": \"5\"",
        "\"kind\": \"hold\"",
        "\"detail\": null",
        "\"channel\": null",
        "\"sip_messages\": [",
        "\"start_line\": \"INVITE sip:0622222222@pbx SIP/2.0\"",
        "\"src\": \"192.0.2.10:5060\"",
        "\"dst\": \"[2001:db8::1]:5062\"",
        "\"transport\": \"udp\"",
        "\"retransmission\": false",
        "\"media_offers\": [",
        "\"encoding\": \"PCMU\"",
        "\"encoding\": \"telephone-event\"",
        "\"clock_rate\": 8000,",
        "\"suite\": \"AES_CM_128_HMAC_SHA1_80\"",
        "\"addr\": \"192.0.2.20\"",
    };
    check_all(s, want, sizeof(want) / sizeof(want[0]));
    CHECK_INT(occurrences(s, "\"ssrc\": "), 2);
    CHECK_INT(occurrences(s, "\"kind\": "), 3);
    CHECK_INT(occurrences(s, "\"start_line\": "), 2);
    CHECK_INT(occurrences(s, "\"sip_messages\""), 1); /* the array, not also the count */
    CHECK(strstr(s, "SECRETKEY") == NULL);            /* SRTP keys are not shown */
    /* Order: the call's members, then streams, events, messages, offers. */
    const char *a = strstr(s, "\"streams\""), *b = strstr(s, "\"events\""),
               *c = strstr(s, "\"sip_messages\""), *d = strstr(s, "\"media_offers\"");
    CHECK(a && b && c && d && a < b && b < c && c < d);
    free(s);

    /* Not found: 0 and nothing written. */
    s = show(ix, 999999, 0);
    CHECK_STR(s, "");
    free(s);

    /* A call with nothing: empty arrays. */
    struct call c0;
    memset(&c0, 0, sizeof(c0));
    c0.call_id = "bare-show@x";
    c0.start = T0 + 2 * 86400 * S;
    c0.status = CALL_IN_PROGRESS;
    CHECK_INT(index_store_call(ix, &c0), 1);
    s = show(ix, c0.id, 1);
    CHECK(json_valid(s));
    CHECK(strstr(s, "\"streams\": []") && strstr(s, "\"events\": []") &&
          strstr(s, "\"sip_messages\": []") && strstr(s, "\"media_offers\": []") &&
          strstr(s, "\"recording\": null") && strstr(s, "\"media_state\": null"));
    free(s);

    /* Offer JSON columns damaged by another tool show as empty arrays, still valid JSON. */
    CHECK_INT(sqlite3_exec(ix->db,
                           "SAVEPOINT t; UPDATE media_offers SET payloads = '{not json',"
                           " crypto = '\"x\"'",
                           NULL, NULL, NULL),
              SQLITE_OK);
    s = show(ix, id, 1);
    CHECK(json_valid(s));
    CHECK(strstr(s, "\"payloads\": []") != NULL);
    free(s);
    CHECK_INT(sqlite3_exec(ix->db, "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL), SQLITE_OK);
}

static void test_unmatched(struct index *ix)
{
    struct media_stream_result u[3];
    stream(&u[0], -1, v4(198, 51, 100, 7), 30000, v4(198, 51, 100, 8), 30002, 42, T0 + 100 * S);
    stream(&u[1], 1, v4(198, 51, 100, 9), 31000, v4(198, 51, 100, 8), 30004, 43, T0 + 50 * S);
    u[2] = u[0]; /* the same stream again (re-import) */

    char *s = unmatched(ix, 0);
    CHECK_STR(s, "[]\n");
    free(s);
    for (int i = 0; i < 3; i++)
        CHECK_INT(index_store_unmatched_stream(ix, &u[i]), 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams WHERE call_ref IS NULL"), 2);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams WHERE call_ref IS NULL"
                        " AND channel IS NULL"),
              2);

    s = unmatched(ix, 2);
    CHECK(strstr(s, "\"call\": null") != NULL);
    CHECK(strstr(s, "\"channel\": null") != NULL);
    CHECK(strstr(s, "\"src\": \"198.51.100.9:31000\"") != NULL);
    CHECK(strstr(s, "\"ssrc\": 42,") != NULL);
    CHECK(strstr(s, "192.0.2.20") == NULL); /* a call's streams are not listed */
    const char *first = strstr(s, "\"ssrc\": 43,"), *second = strstr(s, "\"ssrc\": 42,");
    CHECK(first && second && first < second); /* oldest first */
    free(s);
}

static void test_cascade(struct index *ix, int64_t id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM calls WHERE id = %lld", (long long)id);
    int64_t streams_before = count(ix, "SELECT count(*) FROM streams");
    CHECK_INT(sqlite3_exec(ix->db, sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams"), streams_before - 2);
    CHECK_INT(count(ix, "SELECT count(*) FROM streams WHERE call_ref IS NULL"), 2);
    CHECK_INT(count(ix, "SELECT count(*) FROM recordings WHERE path LIKE '%call-1.ogg'"), 0);
    /* Only media-bad@x's DTMF event is left. */
    CHECK_INT(count(ix, "SELECT count(*) FROM call_events WHERE kind = 'dtmf'"), 1);
}

/* call_search is kept by triggers: tags and notes added or removed are found, or no
 * longer found, at once; a deleted call leaves no row behind. */
static void test_search_follows_tags_and_notes(struct index *ix)
{
    CHECK_INT(sqlite3_exec(ix->db,
                           "INSERT INTO call_tags (call_ref, tag) SELECT id, 'réclamation'"
                           "  FROM calls WHERE call_id = 'old@x';"
                           "INSERT INTO call_notes (call_ref, ts, user, text) SELECT id,"
                           "  '2026-01-01T00:00:00Z', 'sup', 'Rappeler le service état civil'"
                           "  FROM calls WHERE call_id = 'old@x';",
                           NULL, NULL, NULL),
              SQLITE_OK);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search WHERE call_search MATCH 'reclamation'"),
              1);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search WHERE call_search MATCH 'etat'"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search WHERE call_search MATCH '3361111*'"), 1);
    CHECK_INT(sqlite3_exec(ix->db, "DELETE FROM call_notes", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search WHERE call_search MATCH 'etat'"), 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search WHERE call_search MATCH 'alice'"), 1);
    /* The call goes with its tag still on: the cascade must not bring its text back. */
    CHECK_INT(sqlite3_exec(ix->db, "DELETE FROM calls WHERE call_id = 'old@x'", NULL, NULL, NULL),
              SQLITE_OK);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search"), 0);
}

/* An index as greffier with migration 1 only left it: the later tables and column are not
 * there, user_version is 1, and it holds a call.  Opening it migrates it. */
static void test_migrate_from_1(void)
{
    char dir[128], err[512];
    snprintf(dir, sizeof(dir), "%s/v1", tmpdir);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return;
    struct call c;
    make_call(&c, "old@x", T0);
    CHECK_INT(index_store_call(ix, &c), 1);
    CHECK_INT(sqlite3_exec(ix->db,
                           /* what migration 6 added */
                           "DROP TRIGGER call_numbers_insert; DROP TRIGGER call_numbers_update;"
                           " DROP TRIGGER call_numbers_delete; DROP TABLE call_numbers;"
                           /* what migration 7 (on demand) added */
                           " DROP INDEX calls_live; DROP INDEX calls_pending;"
                           " DROP TABLE call_requests; ALTER TABLE calls DROP COLUMN live;"
                           " ALTER TABLE calls DROP COLUMN pending_path;"
                           " ALTER TABLE calls DROP COLUMN decision;"
                           " ALTER TABLE calls DROP COLUMN decision_by;"
                           " ALTER TABLE calls DROP COLUMN decision_at;"
                           " ALTER TABLE calls DROP COLUMN decision_deadline_us;"
                           /* what migration 5 added, triggers first (ALTER TABLE checks them) */
                           " DROP TRIGGER call_search_insert; DROP TRIGGER call_search_update;"
                           " DROP TRIGGER call_search_delete; DROP TRIGGER call_search_tag_insert;"
                           " DROP TRIGGER call_search_tag_delete;"
                           " DROP VIEW call_search_text; DROP TABLE call_search;"
                           " DROP TABLE legal_holds; DROP TABLE purged_calls;"
                           " DROP TABLE purge_proposal_items; DROP TABLE purge_proposals;"
                           " DROP TABLE call_notes; DROP TABLE alarms;"
                           " DROP TABLE streams; DROP TABLE recordings; DROP TABLE call_events;"
                           " DROP TABLE users; DROP TABLE audit;"
                           " ALTER TABLE calls DROP COLUMN media_state;"
                           /* and what migration 4 (recording rules) added */
                           " DROP TABLE call_tags; ALTER TABLE calls DROP COLUMN rule;"
                           " ALTER TABLE calls DROP COLUMN rule_action;"
                           " ALTER TABLE calls DROP COLUMN retention_days;"
                           " PRAGMA user_version = 1",
                           NULL, NULL, NULL),
              SQLITE_OK);
    CHECK_INT(count(ix, "SELECT count(*) FROM sqlite_schema WHERE name IN ('streams',"
                        " 'recordings', 'call_events')"),
              0);
    index_close(ix);

    ix = index_open(dir, false, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix) {
        fprintf(stderr, "migrate: %s\n", err);
        return;
    }
    CHECK_INT(count(ix, "PRAGMA user_version"), schema_latest_version());
    CHECK_INT(count(ix, "SELECT count(*) FROM sqlite_schema WHERE name IN ('users', 'audit')"),
              2);
    CHECK_INT(schema_latest_version(), 7);
    /* Migration 5 filled the search table from the calls already there. */
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search WHERE call_search MATCH 'alice'"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM call_search"), 1);
    /* Migration 6 filled the number index the same way. */
    CHECK_INT(count(ix, "SELECT count(*) FROM call_numbers"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM sqlite_schema WHERE name IN ('streams',"
                        " 'recordings', 'call_events', 'streams_call', 'streams_unmatched',"
                        " 'call_events_call')"),
              6);
    CHECK_INT(count(ix, "SELECT count(*) FROM calls WHERE call_id = 'old@x'"
                        " AND media_state IS NULL"),
              1);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages"), 2);
    struct call_filter f = {0};
    char *s = calls_json(ix, &f, 1);
    CHECK(strstr(s, "\"recording\": null") && strstr(s, "\"media_state\": null"));
    free(s);
    /* The migrated index takes media. */
    struct call_media_result r;
    make_media(&r, T0);
    CHECK_INT(index_store_media(ix, c.id, &r), 0);
    struct recording_info info;
    CHECK_INT(index_get_recording(ix, c.id, &info), 1);
    sqlite3_stmt *st = NULL;
    CHECK_INT(sqlite3_prepare_v2(ix->db, "PRAGMA foreign_key_check", -1, &st, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_step(st), SQLITE_DONE); /* no row: no violation */
    sqlite3_finalize(st);
    test_search_follows_tags_and_notes(ix);
    index_close(ix);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void)
{
    char dir[128], err[512];
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/greffier-test-media-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/data", tmpdir);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (ix) {
        int64_t id = test_store(ix);
        test_refused(ix);
        int64_t none = test_no_recording(ix);
        test_get_recording(ix, id, none);
        test_calls_json(ix);
        test_show(ix, id);
        test_unmatched(ix);
        test_cascade(ix, id);
        index_close(ix);
    } else {
        fprintf(stderr, "open: %s\n", err);
    }
    test_migrate_from_1();
    cleanup();
    return TEST_REPORT("test_index_media");
}

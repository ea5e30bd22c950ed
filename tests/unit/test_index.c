/*
 * test_index.c - the SQLite index: schema and settings, storing calls idempotently and
 * atomically, searching with every filter, the `calls --json` contract, hostile strings.
 *
 * White-box where it must be: the private header gives the connection, to read PRAGMAs
 * and to count rows.
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

/* ---- fixtures ---- */

static char tmpdir[64];

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

static uint8_t raw_invite[] = "INVITE sip:0612345678@pbx SIP/2.0\r\nCall-ID: a\r\n\r\n\0binary";
static struct call_sip_message msgs_a[3];
static struct call_media_offer offers_a[2];

/* An answered inbound call with three messages and two SDP bodies (three m= lines). */
static void call_a(struct call *c)
{
    memset(c, 0, sizeof(*c));
    c->call_id = "call-a@example";
    c->start = T0;
    c->answer = T0 + 5 * S;
    c->end = T0 + 5 * S + 65432100; /* 65.4321 s of conversation */
    c->last_activity = c->end;
    c->status = CALL_ANSWERED;
    c->sip_code = 200;
    c->direction = DIR_INBOUND;
    c->end_reason = END_BYE;
    c->transport = TRANSPORT_UDP;
    c->caller = (struct party){"+33611111111", "33611111111", "Alice", "sip:+33611111111@op"};
    c->callee = (struct party){"0612345678", "33612345678", "Bob", "sip:0612345678@pbx"};
    c->redirecting = (struct party){"2041", "2041", NULL, NULL};
    c->caller_addr = v4(192, 0, 2, 10);
    c->caller_port = 5060;
    c->callee_addr = v6_doc(1);
    c->callee_port = 5062;
    c->user_agent_caller = "op-sbc/1.0";
    c->from_tag = "ft";
    c->to_tag = "tt";

    memset(msgs_a, 0, sizeof(msgs_a));
    for (int i = 0; i < 3; i++) {
        msgs_a[i].ts = T0 + i * S;
        msgs_a[i].src = v4(192, 0, 2, 10);
        msgs_a[i].dst = v6_doc(1);
        msgs_a[i].sport = 5060;
        msgs_a[i].dport = 5062;
        msgs_a[i].transport = TRANSPORT_UDP;
    }
    msgs_a[0].start_line = "INVITE sip:0612345678@pbx SIP/2.0";
    msgs_a[0].raw = raw_invite;
    msgs_a[0].raw_len = sizeof(raw_invite) - 1;
    msgs_a[1].start_line = "INVITE sip:0612345678@pbx SIP/2.0";
    msgs_a[1].retransmission = true;
    msgs_a[2].start_line = "SIP/2.0 200 OK";
    c->messages = msgs_a;
    c->nmessages = 3;

    memset(offers_a, 0, sizeof(offers_a));
    offers_a[0].ts = T0;
    offers_a[0].message_index = 0;
    offers_a[0].from_caller = true;
    struct sdp_media_list *l = &offers_a[0].sdp;
    l->count = 2;
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
    memcpy(l->m[0].crypto[0].key, "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj", 41);
    memcpy(l->m[1].media, "video", 6);
    memcpy(l->m[1].proto, "RTP/AVP", 8);
    l->m[1].port = 0;
    l->m[1].direction = MDIR_INACTIVE;
    l->m[1].has_fingerprint = 1;
    /* A full-width field with no terminator must not be over-read. */
    memset(l->m[1].payloads[0].encoding, 'E', sizeof(l->m[1].payloads[0].encoding));
    l->m[1].npayloads = 1;
    offers_a[1].ts = T0 + 2 * S;
    offers_a[1].message_index = 2;
    offers_a[1].sdp.count = 1;
    memcpy(offers_a[1].sdp.m[0].media, "audio", 6);
    memcpy(offers_a[1].sdp.m[0].proto, "RTP/SAVP", 9);
    offers_a[1].sdp.m[0].addr = v6_doc(2);
    offers_a[1].sdp.m[0].port = 50000;
    offers_a[1].sdp.m[0].direction = MDIR_SENDONLY;
    c->offers = offers_a;
    c->noffers = 2;
}

/* A bare call: only what a minimal pickup would know. */
static void call_min(struct call *c, const char *call_id, pkt_time_t start, enum call_status status)
{
    memset(c, 0, sizeof(*c));
    c->call_id = (char *)call_id;
    c->start = start;
    c->status = status;
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

/* Lists into a string; *rows gets the return value. */
static char *list(struct index *ix, const struct call_filter *f, bool json, long *rows)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    *rows = index_list_calls(ix, f, json, out);
    fclose(out);
    return buf;
}

/* Runs a JSON listing, checks it is valid JSON ending with a newline, returns it. */
static char *list_json(struct index *ix, const struct call_filter *f, long want_rows)
{
    long rows;
    char *s = list(ix, f, true, &rows);
    CHECK_INT(rows, want_rows);
    CHECK(json_valid(s));
    size_t n = strlen(s);
    CHECK(n > 0 && s[n - 1] == '\n');
    return s;
}

/* ---- tests ---- */

static void test_open_settings(char *dir)
{
    char err[512];
    struct stat sb;
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix) {
        fprintf(stderr, "open: %s\n", err);
        exit(1);
    }
    char *mode = text_of(ix, "PRAGMA journal_mode");
    CHECK_STR(mode, "wal");
    free(mode);
    CHECK_INT(count(ix, "PRAGMA foreign_keys"), 1);
    CHECK_INT(count(ix, "PRAGMA user_version"), schema_latest_version());
    CHECK(schema_latest_version() >= 1);
    CHECK_INT(count(ix, "PRAGMA synchronous"), 1); /* NORMAL */
    index_close(ix);

    char file[128];
    snprintf(file, sizeof(file), "%s/index.sqlite", dir);
    CHECK_INT(stat(file, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    CHECK_INT(stat(dir, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0700);

    /* Not creating: a missing index is an error that says where it looked. */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/nowhere", tmpdir);
    err[0] = '\0';
    CHECK(index_open(missing, false, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "nowhere/index.sqlite") != NULL);
}

static void test_store(struct index *ix)
{
    struct call a;
    call_a(&a);
    CHECK_INT(index_store_call(ix, &a), 1);
    CHECK(a.id > 0);
    int64_t id = a.id;
    CHECK_INT(count(ix, "SELECT count(*) FROM calls"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages"), 3);
    CHECK_INT(count(ix, "SELECT count(*) FROM media_offers"), 3);

    /* The same call again (a re-import): nothing written, the existing row reported. */
    struct call again;
    call_a(&again);
    CHECK_INT(index_store_call(ix, &again), 0);
    CHECK_INT(again.id, id);
    CHECK_INT(count(ix, "SELECT count(*) FROM calls"), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages"), 3);
    CHECK_INT(count(ix, "SELECT count(*) FROM media_offers"), 3);

    /* Same Call-ID, another start: another call (Call-ID reuse across days happens). */
    struct call b;
    call_a(&b);
    b.start += 86400 * S;
    b.nmessages = 0;
    b.noffers = 0;
    CHECK_INT(index_store_call(ix, &b), 1);
    CHECK(b.id != id);

    /* What was stored, column by column. */
    char *s;
    CHECK_INT(count(ix, "SELECT start_us FROM calls WHERE call_id = 'call-a@example'"
                        " ORDER BY id LIMIT 1"),
              T0);
    s = text_of(ix, "SELECT status || '|' || direction || '|' || end_reason || '|' || transport"
                    " || '|' || caller_ip || '|' || callee_ip || '|' || callee_port FROM calls"
                    " ORDER BY id LIMIT 1");
    CHECK_STR(s, "answered|inbound|bye|udp|192.0.2.10|2001:db8::1|5062");
    free(s);
    s = text_of(ix, "SELECT raw FROM sip_messages WHERE seq = 0 ORDER BY id LIMIT 1");
    CHECK_STR(s, "INVITE sip:0612345678@pbx SIP/2.0\r\nCall-ID: a\r\n\r\n");
    free(s);
    CHECK_INT(count(ix, "SELECT length(raw) FROM sip_messages WHERE seq = 0 ORDER BY id LIMIT 1"),
              sizeof(raw_invite) - 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages WHERE raw IS NULL"), 2);
    CHECK_INT(count(ix, "SELECT retransmission FROM sip_messages WHERE seq = 1"), 1);
    CHECK_INT(count(ix, "SELECT sum(seq) FROM sip_messages"), 0 + 1 + 2);
    s = text_of(ix, "SELECT payloads FROM media_offers WHERE seq = 0 AND m_index = 0");
    CHECK_STR(s, "[{\"pt\":0,\"encoding\":\"PCMU\",\"clock_rate\":8000,\"channels\":1},"
                 "{\"pt\":101,\"encoding\":\"telephone-event\",\"clock_rate\":8000,"
                 "\"channels\":null}]");
    free(s);
    s = text_of(ix, "SELECT crypto FROM media_offers WHERE seq = 0 AND m_index = 0");
    CHECK_STR(s, "[{\"tag\":1,\"suite\":\"AES_CM_128_HMAC_SHA1_80\","
                 "\"key\":\"d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj\"}]");
    free(s);
    s = text_of(ix, "SELECT payloads || crypto || direction || has_fingerprint || port ||"
                    " coalesce(addr, '-') FROM media_offers WHERE seq = 0 AND m_index = 1");
    CHECK_STR(s, "[{\"pt\":0,\"encoding\":\"EEEEEEEEEEEEEEEEEEEEEEEE\",\"clock_rate\":null,"
                 "\"channels\":null}][]inactive10-");
    free(s);
    s = text_of(ix, "SELECT addr || ' ' || port || ' ' || direction || ' ' || message_seq || ' '"
                    " || from_caller FROM media_offers WHERE seq = 1");
    CHECK_STR(s, "2001:db8::2 50000 sendonly 2 0");
    free(s);

    /* Absent is NULL, not 0. */
    struct call m;
    call_min(&m, "bare@x", T0 - 3600 * S, CALL_IN_PROGRESS);
    CHECK_INT(index_store_call(ix, &m), 1);
    CHECK_INT(count(ix, "SELECT count(*) FROM calls WHERE call_id = 'bare@x' AND answer_us IS NULL"
                        " AND end_us IS NULL AND last_activity_us IS NULL AND sip_code IS NULL"
                        " AND end_reason IS NULL AND caller IS NULL AND caller_norm IS NULL"
                        " AND caller_ip IS NULL AND caller_port IS NULL AND direction = 'unknown'"
                        " AND messages_dropped = 0"),
              1);

    /* Refused calls leave nothing behind. */
    struct call bad;
    call_min(&bad, NULL, T0, CALL_ANSWERED);
    CHECK_INT(index_store_call(ix, &bad), -1);
    call_min(&bad, "bad-status@x", T0, (enum call_status)77);
    CHECK_INT(index_store_call(ix, &bad), -1);
    CHECK_INT(count(ix, "SELECT count(*) FROM calls WHERE call_id = 'bad-status@x'"), 0);
}

/* A failure half-way through a call (here forced by a trigger on the offers) undoes the
 * whole call, and only that call when a batch is open. */
static void test_atomic(struct index *ix)
{
    CHECK_INT(sqlite3_exec(ix->db,
                           "CREATE TEMP TRIGGER boom BEFORE INSERT ON main.media_offers"
                           " WHEN NEW.media = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END",
                           NULL, NULL, NULL),
              SQLITE_OK);
    int64_t calls = count(ix, "SELECT count(*) FROM calls");
    int64_t msgs = count(ix, "SELECT count(*) FROM sip_messages");

    struct call c;
    call_a(&c);
    c.call_id = "boom@x";
    memcpy(offers_a[1].sdp.m[0].media, "boom", 5);
    CHECK_INT(index_store_call(ix, &c), -1);
    CHECK_INT(c.id, 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM calls"), calls);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages"), msgs);

    CHECK_INT(index_begin(ix), 0);
    CHECK_INT(index_begin(ix), -1); /* no nesting */
    struct call ok;
    call_min(&ok, "batch-1@x", T0 - 7200 * S, CALL_BUSY);
    ok.sip_code = 486;
    CHECK_INT(index_store_call(ix, &ok), 1);
    CHECK_INT(index_store_call(ix, &c), -1);
    call_min(&ok, "batch-2@x", T0 - 7100 * S, CALL_REJECTED);
    ok.sip_code = 403;
    CHECK_INT(index_store_call(ix, &ok), 1);
    CHECK_INT(index_commit(ix), 0);
    CHECK_INT(index_commit(ix), -1); /* nothing open */
    CHECK_INT(count(ix, "SELECT count(*) FROM calls"), calls + 2);
    CHECK_INT(count(ix, "SELECT count(*) FROM calls WHERE call_id = 'boom@x'"), 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages"), msgs);
    CHECK_INT(sqlite3_exec(ix->db, "DROP TRIGGER boom", NULL, NULL, NULL), SQLITE_OK);
}

static void test_tls(struct index *ix)
{
    struct ip_addr a = v4(198, 51, 100, 1), b = v6_doc(9);
    CHECK_INT(index_store_tls_flow(ix, &a, 40123, &b, 5061, T0, T0 + 9 * S, 12, 3400), 1);
    CHECK_INT(index_store_tls_flow(ix, &a, 40123, &b, 5061, T0, T0 + 9 * S, 12, 3400), 0);
    CHECK_INT(index_store_tls_flow(ix, &a, 40124, &b, 5061, T0, T0 + 9 * S, 1, UINT64_MAX), 1);
    char *s = text_of(ix, "SELECT src_ip || ' ' || src_port || ' ' || dst_ip || ' ' || dst_port"
                          " || ' ' || packets FROM tls_flows ORDER BY id LIMIT 1");
    CHECK_STR(s, "198.51.100.1 40123 2001:db8::9 5061 12");
    free(s);
    CHECK_INT(count(ix, "SELECT bytes FROM tls_flows WHERE src_port = 40124"), INT64_MAX);
}

static void test_list(struct index *ix)
{
    struct call_filter f = {0};
    char *s;
    long rows;
    int64_t total = count(ix, "SELECT count(*) FROM calls");

    /* Everything, newest first: b (T0 + 1 day), a (T0), bare (T0 - 1 h), batch-2, batch-1. */
    s = list_json(ix, &f, total);
    const char *pb = strstr(s, "\"start\": \"2024-05-03T09:00:00.000Z\"");
    const char *pa = strstr(s, "\"start\": \"2024-05-02T09:00:00.000Z\"");
    const char *p2 = strstr(s, "\"call_id\": \"batch-2@x\"");
    const char *p1 = strstr(s, "\"call_id\": \"batch-1@x\"");
    CHECK(pb && pa && p2 && p1 && pb < pa && pa < p2 && p2 < p1);
    free(s);

    /* The contract, field by field, for call a. */
    f.has_from = true;
    f.from = T0;
    f.has_to = true;
    f.to = T0 + 1;
    s = list_json(ix, &f, 1);
    const char *want[] = {
        "\"id\": 1,",
        "\"call_id\": \"call-a@example\"",
        "\"caller\": \"+33611111111\"",
        "\"caller_name\": \"Alice\"",
        "\"callee\": \"0612345678\"",
        "\"callee_name\": \"Bob\"",
        "\"start\": \"2024-05-02T09:00:00.000Z\"",
        "\"answer\": \"2024-05-02T09:00:05.000Z\"",
        "\"end\": \"2024-05-02T09:01:10.432Z\"",
        "\"duration_s\": 65.432,",
        "\"status\": \"answered\"",
        "\"sip_code\": 200,",
        "\"direction\": \"inbound\"",
        "\"recording\": null",
        "\"partial\": false",
        "\"end_reason\": \"bye\"",
        "\"transport\": \"udp\"",
        "\"caller_norm\": \"33611111111\"",
        "\"callee_norm\": \"33612345678\"",
        "\"redirecting\": \"2041\"",
        "\"caller_ip\": \"192.0.2.10\"",
        "\"callee_ip\": \"2001:db8::1\"",
        "\"sip_messages\": 3",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(s, want[i]))
            fprintf(stderr, "missing %s in\n%s", want[i], s);
        CHECK(strstr(s, want[i]) != NULL);
    }
    free(s);

    /* Absent values are null. */
    f = (struct call_filter){0};
    f.has_status = true;
    f.status = CALL_IN_PROGRESS;
    s = list_json(ix, &f, 1);
    CHECK(strstr(s, "\"call_id\": \"bare@x\"") != NULL);
    CHECK(strstr(s, "\"answer\": null") && strstr(s, "\"end\": null") &&
          strstr(s, "\"duration_s\": null") && strstr(s, "\"sip_code\": null") &&
          strstr(s, "\"caller\": null") && strstr(s, "\"end_reason\": null") &&
          strstr(s, "\"caller_ip\": null") && strstr(s, "\"sip_messages\": 0"));
    free(s);

    /* from is inclusive, to exclusive. */
    f = (struct call_filter){0};
    f.has_from = true;
    f.from = T0 - 3600 * S;
    f.has_to = true;
    f.to = T0 + 86400 * S;
    free(list_json(ix, &f, 2)); /* bare and a, not b */
    f.has_from = false;
    free(list_json(ix, &f, total - 1));

    /* Number: normalised equality on any of the three parties... */
    f = (struct call_filter){0};
    f.number_norm = "33612345678";
    free(list_json(ix, &f, 2));
    f.number_norm = "2041"; /* redirecting */
    free(list_json(ix, &f, 2));
    f.number_norm = "3361234567"; /* a prefix is not equal */
    free(list_json(ix, &f, 0));
    /* ... or digits inside a number as dialled. */
    f = (struct call_filter){0};
    f.number = "1234567";
    free(list_json(ix, &f, 2));
    f.number = "611111";
    f.number_norm = "nothing";
    free(list_json(ix, &f, 2));
    f.number = "999";
    free(list_json(ix, &f, 0));

    /* Status and limit, with newest first kept under the limit. */
    f = (struct call_filter){0};
    f.has_status = true;
    f.status = CALL_ANSWERED;
    free(list_json(ix, &f, 2));
    f.limit = 1;
    s = list_json(ix, &f, 1);
    CHECK(strstr(s, "2024-05-03T09:00:00.000Z") != NULL);
    free(s);
    f = (struct call_filter){0};
    f.limit = 3;
    free(list_json(ix, &f, 3));
    f.limit = -5; /* no limit */
    free(list_json(ix, &f, total));

    /* Nothing found. */
    f = (struct call_filter){0};
    f.has_status = true;
    f.status = CALL_TIMEOUT;
    s = list(ix, &f, true, &rows);
    CHECK_INT(rows, 0);
    CHECK_STR(s, "[]\n");
    free(s);
    s = list(ix, &f, false, &rows);
    CHECK_INT(rows, 0);
    CHECK_STR(s, "no calls\n");
    free(s);

    /* Table: header, aligned rows, m:ss durations, codes. */
    f = (struct call_filter){0};
    f.has_status = true;
    f.status = CALL_ANSWERED;
    s = list(ix, &f, false, &rows);
    CHECK_INT(rows, 2);
    CHECK(strncmp(s, "      ID  START                 CALLER", 38) == 0);
    CHECK(strstr(s, "2024-05-02T09:00:00Z  +33611111111          0612345678                "
                    "1:05  answered      200  inbound\n") != NULL);
    free(s);
}

/* Display names and numbers come from the wire: every byte must come out as valid JSON,
 * stored and found literally, never as SQL. */
static void test_hostile(struct index *ix)
{
    static char longname[20000];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[100] = '"';
    longname[5000] = '\xff';

    struct {
        const char *call_id, *number, *name;
    } cases[] = {
        {"q@x", "0611", "say \"hi\" \\ o/"},
        {"nl@x", "0612", "line1\nline2\r\t"},
        {"ctl@x", "0613", "\x01\x02\x1b[31mred\x1b[0m\x7f"},
        {"utf@x", "0614", "bad \xff\xfe utf8 \xc3 end \xed\xa0\x80"},
        {"long@x", "0615", longname},
        {"sql@x", "'; DROP TABLE calls; --", "Robert'); DROP TABLE calls;--"},
        {"like@x", "%_\\*", "100% _wild_"},
        {"bidi@x", "0616",
         "\xe2\x80\xae"
         "evil"},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        struct call c;
        call_min(&c, cases[i].call_id, T0 + 7 * 86400 * S + (pkt_time_t)i * S, CALL_FAILED);
        c.caller.number = (char *)cases[i].number;
        c.caller.name = (char *)cases[i].name;
        c.callee.name = (char *)cases[i].name;
        CHECK_INT(index_store_call(ix, &c), 1);
    }
    CHECK_INT(count(ix, "SELECT count(*) FROM sqlite_schema WHERE name = 'calls'"), 1);

    struct call_filter f = {0};
    f.has_status = true;
    f.status = CALL_FAILED;
    char *s = list_json(ix, &f, (long)n);
    CHECK(strstr(s, "\"caller_name\": \"say \\\"hi\\\" \\\\ o/\"") != NULL);
    CHECK(strstr(s, "\"caller_name\": \"line1\\nline2\\r\\t\"") != NULL);
    CHECK(strstr(s, "\"caller_name\": \"\\u0001\\u0002\\u001b[31mred\\u001b[0m\x7f\"") != NULL);
    CHECK(strstr(s, "\"caller_name\": \"bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd end "
                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"") != NULL);
    CHECK(strstr(s, "\"caller\": \"'; DROP TABLE calls; --\"") != NULL);
    CHECK(strstr(s, "\"caller_name\": \"Robert'); DROP TABLE calls;--\"") != NULL);
    CHECK(strstr(s, "\"caller\": \"%_\\\\*\"") != NULL);
    CHECK(strlen(s) > 2 * 20000);
    CHECK(strstr(s, "\x1b") == NULL);
    free(s);

    /* Stored byte for byte. */
    char *back = text_of(ix, "SELECT caller_name FROM calls WHERE call_id = 'long@x'");
    CHECK(back && strcmp(back, longname) == 0);
    free(back);
    back = text_of(ix, "SELECT caller_name FROM calls WHERE call_id = 'utf@x'");
    CHECK_STR(back, "bad \xff\xfe utf8 \xc3 end \xed\xa0\x80");
    free(back);

    /* Searched literally: the quote, and LIKE's wildcards, mean themselves. */
    f = (struct call_filter){0};
    f.number = "'; DROP TABLE calls; --";
    s = list_json(ix, &f, 1);
    CHECK(strstr(s, "sql@x") != NULL);
    free(s);
    f.number = "%";
    s = list_json(ix, &f, 1);
    CHECK(strstr(s, "like@x") != NULL);
    free(s);
    f.number = "_";
    free(list_json(ix, &f, 1));
    f.number = NULL;
    f.number_norm = "' OR 1=1 --";
    free(list_json(ix, &f, 0));
    CHECK_INT(count(ix, "SELECT count(*) FROM sqlite_schema WHERE name = 'calls'"), 1);

    /* The table shows no terminal control sequence and keeps its columns. */
    f = (struct call_filter){0};
    f.has_status = true;
    f.status = CALL_FAILED;
    long rows;
    s = list(ix, &f, false, &rows);
    CHECK_INT(rows, (long)n);
    CHECK(strchr(s, '\x1b') == NULL && strchr(s, '\r') == NULL && strchr(s, '\x7f') == NULL);
    CHECK(strstr(s, "\xe2\x80\xae") == NULL);
    CHECK(strstr(s, "'; DROP TABLE calls~ ") != NULL);
    size_t lines = 0;
    for (const char *p = s; *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, n + 1);
    free(s);
}

static void test_cascade(struct index *ix)
{
    /* foreign_keys is on for this connection: deleting a call takes its rows along. */
    CHECK_INT(sqlite3_exec(ix->db, "DELETE FROM calls WHERE call_id = 'call-a@example'", NULL, NULL,
                           NULL),
              SQLITE_OK);
    CHECK_INT(count(ix, "SELECT count(*) FROM sip_messages"), 0);
    CHECK_INT(count(ix, "SELECT count(*) FROM media_offers"), 0);
    /* And an orphan row is refused. */
    CHECK(sqlite3_exec(ix->db,
                       "INSERT INTO sip_messages (call_ref, seq, ts_us) VALUES (999999, 0, 0)",
                       NULL, NULL, NULL) != SQLITE_OK);
}

static void test_reopen(char *dir)
{
    char err[512];
    struct index *ix = index_open(dir, false, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return;
    CHECK_INT(count(ix, "PRAGMA user_version"), schema_latest_version());
    CHECK(count(ix, "SELECT count(*) FROM calls") > 5);
    struct call a;
    call_a(&a);
    a.call_id = "call-a@example";
    a.start += 86400 * S; /* call b of test_store: still there, still not duplicated */
    a.nmessages = 0;
    a.noffers = 0;
    CHECK_INT(index_store_call(ix, &a), 0);
    /* A batch left open is committed at close. */
    CHECK_INT(index_begin(ix), 0);
    struct call c;
    call_min(&c, "left-open@x", T0, CALL_IN_PROGRESS);
    CHECK_INT(index_store_call(ix, &c), 1);
    index_close(ix);

    ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return;
    CHECK_INT(count(ix, "SELECT count(*) FROM calls WHERE call_id = 'left-open@x'"), 1);
    index_close(ix);
}

static void test_newer_schema(void)
{
    char dir[128], file[160], err[512] = "";
    sqlite3 *db;
    snprintf(dir, sizeof(dir), "%s/future", tmpdir);
    CHECK_INT(mkdir(dir, 0700), 0);
    snprintf(file, sizeof(file), "%s/index.sqlite", dir);
    CHECK_INT(sqlite3_open(file, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK(index_open(dir, true, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "999") != NULL && strstr(err, "newer") != NULL);

    /* A trigger greffier did not write: with trusted_schema it could run anything on every
     * insert, so the index is refused, naming why. */
    snprintf(dir, sizeof(dir), "%s/foreign-trigger", tmpdir);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    index_close(ix);
    snprintf(file, sizeof(file), "%s/index.sqlite", dir);
    CHECK_INT(sqlite3_open(file, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "CREATE TRIGGER spy AFTER INSERT ON calls BEGIN"
                           " DELETE FROM audit; END",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    err[0] = '\0';
    CHECK(index_open(dir, false, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "triggers and views") != NULL);

    /* Not a database at all. */
    snprintf(dir, sizeof(dir), "%s/garbage", tmpdir);
    CHECK_INT(mkdir(dir, 0700), 0);
    snprintf(file, sizeof(file), "%s/index.sqlite", dir);
    FILE *f = fopen(file, "w");
    fputs("this is not a database, but it is long enough to have a header of sorts\n"
          "..............................................................................",
          f);
    fclose(f);
    err[0] = '\0';
    CHECK(index_open(dir, false, err, sizeof(err)) == NULL);
    CHECK(err[0] != '\0');
}

static const struct {
    enum call_status s;
    const char *name;
} status_cases[] = {
    {CALL_IN_PROGRESS, "in_progress"}, {CALL_ANSWERED, "answered"},
    {CALL_CANCELLED, "cancelled"},     {CALL_BUSY, "busy"},
    {CALL_REJECTED, "rejected"},       {CALL_FAILED, "failed"},
    {CALL_TIMEOUT, "timeout"},
};

static void test_names(void)
{
    for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
        enum call_status got = CALL_FAILED;
        CHECK_STR(call_status_name(status_cases[i].s), status_cases[i].name);
        CHECK(call_status_parse(status_cases[i].name, &got));
        CHECK_INT(got, status_cases[i].s);
    }
    enum call_status got;
    CHECK(call_status_parse("ANSWERED", &got) && got == CALL_ANSWERED);
    CHECK(!call_status_parse("answer", &got));
    CHECK(!call_status_parse("", &got));
    CHECK(!call_status_parse(NULL, &got));
    CHECK_STR(call_status_name((enum call_status)99), "invalid");
    CHECK_STR(call_direction_name(DIR_OUTBOUND), "outbound");
    CHECK_STR(call_direction_name((enum call_direction) - 1), "invalid");
    CHECK_STR(call_end_reason_name(END_FINAL_RESPONSE), "final_response");
    CHECK_STR(call_end_reason_name(END_INTERRUPTED), "interrupted");
    CHECK_STR(sip_transport_name(TRANSPORT_WS), "ws");
    CHECK_STR(sip_transport_name(TRANSPORT_SCTP), "sctp");
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
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/greffier-test-index-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/data", tmpdir);

    test_names();
    test_open_settings(dir);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (ix) {
        test_store(ix);
        test_atomic(ix);
        test_tls(ix);
        test_list(ix);
        test_hostile(ix);
        index_close(ix);
        test_reopen(dir);
        ix = index_open(dir, false, err, sizeof(err));
        CHECK(ix != NULL);
        if (ix) {
            test_cascade(ix);
            index_close(ix);
        }
    }
    test_newer_schema();
    cleanup();
    return TEST_REPORT("test_index");
}

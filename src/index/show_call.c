/*
 * show_call.c - `greffier call ID`: everything the index holds about one call, as one
 * JSON object.
 *
 * The object is the `calls --json` call object (list_calls.c) with the details added:
 * the RTP streams, the timed events of the recording, the SIP messages (without their
 * raw bytes, which are evidence to export, not to print) and the SDP media offers.
 * "sip_messages" is the array of messages here, where the listing gives their count.
 * Then the notes people wrote about the call (the tags are in the call object).
 * The SRTP master keys of the offers (RFC 4568 a=crypto) are not shown: a JSON document
 * is pasted into tickets and mails, and the keys decrypt the call.
 */
#include <stdio.h>

#include "greffier/json.h"
#include "greffier/log.h"
#include "index_int.h"

static const char sql_events[] = "SELECT ts_us, offset_ms, kind, detail, channel"
                                 " FROM call_events WHERE call_ref = :id ORDER BY ts_us, id";

static const char sql_notes[] =
    "SELECT id, ts, user, text FROM call_notes WHERE call_ref = :id ORDER BY id";

static const char sql_messages[] =
    "SELECT seq, ts_us, src_ip, src_port, dst_ip, dst_port, transport, start_line,"
    " retransmission, length(raw) FROM sip_messages WHERE call_ref = :id ORDER BY seq";

static const char sql_offers[] =
    "SELECT seq, message_seq, ts_us, from_caller, m_index, media, proto, addr, port, direction,"
    " payloads, crypto, has_fingerprint FROM media_offers WHERE call_ref = :id"
    " ORDER BY seq, m_index";

/* The payloads and crypto columns hold JSON arrays written by store_call.c; they are
 * taken apart member by member, so the output is built by the JSON writer only; what is
 * not an array of objects (a row another tool wrote) shows as an empty array.  CASE
 * evaluates in order, so json_type never sees malformed text. */
#define OFFER_ARRAY                                                                                \
    "CASE WHEN NOT json_valid(:j) THEN '[]' WHEN json_type(:j) = 'array' THEN :j ELSE '[]' END"
static const char sql_payloads[] =
    "SELECT json_extract(value, '$.pt'), json_extract(value, '$.encoding'),"
    " json_extract(value, '$.clock_rate'), json_extract(value, '$.channels')"
    " FROM json_each(" OFFER_ARRAY ") WHERE type = 'object' ORDER BY key";
static const char sql_crypto[] =
    "SELECT json_extract(value, '$.tag'), json_extract(value, '$.suite')"
    " FROM json_each(" OFFER_ARRAY ") WHERE type = 'object' ORDER BY key";

static void json_event(struct json_writer *w, sqlite3_stmt *st, void *ctx)
{
    (void)ctx;
    json_object_begin(w);
    ix_json_col_time(w, st, "ts", 0);
    ix_json_col_ms_as_s(w, st, "offset_s", 1);
    ix_json_col_text(w, st, "kind", 2);
    ix_json_col_text(w, st, "detail", 3);
    ix_json_col_int(w, st, "channel", 4);
    json_object_end(w);
}

static void json_note(struct json_writer *w, sqlite3_stmt *st, void *ctx)
{
    (void)ctx;
    json_object_begin(w);
    ix_json_col_int(w, st, "id", 0);
    ix_json_col_text(w, st, "ts", 1);
    ix_json_col_text(w, st, "user", 2);
    ix_json_col_text(w, st, "text", 3);
    json_object_end(w);
}

static void json_message(struct json_writer *w, sqlite3_stmt *st, void *ctx)
{
    (void)ctx;
    json_object_begin(w);
    ix_json_col_int(w, st, "seq", 0);
    ix_json_col_time(w, st, "ts", 1);
    ix_json_col_endpoint(w, st, "src", 2, 3);
    ix_json_col_endpoint(w, st, "dst", 4, 5);
    ix_json_col_text(w, st, "transport", 6);
    ix_json_col_text(w, st, "start_line", 7);
    ix_json_col_bool(w, st, "retransmission", 8);
    ix_json_col_int(w, st, "bytes", 9);
    json_object_end(w);
}

/* The two statements that take an offer's JSON columns apart, prepared once per call. */
struct offer_ctx {
    sqlite3_stmt *payloads, *crypto;
    int rc; /* first error */
};

/* Runs sub on the text of column col, writing one object per array member. */
static void json_sub_array(struct json_writer *w, sqlite3_stmt *row, int col, sqlite3_stmt *sub,
                           bool payloads, int *rc_out)
{
    int rc = sqlite3_bind_text(sub, sqlite3_bind_parameter_index(sub, ":j"),
                               (const char *)sqlite3_column_text(row, col),
                               sqlite3_column_bytes(row, col), SQLITE_TRANSIENT);
    json_array_begin(w);
    while (rc == SQLITE_OK && (rc = sqlite3_step(sub)) == SQLITE_ROW) {
        json_object_begin(w);
        if (payloads) {
            ix_json_col_int(w, sub, "pt", 0);
            ix_json_col_text(w, sub, "encoding", 1);
            ix_json_col_int(w, sub, "clock_rate", 2);
            ix_json_col_int(w, sub, "channels", 3);
        } else {
            ix_json_col_int(w, sub, "tag", 0);
            ix_json_col_text(w, sub, "suite", 1);
        }
        json_object_end(w);
        rc = SQLITE_OK;
    }
    json_array_end(w);
    if (rc != SQLITE_DONE && *rc_out == SQLITE_OK)
        *rc_out = rc;
    sqlite3_reset(sub);
    sqlite3_clear_bindings(sub);
}

static void json_offer(struct json_writer *w, sqlite3_stmt *st, void *ctx)
{
    struct offer_ctx *o = ctx;
    json_object_begin(w);
    ix_json_col_int(w, st, "seq", 0);
    ix_json_col_int(w, st, "message_seq", 1);
    ix_json_col_time(w, st, "ts", 2);
    ix_json_col_bool(w, st, "from_caller", 3);
    ix_json_col_int(w, st, "m_index", 4);
    ix_json_col_text(w, st, "media", 5);
    ix_json_col_text(w, st, "proto", 6);
    ix_json_col_text(w, st, "addr", 7);
    ix_json_col_int(w, st, "port", 8);
    ix_json_col_text(w, st, "direction", 9);
    json_key(w, "payloads");
    json_sub_array(w, st, 10, o->payloads, true, &o->rc);
    json_key(w, "crypto");
    json_sub_array(w, st, 11, o->crypto, false, &o->rc);
    ix_json_col_bool(w, st, "has_fingerprint", 12);
    json_object_end(w);
}

/* Writes key: [rows of sql for call id].  0, or -1 (logged). */
static int json_rows(struct index *ix, struct json_writer *w, const char *key, const char *sql,
                     int64_t id, void (*row)(struct json_writer *, sqlite3_stmt *, void *),
                     void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), id);
    json_key(w, key);
    json_array_begin(w);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        row(w, st, ctx);
        rc = SQLITE_OK;
    }
    json_array_end(w);
    if (rc != SQLITE_DONE)
        log_msg(LOG_ERR, "index: call %lld: %s: %s", (long long)id, key, sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int json_offers(struct index *ix, struct json_writer *w, int64_t id)
{
    struct offer_ctx o = {NULL, NULL, SQLITE_OK};
    int ret = -1;
    if (sqlite3_prepare_v2(ix->db, sql_payloads, -1, &o.payloads, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(ix->db, sql_crypto, -1, &o.crypto, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "index: call %lld: media offers: %s", (long long)id,
                sqlite3_errmsg(ix->db));
        json_key(w, "media_offers");
        json_array_begin(w);
        json_array_end(w);
        goto out;
    }
    ret = json_rows(ix, w, "media_offers", sql_offers, id, json_offer, &o);
    if (o.rc != SQLITE_OK) {
        log_msg(LOG_ERR, "index: call %lld: media offer payloads: %s", (long long)id,
                sqlite3_errstr(o.rc));
        ret = -1;
    }
out:
    sqlite3_finalize(o.payloads);
    sqlite3_finalize(o.crypto);
    return ret;
}

long index_show_call(struct index *ix, int64_t call_rowid, FILE *out)
{
    return index_show_call_ext(ix, call_rowid, out, NULL, NULL);
}

long index_show_call_ext(struct index *ix, int64_t call_rowid, FILE *out,
                         index_call_extra_fn *extra, void *user)
{
    static const char where[] = " AND c.id = :id";
    char sql[4096];
    sqlite3_stmt *st = NULL;
    struct json_writer w;
    long ret = -1;
    int rc;

    int n = snprintf(sql, sizeof(sql), "%s%s", ix_call_select, where);
    if (n < 0 || (size_t)n >= sizeof(sql)) {
        log_msg(LOG_ERR, "index: call query too long");
        return -1;
    }
    rc = sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), call_rowid);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = 0;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        log_msg(LOG_ERR, "index: call %lld: %s", (long long)call_rowid, sqlite3_errmsg(ix->db));
        goto out;
    }

    json_init(&w, out, true);
    json_object_begin(&w);
    ix_json_call_fields(&w, st, false);
    json_key(&w, "streams");
    /* Every part is written (and closed) even after a failure, so the document stays
     * well-formed; the return value says it is incomplete. */
    bool failed = ix_json_streams(ix, &w, call_rowid) < 0;
    if (json_rows(ix, &w, "events", sql_events, call_rowid, json_event, NULL) != 0)
        failed = true;
    if (json_rows(ix, &w, "sip_messages", sql_messages, call_rowid, json_message, NULL) != 0)
        failed = true;
    if (json_offers(ix, &w, call_rowid) != 0)
        failed = true;
    if (extra && extra(ix, user, &w, call_rowid) < 0)
        failed = true;
    if (json_rows(ix, &w, "notes", sql_notes, call_rowid, json_note, NULL) != 0)
        failed = true;
    json_object_end(&w);
    if (json_finish(&w) != 0) {
        log_msg(LOG_ERR, "index: call %lld: writing JSON failed", (long long)call_rowid);
        failed = true;
    }
    ret = failed ? -1 : 1;
out:
    sqlite3_finalize(st);
    return ret;
}

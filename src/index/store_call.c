/*
 * store_call.c - writing a finished call, its SIP messages and SDP media into the index.
 *
 * A call is identified by (Call-ID, start time): storing it twice, as when the same
 * capture is imported again, leaves the first copy alone.  Everything of one call is
 * written inside a savepoint, so the index never holds a call without its messages.
 * Parameters are bound by name (bind.c), so a column added to a statement without its
 * binding (or the reverse) fails loudly instead of shifting values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/json.h"
#include "greffier/log.h"
#include "index_int.h"

/* The a=sendrecv family of RFC 4566 section 6 (media_direction_name of the SDP parser
 * gives the same words; this table keeps the index stage free of that module). */
static const char *sdp_direction(enum media_direction d)
{
    static const char *const names[] = {
        [MDIR_SENDRECV] = "sendrecv",
        [MDIR_SENDONLY] = "sendonly",
        [MDIR_RECVONLY] = "recvonly",
        [MDIR_INACTIVE] = "inactive",
    };
    return (unsigned)d < sizeof(names) / sizeof(names[0]) ? names[d] : NULL;
}

/* payloads: [{"pt":0,"encoding":"PCMU","clock_rate":8000,"channels":1}, ...] */
static void write_payloads(struct json_writer *w, const struct sdp_media *m)
{
    unsigned n = m->npayloads < SDP_MAX_PAYLOADS ? m->npayloads : SDP_MAX_PAYLOADS;
    json_array_begin(w);
    for (unsigned i = 0; i < n; i++) {
        const struct sdp_payload *p = &m->payloads[i];
        size_t elen = strnlen(p->encoding, sizeof(p->encoding));
        json_object_begin(w);
        json_key(w, "pt");
        json_uint(w, p->pt);
        json_key(w, "encoding");
        json_string_len(w, elen ? p->encoding : NULL, elen);
        json_key(w, "clock_rate");
        if (p->clock_rate)
            json_uint(w, p->clock_rate);
        else
            json_null(w);
        json_key(w, "channels");
        if (p->channels)
            json_uint(w, p->channels);
        else
            json_null(w);
        json_object_end(w);
    }
    json_array_end(w);
}

/* crypto: [{"tag":1,"suite":"AES_CM_128_HMAC_SHA1_80","key":"..."}, ...] */
static void write_crypto(struct json_writer *w, const struct sdp_media *m)
{
    unsigned n = m->ncrypto < SDP_MAX_CRYPTO ? m->ncrypto : SDP_MAX_CRYPTO;
    json_array_begin(w);
    for (unsigned i = 0; i < n; i++) {
        const struct sdp_crypto *c = &m->crypto[i];
        json_object_begin(w);
        json_key(w, "tag");
        json_uint(w, c->tag);
        json_key(w, "suite");
        json_string_len(w, c->suite, strnlen(c->suite, sizeof(c->suite)));
        json_key(w, "key");
        json_string_len(w, c->key, strnlen(c->key, sizeof(c->key)));
        json_object_end(w);
    }
    json_array_end(w);
}

/* Renders one JSON column into a malloc'ed string (freed by the caller). */
static char *render(void (*fn)(struct json_writer *, const struct sdp_media *),
                    const struct sdp_media *m, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    struct json_writer w;
    json_init(&w, f, false);
    fn(&w, m);
    bool bad = w.error || ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int store_offer_media(struct index *ix, int64_t call_ref, unsigned seq, const struct call *c,
                             const struct call_media_offer *o, unsigned m_index, char *err,
                             size_t errsize)
{
    const struct sdp_media *m = &o->sdp.m[m_index];
    struct ix_binder b = {ix->st[ST_INSERT_OFFER], NULL, SQLITE_OK};
    size_t plen = 0, clen = 0;
    char *payloads = render(write_payloads, m, &plen);
    char *crypto = render(write_crypto, m, &clen);
    int rc = -1;

    if (!payloads || !crypto) {
        snprintf(err, errsize, "out of memory (media offer JSON)");
        goto out;
    }
    ix_bind_int(&b, ":call_ref", call_ref);
    ix_bind_int(&b, ":seq", seq);
    if (o->message_index < c->nmessages)
        ix_bind_int(&b, ":message_seq", o->message_index);
    else
        ix_bind_null(&b, ":message_seq");
    ix_bind_int(&b, ":ts_us", o->ts);
    ix_bind_int(&b, ":from_caller", o->from_caller);
    ix_bind_int(&b, ":m_index", m_index);
    ix_bind_chars(&b, ":media", m->media, sizeof(m->media));
    ix_bind_chars(&b, ":proto", m->proto, sizeof(m->proto));
    ix_bind_addr(&b, ":addr", NULL, &m->addr, 0);
    ix_bind_int(&b, ":port", m->port);
    ix_bind_text(&b, ":direction", sdp_direction(m->direction));
    ix_bind_text_len(&b, ":payloads", payloads, plen);
    ix_bind_text_len(&b, ":crypto", crypto, clen);
    ix_bind_int(&b, ":has_fingerprint", m->has_fingerprint != 0);
    if (ix_binder_error(&b, err, errsize)) {
        sqlite3_reset(b.st);
        sqlite3_clear_bindings(b.st);
        goto out;
    }
    if (ix_step_done(ix->db, b.st, err, errsize) == SQLITE_DONE)
        rc = 0;
out:
    free(payloads);
    free(crypto);
    return rc;
}

static int store_message(struct index *ix, int64_t call_ref, size_t seq,
                         const struct call_sip_message *msg, char *err, size_t errsize)
{
    struct ix_binder b = {ix->st[ST_INSERT_MESSAGE], NULL, SQLITE_OK};
    ix_bind_int(&b, ":call_ref", call_ref);
    ix_bind_int(&b, ":seq", (int64_t)seq);
    ix_bind_int(&b, ":ts_us", msg->ts);
    ix_bind_addr(&b, ":src_ip", ":src_port", &msg->src, msg->sport);
    ix_bind_addr(&b, ":dst_ip", ":dst_port", &msg->dst, msg->dport);
    ix_bind_text(&b, ":transport", sip_transport_name(msg->transport));
    ix_bind_int(&b, ":retransmission", msg->retransmission);
    ix_bind_text(&b, ":start_line", msg->start_line);
    ix_bind_blob(&b, ":raw", msg->raw, msg->raw ? msg->raw_len : 0);
    if (ix_binder_error(&b, err, errsize)) {
        sqlite3_reset(b.st);
        sqlite3_clear_bindings(b.st);
        return -1;
    }
    return ix_step_done(ix->db, b.st, err, errsize) == SQLITE_DONE ? 0 : -1;
}

static void bind_party(struct ix_binder *b, const struct party *p, const char *number,
                       const char *norm, const char *name, const char *uri)
{
    ix_bind_text(b, number, p->number);
    ix_bind_text(b, norm, p->number_norm);
    ix_bind_text(b, name, p->name);
    ix_bind_text(b, uri, p->uri);
}

/* Inserts the calls row.  1: inserted (*id set); 0: already there (*id of that row). */
static int insert_call(struct index *ix, const struct call *c, int64_t *id, char *err,
                       size_t errsize)
{
    struct ix_binder b = {ix->st[ST_INSERT_CALL], NULL, SQLITE_OK};
    ix_bind_text(&b, ":call_id", c->call_id);
    ix_bind_int(&b, ":start_us", c->start);
    ix_bind_opt_int(&b, ":answer_us", c->answer);
    ix_bind_opt_int(&b, ":end_us", c->end);
    ix_bind_opt_int(&b, ":last_activity_us", c->last_activity);
    ix_bind_text(&b, ":status", call_status_name(c->status));
    ix_bind_opt_int(&b, ":sip_code", c->sip_code);
    ix_bind_text(&b, ":direction", call_direction_name(c->direction));
    ix_bind_text(&b, ":end_reason",
                 c->end_reason == END_NONE ? NULL : call_end_reason_name(c->end_reason));
    ix_bind_int(&b, ":partial", c->partial);
    ix_bind_text(&b, ":transport", sip_transport_name(c->transport));
    bind_party(&b, &c->caller, ":caller", ":caller_norm", ":caller_name", ":caller_uri");
    bind_party(&b, &c->callee, ":callee", ":callee_norm", ":callee_name", ":callee_uri");
    bind_party(&b, &c->redirecting, ":redirecting", ":redirecting_norm", ":redirecting_name",
               ":redirecting_uri");
    ix_bind_addr(&b, ":caller_ip", ":caller_port", &c->caller_addr, c->caller_port);
    ix_bind_addr(&b, ":callee_ip", ":callee_port", &c->callee_addr, c->callee_port);
    ix_bind_text(&b, ":ua_caller", c->user_agent_caller);
    ix_bind_text(&b, ":ua_callee", c->user_agent_callee);
    ix_bind_text(&b, ":from_tag", c->from_tag);
    ix_bind_text(&b, ":to_tag", c->to_tag);
    ix_bind_int(&b, ":messages_dropped", (int64_t)c->messages_dropped);
    if (ix_binder_error(&b, err, errsize)) {
        sqlite3_reset(b.st);
        sqlite3_clear_bindings(b.st);
        return -1;
    }
    if (ix_step_done(ix->db, b.st, err, errsize) != SQLITE_DONE)
        return -1;
    /* c->id is already set when the call had a live row (the upsert filled it): its id
     * is found below, as that of a call already indexed. */
    bool filled = sqlite3_changes(ix->db) == 1;
    if (filled && c->id == 0) {
        *id = sqlite3_last_insert_rowid(ix->db);
        return 1;
    }

    /* ON CONFLICT DO NOTHING: the call is already indexed; report its row. */
    sqlite3_stmt *st = ix->st[ST_FIND_CALL];
    struct ix_binder f = {st, NULL, SQLITE_OK};
    ix_bind_text(&f, ":call_id", c->call_id);
    ix_bind_int(&f, ":start_us", c->start);
    int rc = ix_binder_error(&f, err, errsize) ? SQLITE_ERROR : sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_ERROR || !err[0])
        snprintf(err, errsize, "existing call not found: %s", sqlite3_errmsg(ix->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc != SQLITE_ROW ? -1 : filled ? 1 : 0;
}

/* For log lines: a Call-ID comes from the wire, so only printable ASCII goes to the
 * journal, and not too much of it. */
static const char *printable(const char *s, char *buf, size_t size)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < size; i++)
        buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
    buf[i] = '\0';
    return buf;
}

int index_store_call(struct index *ix, struct call *c)
{
    char err[512] = "", idbuf[80];
    int64_t id = 0;
    int stored;

    if (!c->call_id) {
        snprintf(err, sizeof(err), "call without Call-ID");
        goto fail;
    }
    if (ix_step_done(ix->db, ix->st[ST_SAVEPOINT], err, sizeof(err)) != SQLITE_DONE)
        goto fail;

    stored = insert_call(ix, c, &id, err, sizeof(err));
    if (stored < 0)
        goto rollback;
    if (stored == 1) {
        for (size_t i = 0; i < c->nmessages; i++) {
            if (store_message(ix, id, i, &c->messages[i], err, sizeof(err)) != 0)
                goto rollback;
        }
        for (size_t i = 0; i < c->noffers; i++) {
            const struct call_media_offer *o = &c->offers[i];
            unsigned n = o->sdp.count < SDP_MAX_MEDIA ? o->sdp.count : SDP_MAX_MEDIA;
            for (unsigned m = 0; m < n; m++) {
                if (store_offer_media(ix, id, (unsigned)i, c, o, m, err, sizeof(err)) != 0)
                    goto rollback;
            }
        }
    }
    if (ix_step_done(ix->db, ix->st[ST_RELEASE], err, sizeof(err)) != SQLITE_DONE)
        goto rollback;
    c->id = id;
    return stored;

rollback:
    /* ROLLBACK TO keeps the savepoint open; RELEASE then ends it (and the implicit
     * transaction it started when no batch was open). */
    ix_step_done(ix->db, ix->st[ST_ROLLBACK_TO], NULL, 0);
    ix_step_done(ix->db, ix->st[ST_RELEASE], NULL, 0);
fail:
    log_msg(LOG_ERR, "index: storing call %s: %s", printable(c->call_id, idbuf, sizeof(idbuf)),
            err);
    return -1;
}

int index_store_tls_flow(struct index *ix, const struct ip_addr *src, uint16_t sport,
                         const struct ip_addr *dst, uint16_t dport, pkt_time_t first,
                         pkt_time_t last, uint64_t packets, uint64_t bytes)
{
    char err[256] = "";
    struct ix_binder b = {ix->st[ST_INSERT_TLS_FLOW], NULL, SQLITE_OK};
    ix_bind_addr(&b, ":src_ip", ":src_port", src, sport);
    ix_bind_addr(&b, ":dst_ip", ":dst_port", dst, dport);
    ix_bind_int(&b, ":first_us", first);
    ix_bind_int(&b, ":last_us", last);
    /* SQLite integers are signed 64-bit: a count beyond is saturated, not wrapped. */
    ix_bind_int(&b, ":packets", packets > INT64_MAX ? INT64_MAX : (int64_t)packets);
    ix_bind_int(&b, ":bytes", bytes > INT64_MAX ? INT64_MAX : (int64_t)bytes);
    if (ix_binder_error(&b, err, sizeof(err))) {
        sqlite3_reset(b.st);
        sqlite3_clear_bindings(b.st);
        goto fail;
    }
    if (ix_step_done(ix->db, b.st, err, sizeof(err)) != SQLITE_DONE)
        goto fail;
    return sqlite3_changes(ix->db) == 1 ? 1 : 0;
fail:
    log_msg(LOG_ERR, "index: storing TLS flow: %s", err);
    return -1;
}

int index_find_call(struct index *ix, const char *call_id, pkt_time_t start, int64_t *id)
{
    char err[256] = "";
    sqlite3_stmt *st = ix->st[ST_FIND_CALL];
    struct ix_binder f = {st, NULL, SQLITE_OK};
    ix_bind_text(&f, ":call_id", call_id);
    ix_bind_int(&f, ":start_us", start);
    int rc = ix_binder_error(&f, err, sizeof(err)) ? SQLITE_ERROR : sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        log_msg(LOG_ERR, "index: finding a call: %s", err[0] ? err : sqlite3_errmsg(ix->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * route_calls.c - GET /api/calls (search), /api/calls/{id} (one call), /api/calls/{id}/
 * audio (the recording, with byte ranges) and /api/calls/{id}/peaks (its waveform).
 *
 * Every query parameter is checked against a table of known names and its own parser;
 * an unknown or malformed one is a 400 naming it.  Values reach SQL only as bound
 * parameters (index_list_calls), and the free text q reaches FTS5 only as the query
 * index_fts_query builds from it (one quoted phrase per word).  Paging is by offset or,
 * better, by the keyset cursor of the X-Next-Cursor header (docs/API.md).
 *
 * Audio: the Ogg Opus bytes come from recording_open_source() and are streamed to the
 * socket from a byte_source: nothing is written to disk, so nothing decrypted will be
 * once the vault seals recordings.  Ranges (RFC 9110 §14): one range "a-b", "a-" or "-n"
 * is a 206 with Content-Range; a range starting past the end is a 416 whose Content-Range
 * gives the length; several ranges, or a Range header we do not understand, get the
 * whole body (200), as §14.2 allows.  Each audio request is audited, ranges included:
 * fetching the file in pieces does not escape the trail.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/number.h"
#include "greffier/recording_source.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"
#include "http_int.h"

enum { LIMIT_DEFAULT = 50, LIMIT_MAX = 1000, OFFSET_MAX = 1000000000, AUDIO_CHUNK = 16384 };

enum param {
    P_FROM,
    P_TO,
    P_NUMBER,
    P_STATUS,
    P_LIMIT,
    P_OFFSET,
    P_Q,
    P_DIRECTION,
    P_MIN_DURATION,
    P_TAG,
    P_CURSOR,
    P_COUNT
};

static const char *const param_names[P_COUNT] = {
    "from", "to",        "number",       "status", "limit",  "offset",
    "q",    "direction", "min_duration", "tag",    "cursor",
};

enum { MIN_DURATION_MAX_S = 86400 * 7 };

struct search {
    struct call_filter f;
    char digits[40], norm[40];
    char fts[INDEX_FTS_QUERY_SIZE];
    const char *fts_why;          /* why q was refused */
    const char *raw[P_COUNT];     /* as given, for the audit row */
    char next[INDEX_CURSOR_SIZE]; /* the next page's cursor, empty after the last */
};

static bool parse_count(const char *v, long max, long *out)
{
    long n = 0;
    if (!*v || strlen(v) > 10)
        return false;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    if (n > max)
        return false;
    *out = n;
    return true;
}

/* A number to search: digits, an optional leading '+' and visual separators. */
static bool parse_number(const char *v, struct search *s)
{
    size_t digits = 0, n = 0;
    for (const char *p = v; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (!(*p == '+' && p == v) && !strchr(" .-()", *p))
            return false;
    }
    if (digits == 0 || digits > 32)
        return false;
    for (const char *p = v; *p && n + 1 < sizeof(s->digits); p++)
        if (isdigit((unsigned char)*p) || *p == '+')
            s->digits[n++] = *p, s->digits[n] = '\0';
    return true;
}

struct arg_check {
    struct search *s;
    const char *bad; /* first unknown or malformed parameter */
};

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    struct arg_check *ac = cls;
    struct search *s = ac->s;
    size_t i;
    for (i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++)
        if (key && strcmp(key, param_names[i]) == 0)
            break;
    if (ac->bad)
        return MHD_NO;
    if (i == sizeof(param_names) / sizeof(param_names[0])) {
        ac->bad = key ? key : "";
        return MHD_NO;
    }
    if (!value || s->raw[i]) { /* empty-valued, or given twice */
        if (value && !*value && !s->raw[i])
            return MHD_YES; /* "number=" from an empty form field: not a filter */
        ac->bad = param_names[i];
        return MHD_NO;
    }
    if (!*value)
        return MHD_YES;
    s->raw[i] = value;
    bool ok = true;
    pkt_time_t t = 0;
    long n = 0;
    switch ((enum param)i) {
    case P_FROM:
    case P_TO:
        ok = time_parse_iso(value, &t);
        if (i == P_FROM)
            s->f.has_from = true, s->f.from = t;
        else
            s->f.has_to = true, s->f.to = t;
        break;
    case P_NUMBER:
        ok = parse_number(value, s);
        break;
    case P_STATUS:
        ok = call_status_parse(value, &s->f.status);
        s->f.has_status = true;
        break;
    case P_LIMIT:
        ok = parse_count(value, LIMIT_MAX, &s->f.limit) && s->f.limit > 0;
        break;
    case P_OFFSET:
        ok = parse_count(value, OFFSET_MAX, &s->f.offset);
        break;
    case P_Q:
        ok = index_fts_query(value, s->fts, sizeof(s->fts), &s->fts_why);
        s->f.fts = s->fts;
        break;
    case P_DIRECTION:
        ok = call_direction_parse(value, &s->f.direction);
        s->f.has_direction = true;
        break;
    case P_MIN_DURATION:
        ok = parse_count(value, MIN_DURATION_MAX_S, &n);
        s->f.min_duration_us = (int64_t)n * 1000000;
        break;
    case P_TAG:
        ok = index_tag_valid(value);
        s->f.tag = value;
        break;
    case P_CURSOR:
        ok = index_cursor_parse(value, &s->f.cursor_start, &s->f.cursor_id);
        s->f.has_cursor = ok;
        break;
    case P_COUNT:
        break;
    }
    if (!ok)
        ac->bad = param_names[i];
    return ok ? MHD_YES : MHD_NO;
}

/* Runs fn under the index lock with a memory stream; the text is returned in *text. */
static long with_stream(struct http_req *rq, char **text, size_t *len,
                        long (*fn)(struct http_req *rq, void *arg, FILE *out), void *arg)
{
    *text = NULL;
    *len = 0;
    FILE *m = open_memstream(text, len);
    if (!m)
        return -1;
    pthread_mutex_lock(&rq->srv->db_lock);
    long n = fn(rq, arg, m);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (fclose(m) != 0)
        n = -1;
    return n;
}

static long list_calls(struct http_req *rq, void *arg, FILE *out)
{
    struct search *s = arg;
    return index_list_calls_page(rq->srv->ix, &s->f, true, out, s->next);
}

/* The array, and after a full page the next page's cursor in X-Next-Cursor (the body
 * stays the `calls --json` array). */
static enum MHD_Result reply_page(struct http_req *rq, char *text, size_t len, const char *next)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    http_security_headers(resp, true);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (next[0])
        MHD_add_response_header(resp, "X-Next-Cursor", next);
    enum MHD_Result r = MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result internal_error(struct http_req *rq, char *text)
{
    free(text);
    return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                            "the index could not be read (see the server log)", NULL);
}

enum MHD_Result route_calls(struct http_req *rq)
{
    struct search s = {0};
    struct arg_check ac = {&s, NULL};
    s.f.limit = LIMIT_DEFAULT;
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
    if (ac.bad) {
        char msg[160];
        bool known = false;
        for (size_t i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++)
            known |= strcmp(ac.bad, param_names[i]) == 0;
        if (strcmp(ac.bad, "q") == 0 && s.fts_why)
            snprintf(msg, sizeof(msg), "q: %s", s.fts_why);
        else
            snprintf(msg, sizeof(msg), "%s",
                     known ? "invalid value (see docs/API.md for the syntax)"
                           : "unknown parameter");
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", msg,
                                known ? ac.bad : "?");
    }
    if (s.f.has_from && s.f.has_to && s.f.to <= s.f.from)
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                                "to must be later than from", "to");
    if (s.f.has_cursor && s.f.offset > 0)
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                                "cursor and offset are two ways of paging: use one", "offset");
    if (s.digits[0]) {
        s.f.number = s.digits[0] == '+' ? s.digits + 1 : s.digits;
        if (number_normalise(&rq->srv->cfg.plan, s.digits, s.norm, sizeof(s.norm)))
            s.f.number_norm = s.norm;
    }
    http_audit(rq, rq->sess.user, "search", "", "from", s.raw[P_FROM], "to", s.raw[P_TO], "number",
               s.raw[P_NUMBER], "status", s.raw[P_STATUS], "limit", s.raw[P_LIMIT], "offset",
               s.raw[P_OFFSET], "q", s.raw[P_Q], "direction", s.raw[P_DIRECTION], "min_duration",
               s.raw[P_MIN_DURATION], "tag", s.raw[P_TAG], "cursor", s.raw[P_CURSOR], AUDIT_END);
    char *text;
    size_t len;
    if (with_stream(rq, &text, &len, list_calls, &s) < 0)
        return internal_error(rq, text);
    return reply_page(rq, text, len, s.next);
}

static long show_call(struct http_req *rq, void *arg, FILE *out)
{
    (void)arg;
    return index_show_call_ext(rq->srv->ix, rq->id, out, retention_call_json, &rq->srv->cfg);
}

static enum MHD_Result no_call(struct http_req *rq)
{
    return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no call with this id", NULL);
}

enum MHD_Result route_call(struct http_req *rq)
{
    char *text, target[24];
    size_t len;
    long n = with_stream(rq, &text, &len, show_call, NULL);
    if (n < 0)
        return internal_error(rq, text);
    if (n == 0) {
        free(text);
        return no_call(rq);
    }
    snprintf(target, sizeof(target), "%" PRId64, rq->id);
    http_audit(rq, rq->sess.user, "call.view", target, AUDIT_END);
    return http_reply_json(rq, MHD_HTTP_OK, text, len);
}

static long peaks_json(struct http_req *rq, void *arg, FILE *out)
{
    (void)arg;
    unsigned per_second;
    int8_t *peaks;
    size_t n;
    int r = index_get_peaks(rq->srv->ix, rq->id, &per_second, &peaks, &n);
    if (r == 1) {
        struct json_writer w;
        json_init(&w, out, false);
        json_object_begin(&w);
        json_key(&w, "per_second");
        json_uint(&w, per_second);
        json_key(&w, "channels");
        json_int(&w, 2);
        json_key(&w, "min_max");
        json_array_begin(&w);
        for (size_t i = 0; i < n * 4; i++)
            json_int(&w, peaks[i]);
        json_array_end(&w);
        json_object_end(&w);
        if (json_finish(&w) != 0)
            r = -1;
    }
    free(peaks);
    return r;
}

enum MHD_Result route_call_peaks(struct http_req *rq)
{
    char *text;
    size_t len;
    long r = with_stream(rq, &text, &len, peaks_json, NULL);
    if (r == 1)
        return http_reply_json(rq, MHD_HTTP_OK, text, len);
    free(text);
    if (r == -2)
        return no_call(rq);
    if (r == 0)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "no_recording",
                                "this call has no recording", NULL);
    return internal_error(rq, NULL);
}

/* ---- audio ---------------------------------------------------------------------------- */

struct audio_stream {
    struct recording_source *rs;
    struct byte_source src;
    uint64_t first; /* offset of the range in the Ogg stream */
};

/* Only the sealed chunks the range touches are read and decrypted (the vault's random
 * access), so seeking in a long recording costs one chunk, not the file before it. */
static ssize_t audio_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct audio_stream *a = cls;
    long n = recording_source_read_at(a->rs, a->first + pos, (uint8_t *)buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)n;
}

static void audio_free(void *cls)
{
    struct audio_stream *a = cls;
    recording_source_close(a->rs);
    free(a);
}

enum range_kind { RANGE_NONE, RANGE_ONE, RANGE_UNSATISFIABLE };

/* One "bytes=" range against a body of total bytes (RFC 9110 §14.1.2). */
static enum range_kind parse_range(const char *h, uint64_t total, uint64_t *first, uint64_t *last)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return RANGE_NONE;
    const char *p = h + 6;
    uint64_t a = 0, b = 0;
    bool has_a = false, has_b = false;
    for (; *p >= '0' && *p <= '9'; p++, has_a = true) {
        if (a > (UINT64_MAX - 9) / 10)
            return RANGE_NONE;
        a = a * 10 + (uint64_t)(*p - '0');
    }
    if (*p++ != '-')
        return RANGE_NONE;
    for (; *p >= '0' && *p <= '9'; p++, has_b = true) {
        if (b > (UINT64_MAX - 9) / 10)
            return RANGE_NONE;
        b = b * 10 + (uint64_t)(*p - '0');
    }
    if (*p != '\0' || (!has_a && !has_b))
        return RANGE_NONE;
    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0 || total == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= total ? 0 : total - b;
        *last = total - 1;
        return RANGE_ONE;
    }
    if (has_b && b < a)
        return RANGE_NONE; /* invalid: ignored, the whole body follows */
    if (a >= total)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = has_b && b < total ? b : total - 1;
    return RANGE_ONE;
}

enum MHD_Result route_call_audio(struct http_req *rq)
{
    struct recording_info info;
    char err[512], target[24], range_text[64];
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = index_get_recording(rq->srv->ix, rq->id, &info);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (r == -2)
        return no_call(rq);
    if (r == 0)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "no_recording",
                                "this call has no recording", NULL);
    if (r < 0)
        return internal_error(rq, NULL);

    /* The size served is the Ogg stream's, read from the sealed file's header. */
    struct audio_stream *a = calloc(1, sizeof(*a));
    if (!a)
        return MHD_NO;
    snprintf(target, sizeof(target), "%" PRId64, rq->id);
    a->rs = recording_open_source(rq->srv->cfg.data_dir, &info, &a->src, err, sizeof(err));
    if (!a->rs) {
        free(a);
        log_msg(LOG_ERR, "http: replay of call %s: %s", target, err);
        http_check_private_key(rq->srv);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "recording_unreadable",
                                "the recording cannot be read (see the server log)", NULL);
    }
    uint64_t total = recording_source_size(a->rs), first = 0, last = total ? total - 1 : 0;
    const char *range = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Range");
    enum range_kind rk = parse_range(range, total, &first, &last);
    snprintf(range_text, sizeof(range_text), "%.60s", range ? range : "");
    http_audit(rq, rq->sess.user, "replay", target, "range", range ? range_text : NULL, AUDIT_END);
    if (rk == RANGE_UNSATISFIABLE) {
        audio_free(a);
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        char cr[48];
        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, total);
        http_security_headers(resp, true);
        MHD_add_response_header(resp, "Content-Range", cr);
        MHD_add_response_header(resp, "Accept-Ranges", "bytes");
        enum MHD_Result res = MHD_queue_response(rq->conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
        MHD_destroy_response(resp);
        http_count_status(rq->srv, MHD_HTTP_RANGE_NOT_SATISFIABLE);
        return res;
    }
    a->first = first;
    uint64_t size = total ? last - first + 1 : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(size, AUDIO_CHUNK, audio_read, a, audio_free);
    if (!resp) {
        audio_free(a);
        return MHD_NO;
    }
    http_security_headers(resp, true);
    MHD_add_response_header(resp, "Content-Type", "audio/ogg");
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    unsigned status = MHD_HTTP_OK;
    if (rk == RANGE_ONE) {
        char cr[80];
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last, total);
        MHD_add_response_header(resp, "Content-Range", cr);
        status = MHD_HTTP_PARTIAL_CONTENT;
    }
    enum MHD_Result res = MHD_queue_response(rq->conn, status, resp);
    MHD_destroy_response(resp);
    http_count_status(rq->srv, status);
    return res;
}

/*
 * list_calls.c - `greffier calls`: searching the index, as a table or as JSON.
 *
 * The query is assembled from fixed fragments, one per filter present, and every value
 * is a bound parameter: nothing a user types ever becomes SQL.  A number matches a call
 * when its normalised form equals the caller's, callee's or redirecting party's
 * normalised number, or when the digits appear as they are inside one of the three
 * numbers as dialled (instr(), which has no wildcard to escape, unlike LIKE).
 *
 * The JSON is the `calls --json` contract (docs/API): field names and types only grow.
 * The same call object, with the call's details added, is `call ID` (show_call.c).
 */
#include <stdio.h>
#include <string.h>

#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/timefmt.h"
#include "greffier/utf8.h"
#include "index_int.h"

enum col {
    COL_ID,
    COL_CALL_ID,
    COL_CALLER,
    COL_CALLER_NAME,
    COL_CALLEE,
    COL_CALLEE_NAME,
    COL_START,
    COL_ANSWER,
    COL_END,
    COL_STATUS,
    COL_SIP_CODE,
    COL_DIRECTION,
    COL_PARTIAL,
    COL_END_REASON,
    COL_TRANSPORT,
    COL_CALLER_NORM,
    COL_CALLEE_NORM,
    COL_REDIRECTING,
    COL_CALLER_IP,
    COL_CALLEE_IP,
    COL_SIP_MESSAGES,
    COL_MEDIA_STATE,
    COL_REC_ID,
    COL_REC_PATH,
    COL_REC_CODEC_IN,
    COL_REC_SAMPLE_RATE,
    COL_REC_DURATION,
    COL_REC_BYTES,
    COL_REC_SHA256,
    COL_REC_START,
    COL_REC_ANSWER_OFFSET,
    COL_REC_STATE,
    COL_REC_BITRATE,
    COL_REC_FRAME_MS,
    COL_REC_COMPLEXITY,
    COL_TAGS,
    COL_MOS_MIN,
    /* The recording rules and on demand (ondemand.h). */
    COL_RULE,
    COL_RULE_ACTION,
    COL_RETENTION_DAYS,
    COL_DECISION,
    COL_DECISION_BY,
    COL_DECISION_AT,
    COL_DECISION_DEADLINE,
    COL_LIVE,
};

/* recordings.call_ref is unique: the join adds no row. */
const char ix_call_select[] =
    "SELECT c.id, c.call_id, c.caller, c.caller_name, c.callee, c.callee_name,"
    " c.start_us, c.answer_us, c.end_us, c.status, c.sip_code, c.direction, c.partial,"
    " c.end_reason, c.transport, c.caller_norm, c.callee_norm, c.redirecting,"
    " c.caller_ip, c.callee_ip,"
    " (SELECT count(*) FROM sip_messages m WHERE m.call_ref = c.id),"
    " c.media_state, r.id, r.path, r.codec_in, r.sample_rate, r.duration_s, r.bytes,"
    " r.sha256, r.start_us, r.answer_offset_ms, r.state, r.bitrate, r.frame_ms, r.complexity,"
    " (SELECT group_concat(tag, ' ') FROM"
    "   (SELECT tag FROM call_tags t WHERE t.call_ref = c.id ORDER BY tag)),"
    " (SELECT min(mos) FROM streams s WHERE s.call_ref = c.id AND s.mos > 0),"
    " c.rule, c.rule_action, c.retention_days,"
    " c.decision, c.decision_by, c.decision_at, c.decision_deadline_us, c.live"
    " FROM calls c LEFT JOIN recordings r ON r.call_ref = c.id WHERE 1";

/* One fragment per filter, appended in this order when the filter is set. */
static const char sql_from[] = " AND c.start_us >= :from";
static const char sql_to[] = " AND c.start_us < :to";
static const char sql_number[] =
    " AND (c.caller_norm = :norm OR c.callee_norm = :norm OR c.redirecting_norm = :norm"
    " OR instr(c.caller, :digits) > 0 OR instr(c.callee, :digits) > 0"
    " OR instr(c.redirecting, :digits) > 0)";
/* The same for three digits or more, through indexes only: each normalised column's own
 * index and the trigram index of the numbers as dialled (migration 6; :digits_q is the
 * digits in double quotes, an FTS5 string of digits only).  A UNION of id lists rather
 * than an OR: with the statistics PRAGMA optimize gathers (redirecting_norm is mostly
 * NULL, so its index looks useless), SQLite turned the OR into a scan of every call,
 * a second at a million calls; INDEXED BY keeps each branch on its index. */
static const char sql_number_indexed[] =
    " AND c.id IN (SELECT id FROM calls INDEXED BY calls_caller_norm WHERE caller_norm = :norm"
    " UNION ALL SELECT id FROM calls INDEXED BY calls_callee_norm WHERE callee_norm = :norm"
    " UNION ALL SELECT id FROM calls INDEXED BY calls_redirecting_norm"
    "  WHERE redirecting_norm = :norm"
    " UNION ALL SELECT rowid FROM call_numbers WHERE call_numbers MATCH :digits_q)";
static const char sql_status[] = " AND c.status = :status";
/* The FTS5 query is built by index_fts_query (search_query.c), never taken as typed. */
static const char sql_fts[] =
    " AND c.id IN (SELECT rowid FROM call_search WHERE call_search MATCH :fts)";
static const char sql_direction[] = " AND c.direction = :direction";
static const char sql_min_duration[] =
    " AND c.answer_us IS NOT NULL AND c.end_us - c.answer_us >= :min_duration";
static const char sql_tag[] = " AND c.id IN (SELECT call_ref FROM call_tags WHERE tag = :tag)";
/* The same two when they match many calls: "+c.id" keeps SQLite from fetching every
 * match by id to sort them (a row lookup each, 130 ms for a first name found in 33,000
 * of a million calls); it walks calls_start from the newest instead and stops at the
 * page's end, which is quick exactly when matches are many. */
static const char sql_fts_broad[] =
    " AND +c.id IN (SELECT rowid FROM call_search WHERE call_search MATCH :fts)";
static const char sql_tag_broad[] =
    " AND +c.id IN (SELECT call_ref FROM call_tags WHERE tag = :tag)";
enum { BROAD_MATCHES = 2000 };
static const char sql_cursor[] = " AND (c.start_us, c.id) < (:cursor_start, :cursor_id)";
static const char sql_live[] = " AND c.live = 1";
static const char sql_order[] = " ORDER BY c.start_us DESC, c.id DESC";
/* The filters and the paging pick the ids in a subquery, so the costly columns (tags,
 * MOS, message count) are computed for the page only, not for every match before the
 * sort. */
static const char sql_page_begin[] = " AND c.id IN (SELECT c.id FROM calls c WHERE 1";
static const char sql_page_end[] = ")";
static const char sql_limit[] = " LIMIT :limit";
/* SQLite takes OFFSET only after a LIMIT; -1 is no limit. */
static const char sql_offset[] = " LIMIT :limit OFFSET :offset";

static bool has_text(const char *s)
{
    return s && s[0];
}

/* The number of rows of sql (one bound text parameter) up to BROAD_MATCHES + 1; on error
 * 0, the plan for few matches, which is right whatever their number. */
static int64_t count_upto(struct index *ix, const char *sql, const char *value)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_bind_int(st, 2, BROAD_MATCHES + 1) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* True when the free text and the tag (those present) each match more than
 * BROAD_MATCHES calls and a page (limit) is asked for: the walk is worth it for a page. */
static bool broad_match(struct index *ix, const struct call_filter *f)
{
    if ((!has_text(f->fts) && !has_text(f->tag)) || f->limit <= 0)
        return false;
    if (has_text(f->fts) &&
        count_upto(ix,
                   "SELECT count(*) FROM (SELECT 1 FROM call_search WHERE call_search MATCH ?1"
                   " LIMIT ?2)",
                   f->fts) <= BROAD_MATCHES)
        return false;
    if (has_text(f->tag) &&
        count_upto(ix, "SELECT count(*) FROM (SELECT 1 FROM call_tags WHERE tag = ?1 LIMIT ?2)",
                   f->tag) <= BROAD_MATCHES)
        return false;
    return true;
}

static sqlite3_stmt *prepare(struct index *ix, const struct call_filter *f)
{
    char sql[sizeof(ix_call_select) + sizeof(sql_page_begin) + sizeof(sql_from) + sizeof(sql_to) +
             sizeof(sql_number) + sizeof(sql_number_indexed) + sizeof(sql_status) +
             sizeof(sql_fts_broad) + sizeof(sql_direction) + sizeof(sql_min_duration) +
             sizeof(sql_tag_broad) + sizeof(sql_cursor) + sizeof(sql_live) + 2 * sizeof(sql_order) +
             sizeof(sql_offset) + sizeof(sql_page_end)];
    char digits_q[40];
    size_t len = 0;
    bool number = has_text(f->number) || has_text(f->number_norm);
    /* Digits only (the callers check), so quoting them makes a plain FTS5 string. */
    bool indexed = has_text(f->number) && strlen(f->number) >= 3 &&
                   strlen(f->number) + 3 <= sizeof(digits_q) &&
                   strspn(f->number, "0123456789") == strlen(f->number);
    if (indexed)
        snprintf(digits_q, sizeof(digits_q), "\"%s\"", f->number);

#define APPEND(frag)                                                                               \
    do {                                                                                           \
        memcpy(sql + len, frag, sizeof(frag) - 1);                                                 \
        len += sizeof(frag) - 1;                                                                   \
    } while (0)
    /* Without a limit every match is listed anyway: no page to choose first. */
    bool paged = f->limit > 0 || f->offset > 0;
    APPEND(ix_call_select);
    if (paged)
        APPEND(sql_page_begin);
    if (f->has_from)
        APPEND(sql_from);
    if (f->has_to)
        APPEND(sql_to);
    if (number && indexed)
        APPEND(sql_number_indexed);
    else if (number)
        APPEND(sql_number);
    if (f->has_status)
        APPEND(sql_status);
    bool broad = broad_match(ix, f);
    if (has_text(f->fts) && broad)
        APPEND(sql_fts_broad);
    else if (has_text(f->fts))
        APPEND(sql_fts);
    if (f->has_direction)
        APPEND(sql_direction);
    if (f->min_duration_us > 0)
        APPEND(sql_min_duration);
    if (has_text(f->tag) && broad)
        APPEND(sql_tag_broad);
    else if (has_text(f->tag))
        APPEND(sql_tag);
    if (f->live)
        APPEND(sql_live);
    if (f->has_cursor)
        APPEND(sql_cursor);
    if (paged) {
        APPEND(sql_order);
        if (f->offset > 0)
            APPEND(sql_offset);
        else
            APPEND(sql_limit);
        APPEND(sql_page_end);
    }
    APPEND(sql_order);
#undef APPEND
    sql[len] = '\0';

    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db, sql, (int)len + 1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "index: listing calls: %s", sqlite3_errmsg(ix->db));
        return NULL;
    }
    /* Each name is present exactly when its fragment was appended. */
    int rc = SQLITE_OK;
    if (f->has_from)
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":from"), f->from);
    if (f->has_to)
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":to"), f->to);
    if (number) {
        /* An empty or absent form matches nothing rather than everything. */
        int i = sqlite3_bind_parameter_index(st, ":norm");
        rc |= has_text(f->number_norm) ? sqlite3_bind_text(st, i, f->number_norm, -1, SQLITE_STATIC)
                                       : sqlite3_bind_null(st, i);
        if (indexed) {
            rc |= sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":digits_q"), digits_q, -1,
                                    SQLITE_TRANSIENT);
        } else {
            i = sqlite3_bind_parameter_index(st, ":digits");
            rc |= has_text(f->number) ? sqlite3_bind_text(st, i, f->number, -1, SQLITE_STATIC)
                                      : sqlite3_bind_null(st, i);
        }
    }
    if (f->has_status)
        rc |= sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":status"),
                                call_status_name(f->status), -1, SQLITE_STATIC);
    if (has_text(f->fts))
        rc |= sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":fts"), f->fts, -1,
                                SQLITE_STATIC);
    if (f->has_direction)
        rc |= sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":direction"),
                                call_direction_name(f->direction), -1, SQLITE_STATIC);
    if (f->min_duration_us > 0)
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":min_duration"),
                                 f->min_duration_us);
    if (has_text(f->tag))
        rc |= sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":tag"), f->tag, -1,
                                SQLITE_STATIC);
    if (f->has_cursor) {
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":cursor_start"),
                                 f->cursor_start);
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":cursor_id"), f->cursor_id);
    }
    if (f->limit > 0 || f->offset > 0)
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":limit"),
                                 f->limit > 0 ? f->limit : -1);
    if (f->offset > 0)
        rc |= sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":offset"), f->offset);
    if (rc != SQLITE_OK) {
        log_msg(LOG_ERR, "index: listing calls: binding: %s", sqlite3_errmsg(ix->db));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static bool col_null(sqlite3_stmt *st, enum col c)
{
    return sqlite3_column_type(st, c) == SQLITE_NULL;
}

/* Answer to end; false when the call was never answered or has not ended. */
static bool duration_us(sqlite3_stmt *st, int64_t *out)
{
    if (col_null(st, COL_ANSWER) || col_null(st, COL_END))
        return false;
    *out = sqlite3_column_int64(st, COL_END) - sqlite3_column_int64(st, COL_ANSWER);
    return true;
}

/* recording: null when the call has none, else what a player or an auditor needs. */
static void json_recording(struct json_writer *w, sqlite3_stmt *st)
{
    json_key(w, "recording");
    if (col_null(st, COL_REC_ID)) {
        json_null(w);
        return;
    }
    json_object_begin(w);
    ix_json_col_text(w, st, "path", COL_REC_PATH);
    ix_json_col_text(w, st, "codec_in", COL_REC_CODEC_IN);
    ix_json_col_int(w, st, "sample_rate", COL_REC_SAMPLE_RATE);
    ix_json_col_real(w, st, "duration_s", COL_REC_DURATION, 3);
    ix_json_col_int(w, st, "bytes", COL_REC_BYTES);
    ix_json_col_text(w, st, "sha256", COL_REC_SHA256);
    ix_json_col_time(w, st, "start", COL_REC_START);
    ix_json_col_ms_as_s(w, st, "answer_offset_s", COL_REC_ANSWER_OFFSET);
    ix_json_col_text(w, st, "state", COL_REC_STATE);
    ix_json_col_int(w, st, "bitrate", COL_REC_BITRATE);
    ix_json_col_int(w, st, "frame_ms", COL_REC_FRAME_MS);
    ix_json_col_int(w, st, "complexity", COL_REC_COMPLEXITY);
    json_object_end(w);
}

/* "tags": sorted, from the space-separated column (a tag has no space: index_tag_valid). */
static void json_tags(struct json_writer *w, sqlite3_stmt *st)
{
    const char *t = col_null(st, COL_TAGS) ? "" : (const char *)sqlite3_column_text(st, COL_TAGS);
    json_key(w, "tags");
    json_array_begin(w);
    while (t && *t) {
        size_t n = strcspn(t, " ");
        if (n > 0)
            json_string_len(w, t, n);
        t += n;
        t += *t == ' ';
    }
    json_array_end(w);
}

/* The rule that decided and its retention; for an on_demand call the decision
 * (docs/RULES.md).  The tags are json_tags'. */
static void json_rules(struct json_writer *w, sqlite3_stmt *st)
{
    ix_json_col_text(w, st, "rule", COL_RULE);
    ix_json_col_text(w, st, "rule_action", COL_RULE_ACTION);
    ix_json_col_int(w, st, "retention_days", COL_RETENTION_DAYS);
    json_key(w, "on_demand");
    if (col_null(st, COL_DECISION)) {
        json_null(w);
    } else {
        json_object_begin(w);
        ix_json_col_text(w, st, "decision", COL_DECISION);
        ix_json_col_text(w, st, "by", COL_DECISION_BY);
        ix_json_col_text(w, st, "at", COL_DECISION_AT);
        ix_json_col_time(w, st, "deadline", COL_DECISION_DEADLINE);
        json_object_end(w);
    }
    json_key(w, "live");
    json_bool(w, sqlite3_column_int64(st, COL_LIVE) != 0);
}

void ix_json_call_fields(struct json_writer *w, sqlite3_stmt *st, bool with_message_count)
{
    int64_t d;
    json_key(w, "id");
    json_int(w, sqlite3_column_int64(st, COL_ID));
    ix_json_col_text(w, st, "call_id", COL_CALL_ID);
    ix_json_col_text(w, st, "caller", COL_CALLER);
    ix_json_col_text(w, st, "caller_name", COL_CALLER_NAME);
    ix_json_col_text(w, st, "callee", COL_CALLEE);
    ix_json_col_text(w, st, "callee_name", COL_CALLEE_NAME);
    ix_json_col_time(w, st, "start", COL_START);
    ix_json_col_time(w, st, "answer", COL_ANSWER);
    ix_json_col_time(w, st, "end", COL_END);
    json_key(w, "duration_s");
    if (duration_us(st, &d)) {
        /* Rounded to the millisecond, half away from zero. */
        int64_t ms = d >= 0 ? (d + 500) / 1000 : (d - 500) / 1000;
        json_fixed(w, ms, 3);
    } else {
        json_null(w);
    }
    ix_json_col_text(w, st, "status", COL_STATUS);
    ix_json_col_int(w, st, "sip_code", COL_SIP_CODE);
    ix_json_col_text(w, st, "direction", COL_DIRECTION);
    json_recording(w, st);
    ix_json_col_text(w, st, "media_state", COL_MEDIA_STATE);
    json_key(w, "partial");
    json_bool(w, sqlite3_column_int64(st, COL_PARTIAL) != 0);
    ix_json_col_text(w, st, "end_reason", COL_END_REASON);
    ix_json_col_text(w, st, "transport", COL_TRANSPORT);
    ix_json_col_text(w, st, "caller_norm", COL_CALLER_NORM);
    ix_json_col_text(w, st, "callee_norm", COL_CALLEE_NORM);
    ix_json_col_text(w, st, "redirecting", COL_REDIRECTING);
    ix_json_col_text(w, st, "caller_ip", COL_CALLER_IP);
    ix_json_col_text(w, st, "callee_ip", COL_CALLEE_IP);
    if (with_message_count) {
        json_key(w, "sip_messages");
        json_int(w, sqlite3_column_int64(st, COL_SIP_MESSAGES));
    }
    json_tags(w, st);
    /* The quality figure of a result row: the worst MOS estimate of the call's streams. */
    ix_json_col_real(w, st, "mos_min", COL_MOS_MIN, 2);
    json_rules(w, st);
}

static void json_row(struct json_writer *w, sqlite3_stmt *st)
{
    json_object_begin(w);
    ix_json_call_fields(w, st, true);
    json_object_end(w);
}

/* Characters a terminal would act on rather than show: C0 and C1 controls, DEL, and the
 * bidirectional overrides that can make a number read backwards (CVE-2021-42574). */
static bool unsafe_for_terminal(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* Writes s in a cell of width characters (code points), left-aligned and padded;
 * longer text is cut and ends with '~'; width 0 is the unbounded last column.  Unsafe
 * or ill-formed text shows as '?'. */
static void put_cell(FILE *out, const char *s, size_t slen, unsigned width)
{
    const uint8_t *p = (const uint8_t *)(s ? s : "-");
    size_t n = s ? slen : 1, i = 0;
    unsigned used = 0;

    /* Count first, so a long value can be cut one character early for the marker. */
    unsigned total = 0;
    for (size_t j = 0; j < n; total++) {
        size_t bad, seq = utf8_sequence(p + j, n - j, &bad);
        j += seq ? seq : bad;
    }
    bool cut = width > 0 && total > width;
    unsigned keep = cut ? width - 1 : total;
    while (i < n && used < keep) {
        size_t bad, seq = utf8_sequence(p + i, n - i, &bad);
        if (seq == 0 || unsafe_for_terminal(utf8_decode(p + i, seq)))
            fputc('?', out);
        else
            fwrite(p + i, 1, seq, out);
        i += seq ? seq : bad;
        used++;
    }
    if (cut) {
        fputc('~', out);
        used++;
    }
    for (; used < width; used++)
        fputc(' ', out);
}

static void put_text_cell(FILE *out, sqlite3_stmt *st, enum col c, unsigned width)
{
    const char *s = col_null(st, c) ? NULL : (const char *)sqlite3_column_text(st, c);
    put_cell(out, s, s ? (size_t)sqlite3_column_bytes(st, c) : 0, width);
}

enum { W_ID = 8, W_START = 20, W_PARTY = 20, W_DURATION = 8, W_STATUS = 11, W_CODE = 4 };

static void table_header(FILE *out)
{
    fprintf(out, "%*s  %-*s  %-*s  %-*s  %*s  %-*s  %*s  %s\n", W_ID, "ID", W_START, "START",
            W_PARTY, "CALLER", W_PARTY, "CALLEE", W_DURATION, "DURATION", W_STATUS, "STATUS",
            W_CODE, "CODE", "DIRECTION");
}

static void table_row(FILE *out, sqlite3_stmt *st)
{
    char start[TIME_ISO_SIZE], duration[32] = "-", code[16] = "-";
    int64_t d;

    time_format_iso_s(sqlite3_column_int64(st, COL_START), start, sizeof(start));
    if (duration_us(st, &d) && d >= 0) {
        long long s = (long long)(d / 1000000);
        snprintf(duration, sizeof(duration), "%lld:%02lld", s / 60, s % 60);
    }
    if (!col_null(st, COL_SIP_CODE))
        snprintf(code, sizeof(code), "%lld", (long long)sqlite3_column_int64(st, COL_SIP_CODE));

    fprintf(out, "%*lld  %-*s  ", W_ID, (long long)sqlite3_column_int64(st, COL_ID), W_START,
            start);
    put_text_cell(out, st, COL_CALLER, W_PARTY);
    fputs("  ", out);
    put_text_cell(out, st, COL_CALLEE, W_PARTY);
    fprintf(out, "  %*s  ", W_DURATION, duration);
    put_text_cell(out, st, COL_STATUS, W_STATUS);
    fprintf(out, "  %*s  ", W_CODE, code);
    put_text_cell(out, st, COL_DIRECTION, 0);
    fputc('\n', out);
}

long index_list_calls(struct index *ix, const struct call_filter *f, bool json, FILE *out)
{
    return index_list_calls_page(ix, f, json, out, NULL);
}

long index_list_calls_page(struct index *ix, const struct call_filter *f, bool json, FILE *out,
                           char *next)
{
    struct json_writer w;
    long rows = 0;
    int rc;
    int64_t last_start = 0, last_id = 0;
    if (next)
        next[0] = '\0';
    sqlite3_stmt *st = prepare(ix, f);
    if (!st)
        return -1;

    if (json) {
        json_init(&w, out, true);
        json_array_begin(&w);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json) {
            json_row(&w, st);
        } else {
            if (rows == 0)
                table_header(out);
            table_row(out, st);
        }
        last_start = sqlite3_column_int64(st, COL_START);
        last_id = sqlite3_column_int64(st, COL_ID);
        rows++;
    }
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: listing calls: %s", sqlite3_errmsg(ix->db));
        rows = -1;
    }
    sqlite3_finalize(st);
    if (next && rows > 0 && rows == f->limit)
        snprintf(next, INDEX_CURSOR_SIZE, "%lld.%lld", (long long)last_start, (long long)last_id);

    if (json) {
        json_array_end(&w);
        if (json_finish(&w) != 0 && rows >= 0) {
            log_msg(LOG_ERR, "index: listing calls: writing JSON failed");
            rows = -1;
        }
    } else if (rows == 0) {
        fputs("no calls\n", out);
    }
    return rows;
}

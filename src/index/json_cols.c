/*
 * json_cols.c - one SQLite result column as one JSON member, for the index's JSON
 * outputs (`calls --json`, `call ID`, `streams`).
 *
 * NULL is always null.  Text keeps the length SQLite reports, so a row written by another
 * tool with a NUL inside is shown whole (the JSON writer escapes it).  Measurements
 * stored as REAL are written with a fixed number of decimals: %.17g would print binary
 * noise (12.300000000000001) that no reader wants.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "greffier/json.h"
#include "greffier/timefmt.h"
#include "index_int.h"

static bool is_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL;
}

void ix_json_col_text(struct json_writer *w, sqlite3_stmt *st, const char *key, int col)
{
    json_key(w, key);
    if (is_null(st, col)) {
        json_null(w);
        return;
    }
    const char *s = (const char *)sqlite3_column_text(st, col);
    json_string_len(w, s, (size_t)sqlite3_column_bytes(st, col));
}

void ix_json_col_time(struct json_writer *w, sqlite3_stmt *st, const char *key, int col)
{
    char buf[TIME_ISO_SIZE];
    json_key(w, key);
    if (is_null(st, col))
        json_null(w);
    else
        json_string(w, time_format_iso_ms(sqlite3_column_int64(st, col), buf, sizeof(buf)));
}

void ix_json_col_int(struct json_writer *w, sqlite3_stmt *st, const char *key, int col)
{
    json_key(w, key);
    if (is_null(st, col))
        json_null(w);
    else
        json_int(w, sqlite3_column_int64(st, col));
}

void ix_json_col_bool(struct json_writer *w, sqlite3_stmt *st, const char *key, int col)
{
    json_key(w, key);
    if (is_null(st, col))
        json_null(w);
    else
        json_bool(w, sqlite3_column_int64(st, col) != 0);
}

void ix_json_col_real(struct json_writer *w, sqlite3_stmt *st, const char *key, int col,
                      unsigned decimals)
{
    double scale = 1, v = sqlite3_column_double(st, col);
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    json_key(w, key);
    /* Beyond 2^53 the fixed form would no longer be exact anyway: null, not garbage. */
    if (is_null(st, col) || !isfinite(v) || fabs(v * scale) > 9007199254740992.0)
        json_null(w);
    else
        json_fixed(w, llround(v * scale), decimals);
}

/* Milliseconds as seconds with millisecond precision (answer_offset_s, offset_s). */
void ix_json_col_ms_as_s(struct json_writer *w, sqlite3_stmt *st, const char *key, int col)
{
    json_key(w, key);
    if (is_null(st, col))
        json_null(w);
    else
        json_fixed(w, sqlite3_column_int64(st, col), 3);
}

/* "192.0.2.1:4000", "[2001:db8::1]:4000" (RFC 3986 §3.2.2); null when unknown. */
void ix_json_col_endpoint(struct json_writer *w, sqlite3_stmt *st, const char *key, int ip_col,
                          int port_col)
{
    char buf[128];
    const char *ip = (const char *)sqlite3_column_text(st, ip_col);
    json_key(w, key);
    if (!ip || is_null(st, port_col)) {
        json_null(w);
        return;
    }
    bool v6 = strchr(ip, ':') != NULL;
    int n = snprintf(buf, sizeof(buf), "%s%s%s:%lld", v6 ? "[" : "", ip, v6 ? "]" : "",
                     (long long)sqlite3_column_int64(st, port_col));
    if (n < 0 || (size_t)n >= sizeof(buf))
        json_null(w); /* not an address this index wrote */
    else
        json_string(w, buf);
}

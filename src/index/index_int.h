/*
 * index_int.h - private to the index stage: the connection and its prepared statements.
 */
#ifndef GREFFIER_INDEX_INT_H
#define GREFFIER_INDEX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "greffier/index.h"

/* Statements prepared once at open and reused (SQL in index.c). */
enum ix_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_INSERT_CALL,
    ST_FIND_CALL,
    ST_INSERT_MESSAGE,
    ST_INSERT_OFFER,
    ST_INSERT_TLS_FLOW,
    ST_SET_MEDIA_STATE,
    ST_INSERT_STREAM,
    ST_INSERT_RECORDING,
    ST_INSERT_EVENT,
    ST_GET_RECORDING,
    ST_SET_DECISION,
    ST_INSERT_TAG,
    ST_COUNT
};

struct index {
    sqlite3 *db;
    bool in_txn; /* between index_begin and index_commit */
    sqlite3_stmt *st[ST_COUNT];
};

/* schema.c */
int schema_latest_version(void);
/* Applies every migration newer than the database's user_version, each in its own
 * transaction; refuses a database newer than this code. */
int schema_migrate(sqlite3 *db, char *err, size_t errsize);
/* The search index is kept by triggers, and SQLite runs triggers that use a virtual table
 * only with trusted_schema on.  Before turning it on, this checks that every trigger and
 * view in db is exactly one the migrations create: 0, or -1 with err set. */
int schema_check_code(sqlite3 *db, char *err, size_t errsize);

/* Runs a one-row query and reads its first column as an integer. */
int ix_query_int(sqlite3 *db, const char *sql, int64_t *out);

/* Steps a prepared statement that returns no row, then resets it and clears its
 * bindings.  Returns the sqlite result (SQLITE_DONE on success); on failure the error
 * text is copied into err. */
int ix_step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errsize);

struct json_writer;

/* bind.c: named parameters, errors collected and checked once per statement. */
struct ix_binder {
    sqlite3_stmt *st;
    const char *missing; /* first parameter name not found in the statement */
    int rc;
};
void ix_bind_null(struct ix_binder *b, const char *name);
void ix_bind_text_len(struct ix_binder *b, const char *name, const char *v, size_t len);
void ix_bind_text(struct ix_binder *b, const char *name, const char *v);
void ix_bind_chars(struct ix_binder *b, const char *name, const char *v, size_t size);
void ix_bind_int(struct ix_binder *b, const char *name, int64_t v);
void ix_bind_u64(struct ix_binder *b, const char *name, uint64_t v);
void ix_bind_opt_int(struct ix_binder *b, const char *name, int64_t v);
void ix_bind_double(struct ix_binder *b, const char *name, double v);
void ix_bind_blob(struct ix_binder *b, const char *name, const void *v, size_t len);
void ix_bind_addr(struct ix_binder *b, const char *ip_name, const char *port_name,
                  const struct ip_addr *a, uint16_t port);
/* The first binding error as text in buf, or NULL when every binding took. */
const char *ix_binder_error(const struct ix_binder *b, char *buf, size_t size);
/* Checks the bindings, then steps a statement that returns no row (ix_step_done).
 * 0 on success, -1 with err set. */
int ix_step_bound(sqlite3 *db, const struct ix_binder *b, char *err, size_t errsize);

/* json_cols.c: one result column as one object member; NULL is null. */
void ix_json_col_text(struct json_writer *w, sqlite3_stmt *st, const char *key, int col);
void ix_json_col_time(struct json_writer *w, sqlite3_stmt *st, const char *key, int col);
void ix_json_col_int(struct json_writer *w, sqlite3_stmt *st, const char *key, int col);
void ix_json_col_bool(struct json_writer *w, sqlite3_stmt *st, const char *key, int col);
void ix_json_col_real(struct json_writer *w, sqlite3_stmt *st, const char *key, int col,
                      unsigned decimals);
void ix_json_col_ms_as_s(struct json_writer *w, sqlite3_stmt *st, const char *key, int col);
/* "ip:port" ("[v6]:port") from two columns. */
void ix_json_col_endpoint(struct json_writer *w, sqlite3_stmt *st, const char *key, int ip_col,
                          int port_col);

/* list_calls.c: the call object of `calls --json`, shared with `call ID`. */
/* The SELECT whose rows ix_json_call_fields reads; ends with "WHERE 1" so that
 * " AND ..." fragments can follow. */
extern const char ix_call_select[];
/* Writes the members of one call object (no braces).  with_message_count: the
 * "sip_messages" count member (`call ID` writes the messages themselves instead). */
void ix_json_call_fields(struct json_writer *w, sqlite3_stmt *st, bool with_message_count);

/* list_streams.c: the streams of call_ref (> 0), or the unmatched ones (0), as a JSON
 * array written to w.  Returns their number, -1 on error (the array is still closed). */
long ix_json_streams(struct index *ix, struct json_writer *w, int64_t call_ref);

/* Whether another open file holds the flock of path: a recording's writer alive
 * (recording_file.c locks its .part until it closes it).  recover_live.c. */
bool ix_held_by_writer(const char *path);

#endif

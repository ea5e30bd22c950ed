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

/* Runs a one-row query and reads its first column as an integer. */
int ix_query_int(sqlite3 *db, const char *sql, int64_t *out);

/* Steps a prepared statement that returns no row, then resets it and clears its
 * bindings.  Returns the sqlite result (SQLITE_DONE on success); on failure the error
 * text is copied into err. */
int ix_step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errsize);

#endif

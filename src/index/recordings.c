/*
 * recordings.c - the recordings table for the vault's maintenance commands: which calls
 * have a recording (`greffier verify --all`, `rekey`), and a recording's new size and
 * SHA-256 once rekey has rewritten its header.  Run rarely: statements prepared per call.
 */
#include <stdlib.h>

#include "greffier/log.h"
#include "index_int.h"

long index_recording_ids(struct index *ix, int64_t **ids)
{
    sqlite3_stmt *st = NULL;
    long n = 0, cap = 0;
    *ids = NULL;
    if (sqlite3_prepare_v2(ix->db, "SELECT call_ref FROM recordings ORDER BY call_ref", -1, &st,
                           NULL) != SQLITE_OK)
        goto error;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            long ncap = cap ? cap * 2 : 64;
            int64_t *p = realloc(*ids, (size_t)ncap * sizeof(*p));
            if (!p)
                goto error;
            *ids = p;
            cap = ncap;
        }
        (*ids)[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE)
        goto error;
    sqlite3_finalize(st);
    return n;
error:
    log_msg(LOG_ERR, "index: listing recordings: %s", sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    free(*ids);
    *ids = NULL;
    return -1;
}

int index_update_recording_file(struct index *ix, int64_t call_rowid, const char *sha256,
                                uint64_t bytes)
{
    sqlite3_stmt *st = NULL;
    int ret = -1;
    if (sqlite3_prepare_v2(ix->db,
                           "UPDATE recordings SET sha256 = :sha256, bytes = :bytes"
                           " WHERE call_ref = :id",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, (sqlite3_int64)bytes) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, call_rowid) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
        ret = sqlite3_changes(ix->db) == 1 ? 0 : -1;
    if (ret != 0)
        log_msg(LOG_ERR, "index: recording of call %lld: update failed: %s",
                (long long)call_rowid, sqlite3_errmsg(ix->db));
    sqlite3_finalize(st);
    return ret;
}

/*
 * peaks.c - reading back a recording's waveform (recordings.peaks) for the web player,
 * and the connection accessor for the stages that keep their own tables in the index.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/log.h"
#include "index_int.h"

struct sqlite3 *index_sqlite(struct index *ix)
{
    return ix->db;
}

int index_get_peaks(struct index *ix, int64_t call_rowid, unsigned *per_second, int8_t **peaks,
                    size_t *npeaks)
{
    enum { C_REC_ID, C_PER_SECOND, C_PEAKS };
    static const char sql[] = "SELECT r.id, r.peaks_per_second, r.peaks FROM calls c"
                              " LEFT JOIN recordings r ON r.call_ref = c.id WHERE c.id = ?1";
    sqlite3_stmt *st = NULL;
    const char *err = NULL;
    int ret = -1;

    *per_second = 0;
    *peaks = NULL;
    *npeaks = 0;
    int rc = sqlite3_prepare_v2(ix->db, sql, sizeof(sql), &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, call_rowid);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ret = -2;
    } else if (rc != SQLITE_ROW) {
        err = sqlite3_errmsg(ix->db);
    } else if (sqlite3_column_type(st, C_REC_ID) == SQLITE_NULL) {
        ret = 0;
    } else {
        int64_t pps = sqlite3_column_int64(st, C_PER_SECOND);
        const void *blob = sqlite3_column_blob(st, C_PEAKS);
        size_t len = (size_t)sqlite3_column_bytes(st, C_PEAKS);
        *per_second = pps > 0 && pps <= 1000 ? (unsigned)pps : 0;
        /* Whole buckets only: a blob cut short by hand loses its last partial bucket. */
        len -= len % 4;
        if (blob && len > 0) {
            *peaks = malloc(len);
            if (!*peaks) {
                err = "out of memory";
                goto done;
            }
            memcpy(*peaks, blob, len);
            *npeaks = len / 4;
        }
        ret = 1;
    }
done:
    if (err)
        log_msg(LOG_ERR, "index: peaks of call %lld: %s", (long long)call_rowid, err);
    sqlite3_finalize(st);
    return ret;
}

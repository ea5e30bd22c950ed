/*
 * index.c - opening the SQLite index, its settings, and write transactions.
 *
 * One file DATA_DIR/index.sqlite, created mode 0600 before SQLite touches it (SQLite
 * gives its -wal and -shm files the mode of the database, and media_offers holds SRTP
 * keys).  WAL mode lets the web process read while capture writes; synchronous=NORMAL
 * is durable across a process crash and loses at most the last commits on power loss,
 * which the pipeline tolerates (https://www.sqlite.org/wal.html, pragma.html).
 * Every statement the pipeline repeats is prepared here once and reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greffier/log.h"
#include "index_int.h"

enum { BUSY_TIMEOUT_MS = 5000 };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    /* Each call, and later its media, is stored atomically, inside or outside a batch
     * transaction. */
    [ST_SAVEPOINT] = "SAVEPOINT store_call",
    [ST_RELEASE] = "RELEASE store_call",
    [ST_ROLLBACK_TO] = "ROLLBACK TO store_call",
    /* The id is never one a purged call had: a tombstone (purged_calls) keeps it, and
     * SQLite alone would hand out max(id) + 1 again after the newest call is purged. */
    [ST_INSERT_CALL] =
        "INSERT INTO calls (id, call_id, start_us, answer_us, end_us, last_activity_us, status,"
        " sip_code, direction, end_reason, partial, transport,"
        " caller, caller_norm, caller_name, caller_uri,"
        " callee, callee_norm, callee_name, callee_uri,"
        " redirecting, redirecting_norm, redirecting_name, redirecting_uri,"
        " caller_ip, caller_port, callee_ip, callee_port, ua_caller, ua_callee,"
        " from_tag, to_tag, messages_dropped)"
        " VALUES (1 + max(coalesce((SELECT max(id) FROM calls), 0),"
        " coalesce((SELECT max(id) FROM purged_calls), 0)),"
        " :call_id, :start_us, :answer_us, :end_us, :last_activity_us, :status,"
        " :sip_code, :direction, :end_reason, :partial, :transport,"
        " :caller, :caller_norm, :caller_name, :caller_uri,"
        " :callee, :callee_norm, :callee_name, :callee_uri,"
        " :redirecting, :redirecting_norm, :redirecting_name, :redirecting_uri,"
        " :caller_ip, :caller_port, :callee_ip, :callee_port, :ua_caller, :ua_callee,"
        " :from_tag, :to_tag, :messages_dropped)"
        /* A call already indexed is left alone, except the live row an on_demand call
         * in progress was given (src/index/ondemand.c): the finished call fills it. */
        " ON CONFLICT (call_id, start_us) DO UPDATE SET answer_us = excluded.answer_us,"
        " end_us = excluded.end_us, last_activity_us = excluded.last_activity_us,"
        " status = excluded.status, sip_code = excluded.sip_code,"
        " direction = excluded.direction, end_reason = excluded.end_reason,"
        " partial = excluded.partial, transport = excluded.transport,"
        " caller = excluded.caller, caller_norm = excluded.caller_norm,"
        " caller_name = excluded.caller_name, caller_uri = excluded.caller_uri,"
        " callee = excluded.callee, callee_norm = excluded.callee_norm,"
        " callee_name = excluded.callee_name, callee_uri = excluded.callee_uri,"
        " redirecting = excluded.redirecting, redirecting_norm = excluded.redirecting_norm,"
        " redirecting_name = excluded.redirecting_name,"
        " redirecting_uri = excluded.redirecting_uri, caller_ip = excluded.caller_ip,"
        " caller_port = excluded.caller_port, callee_ip = excluded.callee_ip,"
        " callee_port = excluded.callee_port, ua_caller = excluded.ua_caller,"
        " ua_callee = excluded.ua_callee, from_tag = excluded.from_tag,"
        " to_tag = excluded.to_tag, messages_dropped = excluded.messages_dropped, live = 0"
        " WHERE calls.live = 1",
    [ST_FIND_CALL] = "SELECT id FROM calls WHERE call_id = :call_id AND start_us = :start_us",
    [ST_INSERT_MESSAGE] =
        "INSERT INTO sip_messages (call_ref, seq, ts_us, src_ip, src_port, dst_ip, dst_port,"
        " transport, retransmission, start_line, raw)"
        " VALUES (:call_ref, :seq, :ts_us, :src_ip, :src_port, :dst_ip, :dst_port,"
        " :transport, :retransmission, :start_line, :raw)",
    [ST_INSERT_OFFER] =
        "INSERT INTO media_offers (call_ref, seq, message_seq, ts_us, from_caller, m_index,"
        " media, proto, addr, port, direction, payloads, crypto, has_fingerprint)"
        " VALUES (:call_ref, :seq, :message_seq, :ts_us, :from_caller, :m_index,"
        " :media, :proto, :addr, :port, :direction, :payloads, :crypto, :has_fingerprint)",
    [ST_INSERT_TLS_FLOW] =
        "INSERT INTO tls_flows (src_ip, src_port, dst_ip, dst_port, first_us, last_us,"
        " packets, bytes)"
        " VALUES (:src_ip, :src_port, :dst_ip, :dst_port, :first_us, :last_us, :packets, :bytes)"
        " ON CONFLICT (src_ip, src_port, dst_ip, dst_port, first_us) DO NOTHING",
    /* Only a call whose media is not stored yet: a re-import leaves the first alone. */
    [ST_SET_MEDIA_STATE] =
        "UPDATE calls SET media_state = :media_state WHERE id = :id AND media_state IS NULL",
    /* DO NOTHING without a target: only the unique index of unmatched streams can
     * conflict (a re-import); CHECK and NOT NULL still fail loudly. */
    [ST_INSERT_STREAM] =
        "INSERT INTO streams (call_ref, channel, src_ip, src_port, dst_ip, dst_port, ssrc,"
        " ssrc_changes, payload_types, codec, packets, bytes, lost, duplicated, reordered, late,"
        " jitter_ms, max_gap_ms, mos, first_us, last_us, srtp, srtp_auth_failures, rtcp_seen,"
        " rtcp_fraction_lost, rtcp_cumulative_lost, rtcp_jitter_ms)"
        " VALUES (:call_ref, :channel, :src_ip, :src_port, :dst_ip, :dst_port, :ssrc,"
        " :ssrc_changes, :payload_types, :codec, :packets, :bytes, :lost, :duplicated,"
        " :reordered, :late, :jitter_ms, :max_gap_ms, :mos, :first_us, :last_us, :srtp,"
        " :srtp_auth_failures, :rtcp_seen, :rtcp_fraction_lost, :rtcp_cumulative_lost,"
        " :rtcp_jitter_ms)"
        " ON CONFLICT DO NOTHING",
    [ST_INSERT_RECORDING] =
        "INSERT INTO recordings (call_ref, path, codec_in, sample_rate, duration_s, bytes, sha256,"
        " start_us, answer_offset_ms, bitrate, frame_ms, complexity, peaks_per_second, peaks,"
        " state)"
        " VALUES (:call_ref, :path, :codec_in, :sample_rate, :duration_s, :bytes, :sha256,"
        " :start_us, :answer_offset_ms, :bitrate, :frame_ms, :complexity, :peaks_per_second,"
        " :peaks, :state)",
    [ST_INSERT_EVENT] =
        "INSERT INTO call_events (call_ref, ts_us, offset_ms, kind, detail, channel)"
        " VALUES (:call_ref, :ts_us, :offset_ms, :kind, :detail, :channel)",
    /* One row when the call exists; the recording's columns are NULL when it has none. */
    [ST_GET_RECORDING] =
        "SELECT c.media_state, r.id, r.path, r.sha256, r.bytes, r.sample_rate, r.duration_s,"
        " r.state FROM calls c LEFT JOIN recordings r ON r.call_ref = c.id WHERE c.id = :id",
    [ST_SET_DECISION] = "UPDATE calls SET rule = :rule, rule_action = :action,"
                        " retention_days = :retention_days, decision = :decision,"
                        " decision_by = :decision_by, decision_at = :decision_at,"
                        " decision_deadline_us = :deadline, live = 0 WHERE id = :id",
    [ST_INSERT_TAG] = "INSERT OR IGNORE INTO call_tags (call_ref, tag) VALUES (:call_ref, :tag)",
};

/* Sets a PRAGMA and reads back the value it took: SQLite ignores a PRAGMA it cannot
 * honour (foreign_keys in a build without them, WAL on some file systems). */
static int pragma_expect(sqlite3 *db, const char *set, const char *want, char *err, size_t errsize)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(db, set, -1, &st, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *got = (const char *)sqlite3_column_text(st, 0);
            ok = got && strcmp(got, want) == 0;
            if (!ok)
                snprintf(err, errsize, "%s: got %s, want %s", set, got ? got : "nothing", want);
        } else if (rc == SQLITE_DONE && !want[0]) {
            ok = 1;
        }
    }
    if (!ok && !err[0])
        snprintf(err, errsize, "%s: %s", set, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

/* The file is created with its final mode before SQLite opens it. */
static int create_file(const char *dir, const char *file, char *err, size_t errsize)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsize, "creating %s: %s", dir, strerror(errno));
        return -1;
    }
    int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errsize, "creating %s: %s", file, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

struct index *index_open(const char *dir, bool create, char *err, size_t errsize)
{
    char file[4200];
    struct index *ix = NULL;
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
    int64_t fk;

    err[0] = '\0';
    int n = snprintf(file, sizeof(file), "%s/index.sqlite", dir);
    if (n < 0 || (size_t)n >= sizeof(file)) {
        snprintf(err, errsize, "data directory path too long");
        goto error;
    }
    if (create) {
        if (create_file(dir, file, err, errsize) != 0)
            goto error;
    } else if (access(file, F_OK) != 0) {
        snprintf(err, errsize, "no index at %s: %s", file, strerror(errno));
        goto error;
    }
    if (sqlite3_open_v2(file, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errsize, "opening %s: %s", file, db ? sqlite3_errmsg(db) : "out of memory");
        goto error;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* The index holds data from the wire: no schema trick may run SQL functions with
     * side effects, and the file cannot be corrupted through SQL.  trusted_schema is
     * turned on below only once the schema's code is known to be ours. */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

    if (pragma_expect(db, "PRAGMA journal_mode = WAL", "wal", err, errsize) != 0)
        goto error;
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK ||
        ix_query_int(db, "PRAGMA foreign_keys", &fk) != SQLITE_OK || fk != 1) {
        snprintf(err, errsize, "%s: cannot enable foreign keys", file);
        goto error;
    }
    if (schema_migrate(db, err, errsize) != 0)
        goto error;
    /* Only triggers and views identical to greffier's own may run with trusted_schema
     * (needed by the FTS5 triggers of call_search). */
    if (schema_check_code(db, err, errsize) != 0)
        goto error;
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 1, NULL);

    ix = calloc(1, sizeof(*ix));
    if (!ix) {
        snprintf(err, errsize, "out of memory");
        goto error;
    }
    ix->db = db;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ix->st[i], NULL) !=
            SQLITE_OK) {
            snprintf(err, errsize, "preparing statement %d: %s", i, sqlite3_errmsg(db));
            index_close(ix);
            return NULL;
        }
    }
    return ix;

error:
    if (!err[0])
        snprintf(err, errsize, "%s: %s", file, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return NULL;
}

void index_close(struct index *ix)
{
    if (!ix)
        return;
    /* Each stored call is complete in itself (a savepoint), so a batch left open is
     * committed rather than lost. */
    if (ix->in_txn && index_commit(ix) != 0)
        log_msg(LOG_ERR, "index: closing: last batch not committed");
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(ix->st[i]);
    sqlite3_exec(ix->db, "PRAGMA optimize", NULL, NULL, NULL);
    if (sqlite3_close(ix->db) != SQLITE_OK)
        log_msg(LOG_ERR, "index: close: %s", sqlite3_errmsg(ix->db));
    free(ix);
}

int index_begin(struct index *ix)
{
    char err[256];
    if (ix->in_txn) {
        log_msg(LOG_ERR, "index: begin: a transaction is already open");
        return -1;
    }
    if (ix_step_done(ix->db, ix->st[ST_BEGIN], err, sizeof(err)) != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: begin: %s", err);
        return -1;
    }
    ix->in_txn = true;
    return 0;
}

int index_commit(struct index *ix)
{
    char err[256];
    if (!ix->in_txn) {
        log_msg(LOG_ERR, "index: commit without begin");
        return -1;
    }
    ix->in_txn = false;
    /* The busy timeout has already been waited out: roll back rather than leave the
     * connection holding the write lock forever. */
    if (ix_step_done(ix->db, ix->st[ST_COMMIT], err, sizeof(err)) != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: commit: %s (batch rolled back)", err);
        if (!sqlite3_get_autocommit(ix->db))
            ix_step_done(ix->db, ix->st[ST_ROLLBACK], NULL, 0);
        return -1;
    }
    return 0;
}

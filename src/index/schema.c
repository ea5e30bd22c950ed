/*
 * schema.c - the index schema as a list of numbered migrations.
 *
 * PRAGMA user_version holds the number of the last migration applied.  At open, every
 * newer migration runs in its own transaction (BEGIN IMMEDIATE, so two processes
 * opening a fresh index at once take turns and the second sees the work done).  A
 * database whose version is above the last one known here was written by a newer
 * greffier: it is refused rather than half-understood.
 *
 * To change the schema, append an entry; never edit a migration that has shipped.
 * Coming next: tags and notes with FTS5.
 */
#include <stdio.h>

#include "index_int.h"

struct migration {
    const char *summary;
    const char *sql;
};

static const char migration_1[] =
    "CREATE TABLE calls ("
    "  id INTEGER PRIMARY KEY,"
    "  call_id TEXT NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  answer_us INTEGER,"
    "  end_us INTEGER,"
    "  last_activity_us INTEGER,"
    "  status TEXT NOT NULL CHECK (status IN ('in_progress', 'answered', 'cancelled', 'busy',"
    " 'rejected', 'failed', 'timeout')),"
    "  sip_code INTEGER,"
    "  direction TEXT NOT NULL,"
    "  end_reason TEXT,"
    "  partial INTEGER NOT NULL DEFAULT 0,"
    "  transport TEXT,"
    "  caller TEXT, caller_norm TEXT, caller_name TEXT, caller_uri TEXT,"
    "  callee TEXT, callee_norm TEXT, callee_name TEXT, callee_uri TEXT,"
    "  redirecting TEXT, redirecting_norm TEXT, redirecting_name TEXT, redirecting_uri TEXT,"
    "  caller_ip TEXT, caller_port INTEGER,"
    "  callee_ip TEXT, callee_port INTEGER,"
    "  ua_caller TEXT, ua_callee TEXT,"
    "  from_tag TEXT, to_tag TEXT,"
    "  messages_dropped INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (call_id, start_us)"
    ");"
    "CREATE INDEX calls_start ON calls (start_us);"
    "CREATE INDEX calls_caller_norm ON calls (caller_norm);"
    "CREATE INDEX calls_callee_norm ON calls (callee_norm);"
    "CREATE INDEX calls_redirecting_norm ON calls (redirecting_norm);"
    "CREATE INDEX calls_status ON calls (status);"

    "CREATE TABLE sip_messages ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  ts_us INTEGER NOT NULL,"
    "  src_ip TEXT, src_port INTEGER,"
    "  dst_ip TEXT, dst_port INTEGER,"
    "  transport TEXT,"
    "  retransmission INTEGER NOT NULL DEFAULT 0,"
    "  start_line TEXT,"
    "  raw BLOB"
    ");"
    "CREATE UNIQUE INDEX sip_messages_call ON sip_messages (call_ref, seq);"

    /* One row per m= line of each SDP offer or answer.  crypto holds SRTP master keys
     * (RFC 4568) because the media stage needs them: the index file is mode 0600. */
    "CREATE TABLE media_offers ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL,"
    "  message_seq INTEGER,"
    "  ts_us INTEGER NOT NULL,"
    "  from_caller INTEGER NOT NULL,"
    "  m_index INTEGER NOT NULL,"
    "  media TEXT, proto TEXT,"
    "  addr TEXT, port INTEGER,"
    "  direction TEXT,"
    "  payloads TEXT NOT NULL DEFAULT '[]',"
    "  crypto TEXT NOT NULL DEFAULT '[]',"
    "  has_fingerprint INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE UNIQUE INDEX media_offers_call ON media_offers (call_ref, seq, m_index);"

    /* The unique key makes a re-import of the same capture a no-op here too. */
    "CREATE TABLE tls_flows ("
    "  id INTEGER PRIMARY KEY,"
    "  src_ip TEXT NOT NULL, src_port INTEGER NOT NULL,"
    "  dst_ip TEXT NOT NULL, dst_port INTEGER NOT NULL,"
    "  first_us INTEGER NOT NULL,"
    "  last_us INTEGER NOT NULL,"
    "  packets INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  UNIQUE (src_ip, src_port, dst_ip, dst_port, first_us)"
    ");"
    "CREATE INDEX tls_flows_first ON tls_flows (first_us);";

/* The media stage: what was heard of each call.  Counters and times are those of
 * struct media_stream_result and struct recording_result (media_result.h); a value the
 * media stage did not measure is NULL (mos 0, offsets -1, RTCP before any report).
 * Streams that matched no call keep call_ref NULL, so an admin can see traffic the
 * signalling did not explain (a trunk on an unconfigured port, SIP over TLS). */
static const char migration_2[] =
    "ALTER TABLE calls ADD COLUMN media_state TEXT;"

    "CREATE TABLE streams ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER REFERENCES calls (id) ON DELETE CASCADE,"
    "  channel INTEGER CHECK (channel IN (0, 1)),"
    "  src_ip TEXT, src_port INTEGER,"
    "  dst_ip TEXT, dst_port INTEGER,"
    "  ssrc INTEGER NOT NULL,"
    "  ssrc_changes INTEGER NOT NULL DEFAULT 0,"
    "  payload_types TEXT,"
    "  codec TEXT,"
    "  packets INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  lost INTEGER NOT NULL DEFAULT 0,"
    "  duplicated INTEGER NOT NULL DEFAULT 0,"
    "  reordered INTEGER NOT NULL DEFAULT 0,"
    "  late INTEGER NOT NULL DEFAULT 0,"
    "  jitter_ms REAL, max_gap_ms REAL, mos REAL,"
    "  first_us INTEGER, last_us INTEGER,"
    "  srtp INTEGER NOT NULL DEFAULT 0,"
    "  srtp_auth_failures INTEGER NOT NULL DEFAULT 0,"
    "  rtcp_seen INTEGER NOT NULL DEFAULT 0,"
    "  rtcp_fraction_lost REAL, rtcp_cumulative_lost INTEGER, rtcp_jitter_ms REAL"
    ");"
    "CREATE INDEX streams_call ON streams (call_ref, first_us);"
    /* Unmatched streams, oldest first; unique so that importing the same capture again
     * adds none (INSERT OR IGNORE). */
    "CREATE UNIQUE INDEX streams_unmatched ON streams"
    "  (first_us, src_ip, src_port, dst_ip, dst_port, ssrc) WHERE call_ref IS NULL;"

    /* At most one recording per call; path is relative to the data directory. */
    "CREATE TABLE recordings ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER UNIQUE NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  path TEXT NOT NULL,"
    "  codec_in TEXT,"
    "  sample_rate INTEGER,"
    "  duration_s REAL,"
    "  bytes INTEGER,"
    "  sha256 TEXT,"
    "  start_us INTEGER,"
    "  answer_offset_ms INTEGER,"
    "  bitrate INTEGER, frame_ms INTEGER, complexity INTEGER,"
    "  peaks_per_second INTEGER,"
    "  peaks BLOB,"
    "  state TEXT NOT NULL CHECK (state IN ('complete', 'truncated', 'failed'))"
    ");"

    "CREATE TABLE call_events ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  ts_us INTEGER NOT NULL,"
    "  offset_ms INTEGER,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT,"
    "  channel INTEGER CHECK (channel IN (0, 1))"
    ");"
    "CREATE INDEX call_events_call ON call_events (call_ref, ts_us);";

/* The web side: accounts and the audit trail (src/http/users.c, src/http/audit.c).
 * password holds "scrypt$N$r$p$salt$hash", never the password.  Each audit row is
 * chained to the previous one by hash (audit.h): the table is append-only by contract,
 * and `greffier audit verify` finds the first row that was changed or removed. */
static const char migration_3[] =
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT UNIQUE NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'auditor')),"
    "  password TEXT NOT NULL,"
    "  created TEXT NOT NULL,"
    "  updated TEXT NOT NULL"
    ");"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  ts TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL"
    ");";

/* The recording rules' decision for each call (include/greffier/rules.h): the rule that
 * matched (or "[never_record]", "[default]"), its action, the retention it asks for and
 * its tags.  NULL for calls indexed before the rules existed. */
static const char migration_4[] =
    "ALTER TABLE calls ADD COLUMN rule TEXT;"
    "ALTER TABLE calls ADD COLUMN rule_action TEXT;"
    "ALTER TABLE calls ADD COLUMN retention_days INTEGER;"
    "CREATE TABLE call_tags ("
    "  call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  tag TEXT NOT NULL,"
    "  PRIMARY KEY (call_ref, tag)"
    ") WITHOUT ROWID;"
    "CREATE INDEX call_tags_tag ON call_tags (tag, call_ref);";

/* migrations[i] brings the schema to version i + 1. */
static const struct migration migrations[] = {
    {"calls, SIP messages, media offers, TLS flows", migration_1},
    {"streams, recordings, call events, calls.media_state", migration_2},
    {"web users and the audit chain", migration_3},
    {"recording rules: calls.rule, rule_action, retention_days, call_tags", migration_4},
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int schema_latest_version(void)
{
    return NMIGRATIONS;
}

int ix_query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_ERROR;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int ix_step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errsize)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = SQLITE_MISUSE; /* the statement was meant to return nothing */
    if (rc != SQLITE_DONE && err)
        snprintf(err, errsize, "%s", rc == SQLITE_MISUSE ? "unexpected row" : sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int apply(sqlite3 *db, int version, const struct migration *m, char *err, size_t errsize)
{
    const char *what;
    char *msg = NULL;
    char sql[64];
    int64_t current;

    what = "begin";
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto error;
    /* Another process may have migrated while we waited for the write lock. */
    what = "reading user_version";
    if (ix_query_int(db, "PRAGMA user_version", &current) != SQLITE_OK)
        goto error;
    if (current < version) {
        what = "schema change";
        if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK)
            goto error;
        /* PRAGMA takes no bound parameter; version is our own constant. */
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
        what = "setting user_version";
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
            goto error;
    }
    what = "commit";
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto error;
    return 0;

error:
    snprintf(err, errsize, "schema migration %d (%s): %s: %s", version, m->summary, what,
             msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int schema_migrate(sqlite3 *db, char *err, size_t errsize)
{
    int64_t version;
    if (ix_query_int(db, "PRAGMA user_version", &version) != SQLITE_OK) {
        snprintf(err, errsize, "reading schema version: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (version < 0 || version > NMIGRATIONS) {
        snprintf(err, errsize,
                 "index schema version %lld is not one this greffier knows (latest %d): "
                 "written by a newer greffier? refusing to use it",
                 (long long)version, NMIGRATIONS);
        return -1;
    }
    for (int v = (int)version + 1; v <= NMIGRATIONS; v++) {
        if (apply(db, v, &migrations[v - 1], err, errsize) != 0)
            return -1;
    }
    return 0;
}

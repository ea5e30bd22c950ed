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
 */
#include <stdio.h>
#include <string.h>

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

/* Retention, legal holds, notes, free-text search and alarms: the tables the vault's
 * purge, the web's search and the daemon's alarms share.
 *
 * - legal_holds: a call on hold is never purged, whatever its retention; one row per
 *   held call, the history of holds is in the audit chain.
 * - purged_calls: the tombstone a purge leaves once the call, its messages, streams and
 *   recording are gone.  It keeps no personal data: the former calls.id, its dates, why
 *   and under which rule it went, and the purge proposal that approved it, if any.
 * - purge_proposals / purge_proposal_items: the public-archives flow (an elimination slip
 *   approved by the departmental archives' visa before anything is destroyed).
 * - call_notes: free text by supervisors and auditors.
 * - call_search: FTS5 over each call's numbers, names, tags and notes, rowid = calls.id,
 *   kept current by triggers so no writer can forget it.
 * - alarms: one row per alarm name, shared by the capture and web processes. */
static const char migration_5[] =
    "CREATE TABLE legal_holds ("
    "  call_ref INTEGER PRIMARY KEY REFERENCES calls (id) ON DELETE RESTRICT,"
    "  since TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT ''"
    ");"

    "CREATE TABLE purged_calls ("
    "  id INTEGER PRIMARY KEY,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER,"
    "  purged_at TEXT NOT NULL,"
    "  reason TEXT NOT NULL CHECK (reason IN ('retention', 'erasure', 'disk_full', 'discarded')),"
    "  rule TEXT,"
    "  retention_days INTEGER,"
    "  had_recording INTEGER NOT NULL DEFAULT 0,"
    "  recording_bytes INTEGER,"
    "  proposal_ref INTEGER REFERENCES purge_proposals (id)"
    ");"
    "CREATE INDEX purged_calls_at ON purged_calls (purged_at);"

    "CREATE TABLE purge_proposals ("
    "  id INTEGER PRIMARY KEY,"
    "  created TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'executed', 'cancelled')),"
    "  calls INTEGER NOT NULL,"
    "  first_start_us INTEGER,"
    "  last_start_us INTEGER,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  visa TEXT,"
    "  approved_by TEXT,"
    "  approved_at TEXT,"
    "  executed_at TEXT"
    ");"
    "CREATE TABLE purge_proposal_items ("
    "  proposal_ref INTEGER NOT NULL REFERENCES purge_proposals (id) ON DELETE CASCADE,"
    "  call_ref INTEGER NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  expires_us INTEGER NOT NULL,"
    "  rule TEXT,"
    "  bytes INTEGER,"
    "  PRIMARY KEY (proposal_ref, call_ref)"
    ") WITHOUT ROWID;"

    "CREATE TABLE call_notes ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  ts TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  text TEXT NOT NULL"
    ");"
    "CREATE INDEX call_notes_call ON call_notes (call_ref, id);"

    "CREATE VIEW call_search_text (id, body) AS SELECT c.id,"
    "  coalesce(c.caller, '') || ' ' || coalesce(c.caller_norm, '') || ' ' ||"
    "  coalesce(c.caller_name, '') || ' ' || coalesce(c.callee, '') || ' ' ||"
    "  coalesce(c.callee_norm, '') || ' ' || coalesce(c.callee_name, '') || ' ' ||"
    "  coalesce(c.redirecting, '') || ' ' || coalesce(c.redirecting_norm, '') || ' ' ||"
    "  coalesce(c.redirecting_name, '') || ' ' ||"
    "  coalesce((SELECT group_concat(tag, ' ') FROM call_tags WHERE call_ref = c.id), '') || ' ' ||"
    "  coalesce((SELECT group_concat(text, ' ') FROM call_notes WHERE call_ref = c.id), '')"
    "  FROM calls c;"
    "CREATE VIRTUAL TABLE call_search USING fts5 (body,"
    "  tokenize = 'unicode61 remove_diacritics 2');"
    "INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text;"
    "CREATE TRIGGER call_search_insert AFTER INSERT ON calls BEGIN"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = NEW.id;"
    "END;"
    "CREATE TRIGGER call_search_update AFTER UPDATE OF caller, caller_norm, caller_name,"
    "  callee, callee_norm, callee_name, redirecting, redirecting_norm, redirecting_name"
    "  ON calls BEGIN"
    "  DELETE FROM call_search WHERE rowid = OLD.id;"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = NEW.id;"
    "END;"
    "CREATE TRIGGER call_search_delete AFTER DELETE ON calls BEGIN"
    "  DELETE FROM call_search WHERE rowid = OLD.id;"
    "END;"
    "CREATE TRIGGER call_search_tag_insert AFTER INSERT ON call_tags BEGIN"
    "  DELETE FROM call_search WHERE rowid = NEW.call_ref;"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = NEW.call_ref;"
    "END;"
    "CREATE TRIGGER call_search_tag_delete AFTER DELETE ON call_tags BEGIN"
    "  DELETE FROM call_search WHERE rowid = OLD.call_ref;"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = OLD.call_ref;"
    "END;"
    "CREATE TRIGGER call_search_note_insert AFTER INSERT ON call_notes BEGIN"
    "  DELETE FROM call_search WHERE rowid = NEW.call_ref;"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = NEW.call_ref;"
    "END;"
    "CREATE TRIGGER call_search_note_update AFTER UPDATE OF text ON call_notes BEGIN"
    "  DELETE FROM call_search WHERE rowid = NEW.call_ref;"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = NEW.call_ref;"
    "END;"
    "CREATE TRIGGER call_search_note_delete AFTER DELETE ON call_notes BEGIN"
    "  DELETE FROM call_search WHERE rowid = OLD.call_ref;"
    "  INSERT INTO call_search (rowid, body) SELECT id, body FROM call_search_text"
    "   WHERE id = OLD.call_ref;"
    "END;"

    "CREATE TABLE alarms ("
    "  name TEXT PRIMARY KEY,"
    "  severity TEXT NOT NULL CHECK (severity IN ('warning', 'error')),"
    "  active INTEGER NOT NULL,"
    "  raised_at TEXT NOT NULL,"
    "  cleared_at TEXT,"
    "  raised_count INTEGER NOT NULL DEFAULT 1,"
    "  message TEXT NOT NULL"
    ");";

/* The web search's indexes.
 *
 * Searching a number inside the numbers as dialled ("4567" finds 0612345678) was an
 * instr() over every call: a full scan, half a second at a million calls.  A trigram
 * FTS5 table finds any substring of three characters or more through its index
 * (https://www.sqlite.org/fts5.html §4.3.5); kept by triggers like call_search. */
static const char migration_6[] =
    "CREATE VIRTUAL TABLE call_numbers USING fts5 (numbers, tokenize = 'trigram');"
    "INSERT INTO call_numbers (rowid, numbers) SELECT id, coalesce(caller, '') || ' ' ||"
    "  coalesce(callee, '') || ' ' || coalesce(redirecting, '') FROM calls;"
    "CREATE TRIGGER call_numbers_insert AFTER INSERT ON calls BEGIN"
    "  INSERT INTO call_numbers (rowid, numbers) VALUES (NEW.id, coalesce(NEW.caller, '') ||"
    "   ' ' || coalesce(NEW.callee, '') || ' ' || coalesce(NEW.redirecting, ''));"
    "END;"
    "CREATE TRIGGER call_numbers_update AFTER UPDATE OF caller, callee, redirecting ON calls"
    "  BEGIN"
    "  DELETE FROM call_numbers WHERE rowid = OLD.id;"
    "  INSERT INTO call_numbers (rowid, numbers) VALUES (NEW.id, coalesce(NEW.caller, '') ||"
    "   ' ' || coalesce(NEW.callee, '') || ' ' || coalesce(NEW.redirecting, ''));"
    "END;"
    "CREATE TRIGGER call_numbers_delete AFTER DELETE ON calls BEGIN"
    "  DELETE FROM call_numbers WHERE rowid = OLD.id;"
    "END;"
    /* An auditor reads the trail of one call on its page (GET /api/audit?target=ID). */
    "CREATE INDEX audit_target ON audit (target, id);";

/* On-demand recording (docs/RULES.md "On demand"):
 * - calls.live: 1 while the row is the placeholder of an on_demand call in progress,
 *   published by the capture process so that the web can list it and ask for a
 *   decision by id; the finished call fills the same row (store_call.c) and sets 0.
 *   pending_path: that call's recording, for a restart after a crash to destroy it.
 * - calls.decision: NULL (not on demand), pending, kept or discarded; decision_by
 *   ("dtmf", a user, "cli:UID", "grace" when the deadline passed) and decision_at
 *   (ISO 8601); decision_deadline_us: a pending recording is destroyed after it.
 * - call_requests: keep, discard and malicious asked through the web or the command
 *   line, applied by whoever holds the call (the capture process while it is in
 *   progress, src/index/ondemand.c after its end); done_at and outcome once applied. */
static const char migration_7[] =
    "ALTER TABLE calls ADD COLUMN live INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE calls ADD COLUMN pending_path TEXT;"
    "ALTER TABLE calls ADD COLUMN decision TEXT"
    "  CHECK (decision IN ('pending', 'kept', 'discarded'));"
    "ALTER TABLE calls ADD COLUMN decision_by TEXT;"
    "ALTER TABLE calls ADD COLUMN decision_at TEXT;"
    "ALTER TABLE calls ADD COLUMN decision_deadline_us INTEGER;"
    "CREATE INDEX calls_live ON calls (live) WHERE live = 1;"
    "CREATE INDEX calls_pending ON calls (decision_deadline_us) WHERE decision = 'pending';"
    "CREATE TABLE call_requests ("
    "  id INTEGER PRIMARY KEY,"
    "  call_ref INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,"
    "  action TEXT NOT NULL CHECK (action IN ('keep', 'discard', 'malicious')),"
    "  user TEXT NOT NULL,"
    "  requested_at TEXT NOT NULL,"
    "  done_at TEXT,"
    "  outcome TEXT"
    ");"
    "CREATE INDEX call_requests_open ON call_requests (call_ref) WHERE done_at IS NULL;";

/* migrations[i] brings the schema to version i + 1. */
static const struct migration migrations[] = {
    {"calls, SIP messages, media offers, TLS flows", migration_1},
    {"streams, recordings, call events, calls.media_state", migration_2},
    {"web users and the audit chain", migration_3},
    {"recording rules: calls.rule, rule_action, retention_days, call_tags", migration_4},
    {"legal holds, purge tombstones and proposals, notes, call_search FTS5, alarms",
     migration_5},
    {"call_numbers: trigram FTS5 over the numbers as dialled; audit rows by target",
     migration_6},
    {"on demand: calls.live, decision, decision_by/at/deadline, call_requests", migration_7},
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

/* Every trigger and view of db, as "type name\nsql\n" lines in name order, in a string
 * the caller frees; NULL on error. */
static char *schema_code(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    char *all = sqlite3_mprintf("%s", "");
    if (sqlite3_prepare_v2(db,
                           "SELECT type, name, sql FROM sqlite_schema"
                           " WHERE type IN ('trigger', 'view') ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_free(all);
        return NULL;
    }
    int rc;
    while (all && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *next = sqlite3_mprintf("%s%s %s\n%s\n", all, sqlite3_column_text(st, 0),
                                     sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
        sqlite3_free(all);
        all = next;
    }
    if (all && rc != SQLITE_DONE) {
        sqlite3_free(all);
        all = NULL;
    }
    sqlite3_finalize(st);
    return all;
}

int schema_check_code(sqlite3 *db, char *err, size_t errsize)
{
    sqlite3 *fresh = NULL;
    char *want = NULL, *have = NULL;
    int ret = -1;
    if (sqlite3_open_v2(":memory:", &fresh, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errsize, "checking the schema: cannot open a scratch database");
        goto out;
    }
    sqlite3_db_config(fresh, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    if (schema_migrate(fresh, err, errsize) != 0)
        goto out;
    want = schema_code(fresh);
    have = schema_code(db);
    if (!want || !have) {
        snprintf(err, errsize, "checking the schema: %s", sqlite3_errmsg(have ? fresh : db));
        goto out;
    }
    if (strcmp(want, have) != 0) {
        snprintf(err, errsize,
                 "the index's triggers and views are not the ones greffier created"
                 " (changed outside greffier?): refusing to run them");
        goto out;
    }
    ret = 0;
out:
    sqlite3_free(want);
    sqlite3_free(have);
    sqlite3_close(fresh);
    return ret;
}

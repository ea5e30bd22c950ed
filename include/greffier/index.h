/*
 * index.h - the SQLite index of calls.
 *
 * WAL mode, foreign keys on, numbered schema migrations applied at open (the list
 * lives in src/index/schema.c), every statement prepared with bound parameters.
 * Writes are batched in transactions by the pipeline (index_begin/index_commit).
 */
#ifndef GREFFIER_INDEX_H
#define GREFFIER_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "greffier/call.h"
#include "greffier/media_result.h"
#include "greffier/number.h"
#include "greffier/packet.h"

struct index;

/* Opens (creating when create is true, with the directory itself) DIR/index.sqlite,
 * where dir is the data directory, and migrates it.  A database written by a newer
 * greffier (unknown schema version) is refused.  On failure returns NULL and writes the
 * reason to err. */
struct index *index_open(const char *dir, bool create, char *err, size_t errsize);
void index_close(struct index *ix);

int index_begin(struct index *ix);
int index_commit(struct index *ix);

/* Whether call (call_id, start) has a row: 1 (*id set), 0 none, -1 error (logged). */
int index_find_call(struct index *ix, const char *call_id, pkt_time_t start, int64_t *id);

/* After a crash, at the start of capture, serve and import (before vault_recover()):
 * closes every live row whose writer died, with its file as a truncated recording (or
 * a complete one when its writer had finished it) (src/index/recover_live.c,
 * docs/CALLS.md).  Rows of undecided on-demand
 * calls and rows whose .part file a living process still writes are left alone.
 * Returns the number of rows closed, -1 on error (logged). */
long index_recover_live(struct index *ix, const char *data_dir);

/* Stores a finished (or still in progress at end of capture) call with its SIP messages
 * and media offers, atomically.  Returns 1 when stored, 0 when an identical call (same
 * Call-ID and start) is already indexed (nothing written), -1 on error (message logged).
 * Sets call->id to the call's row, the existing one when 0 is returned. */
int index_store_call(struct index *ix, struct call *c);

/* A SIP-over-TLS flow seen on the wire: its calls cannot be read nor recorded.
 * Returns 1 when stored, 0 when already indexed (same addresses and first time), -1. */
int index_store_tls_flow(struct index *ix, const struct ip_addr *src, uint16_t sport,
                         const struct ip_addr *dst, uint16_t dport, pkt_time_t first,
                         pkt_time_t last, uint64_t packets, uint64_t bytes);

struct call_filter {
    bool has_from, has_to;
    pkt_time_t from, to;   /* start time range, inclusive from, exclusive to */
    const char *number;    /* digits: matches caller, callee or redirecting, normalised */
    const char *number_norm; /* the same number normalised by the caller of the query */
    bool has_status;
    enum call_status status;
    long limit;            /* <= 0: no limit */
    long offset;           /* rows skipped first (paging), >= 0 */
    /* Added with the web search; zero means no filter. */
    const char *fts;       /* an FTS5 query built by index_fts_query(), never user text */
    bool has_direction;
    enum call_direction direction;
    int64_t min_duration_us; /* answered calls that lasted at least this long (> 0) */
    const char *tag;       /* calls carrying this tag */
    /* Keyset paging: only calls strictly older than (cursor_start, cursor_id) in the
     * newest-first order, so a page does not shift when calls arrive meanwhile. */
    bool has_cursor;
    pkt_time_t cursor_start;
    int64_t cursor_id;
    bool live;             /* only on_demand calls in progress (calls.live, ondemand.h) */
};

enum { INDEX_FTS_TEXT_MAX = 256, INDEX_FTS_WORDS_MAX = 8, INDEX_FTS_QUERY_SIZE = 400 };

/* Turns what a user typed into a safe FTS5 query for call_filter.fts: each word becomes
 * a quoted phrase (so no FTS5 operator, column filter or NEAR() reaches MATCH), the last
 * word and every number become prefix queries, and a run of number groups
 * ("06 12 34 56 78") one number.  Words without a letter or digit are dropped.  Returns
 * true with out filled; false with *why set when the text is not UTF-8, too long (more
 * than INDEX_FTS_TEXT_MAX bytes or INDEX_FTS_WORDS_MAX words) or has no word at all. */
bool index_fts_query(const char *text, char *out, size_t outsize, const char **why);

/* "cursor" of the web search: START_US.ID as written after a full page; false when s is
 * not two positive decimals. */
bool index_cursor_parse(const char *s, pkt_time_t *start, int64_t *id);

/* Lists calls newest first.  --json prints the array of the `calls --json` contract;
 * otherwise a table.  Returns the number of rows, -1 on error.  When next is not NULL
 * and a full page (f->limit rows) was written, the cursor of the next page ("START.ID")
 * is written there (at least INDEX_CURSOR_SIZE bytes); else it is made empty. */
enum { INDEX_CURSOR_SIZE = 48 };
long index_list_calls_page(struct index *ix, const struct call_filter *f, bool json, FILE *out,
                           char *next);
long index_list_calls(struct index *ix, const struct call_filter *f, bool json, FILE *out);

/* Tags and notes (the web's annotations).  A tag is [A-Za-z0-9_.-]{1,31}, as in the
 * rules; a note is 1 to INDEX_NOTE_MAX bytes of UTF-8 without control characters other
 * than newline and tab.  Each returns -2 when there is no such call, -1 on error (logged). */
enum { INDEX_TAG_MAX = 31, INDEX_NOTE_MAX = 4000 };
bool index_tag_valid(const char *tag);
bool index_note_valid(const char *text, size_t len);
/* 1 added, 0 it was already there. */
int index_tag_add(struct index *ix, int64_t call_rowid, const char *tag);
/* 1 removed, 0 it was not there. */
int index_tag_remove(struct index *ix, int64_t call_rowid, const char *tag);
/* The new note's id (> 0). */
int64_t index_note_add(struct index *ix, int64_t call_rowid, const char *user, const char *text,
                       size_t len);
/* Removes note note_id of the call when by is its author or any_author is true.  1 removed,
 * 0 no such note on this call, -3 the note is someone else's. */
int index_note_remove(struct index *ix, int64_t call_rowid, int64_t note_id, const char *by,
                      bool any_author);

/* Stores what the media stage learnt of the call at row call_rowid (index_store_call's
 * call->id): calls.media_state, the recording when r->rec.present, the streams and the
 * events, atomically.  A call whose media is already stored (a re-import) is left as it
 * is.  r->media_state must not be empty.  Returns 0 (stored or already there), -1 on
 * error (no such call, invalid values; message logged, nothing written). */
int index_store_media(struct index *ix, int64_t call_rowid, const struct call_media_result *r);

/* A stream that matched no call (its channel is ignored).  The same stream stored twice
 * (same addresses, SSRC and first packet) is kept once.  Returns 0, or -1 on error. */
int index_store_unmatched_stream(struct index *ix, const struct media_stream_result *s);

struct recording_info {
    int64_t call_rowid;
    char path[256];  /* relative to the data directory */
    char sha256[65]; /* of the file as stored, lowercase hex */
    uint64_t bytes;
    unsigned sample_rate;
    double duration_s;
    char state[16];       /* "complete", "truncated", "failed" */
    char media_state[24]; /* calls.media_state, "" when the media stage has not run */
};

/* Returns 1 with *out filled, 0 when the call exists but has no recording (only
 * call_rowid and media_state set), -2 when there is no such call, -1 on error. */
int index_get_recording(struct index *ix, int64_t call_rowid, struct recording_info *out);

/* The call ids that have a recording row, ascending, in *ids (malloc'd; the caller
 * frees).  Returns their number, -1 on error. */
long index_recording_ids(struct index *ix, int64_t **ids);

/* After `greffier rekey` rewrote a recording's header: its new SHA-256 (64 hex digits)
 * and size.  Returns 0, -1 when there is no such recording or on error (logged). */
int index_update_recording_file(struct index *ix, int64_t call_rowid, const char *sha256,
                                uint64_t bytes);
/* `greffier reindex`: one sealed recording and what its file says. */
struct reindex_file {
    const char *path; /* relative to the data directory */
    const char *meta; /* the decrypted metadata (JSON object), metalen bytes */
    size_t metalen;
    const struct number_plan *plan; /* to normalise the numbers for search */
    double duration_s;              /* decoded from the audio */
    unsigned sample_rate;           /* of the audio, when the metadata does not say */
    uint64_t bytes;                 /* of the sealed file */
    char sha256[65];
    bool truncated; /* its last chunk is missing (a crash) */
};

/* Rebuilds the call's rows from a recording's metadata (docs/FORMAT.md): 1 call and
 * recording added, 2 recording added to a call already indexed without one, 0 already
 * indexed (the path, or the call with a recording: left alone), -2 the metadata names no
 * call, -1 on error (logged; nothing written). */
int index_reindex_recording(struct index *ix, const struct reindex_file *f);

/* The waveform of a call's recording: per_second buckets, each of four int8 values
 * (channel 0 min, max, channel 1 min, max).  Returns 1 with *peaks (malloc'd, caller
 * frees; NULL when none was stored) and *npeaks buckets, 0 when the call exists without a
 * recording, -2 when there is no such call, -1 on error. */
int index_get_peaks(struct index *ix, int64_t call_rowid, unsigned *per_second, int8_t **peaks,
                    size_t *npeaks);

/* The index's SQLite connection, for the stages that keep their own tables in it (the
 * web side's users and audit chain).  Owned by ix. */
struct sqlite3 *index_sqlite(struct index *ix);

/* `greffier call ID`: one JSON object, every member of the `calls --json` object plus
 * the call's streams, events, SIP messages and media offers ("sip_messages" is the
 * array of messages here, not their count).  Returns 1, 0 when there is no such call
 * (nothing written), -1 on error. */
long index_show_call(struct index *ix, int64_t call_rowid, FILE *out);
/* The same, with members added by another stage: extra(ix, user, w, call_rowid) writes them
 * into the call object before it is closed (retention_call_json adds "retention");
 * a negative return marks the document incomplete. */
struct json_writer;
typedef int index_call_extra_fn(struct index *ix, void *user, struct json_writer *w,
                                int64_t call_rowid);
long index_show_call_ext(struct index *ix, int64_t call_rowid, FILE *out,
                         index_call_extra_fn *extra, void *user);

/* The streams that matched no call, oldest first, as a JSON array.  Returns their
 * number, -1 on error. */
long index_list_unmatched_streams(struct index *ix, FILE *out);

/* Writes the index's families of /metrics (metrics.h): calls by status, recordings
 * stored, purges by reason, alarms.  0, or -1 (logged). */
int index_write_metrics(struct index *ix, FILE *out);

#endif

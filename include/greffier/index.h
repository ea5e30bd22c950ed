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
};

/* Lists calls newest first.  --json prints the array of the `calls --json` contract;
 * otherwise a table.  Returns the number of rows, -1 on error. */
long index_list_calls(struct index *ix, const struct call_filter *f, bool json, FILE *out);

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

/* The streams that matched no call, oldest first, as a JSON array.  Returns their
 * number, -1 on error. */
long index_list_unmatched_streams(struct index *ix, FILE *out);

/* Writes the index's families of /metrics (metrics.h): calls by status, recordings
 * stored, purges by reason, alarms.  0, or -1 (logged). */
int index_write_metrics(struct index *ix, FILE *out);

#endif

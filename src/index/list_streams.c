/*
 * list_streams.c - RTP streams as JSON: the streams of one call (for `call ID`) and
 * `greffier streams --unmatched`, the streams no call's SDP explained.
 *
 * A stream object carries every column of the streams table.  Endpoints are given both
 * as "ip:port" text (RFC 3986 "[v6]:port" for IPv6) and as separate members; the SSRC
 * is an integer (RFC 3550 §5.1), never hex text, so that tools compare it as a number.
 */
#include <stdio.h>
#include <string.h>

#include "greffier/json.h"
#include "greffier/log.h"
#include "index_int.h"

enum scol {
    S_ID,
    S_CALL_REF,
    S_CHANNEL,
    S_SRC_IP,
    S_SRC_PORT,
    S_DST_IP,
    S_DST_PORT,
    S_SSRC,
    S_SSRC_CHANGES,
    S_PAYLOAD_TYPES,
    S_CODEC,
    S_PACKETS,
    S_BYTES,
    S_LOST,
    S_DUPLICATED,
    S_REORDERED,
    S_LATE,
    S_JITTER,
    S_MAX_GAP,
    S_MOS,
    S_FIRST,
    S_LAST,
    S_SRTP,
    S_SRTP_AUTH_FAILURES,
    S_RTCP_SEEN,
    S_RTCP_FRACTION_LOST,
    S_RTCP_CUMULATIVE_LOST,
    S_RTCP_JITTER,
};

#define STREAM_SELECT                                                                              \
    "SELECT id, call_ref, channel, src_ip, src_port, dst_ip, dst_port, ssrc, ssrc_changes,"        \
    " payload_types, codec, packets, bytes, lost, duplicated, reordered, late, jitter_ms,"         \
    " max_gap_ms, mos, first_us, last_us, srtp, srtp_auth_failures, rtcp_seen,"                    \
    " rtcp_fraction_lost, rtcp_cumulative_lost, rtcp_jitter_ms FROM streams"

/* Oldest first; the unmatched query walks the partial index streams_unmatched. */
static const char sql_of_call[] = STREAM_SELECT " WHERE call_ref = :id ORDER BY first_us, id";
static const char sql_unmatched[] =
    STREAM_SELECT " WHERE call_ref IS NULL ORDER BY first_us, src_ip, src_port, dst_ip,"
                  " dst_port, ssrc";

static void json_stream(struct json_writer *w, sqlite3_stmt *st)
{
    json_object_begin(w);
    ix_json_col_int(w, st, "id", S_ID);
    ix_json_col_int(w, st, "call", S_CALL_REF);
    ix_json_col_int(w, st, "channel", S_CHANNEL);
    ix_json_col_endpoint(w, st, "src", S_SRC_IP, S_SRC_PORT);
    ix_json_col_text(w, st, "src_ip", S_SRC_IP);
    ix_json_col_int(w, st, "src_port", S_SRC_PORT);
    ix_json_col_endpoint(w, st, "dst", S_DST_IP, S_DST_PORT);
    ix_json_col_text(w, st, "dst_ip", S_DST_IP);
    ix_json_col_int(w, st, "dst_port", S_DST_PORT);
    ix_json_col_int(w, st, "ssrc", S_SSRC);
    ix_json_col_int(w, st, "ssrc_changes", S_SSRC_CHANGES);
    ix_json_col_text(w, st, "payload_types", S_PAYLOAD_TYPES);
    ix_json_col_text(w, st, "codec", S_CODEC);
    ix_json_col_int(w, st, "packets", S_PACKETS);
    ix_json_col_int(w, st, "bytes", S_BYTES);
    ix_json_col_int(w, st, "lost", S_LOST);
    ix_json_col_int(w, st, "duplicated", S_DUPLICATED);
    ix_json_col_int(w, st, "reordered", S_REORDERED);
    ix_json_col_int(w, st, "late", S_LATE);
    ix_json_col_real(w, st, "jitter_ms", S_JITTER, 3);
    ix_json_col_real(w, st, "max_gap_ms", S_MAX_GAP, 3);
    ix_json_col_real(w, st, "mos", S_MOS, 2);
    ix_json_col_time(w, st, "first", S_FIRST);
    ix_json_col_time(w, st, "last", S_LAST);
    ix_json_col_bool(w, st, "srtp", S_SRTP);
    ix_json_col_int(w, st, "srtp_auth_failures", S_SRTP_AUTH_FAILURES);
    ix_json_col_bool(w, st, "rtcp_seen", S_RTCP_SEEN);
    ix_json_col_real(w, st, "rtcp_fraction_lost", S_RTCP_FRACTION_LOST, 4);
    ix_json_col_int(w, st, "rtcp_cumulative_lost", S_RTCP_CUMULATIVE_LOST);
    ix_json_col_real(w, st, "rtcp_jitter_ms", S_RTCP_JITTER, 3);
    json_object_end(w);
}

/* call_ref > 0: that call's streams; otherwise the unmatched ones. */
long ix_json_streams(struct index *ix, struct json_writer *w, int64_t call_ref)
{
    sqlite3_stmt *st = NULL;
    long rows = 0;
    int rc = sqlite3_prepare_v2(ix->db, call_ref > 0 ? sql_of_call : sql_unmatched, -1, &st, NULL);
    if (rc == SQLITE_OK && call_ref > 0)
        rc = sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"), call_ref);
    json_array_begin(w);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_stream(w, st);
        rows++;
        rc = SQLITE_OK;
    }
    json_array_end(w);
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: listing streams: %s", sqlite3_errmsg(ix->db));
        rows = -1;
    }
    sqlite3_finalize(st);
    return rows;
}

long index_list_unmatched_streams(struct index *ix, FILE *out)
{
    struct json_writer w;
    json_init(&w, out, true);
    long rows = ix_json_streams(ix, &w, 0);
    if (json_finish(&w) != 0 && rows >= 0) {
        log_msg(LOG_ERR, "index: listing streams: writing JSON failed");
        rows = -1;
    }
    return rows;
}

/*
 * route_export.c - POST /api/export (auditor): an evidence bundle as a zip download.
 *
 * Body: {"ids": "12,13", "case": "REFERENCE", "hold": "true"|"false"} (a flat object of
 * strings, as every body here; "hold" absent means true: holding is the safe side).
 * The bundle is the one `greffier export` writes (export.h, docs/EVIDENCE.md), built and
 * zipped in memory: no decrypted audio is written to the server's disk.  The index lock
 * is held while the bundle is built (the holds and the audit rows are written then);
 * exports are rare and bounded (EXPORT_MAX_CALLS).  The export is audited by
 * export_build with the manifest's SHA-256; a refused export is audited here.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/export.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "http_int.h"

/* The zip is built in memory: a bundle over 1 GiB is for the command line. */
#define EXPORT_WEB_MAX_BYTES ((uint64_t)1 << 30)

enum { IDS_TEXT_MAX = EXPORT_MAX_CALLS * 21, FILENAME_MAX_CASE = 64 };

/* "12,13": decimal ids > 0, no blanks, no repeats (export_build refuses those). */
static size_t parse_ids(const char *s, int64_t *ids)
{
    size_t n = 0;
    while (*s) {
        int64_t v = 0;
        const char *start = s;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (v > (INT64_MAX - 9) / 10)
                return 0;
            v = v * 10 + (*s - '0');
        }
        if (s == start || v <= 0 || n == EXPORT_MAX_CALLS || (*s && *s != ','))
            return 0;
        ids[n++] = v;
        if (*s == ',' && !*++s)
            return 0; /* a trailing comma */
    }
    return n;
}

/* The download's name from the case reference: [A-Za-z0-9._-], others as '_'. */
static void filename_of(const char *case_ref, char *out, size_t size)
{
    char safe[FILENAME_MAX_CASE + 1];
    size_t n = 0;
    for (const char *p = case_ref; *p && n < FILENAME_MAX_CASE; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_';
        safe[n++] = ok ? c : '_';
    }
    safe[n] = '\0';
    snprintf(out, size, "attachment; filename=\"greffier-export-%s.zip\"", safe);
}

static enum MHD_Result bad(struct http_req *rq, const char *param, const char *message)
{
    return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", message, param);
}

enum MHD_Result route_export(struct http_req *rq)
{
    char ids_text[IDS_TEXT_MAX + 1], case_ref[EXPORT_CASE_MAX + 1], hold_text[8], err[1024];
    int64_t ids[EXPORT_MAX_CALLS];
    size_t len;
    const char *body = rq->body ? rq->body : "";
    int r = json_body_string(body, rq->body_len, "case", case_ref, sizeof(case_ref), &len);
    if (r < 0 && !rq->body_len)
        r = 0;
    if (r < 0)
        return bad(rq, "case", "the body must be a JSON object of strings; case at most 200 bytes");
    if (r == 0 || len == 0)
        return bad(rq, "case", "the case reference is required");
    if (json_body_string(body, rq->body_len, "ids", ids_text, sizeof(ids_text), &len) != 1)
        return bad(rq, "ids", "ids is required: call ids separated by commas, e.g. \"12,13\"");
    size_t n = parse_ids(ids_text, ids);
    if (n == 0)
        return bad(rq, "ids", "ids: 1 to 100 call ids separated by commas, e.g. \"12,13\"");
    bool hold = true;
    r = json_body_string(body, rq->body_len, "hold", hold_text, sizeof(hold_text), &len);
    if (r == 1 && strcmp(hold_text, "false") == 0)
        hold = false;
    else if (r != 0 && !(r == 1 && strcmp(hold_text, "true") == 0))
        return bad(rq, "hold", "hold is \"true\" or \"false\"");

    struct export_request ex = {rq->srv->cfg.data_dir, rq->srv->ix, ids, n, case_ref,
                                rq->sess.user,         hold};
    char *zip = NULL;
    size_t zip_len = 0;
    FILE *m = open_memstream(&zip, &zip_len);
    struct bundle *b = m ? bundle_open_stream(m, EXPORT_WEB_MAX_BYTES) : NULL;
    if (!b) {
        if (m)
            fclose(m);
        free(zip);
        return MHD_NO;
    }
    pthread_mutex_lock(&rq->srv->db_lock);
    enum export_status st = export_build(&ex, b, err, sizeof(err));
    pthread_mutex_unlock(&rq->srv->db_lock);
    bool too_big = bundle_too_big(b);
    bundle_close(b, st == EXPORT_OK);
    if (fclose(m) != 0 && st == EXPORT_OK) {
        st = EXPORT_FAILED;
        snprintf(err, sizeof(err), "the bundle could not be zipped: out of memory");
    }
    if (st != EXPORT_OK) {
        free(zip);
        http_audit(rq, rq->sess.user, "export.refused", ids_text, "case", case_ref, "reason", err,
                   AUDIT_END);
        if (st == EXPORT_NO_CALL)
            return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", err, "ids");
        if (st == EXPORT_BAD_CASE)
            return bad(rq, "case", err);
        if (too_big)
            return http_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large", err, NULL);
        log_msg(LOG_ERR, "http: export: %s", err);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "export_failed", err, NULL);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(zip_len, zip, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(zip);
        return MHD_NO;
    }
    char disposition[160];
    filename_of(case_ref, disposition, sizeof(disposition));
    http_security_headers(resp, true);
    MHD_add_response_header(resp, "Content-Type", "application/zip");
    MHD_add_response_header(resp, "Content-Disposition", disposition);
    enum MHD_Result res = MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return res;
}

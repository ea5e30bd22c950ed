/*
 * route_retention.c - retention over HTTP (docs/API.md, docs/RETENTION.md):
 *
 *   GET  /api/retention                          what expires when (admin)
 *   POST /api/purge {"dry_run": "true"|"false"}  purge now (admin; 409 when purges
 *                                                need an approved proposal)
 *   POST /api/purge/proposals                    a new purge proposal (admin)
 *   GET  /api/purge/proposals/{id}/slip.csv      its elimination slip (admin)
 *   GET  /api/purge/proposals/{id}/slip.html
 *   POST /api/purge/proposals/{id}/approve {"visa": "REF"}   the visa, then the purge
 *   POST /api/calls/{id}/hold {"reason": "..."}  legal hold (auditor)
 *   DELETE /api/calls/{id}/hold
 *
 * The work is done by src/retention/, which audits every change under the session's
 * user; the views are audited here.  The server holds db_lock around each index use.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/retention.h"
#include "http_int.h"

enum { REASON_MAX = 1024, VISA_MAX = 200 };

/* Runs fn(rq, arg, w) on a JSON writer over a memory stream and replies with it. */
static enum MHD_Result reply_with(struct http_req *rq, unsigned status,
                                  int (*fn)(struct http_req *rq, void *arg, struct json_writer *w),
                                  void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    struct json_writer w;
    json_init(&w, m, false);
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = fn(rq, arg, &w);
    pthread_mutex_unlock(&rq->srv->db_lock);
    bool bad = json_finish(&w) != 0;
    if (fclose(m) != 0 || bad || r < 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the index could not be read or written (see the server log)",
                                NULL);
    }
    return http_reply_json(rq, status, text, len);
}

static int overview(struct http_req *rq, void *arg, struct json_writer *w)
{
    (void)arg;
    return retention_overview_json(rq->srv->ix, &rq->srv->cfg, clock_now(), w);
}

enum MHD_Result route_retention(struct http_req *rq)
{
    http_audit(rq, rq->sess.user, "retention.view", "", AUDIT_END);
    return reply_with(rq, MHD_HTTP_OK, overview, NULL);
}

static void result_json(struct json_writer *w, const struct purge_result *res)
{
    json_key(w, "purged");
    json_uint(w, res->purged);
    json_key(w, "recordings");
    json_uint(w, res->files);
    json_key(w, "bytes");
    json_uint(w, res->bytes);
    json_key(w, "skipped_held");
    json_uint(w, res->skipped_held);
}

static int purge_now(struct http_req *rq, void *arg, struct json_writer *w)
{
    bool dry_run = *(bool *)arg;
    struct purge_list l = {0};
    struct purge_result res = {0};
    if (retention_select_expired(rq->srv->ix, &rq->srv->cfg, clock_now(), &l) != 0)
        return -1;
    json_object_begin(w);
    json_key(w, "dry_run");
    json_bool(w, dry_run);
    json_key(w, "calls");
    json_array_begin(w);
    for (size_t i = 0; i < l.n; i++)
        json_int(w, l.v[i].id);
    json_array_end(w);
    int r = dry_run ? 0
                    : retention_purge(rq->srv->ix, rq->srv->cfg.data_dir, &l, PURGE_RETENTION, 0,
                                      rq->sess.user, "web", &res);
    result_json(w, &res);
    json_object_end(w);
    purge_list_free(&l);
    return r;
}

enum MHD_Result route_purge(struct http_req *rq)
{
    char v[8];
    int r = json_body_string(rq->body, rq->body_len, "dry_run", v, sizeof(v), NULL);
    if (r != 1 || (strcmp(v, "true") != 0 && strcmp(v, "false") != 0))
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_body",
                                "expected {\"dry_run\": \"true\" or \"false\"}", "dry_run");
    bool dry_run = v[0] == 't';
    if (!dry_run && config_purge_approval_required(&rq->srv->cfg))
        return http_reply_error(rq, MHD_HTTP_CONFLICT, "approval_required",
                                "purges need an approved purge proposal here ([retention] "
                                "purge_approval): create one with POST /api/purge/proposals",
                                NULL);
    return reply_with(rq, MHD_HTTP_OK, purge_now, &dry_run);
}

struct proposal_made {
    int64_t id;
    size_t count;
};

static int propose(struct http_req *rq, void *arg, struct json_writer *w)
{
    struct proposal_made *pm = arg;
    int r = retention_propose(rq->srv->ix, &rq->srv->cfg, rq->srv->cfg.data_dir, clock_now(),
                              rq->sess.user, &pm->id, &pm->count);
    json_object_begin(w);
    json_key(w, "id");
    if (pm->id > 0)
        json_int(w, pm->id);
    else
        json_null(w);
    json_key(w, "calls");
    json_uint(w, pm->count);
    json_object_end(w);
    return r;
}

enum MHD_Result route_purge_propose(struct http_req *rq)
{
    struct proposal_made pm = {0};
    return reply_with(rq, MHD_HTTP_OK, propose, &pm);
}

static enum MHD_Result slip(struct http_req *rq, bool html)
{
    char *text = NULL, target[40];
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = retention_slip_write(rq->srv->ix, &rq->srv->cfg, rq->id, html, m);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (fclose(m) != 0 || r < 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the slip could not be written (see the server log)", NULL);
    }
    if (r == 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such purge proposal",
                                NULL);
    }
    snprintf(target, sizeof(target), "proposal:%" PRId64, rq->id);
    http_audit(rq, rq->sess.user, "purge.slip", target, "format", html ? "html" : "csv", AUDIT_END);
    return http_reply(rq, MHD_HTTP_OK,
                      html ? "text/html; charset=utf-8" : "text/csv; charset=utf-8", text, len,
                      true);
}

enum MHD_Result route_purge_slip_csv(struct http_req *rq)
{
    return slip(rq, false);
}

enum MHD_Result route_purge_slip_html(struct http_req *rq)
{
    return slip(rq, true);
}

struct approval {
    const char *visa;
    int status; /* retention_approve's */
    char msg[256];
};

static int approve(struct http_req *rq, void *arg, struct json_writer *w)
{
    struct approval *a = arg;
    struct purge_result res = {0};
    a->status = retention_approve(rq->srv->ix, &rq->srv->cfg, rq->id, a->visa, rq->sess.user, &res,
                                  a->msg, sizeof(a->msg));
    json_object_begin(w);
    json_key(w, "id");
    json_int(w, rq->id);
    result_json(w, &res);
    json_object_end(w);
    return a->status == -1 ? -1 : 0;
}

enum MHD_Result route_purge_approve(struct http_req *rq)
{
    char visa[VISA_MAX];
    if (json_body_string(rq->body, rq->body_len, "visa", visa, sizeof(visa), NULL) != 1 || !visa[0])
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_body",
                                "expected {\"visa\": \"the archives service's reference\"}",
                                "visa");
    struct approval a = {.visa = visa};
    /* The reply is decided after the work: approve() runs under the lock. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    struct json_writer w;
    json_init(&w, m, false);
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = approve(rq, &a, &w);
    pthread_mutex_unlock(&rq->srv->db_lock);
    bool bad = json_finish(&w) != 0;
    fclose(m);
    if (a.status == -2 || a.status == -3 || r < 0 || bad) {
        free(text);
        if (a.status == -2)
            return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", a.msg, NULL);
        if (a.status == -3)
            return http_reply_error(rq, MHD_HTTP_CONFLICT, "not_pending", a.msg, NULL);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", a.msg, NULL);
    }
    return http_reply_json(rq, MHD_HTTP_OK, text, len);
}

static enum MHD_Result hold_reply(struct http_req *rq, bool held, bool changed)
{
    char body[96];
    int n =
        snprintf(body, sizeof(body), "{\"call\":%" PRId64 ",\"legal_hold\":%s,\"changed\":%s}\n",
                 rq->id, held ? "true" : "false", changed ? "true" : "false");
    char *copy = strdup(body);
    if (!copy)
        return MHD_NO;
    return http_reply_json(rq, MHD_HTTP_OK, copy, (size_t)n);
}

enum MHD_Result route_call_hold(struct http_req *rq)
{
    char reason[REASON_MAX] = "";
    int b = rq->body_len
                ? json_body_string(rq->body, rq->body_len, "reason", reason, sizeof(reason), NULL)
                : 0;
    if (b < 0)
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_body",
                                "expected {\"reason\": \"...\"} (at most 1023 bytes)", "reason");
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = retention_hold(rq->srv->ix, rq->id, rq->sess.user, reason);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (r == -2)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no call with this id", NULL);
    if (r < 0)
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the hold could not be recorded (see the server log)", NULL);
    return hold_reply(rq, true, r == 1);
}

enum MHD_Result route_call_hold_lift(struct http_req *rq)
{
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = retention_hold_lift(rq->srv->ix, rq->id, rq->sess.user);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (r == 0)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found",
                                "this call is not on legal hold", NULL);
    if (r < 0)
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the hold could not be lifted (see the server log)", NULL);
    return hold_reply(rq, false, true);
}

/* The retention page's script (src/http/ui/retention.js), compiled in like app.js. */
enum MHD_Result route_ui_retention_js(struct http_req *rq)
{
    const struct ui_asset *a = ui_asset_find("retention.js");
    if (!a)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such page", NULL);
    return http_reply(rq, MHD_HTTP_OK, a->type, (char *)a->data, a->len, false);
}

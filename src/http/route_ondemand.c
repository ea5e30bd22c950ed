/*
 * route_ondemand.c - the decisions on a call under an on_demand rule, and the list of
 * those in progress (docs/API.md, docs/RULES.md "On demand"):
 *
 *   GET  /api/calls/live             on_demand calls in progress (the `calls` objects)
 *   POST /api/calls/{id}/keep        keep the recording (from the call's start)
 *   POST /api/calls/{id}/discard     destroy it
 *   POST /api/calls/{id}/malicious   keep it, tag it, hold it, raise an alarm
 *   GET  /live.html, /live.js         the page of calls in progress (src/http/ui/)
 *
 * The web process does not hold calls in progress: for those it writes a request into
 * the index, which the capture process applies within a second (202, state
 * "requested"); a call that has ended is settled here (200).  Every request is audited
 * with its outcome, and the decision itself once more by whoever applies it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/ondemand.h"
#include "http_int.h"

static enum MHD_Result decide(struct http_req *rq, const char *action)
{
    char state[32] = "", err[160] = "", target[24], verb[24];
    pthread_mutex_lock(&rq->srv->db_lock);
    int r = ondemand_request(rq->srv->ix, rq->srv->cfg.data_dir, rq->id, action, rq->sess.user,
                             state, sizeof(state), err, sizeof(err));
    pthread_mutex_unlock(&rq->srv->db_lock);
    snprintf(target, sizeof(target), "%" PRId64, rq->id);
    snprintf(verb, sizeof(verb), "call.%s", action);
    http_audit(rq, rq->sess.user, verb, target, "outcome",
               r >= 0   ? state
               : err[0] ? err
                        : "error",
               AUDIT_END);
    if (r == -2)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no call with this id", NULL);
    if (r == -3)
        return http_reply_error(rq, MHD_HTTP_CONFLICT, "conflict", err, NULL);
    if (r < 0)
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the decision could not be recorded (see the server log)", NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory",
                                NULL);
    struct json_writer w;
    json_init(&w, m, false);
    json_object_begin(&w);
    json_key(&w, "id");
    json_int(&w, rq->id);
    json_key(&w, "action");
    json_string(&w, action);
    json_key(&w, "state");
    json_string(&w, state);
    json_object_end(&w);
    int bad = json_finish(&w);
    if (fclose(m) != 0 || bad) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory",
                                NULL);
    }
    return http_reply_json(rq, r == 0 ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK, text, len);
}

enum MHD_Result route_call_keep(struct http_req *rq)
{
    return decide(rq, "keep");
}

enum MHD_Result route_call_discard(struct http_req *rq)
{
    return decide(rq, "discard");
}

enum MHD_Result route_call_malicious(struct http_req *rq)
{
    return decide(rq, "malicious");
}

enum MHD_Result route_calls_live(struct http_req *rq)
{
    struct call_filter f = {.live = true, .limit = 1000};
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory",
                                NULL);
    pthread_mutex_lock(&rq->srv->db_lock);
    long n = index_list_calls(rq->srv->ix, &f, true, m);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (fclose(m) != 0 || n < 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the index could not be read (see the server log)", NULL);
    }
    http_audit(rq, rq->sess.user, "search", "", "live", "yes", AUDIT_END);
    return http_reply_json(rq, MHD_HTTP_OK, text, len);
}

/* The page of calls in progress: its own files, so that it stays apart from app.js. */
static enum MHD_Result live_asset(struct http_req *rq, const char *name)
{
    const struct ui_asset *a = ui_asset_find(name);
    if (!a)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such page", NULL);
    return http_reply(rq, MHD_HTTP_OK, a->type, (char *)a->data, a->len, false);
}

enum MHD_Result route_ui_live(struct http_req *rq)
{
    return live_asset(rq, "live.html");
}

enum MHD_Result route_ui_live_js(struct http_req *rq)
{
    return live_asset(rq, "live.js");
}

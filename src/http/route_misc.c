/*
 * route_misc.c - GET /healthz (no session), GET /api/audit (the trail, for auditors and
 * admins), and the user interface's three files, compiled into the binary
 * (ui_assets.c, generated from src/http/ui/): nothing is fetched from elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/audit.h"
#include "http_int.h"

enum MHD_Result route_healthz(struct http_req *rq)
{
    static char body[] = "{\"status\":\"ok\"}\n";
    return http_reply(rq, MHD_HTTP_OK, "application/json; charset=utf-8", body, sizeof(body) - 1,
                      false);
}

static bool count_arg(struct http_req *rq, const char *name, long max, long *out)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
    long n = 0;
    if (!v)
        return true;
    if (!*v || strlen(v) > 10)
        return false;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    if (n > max)
        return false;
    *out = n;
    return true;
}

/* What an audit row's target can be: a call id, a user name, a proposal reference. */
static bool target_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 64)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              strchr("_.:@-", *t)))
            return false;
    return true;
}

enum MHD_Result route_audit(struct http_req *rq)
{
    long limit = 100, offset = 0;
    if (!count_arg(rq, "limit", 1000, &limit) || limit == 0)
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", "limit is 1 to 1000",
                                "limit");
    if (!count_arg(rq, "offset", 1000000000, &offset))
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", "offset is a number",
                                "offset");
    const char *target = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "target");
    if (target && !target_valid(target))
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                                "target is 1 to 64 letters, digits or _ . : @ -", "target");
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    pthread_mutex_lock(&rq->srv->db_lock);
    long n = audit_list_target_json(rq->srv->ix, target, limit, offset, m);
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (fclose(m) != 0 || n < 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the audit trail could not be read", NULL);
    }
    http_audit(rq, rq->sess.user, "audit.view", target ? target : "", AUDIT_END);
    return http_reply_json(rq, MHD_HTTP_OK, text, len);
}

static enum MHD_Result asset(struct http_req *rq, const char *name)
{
    const struct ui_asset *a = ui_asset_find(name);
    if (!a)
        return http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such page", NULL);
    return http_reply(rq, MHD_HTTP_OK, a->type, (char *)a->data, a->len, false);
}

enum MHD_Result route_ui_index(struct http_req *rq)
{
    return asset(rq, "index.html");
}

enum MHD_Result route_ui_js(struct http_req *rq)
{
    return asset(rq, "app.js");
}

enum MHD_Result route_ui_css(struct http_req *rq)
{
    return asset(rq, "app.css");
}

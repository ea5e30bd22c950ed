/*
 * http_int.h - private to the web stage: the server, one request as its handlers see
 * it, sessions and login throttling, and the reply helpers every route goes through
 * (so that every response carries the security headers).
 */
#ifndef GREFFIER_HTTP_INT_H
#define GREFFIER_HTTP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "greffier/config.h"
#include "greffier/users.h"

struct index;

enum {
    HTTP_BODY_MAX = 64 * 1024,
    SESSION_TOKEN_HEX = 64, /* 256 random bits */
    HTTP_STATUS_MAX = 600,  /* status codes counted for /metrics: 100..599 */
    CSRF_HEX = 64,
};

struct session_store;
struct login_throttle;

struct http_server {
    struct MHD_Daemon *mhd;
    struct config cfg;
    bool tls;
    /* One connection shared by every request thread, one request at a time: reads are
     * short, and replays only look up the recording under the lock. */
    pthread_mutex_t db_lock;
    struct index *ix;
    struct session_store *sessions;
    struct login_throttle *throttle;
    char *tls_cert_pem, *tls_key_pem;
    /* /metrics: responses by status code (atomic), and the capture counters of this
     * process under `greffier serve` (NULL: read the capture process's snapshot). */
    uint64_t requests_by_code[HTTP_STATUS_MAX];
    struct http_capture_metrics *capture_metrics;
};

/* key_check.c: raises key_unreadable:private when the newest private recording key
 * cannot be read, clears it when it can; true when readable. */
bool http_check_private_key(struct http_server *srv);

/* Counts a response for /metrics; every MHD_queue_response goes with one. */
void http_count_status(struct http_server *srv, unsigned status);

/* What a handler knows of the session (a copy: the store may expire it meanwhile). */
struct session_view {
    bool valid;
    char user[USER_NAME_MAX + 1];
    enum user_role role;
    char csrf[CSRF_HEX + 1];
};

struct http_req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct session_view sess;
    bool has_id;
    int64_t id; /* the {id} of the route, validated */
    const char *arg; /* the {arg} segment (the path's last: NUL-terminated), unvalidated */
    size_t arg_len;
    const char *body;
    size_t body_len;
};

typedef enum MHD_Result route_fn(struct http_req *rq);

/* server.c: replies.  Each queues the response and returns MHD's result. */
enum MHD_Result http_reply(struct http_req *rq, unsigned status, const char *type, char *body,
                           size_t len, bool must_free);
/* body is a JSON text the caller owns (freed here when must_free). */
enum MHD_Result http_reply_json(struct http_req *rq, unsigned status, char *body, size_t len);
/* {"error": code, "message": message[, "parameter": param]} */
enum MHD_Result http_reply_error(struct http_req *rq, unsigned status, const char *code,
                                 const char *message, const char *param);
/* Adds the headers every response carries (CSP, nosniff, no-referrer, no-store on the
 * API). */
void http_security_headers(struct MHD_Response *resp, bool api);
/* Builds the detail object from key/value text pairs (ended by AUDIT_END) and appends an
 * audit row; NULL values are left out. */
#define AUDIT_END ((const char *)NULL)
void http_audit(struct http_req *rq, const char *user, const char *action, const char *target, ...)
    __attribute__((sentinel));

/* session.c */
struct session_store *session_store_new(unsigned idle_s, unsigned max_s);
void session_store_free(struct session_store *st);
/* Creates a session; token gets SESSION_TOKEN_HEX + 1 bytes, csrf CSRF_HEX + 1.  0 or -1. */
int session_create(struct session_store *st, const char *user, enum user_role role, char *token,
                   char *csrf);
/* Looks the cookie value up, refreshing its idle time; false when unknown or expired. */
bool session_lookup(struct session_store *st, const char *token, struct session_view *out);
void session_destroy(struct session_store *st, const char *token);

struct login_throttle *login_throttle_new(void);
void login_throttle_free(struct login_throttle *t);
/* True while name is locked out (5 failures within 15 minutes lock it for 15 minutes). */
bool login_locked(struct login_throttle *t, const char *name);
/* Records a failure; true when this one started a lockout. */
bool login_failed(struct login_throttle *t, const char *name);
void login_succeeded(struct login_throttle *t, const char *name);

/* json_body.c: the request bodies are flat JSON objects of strings. */
/* Finds key in the object text and copies its unescaped UTF-8 value to out.  1 found,
 * 0 absent, -1 when the body is not a flat object of strings, or the value has a NUL or
 * does not fit. */
int json_body_string(const char *body, size_t len, const char *key, char *out, size_t outsize,
                     size_t *outlen);

/* routes */
route_fn route_login, route_logout, route_me;
route_fn route_calls, route_call, route_call_audio, route_call_peaks;
route_fn route_healthz, route_audit, route_metrics;
route_fn route_export;
route_fn route_tag_add, route_tag_remove, route_note_add, route_note_remove, route_alarms;
route_fn route_calls_live, route_call_keep, route_call_discard, route_call_malicious;
route_fn route_ui_live, route_ui_live_js;
route_fn route_ui_index, route_ui_js, route_ui_css;
route_fn route_retention, route_purge, route_purge_propose, route_purge_slip_csv,
    route_purge_slip_html, route_purge_approve, route_call_hold, route_call_hold_lift,
    route_ui_retention_js;
route_fn route_rules, route_rules_explain, route_ui_rules_js;

/* ui_assets.c (generated from src/http/ui/ at build time) */
struct ui_asset {
    const char *name;
    const char *type;
    const unsigned char *data;
    size_t len;
};
const struct ui_asset *ui_asset_find(const char *name);

#endif

/*
 * server.c - the web server: libmicrohttpd set-up, the route table, and the one path
 * every request takes (body limit, session, CSRF, role, {id}) before its handler.
 *
 * Threads: one per connection (MHD_USE_THREAD_PER_CONNECTION), at most [http]
 * max_connections of them.  The index is one SQLite connection behind a mutex; a
 * handler holds it only while it queries, never while it streams audio or hashes a
 * password.  Sessions and the login throttle have their own locks (session.c).
 *
 * Order of the checks, so that an error says the first thing wrong: unknown path 404,
 * wrong method 405, body over 64 KiB 413, no session 401, missing CSRF header 403, role
 * 403, malformed {id} 400; then the handler (unknown id 404, bad parameter 400).
 * References: RFC 9110 (HTTP semantics), RFC 6265 (cookies), OWASP CSRF prevention
 * (synchroniser token), W3C CSP level 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "greffier/audit.h"
#include "greffier/http.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "http_int.h"

enum {
    ROLES_SEARCH = ROLE_SUPERVISOR | ROLE_AUDITOR,
    ROLES_AUDIT = ROLE_AUDITOR | ROLE_ADMIN,
    ROLES_ANY = ROLE_ADMIN | ROLE_SUPERVISOR | ROLE_AUDITOR,
    ROLES_DECIDE = ROLE_SUPERVISOR | ROLE_ADMIN, /* on demand: keep, discard, malicious */
    CONNECTION_TIMEOUT_S = 60,
    CONNECTION_MEMORY = 128 * 1024,
    MAX_SEGMENTS = 8,
    PATH_MAX_BYTES = 512,
};

struct route {
    const char *method;
    const char *pattern; /* segments; "{id}" is a positive decimal call id, "{arg}" any
                          * other segment, which its handler validates */
    route_fn *handler;
    unsigned roles; /* 0: no session needed */
};

static const struct route routes[] = {
    {"GET", "/healthz", route_healthz, 0},
    {"GET", "/metrics", route_metrics, 0}, /* loopback or Bearer token: route_metrics.c */
    {"POST", "/api/login", route_login, 0},
    {"POST", "/api/logout", route_logout, ROLES_ANY},
    {"GET", "/api/me", route_me, ROLES_ANY},
    {"GET", "/api/calls", route_calls, ROLES_SEARCH},
    {"GET", "/api/calls/live", route_calls_live, ROLES_DECIDE},
    {"GET", "/api/calls/{id}", route_call, ROLES_SEARCH},
    {"POST", "/api/calls/{id}/keep", route_call_keep, ROLES_DECIDE},
    {"POST", "/api/calls/{id}/discard", route_call_discard, ROLES_DECIDE},
    {"POST", "/api/calls/{id}/malicious", route_call_malicious, ROLES_DECIDE},
    {"GET", "/api/calls/{id}/audio", route_call_audio, ROLES_SEARCH},
    {"GET", "/api/calls/{id}/peaks", route_call_peaks, ROLES_SEARCH},
    {"POST", "/api/calls/{id}/tags", route_tag_add, ROLES_SEARCH},
    {"DELETE", "/api/calls/{id}/tags/{arg}", route_tag_remove, ROLES_SEARCH},
    {"POST", "/api/calls/{id}/notes", route_note_add, ROLES_SEARCH},
    {"DELETE", "/api/calls/{id}/notes/{arg}", route_note_remove, ROLES_ANY},
    {"GET", "/api/alarms", route_alarms, ROLES_ANY},
    {"GET", "/api/audit", route_audit, ROLES_AUDIT},
    {"POST", "/api/export", route_export, ROLE_AUDITOR},
    {"GET", "/api/retention", route_retention, ROLE_ADMIN},
    {"POST", "/api/purge", route_purge, ROLE_ADMIN},
    {"GET", "/api/rules", route_rules, ROLE_ADMIN},
    {"GET", "/api/rules/explain", route_rules_explain, ROLE_ADMIN},
    {"POST", "/api/purge/proposals", route_purge_propose, ROLE_ADMIN},
    {"GET", "/api/purge/proposals/{id}/slip.csv", route_purge_slip_csv, ROLE_ADMIN},
    {"GET", "/api/purge/proposals/{id}/slip.html", route_purge_slip_html, ROLE_ADMIN},
    {"POST", "/api/purge/proposals/{id}/approve", route_purge_approve, ROLE_ADMIN},
    {"POST", "/api/calls/{id}/hold", route_call_hold, ROLE_AUDITOR},
    {"DELETE", "/api/calls/{id}/hold", route_call_hold_lift, ROLE_AUDITOR},
    {"GET", "/", route_ui_index, 0},
    {"GET", "/index.html", route_ui_index, 0},
    {"GET", "/app.js", route_ui_js, 0},
    {"GET", "/app.css", route_ui_css, 0},
    {"GET", "/retention.js", route_ui_retention_js, 0},
    {"GET", "/rules.js", route_ui_rules_js, 0},
    {"GET", "/live.html", route_ui_live, 0},
    {"GET", "/live.js", route_ui_live_js, 0},
};

/* Per connection: the request body as it arrives. */
struct conn_state {
    char *body;
    size_t len;
    bool too_big;
};

void http_security_headers(struct MHD_Response *resp, bool api)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", api ? "no-store" : "no-cache");
}

static bool is_api(const char *url)
{
    return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/healthz") == 0 ||
           strcmp(url, "/metrics") == 0;
}

enum MHD_Result http_reply(struct http_req *rq, unsigned status, const char *type, char *body,
                           size_t len, bool must_free)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        if (must_free)
            free(body);
        return MHD_NO;
    }
    http_security_headers(resp, is_api(rq->url));
    if (type)
        MHD_add_response_header(resp, "Content-Type", type);
    enum MHD_Result r = MHD_queue_response(rq->conn, status, resp);
    MHD_destroy_response(resp);
    http_count_status(rq->srv, status);
    return r;
}

void http_count_status(struct http_server *srv, unsigned status)
{
    if (status < HTTP_STATUS_MAX)
        __atomic_fetch_add(&srv->requests_by_code[status], 1, __ATOMIC_RELAXED);
}

void http_set_capture_metrics(struct http_server *srv, struct http_capture_metrics *src)
{
    __atomic_store_n(&srv->capture_metrics, src, __ATOMIC_RELEASE);
}

enum MHD_Result http_reply_json(struct http_req *rq, unsigned status, char *body, size_t len)
{
    return http_reply(rq, status, "application/json; charset=utf-8", body, len, true);
}

enum MHD_Result http_reply_error(struct http_req *rq, unsigned status, const char *code,
                                 const char *message, const char *param)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    struct json_writer w;
    json_init(&w, m, false);
    json_object_begin(&w);
    json_key(&w, "error");
    json_string(&w, code);
    json_key(&w, "message");
    json_string(&w, message);
    if (param) {
        json_key(&w, "parameter");
        json_string(&w, param);
    }
    json_object_end(&w);
    json_finish(&w);
    fclose(m);
    return http_reply_json(rq, status, text, len);
}

void http_audit(struct http_req *rq, const char *user, const char *action, const char *target, ...)
{
    char *detail = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&detail, &len);
    if (m) {
        struct json_writer w;
        va_list ap;
        json_init(&w, m, false);
        json_object_begin(&w);
        va_start(ap, target);
        for (const char *k; (k = va_arg(ap, const char *)) != NULL;) {
            const char *v = va_arg(ap, const char *);
            if (v) {
                json_key(&w, k);
                json_string(&w, v);
            }
        }
        va_end(ap);
        json_object_end(&w);
        fclose(m);
    }
    if (detail && len > 0 && detail[len - 1] == '\n')
        detail[len - 1] = '\0';
    pthread_mutex_lock(&rq->srv->db_lock);
    audit_append(rq->srv->ix, user, action, target, detail);
    pthread_mutex_unlock(&rq->srv->db_lock);
    free(detail);
}

/* Splits a path into at most MAX_SEGMENTS segments (spans into path); -1 when it has
 * more, or an empty segment other than the root's. */
static int split_path(const char *path, const char *seg[], size_t seglen[])
{
    int n = 0;
    if (path[0] != '/')
        return -1;
    if (path[1] == '\0')
        return 0;
    for (const char *p = path + 1;;) {
        size_t len = strcspn(p, "/");
        if (len == 0 || n == MAX_SEGMENTS)
            return -1;
        seg[n] = p;
        seglen[n++] = len;
        if (p[len] == '\0')
            return n;
        p += len + 1;
    }
}

/* Matches the path against pattern; sets *id_seg to the {id} segment, rq's arg to the
 * {arg} one. */
static bool match(const char *pattern, const char *seg[], const size_t seglen[], int nseg,
                  const char **id_seg, size_t *id_len, struct http_req *rq)
{
    const char *pseg[MAX_SEGMENTS];
    size_t plen[MAX_SEGMENTS];
    int n = split_path(pattern, pseg, plen);
    if (n != nseg)
        return false;
    for (int i = 0; i < n; i++) {
        if (plen[i] == 4 && memcmp(pseg[i], "{id}", 4) == 0) {
            *id_seg = seg[i];
            *id_len = seglen[i];
        } else if (plen[i] == 5 && memcmp(pseg[i], "{arg}", 5) == 0) {
            rq->arg = seg[i];
            rq->arg_len = seglen[i];
        } else if (plen[i] != seglen[i] || memcmp(pseg[i], seg[i], plen[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* A positive decimal that fits in int64, digits only. */
static bool parse_id(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 18)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v <= 0)
        return false;
    *out = v;
    return true;
}

static bool state_changing(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "DELETE") == 0 || strcmp(method, "PATCH") == 0;
}

static enum MHD_Result dispatch(struct http_req *rq, const struct conn_state *cs)
{
    const char *seg[MAX_SEGMENTS], *id_seg = NULL;
    size_t seglen[MAX_SEGMENTS], id_len = 0;
    const struct route *r = NULL;
    bool path_known = false;
    bool head = strcmp(rq->method, "HEAD") == 0;

    int nseg = strlen(rq->url) > PATH_MAX_BYTES ? -1 : split_path(rq->url, seg, seglen);
    for (size_t i = 0; nseg >= 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, seg, seglen, nseg, &id_seg, &id_len, rq))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, rq->method) == 0 ||
            (head && strcmp(routes[i].method, "GET") == 0)) {
            r = &routes[i];
            break;
        }
    }
    if (!r)
        return path_known
                   ? http_reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method",
                                      "method not allowed here", NULL)
                   : http_reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such page", NULL);
    if (cs->too_big)
        return http_reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                                "request body over 64 KiB", NULL);
    rq->body = cs->body ? cs->body : "";
    rq->body_len = cs->len;

    const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "greffier_session");
    session_lookup(rq->srv->sessions, cookie, &rq->sess);
    if (r->roles) {
        if (!rq->sess.valid)
            return http_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "unauthenticated", "log in first",
                                    NULL);
        if (state_changing(rq->method)) {
            const char *t = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
            if (!t || strlen(t) != CSRF_HEX || CRYPTO_memcmp(t, rq->sess.csrf, CSRF_HEX) != 0)
                return http_reply_error(rq, MHD_HTTP_FORBIDDEN, "csrf",
                                        "missing or wrong X-CSRF-Token header", NULL);
        }
        if (!(rq->sess.role & r->roles))
            return http_reply_error(rq, MHD_HTTP_FORBIDDEN, "forbidden",
                                    "your role does not allow this", NULL);
    }
    if (id_seg) {
        if (!parse_id(id_seg, id_len, &rq->id))
            return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_id",
                                    "a call id is a positive decimal number", "id");
        rq->has_id = true;
    }
    return r->handler(rq);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof(*cs));
        if (!cs)
            return MHD_NO;
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        if (!cs->too_big && cs->len + n <= HTTP_BODY_MAX) {
            char *b = realloc(cs->body, cs->len + n + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + cs->len, upload_data, n);
            cs->body = b;
            cs->len += n;
            cs->body[cs->len] = '\0';
        } else {
            cs->too_big = true; /* the rest is read and dropped, then refused */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    struct http_req rq = {.srv = cls, .conn = conn, .method = method, .url = url};
    return dispatch(&rq, cs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct conn_state *cs = *con_cls;
    if (cs) {
        if (cs->body)
            OPENSSL_cleanse(cs->body, cs->len); /* it may hold a password */
        free(cs->body);
        free(cs);
        *con_cls = NULL;
    }
}

/* "a.b.c.d:port" or "[v6]:port" into a socket address. */
static bool parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen, bool *v6,
                         bool *loopback)
{
    char host[64];
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
            return false;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        colon = close + 1;
        *v6 = true;
    } else {
        colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof(host))
            return false;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        *v6 = false;
    }
    unsigned long port = 0;
    const char *p = colon + 1;
    if (*p == '\0')
        return false;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || (port = port * 10 + (unsigned long)(*p - '0')) > 65535)
            return false;
    }
    memset(ss, 0, sizeof(*ss));
    if (*v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
            return false;
        *loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
        *sslen = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
            return false;
        *loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
        *sslen = sizeof(*s4);
    }
    return true;
}

static char *read_pem(const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    size_t len = 0;
    if (f) {
        buf = malloc(1 << 20);
        if (buf) {
            len = fread(buf, 1, (1 << 20) - 1, f);
            buf[len] = '\0';
        }
        fclose(f);
    }
    if (!buf || len == 0) {
        snprintf(err, errsize, "%s: %s", path, f ? "empty or unreadable" : strerror(errno));
        free(buf);
        return NULL;
    }
    return buf;
}

static void free_server(struct http_server *srv)
{
    index_close(srv->ix);
    session_store_free(srv->sessions);
    login_throttle_free(srv->throttle);
    if (srv->tls_key_pem)
        OPENSSL_cleanse(srv->tls_key_pem, strlen(srv->tls_key_pem));
    free(srv->tls_key_pem);
    free(srv->tls_cert_pem);
    pthread_mutex_destroy(&srv->db_lock);
    free(srv);
}

struct http_server *http_start(const struct config *cfg, const char *listen, char *err,
                               size_t errsize)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    bool v6, loopback;
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&srv->db_lock, NULL);
    srv->cfg = *cfg;
    if (!listen)
        listen = cfg->http_listen;
    if (!parse_listen(listen, &ss, &sslen, &v6, &loopback)) {
        snprintf(err, errsize, "listen address \"%.80s\" is not ADDR:PORT or [ADDR6]:PORT", listen);
        goto error;
    }
    srv->tls = cfg->http_tls_cert[0] || cfg->http_tls_key[0];
    if (srv->tls && (!cfg->http_tls_cert[0] || !cfg->http_tls_key[0])) {
        snprintf(err, errsize, "[http] tls_cert and tls_key go together");
        goto error;
    }
    if (!srv->tls && !loopback && !cfg->http_allow_plain_non_loopback) {
        snprintf(err, errsize,
                 "refusing plain HTTP on %s, which is not a loopback address: set [http] "
                 "tls_cert and tls_key (or allow_plain_non_loopback = yes behind a TLS proxy)",
                 listen);
        goto error;
    }
    if (srv->tls && (!(srv->tls_cert_pem = read_pem(cfg->http_tls_cert, err, errsize)) ||
                     !(srv->tls_key_pem = read_pem(cfg->http_tls_key, err, errsize))))
        goto error;
    srv->ix = index_open(cfg->data_dir, false, err, errsize);
    if (!srv->ix)
        goto error;
    http_check_private_key(srv); /* an alarm, not a refusal: search still works */
    srv->sessions = session_store_new(cfg->http_session_idle_s, cfg->http_session_max_s);
    srv->throttle = login_throttle_new();
    if (!srv->sessions || !srv->throttle) {
        snprintf(err, errsize, "out of memory");
        goto error;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0) | (srv->tls ? MHD_USE_TLS : 0);
    if (srv->tls)
        srv->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_CONNECTION_LIMIT, cfg->http_max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
            MHD_OPTION_HTTPS_MEM_CERT, srv->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
            srv->tls_key_pem, MHD_OPTION_END);
    else
        srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
                                    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                                    cfg->http_max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)CONNECTION_TIMEOUT_S,
                                    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (!srv->mhd) {
        snprintf(err, errsize, "cannot listen on %s (address in use, or TLS files invalid?)",
                 listen);
        goto error;
    }
    (void)sslen;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    log_msg(LOG_NOTICE, "http: listening on %s://%s (port %u)", srv->tls ? "https" : "http", listen,
            info ? (unsigned)info->port : 0);
    return srv;

error:
    free_server(srv);
    return NULL;
}

bool http_alive(struct http_server *srv)
{
    pthread_mutex_lock(&srv->db_lock);
    bool ok = sqlite3_exec(index_sqlite(srv->ix), "SELECT count(*) FROM sqlite_schema", NULL, NULL,
                           NULL) == SQLITE_OK;
    pthread_mutex_unlock(&srv->db_lock);
    return ok;
}

void http_stop(struct http_server *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->mhd);
    free_server(srv);
}

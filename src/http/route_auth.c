/*
 * route_auth.c - POST /api/login, POST /api/logout, GET /api/me.
 *
 * A login costs one scrypt whether the name exists or not (an unknown name is checked
 * against a fixed hash), and the reply is the same 401: neither the time nor the answer
 * tells which names exist.  Successes, failures and lockouts are audited.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "http_int.h"

/* A well-formed hash of nothing anyone knows: the same work for an unknown name. */
static const char dummy_hash[] =
    "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/* {"user","role","csrf"} with an optional Set-Cookie. */
static enum MHD_Result reply_identity(struct http_req *rq, const struct session_view *v,
                                      const char *cookie)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;
    struct json_writer w;
    json_init(&w, m, false);
    json_object_begin(&w);
    json_key(&w, "user");
    json_string(&w, v->user);
    json_key(&w, "role");
    json_string(&w, user_role_name(v->role));
    json_key(&w, "csrf");
    json_string(&w, v->csrf);
    json_object_end(&w);
    json_finish(&w);
    fclose(m);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    http_security_headers(resp, true);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    if (cookie)
        MHD_add_response_header(resp, "Set-Cookie", cookie);
    enum MHD_Result r = MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    http_count_status(rq->srv, MHD_HTTP_OK);
    return r;
}

enum MHD_Result route_login(struct http_req *rq)
{
    char name[USER_NAME_MAX + 2], pw[USER_PASSWORD_MAX + 1], err[256];
    size_t pwlen = 0;
    struct user_record u;
    enum MHD_Result res;

    if (json_body_string(rq->body, rq->body_len, "user", name, sizeof(name), NULL) != 1 ||
        json_body_string(rq->body, rq->body_len, "password", pw, sizeof(pw), &pwlen) != 1)
        return http_reply_error(rq, MHD_HTTP_BAD_REQUEST, "bad_body",
                                "expected {\"user\": \"...\", \"password\": \"...\"}", NULL);
    if (!user_name_valid(name)) {
        OPENSSL_cleanse(pw, sizeof(pw));
        http_audit(rq, "-", "login.fail", "", "reason", "invalid name", AUDIT_END);
        return http_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "bad_credentials",
                                "wrong user or password", NULL);
    }
    if (login_locked(rq->srv->throttle, name)) {
        OPENSSL_cleanse(pw, sizeof(pw));
        http_audit(rq, name, "login.fail", name, "reason", "locked out", AUDIT_END);
        return http_reply_error(rq, MHD_HTTP_TOO_MANY_REQUESTS, "locked",
                                "too many failed logins: try again in 15 minutes", NULL);
    }
    pthread_mutex_lock(&rq->srv->db_lock);
    int found = users_lookup(rq->srv->ix, name, &u, err, sizeof(err));
    pthread_mutex_unlock(&rq->srv->db_lock);
    if (found < 0)
        log_msg(LOG_ERR, "http: login: %s", err);
    /* Outside the lock: scrypt takes tens of milliseconds. */
    int ok = user_password_check(pw, pwlen, found == 0 ? u.password : dummy_hash);
    OPENSSL_cleanse(pw, sizeof(pw));
    OPENSSL_cleanse(u.password, sizeof(u.password));
    if (found != 0 || ok != 1) {
        bool locked = login_failed(rq->srv->throttle, name);
        http_audit(rq, name, "login.fail", name, "reason",
                   found == 0 ? "wrong password" : "no such user", AUDIT_END);
        if (locked) {
            log_msg(LOG_WARNING, "http: login: \"%s\" locked out for 15 minutes after 5 failures",
                    name);
            http_audit(rq, name, "login.lockout", name, AUDIT_END);
        }
        return http_reply_error(rq, MHD_HTTP_UNAUTHORIZED, "bad_credentials",
                                "wrong user or password", NULL);
    }
    login_succeeded(rq->srv->throttle, name);

    char token[SESSION_TOKEN_HEX + 1], cookie[SESSION_TOKEN_HEX + 96];
    struct session_view v = {.valid = true, .role = u.role};
    snprintf(v.user, sizeof(v.user), "%s", u.name);
    if (session_create(rq->srv->sessions, v.user, v.role, token, v.csrf) != 0)
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "cannot create a session", NULL);
    snprintf(cookie, sizeof(cookie), "greffier_session=%s; HttpOnly; SameSite=Strict; Path=/%s",
             token, rq->srv->tls ? "; Secure" : "");
    http_audit(rq, v.user, "login.ok", v.user, "role", user_role_name(v.role), AUDIT_END);
    res = reply_identity(rq, &v, cookie);
    OPENSSL_cleanse(token, sizeof(token));
    OPENSSL_cleanse(cookie, sizeof(cookie));
    return res;
}

enum MHD_Result route_logout(struct http_req *rq)
{
    const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "greffier_session");
    session_destroy(rq->srv->sessions, cookie);
    http_audit(rq, rq->sess.user, "logout", rq->sess.user, AUDIT_END);
    static char body[] = "{\"status\":\"ok\"}\n";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    http_security_headers(resp, true);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(resp, "Set-Cookie",
                            "greffier_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    enum MHD_Result r = MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    http_count_status(rq->srv, MHD_HTTP_OK);
    return r;
}

enum MHD_Result route_me(struct http_req *rq)
{
    return reply_identity(rq, &rq->sess, NULL);
}

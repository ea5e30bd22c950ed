/*
 * session.c - web sessions kept in memory, and login throttling.
 *
 * A session token is 256 random bits in hex, sent once in the Set-Cookie of the login;
 * the store keeps only its SHA-256, so a memory dump does not hand out live cookies.
 * Each session has its own CSRF token (returned in the login reply, required in
 * X-CSRF-Token on every state-changing request), an idle and an absolute expiry
 * (CLOCK_MONOTONIC: a clock step does not end or extend sessions).  A restart logs
 * everyone out, which is the intended cost of keeping nothing on disk.
 *
 * Throttling: 5 failed logins for one name within 15 minutes lock that name out for 15
 * minutes, unknown names included (so the reply never tells whether a name exists).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "http_int.h"

enum {
    MAX_SESSIONS = 1024,
    MAX_THROTTLED = 512,
    FAIL_LIMIT = 5,
    FAIL_WINDOW_S = 15 * 60,
    LOCK_S = 15 * 60,
};

struct session {
    bool used;
    unsigned char key[32]; /* SHA-256 of the token */
    struct session_view v;
    int64_t created, last_used; /* monotonic seconds */
};

struct session_store {
    pthread_mutex_t lock;
    unsigned idle_s, max_s;
    struct session s[MAX_SESSIONS];
};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool token_key(const char *token, unsigned char key[32])
{
    unsigned len = 0;
    if (strlen(token) != SESSION_TOKEN_HEX)
        return false;
    return EVP_Digest(token, SESSION_TOKEN_HEX, key, &len, EVP_sha256(), NULL) == 1 && len == 32;
}

struct session_store *session_store_new(unsigned idle_s, unsigned max_s)
{
    struct session_store *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    pthread_mutex_init(&st->lock, NULL);
    st->idle_s = idle_s;
    st->max_s = max_s;
    return st;
}

void session_store_free(struct session_store *st)
{
    if (!st)
        return;
    pthread_mutex_destroy(&st->lock);
    OPENSSL_cleanse(st, sizeof(*st));
    free(st);
}

static bool expired(const struct session_store *st, const struct session *s, int64_t now)
{
    return now - s->last_used >= st->idle_s || now - s->created >= st->max_s;
}

int session_create(struct session_store *st, const char *user, enum user_role role, char *token,
                   char *csrf)
{
    unsigned char raw[32], c[32], key[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1 || RAND_bytes(c, sizeof(c)) != 1)
        return -1;
    hex(raw, sizeof(raw), token);
    hex(c, sizeof(c), csrf);
    OPENSSL_cleanse(raw, sizeof(raw));
    if (!token_key(token, key))
        return -1;
    int64_t now = mono_s();
    pthread_mutex_lock(&st->lock);
    /* A free or expired slot, else the least recently used one is logged out. */
    struct session *slot = &st->s[0];
    for (size_t i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &st->s[i];
        if (!s->used || expired(st, s, now)) {
            slot = s;
            break;
        }
        if (s->last_used < slot->last_used)
            slot = s;
    }
    memset(slot, 0, sizeof(*slot));
    slot->used = true;
    memcpy(slot->key, key, sizeof(key));
    slot->v.valid = true;
    snprintf(slot->v.user, sizeof(slot->v.user), "%s", user);
    slot->v.role = role;
    memcpy(slot->v.csrf, csrf, CSRF_HEX + 1);
    slot->created = slot->last_used = now;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

static struct session *find(struct session_store *st, const unsigned char key[32])
{
    for (size_t i = 0; i < MAX_SESSIONS; i++)
        if (st->s[i].used && CRYPTO_memcmp(st->s[i].key, key, 32) == 0)
            return &st->s[i];
    return NULL;
}

bool session_lookup(struct session_store *st, const char *token, struct session_view *out)
{
    unsigned char key[32];
    memset(out, 0, sizeof(*out));
    if (!token || !token_key(token, key))
        return false;
    int64_t now = mono_s();
    pthread_mutex_lock(&st->lock);
    struct session *s = find(st, key);
    if (s && expired(st, s, now)) {
        memset(s, 0, sizeof(*s));
        s = NULL;
    }
    if (s) {
        s->last_used = now;
        *out = s->v;
    }
    pthread_mutex_unlock(&st->lock);
    return s != NULL;
}

void session_destroy(struct session_store *st, const char *token)
{
    unsigned char key[32];
    if (!token || !token_key(token, key))
        return;
    pthread_mutex_lock(&st->lock);
    struct session *s = find(st, key);
    if (s)
        memset(s, 0, sizeof(*s));
    pthread_mutex_unlock(&st->lock);
}

/* ---- login throttling ---------------------------------------------------------------- */

struct throttled {
    char name[USER_NAME_MAX + 1];
    unsigned failures;
    int64_t first_failure, locked_until;
};

struct login_throttle {
    pthread_mutex_t lock;
    struct throttled t[MAX_THROTTLED];
};

struct login_throttle *login_throttle_new(void)
{
    struct login_throttle *t = calloc(1, sizeof(*t));
    if (t)
        pthread_mutex_init(&t->lock, NULL);
    return t;
}

void login_throttle_free(struct login_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* The entry of name, or NULL; with create, a new one replacing an idle or the oldest. */
static struct throttled *entry(struct login_throttle *t, const char *name, bool create, int64_t now)
{
    struct throttled *oldest = &t->t[0];
    for (size_t i = 0; i < MAX_THROTTLED; i++) {
        struct throttled *e = &t->t[i];
        if (e->name[0] && strcmp(e->name, name) == 0)
            return e;
    }
    if (!create)
        return NULL;
    for (size_t i = 0; i < MAX_THROTTLED; i++) {
        struct throttled *e = &t->t[i];
        bool idle = now - e->first_failure >= FAIL_WINDOW_S && now >= e->locked_until;
        if (!e->name[0] || idle) {
            oldest = e;
            break;
        }
        if (e->first_failure < oldest->first_failure && now >= e->locked_until)
            oldest = e;
    }
    memset(oldest, 0, sizeof(*oldest));
    snprintf(oldest->name, sizeof(oldest->name), "%s", name);
    oldest->first_failure = now;
    return oldest;
}

bool login_locked(struct login_throttle *t, const char *name)
{
    int64_t now = mono_s();
    pthread_mutex_lock(&t->lock);
    struct throttled *e = entry(t, name, false, now);
    bool locked = e && now < e->locked_until;
    pthread_mutex_unlock(&t->lock);
    return locked;
}

bool login_failed(struct login_throttle *t, const char *name)
{
    int64_t now = mono_s();
    bool started = false;
    pthread_mutex_lock(&t->lock);
    struct throttled *e = entry(t, name, true, now);
    if (now - e->first_failure >= FAIL_WINDOW_S) {
        e->failures = 0;
        e->first_failure = now;
    }
    if (++e->failures >= FAIL_LIMIT && now >= e->locked_until) {
        e->locked_until = now + LOCK_S;
        e->failures = 0;
        e->first_failure = now;
        started = true;
    }
    pthread_mutex_unlock(&t->lock);
    return started;
}

void login_succeeded(struct login_throttle *t, const char *name)
{
    pthread_mutex_lock(&t->lock);
    struct throttled *e = entry(t, name, false, 0);
    if (e)
        memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&t->lock);
}

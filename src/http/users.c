/*
 * users.c - accounts of the web side: validation, scrypt password hashes (RFC 7914)
 * through OpenSSL's EVP_KDF, and the users table of the index.
 *
 * N = 2^15, r = 8, p = 1 costs 32 MiB and some tens of milliseconds per login: cheap
 * for one person, expensive for a guesser with a stolen index.  The stored form carries
 * its parameters so they can be raised later without invalidating older hashes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "greffier/audit.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/log.h"
#include "greffier/timefmt.h"
#include "greffier/users.h"

enum {
    SCRYPT_LOG2_N = 15,
    SCRYPT_R = 8,
    SCRYPT_P = 1,
    SALT_BYTES = 16,
    KEY_BYTES = 32,
    /* What a stored hash may ask for: N up to 2^20, r*p bounded. */
    MAX_LOG2_N = 20,
    MAX_R = 32,
    MAX_P = 16,
};

static const struct {
    enum user_role role;
    const char *name;
} roles[] = {
    {ROLE_ADMIN, "admin"},
    {ROLE_SUPERVISOR, "supervisor"},
    {ROLE_AUDITOR, "auditor"},
};

const char *user_role_name(enum user_role role)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (roles[i].role == role)
            return roles[i].name;
    return "?";
}

bool user_role_parse(const char *s, enum user_role *out)
{
    for (size_t i = 0; s && i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(s, roles[i].name) == 0) {
            *out = roles[i].role;
            return true;
        }
    }
    return false;
}

bool user_name_valid(const char *name)
{
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return n >= 1 && n <= USER_NAME_MAX;
}

static int scrypt(const char *pw, size_t len, const uint8_t *salt, size_t saltlen, uint64_t n,
                  uint32_t r, uint32_t p, uint8_t *key, size_t keylen)
{
    /* 128 * r * N bytes for V, plus room for B: bounded by the limits above. */
    uint64_t maxmem = 128 * (uint64_t)r * (n + (uint64_t)p + 2) + (1u << 20);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    static const char empty[1] = "";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)(len ? pw : empty), len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    int ok = ctx && EVP_KDF_derive(ctx, key, keylen, params) == 1;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? 0 : -1;
}

int user_password_hash(const char *pw, size_t len, char *out, size_t outsize, char *err,
                       size_t errsize)
{
    uint8_t salt[SALT_BYTES], key[KEY_BYTES];
    char salt64[4 * ((SALT_BYTES + 2) / 3) + 1], key64[4 * ((KEY_BYTES + 2) / 3) + 1];

    if (len < USER_PASSWORD_MIN || len > USER_PASSWORD_MAX) {
        snprintf(err, errsize, "a password must be %d to %d bytes long", USER_PASSWORD_MIN,
                 USER_PASSWORD_MAX);
        return -1;
    }
    if (RAND_bytes(salt, sizeof(salt)) != 1 ||
        scrypt(pw, len, salt, sizeof(salt), 1u << SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, key,
               sizeof(key)) != 0) {
        snprintf(err, errsize, "scrypt failed");
        return -1;
    }
    EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
    EVP_EncodeBlock((unsigned char *)key64, key, sizeof(key));
    OPENSSL_cleanse(key, sizeof(key));
    int n = snprintf(out, outsize, "scrypt$%u$%u$%u$%s$%s", 1u << SCRYPT_LOG2_N, (unsigned)SCRYPT_R,
                     (unsigned)SCRYPT_P, salt64, key64);
    if (n < 0 || (size_t)n >= outsize) {
        snprintf(err, errsize, "hash buffer too small");
        return -1;
    }
    return 0;
}

/* Reads a decimal field ending at '$'; advances *p past the '$'. */
static bool read_field(const char **p, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t n = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        n = n * 10 + (uint64_t)(*s - '0');
        if (n > max)
            return false;
    }
    if (*s != '$')
        return false;
    *p = s + 1;
    *v = n;
    return true;
}

/* Decodes exactly want bytes from base64 text of exactly 4*ceil(want/3) characters. */
static bool decode64(const char *s, size_t slen, uint8_t *out, size_t want)
{
    uint8_t buf[64];
    if (slen != 4 * ((want + 2) / 3) || want + 3 > sizeof(buf))
        return false;
    int n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)slen);
    if (n < (int)want)
        return false;
    memcpy(out, buf, want);
    return true;
}

int user_password_check(const char *pw, size_t len, const char *stored)
{
    const char *p = stored;
    uint64_t n, r, par;
    uint8_t salt[SALT_BYTES], want[KEY_BYTES], got[KEY_BYTES];

    if (strncmp(p, "scrypt$", 7) != 0)
        return -1;
    p += 7;
    if (!read_field(&p, 1u << MAX_LOG2_N, &n) || n < 2 || (n & (n - 1)) != 0 ||
        !read_field(&p, MAX_R, &r) || r == 0 || !read_field(&p, MAX_P, &par) || par == 0)
        return -1;
    const char *dollar = strchr(p, '$');
    if (!dollar || !decode64(p, (size_t)(dollar - p), salt, sizeof(salt)) ||
        !decode64(dollar + 1, strlen(dollar + 1), want, sizeof(want)))
        return -1;
    if (len > USER_PASSWORD_MAX)
        len = USER_PASSWORD_MAX; /* same work; a longer one can never have been stored */
    if (scrypt(pw, len, salt, sizeof(salt), n, (uint32_t)r, (uint32_t)par, got, sizeof(got)) != 0)
        return -1;
    int same = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return same ? 1 : 0;
}

/* ---- the users table ---------------------------------------------------------------- */

/* Runs sql with up to four text parameters (?1..?4, NULL skipped) and steps it once.
 * Returns the number of rows changed, -1 on error. */
static int exec_change(struct index *ix, const char *sql, const char *const args[4], char *err,
                       size_t errsize)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < 4; i++)
        if (args[i])
            rc = sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    int changed = rc == SQLITE_DONE ? sqlite3_changes(db) : -1;
    if (changed < 0)
        snprintf(err, errsize, "users: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return changed;
}

static void now_text(char *buf, size_t size)
{
    time_format_iso_ms(audit_now(), buf, size);
}

int users_add(struct index *ix, const char *name, enum user_role role, const char *pw, size_t pwlen,
              char *err, size_t errsize)
{
    char hash[USER_HASH_SIZE], now[TIME_ISO_SIZE];
    if (!user_name_valid(name)) {
        snprintf(err, errsize, "a user name is 1 to %d of a-z 0-9 . _ -", USER_NAME_MAX);
        return -1;
    }
    if (user_password_hash(pw, pwlen, hash, sizeof(hash), err, errsize) != 0)
        return -1;
    now_text(now, sizeof(now));
    const char *args[4] = {name, user_role_name(role), hash, now};
    int n = exec_change(ix,
                        "INSERT INTO users (name, role, password, created, updated)"
                        " VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING",
                        args, err, errsize);
    if (n == 0)
        snprintf(err, errsize, "user \"%s\" already exists", name);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int users_set_password(struct index *ix, const char *name, const char *pw, size_t pwlen, char *err,
                       size_t errsize)
{
    char hash[USER_HASH_SIZE], now[TIME_ISO_SIZE];
    if (user_password_hash(pw, pwlen, hash, sizeof(hash), err, errsize) != 0)
        return -1;
    now_text(now, sizeof(now));
    const char *args[4] = {name, hash, now, NULL};
    int n = exec_change(ix, "UPDATE users SET password = ?2, updated = ?3 WHERE name = ?1", args,
                        err, errsize);
    if (n == 0)
        snprintf(err, errsize, "no user \"%s\"", name);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

int users_delete(struct index *ix, const char *name, char *err, size_t errsize)
{
    const char *args[4] = {name, NULL, NULL, NULL};
    int n = exec_change(ix, "DELETE FROM users WHERE name = ?1", args, err, errsize);
    if (n == 0)
        snprintf(err, errsize, "no user \"%s\"", name);
    return n < 0 ? -1 : n == 0 ? 1 : 0;
}

static bool copy_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (!s || len >= size)
        return false;
    memcpy(out, s, len + 1);
    return true;
}

int users_lookup(struct index *ix, const char *name, struct user_record *out, char *err,
                 size_t errsize)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    int ret = -1;
    char role[16];

    memset(out, 0, sizeof(*out));
    int rc = sqlite3_prepare_v2(db, "SELECT name, role, password FROM users WHERE name = ?1", -1,
                                &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        snprintf(err, errsize, "no user \"%s\"", name);
        ret = 1;
    } else if (rc != SQLITE_ROW) {
        snprintf(err, errsize, "users: %s", sqlite3_errmsg(db));
    } else if (!copy_text(st, 0, out->name, sizeof(out->name)) ||
               !copy_text(st, 1, role, sizeof(role)) || !user_role_parse(role, &out->role) ||
               !copy_text(st, 2, out->password, sizeof(out->password))) {
        snprintf(err, errsize, "users: malformed row for \"%s\"", name);
    } else {
        ret = 0;
    }
    sqlite3_finalize(st);
    return ret;
}

long users_list(struct index *ix, bool json, FILE *out)
{
    sqlite3 *db = (sqlite3 *)index_sqlite(ix);
    sqlite3_stmt *st = NULL;
    struct json_writer w;
    long rows = 0;
    int rc = sqlite3_prepare_v2(db, "SELECT name, role, created, updated FROM users ORDER BY name",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        log_msg(LOG_ERR, "users: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (json) {
        json_init(&w, out, true);
        json_array_begin(&w);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *col[4];
        for (int i = 0; i < 4; i++)
            col[i] = (const char *)sqlite3_column_text(st, i);
        if (json) {
            static const char *const keys[4] = {"name", "role", "created", "updated"};
            json_object_begin(&w);
            for (int i = 0; i < 4; i++) {
                json_key(&w, keys[i]);
                json_string(&w, col[i]);
            }
            json_object_end(&w);
        } else {
            if (rows == 0)
                fprintf(out, "%-24s  %-10s  %s\n", "NAME", "ROLE", "CREATED");
            /* Names are [a-z0-9._-] by construction: safe on a terminal. */
            fprintf(out, "%-24s  %-10s  %s\n", col[0] ? col[0] : "-", col[1] ? col[1] : "-",
                    col[2] ? col[2] : "-");
        }
        rows++;
    }
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "users: %s", sqlite3_errmsg(db));
        rows = -1;
    }
    sqlite3_finalize(st);
    if (json) {
        json_array_end(&w);
        if (json_finish(&w) != 0)
            rows = -1;
    } else if (rows == 0) {
        fputs("no users\n", out);
    }
    return rows;
}

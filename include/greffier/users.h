/*
 * users.h - the web side's accounts: names, roles and scrypt password hashes, kept in
 * the index's users table.
 *
 * A password is stored as "scrypt$N$r$p$SALT$HASH" (RFC 7914; SALT 16 random bytes and
 * HASH 32 bytes, both base64), never in clear; comparison is constant-time.
 */
#ifndef GREFFIER_USERS_H
#define GREFFIER_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct index;

/* Bits, so that a route can name the set of roles it admits. */
enum user_role {
    ROLE_ADMIN = 1,      /* users, settings, purge, audit */
    ROLE_SUPERVISOR = 2, /* search, replay, tags and notes */
    ROLE_AUDITOR = 4,    /* search, replay, export, legal hold, audit */
};

enum {
    USER_PASSWORD_MIN = 12,
    USER_PASSWORD_MAX = 1024,
    USER_NAME_MAX = 64,
    USER_HASH_SIZE = 160, /* room for the stored form with the largest accepted N */
};

struct user_record {
    char name[USER_NAME_MAX + 1];
    enum user_role role;
    char password[USER_HASH_SIZE];
};

const char *user_role_name(enum user_role role);
bool user_role_parse(const char *s, enum user_role *out);
/* [a-z0-9._-]{1,64} */
bool user_name_valid(const char *name);

/* Hashes len bytes of pw with a fresh random salt into out.  0, or -1 (too short or too
 * long: err says so; or the KDF failed). */
int user_password_hash(const char *pw, size_t len, char *out, size_t outsize, char *err,
                       size_t errsize);
/* 1 when pw matches the stored form, 0 when not, -1 when stored is malformed or its
 * parameters are out of the accepted range (a tampered row cannot make us spend a
 * gigabyte).  The work is the same whether the password is right or wrong. */
int user_password_check(const char *pw, size_t len, const char *stored);

/* Each returns 0 on success; 1 when the user already exists (add) or does not (passwd,
 * del, lookup); -1 on error with err set.  The password is checked (length) and hashed
 * here. */
int users_add(struct index *ix, const char *name, enum user_role role, const char *pw, size_t pwlen,
              char *err, size_t errsize);
int users_set_password(struct index *ix, const char *name, const char *pw, size_t pwlen, char *err,
                       size_t errsize);
int users_delete(struct index *ix, const char *name, char *err, size_t errsize);
int users_lookup(struct index *ix, const char *name, struct user_record *out, char *err,
                 size_t errsize);
/* Every account, by name, as a JSON array of {"name","role","created","updated"} or a
 * table.  Returns the count, -1 on error. */
long users_list(struct index *ix, bool json, FILE *out);

#endif

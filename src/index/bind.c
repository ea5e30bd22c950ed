/*
 * bind.c - binding named parameters to the index's prepared statements.
 *
 * Errors accumulate in a struct ix_binder, so a statement's bindings read as a list and
 * are checked once, before the step.  Parameters are bound by name: a column added to a
 * statement without its binding (or the reverse) fails loudly instead of shifting values.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "index_int.h"

static int param(struct ix_binder *b, const char *name)
{
    int i = sqlite3_bind_parameter_index(b->st, name);
    if (i == 0 && !b->missing)
        b->missing = name;
    return i;
}

static void note(struct ix_binder *b, int rc)
{
    if (rc != SQLITE_OK && b->rc == SQLITE_OK)
        b->rc = rc;
}

void ix_bind_null(struct ix_binder *b, const char *name)
{
    int i = param(b, name);
    if (i)
        note(b, sqlite3_bind_null(b->st, i));
}

/* Bound without copy: every statement is stepped and cleared before the strings
 * (owned by the caller) can change. */
void ix_bind_text_len(struct ix_binder *b, const char *name, const char *v, size_t len)
{
    int i = param(b, name);
    if (!i)
        return;
    if (!v)
        note(b, sqlite3_bind_null(b->st, i));
    else
        note(b, sqlite3_bind_text64(b->st, i, v, len, SQLITE_STATIC, SQLITE_UTF8));
}

void ix_bind_text(struct ix_binder *b, const char *name, const char *v)
{
    ix_bind_text_len(b, name, v, v ? strlen(v) : 0);
}

/* Fixed-size char arrays (struct sdp_media, media results): never trust the terminator,
 * and an empty field is an absent one. */
void ix_bind_chars(struct ix_binder *b, const char *name, const char *v, size_t size)
{
    size_t len = strnlen(v, size);
    ix_bind_text_len(b, name, len ? v : NULL, len);
}

void ix_bind_int(struct ix_binder *b, const char *name, int64_t v)
{
    int i = param(b, name);
    if (i)
        note(b, sqlite3_bind_int64(b->st, i, v));
}

/* SQLite integers are signed 64-bit: a count beyond is saturated, not wrapped. */
void ix_bind_u64(struct ix_binder *b, const char *name, uint64_t v)
{
    ix_bind_int(b, name, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* 0 means absent in the call model. */
void ix_bind_opt_int(struct ix_binder *b, const char *name, int64_t v)
{
    if (v)
        ix_bind_int(b, name, v);
    else
        ix_bind_null(b, name);
}

/* NaN and infinities have no meaning in a measurement column: NULL. */
void ix_bind_double(struct ix_binder *b, const char *name, double v)
{
    int i = param(b, name);
    if (!i)
        return;
    if (!isfinite(v))
        note(b, sqlite3_bind_null(b->st, i));
    else
        note(b, sqlite3_bind_double(b->st, i, v));
}

void ix_bind_blob(struct ix_binder *b, const char *name, const void *v, size_t len)
{
    int i = param(b, name);
    if (!i)
        return;
    if (!v)
        note(b, sqlite3_bind_null(b->st, i));
    else
        note(b, sqlite3_bind_blob64(b->st, i, v, len, SQLITE_STATIC));
}

/* Address text and port, both NULL when the address is unset.  ip_addr_format lives in
 * the net stage; inet_ntop gives the same RFC 5952 text. */
void ix_bind_addr(struct ix_binder *b, const char *ip_name, const char *port_name,
                  const struct ip_addr *a, uint16_t port)
{
    char buf[INET6_ADDRSTRLEN];
    const char *text = NULL;
    if (a->family == 4)
        text = inet_ntop(AF_INET, a->a, buf, sizeof(buf));
    else if (a->family == 6)
        text = inet_ntop(AF_INET6, a->a, buf, sizeof(buf));
    if (text) {
        /* SQLITE_STATIC would point into this stack frame: copy. */
        int i = param(b, ip_name);
        if (i)
            note(b, sqlite3_bind_text(b->st, i, text, -1, SQLITE_TRANSIENT));
    } else {
        ix_bind_null(b, ip_name);
    }
    if (port_name) {
        if (text)
            ix_bind_int(b, port_name, port);
        else
            ix_bind_null(b, port_name);
    }
}

/* Binding failures are programming errors or out of memory: say which. */
const char *ix_binder_error(const struct ix_binder *b, char *buf, size_t size)
{
    if (b->missing)
        snprintf(buf, size, "statement has no parameter %s", b->missing);
    else if (b->rc != SQLITE_OK)
        snprintf(buf, size, "binding: %s", sqlite3_errstr(b->rc));
    else
        return NULL;
    return buf;
}

int ix_step_bound(sqlite3 *db, const struct ix_binder *b, char *err, size_t errsize)
{
    if (ix_binder_error(b, err, errsize)) {
        sqlite3_reset(b->st);
        sqlite3_clear_bindings(b->st);
        return -1;
    }
    return ix_step_done(db, b->st, err, errsize) == SQLITE_DONE ? 0 : -1;
}

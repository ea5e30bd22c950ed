/*
 * json_body.c - the request bodies of the API: one flat JSON object whose values are
 * strings (RFC 8259), e.g. {"user": "alice", "password": "..."}.
 *
 * Strict on purpose: anything else (nesting, numbers, duplicate keys, bad escapes,
 * unpaired surrogates, ill-formed UTF-8, trailing bytes) makes the body malformed and
 * the request a 400, rather than being half-understood.
 */
#include <string.h>

#include "greffier/span.h"
#include "greffier/utf8.h"
#include "http_int.h"

enum { MAX_MEMBERS = 16, KEY_MAX = 64 };

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool read_u4(struct cursor *c, unsigned *v)
{
    *v = 0;
    if (c->end - c->p < 4)
        return false;
    for (int i = 0; i < 4; i++) {
        int h = hexval(c->p[i]);
        if (h < 0)
            return false;
        *v = *v << 4 | (unsigned)h;
    }
    c->p += 4;
    return true;
}

static bool put(char *out, size_t size, size_t *n, const char *b, size_t len)
{
    /* out may be NULL: the value is parsed and checked, not kept. */
    if (out) {
        if (*n + len + 1 > size)
            return false;
        memcpy(out + *n, b, len);
        out[*n + len] = '\0';
    }
    *n += len;
    return true;
}

static size_t encode_utf8(unsigned cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    b[0] = (char)(0xf0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    b[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at c->p (the opening quote); its value goes to out (when not NULL).  A NUL
 * in the value (\u0000) is refused: every consumer treats these values as C strings. */
static bool read_string(struct cursor *c, char *out, size_t size, size_t *n)
{
    *n = 0;
    if (out && size > 0)
        out[0] = '\0';
    if (c->p >= c->end || *c->p != '"')
        return false;
    c->p++;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            return true;
        }
        if (ch < 0x20)
            return false;
        if (ch != '\\') {
            size_t bad, seq = utf8_sequence((const uint8_t *)c->p, (size_t)(c->end - c->p), &bad);
            if (seq == 0 || !put(out, size, n, c->p, seq))
                return false;
            c->p += seq;
            continue;
        }
        if (++c->p >= c->end)
            return false;
        char e = *c->p++, b[4];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            if (!put(out, size, n, &map[simple - "\"\\/bfnrt"], 1))
                return false;
            continue;
        }
        unsigned cp, lo;
        if (e != 'u' || !read_u4(c, &cp))
            return false;
        if (cp >= 0xd800 && cp < 0xdc00) {
            if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u')
                return false;
            c->p += 2;
            if (!read_u4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
                return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
            return false;
        }
        if (!put(out, size, n, b, encode_utf8(cp, b)))
            return false;
    }
    return false;
}

int json_body_string(const char *body, size_t len, const char *key, char *out, size_t outsize,
                     size_t *outlen)
{
    struct cursor c = {body, body + len};
    char keys[MAX_MEMBERS][KEY_MAX];
    size_t nkeys = 0, klen, vlen;
    int found = 0;

    skip_ws(&c);
    if (c.p >= c.end || *c.p++ != '{')
        return -1;
    skip_ws(&c);
    if (c.p < c.end && *c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            if (nkeys == MAX_MEMBERS || !read_string(&c, keys[nkeys], KEY_MAX, &klen))
                return -1;
            for (size_t i = 0; i < nkeys; i++)
                if (strcmp(keys[i], keys[nkeys]) == 0)
                    return -1; /* duplicate keys: which one counts is ambiguous */
            skip_ws(&c);
            if (c.p >= c.end || *c.p++ != ':')
                return -1;
            skip_ws(&c);
            bool want = strcmp(keys[nkeys], key) == 0;
            if (!read_string(&c, want ? out : NULL, outsize, &vlen))
                return -1;
            if (want) {
                found = 1;
                if (outlen)
                    *outlen = vlen;
            }
            nkeys++;
            skip_ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                skip_ws(&c);
                continue;
            }
            if (c.p < c.end && *c.p == '}') {
                c.p++;
                break;
            }
            return -1;
        }
    }
    skip_ws(&c);
    return c.p == c.end ? found : -1;
}

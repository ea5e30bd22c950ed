/*
 * jsoncheck.h - a minimal JSON validator (RFC 8259) for the tests, so that "valid JSON"
 * is checked, not hoped: strings must be well-formed UTF-8 without raw control
 * characters, numbers in JSON's grammar, nothing after the value.
 */
#ifndef GREFFIER_JSONCHECK_H
#define GREFFIER_JSONCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "greffier/utf8.h"

struct jp {
    const char *p, *end;
};

static void ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
        j->p++;
}

static bool lit(struct jp *j, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool jstring(struct jp *j)
{
    if (!lit(j, "\""))
        return false;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end)
                return false;
            if (*j->p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (j->p + i >= j->end || !strchr("0123456789abcdefABCDEF", j->p[i]))
                        return false;
                j->p += 5;
            } else if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
                j->p++;
            } else {
                return false;
            }
            continue;
        }
        size_t bad, seq = utf8_sequence((const uint8_t *)j->p, (size_t)(j->end - j->p), &bad);
        if (!seq)
            return false;
        j->p += seq;
    }
    return false;
}

static bool jvalue(struct jp *j, int depth);

static bool jnumber(struct jp *j)
{
    const char *start = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    else
        return false;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return false;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    return j->p > start;
}

static bool jvalue(struct jp *j, int depth)
{
    if (depth > 64)
        return false;
    ws(j);
    if (j->p >= j->end)
        return false;
    char c = *j->p;
    if (c == '"')
        return jstring(j);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        ws(j);
        if (lit(j, close == '}' ? "}" : "]"))
            return true;
        for (;;) {
            if (c == '{') {
                ws(j);
                if (!jstring(j))
                    return false;
                ws(j);
                if (!lit(j, ":"))
                    return false;
            }
            if (!jvalue(j, depth + 1))
                return false;
            ws(j);
            if (lit(j, ","))
                continue;
            return lit(j, close == '}' ? "}" : "]");
        }
    }
    if (lit(j, "null") || lit(j, "true") || lit(j, "false"))
        return true;
    return jnumber(j);
}

static bool json_valid(const char *s)
{
    struct jp j = {s, s + strlen(s)};
    if (!jvalue(&j, 0))
        return false;
    ws(&j);
    return j.p == j.end;
}

#endif

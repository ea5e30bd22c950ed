/*
 * span.h - length-carrying byte slices and bounds-checked readers.
 *
 * Every packet may be truncated at any byte (tcpdump's rule), so parsers never
 * index raw pointers: they take a span and use the checked readers below, which
 * return false instead of reading past the end.  No NUL terminator is assumed.
 */
#ifndef GREFFIER_SPAN_H
#define GREFFIER_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct span {
    const uint8_t *p;
    size_t len;
};

static inline struct span span_make(const void *p, size_t len)
{
    struct span s = {(const uint8_t *)p, len};
    return s;
}

/* The sub-slice [off, off+len); false when it does not fit inside s. */
static inline bool span_sub(struct span s, size_t off, size_t len, struct span *out)
{
    if (off > s.len || len > s.len - off)
        return false;
    out->p = s.p + off;
    out->len = len;
    return true;
}

/* Everything from off to the end; false when off is past the end. */
static inline bool span_tail(struct span s, size_t off, struct span *out)
{
    if (off > s.len)
        return false;
    out->p = s.p + off;
    out->len = s.len - off;
    return true;
}

static inline bool span_u8(struct span s, size_t off, uint8_t *v)
{
    if (off >= s.len)
        return false;
    *v = s.p[off];
    return true;
}

static inline bool span_be16(struct span s, size_t off, uint16_t *v)
{
    if (off > s.len || s.len - off < 2)
        return false;
    *v = (uint16_t)((s.p[off] << 8) | s.p[off + 1]);
    return true;
}

static inline bool span_be32(struct span s, size_t off, uint32_t *v)
{
    if (off > s.len || s.len - off < 4)
        return false;
    *v = ((uint32_t)s.p[off] << 24) | ((uint32_t)s.p[off + 1] << 16) |
         ((uint32_t)s.p[off + 2] << 8) | (uint32_t)s.p[off + 3];
    return true;
}

static inline bool span_le16(struct span s, size_t off, uint16_t *v)
{
    if (off > s.len || s.len - off < 2)
        return false;
    *v = (uint16_t)(s.p[off] | (s.p[off + 1] << 8));
    return true;
}

static inline bool span_le32(struct span s, size_t off, uint32_t *v)
{
    if (off > s.len || s.len - off < 4)
        return false;
    *v = (uint32_t)s.p[off] | ((uint32_t)s.p[off + 1] << 8) | ((uint32_t)s.p[off + 2] << 16) |
         ((uint32_t)s.p[off + 3] << 24);
    return true;
}

/* True when s starts with the len bytes of prefix, compared case-insensitively for ASCII. */
static inline bool span_starts_with_ci(struct span s, const char *prefix, size_t len)
{
    if (s.len < len)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t a = s.p[i], b = (uint8_t)prefix[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

#endif

/*
 * json.h - a small streaming JSON writer (RFC 8259) to a FILE*.
 *
 * The writer keeps track of nesting and commas, so callers only say what comes next.
 * Strings are escaped for any input: control characters, quotes and backslashes are
 * escaped, U+2028/U+2029 too (so the output is also a valid JavaScript literal), and
 * bytes that are not well-formed UTF-8 become U+FFFD, one per maximal ill-formed
 * subpart (Unicode 15, section 3.9).  Misuse (a value where a key is due, too deep,
 * unbalanced end) sets `error` and json_finish() reports it.
 */
#ifndef GREFFIER_JSON_H
#define GREFFIER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
    FILE *out;
    bool pretty;    /* newlines and two-space indentation */
    bool error;     /* misuse seen: the output is not a valid document */
    bool after_key; /* inside an object, a key was written and its value is due */
    unsigned depth;
    char kind[JSON_MAX_DEPTH];      /* '{' or '[' for each open container */
    bool has_items[JSON_MAX_DEPTH]; /* a comma is due before the next item */
};

void json_init(struct json_writer *w, FILE *out, bool pretty);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);

/* Object member name; the next call writes its value. */
void json_key(struct json_writer *w, const char *key);

/* A NUL-terminated string; NULL writes null. */
void json_string(struct json_writer *w, const char *s);
/* len bytes, NUL bytes included (written as \u0000); s NULL writes null. */
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
/* v / 10^decimals written exactly with that many decimals: (12345, 3) -> 12.345.
 * For durations and amounts, where binary floating point would print noise. */
void json_fixed(struct json_writer *w, int64_t v, unsigned decimals);
/* NaN and infinities are not JSON numbers: they are written as null. */
void json_double(struct json_writer *w, double v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* Ends the document with a newline.  0 when it is complete and well-formed and the
 * stream had no write error, -1 otherwise. */
int json_finish(struct json_writer *w);

/* Writes the quoted, escaped form of len bytes of s (no writer state): for callers that
 * build JSON by hand or need the escaping alone. */
void json_write_escaped(FILE *out, const char *s, size_t len);

#endif

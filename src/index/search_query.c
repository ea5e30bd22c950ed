/*
 * search_query.c - the free-text search box made safe for SQLite FTS5, and the keyset
 * cursor of the paged search.
 *
 * FTS5's query language has operators (AND, OR, NOT, NEAR(), column filters "body:",
 * "^", "+", "*", parentheses): passing what a user typed to MATCH would let a stray
 * quote or "NEAR(" turn a search into a syntax error, or a different search.  So the
 * text is cut into words at white space and each word is written as a quoted FTS5
 * string, which FTS5 reads as a phrase of plain tokens whatever it holds; a double
 * quote inside a word is dropped (it could only end the string early).  The tokenizer
 * of call_search (unicode61) then splits "O'Brien" or "jean-pierre" as it split the
 * indexed text.  References: https://www.sqlite.org/fts5.html §3 (query syntax).
 *
 * Numbers: the body holds each number as dialled and normalised, one token each, so
 * "06 12 34 56 78" is joined into one token, and a number is searched by prefix
 * ("0612" finds 0612345678).  The last word is a prefix too, for search as you type.
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "greffier/index.h"
#include "greffier/utf8.h"

/* A word of the search text: a span of it, without the white space around. */
struct word {
    const char *p;
    size_t len;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Digits with the separators people write in numbers: part of a number to join. */
static bool is_number_part(const struct word *w)
{
    bool digit = false;
    for (size_t i = 0; i < w->len; i++) {
        if (isdigit((unsigned char)w->p[i]))
            digit = true;
        else if (!strchr("+.-()", w->p[i]))
            return false;
    }
    return digit;
}

/* Something the tokenizer keeps: an ASCII letter or digit, or any non-ASCII character
 * (unicode61 decides for those; a word of symbols only just matches nothing). */
static bool has_token(const struct word *w)
{
    for (size_t i = 0; i < w->len; i++)
        if (isalnum((unsigned char)w->p[i]) || (unsigned char)w->p[i] >= 0x80)
            return true;
    return false;
}

/* Appends one quoted phrase; false when out is full. */
static bool put_phrase(char *out, size_t outsize, size_t *n, const char *p, size_t len,
                       bool digits_only, bool prefix)
{
    size_t need = len + 4; /* space, two quotes, '*' */
    if (*n + need + 1 > outsize)
        return false;
    if (*n > 0)
        out[(*n)++] = ' ';
    out[(*n)++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"' || (digits_only && !isdigit((unsigned char)p[i])))
            continue;
        out[(*n)++] = p[i];
    }
    out[(*n)++] = '"';
    if (prefix)
        out[(*n)++] = '*';
    out[*n] = '\0';
    return true;
}

bool index_fts_query(const char *text, char *out, size_t outsize, const char **why)
{
    struct word words[INDEX_FTS_WORDS_MAX];
    size_t nwords = 0, len = strlen(text), n = 0;

    *why = "text over 256 bytes";
    if (len > INDEX_FTS_TEXT_MAX)
        return false;
    *why = "text is not valid UTF-8";
    for (size_t i = 0; i < len;) {
        size_t bad, seq = utf8_sequence((const uint8_t *)text + i, len - i, &bad);
        if (seq == 0 || (seq == 1 && (unsigned char)text[i] < 0x20 && !is_space(text[i])))
            return false;
        i += seq;
    }
    *why = "more than 8 words";
    for (size_t i = 0; i < len;) {
        while (i < len && is_space(text[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(text[i]))
            i++;
        if (i == start)
            break;
        if (nwords == INDEX_FTS_WORDS_MAX)
            return false;
        words[nwords++] = (struct word){text + start, i - start};
    }

    *why = "no word to search for (letters or digits)";
    if (outsize < INDEX_FTS_QUERY_SIZE)
        return false;
    out[0] = '\0';
    for (size_t i = 0; i < nwords;) {
        if (is_number_part(&words[i])) {
            /* "06 12 34 56 78": one number, as it is indexed. */
            size_t j = i;
            char joined[INDEX_FTS_TEXT_MAX + 1];
            size_t jl = 0;
            for (; j < nwords && is_number_part(&words[j]); j++) {
                memcpy(joined + jl, words[j].p, words[j].len);
                jl += words[j].len;
            }
            if (!put_phrase(out, outsize, &n, joined, jl, true, true))
                return false;
            i = j;
            continue;
        }
        if (has_token(&words[i]) &&
            !put_phrase(out, outsize, &n, words[i].p, words[i].len, false, i + 1 == nwords))
            return false;
        i++;
    }
    return n > 0;
}

static bool parse_positive(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 18)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return v > 0;
}

bool index_cursor_parse(const char *s, pkt_time_t *start, int64_t *id)
{
    const char *dot = strchr(s, '.');
    int64_t a, b;
    if (!dot || !parse_positive(s, (size_t)(dot - s), &a) ||
        !parse_positive(dot + 1, strlen(dot + 1), &b))
        return false;
    *start = (pkt_time_t)a;
    *id = b;
    return true;
}

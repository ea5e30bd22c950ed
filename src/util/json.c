/*
 * json.c - streaming JSON writer (RFC 8259) with UTF-8 repair.
 *
 * Strings come from the wire (SIP display names, user agents) and may hold anything:
 * the escaper walks them as UTF-8 following the well-formed byte sequences of Unicode
 * 15 Table 3-7 and replaces each maximal ill-formed subpart with U+FFFD, the practice
 * recommended in section 3.9 (and what browsers' TextDecoder does), so one bad byte
 * costs one replacement character and never swallows the quote that follows.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "greffier/json.h"
#include "greffier/utf8.h"

void json_init(struct json_writer *w, FILE *out, bool pretty)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->pretty = pretty;
}

static void newline_indent(struct json_writer *w, unsigned depth)
{
    if (!w->pretty)
        return;
    fputc('\n', w->out);
    for (unsigned i = 0; i < depth; i++)
        fputs("  ", w->out);
}

/* Called before every key and every value: comma, indentation, and checks that a value
 * is allowed here. */
static void before_item(struct json_writer *w, bool is_key)
{
    if (w->depth == 0) {
        if (is_key)
            w->error = true;
        return;
    }
    unsigned top = w->depth - 1;
    if (w->kind[top] == '{' && !is_key) {
        /* A value in an object must follow its key. */
        if (!w->after_key)
            w->error = true;
        w->after_key = false;
        return;
    }
    if (is_key && (w->kind[top] != '{' || w->after_key))
        w->error = true;
    if (w->has_items[top])
        fputc(',', w->out);
    w->has_items[top] = true;
    newline_indent(w, w->depth);
}

static void open_container(struct json_writer *w, char kind)
{
    before_item(w, false);
    fputc(kind, w->out);
    if (w->depth >= JSON_MAX_DEPTH) {
        w->error = true;
        return;
    }
    w->kind[w->depth] = kind;
    w->has_items[w->depth] = false;
    w->depth++;
}

static void close_container(struct json_writer *w, char kind)
{
    if (w->depth == 0 || w->kind[w->depth - 1] != kind || w->after_key) {
        w->error = true;
        return;
    }
    w->depth--;
    if (w->has_items[w->depth])
        newline_indent(w, w->depth);
    fputc(kind == '{' ? '}' : ']', w->out);
}

void json_object_begin(struct json_writer *w)
{
    open_container(w, '{');
}

void json_object_end(struct json_writer *w)
{
    close_container(w, '{');
}

void json_array_begin(struct json_writer *w)
{
    open_container(w, '[');
}

void json_array_end(struct json_writer *w)
{
    close_container(w, '[');
}

void json_key(struct json_writer *w, const char *key)
{
    before_item(w, true);
    json_write_escaped(w->out, key ? key : "", key ? strlen(key) : 0);
    fputs(w->pretty ? ": " : ":", w->out);
    w->after_key = true;
}

void json_write_escaped(FILE *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the pending run of bytes written as they are */
    size_t i = 0;

    fputc('"', out);
    while (i < len) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t bad = 0, seq;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        seq = c < 0x80 ? 1 : utf8_sequence(p + i, len - i, &bad);
        if (seq == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
            esc = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
        } else if (seq > 1) {
            i += seq;
            continue;
        } else if (seq == 0) {
            esc = "\xEF\xBF\xBD"; /* U+FFFD */
            seq = bad;
        } else {
            switch (c) {
            case '"':
                esc = "\\\"";
                break;
            case '\\':
                esc = "\\\\";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            default:
                memcpy(ubuf, "\\u00", 4);
                ubuf[4] = hex[c >> 4];
                ubuf[5] = hex[c & 15];
                ubuf[6] = '\0';
                esc = ubuf;
            }
        }
        fwrite(p + run, 1, i - run, out);
        fputs(esc, out);
        i += seq;
        run = i;
    }
    fwrite(p + run, 1, i - run, out);
    fputc('"', out);
}

void json_string_len(struct json_writer *w, const char *s, size_t len)
{
    if (!s) {
        json_null(w);
        return;
    }
    before_item(w, false);
    json_write_escaped(w->out, s, len);
}

void json_string(struct json_writer *w, const char *s)
{
    json_string_len(w, s, s ? strlen(s) : 0);
}

void json_int(struct json_writer *w, int64_t v)
{
    before_item(w, false);
    fprintf(w->out, "%" PRId64, v);
}

void json_uint(struct json_writer *w, uint64_t v)
{
    before_item(w, false);
    fprintf(w->out, "%" PRIu64, v);
}

void json_fixed(struct json_writer *w, int64_t v, unsigned decimals)
{
    uint64_t scale = 1;
    if (decimals > 18)
        decimals = 18;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    /* Negate in unsigned arithmetic: INT64_MIN has no positive int64. */
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    before_item(w, false);
    if (decimals == 0)
        fprintf(w->out, "%s%" PRIu64, v < 0 ? "-" : "", mag);
    else
        fprintf(w->out, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / scale, (int)decimals,
                mag % scale);
}

void json_double(struct json_writer *w, double v)
{
    if (!isfinite(v)) {
        json_null(w);
        return;
    }
    before_item(w, false);
    fprintf(w->out, "%.17g", v);
}

void json_bool(struct json_writer *w, bool v)
{
    before_item(w, false);
    fputs(v ? "true" : "false", w->out);
}

void json_null(struct json_writer *w)
{
    before_item(w, false);
    fputs("null", w->out);
}

int json_finish(struct json_writer *w)
{
    fputc('\n', w->out);
    if (w->depth != 0 || w->after_key)
        w->error = true;
    if (fflush(w->out) != 0 || ferror(w->out))
        return -1;
    return w->error ? -1 : 0;
}

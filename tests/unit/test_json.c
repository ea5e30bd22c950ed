/*
 * test_json.c - the JSON writer: structure, numbers, and escaping of hostile strings.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "greffier/json.h"
#include "testhelp.h"

/* Runs fn on a fresh compact writer and returns what it wrote (malloc'ed). */
static char *capture(void (*fn)(struct json_writer *), bool pretty, int *finish)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct json_writer w;
    json_init(&w, f, pretty);
    fn(&w);
    *finish = json_finish(&w);
    fclose(f);
    return buf;
}

static const struct {
    const char *in;
    size_t len; /* 0: strlen */
    const char *want;
} escape_cases[] = {
    {"plain", 0, "\"plain\""},
    {"", 0, "\"\""},
    {"a\"b", 0, "\"a\\\"b\""},
    {"back\\slash", 0, "\"back\\\\slash\""},
    {"line\nfeed\r\t\b\f", 0, "\"line\\nfeed\\r\\t\\b\\f\""},
    {"\x01\x1f\x7f", 0, "\"\\u0001\\u001f\x7f\""},
    {"nul\0inside", 10, "\"nul\\u0000inside\""},
    {"/slash/", 0, "\"/slash/\""},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e", 0,
     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e\""},
    {"\xe2\x80\xa8\xe2\x80\xa9", 0, "\"\\u2028\\u2029\""},
    /* Ill-formed UTF-8: one U+FFFD per maximal subpart, the next byte kept. */
    {"a\xff"
     "b",
     0,
     "\"a\xef\xbf\xbd"
     "b\""},
    {"\x80\x80", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
    {"\xc3", 0, "\"\xef\xbf\xbd\""},
    {"\xc3\"", 0, "\"\xef\xbf\xbd\\\"\""},
    {"\xe2\x82", 0, "\"\xef\xbf\xbd\""},
    {"\xe2\x82"
     "x",
     0, "\"\xef\xbf\xbdx\""},
    {"\xc0\xaf", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                 /* overlong '/' */
    {"\xe0\x80\xaf", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* overlong */
    {"\xed\xa0\x80", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate */
    {"\xf4\x90\x80\x80", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
    {"\xf0\x9f\x93", 0, "\"\xef\xbf\xbd\""},
    {"\xf5\xfe", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\""},
};

static void doc_nested(struct json_writer *w)
{
    json_object_begin(w);
    json_key(w, "a");
    json_int(w, -42);
    json_key(w, "b");
    json_array_begin(w);
    json_uint(w, UINT64_MAX);
    json_null(w);
    json_bool(w, true);
    json_bool(w, false);
    json_string(w, NULL);
    json_array_begin(w);
    json_array_end(w);
    json_object_begin(w);
    json_object_end(w);
    json_array_end(w);
    json_key(w, "c\"");
    json_string(w, "x");
    json_object_end(w);
}

static void doc_numbers(struct json_writer *w)
{
    json_array_begin(w);
    json_fixed(w, 12345, 3);
    json_fixed(w, 5, 3);
    json_fixed(w, -1500, 3);
    json_fixed(w, 0, 3);
    json_fixed(w, INT64_MIN, 3);
    json_fixed(w, 7, 0);
    json_double(w, 0.5);
    json_double(w, INFINITY);
    json_double(w, NAN);
    json_int(w, INT64_MIN);
    json_array_end(w);
}

static void doc_empty_array(struct json_writer *w)
{
    json_array_begin(w);
    json_array_end(w);
}

static void doc_value_without_key(struct json_writer *w)
{
    json_object_begin(w);
    json_int(w, 1);
    json_object_end(w);
}

static void doc_key_in_array(struct json_writer *w)
{
    json_array_begin(w);
    json_key(w, "k");
    json_int(w, 1);
    json_array_end(w);
}

static void doc_unclosed(struct json_writer *w)
{
    json_array_begin(w);
    json_object_begin(w);
    json_key(w, "k");
}

static void doc_mismatched(struct json_writer *w)
{
    json_array_begin(w);
    json_object_end(w);
}

static void doc_too_deep(struct json_writer *w)
{
    for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
        json_array_begin(w);
    for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
        json_array_end(w);
}

static void doc_pretty(struct json_writer *w)
{
    json_array_begin(w);
    json_object_begin(w);
    json_key(w, "k");
    json_int(w, 1);
    json_key(w, "l");
    json_array_begin(w);
    json_array_end(w);
    json_object_end(w);
    json_array_end(w);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        size_t n = escape_cases[i].len ? escape_cases[i].len : strlen(escape_cases[i].in);
        json_write_escaped(f, escape_cases[i].in, n);
        fclose(f);
        if (strcmp(buf, escape_cases[i].want) != 0)
            fprintf(stderr, "escape case %zu\n", i);
        CHECK_STR(buf, escape_cases[i].want);
        free(buf);
    }

    static const struct {
        void (*fn)(struct json_writer *);
        bool pretty;
        int finish;
        const char *want; /* NULL: output not checked */
    } docs[] = {
        {doc_nested, false, 0,
         "{\"a\":-42,\"b\":[18446744073709551615,null,true,false,null,[],{}],\"c\\\"\":\"x\"}\n"},
        {doc_numbers, false, 0,
         "[12.345,0.005,-1.500,0.000,-9223372036854775.808,7,0.5,null,null,"
         "-9223372036854775808]\n"},
        {doc_empty_array, false, 0, "[]\n"},
        {doc_empty_array, true, 0, "[]\n"},
        {doc_pretty, true, 0, "[\n  {\n    \"k\": 1,\n    \"l\": []\n  }\n]\n"},
        {doc_value_without_key, false, -1, NULL},
        {doc_key_in_array, false, -1, NULL},
        {doc_unclosed, false, -1, NULL},
        {doc_mismatched, false, -1, NULL},
        {doc_too_deep, false, -1, NULL},
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        int finish;
        char *out = capture(docs[i].fn, docs[i].pretty, &finish);
        CHECK_INT(finish, docs[i].finish);
        if (docs[i].want)
            CHECK_STR(out, docs[i].want);
        free(out);
    }
    return TEST_REPORT("test_json");
}

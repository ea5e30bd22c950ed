/*
 * fuzz_json_body.c - the web server's request-body reader (POST /api/login and the other
 * JSON bodies) on hostile input: every byte sequence gets 1, 0 or -1, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/http/http_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[256];
    size_t n;
    static const char *const keys[] = {"user", "password", "visa", "note", ""};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int r = json_body_string((const char *)data, size, keys[i], out, sizeof(out), &n);
        if (r == 1 && n >= sizeof(out))
            abort(); /* the value must fit what the reader says it wrote */
    }
    /* A tiny output buffer: values that do not fit are refused, not cut. */
    (void)json_body_string((const char *)data, size, "user", out, 2, &n);
    return 0;
}

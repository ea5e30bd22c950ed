/*
 * fuzz_number.c - number_normalise() and number_matches() on arbitrary SIP user parts,
 * which come straight from packets.  Checks the output contract as well as memory
 * safety: success means 1..35 digits (32 input digits plus a country code), failure
 * means an empty string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/number.h"

static void check(const struct number_plan *plan, const char *in)
{
    char out[48];
    bool ok = number_normalise(plan, in, out, sizeof(out));
    size_t len = strlen(out);
    if (ok != (len > 0) || len > 35 || strspn(out, "0123456789") != len)
        abort();
    /* A tight buffer either holds the same result or fails cleanly. */
    char tight[8];
    bool ok2 = number_normalise(plan, in, tight, sizeof(tight));
    if (ok2 && (!ok || strcmp(tight, out) != 0))
        abort();
    if (ok && !number_matches("*", out))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct number_plan fr, na = {"1", "1", "011", 10}, it = {"39", "", "00", 10};
    char in[256];
    if (size >= sizeof(in))
        size = sizeof(in) - 1;
    memcpy(in, data, size);
    in[size] = '\0';
    number_plan_default(&fr);
    check(&fr, in);
    check(&na, in);
    check(&it, in);
    /* The input as a pattern, against a few numbers. */
    if (number_pattern_valid(in)) {
        (void)number_matches(in, "33612345678");
        (void)number_matches(in, "+2041");
    }
    (void)number_matches("+33xx*", in);
    return 0;
}

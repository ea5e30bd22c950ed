/*
 * number.h - telephone numbers: normalisation for search and internal-number patterns.
 *
 * A number is stored as dialled and in a normalised form, digits only, in
 * international format without '+' when it can be derived: with country code 33,
 * trunk prefix 0 and international prefix 00, "0612345678", "+33612345678",
 * "+33 (0)6 12 34 56 78" and "0033612345678" all normalise to "33612345678".
 * Short internal extensions ("2041") stay as they are.  A SIP user part that is not
 * a number (a name, "anonymous") has no normalised form.
 */
#ifndef GREFFIER_NUMBER_H
#define GREFFIER_NUMBER_H

#include <stdbool.h>
#include <stddef.h>

struct number_plan {
    char country_code[8];        /* "33" */
    char trunk_prefix[4];        /* "0": national numbers are dialled with it */
    char international_prefix[8];/* "00" */
    unsigned national_length;    /* digits after the trunk prefix, 9 for France */
};

void number_plan_default(struct number_plan *plan); /* France */

/* Writes the normalised form of number into out; false (out empty) when number is not
 * a telephone number (letters, empty, longer than 32 digits). */
bool number_normalise(const struct number_plan *plan, const char *number, char *out,
                      size_t out_size);

/* Pattern syntax for internal numbers and rules: digits and '+' match themselves,
 * 'x' or 'X' matches any digit, a trailing '*' matches any rest (including nothing).
 * "2xxx" matches four-digit extensions starting with 2; "+3314*" a prefix. */
bool number_pattern_valid(const char *pattern);
bool number_matches(const char *pattern, const char *number);

#endif

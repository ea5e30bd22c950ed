/*
 * utf8.h - UTF-8 well-formedness, for writers that must repair hostile text (JSON
 * output, terminal tables).
 */
#ifndef GREFFIER_UTF8_H
#define GREFFIER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1 to 4) of the well-formed UTF-8 sequence at the start of p[0..n), n >= 1,
 * per Unicode 15 Table 3-7 (no overlongs, no surrogates, nothing above U+10FFFF).
 * Returns 0 when it is ill-formed; then *bad is the length of its maximal ill-formed
 * subpart (at least 1), the bytes one U+FFFD should replace (Unicode 15 section 3.9). */
size_t utf8_sequence(const uint8_t *p, size_t n, size_t *bad);

/* The code point of a well-formed sequence of length len as returned above. */
uint32_t utf8_decode(const uint8_t *p, size_t len);

#endif

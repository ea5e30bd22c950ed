/*
 * counters.h - the counter struct generated from counters.inc.
 *
 * Nothing is dropped silently: every stage that drops or fails to understand
 * something bumps a DROP counter here, and the summary line shows it.
 */
#ifndef GREFFIER_COUNTERS_H
#define GREFFIER_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

struct counters {
#define X(name, kind, help) uint64_t name;
#include "greffier/counters.inc"
#undef X
};

#define COUNT(c, name) ((c)->name++)
#define COUNT_N(c, name, n) ((c)->name += (uint64_t)(n))

/* Writes the one-line summary: every STAT counter, then each non-zero DROP by reason. */
void counters_print_summary(const struct counters *c, FILE *out);

/* Adds every counter of src into dst. */
void counters_add(struct counters *dst, const struct counters *src);

#endif

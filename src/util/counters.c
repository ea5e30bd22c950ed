/*
 * counters.c - the import summary line, generated from counters.inc.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "greffier/counters.h"

void counters_print_summary(const struct counters *c, FILE *out)
{
    bool first = true, any_drop = false;
#define STAT 0
#define DROP 1
#define X(name, kind, help)                                                                        \
    if (kind == STAT) {                                                                            \
        fprintf(out, "%s%s=%" PRIu64, first ? "" : " ", #name, c->name);                          \
        first = false;                                                                             \
    }
#include "greffier/counters.inc"
#undef X
#define X(name, kind, help)                                                                        \
    if (kind == DROP && c->name) {                                                                 \
        fprintf(out, " %s=%" PRIu64, #name, c->name);                                              \
        any_drop = true;                                                                           \
    }
#include "greffier/counters.inc"
#undef X
#undef STAT
#undef DROP
    if (!any_drop)
        fputs(" drops=0", out);
    fputc('\n', out);
}

void counters_add(struct counters *dst, const struct counters *src)
{
#define X(name, kind, help) dst->name += src->name;
#include "greffier/counters.inc"
#undef X
}

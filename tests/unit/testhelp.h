/*
 * testhelp.h - the smallest test harness that does the job (after Redis' testhelp.h).
 * Each test program is a table of cases; a failure prints file:line and what differed;
 * the last line is "<program>: N passed, N failed" and the exit status is 1 on failure.
 */
#ifndef GREFFIER_TESTHELP_H
#define GREFFIER_TESTHELP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int test_passed_, test_failed_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond);                    \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ == w_) {                                                                            \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s == %lld, want %lld\n", __FILE__, __LINE__, #got,    \
                    g_, w_);                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if ((g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0)) {                     \
            test_passed_++;                                                                        \
        } else {                                                                                   \
            test_failed_++;                                                                        \
            fprintf(stderr, "%s:%d: FAILED: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__,      \
                    #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                 \
        }                                                                                          \
    } while (0)

/* Prints the summary line and returns the exit status for main(). */
#define TEST_REPORT(name)                                                                          \
    (printf("%s: %d passed, %d failed\n", (name), test_passed_, test_failed_),                     \
     test_failed_ ? 1 : 0)

#endif

/*
 * log.c - stderr logging with <N> syslog priority prefixes, which journald turns into
 * priorities (sd-daemon(3)).  Rate limiting keeps per-packet messages from flooding it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "greffier/log.h"

static int max_priority = LOG_INFO;

void log_set_level(int priority)
{
    max_priority = priority;
}

__attribute__((format(printf, 2, 0))) static void vlog(int priority, const char *fmt, va_list ap)
{
    if (priority > max_priority)
        return;
    fprintf(stderr, "<%d>", priority);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void log_msg(int priority, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(priority, fmt, ap);
    va_end(ap);
}

/* Rate limiting uses the monotonic clock: it protects the journal, not the data, so it
 * is the one place where the pipeline may look at a real clock. */
void log_limited_(struct log_limit *st, int priority, const char *fmt, ...)
{
    enum { PER_WINDOW = 5 };
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec != st->window) {
        if (st->suppressed)
            log_msg(priority, "(%u similar messages suppressed)", st->suppressed);
        st->window = now.tv_sec;
        st->emitted = 0;
        st->suppressed = 0;
    }
    if (st->emitted >= PER_WINDOW) {
        st->suppressed++;
        return;
    }
    st->emitted++;
    va_list ap;
    va_start(ap, fmt);
    vlog(priority, fmt, ap);
    va_end(ap);
}

void fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "<%d>greffier: ", LOG_CRIT);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/*
 * log.h - logging aimed at journald: stderr lines with <N> syslog priority prefixes.
 * Per-packet messages go through log_limited() so a flood cannot fill the journal.
 */
#ifndef GREFFIER_LOG_H
#define GREFFIER_LOG_H

#include <syslog.h>

void log_set_level(int max_priority);
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* At most a few lines per second per call site; the rest are counted and summarised. */
#define log_limited(prio, ...)                                                                     \
    do {                                                                                           \
        static struct log_limit log_limit_state_;                                                  \
        log_limited_(&log_limit_state_, prio, __VA_ARGS__);                                        \
    } while (0)

struct log_limit {
    long window;
    unsigned emitted;
    unsigned suppressed;
};
void log_limited_(struct log_limit *st, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

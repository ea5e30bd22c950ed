/*
 * sdnotify.h - the systemd notification protocol (sd_notify(3)) without libsystemd:
 * READY=1, STOPPING=1, STATUS=..., WATCHDOG=1 sent as datagrams to $NOTIFY_SOCKET.
 */
#ifndef GREFFIER_SDNOTIFY_H
#define GREFFIER_SDNOTIFY_H

#include <stdint.h>

/* Sends state (newline-separated VAR=value assignments).  Returns 1 when sent, 0 when
 * not started by systemd ($NOTIFY_SOCKET unset), -1 on error (errno set). */
int sdnotify(const char *state);
int sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd expects pings within ($WATCHDOG_USEC, for this process
 * when $WATCHDOG_PID names it), 0 when the watchdog is off. */
uint64_t sdnotify_watchdog_usec(void);

#endif

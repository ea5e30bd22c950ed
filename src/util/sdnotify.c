/*
 * sdnotify.c - sd_notify(3) in a few lines: one AF_UNIX datagram per message to the
 * socket named by $NOTIFY_SOCKET, a filesystem path or, with a leading '@', a name in
 * the abstract namespace (unix(7)).  No libsystemd: the protocol is a stable interface
 * (systemd's "Interface Portability and Stability Promise") and this is all of it that
 * greffier needs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "greffier/sdnotify.h"

int sdnotify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || path[0] == '\0')
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract: the name is the bytes after the NUL, unterminated */
    socklen_t salen =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/' ? 1 : 0));

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
    int saved = errno;
    close(fd);
    errno = saved;
    return n < 0 ? -1 : 1;
}

int sdnotifyf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    return sdnotify(buf); /* a longer STATUS= is cut, which is harmless */
}

uint64_t sdnotify_watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    char *end;
    if (!usec)
        return 0;
    if (pid) {
        errno = 0;
        long v = strtol(pid, &end, 10);
        if (errno || *end != '\0' || v != (long)getpid())
            return 0; /* meant for another process (a forking parent) */
    }
    errno = 0;
    unsigned long long v = strtoull(usec, &end, 10);
    if (errno || *end != '\0' || end == usec)
        return 0;
    return (uint64_t)v;
}

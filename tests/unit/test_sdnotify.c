/*
 * test_sdnotify.c - sd_notify messages reach a socket named by $NOTIFY_SOCKET, a path or
 * an abstract name ('@'), and the watchdog interval is read from the environment.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "greffier/sdnotify.h"
#include "testhelp.h"

/* Binds a datagram socket to name (a path, or '@' for the abstract namespace). */
static int listen_on(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    socklen_t salen =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '@' ? 0 : 1));
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) != 0) {
        perror(name);
        exit(2);
    }
    return fd;
}

static void expect_message(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    CHECK(n >= 0);
    buf[n < 0 ? 0 : n] = '\0';
    CHECK_STR(buf, want);
}

static void test_sockets(void)
{
    char path[64], abstract[64];
    snprintf(path, sizeof(path), "/tmp/test_sdnotify.%d", (int)getpid());
    snprintf(abstract, sizeof(abstract), "@greffier-test-sdnotify-%d", (int)getpid());
    unlink(path);

    unsetenv("NOTIFY_SOCKET");
    CHECK_INT(sdnotify("READY=1"), 0);

    int fd = listen_on(path);
    setenv("NOTIFY_SOCKET", path, 1);
    CHECK_INT(sdnotify("READY=1"), 1);
    expect_message(fd, "READY=1");
    CHECK_INT(sdnotifyf("STATUS=%d packets", 42), 1);
    expect_message(fd, "STATUS=42 packets");
    close(fd);
    unlink(path);

    fd = listen_on(abstract);
    setenv("NOTIFY_SOCKET", abstract, 1);
    CHECK_INT(sdnotify("WATCHDOG=1"), 1);
    expect_message(fd, "WATCHDOG=1");
    close(fd);

    setenv("NOTIFY_SOCKET", "relative/path", 1);
    CHECK_INT(sdnotify("READY=1"), -1);
    setenv("NOTIFY_SOCKET", "/nonexistent/socket", 1);
    CHECK_INT(sdnotify("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog(void)
{
    char pid[32];
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    CHECK_INT(sdnotify_watchdog_usec(), 0);
    setenv("WATCHDOG_USEC", "60000000", 1);
    CHECK_INT(sdnotify_watchdog_usec(), 60000000);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    CHECK_INT(sdnotify_watchdog_usec(), 60000000);
    setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
    CHECK_INT(sdnotify_watchdog_usec(), 0);
    unsetenv("WATCHDOG_PID");
    setenv("WATCHDOG_USEC", "60s", 1);
    CHECK_INT(sdnotify_watchdog_usec(), 0);
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    test_sockets();
    test_watchdog();
    return TEST_REPORT("test_sdnotify");
}

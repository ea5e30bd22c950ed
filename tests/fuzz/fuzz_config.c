/*
 * fuzz_config.c - config_load() on arbitrary files.  The input goes through a memfd, so
 * the loader reads a real file without touching the disk; messages go to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "greffier/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    static FILE *sink;
    static struct config cfg;
    if (fd < 0) {
        fd = memfd_create("greffier.conf", 0);
        sink = fopen("/dev/null", "w");
        if (fd < 0 || !sink)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    int errors = config_load(&cfg, path, sink);
    if (errors < 0)
        abort();
    return 0;
}

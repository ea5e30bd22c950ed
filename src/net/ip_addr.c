/*
 * ip_addr.c - IPv4/IPv6 addresses as the pipeline carries them: compare, print as
 * text (dotted quad, or RFC 5952 canonical IPv6 through inet_ntop), parse text.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "greffier/packet.h"

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
    if (a->family != b->family)
        return false;
    if (a->family == 4)
        return memcmp(a->a, b->a, 4) == 0;
    if (a->family == 6)
        return memcmp(a->a, b->a, 16) == 0;
    return true; /* both unset */
}

char *ip_addr_format(const struct ip_addr *a, char *buf, unsigned long size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    /* glibc's inet_ntop emits RFC 5952 text: lower case, longest zero run compressed,
     * IPv4-mapped addresses as ::ffff:a.b.c.d. */
    if (a->family == 4) {
        if (!inet_ntop(AF_INET, a->a, buf, (socklen_t)(size > 64 ? 64 : size)))
            buf[0] = '\0';
    } else if (a->family == 6) {
        if (!inet_ntop(AF_INET6, a->a, buf, (socklen_t)(size > 64 ? 64 : size)))
            buf[0] = '\0';
    } else {
        snprintf(buf, size, "-");
    }
    return buf;
}

bool ip_addr_parse(const char *text, struct ip_addr *out)
{
    struct ip_addr r;
    memset(&r, 0, sizeof(r));
    if (text && inet_pton(AF_INET, text, r.a) == 1) {
        r.family = 4;
    } else if (text && inet_pton(AF_INET6, text, r.a) == 1) {
        r.family = 6;
    } else {
        return false;
    }
    *out = r;
    return true;
}

/*
 * cidr.c - IPv4 and IPv6 networks in CIDR notation, for the trunk list of greffier.conf.
 *
 * References: RFC 4632 §3.1 (IPv4 prefix notation), RFC 4291 §2.3 (IPv6 prefix notation).
 * Address text goes through inet_pton(3), which refuses IPv4 octets with leading zeros
 * (no octal surprises) and IPv6 zone identifiers.
 */
#include <arpa/inet.h>
#include <string.h>

#include "greffier/config.h"

/* Parses "a.b.c.d" or an IPv6 address; the rest of out->a is zero. */
static bool parse_addr(const char *text, struct ip_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->a) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->a) == 1) {
        out->family = 6;
        return true;
    }
    memset(out, 0, sizeof(*out));
    return false;
}

/* Clears the host bits, so "10.1.2.3/8" is stored (and printed) as 10.0.0.0/8, the way
 * iptables reads it. */
static void mask_host_bits(struct cidr *c)
{
    unsigned bytes = c->addr.family == 4 ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned first_bit = i * 8;
        if (first_bit >= c->prefix_len)
            c->addr.a[i] = 0;
        else if (c->prefix_len - first_bit < 8)
            c->addr.a[i] &= (uint8_t)(0xff << (8 - (c->prefix_len - first_bit)));
    }
}

bool cidr_parse(const char *text, struct cidr *out)
{
    char addr[INET6_ADDRSTRLEN + 1];
    struct cidr c;
    const char *slash;
    size_t alen;
    unsigned prefix = 0;

    if (!text || !out)
        return false;
    slash = strchr(text, '/');
    alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen == 0 || alen >= sizeof(addr))
        return false;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    memset(&c, 0, sizeof(c));
    if (!parse_addr(addr, &c.addr))
        return false;

    unsigned max = c.addr.family == 4 ? 32 : 128;
    if (slash) {
        const char *p = slash + 1;
        size_t ndigits = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (++ndigits > 3)
                return false;
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        if (ndigits == 0 || *p != '\0' || prefix > max)
            return false;
    } else {
        prefix = max; /* a single host */
    }
    c.prefix_len = (uint8_t)prefix;
    mask_host_bits(&c);
    *out = c;
    return true;
}

bool cidr_contains(const struct cidr *c, const struct ip_addr *addr)
{
    if (!c || !addr || addr->family == 0 || c->addr.family != addr->family)
        return false;
    unsigned full = c->prefix_len / 8, rest = c->prefix_len % 8;
    if (memcmp(c->addr.a, addr->a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr.a[full] & mask) == (addr->a[full] & mask);
}

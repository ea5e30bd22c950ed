/*
 * bpf_filter.c - the capture filter greffier builds from the configuration when
 * [capture] bpf_filter is empty (pcap-filter(7) syntax).
 *
 * What must pass the kernel filter is everything the pipeline can use, and no more:
 *   - SIP on its ports over UDP, TCP and SCTP ("port P" means all three);
 *   - SIP over TLS on its ports over TCP: not readable, but its flows are counted;
 *   - all UDP: RTP runs on ports announced in SDP, which a static filter cannot know,
 *     and VXLAN (RFC 7348) is UDP too;
 *   - IPv4 fragments (MF set or an offset: RFC 791 §3.1) and IPv6 fragments (a Fragment
 *     header right after the fixed header, RFC 8200 §4.5): a later fragment has no ports;
 *   - GRE and ERSPAN (IP protocol 47, RFC 2784) and IP-in-IP (4 and 41, RFC 2003,
 *     RFC 2473, RFC 4213), which the decoder opens.
 * SIP over TCP on ports not listed is not captured by this filter: detect_any_port can
 * only see it when bpf_filter lets it through (for example "tcp or udp").
 *
 * On Ethernet the expression is repeated under one and two 802.1Q tags: the "vlan"
 * keyword moves the offsets of everything after it, so "F or (vlan and (F or (vlan and
 * F)))" reads F untagged, under one tag and under two (QinQ, IEEE 802.1ad).  Other link
 * types (the Linux "any" device, raw IP) have no such keyword.
 */
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "greffier/capture_live.h"

struct out {
    char *p;
    size_t size, len;
    bool overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    if (o->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->size - o->len) {
        o->overflow = true;
        return;
    }
    o->len += (size_t)n;
}

/* The expression for one level of encapsulation. */
static void put_base(struct out *o, const struct config *cfg)
{
    put(o, "udp");
    for (size_t i = 0; i < cfg->nsip_ports; i++)
        put(o, " or port %u", (unsigned)cfg->sip_ports[i]);
    for (size_t i = 0; i < cfg->nsip_tls_ports; i++)
        put(o, " or tcp port %u", (unsigned)cfg->sip_tls_ports[i]);
    put(o, " or (ip[6:2] & 0x3fff) != 0 or ip6[6] == 44"
           " or ip proto 47 or ip6 proto 47"
           " or ip proto 4 or ip proto 41 or ip6 proto 4 or ip6 proto 41");
}

int capture_build_filter(const struct config *cfg, int linktype, char *out, size_t size)
{
    struct out o = {.p = out, .size = size};
    if (size == 0)
        return -1;
    out[0] = '\0';
    if (linktype == DLT_EN10MB) {
        put(&o, "(");
        put_base(&o, cfg);
        put(&o, ") or (vlan and ((");
        put_base(&o, cfg);
        put(&o, ") or (vlan and (");
        put_base(&o, cfg);
        put(&o, "))))");
    } else {
        put_base(&o, cfg);
    }
    if (o.overflow) {
        out[0] = '\0';
        return -1;
    }
    return (int)o.len;
}

/*
 * signalling.c - a call's SIP messages, as the index kept them (sip_messages.raw with
 * their capture time, addresses, ports and transport), written back as a capture file
 * and as a ladder a person can read.
 *
 * The pcap (classic libpcap format, microsecond stamps) uses LINKTYPE_RAW (101): each
 * record is an IPv4 or IPv6 packet built around the message, so that tshark, Wireshark
 * or sngrep dissect it as SIP.  UDP messages become one UDP datagram each; TCP
 * messages become TCP segments (PSH|ACK) whose sequence numbers run on per direction,
 * so that a dissector reassembles them.  Messages that travelled over SCTP or WebSocket
 * are written as TCP segments too (their original framing is not kept by the index);
 * the ladder says so.  Checksums are computed (RFC 768, RFC 793, RFC 8200 §8.1).
 * The records are the call's messages and nothing else: no packet is invented, no
 * handshake, no ACK-only segment.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "greffier/timefmt.h"
#include "export_int.h"

enum {
    LINKTYPE_RAW = 101,
    SNAPLEN = 262144,
    IP4_LEN = 20,
    IP6_LEN = 40,
    UDP_LEN = 8,
    TCP_LEN = 20,
    SEGMENT_MAX = 65000, /* payload per TCP segment, within IPv4's 65535 */
    UDP_PAYLOAD_MAX = 65535 - IP4_LEN - UDP_LEN,
    FLOWS_MAX = 16,
};

struct addr {
    int family;
    uint8_t b[16];
    uint16_t port;
};

struct tcp_flow {
    struct addr src, dst;
    uint32_t next_seq;
};

struct writer {
    struct membuf *pcap;
    struct tcp_flow flows[FLOWS_MAX];
    size_t nflows;
    uint16_t ip_id;
};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        acc += (uint32_t)p[len - 1] << 8;
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static bool parse_addr(const char *ip, int port, struct addr *a)
{
    memset(a, 0, sizeof(*a));
    a->port = (uint16_t)(port > 0 && port < 65536 ? port : 0);
    if (!ip || !*ip) {
        a->family = AF_INET; /* unknown: 0.0.0.0 */
        return true;
    }
    if (inet_pton(AF_INET, ip, a->b) == 1)
        a->family = AF_INET;
    else if (inet_pton(AF_INET6, ip, a->b) == 1)
        a->family = AF_INET6;
    else
        return false;
    return true;
}

static bool same_addr(const struct addr *x, const struct addr *y)
{
    return x->family == y->family && x->port == y->port && memcmp(x->b, y->b, 16) == 0;
}

/* The TCP sequence number of the next segment from src to dst (and the peer's, acked). */
static struct tcp_flow *flow_of(struct writer *w, const struct addr *src, const struct addr *dst)
{
    for (size_t i = 0; i < w->nflows; i++)
        if (same_addr(&w->flows[i].src, src) && same_addr(&w->flows[i].dst, dst))
            return &w->flows[i];
    if (w->nflows == FLOWS_MAX)
        return &w->flows[FLOWS_MAX - 1]; /* beyond: sequence numbers shared, still valid */
    struct tcp_flow *f = &w->flows[w->nflows++];
    f->src = *src;
    f->dst = *dst;
    f->next_seq = 1;
    return f;
}

/* One record: IP header, UDP or TCP header, payload. */
static int write_packet(struct writer *w, int64_t ts_us, const struct addr *src,
                        const struct addr *dst, bool tcp, const uint8_t *payload, size_t len)
{
    uint8_t h[IP6_LEN + TCP_LEN], rec[16];
    size_t iplen = src->family == AF_INET ? IP4_LEN : IP6_LEN;
    size_t l4len = tcp ? TCP_LEN : UDP_LEN;
    size_t total = iplen + l4len + len;
    size_t alen = src->family == AF_INET ? 4 : 16;
    uint8_t *l4 = h + iplen;
    memset(h, 0, sizeof(h));
    if (src->family == AF_INET) {
        h[0] = 0x45;
        put16(h + 2, (unsigned)total);
        put16(h + 4, w->ip_id++);
        put16(h + 6, 0x4000); /* don't fragment */
        h[8] = 64;
        h[9] = tcp ? 6 : 17;
        memcpy(h + 12, src->b, 4);
        memcpy(h + 16, dst->b, 4);
        put16(h + 10, fold(sum16(0, h, IP4_LEN)));
    } else {
        h[0] = 0x60;
        put16(h + 4, (unsigned)(l4len + len));
        h[6] = tcp ? 6 : 17;
        h[7] = 64;
        memcpy(h + 8, src->b, 16);
        memcpy(h + 24, dst->b, 16);
    }
    put16(l4, src->port);
    put16(l4 + 2, dst->port);
    if (tcp) {
        struct tcp_flow *f = flow_of(w, src, dst), *back = flow_of(w, dst, src);
        put32(l4 + 4, f->next_seq);
        put32(l4 + 8, back->next_seq);
        f->next_seq += (uint32_t)len;
        l4[12] = 5 << 4;
        l4[13] = 0x18; /* PSH, ACK */
        put16(l4 + 14, 65535);
    } else {
        put16(l4 + 4, (unsigned)(UDP_LEN + len));
    }
    /* Pseudo-header: addresses, protocol, length (RFC 768; RFC 8200 §8.1). */
    uint32_t acc = sum16(0, src->b, alen);
    acc = sum16(acc, dst->b, alen);
    acc += (uint32_t)(tcp ? 6 : 17) + (uint32_t)(l4len + len);
    acc = sum16(acc, l4, l4len);
    acc = sum16(acc, payload, len);
    uint16_t ck = fold(acc);
    put16(l4 + (tcp ? 16 : 6), !tcp && ck == 0 ? 0xffff : ck);

    put32le(rec, (uint32_t)(ts_us / 1000000));
    put32le(rec + 4, (uint32_t)(ts_us % 1000000));
    put32le(rec + 8, (uint32_t)total);
    put32le(rec + 12, (uint32_t)total);
    if (membuf_append(w->pcap, rec, sizeof(rec)) != 0 ||
        membuf_append(w->pcap, h, iplen + l4len) != 0 || membuf_append(w->pcap, payload, len) != 0)
        return -1;
    return 0;
}

/* "2024-05-02T09:00:00.123456Z": the index keeps microseconds, the ladder shows them. */
static void time_us(int64_t t, char *buf, size_t size)
{
    char s[TIME_ISO_SIZE];
    time_format_iso_s(t - (t % 1000000 + 1000000) % 1000000, s, sizeof(s));
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == 'Z')
        s[n - 1] = '\0';
    snprintf(buf, size, "%s.%06dZ", s, (int)((t % 1000000 + 1000000) % 1000000));
}

static void ladder_printf(struct membuf *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ladder_printf(struct membuf *m, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        membuf_append(m, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The message as text: CRLF as a newline, other control bytes and non-ASCII as \xNN
 * (a body may be binary; the exact bytes are in the pcap). */
static void ladder_raw(struct membuf *m, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (c == '\r' && i + 1 < len && p[i + 1] == '\n')
            continue;
        if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f))
            membuf_append(m, &c, 1);
        else
            ladder_printf(m, "\\x%02x", c);
    }
    if (len == 0 || p[len - 1] != '\n')
        membuf_append(m, "\n", 1);
}

static void endpoint(const char *ip, int port, char *out, size_t size)
{
    if (ip && strchr(ip, ':'))
        snprintf(out, size, "[%s]:%d", ip, port);
    else
        snprintf(out, size, "%s:%d", ip ? ip : "?", port);
}

int signalling_export(sqlite3 *db, int64_t call_id, struct membuf *pcap, struct membuf *ladder,
                      long *count, char *err, size_t errsize)
{
    static const char sql[] =
        "SELECT seq, ts_us, src_ip, src_port, dst_ip, dst_port, transport, start_line,"
        " retransmission, raw FROM sip_messages WHERE call_ref = ?1 ORDER BY seq";
    struct writer w = {.pcap = pcap};
    sqlite3_stmt *st = NULL;
    uint8_t gh[24];
    const char *why = "out of memory";
    int rc;
    *count = 0;
    put32le(gh, 0xa1b2c3d4);
    gh[4] = 2, gh[5] = 0, gh[6] = 4, gh[7] = 0; /* version 2.4, little-endian fields */
    memset(gh + 8, 0, 8);
    put32le(gh + 16, SNAPLEN);
    put32le(gh + 20, LINKTYPE_RAW);
    if (membuf_append(pcap, gh, sizeof(gh)) != 0)
        goto error;
    ladder_printf(ladder,
                  "SIP signalling of call %lld, as captured (times UTC, microseconds)\n"
                  "Every message is in signalling.pcap with its original time.\n\n",
                  (long long)call_id);
    why = sqlite3_errmsg(db);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, call_id) != SQLITE_OK)
        goto error;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct addr src, dst;
        char t[48], a[80], b[80];
        const char *src_ip = (const char *)sqlite3_column_text(st, 2);
        const char *dst_ip = (const char *)sqlite3_column_text(st, 4);
        const char *transport = (const char *)sqlite3_column_text(st, 6);
        const char *line = (const char *)sqlite3_column_text(st, 7);
        const uint8_t *raw = sqlite3_column_blob(st, 9);
        size_t len = (size_t)sqlite3_column_bytes(st, 9);
        int64_t ts = sqlite3_column_int64(st, 1);
        bool udp = transport && strcmp(transport, "udp") == 0;
        why = "a message's address is not an IP address";
        if (!parse_addr(src_ip, sqlite3_column_int(st, 3), &src) ||
            !parse_addr(dst_ip, sqlite3_column_int(st, 5), &dst))
            goto error;
        why = "a message's addresses mix IPv4 and IPv6";
        if (src.family != dst.family)
            goto error;
        why = "a UDP message is larger than an IP datagram";
        if (udp && len > UDP_PAYLOAD_MAX)
            goto error;
        why = "out of memory";
        if (udp) {
            if (write_packet(&w, ts, &src, &dst, false, raw, len) != 0)
                goto error;
        } else {
            size_t off = 0;
            do {
                size_t n = len - off > SEGMENT_MAX ? SEGMENT_MAX : len - off;
                if (write_packet(&w, ts, &src, &dst, true, raw + off, n) != 0)
                    goto error;
                off += n;
            } while (off < len);
        }
        (*count)++;
        time_us(ts, t, sizeof(t));
        endpoint(src_ip, src.port, a, sizeof(a));
        endpoint(dst_ip, dst.port, b, sizeof(b));
        ladder_printf(ladder, "%3d  %s  %-22s -> %-22s %-4s %s%s%s\n", sqlite3_column_int(st, 0), t,
                      a, b, transport ? transport : "?", line ? line : "",
                      sqlite3_column_int(st, 8) ? "  (retransmission)" : "",
                      udp || !transport || strcmp(transport, "tcp") == 0
                          ? ""
                          : "  (written to the pcap as TCP)");
    }
    why = sqlite3_errmsg(db);
    if (rc != SQLITE_DONE)
        goto error;
    ladder_printf(ladder, "\n%ld messages\n", *count);
    sqlite3_reset(st);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ladder_printf(ladder, "\n----- message %d -----\n", sqlite3_column_int(st, 0));
        ladder_raw(ladder, sqlite3_column_blob(st, 9), (size_t)sqlite3_column_bytes(st, 9));
    }
    sqlite3_finalize(st);
    if (pcap->failed || ladder->failed) {
        snprintf(err, errsize, "call %lld: signalling: out of memory", (long long)call_id);
        return -1;
    }
    return 0;
error:
    snprintf(err, errsize, "call %lld: signalling: %s", (long long)call_id, why);
    sqlite3_finalize(st);
    return -1;
}

/*
 * test_net_decode.c - the network decoder on crafted frames: every link type, VLAN and
 * QinQ, IPv4/IPv6 with extension headers, UDP/TCP/SCTP, GRE/ERSPAN/IP-in-IP/VXLAN,
 * lying lengths, truncation at every byte, IPv4 and IPv6 fragment reassembly, and the
 * ip_addr helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/net.h"
#include "testhelp.h"

/* ---- frame building ---- */

struct pk {
    uint8_t b[4096];
    size_t n;
};

static void put(struct pk *p, const void *d, size_t n)
{
    memcpy(p->b + p->n, d, n);
    p->n += n;
}
static void put8(struct pk *p, unsigned v)
{
    p->b[p->n++] = (uint8_t)v;
}
static void put16(struct pk *p, unsigned v)
{
    put8(p, v >> 8);
    put8(p, v);
}
static void put32(struct pk *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}
static void putpk(struct pk *p, const struct pk *in)
{
    put(p, in->b, in->n);
}

static struct pk text(const char *s)
{
    struct pk p = {.n = 0};
    put(&p, s, strlen(s));
    return p;
}

static struct ip_addr addr(const char *s)
{
    struct ip_addr a;
    if (!ip_addr_parse(s, &a))
        abort();
    return a;
}

static struct pk udp(unsigned sp, unsigned dp, struct pk pl)
{
    struct pk p = {.n = 0};
    put16(&p, sp);
    put16(&p, dp);
    put16(&p, 8 + pl.n);
    put16(&p, 0);
    putpk(&p, &pl);
    return p;
}

static struct pk tcp(unsigned sp, unsigned dp, uint32_t seq, unsigned flags, struct pk pl)
{
    struct pk p = {.n = 0};
    put16(&p, sp);
    put16(&p, dp);
    put32(&p, seq);
    put32(&p, 0);
    put8(&p, 5 << 4);
    put8(&p, flags);
    put16(&p, 65535);
    put32(&p, 0);
    putpk(&p, &pl);
    return p;
}

static struct pk ip4f(const char *s, const char *d, unsigned proto, unsigned id, unsigned frag,
                      struct pk pl)
{
    struct pk p = {.n = 0};
    struct ip_addr a = addr(s), b = addr(d);
    put8(&p, 0x45);
    put8(&p, 0);
    put16(&p, 20 + pl.n);
    put16(&p, id);
    put16(&p, frag);
    put8(&p, 64);
    put8(&p, proto);
    put16(&p, 0); /* checksum: not verified */
    put(&p, a.a, 4);
    put(&p, b.a, 4);
    putpk(&p, &pl);
    return p;
}

static struct pk ip4(unsigned proto, struct pk pl)
{
    return ip4f("192.0.2.1", "192.0.2.2", proto, 1, 0, pl);
}

static struct pk ip6(const char *s, const char *d, unsigned nh, struct pk pl)
{
    struct pk p = {.n = 0};
    struct ip_addr a = addr(s), b = addr(d);
    put32(&p, 0x60000000);
    put16(&p, pl.n);
    put8(&p, nh);
    put8(&p, 64);
    put(&p, a.a, 16);
    put(&p, b.a, 16);
    putpk(&p, &pl);
    return p;
}

static struct pk eth(unsigned type, struct pk pl)
{
    struct pk p = {.n = 0};
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
    put(&p, macs, 12);
    put16(&p, type);
    putpk(&p, &pl);
    return p;
}

/* Inserts a tag after the MAC addresses: called twice, the second is outermost. */
static struct pk vlan(unsigned tpid, unsigned vid, struct pk frame)
{
    struct pk p = {.n = 0};
    put(&p, frame.b, 12);
    put16(&p, tpid);
    put16(&p, vid);
    put(&p, frame.b + 12, frame.n - 12);
    return p;
}

static struct pk gre(unsigned flags, unsigned proto, struct pk pl)
{
    struct pk p = {.n = 0};
    put16(&p, flags);
    put16(&p, proto);
    if (flags & 0x8000)
        put32(&p, 0);
    if (flags & 0x2000)
        put32(&p, 0xdeadbeef);
    if (flags & 0x1000)
        put32(&p, 42);
    putpk(&p, &pl);
    return p;
}

static struct pk sip_udp4(void)
{
    return ip4(17, udp(5060, 5062, text("INVITE sip:a@b SIP/2.0\r\n")));
}

/* ---- the decoder under test ---- */

struct got {
    struct l4_packet pkt;
    uint8_t data[2048];
};
static struct got got[16];
static int ngot;
static struct counters C;
static struct net_decoder *dec;

static void deliver(void *user, const struct l4_packet *p)
{
    (void)user;
    if (ngot < 16) {
        size_t n = p->payload.len < sizeof(got[0].data) ? p->payload.len : sizeof(got[0].data);
        got[ngot].pkt = *p;
        memcpy(got[ngot].data, p->payload.p, n);
        got[ngot].pkt.payload = span_make(got[ngot].data, n);
    }
    ngot++;
}

static void reset(void)
{
    memset(&C, 0, sizeof(C));
    ngot = 0;
}

static void run(int linktype, struct pk f)
{
    net_decode(dec, linktype, 1000000, f.b, f.n);
}

static uint64_t drops(void)
{
    uint64_t n = 0;
#define STAT 0
#define DROP 1
#define X(name, kind, help)                                                                        \
    if (kind == DROP)                                                                              \
        n += C.name;
#include "greffier/counters.inc"
#undef X
#undef STAT
#undef DROP
    return n;
}

static bool payload_is(int i, const char *s)
{
    return i < ngot && got[i].pkt.payload.len == strlen(s) &&
           memcmp(got[i].pkt.payload.p, s, strlen(s)) == 0;
}

static bool addr_is(const struct ip_addr *a, const char *s)
{
    struct ip_addr b = addr(s);
    return ip_addr_equal(a, &b);
}

/* Expects exactly one delivered SIP datagram from 192.0.2.1:5060 to 192.0.2.2:5062. */
#define CHECK_SIP4(vid)                                                                            \
    do {                                                                                           \
        CHECK_INT(ngot, 1);                                                                        \
        CHECK(payload_is(0, "INVITE sip:a@b SIP/2.0\r\n"));                                        \
        CHECK(addr_is(&got[0].pkt.src, "192.0.2.1"));                                              \
        CHECK(addr_is(&got[0].pkt.dst, "192.0.2.2"));                                              \
        CHECK_INT(got[0].pkt.sport, 5060);                                                         \
        CHECK_INT(got[0].pkt.dport, 5062);                                                         \
        CHECK_INT(got[0].pkt.proto, L4_UDP);                                                       \
        CHECK_INT(got[0].pkt.vlan, (vid));                                                         \
        CHECK_INT(drops(), 0);                                                                     \
    } while (0)

/* ---- link layers ---- */

static void test_links(void)
{
    struct pk ip = sip_udp4(), f;

    reset();
    run(1, eth(0x0800, ip));
    CHECK_SIP4(0);
    CHECK_INT(got[0].pkt.ts, 1000000);

    /* Ethernet padding: a short frame padded to 60 bytes. */
    reset();
    f = eth(0x0800, ip4(17, udp(1, 2, text("x"))));
    memset(f.b + f.n, 0xaa, 60 - f.n);
    f.n = 60;
    run(1, f);
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "x"));

    reset();
    run(1, vlan(0x8100, 0x2064, eth(0x0800, ip))); /* PCP 1, VID 100 */
    CHECK_SIP4(100);

    reset();
    run(1, vlan(0x88a8, 200, vlan(0x8100, 100, eth(0x0800, ip))));
    CHECK_SIP4(200);

    reset();
    run(1, vlan(0x9100, 300, vlan(0x8100, 100, eth(0x0800, ip))));
    CHECK_SIP4(300);

    reset();
    f = eth(0x0800, ip);
    for (int i = 0; i < 9; i++)
        f = vlan(0x8100, (unsigned)(i + 1), f);
    run(1, f);
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_ethertype_unsupported, 1);

    reset();
    run(1, eth(0x0806, text("arp arp arp arp arp arp arp arp")));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_ethertype_unsupported, 1);

    /* Linux cooked v1: protocol at offset 14 of a 16-byte header. */
    reset();
    f.n = 0;
    put16(&f, 0);
    put16(&f, 1);
    put16(&f, 6);
    put(&f, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
    put16(&f, 0x0800);
    putpk(&f, &ip);
    run(113, f);
    CHECK_SIP4(0);

    /* Linux cooked v2: protocol at offset 0 of a 20-byte header. */
    reset();
    f.n = 0;
    put16(&f, 0x86dd);
    put16(&f, 0);
    put32(&f, 3);
    put16(&f, 1);
    put8(&f, 0);
    put8(&f, 6);
    put(&f, "\x02\x00\x00\x00\x00\x01\x00\x00", 8);
    struct pk ip6pk = ip6("2001:db8::1", "2001:db8::2", 17, udp(5060, 5060, text("OPTIONS")));
    putpk(&f, &ip6pk);
    run(276, f);
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "OPTIONS"));
    CHECK(addr_is(&got[0].pkt.src, "2001:db8::1"));
    CHECK(addr_is(&got[0].pkt.dst, "2001:db8::2"));

    /* BSD null: host byte order (little-endian here) and loopback: network order. */
    static const struct {
        int linktype;
        uint8_t fam[4];
        bool v6;
    } nulls[] = {
        {0, {2, 0, 0, 0}, false},   {0, {0, 0, 0, 2}, false},   {108, {0, 0, 0, 2}, false},
        {0, {10, 0, 0, 0}, true},   {0, {24, 0, 0, 0}, true},   {0, {28, 0, 0, 0}, true},
        {108, {0, 0, 0, 30}, true}, {108, {0, 0, 0, 10}, true},
    };
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        reset();
        f.n = 0;
        put(&f, nulls[i].fam, 4);
        if (nulls[i].v6)
            putpk(&f, &ip6pk);
        else
            putpk(&f, &ip);
        run(nulls[i].linktype, f);
        CHECK_INT(ngot, 1);
    }
    reset();
    f.n = 0;
    put32(&f, 7);
    putpk(&f, &ip);
    run(0, f);
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_ethertype_unsupported, 1);

    /* Raw IP under each of its link type numbers. */
    static const int raws[] = {12, 14, 101, 228};
    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        reset();
        run(raws[i], ip);
        CHECK_SIP4(0);
    }
    static const int raws6[] = {12, 101, 229};
    for (size_t i = 0; i < sizeof(raws6) / sizeof(raws6[0]); i++) {
        reset();
        run(raws6[i], ip6pk);
        CHECK_INT(ngot, 1);
    }

    reset();
    run(999, ip);
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_link_unsupported, 1);

    reset();
    net_decode(dec, 1, 0, NULL, 0);
    CHECK_INT(C.drop_truncated, 1);
}

/* ---- IP ---- */

static void test_ipv6_ext(void)
{
    struct pk u = udp(5060, 5060, text("BYE")), chain = {.n = 0};

    /* hop-by-hop (8) -> destination options (16) -> routing (24) -> AH (12) -> UDP */
    put8(&chain, 60);
    put8(&chain, 0);
    put(&chain, "\x01\x04\0\0\0\0", 6);
    put8(&chain, 43);
    put8(&chain, 1);
    for (int i = 0; i < 14; i++)
        put8(&chain, i == 0 ? 1 : 0);
    put8(&chain, 51);
    put8(&chain, 2);
    put8(&chain, 0);
    put8(&chain, 0);
    for (int i = 0; i < 20; i++)
        put8(&chain, 0);
    put8(&chain, 17);
    put8(&chain, 1); /* AH: (1 + 2) * 4 = 12 bytes */
    for (int i = 0; i < 10; i++)
        put8(&chain, 0);
    putpk(&chain, &u);

    reset();
    run(1, eth(0x86dd, ip6("fe80::1", "ff02::1:2", 0, chain)));
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "BYE"));
    CHECK(addr_is(&got[0].pkt.dst, "ff02::1:2"));
    CHECK_INT(drops(), 0);

    /* An extension header longer than the payload. */
    reset();
    struct pk bad = {.n = 0};
    put8(&bad, 17);
    put8(&bad, 9);
    put(&bad, "\0\0\0\0\0\0", 6);
    run(1, eth(0x86dd, ip6("::1", "::2", 60, bad)));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_ip_malformed, 1);

    /* An endless chain of destination options. */
    reset();
    bad.n = 0;
    for (int i = 0; i < 40; i++) {
        put8(&bad, 60);
        put(&bad, "\0\0\0\0\0\0\0", 7);
    }
    run(1, eth(0x86dd, ip6("::1", "::2", 60, bad)));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_ip_malformed, 1);

    /* No next header; ICMPv6; ESP. */
    reset();
    run(1, eth(0x86dd, ip6("::1", "::2", 59, text(""))));
    run(1, eth(0x86dd, ip6("::1", "::2", 58, text("ping"))));
    run(1, eth(0x0800, ip4(50, text("esp"))));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_ip_proto_other, 3);

    /* IPv4 options are skipped by the header length. */
    reset();
    struct pk o = ip4(17, udp(7, 9, text("opt")));
    struct pk w = {.n = 0};
    put(&w, o.b, 20);
    put32(&w, 0x01010101); /* four NOPs */
    put(&w, o.b + 20, o.n - 20);
    w.b[0] = 0x46;
    w.b[3] = (uint8_t)(w.b[3] + 4);
    run(12, w);
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "opt"));

    /* A bad IPv4 header checksum is not a reason to drop (offloaded checksums). */
    reset();
    o.b[10] = 0x12;
    o.b[11] = 0x34;
    run(12, o);
    CHECK_INT(ngot, 1);
}

/* An SCTP packet 5060 -> 5061 holding one DATA chunk on stream 0. */
static struct pk sctp1(unsigned flags, uint32_t tsn, const char *data)
{
    struct pk s = {.n = 0};
    put16(&s, 5060);
    put16(&s, 5061);
    put32(&s, 1);
    put32(&s, 0);
    put8(&s, 0);
    put8(&s, flags);
    put16(&s, 16 + strlen(data));
    put32(&s, tsn);
    put16(&s, 0);
    put16(&s, 0);
    put32(&s, 0);
    put(&s, data, strlen(data));
    return s;
}

static void test_transport(void)
{
    struct pk f;

    reset();
    run(1, eth(0x0800, ip4(6, tcp(5060, 40000, 0xfffffff0u, 0x18, text("SIP/2.0 200 OK\r\n")))));
    CHECK_INT(ngot, 1);
    CHECK_INT(got[0].pkt.proto, L4_TCP);
    CHECK_INT(got[0].pkt.tcp_flags, 0x18);
    CHECK_INT(got[0].pkt.tcp_seq, 0xfffffff0u);
    CHECK_INT(got[0].pkt.sport, 5060);
    CHECK_INT(got[0].pkt.dport, 40000);
    CHECK(payload_is(0, "SIP/2.0 200 OK\r\n"));

    /* TCP with options (data offset 8). */
    reset();
    f = tcp(1, 2, 7, 0x02, text("x"));
    {
        struct pk w = {.n = 0};
        put(&w, f.b, 20);
        for (int i = 0; i < 12; i++)
            put8(&w, 1);
        put(&w, f.b + 20, f.n - 20);
        w.b[12] = 8 << 4;
        run(12, ip4(6, w));
    }
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "x"));

    /* SCTP: DATA, SACK, DATA (padded), a fragmented DATA. */
    struct pk s = {.n = 0};
    put16(&s, 5060);
    put16(&s, 5061);
    put32(&s, 0x11223344);
    put32(&s, 0);
    const char *m1 = "MESSAGE one", *m2 = "MSG2";
    put8(&s, 0);
    put8(&s, 0x03);
    put16(&s, 16 + strlen(m1));
    put32(&s, 1);
    put16(&s, 0);
    put16(&s, 0);
    put32(&s, 0);
    put(&s, m1, strlen(m1));
    put8(&s, 0); /* pad 11 -> 12 */
    put8(&s, 3); /* SACK */
    put8(&s, 0);
    put16(&s, 16);
    put32(&s, 0);
    put32(&s, 0);
    put32(&s, 0);
    put8(&s, 0);
    put8(&s, 0x07);
    put16(&s, 16 + strlen(m2));
    put32(&s, 2);
    put16(&s, 0);
    put16(&s, 1);
    put32(&s, 46);
    put(&s, m2, strlen(m2));
    put8(&s, 0);
    put8(&s, 0x02); /* B only */
    put16(&s, 17);
    put32(&s, 3);
    put32(&s, 0);
    put32(&s, 0);
    put8(&s, 'z');
    reset();
    run(1, eth(0x0800, ip4(132, s)));
    CHECK_INT(ngot, 2);
    CHECK(payload_is(0, "MESSAGE one"));
    CHECK(payload_is(1, "MSG2"));
    CHECK_INT(got[0].pkt.proto, L4_SCTP);
    CHECK_INT(got[0].pkt.sport, 5060);
    CHECK_INT(got[0].pkt.dport, 5061);
    CHECK_INT(got[0].pkt.sctp_ppid, 0);
    CHECK_INT(got[1].pkt.sctp_ppid, 46);
    CHECK_INT(C.drop_sctp_fragmented, 0);
    CHECK_INT(C.drop_sctp_malformed, 0);

    /* The message begun by the B-only chunk (TSN 3, "z") goes on: a retransmitted piece,
     * a middle and an end piece; the PPID is the first piece's. */
    run(1, eth(0x0800, ip4(132, sctp1(0x00, 4, "-middle-"))));
    run(1, eth(0x0800, ip4(132, sctp1(0x02, 3, "z"))));
    CHECK_INT(C.drop_sctp_fragmented, 1); /* a second beginning abandons the first */
    run(1, eth(0x0800, ip4(132, sctp1(0x00, 4, "-middle-"))));
    run(1, eth(0x0800, ip4(132, sctp1(0x00, 4, "-middle-"))));
    run(1, eth(0x0800, ip4(132, sctp1(0x01, 5, "end"))));
    CHECK_INT(ngot, 3);
    CHECK(payload_is(2, "z-middle-end"));
    CHECK_INT(got[2].pkt.sctp_ppid, 0);
    CHECK_INT(C.drop_sctp_fragmented, 1);

    /* Out of sequence, without a beginning, never ended (expires). */
    reset();
    run(1, eth(0x0800, ip4(132, sctp1(0x02, 10, "a"))));
    run(1, eth(0x0800, ip4(132, sctp1(0x01, 12, "c"))));
    CHECK_INT(C.drop_sctp_fragmented, 1);
    run(1, eth(0x0800, ip4(132, sctp1(0x01, 13, "d"))));
    CHECK_INT(C.drop_sctp_fragmented, 2);
    run(1, eth(0x0800, ip4(132, sctp1(0x02, 20, "e"))));
    net_expire(dec, 1000000 + 31000000);
    CHECK_INT(C.drop_sctp_fragmented, 3);
    CHECK_INT(ngot, 0);

    /* SCTP chunk longer than the packet; chunk length below 4. */
    reset();
    s.b[14] = 0xff;
    run(12, ip4(132, s));
    s.b[14] = 0;
    s.b[15] = 2;
    run(12, ip4(132, s));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_sctp_malformed, 2);
}

static void test_lying_lengths(void)
{
    struct pk f;

    /* IP total length beyond the capture. */
    reset();
    f = sip_udp4();
    f.b[3] = (uint8_t)(f.b[3] + 10);
    run(12, f);
    CHECK_INT(C.drop_truncated, 1);

    /* IP total length below the header length; IHL below 5; wrong version. */
    reset();
    f = sip_udp4();
    f.b[2] = 0;
    f.b[3] = 19;
    run(12, f);
    f = sip_udp4();
    f.b[0] = 0x44;
    run(12, f);
    f = sip_udp4();
    f.b[0] = 0x65;
    run(228, f);
    CHECK_INT(C.drop_ip_malformed, 3);
    CHECK_INT(ngot, 0);

    /* UDP length beyond the IP payload: truncated; below 8: malformed. */
    reset();
    f = sip_udp4();
    f.b[25] = (uint8_t)(f.b[25] + 1);
    run(12, f);
    CHECK_INT(C.drop_truncated, 1);
    f = sip_udp4();
    f.b[24] = 0;
    f.b[25] = 7;
    run(12, f);
    CHECK_INT(C.drop_udp_malformed, 1);
    CHECK_INT(ngot, 0);

    /* UDP length shorter than the IP payload: trimmed. */
    reset();
    f = sip_udp4();
    f.b[25] = (uint8_t)(f.b[25] - 4);
    run(12, f);
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "INVITE sip:a@b SIP/2"));

    /* TCP data offset beyond the segment, and below 5. */
    reset();
    f = ip4(6, tcp(1, 2, 3, 0x10, text("abc")));
    f.b[32] = 0xf0;
    run(12, f);
    f.b[32] = 0x40;
    run(12, f);
    f = ip4(6, text("short"));
    run(12, f);
    CHECK_INT(C.drop_tcp_malformed, 3);
    CHECK_INT(ngot, 0);

    /* IPv6 payload length beyond the capture. */
    reset();
    f = ip6("::1", "::2", 17, udp(1, 2, text("abc")));
    f.b[5] = (uint8_t)(f.b[5] + 1);
    run(229, f);
    CHECK_INT(C.drop_truncated, 1);
    CHECK_INT(ngot, 0);
}

/* Every proper prefix of a valid frame is dropped as truncated, and nothing else. */
static void check_prefixes(int linktype, struct pk f, int line)
{
    int bad = 0;
    for (size_t n = 0; n < f.n; n++) {
        reset();
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, f.b, n);
        net_decode(dec, linktype, 0, copy, n);
        free(copy);
        if (ngot != 0 || C.drop_truncated != 1 || drops() != 1)
            bad++;
    }
    if (bad)
        fprintf(stderr, "line %d: %d prefixes misjudged\n", line, bad);
    CHECK_INT(bad, 0);
    reset();
    net_decode(dec, linktype, 0, f.b, f.n);
    CHECK_INT(ngot, 1);
}

static struct pk erspan2_frame(void)
{
    struct pk e = {.n = 0};
    put32(&e, 0x10640001); /* version 1, VLAN 100, session 1 */
    put32(&e, 0);
    struct pk inner = eth(0x0800, sip_udp4());
    putpk(&e, &inner);
    return eth(0x0800, ip4f("10.0.0.1", "10.0.0.2", 47, 9, 0, gre(0x1000, 0x88be, e)));
}

static struct pk erspan3_frame(bool platform)
{
    struct pk e = {.n = 0};
    put32(&e, 0x20000001);       /* version 2 */
    put32(&e, 0x12345678);       /* timestamp */
    put16(&e, 0);                /* SGT */
    put16(&e, platform ? 1 : 0); /* P=0, FT=0 (Ethernet), HW ID, D, Gra, O */
    if (platform) {
        put32(&e, 0x08000000);
        put32(&e, 0);
    }
    struct pk inner = vlan(0x8100, 55, eth(0x0800, sip_udp4()));
    putpk(&e, &inner);
    return eth(0x0800, ip4f("10.0.0.1", "10.0.0.2", 47, 9, 0, gre(0x1000, 0x22eb, e)));
}

static void test_truncation(void)
{
    check_prefixes(1, eth(0x0800, sip_udp4()), __LINE__);
    check_prefixes(
        1,
        vlan(0x88a8, 2, vlan(0x8100, 3, eth(0x86dd, ip6("::1", "::2", 17, udp(1, 2, text("hi")))))),
        __LINE__);
    check_prefixes(1, erspan2_frame(), __LINE__);
    check_prefixes(1, erspan3_frame(true), __LINE__);
    check_prefixes(12, ip4(6, tcp(1, 2, 3, 0x18, text("tcp data"))), __LINE__);
    check_prefixes(229, ip6("::1", "::2", 4, sip_udp4()), __LINE__);
    struct pk f = {.n = 0};
    put(&f, "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00", 16);
    struct pk ip = sip_udp4();
    putpk(&f, &ip);
    check_prefixes(113, f, __LINE__);
    f.n = 0;
    put32(&f, 0x02000000);
    putpk(&f, &ip);
    check_prefixes(0, f, __LINE__);
}

/* ---- tunnels ---- */

static void test_tunnels(void)
{
    struct pk sip = sip_udp4();

    static const unsigned gre_flags[] = {0, 0x2000, 0x1000, 0x3000, 0xb000};
    for (size_t i = 0; i < sizeof(gre_flags) / sizeof(gre_flags[0]); i++) {
        reset();
        run(1, eth(0x0800, ip4(47, gre(gre_flags[i], 0x0800, sip))));
        CHECK_SIP4(0);
        CHECK_INT(C.tunnel_decapsulated, 1);
    }

    reset();
    run(1, eth(0x86dd, ip6("2001:db8::a", "2001:db8::b", 47,
                           gre(0x8000, 0x86dd, ip6("::1", "::2", 17, udp(1, 2, text("v6")))))));
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "v6"));
    CHECK(addr_is(&got[0].pkt.src, "::1"));

    /* Transparent Ethernet bridging, the outer VLAN wins over the inner one. */
    reset();
    run(1, vlan(0x8100, 7,
                eth(0x0800, ip4(47, gre(0x2000, 0x6558, vlan(0x8100, 8, eth(0x0800, sip)))))));
    CHECK_SIP4(7);

    reset();
    run(1, erspan2_frame());
    CHECK_SIP4(0);
    CHECK_INT(C.tunnel_decapsulated, 1);

    /* ERSPAN type I: no sequence, no ERSPAN header. */
    reset();
    run(1, eth(0x0800, ip4(47, gre(0, 0x88be, eth(0x0800, sip)))));
    CHECK_SIP4(0);

    reset();
    run(1, erspan3_frame(false));
    CHECK_SIP4(55);
    reset();
    run(1, erspan3_frame(true));
    CHECK_SIP4(55);

    /* Malformed: GRE version 1, routing, unknown protocol, bad ERSPAN versions. */
    reset();
    run(12, ip4(47, gre(0x0001, 0x0800, sip)));
    run(12, ip4(47, gre(0x4000, 0x0800, sip)));
    run(12, ip4(47, gre(0, 0x880b, sip)));
    run(12, ip4(47, gre(0x1000, 0x88be, eth(0x0800, sip)))); /* no ERSPAN II header */
    run(12, ip4(47, gre(0x1000, 0x22eb, eth(0x0800, sip))));
    run(12, ip4(47, text("\x20")));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_tunnel_malformed, 6);

    /* IP-in-IP: 4 in 4, 6 in 4, 4 in 6. */
    reset();
    run(12, ip4f("10.1.1.1", "10.1.1.2", 4, 3, 0, sip));
    CHECK_SIP4(0);
    reset();
    run(12, ip4(41, ip6("::1", "::2", 17, udp(1, 2, text("6in4")))));
    CHECK(payload_is(0, "6in4"));
    reset();
    run(229, ip6("::1", "::2", 4, sip));
    CHECK_SIP4(0);
    CHECK_INT(C.tunnel_decapsulated, 1);

    /* VXLAN on its port; without the I flag; with VXLAN disabled. */
    struct pk vx = {.n = 0};
    put32(&vx, 0x08000000);
    put32(&vx, 0x00123400);
    struct pk inner = eth(0x0800, sip);
    putpk(&vx, &inner);
    reset();
    run(1, eth(0x0800, ip4(17, udp(54321, 4789, vx))));
    CHECK_SIP4(0);
    CHECK_INT(C.tunnel_decapsulated, 1);
    reset();
    vx.b[0] = 0;
    run(1, eth(0x0800, ip4(17, udp(54321, 4789, vx))));
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_tunnel_malformed, 1);

    struct net_limits lim = {.vxlan_port = 0};
    struct net_decoder *d2 = net_decoder_new(&lim, &C, deliver, NULL);
    reset();
    struct pk f = eth(0x0800, ip4(17, udp(54321, 4789, vx)));
    net_decode(d2, 1, 0, f.b, f.n);
    CHECK_INT(ngot, 1);
    CHECK_INT(got[0].pkt.dport, 4789);
    net_decoder_free(d2);

    /* Tunnels nested deeper than the bound. */
    reset();
    f = sip;
    for (int i = 0; i < 12; i++)
        f = ip4(4, f);
    run(12, f);
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_tunnel_malformed, 1);
    CHECK_INT(C.tunnel_decapsulated, 8);
}

/* ---- fragments ---- */

/* Splits a 4 + 208-byte UDP datagram into IPv4 fragments at 0, 64, 128 (last 84). */
static struct pk frag4(struct pk l4, unsigned id, size_t off, size_t len, bool more)
{
    struct pk pl = {.n = 0};
    if (off + len > l4.n)
        len = l4.n - off;
    put(&pl, l4.b + off, len);
    return eth(0x0800, ip4f("198.51.100.1", "198.51.100.2", 17, id,
                            (unsigned)(off / 8) | (more ? 0x2000 : 0), pl));
}

static struct pk big_udp(char fill)
{
    struct pk body = {.n = 0};
    for (int i = 0; i < 200; i++)
        put8(&body, (unsigned)(fill + i % 26));
    return udp(5060, 5060, body);
}

static bool big_payload_ok(int i, char fill)
{
    if (i >= ngot || got[i].pkt.payload.len != 200)
        return false;
    for (int k = 0; k < 200; k++)
        if (got[i].pkt.payload.p[k] != (uint8_t)(fill + k % 26))
            return false;
    return true;
}

static void test_ipv4_fragments(void)
{
    struct pk u = big_udp('a');
    struct pk f0 = frag4(u, 77, 0, 64, true), f1 = frag4(u, 77, 64, 64, true),
              f2 = frag4(u, 77, 128, 200, false);
    struct {
        const struct pk *seq[5];
        int n;
        int overlap;
    } cases[] = {
        {{&f0, &f1, &f2}, 3, 0},
        {{&f2, &f0, &f1}, 3, 0},
        {{&f1, &f2, &f0}, 3, 0},
        {{&f0, &f0, &f1, &f1, &f2}, 5, 0},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        reset();
        for (int i = 0; i < cases[c].n; i++)
            net_decode(dec, 1, 1000 + i, cases[c].seq[i]->b, cases[c].seq[i]->n);
        CHECK_INT(ngot, 1);
        CHECK(big_payload_ok(0, 'a'));
        CHECK_INT(got[0].pkt.ts, 1000 + cases[c].n - 1);
        CHECK(addr_is(&got[0].pkt.src, "198.51.100.1"));
        CHECK_INT(got[0].pkt.sport, 5060);
        CHECK_INT(C.ip_fragments, cases[c].n);
        CHECK_INT(C.ip_reassembled, 1);
        CHECK_INT(drops(), 0);
    }

    /* A duplicate after completion starts a new datagram that then times out. */
    reset();
    run(1, f0);
    run(1, f1);
    run(1, f2);
    run(1, f1);
    CHECK_INT(ngot, 1);
    net_expire(dec, 1000000 + 31000000);
    CHECK_INT(C.drop_frag_timeout, 1);

    /* A contradicting fragment is dropped, the first bytes stand. */
    reset();
    struct pk other = big_udp('A');
    struct pk bad1 = frag4(other, 77, 64, 64, true);
    run(1, f0);
    run(1, f1);
    run(1, bad1);
    run(1, f2);
    CHECK_INT(ngot, 1);
    CHECK(big_payload_ok(0, 'a'));
    CHECK_INT(C.drop_frag_overlap, 1);

    /* Two different last fragments. */
    reset();
    struct pk bad_end = frag4(u, 77, 64, 80, false);
    run(1, f2);
    run(1, bad_end);
    run(1, f0);
    run(1, f1);
    CHECK_INT(ngot, 1);
    CHECK_INT(C.drop_frag_overlap, 1);

    /* Missing one: nothing, then the timeout counts it. */
    reset();
    run(1, f0);
    run(1, f2);
    CHECK_INT(ngot, 0);
    net_expire(dec, 1000000 + 29000000);
    CHECK_INT(C.drop_frag_timeout, 0);
    net_expire(dec, 1000000 + 31000000);
    CHECK_INT(C.drop_frag_timeout, 1);
    run(1, f1); /* too late: starts a new datagram */
    CHECK_INT(ngot, 0);
    net_expire(dec, 1000000 + 62000000);
    CHECK_INT(C.drop_frag_timeout, 2);

    /* Opportunistic expiry when a later fragment arrives. */
    reset();
    net_decode(dec, 1, 0, f0.b, f0.n);
    net_decode(dec, 1, 40000000, f1.b, f1.n);
    CHECK_INT(C.drop_frag_timeout, 1);
    net_expire(dec, 100000000);

    /* Interleaved datagrams with different ids. */
    reset();
    struct pk u2 = big_udp('k');
    struct pk g0 = frag4(u2, 78, 0, 64, true), g1 = frag4(u2, 78, 64, 64, true),
              g2 = frag4(u2, 78, 128, 200, false);
    run(1, f0);
    run(1, g2);
    run(1, g0);
    run(1, f2);
    run(1, g1);
    run(1, f1);
    CHECK_INT(ngot, 2);
    CHECK(big_payload_ok(0, 'k'));
    CHECK(big_payload_ok(1, 'a'));

    /* Bounded table: the oldest datagram gives way. */
    struct net_limits lim = {.frag_max_datagrams = 2, .frag_max_bytes = 100, .vxlan_port = 4789};
    struct net_decoder *d2 = net_decoder_new(&lim, &C, deliver, NULL);
    reset();
    for (unsigned id = 1; id <= 3; id++) {
        struct pk p = frag4(u, id, 0, 64, true);
        net_decode(d2, 1, 0, p.b, p.n);
    }
    CHECK_INT(C.drop_frag_overflow, 1);
    /* Bounded size: a datagram beyond 100 bytes. */
    net_decode(d2, 1, 0, f2.b, f2.n);
    CHECK_INT(C.drop_frag_overflow, 2);
    net_decoder_free(d2); /* frees what is in progress (ASan checks) */
}

static struct pk frag6(struct pk l4, uint32_t id, size_t off, size_t len, bool more)
{
    struct pk pl = {.n = 0};
    if (off + len > l4.n)
        len = l4.n - off;
    put8(&pl, 17);
    put8(&pl, 0);
    put16(&pl, (unsigned)off | (more ? 1 : 0));
    put32(&pl, id);
    put(&pl, l4.b + off, len);
    return eth(0x86dd, ip6("2001:db8::1", "2001:db8::2", 44, pl));
}

static void test_ipv6_fragments(void)
{
    struct pk u = big_udp('a');
    struct pk f0 = frag6(u, 0x01020304, 0, 104, true), f1 = frag6(u, 0x01020304, 104, 200, false);

    reset();
    run(1, f1);
    run(1, f0);
    CHECK_INT(ngot, 1);
    CHECK(big_payload_ok(0, 'a'));
    CHECK(addr_is(&got[0].pkt.dst, "2001:db8::2"));
    CHECK_INT(C.ip_fragments, 2);
    CHECK_INT(C.ip_reassembled, 1);
    CHECK_INT(drops(), 0);

    /* Atomic fragment (RFC 6946): a whole datagram. */
    reset();
    run(1, frag6(udp(1, 2, text("atomic")), 9, 0, 100, false));
    CHECK_INT(ngot, 1);
    CHECK(payload_is(0, "atomic"));
    CHECK_INT(C.ip_fragments, 0);

    /* Missing the first: expires. */
    reset();
    run(1, f1);
    net_expire(dec, 1000000 + 31000000);
    CHECK_INT(ngot, 0);
    CHECK_INT(C.drop_frag_timeout, 1);
}

/* ---- ip_addr ---- */

static void test_ip_addr(void)
{
    char buf[64];
    struct ip_addr a, b;

    CHECK(ip_addr_parse("192.0.2.10", &a));
    CHECK_INT(a.family, 4);
    CHECK_STR(ip_addr_format(&a, buf, sizeof(buf)), "192.0.2.10");
    CHECK(ip_addr_parse("2001:DB8:0:0:0:0:0:1", &b));
    CHECK_INT(b.family, 6);
    CHECK_STR(ip_addr_format(&b, buf, sizeof(buf)), "2001:db8::1");
    CHECK(!ip_addr_equal(&a, &b));
    CHECK(ip_addr_parse("2001:db8::1", &a));
    CHECK(ip_addr_equal(&a, &b));
    CHECK(!ip_addr_parse("999.1.1.1", &a));
    CHECK(!ip_addr_parse("sip.example.com", &a));
    CHECK(!ip_addr_parse("", &a));
    memset(&a, 0, sizeof(a));
    CHECK_STR(ip_addr_format(&a, buf, sizeof(buf)), "-");
    CHECK(ip_addr_parse("::ffff:192.0.2.1", &a));
    CHECK_STR(ip_addr_format(&a, buf, sizeof(buf)), "::ffff:192.0.2.1");
    CHECK_STR(ip_addr_format(&a, buf, 4), "");
}

int main(void)
{
    dec = net_decoder_new(NULL, &C, deliver, NULL);
    CHECK(dec != NULL);
    test_links();
    test_ipv6_ext();
    test_transport();
    test_lying_lengths();
    test_truncation();
    test_tunnels();
    test_ipv4_fragments();
    test_ipv6_fragments();
    test_ip_addr();
    net_decoder_free(dec);
    return TEST_REPORT("test_net_decode");
}

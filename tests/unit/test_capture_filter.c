/*
 * test_capture_filter.c - the capture filter built from the configuration: it compiles
 * with libpcap on every link type greffier captures, and a table of frames shows what it
 * lets through (SIP ports on UDP/TCP/SCTP, all UDP, fragments, tunnels, 802.1Q and QinQ)
 * and what it keeps out (other TCP, ICMP, ARP).
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/capture_live.h"
#include "testhelp.h"

enum { SNAP = 65535 };

static int compiles(const struct config *cfg, int linktype)
{
    char filter[8192];
    if (capture_build_filter(cfg, linktype, filter, sizeof(filter)) < 0)
        return 0;
    pcap_t *dead = pcap_open_dead(linktype, SNAP);
    struct bpf_program prog;
    int ok = pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (ok)
        pcap_freecode(&prog);
    else
        fprintf(stderr, "linktype %d: %s\n  filter: %s\n", linktype, pcap_geterr(dead), filter);
    pcap_close(dead);
    return ok;
}

static void test_compiles(void)
{
    struct config cfg;
    config_defaults(&cfg);
    static const int linktypes[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL};
    for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++)
        CHECK(compiles(&cfg, linktypes[i]));

    /* The longest configuration still fits and compiles. */
    cfg.nsip_ports = cfg.nsip_tls_ports = CONFIG_MAX_LIST;
    for (size_t i = 0; i < CONFIG_MAX_LIST; i++) {
        cfg.sip_ports[i] = (uint16_t)(65535 - i);
        cfg.sip_tls_ports[i] = (uint16_t)(65535 - CONFIG_MAX_LIST - i);
    }
    CHECK(compiles(&cfg, DLT_EN10MB));
    CHECK(compiles(&cfg, DLT_LINUX_SLL));

    /* No ports at all is still a valid expression. */
    cfg.nsip_ports = cfg.nsip_tls_ports = 0;
    CHECK(compiles(&cfg, DLT_EN10MB));

    char small[32];
    config_defaults(&cfg);
    CHECK_INT(capture_build_filter(&cfg, DLT_EN10MB, small, sizeof(small)), -1);
    CHECK_STR(small, "");
}

/* ---- frames ---------------------------------------------------------------------------- */

struct frame {
    uint8_t b[256];
    size_t len;
};

static void put8(struct frame *f, unsigned v)
{
    f->b[f->len++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
    put8(f, v >> 8);
    put8(f, v & 0xff);
}

static void zeros(struct frame *f, size_t n)
{
    memset(f->b + f->len, 0, n);
    f->len += n;
}

/* Ethernet with vlans 802.1Q tags, then the given ethertype. */
static void eth(struct frame *f, int vlans, unsigned ethertype)
{
    f->len = 0;
    zeros(f, 12);
    for (int i = 0; i < vlans; i++) {
        put16(f, i == 0 && vlans == 2 ? 0x88a8 : 0x8100);
        put16(f, 100 + (unsigned)i);
    }
    put16(f, ethertype);
}

/* IPv4 header: frag is the flags and fragment offset field. */
static void ipv4(struct frame *f, unsigned proto, unsigned frag)
{
    put8(f, 0x45);
    put8(f, 0);
    put16(f, 60);
    put16(f, 1);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put8(f, 10), put8(f, 0), put8(f, 0), put8(f, 1);
    put8(f, 10), put8(f, 0), put8(f, 0), put8(f, 2);
}

static void ipv6(struct frame *f, unsigned next)
{
    put8(f, 0x60);
    zeros(f, 3);
    put16(f, 40);
    put8(f, next);
    put8(f, 64);
    zeros(f, 32);
}

static void ports(struct frame *f, unsigned sport, unsigned dport)
{
    put16(f, sport);
    put16(f, dport);
    zeros(f, 16); /* enough of any L4 header */
}

enum { ETH_IP = 0x0800, ETH_IP6 = 0x86dd, ETH_ARP = 0x0806 };
enum {
    P_ICMP = 1,
    P_IPIP = 4,
    P_TCP = 6,
    P_UDP = 17,
    P_IPV6 = 41,
    P_FRAG6 = 44,
    P_GRE = 47,
    P_SCTP = 132
};

struct filter_case {
    const char *what;
    int vlans;
    unsigned ethertype, proto, frag, sport, dport;
    bool pass;
};

static const struct filter_case cases[] = {
    {"SIP over UDP", 0, ETH_IP, P_UDP, 0, 5060, 5060, true},
    {"RTP on any UDP port", 0, ETH_IP, P_UDP, 0, 30000, 40002, true},
    {"VXLAN is UDP", 0, ETH_IP, P_UDP, 0, 50000, 4789, true},
    {"SIP over TCP", 0, ETH_IP, P_TCP, 0, 40000, 5060, true},
    {"SIP over TCP, reply", 0, ETH_IP, P_TCP, 0, 5060, 40000, true},
    {"SIP over TLS is counted", 0, ETH_IP, P_TCP, 0, 40000, 5061, true},
    {"SIP over SCTP", 0, ETH_IP, P_SCTP, 0, 5060, 5060, true},
    {"HTTP is not captured", 0, ETH_IP, P_TCP, 0, 40000, 80, false},
    {"SCTP on another port", 0, ETH_IP, P_SCTP, 0, 2905, 2905, false},
    {"ICMP", 0, ETH_IP, P_ICMP, 0, 0, 0, false},
    {"IPv4 later fragment", 0, ETH_IP, P_TCP, 0x00b9, 0, 0, true},
    {"IPv4 first fragment (MF)", 0, ETH_IP, P_TCP, 0x2000, 40000, 80, true},
    {"IPv4 DF is not a fragment", 0, ETH_IP, P_TCP, 0x4000, 40000, 80, false},
    {"GRE / ERSPAN", 0, ETH_IP, P_GRE, 0, 0, 0, true},
    {"IP in IP", 0, ETH_IP, P_IPIP, 0, 0, 0, true},
    {"IPv6 in IPv4", 0, ETH_IP, P_IPV6, 0, 0, 0, true},
    {"IPv6 SIP over TCP", 0, ETH_IP6, P_TCP, 0, 5060, 40000, true},
    {"IPv6 UDP", 0, ETH_IP6, P_UDP, 0, 1234, 1234, true},
    {"IPv6 fragment", 0, ETH_IP6, P_FRAG6, 0, 0, 0, true},
    {"IPv6 GRE", 0, ETH_IP6, P_GRE, 0, 0, 0, true},
    {"IPv6 HTTP", 0, ETH_IP6, P_TCP, 0, 40000, 443, false},
    {"ARP", 0, ETH_ARP, 0, 0, 0, 0, false},
    {"802.1Q SIP over TCP", 1, ETH_IP, P_TCP, 0, 40000, 5060, true},
    {"802.1Q RTP", 1, ETH_IP, P_UDP, 0, 30000, 30002, true},
    {"802.1Q HTTP", 1, ETH_IP, P_TCP, 0, 40000, 80, false},
    {"802.1Q IPv6 SIP", 1, ETH_IP6, P_TCP, 0, 40000, 5060, true},
    {"QinQ SIP over TCP", 2, ETH_IP, P_TCP, 0, 40000, 5060, true},
    {"QinQ RTP", 2, ETH_IP, P_UDP, 0, 30000, 30002, true},
    {"QinQ fragment", 2, ETH_IP, P_TCP, 0x0010, 0, 0, true},
    {"QinQ HTTP", 2, ETH_IP, P_TCP, 0, 40000, 80, false},
};

static void test_matches(void)
{
    struct config cfg;
    config_defaults(&cfg);
    char filter[8192];
    CHECK(capture_build_filter(&cfg, DLT_EN10MB, filter, sizeof(filter)) > 0);
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, SNAP);
    struct bpf_program prog;
    CHECK_INT(pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct filter_case *c = &cases[i];
        struct frame f;
        eth(&f, c->vlans, c->ethertype);
        if (c->ethertype == ETH_IP)
            ipv4(&f, c->proto, c->frag);
        else if (c->ethertype == ETH_IP6)
            ipv6(&f, c->proto);
        else
            zeros(&f, 28);
        ports(&f, c->sport, c->dport);
        struct pcap_pkthdr h = {.caplen = (bpf_u_int32)f.len, .len = (bpf_u_int32)f.len};
        bool pass = pcap_offline_filter(&prog, &h, f.b) != 0;
        if (pass != c->pass)
            fprintf(stderr, "case \"%s\": %s, want %s\n", c->what, pass ? "passes" : "dropped",
                    c->pass ? "passes" : "dropped");
        CHECK(pass == c->pass);
    }
    pcap_freecode(&prog);
    pcap_close(dead);

    /* Other SIP ports from the configuration. */
    cfg.sip_ports[0] = 5080;
    CHECK(capture_build_filter(&cfg, DLT_EN10MB, filter, sizeof(filter)) > 0);
    CHECK(strstr(filter, "port 5080") != NULL);
    CHECK(strstr(filter, "port 5060 ") == NULL);
}

int main(void)
{
    test_compiles();
    test_matches();
    return TEST_REPORT("test_capture_filter");
}

/*
 * test_config.c - greffier.conf: defaults, a file setting every key, a table of broken
 * files with their exact messages, CIDR parsing and trunk matching, and the shipped
 * conf/greffier.conf against config_write_defaults().
 *
 * Run from the repository root.  `test_config --write-defaults > conf/greffier.conf`
 * regenerates the sample file after a change to the keyword table.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "greffier/config.h"
#include "testhelp.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static char conf_path[64];

/* Writes len bytes of text to tmpdir/greffier.conf, loads it, and returns the messages
 * with the directory removed (caller frees). */
static char *load_text(struct config *cfg, const char *text, size_t len, int *errors)
{
    FILE *f = fopen(conf_path, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        perror(conf_path);
        exit(2);
    }
    char *raw = NULL, *out;
    size_t rawlen = 0, dirlen = strlen(tmpdir) + 1;
    FILE *mem = open_memstream(&raw, &rawlen);
    *errors = config_load(cfg, conf_path, mem);
    fclose(mem);
    out = calloc(rawlen + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < rawlen;) {
        if ((i == 0 || raw[i - 1] == '\n') && strncmp(raw + i, conf_path, dirlen) == 0)
            i += dirlen;
        else
            out[o++] = raw[i++];
    }
    free(raw);
    return out;
}

static void test_defaults(void)
{
    struct config c;
    config_defaults(&c);
    CHECK_STR(c.path, "");
    CHECK_STR(c.data_dir, "/var/lib/greffier");
    CHECK_INT(c.ninterfaces, 0);
    CHECK_STR(c.bpf_filter, "");
    CHECK_INT(c.snaplen, 65535);
    CHECK_INT(c.buffer_mb, 64);
    CHECK(c.promiscuous);
    CHECK_INT(c.stats_interval_s, 10);
    CHECK_INT(c.seal_interval_s, 5);
    CHECK_INT(c.alarm_no_packets_s, 300);
    CHECK_INT(c.alarm_drops_min, 1);
    CHECK_INT(c.alarm_one_way_s, 10);
    CHECK_STR(c.http_metrics_token, "");
    CHECK_STR(c.user, "greffier");
    CHECK_INT(c.nsip_ports, 1);
    CHECK_INT(c.sip_ports[0], 5060);
    CHECK_INT(c.nsip_tls_ports, 1);
    CHECK_INT(c.sip_tls_ports[0], 5061);
    CHECK(c.sip_detect_any_port);
    CHECK_INT(c.call_timeout_s, 300);
    CHECK_INT(c.ringing_timeout_s, 180);
    CHECK_INT(c.max_calls, 100000);
    CHECK_INT(c.max_messages_per_call, 1000);
    CHECK_INT(c.max_message_bytes, 65535);
    CHECK_STR(c.plan.country_code, "33");
    CHECK_STR(c.plan.trunk_prefix, "0");
    CHECK_STR(c.plan.international_prefix, "00");
    CHECK_INT(c.plan.national_length, 9);
    CHECK_INT(c.ninternal_patterns, 0);
    CHECK_INT(c.ntrunks, 0);
    CHECK_INT(c.log_level, LOG_INFO);

    /* The default plan of the config is number_plan_default(). */
    struct number_plan fr;
    number_plan_default(&fr);
    CHECK(memcmp(&fr, &c.plan, sizeof(fr)) == 0);
}

static void test_every_key(void)
{
    static const char text[] = "# every key, with the syntax variants\r\n"
                               "; another comment\n"
                               "\n"
                               "[storage]\n"
                               "data_dir = \"/srv/greffier data\"   # quoted, with a blank\n"
                               "\n"
                               "  [ capture ]  # comment after a section\n"
                               "interfaces = eth0, eth1 bond0.100\n"
                               "bpf_filter = 'udp port 5060 or (vlan and udp)'\n"
                               "snaplen=9000\n"
                               "buffer_mb   =   512\n"
                               "promiscuous = off\n"
                               "[sip]\n"
                               "ports = 5060,5080, 15060\n"
                               "tls_ports =\n"
                               "detect_any_port = false\n"
                               "call_timeout = 5m\n"
                               "ringing_timeout = 90s\n"
                               "max_calls = 2000\n"
                               "max_messages_per_call = 10\n"
                               "max_message_bytes = 1048576\n"
                               "[numbers]\n"
                               "country_code = 1\n"
                               "trunk_prefix =\n"
                               "international_prefix = 011\n"
                               "national_length = 10\n"
                               "internal = 2xxx, +3314*, 33140*\n"
                               "trunks = 192.0.2.0/24 2001:db8:5::/48, 198.51.100.7\n"
                               "[log]\n"
                               "level = debug#not a comment\n"
                               "[log]\n";
    struct config c;
    int errors;
    char *msgs = load_text(&c, text, sizeof(text) - 1, &errors);
    CHECK_INT(errors, 1);
    CHECK_STR(msgs, "greffier.conf:30: level: \"debug#not a comment\" is not a log level (emerg, "
                    "alert, crit, err, warning, notice, info, debug)\n");
    free(msgs);

    /* The same without the mistake. */
    char fixed[sizeof(text)];
    memcpy(fixed, text, sizeof(text));
    char *hash = strstr(fixed, "debug#not");
    memcpy(hash, "debug #not", 10);
    msgs = load_text(&c, fixed, strlen(fixed), &errors);
    CHECK_INT(errors, 0);
    CHECK_STR(msgs, "");
    free(msgs);

    CHECK_STR(c.path, conf_path);
    CHECK_STR(c.data_dir, "/srv/greffier data");
    CHECK_INT(c.ninterfaces, 3);
    CHECK_STR(c.interfaces[0], "eth0");
    CHECK_STR(c.interfaces[1], "eth1");
    CHECK_STR(c.interfaces[2], "bond0.100");
    CHECK_STR(c.bpf_filter, "udp port 5060 or (vlan and udp)");
    CHECK_INT(c.snaplen, 9000);
    CHECK_INT(c.buffer_mb, 512);
    CHECK(!c.promiscuous);
    CHECK_INT(c.nsip_ports, 3);
    CHECK_INT(c.sip_ports[0], 5060);
    CHECK_INT(c.sip_ports[1], 5080);
    CHECK_INT(c.sip_ports[2], 15060);
    CHECK_INT(c.nsip_tls_ports, 0);
    CHECK(!c.sip_detect_any_port);
    CHECK_INT(c.call_timeout_s, 300);
    CHECK_INT(c.ringing_timeout_s, 90);
    CHECK_INT(c.max_calls, 2000);
    CHECK_INT(c.max_messages_per_call, 10);
    CHECK_INT(c.max_message_bytes, 1048576);
    CHECK_STR(c.plan.country_code, "1");
    CHECK_STR(c.plan.trunk_prefix, "");
    CHECK_STR(c.plan.international_prefix, "011");
    CHECK_INT(c.plan.national_length, 10);
    CHECK_INT(c.ninternal_patterns, 3);
    CHECK_STR(c.internal_patterns[0], "2xxx");
    CHECK_STR(c.internal_patterns[1], "+3314*");
    CHECK_STR(c.internal_patterns[2], "33140*");
    CHECK_INT(c.ntrunks, 3);
    CHECK_INT(c.trunks[0].addr.family, 4);
    CHECK_INT(c.trunks[0].prefix_len, 24);
    CHECK_INT(c.trunks[1].addr.family, 6);
    CHECK_INT(c.trunks[1].prefix_len, 48);
    CHECK_INT(c.trunks[2].prefix_len, 32);
    CHECK_INT(c.log_level, LOG_DEBUG);

    /* [alarms] */
    static const char alarms[] = "[alarms]\nno_packets = 90s\ndrops = 0\none_way_audio = 2m\n"
                                 "[http]\nmetrics_token = \"tok en\"\n";
    msgs = load_text(&c, alarms, sizeof(alarms) - 1, &errors);
    CHECK_INT(errors, 0);
    CHECK_STR(msgs, "");
    free(msgs);
    CHECK_INT(c.alarm_no_packets_s, 90);
    CHECK_INT(c.alarm_drops_min, 0);
    CHECK_INT(c.alarm_one_way_s, 120);
    CHECK_STR(c.http_metrics_token, "tok en");
}

struct broken {
    const char *text;
    size_t len; /* 0: strlen(text) */
    int errors;
    const char *messages;
};

#define BIN(s) s, sizeof(s) - 1

static const struct broken broken[] = {
    {"[sip]\nprots = 5060\n", 0, 1, "greffier.conf:2: unknown key \"prots\" in section [sip]\n"},
    {"[capture]\n\nsnaplen = 70000000\n", 0, 1,
     "greffier.conf:3: snaplen: \"70000000\" is out of range (256..262144)\n"},
    {"[capture]\nsnaplen = 255\n", 0, 1,
     "greffier.conf:2: snaplen: \"255\" is out of range (256..262144)\n"},
    {"[capture]\nsnaplen = 99999999999999999999999\n", 0, 1,
     "greffier.conf:2: snaplen: \"99999999999999999999999\" is out of range (256..262144)\n"},
    {"[capture]\nsnaplen = -1\n", 0, 1, "greffier.conf:2: snaplen: \"-1\" is not a number\n"},
    {"[capture]\nsnaplen = 1500 bytes\n", 0, 1,
     "greffier.conf:2: snaplen: \"1500 bytes\" is not a number\n"},
    {"[capture]\nbuffer_mb = 0x40\n", 0, 1,
     "greffier.conf:2: buffer_mb: \"0x40\" is not a number\n"},
    {"[capture]\nsnaplen =\n", 0, 1, "greffier.conf:2: snaplen: \"\" is not a number\n"},
    {"[sip]\nports 5060\n", 0, 1,
     "greffier.conf:2: line is neither [section], key = value nor a comment\n"},
    {"ports = 5060\n", 0, 1, "greffier.conf:1: key \"ports\" outside any section\n"},
    {"[sip]\nports = 5060\n# again\nports = 5070\n", 0, 1,
     "greffier.conf:4: duplicate key \"ports\" in section [sip] (first set on line 2)\n"},
    {"[sip]\nports = 5060\n[capture]\n[sip]\nports = 5070\n", 0, 1,
     "greffier.conf:5: duplicate key \"ports\" in section [sip] (first set on line 2)\n"},
    {"[foo]\nbar = 1\nbaz\n[sip]\nports = 5062\n", 0, 2,
     "greffier.conf:1: unknown section [foo]\n"
     "greffier.conf:3: line is neither [section], key = value nor a comment\n"},
    {"[SIP]\n", 0, 1, "greffier.conf:1: unknown section [SIP]\n"},
    {"[sip\nports = 1\n", 0, 1, "greffier.conf:1: section header without closing \"]\"\n"},
    {"[sip] ports = 1\n", 0, 1, "greffier.conf:1: text after the section header\n"},
    {"[]\n", 0, 1, "greffier.conf:1: unknown section []\n"},
    {"[sip]\n= 5060\n", 0, 1, "greffier.conf:2: missing key name before \"=\"\n"},
    {"[capture]\npromiscuous = maybe\n", 0, 1,
     "greffier.conf:2: promiscuous: \"maybe\" is not a boolean (yes/no, true/false, on/off, "
     "1/0)\n"},
    {"[capture]\npromiscuous = YES\n", 0, 1,
     "greffier.conf:2: promiscuous: \"YES\" is not a boolean (yes/no, true/false, on/off, "
     "1/0)\n"},
    {"[sip]\ncall_timeout = 5d\n", 0, 1,
     "greffier.conf:2: call_timeout: \"5d\" is not a duration (seconds, or a number followed by "
     "s, m or h)\n"},
    {"[sip]\ncall_timeout = m\n", 0, 1,
     "greffier.conf:2: call_timeout: \"m\" is not a duration (seconds, or a number followed by "
     "s, m or h)\n"},
    {"[sip]\ncall_timeout = 5mm\n", 0, 1,
     "greffier.conf:2: call_timeout: \"5mm\" is not a duration (seconds, or a number followed "
     "by s, m or h)\n"},
    {"[sip]\ncall_timeout = 25h\n", 0, 1,
     "greffier.conf:2: call_timeout: \"25h\" is out of range (10..86400 seconds)\n"},
    {"[sip]\nringing_timeout = 9\n", 0, 1,
     "greffier.conf:2: ringing_timeout: \"9\" is out of range (10..86400 seconds)\n"},
    {"[sip]\nports = 5060, 0\n", 0, 1, "greffier.conf:2: ports: \"0\" is not a port (1..65535)\n"},
    {"[sip]\ntls_ports = 65536\n", 0, 1,
     "greffier.conf:2: tls_ports: \"65536\" is not a port (1..65535)\n"},
    {"[sip]\nports = 5060;5061\n", 0, 1,
     "greffier.conf:2: ports: \"5060;5061\" is not a port (1..65535)\n"},
    {"[sip]\nports = 5060 5062 5060\n", 0, 1,
     "greffier.conf:2: ports: port 5060 is listed twice\n"},
    {"[sip]\nmax_calls = 0\n", 0, 1,
     "greffier.conf:2: max_calls: \"0\" is out of range (1..10000000)\n"},
    {"[sip]\nmax_message_bytes = 1023\n", 0, 1,
     "greffier.conf:2: max_message_bytes: \"1023\" is out of range (1024..1048576)\n"},
    {"[capture]\ninterfaces = eth0 eth0\n", 0, 1,
     "greffier.conf:2: interfaces: \"eth0\" is listed twice\n"},
    {"[capture]\ninterfaces = "
     "a123456789012345678901234567890123456789012345678901234567890123\n",
     0, 1,
     "greffier.conf:2: interfaces: \"a12345678901234567890123456789012345678901234567890123456789"
     "...\" is not an interface name (too long)\n"},
    {"[storage]\ndata_dir =\n", 0, 1, "greffier.conf:2: data_dir: must not be empty\n"},
    {"[storage]\ndata_dir = \"/srv\n", 0, 1, "greffier.conf:2: data_dir: missing closing quote\n"},
    {"[storage]\ndata_dir = \"/srv\" x\n", 0, 1,
     "greffier.conf:2: data_dir: text after the closing quote\n"},
    {"[numbers]\ncountry_code = 033\n", 0, 1,
     "greffier.conf:2: country_code: \"033\" cannot start with 0\n"},
    {"[numbers]\ncountry_code = 3a\n", 0, 1,
     "greffier.conf:2: country_code: \"3a\" must be 1 to 3 digits\n"},
    {"[numbers]\ncountry_code = 1234\n", 0, 1,
     "greffier.conf:2: country_code: \"1234\" must be 1 to 3 digits\n"},
    {"[numbers]\ncountry_code =\n", 0, 1,
     "greffier.conf:2: country_code: \"\" must be 1 to 3 digits\n"},
    {"[numbers]\ntrunk_prefix = 0000\n", 0, 1,
     "greffier.conf:2: trunk_prefix: \"0000\" must be 0 to 3 digits\n"},
    {"[numbers]\ninternational_prefix = +\n", 0, 1,
     "greffier.conf:2: international_prefix: \"+\" must be 1 to 4 digits\n"},
    {"[numbers]\nnational_length = 3\n", 0, 1,
     "greffier.conf:2: national_length: \"3\" is out of range (4..14)\n"},
    {"[numbers]\ninternal = 2xxx, 2x*x\n", 0, 1,
     "greffier.conf:2: internal: \"2x*x\" is not a number pattern (digits, a leading +, x, a "
     "final *)\n"},
    {"[numbers]\ninternal = 2xxx 2xxx\n", 0, 1,
     "greffier.conf:2: internal: \"2xxx\" is listed twice\n"},
    {"[numbers]\ntrunks = 10.0.0.0/8, 10.0.0.0/33\n", 0, 1,
     "greffier.conf:2: trunks: \"10.0.0.0/33\" is not an IP address or network\n"},
    {"[numbers]\ntrunks = 2001:db8::/129\n", 0, 1,
     "greffier.conf:2: trunks: \"2001:db8::/129\" is not an IP address or network\n"},
    {"[numbers]\ntrunks = sbc.example.com\n", 0, 1,
     "greffier.conf:2: trunks: \"sbc.example.com\" is not an IP address or network\n"},
    {"[log]\nlevel = verbose\n", 0, 1,
     "greffier.conf:2: level: \"verbose\" is not a log level (emerg, alert, crit, err, warning, "
     "notice, info, debug)\n"},
    {"[log]\nlevel = warn\x1b[31m\n", 0, 1,
     "greffier.conf:2: level: \"warn\\x1b[31m\" is not a log level (emerg, alert, crit, err, "
     "warning, notice, info, debug)\n"},
    {BIN("[log]\nlevel = inf\xff\n"), 1,
     "greffier.conf:2: invalid UTF-8 (byte 0xff at column 12)\n"},
    {BIN("# caf\xc3\xa9 ok\n# overlong \xc0\xaf\n# surrogate \xed\xa0\x80\n# cut \xe2\x82\n"
         "# above U+10FFFF \xf4\x90\x80\x80\n# stray \x80\n# four \xf0\x9f\x93\x9e ok"),
     5,
     "greffier.conf:2: invalid UTF-8 (byte 0xc0 at column 12)\n"
     "greffier.conf:3: invalid UTF-8 (byte 0xed at column 13)\n"
     "greffier.conf:4: invalid UTF-8 (byte 0xe2 at column 7)\n"
     "greffier.conf:5: invalid UTF-8 (byte 0xf4 at column 18)\n"
     "greffier.conf:6: invalid UTF-8 (byte 0x80 at column 9)\n"},
    {BIN("[log]\nlev\0el = info\n"), 1, "greffier.conf:2: NUL byte at column 4\n"},
    /* [alarms] and the /metrics token */
    {"[alarms]\nno_packets = 0\n", 0, 1,
     "greffier.conf:2: no_packets: \"0\" is out of range (1..86400 seconds)\n"},
    {"[alarms]\nno_packets = 2d\n", 0, 1,
     "greffier.conf:2: no_packets: \"2d\" is not a duration (seconds, or a number followed by "
     "s, m or h)\n"},
    {"[alarms]\ndrops = -1\n", 0, 1, "greffier.conf:2: drops: \"-1\" is not a number\n"},
    {"[alarms]\ndrops = 1000000001\n", 0, 1,
     "greffier.conf:2: drops: \"1000000001\" is out of range (0..1000000000)\n"},
    {"[alarms]\none_way_audio = 25h\n", 0, 1,
     "greffier.conf:2: one_way_audio: \"25h\" is out of range (1..86400 seconds)\n"},
    {"[alarms]\nno_packets_minutes = 5\n", 0, 1,
     "greffier.conf:2: unknown key \"no_packets_minutes\" in section [alarms]\n"},
    {"[alarm]\nno_packets = 5m\n", 0, 1, "greffier.conf:1: unknown section [alarm]\n"},
    /* Several mistakes in one file: all reported, in order, the valid keys still read. */
    {"[capture]\n"
     "snaplen = 10\n"
     "buffer_mb = 128\n"
     "promiscous = yes\n"
     "[sip]\n"
     "prots = 5060\n"
     "call_timeout = forever\n"
     "oops\n"
     "[sip]\n"
     "call_timeout = 10m\n"
     "[lgo]\n"
     "level = debug\n",
     0, 7,
     "greffier.conf:2: snaplen: \"10\" is out of range (256..262144)\n"
     "greffier.conf:4: unknown key \"promiscous\" in section [capture]\n"
     "greffier.conf:6: unknown key \"prots\" in section [sip]\n"
     "greffier.conf:7: call_timeout: \"forever\" is not a duration (seconds, or a number "
     "followed by s, m or h)\n"
     "greffier.conf:8: line is neither [section], key = value nor a comment\n"
     "greffier.conf:10: duplicate key \"call_timeout\" in section [sip] (first set on line 7)\n"
     "greffier.conf:11: unknown section [lgo]\n"},
};

static void test_broken(void)
{
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        const struct broken *b = &broken[i];
        struct config c;
        int errors;
        char *msgs = load_text(&c, b->text, b->len ? b->len : strlen(b->text), &errors);
        CHECK_INT(errors, b->errors);
        CHECK_STR(msgs, b->messages);
        if (errors != b->errors || strcmp(msgs, b->messages) != 0)
            fprintf(stderr, "  (broken case %zu)\n", i);
        free(msgs);
    }
}

/* Cases that need text built at run time: long lines, long lists, the missing file. */
static void test_limits(void)
{
    struct config c;
    int errors;
    char *text = malloc(16384), *msgs;

    /* A 4096-byte line is fine, a 4097-byte one is not (CR of CRLF not counted). */
    memset(text, '#', 4096);
    memcpy(text + 4096, "\r\n", 2);
    memset(text + 4098, '#', 4097);
    memcpy(text + 4098 + 4097, "\n[log]\nlevel = err\n", 19);
    msgs = load_text(&c, text, 4098 + 4097 + 19, &errors);
    CHECK_INT(errors, 1);
    CHECK_STR(msgs, "greffier.conf:2: line longer than 4096 bytes\n");
    CHECK_INT(c.log_level, LOG_ERR);
    free(msgs);

    /* CONFIG_MAX_LIST ports are fine, one more is not. */
    size_t o = (size_t)snprintf(text, 8192, "[sip]\nports =");
    for (int i = 0; i < CONFIG_MAX_LIST; i++)
        o += (size_t)snprintf(text + o, 8192 - o, " %d", 6000 + i);
    o += (size_t)snprintf(text + o, 8192 - o, "\n");
    msgs = load_text(&c, text, o, &errors);
    CHECK_INT(errors, 0);
    CHECK_INT(c.nsip_ports, CONFIG_MAX_LIST);
    CHECK_INT(c.sip_ports[CONFIG_MAX_LIST - 1], 6000 + CONFIG_MAX_LIST - 1);
    free(msgs);
    o += (size_t)snprintf(text + o - 1, 8192 - o, ",7000\n") - 1;
    msgs = load_text(&c, text, o, &errors);
    CHECK_INT(errors, 1);
    CHECK_STR(msgs, "greffier.conf:2: ports: more than 64 items\n");
    CHECK_INT(c.nsip_ports, 1); /* the failed key left the default alone */
    CHECK_INT(c.sip_ports[0], 5060);
    free(msgs);
    free(text);

    /* A file that does not exist or is not a file is one error, without a line number. */
    char *raw = NULL;
    size_t rawlen = 0;
    FILE *mem = open_memstream(&raw, &rawlen);
    CHECK_INT(config_load(&c, "/nonexistent/greffier.conf", mem), 1);
    CHECK_INT(config_load(&c, tmpdir, mem), 1);
    CHECK_INT(config_load(&c, tmpdir, NULL), 1);
    fclose(mem);
    char want[256];
    snprintf(want, sizeof(want),
             "/nonexistent/greffier.conf: cannot open: No such file or directory\n"
             "%s: cannot read: Is a directory\n",
             tmpdir);
    CHECK_STR(raw, want);
    free(raw);
    CHECK_STR(c.data_dir, "/var/lib/greffier");

    /* A byte order mark is skipped; elsewhere it is just text. */
    msgs = load_text(&c, "\xef\xbb\xbf[log]\nlevel = crit\n", 22, &errors);
    CHECK_INT(errors, 0);
    CHECK_INT(c.log_level, LOG_CRIT);
    free(msgs);
    msgs = load_text(&c, "\n\xef\xbb\xbf[log]\n", 10, &errors);
    CHECK_INT(errors, 1);
    CHECK_STR(msgs, "greffier.conf:2: line is neither [section], key = value nor a comment\n");
    free(msgs);

    /* An empty file is valid and gives the defaults. */
    msgs = load_text(&c, "", 0, &errors);
    CHECK_INT(errors, 0);
    CHECK_INT(c.snaplen, 65535);
    free(msgs);
}

static bool addr(const char *text, struct ip_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, text, a->a) == 1) {
        a->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, a->a) == 1) {
        a->family = 6;
        return true;
    }
    return false;
}

static const struct {
    const char *text;
    bool ok;
    int family, prefix;
    const char *network; /* the address stored, host bits cleared */
} cidrs[] = {
    {"10.0.0.0/8", true, 4, 8, "10.0.0.0"},
    {"192.0.2.1", true, 4, 32, "192.0.2.1"},
    {"192.0.2.1/32", true, 4, 32, "192.0.2.1"},
    {"10.1.2.3/8", true, 4, 8, "10.0.0.0"},
    {"192.0.2.255/25", true, 4, 25, "192.0.2.128"},
    {"0.0.0.0/0", true, 4, 0, "0.0.0.0"},
    {"2001:db8::/32", true, 6, 32, "2001:db8::"},
    {"2001:db8::1", true, 6, 128, "2001:db8::1"},
    {"2001:db8:ffff::/33", true, 6, 33, "2001:db8:8000::"},
    {"::/0", true, 6, 0, "::"},
    {"::ffff:192.0.2.1", true, 6, 128, "::ffff:192.0.2.1"},
    {"10.0.0.0/33", false, 0, 0, NULL},
    {"2001:db8::/129", false, 0, 0, NULL},
    {"2001:db8::/1280", false, 0, 0, NULL},
    {"10.0.0.0/", false, 0, 0, NULL},
    {"/8", false, 0, 0, NULL},
    {"10.0.0/8", false, 0, 0, NULL},
    {"010.0.0.1", false, 0, 0, NULL},
    {"10.0.0.0/8/8", false, 0, 0, NULL},
    {"10.0.0.0/-1", false, 0, 0, NULL},
    {"10.0.0.0/+8", false, 0, 0, NULL},
    {"10.0.0.0/ 8", false, 0, 0, NULL},
    {"10.0.0.0 /8", false, 0, 0, NULL},
    {"10.0.0.0/8 ", false, 0, 0, NULL},
    {"10.0.0.0/0008", false, 0, 0, NULL},
    {"256.0.0.0/8", false, 0, 0, NULL},
    {"fe80::1%eth0", false, 0, 0, NULL},
    {"2001:db8:::/32", false, 0, 0, NULL},
    {"", false, 0, 0, NULL},
    {"abc", false, 0, 0, NULL},
    {"1111:2222:3333:4444:5555:6666:7777:8888:9999/64", false, 0, 0, NULL},
};

static const struct {
    const char *cidr, *addr;
    bool inside;
} contains[] = {
    {"10.0.0.0/8", "10.255.1.2", true},
    {"10.0.0.0/8", "11.0.0.0", false},
    {"10.0.0.0/8", "9.255.255.255", false},
    {"192.0.2.1", "192.0.2.1", true},
    {"192.0.2.1", "192.0.2.2", false},
    {"192.0.2.0/25", "192.0.2.127", true},
    {"192.0.2.0/25", "192.0.2.128", false},
    {"0.0.0.0/0", "203.0.113.9", true},
    {"0.0.0.0/0", "::1", false}, /* families differ */
    {"::/0", "192.0.2.1", false},
    {"::/0", "::1", true},
    {"10.0.0.0/8", "::ffff:10.0.0.1", false},
    {"2001:db8::/32", "2001:db8:1::5", true},
    {"2001:db8::/32", "2001:db9::1", false},
    {"2001:db8::/33", "2001:db8:7fff::1", true},
    {"2001:db8::/33", "2001:db8:8000::1", false},
    {"2001:db8::1", "2001:db8::1", true},
    {"2001:db8::1", "2001:db8::2", false},
};

static void test_cidr(void)
{
    for (size_t i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++) {
        struct cidr c;
        memset(&c, 0xaa, sizeof(c));
        bool ok = cidr_parse(cidrs[i].text, &c);
        CHECK_INT(ok, cidrs[i].ok);
        if (ok != cidrs[i].ok)
            fprintf(stderr, "  (cidr \"%s\")\n", cidrs[i].text);
        if (!ok || !cidrs[i].ok)
            continue;
        struct ip_addr net;
        CHECK(addr(cidrs[i].network, &net));
        CHECK_INT(c.addr.family, cidrs[i].family);
        CHECK_INT(c.prefix_len, cidrs[i].prefix);
        CHECK(memcmp(c.addr.a, net.a, sizeof(net.a)) == 0);
    }
    CHECK(!cidr_parse(NULL, NULL));

    for (size_t i = 0; i < sizeof(contains) / sizeof(contains[0]); i++) {
        struct cidr c;
        struct ip_addr a;
        CHECK(cidr_parse(contains[i].cidr, &c));
        CHECK(addr(contains[i].addr, &a));
        bool got = cidr_contains(&c, &a);
        CHECK_INT(got, contains[i].inside);
        if (got != contains[i].inside)
            fprintf(stderr, "  (%s in %s)\n", contains[i].addr, contains[i].cidr);
    }
    struct ip_addr unset;
    struct cidr all;
    memset(&unset, 0, sizeof(unset));
    CHECK(cidr_parse("0.0.0.0/0", &all));
    CHECK(!cidr_contains(&all, &unset));
}

static void test_trunks(void)
{
    static const char text[] = "[numbers]\ntrunks = 192.0.2.0/24 2001:db8:5::/48, 198.51.100.7\n";
    static const struct {
        const char *addr;
        bool trunk;
    } cases[] = {
        {"192.0.2.1", true},          {"192.0.2.254", true},    {"192.0.3.1", false},
        {"198.51.100.7", true},       {"198.51.100.8", false},  {"2001:db8:5::1", true},
        {"2001:db8:5:ffff::1", true}, {"2001:db8:6::1", false}, {"::ffff:192.0.2.1", false},
    };
    struct config c;
    int errors;
    char *msgs = load_text(&c, text, sizeof(text) - 1, &errors);
    CHECK_INT(errors, 0);
    free(msgs);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ip_addr a;
        CHECK(addr(cases[i].addr, &a));
        CHECK_INT(config_is_trunk(&c, &a), cases[i].trunk);
    }
    /* No trunk configured: nothing is a trunk. */
    struct ip_addr a;
    config_defaults(&c);
    CHECK(addr("192.0.2.1", &a));
    CHECK(!config_is_trunk(&c, &a));
}

static void note_change(void *user, const char *section, const char *key)
{
    char *out = user;
    size_t len = strlen(out);
    snprintf(out + len, 512 - len, "[%s] %s;", section, key);
}

/* The daemon's reload: the keys whose values differ, strings compared as strings (a
 * shorter value over a longer default leaves old bytes after the NUL). */
static void test_diff(void)
{
    static const char first[] = "[storage]\ndata_dir = /a\n[capture]\nstats_interval = 1m\n"
                                "interfaces = eth0 eth1\n[daemon]\nuser = rec\n";
    static const char second[] = "[storage]\ndata_dir = /a\n[capture]\nstats_interval = 60\n"
                                 "interfaces = eth0\n[sip]\nports = 5060 5080\n"
                                 "[log]\nlevel = debug\n[daemon]\nuser = rec\n";
    struct config a, b;
    int errors;
    free(load_text(&a, first, sizeof(first) - 1, &errors));
    CHECK_INT(errors, 0);
    CHECK_INT(a.stats_interval_s, 60);
    CHECK_STR(a.user, "rec");
    free(load_text(&b, second, sizeof(second) - 1, &errors));
    CHECK_INT(errors, 0);
    char changes[512] = "";
    config_diff(&a, &b, note_change, changes);
    CHECK_STR(changes, "[capture] interfaces;[sip] ports;[log] level;");
    changes[0] = '\0';
    config_diff(&a, &a, note_change, changes);
    CHECK_STR(changes, "");

    free(load_text(&a, "[daemon]\nuser =\n", 15, &errors));
    CHECK_INT(errors, 1);
}

/* conf/greffier.conf is exactly what the keyword table prints, and reads back as the
 * defaults. */
static void test_shipped_conf(void)
{
    char *want = NULL, *got = NULL;
    size_t wantlen = 0, gotlen = 0;
    FILE *mem = open_memstream(&want, &wantlen);
    config_write_defaults(mem);
    fclose(mem);

    FILE *f = fopen("conf/greffier.conf", "rb");
    CHECK(f != NULL);
    if (f) {
        mem = open_memstream(&got, &gotlen);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
            fwrite(buf, 1, n, mem);
        fclose(mem);
        fclose(f);
        CHECK_STR(got, want);
        if (strcmp(got, want) != 0)
            fprintf(stderr, "  conf/greffier.conf is stale: regenerate it with\n"
                            "  build/asan/tests/test_config --write-defaults > "
                            "conf/greffier.conf\n");
        free(got);
    }
    free(want);

    struct config loaded, defaults;
    CHECK_INT(config_load(&loaded, "conf/greffier.conf", stderr), 0);
    config_defaults(&defaults);
    CHECK_STR(loaded.path, "conf/greffier.conf");
    memset(loaded.path, 0, sizeof(loaded.path));
    CHECK(memcmp(&loaded, &defaults, sizeof(loaded)) == 0);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--write-defaults") == 0) {
        config_write_defaults(stdout);
        return 0;
    }
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    snprintf(conf_path, sizeof(conf_path), "%s/greffier.conf", tmpdir);

    test_defaults();
    test_every_key();
    test_broken();
    test_limits();
    test_cidr();
    test_trunks();
    test_diff();
    test_shipped_conf();

    unlink(conf_path);
    rmdir(tmpdir);
    return TEST_REPORT("test_config");
}

/*
 * config.h - greffier.conf: INI sections and keys, each with a parser and a default.
 *
 * The keyword table in src/config/config.c is the single list of settings; `config
 * check` and the daemon both go through config_load(), which reports every error as
 * FILE:LINE: message and refuses unknown sections and keys.
 */
#ifndef GREFFIER_CONFIG_H
#define GREFFIER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "greffier/number.h"
#include "greffier/packet.h"

#define CONFIG_MAX_LIST 64

struct cidr {
    struct ip_addr addr;
    uint8_t prefix_len;
};

/* Recording rules: [rule NAME] sections, kept in file order (see docs/RULES.md; the
 * matching is in src/rules/rules.c, include/greffier/rules.h). */
#define RULES_MAX 32      /* [rule NAME] sections per file */
#define RULE_MAX_ITEMS 16 /* patterns or networks per key */
#define RULE_MAX_HOURS 4  /* time windows per rule */
#define RULE_MAX_TAGS 8
#define RULE_NAME_SIZE 48
#define RULE_TAG_SIZE 32
#define DTMF_CODE_SIZE 9 /* [rules] keep_code ...: up to 8 of 0-9 * # A-D */

enum rules_action {
    RULES_RECORD = 0,
    RULES_SKIP,
    RULES_SAMPLE,    /* record sample_percent % of the calls, chosen from the Call-ID */
    RULES_ON_DEMAND, /* recorded as pending: kept or destroyed on a decision (docs/RULES.md) */
};

struct config_rule {
    char name[RULE_NAME_SIZE];
    unsigned line; /* of its [rule NAME] header, for error messages */
    uint32_t keys_set; /* one bit per rule key: each may appear once */

    /* Conditions: an empty one matches every call; all given ones must match. */
    char caller[RULE_MAX_ITEMS][40];
    size_t ncaller;
    char callee[RULE_MAX_ITEMS][40];
    size_t ncallee;
    char number[RULE_MAX_ITEMS][40]; /* caller or callee */
    size_t nnumber;
    unsigned directions; /* bit (1 << enum call_direction); 0: any */
    struct cidr address[RULE_MAX_ITEMS]; /* caller's or callee's signalling address */
    size_t naddress;
    unsigned days; /* bit 0 Monday .. bit 6 Sunday; 0: any */
    struct {
        uint16_t from, to; /* minutes after local midnight; to < from crosses midnight */
    } hours[RULE_MAX_HOURS];
    size_t nhours;

    /* Decision. */
    bool has_action;
    enum rules_action action;
    unsigned sample_percent; /* 1..100, 0 when not given */
    unsigned retention_days; /* 0 when not given */
    char tags[RULE_MAX_TAGS][RULE_TAG_SIZE];
    size_t ntags;
};

/* [storage] on_disk_full: what the capture daemon does when the disk is nearly full. */
enum disk_full_action {
    DISK_FULL_STOP = 0,     /* new calls are indexed but not recorded */
    DISK_FULL_PURGE_OLDEST, /* the oldest recordings not on hold are purged first */
};

/* [retention] purge_approval: AUTO follows public_body (required for a public body). */
enum purge_approval { PURGE_APPROVAL_AUTO = 0, PURGE_APPROVAL_NONE, PURGE_APPROVAL_REQUIRED };

/* [retention] tags: "litige:3650" keeps calls tagged litige 3650 days. */
struct retention_tag {
    char tag[RULE_TAG_SIZE];
    unsigned days;
};

struct config {
    char path[4096]; /* file it was read from, empty for built-in defaults */

    /* [storage] */
    char data_dir[4096]; /* default /var/lib/greffier */
    unsigned min_free_percent; /* below it the disk_low alarm is raised, default 10 */
    int on_disk_full;          /* enum disk_full_action, default stop */

    /* [capture] */
    char interfaces[CONFIG_MAX_LIST][64];
    size_t ninterfaces;
    char bpf_filter[1024]; /* empty: greffier builds one from sip_ports */
    unsigned snaplen;      /* default 65535 */
    unsigned buffer_mb;    /* TPACKET_V3 ring size, default 64 */
    bool promiscuous;      /* default yes */
    unsigned stats_interval_s; /* kernel drop counters read this often, default 10 */

    /* [sip] */
    uint16_t sip_ports[CONFIG_MAX_LIST]; /* default 5060 */
    size_t nsip_ports;
    uint16_t sip_tls_ports[CONFIG_MAX_LIST]; /* default 5061: counted as unreadable */
    size_t nsip_tls_ports;
    bool sip_detect_any_port; /* default yes: recognise SIP by its start line anywhere */
    unsigned call_timeout_s;  /* silence that ends a call without BYE, default 300 */
    unsigned ringing_timeout_s; /* unanswered INVITE with no final response, default 180 */
    unsigned max_calls;       /* calls tracked at once, default 100000 */
    unsigned max_messages_per_call; /* default 1000 */
    unsigned max_message_bytes;     /* default 65535 */

    /* [numbers] */
    struct number_plan plan;
    char internal_patterns[CONFIG_MAX_LIST][40];
    size_t ninternal_patterns;
    struct cidr trunks[CONFIG_MAX_LIST]; /* trunk / SBC / provider addresses */
    size_t ntrunks;

    /* [media] */
    bool keep_early_media;      /* record from the first early media (183), default yes */
    unsigned opus_bitrate;      /* bits/s for both channels together, default 12000 */
    unsigned opus_frame_ms;     /* 20, 40 or 60, default 60 */
    unsigned opus_complexity;   /* 0..10, default 0 */
    unsigned jitter_window_ms;  /* how long audio waits for late packets, default 500 */
    unsigned reorder_slots;     /* packets held per stream to undo reordering, default 16 */
    unsigned encoder_threads;   /* 1: encode on the pipeline thread; more: worker threads */

    /* [vault] */
    unsigned seal_interval_s; /* fdatasync of a recording at least this often, default 5 */

    /* [http] */
    char http_listen[128];    /* ADDR:PORT of `greffier serve`, default 127.0.0.1:8080 */
    char http_tls_cert[4096]; /* PEM files; both empty: plain HTTP */
    char http_tls_key[4096];
    bool http_allow_plain_non_loopback; /* default no */
    unsigned http_session_idle_s;       /* default 30 min */
    unsigned http_session_max_s;        /* default 12 h */
    unsigned http_max_connections;      /* default 64 */
    char http_metrics_token[128];       /* /metrics beyond loopback; empty: loopback only */

    /* [daemon] */
    char user[64]; /* account the daemon switches to when started as root, default greffier */

    /* [log] */
    int log_level; /* syslog priority, default LOG_INFO */

    /* [alarms] (alarm.h; the web banner and /metrics show them) */
    unsigned alarm_no_packets_s; /* an interface silent this long, default 5 min */
    unsigned alarm_drops_min;    /* drops per stats interval that raise "drops", 0: off */
    unsigned alarm_one_way_s;    /* answered this long with one direction silent, default 10 */

    /* [rules] */
    char rules_timezone[64]; /* TZ database name; empty: the system's local time */
    char never_record[CONFIG_MAX_LIST][40]; /* numbers no rule can record */
    size_t nnever_record;
    int rules_default; /* enum rules_action: RULES_RECORD or RULES_SKIP */
    bool keep_metadata_of_unrecorded; /* default yes */
    unsigned on_demand_grace_s;       /* after the end of an undecided on_demand call */
    char keep_code[DTMF_CODE_SIZE];   /* DTMF from the agent's side; "" disables */
    char discard_code[DTMF_CODE_SIZE];
    char malicious_code[DTMF_CODE_SIZE];

    /* [retention] (src/retention/, docs/RETENTION.md) */
    unsigned retention_default_days; /* default 180 */
    struct retention_tag retention_tags[CONFIG_MAX_LIST];
    size_t nretention_tags;
    bool public_body;   /* purges are eliminations of public archives, default no */
    int purge_approval; /* enum purge_approval, default auto */
    char legal_basis[1024];
    unsigned purge_hour; /* local hour of the daemon's daily purge, default 3 */

    /* [rule NAME] sections, in file order */
    struct config_rule rules[RULES_MAX];
    size_t nrules;
};

void config_defaults(struct config *cfg);

/* Sets every key to its default, then reads path over them (cfg->path records it).
 * Sections named "rule NAME" are recording rules; after reading, the rules are checked
 * as a whole (unreachable or contradictory rules are errors too).  [rules] timezone is
 * only read here: rules_apply_timezone() (rules.h) makes the process use it, once at
 * start-up, so that a reload that is refused or needs a restart leaves TZ alone.
 * Every error is printed to errout (when not NULL) as "path:line: msg"; returns the
 * number of errors (0 when the file is valid).  After errors, cfg holds the defaults
 * overwritten by the keys that were valid. */
int config_load(struct config *cfg, const char *path, FILE *errout);

/* Prints a complete greffier.conf: every section and key with its help as comments and
 * its default value (conf/greffier.conf is this output). */
void config_write_defaults(FILE *out);

/* Calls changed(user, section, key) for every key whose value differs between a and b
 * (the daemon's SIGHUP reload reports what changed and what needs a restart). */
void config_diff(const struct config *a, const struct config *b,
                 void (*changed)(void *user, const char *section, const char *key), void *user);

/* True when purges need an approved proposal (purge_approval, or a public body). */
bool config_purge_approval_required(const struct config *cfg);

/* True when addr is inside one of the trunk networks. */
bool config_is_trunk(const struct config *cfg, const struct ip_addr *addr);
/* "10.0.0.0/8", "2001:db8::/32", or a single address ("192.0.2.1" is /32).  Host bits
 * are cleared ("10.1.2.3/8" becomes 10.0.0.0/8); false for anything else. */
bool cidr_parse(const char *text, struct cidr *out);
/* False when the address families differ (an IPv4-mapped IPv6 address is IPv6). */
bool cidr_contains(const struct cidr *c, const struct ip_addr *addr);

#endif

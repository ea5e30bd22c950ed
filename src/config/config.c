/*
 * config.c - greffier.conf: a small INI reader and the keyword table that is the single
 * list of settings.
 *
 * Each row of the table names a section and key, the value type (its parser and the
 * line that documents its syntax), where the value lives in struct config, its default
 * as text and a one-line help.  config_defaults() parses the default texts with the same
 * parsers as the file, and config_write_defaults() prints conf/greffier.conf from the
 * same rows, so the defaults, the parser and the documentation cannot drift apart.
 *
 * The reader is hand-written rather than inih because a config test must report every
 * error with its line number, not stop at the first one (OpenBSD's `ntpd -n`,
 * `nginx -t`).  Syntax: "[section]", "key = value", full-line comments starting with
 * '#' or ';', inline comments starting with '#' after a blank, optional double or single
 * quotes around a value (no escapes).  The file must be UTF-8 (RFC 3629) without NUL
 * bytes (a leading byte order mark is skipped), lines at most 4096 bytes.  Keys may
 * appear once per file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "greffier/config.h"
#include "greffier/log.h"
#include "greffier/rules.h"
#include "greffier/span.h"

enum {
    LINE_MAX_BYTES = 4096,
    FILE_MAX_BYTES = 1 << 20,
    ERR_SIZE = 512,
    ITEM_MAX_BYTES = 128, /* one list item: a name, a pattern, a network */
    SHOW_MAX = 60,        /* user text quoted in an error message */
};

struct keyword;

/* Parses value (NUL-terminated, quotes and comments removed) into cfg; on failure writes
 * "key: why" into err and leaves cfg unchanged. */
typedef bool parse_fn(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                      size_t errsize);

struct value_type {
    parse_fn *parse;
    /* Prints the comment line describing accepted values, or nothing. */
    void (*describe)(const struct keyword *kw, FILE *out);
    /* The value (or each item of a list) is a NUL-terminated string: compared up to its
     * NUL, since the bytes after it may be left from an earlier, longer value. */
    bool text;
};

struct keyword {
    const char *section;
    const char *key;
    const struct value_type *type;
    size_t offset;          /* the field in struct config */
    size_t size;            /* size of the field, or of one element of a list */
    size_t count_offset;    /* lists: the size_t item count */
    unsigned long min, max; /* numbers: range; digit strings: length range */
    const char *def;        /* default, parsed like a value from the file */
    const char *help;
};

static void *field(struct config *cfg, const struct keyword *kw)
{
    return (char *)cfg + kw->offset;
}

static size_t *count_field(struct config *cfg, const struct keyword *kw)
{
    return (size_t *)(void *)((char *)cfg + kw->count_offset);
}

/* Copies user text for an error message: control bytes become \xHH and long text is cut,
 * so a hostile file cannot put terminal escapes or a megabyte into the message. */
static const char *show(const char *text, size_t len, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (i == SHOW_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o] = '\0';
    return buf;
}

static const char *show_str(const char *text, char *buf, size_t size)
{
    return show(text, strlen(text), buf, size);
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static struct span trim(struct span s)
{
    while (s.len > 0 && is_blank(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && is_blank(s.p[s.len - 1]))
        s.len--;
    return s;
}

static bool span_eq(struct span s, const char *word)
{
    size_t n = strlen(word);
    return s.len == n && memcmp(s.p, word, n) == 0;
}

/* Reads an unsigned decimal number with no sign or blank; *end gets the first byte after
 * the digits.  Saturates instead of overflowing so "99999999999999999999" is "out of
 * range", not a wrapped small number. */
static bool read_decimal(const char *s, unsigned long *v, const char **end)
{
    enum { SATURATE = 1000000000UL };
    unsigned long n = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (unsigned long)(*p - '0');
        if (n > SATURATE)
            n = SATURATE + 1;
    }
    *v = n;
    *end = p;
    return p != s;
}

/* ---- list splitting ---------------------------------------------------------------- */

struct list {
    size_t n;
    char items[CONFIG_MAX_LIST][ITEM_MAX_BYTES];
};

/* Splits a list separated by commas and blanks; false with err set when an item is too
 * long or there are more than CONFIG_MAX_LIST items. */
static bool split_list(const struct keyword *kw, const char *value, struct list *l, char *err,
                       size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    const char *p = value;
    l->n = 0;
    for (;;) {
        while (*p == ',' || is_blank((uint8_t)*p))
            p++;
        if (*p == '\0')
            return true;
        size_t len = strcspn(p, ", \t");
        if (l->n == CONFIG_MAX_LIST) {
            snprintf(err, errsize, "%s: more than %d items", kw->key, CONFIG_MAX_LIST);
            return false;
        }
        if (len >= ITEM_MAX_BYTES) {
            snprintf(err, errsize, "%s: \"%s\" is too long", kw->key, show(p, len, sh, sizeof(sh)));
            return false;
        }
        memcpy(l->items[l->n], p, len);
        l->items[l->n][len] = '\0';
        l->n++;
        p += len;
    }
}

/* ---- value types ------------------------------------------------------------------- */

static bool parse_string(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                         size_t errsize)
{
    size_t len = strlen(value);
    if (len >= kw->size) {
        snprintf(err, errsize, "%s: longer than %zu bytes", kw->key, kw->size - 1);
        return false;
    }
    memcpy(field(cfg, kw), value, len + 1);
    return true;
}

static bool parse_path(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                       size_t errsize)
{
    if (value[0] == '\0') {
        snprintf(err, errsize, "%s: must not be empty", kw->key);
        return false;
    }
    return parse_string(kw, value, cfg, err, errsize);
}

static bool parse_bool(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                       size_t errsize)
{
    static const struct {
        const char *word;
        bool v;
    } words[] = {
        {"yes", true}, {"no", false},  {"true", true}, {"false", false},
        {"on", true},  {"off", false}, {"1", true},    {"0", false},
    };
    char sh[SHOW_MAX * 4 + 8];
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(value, words[i].word) == 0) {
            *(bool *)field(cfg, kw) = words[i].v;
            return true;
        }
    }
    snprintf(err, errsize, "%s: \"%s\" is not a boolean (yes/no, true/false, on/off, 1/0)", kw->key,
             show_str(value, sh, sizeof(sh)));
    return false;
}

static void describe_bool(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out, "# Values: yes/no, true/false, on/off, 1/0.\n");
}

static bool parse_uint(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                       size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    unsigned long v;
    const char *end;
    if (!read_decimal(value, &v, &end) || *end != '\0') {
        snprintf(err, errsize, "%s: \"%s\" is not a number", kw->key,
                 show_str(value, sh, sizeof(sh)));
        return false;
    }
    if (v < kw->min || v > kw->max) {
        snprintf(err, errsize, "%s: \"%s\" is out of range (%lu..%lu)", kw->key,
                 show_str(value, sh, sizeof(sh)), kw->min, kw->max);
        return false;
    }
    *(unsigned *)field(cfg, kw) = (unsigned)v;
    return true;
}

static void describe_uint(const struct keyword *kw, FILE *out)
{
    fprintf(out, "# Range: %lu..%lu.\n", kw->min, kw->max);
}

/* Seconds, or a number with a unit: "90", "90s", "5m", "2h". */
static bool parse_seconds(const struct keyword *kw, const char *value, struct config *cfg,
                          char *err, size_t errsize)
{
    static const struct {
        char suffix;
        unsigned long factor;
    } units[] = {{'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}};
    char sh[SHOW_MAX * 4 + 8];
    unsigned long v, factor = 0;
    const char *end;
    bool number = read_decimal(value, &v, &end);
    for (size_t i = 0; number && i < sizeof(units) / sizeof(units[0]); i++) {
        if (end[0] == units[i].suffix && (end[0] == '\0' || end[1] == '\0'))
            factor = units[i].factor;
    }
    if (factor == 0) {
        snprintf(err, errsize,
                 "%s: \"%s\" is not a duration (seconds, or a number followed by s, m or h)",
                 kw->key, show_str(value, sh, sizeof(sh)));
        return false;
    }
    v *= factor; /* read_decimal saturates at 1e9, so this cannot overflow 64 bits */
    if (v < kw->min || v > kw->max) {
        snprintf(err, errsize, "%s: \"%s\" is out of range (%lu..%lu seconds)", kw->key,
                 show_str(value, sh, sizeof(sh)), kw->min, kw->max);
        return false;
    }
    *(unsigned *)field(cfg, kw) = (unsigned)v;
    return true;
}

static void describe_seconds(const struct keyword *kw, FILE *out)
{
    fprintf(out, "# Range: %lu..%lu seconds; a suffix s, m or h may follow the number (5m).\n",
            kw->min, kw->max);
}

/* A DTMF code such as "*1": 1 to 8 of the sixteen RFC 4733 keys; empty disables it. */
static bool parse_dtmf_code(const struct keyword *kw, const char *value, struct config *cfg,
                            char *err, size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    size_t len = strlen(value);
    if (len >= DTMF_CODE_SIZE || strspn(value, "0123456789*#ABCD") != len) {
        snprintf(err, errsize, "%s: \"%s\" is not a DTMF code (up to %d of 0-9 * # A-D)", kw->key,
                 show_str(value, sh, sizeof(sh)), DTMF_CODE_SIZE - 1);
        return false;
    }
    memcpy(field(cfg, kw), value, len + 1);
    return true;
}

static void describe_dtmf_code(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out, "# Values: up to %d keys of 0-9 * # A-D; empty disables the code.\n",
            DTMF_CODE_SIZE - 1);
}

static bool parse_ports(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                        size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    struct list l;
    uint16_t ports[CONFIG_MAX_LIST];
    if (!split_list(kw, value, &l, err, errsize))
        return false;
    for (size_t i = 0; i < l.n; i++) {
        unsigned long v;
        const char *end;
        if (!read_decimal(l.items[i], &v, &end) || *end != '\0' || v < 1 || v > 65535) {
            snprintf(err, errsize, "%s: \"%s\" is not a port (1..65535)", kw->key,
                     show_str(l.items[i], sh, sizeof(sh)));
            return false;
        }
        ports[i] = (uint16_t)v;
        for (size_t j = 0; j < i; j++) {
            if (ports[j] == ports[i]) {
                snprintf(err, errsize, "%s: port %lu is listed twice", kw->key, v);
                return false;
            }
        }
    }
    memcpy(field(cfg, kw), ports, l.n * sizeof(ports[0]));
    *count_field(cfg, kw) = l.n;
    return true;
}

static void describe_ports(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out, "# Values: up to %d ports (1..65535), separated by commas or spaces.\n",
            CONFIG_MAX_LIST);
}

/* A list of strings, each checked by valid() when given, stored in char[kw->size] slots. */
static bool store_string_list(const struct keyword *kw, const char *value, struct config *cfg,
                              char *err, size_t errsize, bool (*valid)(const char *),
                              const char *what)
{
    char sh[SHOW_MAX * 4 + 8];
    struct list l;
    if (!split_list(kw, value, &l, err, errsize))
        return false;
    for (size_t i = 0; i < l.n; i++) {
        if (strlen(l.items[i]) >= kw->size || (valid && !valid(l.items[i]))) {
            snprintf(err, errsize, "%s: \"%s\" is not %s", kw->key,
                     show_str(l.items[i], sh, sizeof(sh)), what);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(l.items[j], l.items[i]) == 0) {
                snprintf(err, errsize, "%s: \"%s\" is listed twice", kw->key,
                         show_str(l.items[i], sh, sizeof(sh)));
                return false;
            }
        }
    }
    char *slots = field(cfg, kw);
    memset(slots, 0, CONFIG_MAX_LIST * kw->size);
    for (size_t i = 0; i < l.n; i++)
        memcpy(slots + i * kw->size, l.items[i], strlen(l.items[i]) + 1);
    *count_field(cfg, kw) = l.n;
    return true;
}

static bool parse_names(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                        size_t errsize)
{
    return store_string_list(kw, value, cfg, err, errsize, NULL, "an interface name (too long)");
}

static void describe_names(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out, "# Values: up to %d names, separated by commas or spaces.\n", CONFIG_MAX_LIST);
}

static bool parse_patterns(const struct keyword *kw, const char *value, struct config *cfg,
                           char *err, size_t errsize)
{
    return store_string_list(kw, value, cfg, err, errsize, number_pattern_valid,
                             "a number pattern (digits, a leading +, x, a final *)");
}

static void describe_patterns(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out,
            "# Values: up to %d patterns, separated by commas or spaces; digits and a leading\n"
            "# + match themselves, x matches any digit, a final * matches any rest.\n",
            CONFIG_MAX_LIST);
}

static bool parse_cidrs(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                        size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    struct list l;
    struct cidr nets[CONFIG_MAX_LIST];
    if (!split_list(kw, value, &l, err, errsize))
        return false;
    for (size_t i = 0; i < l.n; i++) {
        if (!cidr_parse(l.items[i], &nets[i])) {
            snprintf(err, errsize, "%s: \"%s\" is not an IP address or network", kw->key,
                     show_str(l.items[i], sh, sizeof(sh)));
            return false;
        }
    }
    memcpy(field(cfg, kw), nets, l.n * sizeof(nets[0]));
    *count_field(cfg, kw) = l.n;
    return true;
}

static void describe_cidrs(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out,
            "# Values: up to %d IPv4 or IPv6 addresses or networks (192.0.2.1, 10.0.0.0/8,\n"
            "# 2001:db8::/32), separated by commas or spaces.\n",
            CONFIG_MAX_LIST);
}

/* A string of kw->min..kw->max decimal digits (the number plan's prefixes). */
static bool parse_digits(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                         size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    size_t len = strspn(value, "0123456789");
    if (value[len] != '\0' || len < kw->min || len > kw->max || len >= kw->size) {
        snprintf(err, errsize, "%s: \"%s\" must be %lu to %lu digits", kw->key,
                 show_str(value, sh, sizeof(sh)), kw->min, kw->max);
        return false;
    }
    memcpy(field(cfg, kw), value, len + 1);
    return true;
}

static void describe_digits(const struct keyword *kw, FILE *out)
{
    fprintf(out, "# Values: %lu to %lu digits.\n", kw->min, kw->max);
}

/* E.164 country codes never start with 0 (that would be a prefix, not a country). */
static bool parse_country_code(const struct keyword *kw, const char *value, struct config *cfg,
                               char *err, size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    if (value[0] == '0') {
        snprintf(err, errsize, "%s: \"%s\" cannot start with 0", kw->key,
                 show_str(value, sh, sizeof(sh)));
        return false;
    }
    return parse_digits(kw, value, cfg, err, errsize);
}

static const struct {
    const char *name;
    int level;
} log_levels[] = {
    {"emerg", LOG_EMERG},     {"alert", LOG_ALERT},   {"crit", LOG_CRIT}, {"err", LOG_ERR},
    {"warning", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

static bool parse_log_level(const struct keyword *kw, const char *value, struct config *cfg,
                            char *err, size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
        if (strcmp(value, log_levels[i].name) == 0) {
            *(int *)field(cfg, kw) = log_levels[i].level;
            return true;
        }
    }
    snprintf(err, errsize,
             "%s: \"%s\" is not a log level (emerg, alert, crit, err, warning, notice, info, "
             "debug)",
             kw->key, show_str(value, sh, sizeof(sh)));
    return false;
}

static void describe_log_level(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fprintf(out, "# Values: emerg, alert, crit, err, warning, notice, info, debug.\n");
}

static const struct value_type t_path = {parse_path, NULL, true};
static const struct value_type t_string = {parse_string, NULL, true};
static const struct value_type t_bool = {parse_bool, describe_bool, false};
/* Opus frames of 20, 40 or 60 ms: what the recordings use (2.5-10 ms frames cost more
 * bytes per second and nothing a recorder needs). */
static bool parse_frame_ms(const struct keyword *kw, const char *value, struct config *cfg,
                           char *err, size_t errsize)
{
    if (!parse_uint(kw, value, cfg, err, errsize))
        return false;
    unsigned v = *(unsigned *)field(cfg, kw);
    if (v == 20 || v == 40 || v == 60)
        return true;
    snprintf(err, errsize, "%s: %u is not one of 20, 40, 60", kw->key, v);
    return false;
}

static void describe_frame_ms(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fputs("# One of: 20, 40, 60.\n", out);
}

/* [rules] default: only the two actions that need no parameter. */
static bool parse_rules_default(const struct keyword *kw, const char *value, struct config *cfg,
                                char *err, size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    if (strcmp(value, "record") == 0 || strcmp(value, "skip") == 0) {
        *(int *)field(cfg, kw) = value[0] == 'r' ? RULES_RECORD : RULES_SKIP;
        return true;
    }
    snprintf(err, errsize, "%s: \"%s\" is not record or skip", kw->key,
             show_str(value, sh, sizeof(sh)));
    return false;
}

static void describe_rules_default(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fputs("# One of: record, skip.\n", out);
}

/* Empty (the system's local time) or a TZ database name that is installed. */
static bool parse_timezone(const struct keyword *kw, const char *value, struct config *cfg,
                           char *err, size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    if (value[0] && !rules_timezone_valid(value)) {
        snprintf(err, errsize, "%s: \"%s\" is not an installed time zone (such as Europe/Paris)",
                 kw->key, show_str(value, sh, sizeof(sh)));
        return false;
    }
    return parse_string(kw, value, cfg, err, errsize);
}

static void describe_timezone(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fputs("# Values: a time zone name of the TZ database (Europe/Paris), or empty.\n", out);
}

/* A keyword whose value is one word of a fixed list, stored as its index (an enum). */
struct word_choice {
    const char *word;
    int value;
};

static bool parse_choice(const struct keyword *kw, const char *value, struct config *cfg, char *err,
                         size_t errsize, const struct word_choice *choices, size_t n)
{
    char sh[SHOW_MAX * 4 + 8];
    size_t o = 0;
    char list[128] = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(value, choices[i].word) == 0) {
            *(int *)field(cfg, kw) = choices[i].value;
            return true;
        }
        int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", choices[i].word);
        if (w > 0 && (size_t)w < sizeof(list) - o)
            o += (size_t)w;
    }
    snprintf(err, errsize, "%s: \"%s\" is not one of %s", kw->key, show_str(value, sh, sizeof(sh)),
             list);
    return false;
}

static const struct word_choice disk_full_words[] = {
    {"stop", DISK_FULL_STOP},
    {"purge_oldest", DISK_FULL_PURGE_OLDEST},
};
static const struct word_choice approval_words[] = {
    {"auto", PURGE_APPROVAL_AUTO},
    {"none", PURGE_APPROVAL_NONE},
    {"required", PURGE_APPROVAL_REQUIRED},
};

static bool parse_disk_full(const struct keyword *kw, const char *value, struct config *cfg,
                            char *err, size_t errsize)
{
    return parse_choice(kw, value, cfg, err, errsize, disk_full_words,
                        sizeof(disk_full_words) / sizeof(disk_full_words[0]));
}

static void describe_disk_full(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fputs("# One of: stop, purge_oldest.\n", out);
}

static bool parse_approval(const struct keyword *kw, const char *value, struct config *cfg,
                           char *err, size_t errsize)
{
    return parse_choice(kw, value, cfg, err, errsize, approval_words,
                        sizeof(approval_words) / sizeof(approval_words[0]));
}

static void describe_approval(const struct keyword *kw, FILE *out)
{
    (void)kw;
    fputs("# One of: auto (required when public_body = yes, else none), none, required.\n", out);
}

/* "TAG:DAYS, TAG:DAYS": the retention of calls carrying a tag. */
static bool parse_tag_periods(const struct keyword *kw, const char *value, struct config *cfg,
                              char *err, size_t errsize)
{
    char sh[SHOW_MAX * 4 + 8];
    struct list l;
    struct retention_tag periods[CONFIG_MAX_LIST];
    if (!split_list(kw, value, &l, err, errsize))
        return false;
    memset(periods, 0, sizeof(periods));
    for (size_t i = 0; i < l.n; i++) {
        char *colon = strchr(l.items[i], ':');
        unsigned long days = 0;
        const char *end = NULL;
        if (colon)
            *colon = '\0';
        if (!colon || !rules_name_valid(l.items[i]) || strlen(l.items[i]) >= RULE_TAG_SIZE ||
            !read_decimal(colon + 1, &days, &end) || *end != '\0' || days < kw->min ||
            days > kw->max) {
            if (colon)
                *colon = ':';
            snprintf(err, errsize,
                     "%s: \"%s\" is not TAG:DAYS (a tag of letters, digits, _ - ., "
                     "and %lu..%lu days)",
                     kw->key, show_str(l.items[i], sh, sizeof(sh)), kw->min, kw->max);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(periods[j].tag, l.items[i]) == 0) {
                snprintf(err, errsize, "%s: tag \"%s\" is listed twice", kw->key,
                         show_str(l.items[i], sh, sizeof(sh)));
                return false;
            }
        }
        memcpy(periods[i].tag, l.items[i], strlen(l.items[i]) + 1);
        periods[i].days = (unsigned)days;
    }
    memcpy(field(cfg, kw), periods, sizeof(periods));
    *count_field(cfg, kw) = l.n;
    return true;
}

static void describe_tag_periods(const struct keyword *kw, FILE *out)
{
    fprintf(out,
            "# Values: up to %d TAG:DAYS items (DAYS %lu..%lu), separated by commas or "
            "spaces.\n",
            CONFIG_MAX_LIST, kw->min, kw->max);
}

static const struct value_type t_uint = {parse_uint, describe_uint, false};
static const struct value_type t_disk_full = {parse_disk_full, describe_disk_full, false};
static const struct value_type t_approval = {parse_approval, describe_approval, false};
static const struct value_type t_tag_periods = {parse_tag_periods, describe_tag_periods, false};
static const struct value_type t_frame_ms = {parse_frame_ms, describe_frame_ms, false};
static const struct value_type t_seconds = {parse_seconds, describe_seconds, false};
static const struct value_type t_dtmf_code = {parse_dtmf_code, describe_dtmf_code, true};
static const struct value_type t_ports = {parse_ports, describe_ports, false};
static const struct value_type t_names = {parse_names, describe_names, true};
static const struct value_type t_patterns = {parse_patterns, describe_patterns, true};
static const struct value_type t_cidrs = {parse_cidrs, describe_cidrs, false};
static const struct value_type t_digits = {parse_digits, describe_digits, true};
static const struct value_type t_country_code = {parse_country_code, describe_digits, true};
static const struct value_type t_log_level = {parse_log_level, describe_log_level, false};
static const struct value_type t_rules_default = {parse_rules_default, describe_rules_default,
                                                  false};
static const struct value_type t_timezone = {parse_timezone, describe_timezone, true};

/* ---- the keyword table ------------------------------------------------------------- */

#define AT(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define LIST(f, n)                                                                                 \
    .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f[0]),              \
    .count_offset = offsetof(struct config, n)

/* Ordered by section: config_write_defaults() prints it as it stands. */
static const struct keyword keywords[] = {
    {"storage", "data_dir", &t_path, AT(data_dir), .def = "/var/lib/greffier",
     .help = "Directory holding the index, the recordings and the keys (greffier -d overrides "
             "it)."},
    {"storage", "min_free_percent", &t_uint, AT(min_free_percent), .min = 1, .max = 99, .def = "10",
     .help = "Free space of the data directory's file system, in percent, below which the "
             "capture daemon raises the disk_low alarm; below half of it, on_disk_full "
             "applies."},
    {"storage", "on_disk_full", &t_disk_full, AT(on_disk_full), .def = "stop",
     .help = "When free space falls below half of min_free_percent (or a write fails for lack "
             "of space): stop = new calls are still indexed but not recorded (counted); "
             "purge_oldest = the oldest recordings not on legal hold are purged until the "
             "threshold is met again."},

    {"capture", "interfaces", &t_names, LIST(interfaces, ninterfaces), .def = "",
     .help = "Network interfaces to capture on; empty captures on all of them (the pcap "
             "\"any\" device)."},
    {"capture", "bpf_filter", &t_string, AT(bpf_filter), .def = "",
     .help = "Capture filter in pcap-filter(7) syntax; empty lets greffier build one: the SIP "
             "and SIP-over-TLS ports, all UDP (RTP), IP fragments and tunnels, under 802.1Q "
             "tags too (see greffier.conf(5))."},
    {"capture", "snaplen", &t_uint, AT(snaplen), .min = 256, .max = 262144, .def = "65535",
     .help = "Bytes kept of each packet; smaller values cut long SIP messages."},
    {"capture", "buffer_mb", &t_uint, AT(buffer_mb), .min = 1, .max = 4096, .def = "64",
     .help = "Size of the kernel capture ring in MiB; raise it when the summary shows drops."},
    {"capture", "promiscuous", &t_bool, AT(promiscuous), .def = "yes",
     .help = "Put the interfaces in promiscuous mode (needed on a mirror port)."},
    {"capture", "stats_interval", &t_seconds, AT(stats_interval_s), .min = 1, .max = 3600,
     .def = "10",
     .help = "How often the kernel's capture statistics are read; packets the kernel or the "
             "interface dropped are counted and logged (at most once a minute)."},

    {"sip", "ports", &t_ports, LIST(sip_ports, nsip_ports), .def = "5060",
     .help = "UDP, TCP and SCTP ports carrying SIP."},
    {"sip", "tls_ports", &t_ports, LIST(sip_tls_ports, nsip_tls_ports), .def = "5061",
     .help = "Ports carrying SIP over TLS: greffier cannot read them and only counts the flows."},
    {"sip", "detect_any_port", &t_bool, AT(sip_detect_any_port), .def = "yes",
     .help = "Also recognise SIP on other ports by its start line."},
    {"sip", "call_timeout", &t_seconds, AT(call_timeout_s), .min = 10, .max = 86400, .def = "300",
     .help = "A call with neither signalling nor media for this long is ended without a BYE."},
    {"sip", "ringing_timeout", &t_seconds, AT(ringing_timeout_s), .min = 10, .max = 86400,
     .def = "180", .help = "An INVITE without a final response for this long is given up."},
    {"sip", "max_calls", &t_uint, AT(max_calls), .min = 1, .max = 10000000, .def = "100000",
     .help = "Calls tracked at once; new calls beyond it are counted and not recorded."},
    {"sip", "max_messages_per_call", &t_uint, AT(max_messages_per_call), .min = 10, .max = 1000000,
     .def = "1000", .help = "SIP messages kept per call; later ones are counted, not stored."},
    {"sip", "max_message_bytes", &t_uint, AT(max_message_bytes), .min = 1024, .max = 1048576,
     .def = "65535", .help = "Largest SIP message accepted (after TCP reassembly)."},

    {"numbers", "country_code", &t_country_code, AT(plan.country_code), .min = 1, .max = 3,
     .def = "33",
     .help = "Country code of the site, used to write numbers in international "
             "form for search (33: France)."},
    {"numbers", "trunk_prefix", &t_digits, AT(plan.trunk_prefix), .min = 0, .max = 3, .def = "0",
     .help = "Prefix of national numbers dialled inside the country (0 in France, 1 "
             "in North America, empty where there is none)."},
    {"numbers", "international_prefix", &t_digits, AT(plan.international_prefix), .min = 1,
     .max = 4, .def = "00",
     .help = "Prefix dialled before a country code (00; 011 in North "
             "America)."},
    {"numbers", "national_length", &t_uint, AT(plan.national_length), .min = 4, .max = 14,
     .def = "9",
     .help = "Digits of a national number without its trunk prefix (9 in France, 10 "
             "in North America)."},
    {"numbers", "internal", &t_patterns, LIST(internal_patterns, ninternal_patterns), .def = "",
     .help = "Patterns of the site's own numbers and extensions, such as 2xxx or 33140*; calls "
             "between two of them are internal."},
    {"numbers", "trunks", &t_cidrs, LIST(trunks, ntrunks), .def = "",
     .help = "Addresses of trunks, SBCs and providers: calls to or from them are external."},

    {"media", "keep_early_media", &t_bool, AT(keep_early_media), .def = "yes",
     .help = "Record from the first early media (ringback, announcements after a 183) rather "
             "than from the answer; the index keeps the answer's offset in the file."},
    {"media", "opus_bitrate", &t_uint, AT(opus_bitrate), .min = 6000, .max = 64000, .def = "12000",
     .help = "Opus bit rate of a recording, both channels together, in bit/s. Each party is "
             "coded as its own mono stream, so neither leaks into the other's channel."},
    {"media", "opus_frame_ms", &t_frame_ms, AT(opus_frame_ms), .min = 20, .max = 60, .def = "60",
     .help = "Opus frame length: 20, 40 or 60 ms (60 costs the least CPU and bytes)."},
    {"media", "opus_complexity", &t_uint, AT(opus_complexity), .min = 0, .max = 10, .def = "0",
     .help = "Opus encoder complexity, 0 (fastest) to 10; under backlog the daemon lowers it "
             "before dropping anything."},
    {"media", "jitter_window_ms", &t_uint, AT(jitter_window_ms), .min = 100, .max = 5000,
     .def = "500",
     .help = "How long audio waits for late or reordered packets before it is encoded; later "
             "packets are counted as late and left out."},
    {"media", "reorder_slots", &t_uint, AT(reorder_slots), .min = 2, .max = 256, .def = "16",
     .help = "RTP packets held per stream to put reordered packets back in sequence."},
    {"media", "encoder_threads", &t_uint, AT(encoder_threads), .min = 1, .max = 64, .def = "1",
     .help = "1: the Opus encoder runs on the capture thread. More: that many worker threads "
             "encode, seal and write the recordings while the capture thread parses, with a "
             "bounded backlog (greffier_encoder_queue_frames in /metrics). Takes a restart."},

    {"vault", "seal_interval", &t_seconds, AT(seal_interval_s), .min = 1, .max = 3600, .def = "5",
     .help = "Recordings are sealed in 4 KiB chunks (about 2.7 s of audio at 12 kbit/s), each "
             "written as soon as it is full; at least this often the file is also flushed to "
             "disk (fdatasync), so a crash loses at most this long plus one chunk."},

    {"http", "listen", &t_string, AT(http_listen), .def = "127.0.0.1:8080",
     .help = "Address and port of the web interface (greffier serve): IPv4 ADDR:PORT or "
             "[IPv6]:PORT. An address other than loopback requires TLS, unless "
             "allow_plain_non_loopback is set."},
    {"http", "tls_cert", &t_string, AT(http_tls_cert), .def = "",
     .help = "PEM certificate chain for HTTPS; with tls_key, the web interface speaks only "
             "TLS. Empty: plain HTTP."},
    {"http", "tls_key", &t_string, AT(http_tls_key), .def = "",
     .help = "PEM private key of tls_cert (readable by the web service only)."},
    {"http", "allow_plain_non_loopback", &t_bool, AT(http_allow_plain_non_loopback), .def = "no",
     .help = "Serve plain HTTP on an address other than loopback (passwords and recordings "
             "would cross the network in clear; only behind a TLS reverse proxy on the same "
             "host)."},
    {"http", "session_idle", &t_seconds, AT(http_session_idle_s), .min = 60, .max = 86400,
     .def = "30m", .help = "A web session unused for this long ends."},
    {"http", "session_max", &t_seconds, AT(http_session_max_s), .min = 300, .max = 604800,
     .def = "12h", .help = "A web session ends this long after its login, used or not."},
    {"http", "max_connections", &t_uint, AT(http_max_connections), .min = 1, .max = 10000,
     .def = "64", .help = "Connections the web interface accepts at once."},
    {"http", "metrics_token", &t_string, AT(http_metrics_token), .def = "",
     .help = "/metrics is served to loopback peers; from any other address only with "
             "\"Authorization: Bearer\" and this token. Empty: loopback peers only."},

    {"daemon", "user", &t_path, AT(user), .def = "greffier",
     .help = "Account that `greffier capture` switches to once its capture sockets are open, "
             "when started as root. \"root\" keeps root (not recommended: packet parsing would "
             "then run with every privilege). Under systemd the unit starts it as this user "
             "already."},

    {"log", "level", &t_log_level, AT(log_level), .def = "info",
     .help = "Most verbose syslog priority written to the journal."},

    {"alarms", "no_packets", &t_seconds, AT(alarm_no_packets_s), .min = 1, .max = 86400,
     .def = "5m",
     .help = "Raise the alarm no_packets:INTERFACE when a capture interface has seen no "
             "packet for this long (a mirror port unplugged or reconfigured)."},
    {"alarms", "drops", &t_uint, AT(alarm_drops_min), .min = 0, .max = 1000000000, .def = "1",
     .help = "Raise the alarm drops when at least this many packets or messages were "
             "dropped (kernel, interface or greffier) between two stats_interval readings; "
             "0 turns it off. It clears after an interval without drops."},
    {"alarms", "one_way_audio", &t_seconds, AT(alarm_one_way_s), .min = 1, .max = 86400,
     .def = "10",
     .help = "A call answered for longer than this with audio in one direction only counts "
             "as one-way audio (NAT or firewall trouble); the alarm one_way_audio gives the "
             "count of the last hour."},

    {"rules", "timezone", &t_timezone, AT(rules_timezone), .def = "",
     .help = "Time zone in which the days and hours of the [rule NAME] sections are read; "
             "empty: the system's local time. It applies to the whole process (TZ)."},
    {"rules", "never_record", &t_patterns, LIST(never_record, nnever_record), .def = "",
     .help = "Numbers never recorded, whatever a rule says (staff representatives, "
             "occupational health): a call to or from one of them keeps no audio."},
    {"rules", "default", &t_rules_default, AT(rules_default), .def = "record",
     .help = "What happens to a call that no [rule NAME] section matches. Rules are "
             "[rule NAME] sections, tried in file order (see greffier.conf(5), RULES.md)."},
    {"rules", "keep_metadata_of_unrecorded", &t_bool, AT(keep_metadata_of_unrecorded), .def = "yes",
     .help = "Keep the index entry (numbers, times, SIP messages) of a call that the rules "
             "did not record; no: such calls leave no trace but a counter."},
    {"rules", "on_demand_grace", &t_seconds, AT(on_demand_grace_s), .min = 0, .max = 86400,
     .def = "120",
     .help = "How long after its end an on_demand call may still be kept (web, API, "
             "greffier keep) before its recording is destroyed (packet time at import)."},
    {"rules", "keep_code", &t_dtmf_code, AT(keep_code), .def = "*1",
     .help = "DTMF code the agent dials during an on_demand call to keep its recording "
             "(from the call's start); codes from the outside party are ignored."},
    {"rules", "discard_code", &t_dtmf_code, AT(discard_code), .def = "*0",
     .help = "DTMF code the agent dials to discard an on_demand call's recording at once."},
    {"rules", "malicious_code", &t_dtmf_code, AT(malicious_code), .def = "*9",
     .help = "DTMF code the agent dials to mark a call malicious: kept, tagged malicious, "
             "put on legal hold, and an alarm raised."},

    {"retention", "default_days", &t_uint, AT(retention_default_days), .min = 1, .max = 36500,
     .def = "180",
     .help = "Days a call (its recording and its index entry) is kept after its end, unless "
             "a rule's retention, a tag period or a legal hold says otherwise (180: the CNIL's "
             "usual limit for recordings kept for quality and training; see RETENTION.md)."},
    {"retention", "tags", &t_tag_periods, LIST(retention_tags, nretention_tags), .min = 1,
     .max = 36500, .def = "",
     .help = "Retention of calls carrying a tag, as TAG:DAYS items (litige:3650, "
             "formation:30); when several apply the longest wins. A rule's retention comes "
             "before them."},
    {"retention", "public_body", &t_bool, AT(public_body), .def = "no",
     .help = "The site is a French public body: its recordings are public archives, whose "
             "elimination needs the visa of the archives service (see purge_approval)."},
    {"retention", "purge_approval", &t_approval, AT(purge_approval), .def = "auto",
     .help = "required: expired calls are purged only through an approved purge proposal "
             "(greffier purge --propose, then --approve N --visa REF); none: purges run as "
             "soon as calls expire."},
    {"retention", "legal_basis", &t_string, AT(legal_basis),
     .def = "Recommandation de la CNIL relative à l'écoute et à l'enregistrement des appels "
            "sur le lieu de travail : conservation des enregistrements 6 mois au plus (180 "
            "jours)",
     .help = "The legal basis of the retention periods, printed on the elimination slip."},
    {"retention", "purge_hour", &t_uint, AT(purge_hour), .min = 0, .max = 23, .def = "3",
     .help = "Local hour at which the capture daemon purges expired calls each day (or, with "
             "approval required, raises the purge_proposal_due alarm)."},
};

enum { NKEYWORDS = sizeof(keywords) / sizeof(keywords[0]) };

#undef AT
#undef LIST

void config_defaults(struct config *cfg)
{
    char err[ERR_SIZE];
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYWORDS; i++) {
        const struct keyword *kw = &keywords[i];
        /* The reader finds a key by scanning its section's rows, so they must be together. */
        for (size_t j = 0; i > 0 && strcmp(keywords[i - 1].section, kw->section) != 0 && j < i;
             j++) {
            if (strcmp(keywords[j].section, kw->section) == 0)
                fatal("config: keyword table: section [%s] is split", kw->section);
        }
        if (!kw->type->parse(kw, kw->def, cfg, err, sizeof(err)))
            fatal("config: built-in default of [%s] %s: %s", kw->section, kw->key, err);
    }
}

/* Prints help as '#' comment lines of at most 80 columns, broken between words. */
static void write_comment(FILE *out, const char *text)
{
    enum { WIDTH = 78 };
    const char *p = text;
    while (*p != '\0') {
        size_t len = strlen(p);
        if (len > WIDTH) {
            len = WIDTH;
            while (len > 0 && p[len] != ' ')
                len--;
            if (len == 0)
                len = strcspn(p, " ");
        }
        fprintf(out, "# %.*s\n", (int)len, p);
        p += len;
        while (*p == ' ')
            p++;
    }
}

void config_write_defaults(FILE *out)
{
    const char *section = NULL;
    fprintf(out, "# greffier.conf - configuration of greffier, the passive SIP call recorder.\n"
                 "#\n"
                 "# Every key is shown with its default value; a key left out keeps it.\n"
                 "# Comments start with # or ; at the start of a line, or with # after a blank.\n"
                 "# Lists are separated by commas or spaces.\n"
                 "# Check a file with: greffier config check\n"
                 "#\n"
                 "# Written by config_write_defaults() from the keyword table in\n"
                 "# src/config/config.c: change the table, not this file.\n");
    for (size_t i = 0; i < NKEYWORDS; i++) {
        const struct keyword *kw = &keywords[i];
        if (!section || strcmp(section, kw->section) != 0) {
            section = kw->section;
            fprintf(out, "\n[%s]\n", section);
        } else {
            fputc('\n', out);
        }
        write_comment(out, kw->help);
        if (kw->type->describe)
            kw->type->describe(kw, out);
        fprintf(out, "%s =%s%s\n", kw->key, kw->def[0] ? " " : "", kw->def);
    }
}

static bool value_equal(const struct keyword *kw, const void *a, const void *b)
{
    if (kw->type->text)
        return strncmp(a, b, kw->size) == 0;
    return memcmp(a, b, kw->size) == 0;
}

void config_diff(const struct config *a, const struct config *b,
                 void (*changed)(void *user, const char *section, const char *key), void *user)
{
    /* field() takes a mutable config; the values are only read here. */
    struct config *ma = (struct config *)a, *mb = (struct config *)b;
    for (size_t i = 0; i < NKEYWORDS; i++) {
        const struct keyword *kw = &keywords[i];
        const char *fa = field(ma, kw), *fb = field(mb, kw);
        bool same;
        if (kw->count_offset) {
            size_t n = *count_field(ma, kw);
            same = n == *count_field(mb, kw);
            for (size_t k = 0; same && k < n; k++)
                same = value_equal(kw, fa + k * kw->size, fb + k * kw->size);
        } else {
            same = value_equal(kw, fa, fb);
        }
        if (!same)
            changed(user, kw->section, kw->key);
    }
    /* Rules are read into zeroed slots, so equal rules are equal bytes. */
    if (a->nrules != b->nrules || memcmp(a->rules, b->rules, a->nrules * sizeof(a->rules[0])) != 0)
        changed(user, "rule", "*");
}

bool config_purge_approval_required(const struct config *cfg)
{
    if (cfg->purge_approval == PURGE_APPROVAL_AUTO)
        return cfg->public_body;
    return cfg->purge_approval == PURGE_APPROVAL_REQUIRED;
}

bool config_is_trunk(const struct config *cfg, const struct ip_addr *addr)
{
    for (size_t i = 0; i < cfg->ntrunks; i++) {
        if (cidr_contains(&cfg->trunks[i], addr))
            return true;
    }
    return false;
}

/* ---- the reader -------------------------------------------------------------------- */

enum { SECTION_NONE = -1, SECTION_UNKNOWN = -2, SECTION_RULE = -3 };

struct reader {
    struct config *cfg;
    const char *path;
    FILE *errout;
    int errors;
    unsigned line;
    int section;                /* index of its first keyword, or SECTION_* */
    struct config_rule *rule;   /* SECTION_RULE: the rule being read */
    unsigned set_on[NKEYWORDS]; /* line where each key was set, 0 when not yet */
};

static void report(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct reader *r, const char *fmt, ...)
{
    r->errors++;
    if (!r->errout)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->errout, "%s:%u: ", r->path, r->line);
    vfprintf(r->errout, fmt, ap);
    fputc('\n', r->errout);
    va_end(ap);
}

/* Offset of the first byte that is not well-formed UTF-8 (RFC 3629 §4: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or s.len when all of it is. */
static size_t utf8_invalid_at(struct span s)
{
    size_t i = 0;
    while (i < s.len) {
        uint8_t c = s.p[i];
        size_t n;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return i;
        }
        if (s.len - i <= n)
            return i;
        if (s.p[i + 1] < lo || s.p[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++) {
            if (s.p[i + k] < 0x80 || s.p[i + k] > 0xbf)
                return i;
        }
        i += n + 1;
    }
    return i;
}

static bool section_known(struct span name, int *first)
{
    for (size_t i = 0; i < NKEYWORDS; i++) {
        if (span_eq(name, keywords[i].section)) {
            *first = (int)i;
            return true;
        }
    }
    return false;
}

/* "[rule NAME]": a new recording rule, in file order. */
static void read_rule_header(struct reader *r, struct span name)
{
    char sh[SHOW_MAX * 4 + 8], text[RULE_NAME_SIZE];
    const char *shown = show((const char *)name.p, name.len, sh, sizeof(sh));
    r->section = SECTION_UNKNOWN;
    if (name.len >= sizeof(text)) {
        report(r, "rule name \"%s\" is longer than %d bytes", shown, RULE_NAME_SIZE - 1);
        return;
    }
    memcpy(text, name.p, name.len);
    text[name.len] = '\0';
    if (!rules_name_valid(text)) {
        report(r, "rule name \"%s\" may hold only letters, digits, _ - and .", shown);
        return;
    }
    for (size_t i = 0; i < r->cfg->nrules; i++) {
        if (strcmp(r->cfg->rules[i].name, text) == 0) {
            report(r, "duplicate rule \"%s\" (first on line %u)", shown, r->cfg->rules[i].line);
            return;
        }
    }
    if (r->cfg->nrules == RULES_MAX) {
        report(r, "more than %d rules", RULES_MAX);
        return;
    }
    struct config_rule *rule = &r->cfg->rules[r->cfg->nrules++];
    memset(rule, 0, sizeof(*rule));
    memcpy(rule->name, text, name.len + 1);
    rule->line = r->line;
    r->rule = rule;
    r->section = SECTION_RULE;
}

static void read_section(struct reader *r, struct span line)
{
    char sh[SHOW_MAX * 4 + 8];
    const uint8_t *close = memchr(line.p, ']', line.len);
    if (!close) {
        report(r, "section header without closing \"]\"");
        r->section = SECTION_UNKNOWN;
        return;
    }
    struct span name = trim(span_make(line.p + 1, (size_t)(close - line.p) - 1));
    struct span after = trim(span_make(close + 1, line.len - (size_t)(close - line.p) - 1));
    if (after.len > 0 && after.p[0] != '#' && after.p[0] != ';') {
        report(r, "text after the section header");
        r->section = SECTION_UNKNOWN;
        return;
    }
    if (name.len > 5 && memcmp(name.p, "rule", 4) == 0 && is_blank(name.p[4])) {
        read_rule_header(r, trim(span_make(name.p + 5, name.len - 5)));
        return;
    }
    if (!section_known(name, &r->section)) {
        report(r, "unknown section [%s]", show((const char *)name.p, name.len, sh, sizeof(sh)));
        r->section = SECTION_UNKNOWN;
    }
}

/* Removes quotes or an inline comment from the text after '='; false with *err set when
 * a quote is not closed properly. */
static bool extract_value(struct span v, struct span *out, const char **err)
{
    v = trim(v);
    if (v.len > 0 && (v.p[0] == '"' || v.p[0] == '\'')) {
        const uint8_t *close = memchr(v.p + 1, v.p[0], v.len - 1);
        if (!close) {
            *err = "missing closing quote";
            return false;
        }
        struct span after = trim(span_make(close + 1, v.len - (size_t)(close - v.p) - 1));
        if (after.len > 0 && after.p[0] != '#') {
            *err = "text after the closing quote";
            return false;
        }
        *out = span_make(v.p + 1, (size_t)(close - v.p) - 1);
        return true;
    }
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] == '#' && (i == 0 || is_blank(v.p[i - 1]))) {
            v.len = i;
            break;
        }
    }
    *out = trim(v);
    return true;
}

static void read_key_value(struct reader *r, struct span line, const uint8_t *eq)
{
    char sh[SHOW_MAX * 4 + 8], value[LINE_MAX_BYTES + 1], err[ERR_SIZE];
    struct span key = trim(span_make(line.p, (size_t)(eq - line.p)));
    struct span raw = span_make(eq + 1, line.len - (size_t)(eq - line.p) - 1), v;
    const char *why;

    if (key.len == 0) {
        report(r, "missing key name before \"=\"");
        return;
    }
    const char *shown = show((const char *)key.p, key.len, sh, sizeof(sh));
    if (r->section == SECTION_UNKNOWN)
        return; /* reported once, at the section header */
    if (r->section == SECTION_NONE) {
        report(r, "key \"%s\" outside any section", shown);
        return;
    }
    if (r->section == SECTION_RULE) {
        if (!extract_value(raw, &v, &why)) {
            report(r, "%s: %s", shown, why);
            return;
        }
        char keytext[SHOW_MAX + 1];
        if (key.len > SHOW_MAX) {
            report(r, "unknown key \"%s\" in [rule %s]", shown, r->rule->name);
            return;
        }
        memcpy(keytext, key.p, key.len);
        keytext[key.len] = '\0';
        memcpy(value, v.p, v.len);
        value[v.len] = '\0';
        if (!rules_parse_key(r->rule, keytext, value, err, sizeof(err)))
            report(r, "%s", err);
        return;
    }
    const char *section = keywords[r->section].section;
    size_t i = (size_t)r->section;
    while (i < NKEYWORDS && strcmp(keywords[i].section, section) == 0 &&
           !span_eq(key, keywords[i].key))
        i++;
    if (i == NKEYWORDS || strcmp(keywords[i].section, section) != 0) {
        report(r, "unknown key \"%s\" in section [%s]", shown, section);
        return;
    }
    if (r->set_on[i]) {
        report(r, "duplicate key \"%s\" in section [%s] (first set on line %u)", shown, section,
               r->set_on[i]);
        return;
    }
    r->set_on[i] = r->line;
    if (!extract_value(raw, &v, &why)) {
        report(r, "%s: %s", keywords[i].key, why);
        return;
    }
    memcpy(value, v.p, v.len); /* v.len < line length <= LINE_MAX_BYTES */
    value[v.len] = '\0';
    if (!keywords[i].type->parse(&keywords[i], value, r->cfg, err, sizeof(err)))
        report(r, "%s", err);
}

static void read_line(struct reader *r, struct span line)
{
    if (line.len > 0 && line.p[line.len - 1] == '\r')
        line.len--; /* CRLF files from Windows editors */
    if (line.len > LINE_MAX_BYTES) {
        report(r, "line longer than %d bytes", LINE_MAX_BYTES);
        return;
    }
    const uint8_t *nul = memchr(line.p, '\0', line.len);
    if (nul) {
        report(r, "NUL byte at column %zu", (size_t)(nul - line.p) + 1);
        return;
    }
    size_t bad = utf8_invalid_at(line);
    if (bad < line.len) {
        report(r, "invalid UTF-8 (byte 0x%02x at column %zu)", line.p[bad], bad + 1);
        return;
    }
    line = trim(line);
    if (line.len == 0 || line.p[0] == '#' || line.p[0] == ';')
        return;
    if (line.p[0] == '[') {
        read_section(r, line);
        return;
    }
    const uint8_t *eq = memchr(line.p, '=', line.len);
    if (!eq) {
        report(r, "line is neither [section], key = value nor a comment");
        return;
    }
    read_key_value(r, line, eq);
}

/* Reads the whole file (at most FILE_MAX_BYTES) into a malloc'd buffer owned by the caller;
 * on failure reports "path: why" (no line number) and returns NULL. */
static uint8_t *slurp(struct reader *r, size_t *len)
{
    const char *err;
    int sys = 0; /* errno of the failing call, 0 when the reason is ours */
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    FILE *f = fopen(r->path, "rb");

    err = "cannot open";
    if (!f) {
        sys = errno;
        goto error;
    }
    for (;;) {
        if (n == cap) {
            err = "larger than 1 MiB";
            if (cap > FILE_MAX_BYTES)
                goto error;
            cap = cap ? cap * 2 : 8192;
            uint8_t *bigger = realloc(buf, cap);
            err = "out of memory";
            if (!bigger)
                goto error;
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        err = "cannot read";
        if (ferror(f)) {
            sys = errno;
            goto error;
        }
        if (got == 0)
            break;
    }
    err = "larger than 1 MiB";
    if (n > FILE_MAX_BYTES)
        goto error;
    fclose(f);
    *len = n;
    return buf;

error:
    if (f)
        fclose(f);
    free(buf);
    r->errors++;
    if (r->errout && sys)
        fprintf(r->errout, "%s: %s: %s\n", r->path, err, strerror(sys));
    else if (r->errout)
        fprintf(r->errout, "%s: %s\n", r->path, err);
    return NULL;
}

int config_load(struct config *cfg, const char *path, FILE *errout)
{
    struct reader r = {.cfg = cfg, .path = path, .errout = errout, .section = SECTION_NONE};
    size_t len = 0;

    config_defaults(cfg);
    if (!path) {
        r.errors++;
        if (errout)
            fprintf(errout, "config: no file name\n");
        return r.errors;
    }
    if ((size_t)snprintf(cfg->path, sizeof(cfg->path), "%s", path) >= sizeof(cfg->path)) {
        r.errors++;
        if (errout)
            fprintf(errout, "%.64s...: file name too long\n", path);
        return r.errors;
    }
    uint8_t *buf = slurp(&r, &len);
    if (!buf)
        return r.errors;

    struct span rest = span_make(buf, len);
    if (rest.len >= 3 && memcmp(rest.p, "\xef\xbb\xbf", 3) == 0) {
        rest.p += 3; /* the byte order mark some Windows editors put first */
        rest.len -= 3;
    }
    while (rest.len > 0) {
        const uint8_t *nl = memchr(rest.p, '\n', rest.len);
        size_t llen = nl ? (size_t)(nl - rest.p) : rest.len;
        r.line++;
        read_line(&r, span_make(rest.p, llen));
        rest.p += nl ? llen + 1 : llen;
        rest.len -= nl ? llen + 1 : llen;
    }
    free(buf);
    r.errors += rules_check(cfg, path, errout);
    return r.errors;
}

/*
 * rules.c - recording rules: the syntax of a [rule NAME] section, the checks of a rule
 * set as a whole, and the decision for one call (see docs/RULES.md).
 *
 * French law (CNIL, "L'écoute et l'enregistrement des appels sur le lieu de travail")
 * does not allow recording every call of every employee: recording must have a stated
 * purpose and be limited to it.  The rules let an administrator express that purpose
 * (which lines, which directions, which hours, a sample for quality) and the
 * never_record list guarantees that protected lines (staff representatives,
 * occupational health) are never recorded whatever a rule says.
 *
 * Local time comes from localtime_r() under the TZ that rules_apply_timezone() set once
 * at start-up from [rules] timezone (glibc reads the TZ database, summer time included).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "greffier/number.h"
#include "greffier/rules.h"

/* ---- names ------------------------------------------------------------------------ */

static const char *const action_names[] = {
    [RULES_RECORD] = "record",
    [RULES_SKIP] = "skip",
    [RULES_SAMPLE] = "sample",
    [RULES_ON_DEMAND] = "on_demand",
};

enum { NACTIONS = sizeof(action_names) / sizeof(action_names[0]) };

const char *rules_action_name(enum rules_action a)
{
    return (unsigned)a < NACTIONS ? action_names[a] : "?";
}

const char *rules_decision_origin(const struct rules_decision *d)
{
    switch (d->source) {
    case RULES_FROM_RULE:
        return d->rule_name ? d->rule_name : "?";
    case RULES_FROM_NEVER_RECORD:
        return "[never_record]";
    case RULES_FROM_DEFAULT:
        break;
    }
    return "[default]";
}

/* Monday first, as a French week (and ISO 8601) starts. */
static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static const char *const direction_names[] = {
    [DIR_UNKNOWN] = "unknown",
    [DIR_INBOUND] = "inbound",
    [DIR_OUTBOUND] = "outbound",
    [DIR_INTERNAL] = "internal",
};

/* ---- value parsers ---------------------------------------------------------------- */

/* Splits value on commas and blanks into items of at most size - 1 bytes; returns the
 * count, or -1 with err set. */
static int split(const char *key, const char *value, char (*items)[40], size_t max, char *err,
                 size_t errsize)
{
    size_t n = 0;
    const char *p = value;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, ", \t");
        if (n == max) {
            snprintf(err, errsize, "%s: more than %zu items", key, max);
            return -1;
        }
        if (len >= 40) {
            snprintf(err, errsize, "%s: \"%.40s...\" is too long", key, p);
            return -1;
        }
        memcpy(items[n], p, len);
        items[n][len] = '\0';
        n++;
        p += len;
    }
    if (n == 0) {
        snprintf(err, errsize, "%s: empty list", key);
        return -1;
    }
    return (int)n;
}

/* Item text for an error message: printable ASCII only, so a hostile file cannot put
 * terminal escapes into the output. */
static const char *shown(const char *item, char *buf, size_t size)
{
    size_t o = 0;
    for (const char *p = item; *p && o + 1 < size; p++)
        buf[o++] = (*p >= 0x20 && *p < 0x7f && *p != '"') ? *p : '?';
    buf[o] = '\0';
    return buf;
}

static bool parse_patterns(struct config_rule *r, const char *key, const char *value,
                           char (*dst)[40], size_t *ndst, char *err, size_t errsize)
{
    char items[RULE_MAX_ITEMS][40], sh[48];
    (void)r;
    int n = split(key, value, items, RULE_MAX_ITEMS, err, errsize);
    if (n < 0)
        return false;
    for (int i = 0; i < n; i++) {
        if (!number_pattern_valid(items[i])) {
            snprintf(err, errsize, "%s: \"%s\" is not a number pattern (digits, a leading +, x, "
                     "a final *)", key, shown(items[i], sh, sizeof(sh)));
            return false;
        }
    }
    memcpy(dst, items, (size_t)n * sizeof(items[0]));
    *ndst = (size_t)n;
    return true;
}

static int find_name(const char *const *names, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], word) == 0)
            return (int)i;
    return -1;
}

static bool key_caller(struct config_rule *r, const char *key, const char *value, char *err,
                       size_t errsize)
{
    return parse_patterns(r, key, value, r->caller, &r->ncaller, err, errsize);
}

static bool key_callee(struct config_rule *r, const char *key, const char *value, char *err,
                       size_t errsize)
{
    return parse_patterns(r, key, value, r->callee, &r->ncallee, err, errsize);
}

static bool key_number(struct config_rule *r, const char *key, const char *value, char *err,
                       size_t errsize)
{
    return parse_patterns(r, key, value, r->number, &r->nnumber, err, errsize);
}

static bool key_direction(struct config_rule *r, const char *key, const char *value, char *err,
                          size_t errsize)
{
    char items[RULE_MAX_ITEMS][40], sh[48];
    int n = split(key, value, items, RULE_MAX_ITEMS, err, errsize);
    unsigned bits = 0;
    if (n < 0)
        return false;
    for (int i = 0; i < n; i++) {
        int d = find_name(direction_names, 4, items[i]);
        if (d < 0) {
            snprintf(err, errsize,
                     "%s: \"%s\" is not a direction (inbound, outbound, internal, unknown)", key,
                     shown(items[i], sh, sizeof(sh)));
            return false;
        }
        bits |= 1u << d;
    }
    r->directions = bits;
    return true;
}

static bool key_address(struct config_rule *r, const char *key, const char *value, char *err,
                        size_t errsize)
{
    char items[RULE_MAX_ITEMS][40], sh[48];
    struct cidr nets[RULE_MAX_ITEMS];
    memset(nets, 0, sizeof(nets)); /* cppcheck cannot see that n entries are always set */
    int n = split(key, value, items, RULE_MAX_ITEMS, err, errsize);
    if (n < 0)
        return false;
    for (int i = 0; i < n; i++) {
        if (!cidr_parse(items[i], &nets[i])) {
            snprintf(err, errsize, "%s: \"%s\" is not an IP address or network", key,
                     shown(items[i], sh, sizeof(sh)));
            return false;
        }
    }
    memcpy(r->address, nets, (size_t)n * sizeof(nets[0]));
    r->naddress = (size_t)n;
    return true;
}

/* "mon,wed", "mon-fri", "fri-mon" (a range may wrap past Sunday). */
static bool key_days(struct config_rule *r, const char *key, const char *value, char *err,
                     size_t errsize)
{
    char items[RULE_MAX_ITEMS][40], sh[48];
    int n = split(key, value, items, RULE_MAX_ITEMS, err, errsize);
    unsigned bits = 0;
    if (n < 0)
        return false;
    for (int i = 0; i < n; i++) {
        char *dash = strchr(items[i], '-');
        int from, to;
        if (dash) {
            *dash = '\0';
            from = find_name(day_names, 7, items[i]);
            to = find_name(day_names, 7, dash + 1);
            *dash = '-';
        } else {
            from = to = find_name(day_names, 7, items[i]);
        }
        if (from < 0 || to < 0) {
            snprintf(err, errsize,
                     "%s: \"%s\" is not a day (mon, tue, wed, thu, fri, sat, sun) or a range "
                     "(mon-fri)",
                     key, shown(items[i], sh, sizeof(sh)));
            return false;
        }
        for (int d = from;; d = (d + 1) % 7) {
            bits |= 1u << d;
            if (d == to)
                break;
        }
    }
    r->days = bits;
    return true;
}

/* "HH:MM", 00:00 to 23:59, or 24:00 when allow_24 (the end of a window). */
static bool read_clock(const char *s, size_t len, bool allow_24, uint16_t *out)
{
    if (len != 5 || s[2] != ':')
        return false;
    for (size_t i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    unsigned h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    unsigned m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
        return false;
    *out = (uint16_t)(h * 60 + m);
    return true;
}

/* "08:00-18:30", several separated by commas; "22:00-06:00" crosses midnight. */
static bool key_hours(struct config_rule *r, const char *key, const char *value, char *err,
                      size_t errsize)
{
    char items[RULE_MAX_ITEMS][40], sh[48];
    int n = split(key, value, items, RULE_MAX_ITEMS, err, errsize);
    if (n < 0)
        return false;
    if (n > RULE_MAX_HOURS) {
        snprintf(err, errsize, "%s: more than %d windows", key, RULE_MAX_HOURS);
        return false;
    }
    for (int i = 0; i < n; i++) {
        const char *dash = strchr(items[i], '-');
        uint16_t from, to;
        if (!dash || !read_clock(items[i], (size_t)(dash - items[i]), false, &from) ||
            !read_clock(dash + 1, strlen(dash + 1), true, &to)) {
            snprintf(err, errsize, "%s: \"%s\" is not a time window (HH:MM-HH:MM, such as "
                     "08:00-18:30)", key, shown(items[i], sh, sizeof(sh)));
            return false;
        }
        if (from == to || (from == 0 && to == 24 * 60)) {
            snprintf(err, errsize, "%s: \"%s\" is empty or the whole day (leave hours out for "
                     "all day)", key, shown(items[i], sh, sizeof(sh)));
            return false;
        }
        r->hours[i].from = from;
        r->hours[i].to = to == 24 * 60 ? 0 : to; /* 24:00 is the next midnight */
    }
    r->nhours = (size_t)n;
    return true;
}

static bool key_action(struct config_rule *r, const char *key, const char *value, char *err,
                       size_t errsize)
{
    char sh[48];
    int a = find_name(action_names, NACTIONS, value);
    if (a < 0) {
        snprintf(err, errsize, "%s: \"%s\" is not an action (record, skip, sample, on_demand)",
                 key, shown(value, sh, sizeof(sh)));
        return false;
    }
    r->action = (enum rules_action)a;
    r->has_action = true;
    return true;
}

static bool read_uint(const char *key, const char *value, unsigned long min, unsigned long max,
                      unsigned *out, char *err, size_t errsize)
{
    char sh[48];
    char *end;
    unsigned long v = 0;
    bool ok = value[0] >= '0' && value[0] <= '9' && strlen(value) <= 9;
    if (ok)
        v = strtoul(value, &end, 10);
    if (!ok || *end != '\0' || v < min || v > max) {
        snprintf(err, errsize, "%s: \"%s\" is not a number from %lu to %lu", key,
                 shown(value, sh, sizeof(sh)), min, max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static bool key_sample(struct config_rule *r, const char *key, const char *value, char *err,
                       size_t errsize)
{
    char v[16];
    size_t len = strlen(value);
    /* "10" or "10%" */
    if (len > 0 && len < sizeof(v) && value[len - 1] == '%') {
        memcpy(v, value, len - 1);
        v[len - 1] = '\0';
        value = v;
    }
    return read_uint(key, value, 1, 100, &r->sample_percent, err, errsize);
}

static bool key_retention(struct config_rule *r, const char *key, const char *value, char *err,
                          size_t errsize)
{
    return read_uint(key, value, 1, 36500, &r->retention_days, err, errsize);
}

static bool tag_valid(const char *t)
{
    if (!t[0] || strlen(t) >= RULE_TAG_SIZE)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '_' || *t == '-' || *t == '.'))
            return false;
    return true;
}

bool rules_name_valid(const char *name)
{
    return name[0] != '\0' && strlen(name) < RULE_NAME_SIZE && tag_valid(name);
}

static bool key_tags(struct config_rule *r, const char *key, const char *value, char *err,
                     size_t errsize)
{
    char items[RULE_MAX_ITEMS][40], sh[48];
    int n = split(key, value, items, RULE_MAX_ITEMS, err, errsize);
    if (n < 0)
        return false;
    if (n > RULE_MAX_TAGS) {
        snprintf(err, errsize, "%s: more than %d tags", key, RULE_MAX_TAGS);
        return false;
    }
    for (int i = 0; i < n; i++) {
        if (!tag_valid(items[i])) {
            snprintf(err, errsize, "%s: \"%s\" is not a tag (letters, digits, _ - ., at most %d "
                     "bytes)", key, shown(items[i], sh, sizeof(sh)), RULE_TAG_SIZE - 1);
            return false;
        }
        memcpy(r->tags[i], items[i], strlen(items[i]) + 1);
    }
    r->ntags = (size_t)n;
    return true;
}

typedef bool rule_key_fn(struct config_rule *r, const char *key, const char *value, char *err,
                         size_t errsize);

static const struct {
    const char *key;
    rule_key_fn *parse;
} rule_keys[] = {
    {"caller", key_caller},   {"callee", key_callee},   {"number", key_number},
    {"direction", key_direction}, {"address", key_address}, {"days", key_days},
    {"hours", key_hours},     {"action", key_action},   {"sample", key_sample},
    {"retention", key_retention}, {"tags", key_tags},
};

enum { NRULE_KEYS = sizeof(rule_keys) / sizeof(rule_keys[0]) };

bool rules_parse_key(struct config_rule *r, const char *key, const char *value, char *err,
                     size_t errsize)
{
    char sh[48];
    for (size_t i = 0; i < NRULE_KEYS; i++) {
        if (strcmp(rule_keys[i].key, key) != 0)
            continue;
        if (r->keys_set & (1u << i)) {
            snprintf(err, errsize, "duplicate key \"%s\" in [rule %s]", key, r->name);
            return false;
        }
        r->keys_set |= 1u << i;
        return rule_keys[i].parse(r, key, value, err, errsize);
    }
    snprintf(err, errsize,
             "unknown key \"%s\" in [rule %s] (caller, callee, number, direction, address, days, "
             "hours, action, sample, retention, tags)",
             shown(key, sh, sizeof(sh)), r->name);
    return false;
}

/* ---- on demand ------------------------------------------------------------------- */

static const char *const ondemand_names[] = {
    [ONDEMAND_NONE] = "",
    [ONDEMAND_KEEP] = "keep",
    [ONDEMAND_DISCARD] = "discard",
    [ONDEMAND_MALICIOUS] = "malicious",
};

const char *ondemand_action_name(enum ondemand_action a)
{
    size_t n = sizeof(ondemand_names) / sizeof(ondemand_names[0]);
    return (unsigned)a < n ? ondemand_names[a] : "";
}

enum ondemand_action ondemand_action_parse(const char *name)
{
    for (unsigned i = 1; name && i < sizeof(ondemand_names) / sizeof(ondemand_names[0]); i++)
        if (strcmp(name, ondemand_names[i]) == 0)
            return (enum ondemand_action)i;
    return ONDEMAND_NONE;
}

unsigned rules_agent_channels(enum call_direction d)
{
    switch (d) {
    case DIR_INBOUND:
        return 2;
    case DIR_OUTBOUND:
        return 1;
    case DIR_INTERNAL:
        return 3;
    case DIR_UNKNOWN:
        break;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return k > 0 && k <= n && memcmp(s + n - k, suffix, k) == 0;
}

enum ondemand_action rules_dtmf_code(const struct config *cfg, const char *digits)
{
    /* Malicious first: the mark must win should an administrator make one code end
     * another (config check refuses that, this is the last line). */
    if (ends_with(digits, cfg->malicious_code))
        return ONDEMAND_MALICIOUS;
    if (ends_with(digits, cfg->discard_code))
        return ONDEMAND_DISCARD;
    if (ends_with(digits, cfg->keep_code))
        return ONDEMAND_KEEP;
    return ONDEMAND_NONE;
}

/* ---- checks of the whole set ------------------------------------------------------- */

static bool matches_every_call(const struct config_rule *r)
{
    return !r->ncaller && !r->ncallee && !r->nnumber && !r->directions && !r->naddress &&
           !r->days && !r->nhours;
}

static void check_error(int *errors, FILE *errout, const char *path, unsigned line,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void check_error(int *errors, FILE *errout, const char *path, unsigned line,
                        const char *fmt, ...)
{
    (*errors)++;
    if (!errout)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(errout, "%s:%u: ", path, line);
    vfprintf(errout, fmt, ap);
    fputc('\n', errout);
    va_end(ap);
}

int rules_check(const struct config *cfg, const char *path, FILE *errout)
{
    int errors = 0;
    const struct config_rule *catch_all = NULL;
    for (size_t i = 0; i < cfg->nrules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!r->has_action)
            check_error(&errors, errout, path, r->line,
                        "rule %s has no action (record, skip, sample, on_demand)", r->name);
        if (r->has_action && r->action == RULES_SAMPLE && !r->sample_percent)
            check_error(&errors, errout, path, r->line,
                        "rule %s: action = sample needs sample = PERCENT", r->name);
        if (r->has_action && r->action != RULES_SAMPLE && r->sample_percent)
            check_error(&errors, errout, path, r->line,
                        "rule %s: sample = %u contradicts action = %s (only for action = sample)",
                        r->name, r->sample_percent, rules_action_name(r->action));
        if (r->has_action && r->action == RULES_SKIP && r->retention_days)
            check_error(&errors, errout, path, r->line,
                        "rule %s: retention contradicts action = skip (nothing is recorded)",
                        r->name);
        if (catch_all)
            check_error(&errors, errout, path, r->line,
                        "rule %s can never match: rule %s before it matches every call",
                        r->name, catch_all->name);
        else if (matches_every_call(r))
            catch_all = r;
    }
    /* One code ending another would make the shorter one fire first. */
    const struct {
        const char *key, *code;
    } codes[] = {{"keep_code", cfg->keep_code},
                 {"discard_code", cfg->discard_code},
                 {"malicious_code", cfg->malicious_code}};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++)
            if (i != j && codes[i].code[0] && ends_with(codes[i].code, codes[j].code) &&
                (i < j || strcmp(codes[i].code, codes[j].code) != 0)) {
                errors++;
                if (errout)
                    fprintf(errout,
                            "%s: [rules] %s \"%s\" ends with %s \"%s\": dialling it "
                            "would trigger both\n",
                            path, codes[i].key, codes[i].code, codes[j].key, codes[j].code);
            }
    return errors;
}

/* ---- time zone ------------------------------------------------------------------- */

bool rules_timezone_valid(const char *name)
{
    char path[4096];
    struct stat st;
    size_t len = strlen(name);
    if (len == 0 || len >= 64 || name[0] == '/' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '+' || *p == '/'))
            return false;
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = "/usr/share/zoneinfo";
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return false;
    /* UTC is built into glibc even without the tzdata files. */
    return (stat(path, &st) == 0 && S_ISREG(st.st_mode)) || strcmp(name, "UTC") == 0;
}

void rules_apply_timezone(const struct config *cfg)
{
    if (!cfg->rules_timezone[0])
        return;
    setenv("TZ", cfg->rules_timezone, 1);
    tzset();
}

/* ---- the decision ---------------------------------------------------------------- */

/* 64-bit FNV-1a then the murmur3 finaliser: FNV alone leaves the low bits of similar
 * Call-IDs ("abc1@host", "abc2@host") correlated, which would bias a percentage. */
static uint64_t call_id_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

bool rules_sample_chosen(const char *call_id, unsigned percent)
{
    if (percent >= 100)
        return true;
    return call_id_hash(call_id ? call_id : "") % 100 < percent;
}

/* A pattern is written as dialled ("2041", "0140*") or in international form
 * ("+33140*"): it is tried against the number as seen, its normalised form and that
 * form with a '+'. */
static bool party_matches(const char *pattern, const struct party *p)
{
    if (number_matches(pattern, p->number))
        return true;
    if (!p->number_norm)
        return false;
    if (number_matches(pattern, p->number_norm))
        return true;
    char plus[48];
    if ((size_t)snprintf(plus, sizeof(plus), "+%s", p->number_norm) >= sizeof(plus))
        return false;
    return number_matches(pattern, plus);
}

static bool any_pattern(const char (*patterns)[40], size_t n, const struct party *p)
{
    for (size_t i = 0; i < n; i++)
        if (party_matches(patterns[i], p))
            return true;
    return false;
}

struct local_time {
    int wday;   /* 0 Monday .. 6 Sunday */
    int minute; /* after local midnight */
};

/* A window crossing midnight belongs to the day it starts: "days = fri, hours =
 * 22:00-06:00" holds on Saturday at 01:00 and not on Friday at 01:00. */
static bool time_matches(const struct config_rule *r, const struct local_time *t)
{
    if (!r->nhours)
        return !r->days || (r->days & (1u << t->wday));
    for (size_t i = 0; i < r->nhours; i++) {
        int from = r->hours[i].from, to = r->hours[i].to;
        int day = t->wday;
        bool in;
        if (from < to || to == 0) {
            in = t->minute >= from && (to == 0 || t->minute < to);
        } else if (t->minute >= from) {
            in = true;
        } else {
            in = t->minute < to;
            day = (day + 6) % 7; /* the window began yesterday */
        }
        if (in && (!r->days || (r->days & (1u << day))))
            return true;
    }
    return false;
}

static bool rule_matches(const struct config_rule *r, const struct call *c,
                         const struct local_time *t)
{
    if (r->ncaller && !any_pattern(r->caller, r->ncaller, &c->caller))
        return false;
    if (r->ncallee && !any_pattern(r->callee, r->ncallee, &c->callee))
        return false;
    if (r->nnumber && !any_pattern(r->number, r->nnumber, &c->caller) &&
        !any_pattern(r->number, r->nnumber, &c->callee))
        return false;
    if (r->directions && !(r->directions & (1u << c->direction)))
        return false;
    if (r->naddress) {
        bool hit = false;
        for (size_t i = 0; i < r->naddress && !hit; i++)
            hit = cidr_contains(&r->address[i], &c->caller_addr) ||
                  cidr_contains(&r->address[i], &c->callee_addr);
        if (!hit)
            return false;
    }
    return time_matches(r, t);
}

void rules_decide(const struct config *cfg, const struct call *c, pkt_time_t at,
                  struct rules_decision *out)
{
    memset(out, 0, sizeof(*out));
    if (any_pattern(cfg->never_record, cfg->nnever_record, &c->caller) ||
        any_pattern(cfg->never_record, cfg->nnever_record, &c->callee)) {
        out->action = RULES_SKIP;
        out->source = RULES_FROM_NEVER_RECORD;
        out->never_record_hit = true;
        return;
    }

    /* Floor division: packet times before 1970 stay on the right second. */
    time_t secs = (time_t)(at >= 0 ? at / 1000000 : -((-at + 999999) / 1000000));
    struct tm tm;
    struct local_time t = {0, 0};
    if (localtime_r(&secs, &tm)) {
        t.wday = (tm.tm_wday + 6) % 7;
        t.minute = tm.tm_hour * 60 + tm.tm_min;
    }
    for (size_t i = 0; i < cfg->nrules; i++) {
        const struct config_rule *r = &cfg->rules[i];
        if (!rule_matches(r, c, &t))
            continue;
        out->action = r->action;
        out->source = RULES_FROM_RULE;
        out->rule_name = r->name;
        out->sample_percent = r->sample_percent;
        out->retention_days = r->retention_days;
        out->tags = r->tags;
        out->ntags = r->ntags;
        out->record = r->action == RULES_RECORD || r->action == RULES_ON_DEMAND ||
                      (r->action == RULES_SAMPLE && rules_sample_chosen(c->call_id,
                                                                         r->sample_percent));
        return;
    }
    out->action = cfg->rules_default == RULES_SKIP ? RULES_SKIP : RULES_RECORD;
    out->source = RULES_FROM_DEFAULT;
    out->record = out->action == RULES_RECORD;
}

/*
 * rules.h - recording rules: which calls are recorded, within what the law allows.
 *
 * The rules are the [rule NAME] sections of greffier.conf, in file order; the first
 * whose conditions all hold decides.  [rules] never_record lists numbers no rule can
 * record (staff representatives, occupational health: see docs/RULES.md for the CNIL
 * context), and [rules] default decides a call no rule matches.
 */
#ifndef GREFFIER_RULES_H
#define GREFFIER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "greffier/call.h"
#include "greffier/config.h"

enum rules_source {
    RULES_FROM_RULE = 0,     /* a [rule NAME] section */
    RULES_FROM_NEVER_RECORD, /* [rules] never_record */
    RULES_FROM_DEFAULT,      /* no rule matched: [rules] default */
};

struct rules_decision {
    enum rules_action action;
    enum rules_source source;
    const char *rule_name;   /* the rule's name (points into the config), NULL otherwise */
    unsigned sample_percent; /* action RULES_SAMPLE: the rule's percentage */
    bool record;             /* the outcome: audio is kept (sample: this call was chosen) */
    unsigned retention_days; /* 0: the general retention */
    const char (*tags)[RULE_TAG_SIZE]; /* ntags tags, pointing into the config */
    size_t ntags;
    bool never_record_hit;
};

/* Decides for call c at packet time at (the call's start: hours and days are read in
 * the rules time zone).  Never fails: without rules every call gets the default. */
void rules_decide(const struct config *cfg, const struct call *c, pkt_time_t at,
                  struct rules_decision *out);

/* "record", "skip", "sample", "on_demand". */
const char *rules_action_name(enum rules_action a);
/* The text stored in the index for where a decision came from: the rule's name, or
 * "[never_record]" / "[default]" (brackets cannot appear in a rule name). */
const char *rules_decision_origin(const struct rules_decision *d);

/* True when percent % of calls are to be kept and this Call-ID is one of them: a hash of
 * the Call-ID, so the same call always gets the same answer, on every import. */
bool rules_sample_chosen(const char *call_id, unsigned percent);

/* ---- on demand (docs/RULES.md "On demand") ---------------------------------------- */

enum ondemand_action {
    ONDEMAND_NONE = 0,
    ONDEMAND_KEEP,
    ONDEMAND_DISCARD,
    ONDEMAND_MALICIOUS,
};

/* "keep", "discard", "malicious" ("" for NONE); and back (ONDEMAND_NONE when unknown). */
const char *ondemand_action_name(enum ondemand_action a);
enum ondemand_action ondemand_action_parse(const char *name);

/* The channels on which the agent (the internal party) speaks, as a bit set: 1 the
 * caller's (channel 0), 2 the callee's (channel 1).  Inbound: the callee; outbound: the
 * caller; internal: both; unknown: neither (an outside party could be either). */
unsigned rules_agent_channels(enum call_direction d);

/* The action whose [rules] code the digits dialled so far end with (digits: the agent's
 * latest keys, oldest first), ONDEMAND_NONE when none.  Empty codes never match. */
enum ondemand_action rules_dtmf_code(const struct config *cfg, const char *digits);

/* ---- explaining a decision (`rules explain`, GET /api/rules/explain) --------------- */

#define RULES_EXPLAIN_NUMBER_MAX 64
#define RULES_EXPLAIN_CALL_ID_MAX 256

/* The call as an administrator describes it; NULL for what is not given. */
struct rules_explain_input {
    const char *caller, *callee; /* required */
    const char *direction;       /* NULL: classified as capture would ([numbers]) */
    const char *at;              /* ISO 8601; without a zone, local time in the rules TZ */
    const char *call_id;         /* NULL: a sample's outcome stays open */
    const char *address;         /* the caller's signalling address */
};

struct rules_explanation {
    struct call call; /* points into the arrays below */
    char caller[RULES_EXPLAIN_NUMBER_MAX + 1], callee[RULES_EXPLAIN_NUMBER_MAX + 1];
    char caller_norm[48], callee_norm[48];
    char call_id[RULES_EXPLAIN_CALL_ID_MAX + 1];
    bool call_id_given;
    pkt_time_t at;
    char local[64]; /* "Monday 2024-01-15 09:30", in the rules time zone */
    struct rules_decision decision;
    const struct config_rule *rule; /* the deciding rule (into cfg), NULL otherwise */
};

/* Checks every field of in, builds the call (numbers normalised by [numbers], the
 * direction classified when not given, `at` read as local time unless it has a zone,
 * now when absent) and decides it.  Returns NULL, or the name of the first bad field
 * ("caller", "callee", "direction", "at", "call_id", "address") with *why saying what
 * it must be.  out does not point into in. */
const char *rules_explain_call(const struct config *cfg, const struct rules_explain_input *in,
                               pkt_time_t now, struct rules_explanation *out, const char **why);
/* 1 recorded, 0 not, -1 unknown (a sample without a Call-ID). */
int rules_explain_record(const struct rules_explanation *e);

/* ---- for the config reader (src/config/config.c) -------------------------------- */

/* True when name is acceptable as a rule name (letters, digits, '_', '-', '.'). */
bool rules_name_valid(const char *name);
/* Parses one "key = value" of a [rule NAME] section into r; on failure writes the
 * reason (starting with the key) into err and returns false. */
bool rules_parse_key(struct config_rule *r, const char *key, const char *value, char *err,
                     size_t errsize);
/* Checks the rules as a whole: each rule has an action, sample has its percentage and
 * only sample has one, no rule follows one that matches every call.  Each error is
 * printed as "path:line: msg" (when errout is not NULL); returns the number of errors. */
int rules_check(const struct config *cfg, const char *path, FILE *errout);
/* True when name looks like a TZ database name ("Europe/Paris", "UTC") whose file is
 * installed under $TZDIR or /usr/share/zoneinfo. */
bool rules_timezone_valid(const char *name);
/* Makes localtime_r() use cfg->rules_timezone (setenv TZ + tzset); nothing when empty. */
void rules_apply_timezone(const struct config *cfg);

#endif

/*
 * number.c - telephone numbers as they appear in SIP user parts: normalisation to
 * international digits for search, and the small pattern language for internal numbers.
 *
 * References: ITU-T E.164 (at most 15 digits, country codes never start with 0),
 * RFC 3966 §5.1.1 (visual separators "-", ".", "(", ")" in telephone-subscriber),
 * RFC 3261 §19.1.1 (user parameters such as ";phone-context=" follow a ';' in the user part).
 *
 * The rules, applied in order to the digits once separators are gone (D is the digit
 * string, CC the plan's country code, TP its trunk prefix, IP its international prefix,
 * N its national length; France: 33, 0, 00, 9):
 *
 *   1. "+D": D is already international.
 *   2. "IP R" where R is a plausible international number (7 to 15 digits, not starting
 *      with 0) is international R; but see the outside-line rule below.
 *   3. "TP" followed by exactly N digits is a national number: CC + the N digits.
 *   4. Exactly N digits not starting with TP is a national number dialled without its trunk
 *      prefix (North American ten-digit dialling, carriers that drop the 0): CC + D.  When
 *      the plan has a trunk prefix, national numbers never start with 0, so such digits
 *      are not taken for one.
 *   5. Anything else (extensions "2041", short numbers "112", "3949", "911") stays as it is.
 *
 * After 1 and 2, the common mistake "+33 0 6 12 34 56 78" (the trunk prefix kept after
 * our own country code) is repaired when the length says so, as is the written form
 * "+33 (0)6 ..." where "(0)" after a country code is dropped outright.
 *
 * The outside-line ambiguity: behind many European PBXs an outside line is taken with
 * "0", so "0 06 12 34 56 78" arrives as "00612345678", which also reads as international
 * prefix 00 + "612345678" (+61, Australia, but far too short for an Australian number).
 * When IP is "0" followed by TP (France, the UK, ...) and R has exactly N digits, R is
 * read as a national number (CC + R), never as an international one.  An international
 * number of exactly N digits (for France: 9 digits including the country code, a few
 * small territories such as +298, +299, +376) is then misread; the dialled form is always
 * kept next to the normalised one, so nothing is lost but a search hit.
 */
#include <string.h>

#include "greffier/number.h"

enum {
    NUMBER_MAX_DIGITS = 32,
    INTL_MIN_DIGITS = 7,  /* +683 (Niue) has 4-digit subscriber numbers */
    INTL_MAX_DIGITS = 15, /* E.164 §6.1 */
};

void number_plan_default(struct number_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
    memcpy(plan->country_code, "33", 3);
    memcpy(plan->trunk_prefix, "0", 2);
    memcpy(plan->international_prefix, "00", 3);
    plan->national_length = 9;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 3966 visual separators plus the blanks that humans and address books add. */
static bool is_separator(char c)
{
    return c == ' ' || c == '\t' || c == '.' || c == '-' || c == '(' || c == ')';
}

static bool has_prefix(const char *d, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return plen > 0 && plen <= len && memcmp(d, prefix, plen) == 0;
}

/* out = a (alen bytes) followed by b (blen bytes); false when it does not fit. */
static bool emit(char *out, size_t out_size, const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen + blen >= out_size)
        return false;
    memcpy(out, a, alen);
    memcpy(out + alen, b, blen);
    out[alen + blen] = '\0';
    return true;
}

/* True when the international prefix is an outside-line "0" followed by the trunk prefix,
 * which makes "IP + N digits" ambiguous (see the file comment). */
static bool outside_line_ambiguous(const struct number_plan *plan)
{
    size_t tlen = strlen(plan->trunk_prefix), ilen = strlen(plan->international_prefix);
    return tlen > 0 && ilen == tlen + 1 && plan->international_prefix[0] == '0' &&
           memcmp(plan->international_prefix + 1, plan->trunk_prefix, tlen) == 0;
}

/* Writes the international digits intl (already without any prefix), dropping our own
 * trunk prefix when it was kept after our country code ("+33 06 ..."). */
static bool emit_international(const struct number_plan *plan, const char *intl, size_t len,
                               char *out, size_t out_size)
{
    size_t clen = strlen(plan->country_code), tlen = strlen(plan->trunk_prefix);
    if (clen > 0 && tlen > 0 && plan->national_length > 0 &&
        len == clen + tlen + plan->national_length && has_prefix(intl, len, plan->country_code) &&
        memcmp(intl + clen, plan->trunk_prefix, tlen) == 0)
        return emit(out, out_size, intl, clen, intl + clen + tlen, len - clen - tlen);
    return emit(out, out_size, intl, len, "", 0);
}

bool number_normalise(const struct number_plan *plan, const char *number, char *out,
                      size_t out_size)
{
    char d[NUMBER_MAX_DIGITS];
    size_t n = 0;
    bool plus = false;

    if (!out || out_size == 0)
        return false;
    out[0] = '\0';
    if (!plan || !number)
        goto fail;

    /* User parameters (";phone-context=...", ";npdi", ";rn=...") end the number. */
    for (const char *p = number; *p != '\0' && *p != ';'; p++) {
        char c = *p;
        if (is_digit(c)) {
            if (n == NUMBER_MAX_DIGITS)
                goto fail;
            d[n++] = c;
        } else if (c == '+') {
            if (plus || n > 0) /* a '+' anywhere but in front is not a number */
                goto fail;
            plus = true;
        } else if (c == '(' && p[1] == '0' && p[2] == ')' && n > 0 &&
                   (plus || (has_prefix(d, n, plan->international_prefix) &&
                             n > strlen(plan->international_prefix)))) {
            p += 2; /* "+44 (0)20 ...": the trunk prefix shown for national callers */
        } else if (!is_separator(c)) {
            goto fail; /* letters: a SIP user name, "anonymous", a feature code */
        }
    }
    if (n == 0)
        goto fail;

    const char *cc = plan->country_code;
    size_t clen = strlen(cc), tlen = strlen(plan->trunk_prefix);
    size_t ilen = strlen(plan->international_prefix), nlen = plan->national_length;

    if (plus) {
        if (!emit_international(plan, d, n, out, out_size))
            goto fail;
        return true;
    }
    if (has_prefix(d, n, plan->international_prefix)) {
        const char *r = d + ilen;
        size_t rlen = n - ilen;
        if (clen > 0 && nlen > 0 && rlen == nlen && outside_line_ambiguous(plan)) {
            if (!emit(out, out_size, cc, clen, r, rlen))
                goto fail;
            return true;
        }
        if (rlen >= INTL_MIN_DIGITS && rlen <= INTL_MAX_DIGITS && r[0] != '0') {
            if (!emit_international(plan, r, rlen, out, out_size))
                goto fail;
            return true;
        }
    }
    if (clen > 0 && nlen > 0) {
        if (tlen > 0 && n == tlen + nlen && has_prefix(d, n, plan->trunk_prefix)) {
            if (!emit(out, out_size, cc, clen, d + tlen, nlen))
                goto fail;
            return true;
        }
        if (n == nlen && !has_prefix(d, n, plan->trunk_prefix) && (tlen == 0 || d[0] != '0')) {
            if (!emit(out, out_size, cc, clen, d, n))
                goto fail;
            return true;
        }
    }
    if (!emit(out, out_size, d, n, "", 0))
        goto fail;
    return true;

fail:
    out[0] = '\0';
    return false;
}

/* At most NUMBER_MAX_DIGITS positions, so a pattern fits the 40-byte config slots. */
bool number_pattern_valid(const char *pattern)
{
    size_t positions = 0;
    if (!pattern || pattern[0] == '\0')
        return false;
    for (const char *p = pattern; *p != '\0'; p++) {
        if (*p == '+' && p == pattern)
            continue;
        if (*p == '*' && p[1] == '\0')
            return true; /* "*" alone matches everything, "+*" every '+' number */
        if (!is_digit(*p) && *p != 'x' && *p != 'X')
            return false;
        if (++positions > NUMBER_MAX_DIGITS)
            return false;
    }
    return positions > 0;
}

bool number_matches(const char *pattern, const char *number)
{
    if (!number_pattern_valid(pattern) || !number)
        return false;
    const char *p = pattern, *s = number;
    for (; *p != '\0'; p++, s++) {
        if (*p == '*')
            return true; /* valid patterns have '*' only last */
        if (*s == '\0')
            return false;
        if (*p == 'x' || *p == 'X') {
            if (!is_digit(*s))
                return false;
        } else if (*p != *s) {
            return false;
        }
    }
    return *s == '\0';
}

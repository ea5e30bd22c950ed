/*
 * test_number.c - number normalisation for two number plans, and internal-number patterns.
 */
#include <stdbool.h>
#include <string.h>

#include "greffier/number.h"
#include "testhelp.h"

struct norm_case {
    const char *in;
    const char *want; /* NULL: not a telephone number */
};

static const struct norm_case france[] = {
    {"0612345678", "33612345678"},
    {"+33612345678", "33612345678"},
    {"+33 (0)6 12 34 56 78", "33612345678"},
    {"0033612345678", "33612345678"},
    {"0033 (0)6 12 34 56 78", "33612345678"},
    {"06 12 34 56 78", "33612345678"},
    {"06.12.34.56.78", "33612345678"},
    {"06-12-34-56-78", "33612345678"},
    {"(0)6 12 34 56 78", "33612345678"},
    {"  0612345678\t", "33612345678"},
    {"+33 6 12 34 56 78;phone-context=example.com", "33612345678"},
    {"0612345678;npdi;rn=0612345679", "33612345678"},
    {"+330612345678", "33612345678"}, /* trunk prefix kept after the country code */
    {"0033 0612345678", "33612345678"},
    {"33612345678", "33612345678"}, /* E.164 without '+', as many trunks send it */
    {"612345678", "33612345678"},   /* national number without its trunk prefix */
    {"00612345678", "33612345678"}, /* outside line 0 + 0612345678, not +61 */
    {"0044 20 7946 0000", "442079460000"},
    {"+44 (0)20 7946 0000", "442079460000"},
    {"0044 (0)20 7946 0000", "442079460000"},
    {"+1 (212) 555-0100", "12125550100"},
    {"001 212 555 0100", "12125550100"},
    {"00683 1234", "6831234"},        /* Niue: 7 digits is still international */
    {"0033", "0033"},                 /* too short to be international: kept */
    {"000612345678", "000612345678"}, /* no country code starts with 0: kept */
    {"061234567", "061234567"},       /* 9 digits but starts with the trunk prefix */
    {"2041", "2041"},
    {"112", "112"},
    {"3949", "3949"},
    {"0", "0"},
    {"12345678901234567890123456789012", "12345678901234567890123456789012"},
    {"123456789012345678901234567890123", NULL}, /* 33 digits */
    {"alice", NULL},
    {"anonymous", NULL},
    {"Anonymous", NULL},
    {"061234567a", NULL},
    {"*31#0612345678", NULL},
    {"", NULL},
    {"+", NULL},
    {" - . ", NULL},
    {";npdi", NULL},
    {"33+612345678", NULL},
    {"++33612345678", NULL},
    {"+33 6 12 34 56 78 (home)", NULL},
    {"0612345678@example.com", NULL},
};

static const struct norm_case north_america[] = {
    {"2125550100", "12125550100"},
    {"12125550100", "12125550100"},
    {"1 (212) 555-0100", "12125550100"},
    {"+1 212 555 0100", "12125550100"},
    {"+1 1 212 555 0100", "12125550100"},
    {"011 44 20 7946 0000", "442079460000"},
    {"011 49 30 123456", "4930123456"}, /* 10 digits after 011: international, not national */
    {"011 33 6 12 34 56 78", "33612345678"},
    {"5550100", "5550100"},
    {"911", "911"},
    {"0612345678", "0612345678"}, /* national numbers do not start with 0 here */
    {"bob", NULL},
};

static void run_plan(const struct number_plan *plan, const struct norm_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char out[40];
        memset(out, 'z', sizeof(out));
        bool ok = number_normalise(plan, cases[i].in, out, sizeof(out));
        if (cases[i].want) {
            CHECK(ok);
            CHECK_STR(out, cases[i].want);
        } else {
            CHECK(!ok);
            CHECK_STR(out, "");
        }
        if ((cases[i].want != NULL) != ok || (ok && strcmp(out, cases[i].want) != 0))
            fprintf(stderr, "  (case \"%s\", plan +%s)\n", cases[i].in, plan->country_code);
    }
}

static void test_edges(void)
{
    struct number_plan fr, empty;
    char out[12];
    number_plan_default(&fr);
    CHECK_STR(fr.country_code, "33");
    CHECK_STR(fr.trunk_prefix, "0");
    CHECK_STR(fr.international_prefix, "00");
    CHECK_INT(fr.national_length, 9);

    /* The output buffer must hold the result and its NUL. */
    CHECK(number_normalise(&fr, "0612345678", out, 12));
    CHECK_STR(out, "33612345678");
    CHECK(!number_normalise(&fr, "0612345678", out, 11));
    CHECK_STR(out, "");
    CHECK(!number_normalise(&fr, "0612345678", out, 0));
    CHECK(!number_normalise(&fr, NULL, out, sizeof(out)));
    CHECK(!number_normalise(NULL, "2041", out, sizeof(out)));

    /* An empty plan derives nothing but still cleans the digits up. */
    memset(&empty, 0, sizeof(empty));
    CHECK(number_normalise(&empty, "06 12 34 56 78", out, sizeof(out)));
    CHECK_STR(out, "0612345678");
    CHECK(number_normalise(&empty, "+33 6", out, sizeof(out)));
    CHECK_STR(out, "336");

    /* A plan without trunk prefix (Italy): national numbers may start with 0. */
    struct number_plan it = {"39", "", "00", 10};
    char wide[20];
    CHECK(number_normalise(&it, "06 1234 5678", wide, sizeof(wide)));
    CHECK_STR(wide, "390612345678");
    CHECK(number_normalise(&it, "+39 06 1234 5678", wide, sizeof(wide)));
    CHECK_STR(wide, "390612345678");
    CHECK(number_normalise(&it, "0039 06 1234 5678", wide, sizeof(wide)));
    CHECK_STR(wide, "390612345678");
}

static const struct {
    const char *pattern;
    bool valid;
} patterns[] = {
    {"2xxx", true},
    {"2XXX", true},
    {"+3314*", true},
    {"33140*", true},
    {"2041", true},
    {"*", true},
    {"+*", true},
    {"x", true},
    {"", false},
    {"+", false},
    {"2x*x", false},
    {"**", false},
    {"2+3", false},
    {"++33", false},
    {"abc", false},
    {"2 xx", false},
    {"20#", false},
    {"2xxx;", false},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true},   /* 32 positions */
    {"+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx*", true}, /* 32 positions, '+' and '*' */
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false}, /* 33 */
};

static const struct {
    const char *pattern, *number;
    bool match;
} matches[] = {
    {"2xxx", "2041", true},
    {"2xxx", "2999", true},
    {"2XXX", "2041", true},
    {"2xxx", "3041", false},
    {"2xxx", "204", false},
    {"2xxx", "20411", false},
    {"2xxx", "20a1", false},
    {"2xxx", "2+41", false},
    {"2041", "2041", true},
    {"2041", "2042", false},
    {"+3314*", "+33140001234", true},
    {"+3314*", "+3314", true},
    {"+3314*", "33140001234", false}, /* '+' is literal: normalised numbers need "3314*" */
    {"3314*", "33140001234", true},
    {"3314*", "3315", false},
    {"*", "2041", true},
    {"*", "", true},
    {"+*", "+1", true},
    {"+*", "1", false},
    {"x", "", false},
    {"2x*x", "2041", false}, /* invalid pattern matches nothing */
    {"", "", false},
};

int main(void)
{
    struct number_plan fr, na;
    number_plan_default(&fr);
    memset(&na, 0, sizeof(na));
    memcpy(na.country_code, "1", 2);
    memcpy(na.trunk_prefix, "1", 2);
    memcpy(na.international_prefix, "011", 4);
    na.national_length = 10;

    run_plan(&fr, france, sizeof(france) / sizeof(france[0]));
    run_plan(&na, north_america, sizeof(north_america) / sizeof(north_america[0]));
    test_edges();

    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        CHECK_INT(number_pattern_valid(patterns[i].pattern), patterns[i].valid);
        if (number_pattern_valid(patterns[i].pattern) != patterns[i].valid)
            fprintf(stderr, "  (pattern \"%s\")\n", patterns[i].pattern);
    }
    CHECK(!number_pattern_valid(NULL));
    for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
        bool got = number_matches(matches[i].pattern, matches[i].number);
        CHECK_INT(got, matches[i].match);
        if (got != matches[i].match)
            fprintf(stderr, "  (pattern \"%s\", number \"%s\")\n", matches[i].pattern,
                    matches[i].number);
    }
    CHECK(!number_matches("2xxx", NULL));
    CHECK(!number_matches(NULL, "2041"));
    return TEST_REPORT("test_number");
}

/*
 * test_timefmt.c - ISO 8601 formatting and parsing of packet time.
 */
#include <stdbool.h>
#include <stdint.h>

#include "greffier/timefmt.h"
#include "testhelp.h"

#define S 1000000LL

static const struct {
    pkt_time_t t;
    const char *ms, *s;
} format_cases[] = {
    {0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00Z"},
    {1714640400 * S + 123456, "2024-05-02T09:00:00.123Z", "2024-05-02T09:00:00Z"},
    {1714640400 * S + 999999, "2024-05-02T09:00:00.999Z", "2024-05-02T09:00:00Z"},
    {951868799 * S, "2000-02-29T23:59:59.000Z", "2000-02-29T23:59:59Z"},
    {-1, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59Z"},
    {-2203891200 * S, "1900-03-01T00:00:00.000Z", "1900-03-01T00:00:00Z"},
    {253402300799 * S, "9999-12-31T23:59:59.000Z", "9999-12-31T23:59:59Z"},
    {-62135596800 * S, "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00Z"},
};

static const struct {
    const char *text;
    bool ok;
    pkt_time_t want;
} parse_cases[] = {
    {"2024-05-02", true, 1714608000 * S},
    {"2024-05-02T09:00", true, 1714640400 * S},
    {"2024-05-02T09:00:00", true, 1714640400 * S},
    {"2024-05-02T09:00:00Z", true, 1714640400 * S},
    {"2024-05-02t09:00:00z", true, 1714640400 * S},
    {"2024-05-02 09:00:00Z", true, 1714640400 * S},
    {"2024-05-02T09:00:00.123Z", true, 1714640400 * S + 123000},
    {"2024-05-02T09:00:00.123456Z", true, 1714640400 * S + 123456},
    {"2024-05-02T09:00:00.1234569Z", true, 1714640400 * S + 123456},
    {"2024-05-02T09:00:00,5", true, 1714640400 * S + 500000},
    {"2024-05-02T09:00:00+02:00", true, 1714633200 * S},
    {"2024-05-02T09:00:00.250+02:00", true, 1714633200 * S + 250000},
    {"2024-05-02T09:00+02:00", true, 1714633200 * S},
    {"2024-05-02T09:00:00-0530", true, 1714660200 * S},
    {"2024-05-02T09:00:00+02", true, 1714633200 * S},
    {"2000-02-29", true, 951782400 * S},
    {"1969-12-31T23:59:59.999999Z", true, -1},
    {"", false, 0},
    {"2024", false, 0},
    {"2024-5-2", false, 0},
    {"2024-05", false, 0},
    {"2024-13-01", false, 0},
    {"2024-00-01", false, 0},
    {"2023-02-29", false, 0},
    {"1900-02-29", false, 0},
    {"2024-04-31", false, 0},
    {"2024-05-02T24:00", false, 0},
    {"2024-05-02T09:60", false, 0},
    {"2024-05-02T09:00:60", false, 0},
    {"2024-05-02T09", false, 0},
    {"2024-05-02T09:00:00.", false, 0},
    {"2024-05-02T09:00:00.Z", false, 0},
    {"2024-05-02T09:00:00+2", false, 0},
    {"2024-05-02T09:00:00+24:00", false, 0},
    {"2024-05-02T09:00:00+02:60", false, 0},
    {"2024-05-02T09:00:00Zjunk", false, 0},
    {"2024-05-02Z", false, 0},
    {"2024-05-02T", false, 0},
    {" 2024-05-02", false, 0},
    {"2024-05-02T09:00:00 ", false, 0},
    {"+2024-05-02", false, 0},
};

int main(void)
{
    char buf[TIME_ISO_SIZE];
    for (size_t i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        CHECK_STR(time_format_iso_ms(format_cases[i].t, buf, sizeof(buf)), format_cases[i].ms);
        CHECK_STR(time_format_iso_s(format_cases[i].t, buf, sizeof(buf)), format_cases[i].s);
    }
    /* Extremes still fit and never overflow the buffer. */
    CHECK(time_format_iso_ms(INT64_MAX, buf, sizeof(buf))[0] != '\0');
    CHECK(time_format_iso_ms(INT64_MIN, buf, sizeof(buf))[0] != '\0');
    CHECK_STR(time_format_iso_ms(0, buf, 10), ""); /* too small: empty, not truncated */

    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        pkt_time_t got = 42;
        bool ok = time_parse_iso(parse_cases[i].text, &got);
        if (ok != parse_cases[i].ok)
            fprintf(stderr, "case \"%s\"\n", parse_cases[i].text);
        CHECK_INT(ok, parse_cases[i].ok);
        CHECK_INT(got, parse_cases[i].ok ? parse_cases[i].want : 42);
    }
    CHECK(!time_parse_iso(NULL, &(pkt_time_t){0}));

    /* Round trip, millisecond precision, across centuries and both sides of 1970. */
    for (int64_t t = -4000000000LL * S; t < 8000000000LL * S; t += 7777777777123LL) {
        pkt_time_t back;
        time_format_iso_ms(t, buf, sizeof(buf));
        CHECK(time_parse_iso(buf, &back));
        int64_t floor_ms = t / 1000 - (t % 1000 < 0);
        CHECK_INT(back, floor_ms * 1000);
    }
    return TEST_REPORT("test_timefmt");
}

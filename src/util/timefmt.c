/*
 * timefmt.c - ISO 8601 / RFC 3339 timestamps for packet time.
 *
 * Days to and from the proleptic Gregorian calendar use Howard Hinnant's algorithms
 * ("chrono-Compatible Low-Level Date Algorithms"): branch-light, exact for every
 * int64 day count, and independent of the C library's time zone state.
 */
#include <stdint.h>
#include <stdio.h>

#include "greffier/timefmt.h"

enum { SECONDS_PER_DAY = 86400 };
static const int64_t US_PER_SECOND = 1000000;

static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    unsigned yoe = (unsigned)(year - era * 400);
    unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(int64_t year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Floor division, so times before 1970 still land on the right day and second. */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

static char *format(pkt_time_t t, bool with_ms, char *buf, size_t size)
{
    int64_t us, secs = floor_div(t, US_PER_SECOND, &us);
    int64_t sod, days = floor_div(secs, SECONDS_PER_DAY, &sod);
    int64_t year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);

    unsigned h = (unsigned)(sod / 3600), m = (unsigned)(sod / 60 % 60), s = (unsigned)(sod % 60);
    int n;
    if (with_ms)
        n = snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)year, month,
                     day, h, m, s, (unsigned)(us / 1000));
    else
        n = snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)year, month, day, h,
                     m, s);
    if ((n < 0 || (size_t)n >= size) && size > 0)
        buf[0] = '\0';
    return buf;
}

char *time_format_iso_ms(pkt_time_t t, char *buf, size_t size)
{
    return format(t, true, buf, size);
}

char *time_format_iso_s(pkt_time_t t, char *buf, size_t size)
{
    return format(t, false, buf, size);
}

/* Reads exactly n digits at *p; false when any is missing. */
static bool digits(const char **p, unsigned n, unsigned *out)
{
    unsigned v = 0;
    for (unsigned i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (unsigned)(c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool time_parse_iso(const char *text, pkt_time_t *out)
{
    const char *p = text;
    unsigned year, month, day, hour = 0, minute = 0, second = 0;
    int64_t frac_us = 0, offset_s = 0;

    if (!p || !digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &month) || *p++ != '-' ||
        !digits(&p, 2, &day))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;

    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &minute))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &second))
                return false;
            if (*p == '.' || *p == ',') {
                p++;
                /* Digits past the sixth are below the microsecond: read, then dropped. */
                int64_t scale = 100000;
                if (*p < '0' || *p > '9')
                    return false;
                for (; *p >= '0' && *p <= '9'; p++) {
                    frac_us += (*p - '0') * scale;
                    scale /= 10;
                }
            }
        }
        /* RFC 3339 has no leap-second arithmetic worth doing here: 60 is refused. */
        if (hour > 23 || minute > 59 || second > 59)
            return false;

        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            unsigned oh, om = 0;
            if (!digits(&p, 2, &oh))
                return false;
            if (*p == ':') {
                p++;
                if (!digits(&p, 2, &om))
                    return false;
            } else if (*p >= '0' && *p <= '9') {
                if (!digits(&p, 2, &om))
                    return false;
            }
            if (oh > 23 || om > 59)
                return false;
            offset_s = sign * (int64_t)(oh * 3600 + om * 60);
        }
    }
    if (*p != '\0')
        return false;

    int64_t secs = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 +
                   second - offset_s;
    *out = secs * US_PER_SECOND + frac_us;
    return true;
}

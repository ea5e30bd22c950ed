/*
 * timefmt.h - packet time (microseconds since the Unix epoch) to and from ISO 8601
 * text (RFC 3339 profile), always UTC on output.
 *
 * The calendar arithmetic is done here, not with gmtime/timegm, so the result never
 * depends on the TZ environment of the process and any int64 time formats.
 */
#ifndef GREFFIER_TIMEFMT_H
#define GREFFIER_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "greffier/packet.h"

/* Big enough for any pkt_time_t in either format, sign and six-digit years included. */
#define TIME_ISO_SIZE 32

/* "2024-05-02T09:00:00.123Z": UTC, milliseconds truncated toward the past.
 * Returns buf (an empty string when size is too small). */
char *time_format_iso_ms(pkt_time_t t, char *buf, size_t size);

/* "2024-05-02T09:00:00Z": the same, whole seconds. */
char *time_format_iso_s(pkt_time_t t, char *buf, size_t size);

/* Parses "2024-05-02", "2024-05-02T09:00", "2024-05-02T09:00:00", each optionally with
 * fractional seconds (".123", any number of digits, kept to the microsecond) and a zone
 * ("Z", "+02:00", "-0530", "+02").  A space may stand for the 'T'.  Text without a
 * zone is UTC.  Returns false, leaving *out untouched, for anything else (including
 * out-of-range fields such as month 13 or February 30). */
bool time_parse_iso(const char *text, pkt_time_t *out);

#endif

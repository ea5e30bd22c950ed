/*
 * call_report.h - what the pipeline says about each finished call once it is stored:
 * one log line at info level, and the one-way audio check behind the alarm of that name.
 */
#ifndef GREFFIER_CALL_REPORT_H
#define GREFFIER_CALL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "greffier/call.h"
#include "greffier/config.h"
#include "greffier/counters.h"
#include "greffier/media_result.h"

struct index;
struct call_report;

struct call_report *call_report_new(const struct config *cfg, struct index *ix,
                                    struct counters *counters);
void call_report_free(struct call_report *r);

/* Writes the line logged for a finished call, without a newline:
 *   call ID CALL-ID: CALLER -> CALLEE, STATUS (CODE), duration S.mmm s, codec C, MOS M,
 *   recording B bytes (STATE)
 * ID is the index's row id (0 when the call was not stored), S.mmm the talk time as
 * `greffier calls` shows it (answer to end), MOS the worst direction's; "-" where a
 * value is unknown (never answered: duration; no audio: codec and MOS; no file: the
 * recording, followed by the media state instead of the file's). */
void call_report_format(const struct call *c, const struct call_media_result *m, FILE *out);

/* True when the call was answered for longer than [alarms] one_way_audio seconds and
 * RTP came in one direction only. */
bool call_report_one_way(const struct config *cfg, const struct call *c,
                         const struct call_media_result *m);

/* Logs the call and checks it for one-way audio (counted, and the alarm one_way_audio
 * raised with the number of such calls in the last hour of packet time). */
void call_report_finished(struct call_report *r, const struct call *c,
                          const struct call_media_result *m);
/* Clears one_way_audio once the last hour (packet time now) holds no such call. */
void call_report_tick(struct call_report *r, pkt_time_t now);

#endif

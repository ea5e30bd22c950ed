/*
 * call_build.h - private to the SIP stage: building a call in its arena.
 */
#ifndef GREFFIER_SIP_CALL_BUILD_H
#define GREFFIER_SIP_CALL_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "greffier/call.h"
#include "greffier/dialog.h"
#include "greffier/number.h"
#include "greffier/sip_msg.h"

struct call *call_new(const char *call_id);
void call_free(struct call *c);
char *call_strdup(struct call *c, const char *s);

/* Keeps a copy of the message bytes; NULL (and messages_dropped grows) past the limit. */
struct call_sip_message *call_add_message(struct call *c, const struct sip_wire *w,
                                          const char *start_line, size_t max_messages);
struct call_media_offer *call_add_offer(struct call *c, pkt_time_t ts, bool from_caller,
                                        const struct sdp_media_list *sdp);

/* True when this fingerprint was already seen on the call (a retransmission);
 * remembers it otherwise. */
bool call_seen_before(struct call *c, uint64_t fingerprint);

void call_set_party(struct call *c, struct party *p, const struct sip_party *from,
                    const struct number_plan *plan);

#endif

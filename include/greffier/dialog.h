/*
 * dialog.h - call tracking: SIP messages in, calls out.
 *
 * Keyed by Call-ID; one call per INVITE dialog, forks resolved to the answered
 * branch (RFC 3261 §12, §13.2.2.4).  The tracker owns every live call; when a call
 * is over (BYE, final response, CANCEL, or silence measured in packet time) and its
 * stragglers have had time to arrive, it is handed to the sink and then freed.
 */
#ifndef GREFFIER_DIALOG_H
#define GREFFIER_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/call.h"
#include "greffier/config.h"
#include "greffier/counters.h"
#include "greffier/sip_msg.h"

/* Where a SIP message was seen. */
struct sip_wire {
    pkt_time_t ts;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    enum sip_transport transport;
    const uint8_t *raw; /* the message bytes, borrowed for the call */
    size_t raw_len;
};

/* What the tracker tells the stages after it (index, and media in a later stage). */
struct call_sink {
    void *user;
    /* A call was created (INVITE seen, or picked up from a later message). */
    void (*call_started)(void *user, struct call *c);
    /* An SDP offer or answer was added: media expectations changed. */
    void (*media_changed)(void *user, struct call *c, const struct call_media_offer *offer);
    /* The call is finished; the tracker frees it after this returns. */
    void (*call_finished)(void *user, struct call *c);
    /* A DTMF key sent in a SIP INFO of the dialog (once per CSeq and side). */
    void (*dtmf)(void *user, struct call *c, bool from_caller, char key, pkt_time_t ts);
};

struct dialogs;

struct dialogs *dialogs_new(const struct config *cfg, struct counters *counters,
                            const struct call_sink *sink);
/* Finishes every call still open (end of capture, or shutdown with interrupted set)
 * and frees the tracker. */
void dialogs_free(struct dialogs *d, pkt_time_t now, bool interrupted);

void dialogs_on_sip(struct dialogs *d, const struct sip_msg *m, const struct sip_wire *w);

/* Advances packet time: closes calls whose silence or linger period is over. */
void dialogs_tick(struct dialogs *d, pkt_time_t now);

/* Marks activity on a call from another stage (RTP), so silence timers restart. */
void dialogs_touch(struct dialogs *d, struct call *c, pkt_time_t now);

size_t dialogs_active(const struct dialogs *d);

/* Direction of a call from the trunk addresses and internal number patterns. */
enum call_direction call_classify_direction(const struct config *cfg, const struct call *c);

#endif

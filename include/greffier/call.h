/*
 * call.h - one call as rebuilt from its SIP dialog(s): parties, times, outcome,
 * media expectations and every SIP message, ready for the index and the media stage.
 *
 * Ownership: a call and everything it points to live in its own arena (call->home,
 * a sofia-sip su_home) and die together in call_free().  The dialog tracker owns
 * live calls; sinks may read a call during a callback but must copy what they keep.
 */
#ifndef GREFFIER_CALL_H
#define GREFFIER_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/packet.h"
#include "greffier/sdp_media.h"

enum call_status {
    CALL_IN_PROGRESS = 0,
    CALL_ANSWERED,
    CALL_CANCELLED,
    CALL_BUSY,
    CALL_REJECTED,
    CALL_FAILED,
    CALL_TIMEOUT,
};

enum call_direction {
    DIR_UNKNOWN = 0,
    DIR_INBOUND,
    DIR_OUTBOUND,
    DIR_INTERNAL,
};

/* Why a call's end time is what it is. */
enum call_end_reason {
    END_NONE = 0,      /* not ended (in progress when the capture stopped) */
    END_BYE,           /* BYE seen */
    END_FINAL_RESPONSE,/* never answered: final response (or CANCEL) closed it */
    END_TIMEOUT,       /* no SIP and no RTP for the configured silence, packet time */
    END_INTERRUPTED,   /* daemon stopped while the call was active */
};

enum sip_transport {
    TRANSPORT_UDP = 0,
    TRANSPORT_TCP,
    TRANSPORT_SCTP,
    TRANSPORT_WS,
};

struct party {
    char *number;      /* as dialled / presented (user part), NULL when absent */
    char *number_norm; /* normalised digits for search (see number.h), NULL when absent */
    char *name;        /* display name, NULL when absent */
    char *uri;
};

/* One SIP message of the call, kept byte for byte as evidence. */
struct call_sip_message {
    pkt_time_t ts;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    enum sip_transport transport;
    bool retransmission;
    char *start_line;
    uint8_t *raw;
    size_t raw_len;
};

/* One SDP offer or answer: who sent it and what media it expects to receive. */
struct call_media_offer {
    pkt_time_t ts;
    unsigned message_index; /* into call->messages */
    bool from_caller;       /* sent by the caller's side (else the callee's) */
    struct sdp_media_list sdp;
};

struct call {
    void *home; /* su_home_t arena owning every pointer below */
    int64_t id; /* index row id once stored, 0 before */
    char *call_id;

    pkt_time_t start;  /* first message of the call (the INVITE when seen) */
    pkt_time_t answer; /* 2xx to the initial INVITE; 0 when never answered */
    pkt_time_t end;    /* 0 when not ended */
    pkt_time_t last_activity; /* last SIP message (or RTP, reported by the media stage) */
    enum call_status status;
    int sip_code;      /* final response code to the initial INVITE, 0 when none */
    enum call_direction direction;
    enum call_end_reason end_reason;
    bool partial;      /* INVITE never captured: picked up from later messages */
    enum sip_transport transport;

    struct party caller, callee;
    struct party redirecting; /* from Diversion / History-Info, number NULL when none */
    char *user_agent_caller, *user_agent_callee;
    struct ip_addr caller_addr, callee_addr; /* signalling addresses of the INVITE */
    uint16_t caller_port, callee_port;

    /* Dialog identity: the caller's From tag and the answered branch's To tag. */
    char *from_tag, *to_tag;
    uint32_t invite_cseq; /* CSeq of the initial INVITE transaction (may grow on 401/407 retries) */

    struct call_sip_message *messages;
    size_t nmessages, messages_cap;
    size_t messages_dropped; /* beyond the per-call limit: counted, not kept */

    struct call_media_offer *offers;
    size_t noffers, offers_cap;

    /* Retransmission detection: fingerprints of messages already seen. */
    uint64_t *fingerprints;
    size_t nfingerprints, fingerprints_cap;

    void *media; /* the media stage's per-call state (issue: media) */
};

const char *call_status_name(enum call_status s);
bool call_status_parse(const char *name, enum call_status *out);
const char *call_direction_name(enum call_direction d);
/* For user input (search filters): case does not matter. */
bool call_direction_parse(const char *name, enum call_direction *out);
const char *call_end_reason_name(enum call_end_reason r);
const char *sip_transport_name(enum sip_transport t);

#endif

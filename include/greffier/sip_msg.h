/*
 * sip_msg.h - one SIP message, parsed by sofia-sip, reduced to what call tracking needs.
 *
 * sip_msg_parse() hands the bytes to sofia-sip's message parser (msg_make with the
 * SIP mclass extended for P-Asserted-Identity and Remote-Party-ID) and its SDP parser;
 * no SIP grammar is written here.  Every string in struct sip_msg points into the
 * message's own su_home and lives until sip_msg_free().
 */
#ifndef GREFFIER_SIP_MSG_H
#define GREFFIER_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/packet.h"
#include "greffier/sdp_media.h"

enum sip_method_id {
    SIPM_UNKNOWN = 0,
    SIPM_INVITE,
    SIPM_ACK,
    SIPM_BYE,
    SIPM_CANCEL,
    SIPM_PRACK,
    SIPM_UPDATE,
    SIPM_INFO,
    SIPM_REFER,
    SIPM_NOTIFY,
    SIPM_SUBSCRIBE,
    SIPM_OPTIONS,
    SIPM_REGISTER,
    SIPM_MESSAGE,
    SIPM_PUBLISH,
};

/* A party as written in a From/To/P-Asserted-Identity/Remote-Party-ID/Diversion header. */
struct sip_party {
    const char *user;    /* user part of the URI (a number or a name), NULL when absent */
    const char *display; /* display name without quotes, NULL when absent */
    const char *uri;     /* the whole URI as text */
};

struct sip_msg {
    bool is_request;
    enum sip_method_id method; /* request method; for a response, its CSeq method */
    const char *method_name;   /* as written (requests) or the CSeq method (responses) */
    int status;                /* response status code, 0 for requests */
    const char *reason;        /* response reason phrase */
    const char *request_uri;   /* requests only */

    const char *call_id;
    uint32_t cseq;
    enum sip_method_id cseq_method;
    const char *from_tag, *to_tag, *branch; /* branch of the top Via */

    struct sip_party from, to;
    struct sip_party pai;       /* first P-Asserted-Identity, user NULL when absent */
    struct sip_party rpid;      /* Remote-Party-ID */
    struct sip_party diversion; /* first Diversion (redirecting party), or History-Info */
    const char *user_agent;     /* User-Agent or Server */

    bool has_sdp;
    struct sdp_media_list sdp; /* valid when has_sdp */
    bool sdp_malformed;        /* a body announced as SDP that the parser rejected */
    /* A DTMF key carried in the body (SIP INFO): application/dtmf-relay "Signal=5" or
     * application/dtmf "5"; one of 0-9 * # A-D, 0 when there is none. */
    char dtmf_key;

    /* Start line as text (e.g. "INVITE sip:100@pbx SIP/2.0" or "SIP/2.0 200 OK"). */
    const char *start_line;

    void *owner_; /* the sofia msg_t, private */
};

/* Parses one complete SIP message.  Returns NULL with *err set to a reason naming what
 * is wrong ("no Call-ID", "parser rejected start line", ...) when it cannot be used. */
struct sip_msg *sip_msg_parse(const uint8_t *data, size_t len, const char **err);
void sip_msg_free(struct sip_msg *m);

/* True when the bytes start like a SIP request or status line (used on non-SIP ports
 * when detection is on, and to resynchronise a TCP stream). */
bool sip_looks_like_start_line(const uint8_t *data, size_t len);

/* Named sip_method_id_name, not sip_method_name: libsofia-sip-ua exports a function of that
 * name, and defining it here would interpose sofia's own calls to it. */
const char *sip_method_id_name(enum sip_method_id m);

#endif

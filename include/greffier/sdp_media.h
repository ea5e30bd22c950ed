/*
 * sdp_media.h - the media expectations of one SDP offer or answer.
 *
 * For each m= line: where the party wants to receive (address, port), what it can
 * receive (payload types with rtpmap), in which direction, and SRTP keys when they
 * travel in clear (a=crypto, RFC 4568).  The media stage matches RTP with these.
 */
#ifndef GREFFIER_SDP_MEDIA_H
#define GREFFIER_SDP_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/packet.h"

enum media_direction {
    MDIR_SENDRECV = 0,
    MDIR_SENDONLY,
    MDIR_RECVONLY,
    MDIR_INACTIVE,
};

#define SDP_MAX_MEDIA 8
#define SDP_MAX_PAYLOADS 24
#define SDP_MAX_CRYPTO 4

struct sdp_payload {
    uint8_t pt;
    char encoding[24]; /* "PCMU", "opus", "telephone-event"; empty when no rtpmap */
    uint32_t clock_rate;
    uint8_t channels;
};

struct sdp_crypto {
    uint32_t tag;
    char suite[40]; /* AES_CM_128_HMAC_SHA1_80 ... */
    char key[96];   /* the inline: key||salt in base64, lifetime/MKI stripped */
};

struct sdp_media {
    char media[12]; /* audio, video, image, application */
    char proto[24]; /* RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, udptl ... */
    struct ip_addr addr;
    uint16_t port; /* 0 means the stream is rejected or disabled */
    enum media_direction direction;
    uint8_t npayloads;
    struct sdp_payload payloads[SDP_MAX_PAYLOADS];
    uint8_t ncrypto;
    struct sdp_crypto crypto[SDP_MAX_CRYPTO];
    uint8_t has_fingerprint; /* a=fingerprint: DTLS-SRTP, keys not visible */
};

struct sdp_media_list {
    uint8_t count;
    uint8_t truncated; /* more m= lines than SDP_MAX_MEDIA */
    struct sdp_media m[SDP_MAX_MEDIA];
};

const char *media_direction_name(enum media_direction d);

/* Parses an SDP body (RFC 4566) with sofia-sip's SDP parser and fills *out.  Returns false,
 * with *out zeroed and *err naming the reason, when the parser rejects the body. */
bool sdp_media_parse(const uint8_t *body, size_t len, struct sdp_media_list *out, const char **err);

#endif

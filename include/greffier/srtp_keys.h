/*
 * srtp_keys.h - SRTP/SRTCP decryption with SDES keys (RFC 4568 a=crypto), by libsrtp2.
 *
 * One srtp_stream per direction: the a=crypto a party puts in its SDP is the key that
 * party ENCRYPTS what it sends with (RFC 4568 §6.1), so the offerer's key decrypts the
 * offerer's packets and the answerer's key the answerer's.  The stream accepts any SSRC
 * (ssrc_any_inbound) and keeps libsrtp's per-SSRC state (rollover counter, replay
 * window) inside; it allocates when a new SSRC appears, never per packet.
 *
 * Suites (RFC 4568 §6.2, RFC 6188): AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32,
 * AES_192_CM_HMAC_SHA1_80/_32, AES_256_CM_HMAC_SHA1_80/_32.  With an _32 suite SRTCP
 * still carries an 80-bit tag (RFC 4568 §6.2.2).
 */
#ifndef GREFFIER_SRTP_KEYS_H
#define GREFFIER_SRTP_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* Results of the unprotect functions: 0, or one of these negative values. */
enum srtp_stream_status {
    SRTP_STREAM_OK = 0,
    SRTP_STREAM_AUTH_FAIL = -1, /* authentication tag wrong: wrong key or altered packet */
    SRTP_STREAM_REPLAY = -2,    /* index already seen or too old: a duplicate, in practice */
    SRTP_STREAM_MALFORMED = -3, /* too short for its header and tag */
    SRTP_STREAM_ERROR = -4,     /* any other libsrtp failure */
};

struct srtp_stream_stats {
    uint64_t rtp_ok, rtcp_ok;
    uint64_t auth_fail, replay, malformed, error;
};

struct srtp_stream;

/* suite: the crypto-suite name of the a=crypto line.  key: its key parameter, either
 * "inline:<base64 key||salt>[|lifetime][|MKI:length]" or the bare base64.  On failure
 * returns NULL and writes the reason to err (errlen bytes, may be 0). */
struct srtp_stream *srtp_stream_new(const char *suite, const char *key, char *err, size_t errlen);
void srtp_stream_free(struct srtp_stream *s);

/* Authenticate and decrypt in place.  On success *len becomes the length of the plain
 * RTP (RTCP) packet, tag, MKI and SRTCP index removed.  On failure buf is unspecified and
 * the result is an srtp_stream_status, also counted in the stream's stats. */
int srtp_stream_unprotect_rtp(struct srtp_stream *s, uint8_t *buf, size_t *len);
int srtp_stream_unprotect_rtcp(struct srtp_stream *s, uint8_t *buf, size_t *len);

const struct srtp_stream_stats *srtp_stream_stats(const struct srtp_stream *s);
const char *srtp_stream_strerror(int status);

#endif

/*
 * sip_stream.h - cutting SIP messages out of byte streams and packets.
 *
 * UDP: one datagram may hold one message (leading CRLF keep-alives skipped; junk before
 * a start line skipped and counted).  TCP: a reassembled byte stream is framed by
 * Content-Length (RFC 3261 §18.3): several messages per segment, one message over many
 * segments.  WebSocket (RFC 7118 over RFC 6455): the HTTP Upgrade is recognised and
 * each (unmasked) text or binary message is one SIP message.  SCTP: each DATA chunk
 * payload is one message.  TLS: recognised and counted, never parsed.
 */
#ifndef GREFFIER_SIP_STREAM_H
#define GREFFIER_SIP_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/counters.h"
#include "greffier/packet.h"

/* Receives each framed SIP message; bytes valid only during the call. */
typedef void (*sip_frame_fn)(void *user, const uint8_t *msg, size_t len);

/* Frames complete SIP messages from the start of a TCP byte stream.  Returns the
 * number of bytes consumed; leftover bytes are an incomplete message.  Handles
 * WebSocket after an Upgrade and resynchronises on garbage.  *state is per flow
 * (allocate with sip_stream_state_new, free with sip_stream_state_free). */
struct sip_stream_state;
struct sip_stream_state *sip_stream_state_new(void);
void sip_stream_state_free(void *state);
size_t sip_stream_consume(struct sip_stream_state *st, const uint8_t *data, size_t len,
                          size_t max_message, struct counters *c, sip_frame_fn emit, void *user);
/* True once the flow was found to carry TLS; the caller stops feeding it. */
int sip_stream_is_tls(const struct sip_stream_state *st);

/* Frames the SIP message(s) of one UDP datagram or SCTP chunk. */
void sip_datagram_frames(const uint8_t *data, size_t len, size_t max_message, struct counters *c,
                         sip_frame_fn emit, void *user);

#endif

/*
 * media.h - the media stage: RTP in, a stereo recording per answered call out.
 *
 * The SIP stage tells it about calls and their SDP offers/answers (media expectations);
 * every UDP datagram that is not SIP comes here.  A datagram is matched to a call by the
 * address and port an SDP announced (as destination, or as source for symmetric RTP,
 * and by port alone when NAT rewrote the address), decrypted when SRTP keys were in the
 * SDP, put back in sequence, decoded, and placed on the call's timeline: the caller's
 * voice on channel 0, the callee's on channel 1.  Streams that match no call are kept as
 * "unmatched" so an admin can see them.  Time is packet time.
 */
#ifndef GREFFIER_MEDIA_H
#define GREFFIER_MEDIA_H

#include <stdbool.h>

#include "greffier/call.h"
#include "greffier/config.h"
#include "greffier/counters.h"
#include "greffier/media_result.h"
#include "greffier/packet.h"

struct media;

/* data_dir: where recordings/ lives.  Returns NULL when out of memory. */
struct media *media_new(const struct config *cfg, struct counters *counters,
                        const char *data_dir);
void media_free(struct media *m);

void media_call_started(struct media *m, struct call *c);
void media_offer(struct media *m, struct call *c, const struct call_media_offer *offer);
/* Says that call c has no index row (nor a live row of another process): a file at
 * its recording's name is a leftover of a killed import, which its recording replaces
 * when it closes (recording_file_commit).  Called by the pipeline before
 * media_call_finished. */
void media_call_unindexed(struct media *m, struct call *c);
/* Closes the call's recording (everything up to the call's end), fills *out, and
 * forgets the call.  out must be released with media_result_free(). */
void media_call_finished(struct media *m, struct call *c, struct call_media_result *out);

/* One UDP datagram that is not SIP.  Returns the call it belongs to (so the SIP stage
 * can restart the call's silence timer), or NULL. */
struct call *media_packet(struct media *m, const struct l4_packet *pkt);

/* Advances packet time: encodes what the jitter window no longer waits for and expires
 * idle unmatched streams (handed to fn). */
void media_tick(struct media *m, pkt_time_t now,
                void (*unmatched)(void *user, const struct media_stream_result *s), void *user);
/* Under backlog (live capture falling behind), the encoder's complexity is lowered before
 * anything is dropped; it applies to the recordings in progress and to new ones. */
void media_set_complexity(struct media *m, unsigned complexity);
unsigned media_complexity(const struct media *m);
/* [storage] on_disk_full = stop: while full, calls are indexed but no new recording
 * starts (media state "disk_full", counted); recordings in progress go on. */
void media_set_disk_full(struct media *m, bool full);
/* True once after a recording failed for lack of space (ENOSPC), so that the daemon
 * applies [storage] on_disk_full at once. */
bool media_disk_full_seen(struct media *m);

/* Every call in progress whose recording is being written, with its rules' decision and
 * the recording's path relative to the data directory: the pipeline publishes each as a
 * live index row, so that a crash leaves no audio on disk without a row. */
void media_each_recording(struct media *m,
                          void (*fn)(void *user, struct call *c,
                                     const struct media_rules_decision *d, const char *relpath),
                          void *user);

/* On demand (src/media/ondemand.c).  fn is called for every call in progress that is
 * under an on_demand rule or marked malicious, with the decision so far and the path of
 * its recording relative to the data directory ("" while it has none). */
void media_each_on_demand(struct media *m,
                          void (*fn)(void *user, struct call *c,
                                     const struct media_rules_decision *d, const char *relpath),
                          void *user);
/* A decision from outside for call c in progress: action "keep", "discard" or
 * "malicious", by a user ("cli:UID" ...), at packet time now.  Returns 0 when applied,
 * 1 when the call was already decided (the first decision stands), -1 when the call is
 * not on demand (or the action is unknown). */
int media_on_demand_request(struct media *m, struct call *c, const char *action, const char *by,
                            pkt_time_t now);

/* A DTMF key sent in a SIP INFO by the caller's side (from_caller) or the callee's: a
 * "dtmf" event of the call, and a key of the on-demand codes. */
void media_sip_dtmf(struct media *m, struct call *c, bool from_caller, char key, pkt_time_t ts);
/* Frames waiting for the encoder threads ([media] encoder_threads > 1), 0 without them. */
size_t media_encoder_queue(struct media *m);

/* End of input: hands every unmatched stream to fn. */
void media_drain_unmatched(struct media *m,
                           void (*fn)(void *user, const struct media_stream_result *s),
                           void *user);

#endif

/*
 * pipeline.h - packets in, calls out: the one path shared by `import` and the daemon.
 *
 *   frame -> net (L2..L4) -> classify -> SIP framing -> sofia-sip -> dialogs -> index
 *                                   \-> media (RTP; later stage)
 * Time is packet time.  Everything dropped on the way is counted in `counters`.
 */
#ifndef GREFFIER_PIPELINE_H
#define GREFFIER_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/config.h"
#include "greffier/counters.h"
#include "greffier/index.h"
#include "greffier/packet.h"
#include "greffier/sip_msg.h"

struct pipeline;

struct pipeline *pipeline_new(const struct config *cfg, struct index *ix,
                              struct counters *counters);
/* One captured frame of pcap link type linktype. */
void pipeline_frame(struct pipeline *p, int linktype, pkt_time_t ts, const uint8_t *frame,
                    size_t caplen, size_t wirelen);
/* Live capture only (`import` never calls it): the wall clock says wall_now.  Moves the
 * pipeline's time forward to it (never back), runs the timers so that calls end even
 * when the wire goes quiet, and commits stored calls at most once a second so that
 * readers see them and a crash loses at most that second. */
void pipeline_idle(struct pipeline *p, pkt_time_t wall_now);
/* What the pipeline holds now, beside the counters (for /metrics and the snapshot the
 * capture process publishes).  SIP messages are counted by method: requests by their
 * method, responses by their CSeq method. */
enum { PIPELINE_SIP_METHODS = SIPM_PUBLISH + 1 };
struct pipeline_stats {
    uint64_t calls_active;     /* dialogs being tracked */
    unsigned encoder_complexity; /* the Opus complexity in use (lowered under backlog) */
    double backlog_s;          /* how far the newest packet handled is behind the wall clock */
    uint64_t encoder_queue;    /* frames waiting for the encoder threads */
    uint64_t sip_requests[PIPELINE_SIP_METHODS], sip_responses[PIPELINE_SIP_METHODS];
};
void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *out);

/* A capture file could not be read to its end. */
void pipeline_count_read_error(struct pipeline *p);
/* Commits the index writes batched so far (before a purge, which needs its own
 * transactions). */
void pipeline_commit(struct pipeline *p);
/* See media_set_disk_full(). */
void pipeline_set_disk_full(struct pipeline *p, bool full);
/* See media_disk_full_seen(). */
bool pipeline_disk_full_seen(struct pipeline *p);
/* End of input: finishes open calls (interrupted: the daemon is stopping), commits, frees. */
void pipeline_finish(struct pipeline *p, bool interrupted);

/* Reads a pcap or pcapng file through the pipeline.  Returns 0 when the file was read
 * (damaged tails are counted as pcap_read_errors and reported in err), -1 when it
 * cannot be opened or is not a capture (err says why). */
int capture_read_file(struct pipeline *p, const char *path, char *err, size_t errsize);

#endif

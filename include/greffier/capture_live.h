/*
 * capture_live.h - live capture with libpcap on one or more interfaces, feeding the
 * pipeline (`greffier capture`).
 *
 * Open the handles while privileged (CAP_NET_RAW), then drop privileges: a handle keeps
 * working after its owner lost the right to open one.  libpcap uses a TPACKET_V3 memory
 * ring on Linux (buffer_mb), so a burst waits in the ring instead of being dropped.
 */
#ifndef GREFFIER_CAPTURE_LIVE_H
#define GREFFIER_CAPTURE_LIVE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/config.h"
#include "greffier/counters.h"
#include "greffier/pipeline.h"

struct capture_live;

/* Builds the capture filter greffier uses when [capture] bpf_filter is empty: SIP ports
 * over UDP, TCP and SCTP, SIP-over-TLS ports over TCP (only counted), all UDP (RTP
 * uses ports announced in SDP), IPv4 and IPv6 fragments, and the tunnels the decoder
 * opens (GRE and ERSPAN, IP-in-IP, VXLAN is UDP).  On Ethernet (DLT_EN10MB) the same
 * expression is repeated under one and two 802.1Q tags.  Returns the length written, or
 * -1 when out is too small. */
int capture_build_filter(const struct config *cfg, int linktype, char *out, size_t size);

/* Opens, configures and activates a handle per configured interface (the "any" device
 * when none is configured) and installs the filter.  On failure returns NULL with the
 * reason in err (which interface and why: no such device, permission denied, ...). */
struct capture_live *capture_live_open(const struct config *cfg, char *err, size_t errsize);

/* "eth0, eth1" or "any": the interfaces being captured. */
const char *capture_live_names(const struct capture_live *cl);
/* The filter of the first handle, for the start-up log line. */
const char *capture_live_filter(const struct capture_live *cl);

/* Waits up to timeout_ms for packets on every handle (ppoll with sigmask, so that a
 * signal blocked outside the wait interrupts it at once), then hands every waiting
 * packet to the pipeline, at most a batch per handle.  Returns the number of packets
 * read (0 on timeout or signal), -1 when a handle failed (err says which and why: the
 * interface went down, ...). */
int capture_live_poll(struct capture_live *cl, struct pipeline *p, int timeout_ms,
                      const sigset_t *sigmask, char *err, size_t errsize);

/* The handles, by index 0..count-1: interface name, packets read from it so far. */
size_t capture_live_count(const struct capture_live *cl);
const char *capture_live_name(const struct capture_live *cl, size_t i);
uint64_t capture_live_packets(const struct capture_live *cl, size_t i);

/* Kernel statistics since the previous call, summed over the handles, added to the
 * drop_kernel and drop_interface counters.  pcap_stats() values are cumulative since
 * activation (and 32 bits wide): the deltas are what is added. */
struct capture_drops {
    uint64_t received; /* packets that passed the filter */
    uint64_t kernel;   /* dropped by the kernel: ring full */
    uint64_t iface;    /* dropped by the interface or its driver */
};
void capture_live_stats(struct capture_live *cl, struct counters *c, struct capture_drops *delta);

void capture_live_close(struct capture_live *cl);

#endif

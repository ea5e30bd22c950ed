/*
 * pcap_live.c - live capture on one or more interfaces with libpcap, feeding the pipeline.
 *
 * Each interface gets its own handle: pcap_create, then snaplen, promiscuous mode,
 * ring size and a short block timeout, then pcap_activate.  Immediate mode is not used:
 * on Linux it makes libpcap fall back from TPACKET_V3 to TPACKET_V2, whose one-slot-
 * per-packet ring wastes the memory that V3's variable-size blocks use for bursts
 * (pcap-linux.c, prepare_tpacket_socket); the 100 ms block timeout bounds the delay
 * instead.  Every handle is non-blocking and read when ppoll() says its descriptor is
 * ready, a bounded batch at a time so that one busy interface cannot starve the others,
 * the timers or the signals.
 *
 * References: pcap(3PCAP), pcap_activate(3PCAP), pcap_get_selectable_fd(3PCAP),
 * pcap_stats(3PCAP); Linux packet(7) on PACKET_STATISTICS.
 */
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/capture_live.h"
#include "greffier/log.h"

enum {
    BLOCK_TIMEOUT_MS = 100, /* TPACKET_V3 block retire timeout: the longest a packet waits */
    BATCH = 4096,           /* packets read from one handle before looking at the others */
    FILTER_MAX = 8192,
    NAMES_MAX = CONFIG_MAX_LIST * 66,
};

struct handle {
    pcap_t *pc;
    int linktype;
    bool pending; /* the last batch was full: more is waiting, read it without polling */
    uint64_t packets; /* read from this handle since it was opened (alarm no_packets) */
    char name[64];
    /* pcap_stats() values at the previous reading: they are cumulative since activation
     * and 32 bits wide, so deltas are taken modulo 2^32. */
    unsigned prev_recv, prev_drop, prev_ifdrop;
};

struct capture_live {
    size_t n;
    struct handle h[CONFIG_MAX_LIST];
    struct pollfd fds[CONFIG_MAX_LIST];
    char names[NAMES_MAX];
    char filter[FILTER_MAX];
};

/* The pipeline and link type of the handle being read, for the libpcap callback. */
struct dispatch {
    struct pipeline *p;
    int linktype;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    const struct dispatch *d = (const struct dispatch *)(void *)user;
    pkt_time_t ts = (pkt_time_t)h->ts.tv_sec * 1000000 + (pkt_time_t)h->ts.tv_usec;
    pipeline_frame(d->p, d->linktype, ts, bytes, h->caplen, h->len);
}

/* Why pcap_activate failed, in words an administrator can act on. */
static void activate_error(pcap_t *pc, int rc, const char *name, char *err, size_t errsize)
{
    switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
        snprintf(err, errsize,
                 "%s: permission denied: capturing needs CAP_NET_RAW (run as root, or with "
                 "AmbientCapabilities=CAP_NET_RAW as the systemd unit does): %s",
                 name, pcap_geterr(pc));
        break;
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(err, errsize, "%s: no such interface (see `ip link`): %s", name, pcap_geterr(pc));
        break;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(err, errsize, "%s: interface is down (ip link set %s up)", name, name);
        break;
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(err, errsize, "%s: no permission for promiscuous mode: %s", name, pcap_geterr(pc));
        break;
    default:
        snprintf(err, errsize, "%s: %s: %s", name, pcap_statustostr(rc), pcap_geterr(pc));
        break;
    }
}

static int open_handle(struct capture_live *cl, const struct config *cfg, const char *name,
                       char *err, size_t errsize)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    struct handle *h = &cl->h[cl->n];
    struct bpf_program prog;
    bool any = strcmp(name, "any") == 0;
    int rc;

    snprintf(h->name, sizeof(h->name), "%s", name);
    h->pc = pcap_create(name, errbuf);
    if (!h->pc) {
        snprintf(err, errsize, "%s: %s", name, errbuf);
        return -1;
    }
    /* pcap_set_buffer_size takes an int: 4096 MiB would overflow it. */
    long long bytes = (long long)cfg->buffer_mb * 1024 * 1024;
    if (bytes > INT_MAX)
        bytes = INT_MAX;
    if (pcap_set_snaplen(h->pc, (int)cfg->snaplen) != 0 ||
        pcap_set_promisc(h->pc, cfg->promiscuous && !any) != 0 ||
        pcap_set_timeout(h->pc, BLOCK_TIMEOUT_MS) != 0 ||
        pcap_set_buffer_size(h->pc, (int)bytes) != 0 ||
        pcap_set_tstamp_precision(h->pc, PCAP_TSTAMP_PRECISION_MICRO) != 0) {
        snprintf(err, errsize, "%s: cannot set capture options: %s", name, pcap_geterr(h->pc));
        goto error;
    }
    rc = pcap_activate(h->pc);
    if (rc < 0) {
        activate_error(h->pc, rc, name, err, errsize);
        goto error;
    }
    if (rc > 0)
        log_msg(LOG_WARNING, "capture: %s: %s: %s", name, pcap_statustostr(rc), pcap_geterr(h->pc));
    if (pcap_setnonblock(h->pc, 1, errbuf) != 0) {
        snprintf(err, errsize, "%s: cannot make the handle non-blocking: %s", name, errbuf);
        goto error;
    }
    h->linktype = pcap_datalink(h->pc);

    char built[FILTER_MAX];
    const char *filter = cfg->bpf_filter;
    if (filter[0] == '\0') {
        if (capture_build_filter(cfg, h->linktype, built, sizeof(built)) < 0) {
            snprintf(err, errsize, "%s: capture filter longer than %d bytes", name, FILTER_MAX);
            goto error;
        }
        filter = built;
    }
    if (pcap_compile(h->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errsize, "%s: capture filter \"%.200s\": %s", name, filter,
                 pcap_geterr(h->pc));
        goto error;
    }
    rc = pcap_setfilter(h->pc, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, errsize, "%s: cannot install the capture filter: %s", name,
                 pcap_geterr(h->pc));
        goto error;
    }
    if (cl->n == 0)
        snprintf(cl->filter, sizeof(cl->filter), "%s", filter);

    int fd = pcap_get_selectable_fd(h->pc);
    if (fd < 0) {
        snprintf(err, errsize, "%s: no selectable descriptor", name);
        goto error;
    }
    cl->fds[cl->n] = (struct pollfd){.fd = fd, .events = POLLIN};
    cl->n++;
    return 0;

error:
    pcap_close(h->pc);
    h->pc = NULL;
    return -1;
}

struct capture_live *capture_live_open(const struct config *cfg, char *err, size_t errsize)
{
    struct capture_live *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    size_t count = cfg->ninterfaces ? cfg->ninterfaces : 1;
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        const char *name = cfg->ninterfaces ? cfg->interfaces[i] : "any";
        if (open_handle(cl, cfg, name, err, errsize) != 0) {
            capture_live_close(cl);
            return NULL;
        }
        int w = snprintf(cl->names + used, sizeof(cl->names) - used, "%s%s", i ? ", " : "", name);
        if (w > 0 && (size_t)w < sizeof(cl->names) - used)
            used += (size_t)w;
    }
    return cl;
}

const char *capture_live_names(const struct capture_live *cl)
{
    return cl->names;
}

const char *capture_live_filter(const struct capture_live *cl)
{
    return cl->filter;
}

int capture_live_poll(struct capture_live *cl, struct pipeline *p, int timeout_ms,
                      const sigset_t *sigmask, char *err, size_t errsize)
{
    bool pending = false;
    for (size_t i = 0; i < cl->n; i++)
        pending |= cl->h[i].pending;
    /* With a batch left over, only look: the signals and ready flags, without waiting. */
    struct timespec wait = {.tv_sec = pending ? 0 : timeout_ms / 1000,
                            .tv_nsec = pending ? 0 : (long)(timeout_ms % 1000) * 1000000};
    int r = ppoll(cl->fds, cl->n, &wait, sigmask);
    if (r < 0 && errno != EINTR) {
        snprintf(err, errsize, "poll: %s", strerror(errno));
        return -1;
    }
    if (r < 0 && !pending)
        return 0; /* a signal: the caller looks at its flags */

    int total = 0;
    for (size_t i = 0; i < cl->n; i++) {
        struct handle *h = &cl->h[i];
        if (!h->pending && (r <= 0 || cl->fds[i].revents == 0))
            continue;
        struct dispatch d = {.p = p, .linktype = h->linktype};
        int got = pcap_dispatch(h->pc, BATCH, on_packet, (u_char *)(void *)&d);
        if (got < 0) {
            /* PCAP_ERROR: the interface went down or was removed, the socket failed. */
            snprintf(err, errsize, "%s: capture failed: %s", h->name, pcap_geterr(h->pc));
            return -1;
        }
        h->pending = got >= BATCH;
        h->packets += (uint64_t)got;
        total += got;
    }
    return total;
}

size_t capture_live_count(const struct capture_live *cl)
{
    return cl->n;
}

const char *capture_live_name(const struct capture_live *cl, size_t i)
{
    return cl->h[i].name;
}

uint64_t capture_live_packets(const struct capture_live *cl, size_t i)
{
    return cl->h[i].packets;
}

void capture_live_stats(struct capture_live *cl, struct counters *c, struct capture_drops *delta)
{
    *delta = (struct capture_drops){0};
    for (size_t i = 0; i < cl->n; i++) {
        struct handle *h = &cl->h[i];
        struct pcap_stat st;
        if (pcap_stats(h->pc, &st) != 0) {
            log_limited(LOG_WARNING, "capture: %s: statistics unavailable: %s", h->name,
                        pcap_geterr(h->pc));
            continue;
        }
        /* Unsigned subtraction: right across a 32-bit wrap of the cumulative values. */
        delta->received += (unsigned)(st.ps_recv - h->prev_recv);
        delta->kernel += (unsigned)(st.ps_drop - h->prev_drop);
        delta->iface += (unsigned)(st.ps_ifdrop - h->prev_ifdrop);
        h->prev_recv = st.ps_recv;
        h->prev_drop = st.ps_drop;
        h->prev_ifdrop = st.ps_ifdrop;
    }
    COUNT_N(c, drop_kernel, delta->kernel);
    COUNT_N(c, drop_interface, delta->iface);
}

void capture_live_close(struct capture_live *cl)
{
    if (!cl)
        return;
    for (size_t i = 0; i < cl->n; i++)
        pcap_close(cl->h[i].pc);
    free(cl);
}

/*
 * testpcap.h - tests that read a real capture: find it under $SHARED_DIR (default
 * ../shared, relative to the repository root where tests run) and hand every transport
 * payload to a callback through greffier's network decoder.
 */
#ifndef GREFFIER_TESTPCAP_H
#define GREFFIER_TESTPCAP_H

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/net.h"

/* Writes the path of a corpus file (e.g. "corpus/public/x.pcap") into buf; false, after
 * printing a SKIP line, when it is not readable. */
static inline bool testpcap_path(const char *rel, char *buf, size_t size)
{
    const char *dir = getenv("SHARED_DIR");
    snprintf(buf, size, "%s/%s", dir && *dir ? dir : "../shared", rel);
    if (access(buf, R_OK) != 0) {
        printf("SKIP: %s not found (set SHARED_DIR)\n", buf);
        return false;
    }
    return true;
}

/* Decodes every frame of the capture; returns the number of frames or -1. */
static inline long testpcap_each(const char *path, net_deliver_fn fn, void *user)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct counters c;
    struct pcap_pkthdr *h;
    const u_char *data;
    long frames = 0;
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, errbuf);

    if (!pc) {
        fprintf(stderr, "%s: %s\n", path, errbuf);
        return -1;
    }
    memset(&c, 0, sizeof(c));
    struct net_decoder *d = net_decoder_new(NULL, &c, fn, user);
    int linktype = pcap_datalink(pc);
    while (pcap_next_ex(pc, &h, &data) == 1) {
        pkt_time_t ts = (pkt_time_t)h->ts.tv_sec * 1000000 + (pkt_time_t)h->ts.tv_usec;
        net_decode(d, linktype, ts, data, h->caplen);
        frames++;
    }
    net_decoder_free(d);
    pcap_close(pc);
    return frames;
}

#endif

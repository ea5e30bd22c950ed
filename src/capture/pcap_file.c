/*
 * pcap_file.c - reading pcap and pcapng files through the pipeline (`greffier import`).
 *
 * libpcap reads both formats.  Timestamps are taken at microsecond precision; a file
 * whose tail is damaged or cut short is read up to the damage, the error is counted
 * and named, and what was read stays imported.
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "greffier/log.h"
#include "greffier/pipeline.h"

int capture_read_file(struct pipeline *p, const char *path, char *err, size_t errsize)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO,
                                                         errbuf);
    if (!pc) {
        snprintf(err, errsize, "%s: cannot read as pcap or pcapng: %s", path, errbuf);
        return -1;
    }
    int linktype = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    err[0] = '\0';
    while ((r = pcap_next_ex(pc, &h, &data)) == 1) {
        /* The pcap record's seconds are an unsigned 32-bit field; a libpcap that hands
         * them over as a signed 32-bit time_t would send times after 2038 to 1901. */
        int64_t sec = (int64_t)h->ts.tv_sec;
        if (sec < 0)
            sec = (int64_t)(uint32_t)sec;
        pkt_time_t ts = (pkt_time_t)sec * 1000000 + (pkt_time_t)h->ts.tv_usec;
        size_t caplen = h->caplen;
        /* libpcap caps caplen at the snapshot length; a lying record header is
         * reported by pcap_next_ex itself, so caplen is the true buffer size here. */
        pipeline_frame(p, linktype, ts, data, caplen, h->len);
    }
    if (r == PCAP_ERROR) {
        snprintf(err, errsize, "%s: damaged capture, read stopped: %s", path, pcap_geterr(pc));
        pipeline_count_read_error(p);
    }
    pcap_close(pc);
    return 0;
}

/*
 * replay_live.c - sends a capture file out of an interface at the pace it was recorded,
 * for the live benchmark (tests/bench/run.sh, section live).
 *
 * tcpreplay 4.4 paces every packet with its own sleep; at the packet rates of hundreds of
 * calls (a 20 ms RTP packet each way per call: 100 calls are 10,000 packets a second) its
 * timed modes reached 0.5 to 0.7 times real time on the 2-core benchmark machine, while
 * its top speed was 260,000 packets a second.  Late RTP is audio the recorder must call
 * late, so the benchmark would measure the sender.  Here a packet is sent as soon as it
 * is due and the sender sleeps only when the next one is more than a millisecond away:
 * packets due together leave together, and the pace holds as long as the sender keeps
 * up, which it reports (the largest lateness, and how many packets were sent more than
 * 10 ms late).
 *
 * Usage: replay_live -i IFACE FILE.pcap     (needs CAP_NET_RAW)
 * Output, one line: "sent N packets in S s (capture S s, speed X), late max M ms, >10ms K"
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "-i") != 0) {
        fprintf(stderr, "usage: replay_live -i IFACE FILE.pcap\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(argv[3], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!in) {
        fprintf(stderr, "replay_live: %s\n", err);
        return 1;
    }
    pcap_t *out = pcap_open_live(argv[2], 65535, 0, 0, err);
    if (!out) {
        fprintf(stderr, "replay_live: %s\n", err);
        pcap_close(in);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    int64_t first_ts = -1, start = 0, max_late = 0, capture_ns = 0;
    uint64_t sent = 0, late10 = 0, failed = 0;
    int rc;
    while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
        int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec; /* ns precision */
        if (first_ts < 0) {
            first_ts = ts;
            start = now_ns();
        }
        capture_ns = ts - first_ts;
        int64_t due = start + capture_ns, now = now_ns();
        if (due - now > 1000000) {
            struct timespec until = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) != 0)
                ;
            now = now_ns();
        }
        if (now - due > max_late)
            max_late = now - due;
        if (now - due > 10000000)
            late10++;
        if (pcap_inject(out, data, h->caplen) < 0)
            failed++;
        else
            sent++;
    }
    double wall = (double)(now_ns() - start) / 1e9, span = (double)capture_ns / 1e9;
    printf("sent %llu packets in %.2f s (capture %.2f s, speed %.2f), late max %.1f ms, "
           ">10ms %llu, failed %llu\n",
           (unsigned long long)sent, wall, span, wall > 0 ? span / wall : 0, (double)max_late / 1e6,
           (unsigned long long)late10, (unsigned long long)failed);
    if (rc == PCAP_ERROR)
        fprintf(stderr, "replay_live: %s: %s\n", argv[3], pcap_geterr(in));
    pcap_close(in);
    pcap_close(out);
    return rc == PCAP_ERROR || failed ? 1 : 0;
}

/*
 * fuzz_rtp.c - the per-stream media layer on arbitrary datagrams: rtp_is_rtcp/rtcp_parse,
 * rtp_parse, rtp_stats_update, the reorder buffer, the RFC 4733 tracker and SRTP
 * unprotect, as the media integrator chains them.  Besides memory safety it checks the
 * contracts: loss never above expected, MOS in 1..4.5, every packet pushed accounted
 * for once, and released packets consecutive except for the gaps they declare.
 *
 * Input: one byte of settings (reorder slots, RTP clock), then records of
 * [length: 2 bytes big-endian][arrival step in ms: 1 byte][datagram].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/rtp.h"
#include "greffier/srtp_keys.h"

/* The 192.168.1.62 side of rtpproxy-g722-srtp-sdes-keys.pcap, so seeds taken from that
 * capture authenticate. */
#define FUZZ_KEY "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5"

static const uint32_t clocks[4] = {8000, 16000, 48000, 90000};

struct state {
    struct rtp_stats st;
    struct rtp_reorder *r;
    struct dtmf_tracker dt;
    bool have_prev;
    uint16_t prev_seq;
    uint64_t released;
    unsigned slots;
};

static void released(struct state *s, const struct rtp_reorder_out *o)
{
    if (s->have_prev && !o->discontinuity &&
        (uint16_t)(s->prev_seq + 1 + o->lost_before) != o->pkt.seq)
        abort();
    s->have_prev = true;
    s->prev_seq = o->pkt.seq;
    s->released++;
    /* The payload is a slot copy: reading all of it must be fine. */
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < o->pkt.payload.len; i++)
        sum += o->pkt.payload.p[i];
    (void)sum;
}

static void media(struct state *s, struct span d, pkt_time_t now, uint32_t clock)
{
    struct rtp_packet p;
    struct rtp_reorder_out o;
    struct dtmf_event ev[2];
    const char *err;

    if (rtp_is_rtcp(d)) {
        struct rtcp_info info;
        if (rtcp_parse(d, &info, &err) && info.n_reports > RTCP_MAX_REPORTS)
            abort();
        return;
    }
    (void)rtp_plausible(d);
    if (!rtp_parse(d, &p, &err))
        return;
    if (p.header_len + p.payload.len + p.pad_len != d.len)
        abort();
    bool event = p.payload_type == 101;
    rtp_stats_update(&s->st, &p, now, event ? 0 : clock);
    if (rtp_stats_lost(&s->st) > s->st.expected || s->st.received > s->st.packets)
        abort();
    if (event && dtmf_tracker_push(&s->dt, &p, now, ev) > 2)
        abort();
    rtp_reorder_push(s->r, &p, now);
    while (rtp_reorder_pop(s->r, now, &o))
        released(s, &o);
    if (rtp_reorder_held(s->r) > s->slots)
        abort();
    (void)dtmf_tracker_expire(&s->dt, now, 2000000, ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state s;
    struct rtp_reorder_out o;
    struct dtmf_event ev;
    pkt_time_t now = 1700000000000000;
    uint8_t buf[2048] __attribute__((aligned(4)));
    char err[64];

    if (size < 1)
        return 0;
    memset(&s, 0, sizeof(s));
    rtp_stats_init(&s.st);
    dtmf_tracker_init(&s.dt);
    s.slots = 2 + (data[0] & 15);
    s.r = rtp_reorder_new(s.slots, 512, 100000, NULL);
    struct srtp_stream *srtp =
        srtp_stream_new("AES_CM_128_HMAC_SHA1_80", FUZZ_KEY, err, sizeof(err));
    if (!s.r || !srtp)
        abort();
    uint32_t clock = clocks[data[0] >> 6];
    bool try_srtp = (data[0] & 0x20) != 0;
    size_t off = 1;

    while (off + 3 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        now += (pkt_time_t)data[off + 2] * 1000;
        off += 3;
        if (len > size - off)
            len = size - off;
        struct span d = span_make(data + off, len);
        off += len;

        media(&s, d, now, clock);
        if (try_srtp && len <= sizeof(buf)) {
            size_t n = len;
            memcpy(buf, d.p, len);
            int r = rtp_is_rtcp(d) ? srtp_stream_unprotect_rtcp(srtp, buf, &n)
                                   : srtp_stream_unprotect_rtp(srtp, buf, &n);
            if (r == SRTP_STREAM_OK) {
                if (n > len)
                    abort();
                media(&s, span_make(buf, n), now, clock);
            }
        }
    }

    while (rtp_reorder_drain(s.r, &o))
        released(&s, &o);
    const struct rtp_reorder_stats *rs = rtp_reorder_stats(s.r);
    if (rs->pushed !=
        rs->released + rs->late + rs->duplicates + rs->oversized + rs->overflow + rs->stray)
        abort();
    if (rs->released != s.released)
        abort();
    (void)dtmf_tracker_flush(&s.dt, &ev);
    for (int c = CODEC_NONE; c <= CODEC_TELEPHONE_EVENT; c++) {
        double mos = rtp_stats_mos(&s.st, (enum codec_id)c);
        if (!(mos >= 1.0 && mos <= 4.5))
            abort();
    }
    (void)rtp_stats_jitter_ms(&s.st);
    rtp_reorder_free(s.r);
    srtp_stream_free(srtp);
    return 0;
}

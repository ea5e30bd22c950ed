/*
 * rtcp.c - compound RTCP (RFC 3550 §6.1, §6.4): sender and receiver reports with their
 * report blocks; SDES, BYE, APP and feedback/XR packets are counted and skipped.
 *
 * Every length comes from the packet and is checked before use, the validity rules of
 * RFC 3550 A.2 included: each packet's length inside the datagram, the lengths summing
 * to the datagram, padding only in the last packet, report counts that fit their packet.
 * (Asterisk's AST-2017-012 was a crash on an RTCP report count its length did not hold.)
 */
#include <string.h>

#include "greffier/rtp.h"

enum {
    RTCP_HEADER_LEN = 4,
    SR_FIXED_LEN = 28, /* header, SSRC, 20 bytes of sender info */
    RR_FIXED_LEN = 8,  /* header, SSRC */
    BLOCK_LEN = 24,
    APP_MIN_LEN = 12, /* header, SSRC, name */
};

static void read_block(struct span b, uint32_t reporter, struct rtcp_report_block *out)
{
    uint32_t lost24;

    out->reporter_ssrc = reporter;
    span_be32(b, 0, &out->ssrc);
    out->fraction_lost = b.p[4];
    lost24 = (uint32_t)b.p[5] << 16 | (uint32_t)b.p[6] << 8 | b.p[7];
    /* 24-bit two's complement: negative when duplicates outnumber losses. */
    out->cumulative_lost = (lost24 & 0x800000) ? (int32_t)lost24 - 0x1000000 : (int32_t)lost24;
    span_be32(b, 8, &out->ext_highest_seq);
    span_be32(b, 12, &out->jitter);
    span_be32(b, 16, &out->lsr);
    span_be32(b, 20, &out->dlsr);
}

/* Stores count blocks starting at off (their room was checked by the caller). */
static void read_blocks(struct span p, size_t off, unsigned count, uint32_t reporter,
                        struct rtcp_info *out)
{
    for (unsigned i = 0; i < count; i++) {
        struct span b = {0};
        if (out->n_reports >= RTCP_MAX_REPORTS) {
            out->reports_skipped += count - i;
            return;
        }
        if (!span_sub(p, off + i * BLOCK_LEN, BLOCK_LEN, &b))
            return; /* the caller checked the length; never read past it anyway */
        read_block(b, reporter, &out->reports[out->n_reports++]);
    }
}

static bool all_zero(struct span d, size_t off)
{
    for (size_t i = off; i < d.len; i++)
        if (d.p[i])
            return false;
    return true;
}

bool rtcp_parse(struct span d, struct rtcp_info *out, const char **err)
{
    const char *e;
    size_t off = 0;

    memset(out, 0, sizeof(*out));
    e = "short RTCP packet";
    if (d.len < RTCP_HEADER_LEN)
        goto error;

    while (off < d.len) {
        /* Some stacks undercount their last packet (an SDES) and leave a few zero bytes:
         * too short for a header, they are tolerated and counted, nothing else is. */
        if (off > 0 && d.len - off < RTCP_HEADER_LEN && all_zero(d, off)) {
            out->trailing_bytes = (unsigned)(d.len - off);
            break;
        }
        uint8_t b0, type;
        uint16_t words;
        unsigned count;
        size_t plen;
        struct span p;

        e = "short RTCP header";
        if (!span_u8(d, off, &b0) || !span_u8(d, off + 1, &type) || !span_be16(d, off + 2, &words))
            goto error;
        e = "RTCP version not 2";
        if (b0 >> 6 != 2)
            goto error;
        plen = 4 * ((size_t)words + 1); /* the length field counts 32-bit words minus one */
        e = "RTCP length beyond the datagram";
        if (!span_sub(d, off, plen, &p))
            goto error;
        if (b0 & 0x20) {
            uint8_t pad = p.p[plen - 1];
            e = "RTCP padding before the last packet";
            if (off + plen != d.len)
                goto error;
            e = "RTCP padding length invalid";
            if (pad == 0 || pad > plen - RTCP_HEADER_LEN)
                goto error;
            p.len -= pad;
        }
        count = b0 & 0x1f;
        out->n_packets++;

        switch (type) {
        case RTCP_SR: {
            uint32_t ssrc, hi, lo;
            e = "short SR";
            if (p.len < SR_FIXED_LEN)
                goto error;
            e = "SR report blocks beyond the packet";
            if ((size_t)count * BLOCK_LEN > p.len - SR_FIXED_LEN)
                goto error;
            span_be32(p, 4, &ssrc);
            if (!out->has_sr) {
                out->has_sr = true;
                out->sr_ssrc = ssrc;
                span_be32(p, 8, &hi);
                span_be32(p, 12, &lo);
                out->sr_ntp = (uint64_t)hi << 32 | lo;
                span_be32(p, 16, &out->sr_rtp_ts);
                span_be32(p, 20, &out->sr_packets);
                span_be32(p, 24, &out->sr_octets);
            }
            read_blocks(p, SR_FIXED_LEN, count, ssrc, out);
            break;
        }
        case RTCP_RR: {
            uint32_t ssrc;
            e = "short RR";
            if (p.len < RR_FIXED_LEN)
                goto error;
            e = "RR report blocks beyond the packet";
            if ((size_t)count * BLOCK_LEN > p.len - RR_FIXED_LEN)
                goto error;
            span_be32(p, 4, &ssrc);
            if (!out->has_rr) {
                out->has_rr = true;
                out->rr_ssrc = ssrc;
            }
            read_blocks(p, RR_FIXED_LEN, count, ssrc, out);
            break;
        }
        case RTCP_SDES:
            out->n_sdes++; /* CNAME and friends: not needed, skipped whole */
            break;
        case RTCP_BYE:
            e = "BYE sources beyond the packet";
            if ((size_t)count * 4 > p.len - RTCP_HEADER_LEN)
                goto error;
            out->n_bye++;
            break;
        case RTCP_APP:
            e = "short APP";
            if (p.len < APP_MIN_LEN)
                goto error;
            out->n_app++;
            break;
        default:
            out->n_other++; /* RTPFB/PSFB (RFC 4585), XR (RFC 3611), ... */
            break;
        }
        off += plen;
    }
    return true;

error:
    *err = e;
    return false;
}

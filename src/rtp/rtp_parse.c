/*
 * rtp_parse.c - the RTP fixed header (RFC 3550 §5.1), its CSRC list, header extension
 * (§5.3.1) and padding, and the RTP/RTCP demultiplexing of RFC 5761 §4.
 *
 * Every datagram that is not SIP comes here, so this is the hottest parser of the media
 * path: no copy, no allocation, the payload is a span into the datagram.
 */
#include "greffier/rtp.h"

enum {
    RTP_VERSION = 2,
    RTCP_MIN_LEN = 8, /* an RR without report blocks */
};

bool rtp_parse(struct span d, struct rtp_packet *out, const char **err)
{
    const char *e;
    size_t off, pad = 0;
    uint8_t b0, b1;

    e = "short RTP header";
    if (d.len < RTP_HEADER_LEN)
        goto error;
    b0 = d.p[0];
    b1 = d.p[1];
    e = "RTP version not 2";
    if (b0 >> 6 != RTP_VERSION)
        goto error;

    out->padding = (b0 & 0x20) != 0;
    out->extension = (b0 & 0x10) != 0;
    out->csrc_count = b0 & 0x0f;
    out->marker = (b1 & 0x80) != 0;
    out->payload_type = b1 & 0x7f;
    span_be16(d, 2, &out->seq);
    span_be32(d, 4, &out->timestamp);
    span_be32(d, 8, &out->ssrc);
    out->ext_profile = 0;
    out->ext = span_make(d.p, 0);

    off = RTP_HEADER_LEN + 4 * (size_t)out->csrc_count;
    e = "CSRC list beyond the packet";
    if (off > d.len)
        goto error;

    if (out->extension) {
        uint16_t words;
        e = "short header extension";
        if (!span_be16(d, off, &out->ext_profile) || !span_be16(d, off + 2, &words))
            goto error;
        e = "header extension beyond the packet";
        if (!span_sub(d, off + 4, 4 * (size_t)words, &out->ext))
            goto error;
        off += 4 + 4 * (size_t)words;
    }

    /* The last octet counts the padding octets, itself included (§5.1), so it is at
     * least 1 and the padding cannot reach back into the header. */
    if (out->padding) {
        pad = d.p[d.len - 1];
        e = "zero padding length";
        if (pad == 0)
            goto error;
        e = "padding longer than the payload";
        if (pad > d.len - off)
            goto error;
    }
    out->pad_len = (uint8_t)pad;
    out->header_len = off;
    out->payload = span_make(d.p + off, d.len - off - pad);
    return true;

error:
    *err = e;
    return false;
}

/* RFC 5761 §4: RTCP packet types 192-223 appear to an RTP parser as the marker bit with
 * payload types 64-95, which is why RTP must not use those types on a shared port.  Every
 * RTCP packet type has the high bit set, so an octet of 64-95 (marker clear) is RTP with
 * a forbidden payload type, not RTCP. */
bool rtp_is_rtcp(struct span d)
{
    if (d.len < RTCP_MIN_LEN || d.p[0] >> 6 != RTP_VERSION)
        return false;
    return d.p[1] >= 192 && d.p[1] <= 223;
}

bool rtp_plausible(struct span d)
{
    uint8_t pt;

    if (d.len < RTP_HEADER_LEN || d.p[0] >> 6 != RTP_VERSION)
        return false;
    pt = d.p[1] & 0x7f;
    return pt < 72 || pt > 76; /* 72-76: RTCP SR, RR, SDES, BYE, APP with the marker masked */
}

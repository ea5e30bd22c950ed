/*
 * decode_sctp.c - SCTP (RFC 9260, formerly RFC 4960): the 12-byte common header, then
 * chunks of (type, flags, length) padded to 4 bytes (§3.2).  Each DATA chunk (§3.3.1)
 * that carries a whole user message (B and E flags both set) is delivered as one
 * l4_packet with its payload protocol identifier; other chunks are skipped.  Messages
 * split across DATA chunks are counted (drop_sctp_fragmented), not reassembled: SIP
 * messages fit one chunk in practice.
 */
#include "greffier/log.h"
#include "net_internal.h"

enum {
    SCTP_COMMON_HEADER = 12,
    SCTP_CHUNK_HEADER = 4,
    SCTP_DATA_HEADER = 16,
    SCTP_CHUNK_DATA = 0,
    SCTP_DATA_FLAG_E = 0x01,
    SCTP_DATA_FLAG_B = 0x02,
};

void net_decode_sctp(struct net_decoder *d, struct net_ctx *x, const struct ip_addr *src,
                     const struct ip_addr *dst, struct span s)
{
    const char *err;
    uint16_t sport, dport, clen;
    uint8_t type, flags;
    uint32_t ppid;
    size_t off = SCTP_COMMON_HEADER;
    struct l4_packet pkt;

    err = "short SCTP common header";
    if (s.len < SCTP_COMMON_HEADER)
        goto malformed;
    span_be16(s, 0, &sport);
    span_be16(s, 2, &dport);

    pkt.ts = x->ts;
    pkt.src = *src;
    pkt.dst = *dst;
    pkt.sport = sport;
    pkt.dport = dport;
    pkt.proto = L4_SCTP;
    pkt.tcp_flags = 0;
    pkt.tcp_seq = 0;
    pkt.vlan = x->vlan;

    while (off < s.len) {
        struct span chunk;
        err = "short SCTP chunk header";
        if (!span_u8(s, off, &type) || !span_u8(s, off + 1, &flags) ||
            !span_be16(s, off + 2, &clen))
            goto malformed;
        err = "SCTP chunk length below 4";
        if (clen < SCTP_CHUNK_HEADER)
            goto malformed;
        err = "SCTP chunk longer than the packet";
        if (!span_sub(s, off, clen, &chunk))
            goto malformed;
        if (type == SCTP_CHUNK_DATA) {
            err = "SCTP DATA chunk without user data";
            if (clen <= SCTP_DATA_HEADER)
                goto malformed;
            if ((flags & (SCTP_DATA_FLAG_B | SCTP_DATA_FLAG_E)) !=
                (SCTP_DATA_FLAG_B | SCTP_DATA_FLAG_E)) {
                COUNT(d->c, drop_sctp_fragmented);
            } else {
                span_be32(chunk, 12, &ppid);
                pkt.sctp_ppid = ppid;
                pkt.payload = span_make(chunk.p + SCTP_DATA_HEADER, clen - SCTP_DATA_HEADER);
                d->deliver(d->user, &pkt);
            }
        }
        /* The last chunk's padding may be absent; stepping past the end ends the loop. */
        off += ((size_t)clen + 3) & ~(size_t)3;
    }
    return;

malformed:
    COUNT(d->c, drop_sctp_malformed);
    log_limited(LOG_DEBUG, "net: %s", err);
}

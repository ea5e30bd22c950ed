/*
 * sdp_media.c - the media expectations of one SDP body, read with sofia-sip's SDP parser.
 *
 * sofia-sip (sdp_parse) does the grammar of RFC 4566: m=, c=, a=rtpmap, the direction
 * attributes (RFC 4566 §6: a media-level attribute overrides the session-level one, the
 * default is sendrecv) and the static payload types of RFC 3551 §6, which it predefines
 * when an m= line lists them without a=rtpmap.  This file only copies what the media stage
 * needs into the fixed-size struct sdp_media_list, and reads the one attribute value
 * sofia leaves as text: a=crypto (RFC 4568 §9.1), whose key travels in clear.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "greffier/sdp_media.h"
#include "greffier/span.h"

/* Indexed by enum media_direction. */
static const char *const direction_names[] = {
    [MDIR_SENDRECV] = "sendrecv",
    [MDIR_SENDONLY] = "sendonly",
    [MDIR_RECVONLY] = "recvonly",
    [MDIR_INACTIVE] = "inactive",
};

const char *media_direction_name(enum media_direction d)
{
    if ((unsigned)d >= sizeof(direction_names) / sizeof(direction_names[0]))
        return "unknown";
    return direction_names[d];
}

/* sofia's sdp_mode_t is a bit mask (send = 1, recv = 2); ours is an enum. */
static enum media_direction direction_from_mode(unsigned mode)
{
    static const enum media_direction map[4] = {
        [sdp_inactive] = MDIR_INACTIVE,
        [sdp_sendonly] = MDIR_SENDONLY,
        [sdp_recvonly] = MDIR_RECVONLY,
        [sdp_sendrecv] = MDIR_SENDRECV,
    };
    return map[mode & 3];
}

/* Copies a NUL-terminated string into a fixed field, truncating; NULL gives "". */
static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* c= address: IPv4 or IPv6 literal.  A host name (allowed by RFC 4566) stays unset:
 * the media stage then matches by port and latching. */
static void fill_address(const sdp_connection_t *c, struct ip_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (!c || !c->c_address)
        return;
    if (c->c_addrtype == sdp_addr_ip4 && inet_pton(AF_INET, c->c_address, out->a) == 1)
        out->family = 4;
    else if (c->c_addrtype == sdp_addr_ip6 && inet_pton(AF_INET6, c->c_address, out->a) == 1)
        out->family = 6;
    else
        memset(out, 0, sizeof(*out));
}

/* Decimal number at the start of s; false when there is none or it exceeds max. */
static bool span_number(struct span s, size_t *used, uint64_t max, uint64_t *v)
{
    uint64_t n = 0;
    size_t i = 0;
    for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
        n = n * 10 + (uint64_t)(s.p[i] - '0');
        if (n > max)
            return false;
    }
    *used = i;
    *v = n;
    return i > 0;
}

static size_t span_skip_ws(struct span s, size_t off)
{
    while (off < s.len && (s.p[off] == ' ' || s.p[off] == '\t'))
        off++;
    return off;
}

/* a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]   (RFC 4568 §9.1)
 * key-params = "inline:" key||salt in base64 ["|" lifetime] ["|" MKI:length], possibly
 * several separated by ";": the first one is kept, lifetime and MKI stripped. */
static bool parse_crypto(const char *value, struct sdp_crypto *out)
{
    struct span s = span_make(value, strlen(value));
    size_t off = 0, n;
    uint64_t tag;

    if (!span_number(s, &n, UINT32_MAX, &tag))
        return false;
    off = span_skip_ws(s, n);
    size_t suite = off;
    while (off < s.len && s.p[off] != ' ' && s.p[off] != '\t')
        off++;
    size_t suite_len = off - suite;
    off = span_skip_ws(s, off);
    struct span key;
    if (suite_len == 0 || suite_len >= sizeof(out->suite) || !span_tail(s, off, &key) ||
        !span_starts_with_ci(key, "inline:", 7))
        return false;
    key.p += 7;
    key.len -= 7;
    size_t key_len = 0;
    while (key_len < key.len && key.p[key_len] != '|' && key.p[key_len] != ';' &&
           key.p[key_len] != ' ' && key.p[key_len] != '\t')
        key_len++;
    if (key_len == 0 || key_len >= sizeof(out->key))
        return false;

    out->tag = (uint32_t)tag;
    memcpy(out->suite, s.p + suite, suite_len);
    out->suite[suite_len] = '\0';
    memcpy(out->key, key.p, key_len);
    out->key[key_len] = '\0';
    return true;
}

static uint8_t channels_from_text(const char *params)
{
    size_t used;
    uint64_t ch;
    if (params && span_number(span_make(params, strlen(params)), &used, 255, &ch) && ch > 0)
        return (uint8_t)ch;
    return 1; /* rtpmap without encoding parameters: one channel (RFC 4566 §6) */
}

static void add_payload(struct sdp_media *out, unsigned pt, const char *encoding,
                        unsigned long rate, const char *params)
{
    if (out->npayloads == SDP_MAX_PAYLOADS)
        return;
    struct sdp_payload *p = &out->payloads[out->npayloads++];
    p->pt = (uint8_t)pt;
    copy_text(p->encoding, sizeof(p->encoding), encoding);
    p->clock_rate = rate > UINT32_MAX ? 0 : (uint32_t)rate;
    p->channels = channels_from_text(params);
}

/* a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>] for an m= line whose transport sofia
 * does not count as RTP (RTP/AVPF, RTP/SAVPF, UDP/TLS/RTP/SAVPF): sofia keeps the formats
 * and leaves the rtpmap lines as plain attributes. */
static bool rtpmap_from_attribute(const sdp_media_t *m, unsigned pt, struct sdp_media *out)
{
    for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
        if (!a->a_name || !a->a_value || strcasecmp(a->a_name, "rtpmap") != 0)
            continue;
        struct span v = span_make(a->a_value, strlen(a->a_value));
        size_t used, off;
        uint64_t n, rate = 0;
        if (!span_number(v, &used, 127, &n) || n != pt)
            continue;
        off = span_skip_ws(v, used);
        size_t enc = off;
        while (off < v.len && v.p[off] != '/')
            off++;
        char encoding[24];
        size_t enc_len = off - enc < sizeof(encoding) - 1 ? off - enc : sizeof(encoding) - 1;
        memcpy(encoding, v.p + enc, enc_len);
        encoding[enc_len] = '\0';
        struct span tail;
        const char *params = NULL;
        if (off < v.len && span_tail(v, off + 1, &tail) &&
            span_number(tail, &used, UINT32_MAX, &rate))
            if (used < tail.len && tail.p[used] == '/')
                params = (const char *)tail.p + used + 1;
        add_payload(out, pt, encoding, (unsigned long)rate, params);
        return true;
    }
    return false;
}

static void fill_payloads(const sdp_media_t *m, struct sdp_media *out)
{
    for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next)
        add_payload(out, rm->rm_pt, rm->rm_encoding, rm->rm_rate, rm->rm_params);
    if (m->m_rtpmaps || !m->m_proto_name || !strstr(m->m_proto_name, "RTP/"))
        return;
    for (const sdp_list_t *f = m->m_format; f; f = f->l_next) {
        size_t used;
        uint64_t pt;
        if (!f->l_text || !span_number(span_make(f->l_text, strlen(f->l_text)), &used, 127, &pt))
            continue;
        if (rtpmap_from_attribute(m, (unsigned)pt, out))
            continue;
        /* A static payload type without rtpmap: its RFC 3551 name, from sofia's table. */
        const sdp_rtpmap_t *wk = sdp_rtpmap_well_known[pt];
        add_payload(out, (unsigned)pt, wk ? wk->rm_encoding : NULL, wk ? wk->rm_rate : 0,
                    wk ? wk->rm_params : NULL);
    }
}

static void fill_media(const sdp_session_t *sdp, const sdp_media_t *m, struct sdp_media *out)
{
    memset(out, 0, sizeof(*out));
    copy_text(out->media, sizeof(out->media), m->m_type_name);
    copy_text(out->proto, sizeof(out->proto), m->m_proto_name);
    out->port = m->m_port <= 65535 ? (uint16_t)m->m_port : 0;
    /* Media-level c= overrides the session-level one (RFC 4566 §5.7). */
    fill_address(m->m_connections ? m->m_connections : sdp->sdp_connection, &out->addr);
    out->direction = direction_from_mode(m->m_mode);
    fill_payloads(m, out);

    for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
        if (!a->a_name)
            continue;
        if (strcasecmp(a->a_name, "crypto") == 0 && a->a_value && out->ncrypto < SDP_MAX_CRYPTO) {
            if (parse_crypto(a->a_value, &out->crypto[out->ncrypto]))
                out->ncrypto++;
        } else if (strcasecmp(a->a_name, "fingerprint") == 0) {
            out->has_fingerprint = 1;
        }
    }
    /* A session-level fingerprint covers every m= line (RFC 8122 §5). */
    if (sdp_attribute_find(sdp->sdp_attributes, "fingerprint"))
        out->has_fingerprint = 1;
}

/* sofia's SDP token characters (bnf.h TOKEN): ALPHANUM and "-.!%*_+`'~". */
static bool is_sofia_token(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("-.!%*_+`'~", c) != NULL);
}

/*
 * A guard in front of sdp_parse().  sofia-sip 1.12.11 parses the format list of an m= line
 * whose transport is not RTP with a loop that stops only when its tokenizer advances: a
 * format starting with a non-token byte ("m=audio 5000 RT\xff/AVP 0", found by fuzz_sip)
 * makes it allocate list entries until memory is exhausted.  So every m= line is checked
 * here first, with the grammar of RFC 4566 §5.14 (media, port[/n], proto, fmt tokens); a
 * line that does not fit marks the SDP malformed without reaching sofia.
 */
static bool media_lines_safe(struct span s)
{
    size_t off = 0;
    while (off < s.len) {
        size_t end = off;
        while (end < s.len && s.p[end] != '\r' && s.p[end] != '\n')
            end++;
        size_t i = off;
        while (i < end && (s.p[i] == ' ' || s.p[i] == '\t'))
            i++;
        if (end - i >= 2 && s.p[i] == 'm' && s.p[i + 1] == '=') {
            unsigned word = 0;
            for (i += 2; i < end;) {
                while (i < end && (s.p[i] == ' ' || s.p[i] == '\t'))
                    i++;
                if (i == end)
                    break;
                word++;
                size_t w = i;
                while (i < end && s.p[i] != ' ' && s.p[i] != '\t') {
                    uint8_t c = s.p[i];
                    bool ok = word == 2   ? (c >= '0' && c <= '9') || (c == '/' && i > w)
                              : word == 3 ? is_sofia_token(c) || (c == '/' && i > w)
                                          : is_sofia_token(c);
                    if (!ok)
                        return false;
                    i++;
                }
            }
        }
        off = end + 1;
    }
    return true;
}

bool sdp_media_parse(const uint8_t *body, size_t len, struct sdp_media_list *out, const char **err)
{
    sdp_parser_t *parser = NULL;
    const sdp_session_t *sdp;
    const char *why;

    memset(out, 0, sizeof(*out));
    why = "empty SDP body";
    if (!body || len == 0)
        goto error;
    why = "SDP body too large";
    if (len > 1u << 20)
        goto error;
    why = "m= line outside RFC 4566 grammar";
    if (!media_lines_safe(span_make(body, len)))
        goto error;

    /* sdp_f_insane: no sanity check.  A recorder takes what the peers accepted; a missing
     * o= or c= must not lose the ports of a call that is really happening. */
    parser = sdp_parse(NULL, (const char *)body, (issize_t)len, sdp_f_insane);
    sdp = sdp_session(parser);
    if (!sdp) {
        /* sdp_parsing_error() text lives in the parser's home: keep a static reason. */
        why = "SDP rejected by parser";
        goto error;
    }
    for (const sdp_media_t *m = sdp->sdp_media; m; m = m->m_next) {
        if (out->count == SDP_MAX_MEDIA) {
            out->truncated = 1;
            break;
        }
        fill_media(sdp, m, &out->m[out->count++]);
    }
    sdp_parser_free(parser);
    return true;

error:
    if (parser)
        sdp_parser_free(parser);
    memset(out, 0, sizeof(*out));
    if (err)
        *err = why;
    return false;
}

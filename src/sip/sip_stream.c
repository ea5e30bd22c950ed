/*
 * sip_stream.c - cutting SIP messages out of datagrams and byte streams.
 *
 * Framing only; the messages themselves are parsed by sofia-sip in sip_msg.c.
 *  - UDP/SCTP: one datagram or chunk holds one message (RFC 3261 §18.3), after CRLF
 *    keep-alives (RFC 5626 §4.4.1) and any junk before the start line.
 *  - TCP: the end of the header block and Content-Length delimit each message
 *    (RFC 3261 §18.3); a missing Content-Length on a stream means an empty body.
 *  - WebSocket (RFC 7118): after the HTTP Upgrade (RFC 6455 §4), each text or binary
 *    message (RFC 6455 §5.2 framing, §5.4 fragmentation) carries one SIP message.
 *  - TLS (RFC 8446 §5.1 record header): recognised and counted, never read.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/sip_msg.h"
#include "greffier/sip_stream.h"
#include "greffier/span.h"
#include "sip_text.h"

/* A start line split across segments may be cut anywhere: this much of the tail of
 * unrecognised bytes is kept while resynchronising. */
#define RESYNC_KEEP 32
/* A first line longer than this is not the start of a SIP message worth waiting for. */
#define MAX_START_LINE 8192

enum stream_mode {
    MODE_SIP = 0,
    MODE_TLS,
    MODE_WEBSOCKET,
};

struct sip_stream_state {
    enum stream_mode mode;
    bool started; /* some bytes of the flow were already consumed */
    /* WebSocket: reassembly of a fragmented message, and unmasking. */
    uint8_t *buf;
    size_t buf_len, buf_cap;
    bool ws_in_message; /* a text/binary frame without FIN was seen */
    bool ws_discard;    /* the message in progress grew too large: drop until FIN */
};

struct sip_stream_state *sip_stream_state_new(void)
{
    return calloc(1, sizeof(struct sip_stream_state));
}

void sip_stream_state_free(void *state)
{
    struct sip_stream_state *st = state;
    if (!st)
        return;
    free(st->buf);
    free(st);
}

int sip_stream_is_tls(const struct sip_stream_state *st)
{
    return st && st->mode == MODE_TLS;
}

/* ---- helpers on the header block ---- */

static size_t skip_crlf(struct span s, size_t off)
{
    while (off < s.len && (s.p[off] == '\r' || s.p[off] == '\n'))
        off++;
    return off;
}

/* Offset just past the next LF at or after off, or 0 when there is none. */
static size_t next_line(struct span s, size_t off)
{
    const uint8_t *lf = off < s.len ? memchr(s.p + off, '\n', s.len - off) : NULL;
    return lf ? (size_t)(lf - s.p) + 1 : 0;
}

static bool is_lws(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Value of a header (first occurrence) in a complete header block: long or compact
 * name, case-insensitive (RFC 3261 §7.3.1, §7.3.3).  False when absent. */
static bool find_header(struct span hdr, const char *name, const char *compact, struct span *val)
{
    size_t name_len = strlen(name), compact_len = compact ? strlen(compact) : 0;
    for (size_t off = next_line(hdr, 0); off && off < hdr.len; off = next_line(hdr, off)) {
        struct span line;
        size_t end = next_line(hdr, off);
        if (!end || !span_sub(hdr, off, end - off, &line))
            break;
        size_t n = 0;
        if (span_starts_with_ci(line, name, name_len))
            n = name_len;
        else if (compact && span_starts_with_ci(line, compact, compact_len))
            n = compact_len;
        else
            continue;
        while (n < line.len && is_lws(line.p[n]))
            n++;
        if (n >= line.len || line.p[n] != ':')
            continue;
        n++;
        while (n < line.len && is_lws(line.p[n]))
            n++;
        size_t e = line.len;
        while (e > n && (line.p[e - 1] == '\r' || line.p[e - 1] == '\n' || is_lws(line.p[e - 1])))
            e--;
        return span_sub(line, n, e - n, val);
    }
    return false;
}

/* Content-Length of a header block.  Absent or unreadable: false (the caller decides
 * what that means for its transport). */
static bool content_length(struct span hdr, uint64_t *len)
{
    struct span v;
    if (!find_header(hdr, "Content-Length", "l", &v) || v.len == 0)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
        if (n > (1ull << 40))
            return false;
    }
    *len = n;
    return true;
}

static bool span_contains_ci(struct span s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= s.len; i++) {
        struct span t = {s.p + i, s.len - i};
        if (span_starts_with_ci(t, needle, n))
            return true;
    }
    return false;
}

/* ---- start-line decisions ---- */

enum verdict { NO, MAYBE, YES };

/* Whether the bytes of an unfinished first line can still grow into a start line:
 * "METHOD SP uri SP SIP/2.0" or "SIP/2.0 NNN ...", cut anywhere. */
static bool start_line_prefix(struct span s)
{
    static const char version[] = "SIP/2.0";
    size_t n = s.len < 8 ? s.len : 8;
    if (memcmp(s.p, "SIP/2.0 ", n) == 0)
        return true; /* the status code and reason still to come */
    size_t i = 0;
    while (i < s.len && ((s.p[i] >= 'A' && s.p[i] <= 'Z') || s.p[i] == '-' || s.p[i] == '_'))
        i++;
    if (i == s.len)
        return true;
    if (i == 0 || s.p[i++] != ' ')
        return false;
    while (i < s.len && s.p[i] > ' ' && s.p[i] < 0x7f)
        i++;
    if (i == s.len)
        return true;
    if (s.p[i++] != ' ')
        return false;
    size_t rest = s.len - i, cmp = rest < 7 ? rest : 7;
    if (rest > 8 || memcmp(s.p + i, version, cmp) != 0)
        return false;
    return rest <= 7 || s.p[i + 7] == '\r'; /* cut between CR and LF */
}

/* Whether s starts with a SIP start line.  MAYBE: the first line is not complete yet and
 * could still become one (a stream cut in the middle of "INVITE sip:..."); past limit
 * bytes it is not worth waiting for. */
static enum verdict start_line_verdict(struct span s, size_t limit)
{
    size_t eol = next_line(s, 0);
    if (eol)
        return sip_looks_like_start_line(s.p, eol) ? YES : NO;
    if (s.len == 0 || s.len >= limit || s.len >= MAX_START_LINE || !start_line_prefix(s))
        return NO;
    return MAYBE;
}

/* "DBREGISTER sip:..." (junk glued to the method, nasty-zeek-sip-junk-before-request): the
 * token is not a method we know but ends with one.  Returns how many junk bytes precede
 * that known method, 0 when there is nothing to skip. */
static size_t glued_junk(struct span s)
{
    size_t tok = 0;
    while (tok < s.len && s.p[tok] != ' ')
        tok++;
    for (int m = SIPM_INVITE; m <= SIPM_PUBLISH; m++) {
        const char *name = sip_method_id_name((enum sip_method_id)m);
        size_t n = strlen(name);
        if (tok == n && memcmp(s.p, name, n) == 0)
            return 0;
    }
    for (int m = SIPM_INVITE; m <= SIPM_PUBLISH; m++) {
        const char *name = sip_method_id_name((enum sip_method_id)m);
        size_t n = strlen(name);
        if (tok > n && memcmp(s.p + tok - n, name, n) == 0)
            return tok - n;
    }
    return 0;
}

/* ---- datagrams ---- */

void sip_datagram_frames(const uint8_t *data, size_t len, size_t max_message, struct counters *c,
                         sip_frame_fn emit, void *user)
{
    struct span s = span_make(data, len);
    size_t off = skip_crlf(s, 0);

    if (off == len) /* keep-alive only (RFC 5626 §4.4.1): not a message */
        return;

    struct span rest = {s.p + off, s.len - off};
    if (!sip_looks_like_start_line(rest.p, rest.len)) {
        /* Junk before the start line: the first line that starts one. */
        size_t at = 0;
        for (size_t l = next_line(rest, 0); l && l < rest.len; l = next_line(rest, l)) {
            if (sip_looks_like_start_line(rest.p + l, rest.len - l)) {
                at = l;
                break;
            }
        }
        if (at == 0) {
            COUNT(c, drop_sip_malformed);
            return;
        }
        COUNT(c, drop_sip_junk);
        off += at;
    }
    for (;;) {
        rest.p = s.p + off;
        rest.len = s.len - off;
        size_t glue = glued_junk(rest);
        if (glue) {
            COUNT(c, drop_sip_junk);
            off += glue;
            rest.p += glue;
            rest.len -= glue;
        }
        /* One message per datagram, unless Content-Length ends it early and another start
         * line follows (some stacks bundle, and fuzzers do). */
        size_t msg_len = rest.len;
        size_t hdr = sip_header_block_len(rest);
        uint64_t body;
        if (hdr && content_length(span_make(rest.p, hdr), &body) && body < rest.len - hdr) {
            size_t next = skip_crlf(rest, hdr + (size_t)body);
            if (next < rest.len && sip_looks_like_start_line(rest.p + next, rest.len - next))
                msg_len = hdr + (size_t)body;
        }
        if (msg_len > max_message)
            COUNT(c, drop_sip_oversized);
        else
            emit(user, rest.p, msg_len);
        if (msg_len == rest.len)
            return;
        off = skip_crlf(s, off + msg_len);
    }
}

/* ---- WebSocket (RFC 6455 §5.2) ---- */

enum {
    WS_CONT = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xA,
};

static bool buf_reserve(struct sip_stream_state *st, size_t need)
{
    if (need <= st->buf_cap)
        return true;
    size_t cap = st->buf_cap ? st->buf_cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(st->buf, cap);
    if (!b)
        return false;
    st->buf = b;
    st->buf_cap = cap;
    return true;
}

/* Appends a (possibly masked) payload to the reassembly buffer. */
static bool buf_append(struct sip_stream_state *st, const uint8_t *p, size_t n, const uint8_t *mask)
{
    if (!buf_reserve(st, st->buf_len + n))
        return false;
    for (size_t i = 0; i < n; i++)
        st->buf[st->buf_len + i] = mask ? (uint8_t)(p[i] ^ mask[i & 3]) : p[i];
    st->buf_len += n;
    return true;
}

static void ws_emit(sip_frame_fn emit, void *user, const uint8_t *p, size_t n)
{
    struct span s = span_make(p, n);
    size_t off = skip_crlf(s, 0);
    if (off < n)
        emit(user, p + off, n - off);
}

/* Consumes whole frames; returns the bytes used (len on an invalid frame). */
static size_t ws_consume(struct sip_stream_state *st, struct span s, size_t max_message,
                         struct counters *c, sip_frame_fn emit, void *user)
{
    size_t pos = 0;
    while (pos < s.len) {
        struct span f = {s.p + pos, s.len - pos};
        uint8_t b0, b1;
        if (!span_u8(f, 0, &b0) || !span_u8(f, 1, &b1))
            return pos;
        bool fin = b0 & 0x80, masked = b1 & 0x80;
        unsigned rsv = b0 & 0x70, opcode = b0 & 0x0f;
        uint64_t plen = b1 & 0x7f;
        size_t hlen = 2;
        if (plen == 126) {
            uint16_t v;
            if (!span_be16(f, 2, &v))
                return pos;
            plen = v;
            hlen = 4;
        } else if (plen == 127) {
            uint32_t hi, lo;
            if (!span_be32(f, 2, &hi) || !span_be32(f, 6, &lo))
                return pos;
            if (hi & 0x80000000u) /* the most significant bit MUST be 0 */
                goto invalid;
            plen = ((uint64_t)hi << 32) | lo;
            hlen = 10;
        }
        bool control = opcode & 0x8;
        if ((opcode > WS_BINARY && !control) || opcode > WS_PONG || plen > max_message ||
            (control && (!fin || plen > 125)))
            goto invalid;
        const uint8_t *mask = NULL;
        if (masked) {
            if (f.len < hlen + 4)
                return pos;
            mask = f.p + hlen;
            hlen += 4;
        }
        if (f.len - hlen < plen)
            return pos; /* incomplete frame: wait for more */
        const uint8_t *payload = f.p + hlen;
        size_t n = (size_t)plen;
        pos += hlen + n;

        if (control)
            continue; /* ping, pong, close: nothing for SIP */
        if (opcode == WS_CONT) {
            if (!st->ws_in_message) {
                COUNT(c, drop_websocket_malformed);
                continue;
            }
        } else {
            if (st->ws_in_message) /* a new message before the last one ended: lost */
                COUNT(c, drop_websocket_malformed);
            st->ws_in_message = true;
            st->ws_discard = false;
            st->buf_len = 0;
        }
        if (rsv && !st->ws_discard) {
            /* An extension (permessage-deflate, RFC 7692) changed the payload: unreadable. */
            COUNT(c, drop_websocket_malformed);
            st->ws_discard = true;
        }
        if (!st->ws_discard) {
            COUNT(c, websocket_frames);
            if (fin && opcode != WS_CONT && !mask) {
                ws_emit(emit, user, payload, n); /* one frame, one message, no copy */
            } else if (st->buf_len + n > max_message) {
                COUNT(c, drop_sip_oversized);
                st->ws_discard = true;
            } else if (!buf_append(st, payload, n, mask)) {
                st->ws_discard = true; /* out of memory: the message is lost */
            } else if (fin) {
                ws_emit(emit, user, st->buf, st->buf_len);
            }
        }
        if (fin) {
            st->ws_in_message = false;
            st->ws_discard = false;
            st->buf_len = 0;
        }
    }
    return pos;

invalid:
    COUNT(c, drop_websocket_malformed);
    st->ws_in_message = false;
    st->ws_discard = false;
    st->buf_len = 0;
    return s.len;
}

/* ---- TCP ---- */

/* A TLS record header (RFC 8446 §5.1): content type 20..23 (handshake first, application
 * data when the capture starts mid-session), legacy version 3.0..3.4. */
static enum verdict tls_verdict(struct span s)
{
    uint8_t type, major, minor;
    if (!span_u8(s, 0, &type) || type < 0x14 || type > 0x17)
        return NO;
    if (!span_u8(s, 1, &major) || !span_u8(s, 2, &minor))
        return MAYBE;
    return major == 3 && minor <= 4 ? YES : NO;
}

/* The HTTP side of a WebSocket opening handshake (RFC 6455 §4.1, §4.2.2): the client's
 * GET with "Upgrade: websocket", or the server's 101.  On YES, *used is the length of the
 * HTTP header block. */
static enum verdict websocket_upgrade(struct span s, size_t max_message, size_t *used)
{
    bool request = span_starts_with_ci(s, "GET ", 4);
    bool response =
        span_starts_with_ci(s, "HTTP/1.1 101", 12) || span_starts_with_ci(s, "HTTP/1.0 101", 12);
    if (!request && !response)
        return NO;
    size_t hdr = sip_header_block_len(s);
    if (!hdr)
        return s.len > max_message ? NO : MAYBE;
    struct span v;
    if (request && !(find_header(span_make(s.p, hdr), "Upgrade", NULL, &v) &&
                     span_contains_ci(v, "websocket")))
        return NO;
    *used = hdr;
    return YES;
}

/* Bytes of junk before the next plausible start line; keeps RESYNC_KEEP bytes when there
 * is none, since one may be arriving cut in two. */
static size_t resync(struct span s, size_t limit)
{
    for (size_t l = next_line(s, 0); l && l < s.len; l = next_line(s, l)) {
        struct span t = {s.p + l, s.len - l};
        if (start_line_verdict(t, limit) != NO)
            return l;
    }
    size_t keep = s.len > RESYNC_KEEP ? RESYNC_KEEP : s.len;
    return s.len - keep;
}

size_t sip_stream_consume(struct sip_stream_state *st, const uint8_t *data, size_t len,
                          size_t max_message, struct counters *c, sip_frame_fn emit, void *user)
{
    struct span s = span_make(data, len);
    size_t pos = 0;

    while (pos < len) {
        if (st->mode == MODE_TLS)
            return len;
        if (st->mode == MODE_WEBSOCKET) {
            struct span w = {s.p + pos, s.len - pos};
            pos += ws_consume(st, w, max_message, c, emit, user);
            break;
        }

        size_t body_at = skip_crlf(s, pos); /* CRLF keep-alives between messages */
        if (body_at > pos) {
            pos = body_at;
            st->started = true;
            continue;
        }
        struct span rest = {s.p + pos, s.len - pos};
        enum verdict v = start_line_verdict(rest, max_message);
        if (v == MAYBE)
            break;
        if (v == NO) {
            if (!st->started) {
                enum verdict t = tls_verdict(rest);
                if (t == MAYBE)
                    break;
                if (t == YES) {
                    st->mode = MODE_TLS;
                    COUNT(c, sip_tls_flows);
                    return len;
                }
            }
            size_t used = 0;
            enum verdict w = websocket_upgrade(rest, max_message, &used);
            if (w == MAYBE)
                break;
            if (w == YES) {
                st->mode = MODE_WEBSOCKET;
                st->started = true;
                pos += used;
                continue;
            }
            size_t junk = resync(rest, max_message);
            if (junk == 0)
                break; /* only a short tail that may yet become a start line */
            COUNT(c, drop_sip_junk);
            st->started = true;
            pos += junk;
            continue;
        }

        size_t glue = glued_junk(rest);
        if (glue) {
            COUNT(c, drop_sip_junk);
            st->started = true;
            pos += glue;
            continue;
        }
        size_t hdr = sip_header_block_len(rest);
        if (!hdr) {
            if (rest.len <= max_message)
                break; /* wait for the rest of the headers */
            goto oversized;
        }
        uint64_t body = 0;
        if (!content_length(span_make(rest.p, hdr), &body))
            body = 0; /* no Content-Length on a stream: no body (RFC 3261 §18.3) */
        if (body > max_message || hdr + body > max_message)
            goto oversized;
        if (rest.len - hdr < body)
            break; /* wait for the whole body */
        emit(user, rest.p, hdr + (size_t)body);
        st->started = true;
        pos += hdr + (size_t)body;
        continue;

    oversized:
        /* Drop the start line and resynchronise on the next one. */
        COUNT(c, drop_sip_oversized);
        st->started = true;
        {
            size_t l = next_line(rest, 0);
            pos += l ? l : rest.len;
        }
    }
    return pos;
}

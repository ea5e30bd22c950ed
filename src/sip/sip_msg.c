/*
 * sip_msg.c - one SIP message, parsed by sofia-sip and reduced to what call tracking needs.
 *
 * The grammar of RFC 3261 §25 is sofia-sip's (msg_make with the SIP message class); this
 * file decides what is usable and copies out the fields the dialog tracker reads:
 * Call-ID, CSeq, tags, top Via branch (RFC 3261 §8.1.1), the parties of From/To and of the
 * identity headers P-Asserted-Identity (RFC 3325), Remote-Party-ID (draft-ietf-sip-privacy-04)
 * and Diversion (RFC 5806) or History-Info (RFC 7044), and the SDP body (RFC 3264), also when
 * it is one part of a multipart/mixed body as in SIPREC (RFC 7866 §8; the parts are split
 * here, see multipart_sdp() for why not with sofia's msg_multipart_parse).
 *
 * Ownership: the struct sip_msg and every string it points to live in the su_home of the
 * sofia msg_t (owner_), freed in one go by sip_msg_free().
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "greffier/sip_msg.h"
#include "greffier/span.h"
#include "sip_text.h"

/* A bound on what is handed to sofia at all; the framers apply the configured, smaller
 * max_message before this. */
#define SIP_PARSE_MAX (1u << 20)

/* Indexed by enum sip_method_id; also the table sip_method_id lookups walk. */
static const char *const method_names[] = {
    [SIPM_UNKNOWN] = "UNKNOWN",   [SIPM_INVITE] = "INVITE",       [SIPM_ACK] = "ACK",
    [SIPM_BYE] = "BYE",           [SIPM_CANCEL] = "CANCEL",       [SIPM_PRACK] = "PRACK",
    [SIPM_UPDATE] = "UPDATE",     [SIPM_INFO] = "INFO",           [SIPM_REFER] = "REFER",
    [SIPM_NOTIFY] = "NOTIFY",     [SIPM_SUBSCRIBE] = "SUBSCRIBE", [SIPM_OPTIONS] = "OPTIONS",
    [SIPM_REGISTER] = "REGISTER", [SIPM_MESSAGE] = "MESSAGE",     [SIPM_PUBLISH] = "PUBLISH",
};
#define N_METHODS (sizeof(method_names) / sizeof(method_names[0]))

const char *sip_method_id_name(enum sip_method_id m)
{
    if ((unsigned)m >= N_METHODS)
        return method_names[SIPM_UNKNOWN];
    return method_names[m];
}

/* Method names are case-sensitive (RFC 3261 §7.1). */
static enum sip_method_id method_id(const char *name)
{
    if (!name)
        return SIPM_UNKNOWN;
    for (unsigned i = 1; i < N_METHODS; i++)
        if (strcmp(name, method_names[i]) == 0)
            return (enum sip_method_id)i;
    return SIPM_UNKNOWN;
}

/*
 * The message class.  sofia's default SIP class leaves P-Asserted-Identity and
 * Remote-Party-ID among the unknown headers; the extended class parses them.  It is built
 * once per process (capture and web parse in different threads) and never changes after,
 * so it is shared read-only.  It stays allocated until exit on purpose.
 */
static pthread_once_t mclass_once = PTHREAD_ONCE_INIT;
static msg_mclass_t *sip_mclass_ext;

static void mclass_init(void)
{
    msg_mclass_t *mc = sip_extend_mclass(NULL);
    if (!mc)
        return;
    /* sip_extend_mclass() adds every extension sofia knows; make sure of the two we read. */
    msg_hclass_t *const needed[] = {sip_p_asserted_identity_class, sip_remote_party_id_class};
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        if (msg_find_hclass(mc, needed[i]->hc_name, NULL) == mc->mc_unknown &&
            msg_mclass_insert_header(mc, needed[i], 0) < 0) {
            free(mc);
            return;
        }
    }
    sip_mclass_ext = mc;
}

/* A display name as sofia keeps it may still carry its quotes and backslash escapes
 * (RFC 3261 §25.1 quoted-string); an empty one means there was none. */
static const char *clean_display(su_home_t *home, const char *display)
{
    if (!display || !display[0])
        return NULL;
    if (display[0] == '"') {
        char *s = msg_unquote_dup(home, display);
        return s && s[0] ? s : NULL;
    }
    return display;
}

static void fill_party(su_home_t *home, const char *display, const url_t *url,
                       struct sip_party *out)
{
    out->display = clean_display(home, display);
    out->user = url->url_user && url->url_user[0] ? url->url_user : NULL;
    /* tel:+33123 (RFC 3966) has its number where sofia puts a host. */
    if (!out->user && url->url_type == url_tel && url->url_host && url->url_host[0])
        out->user = url->url_host;
    out->uri = url_as_string(home, url);
}

/* First name-addr of a header sofia does not know (Diversion, History-Info).  The value is
 * a comma-separated list of name-addr with parameters, the grammar of Contact, so sofia's
 * Contact parser reads it. */
static bool fill_party_from_text(su_home_t *home, const char *value, struct sip_party *out)
{
    if (!value)
        return false;
    sip_contact_t *c = sip_contact_make(home, value);
    if (!c)
        return false;
    fill_party(home, c->m_display, c->m_url, out);
    return true;
}

static const char *unknown_header(const sip_t *sip, const char *name)
{
    for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
        if (u->un_name && strcasecmp(u->un_name, name) == 0)
            return u->un_value;
    return NULL;
}

static void parse_sdp_body(struct sip_msg *m, const char *body, size_t len)
{
    const char *why;
    if (sdp_media_parse((const uint8_t *)body, len, &m->sdp, &why))
        m->has_sdp = true;
    else
        m->sdp_malformed = true;
}

static bool is_sdp_type(const msg_content_type_t *c)
{
    return c && c->c_type && strcasecmp(c->c_type, "application/sdp") == 0;
}

/* Value of the first header named name (or its compact form) in a header block, as a
 * fresh string in home, or NULL.  Used where sofia gives no parsed header to read: MIME part
 * headers, and From/To that sofia rejected.  Leading whitespace is skipped. */
static char *header_text(su_home_t *home, struct span hdr, const char *name, const char *compact)
{
    size_t name_len = strlen(name), compact_len = strlen(compact);
    size_t off = 0;
    while (off < hdr.len) {
        const uint8_t *lf = memchr(hdr.p + off, '\n', hdr.len - off);
        size_t end = lf ? (size_t)(lf - hdr.p) + 1 : hdr.len;
        struct span line = {hdr.p + off, end - off};
        size_t n = 0;
        if (span_starts_with_ci(line, name, name_len))
            n = name_len;
        else if (span_starts_with_ci(line, compact, compact_len))
            n = compact_len;
        while (n && n < line.len && (line.p[n] == ' ' || line.p[n] == '\t'))
            n++;
        if (n && n < line.len && line.p[n] == ':') {
            n++;
            while (n < line.len && (line.p[n] == ' ' || line.p[n] == '\t'))
                n++;
            size_t e = line.len;
            while (e > n && (line.p[e - 1] == '\r' || line.p[e - 1] == '\n'))
                e--;
            return su_strndup(home, (const char *)line.p + n, (isize_t)(e - n));
        }
        off = end;
    }
    return NULL;
}

/* Offset of the next delimiter line "--boundary" at or after off (at the start of the body
 * or of a line), or SIZE_MAX. */
static size_t next_delimiter(struct span body, size_t off, const char *boundary, size_t blen)
{
    for (size_t i = off; i + 2 + blen <= body.len; i++) {
        if ((i > 0 && body.p[i - 1] != '\n') || body.p[i] != '-' || body.p[i + 1] != '-')
            continue;
        if (memcmp(body.p + i + 2, boundary, blen) == 0)
            return i;
    }
    return SIZE_MAX;
}

/*
 * The application/sdp part of a multipart body (RFC 2046 §5.1, SIPREC RFC 7866 §8.1).
 * sofia's msg_multipart_parse() is not used here: on a malformed part header it fails an
 * assert() (abort, found by fuzz_sip) and it trusts the boundary to fit in the payload.  The
 * split on delimiter lines is done here on spans; the part's Content-Type value is parsed by
 * sofia.
 */
static bool multipart_sdp(su_home_t *home, const sip_content_type_t *ct, struct span body,
                          struct span *sdp)
{
    const char *param = msg_header_find_param(ct->c_common, "boundary=");
    if (!param)
        return false;
    const char *boundary = param[0] == '"' ? msg_unquote_dup(home, param) : param;
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > 70) /* RFC 2046 §5.1.1: 1 to 70 characters */
        return false;

    size_t d = next_delimiter(body, 0, boundary, blen);
    while (d != SIZE_MAX) {
        size_t at = d + 2 + blen;
        if (at + 2 <= body.len && body.p[at] == '-' && body.p[at + 1] == '-')
            return false; /* close delimiter: no SDP part */
        const uint8_t *lf = at < body.len ? memchr(body.p + at, '\n', body.len - at) : NULL;
        if (!lf)
            return false;
        size_t start = (size_t)(lf - body.p) + 1;
        size_t next = next_delimiter(body, start, boundary, blen);
        /* The CRLF before a delimiter belongs to the delimiter. */
        size_t end = next == SIZE_MAX ? body.len : next;
        if (end > start && body.p[end - 1] == '\n')
            end--;
        if (end > start && body.p[end - 1] == '\r')
            end--;
        struct span part = {body.p + start, end - start};
        size_t hdr = 0;
        if (!(part.len >= 2 && part.p[0] == '\r' && part.p[1] == '\n') &&
            !(part.len >= 1 && part.p[0] == '\n'))
            hdr = sip_header_block_len(part);
        else
            hdr = part.p[0] == '\n' ? 1 : 2; /* no part headers */
        if (hdr > 0) {
            char *type_text = header_text(home, span_make(part.p, hdr), "Content-Type", "c");
            sip_content_type_t *pct = type_text ? sip_content_type_make(home, type_text) : NULL;
            if (is_sdp_type(pct)) {
                sdp->p = part.p + hdr;
                sdp->len = part.len - hdr;
                return true;
            }
        }
        d = next;
    }
    return false;
}

/* One DTMF key as a body writes it: "5", "*", "#", "A"; Cisco and others write the
 * RFC 4733 event number, "10" for * and "11" for #.  0 when it is none of those. */
static char dtmf_key_of(struct span v)
{
    while (v.len && (v.p[0] == ' ' || v.p[0] == '\t'))
        v.p++, v.len--;
    while (v.len && strchr(" \t\r\n", v.p[v.len - 1]))
        v.len--;
    if (v.len == 2 && v.p[0] == '1' && (v.p[1] == '0' || v.p[1] == '1'))
        return v.p[1] == '0' ? '*' : '#';
    if (v.len != 1)
        return 0;
    char c = (char)(v.p[0] >= 'a' && v.p[0] <= 'd' ? v.p[0] - 'a' + 'A' : v.p[0]);
    return c && strchr("0123456789*#ABCD", c) ? c : 0;
}

/* application/dtmf-relay (the de facto INFO format): lines "Signal=5", "Duration=160";
 * application/dtmf (RFC 2976's usual companion): the key alone. */
static char dtmf_body(const msg_content_type_t *ct, struct span body)
{
    if (strcasecmp(ct->c_type, "application/dtmf") == 0)
        return dtmf_key_of(body);
    if (strcasecmp(ct->c_type, "application/dtmf-relay") != 0)
        return 0;
    while (body.len > 0) {
        const uint8_t *nl = memchr(body.p, '\n', body.len);
        size_t n = nl ? (size_t)(nl - body.p) : body.len;
        struct span line = {body.p, n};
        const uint8_t *eq = memchr(line.p, '=', line.len);
        if (eq && (size_t)(eq - line.p) >= 6 &&
            strncasecmp((const char *)line.p, "signal", 6) == 0) {
            size_t k = 6;
            while (line.p + k < eq && (line.p[k] == ' ' || line.p[k] == '\t'))
                k++;
            if (line.p + k == eq) {
                struct span v = {eq + 1, line.len - (size_t)(eq + 1 - line.p)};
                return dtmf_key_of(v);
            }
        }
        body.p += nl ? n + 1 : n;
        body.len -= nl ? n + 1 : n;
    }
    return 0;
}

static void fill_body(struct sip_msg *m, su_home_t *home, const sip_t *sip, struct span raw)
{
    const sip_content_type_t *ct = sip->sip_content_type;
    struct span body = {NULL, 0};

    if (!ct || !ct->c_type)
        return;
    if (sip->sip_payload && sip->sip_payload->pl_data) {
        body.p = (const uint8_t *)sip->sip_payload->pl_data;
        body.len = sip->sip_payload->pl_len;
    } else if (sip->sip_flags & MSG_FLG_TRUNC) {
        /* Content-Length larger than the datagram (sofia flags MSG_FLG_TRUNC and keeps no
         * payload): the peers acted on what was sent, so take the body the datagram holds. */
        size_t end = sip_header_block_len(raw);
        if (end > 0 && end < raw.len)
            span_tail(raw, end, &body);
    }
    if (!body.p || body.len == 0)
        return;

    if (is_sdp_type(ct)) {
        parse_sdp_body(m, (const char *)body.p, body.len);
        return;
    }
    m->dtmf_key = dtmf_body(ct, body);
    struct span sdp;
    if (strncasecmp(ct->c_type, "multipart/", 10) == 0 && multipart_sdp(home, ct, body, &sdp))
        parse_sdp_body(m, (const char *)sdp.p, sdp.len);
}

static bool is_token_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("-.!%*_+`'~", c) != NULL);
}

/*
 * A From or To that sofia rejected.  Seen from an Alcatel-Lucent OXE: bytes of memory after
 * the To tag ("tag=...5af571e&Sy\x18\x01").  The name-addr alone is still parsed by sofia;
 * the tag is kept up to its last token character (RFC 3261 §25.1), which is what the
 * other messages of the dialog repeat.  NULL when even the name-addr is not SIP.
 */
static sip_addr_t *lenient_party(su_home_t *home, struct span raw, const char *name,
                                 const char *compact)
{
    size_t hdr_end = sip_header_block_len(raw);
    struct span hdr = {raw.p, hdr_end ? hdr_end : raw.len};
    char *value = header_text(home, hdr, name, compact);
    if (!value)
        return NULL;
    /* The name-addr ends at '>', a bare addr-spec at its first ';' (RFC 3261 §20.20). */
    char *lt = strchr(value, '<');
    char *params = lt ? strchr(lt, '>') : strchr(value, ';');
    if (lt && !params)
        return NULL;
    if (!params)
        params = value + strlen(value);
    else if (lt)
        params++;

    const char *tag = NULL;
    for (char *p = params; !tag && (p = strchr(p, ';')) != NULL; p++) {
        char *q = p + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncasecmp(q, "tag", 3) != 0)
            continue;
        q += 3;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q++ != '=')
            continue;
        while (*q == ' ' || *q == '\t')
            q++;
        size_t n = 0;
        while (is_token_char(q[n]))
            n++;
        if (n)
            tag = su_strndup(home, q, (isize_t)n);
    }
    *params = '\0';
    sip_addr_t *addr = sip_from_make(home, value);
    if (!addr)
        return NULL;
    addr->a_tag = tag;
    return addr;
}

/* The first line as written, for logs and the UI. */
static const char *start_line_text(su_home_t *home, struct span raw)
{
    size_t off = 0, n = 0;
    while (off < raw.len && (raw.p[off] == '\r' || raw.p[off] == '\n'))
        off++;
    while (off + n < raw.len && raw.p[off + n] != '\r' && raw.p[off + n] != '\n')
        n++;
    return su_strndup(home, (const char *)raw.p + off, (isize_t)n);
}

static struct sip_msg *parse_once(const uint8_t *data, size_t len, const char **err)
{
    msg_t *msg = NULL;
    const sip_t *sip;
    struct sip_msg *m;
    su_home_t *home;
    const char *why;

    why = "empty message";
    if (!data || len == 0)
        goto error;
    why = "message too large";
    if (len > SIP_PARSE_MAX)
        goto error;
    why = "SIP parser unavailable";
    if (pthread_once(&mclass_once, mclass_init) != 0 || !sip_mclass_ext)
        goto error;

    why = "parser failed";
    msg = msg_make(sip_mclass_ext, 0, data, (ssize_t)len);
    if (!msg)
        goto error;
    sip = sip_object(msg);
    home = msg_home(msg);

    /* Headers sofia could not parse are moved to sip_error and their field stays NULL, so
     * an erroneous essential header shows as a missing one.  Other errors (a bad Via, an
     * invalid Content-Length as in nasty-zeek-sip-invalid-content-length) leave a message
     * the peers acted upon: it is used. */
    why = "parser rejected start line";
    if (!sip || (!sip->sip_request && !sip->sip_status))
        goto error;
    why = "no Call-ID";
    if (!sip->sip_call_id || !sip->sip_call_id->i_id || !sip->sip_call_id->i_id[0])
        goto error;
    why = "no CSeq";
    if (!sip->sip_cseq || !sip->sip_cseq->cs_method_name)
        goto error;
    /* An unparsable From or To gets one more, lenient chance (see lenient_party). */
    const sip_addr_t *from = sip->sip_from, *to = sip->sip_to;
    why = "no From";
    if (!from && !(from = lenient_party(home, span_make(data, len), "From", "f")))
        goto error;
    why = "no To";
    if (!to && !(to = lenient_party(home, span_make(data, len), "To", "t")))
        goto error;

    why = "out of memory";
    m = su_zalloc(home, sizeof(*m));
    if (!m)
        goto error;
    m->owner_ = msg;

    m->cseq = sip->sip_cseq->cs_seq;
    m->cseq_method = method_id(sip->sip_cseq->cs_method_name);
    if (sip->sip_request) {
        m->is_request = true;
        m->method_name = sip->sip_request->rq_method_name;
        m->method = method_id(m->method_name);
        m->request_uri = url_as_string(home, sip->sip_request->rq_url);
    } else {
        m->status = sip->sip_status->st_status;
        m->reason = sip->sip_status->st_phrase;
        m->method_name = sip->sip_cseq->cs_method_name;
        m->method = m->cseq_method;
    }
    m->call_id = sip->sip_call_id->i_id;
    m->from_tag = from->a_tag;
    m->to_tag = to->a_tag;
    m->branch = sip->sip_via ? sip->sip_via->v_branch : NULL;

    fill_party(home, from->a_display, from->a_url, &m->from);
    fill_party(home, to->a_display, to->a_url, &m->to);
    const sip_p_asserted_identity_t *pai = sip_p_asserted_identity(sip);
    if (pai)
        fill_party(home, pai->paid_display, pai->paid_url, &m->pai);
    const sip_remote_party_id_t *rpid = sip_remote_party_id(sip);
    if (rpid)
        fill_party(home, rpid->rpid_display, rpid->rpid_url, &m->rpid);
    /* sofia has no class for Diversion: it stays among the unknown headers. */
    if (!fill_party_from_text(home, unknown_header(sip, "Diversion"), &m->diversion))
        fill_party_from_text(home, unknown_header(sip, "History-Info"), &m->diversion);

    if (sip->sip_user_agent)
        m->user_agent = sip->sip_user_agent->g_string;
    else if (sip->sip_server)
        m->user_agent = sip->sip_server->g_string;

    m->start_line = start_line_text(home, span_make(data, len));
    fill_body(m, home, sip, span_make(data, len));
    return m;

error:
    if (msg)
        msg_destroy(msg);
    if (err)
        *err = why;
    return NULL;
}

static bool is_ipv6_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == ':' || c == '.';
}

/* Writes the IPv6 host of run[0..n) in brackets when it is one, keeping a trailing
 * ":port"; returns false when the run is not an address (a time of day, say). */
static bool bracket_ipv6(const uint8_t *run, size_t n, char *out, size_t outsize, size_t *used)
{
    char text[INET6_ADDRSTRLEN + 8];
    struct in6_addr a6;
    if (n >= sizeof(text))
        return false;
    memcpy(text, run, n);
    text[n] = '\0';
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        int w = snprintf(out, outsize, "[%s]", text);
        *used = (size_t)w;
        return w > 0 && (size_t)w < outsize;
    }
    char *port = strrchr(text, ':');
    if (!port || port == text || !port[1] || strspn(port + 1, "0123456789") != strlen(port + 1))
        return false;
    *port = '\0';
    if (inet_pton(AF_INET6, text, &a6) != 1)
        return false;
    int w = snprintf(out, outsize, "[%s]:%s", text, port + 1);
    *used = (size_t)w;
    return w > 0 && (size_t)w < outsize;
}

/* Some user agents write IPv6 hosts in URIs and Via without the brackets RFC 3261
 * (and RFC 5118 §4.1) require, e.g. "sip:4321@fec0:0:0:0:216:d3ff:fe0d:22c:5060", which
 * sofia-sip rightly rejects.  Peers still act on such messages, so when a parse fails a
 * copy of the header block with the brackets restored is given one more try.  The stored
 * evidence is always the original bytes.  Returns NULL when nothing needed repair. */
static uint8_t *repair_unbracketed_ipv6(const uint8_t *data, size_t len, size_t *outlen)
{
    size_t hdr_end = sip_header_block_len(span_make(data, len));
    if (hdr_end == 0 || hdr_end > len)
        hdr_end = len;
    /* Brackets add two bytes to a run of at least two: the copy at most doubles. */
    size_t cap = 2 * len + 64;
    uint8_t *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0, i = 0, repaired = 0;
    while (i < hdr_end) {
        /* The Call-ID is an opaque token, compared byte for byte: never rewritten. */
        if ((i == 0 || data[i - 1] == '\n') &&
            (span_starts_with_ci(span_make(data + i, hdr_end - i), "Call-ID:", 8) ||
             span_starts_with_ci(span_make(data + i, hdr_end - i), "i:", 2))) {
            size_t j = i;
            while (j < hdr_end && data[j] != '\n')
                j++;
            if (j - i > cap - o)
                break;
            memcpy(out + o, data + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        uint8_t prev = i ? data[i - 1] : ' ';
        bool boundary = !(isalnum(prev) || prev == ':' || prev == '.' || prev == '[');
        if (boundary && is_ipv6_char(data[i])) {
            size_t j = i, colons = 0;
            while (j < hdr_end && is_ipv6_char(data[j]))
                colons += data[j++] == ':';
            size_t used = 0;
            if (colons >= 2 && !(j < hdr_end && (isalnum(data[j]) || data[j] == ']')) &&
                cap - o > 64 && bracket_ipv6(data + i, j - i, (char *)out + o, cap - o, &used)) {
                o += used;
                repaired++;
            } else {
                if (j - i > cap - o)
                    break;
                memcpy(out + o, data + i, j - i);
                o += j - i;
            }
            i = j;
            continue;
        }
        if (o + 1 >= cap)
            break;
        out[o++] = data[i++];
    }
    if (!repaired || i < hdr_end || cap - o < len - hdr_end) {
        free(out);
        return NULL;
    }
    memcpy(out + o, data + hdr_end, len - hdr_end);
    *outlen = o + (len - hdr_end);
    return out;
}

struct sip_msg *sip_msg_parse(const uint8_t *data, size_t len, const char **err)
{
    const char *why = NULL;
    struct sip_msg *m = parse_once(data, len, &why);
    if (!m && why && data && len <= SIP_PARSE_MAX &&
        (strcmp(why, "parser rejected start line") == 0 || strcmp(why, "no From") == 0 ||
         strcmp(why, "no To") == 0 || strcmp(why, "parser failed") == 0)) {
        size_t fixed_len = 0;
        uint8_t *fixed = repair_unbracketed_ipv6(data, len, &fixed_len);
        if (fixed) {
            const char *why2 = NULL;
            m = parse_once(fixed, fixed_len, &why2);
            free(fixed); /* sofia parsed its own copy of the bytes */
        }
    }
    if (!m && err)
        *err = why;
    return m;
}

void sip_msg_free(struct sip_msg *m)
{
    if (m)
        msg_destroy((msg_t *)m->owner_);
}

/*
 * Start-line recogniser (RFC 3261 §7.1, §7.2), run on every UDP datagram of a non-SIP port
 * when detection is on, so it rejects early: RTP starts with 0x80, HTTP ends its request
 * line with "HTTP/1.1".  It reads the first line only and never past len.
 */
static bool is_upper(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_line_end(struct span s, size_t off)
{
    return off < s.len && (s.p[off] == '\r' || s.p[off] == '\n');
}

static bool looks_like_status_line(struct span s)
{
    /* "SIP/2.0 NNN " (a reason phrase may be empty, some stacks then end the line). */
    if (s.len < 12 || memcmp(s.p, "SIP/2.0 ", 8) != 0)
        return false;
    if (!is_digit(s.p[8]) || !is_digit(s.p[9]) || !is_digit(s.p[10]) || s.p[8] == '0')
        return false;
    return s.p[11] == ' ' || is_line_end(s, 11);
}

static bool looks_like_request_line(struct span s)
{
    size_t i = 0;
    /* Method: an uppercase token (extension methods too, RFC 3261 §27.4). */
    while (i < s.len && i < 32 && (is_upper(s.p[i]) || s.p[i] == '-' || s.p[i] == '_'))
        i++;
    if (i == 0 || i >= s.len || s.p[i] != ' ' || !is_upper(s.p[0]))
        return false;
    /* Request-URI: visible characters with a scheme (sip:, sips:, tel:, urn:). */
    size_t uri = ++i;
    bool colon = false;
    while (i < s.len && s.p[i] > ' ' && s.p[i] < 0x7f) {
        colon = colon || s.p[i] == ':';
        i++;
    }
    if (i == uri || !colon || i >= s.len || s.p[i] != ' ')
        return false;
    i++;
    if (s.len - i < 7 || memcmp(s.p + i, "SIP/2.0", 7) != 0)
        return false;
    return is_line_end(s, i + 7);
}

bool sip_looks_like_start_line(const uint8_t *data, size_t len)
{
    if (!data || len < 12)
        return false;
    struct span s = span_make(data, len);
    if (s.p[0] == 'S' && looks_like_status_line(s))
        return true;
    return looks_like_request_line(s);
}

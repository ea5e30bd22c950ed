/*
 * test_sip_stream.c - framing SIP out of TCP streams (Content-Length, keep-alives, junk,
 * TLS, WebSocket) and out of UDP datagrams.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greffier/sip_stream.h"
#include "testhelp.h"

#define MAX_MSG 4096

struct sink {
    int n;
    size_t len[16];
    char msg[16][2048];
};

static void collect(void *user, const uint8_t *msg, size_t len)
{
    struct sink *k = user;
    if (k->n < 16) {
        size_t n = len < sizeof(k->msg[0]) - 1 ? len : sizeof(k->msg[0]) - 1;
        memcpy(k->msg[k->n], msg, n);
        k->msg[k->n][n] = '\0';
        k->len[k->n] = len;
    }
    k->n++;
}

static const char bye[] = "BYE sip:bob@10.0.0.2 SIP/2.0\r\n"
                          "Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK1\r\n"
                          "From: <sip:a@h>;tag=1\r\n"
                          "To: <sip:b@h>;tag=2\r\n"
                          "Call-ID: tcp-1\r\n"
                          "CSeq: 2 BYE\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n";

static const char invite[] = "INVITE sip:bob@10.0.0.2 SIP/2.0\r\n"
                             "Via: SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK2\r\n"
                             "From: <sip:a@h>;tag=1\r\n"
                             "To: <sip:b@h>\r\n"
                             "Call-ID: tcp-2\r\n"
                             "CSeq: 1 INVITE\r\n"
                             "Content-Type: application/sdp\r\n"
                             "Content-Length: 19\r\n"
                             "\r\n"
                             "v=0\r\n"
                             "s=-\r\n"
                             "t=0 0\r\n"
                             "\r\n";

/* Runs one consume call on a copy of exactly len bytes (ASan sees over-reads). */
static size_t consume(struct sip_stream_state *st, const void *data, size_t len, struct counters *c,
                      struct sink *k)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, data, len);
    size_t used = sip_stream_consume(st, p, len, MAX_MSG, c, collect, k);
    free(p);
    return used;
}

static void test_two_messages(void)
{
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%s%s", bye, bye);
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 2);
    CHECK_INT(k.len[0], strlen(bye));
    CHECK_STR(k.msg[1], bye);
    sip_stream_state_free(st);
}

/* Every prefix of a message consumes nothing; the whole consumes it all. */
static void test_split_everywhere(const char *msg, size_t len)
{
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    int early = 0;
    for (size_t i = 0; i < len; i++)
        if (consume(st, msg, i, &c, &k) != 0)
            early++;
    CHECK_INT(early, 0);
    CHECK_INT(k.n, 0);
    CHECK_INT(consume(st, msg, len, &c, &k), len);
    CHECK_INT(k.n, 1);
    CHECK_INT(k.len[0], len);
    CHECK_INT(c.drop_sip_junk + c.drop_sip_oversized, 0);
    sip_stream_state_free(st);
}

static void test_body_and_keepalives(void)
{
    /* a body announced by Content-Length, with CRLF keep-alives around messages */
    char msg[1024];
    const char *body = "v=0\r\ns=-\r\nt=0 0\r\n\r\n";
    int hl = snprintf(msg, sizeof(msg),
                      "INVITE sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\n"
                      "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: tcp-2\r\n"
                      "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      strlen(body), body);
    test_split_everywhere(msg, (size_t)hl);

    char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "\r\n\r\n%s\r\n\r\n%s\r\n", msg, bye);
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 2);
    CHECK_STR(k.msg[0], msg);
    CHECK_STR(k.msg[1], bye);
    /* keep-alive only */
    CHECK_INT(consume(st, "\r\n\r\n", 4, &c, &k), 4);
    CHECK_INT(k.n, 2);
    CHECK_INT(c.drop_sip_junk, 0);
    sip_stream_state_free(st);
}

static void test_content_length_forms(void)
{
    /* compact l:, absent Content-Length (no body on a stream), bare LF line ends */
    static const char compact[] = "SIP/2.0 200 OK\r\nv: SIP/2.0/TCP h;branch=z9hG4bK3\r\n"
                                  "f: <sip:a@h>;tag=1\r\nt: <sip:b@h>;tag=2\r\ni: c\r\n"
                                  "CSeq: 1 INVITE\r\nl:   5\r\n\r\nhello";
    static const char absent[] = "ACK sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK4\r\n"
                                 "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\n"
                                 "CSeq: 1 ACK\r\n\r\n";
    static const char bare_lf[] = "OPTIONS sip:b@h SIP/2.0\nCall-ID: c\ncontent-length : 2\n\nok";
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%s%s%s", compact, absent, bare_lf);
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 3);
    CHECK_STR(k.msg[0], compact);
    CHECK_STR(k.msg[1], absent);
    CHECK_STR(k.msg[2], bare_lf);
    sip_stream_state_free(st);
    test_split_everywhere(compact, strlen(compact));
}

static void test_resync(void)
{
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "ody of a lost message\r\nmore junk\r\n%s", bye);
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 1);
    CHECK_STR(k.msg[0], bye);
    CHECK_INT(c.drop_sip_junk, 1);
    sip_stream_state_free(st);

    /* junk without any start line: all but a short tail is consumed */
    st = sip_stream_state_new();
    memset(&c, 0, sizeof(c));
    memset(buf, 'x', 500);
    buf[100] = '\n';
    size_t used = consume(st, buf, 500, &c, &k);
    CHECK(used >= 500 - 40 && used < 500);
    CHECK_INT(c.drop_sip_junk, 1);
    /* a start line cut in two by the segment boundary survives resynchronisation */
    n = (size_t)snprintf(buf, sizeof(buf), "junk junk junk junk\r\nBYE sip:bob@10.0.0.2 SIP/");
    used = consume(st, buf, n, &c, &k);
    CHECK_INT(used, 21);
    sip_stream_state_free(st);

    /* uppercase junk without a line end does not stall the stream */
    st = sip_stream_state_new();
    memset(&c, 0, sizeof(c));
    static const char shout[] = "HELLO WORLD THIS IS NOT SIP AT ALL AND HAS NO LINE END";
    used = consume(st, shout, strlen(shout), &c, &k);
    CHECK_INT(used, strlen(shout) - 32);
    CHECK_INT(c.drop_sip_junk, 1);
    sip_stream_state_free(st);
}

static void test_oversized(void)
{
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    static const char big_body[] = "MESSAGE sip:b@h SIP/2.0\r\nCall-ID: c\r\n"
                                   "Content-Length: 999999\r\n\r\nxxxx";
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%s\r\n%s", big_body, bye);
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(c.drop_sip_oversized, 1);
    CHECK_INT(k.n, 1);
    CHECK_STR(k.msg[0], bye);
    sip_stream_state_free(st);

    /* headers that never end, beyond max_message */
    st = sip_stream_state_new();
    memset(&c, 0, sizeof(c));
    size_t len = MAX_MSG + 1000;
    char *p = malloc(len);
    size_t off = (size_t)snprintf(p, len, "INVITE sip:b@h SIP/2.0\r\n");
    while (off + 40 < len)
        off += (size_t)snprintf(p + off, len - off, "X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n");
    size_t used = consume(st, p, off, &c, &k);
    CHECK_INT(c.drop_sip_oversized, 1);
    CHECK(used > 0);
    free(p);
    sip_stream_state_free(st);
}

static void test_tls(void)
{
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00,
                                    0x00, 0xa1, 0x03, 0x03, 0x11, 0x22, 0x33};
    struct sip_stream_state *st = sip_stream_state_new();
    struct counters c = {0};
    struct sink k = {0};
    CHECK_INT(consume(st, hello, 1, &c, &k), 0); /* too short to tell yet */
    CHECK_INT(consume(st, hello, sizeof(hello), &c, &k), sizeof(hello));
    CHECK(sip_stream_is_tls(st));
    CHECK_INT(c.sip_tls_flows, 1);
    CHECK_INT(consume(st, bye, strlen(bye), &c, &k), strlen(bye));
    CHECK_INT(k.n, 0);
    CHECK_INT(c.sip_tls_flows, 1);
    sip_stream_state_free(st);

    st = sip_stream_state_new();
    CHECK(!sip_stream_is_tls(st));
    sip_stream_state_free(st);
    sip_stream_state_free(NULL);
}

/* Builds a WebSocket frame (RFC 6455 §5.2) into out; returns its length. */
static size_t ws_frame(uint8_t *out, bool fin, unsigned opcode, const uint8_t *mask,
                       const void *payload, size_t n)
{
    size_t off = 0;
    out[off++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    uint8_t m = mask ? 0x80 : 0;
    if (n < 126) {
        out[off++] = (uint8_t)(m | n);
    } else if (n < 65536) {
        out[off++] = m | 126;
        out[off++] = (uint8_t)(n >> 8);
        out[off++] = (uint8_t)n;
    } else {
        out[off++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[off++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    if (mask) {
        memcpy(out + off, mask, 4);
        off += 4;
    }
    const uint8_t *p = payload;
    for (size_t i = 0; i < n; i++)
        out[off + i] = mask ? (uint8_t)(p[i] ^ mask[i & 3]) : p[i];
    return off + n;
}

static void test_websocket(void)
{
    static const char upgrade[] = "GET /ws HTTP/1.1\r\n"
                                  "Host: sip.example.com\r\n"
                                  "Upgrade: WebSocket\r\n"
                                  "Connection: Upgrade\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Protocol: sip\r\n"
                                  "Sec-WebSocket-Version: 13\r\n"
                                  "\r\n";
    static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\n"
                                    "Upgrade: websocket\r\n"
                                    "Connection: Upgrade\r\n"
                                    "Sec-WebSocket-Protocol: sip\r\n"
                                    "\r\n";
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t buf[8192];
    struct counters c = {0};
    struct sink k = {0};

    /* client side: upgrade, then a masked text frame, a ping, a masked message in
     * three fragments with a ping in between */
    struct sip_stream_state *st = sip_stream_state_new();
    size_t n = strlen(upgrade);
    memcpy(buf, upgrade, n);
    size_t first = n;
    n += ws_frame(buf + n, true, 1, mask, bye, strlen(bye));
    n += ws_frame(buf + n, true, 9, mask, "hi", 2);
    size_t third = strlen(bye) / 3;
    n += ws_frame(buf + n, false, 1, mask, bye, third);
    n += ws_frame(buf + n, false, 0, mask, bye + third, third);
    n += ws_frame(buf + n, true, 10, mask, "", 0);
    n += ws_frame(buf + n, true, 0, mask, bye + 2 * third, strlen(bye) - 2 * third);
    /* the HTTP request alone, byte by byte, consumes nothing until complete */
    int early = 0;
    for (size_t i = 0; i < first; i++)
        if (consume(st, buf, i, &c, &k) != 0)
            early++;
    CHECK_INT(early, 0);
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 2);
    CHECK_STR(k.msg[0], bye);
    CHECK_STR(k.msg[1], bye);
    CHECK_INT(c.websocket_frames, 4);
    CHECK_INT(c.drop_websocket_malformed, 0);

    /* an incomplete frame waits; the rest of it completes the message */
    n = ws_frame(buf, true, 2, mask, invite, strlen(invite));
    CHECK_INT(consume(st, buf, n - 1, &c, &k), 0);
    CHECK_INT(consume(st, buf, 1, &c, &k), 0);
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 3);
    CHECK_STR(k.msg[2], invite);
    sip_stream_state_free(st);

    /* server side: 101, then an unmasked frame with a 16-bit length */
    st = sip_stream_state_new();
    char big[600];
    int bl = snprintf(big, sizeof(big), "%s", bye);
    memset(big + bl, ' ', sizeof(big) - 1 - (size_t)bl);
    big[sizeof(big) - 1] = '\0';
    n = strlen(switching);
    memcpy(buf, switching, n);
    n += ws_frame(buf + n, true, 1, NULL, big, strlen(big));
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 4);
    CHECK_INT(k.len[3], strlen(big));
    /* a reserved opcode: counted, rest of the buffer dropped */
    n = ws_frame(buf, true, 3, NULL, "xx", 2);
    n += ws_frame(buf + n, true, 1, NULL, bye, strlen(bye));
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(k.n, 4);
    CHECK_INT(c.drop_websocket_malformed, 1);
    /* a 64-bit length with its top bit set */
    static const uint8_t huge[] = {0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    CHECK_INT(consume(st, huge, sizeof(huge), &c, &k), sizeof(huge));
    CHECK_INT(c.drop_websocket_malformed, 2);
    /* a length larger than max_message */
    static const uint8_t toolong[] = {0x81, 0x7e, 0xff, 0xff, 'x'};
    CHECK_INT(consume(st, toolong, sizeof(toolong), &c, &k), sizeof(toolong));
    CHECK_INT(c.drop_websocket_malformed, 3);
    /* a fragmented message growing beyond max_message is dropped, the next one kept */
    static uint8_t chunk[3000];
    memset(chunk, 'a', sizeof(chunk));
    n = ws_frame(buf, false, 1, NULL, chunk, sizeof(chunk));
    size_t used = consume(st, buf, n, &c, &k);
    CHECK_INT(used, n);
    n = ws_frame(buf, true, 0, NULL, chunk, sizeof(chunk));
    n += ws_frame(buf + n, true, 1, NULL, bye, strlen(bye));
    CHECK_INT(consume(st, buf, n, &c, &k), n);
    CHECK_INT(c.drop_sip_oversized, 1);
    CHECK_INT(k.n, 5);
    CHECK_STR(k.msg[4], bye);
    sip_stream_state_free(st);

    /* plain HTTP on a SIP port (no Upgrade) is junk, not WebSocket */
    st = sip_stream_state_new();
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n";
    memset(&c, 0, sizeof(c));
    used = consume(st, http, strlen(http), &c, &k);
    CHECK(used > 0);
    CHECK_INT(c.drop_sip_junk, 1);
    CHECK_INT(c.websocket_frames, 0);
    sip_stream_state_free(st);
}

static void datagram(const void *data, size_t len, struct counters *c, struct sink *k)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, data, len);
    sip_datagram_frames(p, len, MAX_MSG, c, collect, k);
    free(p);
}

static void test_datagrams(void)
{
    struct counters c = {0};
    struct sink k = {0};

    datagram(bye, strlen(bye), &c, &k);
    CHECK_INT(k.n, 1);
    CHECK_STR(k.msg[0], bye);

    /* RFC 5626 keep-alives are not messages */
    datagram("\r\n\r\n", 4, &c, &k);
    datagram("\r\n", 2, &c, &k);
    CHECK_INT(k.n, 1);
    CHECK_INT(c.drop_sip_malformed + c.drop_sip_junk, 0);

    /* nasty-zeek-sip-junk-before-request: junk glued to the method */
    static const char glued[] = "DBREGISTER sip:1.1.1.1:5060 SIP/2.0\r\nExpires: 3600\r\n\r\n";
    datagram(glued, strlen(glued), &c, &k);
    CHECK_INT(k.n, 2);
    CHECK_STR(k.msg[1], glued + 2);
    CHECK_INT(c.drop_sip_junk, 1);

    /* junk lines before the start line */
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "\x01\x02garbage\r\n%s", bye);
    datagram(buf, n, &c, &k);
    CHECK_INT(k.n, 3);
    CHECK_STR(k.msg[2], bye);
    CHECK_INT(c.drop_sip_junk, 2);

    /* nothing SIP at all (the 4 zero bytes of the same capture) */
    datagram("\0\0\0\0", 4, &c, &k);
    CHECK_INT(k.n, 3);
    CHECK_INT(c.drop_sip_malformed, 1);

    /* two messages bundled, framed by Content-Length */
    n = (size_t)snprintf(buf, sizeof(buf), "%s%s", bye, bye);
    datagram(buf, n, &c, &k);
    CHECK_INT(k.n, 5);
    CHECK_STR(k.msg[3], bye);
    CHECK_STR(k.msg[4], bye);

    /* Content-Length shorter than the body, no start line after: one message, whole */
    n = (size_t)snprintf(buf, sizeof(buf), "%strailing bytes", bye);
    datagram(buf, n, &c, &k);
    CHECK_INT(k.n, 6);
    CHECK_INT(k.len[5], n);

    /* oversized */
    char *big = malloc(MAX_MSG + 100);
    n = (size_t)snprintf(big, MAX_MSG + 100, "%s", bye);
    memset(big + n, 'x', MAX_MSG + 100 - n);
    datagram(big, MAX_MSG + 100, &c, &k);
    CHECK_INT(k.n, 6);
    CHECK_INT(c.drop_sip_oversized, 1);
    free(big);

    /* every prefix of a datagram: no crash */
    for (size_t i = 0; i < strlen(invite); i++)
        datagram(invite, i, &c, &k);
}

int main(void)
{
    test_two_messages();
    test_split_everywhere(bye, strlen(bye));
    test_body_and_keepalives();
    test_content_length_forms();
    test_resync();
    test_oversized();
    test_tls();
    test_websocket();
    test_datagrams();
    return TEST_REPORT("test_sip_stream");
}

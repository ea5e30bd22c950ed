/*
 * test_srtp.c - SRTP/SRTCP decryption with SDES keys.  A locally generated stream for
 * every suite (libsrtp2 srtp_protect with a known key, then our API): round trip, a
 * flipped bit, replay, truncation, wrong key, MKI, unaligned buffers, key syntax.  Then
 * the real capture rtpproxy-g722-srtp-sdes-keys.pcap with the keys from its PROVENANCE
 * (skipped when $SHARED_DIR is absent): every packet of both directions authenticates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <srtp2/srtp.h>

#include "greffier/rtp.h"
#include "greffier/srtp_keys.h"
#include "testhelp.h"
#include "testpcap.h"

/* ---- a sender built directly on libsrtp ---- */

struct suite_case {
    const char *name;
    size_t key_len;
    void (*rtp)(srtp_crypto_policy_t *);
    void (*rtcp)(srtp_crypto_policy_t *);
};

static const struct suite_case suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", 30, srtp_crypto_policy_set_rtp_default,
     srtp_crypto_policy_set_rtp_default},
    {"AES_CM_128_HMAC_SHA1_32", 30, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
     srtp_crypto_policy_set_rtp_default},
    {"AES_192_CM_HMAC_SHA1_80", 38, srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80},
    {"AES_192_CM_HMAC_SHA1_32", 38, srtp_crypto_policy_set_aes_cm_192_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80},
    {"AES_256_CM_HMAC_SHA1_80", 46, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AES_256_CM_HMAC_SHA1_32", 46, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
};

static srtp_t sender(const struct suite_case *sc, uint8_t *key, uint8_t *mki, unsigned mki_len)
{
    srtp_policy_t pol;
    srtp_master_key_t mk = {key, mki, mki_len}, *mks[1] = {&mk};
    srtp_t ctx = NULL;
    memset(&pol, 0, sizeof(pol));
    sc->rtp(&pol.rtp);
    sc->rtcp(&pol.rtcp);
    pol.ssrc.type = ssrc_any_outbound;
    if (mki_len) {
        pol.keys = mks;
        pol.num_master_keys = 1;
    } else {
        pol.key = key;
    }
    pol.window_size = 128;
    if (srtp_create(&ctx, &pol) != srtp_err_status_ok)
        return NULL;
    return ctx;
}

static void b64(const uint8_t *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* RTP packet with a recognisable payload, 4-byte aligned (libsrtp wants it). */
static size_t mk_rtp(uint32_t *words, uint16_t seq, uint32_t ssrc, size_t payload)
{
    uint8_t *b = (uint8_t *)words;
    b[0] = 0x80;
    b[1] = 9;
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)((seq * 160u) >> (24 - 8 * i));
        b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    for (size_t i = 0; i < payload; i++)
        b[12 + i] = (uint8_t)(seq + i);
    return 12 + payload;
}

static size_t mk_rtcp(uint32_t *words, uint32_t ssrc)
{
    uint8_t *b = (uint8_t *)words;
    memset(b, 0, 8);
    b[0] = 0x80;
    b[1] = 201; /* RR, no blocks */
    b[3] = 1;
    for (int i = 0; i < 4; i++)
        b[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    return 8;
}

static void test_round_trip(const struct suite_case *sc, bool with_mki)
{
    uint8_t key[46], mki[4] = {0, 0, 0, 7};
    char key_b64[80], param[128], err[128];
    uint32_t w[128], orig[128];
    int len;
    size_t n;

    for (size_t i = 0; i < sc->key_len; i++)
        key[i] = (uint8_t)(i * 7 + sc->key_len);
    srtp_t tx = sender(sc, key, mki, with_mki ? 4 : 0);
    CHECK(tx != NULL);
    if (!tx)
        return;
    b64(key, sc->key_len, key_b64);
    snprintf(param, sizeof(param), "inline:%s|2^31%s", key_b64, with_mki ? "|7:4" : "");
    struct srtp_stream *rx = srtp_stream_new(sc->name, param, err, sizeof(err));
    if (!rx)
        fprintf(stderr, "%s: %s\n", sc->name, err);
    CHECK(rx != NULL);
    if (!rx) {
        srtp_dealloc(tx);
        return;
    }

    unsigned ok = 0;
    for (uint16_t seq = 65500; seq != 60; seq++) { /* across the rollover */
        n = mk_rtp(w, seq, 0xc0ffee, 160);
        memcpy(orig, w, n);
        len = (int)n;
        CHECK(srtp_protect_mki(tx, w, &len, with_mki, 0) == srtp_err_status_ok);
        CHECK((size_t)len > n);
        n = (size_t)len;
        if (seq == 65510) {
            /* A flipped bit: refused, then the intact copy still passes. */
            uint32_t bad[128];
            size_t bn = n;
            memcpy(bad, w, n);
            ((uint8_t *)bad)[20] ^= 0x10;
            CHECK_INT(srtp_stream_unprotect_rtp(rx, (uint8_t *)bad, &bn), SRTP_STREAM_AUTH_FAIL);
            bn = 11;
            CHECK_INT(srtp_stream_unprotect_rtp(rx, (uint8_t *)bad, &bn), SRTP_STREAM_MALFORMED);
        }
        if (seq == 20) {
            /* Unaligned buffer: copied internally. */
            uint8_t *odd = (uint8_t *)malloc(n + 1) + 1;
            memcpy(odd, w, n);
            size_t on = n;
            CHECK_INT(srtp_stream_unprotect_rtp(rx, odd, &on), SRTP_STREAM_OK);
            CHECK(on == 172 && memcmp(odd, orig, on) == 0);
            free(odd - 1);
            ok++;
            continue;
        }
        uint32_t copy[128];
        memcpy(copy, w, n);
        int r = srtp_stream_unprotect_rtp(rx, (uint8_t *)w, &n);
        CHECK_INT(r, SRTP_STREAM_OK);
        if (r == SRTP_STREAM_OK) {
            ok++;
            CHECK_INT(n, 172);
            CHECK(memcmp(w, orig, n) == 0);
        }
        if (seq == 30) {
            size_t cn = (size_t)len;
            CHECK_INT(srtp_stream_unprotect_rtp(rx, (uint8_t *)copy, &cn), SRTP_STREAM_REPLAY);
        }
    }
    CHECK_INT(ok, 96);

    /* SRTCP. */
    for (unsigned i = 0; i < 5; i++) {
        n = mk_rtcp(w, 0xc0ffee);
        memcpy(orig, w, n);
        len = (int)n;
        CHECK(srtp_protect_rtcp_mki(tx, w, &len, with_mki, 0) == srtp_err_status_ok);
        n = (size_t)len;
        CHECK_INT(n, 8 + 4 + 10 + (with_mki ? 4 : 0)); /* 80-bit tag even for _32 */
        if (i == 2) {
            ((uint8_t *)w)[5] ^= 1;
            CHECK_INT(srtp_stream_unprotect_rtcp(rx, (uint8_t *)w, &n), SRTP_STREAM_AUTH_FAIL);
            continue;
        }
        int rr = srtp_stream_unprotect_rtcp(rx, (uint8_t *)w, &n);
        if (rr)
            fprintf(stderr, "%s mki %d rtcp %u: %d\n", sc->name, with_mki, i, rr);
        CHECK_INT(rr, SRTP_STREAM_OK);
        CHECK_INT(n, 8);
        CHECK(memcmp(w, orig, 8) == 0);
        struct rtcp_info info;
        const char *e;
        CHECK(rtcp_parse(span_make(w, n), &info, &e));
    }
    const struct srtp_stream_stats *st = srtp_stream_stats(rx);
    CHECK_INT(st->rtp_ok, 96);
    CHECK_INT(st->rtcp_ok, 4);
    CHECK_INT(st->auth_fail, 2);
    CHECK_INT(st->replay, 1);
    CHECK_INT(st->malformed, 1);

    /* Another key: nothing passes. */
    key[0] ^= 1;
    b64(key, sc->key_len, key_b64);
    snprintf(param, sizeof(param), "%s%s", key_b64, with_mki ? "|7:4" : "");
    struct srtp_stream *wrong = srtp_stream_new(sc->name, param, err, sizeof(err));
    CHECK(wrong != NULL);
    n = mk_rtp(w, 100, 0xc0ffee, 160);
    len = (int)n;
    srtp_protect_mki(tx, w, &len, with_mki, 0);
    n = (size_t)len;
    CHECK_INT(srtp_stream_unprotect_rtp(wrong, (uint8_t *)w, &n), SRTP_STREAM_AUTH_FAIL);

    srtp_stream_free(wrong);
    srtp_stream_free(rx);
    srtp_dealloc(tx);
}

struct key_case {
    const char *suite, *key, *err; /* err NULL: accepted */
};

static const struct key_case key_cases[] = {
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5", NULL},
    {"aes_cm_128_hmac_sha1_80", "UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5", NULL},
    {"AES_CM_128_HMAC_SHA1_32", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5|2^20|1:32",
     "invalid MKI"},
    {"AES_CM_128_HMAC_SHA1_32", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5|2^20|1:4", NULL},
    {"AES_CM_128_HMAC_SHA1_32", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5|1048576", NULL},
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5|256:1",
     "invalid MKI"},
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5|x:1",
     "invalid MKI"},
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4N",
     "key||salt length does not match the suite"},
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5AAAA",
     "key||salt length does not match the suite"},
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxh!qEeue0CSr+JcQ/Uii4NdaS5",
     "key is not base64"},
    {"AES_CM_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4Nd", /* "Nd==" */
     "key is not base64"},
    {"AES_CM_128_HMAC_SHA1_80", "inline:", "empty key"},
    {"AES_CM_128_HMAC_SHA1_80",
     "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5",
     "key too long for any suite"},
    {"F8_128_HMAC_SHA1_80", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5",
     "unsupported crypto suite"},
    {"AEAD_AES_128_GCM", "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5",
     "unsupported crypto suite"},
    /* 46 bytes: 64 characters with "==", or 62 without; 45 bytes are refused. */
    {"AES_256_CM_HMAC_SHA1_80",
     "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss",
     "key||salt length does not match the suite"},
    {"AES_256_CM_HMAC_SHA1_80",
     "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ==", NULL},
    {"AES_256_CM_HMAC_SHA1_80",
     "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ", NULL},
};

static void test_keys(void)
{
    for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const struct key_case *k = &key_cases[i];
        char err[128] = "";
        struct srtp_stream *s = srtp_stream_new(k->suite, k->key, err, sizeof(err));
        if ((s != NULL) != (k->err == NULL))
            fprintf(stderr, "key case %zu: %s\n", i, s ? "accepted" : err);
        if (k->err) {
            CHECK(s == NULL);
            CHECK_STR(err, k->err);
        } else {
            CHECK(s != NULL);
        }
        srtp_stream_free(s);
    }
    char err[128];
    CHECK(srtp_stream_new(NULL, "x", err, sizeof(err)) == NULL);
    CHECK(srtp_stream_new("AES_CM_128_HMAC_SHA1_80", "x", NULL, 0) == NULL);
    CHECK_STR(srtp_stream_strerror(SRTP_STREAM_AUTH_FAIL), "authentication failed");
}

/* ---- the real capture ---- */

static const char *const KEY_62 = "inline:UHXu88YuDj8guQxhCqEeue0CSr+JcQ/Uii4NdaS5";
static const char *const KEY_69 = "inline:UBFc5R7tK5f91V8j1da++z3h/3H2yS5WaN819nJd";

struct cap {
    /* [direction: 0 = from .62, 1 = from .69][key: 0 = .62's, 1 = .69's] */
    struct srtp_stream *s[2][2];
    unsigned packets[2], ok[2][2], other;
    unsigned long hist_enc[256], hist_dec[256];
    unsigned bad_payload, flipped_refused, flips;
};

static double entropy(const unsigned long *h)
{
    double total = 0, e = 0;
    for (int i = 0; i < 256; i++)
        total += (double)h[i];
    for (int i = 0; i < 256; i++)
        if (h[i])
            e -= (double)h[i] / total * log2((double)h[i] / total);
    return e;
}

static void cap_packet(void *user, const struct l4_packet *l4)
{
    struct cap *c = user;
    uint32_t w[512];
    int dir;

    if (l4->proto != L4_UDP || l4->payload.len > sizeof(w)) {
        c->other++;
        return;
    }
    if (l4->src.a[3] == 62 && l4->sport == 2230)
        dir = 0;
    else if (l4->src.a[3] == 69 && l4->sport == 44724)
        dir = 1;
    else {
        c->other++;
        return;
    }
    c->packets[dir]++;
    for (size_t i = 12; i < l4->payload.len - 10; i++)
        c->hist_enc[l4->payload.p[i]]++;

    /* Every 100th packet: a flipped bit first (refused, and leaves no state behind). */
    if (c->packets[dir] % 100 == 0) {
        size_t n = l4->payload.len;
        memcpy(w, l4->payload.p, n);
        ((uint8_t *)w)[n / 2] ^= 0x01;
        c->flips++;
        if (srtp_stream_unprotect_rtp(c->s[dir][dir], (uint8_t *)w, &n) == SRTP_STREAM_AUTH_FAIL)
            c->flipped_refused++;
    }
    for (int key = 0; key < 2; key++) {
        size_t n = l4->payload.len;
        memcpy(w, l4->payload.p, n);
        if (srtp_stream_unprotect_rtp(c->s[dir][key], (uint8_t *)w, &n) != SRTP_STREAM_OK)
            continue;
        c->ok[dir][key]++;
        struct rtp_packet p;
        const char *err;
        if (!rtp_parse(span_make(w, n), &p, &err) || p.payload_type != 9 || p.payload.len != 160)
            c->bad_payload++;
        else
            for (size_t i = 0; i < p.payload.len; i++)
                c->hist_dec[p.payload.p[i]]++;
    }
}

static void test_capture(void)
{
    char path[512], err[128];
    static struct cap c;

    if (!testpcap_path("corpus/public/rtpproxy-g722-srtp-sdes-keys.pcap", path, sizeof(path)))
        return;
    memset(&c, 0, sizeof(c));
    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 2; k++) {
            c.s[d][k] = srtp_stream_new("AES_CM_128_HMAC_SHA1_80", k == 0 ? KEY_62 : KEY_69, err,
                                        sizeof(err));
            CHECK(c.s[d][k] != NULL);
        }
    if (!c.s[0][0] || !c.s[0][1] || !c.s[1][0] || !c.s[1][1])
        return;
    CHECK_INT(testpcap_each(path, cap_packet, &c), 2340);
    printf("from 192.168.1.62:2230: %u packets, %u authenticated with .62's key, %u with .69's\n",
           c.packets[0], c.ok[0][0], c.ok[0][1]);
    printf("from 192.168.1.69:44724: %u packets, %u authenticated with .69's key, %u with .62's\n",
           c.packets[1], c.ok[1][1], c.ok[1][0]);
    double he = entropy(c.hist_enc), hd = entropy(c.hist_dec);
    printf("payload byte entropy: encrypted %.3f bits, decrypted %.3f bits\n", he, hd);

    CHECK_INT(c.packets[0], 1168);
    CHECK_INT(c.packets[1], 1172);
    CHECK_INT(c.other, 0);
    /* RFC 4568 §6.1: each party's a=crypto key is the one it encrypts with. */
    CHECK_INT(c.ok[0][0], c.packets[0]);
    CHECK_INT(c.ok[1][1], c.packets[1]);
    CHECK_INT(c.ok[0][1], 0);
    CHECK_INT(c.ok[1][0], 0);
    CHECK_INT(c.bad_payload, 0);
    CHECK_INT(c.flipped_refused, c.flips);
    CHECK(c.flips >= 20);
    CHECK(he > 7.95);
    CHECK(hd < he - 0.3);
    CHECK_INT(srtp_stream_stats(c.s[0][0])->rtp_ok, 1168);
    CHECK_INT(srtp_stream_stats(c.s[0][0])->auth_fail, c.packets[0] / 100);

    for (int d = 0; d < 2; d++)
        for (int k = 0; k < 2; k++)
            srtp_stream_free(c.s[d][k]);
}

int main(void)
{
    srtp_init(); /* for the test's own sender; srtp_stream_new initialises it too */
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        test_round_trip(&suites[i], false);
        test_round_trip(&suites[i], true);
    }
    test_keys();
    test_capture();
    return TEST_REPORT("test_srtp");
}

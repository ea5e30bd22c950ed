/*
 * srtp.c - SRTP/SRTCP decryption (RFC 3711) with keys exchanged by SDES (RFC 4568
 * a=crypto, "inline:" key||salt in base64, optional lifetime and MKI), through libsrtp2.
 * Base64 is OpenSSL's EVP_DecodeBlock.
 *
 * The key parameter comes from an SDP body, so from the network: its length is checked
 * before anything is copied.  A packet is checked to hold its clear header and trailer
 * before libsrtp sees it.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <srtp2/srtp.h>

#include "greffier/srtp_keys.h"

enum {
    MAX_KEY_SALT = 46,    /* AES-256: 32-byte key, 14-byte salt */
    MAX_B64 = 64,         /* 4 * ceil(46 / 3) */
    MAX_MKI = 8,          /* RFC 4568 allows 128; a 64-bit value is plenty in practice */
    SCRATCH = 1 << 16,    /* copy of an unaligned packet (libsrtp wants 32-bit alignment) */
    REPLAY_WINDOW = 1024, /* libsrtp's default 128 is tight for a passive observer */
    RTP_FIXED = 12,
    RTCP_FIXED = 8,
    SRTCP_INDEX = 4,
    RTCP_TAG = 10, /* 80 bits for every suite (RFC 4568 §6.2.2) */
};

struct suite {
    const char *name;
    size_t key_salt_len;
    size_t rtp_tag_len;
    void (*rtp)(srtp_crypto_policy_t *p);
    void (*rtcp)(srtp_crypto_policy_t *p);
};

/* libsrtp spells AES_CM_128_HMAC_SHA1_80 as a macro for the rtp_default function. */
static const struct suite suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", 30, 10, srtp_crypto_policy_set_rtp_default,
     srtp_crypto_policy_set_rtp_default},
    {"AES_CM_128_HMAC_SHA1_32", 30, 4, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
     srtp_crypto_policy_set_rtp_default},
    {"AES_192_CM_HMAC_SHA1_80", 38, 10, srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80},
    {"AES_192_CM_HMAC_SHA1_32", 38, 4, srtp_crypto_policy_set_aes_cm_192_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80},
    {"AES_256_CM_HMAC_SHA1_80", 46, 10, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AES_256_CM_HMAC_SHA1_32", 46, 4, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
};

struct srtp_stream {
    srtp_t ctx;
    srtp_t ctx_rtcp; /* ctx, or a second session: see the MKI note in srtp_stream_new */
    const struct suite *suite;
    unsigned mki_len; /* 0: no MKI in the packets */
    struct srtp_stream_stats st;
    uint32_t *scratch; /* SCRATCH bytes, allocated on first unaligned packet */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status;

/* srtp_init() fails when called a second time in a process (its debug module is
 * already registered) although the library is then ready; so its result is only
 * reported when srtp_create fails too. */
static void init_library(void)
{
    init_status = srtp_init();
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (errlen)
        snprintf(err, errlen, "%s", msg);
}

/* "inline:" base64 ["|" lifetime] ["|" MKI ":" length] (RFC 4568 §6.1, key-info). */
static const char *parse_key(const struct suite *su, const char *key, uint8_t *key_salt,
                             uint8_t *mki, unsigned *mki_len)
{
    char b64[MAX_B64 + 4];
    uint8_t raw[MAX_B64];
    size_t n, pad = 0;
    const char *p = key, *field;
    int got;

    if (strncasecmp(p, "inline:", 7) == 0)
        p += 7;
    n = strcspn(p, "|");
    if (n == 0)
        return "empty key";
    if (n > MAX_B64)
        return "key too long for any suite";
    memcpy(b64, p, n);
    while (n % 4) /* some senders leave out the '=' padding */
        b64[n++] = '=';
    for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
        pad++;
    got = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n);
    if (got < 0 || pad > 2)
        return "key is not base64";
    if ((size_t)got - pad != su->key_salt_len)
        return "key||salt length does not match the suite";
    memcpy(key_salt, raw, su->key_salt_len);

    *mki_len = 0;
    for (field = p + strcspn(p, "|"); *field == '|'; field += strcspn(field + 1, "|") + 1) {
        const char *f = field + 1, *colon;
        size_t flen = strcspn(f, "|");
        colon = memchr(f, ':', flen);
        if (!colon)
            continue; /* lifetime ("2^31" or decimal): libsrtp enforces its own limits */
        char *vend, *lend;
        unsigned long long value = strtoull(f, &vend, 10);
        unsigned long len = strtoul(colon + 1, &lend, 10);
        if (!isdigit((unsigned char)f[0]) || !isdigit((unsigned char)colon[1]) || vend != colon ||
            lend != f + flen || len == 0 || len > MAX_MKI || (len < 8 && value >> (8 * len)))
            return "invalid MKI";
        for (unsigned long i = 0; i < len; i++)
            mki[i] = (uint8_t)(value >> (8 * (len - 1 - i)));
        *mki_len = (unsigned)len;
    }
    return NULL;
}

struct srtp_stream *srtp_stream_new(const char *suite_name, const char *key, char *err,
                                    size_t errlen)
{
    const struct suite *su = NULL;
    uint8_t key_salt[MAX_KEY_SALT], mki[MAX_MKI];
    unsigned mki_len;
    srtp_master_key_t master, *masters[1] = {&master};
    srtp_policy_t policy;
    struct srtp_stream *s;
    const char *e;
    srtp_err_status_t st;

    pthread_once(&init_once, init_library);
    if (!suite_name || !key) {
        set_err(err, errlen, "no suite or key");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        if (strcasecmp(suite_name, suites[i].name) == 0)
            su = &suites[i];
    if (!su) {
        set_err(err, errlen, "unsupported crypto suite");
        return NULL;
    }
    e = parse_key(su, key, key_salt, mki, &mki_len);
    if (e) {
        set_err(err, errlen, e);
        return NULL;
    }

    memset(&policy, 0, sizeof(policy));
    su->rtp(&policy.rtp);
    su->rtcp(&policy.rtcp);
    policy.ssrc.type = ssrc_any_inbound;
    policy.window_size = REPLAY_WINDOW;
    policy.allow_repeat_tx = 0;
    if (mki_len) {
        master.key = key_salt;
        master.mki_id = mki;
        master.mki_size = mki_len;
        policy.keys = masters;
        policy.num_master_keys = 1;
    } else {
        policy.key = key_salt;
    }

    s = calloc(1, sizeof(*s));
    if (!s) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    s->suite = su;
    s->mki_len = mki_len;
    st = srtp_create(&s->ctx, &policy);
    s->ctx_rtcp = s->ctx;
    /* libsrtp 2.5 (Debian 12) locates the MKI of an SRTCP packet with the RTP tag length
     * (fixed upstream by cisco/libsrtp#733), so with an _32 suite and an MKI every SRTCP packet
     * fails as bad_mki.  SRTCP then gets its own session whose RTP policy, never used,
     * has the RTCP tag length. */
    if (st == srtp_err_status_ok && mki_len && su->rtp != su->rtcp) {
        su->rtcp(&policy.rtp);
        st = srtp_create(&s->ctx_rtcp, &policy);
        if (st != srtp_err_status_ok)
            srtp_dealloc(s->ctx);
    }
    OPENSSL_cleanse(key_salt, sizeof(key_salt));
    if (st != srtp_err_status_ok) {
        set_err(err, errlen,
                init_status != srtp_err_status_ok
                    ? "libsrtp initialisation failed"
                    : "libsrtp refused the policy (suite not built in?)");
        free(s);
        return NULL;
    }
    return s;
}

void srtp_stream_free(struct srtp_stream *s)
{
    if (!s)
        return;
    if (s->ctx_rtcp != s->ctx)
        srtp_dealloc(s->ctx_rtcp);
    srtp_dealloc(s->ctx);
    free(s->scratch);
    free(s);
}

const struct srtp_stream_stats *srtp_stream_stats(const struct srtp_stream *s)
{
    return &s->st;
}

const char *srtp_stream_strerror(int status)
{
    switch (status) {
    case SRTP_STREAM_OK:
        return "ok";
    case SRTP_STREAM_AUTH_FAIL:
        return "authentication failed";
    case SRTP_STREAM_REPLAY:
        return "replayed or too old";
    case SRTP_STREAM_MALFORMED:
        return "too short for SRTP";
    default:
        return "libsrtp error";
    }
}

/* Length of the clear RTP header (fixed, CSRCs, extension), or 0 when it does not fit. */
static size_t rtp_header_len(const uint8_t *b, size_t len)
{
    size_t off;

    if (len < RTP_FIXED || b[0] >> 6 != 2)
        return 0;
    off = RTP_FIXED + 4 * (size_t)(b[0] & 0x0f);
    if (b[0] & 0x10) {
        if (off + 4 > len)
            return 0;
        off += 4 + 4 * (size_t)((b[off + 2] << 8) | b[off + 3]);
    }
    return off <= len ? off : 0;
}

static int classify(struct srtp_stream *s, srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return SRTP_STREAM_OK;
    case srtp_err_status_auth_fail:
    case srtp_err_status_bad_mki:
        s->st.auth_fail++;
        return SRTP_STREAM_AUTH_FAIL;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        s->st.replay++;
        return SRTP_STREAM_REPLAY;
    default:
        s->st.error++;
        return SRTP_STREAM_ERROR;
    }
}

static int unprotect(struct srtp_stream *s, uint8_t *buf, size_t *len, bool rtcp)
{
    srtp_err_status_t st;
    uint8_t *p = buf;
    int n;

    if (((uintptr_t)buf & 3) != 0) {
        if (!s->scratch && !(s->scratch = malloc(SCRATCH))) {
            s->st.error++;
            return SRTP_STREAM_ERROR;
        }
        memcpy(s->scratch, buf, *len);
        p = (uint8_t *)s->scratch;
    }
    n = (int)*len;
    if (rtcp)
        st = srtp_unprotect_rtcp_mki(s->ctx_rtcp, p, &n, s->mki_len != 0);
    else
        st = srtp_unprotect_mki(s->ctx, p, &n, s->mki_len != 0);
    if (st == srtp_err_status_ok && (n < 0 || (size_t)n > *len))
        st = srtp_err_status_fail; /* cannot happen, but never trust a length */
    if (st == srtp_err_status_ok) {
        if (p != buf)
            memcpy(buf, p, (size_t)n);
        *len = (size_t)n;
        if (rtcp)
            s->st.rtcp_ok++;
        else
            s->st.rtp_ok++;
    }
    return classify(s, st);
}

int srtp_stream_unprotect_rtp(struct srtp_stream *s, uint8_t *buf, size_t *len)
{
    size_t hdr = rtp_header_len(buf, *len);

    if (hdr == 0 || *len > SCRATCH || *len - hdr < s->suite->rtp_tag_len + s->mki_len) {
        s->st.malformed++;
        return SRTP_STREAM_MALFORMED;
    }
    return unprotect(s, buf, len, false);
}

int srtp_stream_unprotect_rtcp(struct srtp_stream *s, uint8_t *buf, size_t *len)
{
    if (*len > SCRATCH || *len < RTCP_FIXED + SRTCP_INDEX + RTCP_TAG + s->mki_len ||
        buf[0] >> 6 != 2) {
        s->st.malformed++;
        return SRTP_STREAM_MALFORMED;
    }
    return unprotect(s, buf, len, true);
}

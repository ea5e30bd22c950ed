/*
 * timestamp.c - RFC 3161 time-stamping of manifest.json: the request a bundle carries
 * (manifest.tsq), and the check of the response an auditor obtains from a time-stamping
 * authority and drops beside it (manifest.tsr).  OpenSSL's TS_* API does the ASN.1.
 *
 * Without the TSA's certificate chain the response can only be matched to the request
 * (status granted, same imprint, same nonce); its signature is then not checked, and
 * the report says so.  With --tsa-ca the signature and the chain are checked too.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "export_int.h"

int tsq_build(const uint8_t *data, size_t len, const uint8_t *nonce, size_t nonce_len,
              uint8_t **der, size_t *der_len)
{
    uint8_t digest[32];
    int ok = 0;
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
    X509_ALGOR *alg = X509_ALGOR_new();
    BIGNUM *bn = BN_bin2bn(nonce, (int)nonce_len, NULL);
    ASN1_INTEGER *n = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    unsigned char *out = NULL;
    *der = NULL;
    if (req && mi && alg && n && sha256_raw(data, len, digest) == 0 &&
        X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) == 1 &&
        TS_MSG_IMPRINT_set_algo(mi, alg) == 1 && TS_MSG_IMPRINT_set_msg(mi, digest, 32) == 1 &&
        TS_REQ_set_version(req, 1) == 1 && TS_REQ_set_msg_imprint(req, mi) == 1 &&
        TS_REQ_set_nonce(req, n) == 1 && TS_REQ_set_cert_req(req, 1) == 1) {
        int k = i2d_TS_REQ(req, &out);
        if (k > 0) {
            *der = out;
            *der_len = (size_t)k;
            ok = 1;
        }
    }
    TS_REQ_free(req);
    TS_MSG_IMPRINT_free(mi);
    X509_ALGOR_free(alg);
    ASN1_INTEGER_free(n);
    BN_free(bn);
    return ok ? 0 : -1;
}

static void gen_time(TS_RESP *resp, char *out, size_t size)
{
    TS_TST_INFO *info = TS_RESP_get_tst_info(resp);
    const ASN1_GENERALIZEDTIME *t = info ? TS_TST_INFO_get_time(info) : NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;
    out[0] = '\0';
    if (t && bio && ASN1_GENERALIZEDTIME_print(bio, t) == 1 && (n = BIO_get_mem_data(bio, &p)) > 0)
        snprintf(out, size, "%.*s", (int)n, p);
    BIO_free(bio);
}

int tsr_check(const uint8_t *tsr, size_t tsr_len, const uint8_t *tsq, size_t tsq_len,
              const uint8_t *data, size_t len, const char *tsa_ca, char *time_out, size_t time_size,
              char *why, size_t whysize)
{
    const unsigned char *p;
    TS_RESP *resp = NULL;
    TS_REQ *req = NULL;
    TS_VERIFY_CTX *ctx = NULL;
    X509_STORE *store = NULL;
    int rc = 1;
    (void)data;
    (void)len; /* the request's imprint was checked against the data by the caller */
    time_out[0] = '\0';
    p = tsr;
    if (tsr_len > 1 << 20 || !(resp = d2i_TS_RESP(NULL, &p, (long)tsr_len)) || p != tsr + tsr_len) {
        snprintf(why, whysize, "not a DER TimeStampResp");
        goto out;
    }
    p = tsq;
    if (!(req = d2i_TS_REQ(NULL, &p, (long)tsq_len))) {
        snprintf(why, whysize, "manifest.tsq is not a DER TimeStampReq");
        goto out;
    }
    ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
    if (!ctx) {
        snprintf(why, whysize, "out of memory");
        goto out;
    }
    /* Without the CA, what can be checked: version, imprint and nonce against the
     * request (TS_VFY_SIGNER needs the signer the signature check finds). */
    TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT | TS_VFY_NONCE);
    if (tsa_ca) {
        store = X509_STORE_new();
        if (!store || X509_STORE_load_file(store, tsa_ca) != 1) {
            snprintf(why, whysize, "--tsa-ca %s: cannot read the certificates", tsa_ca);
            goto out;
        }
        TS_VERIFY_CTX_set_store(ctx, store);
        store = NULL; /* owned by ctx now */
        TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE | TS_VFY_SIGNER);
    }
    ERR_clear_error();
    if (TS_RESP_verify_response(ctx, resp) != 1) {
        unsigned long e = ERR_peek_last_error();
        const char *r = e ? ERR_reason_error_string(e) : NULL;
        snprintf(why, whysize, "does not match manifest.tsq%s: %s",
                 tsa_ca ? " or its TSA certificate chain" : "", r ? r : "rejected");
        goto out;
    }
    gen_time(resp, time_out, time_size);
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_free(store);
    TS_VERIFY_CTX_free(ctx);
    TS_REQ_free(req);
    TS_RESP_free(resp);
    return rc;
}

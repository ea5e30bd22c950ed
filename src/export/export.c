/*
 * export.c - building an evidence bundle (export.h, docs/EVIDENCE.md).
 *
 * For each call, a folder call-ID/ with recording.ogg (the Ogg Opus stream that was
 * sealed, decrypted), recording.wav (its 16-bit decoding), metadata.json,
 * signalling.pcap, signalling.txt and audit.json.  At the top: signing.pub, SHA256SUMS
 * (every file above, in sha256sum's format), manifest.json (every file above and
 * SHA256SUMS with size and SHA-256, the case, who, when, the version, each recording's
 * seal state), manifest.sig (Ed25519 over manifest.json's exact bytes) and manifest.tsq
 * (an RFC 3161 request for manifest.json, whose nonce the manifest names first, so that
 * the request is bound to it).
 *
 * Order: the calls are checked, put on hold (each hold audited), the bundle is built,
 * then the export is audited with the manifest's SHA-256, which ties the bundle to the
 * installation's audit chain.  A failure after the holds leaves them in place: holding
 * a call someone meant to export is the safe side.  A recording that is tampered,
 * missing or cannot be checked is not exported (the export fails naming the call); a
 * truncated one is, and the manifest says so.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "greffier/audit.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/recording_source.h"
#include "greffier/timefmt.h"
#include "greffier/version.h"
#include "export_int.h"

static const char *const seal_names[] = {
    [RECORDING_OK] = "ok",
    [RECORDING_TRUNCATED] = "truncated",
    [RECORDING_TAMPERED] = "tampered",
    [RECORDING_MISSING] = "missing",
    [RECORDING_UNCHECKED] = "unchecked",
};

struct call_done {
    int64_t id;
    char call_id[256];
    char seal[24];
    char seal_detail[400];
    long sip_messages;
};

struct build {
    const struct export_request *rq;
    sqlite3 *db;
    struct bundle *b;
    struct call_done *calls;
    char *err;
    size_t errsize;
};

static bool case_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > EXPORT_CASE_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Adds the text a memory stream collected (taking its buffer). */
static int add_stream(struct build *x, const char *name, FILE *m, char **bufp, size_t *len, int rc)
{
    if (fclose(m) != 0) /* sets *bufp and *len */
        rc = -1;
    char *buf = *bufp;
    *bufp = NULL;
    if (rc != 0) {
        free(buf);
        snprintf(x->err, x->errsize, "%s: could not be written", name);
        return -1;
    }
    return bundle_add(x->b, name, (uint8_t *)buf, *len, x->err, x->errsize);
}

static int add_membuf(struct build *x, const char *name, struct membuf *m)
{
    if (m->failed) {
        membuf_free(m);
        snprintf(x->err, x->errsize, "%s: out of memory", name);
        return -1;
    }
    int rc = bundle_add(x->b, name, m->p, m->len, x->err, x->errsize);
    memset(m, 0, sizeof(*m));
    return rc;
}

static int read_all(const struct byte_source *src, struct membuf *m)
{
    uint8_t buf[64 * 1024];
    for (;;) {
        long n = src->read(src->user, buf, sizeof(buf));
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (membuf_append(m, buf, (size_t)n) != 0)
            return -1;
    }
}

/* recording.ogg and recording.wav, when the call has a recording that may be exported. */
static int add_recording(struct build *x, struct call_done *c, const char *dir)
{
    struct recording_info info;
    struct membuf ogg = {0}, wav = {0};
    char name[BUNDLE_NAME_MAX + 1], err[512] = "";
    bool keyed = false;
    int r = index_get_recording(x->rq->ix, c->id, &info);
    if (r == 0) {
        snprintf(c->seal, sizeof(c->seal), "none");
        snprintf(c->seal_detail, sizeof(c->seal_detail), "no recording (media: %s)",
                 info.media_state[0] ? info.media_state : "not processed");
        return 0;
    }
    if (r != 1) {
        snprintf(x->err, x->errsize, "call %" PRId64 ": reading the index failed", c->id);
        return -1;
    }
    enum recording_state st = recording_check(x->rq->data_dir, &info, &keyed, err, sizeof(err));
    snprintf(c->seal, sizeof(c->seal), "%s", seal_names[st]);
    snprintf(c->seal_detail, sizeof(c->seal_detail), "%s%s", info.path,
             keyed ? ": sha256 of the sealed file and every chunk's tag checked" : "");
    if ((st != RECORDING_OK && st != RECORDING_TRUNCATED) || !keyed) {
        snprintf(x->err, x->errsize, "call %" PRId64 ": recording %s: %s; not exported", c->id,
                 seal_names[st], err[0] ? err : "the private key is not here");
        return -1;
    }
    struct byte_source src;
    struct recording_source *rs =
        recording_open_source(x->rq->data_dir, &info, &src, err, sizeof(err));
    if (!rs) {
        snprintf(x->err, x->errsize, "call %" PRId64 ": %s", c->id, err);
        return -1;
    }
    r = read_all(&src, &ogg);
    recording_source_close(rs);
    if (r != 0 || ogg.failed) {
        membuf_free(&ogg);
        snprintf(x->err, x->errsize, "call %" PRId64 ": reading the recording failed", c->id);
        return -1;
    }
    snprintf(name, sizeof(name), "%s/recording.wav", dir);
    int fd = bundle_file_open(x->b, name, x->err, x->errsize);
    if (fd == -1) {
        membuf_free(&ogg);
        return -1;
    }
    if (wav_from_ogg(ogg.p, ogg.len, &wav, fd, err, sizeof(err)) != 0) {
        if (fd >= 0)
            bundle_file_abort(x->b, name, fd);
        membuf_free(&ogg);
        membuf_free(&wav);
        snprintf(x->err, x->errsize, "call %" PRId64 ": %s", c->id, err);
        return -1;
    }
    r = fd >= 0 ? bundle_file_commit(x->b, name, fd, x->err, x->errsize) : 0;
    snprintf(name, sizeof(name), "%s/recording.ogg", dir);
    if (r != 0 || add_membuf(x, name, &ogg) != 0) {
        membuf_free(&ogg);
        membuf_free(&wav);
        return -1;
    }
    snprintf(name, sizeof(name), "%s/recording.wav", dir);
    return fd >= 0 ? 0 : add_membuf(x, name, &wav);
}

static int add_call(struct build *x, struct call_done *c)
{
    char dir[32], name[BUNDLE_NAME_MAX + 1];
    char *buf = NULL;
    size_t len = 0;
    snprintf(dir, sizeof(dir), "call-%" PRId64, c->id);
    if (add_recording(x, c, dir) != 0)
        return -1;

    FILE *m = open_memstream(&buf, &len);
    snprintf(name, sizeof(name), "%s/metadata.json", dir);
    if (!m) {
        snprintf(x->err, x->errsize, "%s: out of memory", name);
        return -1;
    }
    if (add_stream(x, name, m, &buf, &len, call_metadata_json(x->rq->ix, c->id, c->seal, m)) != 0)
        return -1;

    struct membuf pcap = {0}, ladder = {0};
    if (signalling_export(x->db, c->id, &pcap, &ladder, &c->sip_messages, x->err, x->errsize) !=
        0) {
        membuf_free(&pcap);
        membuf_free(&ladder);
        return -1;
    }
    snprintf(name, sizeof(name), "%s/signalling.pcap", dir);
    if (add_membuf(x, name, &pcap) != 0) {
        membuf_free(&ladder);
        return -1;
    }
    snprintf(name, sizeof(name), "%s/signalling.txt", dir);
    if (add_membuf(x, name, &ladder) != 0)
        return -1;

    buf = NULL;
    m = open_memstream(&buf, &len);
    snprintf(name, sizeof(name), "%s/audit.json", dir);
    if (!m) {
        snprintf(x->err, x->errsize, "%s: out of memory", name);
        return -1;
    }
    return add_stream(x, name, m, &buf, &len, call_audit_json(x->db, c->id, m));
}

/* SHA256SUMS: every file so far, as `sha256sum` prints them (two spaces: text mode). */
static int add_sums(struct build *x)
{
    struct membuf m = {0};
    for (size_t i = 0; i < x->b->n; i++) {
        const struct bfile *f = &x->b->files[i];
        membuf_append(&m, f->sha256, SHA256_HEX);
        membuf_append(&m, "  ", 2);
        membuf_append(&m, f->name, strlen(f->name));
        membuf_append(&m, "\n", 1);
    }
    return add_membuf(x, "SHA256SUMS", &m);
}

static void write_manifest(struct build *x, FILE *out, const char *fingerprint,
                           const char *nonce_hex)
{
    struct json_writer w;
    char now[TIME_ISO_SIZE];
    const struct bfile *sums = bundle_find(x->b, "SHA256SUMS");
    json_init(&w, out, true);
    json_object_begin(&w);
    json_key(&w, "format");
    json_string(&w, BUNDLE_FORMAT);
    json_key(&w, "case");
    json_string(&w, x->rq->case_ref);
    json_key(&w, "exported_by");
    json_string(&w, x->rq->user);
    json_key(&w, "exported_at");
    json_string(&w, time_format_iso_ms(clock_now(), now, sizeof(now)));
    json_key(&w, "greffier_version");
    json_string(&w, GREFFIER_VERSION);
    json_key(&w, "legal_hold");
    json_bool(&w, x->rq->hold);
    json_key(&w, "signing_key_sha256");
    json_string(&w, fingerprint);
    json_key(&w, "signature");
    json_string(&w, "manifest.sig: Ed25519 (RFC 8032) over this file's exact bytes, "
                    "key signing.pub");
    json_key(&w, "timestamp_request");
    json_object_begin(&w);
    json_key(&w, "file");
    json_string(&w, "manifest.tsq");
    json_key(&w, "hash");
    json_string(&w, "sha256");
    json_key(&w, "nonce");
    json_string(&w, nonce_hex);
    json_object_end(&w);
    json_key(&w, "sha256sums_sha256");
    json_string(&w, sums->sha256);
    json_key(&w, "calls");
    json_array_begin(&w);
    for (size_t i = 0; i < x->rq->nids; i++) {
        const struct call_done *c = &x->calls[i];
        char dir[32];
        snprintf(dir, sizeof(dir), "call-%" PRId64, c->id);
        json_object_begin(&w);
        json_key(&w, "id");
        json_int(&w, c->id);
        json_key(&w, "folder");
        json_string(&w, dir);
        json_key(&w, "call_id");
        json_string(&w, c->call_id);
        json_key(&w, "seal_state");
        json_string(&w, c->seal);
        json_key(&w, "seal_detail");
        json_string(&w, c->seal_detail);
        json_key(&w, "sip_messages");
        json_int(&w, c->sip_messages);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_key(&w, "files");
    json_array_begin(&w);
    for (size_t i = 0; i < x->b->n; i++) {
        const struct bfile *f = &x->b->files[i];
        json_object_begin(&w);
        json_key(&w, "path");
        json_string(&w, f->name);
        json_key(&w, "bytes");
        json_uint(&w, f->len);
        json_key(&w, "sha256");
        json_string(&w, f->sha256);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    json_finish(&w);
}

/* manifest.json, manifest.sig and manifest.tsq, once every other file is in: the
 * manifest is made first, then signed and time-stamp requested, then all three added. */
static int seal_bundle(struct build *x, EVP_PKEY *key)
{
    char fingerprint[SHA256_HEX + 1], nonce_hex[2 * TSQ_NONCE_BYTES + 1];
    uint8_t nonce[TSQ_NONCE_BYTES], *sig = NULL, *tsq = NULL;
    size_t len = 0, tsq_len = 0, pem_len = 0;
    char *buf = NULL, *pem = signing_public_pem(key, &pem_len);
    if (!pem || signing_fingerprint(key, fingerprint) != 0 ||
        RAND_bytes(nonce, sizeof(nonce)) != 1) {
        free(pem);
        snprintf(x->err, x->errsize, "signing key: cannot be used");
        return -1;
    }
    nonce[0] |= 0x80; /* a full-length nonce: its hex in the manifest is always 16 digits */
    for (size_t i = 0; i < sizeof(nonce); i++)
        snprintf(nonce_hex + 2 * i, 3, "%02x", nonce[i]);
    if (bundle_add(x->b, "signing.pub", (uint8_t *)pem, pem_len, x->err, x->errsize) != 0 ||
        add_sums(x) != 0)
        return -1;
    FILE *m = open_memstream(&buf, &len);
    if (!m) {
        snprintf(x->err, x->errsize, "manifest.json: out of memory");
        return -1;
    }
    write_manifest(x, m, fingerprint, nonce_hex);
    if (fclose(m) != 0) {
        free(buf);
        snprintf(x->err, x->errsize, "manifest.json: out of memory");
        return -1;
    }
    sha256_hex(buf, len, x->b->manifest_sha256);
    sig = malloc(SIG_BYTES);
    if (!sig || signing_sign(key, (uint8_t *)buf, len, sig) != 0) {
        free(sig);
        free(buf);
        snprintf(x->err, x->errsize, "manifest.sig: signing failed");
        return -1;
    }
    if (tsq_build((uint8_t *)buf, len, nonce, sizeof(nonce), &tsq, &tsq_len) != 0) {
        free(sig);
        free(buf);
        snprintf(x->err, x->errsize, "manifest.tsq: cannot be built");
        return -1;
    }
    /* bundle_add frees with free(): the DER came from OpenSSL's allocator. */
    uint8_t *tsq_copy = malloc(tsq_len);
    if (tsq_copy)
        memcpy(tsq_copy, tsq, tsq_len);
    OPENSSL_free(tsq);
    if (!tsq_copy) {
        free(sig);
        free(buf);
        snprintf(x->err, x->errsize, "manifest.tsq: out of memory");
        return -1;
    }
    int rc = bundle_add(x->b, "manifest.json", (uint8_t *)buf, len, x->err, x->errsize);
    if (rc == 0)
        rc = bundle_add(x->b, "manifest.sig", sig, SIG_BYTES, x->err, x->errsize);
    else
        free(sig);
    if (rc == 0)
        rc = bundle_add(x->b, "manifest.tsq", tsq_copy, tsq_len, x->err, x->errsize);
    else
        free(tsq_copy);
    return rc;
}

/* The calls exist, once each; their Call-IDs. */
static enum export_status check_calls(struct build *x)
{
    sqlite3_stmt *st = NULL;
    enum export_status rc = EXPORT_OK;
    if (sqlite3_prepare_v2(x->db, "SELECT call_id FROM calls WHERE id = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        snprintf(x->err, x->errsize, "index: %s", sqlite3_errmsg(x->db));
        return EXPORT_FAILED;
    }
    for (size_t i = 0; i < x->rq->nids && rc == EXPORT_OK; i++) {
        int64_t id = x->rq->ids[i];
        x->calls[i].id = id;
        for (size_t k = 0; k < i; k++)
            if (x->rq->ids[k] == id) {
                snprintf(x->err, x->errsize, "call %" PRId64 " is named twice", id);
                rc = EXPORT_FAILED;
            }
        sqlite3_bind_int64(st, 1, id);
        int s = sqlite3_step(st);
        if (rc == EXPORT_OK && s == SQLITE_ROW) {
            const char *cid = (const char *)sqlite3_column_text(st, 0);
            snprintf(x->calls[i].call_id, sizeof(x->calls[i].call_id), "%s", cid ? cid : "");
        } else if (rc == EXPORT_OK && s == SQLITE_DONE) {
            snprintf(x->err, x->errsize, "no call with id %" PRId64, id);
            rc = EXPORT_NO_CALL;
        } else if (rc == EXPORT_OK) {
            snprintf(x->err, x->errsize, "index: %s", sqlite3_errmsg(x->db));
            rc = EXPORT_FAILED;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* One audit row's detail object, compact. */
static char *detail_json(const char *const *kv, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    struct json_writer w;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    json_init(&w, m, false);
    json_object_begin(&w);
    for (size_t i = 0; i + 1 < n; i += 2) {
        json_key(&w, kv[i]);
        json_string(&w, kv[i + 1]);
    }
    json_object_end(&w);
    json_finish(&w);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    if (len && buf[len - 1] == '\n')
        buf[len - 1] = '\0';
    return buf;
}

/* Legal holds: a call already held keeps its hold (and its first reason). */
static int put_on_hold(struct build *x)
{
    char reason[EXPORT_CASE_MAX + 16], since[TIME_ISO_SIZE], target[24];
    sqlite3_stmt *st = NULL;
    snprintf(reason, sizeof(reason), "export %s", x->rq->case_ref);
    time_format_iso_ms(clock_now(), since, sizeof(since));
    if (sqlite3_prepare_v2(x->db,
                           "INSERT OR IGNORE INTO legal_holds (call_ref, since, user, reason)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        goto error;
    for (size_t i = 0; i < x->rq->nids; i++) {
        if (sqlite3_bind_int64(st, 1, x->rq->ids[i]) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, since, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(st, 3, x->rq->user, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_DONE)
            goto error;
        sqlite3_reset(st);
        if (sqlite3_changes(x->db) == 1) {
            const char *kv[] = {"reason", reason};
            char *detail = detail_json(kv, 2);
            snprintf(target, sizeof(target), "%" PRId64, x->rq->ids[i]);
            int a = detail ? audit_append(x->rq->ix, x->rq->user, "hold", target, detail) : -1;
            free(detail);
            if (a != 0) {
                snprintf(x->err, x->errsize, "audit: the hold of call %s could not be audited",
                         target);
                sqlite3_finalize(st);
                return -1;
            }
        }
    }
    sqlite3_finalize(st);
    return 0;
error:
    snprintf(x->err, x->errsize, "legal hold: %s", sqlite3_errmsg(x->db));
    sqlite3_finalize(st);
    return -1;
}

static int audit_export(struct build *x)
{
    struct membuf ids = {0};
    for (size_t i = 0; i < x->rq->nids; i++) {
        char n[24];
        int k = snprintf(n, sizeof(n), "%s%" PRId64, i ? "," : "", x->rq->ids[i]);
        membuf_append(&ids, n, (size_t)k);
    }
    membuf_append(&ids, "", 1);
    if (ids.failed) {
        membuf_free(&ids);
        return -1;
    }
    const char *kv[] = {"case",
                        x->rq->case_ref,
                        "ids",
                        (const char *)ids.p,
                        "hold",
                        x->rq->hold ? "true" : "false",
                        "manifest_sha256",
                        x->b->manifest_sha256};
    char *detail = detail_json(kv, 8);
    int rc =
        detail ? audit_append(x->rq->ix, x->rq->user, "export", (const char *)ids.p, detail) : -1;
    free(detail);
    membuf_free(&ids);
    if (rc != 0)
        snprintf(x->err, x->errsize, "audit: the export could not be audited; bundle discarded");
    return rc;
}

enum export_status export_build(const struct export_request *rq, struct bundle *b, char *err,
                                size_t errsize)
{
    struct build x = {rq, (sqlite3 *)index_sqlite(rq->ix), b, NULL, err, errsize};
    enum export_status rc = EXPORT_FAILED;
    EVP_PKEY *key = NULL;
    if (!case_ok(rq->case_ref)) {
        snprintf(err, errsize, "the case reference is required: 1 to %d bytes of printable text",
                 EXPORT_CASE_MAX);
        return EXPORT_BAD_CASE;
    }
    if (rq->nids == 0 || rq->nids > EXPORT_MAX_CALLS) {
        snprintf(err, errsize, "give 1 to %d call ids", EXPORT_MAX_CALLS);
        return EXPORT_FAILED;
    }
    x.calls = calloc(rq->nids, sizeof(*x.calls));
    if (!x.calls) {
        snprintf(err, errsize, "out of memory");
        goto out;
    }
    if ((rc = check_calls(&x)) != EXPORT_OK)
        goto out;
    rc = EXPORT_FAILED;
    if (!(key = signing_load_private(rq->data_dir, err, errsize)))
        goto out;
    if (rq->hold && put_on_hold(&x) != 0)
        goto out;
    for (size_t i = 0; i < rq->nids; i++)
        if (add_call(&x, &x.calls[i]) != 0)
            goto out;
    if (seal_bundle(&x, key) != 0 || bundle_finish(b, err, errsize) != 0 || audit_export(&x) != 0)
        goto out;
    rc = EXPORT_OK;
out:
    EVP_PKEY_free(key);
    free(x.calls);
    return rc;
}

/*
 * verify.c - `greffier verify-bundle PATH`: checks a bundle (folder or zip) without the
 * index or any private key, as a court expert would with openssl and sha256sum
 * (docs/EVIDENCE.md), and more: the signature of manifest.json with the bundle's
 * signing.pub (and, with --pubkey, that this is the expected installation's key), every
 * file's size and SHA-256, no file missing and none added, SHA256SUMS consistent with
 * the manifest, manifest.tsq rebuilt byte for byte from manifest.json and its nonce,
 * a manifest.tsr when present, and each WAV decoded against its Ogg.
 *
 * One line per check: "ok FILE: ..." or "FAIL FILE: ...", then a summary line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_int.h"

/* The files of the bundle being verified, whichever its form. */
struct input {
    const char *path;
    bool is_zip;
    uint8_t *map; /* the zip, mapped */
    size_t map_len;
    struct zip_entry *entries;          /* zip */
    char (*names)[BUNDLE_NAME_MAX + 1]; /* folder */
    size_t n;
    unsigned failures;
    FILE *report;
};

/* One file's bytes: a view into the mapped zip, or the folder's file mapped. */
struct content {
    const uint8_t *p;
    size_t len;
    void *mapped;
};

static void say(struct input *in, bool ok, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void say(struct input *in, bool ok, const char *file, const char *fmt, ...)
{
    va_list ap;
    fprintf(in->report, "%s %s: ", ok ? "ok" : "FAIL", file);
    va_start(ap, fmt);
    vfprintf(in->report, fmt, ap);
    va_end(ap);
    fputc('\n', in->report);
    if (!ok)
        in->failures++;
}

static const char *name_at(const struct input *in, size_t i)
{
    return in->is_zip ? in->entries[i].name : in->names[i];
}

static long find(const struct input *in, const char *name)
{
    for (size_t i = 0; i < in->n; i++)
        if (strcmp(name_at(in, i), name) == 0)
            return (long)i;
    return -1;
}

static int add_name(struct input *in, const char *name, size_t *cap)
{
    if (in->n >= BUNDLE_FILES_MAX)
        return -1;
    if (in->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        void *p = realloc(in->names, ncap * sizeof(*in->names));
        if (!p)
            return -1;
        in->names = p;
        *cap = ncap;
    }
    size_t len = strlen(name);
    if (len > BUNDLE_NAME_MAX)
        return -1;
    memcpy(in->names[in->n++], name, len + 1);
    return 0;
}

/* The folder's regular files, two levels deep at most; anything else is a failure
 * (a bundle holds nothing but the files its manifest lists). */
static int walk(struct input *in, const char *rel, int depth, size_t *cap)
{
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s%s%s", in->path, rel[0] ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) {
        say(in, false, rel[0] ? rel : in->path, "cannot be read: %s", strerror(errno));
        return -1;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char sub[4400], full[8900];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof(full), "%s/%s", in->path, sub);
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth == 0) {
            walk(in, sub, 1, cap);
        } else if (!S_ISREG(st.st_mode) || !bundle_name_ok(sub, strlen(sub))) {
            say(in, false, sub, "not a file a bundle may hold (added)");
        } else if (add_name(in, sub, cap) != 0) {
            say(in, false, sub, "too many files");
        }
    }
    closedir(d);
    return 0;
}

static int open_input(struct input *in, char *err, size_t errsize)
{
    struct stat st;
    size_t cap = 0;
    if (stat(in->path, &st) != 0) {
        snprintf(err, errsize, "%s: %s", in->path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return walk(in, "", 0, &cap) == 0
                   ? 0
                   : (snprintf(err, errsize, "%s: unreadable", in->path), -1);
    int fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        snprintf(err, errsize, "%s: %s", in->path,
                 fd < 0 ? strerror(errno) : "neither a folder nor a zip file");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    in->is_zip = true;
    in->map_len = (size_t)st.st_size;
    in->map = mmap(NULL, in->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (in->map == MAP_FAILED) {
        in->map = NULL;
        snprintf(err, errsize, "%s: %s", in->path, strerror(errno));
        return -1;
    }
    char why[256];
    if (zip_read_dir(in->map, in->map_len, &in->entries, &in->n, why, sizeof(why)) != 0) {
        snprintf(err, errsize, "%s: %s", in->path, why);
        return -1;
    }
    return 0;
}

static int load(struct input *in, const char *name, struct content *c)
{
    memset(c, 0, sizeof(*c));
    long i = find(in, name);
    if (i < 0)
        return -1;
    if (in->is_zip) {
        const struct zip_entry *e = &in->entries[i];
        c->p = in->map + e->data_offset;
        c->len = e->size;
        if (zip_crc32(c->p, c->len) != e->crc32) {
            say(in, false, name, "its CRC-32 in the zip does not match its bytes");
            return -1;
        }
        return 0;
    }
    char full[4400];
    snprintf(full, sizeof(full), "%s/%s", in->path, name);
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* Mapped, not read: a long call's WAV is hundreds of megabytes. */
    static const uint8_t empty[1];
    c->p = empty;
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return -1;
        }
        c->mapped = p;
        c->p = p;
        c->len = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

static void unload(struct content *c)
{
    if (c->mapped)
        munmap(c->mapped, c->len);
    memset(c, 0, sizeof(*c));
}

static bool is_meta(const char *name)
{
    return strcmp(name, "manifest.json") == 0 || strcmp(name, "manifest.sig") == 0 ||
           strcmp(name, "manifest.tsq") == 0 || strcmp(name, "manifest.tsr") == 0;
}

/* Each listed file present with its size and hash; nothing unlisted. */
static void check_files(struct input *in, const struct manifest *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        const struct manifest_file *f = &m->files[i];
        struct content c;
        char hex[SHA256_HEX + 1];
        if (find(in, f->path) < 0) {
            say(in, false, f->path, "missing (listed in manifest.json)");
            continue;
        }
        if (load(in, f->path, &c) != 0) {
            if (!in->is_zip)
                say(in, false, f->path, "cannot be read");
            continue;
        }
        if (c.len != f->bytes)
            say(in, false, f->path, "%zu bytes, manifest.json says %llu", c.len,
                (unsigned long long)f->bytes);
        else if (sha256_hex(c.p, c.len, hex) != 0 || strcmp(hex, f->sha256) != 0)
            say(in, false, f->path, "SHA-256 %s differs from manifest.json's %s (altered)", hex,
                f->sha256);
        else
            say(in, true, f->path, "%zu bytes, SHA-256 %s", c.len, hex);
        unload(&c);
    }
    for (size_t i = 0; i < in->n; i++) {
        const char *name = name_at(in, i);
        bool listed = is_meta(name);
        for (size_t k = 0; k < m->nfiles && !listed; k++)
            listed = strcmp(m->files[k].path, name) == 0;
        if (!listed)
            say(in, false, name, "not listed in manifest.json (added)");
    }
}

/* SHA256SUMS says what the manifest says, line for line. */
static void check_sums(struct input *in, const struct manifest *m)
{
    struct content c;
    char hex[SHA256_HEX + 1];
    size_t lines = 0;
    if (load(in, "SHA256SUMS", &c) != 0) {
        say(in, false, "SHA256SUMS", "missing");
        return;
    }
    if (sha256_hex(c.p, c.len, hex) != 0 || strcmp(hex, m->sums_sha256) != 0) {
        say(in, false, "SHA256SUMS", "SHA-256 differs from manifest.json's sha256sums_sha256");
        unload(&c);
        return;
    }
    const char *p = (const char *)c.p, *end = p + c.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool found = false;
        for (size_t k = 0; k < m->nfiles && len > SHA256_HEX + 2; k++) {
            const struct manifest_file *f = &m->files[k];
            if (strlen(f->path) == len - SHA256_HEX - 2 &&
                memcmp(p + SHA256_HEX + 2, f->path, len - SHA256_HEX - 2) == 0 &&
                memcmp(p, f->sha256, SHA256_HEX) == 0 && p[SHA256_HEX] == ' ' &&
                p[SHA256_HEX + 1] == ' ')
                found = true;
        }
        if (!found) {
            say(in, false, "SHA256SUMS", "line %zu does not match manifest.json", lines + 1);
            unload(&c);
            return;
        }
        lines++;
        p += len + 1;
    }
    if (lines + 1 != m->nfiles)
        say(in, false, "SHA256SUMS", "lists %zu files, manifest.json %zu besides SHA256SUMS", lines,
            m->nfiles - 1);
    else
        say(in, true, "SHA256SUMS", "consistent with manifest.json (%zu files)", lines);
    unload(&c);
}

/* The signing key: the manifest's fingerprint, the signature, the expected key. */
static void check_signature(struct input *in, const struct manifest *m, const struct content *man,
                            const char *expected)
{
    struct content pub, sig;
    char fpr[SHA256_HEX + 1], err[512];
    EVP_PKEY *key = NULL;
    if (load(in, "signing.pub", &pub) != 0) {
        say(in, false, "signing.pub", "missing: the signature cannot be checked");
        return;
    }
    key = signing_load_public_pem(pub.p, pub.len);
    unload(&pub);
    if (!key || signing_fingerprint(key, fpr) != 0) {
        say(in, false, "signing.pub", "not an Ed25519 public key in PEM");
        EVP_PKEY_free(key);
        return;
    }
    if (m->signing_key_sha256[0] && strcmp(fpr, m->signing_key_sha256) != 0)
        say(in, false, "signing.pub", "fingerprint %s is not manifest.json's %s", fpr,
            m->signing_key_sha256);
    if (load(in, "manifest.sig", &sig) != 0) {
        say(in, false, "manifest.sig", "missing: manifest.json is not signed");
    } else {
        int v = sig.len == SIG_BYTES ? signing_verify(key, man->p, man->len, sig.p, sig.len) : 0;
        if (v == 1)
            say(in, true, "manifest.sig",
                "Ed25519 signature of manifest.json valid (key SHA-256 "
                "%s)",
                fpr);
        else
            say(in, false, "manifest.json",
                "signature (manifest.sig) does not verify with "
                "signing.pub: manifest.json or manifest.sig was altered");
        unload(&sig);
    }
    if (expected) {
        EVP_PKEY *want = signing_load_public_file(expected, err, sizeof(err));
        char wfpr[SHA256_HEX + 1];
        if (!want || signing_fingerprint(want, wfpr) != 0)
            say(in, false, "signing.pub", "--pubkey: %s", err);
        else if (strcmp(wfpr, fpr) != 0)
            say(in, false, "signing.pub",
                "signed by another installation: key SHA-256 %s, "
                "expected %s (--pubkey %s)",
                fpr, wfpr, expected);
        else
            say(in, true, "signing.pub", "is the expected installation's key (--pubkey)");
        EVP_PKEY_free(want);
    }
    EVP_PKEY_free(key);
}

static void check_timestamp(struct input *in, const struct manifest *m, const struct content *man,
                            const char *tsa_ca)
{
    struct content tsq, tsr;
    uint8_t nonce[TSQ_NONCE_BYTES] = {0}, *want = NULL;
    size_t want_len = 0;
    /* manifest_parse checked nonce_hex: 16 lowercase hex digits. */
    for (size_t i = 0; i < 2 * TSQ_NONCE_BYTES; i++) {
        char ch = m->nonce_hex[i];
        unsigned v = ch <= '9' ? (unsigned)(ch - '0') : (unsigned)(ch - 'a' + 10);
        nonce[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
    }
    if (load(in, "manifest.tsq", &tsq) != 0) {
        say(in, false, "manifest.tsq", "missing");
        return;
    }
    if (tsq_build(man->p, man->len, nonce, sizeof(nonce), &want, &want_len) != 0 ||
        want_len != tsq.len || memcmp(want, tsq.p, tsq.len) != 0) {
        say(in, false, "manifest.tsq",
            "is not the time-stamp request for manifest.json and "
            "its nonce (altered)");
    } else {
        say(in, true, "manifest.tsq", "RFC 3161 request for manifest.json (SHA-256, nonce %s)",
            m->nonce_hex);
        if (load(in, "manifest.tsr", &tsr) == 0) {
            char when[64], why[512];
            if (tsr_check(tsr.p, tsr.len, tsq.p, tsq.len, man->p, man->len, tsa_ca, when,
                          sizeof(when), why, sizeof(why)) != 0)
                say(in, false, "manifest.tsr", "%s", why);
            else
                say(in, true, "manifest.tsr",
                    "granted at %s; imprint and nonce match the "
                    "request%s",
                    when,
                    tsa_ca ? "; signature and TSA chain valid (--tsa-ca)"
                           : "; the TSA's signature is NOT checked (give --tsa-ca FILE)");
            unload(&tsr);
        } else if (find(in, "manifest.tsr") >= 0) {
            say(in, false, "manifest.tsr", "cannot be read");
        } else {
            fprintf(in->report, "-- manifest.tsr: none (send manifest.tsq to a time-stamping "
                                "authority and put its reply beside it)\n");
        }
    }
    OPENSSL_free(want);
    unload(&tsq);
}

/* recording.wav decodes to the same samples as recording.ogg, in each call folder. */
static void check_audio(struct input *in, const struct manifest *m)
{
    for (size_t i = 0; i < m->nfiles; i++) {
        const char *path = m->files[i].path, *slash = strchr(path, '/');
        if (!slash || strcmp(slash, "/recording.wav") != 0)
            continue;
        char ogg_name[BUNDLE_NAME_MAX + 16], why[256];
        snprintf(ogg_name, sizeof(ogg_name), "%.*s/recording.ogg", (int)(slash - path), path);
        struct content wav, ogg;
        if (load(in, path, &wav) != 0)
            continue; /* already reported missing */
        if (load(in, ogg_name, &ogg) != 0) {
            say(in, false, path, "no %s beside it", ogg_name);
            unload(&wav);
            continue;
        }
        int r = wav_matches_ogg(wav.p, wav.len, ogg.p, ogg.len, why, sizeof(why));
        if (r == 0)
            say(in, true, path, "decodes to the same audio as %s, sample for sample", ogg_name);
        else
            say(in, false, r > 0 ? path : ogg_name, "%s", why);
        unload(&wav);
        unload(&ogg);
    }
}

int bundle_verify(const char *path, const struct verify_options *opt, FILE *report, char *err,
                  size_t errsize)
{
    struct input in = {.path = path, .report = report};
    struct manifest m = {0};
    struct content man = {0};
    int rc = -1;
    if (open_input(&in, err, errsize) != 0)
        goto out;
    if (load(&in, "manifest.json", &man) != 0) {
        say(&in, false, "manifest.json", "missing: nothing can be verified");
        rc = 1;
        goto out;
    }
    if (manifest_parse(man.p, man.len, &m, err, errsize) != 0) {
        say(&in, false, "manifest.json", "%s", err + strlen("manifest.json "));
        check_signature(&in, &(struct manifest){0}, &man, opt->expected_pubkey);
        rc = 1;
        goto out;
    }
    check_signature(&in, &m, &man, opt->expected_pubkey);
    for (size_t i = 0; i < m.ncalls; i++)
        fprintf(report, "-- call %lld: recording seal state at export: %s\n",
                (long long)m.calls[i].id, m.calls[i].seal_state);
    check_files(&in, &m);
    check_sums(&in, &m);
    check_timestamp(&in, &m, &man, opt->tsa_ca);
    check_audio(&in, &m);
    rc = in.failures ? 1 : 0;
    if (rc == 0)
        fprintf(report, "bundle verified: %zu files, signature valid, every hash matches\n",
                m.nfiles);
    else
        fprintf(report, "bundle NOT verified: %u failure(s)\n", in.failures);
out:
    if (rc < 0 && in.failures)
        rc = 1;
    unload(&man);
    manifest_free(&m);
    free(in.entries);
    free(in.names);
    if (in.map)
        munmap(in.map, in.map_len);
    return rc;
}

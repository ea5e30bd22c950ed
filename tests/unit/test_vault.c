/*
 * test_vault.c - sealed recordings (docs/FORMAT.md): round trips of every awkward size,
 * range reads, and a table of damage each of which must be caught with the right error:
 * flipped bits in the header, a chunk or a tag, truncation at and inside a chunk, a
 * dropped or swapped chunk, headers swapped between files, the wrong private key.
 * Then re-keying: after rekey and deleting the old private key, the file still opens.
 * The writer is given only the public key (the private one is moved away meanwhile).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greffier/keys.h"
#include "greffier/vault.h"
#include "testhelp.h"

enum { C = 4096, REC = C + 16, HDR_FIXED = 144 };

static char tmpdir[64], keys[128], other_keys[128], hidden[160];

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static int buf_write(void *user, const uint8_t *data, size_t len)
{
    struct buf *b = user;
    if (b->len + len > b->cap) {
        size_t cap = (b->len + len) * 2 + 64;
        uint8_t *n = realloc(b->p, cap);
        if (!n)
            return -1;
        b->p = n;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return 0;
}

/* Plaintext full of Ogg page magic, so that any leak of it would show. */
static uint8_t *make_plain(size_t len)
{
    uint8_t *p = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        p[i] = (i % 64) < 4 ? (uint8_t)"OggS"[i % 64] : (uint8_t)next_rand();
    return p;
}

static const char meta[] = "{\"call_id\":\"abc@test\",\"start\":\"2024-05-02T09:00:00Z\"}";

/* Seals plain with the newest public key of keys (the private key moved away). */
static struct buf seal(const uint8_t *plain, size_t len)
{
    struct buf out = {0};
    char err[256], key[200];
    snprintf(key, sizeof(key), "%s/recording-0001.key", keys);
    CHECK_INT(rename(key, hidden), 0);
    char data_dir[64];
    snprintf(data_dir, sizeof(data_dir), "%s", tmpdir);
    struct vault_pubkey *pk = vault_load_newest_pubkey(data_dir, err, sizeof(err));
    CHECK(pk != NULL);
    struct byte_sink sink = {buf_write, &out};
    struct vault_writer *w =
        pk ? vault_writer_new(&sink, pk, meta, strlen(meta), 0, err, sizeof(err)) : NULL;
    CHECK(w != NULL);
    if (w) {
        /* In uneven pieces, as Ogg pages arrive. */
        size_t off = 0;
        while (off < len) {
            size_t n = 1 + next_rand() % 3000;
            if (n > len - off)
                n = len - off;
            CHECK_INT(vault_writer_write(w, plain + off, n), 0);
            off += n;
        }
        CHECK_INT(vault_writer_finish(w), 0);
    }
    vault_writer_free(w);
    vault_pubkey_free(pk);
    CHECK_INT(rename(hidden, key), 0);
    return out;
}

static int to_fd(const uint8_t *p, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/sealed", tmpdir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, p, len) != (ssize_t)len)
        return -1;
    return fd;
}

static struct vault_reader *open_mem(const uint8_t *p, size_t len, const char *kdir,
                                     unsigned flags, enum vault_status *st, char *err,
                                     size_t errsize)
{
    return vault_reader_open(to_fd(p, len), kdir, flags, st, err, errsize);
}

static bool has_oggs(const struct buf *b)
{
    return b->len >= 4 && memmem(b->p, b->len, "OggS", 4) != NULL;
}

/* Chi-square of the byte histogram against uniform (255 degrees of freedom: ~255 +-
 * 23 for random data; plaintext with "OggS" every 64 bytes is far above). */
static double chi_square(const uint8_t *p, size_t len)
{
    double count[256] = {0}, chi = 0, e = (double)len / 256;
    for (size_t i = 0; i < len; i++)
        count[p[i]]++;
    for (int i = 0; i < 256; i++)
        chi += (count[i] - e) * (count[i] - e) / e;
    return chi;
}

static void test_round_trip(void)
{
    static const size_t sizes[] = {0, 1, C - 1, C, C + 1, 2 * C, 10 * C, 10 * C + 17, 123457};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len = sizes[k];
        uint8_t *plain = make_plain(len);
        struct buf b = seal(plain, len);
        size_t chunks = len / C + 1;
        CHECK_INT(b.len, HDR_FIXED + strlen(meta) + 16 + len + 16 * chunks);
        CHECK(!has_oggs(&b));
        if (len >= 10 * C)
            CHECK(chi_square(b.p, b.len) < 400);
        enum vault_status st;
        char err[512];
        struct vault_reader *r = open_mem(b.p, b.len, keys, 0, &st, err, sizeof(err));
        CHECK(r != NULL);
        if (!r) {
            fprintf(stderr, "size %zu: %s\n", len, err);
            free(plain);
            free(b.p);
            continue;
        }
        CHECK_INT(vault_reader_size(r), len);
        CHECK_INT(vault_reader_key_id(r), 1);
        size_t mlen;
        const uint8_t *m = vault_reader_meta(r, &mlen);
        CHECK(mlen == strlen(meta) && memcmp(m, meta, mlen) == 0);
        CHECK_INT(vault_reader_check_all(r), VAULT_OK);
        /* Sequentially through the byte_source, in odd-sized reads. */
        uint8_t *back = malloc(len + 1);
        struct byte_source src;
        vault_reader_source(r, &src);
        size_t got = 0;
        for (;;) {
            long n = src.read(src.user, back + got, 1 + next_rand() % 5000);
            CHECK(n >= 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        CHECK_INT(got, len);
        CHECK(len == 0 || memcmp(back, plain, len) == 0);
        /* Random ranges. */
        for (int i = 0; i < 50 && len > 0; i++) {
            uint64_t off = next_rand() % len;
            size_t want = 1 + next_rand() % (3 * C);
            uint8_t tmp[3 * C];
            long n = vault_read_range(r, off, tmp, want);
            size_t expect = want < len - off ? want : len - off;
            CHECK_INT(n, expect);
            CHECK(n > 0 && memcmp(tmp, plain + off, (size_t)n) == 0);
        }
        uint8_t one;
        CHECK_INT(vault_read_range(r, len, &one, 1), 0);
        vault_reader_close(r);
        free(back);
        free(plain);
        free(b.p);
    }
}

enum damage {
    D_MAGIC,
    D_FILE_ID,
    D_CHUNK_SIZE,
    D_WRAPPED,
    D_META,
    D_CHUNK_BODY,
    D_LAST_TAG,
    D_DROP_LAST,
    D_CUT_IN_TAGLESS,
    D_CUT_IN_CHUNK,
    D_DROP_MIDDLE,
    D_SWAP,
    D_SWAP_HEADERS,
    D_WRONG_KEY,
};

struct damage_case {
    enum damage d;
    const char *name;
    enum vault_status at_open; /* VAULT_OK: open succeeds */
    enum vault_status at_check;
    const char *error; /* a substring of the error */
};

static const struct damage_case damages[] = {
    {D_MAGIC, "magic", VAULT_E_FORMAT, 0, "not a sealed recording"},
    {D_FILE_ID, "file id", VAULT_E_TAMPERED, 0, "header: the data key does not unwrap"},
    {D_CHUNK_SIZE, "chunk size", VAULT_E_FORMAT, 0, "header: chunk size"},
    {D_WRAPPED, "wrapped key", VAULT_E_TAMPERED, 0, "does not unwrap"},
    {D_META, "metadata", VAULT_E_TAMPERED, 0, "metadata authentication failed"},
    {D_CHUNK_BODY, "chunk 3 body", VAULT_OK, VAULT_E_TAMPERED, "chunk 3: authentication failed"},
    {D_LAST_TAG, "last tag", VAULT_E_TAMPERED, 0, "chunk 10: authentication failed"},
    {D_DROP_LAST, "dropped last chunk", VAULT_E_TRUNCATED, 0,
     "truncated: no last chunk after chunk 9"},
    {D_CUT_IN_TAGLESS, "cut 10 bytes into chunk 5", VAULT_E_TRUNCATED, 0,
     "truncated: chunk 5 cut short"},
    {D_CUT_IN_CHUNK, "cut 100 bytes into chunk 5", VAULT_E_TAMPERED, 0,
     "chunk 5: authentication failed"},
    {D_DROP_MIDDLE, "dropped chunk 4", VAULT_E_TAMPERED, 0, "chunk 9: authentication failed"},
    {D_SWAP, "chunks 2 and 3 swapped", VAULT_OK, VAULT_E_TAMPERED,
     "chunk 2: authentication failed"},
    {D_SWAP_HEADERS, "headers swapped", VAULT_E_TAMPERED, 0, "chunk 10: authentication failed"},
    {D_WRONG_KEY, "wrong private key", VAULT_E_KEY, 0, "not the key this recording"},
};

static void test_damage(void)
{
    size_t len = 10 * C + 100;
    uint8_t *plain = make_plain(len);
    struct buf a = seal(plain, len), b = seal(plain, len);
    size_t hlen = HDR_FIXED + strlen(meta) + 16;
    CHECK_INT(a.len, hlen + 10 * REC + 116);
    for (size_t k = 0; k < sizeof(damages) / sizeof(damages[0]); k++) {
        const struct damage_case *dc = &damages[k];
        uint8_t *f = malloc(a.len);
        memcpy(f, a.p, a.len);
        size_t flen = a.len;
        const char *kdir = keys;
        switch (dc->d) {
        case D_MAGIC: f[3] ^= 1; break;
        case D_FILE_ID: f[30] ^= 0x80; break;
        case D_CHUNK_SIZE: f[21] ^= 0xff; break;
        case D_WRAPPED: f[100] ^= 4; break;
        case D_META: f[HDR_FIXED + 5] ^= 1; break;
        case D_CHUNK_BODY: f[hlen + 3 * REC + 77] ^= 0x10; break;
        case D_LAST_TAG: f[a.len - 1] ^= 1; break;
        case D_DROP_LAST: flen = hlen + 10 * REC; break;
        case D_CUT_IN_TAGLESS: flen = hlen + 5 * REC + 10; break;
        case D_CUT_IN_CHUNK: flen = hlen + 5 * REC + 100; break;
        case D_DROP_MIDDLE:
            memmove(f + hlen + 4 * REC, f + hlen + 5 * REC, a.len - (hlen + 5 * REC));
            flen -= REC;
            break;
        case D_SWAP:
            memcpy(f + hlen + 2 * REC, a.p + hlen + 3 * REC, REC);
            memcpy(f + hlen + 3 * REC, a.p + hlen + 2 * REC, REC);
            break;
        case D_SWAP_HEADERS: memcpy(f, b.p, hlen); break;
        case D_WRONG_KEY: kdir = other_keys; break;
        }
        enum vault_status st = VAULT_OK;
        char err[512] = "";
        struct vault_reader *r = open_mem(f, flen, kdir, 0, &st, err, sizeof(err));
        if (dc->at_open != VAULT_OK) {
            CHECK(r == NULL);
            CHECK_INT(st, dc->at_open);
        } else {
            CHECK(r != NULL);
            CHECK_INT(r ? vault_reader_check_all(r) : VAULT_OK, dc->at_check);
            snprintf(err, sizeof(err), "%s", r ? vault_reader_error(r) : "");
            /* The damaged chunk does not read either. */
            uint8_t tmp[C];
            CHECK_INT(r ? vault_read_range(r, 3 * C - 10, tmp, 20) : -1, -1);
        }
        if (!strstr(err, dc->error)) {
            fprintf(stderr, "%s: error \"%s\", want \"%s\"\n", dc->name, err, dc->error);
            CHECK(0);
        }
        vault_reader_close(r);
        /* Truncated files open with VAULT_OPEN_ALLOW_TRUNCATED up to the damage. */
        if (dc->d == D_DROP_LAST || dc->d == D_CUT_IN_TAGLESS) {
            r = open_mem(f, flen, kdir, VAULT_OPEN_ALLOW_TRUNCATED, &st, err, sizeof(err));
            CHECK(r != NULL);
            size_t want = dc->d == D_DROP_LAST ? 10 * C : 5 * C;
            CHECK_INT(r ? vault_reader_size(r) : 0, want);
            CHECK(r && vault_reader_truncated(r));
            CHECK_INT(r ? vault_reader_check_all(r) : 0, VAULT_E_TRUNCATED);
            uint8_t *back = malloc(want);
            CHECK_INT(r ? vault_read_range(r, 0, back, want) : 0, want);
            CHECK(memcmp(back, plain, want) == 0);
            free(back);
            vault_reader_close(r);
        }
        free(f);
    }
    free(a.p);
    free(b.p);
    free(plain);
}

static void test_rekey(void)
{
    size_t len = 3 * C + 5;
    uint8_t *plain = make_plain(len);
    struct buf a = seal(plain, len);
    char path[128], err[512], sha[65];
    uint64_t bytes = 0;
    snprintf(path, sizeof(path), "%s/rekeyed.gfv", tmpdir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(a.p, 1, a.len, f) == a.len);
    fclose(f);
    CHECK_INT(keys_generate_recording_pair(keys, 2, err, sizeof(err)), 0);
    CHECK_INT(vault_newest_key_id(keys), 2);
    struct vault_pubkey *pk = vault_load_newest_pubkey(tmpdir, err, sizeof(err));
    CHECK(pk && vault_pubkey_id(pk) == 2);
    CHECK_INT(vault_rekey_file(path, keys, pk, sha, &bytes, err, sizeof(err)), VAULT_OK);
    CHECK_INT(bytes, a.len);
    char key1[200];
    snprintf(key1, sizeof(key1), "%s/recording-0001.key", keys);
    CHECK_INT(unlink(key1), 0);
    enum vault_status st;
    struct vault_reader *r =
        vault_reader_open(open(path, O_RDONLY), keys, 0, &st, err, sizeof(err));
    CHECK(r != NULL);
    CHECK_INT(r ? vault_reader_key_id(r) : 0, 2);
    CHECK_INT(r ? vault_reader_check_all(r) : 99, VAULT_OK);
    uint8_t *back = malloc(len);
    CHECK_INT(r ? vault_read_range(r, 0, back, len) : 0, len);
    CHECK(memcmp(back, plain, len) == 0);
    vault_reader_close(r);
    /* A tampered file is not re-keyed (its damage would be laundered). */
    f = fopen(path, "r+b");
    fseek(f, (long)a.len - 40, SEEK_SET);
    fputc(0x55 ^ a.p[a.len - 40], f);
    fclose(f);
    CHECK_INT(vault_rekey_file(path, keys, pk, sha, &bytes, err, sizeof(err)), VAULT_E_TAMPERED);
    vault_pubkey_free(pk);
    free(back);
    free(a.p);
    free(plain);
}

static void test_bad_keys(void)
{
    char err[256];
    CHECK(vault_load_newest_pubkey("/nonexistent", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "no recording public key") != NULL);
    char path[200];
    snprintf(path, sizeof(path), "%s/signing.pub", keys);
    CHECK(vault_load_pubkey(path, 1, err, sizeof(err)) == NULL); /* Ed25519, not X25519 */
    /* Not a vault file at all. */
    enum vault_status st;
    const uint8_t ogg[] = "OggS\0\2 this is a plain Ogg file, not sealed at all";
    CHECK(open_mem(ogg, sizeof(ogg), keys, 0, &st, err, sizeof(err)) == NULL);
    CHECK_INT(st, VAULT_E_FORMAT);
}

int main(void)
{
    char err[256];
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_vault.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(keys, sizeof(keys), "%s/keys", tmpdir);
    snprintf(other_keys, sizeof(other_keys), "%s/other", tmpdir);
    snprintf(hidden, sizeof(hidden), "%s/hidden.key", tmpdir);
    mkdir(keys, 0700);
    mkdir(other_keys, 0700);
    CHECK_INT(keys_generate_recording_pair(keys, 1, err, sizeof(err)), 0);
    CHECK_INT(keys_generate_signing_pair(keys, err, sizeof(err)), 0);
    CHECK_INT(keys_generate_recording_pair(other_keys, 1, err, sizeof(err)), 0);

    test_round_trip();
    test_damage();
    test_rekey();
    test_bad_keys();

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT("test_vault");
}

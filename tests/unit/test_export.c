/*
 * test_export.c - the pieces of an evidence bundle that need no data directory: the
 * bundle's path rule, the store-only zip (written, read back, truncated, altered), the
 * manifest reader on a table of hostile manifests, the signalling pcap's headers and
 * checksums, and Ed25519 signing with a fresh key.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../src/export/export_int.h"
#include "testhelp.h"

static void test_names(void)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"manifest.json", true},
        {"call-12/recording.ogg", true},
        {"...", true},
        {"a_b-c.D9", true},
        {"", false},
        {"/etc", false},
        {"a/", false},
        {"a//b", false},
        {".", false},
        {"..", false},
        {"../a", false},
        {"a/..", false},
        {"a/./b", false},
        {"a/b/c", false},
        {"a b", false},
        {"a\\b", false},
        {"caf\xc3\xa9", false},
        {"a\nb", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = bundle_name_ok(cases[i].name, strlen(cases[i].name));
        if (got != cases[i].ok)
            fprintf(stderr, "name \"%s\"\n", cases[i].name);
        CHECK(got == cases[i].ok);
    }
    char long_name[BUNDLE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name));
    CHECK(bundle_name_ok(long_name, BUNDLE_NAME_MAX));
    CHECK(!bundle_name_ok(long_name, BUNDLE_NAME_MAX + 1));
}

static uint8_t *dup_bytes(const char *s, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, s, len);
    return p;
}

static void test_zip(void)
{
    char err[256];
    char *zip = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&zip, &len);
    struct bundle *b = bundle_open_stream(m, 0);
    static const char *const names[] = {"manifest.json", "call-1/empty", "call-1/data.bin"};
    static const char *const data[] = {"{}", "", "\0\1\2\3OggS"};
    static const size_t lens[] = {2, 0, 8};
    for (int i = 0; i < 3; i++)
        CHECK_INT(bundle_add(b, names[i], dup_bytes(data[i], lens[i]), lens[i], err, sizeof(err)),
                  0);
    CHECK_INT(bundle_add(b, "call-1/data.bin", dup_bytes("x", 1), 1, err, sizeof(err)), -1);
    CHECK_INT(bundle_add(b, "../escape", dup_bytes("x", 1), 1, err, sizeof(err)), -1);
    CHECK_STR(bundle_find(b, "manifest.json")->sha256,
              "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    CHECK_INT(bundle_finish(b, err, sizeof(err)), 0);
    bundle_close(b, true);
    fclose(m);

    struct zip_entry *e = NULL;
    size_t n = 0;
    CHECK_INT(zip_read_dir((uint8_t *)zip, len, &e, &n, err, sizeof(err)), 0);
    CHECK_INT(n, 3);
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK_STR(e[i].name, names[i]);
        CHECK_INT(e[i].size, lens[i]);
        CHECK(memcmp(zip + e[i].data_offset, data[i], lens[i]) == 0);
        CHECK_INT(e[i].crc32, zip_crc32((const uint8_t *)data[i], lens[i]));
    }
    free(e);
    CHECK_INT(zip_crc32((const uint8_t *)"123456789", 9), 0xcbf43926); /* the check value */

    /* Every truncation is refused (the end record is gone or points past the end). */
    int accepted = 0;
    for (size_t cut = 0; cut < len; cut++) {
        if (zip_read_dir((uint8_t *)zip, cut, &e, &n, err, sizeof(err)) == 0) {
            accepted++;
            free(e);
        }
    }
    CHECK_INT(accepted, 0);
    /* A compressed entry (method 8) is refused: verify reads stored bytes only. */
    uint8_t *alt = malloc(len);
    memcpy(alt, zip, len);
    alt[8] = 8;
    CHECK_INT(zip_read_dir(alt, len, &e, &n, err, sizeof(err)), -1);
    CHECK(strstr(err, "match") != NULL || strstr(err, "compressed") != NULL);
    /* A name climbing out ("../aaaaaaaaa", as long as "call-1/empty"), in both headers. */
    memcpy(alt, zip, len);
    for (size_t i = 0; i + 12 <= len; i++)
        if (memcmp(alt + i, "call-1/empty", 12) == 0)
            memcpy(alt + i, "../aaaaaaaaa", 12);
    CHECK_INT(zip_read_dir(alt, len, &e, &n, err, sizeof(err)), -1);
    CHECK(strstr(err, "unsafe") != NULL);
    free(alt);
    free(zip);

    /* A stream with a size limit refuses the file that would cross it. */
    zip = NULL;
    m = open_memstream(&zip, &len);
    b = bundle_open_stream(m, 100);
    CHECK_INT(bundle_add(b, "a", dup_bytes("0123456789", 10), 10, err, sizeof(err)), 0);
    CHECK_INT(bundle_add(b, "b", calloc(1, 200), 200, err, sizeof(err)), -1);
    CHECK(bundle_too_big(b));
    bundle_close(b, false);
    fclose(m);
    free(zip);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TOP                                                                                        \
    "{\"format\": \"greffier-evidence-bundle-1\", \"signing_key_sha256\": \"" HEX64 "\", "         \
    "\"timestamp_request\": {\"nonce\": \"80aabbccddeeff00\"}, \"sha256sums_sha256\": \"" HEX64    \
    "\", "

static void test_manifest(void)
{
    static const struct {
        const char *text;
        const char *err; /* NULL: accepted */
    } cases[] = {
        {TOP "\"files\": [{\"path\": \"a/b\", \"bytes\": 3, \"sha256\": \"" HEX64 "\"}]}", NULL},
        {TOP "\"files\": []}", NULL},
        {"[]", "not valid JSON"},
        {"{", "not valid JSON"},
        {"", "not valid JSON"},
        {"{\"format\": \"other\"}", "format"},
        {TOP "\"files\": {}}", "not an array"},
        {TOP "\"files\": [1]}", "not an object"},
        {TOP "\"files\": [{\"path\": \"../x\", \"bytes\": 1, \"sha256\": \"" HEX64 "\"}]}",
         "safe relative path"},
        {TOP "\"files\": [{\"path\": \"x\", \"bytes\": -1, \"sha256\": \"" HEX64 "\"}]}",
         "negative"},
        {TOP "\"files\": [{\"path\": \"x\", \"bytes\": \"1\", \"sha256\": \"" HEX64 "\"}]}",
         "not an object with"},
        {TOP "\"files\": [{\"path\": \"x\", \"bytes\": 1.5, \"sha256\": \"" HEX64 "\"}]}",
         "not an object with"},
        {TOP "\"files\": [{\"path\": \"x\", \"bytes\": 1, \"sha256\": \"ABC\"}]}", "sha256"},
        {TOP "\"files\": [{\"path\": \"x\", \"bytes\": 1, \"sha256\": \"" HEX64 "\"},"
             "{\"path\": \"x\", \"bytes\": 1, \"sha256\": \"" HEX64 "\"}]}",
         "listed twice"},
        {"{\"format\": \"greffier-evidence-bundle-1\", \"signing_key_sha256\": \"xyz\"}",
         "signing_key_sha256"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct manifest m;
        char err[256] = "";
        int rc = manifest_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &m, err,
                                sizeof(err));
        CHECK_INT(rc, cases[i].err ? -1 : 0);
        if (cases[i].err && !strstr(err, cases[i].err))
            fprintf(stderr, "case %zu: error \"%s\", want \"%s\"\n", i, err, cases[i].err);
        CHECK(!cases[i].err || strstr(err, cases[i].err));
        if (rc == 0)
            manifest_free(&m);
    }
    static const char with_nul[] = "{\"format\"\0: 1}";
    struct manifest m;
    char err[256];
    CHECK_INT(manifest_parse((const uint8_t *)with_nul, sizeof(with_nul) - 1, &m, err, sizeof(err)),
              -1);
}

static unsigned fold_sum(const uint8_t *p, size_t len)
{
    unsigned long acc = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += (unsigned)p[i] << 8 | p[i + 1];
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (unsigned)acc;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_signalling(void)
{
    sqlite3 *db;
    char err[256];
    CHECK_INT(sqlite3_open(":memory:", &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "CREATE TABLE sip_messages (call_ref, seq, ts_us, src_ip, src_port,"
                           " dst_ip, dst_port, transport, start_line, retransmission, raw);"
                           "INSERT INTO sip_messages VALUES (7, 0, 1700000000123456, '10.0.0.1',"
                           " 5060, '10.0.0.2', 5062, 'udp', 'OPTIONS sip:x SIP/2.0', 0,"
                           " CAST('OPTIONS sip:x SIP/2.0' || char(13, 10) AS BLOB));"
                           "INSERT INTO sip_messages VALUES (7, 1, 1700000001000000, '2001:db8::1',"
                           " 5061, '2001:db8::2', 5060, 'tcp', 'BYE', 0, CAST('BYE1' AS BLOB));"
                           "INSERT INTO sip_messages VALUES (7, 2, 1700000002000000, '2001:db8::1',"
                           " 5061, '2001:db8::2', 5060, 'tcp', 'BYE', 1, CAST('BYE2' AS BLOB));"
                           "INSERT INTO sip_messages VALUES (8, 0, 1, '10.9.9.9', 1, '10.9.9.8', 2,"
                           " 'udp', 'other call', 0, CAST('x' AS BLOB));",
                           NULL, NULL, NULL),
              SQLITE_OK);
    struct membuf pcap = {0}, ladder = {0};
    long count = 0;
    CHECK_INT(signalling_export(db, 7, &pcap, &ladder, &count, err, sizeof(err)), 0);
    CHECK_INT(count, 3);
    CHECK(pcap.len > 24);
    if (pcap.len > 24) {
        CHECK_INT(le32(pcap.p), 0xa1b2c3d4);
        CHECK_INT(le32(pcap.p + 20), 101); /* LINKTYPE_RAW */
        const uint8_t *r = pcap.p + 24;
        CHECK_INT(le32(r), 1700000000);
        CHECK_INT(le32(r + 4), 123456);
        const uint8_t *ip = r + 16;
        CHECK_INT(ip[0], 0x45);
        CHECK_INT(fold_sum(ip, 20), 0xffff); /* the IPv4 header checksum holds */
        CHECK_INT(ip[9], 17);
        CHECK_INT(ip[22] << 8 | ip[23], 5062); /* UDP destination port */
        CHECK(memcmp(ip + 28, "OPTIONS", 7) == 0);
        /* The TCP segments: IPv6, the second's sequence number follows the first's 4 bytes. */
        const uint8_t *r2 = r + 16 + le32(r + 8);
        const uint8_t *r3 = r2 + 16 + le32(r2 + 8);
        CHECK_INT(r2[16] >> 4, 6);
        CHECK_INT(r2[16 + 6], 6);
        const uint8_t *t2 = r2 + 16 + 40, *t3 = r3 + 16 + 40;
        uint32_t s2 = (uint32_t)t2[4] << 24 | t2[5] << 16 | t2[6] << 8 | t2[7];
        uint32_t s3 = (uint32_t)t3[4] << 24 | t3[5] << 16 | t3[6] << 8 | t3[7];
        CHECK_INT(s3 - s2, 4);
        CHECK_INT((size_t)(r3 + 16 + le32(r3 + 8) - pcap.p), pcap.len); /* nothing else */
    }
    membuf_append(&ladder, "", 1);
    CHECK(strstr((char *)ladder.p, "2023-11-14T22:13:20.123456Z") != NULL);
    CHECK(strstr((char *)ladder.p, "(retransmission)") != NULL);
    CHECK(strstr((char *)ladder.p, "other call") == NULL);
    membuf_free(&pcap);
    membuf_free(&ladder);
    sqlite3_close(db);
}

static void test_signing(void)
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    CHECK(ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1);
    EVP_PKEY_CTX_free(ctx);
    uint8_t sig[SIG_BYTES];
    static const uint8_t msg[] = "manifest";
    CHECK_INT(signing_sign(key, msg, sizeof(msg), sig), 0);
    size_t pem_len = 0;
    char *pem = signing_public_pem(key, &pem_len);
    EVP_PKEY *pub = signing_load_public_pem((uint8_t *)pem, pem_len);
    CHECK(pub != NULL);
    CHECK_INT(signing_verify(pub, msg, sizeof(msg), sig, sizeof(sig)), 1);
    sig[10] ^= 1;
    CHECK_INT(signing_verify(pub, msg, sizeof(msg), sig, sizeof(sig)), 0);
    char f1[SHA256_HEX + 1], f2[SHA256_HEX + 1];
    CHECK_INT(signing_fingerprint(key, f1), 0);
    CHECK_INT(signing_fingerprint(pub, f2), 0);
    CHECK_STR(f1, f2);
    CHECK(signing_load_public_pem((const uint8_t *)"-----BEGIN", 10) == NULL);
    free(pem);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
}

int main(void)
{
    test_names();
    test_zip();
    test_manifest();
    test_signalling();
    test_signing();
    return TEST_REPORT("test_export");
}

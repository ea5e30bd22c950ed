/*
 * test_audio_command.c - `greffier audio`, `greffier call` and `greffier streams` run as
 * a user runs them, on a data directory holding a real recording.
 *
 * The fixture writes a recording as the media stage does: an Ogg Opus stream from
 * ogg_opus_writer (440 Hz for the caller on channel 0, 1000 Hz for the callee on
 * channel 1) sealed by the vault with the data directory's recording public key under
 * DATA/recordings/, and the call with its media result in the index.  Then the binary
 * (GREFFIER_BIN, default build/asan/greffier; skipped when absent) exports it as .ogg
 * (byte for byte the Ogg stream before sealing) and .wav (libsndfile reads two channels at the
 * rate and length recorded, each party on its side), and refuses what it must: an
 * unknown call, a call without recording, a bad ID, a bad extension, an altered or
 * missing file.  recording_open_source's path checks are tested directly.
 */
#include <dirent.h>
#include <math.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greffier/index.h"
#include "greffier/keys.h"
#include "greffier/ogg_opus.h"
#include "greffier/recording_source.h"
#include "greffier/vault.h"
#include "jsoncheck.h"
#include "testhelp.h"

#define S 1000000LL
#define T0 (1714640400 * S) /* 2024-05-02T09:00:00Z */
#define RATE 8000
#define SECONDS 2

static char tmpdir[64], data[128], outdir[128];
static const char *bin;

/* ---- the fixture ---- */

static int sink_write(void *user, const uint8_t *p, size_t len)
{
    return fwrite(p, 1, len, user) == len ? 0 : -1;
}

/* The Ogg stream goes both to the plain copy (what `audio -o x.ogg` must give back)
 * and to the vault writer sealing the stored file. */
struct tee {
    FILE *plain;
    struct vault_writer *vw;
};

static int tee_write(void *user, const uint8_t *p, size_t len)
{
    struct tee *t = user;
    if (fwrite(p, 1, len, t->plain) != len)
        return -1;
    return vault_writer_write(t->vw, p, len);
}

/* Writes the sealed DATA/recordings/call-1.gfv and its plaintext to plain_path; returns
 * the samples per channel written. */
static uint64_t write_recording(const char *path, const char *plain_path)
{
    struct ogg_opus_settings set = {RATE, 12000, 20, 0, 1, {"ENCODER=test_audio_command", NULL}};
    char err[256];
    FILE *f = fopen(path, "wb");
    FILE *plain = fopen(plain_path, "wb");
    struct vault_pubkey *pk = vault_load_newest_pubkey(data, err, sizeof(err));
    CHECK(f != NULL && plain != NULL && pk != NULL);
    if (!f || !plain || !pk)
        return 0;
    struct byte_sink sealed = {sink_write, f};
    struct tee tee = {plain, vault_writer_new(&sealed, pk, "{}", 2, 0, err, sizeof(err))};
    CHECK(tee.vw != NULL);
    struct byte_sink sink = {tee_write, &tee};
    struct ogg_opus_writer *w = ogg_opus_writer_new(&set, &sink, err, sizeof(err));
    CHECK(w != NULL);
    if (!w) {
        fclose(f);
        return 0;
    }
    int16_t left[160], right[160];
    for (size_t chunk = 0; chunk < RATE * SECONDS / 160; chunk++) {
        for (size_t i = 0; i < 160; i++) {
            double t = (double)(chunk * 160 + i) / RATE;
            left[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 440 * t));
            right[i] = (int16_t)lrint(8000 * sin(2 * M_PI * 1000 * t));
        }
        CHECK_INT(ogg_opus_writer_push(w, left, right, 160), 0);
    }
    CHECK_INT(ogg_opus_writer_finish(w), 0);
    CHECK_INT(vault_writer_finish(tee.vw), 0);
    uint64_t samples = ogg_opus_writer_samples(w);
    ogg_opus_writer_free(w);
    vault_writer_free(tee.vw);
    vault_pubkey_free(pk);
    CHECK_INT(fclose(f), 0);
    CHECK_INT(fclose(plain), 0);
    return samples;
}

static int file_sha256(const char *path, char hex[65], uint64_t *bytes)
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[4096];
    unsigned int len = 0;
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    *bytes = 0;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
        *bytes += n;
    }
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static struct media_stream_result streams[2];
static struct media_event events[1];

/* Call 1: recorded (the file above); call 2: answered, no media.  Returns call 1's id. */
static int64_t make_index(const char *rec_rel, uint64_t samples, int64_t *no_media_id)
{
    char err[512], rec_abs[256];
    snprintf(rec_abs, sizeof(rec_abs), "%s/%s", data, rec_rel);
    struct index *ix = index_open(data, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix) {
        fprintf(stderr, "%s\n", err);
        return 0;
    }
    struct call c;
    memset(&c, 0, sizeof(c));
    c.call_id = "audio-1@test";
    c.start = T0;
    c.answer = T0 + 3 * S;
    c.end = T0 + 5 * S;
    c.status = CALL_ANSWERED;
    c.sip_code = 200;
    CHECK_INT(index_store_call(ix, &c), 1);

    struct call_media_result r;
    memset(&r, 0, sizeof(r));
    snprintf(r.media_state, sizeof(r.media_state), "recorded");
    r.rec.present = true;
    snprintf(r.rec.path, sizeof(r.rec.path), "%s", rec_rel);
    snprintf(r.rec.codec_in, sizeof(r.rec.codec_in), "PCMU");
    r.rec.sample_rate = RATE;
    r.rec.duration_s = (double)samples / RATE;
    CHECK_INT(file_sha256(rec_abs, r.rec.sha256, &r.rec.bytes), 0);
    r.rec.start = T0 + 3 * S;
    r.rec.answer_offset_ms = 0;
    snprintf(r.rec.state, sizeof(r.rec.state), "complete");
    for (int i = 0; i < 2; i++) {
        memset(&streams[i], 0, sizeof(streams[i]));
        streams[i].channel = i;
        streams[i].src = (struct ip_addr){4, {192, 0, 2, (uint8_t)(20 + i)}};
        streams[i].dst = (struct ip_addr){4, {192, 0, 2, (uint8_t)(21 - i)}};
        streams[i].sport = (uint16_t)(40000 + i * 2);
        streams[i].dport = (uint16_t)(40002 - i * 2);
        streams[i].ssrc = 1000 + (uint32_t)i;
        streams[i].packets = 100;
        streams[i].first = T0 + 3 * S;
        streams[i].last = T0 + 5 * S;
    }
    r.streams = streams;
    r.nstreams = 2;
    memset(events, 0, sizeof(events));
    events[0].ts = T0 + 4 * S;
    events[0].offset_ms = 1000;
    snprintf(events[0].kind, sizeof(events[0].kind), "dtmf");
    snprintf(events[0].detail, sizeof(events[0].detail), "7");
    events[0].channel = 0;
    r.events = events;
    r.nevents = 1;
    CHECK_INT(index_store_media(ix, c.id, &r), 0);
    int64_t id = c.id;

    c.call_id = "audio-2@test";
    c.start = T0 + 60 * S;
    CHECK_INT(index_store_call(ix, &c), 1);
    memset(&r, 0, sizeof(r));
    snprintf(r.media_state, sizeof(r.media_state), "no_media");
    CHECK_INT(index_store_media(ix, c.id, &r), 0);
    *no_media_id = c.id;

    struct media_stream_result u = streams[0];
    u.channel = -1;
    u.ssrc = 777;
    CHECK_INT(index_store_unmatched_stream(ix, &u), 0);
    index_close(ix);
    return id;
}

/* ---- running the binary ---- */

static char out_text[1 << 16], err_text[1 << 14];

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs greffier -d DATA ARGS (ARGS already shell-safe: the test's own words and paths);
 * returns its exit status, stdout and stderr in out_text and err_text. */
static int run(const char *args)
{
    char cmd[2048], o[160], e[160];
    snprintf(o, sizeof(o), "%s/stdout", tmpdir);
    snprintf(e, sizeof(e), "%s/stderr", tmpdir);
    snprintf(cmd, sizeof(cmd), "'%s' -d '%s' %s >'%s' 2>'%s'", bin, data, args, o, e);
    int st = system(cmd);
    slurp(o, out_text, sizeof(out_text));
    slurp(e, err_text, sizeof(err_text));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static bool same_file_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* No temporary file is left in the output directory. */
static int leftovers(void)
{
    int n = 0;
    DIR *d = opendir(outdir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp-") != NULL;
    if (d)
        closedir(d);
    return n;
}

/* Power of freq in channel ch of interleaved stereo (Goertzel), per sample squared. */
static double power(const short *x, size_t frames, int ch, double freq)
{
    double w = 2 * M_PI * freq / RATE, coeff = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < frames; i++) {
        double s0 = x[i * 2 + (size_t)ch] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / ((double)frames * frames);
}

/* ---- tests ---- */

static void test_export(int64_t id, const char *stored, uint64_t samples)
{
    char args[512], path[256];

    /* .ogg: the stored bytes. */
    snprintf(path, sizeof(path), "%s/x.ogg", outdir);
    snprintf(args, sizeof(args), "audio %lld -o '%s'", (long long)id, path);
    CHECK_INT(run(args), 0);
    CHECK(same_file_bytes(path, stored));
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    /* Options and operand in either order, and an existing file replaced. */
    snprintf(args, sizeof(args), "audio -o '%s' %lld", path, (long long)id);
    CHECK_INT(run(args), 0);
    CHECK(same_file_bytes(path, stored));

    /* .wav: two channels, the recorded rate and length, each party on its side. */
    snprintf(path, sizeof(path), "%s/x.WAV", outdir);
    snprintf(args, sizeof(args), "audio %lld -o '%s'", (long long)id, path);
    CHECK_INT(run(args), 0);
    SF_INFO info = {0};
    SNDFILE *snd = sf_open(path, SFM_READ, &info);
    CHECK(snd != NULL);
    if (snd) {
        CHECK_INT(info.channels, 2);
        CHECK_INT(info.samplerate, RATE);
        CHECK_INT(info.frames, (long long)samples);
        CHECK_INT(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
        short *pcm = calloc((size_t)info.frames * 2, sizeof(short));
        CHECK_INT(sf_readf_short(snd, pcm, info.frames), info.frames);
        size_t from = RATE / 2, n = RATE; /* the middle second */
        double l440 = power(pcm + from * 2, n, 0, 440), l1k = power(pcm + from * 2, n, 0, 1000);
        double r440 = power(pcm + from * 2, n, 1, 440), r1k = power(pcm + from * 2, n, 1, 1000);
        CHECK(l440 > 100 * l1k); /* caller's tone on the left only */
        CHECK(r1k > 100 * r440); /* callee's on the right only */
        free(pcm);
        sf_close(snd);
    }
    CHECK_INT(leftovers(), 0);
}

static void test_refusals(int64_t id, int64_t no_media_id)
{
    char args[512], path[256];
    snprintf(path, sizeof(path), "%s/r.ogg", outdir);

    snprintf(args, sizeof(args), "audio 999999 -o '%s'", path);
    CHECK_INT(run(args), 1);
    CHECK(strstr(err_text, "no call with id 999999") != NULL);

    snprintf(args, sizeof(args), "audio %lld -o '%s'", (long long)no_media_id, path);
    CHECK_INT(run(args), 1);
    CHECK(strstr(err_text, "no recording") && strstr(err_text, "no_media"));

    static const char *const bad_ids[] = {"3x", "12abc", "0",  "' 3'",
                                          "+3", "0x10",  "''", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        snprintf(args, sizeof(args), "audio %s -o '%s'", bad_ids[i], path);
        CHECK_INT(run(args), 2);
        CHECK(strstr(err_text, "not a call ID") != NULL);
    }
    CHECK_INT(run("audio -o x.ogg -- -3"), 2);

    static const char *const bad_outputs[] = {"x.mp3", "x", "x.ogg.txt", ".ogg", "dir/"};
    for (size_t i = 0; i < sizeof(bad_outputs) / sizeof(bad_outputs[0]); i++) {
        snprintf(args, sizeof(args), "audio %lld -o '%s/%s'", (long long)id, outdir,
                 bad_outputs[i]);
        CHECK_INT(run(args), 2);
    }
    snprintf(args, sizeof(args), "audio %lld", (long long)id);
    CHECK_INT(run(args), 2); /* no -o */
    CHECK(!exists(path));
}

static void test_call_and_streams(int64_t id)
{
    char args[64];
    snprintf(args, sizeof(args), "call %lld", (long long)id);
    CHECK_INT(run(args), 0);
    CHECK(json_valid(out_text));
    CHECK(strstr(out_text, "\"call_id\": \"audio-1@test\"") != NULL);
    CHECK(strstr(out_text, "\"streams\": [") != NULL);
    CHECK(strstr(out_text, "\"ssrc\": 1001,") != NULL);
    CHECK(strstr(out_text, "\"events\": [") != NULL);
    CHECK(strstr(out_text, "\"kind\": \"dtmf\"") != NULL);
    CHECK(strstr(out_text, "\"offset_s\": 1.000,") != NULL);
    CHECK(strstr(out_text, "\"state\": \"complete\"") != NULL);
    snprintf(args, sizeof(args), "call --json %lld", (long long)id);
    CHECK_INT(run(args), 0);
    CHECK(json_valid(out_text));
    CHECK_INT(run("call 999999"), 1);
    CHECK(strstr(err_text, "no call with id 999999") != NULL);
    CHECK_STR(out_text, "");
    CHECK_INT(run("call 1x"), 2);
    CHECK_INT(run("call"), 2);

    CHECK_INT(run("streams --unmatched"), 0);
    CHECK(json_valid(out_text));
    CHECK(strstr(out_text, "\"ssrc\": 777,") != NULL);
    CHECK(strstr(out_text, "\"ssrc\": 1000,") == NULL);
    CHECK_INT(run("streams --unmatched --json"), 0);
    CHECK_INT(run("streams extra"), 2);

    CHECK_INT(run("calls --json"), 0);
    CHECK(json_valid(out_text));
    CHECK(strstr(out_text, "\"recording\": {") && strstr(out_text, "\"recording\": null"));
}

static void flip_byte(const char *path, long at)
{
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (!f)
        return;
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
}

/* The stored name itself (.gfv) is not an output format. */
static int extension_refused(int64_t id, const char *stored)
{
    char args[512];
    snprintf(args, sizeof(args), "audio %lld -o '%s'", (long long)id, stored);
    return run(args);
}

static void test_altered(int64_t id, const char *stored)
{
    char args[512], path[256], copy[256];
    struct stat sb;
    CHECK_INT(stat(stored, &sb), 0);

    /* Exporting over the stored file itself (here through a link with an .ogg name: the
     * stored name ends in .gfv) is refused, and leaves it alone. */
    snprintf(path, sizeof(path), "%s/stored-link.ogg", tmpdir);
    CHECK_INT(symlink(stored, path), 0);
    snprintf(args, sizeof(args), "audio %lld -o '%s'", (long long)id, path);
    CHECK_INT(run(args), 2);
    CHECK(strstr(err_text, "stored recording itself") != NULL);
    CHECK_INT(unlink(path), 0);
    CHECK_INT(extension_refused(id, stored), 2);

    /* One bit changed in the middle: nothing written, in either format. */
    snprintf(copy, sizeof(copy), "%s/orig.ogg", tmpdir);
    snprintf(args, sizeof(args), "cp '%s' '%s'", stored, copy);
    CHECK_INT(system(args), 0);
    flip_byte(stored, (long)sb.st_size / 2);
    static const char *const names[] = {"altered.ogg", "altered.wav"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", outdir, names[i]);
        snprintf(args, sizeof(args), "audio %lld -o '%s'", (long long)id, path);
        CHECK_INT(run(args), 1);
        char want[96];
        snprintf(want, sizeof(want), "recording %lld is altered (chunk ", (long long)id);
        CHECK(strstr(err_text, want) != NULL);
        CHECK(!exists(path));
    }
    /* Truncated: refused too (the copy is intact again, then cut short). */
    snprintf(args, sizeof(args), "cp '%s' '%s'", copy, stored);
    CHECK_INT(system(args), 0);
    CHECK_INT(truncate(stored, sb.st_size - 10), 0);
    snprintf(args, sizeof(args), "audio %lld -o '%s/t.ogg'", (long long)id, outdir);
    CHECK_INT(run(args), 1);
    CHECK(strstr(err_text, "is truncated") != NULL);
    CHECK_INT(leftovers(), 0);

    /* Missing: the message names the file. */
    CHECK_INT(unlink(stored), 0);
    CHECK_INT(run(args), 1);
    CHECK(strstr(err_text, "recordings/call-1.gfv") != NULL);
    CHECK(strstr(err_text, "No such file") != NULL);

    /* Put back: exports again. */
    snprintf(args, sizeof(args), "cp '%s' '%s'", copy, stored);
    CHECK_INT(system(args), 0);
    snprintf(args, sizeof(args), "audio %lld -o '%s/back.ogg'", (long long)id, outdir);
    CHECK_INT(run(args), 0);
}

/* The path comes from the index: it may not leave the data directory. */
static void test_source_paths(const char *rec_rel)
{
    static const char *const bad[] = {"../escape.ogg",
                                      "/etc/passwd",
                                      "recordings/../../x",
                                      "recordings//call-1.ogg",
                                      "./recordings/call-1.ogg",
                                      "recordings/",
                                      ""};
    struct recording_info info;
    struct byte_source src;
    char err[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&info, 0, sizeof(info));
        info.call_rowid = 1;
        snprintf(info.path, sizeof(info.path), "%s", bad[i]);
        err[0] = '\0';
        CHECK(recording_open_source(data, &info, &src, err, sizeof(err)) == NULL);
        CHECK(strstr(err, "not inside the data directory") != NULL);
    }
    /* A symbolic link as the last component is not followed. */
    char link[256], target[256];
    snprintf(link, sizeof(link), "%s/recordings/link.ogg", data);
    snprintf(target, sizeof(target), "%s/%s", data, rec_rel);
    CHECK_INT(symlink(target, link), 0);
    snprintf(info.path, sizeof(info.path), "recordings/link.ogg");
    CHECK(recording_open_source(data, &info, &src, err, sizeof(err)) == NULL);

    /* The good path reads the file's bytes. */
    snprintf(info.path, sizeof(info.path), "%s", rec_rel);
    struct recording_source *rs = recording_open_source(data, &info, &src, err, sizeof(err));
    CHECK(rs != NULL);
    if (rs) {
        uint8_t head[4];
        CHECK_INT(src.read(src.user, head, 4), 4);
        CHECK(memcmp(head, "OggS", 4) == 0);
        recording_source_close(rs);
    }
    /* No checksum in the index: cannot be checked. */
    info.sha256[0] = '\0';
    CHECK_INT(recording_verify(data, &info, err, sizeof(err)), -1);
}

/* TEST_KEEP=1 leaves the data directory for a look. */
static void cleanup(void)
{
    char cmd[128];
    if (getenv("TEST_KEEP")) {
        fprintf(stderr, "kept %s\n", tmpdir);
        return;
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

int main(void)
{
    bin = getenv("GREFFIER_BIN");
    if (!bin || !*bin)
        bin = "build/asan/greffier";
    if (access(bin, X_OK) != 0 || strchr(bin, '\'')) {
        printf("test_audio_command: skipped, no greffier binary at %s (set GREFFIER_BIN)\n", bin);
        return TEST_REPORT("test_audio_command");
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/greffier-test-audio-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(data, sizeof(data), "%s/data", tmpdir);
    snprintf(outdir, sizeof(outdir), "%s/out", tmpdir);
    CHECK_INT(mkdir(data, 0700), 0);
    CHECK_INT(mkdir(outdir, 0700), 0);
    char recdir[160], stored[200], plain[200], err[256];
    snprintf(recdir, sizeof(recdir), "%s/recordings", data);
    CHECK_INT(mkdir(recdir, 0700), 0);
    snprintf(recdir, sizeof(recdir), "%s/keys", data);
    CHECK_INT(mkdir(recdir, 0700), 0);
    CHECK_INT(keys_generate_recording_pair(recdir, 1, err, sizeof(err)), 0);
    const char *rec_rel = "recordings/call-1.gfv";
    snprintf(stored, sizeof(stored), "%s/%s", data, rec_rel);
    snprintf(plain, sizeof(plain), "%s/plain.ogg", tmpdir);

    uint64_t samples = write_recording(stored, plain);
    CHECK_INT(samples, RATE * SECONDS);
    int64_t no_media_id = 0, id = make_index(rec_rel, samples, &no_media_id);
    CHECK(id > 0);
    if (id > 0) {
        test_export(id, plain, samples);
        test_refusals(id, no_media_id);
        test_call_and_streams(id);
        test_source_paths(rec_rel);
        test_altered(id, stored);
    }
    cleanup();
    return TEST_REPORT("test_audio_command");
}

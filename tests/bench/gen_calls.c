/*
 * gen_calls.c - writes a synthetic but realistic capture of SIP calls with their media
 * (G.711, G.722, G.729 or Opus), for greffier's benchmarks, demo and golden tests.
 *
 * What it models: the mirror port of a PBX LAN.  The PBX (10.0.0.1) places calls to
 * phones (10.1.x.y, internal calls) and to an operator trunk (192.0.2.1, outbound calls),
 * and the trunk delivers inbound calls to the PBX with the caller in P-Asserted-Identity
 * (RFC 3325).  Each call is one SIP dialog over UDP (RFC 3261: INVITE/100/180/200/ACK,
 * BYE/200 from a random side, CANCEL/487, 486, 403/404, a 401 digest challenge
 * (RFC 2617 / RFC 3261 §22), a hold re-INVITE (RFC 3264 §8.4 sendonly/recvonly)), its
 * SDP offer and answer (RFC 4566) and an RTP stream each way (RFC 3550 §5.1 header,
 * 20 ms packets) carrying a tone whose frequency differs per direction, encoded with
 * G.711 (RFC 3551 payload types 0/8, own code), G.722 (PT 9, spandsp), G.729 (PT 18,
 * bcg729) or Opus (PT 111, libopus, RFC 7587).  On request the caller keys DTMF as
 * RFC 4733 telephone events, and the media is SRTP (RFC 3711, libsrtp2) keyed by SDES
 * a=crypto lines (RFC 4568).
 *
 * Every event of every call is merged by time through a binary heap so the file is in
 * timestamp order.  All randomness comes from one splitmix64 generator seeded by --seed
 * and all times from --start, so the same arguments always give a byte-identical file.
 * A sidecar FILE.truth.json says what each call is (parties, outcome, times, tones,
 * packet counts) so tests can compare greffier's output with the truth.
 *
 * It is one self-contained file on purpose (the Makefile builds tests/bench/<name>.c
 * alone), linking libpcap, libm and the codec and crypto libraries greffier links.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bcg729/encoder.h>
#include <openssl/evp.h>
#include <opus.h>
#include <spandsp/telephony.h> /* needs <stdint.h> first */
#include <spandsp/g722.h>
#include <srtp2/srtp.h>

#define USEC 1000000LL
#define MSEC 1000LL
#define RTP_PTIME_US (20 * MSEC)
#define RTP_SAMPLES 160
#define MAX_SIP_EVENTS 32
#define WIDEBAND_CHECK_HZ 5000
#define SIP_PORT 5060

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
static const uint32_t PBX_IP = IP4(10, 0, 0, 1);
static const uint32_t TRUNK_IP = IP4(192, 0, 2, 1);

/* ------------------------------------------------------------------------------------ */
/* Deterministic randomness (splitmix64: tiny, fast, good enough for test data).        */

struct prng {
    uint64_t s;
};

static uint64_t prng_next(struct prng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi] (inclusive); the modulo bias is irrelevant for test data. */
static int64_t prng_range(struct prng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(prng_next(r) % (uint64_t)(hi - lo + 1));
}

/* A stable 64-bit value derived from a call's seed and a label, so that identifiers
 * (branches, tags) need no storage and a request and its responses agree. */
static uint64_t mix64(uint64_t seed, uint64_t label)
{
    struct prng r = {seed ^ (label * 0xd1b54a32d192ed03ULL)};
    prng_next(&r);
    return prng_next(&r);
}

/* ------------------------------------------------------------------------------------ */
/* G.711 (ITU-T G.711, the classic Sun reference formulation).                          */

static uint8_t linear_to_ulaw(int pcm)
{
    static const int seg_end[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
    int mask, seg;

    /* mu-law works on 14-bit samples with a bias of 33 (0x84 at 16-bit scale / 4). */
    pcm >>= 2;
    if (pcm < 0) {
        pcm = -pcm;
        mask = 0x7F;
    } else {
        mask = 0xFF;
    }
    if (pcm > 8159)
        pcm = 8159;
    pcm += 0x84 >> 2;
    for (seg = 0; seg < 8; seg++)
        if (pcm <= seg_end[seg])
            break;
    if (seg >= 8)
        return (uint8_t)(0x7F ^ mask);
    return (uint8_t)(((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask);
}

static uint8_t linear_to_alaw(int pcm)
{
    static const int seg_end[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
    int mask, seg, aval;

    /* A-law works on 13-bit samples; even bits are inverted (XOR 0x55) on the wire. */
    pcm >>= 3;
    if (pcm >= 0) {
        mask = 0xD5;
    } else {
        mask = 0x55;
        pcm = -pcm - 1;
    }
    for (seg = 0; seg < 8; seg++)
        if (pcm <= seg_end[seg])
            break;
    if (seg >= 8)
        return (uint8_t)(0x7F ^ mask);
    aval = seg << 4;
    if (seg < 2)
        aval |= (pcm >> 1) & 0xF;
    else
        aval |= (pcm >> seg) & 0xF;
    return (uint8_t)(aval ^ mask);
}

/* ------------------------------------------------------------------------------------ */
/* Codecs: what the SDP says, how the RTP clock runs, and an encoder for each.          */

enum { MAX_PAYLOAD = 200 }; /* bytes of one 20 ms packet: G.711 160, Opus at 24 kbit/s ~60 */

struct packet {
    uint16_t len;
    uint8_t data[MAX_PAYLOAD];
};

struct codec {
    const char *name;   /* --codec value, truth "codec" */
    int pt;             /* RTP payload type (RFC 3551 static, or dynamic for Opus) */
    const char *rtpmap; /* a=rtpmap encoding/clock[/channels] */
    const char *fmtp;   /* a=fmtp parameters, NULL when none */
    uint32_t ts_step;   /* RTP clock units per 20 ms packet */
    int pcm_rate;       /* rate of the tone fed to the encoder = the recording's rate */
    /* Encodes n packets of 20 ms from pcm (n * pcm_rate / 50 samples) with one fresh
     * encoder, so the packets continue each other as a real sender's would. */
    void (*encode)(const int16_t *pcm, struct packet *out, int n);
};

static void die_oom(void)
{
    fprintf(stderr, "gen_calls: out of memory\n");
    exit(1);
}

/* G.711 is stateless: one byte per sample (ITU-T G.711). */
static void encode_g711(const int16_t *pcm, struct packet *out, int n, bool ulaw)
{
    for (int k = 0; k < n; k++) {
        out[k].len = RTP_SAMPLES;
        for (int i = 0; i < RTP_SAMPLES; i++) {
            int s = pcm[k * RTP_SAMPLES + i];
            out[k].data[i] = ulaw ? linear_to_ulaw(s) : linear_to_alaw(s);
        }
    }
}

static void encode_pcmu(const int16_t *pcm, struct packet *out, int n)
{
    encode_g711(pcm, out, n, true);
}

static void encode_pcma(const int16_t *pcm, struct packet *out, int n)
{
    encode_g711(pcm, out, n, false);
}

/* G.722 at 64 kbit/s: 320 samples at 16 kHz give 160 bytes (spandsp, ITU-T G.722). */
static void encode_g722(const int16_t *pcm, struct packet *out, int n)
{
    g722_encode_state_t *st = g722_encode_init(NULL, 64000, 0);
    if (!st)
        die_oom();
    for (int k = 0; k < n; k++) {
        int len = g722_encode(st, out[k].data, pcm + k * 320, 320);
        if (len != 160) {
            fprintf(stderr, "gen_calls: g722_encode gave %d bytes\n", len);
            exit(1);
        }
        out[k].len = (uint16_t)len;
    }
    g722_encode_free(st);
}

/* G.729 without annex B (no VAD): two 10-byte frames per 20 ms (bcg729, RFC 3551 §4.5.6). */
static void encode_g729(const int16_t *pcm, struct packet *out, int n)
{
    bcg729EncoderChannelContextStruct *st = initBcg729EncoderChannel(0);
    if (!st)
        die_oom();
    for (int k = 0; k < n; k++) {
        out[k].len = 0;
        for (int f = 0; f < 2; f++) {
            uint8_t len = 0;
            bcg729Encoder(st, pcm + k * RTP_SAMPLES + f * 80, out[k].data + out[k].len, &len);
            if (len != 10) {
                fprintf(stderr, "gen_calls: bcg729Encoder gave %u bytes\n", len);
                exit(1);
            }
            out[k].len = (uint16_t)(out[k].len + len);
        }
    }
    closeBcg729EncoderChannel(st);
}

/* Opus (RFC 6716) from 16 kHz mono, 20 ms frames, wideband at 24 kbit/s; its RTP clock is
 * 48 kHz whatever the audio bandwidth (RFC 7587 §4.1). */
static void encode_opus(const int16_t *pcm, struct packet *out, int n)
{
    int err;
    OpusEncoder *st = opus_encoder_create(16000, 1, OPUS_APPLICATION_VOIP, &err);
    if (!st) {
        fprintf(stderr, "gen_calls: opus_encoder_create: %s\n", opus_strerror(err));
        exit(1);
    }
    opus_encoder_ctl(st, OPUS_SET_BITRATE(24000));
    opus_encoder_ctl(st, OPUS_SET_BANDWIDTH(OPUS_BANDWIDTH_WIDEBAND));
    opus_encoder_ctl(st, OPUS_SET_INBAND_FEC(1));
    for (int k = 0; k < n; k++) {
        opus_int32 len = opus_encode(st, pcm + k * 320, 320, out[k].data, MAX_PAYLOAD);
        if (len <= 0) {
            fprintf(stderr, "gen_calls: opus_encode: %s\n", opus_strerror(len));
            exit(1);
        }
        out[k].len = (uint16_t)len;
    }
    opus_encoder_destroy(st);
}

static const struct codec codecs[] = {
    {"pcmu", 0, "PCMU/8000", NULL, 160, 8000, encode_pcmu},
    {"pcma", 8, "PCMA/8000", NULL, 160, 8000, encode_pcma},
    {"g722", 9, "G722/8000", NULL, 160, 16000, encode_g722}, /* RFC 3551 §4.5.2's 8000 */
    {"g729", 18, "G729/8000", "annexb=no", 160, 8000, encode_g729},
    {"opus", 111, "opus/48000/2", "maxplaybackrate=16000; useinbandfec=1", 960, 16000, encode_opus},
};

static const struct codec *codec_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        if (strcmp(codecs[i].name, name) == 0)
            return &codecs[i];
    return NULL;
}

/* One second of encoded tone per frequency: 50 packets that a stream plays cyclically.
 * An integer-Hz tone repeats exactly every second, so packet 49 flows into packet 0; the
 * encoder is run over one second first so that packet 0 is coded from the state a
 * sender would have there, not from a reset one.  Encoding sample by sample for two
 * million packets would dominate the run; this is done once per frequency. */
enum { CACHE_PACKETS = 50, MARK_PACKETS = 3 };

struct tone {
    int hz;
    struct packet pkt[CACHE_PACKETS];
};

struct tone_cache {
    const struct codec *codec;
    struct packet silence[MARK_PACKETS]; /* the alignment mark: 60 ms of digital silence */
    struct tone **t;                     /* each tone allocated alone: streams point to them */
    size_t n, cap;
};

static void tone_cache_init(struct tone_cache *c, const struct codec *codec)
{
    memset(c, 0, sizeof(*c));
    c->codec = codec;
    int16_t zeros[MARK_PACKETS * 320] = {0};
    codec->encode(zeros, c->silence, MARK_PACKETS);
}

static const struct tone *tone_get(struct tone_cache *c, int hz)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i]->hz == hz)
            return c->t[i];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct tone **t = realloc(c->t, cap * sizeof(*t));
        if (!t)
            die_oom();
        c->t = t;
        c->cap = cap;
    }
    struct tone *t = malloc(sizeof(*t));
    int rate = c->codec->pcm_rate;
    int16_t *pcm = malloc(2 * (size_t)rate * sizeof(*pcm));
    struct packet *pkt = malloc(2 * CACHE_PACKETS * sizeof(*pkt));
    if (!t || !pcm || !pkt)
        die_oom();
    c->t[c->n++] = t;
    t->hz = hz;
    for (int i = 0; i < 2 * rate; i++)
        pcm[i] = (int16_t)lrint(8000.0 * sin(2.0 * M_PI * hz * (double)(i % rate) / rate));
    c->codec->encode(pcm, pkt, 2 * CACHE_PACKETS);
    memcpy(t->pkt, pkt + CACHE_PACKETS, sizeof(t->pkt));
    free(pkt);
    free(pcm);
    return t;
}

/* DTMF as RFC 4733 telephone events: each digit lasts DTMF_UPDATES packets of 20 ms and is
 * followed by a gap of as long; its end packet is repeated twice in the gap. */
enum {
    DTMF_PT = 101,
    DTMF_UPDATES = 5,     /* 100 ms of key press */
    DTMF_PACKETS = 7,     /* the updates, then two repeats of the end packet */
    DTMF_SLOT = 10,       /* ticks from one digit to the next: 100 ms press, 100 ms gap */
    DTMF_DELAY_MS = 3000, /* first digit after the answer, after the alignment mark */
    MAX_DTMF = 64,
};

/* RFC 4733 §3.2: events 0-9, *, #, A-D are 0-15. */
static uint8_t dtmf_event_code(char d)
{
    static const char order[] = "0123456789*#ABCD";
    const char *at = strchr(order, d);
    return (uint8_t)(at && d ? at - order : 0);
}

static void tone_cache_free(struct tone_cache *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->t[i]);
    free(c->t);
}

/* ------------------------------------------------------------------------------------ */
/* The calls.                                                                           */

enum call_type { T_INTERNAL, T_OUTBOUND, T_INBOUND };
static const char *const type_name[] = {"internal", "outbound", "inbound"};

enum outcome {
    O_ANSWERED,
    O_HOLD,      /* answered, put on hold and resumed by re-INVITEs */
    O_AUTH,      /* 401 challenge, INVITE again with credentials, answered */
    O_CANCELLED, /* CANCEL while ringing: 200 (CANCEL), 487, ACK */
    O_BUSY,      /* 486 */
    O_NOTFOUND,  /* 404 */
    O_FORBIDDEN, /* 403 */
};

enum method { M_INVITE, M_ACK, M_BYE, M_CANCEL, M_INFO };
static const char *const method_name[] = {"INVITE", "ACK", "BYE", "CANCEL", "INFO"};

enum sdp_mode { SDP_NONE, SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY };
static const char *const sdp_mode_name[] = {"", "sendrecv", "sendonly", "recvonly"};

/* One SIP message of a call.  Requests and their responses share a branch label. */
struct sip_event {
    int64_t t;      /* microseconds from --start */
    uint8_t method; /* enum method (of the request, or of the CSeq of a response) */
    uint8_t sdp;    /* enum sdp_mode */
    bool by_caller; /* the request was sent by the caller's side */
    bool auth;      /* carries Authorization (the INVITE after a 401) */
    uint8_t to_tag; /* 0: none, 1: the dialog's, 2: the one of the 401 */
    uint8_t sdp_version;
    uint16_t code; /* 0 for a request */
    uint32_t cseq;
    uint32_t branch; /* label of the transaction */
    bool in_dialog;  /* request-URI is the peer's Contact rather than the AoR */
    char dtmf;       /* INFO: the key its application/dtmf-relay body carries */
};

struct endpoint {
    uint32_t sig_ip, media_ip;
    uint16_t media_port;
    char number[24];
    char name[48];     /* display name, empty when none */
    uint32_t domain;   /* host part of the address-of-record */
    const char *agent; /* User-Agent / Server */
    bool pai;          /* sends P-Asserted-Identity */
};

struct rtp_stream {
    int64_t start, stop;         /* first tick time, no tick at or after stop */
    int64_t gap_start, gap_stop; /* ticks in [gap_start, gap_stop) are not sent (hold) */
    int64_t marker_at;           /* nominal time of the 3 silent packets (alignment mark) */
    int64_t mark0, mark_every;   /* time of mark 0 and between marks (0: only mark 0) */
    int32_t ppm;                 /* the sender's clock is this far off the capture's */
    uint64_t mark_tick;          /* first tick of mark next_mark, NO_MARK when no more */
    uint64_t next_mark;
    uint64_t tick;               /* next tick number */
    uint32_t ssrc, ts0;
    uint16_t seq;
    bool marker;
    int hz;
    uint64_t sent;
    struct prng jitter;
    const struct tone *tone;
    const struct packet *silence; /* MARK_PACKETS of them */
    const char *dtmf;             /* digits sent as telephone events, ndtmf of them */
    size_t ndtmf;
    uint64_t dtmf_tick; /* tick of the first digit's first event packet */
    srtp_t srtp;        /* while the stream runs, with --srtp */
};

struct call {
    uint32_t index;
    uint64_t seed;
    enum call_type type;
    enum outcome outcome;
    const struct codec *codec;
    char call_id[48];
    struct endpoint caller, callee;
    uint64_t sess_caller, sess_callee; /* SDP o= session ids */
    struct sip_event ev[MAX_SIP_EVENTS];
    unsigned nev, next_ev;
    struct rtp_stream rtp[2];         /* 0: caller to callee, 1: callee to caller */
    int64_t t_start, t_answer, t_end; /* -1 when none */
    int sip_code;
    const char *status;
    bool bye_by_caller;
    bool srtp; /* RTP/SAVP with SDES keys (RFC 4568) */
};

struct options {
    unsigned long calls;
    double duration;
    unsigned long concurrency; /* 0: default (all calls) */
    const struct codec *codec;
    uint64_t seed;
    int64_t start;
    int scenario; /* -1 default, 0 mix, 1 answered */
    bool srtp;
    const char *dtmf; /* digits every answered caller sends, "" for none */
    /* --dtmf-call N:SIDE:DIGITS[:SECONDS]: one call's keys on one side, at a given delay
     * after the answer (on-demand codes from the agent's or the outside party's side). */
    struct dtmf_call {
        unsigned long call;
        int side; /* 0 caller, 1 callee */
        char digits[MAX_DTMF + 1];
        int64_t delay_ms;
        bool info; /* sent as SIP INFO (application/dtmf-relay) rather than RFC 4733 */
    } dtmf_calls[16];
    size_t ndtmf_calls;
    int32_t drift_ppm; /* the callee's sender clock against the capture's */
    int64_t marks_every; /* microseconds between alignment marks, 0: only the first */
    const char *out;
};

/* ------------------------------------------------------------------------------------ */
/* RTP ticks: when each 20 ms packet goes out, and which carry an alignment mark.       */

#define NO_MARK UINT64_MAX

/* Capture time of a stream's tick before jitter.  A sender whose clock runs ppm fast
 * sends each packet ppm later by the capture's clock while its RTP timestamps still step
 * by one packet: what a test of clock drift correction needs.  Integer arithmetic keeps
 * a drift-free stream's times exactly start + tick * 20 ms. */
static int64_t tick_time(const struct rtp_stream *s, uint64_t tick)
{
    return s->start + (int64_t)tick * RTP_PTIME_US * (1000000 + s->ppm) / 1000000;
}

/* First tick of alignment mark j (mark 0 two seconds after the answer, then one every
 * mark_every): the first tick sent at or after the mark's time that is not in a hold gap.
 * Marks after the first must fit before the stream stops; NO_MARK when there is none. */
static uint64_t mark_tick(const struct rtp_stream *s, uint64_t j)
{
    if (j > 0 && s->mark_every == 0)
        return NO_MARK;
    int64_t at = s->mark0 + (int64_t)j * s->mark_every;
    uint64_t k = 0;
    if (at > s->start) {
        int64_t period = RTP_PTIME_US * (1000000 + s->ppm);
        k = (uint64_t)(((at - s->start) * 1000000 + period - 1) / period);
        /* The division above may round one tick off the one tick_time() truncates. */
        while (tick_time(s, k) < at)
            k++;
        while (k > 0 && tick_time(s, k - 1) >= at)
            k--;
    }
    while (tick_time(s, k) >= s->gap_start && tick_time(s, k) < s->gap_stop)
        k++;
    if (j > 0 && tick_time(s, k + MARK_PACKETS - 1) >= s->stop)
        return NO_MARK;
    return k;
}

static const char *const first_names[] = {
    "Alice",   "Bruno",  "Camille", "David",  "Elodie", "Francois", "Gaelle", "Hugo",
    "Ines",    "Julien", "Karine",  "Louis",  "Manon",  "Nicolas",  "Oceane", "Pierre",
    "Quentin", "Rose",   "Sophie",  "Thomas", "Ursula", "Victor",   "Wendy",  "Yann",
};
static const char *const last_names[] = {
    "Martin", "Bernard", "Dubois", "Thomas",  "Robert",   "Richard", "Petit",  "Durand",
    "Leroy",  "Moreau",  "Simon",  "Laurent", "Lefebvre", "Michel",  "Garcia", "David",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void random_name(struct prng *r, char *out, size_t size)
{
    snprintf(out, size, "%s %s", first_names[prng_next(r) % NELEM(first_names)],
             last_names[prng_next(r) % NELEM(last_names)]);
}

/* Internal extensions 2000-2999, each phone at a fixed private address. */
static void extension(struct prng *r, struct endpoint *e)
{
    unsigned ext = (unsigned)prng_range(r, 0, 999);
    snprintf(e->number, sizeof(e->number), "%u", 2000 + ext);
    e->sig_ip = IP4(10, 1, ext / 250, ext % 250 + 1);
    random_name(r, e->name, sizeof(e->name));
}

/* A French mobile number: dialled nationally (06/07...) or presented as +33. */
static void mobile(struct prng *r, char *out, size_t size, bool international)
{
    unsigned d = (unsigned)prng_range(r, 6, 7);
    unsigned rest = (unsigned)prng_range(r, 0, 99999999);
    if (international)
        snprintf(out, size, "+33%u%08u", d, rest);
    else
        snprintf(out, size, "0%u%08u", d, rest);
}

static void add_ev(struct call *c, struct sip_event ev)
{
    if (c->nev >= MAX_SIP_EVENTS) {
        fprintf(stderr, "gen_calls: internal error: too many SIP events\n");
        exit(1);
    }
    c->ev[c->nev++] = ev;
}

/* Stable insertion sort by time: events added out of order (INFO keys among a hold's
 * re-INVITEs) go where they belong; an ordered list is left as it is. */
static void sort_events(struct call *c)
{
    for (unsigned i = 1; i < c->nev; i++) {
        struct sip_event e = c->ev[i];
        unsigned j = i;
        for (; j > 0 && c->ev[j - 1].t > e.t; j--)
            c->ev[j] = c->ev[j - 1];
        c->ev[j] = e;
    }
}

static struct sip_event req(int64_t t, enum method m, bool by_caller, uint32_t cseq,
                            uint32_t branch)
{
    return (struct sip_event){
        .t = t, .method = (uint8_t)m, .by_caller = by_caller, .cseq = cseq, .branch = branch};
}

static struct sip_event resp(const struct sip_event *rq, int64_t t, uint16_t code, uint8_t tag)
{
    struct sip_event e = *rq;
    e.t = t;
    e.code = code;
    e.to_tag = tag;
    e.sdp = SDP_NONE;
    e.auth = false;
    return e;
}

/* Plans one call: parties, addresses, every SIP message with its time, RTP windows. */
static void plan_call(struct call *c, struct prng *r, uint32_t index, int64_t t0,
                      const struct options *o, enum outcome outcome)
{
    const struct codec *codec = o->codec;
    memset(c, 0, sizeof(*c));
    c->index = index;
    c->seed = prng_next(r);
    c->outcome = outcome;
    c->codec = codec;
    c->t_answer = -1;
    c->t_end = -1;

    unsigned roll = (unsigned)prng_range(r, 0, 99);
    c->type = roll < 40 ? T_OUTBOUND : roll < 75 ? T_INBOUND : T_INTERNAL;
    if (outcome == O_AUTH || outcome == O_NOTFOUND)
        c->type = T_OUTBOUND; /* the operator challenges and knows which numbers exist */

    /* RTP ports: even, distinct per call on each host (RFC 3550 §11). */
    struct endpoint *a = &c->caller, *b = &c->callee;
    uint16_t pbx_port = (uint16_t)(10000 + 2 * (index % 25000));
    uint16_t trunk_port = (uint16_t)(20000 + 2 * (index % 20000));
    switch (c->type) {
    case T_INTERNAL: /* the PBX delivers the call to the called phone */
        extension(r, a);
        do
            extension(r, b);
        while (strcmp(a->number, b->number) == 0);
        a->sig_ip = PBX_IP;
        a->domain = PBX_IP;
        a->agent = "GenPBX/4.2";
        a->media_port = pbx_port;
        b->domain = PBX_IP;
        b->agent = "GenPhone/1.8";
        b->media_port = (uint16_t)(16384 + 2 * (index % 8000));
        break;
    case T_OUTBOUND:
        extension(r, a);
        a->sig_ip = PBX_IP;
        a->domain = PBX_IP;
        a->agent = "GenPBX/4.2";
        a->media_port = pbx_port;
        mobile(r, b->number, sizeof(b->number), false);
        b->sig_ip = TRUNK_IP;
        b->domain = TRUNK_IP;
        b->agent = "GenTrunk/2.0";
        b->media_port = trunk_port;
        break;
    case T_INBOUND:
        mobile(r, a->number, sizeof(a->number), true);
        random_name(r, a->name, sizeof(a->name));
        a->sig_ip = TRUNK_IP;
        a->domain = TRUNK_IP;
        a->agent = "GenTrunk/2.0";
        a->pai = true;
        a->media_port = trunk_port;
        extension(r, b);
        b->sig_ip = PBX_IP;
        b->domain = PBX_IP;
        b->agent = "GenPBX/4.2";
        b->media_port = pbx_port;
        break;
    }
    a->media_ip = a->sig_ip;
    b->media_ip = b->sig_ip;

    snprintf(c->call_id, sizeof(c->call_id), "%016" PRIx64 "%04" PRIx32 "@%u.%u.%u.%u",
             prng_next(r), index & 0xffff, a->sig_ip >> 24, (a->sig_ip >> 16) & 255,
             (a->sig_ip >> 8) & 255, a->sig_ip & 255);
    c->sess_caller = prng_range(r, 100000, 999999999);
    c->sess_callee = prng_range(r, 100000, 999999999);

    /* The SIP exchange, in time order (RFC 3261 §13, §15, §9; RFC 3665 flows). */
    int64_t t = t0;
    uint32_t cseq = (uint32_t)prng_range(r, 1, 200), br = 0;
    c->t_start = t;
    struct sip_event inv = req(t, M_INVITE, true, cseq, br);
    inv.sdp = SDP_SENDRECV;
    inv.sdp_version = 1;
    add_ev(c, inv);
    if (outcome == O_AUTH) {
        t += prng_range(r, 2, 15) * MSEC;
        add_ev(c, resp(&inv, t, 401, 2));
        struct sip_event ack = req(t + prng_range(r, 1, 5) * MSEC, M_ACK, true, cseq, br);
        ack.to_tag = 2;
        add_ev(c, ack);
        t = ack.t + prng_range(r, 5, 30) * MSEC;
        inv = req(t, M_INVITE, true, ++cseq, ++br);
        inv.sdp = SDP_SENDRECV;
        inv.sdp_version = 1;
        inv.auth = true;
        add_ev(c, inv);
    }
    t += prng_range(r, 1, 20) * MSEC;
    add_ev(c, resp(&inv, t, 100, 0));
    if (outcome == O_NOTFOUND || outcome == O_FORBIDDEN) {
        t += prng_range(r, 20, 300) * MSEC;
        c->sip_code = outcome == O_NOTFOUND ? 404 : 403;
        c->status = "rejected";
        add_ev(c, resp(&inv, t, (uint16_t)c->sip_code, 1));
        c->t_end = t;
        struct sip_event ack = req(t + prng_range(r, 1, 5) * MSEC, M_ACK, true, cseq, br);
        ack.to_tag = 1;
        add_ev(c, ack);
        return;
    }
    t += prng_range(r, 20, 200) * MSEC;
    add_ev(c, resp(&inv, t, 180, 1));
    if (outcome == O_BUSY) {
        t += prng_range(r, 100, 1500) * MSEC;
        c->sip_code = 486;
        c->status = "busy";
        add_ev(c, resp(&inv, t, 486, 1));
        c->t_end = t;
        struct sip_event ack = req(t + prng_range(r, 1, 5) * MSEC, M_ACK, true, cseq, br);
        ack.to_tag = 1;
        add_ev(c, ack);
        return;
    }
    if (outcome == O_CANCELLED) {
        /* RFC 3261 §9.1: CANCEL reuses the INVITE's branch and CSeq number. */
        t += prng_range(r, 3000, 8000) * MSEC;
        struct sip_event cancel = req(t, M_CANCEL, true, cseq, br);
        add_ev(c, cancel);
        t += prng_range(r, 2, 20) * MSEC;
        add_ev(c, resp(&cancel, t, 200, 1));
        t += prng_range(r, 1, 10) * MSEC;
        add_ev(c, resp(&inv, t, 487, 1));
        c->sip_code = 487;
        c->status = "cancelled";
        c->t_end = t;
        struct sip_event ack = req(t + prng_range(r, 1, 5) * MSEC, M_ACK, true, cseq, br);
        ack.to_tag = 1;
        add_ev(c, ack);
        return;
    }

    t += prng_range(r, 500, 4000) * MSEC;
    struct sip_event ok = resp(&inv, t, 200, 1);
    ok.sdp = SDP_SENDRECV;
    ok.sdp_version = 1;
    add_ev(c, ok);
    c->t_answer = t;
    c->sip_code = 200;
    c->status = "answered";
    int64_t t_ok = t;
    t += prng_range(r, 5, 40) * MSEC;
    struct sip_event ack = req(t, M_ACK, true, cseq, ++br);
    ack.to_tag = 1;
    ack.in_dialog = true;
    add_ev(c, ack);
    int64_t t_ack = t;

    int64_t talk = (int64_t)(o->duration * USEC);
    talk += prng_range(r, -talk / 10, talk / 10);
    if (talk < USEC)
        talk = USEC;
    int64_t t_bye = t_ok + talk;
    int64_t gap_start = 0, gap_stop = 0;
    if (outcome == O_HOLD) {
        /* Hold for the middle half: the caller offers sendonly, the callee answers
         * recvonly and falls silent; a second re-INVITE resumes (RFC 3264 §8.4). */
        unsigned version = 1;
        int64_t th = t_ok + talk / 4, tr = t_ok + talk * 3 / 4;
        for (int k = 0; k < 2; k++) {
            int64_t tt = k == 0 ? th : tr;
            version++;
            struct sip_event re = req(tt, M_INVITE, true, ++cseq, ++br);
            re.to_tag = 1;
            re.in_dialog = true;
            re.sdp = k == 0 ? SDP_SENDONLY : SDP_SENDRECV;
            re.sdp_version = (uint8_t)version;
            add_ev(c, re);
            struct sip_event ok2 = resp(&re, tt + prng_range(r, 5, 30) * MSEC, 200, 1);
            ok2.sdp = k == 0 ? SDP_RECVONLY : SDP_SENDRECV;
            ok2.sdp_version = (uint8_t)version;
            add_ev(c, ok2);
            struct sip_event ack2 =
                req(ok2.t + prng_range(r, 2, 20) * MSEC, M_ACK, true, cseq, ++br);
            ack2.to_tag = 1;
            ack2.in_dialog = true;
            add_ev(c, ack2);
            if (k == 0)
                gap_start = ok2.t;
            else
                gap_stop = ok2.t;
        }
    }
    /* --dtmf-call ...:info: one INFO per key, 200 ms apart, each answered by a 200; no
     * random draw, so that every other call stays byte for byte what it was. */
    uint32_t callee_cseq = 1000;
    bool infos = false;
    for (size_t k = 0; k < o->ndtmf_calls; k++) {
        const struct dtmf_call *dc = &o->dtmf_calls[k];
        if (dc->call != index || !dc->info)
            continue;
        for (size_t j = 0; dc->digits[j]; j++) {
            int64_t ti = t_ok + (dc->delay_ms + (int64_t)j * 200) * MSEC;
            if (ti + 20 * MSEC >= t_bye)
                break;
            struct sip_event info = req(ti, M_INFO, dc->side == 0,
                                        dc->side == 0 ? ++cseq : ++callee_cseq, ++br);
            info.to_tag = 1;
            info.in_dialog = true;
            info.dtmf = dc->digits[j];
            add_ev(c, info);
            add_ev(c, resp(&info, ti + 20 * MSEC, 200, 1));
            infos = true;
        }
    }
    if (infos)
        sort_events(c);
    c->bye_by_caller = prng_next(r) & 1;
    uint32_t bye_cseq = c->bye_by_caller ? ++cseq : (uint32_t)prng_range(r, 1, 5000);
    struct sip_event bye = req(t_bye, M_BYE, c->bye_by_caller, bye_cseq, ++br);
    bye.to_tag = 1;
    bye.in_dialog = true;
    add_ev(c, bye);
    add_ev(c, resp(&bye, t_bye + prng_range(r, 3, 40) * MSEC, 200, 1));
    c->t_end = t_bye;

    /* Media: the callee sends once it has answered, the caller once it has acked. */
    for (int d = 0; d < 2; d++) {
        struct rtp_stream *s = &c->rtp[d];
        s->start = (d == 0 ? t_ack : t_ok) + prng_range(r, 1, 15) * MSEC;
        s->stop = t_bye;
        if (d == 1) {
            s->gap_start = gap_start;
            s->gap_stop = gap_stop;
        }
        s->ssrc = (uint32_t)prng_next(r);
        s->ts0 = (uint32_t)prng_next(r);
        s->seq = (uint16_t)prng_next(r);
        s->marker = true;
        s->hz = d == 0 ? (int)prng_range(r, 15, 35) * 20 : (int)prng_range(r, 18, 30) * 50;
        s->ppm = d == 1 ? o->drift_ppm : 0;
        /* The alignment mark: 60 ms of digital silence in the tone, in both directions,
         * from the first packet two seconds after the answer that is not in a hold gap,
         * and with --marks-every one more every so many seconds.  A test finds them in
         * the recording and checks they line up with capture time. */
        s->mark0 = t_ok + 2000 * MSEC;
        s->mark_every = o->marks_every;
        s->mark_tick = mark_tick(s, 0);
        s->marker_at = tick_time(s, s->mark_tick);
        s->jitter.s = prng_next(r);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Packets: Ethernet II, IPv4 (RFC 791), UDP (RFC 768) with real checksums.             */

struct writer {
    pcap_dumper_t *dump;
    int64_t epoch_us;
    uint16_t ip_id;
    uint64_t packets, bytes, sip, rtp;
    uint8_t buf[8192];
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Locally administered MAC derived from the IPv4 address. */
static void mac_of(uint8_t *p, uint32_t ip)
{
    p[0] = 0x02;
    p[1] = 0x00;
    put32(p + 2, ip);
}

/* Frames the payload already placed at w->buf + 42 and dumps it at time t. */
static void emit_udp(struct writer *w, int64_t t, uint32_t src, uint16_t sport, uint32_t dst,
                     uint16_t dport, size_t len, uint8_t tos)
{
    uint8_t *p = w->buf;
    mac_of(p, dst);
    mac_of(p + 6, src);
    put16(p + 12, 0x0800);
    uint8_t *ip = p + 14;
    ip[0] = 0x45;
    ip[1] = tos;
    put16(ip + 2, (uint16_t)(20 + 8 + len));
    put16(ip + 4, w->ip_id++);
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 17;
    put16(ip + 10, 0);
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    uint8_t *udp = ip + 20;
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (uint16_t)(8 + len));
    put16(udp + 6, 0);
    uint32_t sum = sum16(ip + 12, 8, 0) + 17 + (uint32_t)(8 + len);
    uint16_t ck = fold(sum16(udp, 8 + len, sum));
    put16(udp + 6, ck ? ck : 0xffff);

    struct pcap_pkthdr h;
    int64_t abs_us = w->epoch_us + t;
    h.ts.tv_sec = (time_t)(abs_us / USEC);
    h.ts.tv_usec = (suseconds_t)(abs_us % USEC);
    h.caplen = h.len = (uint32_t)(42 + len);
    pcap_dump((u_char *)w->dump, &h, w->buf);
    w->packets++;
    w->bytes += h.caplen;
}

/* ------------------------------------------------------------------------------------ */
/* SRTP (RFC 3711) keyed by SDES (RFC 4568): each party sends with the key of its own SDP. */

enum { SRTP_KEY_SALT = 30 }; /* AES_CM_128_HMAC_SHA1_80: 16-byte key, 14-byte salt */

/* The key is derived from the call's seed, so it needs no storage and plain captures
 * draw nothing more from the generator. */
static void srtp_key(const struct call *c, int side, uint8_t out[SRTP_KEY_SALT])
{
    for (int i = 0; i < SRTP_KEY_SALT; i += 8) {
        uint64_t v = mix64(c->seed, 300 + (uint64_t)side * 8 + (uint64_t)i / 8);
        for (int b = 0; b < 8 && i + b < SRTP_KEY_SALT; b++)
            out[i + b] = (uint8_t)(v >> (8 * b));
    }
}

struct key_text {
    char s[44]; /* base64 of 30 bytes: 40 characters */
};

static struct key_text srtp_key_text(const struct call *c, int side)
{
    uint8_t key[SRTP_KEY_SALT];
    struct key_text r;
    srtp_key(c, side, key);
    EVP_EncodeBlock((unsigned char *)r.s, key, SRTP_KEY_SALT);
    return r;
}

static srtp_t srtp_session(const struct call *c, int side)
{
    uint8_t key[SRTP_KEY_SALT];
    srtp_policy_t policy;
    srtp_t ctx;
    srtp_key(c, side, key);
    memset(&policy, 0, sizeof(policy));
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    policy.ssrc.type = ssrc_any_outbound;
    policy.key = key;
    srtp_err_status_t err = srtp_create(&ctx, &policy);
    if (err != srtp_err_status_ok) {
        fprintf(stderr, "gen_calls: srtp_create failed (%d)\n", (int)err);
        exit(1);
    }
    return ctx;
}

/* ------------------------------------------------------------------------------------ */
/* SIP text.                                                                            */

struct text {
    char *p;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void tprintf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->cap - t->len) {
        fprintf(stderr, "gen_calls: internal error: SIP message too long\n");
        exit(1);
    }
    t->len += (size_t)n;
}

struct ipstr {
    char s[16];
};

static struct ipstr ip_text(uint32_t ip)
{
    struct ipstr r;
    snprintf(r.s, sizeof(r.s), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
             ip & 255);
    return r;
}

static const char *reason_phrase(unsigned code)
{
    switch (code) {
    case 100:
        return "Trying";
    case 180:
        return "Ringing";
    case 200:
        return "OK";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 486:
        return "Busy Here";
    case 487:
        return "Request Terminated";
    default:
        return "Unknown";
    }
}

static void name_addr(struct text *t, const struct endpoint *e)
{
    if (e->name[0])
        tprintf(t, "\"%s\" ", e->name);
    tprintf(t, "<sip:%s@%s>", e->number, ip_text(e->domain).s);
}

static void sdp_body(struct text *t, const struct call *c, const struct endpoint *e, bool offer,
                     uint64_t sess, const struct sip_event *ev)
{
    struct ipstr ip = ip_text(e->media_ip);
    tprintf(t, "v=0\r\no=- %" PRIu64 " %u IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n", sess,
            ev->sdp_version, ip.s, ip.s);
    const struct codec *k = c->codec;
    const char *proto = c->srtp ? "RTP/SAVP" : "RTP/AVP";
    if (offer && (k->pt == 0 || k->pt == 8)) {
        tprintf(t,
                "m=audio %u %s 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
                "a=rtpmap:8 PCMA/8000\r\n",
                e->media_port, proto);
    } else {
        /* The offer puts the call's codec first with G.711 as fallbacks; the answer
         * keeps only it (RFC 3264 §6.1). */
        tprintf(t, "m=audio %u %s %d%s 101\r\na=rtpmap:%d %s\r\n", e->media_port, proto, k->pt,
                offer ? " 0 8" : "", k->pt, k->rtpmap);
        if (k->fmtp)
            tprintf(t, "a=fmtp:%d %s\r\n", k->pt, k->fmtp);
        if (offer)
            tprintf(t, "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n");
    }
    /* telephone-event runs at the clock of the audio it interrupts (RFC 4733 §2.1). */
    tprintf(t,
            "a=rtpmap:101 telephone-event/%u\r\na=fmtp:101 0-15\r\na=ptime:20\r\n"
            "a=%s\r\n",
            k->ts_step * 50, sdp_mode_name[ev->sdp]);
    if (c->srtp)
        tprintf(t, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n",
                srtp_key_text(c, e == &c->caller ? 0 : 1).s);
}

static void emit_sip(struct writer *w, const struct call *c, const struct sip_event *ev)
{
    /* The request's sender and receiver; a response travels the other way. */
    const struct endpoint *rq_from = ev->by_caller ? &c->caller : &c->callee;
    const struct endpoint *rq_to = ev->by_caller ? &c->callee : &c->caller;
    const struct endpoint *sender = ev->code ? rq_to : rq_from;
    const struct endpoint *receiver = ev->code ? rq_from : rq_to;
    uint64_t from_tag = mix64(c->seed, 1), to_tag = mix64(c->seed, ev->to_tag == 2 ? 3 : 2);
    uint64_t branch = mix64(c->seed, 100 + ev->branch);

    char body[1024];
    struct text b = {body, 0, sizeof(body)};
    if (ev->dtmf && ev->code == 0) {
        tprintf(&b, "Signal=%c\r\nDuration=160\r\n", ev->dtmf);
    } else if (ev->sdp != SDP_NONE) {
        bool sent_by_caller = sender == &c->caller;
        sdp_body(&b, c, sender, ev->code == 0, sent_by_caller ? c->sess_caller : c->sess_callee,
                 ev);
    }

    struct text t = {(char *)w->buf + 42, 0, sizeof(w->buf) - 42};
    if (ev->code == 0) {
        if (ev->in_dialog)
            tprintf(&t, "%s sip:%s@%s:%d SIP/2.0\r\n", method_name[ev->method], rq_to->number,
                    ip_text(rq_to->sig_ip).s, SIP_PORT);
        else
            tprintf(&t, "%s sip:%s@%s SIP/2.0\r\n", method_name[ev->method], rq_to->number,
                    ip_text(rq_to->sig_ip).s);
    } else {
        tprintf(&t, "SIP/2.0 %u %s\r\n", ev->code, reason_phrase(ev->code));
    }
    tprintf(&t, "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%016" PRIx64 "\r\n",
            ip_text(rq_from->sig_ip).s, SIP_PORT, branch);
    if (ev->code == 0)
        tprintf(&t, "Max-Forwards: 70\r\n");
    /* From/To follow the request's direction: the caller's tag is the From tag of its
     * requests, the callee's is the To tag; a callee's BYE swaps them (RFC 3261 §12.2). */
    tprintf(&t, "From: ");
    name_addr(&t, rq_from);
    tprintf(&t, ";tag=%016" PRIx64 "\r\nTo: ", ev->by_caller ? from_tag : to_tag);
    name_addr(&t, rq_to);
    if (ev->to_tag)
        tprintf(&t, ";tag=%016" PRIx64, ev->by_caller ? to_tag : from_tag);
    tprintf(&t, "\r\nCall-ID: %s\r\nCSeq: %u %s\r\n", c->call_id, ev->cseq,
            method_name[ev->method]);
    bool contact =
        (ev->code == 0 && ev->method != M_ACK && ev->method != M_CANCEL && ev->method != M_BYE) ||
        (ev->method == M_INVITE && ev->code >= 180 && ev->code < 300);
    if (contact)
        tprintf(&t, "Contact: <sip:%s@%s:%d>\r\n", sender->number, ip_text(sender->sig_ip).s,
                SIP_PORT);
    if (ev->code == 0 && ev->method == M_INVITE && !ev->in_dialog && rq_from->pai) {
        tprintf(&t, "P-Asserted-Identity: ");
        name_addr(&t, rq_from);
        tprintf(&t, "\r\n");
    }
    if (ev->auth)
        tprintf(&t,
                "Authorization: Digest username=\"pbx\", realm=\"trunk.example\", "
                "nonce=\"%016" PRIx64 "\", uri=\"sip:%s@%s\", response=\"%016" PRIx64 "%016" PRIx64
                "\", algorithm=MD5\r\n",
                mix64(c->seed, 4), rq_to->number, ip_text(rq_to->sig_ip).s, mix64(c->seed, 5),
                mix64(c->seed, 6));
    if (ev->code == 401)
        tprintf(&t,
                "WWW-Authenticate: Digest realm=\"trunk.example\", nonce=\"%016" PRIx64
                "\", algorithm=MD5, qop=\"auth\"\r\n",
                mix64(c->seed, 4));
    if (ev->method == M_INVITE && (ev->code == 0 || (ev->code >= 200 && ev->code < 300)))
        tprintf(&t, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n");
    tprintf(&t, "%s: %s\r\n", ev->code ? "Server" : "User-Agent", sender->agent);
    if (b.len)
        tprintf(&t, "Content-Type: %s\r\n",
                ev->dtmf && ev->code == 0 ? "application/dtmf-relay" : "application/sdp");
    tprintf(&t, "Content-Length: %zu\r\n\r\n", b.len);
    if (b.len > t.cap - t.len) {
        fprintf(stderr, "gen_calls: internal error: SIP message too long\n");
        exit(1);
    }
    memcpy(t.p + t.len, body, b.len);
    t.len += b.len;
    emit_udp(w, ev->t, sender->sig_ip, SIP_PORT, receiver->sig_ip, SIP_PORT, t.len, 0x68);
    w->sip++;
}

/* The caller presses the digits DTMF_DELAY_MS after the answer; only those whose last
 * packet goes out before the stream stops are sent. */
static void schedule_dtmf(struct rtp_stream *s, const char *digits, int64_t t_answer,
                          int64_t delay_ms)
{
    int64_t at = t_answer + delay_ms * MSEC;
    s->dtmf_tick =
        at > s->start ? (uint64_t)((at - s->start + RTP_PTIME_US - 1) / RTP_PTIME_US) : 0;
    s->dtmf = digits;
    s->ndtmf = 0;
    while (digits[s->ndtmf]) {
        uint64_t last = s->dtmf_tick + s->ndtmf * DTMF_SLOT + DTMF_PACKETS - 1;
        if (tick_time(s, last) >= s->stop)
            break;
        s->ndtmf++;
    }
}

/* Returns the time of the stream's next packet, or -1 when it has ended. */
static int64_t rtp_next_time(struct rtp_stream *s)
{
    for (;;) {
        int64_t nominal = tick_time(s, s->tick);
        if (nominal >= s->stop)
            return -1;
        if (nominal >= s->gap_start && nominal < s->gap_stop) {
            s->tick++;
            s->marker = true; /* RFC 3551 §4.1: first packet after silence */
            continue;
        }
        /* Capture-time jitter below 1 ms keeps the stream in order. */
        struct prng j = {s->jitter.s + s->tick};
        return nominal + (int64_t)(prng_next(&j) % 900);
    }
}

static void emit_rtp(struct writer *w, struct call *c, int dir, int64_t t)
{
    struct rtp_stream *s = &c->rtp[dir];
    const struct endpoint *from = dir == 0 ? &c->caller : &c->callee;
    const struct endpoint *to = dir == 0 ? &c->callee : &c->caller;
    uint8_t *p = w->buf + 42;
    uint32_t clock = (uint32_t)(s->tick * c->codec->ts_step);
    p[0] = 0x80;
    p[1] = (uint8_t)((s->marker ? 0x80 : 0) | c->codec->pt);
    put16(p + 2, s->seq);
    put32(p + 4, s->ts0 + clock);
    put32(p + 8, s->ssrc);
    size_t len;
    uint64_t slot = s->tick - s->dtmf_tick; /* huge before the first digit */
    if (slot < s->ndtmf * DTMF_SLOT && slot % DTMF_SLOT < DTMF_PACKETS) {
        /* RFC 4733 §2.5.1: every packet of an event carries its start as timestamp and
         * its duration so far; the first has the marker bit, the last (E bit) is sent
         * three times at the update interval. */
        uint64_t start = s->tick - slot % DTMF_SLOT;
        unsigned k = (unsigned)(slot % DTMF_SLOT);
        unsigned step = k < DTMF_UPDATES ? k + 1 : DTMF_UPDATES;
        p[1] = (uint8_t)((k == 0 ? 0x80 : 0) | DTMF_PT);
        put32(p + 4, s->ts0 + (uint32_t)(start * c->codec->ts_step));
        p[12] = dtmf_event_code(s->dtmf[slot / DTMF_SLOT]);
        p[13] = (uint8_t)((k + 1 >= DTMF_UPDATES ? 0x80 : 0) | 10); /* E, volume -10 dBm0 */
        put16(p + 14, (uint16_t)(step * c->codec->ts_step));
        len = 4;
    } else {
        const struct packet *pk;
        while (s->mark_tick != NO_MARK && s->tick >= s->mark_tick + MARK_PACKETS)
            s->mark_tick = mark_tick(s, ++s->next_mark);
        if (s->mark_tick != NO_MARK && s->tick >= s->mark_tick)
            pk = &s->silence[s->tick - s->mark_tick];
        else
            pk = &s->tone->pkt[s->tick % CACHE_PACKETS];
        memcpy(p + 12, pk->data, pk->len);
        len = pk->len;
    }
    if (c->srtp) {
        /* libsrtp wants the packet 32-bit aligned and room for the tag after it. */
        union {
            uint32_t align;
            uint8_t b[12 + MAX_PAYLOAD + SRTP_MAX_TRAILER_LEN];
        } sp;
        int n = (int)(12 + len);
        if (!s->srtp)
            s->srtp = srtp_session(c, dir);
        memcpy(sp.b, p, (size_t)n);
        srtp_err_status_t err = srtp_protect(s->srtp, sp.b, &n);
        if (err != srtp_err_status_ok) {
            fprintf(stderr, "gen_calls: srtp_protect failed (%d)\n", (int)err);
            exit(1);
        }
        memcpy(p, sp.b, (size_t)n);
        len = (size_t)n - 12;
    }
    emit_udp(w, t, from->media_ip, from->media_port, to->media_ip, to->media_port, 12 + len, 0xb8);
    s->seq++;
    s->tick++;
    s->marker = false;
    s->sent++;
    w->rtp++;
}

/* ------------------------------------------------------------------------------------ */
/* Merging every call's events by time.                                                 */

struct heap_item {
    int64_t t;
    uint32_t key; /* call index * 3 + stream (0 SIP, 1 RTP from caller, 2 RTP from callee) */
};

struct heap {
    struct heap_item *v;
    size_t n;
};

static bool item_less(const struct heap_item *a, const struct heap_item *b)
{
    return a->t < b->t || (a->t == b->t && a->key < b->key);
}

static void heap_push(struct heap *h, struct heap_item it)
{
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!item_less(&it, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = it;
}

/* Replaces the top with it (or removes the top when it is NULL) and restores order. */
static void heap_replace_top(struct heap *h, const struct heap_item *it)
{
    struct heap_item x;
    if (it) {
        x = *it;
    } else {
        if (--h->n == 0)
            return;
        x = h->v[h->n];
    }
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const struct heap_item *best = &x;
        if (l < h->n && item_less(&h->v[l], best)) {
            m = l;
            best = &h->v[l];
        }
        if (l + 1 < h->n && item_less(&h->v[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    h->v[i] = x;
}

/* ------------------------------------------------------------------------------------ */
/* Truth sidecar.                                                                       */

static void json_str(FILE *f, const char *s)
{
    if (!s || !*s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_time(FILE *f, const struct options *o, int64_t t)
{
    if (t < 0) {
        fputs("null", f);
        return;
    }
    int64_t ms = (o->start * USEC + t) / MSEC;
    fprintf(f, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
}

/* Every alignment mark of an answered call, as "marks": [{"caller": T, "callee": T}...],
 * T the capture time of the mark's first silent packet before jitter, null when that
 * direction stopped before it. */
static void write_marks(FILE *f, const struct options *o, const struct call *c)
{
    fputs(", \"marks\": [", f);
    for (uint64_t j = 0; c->t_answer >= 0; j++) {
        uint64_t k[2] = {mark_tick(&c->rtp[0], j), mark_tick(&c->rtp[1], j)};
        if (k[0] == NO_MARK && k[1] == NO_MARK)
            break;
        fprintf(f, "%s{\"caller\": ", j ? ", " : "");
        json_time(f, o, k[0] == NO_MARK ? -1 : tick_time(&c->rtp[0], k[0]));
        fputs(", \"callee\": ", f);
        json_time(f, o, k[1] == NO_MARK ? -1 : tick_time(&c->rtp[1], k[1]));
        fputs("}", f);
    }
    fputs("]", f);
}

static int write_truth(const char *path, const struct options *o, const struct call *calls,
                       size_t n, const struct writer *w)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen_calls: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "{\n  \"generator\": \"gen_calls\",\n  \"seed\": %" PRIu64 ",\n  \"start\": %" PRId64
            ",\n  \"codec\": \"%s\",\n  \"dtmf\": \"%s\",\n  \"srtp\": %s,\n  \"packets\": %" PRIu64
            ",\n  \"sip_messages\": %" PRIu64 ",\n  \"rtp_packets\": %" PRIu64 ",\n",
            o->seed, o->start, o->codec->name, o->dtmf, o->srtp ? "true" : "false", w->packets,
            w->sip, w->rtp);
    if (o->drift_ppm)
        fprintf(f, "  \"drift_ppm\": %" PRId32 ",\n", o->drift_ppm);
    if (o->marks_every)
        fprintf(f, "  \"marks_every\": %" PRId64 ",\n", (int64_t)(o->marks_every / USEC));
    fputs("  \"calls\": [\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct call *c = &calls[i];
        fputs("    {\"call_id\": ", f);
        json_str(f, c->call_id);
        fputs(", \"caller\": ", f);
        json_str(f, c->caller.number);
        fputs(", \"caller_name\": ", f);
        json_str(f, c->caller.name);
        fputs(", \"callee\": ", f);
        json_str(f, c->callee.number);
        fputs(", \"callee_name\": ", f);
        json_str(f, c->callee.name);
        fprintf(f, ", \"direction\": \"%s\", \"status\": \"%s\", \"sip_code\": %d",
                type_name[c->type], c->status, c->sip_code);
        fputs(", \"start\": ", f);
        json_time(f, o, c->t_start);
        fputs(", \"answer\": ", f);
        json_time(f, o, c->t_answer);
        fputs(", \"end\": ", f);
        json_time(f, o, c->t_end);
        if (c->t_answer >= 0)
            fprintf(f, ", \"talk_s\": %.3f", (double)(c->t_end - c->t_answer) / USEC);
        else
            fputs(", \"talk_s\": 0", f);
        fprintf(f, ", \"bye_from\": %s",
                c->t_answer < 0    ? "null"
                : c->bye_by_caller ? "\"caller\""
                                   : "\"callee\"");
        fprintf(f, ", \"hold\": %s, \"auth_challenge\": %s",
                c->outcome == O_HOLD ? "true" : "false", c->outcome == O_AUTH ? "true" : "false");
        fprintf(f, ", \"codec\": \"%s\", \"payload_type\": %d, \"rate\": %d", c->codec->name,
                c->codec->pt, c->codec->pcm_rate);
        fprintf(f, ", \"caller_addr\": \"%s\", \"callee_addr\": \"%s\"",
                ip_text(c->caller.sig_ip).s, ip_text(c->callee.sig_ip).s);
        fprintf(f, ", \"caller_rtp\": \"%s:%u\", \"callee_rtp\": \"%s:%u\"",
                ip_text(c->caller.media_ip).s, c->caller.media_port, ip_text(c->callee.media_ip).s,
                c->callee.media_port);
        bool media = c->t_answer >= 0;
        fprintf(f, ", \"caller_tone_hz\": %d, \"callee_tone_hz\": %d", media ? c->rtp[0].hz : 0,
                media ? c->rtp[1].hz : 0);
        fputs(", \"caller_marker\": ", f);
        json_time(f, o, media ? c->rtp[0].marker_at : -1);
        fputs(", \"callee_marker\": ", f);
        json_time(f, o, media ? c->rtp[1].marker_at : -1);
        fprintf(f, ", \"caller_ssrc\": %" PRIu32 ", \"callee_ssrc\": %" PRIu32,
                media ? c->rtp[0].ssrc : 0, media ? c->rtp[1].ssrc : 0);
        fprintf(f, ", \"rtp_packets_caller\": %" PRIu64 ", \"rtp_packets_callee\": %" PRIu64,
                c->rtp[0].sent, c->rtp[1].sent);
        if (c->srtp)
            fprintf(f, ", \"caller_srtp_key\": \"%s\", \"callee_srtp_key\": \"%s\"",
                    srtp_key_text(c, 0).s, srtp_key_text(c, 1).s);
        fputs(", \"dtmf\": [", f);
        for (size_t k = 0; media && k < c->rtp[0].ndtmf; k++) {
            const struct rtp_stream *s = &c->rtp[0];
            fprintf(f, "%s{\"digit\": \"%c\", \"at\": ", k ? ", " : "", s->dtmf[k]);
            json_time(f, o, tick_time(s, s->dtmf_tick + k * DTMF_SLOT));
            fputs("}", f);
        }
        fputs("]", f);
        if (o->marks_every)
            write_marks(f, o, c);
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fputs("  ]\n}\n", f);
    if (fclose(f) != 0) {
        fprintf(stderr, "gen_calls: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Command line.                                                                        */

static void usage(FILE *f)
{
    fputs("usage: gen_calls [--calls N] [--duration S] [--concurrency C]\n"
          "                 [--codec pcmu|pcma|g722|g729|opus] [--seed N] [--start EPOCH]\n"
          "                 [--scenario mix|answered] [--dtmf DIGITS] [--srtp]\n"
          "                 [--dtmf-call N:caller|callee:DIGITS[:SECONDS[:info]]]...\n"
          "                 [--drift-ppm N] [--marks-every S] -o FILE.pcap\n"
          "Writes N SIP calls (default 1000) of about S seconds of talk (default 20) with\n"
          "RTP both ways (default codec pcmu) to FILE.pcap, and what they are to\n"
          "FILE.truth.json.  C calls overlap (default N: starts spread evenly over one call\n"
          "length).  The default scenario is mix (answered, cancelled, busy, rejected, 401,\n"
          "hold) for up to 100 calls and answered beyond.  Same arguments, same bytes.\n"
          "In a g722 or opus capture, the first plainly answered call's callee tone is\n"
          "5000 Hz: only a wideband recording keeps it.  With --dtmf, every answered caller\n"
          "sends the DIGITS (0-9 * # A-D) as RFC 4733 events 3 s after the answer, 100 ms\n"
          "each with 100 ms between them.  --dtmf-call (up to 16 times) has call N (from\n"
          "0) send DIGITS from its caller's or callee's side, SECONDS (default 3) after\n"
          "the answer; with :info as SIP INFO (application/dtmf-relay) rather than RTP.\n"
          "With --srtp, media is SRTP (RFC 3711,\n"
          "AES_CM_128_HMAC_SHA1_80) keyed by a=crypto in each party's SDP (RFC 4568).\n"
          "Every answered call has 60 ms of digital silence in both directions 2 s after\n"
          "the answer (truth caller_marker, callee_marker); --marks-every S adds one every\n"
          "S seconds (truth \"marks\").  With --drift-ppm N (-10000 to 10000) the callee's\n"
          "clock runs N ppm slow: it sends every 20 ms * (1 + N/1e6) of capture time while\n"
          "its RTP timestamps step by 20 ms.\n",
          f);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s)
        return false;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "N:SIDE:DIGITS[:SECONDS[:info]]": call index N (from 0), side caller or callee. */
static int parse_dtmf_call(const char *v, struct options *o)
{
    char buf[128], *f[5] = {NULL, NULL, NULL, NULL, NULL};
    size_t n = 0;
    uint64_t u;
    if (o->ndtmf_calls == NELEM(o->dtmf_calls) || strlen(v) >= sizeof(buf))
        return -1;
    memcpy(buf, v, strlen(v) + 1);
    for (char *p = buf; n < 5 && p; n++) {
        f[n] = p;
        p = strchr(p, ':');
        if (p)
            *p++ = '\0';
    }
    struct dtmf_call *d = &o->dtmf_calls[o->ndtmf_calls];
    if (n < 3 || !parse_u64(f[0], 10000000, &u))
        return -1;
    d->call = (unsigned long)u;
    if (strcmp(f[1], "caller") == 0)
        d->side = 0;
    else if (strcmp(f[1], "callee") == 0)
        d->side = 1;
    else
        return -1;
    size_t len = strlen(f[2]);
    if (len == 0 || len > MAX_DTMF || strspn(f[2], "0123456789*#ABCD") != len)
        return -1;
    memcpy(d->digits, f[2], len + 1);
    d->delay_ms = DTMF_DELAY_MS;
    d->info = false;
    if (n >= 4) {
        if (!parse_u64(f[3], 86400, &u))
            return -1;
        d->delay_ms = (int64_t)u * 1000;
    }
    if (n == 5) {
        if (strcmp(f[4], "info") != 0)
            return -1;
        d->info = true;
    }
    o->ndtmf_calls++;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.calls = 1000,
                          .duration = 20.0,
                          .codec = &codecs[0],
                          .seed = 1,
                          .start = 1700000000,
                          .scenario = -1,
                          .dtmf = ""};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        long l;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--srtp") == 0) {
            o->srtp = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "gen_calls: %s: missing value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--calls") == 0 && parse_u64(v, 10000000, &u) && u > 0) {
            o->calls = (unsigned long)u;
        } else if (strcmp(a, "--duration") == 0) {
            char *end;
            errno = 0;
            o->duration = strtod(v, &end);
            if (errno || *end || !(o->duration > 0 && o->duration <= 86400)) {
                fprintf(stderr, "gen_calls: --duration: want seconds in (0, 86400]\n");
                return -1;
            }
        } else if (strcmp(a, "--concurrency") == 0 && parse_u64(v, 10000000, &u) && u > 0) {
            o->concurrency = (unsigned long)u;
        } else if (strcmp(a, "--codec") == 0 && codec_by_name(v)) {
            o->codec = codec_by_name(v);
        } else if (strcmp(a, "--seed") == 0 && parse_u64(v, UINT64_MAX, &u)) {
            o->seed = u;
        } else if (strcmp(a, "--start") == 0 && parse_u64(v, 4000000000ULL, &u)) {
            o->start = (int64_t)u;
        } else if (strcmp(a, "--scenario") == 0 && strcmp(v, "mix") == 0) {
            o->scenario = 0;
        } else if (strcmp(a, "--scenario") == 0 && strcmp(v, "answered") == 0) {
            o->scenario = 1;
        } else if (strcmp(a, "--dtmf") == 0 && strlen(v) <= MAX_DTMF &&
                   strspn(v, "0123456789*#ABCD") == strlen(v)) {
            o->dtmf = v;
        } else if (strcmp(a, "--dtmf-call") == 0) {
            if (parse_dtmf_call(v, o) != 0) {
                fprintf(stderr, "gen_calls: --dtmf-call: want N:caller|callee:DIGITS[:SECONDS"
                                "[:info]] (at most %zu)\n", NELEM(o->dtmf_calls));
                return -1;
            }
        } else if (strcmp(a, "--drift-ppm") == 0 && parse_int(v, -10000, 10000, &l)) {
            o->drift_ppm = (int32_t)l;
        } else if (strcmp(a, "--marks-every") == 0 && parse_u64(v, 86400, &u) && u > 0) {
            o->marks_every = (int64_t)u * USEC;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            o->out = v;
        } else {
            fprintf(stderr, "gen_calls: bad option or value: %s %s\n", a, v);
            usage(stderr);
            return -1;
        }
    }
    if (!o->out) {
        fprintf(stderr, "gen_calls: -o FILE is required\n");
        usage(stderr);
        return -1;
    }
    if (o->scenario < 0)
        o->scenario = o->calls <= 100 ? 0 : 1;
    return 0;
}

/* The mix cycles through every outcome so even a dozen calls show each of them. */
static enum outcome mix_outcome(unsigned long i)
{
    static const enum outcome cycle[] = {
        O_ANSWERED, O_CANCELLED, O_HOLD,     O_BUSY,      O_ANSWERED,
        O_NOTFOUND, O_AUTH,      O_ANSWERED, O_FORBIDDEN, O_ANSWERED,
    };
    return cycle[i % NELEM(cycle)];
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) != 0)
        return 2;

    struct timespec wall0;
    clock_gettime(CLOCK_MONOTONIC, &wall0);

    struct call *calls = calloc(o.calls, sizeof(*calls));
    struct heap h = {calloc(o.calls * 3, sizeof(*h.v)), 0};
    if (!calls || !h.v) {
        fprintf(stderr, "gen_calls: out of memory for %lu calls\n", o.calls);
        return 1;
    }

    /* Spread call starts so that about C calls are up at once: one start every
     * (mean call length / C), the mean being ringing (~2 s) plus talk.  A call that
     * would make C + 1 is held back until the earliest one ends, so C is a bound. */
    unsigned long conc = o.concurrency ? o.concurrency : o.calls;
    int64_t spacing = (int64_t)((o.duration + 2.0) * USEC / (double)conc);
    struct heap ends = {calloc(conc, sizeof(*ends.v)), 0};
    if (!ends.v) {
        fprintf(stderr, "gen_calls: out of memory\n");
        return 1;
    }
    struct prng r = {o.seed};
    struct tone_cache tones;
    tone_cache_init(&tones, o.codec);
    bool wideband_check = o.codec->pcm_rate > 8000;
    int64_t prev_start = 0;
    for (unsigned long i = 0; i < o.calls; i++) {
        enum outcome oc = o.scenario == 0 ? mix_outcome(i) : O_ANSWERED;
        int64_t t0 = (int64_t)i * spacing + prng_range(&r, 0, spacing / 2 + 1) + 100 * MSEC;
        if (t0 < prev_start)
            t0 = prev_start;
        if (ends.n == conc && ends.v[0].t + 10 * MSEC > t0)
            t0 = ends.v[0].t + 10 * MSEC;
        prev_start = t0;
        struct call *c = &calls[i];
        plan_call(c, &r, (uint32_t)i, t0, &o, oc);
        c->srtp = o.srtp;
        struct heap_item end = {c->ev[c->nev - 1].t, 0};
        if (ends.n == conc)
            heap_replace_top(&ends, &end);
        else
            heap_push(&ends, end);
        heap_push(&h, (struct heap_item){c->ev[0].t, (uint32_t)(i * 3)});
        if (c->t_answer >= 0) {
            /* One call of a wideband capture has its callee tone above 4 kHz, which only
             * survives a recording that is really wideband. */
            if (wideband_check && oc == O_ANSWERED) {
                c->rtp[1].hz = WIDEBAND_CHECK_HZ;
                wideband_check = false;
            }
            schedule_dtmf(&c->rtp[0], o.dtmf, c->t_answer, DTMF_DELAY_MS);
            for (size_t k = 0; k < o.ndtmf_calls; k++)
                if (o.dtmf_calls[k].call == i && !o.dtmf_calls[k].info)
                    schedule_dtmf(&c->rtp[o.dtmf_calls[k].side], o.dtmf_calls[k].digits,
                                  c->t_answer, o.dtmf_calls[k].delay_ms);
            for (int d = 0; d < 2; d++) {
                c->rtp[d].tone = tone_get(&tones, c->rtp[d].hz);
                c->rtp[d].silence = tones.silence;
                int64_t t = rtp_next_time(&c->rtp[d]);
                if (t >= 0)
                    heap_push(&h, (struct heap_item){t, (uint32_t)(i * 3 + 1 + d)});
            }
        }
    }

    if (o.srtp && srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "gen_calls: srtp_init failed\n");
        return 1;
    }
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    if (!dead) {
        fprintf(stderr, "gen_calls: pcap_open_dead failed\n");
        return 1;
    }
    struct writer *w = calloc(1, sizeof(*w));
    if (!w) {
        fprintf(stderr, "gen_calls: out of memory\n");
        return 1;
    }
    w->epoch_us = o.start * USEC;
    /* Large writes: the file is hundreds of megabytes and written once. */
    static char iobuf[1 << 20];
    FILE *out = fopen(o.out, "wb");
    if (!out) {
        fprintf(stderr, "gen_calls: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    setvbuf(out, iobuf, _IOFBF, sizeof(iobuf));
    w->dump = pcap_dump_fopen(dead, out);
    if (!w->dump) {
        fprintf(stderr, "gen_calls: %s: %s\n", o.out, pcap_geterr(dead));
        return 1;
    }

    while (h.n > 0) {
        struct heap_item top = h.v[0];
        struct call *c = &calls[top.key / 3];
        int stream = (int)(top.key % 3);
        int64_t next;
        if (stream == 0) {
            emit_sip(w, c, &c->ev[c->next_ev++]);
            next = c->next_ev < c->nev ? c->ev[c->next_ev].t : -1;
        } else {
            struct rtp_stream *s = &c->rtp[stream - 1];
            emit_rtp(w, c, stream - 1, top.t);
            next = rtp_next_time(s);
            if (next < 0 && s->srtp) {
                srtp_dealloc(s->srtp);
                s->srtp = NULL;
            }
        }
        if (next >= 0) {
            if (next < top.t) {
                fprintf(stderr, "gen_calls: internal error: events out of order\n");
                return 1;
            }
            struct heap_item it = {next, top.key};
            heap_replace_top(&h, &it);
        } else {
            heap_replace_top(&h, NULL);
        }
    }
    if (pcap_dump_flush(w->dump) != 0 || ferror(pcap_dump_file(w->dump))) {
        fprintf(stderr, "gen_calls: %s: write failed\n", o.out);
        return 1;
    }
    pcap_dump_close(w->dump);
    pcap_close(dead);

    /* FILE.pcap -> FILE.truth.json; any other name gets the suffix appended. */
    size_t olen = strlen(o.out);
    size_t stem = olen;
    if (olen > 5 && strcmp(o.out + olen - 5, ".pcap") == 0)
        stem = olen - 5;
    char *truth = malloc(stem + sizeof(".truth.json"));
    if (!truth) {
        fprintf(stderr, "gen_calls: out of memory\n");
        return 1;
    }
    memcpy(truth, o.out, stem);
    memcpy(truth + stem, ".truth.json", sizeof(".truth.json"));
    if (write_truth(truth, &o, calls, o.calls, w) != 0)
        return 1;

    struct timespec wall1;
    clock_gettime(CLOCK_MONOTONIC, &wall1);
    double secs = (double)(wall1.tv_sec - wall0.tv_sec) + (wall1.tv_nsec - wall0.tv_nsec) / 1e9;
    fprintf(stderr,
            "gen_calls: %lu calls, %" PRIu64 " packets (%" PRIu64 " SIP, %" PRIu64 " RTP), %" PRIu64
            " bytes -> %s, %s in %.2f s (%.0f packets/s)\n",
            o.calls, w->packets, w->sip, w->rtp, w->bytes, o.out, truth, secs,
            secs > 0 ? (double)w->packets / secs : 0.0);
    free(truth);
    free(w);
    tone_cache_free(&tones);
    if (o.srtp)
        srtp_shutdown();
    free(h.v);
    free(ends.v);
    free(calls);
    return 0;
}

/*
 * test_dialog.c - the call state machine against a table of SIP ladders.
 *
 * Each ladder is a list of steps (seconds after the start, a message written as SIP
 * text and parsed by sofia-sip like captured traffic would be); the expected call is
 * what a supervisor should see in the index.
 */
#include <stdlib.h>
#include <string.h>

#include "greffier/config.h"
#include "greffier/dialog.h"
#include "greffier/sip_msg.h"
#include "testhelp.h"

#define T0 ((pkt_time_t)1700000000 * 1000000)
#define SEC(s) (T0 + (pkt_time_t)((s) * 1000000.0))

/* The parts of a finished call a test looks at, copied before the tracker frees it. */
struct seen {
    char call_id[64];
    enum call_status status;
    int sip_code;
    pkt_time_t start, answer, end;
    enum call_end_reason end_reason;
    bool partial;
    size_t nmessages, noffers;
    char caller[32], callee[32], caller_name[32], to_tag[32], redirecting[32];
    bool third_offer_from_caller;
    enum media_direction third_offer_dir;
};

static struct seen finished[16];
static int nfinished;

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void on_finished(void *user, struct call *c)
{
    (void)user;
    if (nfinished >= 16)
        return;
    struct seen *s = &finished[nfinished++];
    copy_str(s->call_id, sizeof(s->call_id), c->call_id);
    s->status = c->status;
    s->sip_code = c->sip_code;
    s->start = c->start;
    s->answer = c->answer;
    s->end = c->end;
    s->end_reason = c->end_reason;
    s->partial = c->partial;
    s->nmessages = c->nmessages;
    s->noffers = c->noffers;
    copy_str(s->caller, sizeof(s->caller), c->caller.number);
    copy_str(s->callee, sizeof(s->callee), c->callee.number);
    copy_str(s->caller_name, sizeof(s->caller_name), c->caller.name);
    copy_str(s->to_tag, sizeof(s->to_tag), c->to_tag);
    copy_str(s->redirecting, sizeof(s->redirecting), c->redirecting.number);
    if (c->noffers >= 3) {
        s->third_offer_from_caller = c->offers[2].from_caller;
        s->third_offer_dir = c->offers[2].sdp.m[0].direction;
    }
}

static char info_keys[16];
static bool info_from_caller[16];
static size_t ninfo;

static void on_dtmf(void *user, struct call *c, bool from_caller, char key, pkt_time_t ts)
{
    (void)user, (void)c, (void)ts;
    if (ninfo + 1 < sizeof(info_keys)) {
        info_from_caller[ninfo] = from_caller;
        info_keys[ninfo++] = key;
    }
}

enum who { CALLER, CALLEE };

struct step {
    double at;
    enum who from;
    const char *first_line; /* "INVITE" / "ACK" / ... for requests, "200 OK" for responses */
    const char *cseq;       /* "1 INVITE" */
    const char *to_tag;     /* NULL: none */
    const char *sdp_dir;    /* NULL: no SDP; else "sendrecv", "sendonly", ... */
    const char *extra;      /* extra header lines, each ending in \r\n */
    const char *from_tag;   /* NULL: the caller's tag "ct" */
};

static void feed(struct dialogs *d, const char *call_id, const struct step *st)
{
    char sdp[512] = "", msg[4096];
    if (st->sdp_dir)
        snprintf(sdp, sizeof(sdp),
                 "v=0\r\no=- 1 1 IN IP4 10.0.0.%d\r\ns=-\r\nc=IN IP4 10.0.0.%d\r\nt=0 0\r\n"
                 "m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                 "a=rtpmap:101 telephone-event/8000\r\na=%s\r\n",
                 st->from == CALLER ? 1 : 2, st->from == CALLER ? 1 : 2,
                 st->from == CALLER ? 40000 : 50000, st->sdp_dir);
    bool request = !(st->first_line[0] >= '0' && st->first_line[0] <= '9');
    char start[128], to[128];
    if (request)
        snprintf(start, sizeof(start), "%s sip:2041@10.0.0.2 SIP/2.0", st->first_line);
    else
        snprintf(start, sizeof(start), "SIP/2.0 %s", st->first_line);
    snprintf(to, sizeof(to), "<sip:2041@pbx>%s%s", st->to_tag ? ";tag=" : "",
             st->to_tag ? st->to_tag : "");
    snprintf(msg, sizeof(msg),
             "%s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s%.0f\r\n"
             "From: \"Accueil Mairie\" <sip:0612345678@pbx>;tag=%s\r\nTo: %s\r\n"
             "Call-ID: %s\r\nCSeq: %s\r\nMax-Forwards: 70\r\n%s"
             "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
             start, st->cseq, st->at * 1000, st->from_tag ? st->from_tag : "ct", to, call_id,
             st->cseq, st->extra ? st->extra : "", strlen(sdp), sdp);
    if (!st->sdp_dir) { /* no body: drop the Content-Type line */
        char *ct = strstr(msg, "Content-Type: application/sdp\r\n");
        memmove(ct, ct + 31, strlen(ct + 31) + 1);
    }
    const char *err = NULL;
    struct sip_msg *m = sip_msg_parse((const uint8_t *)msg, strlen(msg), &err);
    if (!m) {
        fprintf(stderr, "test message rejected (%s):\n%s\n", err ? err : "?", msg);
        CHECK(m != NULL);
        return;
    }
    struct sip_wire w = {.ts = SEC(st->at), .raw = (const uint8_t *)msg, .raw_len = strlen(msg)};
    ip_addr_parse(st->from == CALLER ? "10.0.0.1" : "10.0.0.2", &w.src);
    ip_addr_parse(st->from == CALLER ? "10.0.0.2" : "10.0.0.1", &w.dst);
    w.sport = w.dport = 5060;
    dialogs_on_sip(d, m, &w);
    sip_msg_free(m);
}

struct ladder {
    const char *name;
    const struct step *steps;
    double tick_at; /* 0: none; else dialogs_tick at this second before the end */
    double end_at;  /* the capture ends here (dialogs_free) */
    enum call_status status;
    int sip_code;
    double answer, end; /* seconds, -1 for absent */
    enum call_end_reason end_reason;
    bool partial;
};

#define END_STEPS {0, 0, NULL, NULL, NULL, NULL, NULL, NULL}

static const struct step normal[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0.01, CALLEE, "100 Trying", "1 INVITE", NULL, NULL, NULL, NULL},
    {0.5, CALLEE, "180 Ringing", "1 INVITE", "bt", NULL, NULL, NULL},
    {4, CALLEE, "200 OK", "1 INVITE", "bt", "sendrecv", NULL, NULL},
    {4.01, CALLER, "ACK", "1 ACK", "bt", NULL, NULL, NULL},
    {64, CALLER, "BYE", "2 BYE", "bt", NULL, NULL, NULL},
    {64.02, CALLEE, "200 OK", "2 BYE", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step cancelled[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0.5, CALLEE, "180 Ringing", "1 INVITE", "bt", NULL, NULL, NULL},
    {9, CALLER, "CANCEL", "1 CANCEL", NULL, NULL, NULL, NULL},
    {9.01, CALLEE, "200 OK", "1 CANCEL", "bt", NULL, NULL, NULL},
    {9.02, CALLEE, "487 Request Terminated", "1 INVITE", "bt", NULL, NULL, NULL},
    {9.03, CALLER, "ACK", "1 ACK", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step busy[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {1, CALLEE, "486 Busy Here", "1 INVITE", "bt", NULL, NULL, NULL},
    {1.01, CALLER, "ACK", "1 ACK", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step forked[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0.2, CALLEE, "180 Ringing", "1 INVITE", "fork-a", NULL, NULL, NULL},
    {0.3, CALLEE, "183 Session Progress", "1 INVITE", "fork-b", "sendrecv", NULL, NULL},
    {3, CALLEE, "200 OK", "1 INVITE", "fork-b", "sendrecv", NULL, NULL},
    {3.5, CALLEE, "200 OK", "1 INVITE", "fork-a", "sendrecv", NULL, NULL},
    {3.01, CALLER, "ACK", "1 ACK", "fork-b", NULL, NULL, NULL},
    {30, CALLEE, "BYE", "1 BYE", "ct", NULL, NULL, "fork-b"},
    END_STEPS,
};

static const struct step reinvite[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {2, CALLEE, "200 OK", "1 INVITE", "bt", "sendrecv", NULL, NULL},
    {2.01, CALLER, "ACK", "1 ACK", "bt", NULL, NULL, NULL},
    {10, CALLER, "INVITE", "2 INVITE", "bt", "sendonly", NULL, NULL},
    {10.01, CALLEE, "200 OK", "2 INVITE", "bt", "recvonly", NULL, NULL},
    {10.02, CALLER, "ACK", "2 ACK", "bt", NULL, NULL, NULL},
    {20, CALLEE, "BYE", "1 BYE", "ct", NULL, NULL, "bt"},
    END_STEPS,
};

static const struct step no_bye[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {2, CALLEE, "200 OK", "1 INVITE", "bt", "sendrecv", NULL, NULL},
    {2.01, CALLER, "ACK", "1 ACK", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step challenged[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0.01, CALLEE, "401 Unauthorized", "1 INVITE", "auth", NULL, NULL, NULL},
    {0.02, CALLER, "ACK", "1 ACK", "auth", NULL, NULL, NULL},
    {0.03, CALLER, "INVITE", "2 INVITE", NULL, "sendrecv", NULL, NULL},
    {5, CALLEE, "200 OK", "2 INVITE", "bt", "sendrecv", NULL, NULL},
    {5.01, CALLER, "ACK", "2 ACK", "bt", NULL, NULL, NULL},
    {15, CALLER, "BYE", "3 BYE", "bt", NULL, NULL, NULL},
    END_STEPS,
};

/* The user typed a password for a minute: the retry is still the same call. */
static const struct step slow_retry[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0.1, CALLEE, "407 Proxy Authentication Required", "1 INVITE", "auth", NULL, NULL, NULL},
    {0.2, CALLER, "ACK", "1 ACK", "auth", NULL, NULL, NULL},
    {51, CALLER, "INVITE", "2 INVITE", NULL, "sendrecv", NULL, NULL},
    {51.2, CALLEE, "403 Forbidden", "2 INVITE", "auth2", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step retransmitted[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {3, CALLEE, "486 Busy Here", "1 INVITE", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step picked_up[] = {
    {7, CALLEE, "200 OK", "5 INVITE", "bt", "sendrecv", NULL, NULL},
    {7.01, CALLER, "ACK", "5 ACK", "bt", NULL, NULL, NULL},
    {9, CALLER, "BYE", "6 BYE", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step ringing_forever[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {0.5, CALLEE, "180 Ringing", "1 INVITE", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct step asserted[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv",
     "P-Asserted-Identity: \"Standard\" <sip:+33140000000@trunk>\r\n"
     "Diversion: <sip:2099@pbx>;reason=no-answer\r\n", NULL},
    {1, CALLEE, "603 Decline", "1 INVITE", "bt", NULL, NULL, NULL},
    END_STEPS,
};

static const struct ladder ladders[] = {
    {"normal", normal, 0, 70, CALL_ANSWERED, 200, 4, 64, END_BYE, false},
    {"cancelled", cancelled, 0, 60, CALL_CANCELLED, 487, -1, 9.02, END_FINAL_RESPONSE, false},
    {"busy", busy, 0, 60, CALL_BUSY, 486, -1, 1, END_FINAL_RESPONSE, false},
    {"forked", forked, 0, 60, CALL_ANSWERED, 200, 3, 30, END_BYE, false},
    {"re-INVITE", reinvite, 0, 60, CALL_ANSWERED, 200, 2, 20, END_BYE, false},
    {"no BYE, silence", no_bye, 303, 400, CALL_ANSWERED, 200, 2, 2.01, END_TIMEOUT, false},
    {"no BYE, capture ends", no_bye, 0, 100, CALL_ANSWERED, 200, 2, -1, END_NONE, false},
    {"401 then answered", challenged, 0, 60, CALL_ANSWERED, 200, 5, 15, END_BYE, false},
    {"slow retry after 407", slow_retry, 0, 300, CALL_REJECTED, 403, -1, 51.2,
     END_FINAL_RESPONSE, false},
    {"retransmitted INVITE", retransmitted, 0, 60, CALL_BUSY, 486, -1, 3, END_FINAL_RESPONSE,
     false},
    {"INVITE not captured", picked_up, 0, 60, CALL_ANSWERED, 200, 7, 9, END_BYE, true},
    {"ringing, capture ends", ringing_forever, 0, 30, CALL_IN_PROGRESS, 0, -1, -1, END_NONE,
     false},
    {"ringing, no answer", ringing_forever, 181, 200, CALL_TIMEOUT, 0, -1, 0.5, END_TIMEOUT,
     false},
    {"asserted identity", asserted, 0, 60, CALL_REJECTED, 603, -1, 1, END_FINAL_RESPONSE, false},
};

static pkt_time_t opt_time(double s)
{
    return s < 0 ? 0 : SEC(s);
}

/* A SIP INFO carrying one DTMF key (application/dtmf-relay), from either side of the
 * dialog "info" (caller tag ct, callee tag bt); hop changes the Via branch, as a proxy
 * relaying the same request would. */
static void feed_info(struct dialogs *d, enum who from, unsigned cseq, char key, int hop)
{
    char body[64], msg[1024];
    snprintf(body, sizeof(body), "Signal=%c\r\nDuration=160\r\n", key);
    snprintf(msg, sizeof(msg),
             "INFO sip:x@10.0.0.%d SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 10.0.0.%d:5060;branch=z9hG4bKi%u%d\r\n"
             "From: <sip:a@pbx>;tag=%s\r\nTo: <sip:b@pbx>;tag=%s\r\nCall-ID: info\r\n"
             "CSeq: %u INFO\r\nContent-Type: application/dtmf-relay\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             from == CALLER ? 2 : 1, from == CALLER ? 1 : 2, cseq, hop,
             from == CALLER ? "ct" : "bt", from == CALLER ? "bt" : "ct", cseq, strlen(body), body);
    const char *err = NULL;
    struct sip_msg *m = sip_msg_parse((const uint8_t *)msg, strlen(msg), &err);
    CHECK(m != NULL);
    if (!m)
        return;
    struct sip_wire w = {.ts = SEC(5 + cseq), .raw = (const uint8_t *)msg, .raw_len = strlen(msg)};
    ip_addr_parse(from == CALLER ? "10.0.0.1" : "10.0.0.2", &w.src);
    ip_addr_parse(from == CALLER ? "10.0.0.2" : "10.0.0.1", &w.dst);
    w.sport = w.dport = 5060;
    dialogs_on_sip(d, m, &w);
    sip_msg_free(m);
}

static const struct step info_call[] = {
    {0, CALLER, "INVITE", "1 INVITE", NULL, "sendrecv", NULL, NULL},
    {2, CALLEE, "200 OK", "1 INVITE", "bt", "sendrecv", NULL, NULL},
    {2.1, CALLER, "ACK", "1 ACK", "bt", NULL, NULL, NULL},
    END_STEPS,
};

/* INFO DTMF reaches the sink with its side, once per CSeq and side. */
static void test_info_dtmf(const struct config *cfg, const struct call_sink *sink)
{
    struct counters counters;
    memset(&counters, 0, sizeof(counters));
    nfinished = 0;
    ninfo = 0;
    struct dialogs *d = dialogs_new(cfg, &counters, sink);
    for (const struct step *st = info_call; st->first_line; st++)
        feed(d, "info", st);
    feed_info(d, CALLEE, 1, '*', 0);
    feed_info(d, CALLEE, 2, '1', 0);
    feed_info(d, CALLEE, 2, '1', 1); /* the same INFO relayed: another hop */
    feed_info(d, CALLER, 1, '9', 0); /* the caller's own CSeq space */
    dialogs_free(d, SEC(60), false);
    info_keys[ninfo] = '\0';
    CHECK_STR(info_keys, "*19");
    CHECK(!info_from_caller[0] && !info_from_caller[1] && info_from_caller[2]);
    CHECK_INT(nfinished, 1);
}

int main(void)
{
    struct config cfg;
    config_defaults(&cfg);
    struct counters counters;
    struct call_sink sink = {.call_finished = on_finished, .dtmf = on_dtmf};

    for (size_t i = 0; i < sizeof(ladders) / sizeof(ladders[0]); i++) {
        const struct ladder *l = &ladders[i];
        memset(&counters, 0, sizeof(counters));
        nfinished = 0;
        struct dialogs *d = dialogs_new(&cfg, &counters, &sink);
        /* Packet time advances with the ladder, as in the pipeline. */
        for (const struct step *st = l->steps; st->first_line; st++) {
            dialogs_tick(d, SEC(st->at));
            feed(d, l->name, st);
        }
        if (l->tick_at > 0)
            dialogs_tick(d, SEC(l->tick_at));
        dialogs_free(d, SEC(l->end_at), false);
        fprintf(stderr, "ladder %s\n", l->name);
        CHECK_INT(nfinished, 1);
        if (nfinished != 1)
            continue;
        const struct seen *s = &finished[0];
        CHECK_STR(s->call_id, l->name);
        CHECK_STR(call_status_name(s->status), call_status_name(l->status));
        CHECK_INT(s->sip_code, l->sip_code);
        CHECK_INT(s->answer, opt_time(l->answer));
        CHECK_INT(s->end, opt_time(l->end));
        CHECK_STR(call_end_reason_name(s->end_reason), call_end_reason_name(l->end_reason));
        CHECK_INT(s->partial, l->partial);
    }

    test_info_dtmf(&cfg, &sink);

    /* Details beyond the table. */
    memset(&counters, 0, sizeof(counters));
    nfinished = 0;
    struct dialogs *d = dialogs_new(&cfg, &counters, &sink);
    for (const struct step *st = forked; st->first_line; st++)
        feed(d, "fork", st);
    for (const struct step *st = reinvite; st->first_line; st++)
        feed(d, "reinv", st);
    for (const struct step *st = retransmitted; st->first_line; st++)
        feed(d, "retrans", st);
    for (const struct step *st = asserted; st->first_line; st++)
        feed(d, "pai", st);
    CHECK_INT(dialogs_active(d), 4);
    dialogs_free(d, SEC(100), false);
    CHECK_INT(nfinished, 4);
    CHECK_STR(finished[0].to_tag, "fork-b");
    CHECK_INT(finished[1].noffers, 4);
    CHECK(finished[1].third_offer_from_caller);
    CHECK_INT(finished[1].third_offer_dir, MDIR_SENDONLY);
    CHECK_INT(finished[2].nmessages, 3);
    CHECK_INT(counters.sip_retransmissions, 1);
    CHECK_STR(finished[3].caller, "+33140000000");
    CHECK_STR(finished[3].caller_name, "Standard");
    CHECK_STR(finished[3].callee, "2041");
    CHECK_STR(finished[3].redirecting, "2099");
    CHECK_STR(finished[0].caller, "0612345678");
    CHECK_STR(finished[0].caller_name, "Accueil Mairie");

    /* A REGISTER or OPTIONS opens no call; a BYE of an unknown dialog neither. */
    memset(&counters, 0, sizeof(counters));
    nfinished = 0;
    d = dialogs_new(&cfg, &counters, &sink);
    static const struct step noise[] = {
        {0, CALLER, "REGISTER", "1 REGISTER", NULL, NULL, NULL, NULL},
        {1, CALLER, "OPTIONS", "1 OPTIONS", NULL, NULL, NULL, NULL},
        {2, CALLER, "BYE", "9 BYE", "x", NULL, NULL, NULL},
        END_STEPS,
    };
    for (const struct step *st = noise; st->first_line; st++)
        feed(d, "noise", st);
    dialogs_free(d, SEC(10), false);
    CHECK_INT(nfinished, 0);
    CHECK_INT(counters.sip_non_call, 3);

    /* The call table is bounded. */
    cfg.max_calls = 2;
    memset(&counters, 0, sizeof(counters));
    nfinished = 0;
    d = dialogs_new(&cfg, &counters, &sink);
    feed(d, "a", &busy[0]);
    feed(d, "b", &busy[0]);
    feed(d, "c", &busy[0]);
    dialogs_free(d, SEC(10), true);
    CHECK_INT(nfinished, 2);
    CHECK_INT(counters.drop_call_table_full, 1);
    CHECK_STR(call_end_reason_name(finished[0].end_reason), "interrupted");

    return TEST_REPORT("test_dialog");
}

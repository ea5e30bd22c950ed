/*
 * test_call_report.c - the log line of a finished call (exact text, a table of cases),
 * the one-way audio rule, and the capture part of /metrics (metrics.h): names from
 * counters.inc, drops by reason, HELP and TYPE before every family.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/capture/call_report.h"
#include "greffier/metrics.h"
#include "testhelp.h"

#define S ((pkt_time_t)1000000)

static char *format(const struct call *c, const struct call_media_result *m)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    call_report_format(c, m, f);
    fclose(f);
    return text;
}

static void test_lines(void)
{
    struct media_stream_result streams[2] = {
        {.channel = 0, .codec = "PCMU", .packets = 700, .mos = 4.38},
        {.channel = 1, .codec = "PCMU", .packets = 0, .mos = 0},
    };
    static const struct {
        const char *call_id, *caller, *callee;
        enum call_status status;
        int code;
        pkt_time_t answer, end;
        bool rec;
        size_t nstreams;
        const char *media_state, *want;
    } cases[] = {
        {"abc@h", "2001", "0612345678", CALL_ANSWERED, 200, 10 * S, 22 * S + 345678, true, 1,
         "recorded",
         "call 7 abc@h: 2001 -> 0612345678, answered (200), duration 12.346 s, codec PCMU, "
         "MOS 4.38, recording 11219 bytes (complete)"},
        {"busy@h", "2002", "2099", CALL_BUSY, 486, 0, 3 * S, false, 0, "not_answered",
         "call 7 busy@h: 2002 -> 2099, busy (486), duration -, codec -, MOS -, recording - "
         "(not_answered)"},
        {"x\033[2Jy\nz", NULL, "", CALL_ANSWERED, 200, 1 * S, 1 * S + 499, false, 0, "no_media",
         "call 7 x?[2Jy?z: - -> -, answered (200), duration 0.000 s, codec -, MOS -, "
         "recording - (no_media)"},
        {"r@h", "1", "2", CALL_ANSWERED, 200, 1 * S, 1 * S + 1500, false, 2, "failed",
         "call 7 r@h: 1 -> 2, answered (200), duration 0.002 s, codec PCMU, MOS 4.38, "
         "recording - (failed)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct call c = {.id = 7,
                         .status = cases[i].status,
                         .sip_code = cases[i].code,
                         .start = 1 * S,
                         .answer = cases[i].answer,
                         .end = cases[i].end};
        c.call_id = (char *)cases[i].call_id;
        c.caller.number = (char *)cases[i].caller;
        c.callee.number = (char *)cases[i].callee;
        struct call_media_result m = {.streams = streams, .nstreams = cases[i].nstreams};
        snprintf(m.media_state, sizeof(m.media_state), "%s", cases[i].media_state);
        if (cases[i].rec) {
            m.rec.present = true;
            m.rec.bytes = 11219;
            snprintf(m.rec.codec_in, sizeof(m.rec.codec_in), "PCMU");
            snprintf(m.rec.state, sizeof(m.rec.state), "complete");
        }
        char *line = format(&c, &m);
        CHECK_STR(line, cases[i].want);
        free(line);
    }
}

static void test_one_way(void)
{
    struct config cfg;
    config_defaults(&cfg);
    cfg.alarm_one_way_s = 10;
    struct media_stream_result both[2] = {{.channel = 0, .packets = 500},
                                          {.channel = 1, .packets = 500}};
    struct media_stream_result one[3] = {{.channel = 0, .packets = 500},
                                         {.channel = 1, .packets = 0},
                                         {.channel = -1, .packets = 9}};
    static const struct {
        enum call_status status;
        pkt_time_t answer, end;
        int which; /* 0 both, 1 one-way, 2 no stream */
        bool want;
    } cases[] = {
        {CALL_ANSWERED, 2 * S, 30 * S, 1, true},     {CALL_ANSWERED, 2 * S, 30 * S, 0, false},
        {CALL_ANSWERED, 2 * S, 30 * S, 2, false}, /* no media at all: not one-way */
        {CALL_ANSWERED, 2 * S, 12 * S, 1, false}, /* exactly the threshold: too short */
        {CALL_ANSWERED, 2 * S, 12 * S + 1, 1, true}, {CALL_BUSY, 0, 30 * S, 1, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct call c = {.status = cases[i].status,
                         .answer = cases[i].answer,
                         .end = cases[i].end,
                         .start = 1 * S};
        struct call_media_result m = {0};
        if (cases[i].which == 0)
            m.streams = both, m.nstreams = 2;
        else if (cases[i].which == 1)
            m.streams = one, m.nstreams = 3;
        CHECK_INT(call_report_one_way(&cfg, &c, &m), cases[i].want);
    }
}

static void test_metrics_text(void)
{
    struct counters c = {0};
    c.packets = 42;
    c.drop_kernel = 3;
    c.drop_rtp_late = 5;
    c.calls_one_way_audio = 1;
    struct pipeline_stats st = {.calls_active = 6, .encoder_complexity = 2, .backlog_s = 0.25};
    st.sip_requests[SIPM_INVITE] = 9;
    st.sip_responses[SIPM_INVITE] = 18;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    metrics_write_capture(f, &c, &st, 1700000000 * S + 500000);
    fclose(f);
    static const char *const want[] = {
        "\ngreffier_packets_total 42\n",
        "\ngreffier_calls_one_way_audio_total 1\n",
        "\ngreffier_drops_total{reason=\"kernel\"} 3\n",
        "\ngreffier_drops_total{reason=\"rtp_late\"} 5\n",
        "\ngreffier_drops_total{reason=\"pcap_read_errors\"} 0\n",
        "\ngreffier_sip_requests_total{method=\"INVITE\"} 9\n",
        "\ngreffier_sip_requests_total{method=\"other\"} 0\n",
        "\ngreffier_sip_responses_total{method=\"INVITE\"} 18\n",
        "\ngreffier_calls_active 6\n",
        "\ngreffier_encoder_complexity 2\n",
        "\ngreffier_encoder_backlog_seconds 0.250\n",
        "\ngreffier_capture_snapshot_timestamp_seconds 1700000000.500\n",
        "# HELP greffier_drops_total ",
        "\n# TYPE greffier_drops_total counter\n",
        "\n# TYPE greffier_calls_active gauge\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(text, want[i]))
            fprintf(stderr, "missing: %s", want[i]);
        CHECK(strstr(text, want[i]) != NULL);
    }
    /* Every sample's family was introduced by HELP then TYPE; the timestamp is last. */
    size_t samples = 0, families = 0;
    char family[128] = "";
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        CHECK(nl != NULL);
        if (!nl)
            break;
        *nl = '\0';
        if (strncmp(line, "# HELP ", 7) == 0) {
            families++;
            snprintf(family, sizeof(family), "%.*s", (int)strcspn(line + 7, " "), line + 7);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            CHECK(strncmp(line + 7, family, strlen(family)) == 0);
        } else {
            samples++;
            size_t n = strcspn(line, "{ ");
            CHECK(n == strlen(family) && strncmp(line, family, n) == 0);
        }
    }
    CHECK(families > 30);
    CHECK(samples > families);
    CHECK_STR(family, "greffier_capture_snapshot_timestamp_seconds");
    free(text);

    char label[64] = "";
    f = fmemopen(label, sizeof(label), "w");
    metrics_label_value(f, "a\"b\\c\nd");
    fclose(f);
    CHECK_STR(label, "\"a\\\"b\\\\c\\nd\"");
}

int main(void)
{
    test_lines();
    test_one_way();
    test_metrics_text();
    return TEST_REPORT("test_call_report");
}

/*
 * media_result.h - what the media stage learnt about one call (or one stream that matched
 * no call), handed to the index when the call is finished.
 *
 * Ownership: filled by media_call_finished() and released with media_result_free(); the
 * index copies what it stores.
 */
#ifndef GREFFIER_MEDIA_RESULT_H
#define GREFFIER_MEDIA_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/config.h"
#include "greffier/packet.h"

/* One RTP stream: one direction, one SSRC run of a 5-tuple. */
struct media_stream_result {
    int channel;          /* 0: the caller's voice, 1: the callee's, -1: unmatched */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint32_t ssrc;
    uint32_t ssrc_changes;
    char payload_types[64]; /* "0,101": every payload type seen */
    char codec[24];         /* the audio codec decoded ("PCMU"), "" when none */
    uint64_t packets, bytes;
    uint64_t lost, duplicated, reordered, late;
    double jitter_ms, max_gap_ms, mos; /* mos 0 when not computed */
    pkt_time_t first, last;
    bool srtp;
    uint64_t srtp_auth_failures;
    bool rtcp_seen; /* RTCP report about this SSRC from the far end */
    double rtcp_fraction_lost; /* 0..1, last report */
    int64_t rtcp_cumulative_lost;
    double rtcp_jitter_ms;
};

/* Something that happened at a known offset of the recording. */
struct media_event {
    pkt_time_t ts;       /* packet time */
    int64_t offset_ms;   /* from the start of the recording; -1 when there is none */
    char kind[16];       /* "dtmf", "hold", "resume", "codec", "unknown_payload",
                            "early_media", "srtp_auth" */
    char detail[64];     /* the digit, the codec name, the payload type ... */
    int channel;         /* 0 caller, 1 callee, -1 both/unknown */
};

struct recording_result {
    bool present;
    char path[256];     /* relative to the data directory */
    char codec_in[48];  /* codecs decoded, "PCMU" or "PCMU+G722" */
    unsigned sample_rate;
    double duration_s;
    uint64_t bytes;
    char sha256[65];    /* of the file as stored, hex */
    pkt_time_t start;   /* packet time of sample 0 */
    int64_t answer_offset_ms; /* where the answer is in the file; -1 when not in it */
    unsigned bitrate, frame_ms, complexity;
    unsigned peaks_per_second;
    const int8_t *peaks; /* npeaks * 4: ch0 min, ch0 max, ch1 min, ch1 max */
    size_t npeaks;
    char state[16];      /* "complete", "truncated", "failed" */
};

/* What the recording rules decided for the call (rules.h), copied so that it outlives
 * a configuration reload. */
struct media_rules_decision {
    bool made;     /* false: the media stage never asked (no call state) */
    bool recorded; /* audio kept (a sample: this call was chosen) */
    char origin[RULE_NAME_SIZE]; /* the rule's name, "[never_record]" or "[default]" */
    char action[16];             /* "record", "skip", "sample", "on_demand" */
    unsigned retention_days;     /* 0: the general retention */
    char tags[RULE_MAX_TAGS][RULE_TAG_SIZE];
    size_t ntags;

    /* action "on_demand" only (docs/RULES.md): "pending" until a decision, then "kept" or
     * "discarded"; "" for the other actions, and for an on_demand call that never had a
     * recording to decide about. */
    char on_demand[12];
    char decided_by[72];   /* "dtmf", a web user, "cli:UID" */
    pkt_time_t decided_at; /* packet time of the code's last digit, or of the request */
    pkt_time_t deadline;   /* pending: destroyed unless kept by then (end + grace) */
    bool malicious;        /* marked during the call (DTMF or a request) */
    char malicious_by[72];
};

struct call_media_result {
    /* "recorded", "no_media" (answered, no RTP seen), "not_answered", "encrypted"
     * (SRTP without visible keys or DTLS: not recordable), "failed" (writing failed),
     * "not_recorded" (answered, but the recording rules said no: no audio written) */
    char media_state[24];
    struct media_rules_decision decision;
    struct recording_result rec;
    struct media_stream_result *streams;
    size_t nstreams;
    struct media_event *events;
    size_t nevents;
    void *owned_; /* private: memory released by media_result_free */
};

void media_result_free(struct call_media_result *r);

#endif

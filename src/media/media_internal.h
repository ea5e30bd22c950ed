/*
 * media_internal.h - private to the media stage: calls, expectations and streams.
 */
#ifndef GREFFIER_MEDIA_INTERNAL_H
#define GREFFIER_MEDIA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "greffier/call.h"
#include "greffier/codec.h"
#include "greffier/config.h"
#include "greffier/counters.h"
#include "greffier/media_result.h"
#include "greffier/ogg_opus.h"
#include "greffier/rtp.h"
#include "greffier/srtp_keys.h"
#include "greffier/vault.h"
#include "encoder_pool.h"
#include "recording_file.h"
#include "timeline.h"

#define EXP_BUCKETS 4096
#define FLOW_BUCKETS 16384
#define MAX_FLOWS 200000
#define UNMATCHED_IDLE ((pkt_time_t)60 * 1000000)
/* Largest payload a reorder slot keeps: L16 at 48 kHz mono is 1920 bytes per 20 ms (a
 * larger one is counted as drop_rtp_oversized).  Slots are per stream: memory per call. */
#define MAX_PAYLOAD 2048
#define MAX_DECODERS 4

struct call_media;

/* "Party X receives audio at addr:port" (from X's SDP). */
struct expectation {
    struct ip_addr addr;
    uint16_t port;
    bool receiver_is_caller;
    bool rtcp; /* port + 1 of an m= line */
    unsigned m_index;
    struct call_media *cm;
    struct expectation *hnext; /* hash bucket */
    struct expectation *cnext; /* the call's list */
};

struct stream_decoder {
    uint8_t pt;
    enum codec_id codec;
    uint32_t clock;
    struct codec_decoder *dec; /* NULL for telephone-event, CN and unknown */
};

/* One direction of one 5-tuple. */
struct media_stream {
    struct media_stream *hnext; /* flow table */
    struct media_stream *cnext; /* the call's streams, or the unmatched list */
    uint64_t hash;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    struct call_media *cm; /* NULL: unmatched */
    int channel;           /* 0 caller's voice, 1 callee's */
    unsigned m_index;
    bool rtcp_port;
    uint64_t exp_generation;

    struct rtp_stats stats;
    struct rtp_reorder *reorder;
    struct dtmf_tracker dtmf;
    struct srtp_stream *srtp;
    bool srtp_tried;
    uint64_t srtp_auth_failures;
    uint64_t late;

    struct stream_decoder decoders[MAX_DECODERS];
    unsigned ndecoders;
    enum codec_id last_codec;
    uint8_t unknown_pt_reported[16]; /* bitmap of payload types already reported */

    /* Placement on the call's timeline (in samples at the recording's rate). */
    bool anchored;
    int64_t anchor_pos;
    uint32_t anchor_ts;
    uint32_t anchor_clock;
    pkt_time_t last_arrival;
    int64_t skew_min;
    unsigned skew_count;

    /* RTCP from the far end about this stream's SSRC. */
    bool rtcp_seen;
    double rtcp_fraction_lost, rtcp_jitter_ms;
    int64_t rtcp_cumulative_lost;
};

struct call_media {
    struct call *call; /* borrowed from the dialog tracker until media_call_finished */
    struct media *m;
    struct call_media *prev, *next;
    struct expectation *exps;
    struct media_stream *streams;
    bool encrypted;   /* SRTP without visible keys */
    bool disk_full;   /* its recording was not started: the disk was full (stop) */
    bool on_hold[2];

    /* The recording rules' decision, made once: at the first audio, or at the end for a
     * call that had none. */
    struct media_rules_decision decision;
    /* on_demand: the agent's channels (rules_agent_channels) and the keys they dialled
     * lately, oldest first. */
    unsigned agent_channels;
    char agent_digits[2 * DTMF_CODE_SIZE];
    pkt_time_t agent_digit_at;

    /* The recording, created at the first audio. */
    bool recording;
    bool failed;
    pkt_time_t rec_start;
    unsigned rate;
    struct recording_file *file;
    struct ogg_opus_writer *writer;
    struct encoder_lane *lane; /* [media] encoder_threads > 1: the writer is the lane's */
    unsigned complexity_min; /* lowest encoder complexity used in this recording */
    struct timeline *tl;
    char relpath[256];
    bool unindexed; /* media_call_unindexed: a file at relpath is a crash's leftover */
    char codecs[48];

    struct media_event *events;
    size_t nevents, events_cap;
};

struct media {
    const struct config *cfg;
    struct counters *counters;
    struct encoder_pool *encoders; /* NULL: encoding on the pipeline thread */
    char data_dir[4096];
    unsigned frame_ms;
    unsigned complexity; /* the encoder's, lowered under backlog (media_set_complexity) */
    bool disk_full;      /* no new recording starts (media_set_disk_full) */
    bool disk_full_seen; /* a recording failed with ENOSPC (media_disk_full_seen) */
    /* The newest recording public key, loaded at the first recording (the capture side
     * never holds a private key); NULL until then or when it could not be loaded. */
    struct vault_pubkey *pubkey;
    struct expectation *exp[EXP_BUCKETS];
    uint64_t exp_generation;
    struct media_stream *flows[FLOW_BUCKETS];
    size_t nflows;
    struct media_stream *unmatched;
    size_t nunmatched;
    struct call_media *calls;
};

/* stream.c */
struct media_stream *stream_new(struct media *m, const struct l4_packet *p);
void stream_free(struct media_stream *s);
void stream_bound(struct media *m, struct media_stream *s);
void stream_packet(struct media *m, struct media_stream *s, const struct l4_packet *p);
void stream_flush(struct media *m, struct media_stream *s);
void stream_result(const struct media_stream *s, struct media_stream_result *out);
void stream_report_unmatched(struct media *m, struct media_stream *s,
                             void (*fn)(void *user, const struct media_stream_result *r),
                             void *user);

/* recording.c */
/* The recording rules' decision for the call, asked once (recording.c). */
bool recording_rules(struct media *m, struct call_media *cm);
/* Destroys the recording in progress (on_demand discard): the temporary file is unlinked
 * and no audio of the call is written any more. */
void recording_destroy(struct media *m, struct call_media *cm);
bool recording_ensure(struct media *m, struct call_media *cm, pkt_time_t first_audio);
void recording_advance(struct media *m, struct call_media *cm, pkt_time_t now);
void recording_close(struct media *m, struct call_media *cm, struct call_media_result *out);
int64_t recording_end_pos(const struct call_media *cm);
void media_event(struct call_media *cm, pkt_time_t ts, const char *kind, int channel,
                 const char *detail);
void media_event_at(struct call_media *cm, pkt_time_t ts, int64_t offset_ms, const char *kind,
                    int channel, const char *detail);

/* ondemand.c */
/* A DTMF key from channel (0 caller, 1 callee) at packet time ts. */
void ondemand_dtmf(struct media *m, struct call_media *cm, int channel, char key, pkt_time_t ts);

#endif

/*
 * index.h - the SQLite index of calls.
 *
 * WAL mode, foreign keys on, numbered schema migrations applied at open (the list
 * lives in src/index/schema.c), every statement prepared with bound parameters.
 * Writes are batched in transactions by the pipeline (index_begin/index_commit).
 */
#ifndef GREFFIER_INDEX_H
#define GREFFIER_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "greffier/call.h"
#include "greffier/packet.h"

struct index;

/* Opens (creating when create is true, with the directory itself) DIR/index.sqlite,
 * where dir is the data directory, and migrates it.  A database written by a newer
 * greffier (unknown schema version) is refused.  On failure returns NULL and writes the
 * reason to err. */
struct index *index_open(const char *dir, bool create, char *err, size_t errsize);
void index_close(struct index *ix);

int index_begin(struct index *ix);
int index_commit(struct index *ix);

/* Stores a finished (or still in progress at end of capture) call with its SIP messages
 * and media offers, atomically.  Returns 1 when stored, 0 when an identical call (same
 * Call-ID and start) is already indexed (nothing written), -1 on error (message logged).
 * Sets call->id to the call's row, the existing one when 0 is returned. */
int index_store_call(struct index *ix, struct call *c);

/* A SIP-over-TLS flow seen on the wire: its calls cannot be read nor recorded.
 * Returns 1 when stored, 0 when already indexed (same addresses and first time), -1. */
int index_store_tls_flow(struct index *ix, const struct ip_addr *src, uint16_t sport,
                         const struct ip_addr *dst, uint16_t dport, pkt_time_t first,
                         pkt_time_t last, uint64_t packets, uint64_t bytes);

struct call_filter {
    bool has_from, has_to;
    pkt_time_t from, to;   /* start time range, inclusive from, exclusive to */
    const char *number;    /* digits: matches caller, callee or redirecting, normalised */
    const char *number_norm; /* the same number normalised by the caller of the query */
    bool has_status;
    enum call_status status;
    long limit;            /* <= 0: no limit */
};

/* Lists calls newest first.  --json prints the array of the `calls --json` contract;
 * otherwise a table.  Returns the number of rows, -1 on error. */
long index_list_calls(struct index *ix, const struct call_filter *f, bool json, FILE *out);

#endif

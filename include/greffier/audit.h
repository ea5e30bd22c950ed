/*
 * audit.h - the audit trail: who searched, replayed, logged in and changed accounts.
 *
 * Rows live in the index's audit table (id, ts, user, action, target, detail JSON,
 * prev_hash, hash) and are chained: hash = SHA-256(prev_hash || canonical text of the
 * row), prev_hash of the first row 64 zeros (hex).  Changing or removing a row breaks
 * every later link, which `greffier audit verify` reports.  Removing the newest rows
 * cannot be seen from the chain alone: the journal's copy of each append (logged at
 * notice) is the outside witness.
 *
 * Time is clock_now() (clock.h) in UTC: the wall clock, or GREFFIER_TEST_NOW in tests.
 */
#ifndef GREFFIER_AUDIT_H
#define GREFFIER_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "greffier/packet.h"

struct index;

/* The time an audit row or an account change is stamped with, in microseconds. */
pkt_time_t audit_now(void);

/* Appends one row atomically (its own transaction, or a savepoint inside the caller's).
 * user: the account acting ("-" when unknown, "cli:UID" from the command line); target
 * and detail may be NULL ("" and "{}"); detail must be a JSON object text.  0, or -1
 * (logged). */
int audit_append(struct index *ix, const char *user, const char *action, const char *target,
                 const char *detail);

/* Walks the chain from the first row.  Returns 0 when intact (*rows set), 1 when a link
 * is broken (*bad_id is the first row that does not match, why says how), -1 on error. */
int audit_verify(struct index *ix, int64_t *rows, int64_t *bad_id, char *why, size_t whysize);

/* Rows newest first as a JSON array; limit <= 0 is no limit.  Returns the count, -1. */
long audit_list_json(struct index *ix, long limit, long offset, FILE *out);
/* The same, only the rows about target (a call id in decimal, a user name...) when it is
 * not NULL: what an auditor sees on a call's page. */
long audit_list_target_json(struct index *ix, const char *target, long limit, long offset,
                            FILE *out);

#endif

/*
 * recording_file.h - private to the media stage: where a recording's bytes go.
 *
 * A byte_sink that seals what it is given (the vault: docs/FORMAT.md) into
 * DIR/recordings/YYYY/MM/DD/NAME.gfv under a temporary name NAME.gfv.part, hashing
 * every SEALED byte (SHA-256, OpenSSL EVP) as it goes, so that the index's hash is of
 * the file as stored and can be checked without any key.  Each sealed chunk is written
 * as soon as it is full, and the file is fdatasynced at least every sync_interval_s;
 * commit seals the last chunk, fsyncs the file, renames it into place and fsyncs the
 * folder, so a recording either exists whole or not at all (a crash leaves a .part
 * file that vault_recover() closes).
 */
#ifndef GREFFIER_MEDIA_RECORDING_FILE_H
#define GREFFIER_MEDIA_RECORDING_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "greffier/packet.h"
#include "greffier/vault.h"

struct recording_file;

/* relpath receives the path relative to data_dir (at least 256 bytes).  meta (metalen
 * bytes, JSON) is sealed into the header.  Only pk, a public key, is needed. */
struct recording_file *recording_file_create(const char *data_dir, pkt_time_t start,
                                             const char *call_id, const struct vault_pubkey *pk,
                                             const void *meta, size_t metalen,
                                             unsigned sync_interval_s, char *relpath,
                                             size_t relsize, char *err, size_t errsize);
/* The byte_sink write function: plaintext (Ogg Opus) in, sealed chunks to disk. */
int recording_file_write(void *rf, const uint8_t *data, size_t len);
/* 0 when the file is durable in its place; sha256 (65 bytes) and bytes filled (of the
 * sealed file).  A file already at the final name is kept (and described) unless
 * replace_leftover: the call has no index row, so that file is what a crash left. */
int recording_file_commit(struct recording_file *rf, bool replace_leftover, char *sha256,
                          uint64_t *bytes, char *err, size_t errsize);
/* The errno of the write or sync that failed, 0 when none did (ENOSPC: the disk is full,
 * which the capture daemon acts on at once). */
int recording_file_errno(const struct recording_file *rf);
/* Removes the temporary file (an unanswered call, a failure). */
void recording_file_abort(struct recording_file *rf);

#endif

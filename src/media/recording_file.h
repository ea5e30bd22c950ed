/*
 * recording_file.h - private to the media stage: where a recording's bytes go.
 *
 * A byte_sink writing DIR/recordings/YYYY/MM/DD/NAME.ogg under a temporary name,
 * hashing every byte (SHA-256, OpenSSL EVP) as it goes; commit fsyncs the file,
 * renames it into place and fsyncs the folder, so a recording either exists whole or
 * not at all.  (The vault wraps this sink with encryption.)
 */
#ifndef GREFFIER_MEDIA_RECORDING_FILE_H
#define GREFFIER_MEDIA_RECORDING_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "greffier/packet.h"

struct recording_file;

/* relpath receives the path relative to data_dir (at least 256 bytes). */
struct recording_file *recording_file_create(const char *data_dir, pkt_time_t start,
                                             const char *call_id, char *relpath,
                                             size_t relsize, char *err, size_t errsize);
int recording_file_write(void *rf, const uint8_t *data, size_t len);
/* 0 when the file is durable in its place; sha256 (65 bytes) and bytes filled. */
int recording_file_commit(struct recording_file *rf, char *sha256, uint64_t *bytes, char *err,
                          size_t errsize);
/* Removes the temporary file (an unanswered call, a failure). */
void recording_file_abort(struct recording_file *rf);

#endif

/*
 * recording_source.h - reading a stored recording back: the one place that knows how a
 * recording file is kept on disk.
 *
 * Today the file under DATA_DIR/recordings/ is the Ogg Opus stream itself and the index
 * keeps its SHA-256.  When the vault seals recordings (AEAD chunks), these two functions
 * change and their callers (greffier audio, the web player) do not: they read plain
 * Ogg Opus bytes through a byte_source and ask whether the file is intact.
 */
#ifndef GREFFIER_RECORDING_SOURCE_H
#define GREFFIER_RECORDING_SOURCE_H

#include <stddef.h>

#include "greffier/index.h"
#include "greffier/ogg_opus.h"

struct recording_source;

/* Opens the recording described by info (info->path is relative to data_dir) and sets
 * *src to read its Ogg Opus bytes; src stays valid until recording_source_close.  A path
 * that is absolute, climbs out with "..", or ends in a symbolic link is refused.  On
 * failure returns NULL with err naming the file and the reason. */
struct recording_source *recording_open_source(const char *data_dir,
                                               const struct recording_info *info,
                                               struct byte_source *src, char *err, size_t errsize);
void recording_source_close(struct recording_source *rs);

/* Checks the stored file against what the index recorded when it was written (today its
 * size and SHA-256, read in one streaming pass).  Returns 0 when intact, 1 when altered
 * (err says how), -1 when it cannot be checked (missing, unreadable; err says why). */
int recording_verify(const char *data_dir, const struct recording_info *info, char *err,
                     size_t errsize);

#endif

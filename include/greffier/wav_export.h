/*
 * wav_export.h - an Ogg Opus recording decoded to a 16-bit PCM stereo WAV file.
 */
#ifndef GREFFIER_WAV_EXPORT_H
#define GREFFIER_WAV_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "greffier/ogg_opus.h"

/* Decodes src (ogg_opus_decode) into path: 2 channels (caller, callee), 16-bit PCM, at
 * the recording's rate.  The file is written under a temporary name in the same
 * directory, synced and renamed, so path either holds the whole recording or is left
 * as it was.  Created with mode 0600 (it is a call recording).  truncated: the stream
 * was cut by a crash (its chunks authenticated, its end missing): what decodes before
 * the cut is the WAV, and the cut is no error.  Returns 0, or -1 with err set. */
int wav_export_from_ogg(const struct byte_source *src, bool truncated, const char *path,
                        char *err, size_t errsize);

#endif

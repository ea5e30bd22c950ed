/*
 * recording_source.h - reading a stored recording back: the one place that knows how a
 * recording file is kept on disk.
 *
 * The file under DATA_DIR/recordings/ is sealed by the vault (include/greffier/vault.h,
 * docs/FORMAT.md) and the index keeps the SHA-256 of the sealed file.  Callers
 * (greffier audio, verify, the web player) read plain Ogg Opus bytes through a
 * byte_source and ask whether the file is intact; opening needs the recording's
 * private key in DATA_DIR/keys.
 */
#ifndef GREFFIER_RECORDING_SOURCE_H
#define GREFFIER_RECORDING_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* Size of the Ogg Opus stream (the plaintext, not the sealed file on disk). */
uint64_t recording_source_size(const struct recording_source *rs);
/* Reads up to len bytes at offset, decrypting only the chunks they touch (HTTP Range,
 * seeking).  Returns the bytes read, 0 at the end, -1 on failure. */
long recording_source_read_at(struct recording_source *rs, uint64_t offset, uint8_t *buf,
                              size_t len);

/* Checks the stored file against what the index recorded when it was written (its size
 * and SHA-256) and authenticates every chunk (recording_check).  Returns 0 when intact
 * (or truncated by a crash, known so to the index and unchanged since: it plays up to
 * its last sealed chunk), 1 when altered or truncated (err says how), -1 when it cannot be checked (missing,
 * unreadable, no private key; err says why). */
int recording_verify(const char *data_dir, const struct recording_info *info, char *err,
                     size_t errsize);

enum recording_state {
    RECORDING_OK,
    RECORDING_TRUNCATED, /* every chunk present authenticates; the end is missing */
    RECORDING_TAMPERED,  /* a byte differs from what was written */
    RECORDING_MISSING,   /* no file at the indexed path */
    RECORDING_UNCHECKED, /* unreadable, no SHA-256 in the index, bad path */
};

/* The detailed check behind recording_verify and `greffier verify`: SHA-256 and size
 * against the index (no key needed), then, when the private key named by the file is in
 * DATA_DIR/keys, every chunk's tag and the last flag.  *keyed tells whether the chunks
 * were checked.  err says why when not RECORDING_OK (and "sha256 only" when keyless). */
enum recording_state recording_check(const char *data_dir, const struct recording_info *info,
                                     bool *keyed, char *err, size_t errsize);

/* SHA-256 (lowercase hex, 65 bytes) and size of the whole file on fd, read from its
 * current offset.  0, or -1 (errno set). */
int recording_hash_fd(int fd, char sha256[65], uint64_t *bytes);

#endif

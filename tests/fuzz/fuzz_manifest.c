/*
 * fuzz_manifest.c - the readers of `greffier verify-bundle` on hostile input: the
 * manifest parser, the zip directory reader (and the manifest found inside a zip), and
 * the RFC 3161 response check.  Every input gets an answer, never a crash; what the zip
 * reader returns must lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/export/export_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct manifest m;
    struct zip_entry *e = NULL;
    size_t n = 0;
    char err[256], when[64];

    if (manifest_parse(data, size, &m, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < m.nfiles; i++)
            if (!bundle_name_ok(m.files[i].path, strlen(m.files[i].path)))
                abort();
        manifest_free(&m);
    }
    if (zip_read_dir(data, size, &e, &n, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (e[i].data_offset > size || e[i].size > size - e[i].data_offset)
                abort(); /* an entry outside the archive */
            (void)zip_crc32(data + e[i].data_offset, e[i].size);
            if (strcmp(e[i].name, "manifest.json") == 0 &&
                manifest_parse(data + e[i].data_offset, e[i].size, &m, err, sizeof(err)) == 0)
                manifest_free(&m);
        }
        free(e);
    }
    static const uint8_t nonce[TSQ_NONCE_BYTES] = {0x80, 1, 2, 3, 4, 5, 6, 7};
    uint8_t *tsq = NULL;
    size_t tsq_len = 0;
    if (tsq_build((const uint8_t *)"x", 1, nonce, sizeof(nonce), &tsq, &tsq_len) == 0) {
        (void)tsr_check(data, size, tsq, tsq_len, (const uint8_t *)"x", 1, NULL, when, sizeof(when),
                        err, sizeof(err));
        OPENSSL_free(tsq);
    }
    return 0;
}

/*
 * fuzz_vault.c - the vault reader on hostile files: a sealed recording read back from
 * disk (greffier audio, the web player, verify) must fail cleanly on any damage.
 *
 * The key under tests/fuzz/vault-key/ is a test key made for this corpus only (its seeds
 * are sealed for it, so mutations reach past the header into chunk authentication).
 * Tests run from the repository root.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "greffier/vault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("vault-fuzz", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    enum vault_status status;
    char err[256];
    /* The reader owns fd from here, even on failure. */
    struct vault_reader *r = vault_reader_open(fd, "tests/fuzz/vault-key",
                                               VAULT_OPEN_ALLOW_TRUNCATED, &status, err,
                                               sizeof(err));
    if (!r)
        return 0;
    uint8_t buf[1024];
    uint64_t total = vault_reader_size(r);
    for (uint64_t off = 0; off < total;) {
        long n = vault_read_range(r, off, buf, sizeof(buf));
        if (n <= 0)
            break;
        off += (uint64_t)n;
    }
    if (total > 10)
        vault_read_range(r, total - 10, buf, 20);
    (void)vault_reader_check_all(r);
    size_t mlen;
    (void)vault_reader_meta(r, &mlen);
    vault_reader_close(r);
    return 0;
}

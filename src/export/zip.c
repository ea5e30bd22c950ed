/*
 * zip.c - the zip form of a bundle: every entry stored (method 0, no compression: the
 * Ogg and the WAV would barely shrink, and a stored entry is its file byte for byte),
 * CRC-32 from zlib, no zip64 (an entry or an archive over 4 GiB is refused: export to a
 * folder instead).  Reference: PKWARE APPNOTE.TXT 6.3.10, §4.3 (structure), §4.4
 * (fields), §4.3.16 (end of central directory).
 *
 * The reader trusts nothing: the end record is searched for, the central directory and
 * each local header must lie inside the archive, sizes must agree, names must be safe
 * bundle paths (bundle_name_ok) and unique.  Directory entries (a name ending in '/',
 * as other zip tools add) are skipped.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "export_int.h"

enum {
    LOCAL_SIG = 0x04034b50,
    CENTRAL_SIG = 0x02014b50,
    END_SIG = 0x06054b50,
    LOCAL_LEN = 30,
    CENTRAL_LEN = 46,
    END_LEN = 22,
    VERSION_NEEDED = 20,   /* 2.0 */
    VERSION_MADE = 0x0314, /* Unix (3), spec 2.0 */
    FLAG_ENCRYPTED = 1,
    FLAG_UTF8 = 1 << 11,
    DOS_DATE_1980 = 0x21, /* 1980-01-01: the bundle's dates are in manifest.json */
};

uint32_t zip_crc32(const uint8_t *p, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (len) {
        uInt n = len > 1u << 30 ? 1u << 30 : (uInt)len;
        c = crc32(c, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* The fields local and central headers share, from "version needed" to "extra length". */
static void common_fields(uint8_t *p, uint32_t crc, uint32_t size, size_t name_len)
{
    put16(p, VERSION_NEEDED);
    put16(p + 2, 0); /* flags */
    put16(p + 4, 0); /* stored */
    put16(p + 6, 0); /* time 00:00 */
    put16(p + 8, DOS_DATE_1980);
    put32(p + 10, crc);
    put32(p + 14, size);
    put32(p + 18, size);
    put16(p + 22, (unsigned)name_len);
    put16(p + 24, 0);
}

static const char *const too_big = "over 4 GiB: export to a folder (no zip64 here)";

/* The local header of f (its CRC and size known), at the archive's current end. */
static int local_header(struct bundle *b, struct bfile *f, char *err, size_t errsize)
{
    uint8_t h[LOCAL_LEN];
    size_t nl = strlen(f->name);
    if (f->len >= 0xffffffffu || b->zip_pos + LOCAL_LEN + nl + f->len >= 0xffffffffu) {
        snprintf(err, errsize, "%s: zip %s", f->name, too_big);
        return -1;
    }
    f->offset = (uint32_t)b->zip_pos;
    put32(h, LOCAL_SIG);
    common_fields(h + 4, f->crc32, (uint32_t)f->len, nl);
    if (fwrite(h, 1, LOCAL_LEN, b->zip) != LOCAL_LEN || fwrite(f->name, 1, nl, b->zip) != nl) {
        snprintf(err, errsize, "%s: writing the zip failed", f->name);
        return -1;
    }
    b->zip_pos += LOCAL_LEN + nl;
    return 0;
}

int zip_put(struct bundle *b, struct bfile *f, const uint8_t *data, char *err, size_t errsize)
{
    f->crc32 = zip_crc32(data, f->len);
    if (local_header(b, f, err, errsize) != 0)
        return -1;
    if (fwrite(data, 1, f->len, b->zip) != f->len) {
        snprintf(err, errsize, "%s: writing the zip failed", f->name);
        return -1;
    }
    b->zip_pos += f->len;
    return 0;
}

int zip_put_fd(struct bundle *b, struct bfile *f, int fd, char *err, size_t errsize)
{
    static uint8_t buf[1 << 16];
    if (local_header(b, f, err, errsize) != 0)
        return -1;
    size_t left = f->len;
    while (left) {
        ssize_t n = pread(fd, buf, left < sizeof(buf) ? left : sizeof(buf), (off_t)(f->len - left));
        if (n <= 0 || fwrite(buf, 1, (size_t)n, b->zip) != (size_t)n) {
            snprintf(err, errsize, "%s: copying into the zip failed", f->name);
            return -1;
        }
        left -= (size_t)n;
    }
    b->zip_pos += f->len;
    return 0;
}

int zip_finish(struct bundle *b, char *err, size_t errsize)
{
    uint8_t h[CENTRAL_LEN];
    uint64_t pos = b->zip_pos, cd_start = pos;
    const char *why = "too many files for a zip without zip64: export to a folder";
    if (b->n > 0xfffe)
        goto error;
    why = "writing the zip failed";
    for (size_t i = 0; i < b->n; i++) {
        const struct bfile *f = &b->files[i];
        size_t nl = strlen(f->name);
        memset(h, 0, sizeof(h));
        put32(h, CENTRAL_SIG);
        put16(h + 4, VERSION_MADE);
        common_fields(h + 6, f->crc32, (uint32_t)f->len, nl);
        /* comment length, disk, internal attributes: 0 */
        put32(h + 38, (uint32_t)0100600 << 16); /* a regular file, mode 0600 */
        put32(h + 42, f->offset);
        if (fwrite(h, 1, CENTRAL_LEN, b->zip) != CENTRAL_LEN ||
            fwrite(f->name, 1, nl, b->zip) != nl)
            goto error;
        pos += CENTRAL_LEN + nl;
    }
    why = too_big;
    if (pos >= 0xffffffffu)
        goto error;
    memset(h, 0, END_LEN);
    put32(h, END_SIG);
    put16(h + 8, (unsigned)b->n);
    put16(h + 10, (unsigned)b->n);
    put32(h + 12, (uint32_t)(pos - cd_start));
    put32(h + 16, (uint32_t)cd_start);
    why = "writing the zip failed";
    if (fwrite(h, 1, END_LEN, b->zip) != END_LEN || fflush(b->zip) != 0)
        goto error;
    return 0;
error:
    snprintf(err, errsize, "zip: %s", why);
    return -1;
}

int zip_read_dir(const uint8_t *zip, size_t len, struct zip_entry **entries, size_t *n, char *err,
                 size_t errsize)
{
    const char *why = "no end of central directory record (not a zip file)";
    struct zip_entry *e = NULL;
    size_t count = 0, end = 0;
    bool found = false;
    *entries = NULL;
    *n = 0;
    /* The end record is the last 22 bytes plus a comment of up to 65535 bytes. */
    for (size_t back = END_LEN; back <= len && back <= END_LEN + 0xffff; back++) {
        size_t at = len - back;
        if (get32(zip + at) == END_SIG && at + END_LEN + get16(zip + at + 20) == len) {
            end = at;
            found = true;
            break;
        }
    }
    if (!found)
        goto error;
    unsigned total = get16(zip + end + 10);
    size_t cd_size = get32(zip + end + 12), cd_off = get32(zip + end + 16);
    why = "multi-disk or zip64 archive (not written by greffier)";
    if (get16(zip + end + 4) != 0 || get16(zip + end + 6) != 0 || get16(zip + end + 8) != total ||
        total == 0xffff || cd_off == 0xffffffffu)
        goto error;
    why = "central directory outside the archive";
    if (cd_off > end || cd_size > end - cd_off)
        goto error;
    why = "too many entries";
    if (total > BUNDLE_FILES_MAX)
        goto error;
    e = calloc(total ? total : 1, sizeof(*e));
    why = "out of memory";
    if (!e)
        goto error;
    size_t p = cd_off, cd_end = cd_off + cd_size;
    for (unsigned i = 0; i < total; i++) {
        why = "truncated central directory";
        if (cd_end - p < CENTRAL_LEN || get32(zip + p) != CENTRAL_SIG)
            goto error;
        const uint8_t *c = zip + p;
        size_t nl = get16(c + 28), xl = get16(c + 30), cl = get16(c + 32);
        if (cd_end - p - CENTRAL_LEN < nl + xl + cl)
            goto error;
        const char *name = (const char *)c + CENTRAL_LEN;
        unsigned flags = get16(c + 8);
        size_t size = get32(c + 24), off = get32(c + 42);
        p += CENTRAL_LEN + nl + xl + cl;
        if (nl > 0 && name[nl - 1] == '/' && size == 0)
            continue; /* a directory entry */
        why = "an entry has an unsafe or too long name";
        if (!bundle_name_ok(name, nl))
            goto error;
        struct zip_entry *z = &e[count];
        memcpy(z->name, name, nl);
        z->name[nl] = '\0';
        why = "an entry is compressed or encrypted (greffier writes stored entries only)";
        if (get16(c + 10) != 0 || (flags & ~(unsigned)FLAG_UTF8) != 0 || get32(c + 20) != size)
            goto error;
        why = "an entry's local header is outside the archive";
        if (off > cd_off || cd_off - off < LOCAL_LEN || get32(zip + off) != LOCAL_SIG)
            goto error;
        size_t lnl = get16(zip + off + 26), lxl = get16(zip + off + 28);
        why = "an entry's data is outside the archive";
        if (cd_off - off - LOCAL_LEN < lnl + lxl || cd_off - off - LOCAL_LEN - lnl - lxl < size)
            goto error;
        why = "an entry's local header does not match the central directory";
        if (lnl != nl || memcmp(zip + off + LOCAL_LEN, name, nl) != 0 ||
            get16(zip + off + 8) != 0 || (get16(zip + off + 6) & FLAG_ENCRYPTED))
            goto error;
        z->crc32 = get32(c + 16);
        z->size = size;
        z->data_offset = off + LOCAL_LEN + lnl + lxl;
        why = "an entry name appears twice";
        for (size_t k = 0; k < count; k++)
            if (strcmp(e[k].name, z->name) == 0)
                goto error;
        count++;
    }
    *entries = e;
    *n = count;
    return 0;
error:
    snprintf(err, errsize, "%s", why);
    free(e);
    return -1;
}

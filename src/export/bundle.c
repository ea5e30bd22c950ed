/*
 * bundle.c - where a bundle's files go as they are made: a new folder, a zip file
 * (written under a temporary name, then linked into place), or a zip stream (the web
 * reply).  Each file is hashed when added and written out at once, then its bytes are
 * freed: an export holds one file in memory at a time (the largest is a call's WAV),
 * never the whole bundle.  The list of names, sizes and hashes stays for the manifest.
 *
 * On failure the partial output is removed (bundle_close with keep false): a
 * half-written bundle, with decrypted audio in it, is never left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "export_int.h"

int membuf_append(struct membuf *m, const void *data, size_t len)
{
    if (m->failed)
        return -1;
    if (len > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap - m->len < len) {
            if (cap > SIZE_MAX / 2)
                goto fail;
            cap *= 2;
        }
        uint8_t *p = realloc(m->p, cap);
        if (!p)
            goto fail;
        m->p = p;
        m->cap = cap;
    }
    if (len)
        memcpy(m->p + m->len, data, len);
    m->len += len;
    return 0;
fail:
    m->failed = true;
    return -1;
}

void membuf_free(struct membuf *m)
{
    free(m->p);
    memset(m, 0, sizeof(*m));
}

static long mem_read(void *user, uint8_t *buf, size_t len)
{
    struct mem_reader *r = user;
    size_t n = r->len - r->pos < len ? r->len - r->pos : len;
    memcpy(buf, r->p + r->pos, n);
    r->pos += n;
    return (long)n;
}

struct byte_source mem_source(struct mem_reader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    return (struct byte_source){mem_read, r};
}

int sha256_raw(const void *data, size_t len, uint8_t *digest32)
{
    unsigned n = 0;
    return EVP_Digest(data, len, digest32, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

int sha256_hex(const void *data, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t d[32];
    if (sha256_raw(data, len, d) != 0)
        return -1;
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[SHA256_HEX] = '\0';
    return 0;
}

bool bundle_name_ok(const char *name, size_t len)
{
    size_t comp = 0, depth = 1;
    if (len == 0 || len > BUNDLE_NAME_MAX)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? name[i] : '/';
        if (c == '/') {
            /* Empty, "." and ".." components are refused: a name never climbs out. */
            if (comp == 0 || (comp <= 2 && name[i - 1] == '.' && (comp == 1 || name[i - 2] == '.')))
                return false;
            if (i < len && ++depth > 2)
                return false;
            comp = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
        comp++;
    }
    return true;
}

static bool ends_with_zip(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcasecmp(path + n - 4, ".zip") == 0;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    int empty = 1;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

int bundle_check_output(const char *path, char *err, size_t errsize)
{
    struct stat st;
    if (!path || !*path) {
        snprintf(err, errsize, "no output path");
        return -1;
    }
    if (strlen(path) > BUNDLE_PATH_MAX) {
        snprintf(err, errsize, "%s: path too long", path);
        return -1;
    }
    if (lstat(path, &st) != 0)
        return 0;
    if (!ends_with_zip(path) && S_ISDIR(st.st_mode) && dir_is_empty(path) == 1)
        return 0;
    snprintf(err, errsize, "%s already exists%s; refusing to overwrite it or mix bundles", path,
             ends_with_zip(path) || !S_ISDIR(st.st_mode) ? "" : " and is not empty");
    return -1;
}

static struct bundle *bundle_new(void)
{
    struct bundle *b = calloc(1, sizeof(*b));
    if (b)
        b->dirfd = -1;
    return b;
}

struct bundle *bundle_open_path(const char *path, char *err, size_t errsize)
{
    if (bundle_check_output(path, err, errsize) != 0)
        return NULL;
    struct bundle *b = bundle_new();
    if (!b) {
        snprintf(err, errsize, "out of memory");
        return NULL;
    }
    snprintf(b->path, sizeof(b->path), "%s", path);
    if (ends_with_zip(path)) {
        snprintf(b->tmp, sizeof(b->tmp), "%s.tmp-XXXXXX", path);
        int fd = mkstemp(b->tmp);
        b->zip = fd >= 0 ? fdopen(fd, "wb") : NULL;
        if (!b->zip) {
            snprintf(err, errsize, "%s: %s", b->tmp, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(b->tmp);
            }
            free(b);
            return NULL;
        }
        b->own_zip = true;
        return b;
    }
    if (mkdir(path, 0700) == 0)
        b->made_dir = true;
    else if (errno != EEXIST) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        free(b);
        return NULL;
    }
    b->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (b->dirfd < 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        free(b);
        return NULL;
    }
    return b;
}

struct bundle *bundle_open_stream(FILE *zip_out, uint64_t max_bytes)
{
    struct bundle *b = bundle_new();
    if (b) {
        b->zip = zip_out;
        b->max_bytes = max_bytes;
    }
    return b;
}

bool bundle_too_big(const struct bundle *b)
{
    return b->too_big;
}

static int write_file(int dirfd, const char *name, const uint8_t *p, size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n == 0 ? EIO : errno;
            close(fd);
            errno = e;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

static int make_subdir(struct bundle *b, const char *name, char *err, size_t errsize);

static int put_in_dir(struct bundle *b, const struct bfile *f, const uint8_t *data, char *err,
                      size_t errsize)
{
    if (make_subdir(b, f->name, err, errsize) != 0)
        return -1;
    if (write_file(b->dirfd, f->name, data, f->len) != 0) {
        snprintf(err, errsize, "%s/%s: %s", b->path, f->name, strerror(errno));
        if (errno != EEXIST)
            unlinkat(b->dirfd, f->name, 0); /* a partial file is not left behind */
        return -1;
    }
    return 0;
}

/* The next entry of the list (not yet counted), or NULL with err set. */
static struct bfile *new_entry(struct bundle *b, const char *name, char *err, size_t errsize)
{
    size_t nlen = strlen(name);
    snprintf(err, errsize, "%s: cannot be added to the bundle", name);
    if (!bundle_name_ok(name, nlen) || bundle_find(b, name) || b->n >= BUNDLE_FILES_MAX)
        return NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct bfile *f = realloc(b->files, cap * sizeof(*f));
        if (!f)
            return NULL;
        b->files = f;
        b->cap = cap;
    }
    struct bfile *f = &b->files[b->n];
    memset(f, 0, sizeof(*f));
    memcpy(f->name, name, nlen + 1);
    return f;
}

int bundle_add(struct bundle *b, const char *name, uint8_t *data, size_t len, char *err,
               size_t errsize)
{
    int rc = -1;
    struct bfile *f = new_entry(b, name, err, errsize);
    if (!f)
        goto out;
    f->len = len;
    if (sha256_hex(data, len, f->sha256) != 0)
        goto out;
    if (b->max_bytes && (len > b->max_bytes || b->zip_pos > b->max_bytes - len)) {
        b->too_big = true;
        snprintf(err, errsize,
                 "the bundle would exceed %llu MiB: export these calls with "
                 "`greffier export` instead",
                 (unsigned long long)(b->max_bytes >> 20));
        goto out;
    }
    if (b->zip)
        rc = zip_put(b, f, data, err, errsize);
    else if (b->dirfd >= 0)
        rc = put_in_dir(b, f, data, err, errsize);
    if (rc == 0)
        b->n++;
out:
    free(data);
    return rc;
}

static int make_subdir(struct bundle *b, const char *name, char *err, size_t errsize)
{
    const char *slash = strchr(name, '/');
    if (!slash)
        return 0;
    char sub[BUNDLE_NAME_MAX + 1];
    memcpy(sub, name, (size_t)(slash - name));
    sub[slash - name] = '\0';
    if (mkdirat(b->dirfd, sub, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsize, "%s/%s: %s", b->path, sub, strerror(errno));
        return -1;
    }
    return 0;
}

int bundle_file_open(struct bundle *b, const char *name, char *err, size_t errsize)
{
    if (!bundle_name_ok(name, strlen(name)) || bundle_find(b, name)) {
        snprintf(err, errsize, "%s: cannot be added to the bundle", name);
        return -1;
    }
    int fd;
    if (b->dirfd >= 0) {
        if (make_subdir(b, name, err, errsize) != 0)
            return -1;
        fd = openat(b->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    } else if (b->own_zip) {
        /* Unnamed, beside the zip (the same disk the bundle goes to), gone at close. */
        char dir[BUNDLE_PATH_MAX + 1];
        const char *slash = strrchr(b->path, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - b->path) : 1,
                 slash ? (slash == b->path ? "/" : b->path) : ".");
        fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
            char tmp[BUNDLE_PATH_MAX + 16];
            snprintf(tmp, sizeof(tmp), "%s.wav-XXXXXX", b->path);
            fd = mkstemp(tmp);
            if (fd >= 0)
                unlink(tmp); /* a file system without O_TMPFILE: unnamed all the same */
        }
    } else {
        return -2;
    }
    if (fd < 0)
        snprintf(err, errsize, "%s: %s", name, strerror(errno));
    return fd;
}

void bundle_file_abort(struct bundle *b, const char *name, int fd)
{
    close(fd);
    if (b->dirfd >= 0)
        unlinkat(b->dirfd, name, 0);
}

int bundle_file_commit(struct bundle *b, const char *name, int fd, char *err, size_t errsize)
{
    static uint8_t buf[1 << 16];
    struct bfile *f = new_entry(b, name, err, errsize);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    off_t size = lseek(fd, 0, SEEK_END);
    uint8_t d[32];
    unsigned dlen = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    int rc = -1;
    if (!f || !md || size < 0 || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    snprintf(err, errsize, "%s: %s", name, strerror(errno));
    if (fsync(fd) != 0)
        goto out;
    f->len = (size_t)size;
    for (size_t pos = 0; pos < f->len;) {
        ssize_t n =
            pread(fd, buf, f->len - pos < sizeof(buf) ? f->len - pos : sizeof(buf), (off_t)pos);
        if (n <= 0)
            goto out;
        EVP_DigestUpdate(md, buf, (size_t)n);
        crc = crc32(crc, buf, (uInt)n);
        pos += (size_t)n;
    }
    if (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != 32)
        goto out;
    for (int i = 0; i < 32; i++)
        snprintf(f->sha256 + 2 * i, 3, "%02x", d[i]);
    f->crc32 = (uint32_t)crc;
    rc = b->zip ? zip_put_fd(b, f, fd, err, errsize) : 0;
out:
    EVP_MD_CTX_free(md);
    if (rc == 0) {
        b->n++;
        close(fd);
    } else {
        bundle_file_abort(b, name, fd);
    }
    return rc;
}

const struct bfile *bundle_find(const struct bundle *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->files[i].name, name) == 0)
            return &b->files[i];
    return NULL;
}

const char *bundle_manifest_sha256(const struct bundle *b)
{
    return b->manifest_sha256;
}

int bundle_finish(struct bundle *b, char *err, size_t errsize)
{
    if (b->zip) {
        if (zip_finish(b, err, errsize) != 0)
            return -1;
        if (!b->own_zip)
            return 0;
        int rc = fflush(b->zip) == 0 && fsync(fileno(b->zip)) == 0 ? 0 : -1;
        if (fclose(b->zip) != 0)
            rc = -1;
        b->zip = NULL;
        /* link: never replaces a file someone made at that path meanwhile. */
        if (rc != 0 || link(b->tmp, b->path) != 0) {
            snprintf(err, errsize, "%s: %s", b->path, strerror(errno));
            return -1;
        }
        unlink(b->tmp);
        b->tmp[0] = '\0';
        b->linked = true;
        return 0;
    }
    if (b->dirfd >= 0)
        (void)fsync(b->dirfd);
    return 0;
}

/* Removes what a failed export wrote: the files, the call folders, the folder itself
 * when it made it, or the temporary zip. */
static void discard(struct bundle *b)
{
    if (b->own_zip) {
        if (b->zip)
            fclose(b->zip);
        b->zip = NULL;
        if (b->tmp[0])
            unlink(b->tmp);
        if (b->linked) /* finished, then the export failed (its audit row) */
            unlink(b->path);
        return;
    }
    if (b->dirfd < 0)
        return;
    for (size_t i = 0; i < b->n; i++) {
        const char *slash = strchr(b->files[i].name, '/');
        unlinkat(b->dirfd, b->files[i].name, 0);
        if (slash) {
            char sub[BUNDLE_NAME_MAX + 1];
            memcpy(sub, b->files[i].name, (size_t)(slash - b->files[i].name));
            sub[slash - b->files[i].name] = '\0';
            unlinkat(b->dirfd, sub, AT_REMOVEDIR); /* fails while not empty: fine */
        }
    }
    if (b->made_dir)
        rmdir(b->path);
}

void bundle_close(struct bundle *b, bool keep)
{
    if (!b)
        return;
    if (!keep)
        discard(b);
    else if (b->own_zip && b->zip)
        fclose(b->zip);
    if (b->dirfd >= 0)
        close(b->dirfd);
    free(b->files);
    free(b);
}

/*
 * bundle.c - a bundle's files in memory and the folder form of a bundle; the small
 * buffers and hashes the other export files share.
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

int bundle_add(struct bundle *b, const char *name, uint8_t *data, size_t len)
{
    size_t nlen = strlen(name);
    if (!bundle_name_ok(name, nlen) || bundle_find(b, name) || b->n >= BUNDLE_FILES_MAX)
        goto fail;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct bfile *f = realloc(b->files, cap * sizeof(*f));
        if (!f)
            goto fail;
        b->files = f;
        b->cap = cap;
    }
    struct bfile *f = &b->files[b->n++];
    memcpy(f->name, name, nlen + 1);
    f->data = data;
    f->len = len;
    return 0;
fail:
    free(data);
    return -1;
}

const struct bfile *bundle_find(const struct bundle *b, const char *name)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->files[i].name, name) == 0)
            return &b->files[i];
    return NULL;
}

void bundle_free(struct bundle *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->files[i].data);
    free(b->files);
    free(b);
}

const char *bundle_manifest_sha256(const struct bundle *b)
{
    return b->manifest_sha256;
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
            int e = errno;
            close(fd);
            errno = n == 0 ? EIO : e;
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

/* The folder form: the output folder is new (or empty), so nothing of an earlier bundle
 * can be mixed into this one. */
static int write_dir(const struct bundle *b, const char *path, char *err, size_t errsize)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dirfd < 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct bfile *f = &b->files[i];
        const char *slash = strchr(f->name, '/');
        if (slash) {
            char sub[BUNDLE_NAME_MAX + 1];
            memcpy(sub, f->name, (size_t)(slash - f->name));
            sub[slash - f->name] = '\0';
            if (mkdirat(dirfd, sub, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errsize, "%s/%s: %s", path, sub, strerror(errno));
                close(dirfd);
                return -1;
            }
        }
        if (write_file(dirfd, f->name, f->data, f->len) != 0) {
            snprintf(err, errsize, "%s/%s: %s%s", path, f->name, strerror(errno),
                     errno == EEXIST ? " (the output folder must be new or empty)" : "");
            close(dirfd);
            return -1;
        }
    }
    (void)fsync(dirfd);
    close(dirfd);
    return 0;
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
    if (lstat(path, &st) != 0)
        return 0;
    if (!ends_with_zip(path) && S_ISDIR(st.st_mode) && dir_is_empty(path) == 1)
        return 0;
    snprintf(err, errsize, "%s already exists%s; refusing to overwrite it or mix bundles", path,
             ends_with_zip(path) || !S_ISDIR(st.st_mode) ? "" : " and is not empty");
    return -1;
}

int bundle_write_path(const struct bundle *b, const char *path, char *err, size_t errsize)
{
    if (bundle_check_output(path, err, errsize) != 0)
        return -1;
    if (!ends_with_zip(path))
        return write_dir(b, path, err, errsize);
    char tmp[4200];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        snprintf(err, errsize, "%s: path too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!f) {
        snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return -1;
    }
    int rc = bundle_write_zip(b, f, err, errsize);
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && link(tmp, path) != 0) { /* link: never replaces a file made meanwhile */
        snprintf(err, errsize, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    unlink(tmp);
    return rc;
}

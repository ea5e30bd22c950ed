/*
 * recover_live.c - the live rows a dead capture or import left behind (index.h,
 * docs/CALLS.md "Calls cut by a crash").
 *
 * Every call whose recording is being written has a live row (status in_progress,
 * live = 1, pending_path = its file: src/capture/pipeline.c).  After a kill -9, each
 * live row gets what the capture side can know without the private key: a recordings
 * row with the file's size and the SHA-256 of its sealed bytes, its start (the file name
 * carries it), and no duration (finding it needs the audio decoded).  The row stops
 * being live and says why (end_reason crash); the SIP messages, streams and events the
 * dead process held in memory are lost.
 *
 * Runs before vault_recover(), which renames each .part file a dead writer left to its
 * final name, because the two names tell the two cases apart:
 * - only NAME.part: the writer died mid-call; the file is truncated (the hash is of the
 *   .part, which vault_recover renames without changing a byte);
 * - NAME: the writer had sealed the last chunk, synced and linked it (the call ended in
 *   the second before the crash, its finished row not committed): it is complete.
 * A .part another process holds an flock on belongs to a writer alive: its row is left
 * alone, so an import may run beside a daemon.  Rows of undecided on-demand calls are
 * not touched: ondemand_recover() destroys them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "greffier/log.h"
#include "index_int.h"

struct live_row {
    int64_t id;
    int64_t answer_us; /* 0: not answered when published */
    char path[256];    /* relative to the data directory, "" when none */
};

/* The recovered file: size and SHA-256 of its bytes as stored (sealed). */
struct recovered_file {
    uint64_t bytes;
    char sha256[65];
    int64_t start_us; /* from its name, 0 when the name does not say */
    bool complete;    /* linked to its final name by its writer */
};

/* A path the media stage wrote: relative, inside the data directory. */
static bool path_ok(const char *rel)
{
    return rel[0] && rel[0] != '/' && !strstr(rel, "..");
}

/* recordings/YYYY/MM/DD/START-HASH.gfv (recording_file.c): START is the packet time
 * of the recording's first sample. */
static int64_t start_from_name(const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(base, &end, 10);
    return errno == 0 && end != base && *end == '-' && v > 0 ? (int64_t)v : 0;
}

/* 0 and *f filled, -1 with errno set (ENOENT: no file). */
static int hash_file(const char *path, struct recovered_file *f)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat sb;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || !md ||
        EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
        EVP_MD_CTX_free(md);
        close(fd);
        errno = e ? e : ENOMEM;
        return -1;
    }
    uint8_t buf[65536];
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            EVP_MD_CTX_free(md);
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        total += (uint64_t)n;
    }
    close(fd);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(md, digest, &len);
    EVP_MD_CTX_free(md);
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(f->sha256 + 2 * i, 3, "%02x", digest[i]);
    f->bytes = total;
    return 0;
}

bool ix_held_by_writer(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the lock taken, if any */
    return held;
}

/* The live rows not under an undecided on-demand rule, oldest first.  -1 on error. */
static long read_live(struct index *ix, struct live_row **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ix->db,
                           "SELECT id, answer_us, pending_path FROM calls WHERE live = 1"
                           " AND (decision IS NULL OR decision = 'kept') ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        log_msg(LOG_ERR, "index: live rows: %s", sqlite3_errmsg(ix->db));
        return -1;
    }
    long n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            long ncap = cap ? cap * 2 : 16;
            struct live_row *v = realloc(*out, (size_t)ncap * sizeof(*v));
            if (!v) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = v;
            cap = ncap;
        }
        struct live_row *r = &(*out)[n++];
        r->id = sqlite3_column_int64(st, 0);
        r->answer_us = sqlite3_column_int64(st, 1);
        const char *p = (const char *)sqlite3_column_text(st, 2);
        /* A path that does not fit is not one the media stage wrote: no file for it. */
        if (!p || strlen(p) >= sizeof(r->path))
            p = "";
        snprintf(r->path, sizeof(r->path), "%s", p);
    }
    if (rc != SQLITE_DONE) {
        log_msg(LOG_ERR, "index: live rows: %s",
                rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(ix->db));
        free(*out);
        *out = NULL;
        n = -1;
    }
    sqlite3_finalize(st);
    return n;
}

static int exec_sql(struct index *ix, const char *sql)
{
    return sqlite3_exec(ix->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Prepares sql into *st; on failure writes the reason to err. */
static int prepare(struct index *ix, const char *sql, sqlite3_stmt **st, char *err, size_t errsize)
{
    if (sqlite3_prepare_v2(ix->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    snprintf(err, errsize, "%s", sqlite3_errmsg(ix->db));
    sqlite3_finalize(*st);
    *st = NULL;
    return -1;
}

static int insert_recording(struct index *ix, const struct live_row *r,
                            const struct recovered_file *f, char *err, size_t errsize)
{
    sqlite3_stmt *st;
    if (prepare(ix,
                "INSERT INTO recordings (call_ref, path, bytes, sha256, start_us,"
                " answer_offset_ms, state) VALUES (:id, :path, :bytes, :sha256, :start_us,"
                " :answer_offset_ms, :state) ON CONFLICT (call_ref) DO NOTHING",
                &st, err, errsize) != 0)
        return -1;
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_int(&b, ":id", r->id);
    ix_bind_text(&b, ":path", r->path);
    ix_bind_u64(&b, ":bytes", f->bytes);
    ix_bind_text(&b, ":sha256", f->sha256);
    ix_bind_opt_int(&b, ":start_us", f->start_us);
    if (f->start_us && r->answer_us >= f->start_us)
        ix_bind_int(&b, ":answer_offset_ms", (r->answer_us - f->start_us) / 1000);
    else
        ix_bind_null(&b, ":answer_offset_ms");
    ix_bind_text(&b, ":state", f->complete ? "complete" : "truncated");
    int rc = ix_step_bound(ix->db, &b, err, errsize);
    sqlite3_finalize(st);
    return rc;
}

/* The status is what was known: answered once a 2xx was seen, else in_progress (no
 * final response had come).  The end is unknown: end_us stays NULL. */
static int end_row(struct index *ix, const struct live_row *r, bool have_file, char *err,
                   size_t errsize)
{
    sqlite3_stmt *st;
    if (prepare(ix,
                "UPDATE calls SET live = 0, pending_path = NULL, end_reason = 'crash',"
                " status = CASE WHEN status = 'in_progress' AND answer_us IS NOT NULL"
                " THEN 'answered' ELSE status END,"
                " media_state = coalesce(media_state, :media_state)"
                " WHERE id = :id AND live = 1",
                &st, err, errsize) != 0)
        return -1;
    struct ix_binder b = {st, NULL, SQLITE_OK};
    ix_bind_text(&b, ":media_state", have_file ? "recorded" : "failed");
    ix_bind_int(&b, ":id", r->id);
    int rc = ix_step_bound(ix->db, &b, err, errsize);
    sqlite3_finalize(st);
    return rc;
}

/* Closes one live row, atomically; f is NULL when its recording is not on disk. */
static int close_row(struct index *ix, const struct live_row *r, const struct recovered_file *f)
{
    char err[256] = "";
    if (exec_sql(ix, "SAVEPOINT recover_live") != 0) {
        snprintf(err, sizeof(err), "%s", sqlite3_errmsg(ix->db));
        goto fail;
    }
    if ((f && insert_recording(ix, r, f, err, sizeof(err)) != 0) ||
        end_row(ix, r, f != NULL, err, sizeof(err)) != 0)
        goto rollback;
    if (exec_sql(ix, "RELEASE recover_live") != 0) {
        snprintf(err, sizeof(err), "%s", sqlite3_errmsg(ix->db));
        goto rollback;
    }
    return 0;
rollback:
    exec_sql(ix, "ROLLBACK TO recover_live");
    exec_sql(ix, "RELEASE recover_live");
fail:
    log_msg(LOG_ERR, "index: call %" PRId64 " cut by a crash not closed: %s", r->id, err);
    return -1;
}

long index_recover_live(struct index *ix, const char *data_dir)
{
    /* The rows are read inside the write transaction (BEGIN IMMEDIATE): a daemon beside
     * this import that has just finished a call commits its row first, and the row is
     * then no longer live. */
    bool own_txn = !ix->in_txn;
    if (own_txn && index_begin(ix) != 0)
        return -1;
    struct live_row *rows;
    long n = read_live(ix, &rows);
    if (n <= 0) {
        if (own_txn && index_commit(ix) != 0)
            return -1;
        return n;
    }
    long closed = 0, failed = 0;
    for (long i = 0; i < n; i++) {
        const struct live_row *r = &rows[i];
        char path[4400], part[4410];
        struct recovered_file f = {0};
        bool have_file = false;
        if (path_ok(r->path)) {
            snprintf(path, sizeof(path), "%s/%s", data_dir, r->path);
            snprintf(part, sizeof(part), "%s.part", path);
            if (ix_held_by_writer(part))
                continue; /* still being written by a process alive */
            f.start_us = start_from_name(r->path);
            f.complete = access(path, F_OK) == 0;
            if (hash_file(f.complete ? path : part, &f) == 0)
                have_file = true;
            else
                log_msg(LOG_WARNING, "index: call %" PRId64 " cut by a crash: recording %s: %s",
                        r->id, path, strerror(errno));
        } else {
            log_msg(LOG_WARNING, "index: call %" PRId64 " cut by a crash had no recording", r->id);
        }
        if (close_row(ix, r, have_file ? &f : NULL) != 0) {
            failed++;
            continue;
        }
        closed++;
        if (have_file)
            log_msg(LOG_WARNING,
                    "index: call %" PRId64 " cut by a crash: closed with its recording %s (%" PRIu64
                    " bytes, %s)",
                    r->id, r->path, f.bytes, f.complete ? "complete" : "truncated");
        else
            log_msg(LOG_WARNING, "index: call %" PRId64 " cut by a crash: closed, no recording",
                    r->id);
    }
    free(rows);
    if (own_txn && index_commit(ix) != 0)
        return -1;
    return failed ? -1 : closed;
}

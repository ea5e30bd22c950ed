/*
 * cmd_reindex.c - `greffier [-d DIR] reindex`: rebuilds the calls and recordings rows
 * from the sealed recordings under DIR/recordings alone (a lost or damaged index).
 *
 * Each .gfv file is opened with the recording's private key (DIR/keys: the metadata is
 * sealed, docs/FORMAT.md), its metadata gives the call (index_reindex_recording), its
 * audio is decoded once for the duration (hence the end of the call), and its SHA-256 and
 * size are those of the file as stored.  Rows already in the index are left alone, so
 * running it twice adds nothing.  A file that cannot be opened is named and makes the
 * exit status 1; the others are still indexed.  Audited ("reindex").
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/audit.h"
#include "greffier/index.h"
#include "greffier/recording_source.h"
#include "greffier/vault.h"

#define REINDEX_USAGE "[-c FILE] [-d DIR] reindex"

enum { MAX_DEPTH = 4 };

struct reindex_run {
    struct cli *cli;
    struct index *ix;
    char keys[4200];
    unsigned added, attached, present, unreadable;
};

static int count_frames(void *user, const int16_t *stereo, size_t frames)
{
    (void)stereo;
    *(uint64_t *)user += frames;
    return 0;
}

static void reindex_file(struct reindex_run *run, const char *rel)
{
    char path[8600], err[512] = "";
    struct reindex_file f = {.path = rel, .plan = &run->cli->cfg.plan};
    snprintf(path, sizeof(path), "%s/%s", run->cli->cfg.data_dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int hfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW); /* its own offset */
    if (fd < 0 || hfd < 0 || recording_hash_fd(hfd, f.sha256, &f.bytes) != 0) {
        fprintf(stderr, "greffier: reindex: %s: cannot read it\n", rel);
        if (fd >= 0)
            close(fd);
        if (hfd >= 0)
            close(hfd);
        run->unreadable++;
        return;
    }
    close(hfd);
    enum vault_status st;
    struct vault_reader *r =
        vault_reader_open(fd, run->keys, VAULT_OPEN_ALLOW_TRUNCATED, &st, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "greffier: reindex: %s: %s\n", rel, err);
        run->unreadable++;
        return;
    }
    f.meta = (const char *)vault_reader_meta(r, &f.metalen);
    f.truncated = vault_reader_truncated(r);
    struct byte_source src;
    uint64_t frames = 0;
    vault_reader_source(r, &src);
    /* A truncated recording decodes up to its last complete chunk: that is its length. */
    if (ogg_opus_decode(&src, &f.sample_rate, count_frames, &frames, err, sizeof(err)) != 0 &&
        !f.truncated)
        fprintf(stderr, "greffier: reindex: %s: audio: %s (indexed with what decodes)\n", rel, err);
    f.duration_s = f.sample_rate ? (double)frames / f.sample_rate : 0;
    int res = index_reindex_recording(run->ix, &f);
    vault_reader_close(r);
    switch (res) {
    case 1:
        run->added++;
        break;
    case 2:
        run->attached++;
        break;
    case 0:
        run->present++;
        break;
    default:
        fprintf(stderr, "greffier: reindex: %s: not indexed (%s)\n", rel,
                res == -2 ? "its metadata names no call" : "index error, see the log");
        run->unreadable++;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.gfv under DATA_DIR/rel, in name order (so the ids follow the dates). */
static void walk(struct reindex_run *run, const char *rel, int depth)
{
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s/%s", run->cli->cfg.data_dir, rel);
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **p = realloc(names, cap * sizeof(*p));
            if (!p)
                break;
            names = p;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char sub[4400], full[8900];
        struct stat sb;
        snprintf(sub, sizeof(sub), "%s/%s", rel, names[i]);
        snprintf(full, sizeof(full), "%s/%s", run->cli->cfg.data_dir, sub);
        size_t len = strlen(sub);
        if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode) && depth < MAX_DEPTH)
            walk(run, sub, depth + 1);
        else if (lstat(full, &sb) == 0 && S_ISREG(sb.st_mode) && len > 4 &&
                 strcmp(sub + len - 4, ".gfv") == 0)
            reindex_file(run, sub);
        free(names[i]);
    }
    free(names);
}

int cmd_reindex(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, REINDEX_USAGE);
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    if (first < argc) {
        cli_usage_error("reindex: unexpected argument \"%s\"", argv[first]);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct reindex_run run = {.cli = cli};
    /* The index is created when it was deleted: that is what reindex is for. */
    char err[512];
    run.ix = index_open(cli->cfg.data_dir, true, err, sizeof(err));
    if (!run.ix) {
        fprintf(stderr, "greffier: reindex: %s\n", err);
        return EXIT_FAIL;
    }
    snprintf(run.keys, sizeof(run.keys), "%s/keys", cli->cfg.data_dir);
    walk(&run, "recordings", 1);
    char actor[32], detail[160];
    snprintf(actor, sizeof(actor), "cli:%u", (unsigned)getuid());
    snprintf(detail, sizeof(detail),
             "{\"calls_added\":%u,\"recordings_attached\":%u,\"already_indexed\":%u,"
             "\"unreadable\":%u}",
             run.added, run.attached, run.present, run.unreadable);
    audit_append(run.ix, actor, "reindex", "", detail);
    index_close(run.ix);
    printf("reindex: %u calls added, %u recordings attached to existing calls, %u already "
           "indexed, %u unreadable\n",
           run.added, run.attached, run.present, run.unreadable);
    return run.unreadable ? EXIT_FAIL : EXIT_OK;
}

/*
 * cmd_verify.c - `greffier -d DIR verify ID...|--all`: is each recording the one that
 * was written?  One line per recording: "ID ok|truncated|tampered|missing|unchecked
 * PATH[: why]"; with --all also every sealed file under recordings/ that the index does
 * not know ("orphan": a recording recovered after a crash).  Exit 1 when any is not ok.
 *
 * The SHA-256 of the sealed file (kept in the index) is checked without any key; the
 * chunks' tags need the data key, hence the recording's private key in DATA_DIR/keys:
 * that check runs on the replay side, never on the capture host (docs/FORMAT.md).
 */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/recording_source.h"

#define VERIFY_USAGE "[-d DIR] verify ID...|--all"

static const char *const state_names[] = {
    [RECORDING_OK] = "ok",
    [RECORDING_TRUNCATED] = "truncated",
    [RECORDING_TAMPERED] = "tampered",
    [RECORDING_MISSING] = "missing",
    [RECORDING_UNCHECKED] = "unchecked",
};

struct paths {
    char **v;
    size_t n, cap;
};

static void paths_add(struct paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        char **v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return;
        p->v = v;
        p->cap = cap;
    }
    char *d = strdup(s);
    if (d)
        p->v[p->n++] = d;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reports each file under DIR/rel that is not in the sorted list known. */
static int orphans(const char *data_dir, const char *rel, int depth, const struct paths *known)
{
    char dir[4400];
    int found = 0;
    snprintf(dir, sizeof(dir), "%s/%s", data_dir, rel);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char sub[4400], full[8900];
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
        snprintf(full, sizeof(full), "%s/%s", data_dir, sub);
        if (lstat(full, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode) && depth < 4) {
            found += orphans(data_dir, sub, depth + 1, known);
        } else if (S_ISREG(sb.st_mode)) {
            const char *key = sub;
            if (!bsearch(&key, known->v, known->n, sizeof(char *), cmp_str)) {
                printf("- orphan %s: not in the index%s\n", sub,
                       strstr(sub, ".part") ? " (a recording interrupted by a crash)" : "");
                found++;
            }
        }
    }
    closedir(d);
    return found;
}

static enum recording_state verify_one(struct cli *cli, struct index *ix, int64_t id,
                                       struct paths *known)
{
    struct recording_info info;
    char err[1024];
    switch (index_get_recording(ix, id, &info)) {
    case 1:
        break;
    case 0:
        printf("%lld none: no recording (media: %s)\n", (long long)id,
               info.media_state[0] ? info.media_state : "not processed");
        return RECORDING_OK;
    case -2:
        printf("%lld missing: no call with this id\n", (long long)id);
        return RECORDING_MISSING;
    default:
        printf("%lld unchecked: reading the index failed\n", (long long)id);
        return RECORDING_UNCHECKED;
    }
    if (known)
        paths_add(known, info.path);
    bool keyed = false;
    err[0] = '\0';
    enum recording_state st = recording_check(cli->cfg.data_dir, &info, &keyed, err, sizeof(err));
    if (st == RECORDING_OK)
        printf("%lld ok %s%s\n", (long long)id, info.path, keyed ? "" : " (sha256 only: no key)");
    else
        printf("%lld %s %s: %s\n", (long long)id, state_names[st], info.path, err);
    return st;
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool all = false;
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, VERIFY_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'a': all = true; break;
        }
    }
    if (all == (optind < argc)) {
        cli_usage_error("verify: give call IDs or --all (not both)");
        return EXIT_USAGE;
    }
    int64_t *ids = NULL;
    long n = 0;
    if (!all) {
        ids = calloc((size_t)(argc - optind), sizeof(*ids));
        if (!ids)
            return EXIT_FAIL;
        for (int i = optind; i < argc; i++, n++)
            if (!cli_parse_call_id(argv[i], &ids[n])) {
                cli_usage_error("verify: \"%s\" is not a call ID", argv[i]);
                free(ids);
                return EXIT_USAGE;
            }
    }
    int rc = cli_load_config(cli);
    struct index *ix = rc == EXIT_OK ? cli_open_index(cli) : NULL;
    if (!ix) {
        free(ids);
        return rc == EXIT_OK ? EXIT_FAIL : rc;
    }
    if (all && (n = index_recording_ids(ix, &ids)) < 0) {
        index_close(ix);
        return EXIT_FAIL;
    }
    struct paths known = {0};
    long bad = 0;
    for (long i = 0; i < n; i++)
        bad += verify_one(cli, ix, ids[i], all ? &known : NULL) != RECORDING_OK;
    if (all) {
        qsort(known.v, known.n, sizeof(char *), cmp_str);
        bad += orphans(cli->cfg.data_dir, "recordings", 1, &known);
    }
    for (size_t i = 0; i < known.n; i++)
        free(known.v[i]);
    free(known.v);
    free(ids);
    index_close(ix);
    if (bad)
        fprintf(stderr, "greffier: verify: %ld of %ld not ok\n", bad, n);
    return bad ? EXIT_FAIL : EXIT_OK;
}

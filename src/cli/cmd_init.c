/*
 * cmd_init.c - `greffier init -d DIR`: a new data directory with its index, its
 * recordings folder and the installation's keys.  An existing installation is never
 * overwritten: the directory must not exist or be empty (as systemd's StateDirectory
 * creates it).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "greffier/index.h"
#include "greffier/keys.h"

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0) {
        fprintf(stderr, "greffier: init: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
    int first = cli_parse_common(cli, argc, argv, "init -d DIR");
    if (first < 0)
        return first == -2 ? EXIT_OK : EXIT_USAGE;
    if (first < argc) {
        cli_usage_error("init: unexpected argument \"%s\"", argv[first]);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    const char *dir = cli->cfg.data_dir;

    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode) || dir_is_empty(dir) != 1) {
            fprintf(stderr, "greffier: init: %s already exists and is not an empty directory; "
                            "refusing to overwrite it\n", dir);
            return EXIT_FAIL;
        }
        chmod(dir, 0700);
    } else if (make_dir(dir) != 0) {
        return EXIT_FAIL;
    }

    char path[4200], err[512];
    cli_data_path(cli, "recordings", path, sizeof(path));
    if (make_dir(path) != 0)
        return EXIT_FAIL;
    cli_data_path(cli, "keys", path, sizeof(path));
    if (make_dir(path) != 0)
        return EXIT_FAIL;
    if (keys_generate_recording_pair(path, 1, err, sizeof(err)) != 0 ||
        keys_generate_signing_pair(path, err, sizeof(err)) != 0) {
        fprintf(stderr, "greffier: init: %s\n", err);
        return EXIT_FAIL;
    }
    struct index *ix = index_open(dir, true, err, sizeof(err));
    if (!ix) {
        fprintf(stderr, "greffier: init: %s: %s\n", dir, err);
        return EXIT_FAIL;
    }
    index_close(ix);
    printf("greffier: data directory %s created (index, recordings/, keys/)\n", dir);
    return EXIT_OK;
}

/*
 * recover.c - what a crash leaves behind: recordings still under their .part name.
 *
 * The writer seals each chunk as soon as it is full and fdatasyncs at least every
 * [vault] seal_interval seconds, so a .part file holds a valid header and chunks up to
 * the crash; only its last chunk (the one flagged last) is missing.  Renaming it to its
 * final name keeps it readable up to its last complete chunk.  Its call's live row (the
 * pipeline publishes one per recording started) was closed just before, with the file
 * as a truncated recording, by index_recover_live(); a file without a row (started
 * less than a second or two before the crash, its row not yet committed) is listed by
 * `greffier verify --all` as an orphan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "greffier/log.h"
#include "greffier/vault.h"

enum { MAX_DEPTH = 4 }; /* recordings/YYYY/MM/DD */

static int walk(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    int found = 0;
    if (!d)
        return errno == ENOENT ? 0 : -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[4400], final[4400];
        if (e->d_name[0] == '.')
            continue;
        int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(path))
            continue;
        struct stat sb;
        if (lstat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode) && depth < MAX_DEPTH) {
            int r = walk(path, depth + 1);
            found += r > 0 ? r : 0;
            continue;
        }
        size_t len = strlen(e->d_name);
        if (!S_ISREG(sb.st_mode) || len <= 5 || strcmp(e->d_name + len - 5, ".part") != 0)
            continue;
        snprintf(final, sizeof(final), "%.*s", n - 5, path);
        /* A writer holds an flock on its .part file (recording_file.c): a recording
         * still being written by a running daemon is not touched. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            close(fd);
            continue;
        }
        /* Never replace a finished recording of the same name. */
        if (access(final, F_OK) == 0) {
            log_msg(LOG_WARNING, "vault: %s: left as it is (%s exists)", path, final);
            close(fd);
            continue;
        }
        if (rename(path, final) != 0) {
            log_msg(LOG_ERR, "vault: %s: %s", path, strerror(errno));
            close(fd);
            continue;
        }
        close(fd);
        log_msg(LOG_WARNING, "vault: %s: recovered after a crash (truncated)",
                final);
        found++;
    }
    closedir(d);
    if (found) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return found;
}

int vault_recover(const char *data_dir)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/recordings", data_dir);
    return walk(dir, 1);
}

/*
 * privdrop.c - switch user and drop every capability, with raw system calls so that
 * greffier needs no libcap.
 *
 * Order matters (capabilities(7), "Effect of user ID changes on capabilities"):
 *   1. while still root, drop the bounding set (needs CAP_SETPCAP), so nothing the
 *      process executes later could regain a capability;
 *   2. setgroups, setresgid, setresuid: with PR_SET_KEEPCAPS off, leaving uid 0 clears
 *      the permitted and effective sets; setuid(0) must then fail;
 *   3. clear the ambient set and capset() the rest to zero: this covers a process that
 *      systemd started unprivileged with AmbientCapabilities=CAP_NET_RAW;
 *   4. PR_SET_NO_NEW_PRIVS, so no set-user-ID program can raise privileges again;
 *   5. read CapEff back from /proc/self/status: trust, but verify.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "greffier/log.h"
#include "greffier/privdrop.h"

int privdrop_read_caps(struct privdrop_caps *caps)
{
    static const struct {
        const char *tag;
        size_t offset;
    } fields[] = {
        {"CapEff:", offsetof(struct privdrop_caps, eff)},
        {"CapPrm:", offsetof(struct privdrop_caps, prm)},
        {"CapAmb:", offsetof(struct privdrop_caps, amb)},
    };
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    char line[256];
    unsigned found = 0;
    while (fgets(line, sizeof(line), f)) {
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            size_t n = strlen(fields[i].tag);
            if (strncmp(line, fields[i].tag, n) != 0)
                continue;
            char *end;
            errno = 0;
            unsigned long long v = strtoull(line + n, &end, 16);
            if (errno == 0 && end != line + n) {
                *(uint64_t *)(void *)((char *)caps + fields[i].offset) = v;
                found |= 1u << i;
            }
        }
    }
    fclose(f);
    return found == 7 ? 0 : -1;
}

/* Drops the bounding set while CAP_SETPCAP is held; EINVAL marks the end of the
 * capabilities this kernel knows, which may be more than CAP_LAST_CAP of the headers. */
static int drop_bounding_set(char *err, size_t errsize)
{
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
            break;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            snprintf(err, errsize, "cannot drop capability %d from the bounding set: %s", cap,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int switch_user(const char *user, char *err, size_t errsize)
{
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errsize,
                 "user \"%s\" does not exist%s%s: create it (systemd-sysusers greffier.conf, or "
                 "useradd --system --home-dir /var/lib/greffier --shell /usr/sbin/nologin %s), "
                 "or set [daemon] user = root (not recommended)",
                 user, errno ? ": " : "", errno ? strerror(errno) : "", user);
        return -1;
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (uid == 0) {
        snprintf(err, errsize, "user \"%s\" has uid 0; set [daemon] user = root to mean it", user);
        return -1;
    }
    if (drop_bounding_set(err, errsize) != 0)
        return -1;
    if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) {
        snprintf(err, errsize, "cannot switch to user \"%s\" (uid %u): %s", user, (unsigned)uid,
                 strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || geteuid() != uid || getegid() != gid) {
        snprintf(err, errsize, "switching to user \"%s\" did not stick", user);
        return -1;
    }
    return 0;
}

int privdrop(const char *user, char *err, size_t errsize)
{
    if (geteuid() == 0) {
        if (strcmp(user, "root") == 0) {
            log_msg(LOG_WARNING, "privileges: [daemon] user = root: packet parsing runs as "
                                 "root (not recommended)");
            if (drop_bounding_set(err, errsize) != 0)
                return -1;
        } else if (switch_user(user, err, errsize) != 0) {
            return -1;
        }
    }

    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
    memset(none, 0, sizeof(none));
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 ||
        (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) ||
        syscall(SYS_capset, &hdr, none) != 0) {
        snprintf(err, errsize, "cannot drop capabilities: %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errsize, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }

    struct privdrop_caps caps;
    if (privdrop_read_caps(&caps) != 0) {
        snprintf(err, errsize, "cannot read capabilities back from /proc/self/status");
        return -1;
    }
    if (caps.eff || caps.prm || caps.amb) {
        snprintf(err, errsize,
                 "capabilities still held after dropping them: CapEff=%016" PRIx64
                 " CapPrm=%016" PRIx64 " CapAmb=%016" PRIx64,
                 caps.eff, caps.prm, caps.amb);
        return -1;
    }
    return 0;
}

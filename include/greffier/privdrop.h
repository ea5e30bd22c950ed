/*
 * privdrop.h - giving up privileges once the capture sockets are open (OpenBSD's
 * privsep habit): the process that parses hostile packets keeps no capability and,
 * started as root, runs as an unprivileged account.
 */
#ifndef GREFFIER_PRIVDROP_H
#define GREFFIER_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Started as root: switches to user (its group, no supplementary groups) unless user is
 * "root"; a missing account is an error.  Started as another user (systemd's User= with
 * AmbientCapabilities=): keeps that user.  Then, in every case, clears every capability
 * (effective, permitted, inheritable, ambient, and the bounding set when allowed), sets
 * no_new_privs, and checks from /proc/self/status that CapEff is 0.  Returns 0, or -1
 * with the reason in err (the caller must then exit). */
int privdrop(const char *user, char *err, size_t errsize);

/* The process's CapEff, CapPrm and CapAmb masks from /proc/self/status; -1 when they
 * cannot be read. */
struct privdrop_caps {
    uint64_t eff, prm, amb;
};
int privdrop_read_caps(struct privdrop_caps *caps);

#endif

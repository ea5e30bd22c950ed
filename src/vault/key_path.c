/*
 * key_path.c - where the private keys are read from: the systemd credential folder of
 * greffier-web when it holds the file, else the data directory's keys/ (keys.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "greffier/keys.h"

/* The name LoadCredential= gives the folder in greffier-web.service. */
#define CREDENTIAL_KEYS "recording-keys"

char *keys_private_path(const char *keys_dir, const char *name, char *out, size_t size)
{
    const char *cred = getenv("CREDENTIALS_DIRECTORY");
    if (cred && cred[0] == '/') {
        int n = snprintf(out, size, "%s/%s/%s", cred, CREDENTIAL_KEYS, name);
        if (n > 0 && (size_t)n < size && access(out, F_OK) == 0)
            return out;
    }
    snprintf(out, size, "%s/%s", keys_dir, name);
    return out;
}

/*
 * key_check.c - the alarm key_unreadable:private: the web side must be able to read the
 * installation's newest private recording key, or no replay or export works.  Checked
 * at start and again whenever a replay fails, so that the alarm (and the banner) says
 * why rather than every replay failing alone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "greffier/alarm.h"
#include "greffier/keys.h"
#include "greffier/vault.h"
#include "http_int.h"

#define ALARM_KEY_PRIVATE "key_unreadable:private"

bool http_check_private_key(struct http_server *srv)
{
    char keys[4200], path[4300], why[4400];
    snprintf(keys, sizeof(keys), "%s/keys", srv->cfg.data_dir);
    unsigned id = vault_newest_key_id(keys);
    bool ok = false;
    if (id == 0) {
        snprintf(why, sizeof(why), "no recording key in %s (greffier init creates one)", keys);
    } else {
        char name[32];
        snprintf(name, sizeof(name), "recording-%04u.key", id);
        keys_private_path(keys, name, path, sizeof(path));
        FILE *f = fopen(path, "re");
        EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
        if (!f)
            snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
        else if (!k)
            snprintf(why, sizeof(why), "%s is not a private key in PEM", path);
        ok = k != NULL;
        EVP_PKEY_free(k);
        if (f)
            fclose(f);
    }
    pthread_mutex_lock(&srv->db_lock);
    if (ok)
        alarm_clear(srv->ix, ALARM_KEY_PRIVATE);
    else
        alarm_raise(srv->ix, ALARM_KEY_PRIVATE, ALARM_ERROR,
                    "the private recording key cannot be read, recordings cannot be played or "
                    "exported: %s",
                    why);
    pthread_mutex_unlock(&srv->db_lock);
    return ok;
}

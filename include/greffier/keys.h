/*
 * keys.h - the installation's key files (created by `greffier init`).
 *
 *   keys/recording-NNNN.key   X25519 private key (PKCS#8 PEM): opens recordings; only
 *                             the replay/export side reads it
 *   keys/recording-NNNN.pub   its public key (SubjectPublicKeyInfo PEM): the capture
 *                             side seals recordings with it and can never open them
 *   keys/signing.key / .pub   Ed25519 pair signing evidence bundles
 * Every file is created exclusively with mode 0600 and fsynced; nothing is overwritten.
 */
#ifndef GREFFIER_KEYS_H
#define GREFFIER_KEYS_H

#include <stddef.h>

int keys_generate_recording_pair(const char *keys_dir, unsigned id, char *err, size_t errsize);

/* Where a private key file (NAME: "recording-0001.key", "signing.key") is read from.
 * On a server the private keys live outside the data directory, in a folder that
 * systemd hands to greffier-web alone (LoadCredential=recording-keys:/etc/greffier/private,
 * docs/ADMIN.md): when $CREDENTIALS_DIRECTORY/recording-keys/NAME exists, that path;
 * otherwise KEYS_DIR/NAME.  Returns out. */
char *keys_private_path(const char *keys_dir, const char *name, char *out, size_t size);
int keys_generate_signing_pair(const char *keys_dir, char *err, size_t errsize);

#endif

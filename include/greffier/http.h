/*
 * http.h - the web interface: search and replay in a browser, with accounts, roles and
 * an audit trail (libmicrohttpd; routes in src/http/route_*.c, docs/API.md).
 *
 * The server reads the index the capture daemon writes (SQLite WAL lets both work at
 * once) and serves recordings through recording_source.h only: plaintext audio never
 * touches the disk.  It holds no capture socket and no capture privilege.
 */
#ifndef GREFFIER_HTTP_H
#define GREFFIER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "greffier/config.h"

struct http_server;

/* Opens the index of cfg->data_dir and starts listening on listen (NULL: [http] listen)
 * with cfg's [http] settings; the server runs in its own threads.  Refuses a non-loopback
 * address without TLS unless allow_plain_non_loopback.  NULL with err set on failure. */
struct http_server *http_start(const struct config *cfg, const char *listen, char *err,
                               size_t errsize);
/* `greffier serve`: /metrics writes the capture counters with write(user, out), called
 * from request threads (write must take its own lock), instead of reading the capture
 * process's snapshot file.  Set once, right after http_start; src must outlive srv. */
struct http_capture_metrics {
    void (*write)(void *user, FILE *out);
    void *user;
};
void http_set_capture_metrics(struct http_server *srv, struct http_capture_metrics *src);

/* The watchdog's question: can a request still get the index?  Takes the lock every
 * request takes and runs a trivial query; blocks as long as a stuck request holds it
 * (so the ping stops and systemd restarts the unit).  True when it answered. */
bool http_alive(struct http_server *srv);

/* Stops accepting, waits for the requests in flight, closes the index. */
void http_stop(struct http_server *srv);

#endif

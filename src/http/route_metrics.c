/*
 * route_metrics.c - GET /metrics: the Prometheus text exposition (metrics.h), for a
 * scraper rather than a person, so no session: served to loopback peers (a local agent,
 * or a reverse proxy on the host that adds its own access control) and, from anywhere
 * else, only with "Authorization: Bearer TOKEN" where [http] metrics_token is set.
 *
 * The text is the capture process's part (its snapshot file, or this process's own
 * counters under `greffier serve`), then what the web process sees itself: the index
 * (calls, recordings, purges, alarms), the free space of the data directory, the HTTP
 * requests it answered by status code, and the build.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include <openssl/crypto.h>

#include "greffier/clock.h"
#include "greffier/http.h"
#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/metrics.h"
#include "greffier/version.h"
#include "http_int.h"

enum { SNAPSHOT_MAX = 1 << 20 };

#define TIMESTAMP_NAME "greffier_capture_snapshot_timestamp_seconds "

static bool peer_is_loopback(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return false;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return false;
}

/* "Bearer TOKEN" (RFC 6750 §2.1) equal to the configured token, compared in constant
 * time; false when no token is configured. */
static bool bearer_matches(struct http_req *rq)
{
    const char *want = rq->srv->cfg.http_metrics_token;
    const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    if (!want[0] || !h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    const char *got = h + 7;
    size_t len = strlen(want);
    return strlen(got) == len && CRYPTO_memcmp(got, want, len) == 0;
}

/* The capture part from DATA/run/capture.prom, and its age. */
static void capture_from_snapshot(struct http_req *rq, FILE *out)
{
    char path[4300];
    snprintf(path, sizeof(path), "%s/%s", rq->srv->cfg.data_dir, METRICS_SNAPSHOT);
    FILE *f = fopen(path, "re");
    char *text = f ? malloc(SNAPSHOT_MAX) : NULL;
    size_t len = text ? fread(text, 1, SNAPSHOT_MAX - 1, f) : 0;
    if (f)
        fclose(f);
    const char *ts_line = NULL;
    if (text) {
        text[len] = '\0';
        ts_line = strstr(text, "\n" TIMESTAMP_NAME);
    }
    metrics_family(out, "greffier_capture_snapshot_present", "gauge",
                   "1 when the capture process's counters (" METRICS_SNAPSHOT
                   ") could be read, 0 when not (capture not running yet, or no access)");
    /* Only a complete snapshot (the timestamp is its last line) is passed on. */
    if (!ts_line || len == 0 || text[len - 1] != '\n') {
        fputs("greffier_capture_snapshot_present 0\n", out);
        if (!f)
            log_limited(LOG_DEBUG, "metrics: %s: %s", path, strerror(errno));
        free(text);
        return;
    }
    fputs("greffier_capture_snapshot_present 1\n", out);
    fwrite(text, 1, len, out);
    double ts = strtod(ts_line + 1 + strlen(TIMESTAMP_NAME), NULL);
    double age = (double)clock_now() / 1e6 - ts;
    metrics_family(out, "greffier_capture_snapshot_age_seconds", "gauge",
                   "Age of the capture process's counters: stale when well above "
                   "[capture] stats_interval");
    fprintf(out, "greffier_capture_snapshot_age_seconds %.3f\n", age > 0 ? age : 0.0);
    free(text);
}

static void http_requests(struct http_server *srv, FILE *out)
{
    metrics_family(out, "greffier_http_requests_total", "counter",
                   "HTTP requests answered, by status code");
    for (unsigned code = 100; code < HTTP_STATUS_MAX; code++) {
        uint64_t n = __atomic_load_n(&srv->requests_by_code[code], __ATOMIC_RELAXED);
        if (n)
            fprintf(out, "greffier_http_requests_total{code=\"%u\"} %" PRIu64 "\n", code, n);
    }
}

enum MHD_Result route_metrics(struct http_req *rq)
{
    struct http_server *srv = rq->srv;
    if (!peer_is_loopback(rq->conn) && !bearer_matches(rq))
        return http_reply_error(rq, MHD_HTTP_FORBIDDEN, "forbidden",
                                "/metrics is served to loopback peers, or with the [http] "
                                "metrics_token as a Bearer token",
                                NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return MHD_NO;

    struct http_capture_metrics *live = __atomic_load_n(&srv->capture_metrics, __ATOMIC_ACQUIRE);
    if (live) {
        metrics_family(m, "greffier_capture_snapshot_present", "gauge",
                       "1 when the capture counters could be read");
        fputs("greffier_capture_snapshot_present 1\n", m);
        live->write(live->user, m);
        metrics_family(m, "greffier_capture_snapshot_age_seconds", "gauge",
                       "Age of the capture counters (0: read live, same process)");
        fputs("greffier_capture_snapshot_age_seconds 0\n", m);
    } else {
        capture_from_snapshot(rq, m);
    }

    pthread_mutex_lock(&srv->db_lock);
    int rc = index_write_metrics(srv->ix, m);
    pthread_mutex_unlock(&srv->db_lock);

    struct statvfs vfs;
    metrics_family(m, "greffier_disk_free_bytes", "gauge",
                   "Space left to an unprivileged user on the data directory's file system");
    if (statvfs(srv->cfg.data_dir, &vfs) == 0)
        fprintf(m, "greffier_disk_free_bytes %" PRIu64 "\n",
                (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize);
    else
        fputs("greffier_disk_free_bytes NaN\n", m);
    http_requests(srv, m);
    metrics_family(m, "greffier_build_info", "gauge", "The greffier build serving this");
    fputs("greffier_build_info{version=", m);
    metrics_label_value(m, GREFFIER_VERSION);
    fputs("} 1\n", m);

    if (fclose(m) != 0 || rc != 0) {
        free(text);
        return http_reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the metrics could not be gathered", NULL);
    }
    return http_reply(rq, MHD_HTTP_OK, METRICS_CONTENT_TYPE, text, len, true);
}

/*
 * clock_status.c - what can honestly be said of the clock behind a bundle's times.
 *
 * Packet times come from the capture host's clock when each packet arrived; greffier
 * does not record, at capture time, whether that clock was synchronised, so the bundle
 * says "unknown" for it rather than guess.  What is known is the state of the clock of
 * the host that made the export, read from the kernel (adjtimex(2): the NTP discipline's
 * status, STA_UNSYNC, its maximum and estimated errors).  When the export runs on the
 * capture host (greffier serve), that is the same clock, at another time.  Under the web
 * unit's seccomp filter (~@clock) adjtimex is refused: then the reason is given, and
 * systemd-timesyncd's flag file (/run/systemd/timesync/synchronized, present once it
 * has synchronised) is the only other witness read.
 */
#include <errno.h>
#include <string.h>
#include <sys/timex.h>
#include <unistd.h>

#include "greffier/json.h"
#include "export_int.h"

void clock_status_json(struct json_writer *w)
{
    struct timex tx = {0};
    int state = adjtimex(&tx);
    json_key(w, "capture_host");
    json_object_begin(w);
    json_key(w, "synchronised");
    json_string(w, "unknown");
    json_key(w, "note");
    json_string(w, "greffier does not record the capture host's clock synchronisation at "
                   "capture time; packet times are that clock's readings");
    json_object_end(w);
    json_key(w, "export_host");
    json_object_begin(w);
    json_key(w, "source");
    json_string(w, "adjtimex(2) at export time");
    json_key(w, "synchronised");
    if (state < 0)
        json_string(w, "unknown");
    else
        json_bool(w, state != TIME_ERROR && !(tx.status & STA_UNSYNC));
    if (state < 0) {
        json_key(w, "why_unknown");
        json_string(w, strerror(errno));
    } else {
        json_key(w, "max_error_us");
        json_int(w, tx.maxerror);
        json_key(w, "estimated_error_us");
        json_int(w, tx.esterror);
    }
    if (access("/run/systemd/timesync/synchronized", F_OK) == 0) {
        json_key(w, "systemd_timesyncd");
        json_string(w, "synchronised (/run/systemd/timesync/synchronized exists)");
    }
    json_object_end(w);
}

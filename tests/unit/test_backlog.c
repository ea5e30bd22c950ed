/*
 * test_backlog.c - under backlog the live pipeline lowers the Opus complexity before it
 * drops anything, one step at a time, and raises it back once capture has caught up.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/config.h"
#include "greffier/index.h"
#include "greffier/pipeline.h"
#include "testhelp.h"

#define S(x) ((pkt_time_t)(x) * 1000000)

int main(void)
{
    char dir[] = "/tmp/greffier-backlog-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct config cfg;
    config_defaults(&cfg);
    cfg.opus_complexity = 3;
    snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s", dir);
    char err[256];
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    struct counters c = {0};
    struct pipeline *p = pipeline_new(&cfg, ix, &c);
    CHECK(p != NULL);
    static const uint8_t frame[14] = {0}; /* an Ethernet header, nothing inside */
    pkt_time_t t0 = S(1700000000);

    /* Two seconds behind: one step down at once, no second step within five seconds. */
    pipeline_frame(p, 1, t0, frame, sizeof(frame), sizeof(frame));
    pipeline_idle(p, t0 + S(2));
    CHECK_INT(c.encoder_complexity_lowered, 1);
    pipeline_frame(p, 1, t0 + S(1), frame, sizeof(frame), sizeof(frame));
    pipeline_idle(p, t0 + S(4));
    CHECK_INT(c.encoder_complexity_lowered, 1);
    pipeline_frame(p, 1, t0 + S(5), frame, sizeof(frame), sizeof(frame));
    pipeline_idle(p, t0 + S(8));
    CHECK_INT(c.encoder_complexity_lowered, 2);
    pipeline_frame(p, 1, t0 + S(12), frame, sizeof(frame), sizeof(frame));
    pipeline_idle(p, t0 + S(14));
    CHECK_INT(c.encoder_complexity_lowered, 3);
    /* Complexity 0 is the floor. */
    pipeline_frame(p, 1, t0 + S(20), frame, sizeof(frame), sizeof(frame));
    pipeline_idle(p, t0 + S(30));
    CHECK_INT(c.encoder_complexity_lowered, 3);

    /* Caught up: a step back up after a calm minute, never above the configured 3. */
    pkt_time_t t = t0 + S(40);
    for (int i = 0; i < 400; i++, t += S(1)) {
        pipeline_frame(p, 1, t, frame, sizeof(frame), sizeof(frame));
        pipeline_idle(p, t + 1000);
    }
    CHECK_INT(c.encoder_complexity_raised, 3);
    /* No frame since the last idle: no lag to measure, nothing changes. */
    pipeline_idle(p, t + S(100));
    CHECK_INT(c.encoder_complexity_lowered, 3);

    pipeline_finish(p, false);
    index_close(ix);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK_INT(system(cmd), 0);
    return TEST_REPORT("test_backlog");
}

/*
 * test_recover_live.c - the live rows a killed capture leaves (src/index/recover_live.c):
 * each is closed with its file, before vault_recover renames it: a .part alone is a
 * truncated recording, a file under its final name a complete one (size, SHA-256 of the
 * bytes on disk, start from the file name); status and end_reason as docs/CALLS.md
 * says; a row whose file is gone is closed without a recording; a row whose .part file
 * is locked (a writer alive) and an undecided on-demand row are left alone; the
 * finished call of a live row fills the same row.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/index/index_int.h"
#include "greffier/index.h"
#include "greffier/ondemand.h"
#include "testhelp.h"

#define S 1000000LL
#define T0 (1714640400 * S) /* 2024-05-02T09:00:00Z */
#define DAY "recordings/2024/05/02"

static char tmpdir[64];
static char data[128];

static int64_t q_int(struct index *ix, const char *sql)
{
    int64_t n = -1;
    CHECK_INT(ix_query_int(ix->db, sql, &n), SQLITE_OK);
    return n;
}

/* The text of the first column of the first row, "(null)" for NULL, "" for none. */
static const char *q_text(struct index *ix, const char *sql)
{
    static char buf[256];
    sqlite3_stmt *st = NULL;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        snprintf(buf, sizeof(buf), "%s", s ? s : "(null)");
    }
    sqlite3_finalize(st);
    return buf;
}

static void write_file(const char *rel, const char *suffix, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s%s", data, rel, suffix);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

/* Publishes a call in progress as the pipeline does; returns its row id. */
static int64_t publish(struct index *ix, struct call *c, const char *call_id, pkt_time_t start,
                       pkt_time_t answer, const char *on_demand, const char *relpath)
{
    memset(c, 0, sizeof(*c));
    c->call_id = (char *)call_id;
    c->start = start;
    c->answer = answer;
    c->last_activity = answer ? answer : start;
    c->status = CALL_IN_PROGRESS;
    c->caller = (struct party){"0611111111", "33611111111", NULL, NULL};
    c->callee = (struct party){"2001", "2001", NULL, NULL};
    struct media_rules_decision d = {
        .made = true, .recorded = true, .origin = "[default]", .action = "record"};
    if (on_demand) {
        snprintf(d.action, sizeof(d.action), "on_demand");
        snprintf(d.on_demand, sizeof(d.on_demand), "%s", on_demand);
    }
    CHECK_INT(ondemand_publish(ix, c, &d, relpath), 1);
    return c->id;
}

int main(void)
{
    char err[512], sql[512];
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/greffier-test-recover-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(data, sizeof(data), "%s/data", tmpdir);
    struct index *ix = index_open(data, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return TEST_REPORT("test_recover_live");
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/recordings", data);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/recordings/2024", data);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/recordings/2024/05", data);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/" DAY, data);
    mkdir(dir, 0700);

    /* answered: recording from the answer, the file recovered by vault_recover */
    struct call a, b, c, d, e;
    char rel_a[128], rel_b[128], rel_c[128], rel_d[128], rel_e[128];
    snprintf(rel_a, sizeof(rel_a), DAY "/%lld-00000000000000aa.gfv", (long long)(T0 + 2 * S));
    snprintf(rel_b, sizeof(rel_b), DAY "/%lld-00000000000000bb.gfv", (long long)(T0 + 3 * S));
    snprintf(rel_c, sizeof(rel_c), DAY "/%lld-00000000000000cc.gfv", (long long)(T0 + 4 * S));
    snprintf(rel_d, sizeof(rel_d), DAY "/%lld-00000000000000dd.gfv", (long long)(T0 + 5 * S));
    snprintf(rel_e, sizeof(rel_e), DAY "/%lld-00000000000000ee.gfv", (long long)(T0 + 6 * S));
    int64_t ia = publish(ix, &a, "a@x", T0, T0 + 2 * S, NULL, rel_a);
    write_file(rel_a, ".part", "abc"); /* cut mid-call */
    /* early media, never answered: its file is gone */
    int64_t ib = publish(ix, &b, "b@x", T0 + S, 0, NULL, rel_b);
    /* a writer alive: the .part is still there */
    int64_t ic = publish(ix, &c, "c@x", T0 + 2 * S, T0 + 4 * S, NULL, rel_c);
    write_file(rel_c, ".part", "partial");
    char part_c[512];
    snprintf(part_c, sizeof(part_c), "%s/%s.part", data, rel_c);
    int writer = open(part_c, O_RDONLY | O_CLOEXEC);
    CHECK(writer >= 0 && flock(writer, LOCK_EX | LOCK_NB) == 0);
    /* on demand, undecided: ondemand_recover's */
    int64_t id_ = publish(ix, &d, "d@x", T0 + 3 * S, T0 + 5 * S, "pending", rel_d);
    write_file(rel_d, "", "pending audio");
    /* on demand, kept: recovered like any recording; its writer had finished it */
    int64_t ie = publish(ix, &e, "e@x", T0 + 4 * S, T0 + 7 * S, "kept", rel_e);
    write_file(rel_e, "", "");
    /* finished and linked, its .part not yet removed, the writer dead */
    struct call g;
    char rel_g[128];
    snprintf(rel_g, sizeof(rel_g), DAY "/%lld-00000000000000ff.gfv", (long long)(T0 + 8 * S));
    int64_t ig = publish(ix, &g, "g@x", T0 + 8 * S, T0 + 8 * S, NULL, rel_g);
    write_file(rel_g, "", "abc");
    write_file(rel_g, ".part", "abc");
    CHECK_INT(q_int(ix, "SELECT count(*) FROM calls WHERE live = 1"), 6);

    CHECK_INT(index_recover_live(ix, data), 4);

    snprintf(sql, sizeof(sql),
             "SELECT live || ' ' || status || ' ' || end_reason || ' ' || media_state || ' ' ||"
             " coalesce(pending_path, '-') || ' ' || coalesce(end_us, '-')"
             " FROM calls WHERE id = %lld",
             (long long)ia);
    CHECK_STR(q_text(ix, sql), "0 answered crash recorded - -");
    snprintf(sql, sizeof(sql),
             "SELECT state || ' ' || bytes || ' ' || sha256 || ' ' || start_us || ' ' ||"
             " answer_offset_ms || ' ' || coalesce(duration_s, 'NULL') || ' ' || path"
             " FROM recordings WHERE call_ref = %lld",
             (long long)ia);
    char want[512];
    snprintf(want, sizeof(want),
             "truncated 3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad %lld 0 "
             "NULL %s",
             (long long)(T0 + 2 * S), rel_a);
    CHECK_STR(q_text(ix, sql), want);

    snprintf(sql, sizeof(sql),
             "SELECT live || ' ' || status || ' ' || end_reason || ' ' || media_state"
             " FROM calls WHERE id = %lld",
             (long long)ib);
    CHECK_STR(q_text(ix, sql), "0 in_progress crash failed");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM recordings WHERE call_ref = %lld",
             (long long)ib);
    CHECK_INT(q_int(ix, sql), 0);

    snprintf(sql, sizeof(sql), "SELECT live FROM calls WHERE id = %lld", (long long)ic);
    CHECK_INT(q_int(ix, sql), 1);
    snprintf(sql, sizeof(sql), "SELECT live FROM calls WHERE id = %lld", (long long)id_);
    CHECK_INT(q_int(ix, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT c.live || ' ' || c.decision || ' ' || r.state || ' ' || r.bytes || ' ' ||"
             " r.sha256 FROM calls c JOIN recordings r ON r.call_ref = c.id WHERE c.id = %lld",
             (long long)ie);
    CHECK_STR(q_text(ix, sql), "0 kept complete 0 "
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    snprintf(sql, sizeof(sql),
             "SELECT c.live || ' ' || r.state || ' ' || r.bytes FROM calls c"
             " JOIN recordings r ON r.call_ref = c.id WHERE c.id = %lld",
             (long long)ig);
    CHECK_STR(q_text(ix, sql), "0 complete 3");

    /* Again: nothing more to close (the living writer's row stays live). */
    CHECK_INT(index_recover_live(ix, data), 0);
    close(writer);

    /* The pending on-demand row: destroyed by ondemand_recover, which leaves the
     * living writer's row alone. */
    CHECK_INT(ondemand_recover(ix, data), 1);
    snprintf(sql, sizeof(sql), "SELECT live || ' ' || decision FROM calls WHERE id = %lld",
             (long long)id_);
    CHECK_STR(q_text(ix, sql), "0 discarded");
    snprintf(sql, sizeof(sql), "%s/%s", data, rel_d);
    struct stat sb;
    CHECK(stat(sql, &sb) != 0);

    /* Marked malicious from the web while in progress: not on demand, so the web marks
     * it at once (tag, hold, alarm), and the finished row keeps it. */
    char state[32] = "", why[128] = "";
    CHECK_INT(ondemand_request(ix, data, ic, "malicious", "sup1", state, sizeof(state), why,
                               sizeof(why)),
              1);
    CHECK_STR(state, "marked");

    /* The writer's call finishes: the same row is filled, not a second one. */
    c.end = T0 + 9 * S;
    c.status = CALL_ANSWERED;
    c.end_reason = END_BYE;
    CHECK_INT(index_store_call(ix, &c), 1);
    CHECK_INT(c.id, ic);
    snprintf(sql, sizeof(sql), "SELECT live || ' ' || status FROM calls WHERE id = %lld",
             (long long)ic);
    CHECK_STR(q_text(ix, sql), "0 answered");
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT count(*) FROM call_tags WHERE call_ref = %lld AND tag = 'malicious')"
             " + (SELECT count(*) FROM legal_holds WHERE call_ref = %lld)",
             (long long)ic, (long long)ic);
    CHECK_INT(q_int(ix, sql), 2);
    CHECK_INT(q_int(ix, "SELECT count(*) FROM calls"), 6);
    CHECK_INT(q_int(ix, "SELECT count(*) FROM calls WHERE live = 1"), 0);

    /* The index holds together after all that. */
    CHECK_STR(q_text(ix, "PRAGMA integrity_check"), "ok");
    CHECK_STR(q_text(ix, "PRAGMA foreign_key_check"), "");
    index_close(ix);

    snprintf(sql, sizeof(sql), "rm -rf '%s'", tmpdir);
    if (system(sql) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT("test_recover_live");
}

/*
 * test_audit.c - the audit chain: append, verify, and for each way of tampering (a
 * changed field, a removed row, a changed hash) the first broken link reported; the
 * GREFFIER_TEST_NOW clock override; listing.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/audit.h"
#include "greffier/index.h"
#include "testhelp.h"

static char tmpdir[64];

static struct index *fresh(const char *name)
{
    char dir[128], err[256];
    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    if (!ix)
        fprintf(stderr, "%s: %s\n", dir, err);
    return ix;
}

static void fill(struct index *ix, int n)
{
    char target[32];
    for (int i = 0; i < n; i++) {
        snprintf(target, sizeof(target), "%d", i + 1);
        CHECK_INT(audit_append(ix, "alice", "replay", target, "{\"call\":1}"), 0);
    }
}

static int verify(struct index *ix, int64_t *rows, int64_t *bad, char *why)
{
    return audit_verify(ix, rows, bad, why, 256);
}

static void test_intact(void)
{
    struct index *ix = fresh("intact");
    if (!ix)
        return;
    int64_t rows, bad;
    char why[256];
    CHECK_INT(verify(ix, &rows, &bad, why), 0);
    CHECK_INT(rows, 0);
    fill(ix, 5);
    CHECK_INT(audit_append(ix, NULL, "login.fail", NULL, NULL), 0);
    CHECK_INT(verify(ix, &rows, &bad, why), 0);
    CHECK_INT(rows, 6);

    /* GREFFIER_TEST_NOW is set by main before the first call. */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    CHECK_INT(audit_list_json(ix, 2, 0, m), 2);
    fclose(m);
    CHECK(strstr(text, "\"id\":6") && strstr(text, "\"id\":5") && !strstr(text, "\"id\":4"));
    CHECK(strstr(text, "\"ts\":\"2024-03-01T10:00:00.000Z\"") != NULL);
    CHECK(strstr(text, "\"user\":\"-\"") != NULL);
    free(text);
    index_close(ix);
}

static const struct {
    const char *name;
    const char *sql;
    int64_t bad;
    const char *why;
} tamper[] = {
    {"changed-target", "UPDATE audit SET target = '99' WHERE id = 3", 3, "content"},
    {"changed-user", "UPDATE audit SET user = 'mallory' WHERE id = 1", 1, "content"},
    {"changed-ts", "UPDATE audit SET ts = '2020-01-01T00:00:00.000Z' WHERE id = 4", 4, "content"},
    {"removed-row", "DELETE FROM audit WHERE id = 2", 3, "missing"},
    /* Recomputing one row's hash does not help: the next row's prev_hash breaks. */
    {"rehashed", "UPDATE audit SET hash = '00' || substr(hash, 3) WHERE id = 2", 2, "content"},
    {"relinked", "UPDATE audit SET prev_hash = hash WHERE id = 5", 5, "prev_hash"},
};

static void test_tamper(void)
{
    for (size_t i = 0; i < sizeof(tamper) / sizeof(tamper[0]); i++) {
        struct index *ix = fresh(tamper[i].name);
        if (!ix)
            continue;
        fill(ix, 6);
        CHECK_INT(sqlite3_exec((sqlite3 *)index_sqlite(ix), tamper[i].sql, NULL, NULL, NULL),
                  SQLITE_OK);
        int64_t rows, bad;
        char why[256] = "";
        CHECK_INT(verify(ix, &rows, &bad, why), 1);
        CHECK_INT(bad, tamper[i].bad);
        if (!strstr(why, tamper[i].why))
            fprintf(stderr, "%s: %s\n", tamper[i].name, why);
        CHECK(strstr(why, tamper[i].why) != NULL);
        index_close(ix);
    }
}

int main(void)
{
    setenv("GREFFIER_TEST_NOW", "2024-03-01T10:00:00Z", 1);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/greffier-test-audit-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_intact();
    test_tamper();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT("test_audit");
}

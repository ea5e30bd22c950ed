/*
 * test_users.c - accounts: scrypt hash and check, wrong and short passwords, fresh salts,
 * malformed stored forms, name rules, and the users table (add, duplicate, passwd, del).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "greffier/index.h"
#include "greffier/users.h"
#include "testhelp.h"

static char tmpdir[64];

static void test_hash(void)
{
    char a[USER_HASH_SIZE], b[USER_HASH_SIZE], err[128];
    static const char pw[] = "correct horse battery";
    CHECK_INT(user_password_hash(pw, strlen(pw), a, sizeof(a), err, sizeof(err)), 0);
    CHECK(strncmp(a, "scrypt$32768$8$1$", 17) == 0);
    CHECK_INT(user_password_check(pw, strlen(pw), a), 1);
    CHECK_INT(user_password_check("correct horse batterY", 21, a), 0);
    CHECK_INT(user_password_check("", 0, a), 0);
    /* Same password, different salt: different stored forms, both valid. */
    CHECK_INT(user_password_hash(pw, strlen(pw), b, sizeof(b), err, sizeof(err)), 0);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(user_password_check(pw, strlen(pw), b), 1);
}

static void test_length(void)
{
    char h[USER_HASH_SIZE], err[128] = "";
    CHECK_INT(user_password_hash("elevenchars", 11, h, sizeof(h), err, sizeof(err)), -1);
    CHECK(strstr(err, "12") != NULL);
    CHECK_INT(user_password_hash("twelve chars", 12, h, sizeof(h), err, sizeof(err)), 0);
    char big[USER_PASSWORD_MAX + 1];
    memset(big, 'x', sizeof(big));
    CHECK_INT(user_password_hash(big, sizeof(big), h, sizeof(h), err, sizeof(err)), -1);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "plain",
        "scrypt$",
        "scrypt$32768$8$1$",
        "scrypt$32767$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        /* N = 2^30: a tampered row must not cost a gigabyte */
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$32768$0$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$32768$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$short",
        "scrypt$-1$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(user_password_check("whatever password", 17, bad[i]), -1);
}

static void test_names_roles(void)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"alice", true}, {"a.b-c_d9", true}, {"", false},  {"Alice", false},
        {"a b", false},  {"a/b", false},     {"é", false}, {"a;drop", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_INT(user_name_valid(cases[i].name), cases[i].ok);
    char n64[66];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    CHECK(user_name_valid(n64));
    n64[64] = 'a';
    n64[65] = '\0';
    CHECK(!user_name_valid(n64));
    enum user_role r;
    CHECK(user_role_parse("auditor", &r) && r == ROLE_AUDITOR);
    CHECK(!user_role_parse("root", &r));
    CHECK_STR(user_role_name(ROLE_SUPERVISOR), "supervisor");
}

static void test_table(void)
{
    char err[256], dir[128];
    snprintf(dir, sizeof(dir), "%s/data", tmpdir);
    struct index *ix = index_open(dir, true, err, sizeof(err));
    CHECK(ix != NULL);
    if (!ix)
        return;
    struct user_record u;
    static const char pw[] = "a long password", pw2[] = "another long one";
    CHECK_INT(users_add(ix, "alice", ROLE_AUDITOR, pw, strlen(pw), err, sizeof(err)), 0);
    CHECK_INT(users_add(ix, "alice", ROLE_ADMIN, pw, strlen(pw), err, sizeof(err)), 1);
    CHECK_INT(users_add(ix, "Bad Name", ROLE_ADMIN, pw, strlen(pw), err, sizeof(err)), -1);
    CHECK_INT(users_add(ix, "bob", ROLE_ADMIN, "short", 5, err, sizeof(err)), -1);
    CHECK_INT(users_lookup(ix, "alice", &u, err, sizeof(err)), 0);
    CHECK_STR(u.name, "alice");
    CHECK_INT(u.role, ROLE_AUDITOR);
    CHECK_INT(user_password_check(pw, strlen(pw), u.password), 1);
    CHECK_INT(users_lookup(ix, "bob", &u, err, sizeof(err)), 1);
    CHECK_INT(users_set_password(ix, "alice", pw2, strlen(pw2), err, sizeof(err)), 0);
    CHECK_INT(users_lookup(ix, "alice", &u, err, sizeof(err)), 0);
    CHECK_INT(user_password_check(pw, strlen(pw), u.password), 0);
    CHECK_INT(user_password_check(pw2, strlen(pw2), u.password), 1);
    CHECK_INT(users_set_password(ix, "nobody", pw2, strlen(pw2), err, sizeof(err)), 1);

    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    CHECK_INT(users_list(ix, true, m), 1);
    fclose(m);
    CHECK(strstr(text, "\"name\": \"alice\"") && strstr(text, "\"role\": \"auditor\""));
    CHECK(strstr(text, "scrypt") == NULL); /* the hash is never listed */
    free(text);

    CHECK_INT(users_delete(ix, "alice", err, sizeof(err)), 0);
    CHECK_INT(users_delete(ix, "alice", err, sizeof(err)), 1);
    index_close(ix);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/greffier-test-users-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_hash();
    test_length();
    test_malformed();
    test_names_roles();
    test_table();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT("test_users");
}

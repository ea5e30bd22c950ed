/*
 * cmd_user.c - `greffier -d DIR user add NAME --role ROLE [--password-file F]`,
 * `user passwd NAME [--password-file F]`, `user del NAME`, `user list [--json]`:
 * the web side's accounts (users.h).  Every change is audited as the local user
 * "cli:UID".
 *
 * Without --password-file the password is read from standard input: one line, without
 * echo and asked twice when it is a terminal.  It never appears on a command line, where
 * any local user could read it in /proc.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "greffier/audit.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/users.h"

#define USER_USAGE                                                                                 \
    "[-d DIR] user add NAME --role admin|supervisor|auditor [--password-file F] | "                \
    "user passwd NAME [--password-file F] | user del NAME | user list [--json]"

/* Reads one line (without its newline) into buf; false on error or when too long. */
static bool read_line(FILE *f, char *buf, size_t size, size_t *len)
{
    if (!fgets(buf, (int)size, f))
        return false;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (!feof(f))
        return false; /* longer than the buffer */
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    *len = n;
    return true;
}

static bool prompt(const char *text, char *buf, size_t size, size_t *len)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fputs(text, stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = read_line(stdin, buf, size, len);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    return ok;
}

static bool read_password(const char *file, char *buf, size_t size, size_t *len)
{
    if (file) {
        FILE *f = fopen(file, "re");
        if (!f) {
            fprintf(stderr, "greffier: user: %s: %s\n", file, strerror(errno));
            return false;
        }
        bool ok = read_line(f, buf, size, len);
        fclose(f);
        if (!ok)
            fprintf(stderr, "greffier: user: %s: no password line (or longer than %d bytes)\n",
                    file, USER_PASSWORD_MAX);
        return ok;
    }
    if (!prompt("Password: ", buf, size, len)) {
        fprintf(stderr, "greffier: user: no password read from standard input\n");
        return false;
    }
    if (isatty(STDIN_FILENO)) {
        char again[USER_PASSWORD_MAX + 2];
        size_t alen;
        bool same = prompt("Again: ", again, sizeof(again), &alen) && alen == *len &&
                    CRYPTO_memcmp(again, buf, alen) == 0;
        OPENSSL_cleanse(again, sizeof(again));
        if (!same) {
            fprintf(stderr, "greffier: user: the passwords differ\n");
            return false;
        }
    }
    return true;
}

/* {"name": ..., "role": ...} for the audit row. */
static void audit_user_change(struct index *ix, const char *action, const char *name,
                              const char *role)
{
    char actor[32], *detail = NULL;
    size_t dlen = 0;
    snprintf(actor, sizeof(actor), "cli:%u", (unsigned)getuid());
    FILE *m = open_memstream(&detail, &dlen);
    if (m) {
        struct json_writer w;
        json_init(&w, m, false);
        json_object_begin(&w);
        if (role) {
            json_key(&w, "role");
            json_string(&w, role);
        }
        json_object_end(&w);
        fclose(m);
        /* json_finish's newline is not part of the detail */
        if (dlen > 0 && detail[dlen - 1] == '\n')
            detail[dlen - 1] = '\0';
    }
    audit_append(ix, actor, action, name, detail);
    free(detail);
}

int cmd_user(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, 'r'},
        {"password-file", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *role_text = NULL, *pwfile = NULL;
    bool json = false;
    int ch;
    int status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, USER_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'r':
            role_text = optarg;
            break;
        case 'p':
            pwfile = optarg;
            break;
        case 'j':
            json = true;
            break;
        }
    }
    const char *sub = optind < argc ? argv[optind] : "";
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    bool is_list = strcmp(sub, "list") == 0;
    bool is_add = strcmp(sub, "add") == 0, is_passwd = strcmp(sub, "passwd") == 0;
    bool is_del = strcmp(sub, "del") == 0;
    if (!is_list && !is_add && !is_passwd && !is_del) {
        cli_usage_error("user: add, passwd, del or list (usage: greffier %s)", USER_USAGE);
        return EXIT_USAGE;
    }
    if (argc - optind != (is_list ? 1 : 2)) {
        cli_usage_error(
            is_list ? "user list: unexpected argument" : "user %s: one user NAME expected", sub);
        return EXIT_USAGE;
    }
    if (name && !user_name_valid(name)) {
        cli_usage_error("user: \"%.64s\" is not a user name (1 to %d of a-z 0-9 . _ -)", name,
                        USER_NAME_MAX);
        return EXIT_USAGE;
    }
    enum user_role role = ROLE_SUPERVISOR;
    if (is_add && (!role_text || !user_role_parse(role_text, &role))) {
        cli_usage_error("user add: --role admin, supervisor or auditor is required");
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;

    char pw[USER_PASSWORD_MAX + 2], err[256];
    size_t pwlen = 0;
    if ((is_add || is_passwd) && !read_password(pwfile, pw, sizeof(pw), &pwlen))
        return EXIT_FAIL;
    struct index *ix = cli_open_index(cli);
    if (!ix) {
        OPENSSL_cleanse(pw, sizeof(pw));
        return EXIT_FAIL;
    }
    int r = 0;
    if (is_list) {
        r = users_list(ix, json, stdout) < 0 ? -1 : 0;
        snprintf(err, sizeof(err), "listing failed");
    } else if (is_add) {
        r = users_add(ix, name, role, pw, pwlen, err, sizeof(err));
        if (r == 0)
            audit_user_change(ix, "user.add", name, user_role_name(role));
    } else if (is_passwd) {
        r = users_set_password(ix, name, pw, pwlen, err, sizeof(err));
        if (r == 0)
            audit_user_change(ix, "user.passwd", name, NULL);
    } else {
        r = users_delete(ix, name, err, sizeof(err));
        if (r == 0)
            audit_user_change(ix, "user.del", name, NULL);
    }
    OPENSSL_cleanse(pw, sizeof(pw));
    index_close(ix);
    if (r != 0) {
        fprintf(stderr, "greffier: user %s: %s\n", sub, err);
        return EXIT_FAIL;
    }
    if (!is_list)
        fprintf(stderr, "greffier: user %s: %s done\n", sub, name);
    return EXIT_OK;
}

/*
 * cmd_purge.c - `greffier purge`: retention applied now (retention.h, docs/RETENTION.md).
 *
 *   purge [--dry-run]                 the expired calls not on legal hold
 *   purge --number N --from D --to D [--dry-run] [--reason TEXT]
 *                                     erasure on request: every call of number N that
 *                                     started in [D, D'), whatever its retention; calls
 *                                     on legal hold are refused (exit 1)
 *   purge --propose                   public archives: the expired calls become a purge
 *                                     proposal and its slip (CSV and HTML)
 *   purge --approve N --visa REF      the archives' visa: proposal N is purged
 *   purge --list-proposals            the proposals (JSON)
 *
 * With [retention] purge_approval required, plain `purge` deletes nothing that is not in
 * an approved proposal: it lists the expired calls and says to propose them.
 * Every purge is audited as "cli:UID".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "greffier/clock.h"
#include "greffier/index.h"
#include "greffier/json.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

#define PURGE_USAGE                                                                                \
    "[-c FILE] [-d DIR] purge [--dry-run] | purge --number N --from DATE --to DATE [--dry-run] "   \
    "[--reason TEXT] | purge --propose | purge --approve N --visa REF | purge --list-proposals"

struct purge_opts {
    bool dry_run, propose, list;
    const char *number, *from, *to, *reason, *approve, *visa;
};

static void print_items(const struct purge_list *l, bool dry_run)
{
    char start[TIME_ISO_SIZE], exp[TIME_ISO_SIZE];
    printf("%-8s %-20s %-20s %s\n", "ID", "START", "EXPIRES", "RULE");
    for (size_t i = 0; i < l->n; i++) {
        const struct purge_item *it = &l->v[i];
        time_format_iso_s(it->start_us, start, sizeof(start));
        if (it->held)
            snprintf(exp, sizeof(exp), "on hold");
        else
            time_format_iso_s(it->exp.expires_us, exp, sizeof(exp));
        printf("%-8lld %-20s %-20s %s (%u days)%s\n", (long long)it->id, start, exp, it->exp.origin,
               it->exp.days,
               it->held  ? ": on legal hold, refused"
               : dry_run ? ": would be purged"
                         : "");
    }
}

static void actor(char *buf, size_t size)
{
    snprintf(buf, size, "cli:%u", (unsigned)getuid());
}

static int report(const struct purge_result *res, const char *what)
{
    if (res->finished)
        printf("finished %zu purges a crash had interrupted\n", res->finished);
    printf("purged %zu calls (%s): %zu recordings, %llu bytes\n", res->purged, what, res->files,
           (unsigned long long)res->bytes);
    return EXIT_OK;
}

static int plain(struct cli *cli, struct index *ix, bool dry_run)
{
    struct purge_list l = {0};
    struct purge_result res;
    char user[32];
    pkt_time_t now = clock_now();
    actor(user, sizeof(user));
    if (retention_select_expired(ix, &cli->cfg, now, &l) != 0)
        return EXIT_FAIL;
    print_items(&l, dry_run);
    int status = EXIT_OK;
    if (dry_run) {
        printf("dry run: %zu calls would be purged%s\n", l.n,
               config_purge_approval_required(&cli->cfg) && l.n
                   ? " once approved (purge_approval = required: greffier purge --propose)"
                   : "");
    } else if (config_purge_approval_required(&cli->cfg)) {
        long resumed = retention_resume_approved(ix, &cli->cfg, user);
        if (resumed > 0)
            printf("purged %ld calls of approved proposals\n", resumed);
        if (retention_drop_proposed(ix, &l) != 0 || resumed < 0) {
            status = EXIT_FAIL;
        } else if (l.n > 0) {
            printf("refused: %zu expired calls are in no approved purge proposal and "
                   "[retention] purge_approval is required; run `greffier purge --propose`, "
                   "send the slip to the archives service, then `greffier purge --approve N "
                   "--visa REF`\n",
                   l.n);
            status = EXIT_FAIL;
        } else {
            printf("nothing to purge without an approved proposal\n");
        }
    } else if (retention_purge(ix, cli->cfg.data_dir, &l, PURGE_RETENTION, 0, user, NULL, &res) !=
               0) {
        status = EXIT_FAIL;
    } else {
        report(&res, "retention");
    }
    purge_list_free(&l);
    return status;
}

static int erasure(struct cli *cli, struct index *ix, const struct purge_opts *o)
{
    pkt_time_t from, to;
    char norm[64] = "", user[32];
    if (!time_parse_iso(o->from, &from) || !time_parse_iso(o->to, &to) || to <= from) {
        cli_usage_error("purge: --from and --to must be ISO 8601 dates, --from before --to");
        return EXIT_USAGE;
    }
    if (!number_normalise(&cli->cfg.plan, o->number, norm, sizeof(norm))) {
        cli_usage_error("purge: --number \"%s\" is not a telephone number", o->number);
        return EXIT_USAGE;
    }
    actor(user, sizeof(user));
    struct purge_list l = {0};
    if (retention_select_number(ix, &cli->cfg, o->number, norm, from, to, &l) != 0)
        return EXIT_FAIL;
    print_items(&l, o->dry_run);
    size_t held = 0;
    for (size_t i = 0; i < l.n; i++)
        held += l.v[i].held;
    int status = EXIT_OK;
    if (o->dry_run) {
        printf("dry run: %zu calls would be erased\n", l.n - held);
    } else {
        struct purge_result res;
        if (retention_purge(ix, cli->cfg.data_dir, &l, PURGE_ERASURE, 0, user, o->reason, &res) !=
            0)
            status = EXIT_FAIL;
        else
            report(&res, "erasure");
    }
    if (held) {
        fprintf(stderr,
                "greffier: purge: %zu calls of this number are on legal hold: their erasure is "
                "refused until the hold is lifted (greffier hold --list)\n",
                held);
        status = EXIT_FAIL;
    }
    purge_list_free(&l);
    return status;
}

static int propose(struct cli *cli, struct index *ix)
{
    char user[32];
    int64_t id;
    size_t n;
    actor(user, sizeof(user));
    if (retention_propose(ix, &cli->cfg, cli->cfg.data_dir, clock_now(), user, &id, &n) != 0) {
        fprintf(stderr, "greffier: purge: the proposal could not be made (see the log)\n");
        return EXIT_FAIL;
    }
    if (id == 0) {
        printf("no expired call outside a proposal: nothing to propose\n");
        return EXIT_OK;
    }
    printf("purge proposal %lld: %zu calls\n%s/proposals/%lld.csv\n%s/proposals/%lld.html\n",
           (long long)id, n, cli->cfg.data_dir, (long long)id, cli->cfg.data_dir, (long long)id);
    return EXIT_OK;
}

static int approve(struct cli *cli, struct index *ix, const struct purge_opts *o)
{
    int64_t id;
    char user[32], msg[256];
    if (!cli_parse_call_id(o->approve, &id)) {
        cli_usage_error("purge: --approve \"%s\" is not a proposal number", o->approve);
        return EXIT_USAGE;
    }
    if (!o->visa || !o->visa[0]) {
        cli_usage_error("purge: --approve needs --visa REF (the archives service's reference)");
        return EXIT_USAGE;
    }
    actor(user, sizeof(user));
    struct purge_result res;
    int r = retention_approve(ix, &cli->cfg, id, o->visa, user, &res, msg, sizeof(msg));
    if (r != 0) {
        fprintf(stderr, "greffier: purge: %s\n", msg);
        return EXIT_FAIL;
    }
    if (res.skipped_held)
        printf("%zu calls of the proposal are on legal hold now: kept\n", res.skipped_held);
    return report(&res, "proposal approved");
}

static int list_proposals(struct index *ix)
{
    struct json_writer w;
    json_init(&w, stdout, true);
    long n = retention_proposals_json(ix, &w);
    return n < 0 || json_finish(&w) != 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_purge(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"number", required_argument, NULL, 'N'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"reason", required_argument, NULL, 'r'},
        {"propose", no_argument, NULL, 'p'},
        {"approve", required_argument, NULL, 'a'},
        {"visa", required_argument, NULL, 'v'},
        {"list-proposals", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct purge_opts o = {0};
    int ch, status;
    while ((ch = cli_getopt(cli, argc, argv, "", opts, PURGE_USAGE, &status)) != -1) {
        if (ch == CLI_OPT_STOP)
            return status;
        switch (ch) {
        case 'n':
            o.dry_run = true;
            break;
        case 'N':
            o.number = optarg;
            break;
        case 'f':
            o.from = optarg;
            break;
        case 't':
            o.to = optarg;
            break;
        case 'r':
            o.reason = optarg;
            break;
        case 'p':
            o.propose = true;
            break;
        case 'a':
            o.approve = optarg;
            break;
        case 'v':
            o.visa = optarg;
            break;
        case 'l':
            o.list = true;
            break;
        }
    }
    bool erase = o.number || o.from || o.to;
    int modes = erase + o.propose + (o.approve != NULL) + o.list;
    if (optind < argc || modes > 1 || (erase && !(o.number && o.from && o.to)) ||
        (o.reason && !erase) || (o.visa && !o.approve) ||
        (o.dry_run && (o.propose || o.approve || o.list))) {
        cli_usage_error("usage: greffier %s", PURGE_USAGE);
        return EXIT_USAGE;
    }
    int rc = cli_load_config(cli);
    if (rc != EXIT_OK)
        return rc;
    struct index *ix = cli_open_index(cli);
    if (!ix)
        return EXIT_FAIL;
    if (erase)
        rc = erasure(cli, ix, &o);
    else if (o.propose)
        rc = propose(cli, ix);
    else if (o.approve)
        rc = approve(cli, ix, &o);
    else if (o.list)
        rc = list_proposals(ix);
    else
        rc = plain(cli, ix, o.dry_run);
    index_close(ix);
    return rc;
}

/*
 * slip.c - the elimination slip (bordereau d'élimination) of a purge proposal, as CSV
 * (RFC 4180) and as a printable French HTML page.
 *
 * It names recordings by their index id and dates only: no number, name or address, so
 * that the slip can leave the organisation (to the archives service) without carrying
 * personal data.  Its content follows what the archives services ask on a slip: the
 * producer (left to fill in), the number of items, their extreme dates, the volume, the
 * retention rule and its legal basis, the list of items, and room for the visa.
 */
#include <string.h>

#include <sqlite3.h>

#include "greffier/index.h"
#include "greffier/log.h"
#include "greffier/retention.h"
#include "greffier/timefmt.h"

struct header {
    int64_t id;
    char created[40], created_by[80], state[16], visa[200], approved_at[40];
    int64_t calls, first, last, bytes;
};

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    snprintf(out, size, "%s", s ? s : "");
}

static int read_header(sqlite3 *db, int64_t id, struct header *h)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT created, created_by, state, calls, first_start_us,"
                           " last_start_us, bytes, visa, approved_at"
                           " FROM purge_proposals WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(h, 0, sizeof(*h));
        h->id = id;
        copy_col(st, 0, h->created, sizeof(h->created));
        copy_col(st, 1, h->created_by, sizeof(h->created_by));
        copy_col(st, 2, h->state, sizeof(h->state));
        h->calls = sqlite3_column_int64(st, 3);
        h->first = sqlite3_column_int64(st, 4);
        h->last = sqlite3_column_int64(st, 5);
        h->bytes = sqlite3_column_int64(st, 6);
        copy_col(st, 7, h->visa, sizeof(h->visa));
        copy_col(st, 8, h->approved_at, sizeof(h->approved_at));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled.  A
 * leading = + - @ is prefixed with ' so a spreadsheet does not run it as a formula. */
static void csv_field(FILE *out, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', out);
    if (s[0] && strchr("=+-@", s[0]))
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    if (quote)
        fputc('"', out);
}

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* "2025-03-01" from microseconds (UTC). */
static const char *day(pkt_time_t t, char *buf, size_t size)
{
    time_format_iso_s(t, buf, size);
    buf[strcspn(buf, "T")] = '\0';
    return buf;
}

static void write_csv_head(FILE *out, const struct config *cfg, const struct header *h)
{
    char a[TIME_ISO_SIZE], b[TIME_ISO_SIZE];
    fputs("bordereau,date,etat,nombre,premier_appel,dernier_appel,volume_octets,"
          "base_legale,visa\r\n",
          out);
    fprintf(out, "%lld,", (long long)h->id);
    csv_field(out, h->created);
    fprintf(out, ",%s,%lld,%s,%s,%lld,", h->state, (long long)h->calls, day(h->first, a, sizeof(a)),
            day(h->last, b, sizeof(b)), (long long)h->bytes);
    csv_field(out, cfg->legal_basis);
    fputc(',', out);
    csv_field(out, h->visa);
    fputs("\r\n\r\n", out);
    fputs("identifiant,debut,expiration,regle,octets\r\n", out);
}

static const char *state_fr(const char *state)
{
    static const char *const names[][2] = {
        {"pending", "en attente du visa"},
        {"approved", "visée"},
        {"executed", "visée, éliminée"},
        {"cancelled", "annulée"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(state, names[i][0]) == 0)
            return names[i][1];
    return state;
}

static void write_html_head(FILE *out, const struct config *cfg, const struct header *h)
{
    char a[TIME_ISO_SIZE], b[TIME_ISO_SIZE];
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>Bordereau d'élimination n° %lld</title>\n"
            "<style>body{font-family:serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #000;padding:2px 6px;text-align:left}"
            ".visa td{height:4em;width:18em}@media print{a{display:none}}</style>\n"
            "</head>\n<body>\n<h1>Bordereau d'élimination n° %lld</h1>\n"
            "<p>Enregistrements d'appels téléphoniques arrivés au terme de leur durée de "
            "conservation, proposés à l'élimination (greffier).</p>\n<table>\n",
            (long long)h->id, (long long)h->id);
    fputs("<tr><th>Service producteur</th><td>&nbsp;</td></tr>\n", out);
    fputs("<tr><th>Date de la proposition</th><td>", out);
    html_text(out, h->created);
    fprintf(out, "</td></tr>\n<tr><th>Nombre d'enregistrements</th><td>%lld</td></tr>\n",
            (long long)h->calls);
    fprintf(out, "<tr><th>Dates extrêmes</th><td>du %s au %s</td></tr>\n",
            day(h->first, a, sizeof(a)), day(h->last, b, sizeof(b)));
    fprintf(out, "<tr><th>Volume</th><td>%lld octets (%.2f Mo)</td></tr>\n", (long long)h->bytes,
            (double)h->bytes / 1e6);
    fputs("<tr><th>Base légale de la durée de conservation</th><td>", out);
    html_text(out, cfg->legal_basis);
    fputs("</td></tr>\n<tr><th>État</th><td>", out);
    html_text(out, state_fr(h->state));
    if (h->visa[0]) {
        fputs(" (visa ", out);
        html_text(out, h->visa);
        fputs(", ", out);
        html_text(out, h->approved_at);
        fputc(')', out);
    }
    fputs("</td></tr>\n</table>\n", out);
}

/* The rules summary: how many items and bytes under each retention rule. */
static int write_rules(FILE *out, sqlite3 *db, int64_t id, bool html)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT coalesce(rule, ''), count(*), coalesce(sum(bytes), 0)"
                           " FROM purge_proposal_items WHERE proposal_ref = ?1"
                           " GROUP BY 1 ORDER BY 1",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    if (html)
        fputs("<h2>Règles de conservation appliquées</h2>\n<table>\n"
              "<tr><th>Règle (durée)</th><th>Enregistrements</th><th>Octets</th></tr>\n",
              out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!html)
            continue;
        fputs("<tr><td>", out);
        html_text(out, (const char *)sqlite3_column_text(st, 0));
        fprintf(out, "</td><td>%lld</td><td>%lld</td></tr>\n",
                (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2));
    }
    if (html)
        fputs("</table>\n", out);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int write_items(FILE *out, sqlite3 *db, int64_t id, bool html)
{
    sqlite3_stmt *st = NULL;
    char a[TIME_ISO_SIZE], b[TIME_ISO_SIZE];
    if (sqlite3_prepare_v2(db,
                           "SELECT call_ref, start_us, expires_us, coalesce(rule, ''),"
                           " coalesce(bytes, 0) FROM purge_proposal_items"
                           " WHERE proposal_ref = ?1 ORDER BY start_us, call_ref",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(st, 1, id) != SQLITE_OK) {
        sqlite3_finalize(st);
        return -1;
    }
    if (html)
        fputs("<h2>Liste des enregistrements</h2>\n<table>\n<tr><th>Identifiant</th>"
              "<th>Début de l'appel (UTC)</th><th>Fin de conservation</th><th>Règle</th>"
              "<th>Octets</th></tr>\n",
              out);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *rule = (const char *)sqlite3_column_text(st, 3);
        time_format_iso_s(sqlite3_column_int64(st, 1), a, sizeof(a));
        day(sqlite3_column_int64(st, 2), b, sizeof(b));
        if (html) {
            fprintf(out, "<tr><td>%lld</td><td>%s</td><td>%s</td><td>",
                    (long long)sqlite3_column_int64(st, 0), a, b);
            html_text(out, rule);
            fprintf(out, "</td><td>%lld</td></tr>\n", (long long)sqlite3_column_int64(st, 4));
        } else {
            fprintf(out, "%lld,%s,%s,", (long long)sqlite3_column_int64(st, 0), a, b);
            csv_field(out, rule);
            fprintf(out, ",%lld\r\n", (long long)sqlite3_column_int64(st, 4));
        }
    }
    if (html)
        fputs("</table>\n", out);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int retention_slip_write(struct index *ix, const struct config *cfg, int64_t id, bool html,
                         FILE *out)
{
    sqlite3 *db = index_sqlite(ix);
    struct header h;
    int r = read_header(db, id, &h);
    if (r <= 0)
        return r;
    if (html)
        write_html_head(out, cfg, &h);
    else
        write_csv_head(out, cfg, &h);
    if (write_rules(out, db, id, html) != 0 || write_items(out, db, id, html) != 0) {
        log_msg(LOG_ERR, "retention: slip of proposal %lld: %s", (long long)id, sqlite3_errmsg(db));
        return -1;
    }
    if (html)
        fputs("<h2>Visa du service d'archives</h2>\n<table class=\"visa\">\n"
              "<tr><th>Référence du visa</th><td></td></tr>\n"
              "<tr><th>Date</th><td></td></tr>\n"
              "<tr><th>Nom, qualité et signature</th><td></td></tr>\n</table>\n"
              "</body>\n</html>\n",
              out);
    return ferror(out) ? -1 : 1;
}

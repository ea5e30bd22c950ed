/*
 * bench_search.c - fills an index made by `greffier init` with N synthetic calls for the
 * search benchmark (tests/bench/run.sh, section "search"), and writes samples of what it
 * put there (numbers, names, days, tags) for the HTTP client to ask for.
 *
 *   bench_search DATA_DIR N SAMPLES_FILE
 *
 * The calls look like a town hall's year: extensions 2000-2999 named after a pool of
 * staff, outside numbers from a pool of 200,000 (French mobiles and landlines, so each
 * appears a few times), some with a company name; 60% inbound, 30% outbound, 10%
 * internal; 80% answered with two streams and a MOS each; 3% tagged, 0.5% with a note.
 * Rows go in through plain SQL in one transaction; the schema's triggers keep the
 * free-text indexes (call_search, call_numbers) as they do for real calls.  ANALYZE at
 * the end: a served index has statistics (index_close runs PRAGMA optimize), and they
 * change SQLite's plans, so the figures are measured with them.  Deterministic (xorshift64*,
 * fixed seed): the same N gives the same index.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned below(unsigned n)
{
    return (unsigned)(next_rand() % n);
}

static const char *const first_names[] = {
    "Marie",     "Jean",   "Pierre",   "Michel",     "Nathalie", "Isabelle", "Sylvie",   "Philippe",
    "Catherine", "Alain",  "Nicolas",  "Christophe", "Sophie",   "Patrick",  "Sandrine", "Laurent",
    "Élodie",    "Céline", "Frédéric", "Stéphane",   "Julien",   "Camille",  "Léa",      "Hugo",
    "Chloé",     "Lucas",  "Inès",     "Manon",      "Théo",     "Emma",     "Louis",    "Jade",
    "Gabriel",   "Zoé",    "Arthur",   "Anaïs",      "Mathieu",  "Aurélie",  "Vincent",  "Hélène",
};
static const char *const last_names[] = {
    "Martin",   "Bernard", "Thomas",   "Petit",     "Robert",   "Richard", "Durand",   "Dubois",
    "Moreau",   "Laurent", "Simon",    "Michel",    "Lefèvre",  "Leroy",   "Roux",     "David",
    "Bertrand", "Morel",   "Fournier", "Girard",    "Bonnet",   "Dupont",  "Lambert",  "Fontaine",
    "Rousseau", "Vincent", "Muller",   "Lefebvre",  "Faure",    "André",   "Mercier",  "Blanc",
    "Guérin",   "Boyer",   "Garnier",  "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
};
static const char *const companies[] = {
    "Dupont SA",
    "Boulangerie Martin",
    "Garage Central",
    "Cabinet Moreau",
    "Pharmacie du Parc",
    "Transports Richard",
    "EDF",
    "La Poste",
    "Préfecture",
    "SDIS",
    "Crédit Agricole",
    "Plomberie Girard",
};
static const char *const tags[] = {
    "litige",  "urbanisme", "etat-civil", "rappel", "elu",
    "plainte", "voirie",    "cantine",    "social", "urgent",
};
static const char *const notes[] = {
    "Demande de rappel par le service urbanisme",
    "Administré mécontent du ramassage des déchets",
    "Réclamation sur la facture de cantine",
    "Signalement d'un nid-de-poule rue de la République",
    "Demande d'acte de naissance, rappeler jeudi",
    "Propos menaçants : transmis au directeur général des services",
};

#define NEL(a) (sizeof(a) / sizeof((a)[0]))
enum { EXTERNALS = 200000, STAFF = 600 };

struct party {
    char number[24], norm[24], name[64];
};

static void external(unsigned k, struct party *p)
{
    /* Half mobiles (06/07), half landlines (01-05), from a fixed pool. */
    unsigned lead = k % 2 ? 6 + k % 2 : 1 + k % 5;
    unsigned rest = 10000000u + (unsigned)((k * 2654435761u) % 89999999u);
    snprintf(p->number, sizeof(p->number), "0%u%08u", lead, rest % 100000000u);
    snprintf(p->norm, sizeof(p->norm), "+33%u%08u", lead, rest % 100000000u);
    if (k % 7 == 0)
        snprintf(p->name, sizeof(p->name), "%s", companies[k % NEL(companies)]);
    else if (k % 3 == 0)
        snprintf(p->name, sizeof(p->name), "%s %s", first_names[(k / 3) % NEL(first_names)],
                 last_names[(k / 11) % NEL(last_names)]);
    else
        p->name[0] = '\0';
}

static void extension(unsigned k, struct party *p)
{
    snprintf(p->number, sizeof(p->number), "%u", 2000 + k);
    snprintf(p->norm, sizeof(p->norm), "%u", 2000 + k);
    snprintf(p->name, sizeof(p->name), "%s %s", first_names[k % NEL(first_names)],
             last_names[(k / NEL(first_names) + k) % NEL(last_names)]);
}

static int check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench_search: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
    return rc;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
    return st;
}

static void text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && s[0])
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    check(db, sqlite3_step(st), what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_search DATA_DIR N SAMPLES_FILE\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/index.sqlite", argv[1]);
    char *end;
    long n = strtol(argv[2], &end, 10);
    if (*end || n <= 0 || n > 100000000) {
        fprintf(stderr, "bench_search: N must be a positive number\n");
        return 2;
    }
    FILE *samples = fopen(argv[3], "w");
    if (!samples) {
        perror(argv[3]);
        return 1;
    }
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_search: %s: %s (run greffier init first)\n", path,
                sqlite3_errmsg(db));
        return 1;
    }
    /* Our own index, made by greffier init: its triggers may use the FTS5 table. */
    check(db,
          sqlite3_exec(db,
                       "PRAGMA trusted_schema = ON; PRAGMA journal_mode = WAL;"
                       " PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;"
                       " BEGIN",
                       NULL, NULL, NULL),
          "begin");
    sqlite3_stmt *ins_call = prep(
        db, "INSERT INTO calls (call_id, start_us, answer_us, end_us, last_activity_us, status,"
            " sip_code, direction, end_reason, transport, caller, caller_norm, caller_name,"
            " callee, callee_norm, callee_name, caller_ip, caller_port, callee_ip, callee_port,"
            " media_state, rule, rule_action)"
            " VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, 'udp', ?9, ?10, ?11, ?12, ?13, ?14,"
            " '10.0.0.1', 5060, '10.1.0.2', 5060, ?15, '[default]', 'record')");
    sqlite3_stmt *ins_stream =
        prep(db, "INSERT INTO streams (call_ref, channel, ssrc, codec, packets, bytes, lost, mos,"
                 " first_us, last_us) VALUES (?1, ?2, ?3, 'pcmu', ?4, ?5, ?6, ?7, ?8, ?9)");
    sqlite3_stmt *ins_tag =
        prep(db, "INSERT OR IGNORE INTO call_tags (call_ref, tag) VALUES (?1, ?2)");
    sqlite3_stmt *ins_note =
        prep(db, "INSERT INTO call_notes (call_ref, ts, user, text) VALUES (?1, ?2, 'bench', ?3)");

    static const char *const statuses[] = {"cancelled", "busy", "rejected", "failed"};
    static const int codes[] = {487, 486, 603, 500};
    const int64_t year_start = 1735689600LL * 1000000; /* 2025-01-01T00:00:00Z */
    const int64_t span = 365LL * 86400 * 1000000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        struct party a, b;
        unsigned d = below(10);
        const char *dir = d < 6 ? "inbound" : d < 9 ? "outbound" : "internal";
        if (d < 6) {
            external(below(EXTERNALS), &a);
            extension(below(STAFF), &b);
        } else if (d < 9) {
            extension(below(STAFF), &a);
            external(below(EXTERNALS), &b);
        } else {
            extension(below(STAFF), &a);
            extension(below(STAFF), &b);
        }
        int64_t start = year_start + span / n * i + (int64_t)below(1000000);
        bool answered = below(10) < 8;
        int64_t answer = start + 2000000 + below(8000000);
        int64_t talk = 5000000 + (int64_t)(next_rand() % 600000000); /* 5 s to 10 min */
        char call_id[48];
        snprintf(call_id, sizeof(call_id), "bench-%ld@10.0.0.1", i);
        sqlite3_bind_text(ins_call, 1, call_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(ins_call, 2, start);
        unsigned s = below(NEL(statuses));
        if (answered) {
            sqlite3_bind_int64(ins_call, 3, answer);
            sqlite3_bind_int64(ins_call, 4, answer + talk);
            sqlite3_bind_text(ins_call, 5, "answered", -1, SQLITE_STATIC);
            sqlite3_bind_int(ins_call, 6, 200);
            sqlite3_bind_text(ins_call, 8, "bye", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins_call, 15, "recorded", -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(ins_call, 3);
            sqlite3_bind_int64(ins_call, 4, start + 8000000);
            sqlite3_bind_text(ins_call, 5, statuses[s], -1, SQLITE_STATIC);
            sqlite3_bind_int(ins_call, 6, codes[s]);
            sqlite3_bind_text(ins_call, 8, "final_response", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins_call, 15, "not_answered", -1, SQLITE_STATIC);
        }
        sqlite3_bind_text(ins_call, 7, dir, -1, SQLITE_STATIC);
        text_or_null(ins_call, 9, a.number);
        text_or_null(ins_call, 10, a.norm);
        text_or_null(ins_call, 11, a.name);
        text_or_null(ins_call, 12, b.number);
        text_or_null(ins_call, 13, b.norm);
        text_or_null(ins_call, 14, b.name);
        step(db, ins_call, "insert call");
        int64_t id = sqlite3_last_insert_rowid(db);
        if (answered) {
            for (int ch = 0; ch < 2; ch++) {
                int64_t packets = talk / 20000;
                sqlite3_bind_int64(ins_stream, 1, id);
                sqlite3_bind_int(ins_stream, 2, ch);
                sqlite3_bind_int64(ins_stream, 3, (int64_t)(next_rand() & 0xffffffff));
                sqlite3_bind_int64(ins_stream, 4, packets);
                sqlite3_bind_int64(ins_stream, 5, packets * 172);
                sqlite3_bind_int64(ins_stream, 6, below(20) == 0 ? below(500) : 0);
                sqlite3_bind_double(ins_stream, 7, 2.5 + below(200) / 100.0);
                sqlite3_bind_int64(ins_stream, 8, answer);
                sqlite3_bind_int64(ins_stream, 9, answer + talk);
                step(db, ins_stream, "insert stream");
            }
        }
        if (below(100) < 3) {
            sqlite3_bind_int64(ins_tag, 1, id);
            sqlite3_bind_text(ins_tag, 2, tags[below(NEL(tags))], -1, SQLITE_STATIC);
            step(db, ins_tag, "insert tag");
        }
        if (below(1000) < 5) {
            sqlite3_bind_int64(ins_note, 1, id);
            sqlite3_bind_text(ins_note, 2, "2025-06-01T10:00:00.000Z", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins_note, 3, notes[below(NEL(notes))], -1, SQLITE_STATIC);
            step(db, ins_note, "insert note");
        }
        /* Samples for the client: one call in 5000. */
        if (i % 5000 == 2500) {
            const struct party *ext = d < 6 ? &a : &b;
            fprintf(samples, "number\t%s\n", ext->number);
            fprintf(samples, "day\t%" PRId64 "\n", start / 1000000);
            if (ext->name[0])
                fprintf(samples, "name\t%s\n", ext->name);
            fprintf(samples, "staff\t%s\n", d < 6 ? b.name : a.name);
        }
        if (i % 100000 == 99999) {
            check(db, sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL), "commit");
            clock_gettime(CLOCK_MONOTONIC, &t1);
            fprintf(stderr, "bench_search: %ld calls (%.1f s)\n", i + 1,
                    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        }
    }
    for (size_t i = 0; i < NEL(tags); i++)
        fprintf(samples, "tag\t%s\n", tags[i]);
    check(db,
          sqlite3_exec(db, "COMMIT; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
          "commit");
    sqlite3_finalize(ins_call);
    sqlite3_finalize(ins_stream);
    sqlite3_finalize(ins_tag);
    sqlite3_finalize(ins_note);
    sqlite3_close(db);
    fclose(samples);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "bench_search: %ld calls in %.1f s\n", n,
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}

/*
 * fuzz_fts_query.c - index_fts_query() on arbitrary search text, as typed in the web's
 * free-text box.  Beyond memory safety it checks the contract that makes the text safe
 * for MATCH: whatever the input, an accepted query is one FTS5 accepts (no syntax
 * error from a stray quote, operator or NEAR), run against a small FTS5 table with the
 * tokenizer of call_search.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "greffier/index.h"

static sqlite3 *db;
static sqlite3_stmt *match;

static void setup(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE s USING fts5 (body,"
                     " tokenize = 'unicode61 remove_diacritics 2');"
                     "INSERT INTO s (body) VALUES ('0612345678 +33612345678 Élodie Martin litige'),"
                     " ('2001 Jean-Pierre Dupont SA rappel');",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM s WHERE s MATCH ?1", -1, &match, NULL) !=
            SQLITE_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[INDEX_FTS_TEXT_MAX + 64], out[INDEX_FTS_QUERY_SIZE];
    const char *why = NULL;
    if (!db)
        setup();
    if (size >= sizeof(in))
        size = sizeof(in) - 1;
    memcpy(in, data, size);
    in[size] = '\0';
    bool ok = index_fts_query(in, out, sizeof(out), &why);
    if (!ok) {
        if (!why || !*why)
            abort();
        return 0;
    }
    if (strlen(out) == 0 || strlen(out) >= sizeof(out))
        abort();
    sqlite3_bind_text(match, 1, out, -1, SQLITE_STATIC);
    int rc = sqlite3_step(match);
    sqlite3_reset(match);
    if (rc != SQLITE_ROW)
        abort(); /* FTS5 refused what we built: the text reached its syntax */
    return 0;
}

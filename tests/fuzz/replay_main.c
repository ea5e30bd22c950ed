/*
 * replay_main.c - a plain main() for fuzz targets under gcc: runs LLVMFuzzerTestOneInput
 * over every file named on the command line (or in the directories named), so that
 * `make check` replays the seed corpus with ASan+UBSan and no clang.  With
 * -max-seconds=N (first argument, N > 0) it also feeds deterministic pseudo-random
 * mutations of the seeds for about N seconds of CPU.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *seeds[4096];
static size_t seed_len[4096];
static size_t nseeds;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return;
    }
    unsigned char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (!buf)
        return;
    LLVMFuzzerTestOneInput(buf, n);
    if (nseeds < sizeof(seeds) / sizeof(seeds[0])) {
        seeds[nseeds] = buf;
        seed_len[nseeds++] = n;
    } else {
        free(buf);
    }
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        run_path(child);
    }
    closedir(d);
}

/* xorshift: deterministic, so a failure is reproducible from the seed corpus alone. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void mutate_for(double seconds)
{
    if (nseeds == 0)
        return;
    unsigned char *buf = malloc(1 << 16);
    if (!buf)
        return;
    clock_t end = clock() + (clock_t)(seconds * CLOCKS_PER_SEC);
    unsigned long runs = 0;
    while (clock() < end) {
        size_t i = next_random() % nseeds;
        size_t n = seed_len[i] < (1 << 16) ? seed_len[i] : (1 << 16);
        memcpy(buf, seeds[i], n);
        unsigned edits = 1 + (unsigned)(next_random() % 8);
        for (unsigned k = 0; k < edits && n > 0; k++) {
            size_t at = next_random() % n;
            switch (next_random() % 4) {
            case 0: buf[at] = (unsigned char)next_random(); break;
            case 1: buf[at] ^= (unsigned char)(1u << (next_random() % 8)); break;
            case 2: n = at; break; /* truncate */
            default: buf[at] = (unsigned char)(next_random() % 2 ? 0xff : 0x00); break;
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
        runs++;
    }
    free(buf);
    fprintf(stderr, "replay: %lu mutated inputs\n", runs);
}

int main(int argc, char **argv)
{
    double seconds = 0;
    int first = 1;
    if (argc > 1 && strncmp(argv[1], "-max-seconds=", 13) == 0) {
        seconds = strtod(argv[1] + 13, NULL);
        first = 2;
    }
    for (int i = first; i < argc; i++)
        run_path(argv[i]);
    fprintf(stderr, "replay: %zu seed inputs\n", nseeds);
    if (seconds > 0)
        mutate_for(seconds);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i]);
    return 0;
}

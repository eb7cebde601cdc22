/* What the cells of a size histogram cost (issue 28), without Rust or DataFusion: 50 M rows of
 * (x, other) added the way flow-udfs' HistAcc::update_fast does for `-b 12` — a value below
 * 4096 into lane (row % 4) of its own bin (one 64-bit add: rows in the low 24 bits, the other
 * column's sum above), any other value into its log bin's 24-byte cell (flows, packets, octets)
 * — or, with mode 1, every row into a 16-byte cell chosen without a branch. The other rows'
 * share (COLD %), the octaves their values spread over (OCTAVES, 2048 bins each) and how many
 * bins of an octave they use (2^SUB) are arguments, so that the branch and the cells' footprint
 * can be told apart. Prints ns per row, and a plain pass over the same two columns.
 *
 *   gcc -O2 -o /tmp/hist_cells bench/hist_cells.c
 *   /tmp/hist_cells COLD MODE OCTAVES SUB     e.g. 20 0 20 11 (sizes), 20 0 1 1 (one cell)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct { uint64_t flows, packets, octets; } Cell;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The dense log-bin index of x for b = 12 (flow-udfs' DenseBins::index). */
static inline size_t dense(uint64_t x) {
    int len = 64 - __builtin_clzll(x | 1), s = len > 12 ? len - 12 : 0;
    return ((size_t)s << 11) + (x >> s);
}

/* Mode 0: a value below 4096 into lane (row % 4) of its bin, any other into its cell. */
static void add_lanes(const uint64_t *x, const uint64_t *y, size_t rows, uint64_t *lanes, Cell *c) {
    for (size_t i = 0; i < rows; i += 4)
        for (int j = 0; j < 4; j++) {
            uint64_t v = x[i + j];
            if (v < 4096) lanes[v * 4 + j] += 1 + (y[i + j] << 24);
            else { Cell *k = &c[dense(v)]; k->flows++; k->packets += y[i + j]; k->octets += v; }
        }
}

/* Mode 1: every row into a 16-byte cell (lane word, x's sum) chosen without a branch. */
static void add_pairs(const uint64_t *x, const uint64_t *y, size_t rows, uint64_t *pairs) {
    for (size_t i = 0; i < rows; i += 4)
        for (int j = 0; j < 4; j++) {
            uint64_t v = x[i + j];
            size_t k = v < 4096 ? v * 4 + j : 4096 * 4 + dense(v);
            pairs[2 * k] += 1 + (y[i + j] << 24);
            pairs[2 * k + 1] += v;
        }
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s COLD MODE OCTAVES SUB\n", argv[0]); return 2; }
    int cold_pct = atoi(argv[1]), mode = atoi(argv[2]), octaves = atoi(argv[3]), sub = atoi(argv[4]);
    size_t rows = 50000000;
    uint64_t *x = malloc(rows * 8), *y = malloc(rows * 8), s = 88172645463325252ULL;
    for (size_t i = 0; i < rows; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        uint64_t lo = 4096ULL << ((s >> 8) % octaves);
        x[i] = (s % 100) < (uint64_t)cold_pct ? lo + (((s >> 20) % lo) & ~((lo >> sub) - 1))
                                              : 40 + ((s >> 30) % 32) * 100;
        y[i] = (s >> 50) + 1;
    }
    size_t cells = 64 * 2048 + 4096;
    Cell *c = calloc(cells, sizeof(Cell));
    uint64_t *lanes = calloc(4096 * 4, 8), *pairs = calloc((4096 * 4 + cells) * 2, 8);
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        if (mode == 0) add_lanes(x, y, rows, lanes, c);
        else add_pairs(x, y, rows, pairs);
        double t1 = now();
        uint64_t sum = 0;
        for (size_t i = 0; i < rows; i++) sum += x[i] + y[i];
        double t2 = now();
        printf("mode %d, %d%% cold over %d octaves x 2^%d bins: %.2f ns/row (plain pass %.2f) [%lu]\n",
               mode, cold_pct, octaves, sub, (t1 - t0) / rows * 1e9, (t2 - t1) / rows * 1e9,
               (unsigned long)(sum + c[5000].flows + lanes[160] + pairs[5000]));
    }
    return 0;
}

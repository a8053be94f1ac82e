/* libFuzzer target: the connectivity readers of src/io/edges.c (connect:
 * {File: ...}, {SONATA: ...} and g_max: {file, dataset}). Each input is
 * written to a file and read as a rows file (group / and /conn), as the
 * SONATA edge population "p" (source "A" of 10 nodes, target "B" of 8),
 * for the whole target population and for a block of it, and as g_max
 * matrices [10, 8] "W" and vector [8] "v", so every check a bad file can
 * reach runs (harness.h).
 * Crashes inside libhdf5 on a corrupt file are HDF5's: see README.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#include "brainsim/io.h"
#include "harness.h"

static char path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_start(argc, argv, "edges", NULL);
  char tag[64];
  snprintf(tag, sizeof tag, "edges-%ld.h5", (long)getpid());
  fuzz_tmp(path, sizeof path, tag);
  return 0;
}

static void edges(const char *group, int sonata, uint64_t lo, uint64_t hi) {
  bs_edges_src src = {.file = path,
                      .group = group,
                      .sonata = sonata,
                      .source = "A",
                      .target = "B",
                      .n_pre = 10,
                      .n_post = 8,
                      .proj = "fuzz"};
  bs_edges e;
  bs_status st = bs_edges_load(ctx, &src, lo, hi, &e);
  /* What the engine relies on: rows inside the block and the populations,
   * in file order, values where the file has them. */
  for (uint64_t k = 0; st == BS_OK && k < e.n; k++) {
    if (e.pre[k] >= 10 || e.post[k] < lo || e.post[k] >= hi ||
        e.row[k] >= e.total || (k && e.row[k] <= e.row[k - 1]))
      abort();
    if (e.delay && !(e.delay[k] >= 0))
      abort();
  }
  fuzz_report(sonata ? "sonata" : "rows", st);
  bs_edges_free(ctx, &e);
}

static void matrix(const char *name, uint64_t rows) {
  bs_matrix_in *m = NULL;
  double buf[80];
  bs_status st = bs_matrix_open(ctx, path, name, rows, 8, "fuzz", &m);
  if (st == BS_OK)
    st = bs_matrix_read(ctx, m, 2, rows ? 5 : 0, 3, 4, buf);
  fuzz_report(name, st);
  bs_matrix_close(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fuzz_put(path, data, size) != 0)
    return 0;
  bs_error_clear(ctx);
  edges("/", 0, 0, 8);
  edges("/conn", 0, 3, 6);
  edges("p", 1, 0, 8);
  edges("p", 1, 5, 8);
  matrix("W", 10);
  matrix("v", 0);
  return 0;
}

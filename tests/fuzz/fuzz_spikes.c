/* libFuzzer target: the SONATA spike-file reader of src/io/spikefile.c
 * (inputs and SpikeTimeGroup's file form). Each input is written to a file
 * and read as population "A" of 10 nodes, whole and as the block [3, 7),
 * and as the only population of the file, so every check a bad file can
 * reach runs (harness.h), and its row count for the memory estimate.
 * What the engine relies on is asserted: ids inside the block, finite
 * times >= 0 in (time, node id) order. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>

#include "brainsim/io.h"
#include "harness.h"

static char path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_start(argc, argv, "spikes", NULL);
  char tag[64];
  snprintf(tag, sizeof tag, "spikes-%ld.h5", (long)getpid());
  fuzz_tmp(path, sizeof path, tag);
  return 0;
}

static void spikes(const char *pop, uint64_t lo, uint64_t hi) {
  bs_sonata_spikes s = {0};
  bs_status st = bs_io_sonata_spikes_read(ctx, path, pop, 10, lo, hi, &s);
  for (uint64_t k = 0; st == BS_OK && k < s.n; k++) {
    if (s.node_ids[k] < lo || s.node_ids[k] >= hi || !isfinite(s.t[k]) ||
        s.t[k] < 0 || s.n > s.total)
      abort();
    if (k && (s.t[k] < s.t[k - 1] ||
              (s.t[k] == s.t[k - 1] && s.node_ids[k] < s.node_ids[k - 1])))
      abort();
  }
  char what[128];
  snprintf(what, sizeof what, "%s [%llu, %llu)", pop ? pop : "-",
           (unsigned long long)lo, (unsigned long long)hi);
  fuzz_report(what, st);
  bs_io_sonata_spikes_free(ctx, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fuzz_put(path, data, size) != 0)
    return 0;
  bs_error_clear(ctx);
  spikes("A", 0, 10);
  spikes("A", 3, 7);
  spikes(NULL, 0, 10);
  uint64_t rows = 0;
  fuzz_report("rows", bs_io_sonata_spikes_rows(ctx, path, "A", &rows));
  return 0;
}

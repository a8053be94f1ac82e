/* libFuzzer target: the SONATA spike-file reader of src/io/spikefile.c
 * (inputs and SpikeTimeGroup's file form). Each input is written to a file
 * and read as population "A" of 10 nodes, whole and as the block [3, 7),
 * and as the only population of the file, so every check a bad file can
 * reach runs (MPI on one rank, started once in LLVMFuzzerInitialize). What
 * the engine relies on is asserted: ids inside the block, finite times
 * >= 0 in (time, node id) order. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "brainsim/io.h"
#include "brainsim/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bs_comm *comm;
static bs_ctx *ctx;
static char path[4096];
static int verbose; /* BRAINSIM_FUZZ_VERBOSE=1: say why an input failed */

static void finish(void) {
  bs_ctx_destroy(&ctx);
  bs_comm_finalize(&comm);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  if (bs_comm_init(argc, argv, &comm) != BS_OK ||
      bs_ctx_create(comm, &ctx) != BS_OK) {
    fprintf(stderr, "fuzz_spikes: MPI could not start\n");
    exit(1);
  }
  ctx->rank = bs_comm_rank(comm);
  ctx->size = bs_comm_size(comm);
  atexit(finish);
  const char *tmp = getenv("TMPDIR");
  snprintf(path, sizeof path, "%s/brainsim-fuzz-spikes-%ld.h5",
           tmp && *tmp ? tmp : "/tmp", (long)getpid());
  verbose = getenv("BRAINSIM_FUZZ_VERBOSE") != NULL;
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
  if (verbose)
    fprintf(stderr, "fuzz_spikes: %s [%llu, %llu): %s\n", pop ? pop : "-",
            (unsigned long long)lo, (unsigned long long)hi,
            st == BS_OK ? "ok" : ctx->errmsg);
  if (st != BS_OK && !ctx->errmsg[0])
    abort(); /* a refusal must say why */
  bs_error_clear(ctx);
  bs_io_sonata_spikes_free(ctx, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return 0;
  size_t w = size ? fwrite(data, 1, size, f) : 0;
  if (fclose(f) != 0 || w != size)
    return 0;
  bs_error_clear(ctx);
  spikes("A", 0, 10);
  spikes("A", 3, 7);
  spikes(NULL, 0, 10);
  return 0;
}

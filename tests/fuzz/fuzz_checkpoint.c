/* libFuzzer target: the checkpoint reader (`brainsim run --restore FILE`),
 * today the only HDF5 file brainsim reads. Each input is written to a file,
 * and the network of ckpt_net.yaml (built anew each time, as a restart
 * does) is restored from it with bs_net_restore and then run to its end
 * without output, so whatever a checkpoint can put into the state is used.
 *
 * MPI is started once, on one rank, in LLVMFuzzerInitialize. Crashes inside
 * libhdf5 itself on a corrupt file are HDF5's, not brainsim's: see
 * tests/fuzz/README.md for how they are told apart and which are known. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "brainsim/config.h"
#include "brainsim/engine.h"
#include "brainsim/io.h"
#include "brainsim/util.h"
#include "harness.h"

#ifndef BS_FUZZ_CKPT_CONFIG
#error "BS_FUZZ_CKPT_CONFIG: path of tests/fuzz/ckpt_net.yaml"
#endif

static bs_spec *spec;
static char path[4096];

static void finish(void) { bs_config_destroy(&spec); }

/* Open MPI loads its MPI-IO components, and HDF5 sets up its free lists,
 * on first use and keeps them: do that once here, so that the per-input
 * leak check sees only what one restore leaves behind. */
static void warm_up(void) {
  bs_io *io = NULL;
  double x[2] = {1, 2};
  uint64_t one = 1;
  char *text = NULL;
  if (bs_io_create(ctx, path, 1, &io) == BS_OK) {
    bs_io_text(ctx, io, "/meta/identity", "warm-up");
    bs_io_attr_u64(ctx, io, "/meta", "step", &one, 1);
    bs_io_block_write(ctx, io, "/state/x", 1, 2, 0, 2, x);
    bs_io_close(ctx, &io, 1);
  }
  if (bs_io_open(ctx, path, 0, &io) == BS_OK) {
    bs_io_read_text(ctx, io, "/meta/identity", &text);
    bs_io_read_attr_u64(ctx, io, "/meta", "step", &one, 1);
    bs_io_block_read(ctx, io, "/state/x", 1, 2, 0, 2, x);
    bs_io_close(ctx, &io, 0);
  }
  free(text);
  bs_error_clear(ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_start(argc, argv, "checkpoint", finish);
  if (bs_config_load(ctx, BS_FUZZ_CKPT_CONFIG, 0, NULL, &spec) != BS_OK) {
    fprintf(stderr, "fuzz_checkpoint: %s\n", ctx->errmsg);
    exit(1);
  }
  char tag[64];
  snprintf(tag, sizeof tag, "ckpt-%ld.h5", (long)getpid());
  fuzz_tmp(path, sizeof path, tag);
  warm_up();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (fuzz_put(path, data, size) != 0)
    return 0;
  bs_error_clear(ctx);
  bs_net *net = NULL;
  if (bs_net_build(ctx, spec, &net) != BS_OK) {
    fprintf(stderr, "fuzz_checkpoint: building the network: %s\n", ctx->errmsg);
    abort();
  }
  char *out = NULL;
  bs_status st = bs_net_restore(ctx, net, path, &out);
  fuzz_report("restore", st);
  if (st == BS_OK) {
    bs_run_opts opts = {0};
    bs_run_result res;
    memset(&res, 0, sizeof res);
    bs_net_run(ctx, net, NULL, &opts, &res);
    free(res.spikes);
  }
  free(out);
  bs_net_destroy(ctx, &net);
  bs_error_clear(ctx);
  return 0;
}

/* What the libFuzzer targets that read files share: brainsim started once
 * in LLVMFuzzerInitialize (one process; MPI only under a launcher), a
 * scratch path per process, each input written to a file, and the rule
 * that a refusal says why. Included by one target per executable. */
#ifndef BS_FUZZ_HARNESS_H
#define BS_FUZZ_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "brainsim/util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bs_comm *comm;
static bs_ctx *ctx;
static int verbose; /* BRAINSIM_FUZZ_VERBOSE=1: say why an input failed */
static const char *fuzz_name;
static void (*fuzz_cleanup)(void);

static void fuzz_finish(void) {
  if (fuzz_cleanup)
    fuzz_cleanup();
  bs_ctx_destroy(&ctx);
  bs_comm_finalize(&comm);
}

/* Starts brainsim for target `name`; `cleanup` (or NULL) runs at exit
 * before the context goes. */
static inline void fuzz_start(int *argc, char ***argv, const char *name,
                              void (*cleanup)(void)) {
  fuzz_name = name;
  if (bs_comm_init(argc, argv, &comm) != BS_OK ||
      bs_ctx_create(comm, &ctx) != BS_OK) {
    fprintf(stderr, "fuzz_%s: brainsim could not start\n", name);
    exit(1);
  }
  ctx->rank = bs_comm_rank(comm);
  ctx->size = bs_comm_size(comm);
  fuzz_cleanup = cleanup;
  atexit(fuzz_finish);
  verbose = getenv("BRAINSIM_FUZZ_VERBOSE") != NULL;
}

/* <TMPDIR or /tmp>/brainsim-fuzz-<tag> into buf. */
static inline void fuzz_tmp(char *buf, size_t len, const char *tag) {
  const char *tmp = getenv("TMPDIR");
  snprintf(buf, len, "%s/brainsim-fuzz-%s", tmp && *tmp ? tmp : "/tmp", tag);
}

/* The input into the file at path: 0, or -1 when it could not be written
 * (the input is then skipped). */
static inline int fuzz_put(const char *path, const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = size ? fwrite(data, 1, size, f) : 0;
  return fclose(f) != 0 || w != size ? -1 : 0;
}

/* One reading's outcome, said under BRAINSIM_FUZZ_VERBOSE; a refusal
 * without a message is a finding. Clears the error. */
static inline void fuzz_report(const char *what, bs_status st) {
  if (verbose)
    fprintf(stderr, "fuzz_%s: %s: %s\n", fuzz_name, what,
            st == BS_OK ? "ok" : ctx->errmsg);
  if (st != BS_OK && !ctx->errmsg[0])
    abort(); /* a refusal must say why */
  bs_error_clear(ctx);
}

#endif

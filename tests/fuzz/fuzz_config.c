/* libFuzzer target: the YAML config reader with units and --set overrides
 * (bs_config_load, as `brainsim run/check` calls it). An input is a config
 * text, optionally followed by a line "%%" and then one --set argument per
 * line (at most MAX_SET), so the mutator reaches the override path too:
 *
 *   run: {dt: 0.1 ms, duration: 1 ms}
 *   ...
 *   %%
 *   run.dt=0.05 ms
 *   populations.E.size=3
 *
 * No MPI: the config reader is not collective. Any crash, leak or UB found
 * here is a bug in src/config/ (or src/util/); see tests/fuzz/README.md. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brainsim/config.h"
#include "brainsim/util.h"

#define MAX_SET 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[4096];

/* The reader takes a file name (its messages name it), so each input goes
 * through one private file per process. */
static int write_file(const uint8_t *data, size_t size) {
  if (!path[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/brainsim-fuzz-config-%ld.yaml",
             tmp && *tmp ? tmp : "/tmp", (long)getpid());
  }
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = size ? fwrite(data, 1, size, f) : 0;
  return fclose(f) == 0 && w == size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Split "config \n%%\n set1 \n set2 ...": a private NUL-terminated copy. */
  char *copy = malloc(size + 1);
  if (!copy)
    return 0;
  if (size)
    memcpy(copy, data, size);
  copy[size] = '\0';
  size_t cfg_len = size;
  char *set[MAX_SET];
  int n_set = 0;
  char *sep = strstr(copy, "\n%%\n");
  if (sep && (size_t)(sep - copy) < size) {
    cfg_len = (size_t)(sep - copy) + 1;
    char *save = NULL;
    for (char *t = strtok_r(sep + 4, "\n", &save); t && n_set < MAX_SET;
         t = strtok_r(NULL, "\n", &save))
      set[n_set++] = t;
  }
  if (write_file(data, cfg_len) != 0) {
    free(copy);
    return 0;
  }
  bs_ctx *ctx = NULL;
  if (bs_ctx_create(NULL, &ctx) == BS_OK) {
    bs_spec *spec = NULL;
    bs_status st = bs_config_load(ctx, path, n_set, set, &spec);
    if (getenv("BRAINSIM_FUZZ_VERBOSE"))
      fprintf(stderr, "fuzz_config: %d override(s): %s\n", n_set,
              st == BS_OK ? "ok" : ctx->errmsg);
    if (st == BS_OK) {
      /* A valid spec must be self-consistent: touch what the engine reads
       * first, so a broken invariant shows up under the sanitizers. */
      uint64_t n = 0;
      for (int p = 0; p < spec->n_pops; p++)
        n += spec->pops[p].size;
      if (n != spec->n_neurons || spec->n_steps < 1 || !(spec->dt > 0))
        abort();
      for (int j = 0; j < spec->n_projs; j++)
        if (spec->projs[j].pre < 0 || spec->projs[j].pre >= spec->n_pops ||
            spec->projs[j].post < 0 || spec->projs[j].post >= spec->n_pops)
          abort();
    } else if (!ctx->errmsg[0]) {
      abort(); /* a refusal must say why */
    }
    bs_config_destroy(&spec);
    bs_ctx_destroy(&ctx);
  }
  free(copy);
  return 0;
}

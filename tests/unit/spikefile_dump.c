/* Print what bs_io_sonata_spikes_read returns, one "node_id time" line per
 * spike (time with 17 digits), or the error and exit 1:
 *   spikefile_dump FILE POPULATION|- N_NODES LO HI
 * tests/python/test_spikefile.py compares it with numpy's reading. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/io.h"

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s FILE POPULATION|- N_NODES LO HI\n", argv[0]);
    return 2;
  }
  bs_ctx *ctx;
  if (bs_ctx_create(NULL, &ctx) != BS_OK)
    return 2;
  const char *pop = strcmp(argv[2], "-") ? argv[2] : NULL;
  bs_sonata_spikes s;
  bs_status st = bs_io_sonata_spikes_read(
      ctx, argv[1], pop, strtoull(argv[3], NULL, 10),
      strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10), &s);
  if (st != BS_OK) {
    fprintf(stderr, "error: %s\n", ctx->errmsg);
    bs_ctx_destroy(&ctx);
    return 1;
  }
  printf("total %llu\n", (unsigned long long)s.total);
  for (uint64_t k = 0; k < s.n; k++)
    printf("%llu %.17g\n", (unsigned long long)s.node_ids[k], s.t[k]);
  bs_io_sonata_spikes_free(ctx, &s);
  bs_ctx_destroy(&ctx);
  return 0;
}

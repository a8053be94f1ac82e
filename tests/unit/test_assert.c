/* BS_ASSERT fires: a bad ring-buffer slot on the last rank prints
 * file:line, the function, the expression and the rank, and ends every
 * rank (the others wait in a collective that never completes). Compiled
 * with the checks on whatever the build type; CTest matches the message
 * and fails on "not reached" or a hang (its timeout). */
#ifndef BRAINSIM_ASSERTS
#define BRAINSIM_ASSERTS 1
#endif
#include <stdint.h>
#include <stdio.h>

#include "brainsim/comm.h"
#include "brainsim/util.h"

int main(int argc, char **argv) {
  bs_comm *comm = NULL;
  bs_ctx *ctx = NULL;
  if (bs_comm_init(&argc, &argv, &comm) != BS_OK ||
      bs_ctx_create(comm, &ctx) != BS_OK)
    return 2;
  ctx->rank = bs_comm_rank(comm);
  ctx->size = bs_comm_size(comm);
  if (ctx->rank == ctx->size - 1) {
    const uint32_t R = 4, slot = (uint32_t)(3 + argc); /* 4 with no args */
    bs_ctx_destroy(&ctx);
    BS_ASSERT(slot < R);
    printf("not reached: slot %u\n", slot);
    return 0;
  }
  bs_comm_agree(ctx, BS_OK, NULL); /* the last rank never joins */
  printf("not reached on rank %d\n", ctx->rank);
  bs_ctx_destroy(&ctx);
  bs_comm_finalize(&comm);
  return 0;
}

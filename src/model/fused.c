/* The fused update of a population (DESIGN.md, "Performance model"): one
 * pass per block of BS_FUSED_BLOCK neurons through the kernels chosen at
 * setup, with the block's input I (and G) in L1. */
#include <string.h>

#include "model_impl.h"

int bs_fused_update(const bs_fused_args *a) {
  bs_neuron_args *na = a->na;
  const size_t N = na->n;
  const int needs_G = a->neuron->needs_G;
  const double *V = na->x[0];
  double I[BS_FUSED_BLOCK], G[BS_FUSED_BLOCK];
  size_t nspk = 0;
  uint64_t bad = 0;
  for (size_t b0 = 0; b0 < N; b0 += BS_FUSED_BLOCK) {
    const size_t n = N - b0 < BS_FUSED_BLOCK ? N - b0 : BS_FUSED_BLOCK;
    memcpy(I, a->I0 + b0, n * sizeof(double));
    if (needs_G)
      memset(G, 0, n * sizeof(double));
    for (int j = 0; j < a->nsyn; j++)
      a->syn[j].block(&a->syn[j], b0, n, V + b0, I, needs_G ? G : NULL, &bad);
    a->neuron->block(na, b0, n, I, needs_G ? G : NULL, &nspk, &bad);
  }
  na->nspk = nspk;
  return (int)(bad >> 63);
}

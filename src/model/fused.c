/* The fused update of a population (DESIGN.md, "Performance model"): one
 * pass per block of BS_FUSED_BLOCK neurons through the kernels chosen at
 * setup, with the block's input I (and G) in L1. */
#include <string.h>

#include "model_impl.h"

/* Arrivals counted in units of one weight w, as the sums they stand for:
 * k x w where that is exactly the sum of k weights (k <= kexact), in a
 * vectorised pass; the table sums[k] (a gather the compiler leaves scalar)
 * only for the rare larger counts. */
BS_CLONES void bs_counts_expand(size_t n, uint16_t *restrict count,
                                const double *restrict sums, double w,
                                uint32_t kexact, double *restrict in) {
  uint16_t m = 0;
  for (size_t i = 0; i < n; i++) {
    in[i] = (double)count[i] * w;
    m = count[i] > m ? count[i] : m;
  }
  for (size_t i = 0; m > kexact && i < n; i++)
    if (count[i] > kexact)
      in[i] = sums[count[i]];
  memset(count, 0, n * sizeof *count);
}

BS_CLONES uint16_t bs_counts_max(size_t n, const uint16_t *restrict count) {
  uint16_t m = 0;
  for (size_t i = 0; i < n; i++)
    m = count[i] > m ? count[i] : m;
  return m;
}

/* The whole kernel's step (bs_fused_neuron.whole): arrivals straight from
 * the double rings; count rings read as counts by kernels that take them
 * (whole_counts) in blocks where every count is within kexact, else
 * expanded per block into in. */
static int whole_update(const bs_fused_args *a, const bs_fused_term *t) {
  bs_neuron_args *na = a->na;
  const size_t N = na->n;
  const int nt = a->nsyn;
  const bs_fused_neuron *fn = a->neuron;
  double buf[BS_FUSED_TERMS][BS_FUSED_BLOCK];
  double *in[BS_FUSED_TERMS], cw[BS_FUSED_TERMS];
  uint16_t *cnt[BS_FUSED_TERMS];
  size_t nspk = 0;
  uint64_t bad = 0;
  /* Counts of a whole slot within kexact (the common case) need no test
   * per block: one pass over the slot instead of one call per block. */
  int small[BS_FUSED_TERMS], all_small = 1;
  for (int j = 0; j < nt; j++) {
    small[j] = fn->whole_counts && a->syn[j].count &&
               bs_counts_max(N, a->syn[j].count) <= a->syn[j].kexact;
    all_small &= small[j] || !a->syn[j].count;
  }
  /* Blocks for the buffers of expanded counts; without them, as many
   * neurons as the kernel takes in one call. */
  const size_t B = all_small && fn->max_n ? fn->max_n : BS_FUSED_BLOCK;
  for (size_t b0 = 0; b0 < N; b0 += B) {
    const size_t n = N - b0 < B ? N - b0 : B;
    int counts = 0;
    for (int j = 0; j < nt; j++) {
      const bs_fused_syn *s = &a->syn[j];
      in[j] = s->count ? buf[j] : s->in + b0;
      cnt[j] = NULL;
      cw[j] = s->w;
      if (!s->count)
        continue;
      if (fn->whole_counts &&
          (small[j] || bs_counts_max(n, s->count + b0) <= s->kexact)) {
        cnt[j] = s->count + b0;
        counts = 1;
      } else {
        bs_counts_expand(n, s->count + b0, s->sums, s->w, s->kexact, buf[j]);
      }
    }
    const double *I0 = a->I0 ? a->I0 + b0 : NULL;
    if (counts)
      fn->whole_counts(na, b0, n, I0, a->I0v, t, in, cnt, cw, nt, &nspk, &bad);
    else
      fn->whole(na, b0, n, I0, a->I0v, t, in, nt, &nspk, &bad);
  }
  na->nspk = nspk;
  return (int)(bad >> 63);
}

int bs_fused_whole_terms(const bs_fused_neuron *fn, int nsyn,
                         const bs_fused_syn *syn, bs_fused_term *t) {
  if (!fn->whole || nsyn > BS_FUSED_TERMS)
    return 0;
  int j = 0;
  while (j < nsyn && syn[j].term && syn[j].term(&syn[j], &t[j]))
    j++;
  return j == nsyn;
}

int bs_fused_update(const bs_fused_args *a) {
  bs_fused_term t[BS_FUSED_TERMS];
  if (bs_fused_whole_terms(a->neuron, a->nsyn, a->syn, t))
    return whole_update(a, t);
  bs_neuron_args *na = a->na;
  const size_t N = na->n;
  const int needs_G = a->neuron->needs_G;
  const double *V = na->x[0];
  double I[BS_FUSED_BLOCK], G[BS_FUSED_BLOCK], in[BS_FUSED_BLOCK];
  size_t nspk = 0;
  uint64_t bad = 0;
  for (size_t b0 = 0; b0 < N; b0 += BS_FUSED_BLOCK) {
    const size_t n = N - b0 < BS_FUSED_BLOCK ? N - b0 : BS_FUSED_BLOCK;
    if (a->I0)
      memcpy(I, a->I0 + b0, n * sizeof(double));
    else
      for (size_t i = 0; i < n; i++)
        I[i] = a->I0v;
    if (needs_G)
      memset(G, 0, n * sizeof(double));
    for (int j = 0; j < a->nsyn; j++) {
      const bs_fused_syn *s = &a->syn[j];
      if (s->count)
        bs_counts_expand(n, s->count + b0, s->sums, s->w, s->kexact, in);
      s->block(s, b0, n, s->count ? in : s->in + b0, V + b0, I,
               needs_G ? G : NULL, &bad);
    }
    a->neuron->block(na, b0, n, I, needs_G ? G : NULL, &nspk, &bad);
  }
  na->nspk = nspk;
  return (int)(bad >> 63);
}

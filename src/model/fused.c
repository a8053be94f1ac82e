/* The fused update of a population (DESIGN.md, "Performance model"): one
 * pass per block of BS_FUSED_BLOCK neurons through the kernels chosen at
 * setup, with the block's input I (and G) in L1. */
#include <string.h>

#include "model_impl.h"

/* Arrivals counted in units of one weight w, as the sums they stand for:
 * k x w where that is exactly the sum of k weights (k <= kexact), in a
 * vectorised pass; the table sums[k] (a gather the compiler leaves scalar)
 * only for the rare larger counts. For cells of type T. */
#define COUNTS_EXPAND(NAME, T)                                                 \
  BS_CLONES void NAME(size_t n, T *restrict count,                             \
                      const double *restrict sums, double w, uint32_t kexact,  \
                      double *restrict in) {                                   \
    T m = 0;                                                                   \
    for (size_t i = 0; i < n; i++) {                                           \
      in[i] = (double)count[i] * w;                                            \
      m = count[i] > m ? count[i] : m;                                         \
    }                                                                          \
    for (size_t i = 0; m > kexact && i < n; i++)                               \
      if (count[i] > kexact)                                                   \
        in[i] = sums[count[i]];                                                \
    memset(count, 0, n * sizeof *count);                                       \
  }
COUNTS_EXPAND(bs_counts_expand, uint16_t)
COUNTS_EXPAND(bs_counts_expand8, uint8_t)

#define COUNTS_MAX(NAME, T)                                                    \
  BS_CLONES T NAME(size_t n, const T *restrict count) {                        \
    T m = 0;                                                                   \
    for (size_t i = 0; i < n; i++)                                             \
      m = count[i] > m ? count[i] : m;                                         \
    return m;                                                                  \
  }
COUNTS_MAX(bs_counts_max, uint16_t)
COUNTS_MAX(bs_counts_max8, uint8_t)

/* Whether the counts of term s over [b0, b0 + n) are all within kexact. */
static int counts_small(const bs_fused_syn *s, size_t b0, size_t n) {
  return s->count8 ? bs_counts_max8(n, s->count8 + b0) <= s->kexact
                   : bs_counts_max(n, s->count + b0) <= s->kexact;
}

/* Term s's arrivals over [b0, b0 + n) expanded into buf. */
static void counts_expand(const bs_fused_syn *s, size_t b0, size_t n,
                          double *buf) {
  if (s->count8)
    bs_counts_expand8(n, s->count8 + b0, s->sums, s->w, s->kexact, buf);
  else
    bs_counts_expand(n, s->count + b0, s->sums, s->w, s->kexact, buf);
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
  uint8_t *cnt8[BS_FUSED_TERMS];
  size_t nspk = 0;
  uint64_t bad = 0;
  /* Counts of a whole slot within kexact (the common case) need no test
   * per block: one pass over the slot instead of one call per block. The
   * kernel reads counts of bytes only where every term has them (all8);
   * in any other mix they are expanded. */
  int small[BS_FUSED_TERMS], all8 = fn->counts8 && nt > 0;
  for (int j = 0; j < nt; j++) {
    const bs_fused_syn *s = &a->syn[j];
    small[j] =
        fn->whole_counts && (s->count || s->count8) && counts_small(s, 0, N);
    all8 &= s->count8 && small[j];
  }
  /* Blocks for the buffers of expanded counts; without them, as many
   * neurons as the kernel takes in one call. */
  int expands = 0;
  for (int j = 0; j < nt; j++)
    expands |= (a->syn[j].count && !small[j]) || (a->syn[j].count8 && !all8);
  const size_t B = !expands && fn->max_n ? fn->max_n : BS_FUSED_BLOCK;
  for (size_t b0 = 0; b0 < N; b0 += B) {
    const size_t n = N - b0 < B ? N - b0 : B;
    int counts = 0;
    for (int j = 0; j < nt; j++) {
      const bs_fused_syn *s = &a->syn[j];
      in[j] = s->count || s->count8 ? buf[j] : s->in + b0;
      cnt[j] = NULL;
      cnt8[j] = all8 ? s->count8 + b0 : NULL;
      cw[j] = s->w;
      if (all8 || (!s->count && !s->count8))
        continue;
      if (fn->whole_counts && s->count &&
          (small[j] || counts_small(s, b0, n))) {
        cnt[j] = s->count + b0;
        counts = 1;
      } else {
        counts_expand(s, b0, n, buf[j]);
      }
    }
    const double *I0 = a->I0 ? a->I0 + b0 : NULL;
    if (all8)
      fn->whole_counts(na, b0, n, I0, a->I0v, t, in, NULL, cnt8, cw, nt, &nspk,
                       &bad);
    else if (counts)
      fn->whole_counts(na, b0, n, I0, a->I0v, t, in, cnt, NULL, cw, nt, &nspk,
                       &bad);
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
      const int counted = s->count || s->count8;
      if (counted)
        counts_expand(s, b0, n, in);
      s->block(s, b0, n, counted ? in : s->in + b0, V + b0, I,
               needs_G ? G : NULL, &bad);
    }
    a->neuron->block(na, b0, n, I, needs_G ? G : NULL, &nspk, &bad);
  }
  na->nspk = nspk;
  return (int)(bad >> 63);
}

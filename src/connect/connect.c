/* Connectors (BrainPy names, §6 of the reference). Each generates only the
 * synapses onto the local block of post-synaptic neurons, with work
 * proportional to those synapses where the connector allows it: FixedProb
 * skips geometrically between successes instead of tossing a coin per pair.
 * Random streams are keyed by (projection, neuron index), never by rank. */
#include "brainsim/connect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/rng.h"

#define EMIT(pre, post, key)                                                   \
  do {                                                                         \
    if (emit(sink, (pre), (post), (key)))                                      \
      return 1;                                                                \
  } while (0)

static void stream(bs_rng *r, const bs_conn_args *a, uint64_t idx) {
  bs_rng_init(r, a->seed, BS_RNG_CONNECT, a->proj_id, (uint32_t)idx,
              (uint32_t)(idx >> 32));
}

/* ---- All2All ---------------------------------------------------------- */

static const bs_param all2all_params[] = {
    {"include_self", BS_DIM_ONE, 1, 0, 1, BS_P_INTEGER,
     "connect neuron i to itself when pre and post are the same population"},
};

static double all2all_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                               int same, uint64_t n_ij) {
  (void)n_ij;
  double n = (double)n_pre * (double)n_post;
  if (same && p[0] == 0)
    n -= (double)n_post;
  return n;
}

static int all2all_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                            void *sink) {
  int skip_self = a->same_pop && a->p[0] == 0;
  for (uint64_t j = a->post_lo; j < a->post_hi; j++)
    for (uint64_t i = 0; i < a->n_pre; i++) {
      if (skip_self && i == j)
        continue;
      EMIT(i, j, j * a->n_pre + i);
    }
  return 0;
}

/* ---- One2One ---------------------------------------------------------- */

static const char *one2one_check(const double *p, uint64_t n_pre,
                                 uint64_t n_post, int same, int *blame) {
  (void)p;
  (void)same;
  *blame = -1;
  return n_pre != n_post ? "One2One needs pre and post of the same size" : NULL;
}

static double one2one_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                               int same, uint64_t n_ij) {
  (void)p;
  (void)n_pre;
  (void)same;
  (void)n_ij;
  return (double)n_post;
}

static int one2one_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                            void *sink) {
  for (uint64_t j = a->post_lo; j < a->post_hi; j++)
    EMIT(j, j, j);
  return 0;
}

/* ---- FixedProb -------------------------------------------------------- */

static const bs_param fixedprob_params[] = {
    {"prob", BS_DIM_ONE, NAN, 0, 1, BS_P_REQUIRED,
     "probability of each (pre, post) pair"},
    {"include_self", BS_DIM_ONE, 1, 0, 1, BS_P_INTEGER,
     "allow i -> i when pre and post are the same population"},
};

static double fixedprob_expected(const double *p, uint64_t n_pre,
                                 uint64_t n_post, int same, uint64_t n_ij) {
  return p[0] * all2all_expected(p + 1, n_pre, n_post, same, n_ij);
}

static int fixedprob_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                              void *sink) {
  const double prob = a->p[0];
  const int skip_self = a->same_pop && a->p[1] == 0;
  if (prob <= 0.0)
    return 0;
  /* Geometric skipping: the gap to the next success is floor(log U /
   * log(1 - p)), which gives independent Bernoulli(p) pairs. */
  const double inv_log_q = prob < 1.0 ? 1.0 / log1p(-prob) : 0.0;
  for (uint64_t j = a->post_lo; j < a->post_hi; j++) {
    bs_rng r;
    stream(&r, a, j);
    uint64_t i = 0;
    for (;;) {
      if (prob < 1.0) {
        double gap = floor(log(bs_rng_uniform(&r)) * inv_log_q);
        if (gap >= (double)(a->n_pre - i))
          break;
        i += (uint64_t)gap;
      }
      if (i >= a->n_pre)
        break;
      if (!(skip_self && i == j))
        EMIT(i, j, j * a->n_pre + i);
      i++;
    }
  }
  return 0;
}

/* ---- FixedPreNum / FixedPostNum --------------------------------------- */

static const bs_param fixednum_params[] = {
    {"num", BS_DIM_ONE, NAN, 0, HUGE_VAL, BS_P_REQUIRED,
     "number of partners (an integer), or a fraction in (0, 1) of the "
     "other population"},
    {"include_self", BS_DIM_ONE, 1, 0, 1, BS_P_INTEGER,
     "allow i -> i when pre and post are the same population"},
};

/* BrainPy: an integer is a count, a float below 1 a fraction of the other
 * side (int(n * num)). */
static uint64_t resolve_num(double num, uint64_t n_other) {
  if (num < 1.0 && num != floor(num))
    return (uint64_t)((double)n_other * num);
  return (uint64_t)num;
}

static const char *fixednum_check_side(const double *p, uint64_t n_other,
                                       int same, int *blame,
                                       const char *toomany) {
  *blame = 0;
  if (p[0] >= 1.0 && p[0] != floor(p[0]))
    return "num must be an integer count or a fraction below 1";
  uint64_t cand = n_other - ((same && p[1] == 0) ? 1 : 0);
  if (resolve_num(p[0], n_other) > cand)
    return toomany;
  return NULL;
}

static const char *fixedprenum_check(const double *p, uint64_t n_pre,
                                     uint64_t n_post, int same, int *blame) {
  (void)n_post;
  return fixednum_check_side(p, n_pre, same, blame,
                             "num exceeds the number of distinct pre-synaptic "
                             "neurons available");
}

static const char *fixedpostnum_check(const double *p, uint64_t n_pre,
                                      uint64_t n_post, int same, int *blame) {
  (void)n_pre;
  return fixednum_check_side(p, n_post, same, blame,
                             "num exceeds the number of distinct "
                             "post-synaptic neurons available");
}

static double fixedprenum_expected(const double *p, uint64_t n_pre,
                                   uint64_t n_post, int same, uint64_t n_ij) {
  (void)same;
  (void)n_ij;
  return (double)resolve_num(p[0], n_pre) * (double)n_post;
}

static double fixedpostnum_expected(const double *p, uint64_t n_pre,
                                    uint64_t n_post, int same, uint64_t n_ij) {
  (void)same;
  (void)n_ij;
  return (double)resolve_num(p[0], n_post) * (double)n_pre;
}

/* Draw k distinct values from [0, n) \ {excl} (excl = UINT64_MAX: none) into
 * out, by Floyd's algorithm with an open-addressing set (O(k) expected). */
static int sample_distinct(bs_rng *r, uint64_t n, uint64_t k, uint64_t excl,
                           uint64_t *out) {
  uint64_t m = n - (excl < n ? 1 : 0);
  size_t cap = 16;
  while (cap < 2 * k + 2)
    cap <<= 1;
  uint64_t *set = malloc(cap * sizeof *set);
  if (!set)
    return 1;
  for (size_t s = 0; s < cap; s++)
    set[s] = UINT64_MAX;
  uint64_t cnt = 0;
  for (uint64_t t = m - k; t < m; t++) {
    uint64_t v = bs_rng_below(r, t + 1);
    for (int pass = 0; pass < 2; pass++) {
      size_t h = (size_t)((v * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
      while (set[h] != UINT64_MAX && set[h] != v)
        h = (h + 1) & (cap - 1);
      if (set[h] == v) { /* taken: Floyd takes t instead */
        v = t;
        continue;
      }
      set[h] = v;
      break;
    }
    out[cnt++] = v;
  }
  free(set);
  /* Map [0, m) onto [0, n) skipping the excluded value. */
  if (excl < n)
    for (uint64_t q = 0; q < k; q++)
      if (out[q] >= excl)
        out[q]++;
  return 0;
}

static int fixedprenum_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                                void *sink) {
  uint64_t k = resolve_num(a->p[0], a->n_pre);
  int skip_self = a->same_pop && a->p[1] == 0;
  uint64_t *pick = malloc((k ? k : 1) * sizeof *pick);
  if (!pick)
    return 1;
  for (uint64_t j = a->post_lo; j < a->post_hi; j++) {
    bs_rng r;
    stream(&r, a, j);
    if (sample_distinct(&r, a->n_pre, k, skip_self ? j : UINT64_MAX, pick)) {
      free(pick);
      return 1;
    }
    for (uint64_t q = 0; q < k; q++)
      if (emit(sink, pick[q], j, j * a->n_pre + pick[q])) {
        free(pick);
        return 1;
      }
  }
  free(pick);
  return 0;
}

static int fixedpostnum_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                                 void *sink) {
  /* Each pre neuron chooses its targets; every rank replays every choice
   * (keyed by the pre index) and keeps the targets it owns. */
  uint64_t k = resolve_num(a->p[0], a->n_post);
  int skip_self = a->same_pop && a->p[1] == 0;
  uint64_t *pick = malloc((k ? k : 1) * sizeof *pick);
  if (!pick)
    return 1;
  for (uint64_t i = 0; i < a->n_pre; i++) {
    bs_rng r;
    stream(&r, a, i);
    if (sample_distinct(&r, a->n_post, k, skip_self ? i : UINT64_MAX, pick)) {
      free(pick);
      return 1;
    }
    for (uint64_t q = 0; q < k; q++) {
      uint64_t j = pick[q];
      if (j >= a->post_lo && j < a->post_hi &&
          emit(sink, i, j, j * a->n_pre + i)) {
        free(pick);
        return 1;
      }
    }
  }
  free(pick);
  return 0;
}

/* ---- explicit (pre, post) pairs --------------------------------------- */

static double ij_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                          int same, uint64_t n_ij) {
  (void)p;
  (void)n_pre;
  (void)n_post;
  (void)same;
  return (double)n_ij;
}

static int ij_generate(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink) {
  for (uint64_t q = 0; q < a->n_ij; q++)
    if (a->j[q] >= a->post_lo && a->j[q] < a->post_hi)
      EMIT(a->i[q], a->j[q], q);
  return 0;
}

/* ---- registry --------------------------------------------------------- */

static const bs_connector connectors[] = {
    {"All2All", "every pre to every post", "exact: all pairs", 1,
     all2all_params, 0, NULL, all2all_expected, all2all_generate},
    {"One2One", "pre i to post i", "exact", 0, NULL, 0, one2one_check,
     one2one_expected, one2one_generate},
    {"FixedProb", "each pair independently with probability prob",
     "independent Bernoulli pairs (Brian2's connect(p=...)); degrees vary", 2,
     fixedprob_params, 0, NULL, fixedprob_expected, fixedprob_generate},
    {"FixedPreNum", "each post receives num distinct pre",
     "exact in-degree num, no multapses", 2, fixednum_params, 0,
     fixedprenum_check, fixedprenum_expected, fixedprenum_generate},
    {"FixedPostNum", "each pre projects to num distinct post",
     "exact out-degree num, no multapses", 2, fixednum_params, 0,
     fixedpostnum_check, fixedpostnum_expected, fixedpostnum_generate},
    {"IJ",
     "explicit (pre, post) pairs: {i: [...], j: [...]} or "
     "[[pre, post], ...]",
     "exactly the listed pairs, duplicates kept", 0, NULL, 1, NULL, ij_expected,
     ij_generate},
};

#define NCONN ((int)(sizeof connectors / sizeof connectors[0]))

const bs_connector *bs_connector_find(const char *name) {
  for (int i = 0; i < NCONN; i++)
    if (strcmp(connectors[i].name, name) == 0)
      return &connectors[i];
  return NULL;
}
int bs_connector_count(void) { return NCONN; }
const bs_connector *bs_connector_at(int i) { return &connectors[i]; }

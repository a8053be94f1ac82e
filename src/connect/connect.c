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
#include "connect_impl.h"

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
        /* floor(gap) >= m exactly when gap >= m for an integer m, and
         * truncation is floor for gap >= 0: no floor call (x86-64's
         * baseline has no rounding instruction). */
        const double gap = log(bs_rng_uniform(&r)) * inv_log_q;
        if (gap >= (double)(int64_t)(a->n_pre - i))
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
/* A count from a double, saturated: converting a value beyond uint64_t's
 * range is undefined, and the size checks refuse the saturated count. */
static uint64_t count_of(double v) {
  if (!(v > 0.0))
    return 0;
  return v >= 9.2e18 ? (uint64_t)9.2e18 : (uint64_t)v;
}

static uint64_t resolve_num(double num, uint64_t n_other) {
  if (num < 1.0 && num != floor(num))
    return count_of((double)n_other * num);
  return count_of(num);
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

/* ---- FixedTotalNum ---------------------------------------------------- *
 * num i.i.d. uniform pairs. The number of pairs whose post lies in a range
 * is split recursively over halves of the post range, Binomial(k, share of
 * the left half) per node, each node with its own stream (keyed by its
 * heap index): a rank descends only into nodes that meet its block, so the
 * work is O(log n_post) per block plus its synapses, and every rank count
 * sees the same tree. A leaf (one post j) draws its k pre uniformly from
 * the stream of j. */

static const bs_param totalnum_params[] = {
    {"num", BS_DIM_ONE, NAN, 0, HUGE_VAL, BS_P_REQUIRED,
     "number of pairs (an integer), or a fraction in (0, 1) of all pairs"},
};

static uint64_t totalnum_resolve(double num, uint64_t n_pre, uint64_t n_post) {
  if (num < 1.0 && num != floor(num))
    return count_of((double)n_pre * (double)n_post * num);
  return count_of(num);
}

static const char *totalnum_check(const double *p, uint64_t n_pre,
                                  uint64_t n_post, int same, int *blame) {
  (void)same;
  *blame = 0;
  if (p[0] >= 1.0 && p[0] != floor(p[0]))
    return "num must be an integer count or a fraction below 1";
  if (totalnum_resolve(p[0], n_pre, n_post) > 0 && (n_pre == 0 || n_post == 0))
    return "num > 0 needs non-empty populations";
  return NULL;
}

static double totalnum_expected(const double *p, uint64_t n_pre,
                                uint64_t n_post, int same, uint64_t n_ij) {
  (void)same;
  (void)n_ij;
  return (double)totalnum_resolve(p[0], n_pre, n_post);
}

/* Binomial(n, p) (util/rng.c's inversion from the mode). */
static uint64_t binomial(bs_rng *r, uint64_t n, double p) {
  bs_binom b;
  bs_binom_init(&b, n, p);
  return bs_binom_draw(&b, r);
}

static int totalnum_node(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink,
                         uint64_t L, uint64_t R, uint64_t k, uint64_t node) {
  if (k == 0 || R <= a->post_lo || L >= a->post_hi)
    return 0;
  bs_rng r;
  if (R - L == 1) {
    stream(&r, a, L);
    for (uint64_t q = 0; q < k; q++)
      EMIT(bs_rng_below(&r, a->n_pre), L, (L << 32) | q);
    return 0;
  }
  const uint64_t M = L + (R - L) / 2;
  stream(&r, a, node | (1ull << 63));
  const uint64_t kl = binomial(&r, k, (double)(M - L) / (double)(R - L));
  if (totalnum_node(a, emit, sink, L, M, kl, 2 * node))
    return 1;
  return totalnum_node(a, emit, sink, M, R, k - kl, 2 * node + 1);
}

static int totalnum_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                             void *sink) {
  const uint64_t k = totalnum_resolve(a->p[0], a->n_pre, a->n_post);
  return totalnum_node(a, emit, sink, 0, a->n_post, k, 1);
}

/* ---- grids: GridFour, GridEight, GridN, GaussianProb ------------------ *
 * pre and post are the same set of positions (BrainPy's OneEndConnector):
 * a grid of shape (n0) or (n0, n1), row-major. Neighbourhoods are
 * symmetric, so "j is a neighbour of i" is "i is a neighbour of j" and
 * each post enumerates its own pre. Out-of-range neighbours are dropped,
 * or wrapped with periodic_boundary; a neighbour reached twice by wrapping
 * (grids smaller than the neighbourhood) is connected once (BrainPy HEAD's
 * dedup). */

static const bs_param grid4_params[] = {
    {"include_self", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "connect each position to itself too"},
    {"periodic_boundary", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "wrap around the grid's edges"},
};
static const bs_param gridn_params[] = {
    {"N", BS_DIM_ONE, 1, 1, HUGE_VAL, BS_P_INTEGER,
     "Chebyshev radius of the neighbourhood"},
    {"include_self", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "connect each position to itself too"},
    {"periodic_boundary", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "wrap around the grid's edges"},
};
static const bs_param gauss_params[] = {
    {"sigma", BS_DIM_ONE, NAN, 0, HUGE_VAL, BS_P_REQUIRED | BS_P_LO_OPEN,
     "width of the Gaussian, in grid units"},
    {"include_self", BS_DIM_ONE, 1, 0, 1, BS_P_INTEGER, "allow i -> i (p = 1)"},
    {"periodic_boundary", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "per-axis distance wraps around the grid"},
};

typedef struct gshape {
  int nd;
  int64_t n[2];
} gshape;

static gshape grid_shape(const double *p, int np) {
  gshape g = {(int)p[np], {(int64_t)p[np + 1], (int64_t)p[np + 2]}};
  if (g.nd == 1)
    g.n[1] = 1;
  return g;
}

static const char *grid_check(const double *p, uint64_t n_pre, uint64_t n_post,
                              int same, int *blame) {
  (void)p;
  (void)same;
  *blame = -1;
  if (n_pre != n_post)
    return "grid connectors connect a population's positions among "
           "themselves: pre and post need the same size";
  return NULL;
}

/* Neighbours within Chebyshev radius N (von Neumann when four), sorted and
 * unique, into out (capacity (2N+1)^2). */
static size_t grid_neighbours(gshape g, int64_t j, int64_t N, int four,
                              int self, int periodic, uint64_t *out) {
  const int64_t r0 = j / g.n[1], c0 = j % g.n[1];
  const int64_t N1 = g.nd == 2 ? N : 0;
  size_t cnt = 0;
  for (int64_t dr = -N; dr <= N; dr++)
    for (int64_t dc = -N1; dc <= N1; dc++) {
      if (!self && dr == 0 && dc == 0)
        continue;
      if (four && llabs(dr) + llabs(dc) > 1)
        continue;
      int64_t r = r0 + dr, c = c0 + dc;
      if (periodic) {
        r = ((r % g.n[0]) + g.n[0]) % g.n[0];
        c = ((c % g.n[1]) + g.n[1]) % g.n[1];
      } else if (r < 0 || r >= g.n[0] || c < 0 || c >= g.n[1]) {
        continue;
      }
      const uint64_t i = (uint64_t)(r * g.n[1] + c);
      if (!self && i == (uint64_t)j)
        continue; /* reached by wrapping on a tiny grid */
      out[cnt++] = i;
    }
  /* insertion sort and unique: at most (2N+1)^2 entries */
  for (size_t x = 1; x < cnt; x++)
    for (size_t y = x; y > 0 && out[y - 1] > out[y]; y--) {
      uint64_t t = out[y];
      out[y] = out[y - 1];
      out[y - 1] = t;
    }
  size_t u = 0;
  for (size_t x = 0; x < cnt; x++)
    if (u == 0 || out[u - 1] != out[x])
      out[u++] = out[x];
  return u;
}

static int grid_generate(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink,
                         int np, int64_t N, int four, int self, int periodic) {
  const gshape g = grid_shape(a->p, np);
  const size_t cap = (size_t)(2 * N + 1) * (size_t)(2 * N + 1);
  uint64_t *nb = malloc(cap * sizeof *nb);
  if (!nb)
    return 1;
  for (uint64_t j = a->post_lo; j < a->post_hi; j++) {
    size_t cnt = grid_neighbours(g, (int64_t)j, N, four, self, periodic, nb);
    for (size_t q = 0; q < cnt; q++)
      if (emit(sink, nb[q], j, j * a->n_pre + nb[q])) {
        free(nb);
        return 1;
      }
  }
  free(nb);
  return 0;
}

static int grid4_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                          void *sink) {
  return grid_generate(a, emit, sink, 2, 1, 1, a->p[0] != 0, a->p[1] != 0);
}
static int grid8_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                          void *sink) {
  return grid_generate(a, emit, sink, 2, 1, 0, a->p[0] != 0, a->p[1] != 0);
}
static int gridn_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                          void *sink) {
  return grid_generate(a, emit, sink, 3, (int64_t)a->p[0], 0, a->p[1] != 0,
                       a->p[2] != 0);
}

/* The exact synapse count of a grid connector: the same neighbourhood as
 * grid_neighbours, counted per offset. Open edges: offset (dr, dc) is
 * realised by (n0 - |dr|)+ (n1 - |dc|)+ positions. Periodic: every
 * position has the same number of distinct offset classes modulo the
 * shape (the zero class only with include_self). */
static double grid_count(gshape g, int64_t N, int four, int self,
                         int periodic) {
  const int64_t N1 = g.nd == 2 ? N : 0;
  if (!four && !periodic) { /* the square factorises */
    double s0 = 0, s1 = 0;
    for (int64_t d = -N; d <= N; d++)
      s0 += g.n[0] - llabs(d) > 0 ? (double)(g.n[0] - llabs(d)) : 0.0;
    for (int64_t d = -N1; d <= N1; d++)
      s1 += g.n[1] - llabs(d) > 0 ? (double)(g.n[1] - llabs(d)) : 0.0;
    return s0 * s1 - (self ? 0.0 : (double)g.n[0] * (double)g.n[1]);
  }
  if (!four) { /* periodic square: per-axis distinct residues */
    const double c0 = (double)(2 * N + 1 < g.n[0] ? 2 * N + 1 : g.n[0]);
    const double c1 = (double)(2 * N1 + 1 < g.n[1] ? 2 * N1 + 1 : g.n[1]);
    return (double)g.n[0] * (double)g.n[1] * (c0 * c1 - (self ? 0.0 : 1.0));
  }
  /* von Neumann: at most 5 offsets */
  int64_t cls[5][2];
  int ncls = 0;
  double tot = 0;
  for (int64_t dr = -1; dr <= 1; dr++)
    for (int64_t dc = -1; dc <= 1; dc++) {
      if (llabs(dr) + llabs(dc) > 1 || (g.nd == 1 && dc != 0))
        continue;
      if (!self && dr == 0 && dc == 0)
        continue;
      if (!periodic) {
        const int64_t a = g.n[0] - llabs(dr), b = g.n[1] - llabs(dc);
        tot += a > 0 && b > 0 ? (double)a * (double)b : 0.0;
        continue;
      }
      const int64_t r = ((dr % g.n[0]) + g.n[0]) % g.n[0],
                    c = ((dc % g.n[1]) + g.n[1]) % g.n[1];
      if (!self && r == 0 && c == 0)
        continue; /* wraps onto the position itself */
      int dup = 0;
      for (int k = 0; k < ncls; k++)
        dup |= cls[k][0] == r && cls[k][1] == c;
      if (!dup) {
        cls[ncls][0] = r;
        cls[ncls][1] = c;
        ncls++;
      }
    }
  return periodic ? (double)g.n[0] * (double)g.n[1] * ncls : tot;
}

/* GridFour and GridEight have 2 parameters, GridN 3 (N first); the shape
 * follows them. */
static double grid4_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                             int same, uint64_t n_ij) {
  (void)n_pre, (void)n_post, (void)same, (void)n_ij;
  return grid_count(grid_shape(p, 2), 1, 1, p[0] != 0, p[1] != 0);
}

static double grid8_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                             int same, uint64_t n_ij) {
  (void)n_pre, (void)n_post, (void)same, (void)n_ij;
  return grid_count(grid_shape(p, 2), 1, 0, p[0] != 0, p[1] != 0);
}

static double gridn_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                             int same, uint64_t n_ij) {
  (void)n_pre, (void)n_post, (void)same, (void)n_ij;
  return grid_count(grid_shape(p, 3), (int64_t)p[0], 0, p[1] != 0, p[2] != 0);
}

/* GaussianProb: p_ij = exp(-|x_i - x_j|^2 / (2 sigma^2)) on grid positions
 * (BrainPy's normalize divides by the largest p, which is 1 at distance
 * 0). Each post j tosses one uniform per candidate pre, in a fixed order
 * from the stream of j, so the pairs are independent Bernoulli. Candidates
 * are those within 8.6 sigma per axis: beyond, p < 2^-53, the resolution
 * of the uniform draw. */
static double gauss_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                             int same, uint64_t n_ij) {
  (void)same;
  (void)n_ij;
  const gshape g = grid_shape(p, 3);
  double per = 2.5066282746310002 * p[0]; /* sqrt(2 pi) sigma per axis */
  double m =
      fmin(per, (double)g.n[0]) * (g.nd == 2 ? fmin(per, (double)g.n[1]) : 1.0);
  return (double)n_post * fmin(m + 1.0, (double)n_pre);
}

static int gauss_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                          void *sink) {
  const double sigma = a->p[0];
  const int self = a->p[1] != 0, periodic = a->p[2] != 0;
  const gshape g = grid_shape(a->p, 3);
  const double inv = 1.0 / (2.0 * sigma * sigma);
  const int64_t R = (int64_t)ceil(8.6 * sigma);
  int64_t lo[2], hi[2];
  for (uint64_t j = a->post_lo; j < a->post_hi; j++) {
    const int64_t pos[2] = {(int64_t)j / g.n[1], (int64_t)j % g.n[1]};
    for (int d = 0; d < 2; d++) {
      if (2 * R + 1 >= g.n[d]) { /* the whole axis */
        lo[d] = 0;
        hi[d] = g.n[d] - 1;
      } else if (periodic) {
        lo[d] = pos[d] - R;
        hi[d] = pos[d] + R;
      } else {
        lo[d] = pos[d] - R < 0 ? 0 : pos[d] - R;
        hi[d] = pos[d] + R >= g.n[d] ? g.n[d] - 1 : pos[d] + R;
      }
    }
    bs_rng r;
    stream(&r, a, j);
    for (int64_t x0 = lo[0]; x0 <= hi[0]; x0++)
      for (int64_t x1 = lo[1]; x1 <= hi[1]; x1++) {
        const int64_t w0 = ((x0 % g.n[0]) + g.n[0]) % g.n[0];
        const int64_t w1 = ((x1 % g.n[1]) + g.n[1]) % g.n[1];
        const uint64_t i = (uint64_t)(w0 * g.n[1] + w1);
        if (i == j && !self)
          continue;
        double d0 = (double)llabs(w0 - pos[0]), d1 = (double)llabs(w1 - pos[1]);
        if (periodic) {
          d0 = fmin(d0, (double)g.n[0] - d0);
          d1 = fmin(d1, (double)g.n[1] - d1);
        }
        const double prob = exp(-(d0 * d0 + d1 * d1) * inv);
        if (bs_rng_uniform(&r) < prob)
          EMIT(i, j, j * a->n_pre + i);
      }
  }
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

/* ---- from files: the engine has io/ read them ------------------------- */

static double file_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                            int same, uint64_t n_ij) {
  (void)p;
  (void)n_pre;
  (void)n_post;
  (void)same;
  (void)n_ij;
  return 0; /* unknown before the file is read */
}

static int file_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                         void *sink) {
  (void)a;
  (void)emit;
  (void)sink;
  return 0;
}

/* ---- registry --------------------------------------------------------- */

static const bs_connector connectors[] = {
    {"All2All", "every pre to every post", "exact: all pairs", 1,
     all2all_params, 0, NULL, all2all_expected, all2all_generate, 0},
    {"One2One", "pre i to post i", "exact", 0, NULL, 0, one2one_check,
     one2one_expected, one2one_generate, 0},
    {"FixedProb", "each pair independently with probability prob",
     "independent Bernoulli pairs (Brian2's connect(p=...)); degrees vary", 2,
     fixedprob_params, 0, NULL, fixedprob_expected, fixedprob_generate, 0},
    {"FixedPreNum", "each post receives num distinct pre",
     "exact in-degree num, no multapses", 2, fixednum_params, 0,
     fixedprenum_check, fixedprenum_expected, fixedprenum_generate, 0},
    {"FixedPostNum", "each pre projects to num distinct post",
     "exact out-degree num, no multapses", 2, fixednum_params, 0,
     fixedpostnum_check, fixedpostnum_expected, fixedpostnum_generate, 0},
    {"FixedTotalNum", "num (pre, post) pairs drawn uniformly with replacement",
     "exactly num synapses in total; pairs independent and uniform, so "
     "multapses and self pairs occur (BrainPy's randint); in-degrees "
     "Binomial(num, 1/n_post)",
     1, totalnum_params, 0, totalnum_check, totalnum_expected,
     totalnum_generate, 0},
    {"GridFour", "von Neumann neighbours on a grid (pre = post)",
     "exact: the 2 (1-D) or 4 (2-D) nearest neighbours, fewer at open "
     "edges; periodic wraps; no duplicates",
     2, grid4_params, 0, grid_check, grid4_expected, grid4_generate, 1},
    {"GridEight", "Moore neighbours on a grid (GridN with N = 1)",
     "exact: 2 (1-D) or 8 (2-D) neighbours, fewer at open edges; no "
     "duplicates",
     2, grid4_params, 0, grid_check, grid8_expected, grid8_generate, 1},
    {"GridN", "all neighbours within Chebyshev distance N on a grid",
     "exact: (2N+1)^d - 1 neighbours, fewer at open edges; periodic "
     "wraps without duplicates on small grids",
     3, gridn_params, 0, grid_check, gridn_expected, gridn_generate, 1},
    {"GaussianProb", "pairs on a grid with probability exp(-d^2 / (2 sigma^2))",
     "independent Bernoulli pairs, p from the grid distance (per-axis "
     "wrap when periodic); pairs beyond 8.6 sigma (p < 2^-53) are skipped",
     3, gauss_params, 0, grid_check, gauss_expected, gauss_generate, 1},
    {"IJ",
     "explicit (pre, post) pairs: {i: [...], j: [...]} or "
     "[[pre, post], ...]",
     "exactly the listed pairs, duplicates kept", 0, NULL, 1, NULL, ij_expected,
     ij_generate, 0},
    {"matrix",
     "explicit 0/1 matrix of shape (pre, post), rows = pre: [[0, 1, ...], "
     "...] (BrainPy's MatConn)",
     "exactly the pairs whose entry is 1 (or true)", 0, NULL, 2, NULL,
     ij_expected, ij_generate, 0},
    {"File", "rows (pre, post[, weight, delay]) of an HDF5 file: {file, group}",
     "exactly the file's rows, duplicates kept", 0, NULL, 0, NULL,
     file_expected, file_generate, 0},
    {"SONATA", "a SONATA edge population: {file, population, source, target}",
     "exactly the file's edges, duplicates kept", 0, NULL, 0, NULL,
     file_expected, file_generate, 0},
};

#define NCONN ((int)(sizeof connectors / sizeof connectors[0]))

/* BrainPy's class name for the explicit matrix. */
static const char *const aliases[][2] = {{"MatConn", "matrix"}};

const bs_connector *bs_connector_find(const char *name) {
  for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
    if (strcmp(aliases[a][0], name) == 0)
      name = aliases[a][1];
  for (int i = 0; i < bs_connector_count(); i++)
    if (strcmp(bs_connector_at(i)->name, name) == 0)
      return bs_connector_at(i);
  return NULL;
}
int bs_connector_count(void) { return NCONN + bs_connect_graphs_count; }
const bs_connector *bs_connector_at(int i) {
  return i < NCONN ? &connectors[i] : &bs_connect_graphs[i - NCONN];
}
int bs_connector_file_kind(const bs_connector *c) {
  if (!c || c->generate != file_generate)
    return 0;
  return strcmp(c->name, "SONATA") == 0 ? 2 : 1;
}

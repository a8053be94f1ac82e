/* Graph connectors (BrainPy's SmallWorld, ScaleFreeBA, ScaleFreeBADual,
 * PowerLaw; §6 of the reference) and ProbDist. The growth processes and the
 * Watts-Strogatz rewiring are sequential: every rank replays the whole
 * construction from counter-based streams keyed by node or edge index (never
 * by rank) and keeps only the synapses onto its own block, so the network is
 * the same at every rank count. Their construction costs O(whole graph) time
 * per rank, and transient memory of a bit per ring edge plus a slot per
 * rewired edge (SmallWorld) or 8 bytes per edge (the degree-weighted list
 * of BA; PowerLaw also keeps its rows); what is stored afterwards is local.
 * ProbDist is local: each post tosses for its own neighbourhood. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/rng.h"
#include "connect_impl.h"

static void stream(bs_rng *r, const bs_conn_args *a, uint64_t idx) {
  bs_rng_init(r, a->seed, BS_RNG_CONNECT, a->proj_id, (uint32_t)idx,
              (uint32_t)(idx >> 32));
}

/* ---- growable arrays and the local synapse list ----------------------- */

typedef struct u32vec {
  uint32_t *v;
  size_t n, cap;
} u32vec;

static int u32_push(u32vec *x, uint32_t val) {
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 256;
    uint32_t *v = realloc(x->v, cap * sizeof *v);
    if (!v)
      return 1;
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = val;
  return 0;
}

/* The synapses of graph edges onto the local block, emitted as the graph is
 * built: every rank replays the same construction, so each emits a
 * subsequence of one global order, whatever the split. The graphs have no
 * multi-edges, so post * n + pre is a unique synapse key. */
typedef struct sinkto {
  bs_syn_emit_fn emit;
  void *sink;
  uint64_t n, lo, hi;
  int directed;
} sinkto;

static sinkto sink_for(const bs_conn_args *a, int directed, bs_syn_emit_fn emit,
                       void *sink) {
  return (sinkto){emit, sink, a->n_pre, a->post_lo, a->post_hi, directed};
}

static int syn_out(const sinkto *o, uint64_t pre, uint64_t post) {
  return post >= o->lo && post < o->hi &&
         o->emit(o->sink, pre, post, post * o->n + pre);
}

/* An edge: pre -> post, and post -> pre too when undirected (a self loop
 * is one synapse). */
static int edge_out(const sinkto *o, uint64_t pre, uint64_t post) {
  if (syn_out(o, pre, post))
    return 1;
  return !o->directed && pre != post && syn_out(o, post, pre);
}

/* Shared sizes check: one set of nodes, ids that fit 32 bits. */
static const char *nodes_check(uint64_t n_pre, uint64_t n_post, int *blame) {
  *blame = -1;
  if (n_pre != n_post)
    return "graph connectors build one graph over pre = post nodes: pre and "
           "post need the same size";
  if (n_pre > UINT32_MAX)
    return "graph connectors support at most 2^32 - 1 nodes";
  return NULL;
}

/* ---- SmallWorld (Watts-Strogatz) ------------------------------------- *
 * BrainPy's SmallWorld: a ring where each node is joined to its
 * num_neighbor / 2 nearest neighbours on each side (in both directions, also
 * when directed), then for k = 1 .. num_neighbor / 2 and u = 0 .. n - 1 the
 * ring edge (u, u + k) is rewired with probability prob to (u, w), w drawn
 * uniformly among the nodes not yet connected to u (w = u only with
 * include_self); no rewiring when fewer than two such nodes are left.
 * Directed, the edge u -> u + k and the edge u + k -> u are rewired
 * independently (to u -> w and w -> u). The draws of edge (u, k) come from
 * the stream of its index (k - 1) n + u. */

static const bs_param sw_params[] = {
    {"num_neighbor", BS_DIM_ONE, NAN, 0, HUGE_VAL, BS_P_REQUIRED | BS_P_INTEGER,
     "ring neighbours of each node (num_neighbor / 2 on each side)"},
    {"prob", BS_DIM_ONE, NAN, 0, 1, BS_P_REQUIRED,
     "probability of rewiring each ring edge"},
    {"directed", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "rewire the two directions of an edge independently"},
    {"include_self", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "a rewired edge may become a self loop"},
};

static const char *sw_check(const double *p, uint64_t n_pre, uint64_t n_post,
                            int same, int *blame) {
  (void)same;
  const char *why = nodes_check(n_pre, n_post, blame);
  if (why)
    return why;
  if (p[0] >= (double)n_pre) {
    *blame = 0;
    return "num_neighbor must be below the number of nodes (a complete graph "
           "is All2All)";
  }
  return NULL;
}

static double sw_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                          int same, uint64_t n_ij) {
  (void)n_pre;
  (void)same;
  (void)n_ij;
  return 2.0 * floor(p[0] / 2) * (double)n_post;
}

/* The graph during rewiring. Rewiring only ever removes the ring edge it
 * is processing, which is still there (ring edges are distinct because
 * 2 (num_neighbor / 2) < n), and only adds edges that are absent; so the
 * graph is the ring minus a bit per ring edge ("gone"), plus a set of
 * added edges that never shrinks. Memory: a bit per ring edge and a slot
 * per rewiring, not the whole adjacency. Ring edge numbers: (k - 1) n + u
 * for u -> u + k (undirected: {u, u + k}), and, directed, n K + (k - 1) n
 * + u for u + k -> u. Added edges are keys pre * n + post (undirected:
 * min * n + max). row[]/col[]: entries per row and column of BrainPy's
 * matrix (col == row when undirected). */
typedef struct swgraph {
  uint64_t n, K;
  int directed;
  uint8_t *gone;
  uint64_t *add; /* open addressing, ADD_EMPTY = free */
  size_t mask, n_add;
  uint32_t *row, *col;
} swgraph;

#define ADD_EMPTY UINT64_MAX

static size_t key_hash(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDull;
  k ^= k >> 33;
  return (size_t)k;
}

static uint64_t add_key(const swgraph *g, uint64_t a, uint64_t b) {
  if (!g->directed && a > b) {
    uint64_t t = a;
    a = b;
    b = t;
  }
  return a * g->n + b;
}

static int add_has(const swgraph *g, uint64_t key) {
  for (size_t h = key_hash(key) & g->mask;; h = (h + 1) & g->mask) {
    if (g->add[h] == key)
      return 1;
    if (g->add[h] == ADD_EMPTY)
      return 0;
  }
}

static void add_put(uint64_t *slot, size_t mask, uint64_t key) {
  size_t h = key_hash(key) & mask;
  while (slot[h] != ADD_EMPTY)
    h = (h + 1) & mask;
  slot[h] = key;
}

/* Ring edge number of a -> b, or UINT64_MAX when a, b are not ring
 * neighbours. */
static uint64_t ring_edge(const swgraph *g, uint64_t a, uint64_t b) {
  const uint64_t d = (b + g->n - a) % g->n;
  if (d >= 1 && d <= g->K) /* a -> a + d */
    return (d - 1) * g->n + a;
  const uint64_t k = g->n - d;
  if (k >= 1 && k <= g->K) /* b + k == a: the edge b -> b + k, reversed */
    return g->directed ? g->n * g->K + (k - 1) * g->n + b : (k - 1) * g->n + b;
  return UINT64_MAX;
}

static int sw_has(const swgraph *g, uint64_t a, uint64_t b) {
  const uint64_t e = ring_edge(g, a, b);
  if (e != UINT64_MAX && !(g->gone[e >> 3] >> (e & 7) & 1))
    return 1;
  return add_has(g, add_key(g, a, b));
}

static void sw_count(swgraph *g, uint64_t a, uint64_t b, int d) {
  g->row[a] += (uint32_t)d;
  if (g->directed)
    g->col[b] += (uint32_t)d;
  else if (a != b)
    g->row[b] += (uint32_t)d;
}

static void sw_remove_ring(swgraph *g, uint64_t a, uint64_t b) {
  const uint64_t e = ring_edge(g, a, b);
  g->gone[e >> 3] |= (uint8_t)(1u << (e & 7));
  sw_count(g, a, b, -1);
}

static int sw_add(swgraph *g, uint64_t a, uint64_t b) {
  if (2 * (g->n_add + 1) > g->mask + 1) { /* keep the load below 1/2 */
    const size_t cap = 2 * (g->mask + 1);
    uint64_t *slot = malloc(cap * sizeof *slot);
    if (!slot)
      return 1;
    for (size_t h = 0; h < cap; h++)
      slot[h] = ADD_EMPTY;
    for (size_t h = 0; h <= g->mask; h++)
      if (g->add[h] != ADD_EMPTY)
        add_put(slot, cap - 1, g->add[h]);
    free(g->add);
    g->add = slot;
    g->mask = cap - 1;
  }
  add_put(g->add, g->mask, add_key(g, a, b));
  g->n_add++;
  sw_count(g, a, b, 1);
  return 0;
}

/* BrainPy's _smallworld_rewire for node u: the new partner w, not yet
 * connected to u in its row (out) or column (in), or UINT64_MAX for none. */
static uint64_t sw_rewire(const swgraph *g, bs_rng *r, double prob, uint64_t u,
                          int in, int self) {
  if (!(bs_rng_uniform(r) < prob))
    return UINT64_MAX;
  const uint32_t deg = in ? g->col[u] : g->row[u];
  if (g->n - deg <= 1)
    return UINT64_MAX;
  for (;;) { /* uniform over the free nodes, by rejection */
    uint64_t w = bs_rng_below(r, g->n);
    if (!self && w == u)
      continue;
    if (!(in ? sw_has(g, w, u) : sw_has(g, u, w)))
      return w;
  }
}

static int sw_generate(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink) {
  const uint64_t n = a->n_pre, K = (uint64_t)a->p[0] / 2;
  const double prob = a->p[1];
  const int directed = a->p[2] != 0, self = a->p[3] != 0;
  if (K == 0 || n == 0)
    return 0;
  const uint64_t ring = (directed ? 2 : 1) * n * K;
  swgraph g = {.n = n,
               .K = K,
               .directed = directed,
               .gone = calloc(ring / 8 + 1, 1),
               .add = malloc(64 * sizeof(uint64_t)),
               .mask = 63,
               .row = malloc(n * sizeof(uint32_t)),
               .col = directed ? malloc(n * sizeof(uint32_t)) : NULL};
  if (!directed)
    g.col = g.row;
  int rc = !g.gone || !g.add || !g.row || !g.col;
  if (!rc) {
    for (size_t h = 0; h <= g.mask; h++)
      g.add[h] = ADD_EMPTY;
    for (uint64_t u = 0; u < n; u++)
      g.row[u] = g.col[u] = (uint32_t)(2 * K); /* the ring, both ways */
  }
  for (uint64_t k = 1; k <= K && !rc; k++)
    for (uint64_t u = 0; u < n && !rc; u++) {
      const uint64_t v = (u + k) % n;
      bs_rng r;
      stream(&r, a, (k - 1) * n + u);
      uint64_t w = sw_rewire(&g, &r, prob, u, 0, self);
      if (w != UINT64_MAX) {
        sw_remove_ring(&g, u, v);
        rc = sw_add(&g, u, w);
      }
      if (directed && !rc) {
        w = sw_rewire(&g, &r, prob, u, 1, self);
        if (w != UINT64_MAX) {
          sw_remove_ring(&g, v, u);
          rc = sw_add(&g, w, u);
        }
      }
    }
  const sinkto o = sink_for(a, directed, emit, sink);
  for (uint64_t e = 0; e < ring && !rc; e++) {
    if (g.gone[e >> 3] >> (e & 7) & 1)
      continue;
    const uint64_t k = (e % (n * K)) / n + 1, u = e % n;
    rc =
        e < n * K ? edge_out(&o, u, (u + k) % n) : edge_out(&o, (u + k) % n, u);
  }
  for (size_t h = 0; h <= g.mask && !rc; h++)
    if (g.add[h] != ADD_EMPTY)
      rc = edge_out(&o, g.add[h] / n, g.add[h] % n);
  free(g.gone);
  free(g.add);
  free(g.row);
  if (directed)
    free(g.col);
  return rc;
}

/* ---- ScaleFreeBA, ScaleFreeBADual (Barabasi-Albert) ------------------- *
 * BrainPy's growth: the first new node s0 (= m, or max(m1, m2)) connects to
 * nodes 0 .. m - 1; every later node s to m distinct nodes drawn from the
 * list that holds each node once per edge end (preferential attachment).
 * Edges go s -> target, and back when undirected. Node s draws its m (dual)
 * and its targets from the stream of s. */

static const bs_param ba_params[] = {
    {"m", BS_DIM_ONE, NAN, 1, HUGE_VAL, BS_P_REQUIRED | BS_P_INTEGER,
     "edges from each new node to existing nodes"},
    {"directed", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "only new node -> existing node (else both directions)"},
};
static const bs_param badual_params[] = {
    {"m1", BS_DIM_ONE, NAN, 1, HUGE_VAL, BS_P_REQUIRED | BS_P_INTEGER,
     "edges from a new node, with probability p"},
    {"m2", BS_DIM_ONE, NAN, 1, HUGE_VAL, BS_P_REQUIRED | BS_P_INTEGER,
     "edges from a new node, with probability 1 - p"},
    {"p", BS_DIM_ONE, NAN, 0, 1, BS_P_REQUIRED, "probability of m1"},
    {"directed", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "only new node -> existing node (else both directions)"},
};

static const char *m_check(double m, uint64_t n, int blame_m, int *blame,
                           const char *msg) {
  if (m >= (double)n) {
    *blame = blame_m;
    return msg;
  }
  return NULL;
}

static const char *ba_check(const double *p, uint64_t n_pre, uint64_t n_post,
                            int same, int *blame) {
  (void)same;
  const char *why = nodes_check(n_pre, n_post, blame);
  return why ? why
             : m_check(p[0], n_pre, 0, blame,
                       "m must be below the number of nodes (1 <= m < n)");
}

static const char *badual_check(const double *p, uint64_t n_pre,
                                uint64_t n_post, int same, int *blame) {
  (void)same;
  const char *why = nodes_check(n_pre, n_post, blame);
  if (!why)
    why = m_check(p[0], n_pre, 0, blame,
                  "m1 must be below the number of nodes (1 <= m1 < n)");
  if (!why)
    why = m_check(p[1], n_pre, 1, blame,
                  "m2 must be below the number of nodes (1 <= m2 < n)");
  return why;
}

static double ba_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                          int same, uint64_t n_ij) {
  (void)n_pre;
  (void)same;
  (void)n_ij;
  const double m = p[0], e = m * ((double)n_post - m);
  return p[1] != 0 ? e : 2 * e;
}

static double badual_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                              int same, uint64_t n_ij) {
  (void)n_pre;
  (void)same;
  (void)n_ij;
  const double s0 = fmax(p[0], p[1]);
  const double e = (p[2] * p[0] + (1 - p[2]) * p[1]) * ((double)n_post - s0);
  return p[3] != 0 ? e : 2 * e;
}

/* m distinct entries of rep (uniform draws, repeats rejected), into out;
 * mark[x] == s flags x as taken by node s. */
static void pick_distinct(bs_rng *r, const u32vec *rep, uint64_t m, uint32_t s,
                          uint32_t *mark, uint32_t *out) {
  for (uint64_t got = 0; got < m;) {
    uint32_t x = rep->v[bs_rng_below(r, rep->n)];
    if (mark[x] != s) {
      mark[x] = s;
      out[got++] = x;
    }
  }
}

/* m1 = m2 = m for ScaleFreeBA. */
static int ba_grow(const bs_conn_args *a, uint64_t m1, uint64_t m2, double p,
                   int directed, bs_syn_emit_fn emit, void *sink) {
  const uint64_t n = a->n_pre, s0 = m1 > m2 ? m1 : m2;
  const int dual = m1 != m2;
  u32vec rep = {0};
  uint32_t *mark = malloc((n ? n : 1) * sizeof *mark);
  uint32_t *tg = malloc(s0 * sizeof *tg);
  const sinkto o = sink_for(a, directed, emit, sink);
  /* the list ends with 2 m per new node: room for the larger m */
  rep.cap = n > s0 ? 2 * s0 * (n - s0) : 1;
  rep.v = malloc(rep.cap * sizeof *rep.v);
  int rc = !mark || !tg || !rep.v;
  if (!rc)
    for (uint64_t x = 0; x < n; x++)
      mark[x] = UINT32_MAX;
  /* Nodes in the list so far: s0's targets, then every new node. Dual BA
   * can ask for more (m1 = 1, m2 = 5: node s0 + 1 may need 5 of 2); BrainPy
   * then loops forever, here the node takes all there are. */
  uint64_t distinct = 0;
  for (uint64_t s = s0; s < n && !rc; s++) {
    bs_rng r;
    stream(&r, a, s);
    uint64_t m = m1;
    if (dual && !(bs_rng_uniform(&r) < p))
      m = m2;
    if (s == s0) {
      for (uint64_t t = 0; t < m; t++)
        tg[t] = (uint32_t)t;
      distinct = m;
    } else {
      if (m > distinct)
        m = distinct;
      pick_distinct(&r, &rep, m, (uint32_t)s, mark, tg);
    }
    distinct++;
    for (uint64_t t = 0; t < m && !rc; t++)
      rc = edge_out(&o, s, tg[t]) || u32_push(&rep, tg[t]);
    for (uint64_t t = 0; t < m && !rc; t++)
      rc = u32_push(&rep, (uint32_t)s);
  }
  free(rep.v);
  free(mark);
  free(tg);
  return rc;
}

static int ba_generate(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink) {
  const uint64_t m = (uint64_t)a->p[0];
  return ba_grow(a, m, m, 1.0, a->p[1] != 0, emit, sink);
}

static int badual_generate(const bs_conn_args *a, bs_syn_emit_fn emit,
                           void *sink) {
  const uint64_t m1 = (uint64_t)a->p[0], m2 = (uint64_t)a->p[1];
  return ba_grow(a, m1, m2, a->p[2], a->p[3] != 0, emit, sink);
}

/* ---- PowerLaw (Holme-Kim) --------------------------------------------- *
 * BrainPy's PowerLaw: the list starts as nodes 0 .. m - 1 once each; node s
 * (from m) draws m distinct candidates from it, connects to the first, then
 * makes m - 1 more links: with probability p a triangle to a random
 * neighbour (in BrainPy's row conn[target]) of the last candidate used that
 * is not yet linked to s, otherwise (or if there is none) the next
 * candidate. A candidate already linked by a triangle adds no edge (the
 * matrix entry is set twice), so a node has at most m edges. */

static const bs_param pl_params[] = {
    {"m", BS_DIM_ONE, NAN, 1, HUGE_VAL, BS_P_REQUIRED | BS_P_INTEGER,
     "links from each new node"},
    {"p", BS_DIM_ONE, NAN, 0, 1, BS_P_REQUIRED,
     "probability of a triangle after each link"},
    {"directed", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER,
     "only new node -> existing node (else both directions)"},
};

static const char *pl_check(const double *p, uint64_t n_pre, uint64_t n_post,
                            int same, int *blame) {
  (void)same;
  const char *why = nodes_check(n_pre, n_post, blame);
  return why ? why
             : m_check(p[0], n_pre, 0, blame,
                       "m must be below the number of nodes (1 <= m < n)");
}

static double pl_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                          int same, uint64_t n_ij) {
  double q[2] = {p[0], p[2]};
  return ba_expected(q, n_pre, n_post, same, n_ij);
}

/* A row of BrainPy's matrix: the nodes a node links to (undirected: all
 * its neighbours), in link order. */
typedef struct row {
  uint32_t *v;
  uint32_t n, cap;
} row;

static int row_add(row *r, uint32_t x) {
  if (r->n == r->cap) {
    uint32_t cap = r->cap ? 2 * r->cap : 4;
    uint32_t *v = realloc(r->v, cap * sizeof *v);
    if (!v)
      return 1;
    r->v = v;
    r->cap = cap;
  }
  r->v[r->n++] = x;
  return 0;
}

/* A uniform neighbour of target not yet linked to s (mark[x] == s) and not
 * s itself, or UINT32_MAX if there is none. At most links + 1 entries of
 * the row are excluded, so a longer row (a hub) is sampled by rejection in
 * O(1) expected draws; a short one is filtered. */
static uint32_t pl_triangle(bs_rng *r, const row *t, uint32_t s, uint64_t links,
                            const uint32_t *mark, u32vec *nb) {
  if (t->n > links + 1)
    for (;;) {
      const uint32_t x = t->v[bs_rng_below(r, t->n)];
      if (x != s && mark[x] != s)
        return x;
    }
  nb->n = 0;
  for (uint32_t q = 0; q < t->n; q++)
    if (t->v[q] != s && mark[t->v[q]] != s)
      nb->v[nb->n++] = t->v[q];
  return nb->n ? nb->v[bs_rng_below(r, nb->n)] : UINT32_MAX;
}

static int pl_generate(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink) {
  const uint64_t n = a->n_pre, m = (uint64_t)a->p[0];
  const double p = a->p[1];
  const int directed = a->p[2] != 0;
  const sinkto o = sink_for(a, directed, emit, sink);
  u32vec rep = {0}, nb = {.v = malloc((m + 2) * sizeof(uint32_t))};
  row *g = calloc(n ? n : 1, sizeof *g);
  uint32_t *mark = malloc((n ? n : 1) * sizeof *mark);
  uint32_t *cand = malloc((m ? m : 1) * sizeof *cand);
  rep.cap = 2 * m * n + 1;
  rep.v = malloc(rep.cap * sizeof *rep.v);
  int rc = !g || !mark || !cand || !rep.v || !nb.v;
  for (uint64_t x = 0; x < n && !rc; x++) {
    mark[x] = UINT32_MAX;
    if (x < m)
      rc = u32_push(&rep, (uint32_t)x);
  }
  /* link s -> t: mark, rows (both when undirected), the list, the synapses */
#define LINK(t)                                                                \
  do {                                                                         \
    if (mark[t] != s32) {                                                      \
      mark[t] = s32;                                                           \
      links++;                                                                 \
      rc = row_add(&g[s32], (t)) || (!directed && row_add(&g[t], s32)) ||      \
           edge_out(&o, s, (t));                                               \
    }                                                                          \
    rc = rc || u32_push(&rep, (t));                                            \
  } while (0)
  for (uint64_t s = m; s < n && !rc; s++) {
    const uint32_t s32 = (uint32_t)s;
    uint64_t links = 0;
    bs_rng r;
    stream(&r, a, s);
    pick_distinct(&r, &rep, m, UINT32_MAX - 1 - s32, mark, cand);
    /* pick_distinct marked the candidates with another tag: clear them so
     * mark[] == s means "linked to s". */
    for (uint64_t c = 0; c < m; c++)
      mark[cand[c]] = UINT32_MAX;
    uint64_t used = 0;
    uint32_t target = cand[used++];
    LINK(target);
    for (uint64_t count = 1; count < m && !rc; count++) {
      if (bs_rng_uniform(&r) < p) {
        const uint32_t x = pl_triangle(&r, &g[target], s32, links, mark, &nb);
        if (x != UINT32_MAX) {
          LINK(x);
          continue;
        }
      }
      target = cand[used++];
      LINK(target);
    }
    for (uint64_t c = 0; c < m && !rc; c++)
      rc = u32_push(&rep, s32);
  }
#undef LINK
  for (uint64_t x = 0; g && x < n; x++)
    free(g[x].v);
  free(g);
  free(rep.v);
  free(nb.v);
  free(mark);
  free(cand);
  return rc;
}

/* ---- ProbDist --------------------------------------------------------- *
 * BrainPy's ProbDist: pre and post on grids of the same dimension, at raw
 * index positions (1-D: i and j; 2-D: the same shape, row-major). Each pre
 * is kept with probability pre_ratio (one draw keyed by the pre index);
 * a kept pre connects to every post within distance dist (|i - j| in 1-D,
 * Euclidean in 2-D) with probability prob; distance 0 only with
 * include_self. Each post walks its neighbourhood in index order and skips
 * geometrically between successes (stream of the post), so the pairs are
 * independent with probability pre_ratio * prob and the work is
 * proportional to the synapses. */

static const bs_param pd_params[] = {
    {"dist", BS_DIM_ONE, 1, 0, HUGE_VAL, 0,
     "largest distance connected, in index units"},
    {"prob", BS_DIM_ONE, 1, 0, 1, 0, "probability of each pair within dist"},
    {"pre_ratio", BS_DIM_ONE, 1, 0, 1, 0,
     "fraction of pre neurons that connect at all"},
    {"include_self", BS_DIM_ONE, 1, 0, 1, BS_P_INTEGER,
     "connect the pair at distance 0"},
};
#define PD_NP 4

static const char *pd_check(const double *p, uint64_t n_pre, uint64_t n_post,
                            int same, int *blame) {
  (void)same;
  *blame = -1;
  if (p[PD_NP] == 2 && n_pre != n_post)
    return "ProbDist on a 2-D shape needs pre and post of the same size (the "
           "same grid); 1-D takes any sizes";
  return NULL;
}

/* Half width of the disc row at row offset dr: the largest c with dr^2 +
 * c^2 <= dist^2 (exact on integers, whatever sqrt rounds to). */
static int64_t disc_half(double dist, int64_t dr) {
  const double r2 = dist * dist, d2 = (double)dr * (double)dr;
  if (d2 > r2)
    return -1;
  int64_t c = (int64_t)floor(sqrt(r2 - d2));
  while ((double)(c + 1) * (double)(c + 1) + d2 <= r2)
    c++;
  while (c > 0 && (double)c * (double)c + d2 > r2)
    c--;
  return c;
}

static double pd_expected(const double *p, uint64_t n_pre, uint64_t n_post,
                          int same, uint64_t n_ij) {
  (void)same;
  (void)n_ij;
  const int64_t D = (int64_t)floor(p[0]);
  double cells = 0;
  if (p[PD_NP] == 2) {
    for (int64_t dr = -D; dr <= D; dr++)
      cells += 2.0 * (double)disc_half(p[0], dr) + 1.0;
  } else {
    cells = 2.0 * (double)D + 1.0;
  }
  cells = fmin(cells, (double)n_pre) - (p[3] == 0 ? 1.0 : 0.0);
  return (double)n_post * p[1] * p[2] * fmax(cells, 0.0);
}

static int pd_generate(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink) {
  const double dist = a->p[0], prob = a->p[1], ratio = a->p[2];
  const int self = a->p[3] != 0, nd = (int)a->p[PD_NP];
  const int64_t D = (int64_t)floor(dist);
  const int64_t cols = nd == 2 ? (int64_t)a->p[PD_NP + 2] : 1;
  const int64_t prows = nd == 2 ? (int64_t)a->p[PD_NP + 1] : (int64_t)a->n_pre;
  if (prob <= 0.0 || ratio <= 0.0 || a->n_pre == 0)
    return 0;
  const double inv_log_q = prob < 1.0 ? 1.0 / log1p(-prob) : 0.0;
  for (uint64_t j = a->post_lo; j < a->post_hi; j++) {
    bs_rng r;
    stream(&r, a, j);
    const int64_t r0 = (int64_t)j / cols, c0 = (int64_t)j % cols;
    /* next: place of the next success in the sequence of candidates; base:
     * candidates before the current row segment. */
    double next = 0, base = 0;
#define GAP() (prob < 1.0 ? floor(log(bs_rng_uniform(&r)) * inv_log_q) : 0.0)
    next = GAP();
    for (int64_t dr = -D; dr <= D; dr++) {
      const int64_t row = r0 + dr;
      if (row < 0 || row >= prows)
        continue;
      const int64_t h = nd == 2 ? disc_half(dist, dr) : 0;
      if (h < 0)
        continue;
      const int64_t lo = c0 - h < 0 ? 0 : c0 - h;
      const int64_t hi = c0 + h >= cols ? cols - 1 : c0 + h;
      if (lo > hi)
        continue;
      /* the segment: pre row * cols + [lo, hi], without j itself */
      const uint64_t first = (uint64_t)(row * cols + lo);
      const int has_j = !self && dr == 0 && c0 >= lo && c0 <= hi;
      const double len = (double)(hi - lo + 1) - has_j;
      while (next < base + len) {
        uint64_t i = first + (uint64_t)(next - base);
        if (has_j && i >= j)
          i++;
        const int kept =
            ratio >= 1.0 ||
            bs_rng_uniform_at(a->seed, BS_RNG_CONNECT, a->proj_id, (uint32_t)i,
                              (uint32_t)(i >> 32) | 0x80000000u) < ratio;
        if (kept && emit(sink, i, j, j * a->n_pre + i))
          return 1;
        next += 1.0 + GAP();
      }
      base += len;
    }
#undef GAP
  }
  return 0;
}

/* ---- registry --------------------------------------------------------- */

const bs_connector bs_connect_graphs[] = {
    {"SmallWorld",
     "Watts-Strogatz ring with num_neighbor neighbours, each ring edge "
     "rewired with probability prob (pre = post)",
     "exact before rewiring: every node has num_neighbor / 2 ring neighbours "
     "on each side; rewiring keeps the number of edges (n * (num_neighbor / "
     "2), in both directions) with no duplicates and no self loops unless "
     "include_self; undirected is symmetric. Built whole on every rank: "
     "O(whole graph) time per rank, transient memory a bit per ring edge "
     "and a slot per rewired edge",
     4, sw_params, 0, sw_check, sw_expected, sw_generate, 0},
    {"ScaleFreeBA",
     "Barabasi-Albert preferential attachment: each new node links to m "
     "distinct existing nodes (pre = post)",
     "exact: m * (n - m) edges, each new node to m distinct older nodes; no "
     "duplicates or self loops; undirected is symmetric. Built whole on every "
     "rank: O(whole graph) time per rank, "
     "transient memory O(edges)",
     2, ba_params, 0, ba_check, ba_expected, ba_generate, 0},
    {"ScaleFreeBADual",
     "dual Barabasi-Albert: each new node links to m1 (probability p) or m2 "
     "distinct existing nodes (pre = post)",
     "each new node (from max(m1, m2)) to m1 or m2 distinct older nodes (at "
     "most the nodes already in the graph); no duplicates or self loops; "
     "undirected is symmetric. Built whole on every rank: O(whole graph) time "
     "per rank, "
     "transient memory O(edges)",
     4, badual_params, 0, badual_check, badual_expected, badual_generate, 0},
    {"PowerLaw",
     "Holme-Kim growth: preferential attachment of m links per new node, "
     "each followed with probability p by a triangle (pre = post)",
     "each new node to at most m distinct older nodes; no duplicates or self "
     "loops; undirected is symmetric. Built whole on every rank: O(whole "
     "graph) time per rank, "
     "transient memory O(edges)",
     3, pl_params, 0, pl_check, pl_expected, pl_generate, 0},
    {"ProbDist",
     "pairs within distance dist (index units; 1-D or a 2-D shape) with "
     "probability prob, from a pre_ratio fraction of the pre",
     "independent pairs: each pre kept with probability pre_ratio, then each "
     "post within dist with probability prob; generated per post with "
     "geometric skipping (work proportional to the synapses)",
     PD_NP, pd_params, 0, pd_check, pd_expected, pd_generate, 1},
};

const int bs_connect_graphs_count =
    (int)(sizeof bs_connect_graphs / sizeof bs_connect_graphs[0]);

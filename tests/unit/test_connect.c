/* Connectors: generating block by block (as the ranks do) gives exactly the
 * synapses of generating the whole post population at once, for several
 * splits; each connector keeps the statistics it documents. */
#include <stdlib.h>
#include <string.h>

#include "brainsim/connect.h"
#include "check.h"

typedef struct syn {
  uint64_t pre, post, key;
} syn;
typedef struct list {
  syn *s;
  size_t n, cap;
} list;

static int emit(void *sink, uint64_t pre, uint64_t post, uint64_t key) {
  list *l = sink;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 1024;
    l->s = realloc(l->s, l->cap * sizeof *l->s);
    if (!l->s)
      return 1;
  }
  l->s[l->n++] = (syn){pre, post, key};
  return 0;
}

static int cmp(const void *a, const void *b) {
  const syn *x = a, *y = b;
  if (x->post != y->post)
    return x->post < y->post ? -1 : 1;
  if (x->pre != y->pre)
    return x->pre < y->pre ? -1 : 1;
  return x->key < y->key ? -1 : x->key > y->key;
}

static list gen(const bs_connector *c, bs_conn_args a, int blocks) {
  list l = {0};
  uint64_t n = a.n_post;
  for (int b = 0; b < blocks; b++) {
    a.post_lo = n * (uint64_t)b / (uint64_t)blocks;
    a.post_hi = n * (uint64_t)(b + 1) / (uint64_t)blocks;
    EXPECT(c->generate(&a, emit, &l) == 0, "%s failed", c->name);
  }
  qsort(l.s, l.n, sizeof *l.s, cmp);
  return l;
}

static void same_for_splits(const char *name, const double *p, uint64_t npre,
                            uint64_t npost, int same_pop, list *whole) {
  const bs_connector *c = bs_connector_find(name);
  bs_conn_args a = {.n_pre = npre,
                    .n_post = npost,
                    .same_pop = same_pop,
                    .seed = 42,
                    .proj_id = 3,
                    .p = p};
  *whole = gen(c, a, 1);
  int splits[] = {2, 3, 4, 7};
  for (int s = 0; s < 4; s++) {
    list l = gen(c, a, splits[s]);
    EXPECT(l.n == whole->n && !memcmp(l.s, whole->s, l.n * sizeof *l.s),
           "%s: %d blocks give %zu synapses (or other ones), one block %zu",
           name, splits[s], l.n, whole->n);
    free(l.s);
  }
  double e = c->expected(p, npre, npost, same_pop, 0);
  printf("%-12s %8zu synapses (expected %.0f)\n", name, whole->n, e);
}

/* ---- graph connectors and ProbDist ------------------------------------ */

/* Is (pre, post) in the sorted list? */
static int has(const list *l, uint64_t pre, uint64_t post) {
  syn k = {pre, post, 0};
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const syn *x = &l->s[mid];
    if (x->post < k.post || (x->post == k.post && x->pre < k.pre))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < l->n && l->s[lo].pre == pre && l->s[lo].post == post;
}

/* No pair twice (the list is sorted), no self pair unless allowed, and,
 * when undirected, (i, j) present iff (j, i) is. */
static void simple_graph(const char *name, const list *l, int self,
                         int symmetric) {
  size_t bad_dup = 0, bad_self = 0, bad_sym = 0;
  for (size_t q = 0; q < l->n; q++) {
    if (q && l->s[q].pre == l->s[q - 1].pre && l->s[q].post == l->s[q - 1].post)
      bad_dup++;
    if (!self && l->s[q].pre == l->s[q].post)
      bad_self++;
    if (symmetric && !has(l, l->s[q].post, l->s[q].pre))
      bad_sym++;
  }
  EXPECT(bad_dup == 0, "%s: %zu duplicate pairs", name, bad_dup);
  EXPECT(bad_self == 0, "%s: %zu self pairs", name, bad_self);
  EXPECT(bad_sym == 0, "%s: %zu pairs without their reverse", name, bad_sym);
}

static uint64_t ring_dist(uint64_t a, uint64_t b, uint64_t n) {
  uint64_t d = a > b ? a - b : b - a;
  return d < n - d ? d : n - d;
}

static void test_smallworld(void) {
  list l;
  /* No rewiring: exactly the ring, num_neighbor / 2 on each side. */
  for (int nb = 5; nb <= 6; nb++) {
    const uint64_t n = 30, K = (uint64_t)nb / 2;
    double p[] = {nb, 0.0, 0, 0};
    same_for_splits("SmallWorld", p, n, n, 1, &l);
    EXPECT(l.n == 2 * n * K, "SmallWorld ring (%d): %zu synapses, want %llu",
           nb, l.n, (unsigned long long)(2 * n * K));
    simple_graph("SmallWorld ring", &l, 0, 1);
    size_t deg[30] = {0};
    for (size_t q = 0; q < l.n; q++)
      deg[l.s[q].post]++;
    for (uint64_t j = 0; j < n; j++)
      EXPECT(deg[j] == 2 * K, "SmallWorld ring node %llu: degree %zu",
             (unsigned long long)j, deg[j]);
    for (size_t q = 0; q < l.n; q++) {
      uint64_t d = ring_dist(l.s[q].pre, l.s[q].post, n);
      EXPECT(d >= 1 && d <= K, "SmallWorld ring pair %llu-%llu",
             (unsigned long long)l.s[q].pre, (unsigned long long)l.s[q].post);
    }
    free(l.s);
  }
  /* Rewiring keeps n K edges, symmetric, simple; the ring edges lost are
   * the rewired ones: Binomial(n K, prob), less the rare rewiring that
   * lands back on a lost ring pair (at most 2 K / n of them). */
  {
    const uint64_t n = 1000, K = 3;
    const double pr = 0.3;
    double p[] = {2 * K, pr, 0, 0};
    same_for_splits("SmallWorld", p, n, n, 1, &l);
    EXPECT(l.n == 2 * n * K, "SmallWorld rewired: %zu synapses, want %llu", l.n,
           (unsigned long long)(2 * n * K));
    simple_graph("SmallWorld", &l, 0, 1);
    size_t ring = 0;
    for (size_t q = 0; q < l.n; q++)
      ring += ring_dist(l.s[q].pre, l.s[q].post, n) <= K;
    double lost = (double)(n * K) - (double)ring / 2, m = pr * n * K;
    double sd = sqrt(m * (1 - pr));
    EXPECT(fabs(lost - m) < 4 * sd + m * 2.0 * K / n,
           "SmallWorld: %.0f ring edges rewired, expected %.0f +- %.0f", lost,
           m, 4 * sd);
    free(l.s);
  }
  /* Directed: both directions rewired independently, 2 n K synapses. */
  {
    const uint64_t n = 300, K = 2;
    double p[] = {2 * K, 0.2, 1, 0};
    same_for_splits("SmallWorld", p, n, n, 1, &l);
    EXPECT(l.n == 2 * n * K, "SmallWorld directed: %zu synapses", l.n);
    simple_graph("SmallWorld directed", &l, 0, 0);
    size_t asym = 0;
    for (size_t q = 0; q < l.n; q++)
      asym += !has(&l, l.s[q].post, l.s[q].pre);
    EXPECT(asym > 0, "SmallWorld directed: rewiring left it symmetric");
    free(l.s);
  }
  /* A small dense ring, every edge rewired: still simple, no self loops. */
  {
    double p[] = {4, 1.0, 0, 0};
    same_for_splits("SmallWorld", p, 10, 10, 1, &l);
    EXPECT(l.n == 2 * 10 * 2, "SmallWorld 10 nodes rewired: %zu", l.n);
    simple_graph("SmallWorld dense", &l, 0, 1);
    free(l.s);
    double pd[] = {4, 1.0, 1, 0};
    same_for_splits("SmallWorld", pd, 10, 10, 1, &l);
    EXPECT(l.n == 2 * 10 * 2, "SmallWorld 10 nodes directed: %zu", l.n);
    simple_graph("SmallWorld dense directed", &l, 0, 0);
    free(l.s);
  }
  /* include_self, every edge rewired: self loops appear and count once;
   * still n K undirected edges. */
  {
    const uint64_t n = 40, K = 2;
    double p[] = {2 * K, 1.0, 0, 1};
    same_for_splits("SmallWorld", p, n, n, 1, &l);
    simple_graph("SmallWorld include_self", &l, 1, 1);
    size_t loops = 0;
    for (size_t q = 0; q < l.n; q++)
      loops += l.s[q].pre == l.s[q].post;
    EXPECT((l.n + loops) / 2 == n * K && (l.n + loops) % 2 == 0,
           "SmallWorld include_self: %zu synapses, %zu loops", l.n, loops);
    free(l.s);
  }
  int blame;
  const bs_connector *c = bs_connector_find("SmallWorld");
  double big[] = {10, 0.1, 0, 0};
  EXPECT(c->check(big, 10, 10, 1, &blame) != NULL && blame == 0,
         "SmallWorld accepts num_neighbor = n");
  EXPECT(c->check(big, 10, 11, 0, &blame) != NULL,
         "SmallWorld accepts pre and post of different sizes");
}

/* In- and out-degrees of a list over n nodes. */
static void degrees(const list *l, uint64_t n, size_t *in, size_t *out) {
  memset(in, 0, n * sizeof *in);
  memset(out, 0, n * sizeof *out);
  for (size_t q = 0; q < l->n; q++) {
    in[l->s[q].post]++;
    out[l->s[q].pre]++;
  }
}

/* Each node s >= s0 links to its older nodes only: the number of links from
 * s to nodes < s, per s (directed: out-edges; undirected: the smaller end). */
static void older_links(const list *l, uint64_t n, size_t *cnt) {
  memset(cnt, 0, n * sizeof *cnt);
  for (size_t q = 0; q < l->n; q++)
    if (l->s[q].post < l->s[q].pre)
      cnt[l->s[q].pre]++;
}

static void test_scalefree(void) {
  list l;
  const uint64_t n = 2000, m = 3;
  size_t *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
  size_t *old = malloc(n * sizeof *old);
  /* Undirected BA: 2 m (n - m) synapses, symmetric, simple; node m links
   * to 0 .. m - 1, every later node to exactly m older nodes; the degree
   * grows with age (expected m sqrt(n / i) for node i). */
  double p[] = {m, 0};
  same_for_splits("ScaleFreeBA", p, n, n, 1, &l);
  EXPECT(l.n == 2 * m * (n - m), "ScaleFreeBA: %zu synapses, want %llu", l.n,
         (unsigned long long)(2 * m * (n - m)));
  simple_graph("ScaleFreeBA", &l, 0, 1);
  older_links(&l, n, old);
  for (uint64_t s = 0; s < n; s++)
    EXPECT(old[s] == (s < m ? 0 : m), "ScaleFreeBA node %llu: %zu older links",
           (unsigned long long)s, old[s]);
  for (uint64_t t = 0; t < m; t++)
    EXPECT(has(&l, m, t), "ScaleFreeBA: node m not linked to %llu",
           (unsigned long long)t);
  degrees(&l, n, in, out);
  double first = 0;
  for (uint64_t s = 0; s <= m; s++)
    first += (double)in[s] / (double)(m + 1);
  EXPECT(first > 5.0 * m, "ScaleFreeBA: first nodes' mean degree %.1f", first);
  free(l.s);
  /* Directed: exactly m out-edges per new node, to older nodes. */
  double pd[] = {m, 1};
  same_for_splits("ScaleFreeBA", pd, n, n, 1, &l);
  EXPECT(l.n == m * (n - m), "ScaleFreeBA directed: %zu synapses", l.n);
  simple_graph("ScaleFreeBA directed", &l, 0, 0);
  degrees(&l, n, in, out);
  older_links(&l, n, old);
  for (uint64_t s = 0; s < n; s++)
    EXPECT(out[s] == (s < m ? 0 : m) && old[s] == out[s],
           "ScaleFreeBA directed node %llu: out-degree %zu",
           (unsigned long long)s, out[s]);
  free(l.s);

  /* Dual BA: each node from max(m1, m2) + max(m1, m2) on (where the list
   * has enough nodes) takes m1 with probability p, else m2. */
  {
    const uint64_t m1 = 2, m2 = 5, s0 = 5;
    const double pr = 0.3;
    double pq[] = {m1, m2, pr, 1};
    same_for_splits("ScaleFreeBADual", pq, n, n, 1, &l);
    simple_graph("ScaleFreeBADual", &l, 0, 0);
    degrees(&l, n, in, out);
    older_links(&l, n, old);
    size_t n1 = 0, total = 0, N = 0;
    for (uint64_t s = 0; s < n; s++) {
      EXPECT(old[s] == out[s], "ScaleFreeBADual: node %llu links to a newer",
             (unsigned long long)s);
      total += out[s];
      if (s < s0)
        EXPECT(out[s] == 0, "ScaleFreeBADual: initial node %llu has links",
               (unsigned long long)s);
      else if (s >= 2 * s0) {
        EXPECT(out[s] == m1 || out[s] == m2, "ScaleFreeBADual node %llu: %zu",
               (unsigned long long)s, out[s]);
        n1 += out[s] == m1;
        N++;
      }
    }
    EXPECT(total == l.n, "ScaleFreeBADual: counts");
    EXPECT(fabs((double)n1 - pr * N) < 4 * sqrt(N * pr * (1 - pr)),
           "ScaleFreeBADual: %zu of %zu nodes took m1, expected %.0f", n1, N,
           pr * N);
    free(l.s);
    double pu[] = {m1, m2, pr, 0};
    same_for_splits("ScaleFreeBADual", pu, 300, 300, 1, &l);
    simple_graph("ScaleFreeBADual undirected", &l, 0, 1);
    free(l.s);
  }

  /* PowerLaw (Holme-Kim): every new node links to 1 .. m older nodes; the
   * triangle steps close at least one triangle each, so p = 0.9 gives many
   * more triangles than p = 0 (plain preferential attachment). */
  {
    const uint64_t np = 600, mp = 4;
    size_t tri[2];
    for (int k = 0; k < 2; k++) {
      double pp[] = {mp, k ? 0.9 : 0.0, 0};
      same_for_splits("PowerLaw", pp, np, np, 1, &l);
      simple_graph("PowerLaw", &l, 0, 1);
      older_links(&l, np, old);
      for (uint64_t s = mp; s < np; s++)
        EXPECT(old[s] >= 1 && old[s] <= mp, "PowerLaw node %llu: %zu links",
               (unsigned long long)s, old[s]);
      if (k == 0) /* no triangle steps: m distinct candidates, all used */
        for (uint64_t s = mp; s < np; s++)
          EXPECT(old[s] == mp, "PowerLaw(p=0) node %llu: %zu links",
                 (unsigned long long)s, old[s]);
      unsigned char *adj = calloc(np * np, 1);
      for (size_t q = 0; q < l.n; q++)
        adj[l.s[q].pre * np + l.s[q].post] = 1;
      tri[k] = 0;
      for (uint64_t a = 0; a < np; a++)
        for (uint64_t b = a + 1; b < np; b++)
          if (adj[a * np + b])
            for (uint64_t c = b + 1; c < np; c++)
              tri[k] += adj[a * np + c] && adj[b * np + c];
      free(adj);
      free(l.s);
    }
    EXPECT(tri[1] > 0.5 * 0.9 * (np - mp) * (mp - 1) && tri[1] > 3 * tri[0],
           "PowerLaw triangles: %zu (p = 0.9) vs %zu (p = 0)", tri[1], tri[0]);
    double pdir[] = {mp, 0.5, 1};
    same_for_splits("PowerLaw", pdir, np, np, 1, &l);
    simple_graph("PowerLaw directed", &l, 0, 0);
    degrees(&l, np, in, out);
    older_links(&l, np, old);
    for (uint64_t s = 0; s < np; s++)
      EXPECT(old[s] == out[s] && out[s] <= mp && (s < mp) == (out[s] == 0),
             "PowerLaw directed node %llu: out-degree %zu",
             (unsigned long long)s, out[s]);
    free(l.s);
  }
  int blame;
  double bad[] = {5, 0};
  EXPECT(bs_connector_find("ScaleFreeBA")->check(bad, 5, 5, 1, &blame) &&
             blame == 0,
         "ScaleFreeBA accepts m = n");
  double badd[] = {2, 6, 0.5, 0};
  EXPECT(bs_connector_find("ScaleFreeBADual")->check(badd, 6, 6, 1, &blame) &&
             blame == 1,
         "ScaleFreeBADual accepts m2 = n");
  double badp[] = {7, 0.5, 0};
  EXPECT(bs_connector_find("PowerLaw")->check(badp, 7, 7, 1, &blame) &&
             blame == 0,
         "PowerLaw accepts m = n");
  free(in);
  free(out);
  free(old);
}

/* Fourth central moment of Binomial(k, p), for the standard error of a
 * sample variance: Var(s^2) ~ (mu4 - sigma^4) / N. */
static double binom_mu4(double k, double p) {
  double v = k * p * (1 - p);
  return v * (1 + 3 * (k - 2) * p * (1 - p));
}

static void test_probdist(void) {
  list l;
  /* 1-D, no self: interior posts have 2 dist candidates, each with prob:
   * in-degree Binomial(2 dist, prob): mean and variance within 4 standard
   * errors. */
  {
    const uint64_t n = 20000, D = 3;
    const double pr = 0.3;
    double p[] = {D, pr, 1, 0, 1, n, 1};
    same_for_splits("ProbDist", p, n, n, 1, &l);
    simple_graph("ProbDist", &l, 0, 0);
    size_t *in = calloc(n, sizeof *in);
    for (size_t q = 0; q < l.n; q++) {
      uint64_t a = l.s[q].pre, b = l.s[q].post;
      EXPECT((a > b ? a - b : b - a) <= D, "ProbDist pair %llu-%llu too far",
             (unsigned long long)a, (unsigned long long)b);
      in[b]++;
    }
    double s1 = 0, s2 = 0, N = (double)(n - 2 * D);
    for (uint64_t j = D; j < n - D; j++) {
      s1 += (double)in[j];
      s2 += (double)in[j] * (double)in[j];
    }
    double mean = s1 / N, var = (s2 - N * mean * mean) / (N - 1);
    double k = 2.0 * D, mt = k * pr, vt = k * pr * (1 - pr);
    EXPECT(fabs(mean - mt) < 4 * sqrt(vt / N),
           "ProbDist in-degree mean %.4f, expected %.4f", mean, mt);
    EXPECT(fabs(var - vt) < 4 * sqrt((binom_mu4(k, pr) - vt * vt) / N),
           "ProbDist in-degree variance %.4f, expected %.4f", var, vt);
    free(in);
    free(l.s);
  }
  /* pre_ratio: a pre is kept (all its pairs tossed) or dropped (none):
   * total count sum_i kept_i Bin(c_i, prob), within 4 sd; the number of
   * pre with any synapse within 4 sd of n r (1 - (1 - prob)^c). */
  {
    const uint64_t n = 20000, D = 2;
    const double pr = 0.6, r = 0.5, c = 2.0 * D + 1;
    double p[] = {D, pr, r, 1, 1, n, 1};
    same_for_splits("ProbDist", p, n, n, 1, &l);
    simple_graph("ProbDist pre_ratio", &l, 1, 0);
    unsigned char *any = calloc(n, 1);
    for (size_t q = 0; q < l.n; q++)
      any[l.s[q].pre] = 1;
    size_t with = 0;
    for (uint64_t i = D; i < n - D; i++)
      with += any[i];
    double N = (double)(n - 2 * D), q1 = r * (1 - pow(1 - pr, c));
    EXPECT(fabs((double)with - N * q1) < 4 * sqrt(N * q1 * (1 - q1)),
           "ProbDist: %zu pre with synapses, expected %.0f", with, N * q1);
    double cp = c * pr, m = n * r * cp;
    double v = n * (r * (c * pr * (1 - pr) + cp * cp) - r * r * cp * cp);
    EXPECT(fabs((double)l.n - m) < 4 * sqrt(v) + 2 * D,
           "ProbDist pre_ratio: %zu synapses, expected %.0f", l.n, m);
    free(any);
    free(l.s);
  }
  /* 2-D shape 30 x 40, dist 2.5, prob 1: exactly the lattice points of the
   * disc, clipped to the grid; prob 0.5: independent pairs, count within 4
   * sd. */
  {
    const int64_t R = 30, C = 40;
    const uint64_t n = (uint64_t)(R * C);
    double cells = 0;
    for (int64_t j = 0; j < (int64_t)n; j++)
      for (int64_t i = 0; i < (int64_t)n; i++) {
        double dr = (double)(i / C - j / C), dc = (double)(i % C - j % C);
        cells += dr * dr + dc * dc <= 6.25;
      }
    double p1[] = {2.5, 1, 1, 1, 2, R, C};
    same_for_splits("ProbDist", p1, n, n, 1, &l);
    EXPECT((double)l.n == cells, "ProbDist 2-D prob 1: %zu synapses, want %.0f",
           l.n, cells);
    for (size_t q = 0; q < l.n; q++) {
      int64_t i = (int64_t)l.s[q].pre, j = (int64_t)l.s[q].post;
      double dr = (double)(i / C - j / C), dc = (double)(i % C - j % C);
      EXPECT(dr * dr + dc * dc <= 6.25, "ProbDist 2-D pair %lld-%lld",
             (long long)i, (long long)j);
    }
    simple_graph("ProbDist 2-D", &l, 1, 1);
    free(l.s);
    double ph[] = {2.5, 0.5, 1, 1, 2, R, C};
    same_for_splits("ProbDist", ph, n, n, 1, &l);
    EXPECT(fabs((double)l.n - 0.5 * cells) < 4 * sqrt(0.25 * cells),
           "ProbDist 2-D prob 0.5: %zu synapses, expected %.0f", l.n,
           0.5 * cells);
    free(l.s);
  }
  /* 1-D, pre and post of different sizes (raw positions): exact. */
  double pu[] = {1, 1, 1, 1, 1, 80, 1};
  same_for_splits("ProbDist", pu, 50, 80, 0, &l);
  EXPECT(l.n == 2 + 48 * 3 + 2 + 1, "ProbDist 50 -> 80: %zu synapses", l.n);
  free(l.s);
  int blame;
  double p2[] = {1, 1, 1, 1, 2, 5, 10};
  EXPECT(bs_connector_find("ProbDist")->check(p2, 40, 50, 0, &blame) != NULL,
         "ProbDist 2-D accepts pre and post of different sizes");
}

int main(void) {
  list l;
  /* All2All without self connections. */
  double a2a[] = {0};
  same_for_splits("All2All", a2a, 50, 50, 1, &l);
  EXPECT(l.n == 50 * 49, "All2All(include_self=false): %zu", l.n);
  for (size_t i = 0; i < l.n; i++)
    EXPECT(l.s[i].pre != l.s[i].post, "self pair %llu",
           (unsigned long long)l.s[i].pre);
  free(l.s);

  same_for_splits("One2One", NULL, 33, 33, 0, &l);
  EXPECT(l.n == 33, "One2One: %zu", l.n);
  for (size_t i = 0; i < l.n; i++)
    EXPECT(l.s[i].pre == l.s[i].post, "One2One pair %llu->%llu",
           (unsigned long long)l.s[i].pre, (unsigned long long)l.s[i].post);
  free(l.s);

  /* FixedProb: independent pairs; count within 5 sigma of p N M. */
  double fp[] = {0.02, 0};
  same_for_splits("FixedProb", fp, 3000, 1000, 1, &l);
  double mean = 0.02 * 3000 * 1000 - 0.02 * 1000, sd = sqrt(mean * 0.98);
  EXPECT(fabs((double)l.n - mean) < 5 * sd, "FixedProb count %zu, mean %.0f",
         l.n, mean);
  for (size_t i = 0; i < l.n; i++) {
    EXPECT(l.s[i].pre != l.s[i].post, "self pair with include_self false");
    EXPECT(i == 0 || cmp(&l.s[i - 1], &l.s[i]) != 0, "duplicate pair");
  }
  free(l.s);
  double one[] = {1.0, 1};
  same_for_splits("FixedProb", one, 20, 10, 0, &l);
  EXPECT(l.n == 200, "FixedProb(1): %zu", l.n);
  free(l.s);

  /* FixedPreNum: exact in-degree, distinct pre. */
  double pre[] = {25, 0};
  same_for_splits("FixedPreNum", pre, 200, 300, 0, &l);
  EXPECT(l.n == 25 * 300, "FixedPreNum count %zu", l.n);
  for (size_t i = 0; i + 1 < l.n; i++)
    EXPECT(!(l.s[i].post == l.s[i + 1].post && l.s[i].pre == l.s[i + 1].pre),
           "FixedPreNum multapse");
  free(l.s);
  /* Every candidate but one: exercises the exclusion of self pairs. */
  double full[] = {99, 0};
  same_for_splits("FixedPreNum", full, 100, 100, 1, &l);
  EXPECT(l.n == 99 * 100, "FixedPreNum(99 of 100, no self) count %zu", l.n);
  for (size_t i = 0; i < l.n; i++)
    EXPECT(l.s[i].pre != l.s[i].post, "self pair");
  free(l.s);

  /* FixedPostNum: exact out-degree, distinct post. */
  double post[] = {0.1, 1};
  same_for_splits("FixedPostNum", post, 120, 250, 0, &l);
  EXPECT(l.n == 25 * 120, "FixedPostNum count %zu", l.n);
  size_t *outdeg = calloc(120, sizeof *outdeg);
  for (size_t i = 0; i < l.n; i++)
    outdeg[l.s[i].pre]++;
  for (int i = 0; i < 120; i++)
    EXPECT(outdeg[i] == 25, "pre %d out-degree %zu", i, outdeg[i]);
  free(outdeg);
  free(l.s);

  /* FixedTotalNum: exactly num pairs, uniform with replacement. In-degrees
   * are Binomial(num, 1/n_post): mean and variance within 4 standard
   * errors; pre ids uniform: mean within 4 standard errors. */
  {
    const uint64_t NPRE = 300, NPOST = 500, NUM = 40000;
    double tn[] = {(double)NUM};
    same_for_splits("FixedTotalNum", tn, NPRE, NPOST, 0, &l);
    EXPECT(l.n == NUM, "FixedTotalNum count %zu, expected %llu", l.n,
           (unsigned long long)NUM);
    size_t *indeg = calloc(NPOST, sizeof *indeg);
    double sum_pre = 0;
    for (size_t i = 0; i < l.n; i++) {
      indeg[l.s[i].post]++;
      sum_pre += (double)l.s[i].pre;
      EXPECT(l.s[i].pre < NPRE && l.s[i].post < NPOST, "pair out of range");
    }
    double m = (double)NUM / NPOST, v = m * (1.0 - 1.0 / NPOST), s1 = 0, s2 = 0;
    for (uint64_t j = 0; j < NPOST; j++) {
      s1 += (double)indeg[j];
      s2 += (double)indeg[j] * (double)indeg[j];
    }
    double mean = s1 / NPOST, var = (s2 - NPOST * mean * mean) / (NPOST - 1);
    EXPECT(fabs(var - v) < 4 * v * sqrt(2.0 / (NPOST - 1)),
           "FixedTotalNum in-degree variance %.2f, expected %.2f", var, v);
    double pm = (double)(NPRE - 1) / 2, pv = ((double)NPRE * NPRE - 1) / 12;
    EXPECT(fabs(sum_pre / NUM - pm) < 4 * sqrt(pv / NUM),
           "FixedTotalNum mean pre id %.2f, expected %.2f", sum_pre / NUM, pm);
    free(indeg);
    free(l.s);
    /* a fraction of all pairs; one post only */
    double fr[] = {0.25};
    same_for_splits("FixedTotalNum", fr, 40, 10, 0, &l);
    EXPECT(l.n == 100, "FixedTotalNum(0.25 of 400) count %zu", l.n);
    free(l.s);
    double big[] = {1000};
    same_for_splits("FixedTotalNum", big, 7, 1, 0, &l);
    EXPECT(l.n == 1000, "FixedTotalNum onto one post: %zu", l.n);
    free(l.s);
  }

  /* Grids: exact degrees. p = params, then ndim, n0, n1. */
  {
    /* GridFour 2-D 6 x 7 open: 4 inside, 3 on edges, 2 at corners. */
    double g4[] = {0, 0, 2, 6, 7};
    same_for_splits("GridFour", g4, 42, 42, 1, &l);
    size_t want = 4 * 42 - 2 * (6 + 7); /* each edge cell loses one */
    EXPECT(l.n == want, "GridFour 6x7 open: %zu synapses, expected %zu", l.n,
           want);
    for (size_t i = 0; i < l.n; i++) {
      long r0 = (long)(l.s[i].pre / 7), c0 = (long)(l.s[i].pre % 7);
      long r1 = (long)(l.s[i].post / 7), c1 = (long)(l.s[i].post % 7);
      EXPECT(labs(r0 - r1) + labs(c0 - c1) == 1, "GridFour pair %llu-%llu",
             (unsigned long long)l.s[i].pre, (unsigned long long)l.s[i].post);
    }
    free(l.s);
    double g4p[] = {0, 1, 2, 6, 7};
    same_for_splits("GridFour", g4p, 42, 42, 1, &l);
    EXPECT(l.n == 4 * 42, "GridFour periodic: %zu", l.n);
    free(l.s);
    /* 1-D, periodic, include_self: 3 each */
    double g41[] = {1, 1, 1, 30, 1};
    same_for_splits("GridFour", g41, 30, 30, 1, &l);
    EXPECT(l.n == 3 * 30, "GridFour 1-D periodic with self: %zu", l.n);
    free(l.s);
    /* GridEight periodic 5 x 4: 8 each; open: 8 inside, 5 edges, 3 corners */
    double g8p[] = {0, 1, 2, 5, 4};
    same_for_splits("GridEight", g8p, 20, 20, 1, &l);
    EXPECT(l.n == 8 * 20, "GridEight periodic: %zu", l.n);
    free(l.s);
    double g8[] = {0, 0, 2, 5, 4};
    same_for_splits("GridEight", g8, 20, 20, 1, &l);
    EXPECT(l.n == 6 * 8 + 10 * 5 + 4 * 3, "GridEight open 5x4: %zu", l.n);
    free(l.s);
    /* GridN N = 2 periodic on 9 x 9: 24 each; on a 3 x 3 grid the wrap
     * reaches every other cell once: 8 each, no duplicates. */
    double gn[] = {2, 0, 1, 2, 9, 9};
    same_for_splits("GridN", gn, 81, 81, 1, &l);
    EXPECT(l.n == 24 * 81, "GridN(2) periodic 9x9: %zu", l.n);
    free(l.s);
    double gns[] = {2, 0, 1, 2, 3, 3};
    same_for_splits("GridN", gns, 9, 9, 1, &l);
    EXPECT(l.n == 8 * 9, "GridN(2) periodic 3x3 (dedup): %zu", l.n);
    for (size_t i = 0; i + 1 < l.n; i++)
      EXPECT(cmp(&l.s[i], &l.s[i + 1]) != 0 && l.s[i].pre != l.s[i].post,
             "GridN duplicate or self pair");
    free(l.s);
  }

  /* GaussianProb on a periodic 20 x 20 grid: the count is a sum of
   * independent Bernoulli: within 4 standard deviations of sum p. */
  {
    const int n0 = 20, n1 = 20;
    const double sigma = 1.5;
    double gp[] = {sigma, 0, 1, 2, n0, n1};
    same_for_splits("GaussianProb", gp, 400, 400, 1, &l);
    double mp = 0, vp = 0;
    for (int a = 0; a < n0; a++)
      for (int b = 0; b < n1; b++) {
        if (a == 0 && b == 0)
          continue;
        double d0 = a < n0 - a ? a : n0 - a, d1 = b < n1 - b ? b : n1 - b;
        double pr = exp(-(d0 * d0 + d1 * d1) / (2 * sigma * sigma));
        mp += pr;
        vp += pr * (1 - pr);
      }
    mp *= 400;
    vp *= 400;
    EXPECT(fabs((double)l.n - mp) < 4 * sqrt(vp),
           "GaussianProb count %zu, expected %.1f +- %.1f", l.n, mp,
           4 * sqrt(vp));
    for (size_t i = 0; i < l.n; i++)
      EXPECT(l.s[i].pre != l.s[i].post, "GaussianProb self pair");
    for (size_t i = 0; i + 1 < l.n; i++)
      EXPECT(cmp(&l.s[i], &l.s[i + 1]) != 0, "GaussianProb duplicate");
    free(l.s);
    /* open 1-D with self: sum over pairs of exp(-d^2 / 2 sigma^2) */
    double g1[] = {3.0, 1, 0, 1, 200, 1};
    same_for_splits("GaussianProb", g1, 200, 200, 1, &l);
    mp = 0;
    vp = 0;
    for (int i = 0; i < 200; i++)
      for (int j = 0; j < 200; j++) {
        double pr = exp(-(double)(i - j) * (i - j) / 18.0);
        mp += pr;
        vp += pr * (1 - pr);
      }
    EXPECT(fabs((double)l.n - mp) < 4 * sqrt(vp) + 1e-9,
           "GaussianProb 1-D count %zu, expected %.1f +- %.1f", l.n, mp,
           4 * sqrt(vp));
    free(l.s);
  }
  test_smallworld();
  test_scalefree();
  test_probdist();
  return bs_test_done("test_connect");
}

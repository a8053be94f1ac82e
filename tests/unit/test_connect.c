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
  return bs_test_done("test_connect");
}

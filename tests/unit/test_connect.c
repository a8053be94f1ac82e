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
  return bs_test_done("test_connect");
}

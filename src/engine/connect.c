/* Local connectivity storage (DESIGN.md "Performance model"): synapses
 * live on the rank of their post neuron, either as a CSR by pre-synaptic
 * index (sparse) or as one bit per (pre, local post) pair (dense), with
 * weights and delays stored only where they vary. Everything else reads a
 * row through lproj_row, the one iterator over both storages.
 *
 * Rows and per-pre state exist only for the pre neurons a rank needs (its
 * "table", README "Memory per rank"): those with a local synapse, and,
 * where there is per-pre state (stp, traces), its own block of the pre
 * population (monitors and checkpoints of that state are the owner's). The
 * table is the sorted list of their ids (pid; for sparse storage kept
 * compressed with the row bounds, ctab.c), so memory is O(local synapses +
 * local neurons) whatever the network's size; when the identity over the whole
 * pre population is smaller (a rank that needs most pre neurons, e.g. one
 * rank), it is used instead (pid = NULL). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/rng.h"
#include "engine_impl.h"

/* Where row i of a sparse table starts and how long it is. */
static void sparse_bounds(const lproj *lj, uint64_t i, uint64_t *b,
                          uint64_t *n) {
  if (lj->ct) {
    bs_ctab_row(lj->ct, i, b, n);
  } else {
    *b = lproj_row_off(lj, i);
    *n = lproj_row_off(lj, i + 1) - *b;
  }
}

void lproj_row(const lproj *lj, uint64_t i, lrow *r) {
  /* i is a position in the table (lproj_pos). */
  BS_ASSERT(i < lj->npos);
  r->w0 = lj->w0;
  r->d = lj->dpre ? lj->dpre[i] : lj->d0;
  if (lj->dense) {
    const uint64_t *m = lj->mask + i * lj->mask_words;
    const float *wr = lj->wd ? lj->wd + i * lj->post->n : NULL;
    uint64_t n = 0;
    for (uint64_t k = 0; k < lj->mask_words; k++)
      for (uint64_t bits = m[k]; bits; bits &= bits - 1) {
        const uint32_t jl =
            (uint32_t)(k * 64 + (uint64_t)__builtin_ctzll(bits));
        BS_ASSERT(jl < lj->post->n); /* padding bits stay clear */
        lj->scol[n] = jl;
        if (wr)
          lj->sw[n] = wr[jl];
        n++;
      }
    r->n = n;
    r->at = 0; /* dense: synapse k of the row, its k-th set bit */
    r->col = lj->scol;
    r->col16 = NULL;
    r->w = wr ? lj->sw : NULL;
    r->dl = NULL; /* dense keeps no per-synapse delays */
    r->dl_bytes = 0;
    return;
  }
  uint64_t b, n;
  sparse_bounds(lj, i, &b, &n);
  BS_ASSERT(b + n <= lj->nnz);
  r->n = n;
  r->at = b;
  if (lj->col16_delta) {
    BS_ASSERT(n <= lj->nscol);
    uint32_t t = 0;
    for (uint64_t q = 0; q < n; q++)
      lj->scol[q] = t += lj->col16[b + q];
    r->col = lj->scol;
    r->col16 = NULL;
  } else {
    r->col = lj->col16 ? NULL : lj->col + b;
    r->col16 = lj->col16 ? lj->col16 + b : NULL;
  }
  r->w = lj->w ? lj->w + b : NULL;
  r->dl_bytes = lj->dl_bytes;
  r->dl = lj->dl ? (const char *)lj->dl + b * (uint64_t)lj->dl_bytes : NULL;
}

void lproj_prefetch(const lproj *lj, uint64_t i, int rows) {
  if (lj->dense || lj->ct) /* a compressed table is read in order only */
    return;
  if (!rows) {
    if (lj->row32)
      __builtin_prefetch(lj->row32 + i);
    else
      __builtin_prefetch(lj->row64 + i);
    return;
  }
  const uint64_t b = lproj_row_off(lj, i), n = lproj_row_off(lj, i + 1) - b;
  const char *c =
      lj->col16 ? (const char *)(lj->col16 + b) : (const char *)(lj->col + b);
  const uint64_t bytes = n * (lj->col16 ? sizeof(uint16_t) : sizeof(uint32_t));
  for (uint64_t o = 0; o < bytes && o < 512; o += 64)
    __builtin_prefetch(c + o);
}

/* Whether every row ascends from 0 in steps below 65,536 (so that its
 * differences fit 16 bits), and the longest row. */
static int rows_step16(const lproj *lj, uint64_t *longest) {
  *longest = 0;
  for (uint64_t k = 0; k < lj->npos; k++) {
    uint64_t b, n;
    sparse_bounds(lj, k, &b, &n);
    uint32_t prev = 0;
    for (uint64_t q = 0; q < n; q++) {
      const uint32_t c = lj->col[b + q];
      if (c < prev || c - prev > UINT16_MAX)
        return 0;
      prev = c;
    }
    *longest = n > *longest ? n : *longest;
  }
  return 1;
}

bs_status lproj_narrow(bs_ctx *ctx, lproj *lj) {
  if (lj->dense || lj->col16 || !lj->nnz)
    return BS_OK;
  const int delta = lj->post->n > UINT16_MAX + 1u;
  uint64_t longest = 0;
  if (delta && !rows_step16(lj, &longest))
    return BS_OK; /* 32-bit targets */
  if (delta) {
    BS_CALL(ctx,
            bs_malloc(ctx, longest ? longest : 1, sizeof(uint32_t), &lj->scol));
    lj->nscol = longest ? longest : 1;
  }
  BS_CALL(ctx, bs_malloc(ctx, lj->nnz, sizeof(uint16_t), &lj->col16));
  /* before the first touch: advice on pages already faulted in comes too
   * late (they stay 4 KiB, a TLB miss per row at 256k neurons) */
  bs_mem_hot(lj->col16, lj->nnz * sizeof(uint16_t));
  if (delta) {
    for (uint64_t k = 0; k < lj->npos; k++) {
      uint64_t b, n;
      sparse_bounds(lj, k, &b, &n);
      for (uint64_t q = 0, prev = 0; q < n; prev = lj->col[b + q], q++)
        lj->col16[b + q] = (uint16_t)(lj->col[b + q] - prev);
    }
  } else {
    for (uint64_t q = 0; q < lj->nnz; q++)
      lj->col16[q] = (uint16_t)lj->col[q];
  }
  lj->col16_delta = delta;
  bs_free(ctx, lj->nnz, sizeof(uint32_t), &lj->col);
  lj->syn_bytes -= lj->nnz * (sizeof(uint32_t) - sizeof(uint16_t));
  return BS_OK;
}

typedef struct coo {
  bs_ctx *ctx;
  uint64_t post_lo;
  uint32_t *pre; /* population sizes are below 2^32 */
  uint64_t *key; /* only with keys: a third of the list's bytes */
  uint32_t *post;
  size_t n, cap;
  int keys, failed;
} coo;

static void coo_free(coo *c) {
  bs_free(c->ctx, c->cap, sizeof(uint32_t), &c->pre);
  bs_free(c->ctx, c->cap, sizeof(uint64_t), &c->key);
  bs_free(c->ctx, c->cap, sizeof(uint32_t), &c->post);
}

/* Room for cap entries; on failure the list is as it was. */
static bs_status coo_grow(coo *c, size_t cap) {
  coo g = {.ctx = c->ctx, .cap = cap};
  if (bs_malloc(c->ctx, cap, sizeof(uint32_t), &g.pre) ||
      bs_malloc(c->ctx, cap, sizeof(uint32_t), &g.post) ||
      (c->keys && bs_malloc(c->ctx, cap, sizeof(uint64_t), &g.key))) {
    coo_free(&g);
    return c->ctx->errcode;
  }
  /* Written once, front to back: huge pages save most of the faults. */
  bs_mem_hot(g.pre, cap * sizeof(uint32_t));
  bs_mem_hot(g.post, cap * sizeof(uint32_t));
  if (c->keys)
    bs_mem_hot(g.key, cap * sizeof(uint64_t));
  if (c->n) {
    memcpy(g.pre, c->pre, c->n * sizeof(uint32_t));
    memcpy(g.post, c->post, c->n * sizeof(uint32_t));
    if (c->keys)
      memcpy(g.key, c->key, c->n * sizeof(uint64_t));
  }
  coo_free(c);
  c->pre = g.pre;
  c->post = g.post;
  c->key = g.key;
  c->cap = cap;
  return BS_OK;
}

static int coo_emit(void *sink, uint64_t pre, uint64_t post, uint64_t key) {
  coo *c = sink;
  if (c->n == c->cap && coo_grow(c, c->cap ? 2 * c->cap : 1024)) {
    c->failed = 1;
    return 1;
  }
  c->pre[c->n] = (uint32_t)pre;
  c->post[c->n] = (uint32_t)(post - c->post_lo);
  if (c->keys)
    c->key[c->n] = key;
  c->n++;
  return 0;
}

/* Per-synapse weight, keyed by the connector's synapse key. Stored as
 * float (BrainPy's default float32), so the value used is the draw
 * rounded to float. */
static float draw_weight(const bs_spec *s, int j, uint64_t key) {
  bs_rng r;
  bs_rng_init(&r, s->seed, BS_RNG_WEIGHT, (uint32_t)j, (uint32_t)key,
              (uint32_t)(key >> 32));
  return (float)bs_dist_sample(&s->projs[j].g_max, &r);
}

/* A delay in steps (rounded), or an error naming the synapse or pre
 * neuron (post < 0). */
static bs_status check_delay(bs_ctx *ctx, const bs_proj_spec *js, double d,
                             uint64_t pre, int64_t post, uint32_t *out) {
  d = floor(d + 0.5);
  if (!(d >= 0 && d <= 1e6)) {
    if (post >= 0)
      return bs_error_set(ctx, BS_ERR_CONFIG,
                          "projection '%s': a delay of %g steps (pre "
                          "%llu -> post %llu) is outside [0, 1e6]; choose a "
                          "narrower distribution",
                          js->name, d, (unsigned long long)pre,
                          (unsigned long long)post);
    return bs_error_set(ctx, BS_ERR_CONFIG,
                        "projection '%s': the delay of pre neuron %llu, %g "
                        "steps, is outside [0, 1e6]",
                        js->name, (unsigned long long)pre, d);
  }
  *out = (uint32_t)d;
  return BS_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Whether the identity over all n_pre pre neurons costs no more than a
 * table of nt ids (4 bytes each), rc the bytes per row (the offset, dense
 * mask row and weights, per-pre delay). estimate.c makes the same choice.
 * Sparse storage then compresses a table (ctab.c, ~1.3 bytes a row for
 * ids and offsets), but the rule stays that of the plain table: a lookup
 * in the compressed one costs ~30 ns more than the identity's (COBA 4k,
 * all tables forced compressed: delivery 0.027 -> 0.057 s per 2 s), and
 * where a rank needs half of the pre neurons or more, its rows are
 * already O(its synapses). */
static int table_full(uint64_t n_pre, uint64_t nt, uint64_t rc) {
  return n_pre * rc <= nt * (4 + rc);
}

/* The table from the local synapses' pre ids pre[0..n) (any order, with
 * repeats) and the local block of the pre population. Deduplicated with a
 * byte per pre neuron only while that is within a constant of the local
 * data, else by sorting a copy. rc: bytes per row (table_full). */
static bs_status make_table(bs_ctx *ctx, lproj *lj, const uint32_t *pre,
                            size_t n, uint64_t rc) {
  /* The own block only where per-pre state lives (stp, traces). */
  const int own = lj->spec->stp || lj->ops->owner_state;
  const uint64_t N = lj->pre->spec->size, lo = lj->pre->lo,
                 hi = own ? lj->pre->hi : lo;
  uint32_t *ids = NULL;
  uint64_t nt = 0;
  if (N <= 2 * ((uint64_t)n + (hi - lo)) + 4096) {
    uint8_t *mark;
    BS_CALL(ctx, bs_calloc(ctx, N ? N : 1, 1, &mark));
    for (size_t q = 0; q < n; q++)
      mark[pre[q]] = 1;
    for (uint64_t i = lo; i < hi; i++)
      mark[i] = 1;
    for (uint64_t i = 0; i < N; i++)
      nt += mark[i];
    bs_status st = BS_OK;
    if (!table_full(N, nt, rc)) {
      st = bs_malloc(ctx, nt ? nt : 1, sizeof(uint32_t), &ids);
      for (uint64_t i = 0, k = 0; st == BS_OK && i < N; i++)
        if (mark[i])
          ids[k++] = (uint32_t)i;
    }
    bs_free(ctx, N ? N : 1, 1, &mark);
    BS_CALL(ctx, st);
  } else {
    const size_t cap = n + (size_t)(hi - lo);
    BS_CALL(ctx, bs_malloc(ctx, cap ? cap : 1, sizeof(uint32_t), &ids));
    memcpy(ids, pre, n * sizeof(uint32_t));
    for (uint64_t i = lo; i < hi; i++)
      ids[n + (i - lo)] = (uint32_t)i;
    qsort(ids, cap, sizeof(uint32_t), cmp_u32);
    for (size_t q = 0; q < cap; q++)
      if (!nt || ids[q] != ids[nt - 1])
        ids[nt++] = ids[q];
    if (table_full(N, nt, rc)) {
      bs_free(ctx, cap ? cap : 1, sizeof(uint32_t), &ids);
    } else {
      BS_CALL(ctx, bs_realloc(ctx, cap ? cap : 1, nt ? nt : 1, sizeof(uint32_t),
                              &ids));
    }
  }
  lj->pid = ids;
  lj->npos = ids ? nt : N;
  return BS_OK;
}

/* Position of pre id i in a table known to hold it. */
static uint32_t pos_of(const lproj *lj, uint64_t i) {
  return (uint32_t)lproj_pos(lj, i);
}

/* Pass 1 of dense storage: the local synapses' pre ids. */
typedef struct pre_list {
  bs_ctx *ctx;
  uint32_t *pre;
  size_t n, cap;
  int failed;
} pre_list;

static int pre_emit(void *sink, uint64_t pre, uint64_t post, uint64_t key) {
  (void)post;
  (void)key;
  pre_list *l = sink;
  if (l->n == l->cap) {
    size_t nc = l->cap ? 2 * l->cap : 1024;
    if (bs_realloc(l->ctx, l->cap, nc, sizeof(uint32_t), &l->pre)) {
      l->failed = 1;
      return 1;
    }
    l->cap = nc;
  }
  l->pre[l->n++] = (uint32_t)pre;
  return 0;
}

/* Dense storage is filled straight from the connector (pass 2): no list. */
typedef struct dense_sink {
  const bs_spec *s;
  int j;
  lproj *lj;
  uint64_t dup_pre, dup_post;
  int dup;
} dense_sink;

static int dense_emit(void *sink, uint64_t pre, uint64_t post, uint64_t key) {
  dense_sink *d = sink;
  lproj *lj = d->lj;
  const uint64_t jl = post - lj->post->lo;
  const uint64_t k = pos_of(lj, pre);
  uint64_t *word = &lj->mask[k * lj->mask_words + jl / 64];
  const uint64_t bit = (uint64_t)1 << (jl % 64);
  if (*word & bit) { /* a multapse: one matrix entry cannot hold two */
    d->dup = 1;
    d->dup_pre = pre;
    d->dup_post = post;
    return 1;
  }
  *word |= bit;
  if (lj->wd)
    lj->wd[k * lj->post->n + jl] = draw_weight(d->s, d->j, key);
  lj->nnz++;
  return 0;
}

static bs_status build_dense(bs_ctx *ctx, const bs_spec *s, int j, lproj *lj,
                             const bs_conn_args *a) {
  const bs_proj_spec *js = lj->spec;
  const uint64_t npost = lj->post->n;
  lj->dense = 1;
  lj->mask_words = (npost + 63) / 64;
  /* Pass 1: which pre neurons have a local synapse (the table). */
  pre_list l = {.ctx = ctx};
  if (js->conn->generate(a, pre_emit, &l)) {
    bs_free(ctx, l.cap, sizeof(uint32_t), &l.pre);
    if (!l.failed)
      bs_error_set(ctx, BS_ERR_NOMEM, "projection '%s': out of memory",
                   js->name);
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return ctx->errcode;
  }
  const uint64_t rc = lj->mask_words * 8 +
                      (bs_dist_is_const(&js->g_max) ? 0 : 4 * npost) +
                      (js->delay_per_pre ? 4 : 0);
  bs_status ts = make_table(ctx, lj, l.pre, l.n, rc);
  bs_free(ctx, l.cap, sizeof(uint32_t), &l.pre);
  BS_CALL(ctx, ts);
  const uint64_t n_pre = lj->npos;
  const size_t nm = (size_t)(n_pre * lj->mask_words);
  BS_CALL(ctx, bs_calloc(ctx, nm ? nm : 1, sizeof(uint64_t), &lj->mask));
  lj->syn_bytes =
      (uint64_t)nm * sizeof(uint64_t) + (lj->pid ? 4 * (uint64_t)lj->npos : 0);
  if (!bs_dist_is_const(&js->g_max)) {
    const size_t nw = (size_t)(n_pre * npost);
    BS_CALL(ctx, bs_calloc(ctx, nw ? nw : 1, sizeof(float), &lj->wd));
    lj->syn_bytes += (uint64_t)nw * sizeof(float);
  }
  /* One decoded row (lproj_row): not connectivity, so not in syn_bytes. */
  BS_CALL(ctx, bs_malloc(ctx, npost ? npost : 1, sizeof(uint32_t), &lj->scol));
  lj->nscol = npost ? npost : 1;
  if (lj->wd)
    BS_CALL(ctx, bs_malloc(ctx, npost ? npost : 1, sizeof(float), &lj->sw));
  dense_sink d = {.s = s, .j = j, .lj = lj};
  if (js->conn->generate(a, dense_emit, &d))
    return bs_error_set(ctx, BS_ERR_CONFIG,
                        "projection '%s': comp_method dense cannot hold the "
                        "multapse pre %llu -> post %llu (connector %s makes "
                        "two synapses for one pair); use comp_method: "
                        "sparse",
                        js->name, (unsigned long long)d.dup_pre,
                        (unsigned long long)d.dup_post, js->conn->name);
  return BS_OK;
}

/* A sparse table's ids and row offsets into the compressed table. */
static bs_status compress_table(bs_ctx *ctx, lproj *lj) {
  const uint64_t n = lj->npos;
  uint64_t *len;
  BS_CALL(ctx, bs_malloc(ctx, n ? n : 1, sizeof(uint64_t), &len));
  for (uint64_t k = 0; k < n; k++)
    len[k] = lproj_row_off(lj, k + 1) - lproj_row_off(lj, k);
  bs_status st = bs_ctab_build(ctx, lj->pid, len, n, &lj->ct);
  bs_free(ctx, n ? n : 1, sizeof(uint64_t), &len);
  BS_CALL(ctx, st);
  bs_free(ctx, n ? n : 1, sizeof(uint32_t), &lj->pid);
  bs_free(ctx, n + 1, sizeof(uint32_t), &lj->row32);
  bs_free(ctx, n + 1, sizeof(uint64_t), &lj->row64);
  return BS_OK;
}

static bs_status build_sparse(bs_ctx *ctx, const bs_spec *s, int j, lproj *lj,
                              const bs_conn_args *a, bs_edges *fe) {
  const bs_proj_spec *js = lj->spec;
  /* Per-synapse values from a file's columns, IJ's lists or a g_max
   * dataset take the place of the projection's g_max and delay. */
  const int w_file = fe && fe->w, d_file = fe && fe->delay;
  const int w_var =
      !bs_dist_is_const(&js->g_max) || w_file || js->ij_w || js->g_file;
  const int d_var = (!bs_dist_is_const(&js->delay) && !js->delay_per_pre) ||
                    d_file || js->ij_d;
  /* Keys only where a weight or delay is drawn or looked up by them (the
   * delays, drawn or read, then take the keys' place). */
  coo c = {.ctx = ctx,
           .post_lo = lj->post->lo,
           .keys = (w_var && !w_file && !js->g_file) || d_var};
  /* Room for the expected count (+ 4 standard deviations) up front: no
   * copies while growing in the common case. */
  const double ex =
      js->conn->expected(js->cp, a->n_pre, a->n_post, a->same_pop, js->n_ij) *
      ((double)(a->post_hi - a->post_lo) / (double)a->n_post);
  if (coo_grow(&c, (size_t)(ex + 4.0 * sqrt(ex) + 1024.0)) != BS_OK)
    bs_error_clear(ctx); /* the estimate was refused: grow from nothing */
  int rc = js->conn->generate(a, coo_emit, &c);
  /* From a file: the rows io/ read, keyed by their row in the file (the
   * file connectors' generate emits nothing, so coo entry q is row q). */
  for (uint64_t q = 0; fe && q < fe->n && !rc; q++)
    rc = coo_emit(&c, fe->pre[q], fe->post[q], fe->row[q]);
  if (rc) {
    coo_free(&c);
    if (!c.failed)
      bs_error_set(ctx, BS_ERR_NOMEM,
                   "projection '%s': out of memory generating synapses on "
                   "rank %d",
                   js->name, ctx->rank);
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return ctx->errcode;
  }
  lj->nnz = c.n;
  /* The table, then each synapse's pre as its position in it. */
  bs_status ts =
      make_table(ctx, lj, c.pre, c.n,
                 (c.n <= UINT32_MAX ? 4 : 8) + (js->delay_per_pre ? 4 : 0));
  if (ts != BS_OK) {
    coo_free(&c);
    return ts;
  }
  for (size_t q = 0; lj->pid && q < c.n; q++)
    c.pre[q] = pos_of(lj, c.pre[q]);
  const uint64_t n_pre = lj->npos;

  /* CSR by position in the table; a stable counting sort keeps the
   * generation order within a row, which is the same on every rank. */
  const size_t nr = (size_t)n_pre + 1, nz = c.n ? c.n : 1;
  uint64_t *fill = NULL;
  bs_status st = bs_calloc(ctx, nr, sizeof(uint64_t), &fill);
  if (st == BS_OK && c.n <= UINT32_MAX)
    st = bs_malloc(ctx, nr, sizeof(uint32_t), &lj->row32);
  else if (st == BS_OK)
    st = bs_malloc(ctx, nr, sizeof(uint64_t), &lj->row64);
  if (st == BS_OK)
    st = bs_malloc(ctx, nz, sizeof(uint32_t), &lj->col);
  if (st == BS_OK)
    bs_mem_hot(lj->col, nz * sizeof(uint32_t));
  if (st == BS_OK && w_var)
    st = bs_malloc(ctx, nz, sizeof(float), &lj->w);
  if (st == BS_OK && w_var)
    bs_mem_hot(lj->w, nz * sizeof(float));
  if (st != BS_OK) {
    bs_free(ctx, nr, sizeof(uint64_t), &fill);
    coo_free(&c);
    return st;
  }
  for (size_t q = 0; q < c.n; q++)
    fill[c.pre[q] + 1]++;
  for (uint64_t i = 0; i < n_pre; i++)
    fill[i + 1] += fill[i];
  for (uint64_t i = 0; i <= n_pre; i++) {
    if (lj->row32)
      lj->row32[i] = (uint32_t)fill[i];
    else
      lj->row64[i] = fill[i];
  }
  /* Drawn delays go into the key array (no longer needed once drawn) so
   * that their width can follow the largest. */
  uint32_t dmin = UINT32_MAX, dmax = 0;
  if (!w_var && !d_var) { /* targets only: a loop without the cases */
    uint64_t *restrict f = fill;
    uint32_t *restrict col = lj->col;
    const uint32_t *restrict pre = c.pre, *restrict post = c.post;
    for (size_t q = 0; q < c.n; q++)
      col[f[pre[q]]++] = post[q];
  }
  for (size_t q = 0; (w_var || d_var) && q < c.n && st == BS_OK; q++) {
    uint64_t at = fill[c.pre[q]]++;
    lj->col[at] = c.post[q];
    if (w_file)
      lj->w[at] = (float)fe->w[q];
    else if (js->ij_w)
      lj->w[at] = (float)js->ij_w[c.key[q]];
    else if (js->g_file)
      lj->w[at] = 0.0f; /* bs_engine_gmax_file below */
    else if (w_var)
      lj->w[at] = draw_weight(s, j, c.key[q]);
    if (d_var) {
      double dd;
      if (d_file) /* ms rounded as the config rounds, or whole steps */
        dd = (fe->delay_ms ? fe->delay[q] * (1.0 / s->dt) : fe->delay[q]) +
             js->delay_shift;
      else if (js->ij_d)
        dd = js->ij_d[c.key[q]];
      else {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_DELAY, (uint32_t)j, (uint32_t)c.key[q],
                    (uint32_t)(c.key[q] >> 32));
        dd = bs_dist_sample(&js->delay, &r);
      }
      uint32_t d = 0;
      st = check_delay(ctx, js, dd, lproj_id(lj, c.pre[q]),
                       (int64_t)(c.post[q] + lj->post->lo), &d);
      c.key[q] = d;
      dmin = d < dmin ? d : dmin;
      dmax = d > dmax ? d : dmax;
    }
  }
  if (st == BS_OK && d_var) {
    lj->dl_bytes = dmax <= UINT8_MAX ? 1 : dmax <= UINT16_MAX ? 2 : 4;
    st = bs_malloc(ctx, nz, (size_t)lj->dl_bytes, &lj->dl);
    for (uint64_t i = 0; st == BS_OK && i < n_pre; i++)
      fill[i] = lproj_row_off(lj, i);
    for (size_t q = 0; q < c.n && st == BS_OK; q++) {
      uint64_t at = fill[c.pre[q]]++;
      if (lj->dl_bytes == 1)
        ((uint8_t *)lj->dl)[at] = (uint8_t)c.key[q];
      else if (lj->dl_bytes == 2)
        ((uint16_t *)lj->dl)[at] = (uint16_t)c.key[q];
      else
        ((uint32_t *)lj->dl)[at] = (uint32_t)c.key[q];
    }
    lj->dmin = dmin;
    lj->dmax = dmax;
  }
  bs_free(ctx, nr, sizeof(uint64_t), &fill);
  coo_free(&c);
  if (fe)
    bs_edges_free(ctx, fe);
  if (st == BS_OK && lj->pid)
    st = compress_table(ctx, lj);
  if (st == BS_OK && js->g_file && !w_file)
    st = bs_engine_gmax_file(ctx, lj);
  lj->syn_bytes =
      (lj->ct ? bs_ctab_size(lj->ct) : (uint64_t)nr * (lj->row32 ? 4 : 8)) +
      (uint64_t)c.n * (4 + (w_var ? 4 : 0) + (uint64_t)lj->dl_bytes);
  return st;
}

bs_conn_args bs_conn_args_of(const bs_spec *s, int j, uint64_t post_lo,
                             uint64_t post_hi) {
  const bs_proj_spec *js = &s->projs[j];
  return (bs_conn_args){.n_pre = s->pops[js->pre].size,
                        .n_post = s->pops[js->post].size,
                        .post_lo = post_lo,
                        .post_hi = post_hi,
                        .same_pop = js->pre == js->post,
                        .seed = s->seed,
                        .proj_id = (uint32_t)j,
                        .p = js->cp,
                        .i = js->ci,
                        .j = js->cj,
                        .n_ij = js->n_ij};
}

bs_status bs_conn_build(bs_ctx *ctx, bs_net *net, int j, lproj *lj) {
  const bs_spec *s = net->spec;
  const bs_proj_spec *js = lj->spec;
  lj->w0 = js->g_max.a;
  lj->d0 = (uint32_t)js->delay.a;
  lj->dmin = lj->dmax = lj->d0;
  bs_conn_args a = bs_conn_args_of(s, j, lj->post->lo, lj->post->hi);
  bs_phase_begin(ctx, BS_PHASE_CONNECT);
  /* From a file: the rows io/ read for the local targets. */
  bs_edges *fe =
      net->file_edges && net->file_edges[j].pre ? &net->file_edges[j] : NULL;
  bs_status st = BS_OK;
  if (js->dense && (fe || js->ij_w || js->ij_d || js->g_file))
    st = bs_error_set(ctx, BS_ERR_CONFIG,
                      "projection '%s': comp_method dense takes no per-pair "
                      "weights or delays (from a file, a g_max dataset or "
                      "IJ lists); use comp_method: sparse",
                      js->name);
  else
    st = js->dense ? build_dense(ctx, s, j, lj, &a)
                   : build_sparse(ctx, s, j, lj, &a, fe);
  /* Per pre neuron (axonal) delays of the table's pre neurons, keyed by
   * the pre index. Every pre neuron is in some rank's table (its own
   * block), so the global min and max are those of all pre neurons. */
  const uint64_t npos = lj->npos;
  if (st == BS_OK && js->delay_per_pre) {
    st = bs_malloc(ctx, npos ? npos : 1, sizeof(uint32_t), &lj->dpre);
    lj->dmin = UINT32_MAX;
    lj->dmax = 0;
    for (uint64_t k = 0; k < npos && st == BS_OK; k++) {
      const uint64_t i = lproj_id(lj, k);
      double d = js->delay.a;
      if (js->delay_list) {
        d = js->delay_list[i];
      } else if (!bs_dist_is_const(&js->delay)) {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_DELAY_PRE, (uint32_t)j, (uint32_t)i,
                    (uint32_t)(i >> 32));
        d = bs_dist_sample(&js->delay, &r);
      }
      st = check_delay(ctx, js, d, i, -1, &lj->dpre[k]);
      lj->dmin = lj->dpre[k] < lj->dmin ? lj->dpre[k] : lj->dmin;
      lj->dmax = lj->dpre[k] > lj->dmax ? lj->dpre[k] : lj->dmax;
    }
    lj->syn_bytes += npos * sizeof(uint32_t);
  }
  bs_phase_end(ctx, BS_PHASE_CONNECT);
  return st;
}

void bs_conn_free(bs_ctx *ctx, lproj *lj) {
  const size_t nnz = lj->nnz ? lj->nnz : 1, n = lj->post->n ? lj->post->n : 1;
  const size_t npre = lj->npos ? lj->npos : 1;
  bs_free(ctx, npre, sizeof(uint32_t), &lj->pid);
  bs_ctab_free(ctx, &lj->ct);
  bs_free(ctx, lj->npos + 1, sizeof(uint32_t), &lj->row32);
  bs_free(ctx, lj->npos + 1, sizeof(uint64_t), &lj->row64);
  bs_free(ctx, nnz, sizeof(uint32_t), &lj->col);
  bs_free(ctx, nnz, sizeof(uint16_t), &lj->col16);
  bs_free(ctx, nnz, sizeof(float), &lj->w);
  bs_free(ctx, nnz, (size_t)(lj->dl_bytes ? lj->dl_bytes : 1), &lj->dl);
  bs_free(ctx, npre, sizeof(uint32_t), &lj->dpre);
  const size_t nm = (size_t)(lj->npos * lj->mask_words);
  bs_free(ctx, nm ? nm : 1, sizeof(uint64_t), &lj->mask);
  const size_t nw = (size_t)(lj->npos * lj->post->n);
  bs_free(ctx, nw ? nw : 1, sizeof(float), &lj->wd);
  bs_free(ctx, lj->nscol, sizeof(uint32_t), &lj->scol);
  bs_free(ctx, n, sizeof(float), &lj->sw);
}

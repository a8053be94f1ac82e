/* Local connectivity storage (DESIGN.md "Performance model"): synapses
 * live on the rank of their post neuron, either as a CSR over the pre
 * neurons that have a local target (sparse; sorted source ids, a binary
 * search per spike) or as one bit per (pre, local post) pair (dense), with
 * weights and delays stored only where they vary. Everything else reads a
 * row through lproj_row, the one iterator over both storages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/rng.h"
#include "engine_impl.h"

/* Position of pre neuron i among the sources with a local target
 * (binary search), or nsrc when it has none. */
static inline uint64_t src_pos(const lproj *lj, uint64_t i) {
  uint64_t lo = 0, hi = lj->nsrc;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (lj->src[mid] < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < lj->nsrc && lj->src[lo] == i ? lo : lj->nsrc;
}

void lproj_row(const lproj *lj, uint64_t i, lrow *r) {
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
        lj->scol[n] = jl;
        if (wr)
          lj->sw[n] = wr[jl];
        n++;
      }
    r->n = n;
    r->col = lj->scol;
    r->w = wr ? lj->sw : NULL;
    r->dl = NULL; /* dense keeps no per-synapse delays */
    r->dl_bytes = 0;
    return;
  }
  const uint64_t k = src_pos(lj, i);
  const uint64_t b = k < lj->nsrc ? lj->row32[k] : 0;
  r->n = k < lj->nsrc ? lj->row32[k + 1] - b : 0;
  r->col = lj->col + b;
  r->w = lj->w ? lj->w + b : NULL;
  r->dl_bytes = lj->dl_bytes;
  r->dl = lj->dl ? (const char *)lj->dl + b * (uint64_t)lj->dl_bytes : NULL;
}

typedef struct coo {
  bs_ctx *ctx;
  uint64_t post_lo;
  uint32_t *pre; /* population sizes are below 2^32 */
  uint64_t *key;
  uint32_t *post;
  size_t n, cap;
  int failed;
} coo;

static int coo_emit(void *sink, uint64_t pre, uint64_t post, uint64_t key) {
  coo *c = sink;
  if (c->n == c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 1024;
    if (bs_realloc(c->ctx, c->cap, nc, sizeof(uint32_t), &c->pre) ||
        bs_realloc(c->ctx, c->cap, nc, sizeof(uint64_t), &c->key) ||
        bs_realloc(c->ctx, c->cap, nc, sizeof(uint32_t), &c->post)) {
      c->failed = 1;
      return 1;
    }
    c->cap = nc;
  }
  c->pre[c->n] = (uint32_t)pre;
  c->post[c->n] = (uint32_t)(post - c->post_lo);
  c->key[c->n] = key;
  c->n++;
  return 0;
}

static void coo_free(coo *c) {
  bs_free(c->ctx, c->cap, sizeof(uint32_t), &c->pre);
  bs_free(c->ctx, c->cap, sizeof(uint64_t), &c->key);
  bs_free(c->ctx, c->cap, sizeof(uint32_t), &c->post);
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

/* Dense storage is filled straight from the connector: no list. */
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
  uint64_t *word = &lj->mask[pre * lj->mask_words + jl / 64];
  const uint64_t bit = (uint64_t)1 << (jl % 64);
  if (*word & bit) { /* a multapse: one matrix entry cannot hold two */
    d->dup = 1;
    d->dup_pre = pre;
    d->dup_post = post;
    return 1;
  }
  *word |= bit;
  if (lj->wd)
    lj->wd[pre * lj->post->n + jl] = draw_weight(d->s, d->j, key);
  lj->nnz++;
  return 0;
}

static bs_status build_dense(bs_ctx *ctx, const bs_spec *s, int j, lproj *lj,
                             const bs_conn_args *a) {
  const bs_proj_spec *js = lj->spec;
  const uint64_t n_pre = lj->pre->spec->size, npost = lj->post->n;
  lj->dense = 1;
  lj->mask_words = (npost + 63) / 64;
  const size_t nm = (size_t)(n_pre * lj->mask_words);
  BS_CALL(ctx, bs_calloc(ctx, nm ? nm : 1, sizeof(uint64_t), &lj->mask));
  lj->syn_bytes = (uint64_t)nm * sizeof(uint64_t);
  if (!bs_dist_is_const(&js->g_max)) {
    const size_t nw = (size_t)(n_pre * npost);
    BS_CALL(ctx, bs_calloc(ctx, nw ? nw : 1, sizeof(float), &lj->wd));
    lj->syn_bytes += (uint64_t)nw * sizeof(float);
  }
  /* One decoded row (lproj_row): not connectivity, so not in syn_bytes. */
  BS_CALL(ctx, bs_malloc(ctx, npost ? npost : 1, sizeof(uint32_t), &lj->scol));
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

/* Stable LSD radix sort of (pre << 32 | position) by pre, one pass per
 * byte of the largest pre index: O(synapses), no per-pre array (a
 * counting sort would need one over the whole pre population). *ord may
 * be swapped with the scratch buffer. */
static bs_status sort_by_pre(bs_ctx *ctx, uint64_t **ord, size_t n,
                             uint32_t maxpre) {
  if (n < 2 || maxpre == 0)
    return BS_OK;
  uint64_t *a = *ord, *b = NULL;
  BS_CALL(ctx, bs_malloc(ctx, n, sizeof(uint64_t), &b));
  for (int shift = 32; shift < 64 && (maxpre >> (shift - 32)); shift += 8) {
    size_t cnt[257] = {0};
    for (size_t q = 0; q < n; q++)
      cnt[((a[q] >> shift) & 255) + 1]++;
    for (int k = 0; k < 256; k++)
      cnt[k + 1] += cnt[k];
    for (size_t q = 0; q < n; q++)
      b[cnt[(a[q] >> shift) & 255]++] = a[q];
    uint64_t *t = a;
    a = b;
    b = t;
  }
  *ord = a;
  bs_free(ctx, n, sizeof(uint64_t), &b);
  return BS_OK;
}

static bs_status build_sparse(bs_ctx *ctx, const bs_spec *s, int j, lproj *lj,
                              const bs_conn_args *a, bs_edges *fe) {
  const bs_proj_spec *js = lj->spec;
  coo c = {.ctx = ctx, .post_lo = lj->post->lo};
  /* Room for the expected count (+ 4 standard deviations) up front: no
   * copies while growing in the common case. */
  const double ex =
      js->conn->expected(js->cp, a->n_pre, a->n_post, a->same_pop, js->n_ij) *
      ((double)(a->post_hi - a->post_lo) / (double)a->n_post);
  const size_t cap0 = (size_t)(ex + 4.0 * sqrt(ex) + 1024.0);
  if (bs_malloc(ctx, cap0, sizeof(uint32_t), &c.pre) == BS_OK &&
      bs_malloc(ctx, cap0, sizeof(uint64_t), &c.key) == BS_OK &&
      bs_malloc(ctx, cap0, sizeof(uint32_t), &c.post) == BS_OK)
    c.cap = cap0;
  else { /* the estimate was refused: grow from nothing */
    bs_error_clear(ctx);
    bs_free(ctx, cap0, sizeof(uint32_t), &c.pre);
    bs_free(ctx, cap0, sizeof(uint64_t), &c.key);
    bs_free(ctx, cap0, sizeof(uint32_t), &c.post);
  }
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

  /* CSR over the sources that have a local target only (DESIGN.md: no
   * per-source arrays over a whole pre population): sorting (pre, position
   * in the list) keeps the generation order within a row, which is the
   * same on every rank. */
  /* Per-synapse values from a file's columns, IJ's lists or a g_max
   * dataset take the place of the projection's g_max and delay. */
  const int w_file = fe && fe->w, d_file = fe && fe->delay;
  const int w_var =
      !bs_dist_is_const(&js->g_max) || w_file || js->ij_w || js->g_file;
  const int d_var = (!bs_dist_is_const(&js->delay) && !js->delay_per_pre) ||
                    d_file || js->ij_d;
  const size_t nz = c.n ? c.n : 1;
  if (c.n > UINT32_MAX) {
    coo_free(&c);
    return bs_error_set(ctx, BS_ERR_LIMIT,
                        "projection '%s': %zu synapses on rank %d; at most "
                        "2^32 - 1 per projection and rank",
                        js->name, c.n, ctx->rank);
  }
  uint64_t *ord = NULL;
  bs_status st = bs_malloc(ctx, nz, sizeof(uint64_t), &ord);
  uint32_t maxpre = 0;
  for (size_t q = 0; st == BS_OK && q < c.n; q++) {
    ord[q] = (uint64_t)c.pre[q] << 32 | q;
    maxpre = c.pre[q] > maxpre ? c.pre[q] : maxpre;
  }
  if (st == BS_OK)
    st = sort_by_pre(ctx, &ord, c.n, maxpre);
  uint64_t nsrc = 0;
  for (size_t q = 0; st == BS_OK && q < c.n; q++)
    nsrc += q == 0 || ord[q] >> 32 != ord[q - 1] >> 32;
  lj->nsrc = nsrc;
  const size_t nr = (size_t)nsrc + 1;
  if (st == BS_OK)
    st = bs_malloc(ctx, nsrc ? nsrc : 1, sizeof(uint32_t), &lj->src);
  if (st == BS_OK) /* c.n < 2^32 (above) */
    st = bs_malloc(ctx, nr, sizeof(uint32_t), &lj->row32);
  if (st == BS_OK)
    st = bs_malloc(ctx, nz, sizeof(uint32_t), &lj->col);
  if (st == BS_OK && w_var)
    st = bs_malloc(ctx, nz, sizeof(float), &lj->w);
  if (st != BS_OK) {
    bs_free(ctx, nz, sizeof(uint64_t), &ord);
    coo_free(&c);
    return st;
  }
  /* Drawn delays go into the key array (no longer needed once drawn) so
   * that their width can follow the largest. */
  uint32_t dmin = UINT32_MAX, dmax = 0;
  uint64_t k = 0;
  for (size_t at = 0; at < c.n && st == BS_OK; at++) {
    const size_t q = (size_t)(ord[at] & 0xffffffffu);
    if (at == 0 || ord[at] >> 32 != ord[at - 1] >> 32) {
      lj->src[k] = c.pre[q];
      lj->row32[k++] = (uint32_t)at;
    }
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
        dd = fe->delay_ms ? fe->delay[q] * (1.0 / s->dt) : fe->delay[q];
      else if (js->ij_d)
        dd = js->ij_d[c.key[q]];
      else {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_DELAY, (uint32_t)j, (uint32_t)c.key[q],
                    (uint32_t)(c.key[q] >> 32));
        dd = bs_dist_sample(&js->delay, &r);
      }
      uint32_t d = 0;
      st = check_delay(ctx, js, dd, c.pre[q],
                       (int64_t)(c.post[q] + lj->post->lo), &d);
      c.key[q] = d;
      dmin = d < dmin ? d : dmin;
      dmax = d > dmax ? d : dmax;
    }
  }
  lj->row32[nsrc] = (uint32_t)c.n;
  if (st == BS_OK && d_var) {
    lj->dl_bytes = dmax <= UINT8_MAX ? 1 : dmax <= UINT16_MAX ? 2 : 4;
    st = bs_malloc(ctx, nz, (size_t)lj->dl_bytes, &lj->dl);
    for (size_t at = 0; at < c.n && st == BS_OK; at++) {
      const uint64_t d = c.key[ord[at] & 0xffffffffu];
      if (lj->dl_bytes == 1)
        ((uint8_t *)lj->dl)[at] = (uint8_t)d;
      else if (lj->dl_bytes == 2)
        ((uint16_t *)lj->dl)[at] = (uint16_t)d;
      else
        ((uint32_t *)lj->dl)[at] = (uint32_t)d;
    }
    lj->dmin = dmin;
    lj->dmax = dmax;
  }
  bs_free(ctx, nz, sizeof(uint64_t), &ord);
  coo_free(&c);
  if (fe)
    bs_edges_free(ctx, fe);
  if (st == BS_OK && js->g_file && !w_file)
    st = bs_engine_gmax_file(ctx, lj);
  lj->syn_bytes =
      (uint64_t)nr * 4 + nsrc * 4 +
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
  const uint64_t n_pre = lj->pre->spec->size;
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
  /* Per pre neuron (axonal) delays, for the whole pre population on every
   * rank, keyed by the pre index. */
  if (st == BS_OK && js->delay_per_pre) {
    st = bs_malloc(ctx, n_pre ? n_pre : 1, sizeof(uint32_t), &lj->dpre);
    lj->dmin = UINT32_MAX;
    lj->dmax = 0;
    for (uint64_t i = 0; i < n_pre && st == BS_OK; i++) {
      double d = js->delay.a;
      if (js->delay_list) {
        d = js->delay_list[i];
      } else if (!bs_dist_is_const(&js->delay)) {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_DELAY_PRE, (uint32_t)j, (uint32_t)i,
                    (uint32_t)(i >> 32));
        d = bs_dist_sample(&js->delay, &r);
      }
      st = check_delay(ctx, js, d, i, -1, &lj->dpre[i]);
      lj->dmin = lj->dpre[i] < lj->dmin ? lj->dpre[i] : lj->dmin;
      lj->dmax = lj->dpre[i] > lj->dmax ? lj->dpre[i] : lj->dmax;
    }
    lj->syn_bytes += n_pre * sizeof(uint32_t);
  }
  bs_phase_end(ctx, BS_PHASE_CONNECT);
  return st;
}

void bs_conn_free(bs_ctx *ctx, lproj *lj) {
  const size_t nnz = lj->nnz ? lj->nnz : 1, n = lj->post->n ? lj->post->n : 1;
  const size_t npre = lj->pre->spec->size ? lj->pre->spec->size : 1;
  bs_free(ctx, lj->nsrc + 1, sizeof(uint32_t), &lj->row32);
  bs_free(ctx, lj->nsrc ? lj->nsrc : 1, sizeof(uint32_t), &lj->src);
  bs_free(ctx, nnz, sizeof(uint32_t), &lj->col);
  bs_free(ctx, nnz, sizeof(float), &lj->w);
  bs_free(ctx, nnz, (size_t)(lj->dl_bytes ? lj->dl_bytes : 1), &lj->dl);
  bs_free(ctx, npre, sizeof(uint32_t), &lj->dpre);
  const size_t nm = (size_t)(lj->pre->spec->size * lj->mask_words);
  bs_free(ctx, nm ? nm : 1, sizeof(uint64_t), &lj->mask);
  const size_t nw = (size_t)(lj->pre->spec->size * lj->post->n);
  bs_free(ctx, nw ? nw : 1, sizeof(float), &lj->wd);
  bs_free(ctx, n, sizeof(uint32_t), &lj->scol);
  bs_free(ctx, n, sizeof(float), &lj->sw);
}

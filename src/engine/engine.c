/* The distributed step loop (DESIGN.md, "Data flow of one run").
 *
 * Each population is split into contiguous blocks over the ranks. Synapses
 * live on the rank of their target, in a CSR indexed by the pre-synaptic
 * neuron. Linear synapses keep one trace per post neuron, fed by a ring
 * buffer of (max delay + 1) slots. Time advances in intervals of D = 1 +
 * (smallest delay) steps; after each interval all spikes are exchanged in
 * one collective, sorted by (step, source gid) and pushed into the ring
 * buffers, so every sum happens in the same order on every rank count. */
#define _POSIX_C_SOURCE 200809L
#include "brainsim/engine.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"
#include "brainsim/rng.h"
#include "engine_impl.h"

#define MAX_INTERVAL 100         /* steps per exchange without projections */
#define MON_BUF_BYTES (4u << 20) /* report buffer per monitor (libsonata's) */
#define SPIKE_FLUSH 1000000      /* buffered output spikes before a flush */
#define KERNEL_BLOCK 512         /* post neurons per synapse/output block */

/* ---- helpers ---------------------------------------------------------- */

uint64_t bs_engine_block_lo(uint64_t n, int r, int P) {
  return n * (uint64_t)r / (uint64_t)P;
}

static bs_status alloc_state(bs_ctx *ctx, int nx, size_t n, double ***x) {
  BS_CALL(ctx, bs_calloc(ctx, (size_t)(nx ? nx : 1), sizeof(double *), x));
  for (int v = 0; v < nx; v++)
    BS_CALL(ctx, bs_calloc(ctx, n ? n : 1, sizeof(double), &(*x)[v]));
  return BS_OK;
}

/* ---- populations ------------------------------------------------------ */

/* Initial state (also BrainPy's reset() between trials): one stream per
 * (gid, variable, trial), independent of ranks; trial 0 is a plain run. */
static void init_pop_state(const bs_spec *s, lpop *lp, uint32_t trial) {
  const bs_pop_spec *ps = lp->spec;
  const bs_neuron_model *m = ps->model;
  for (int v = 0; v < m->nx; v++) {
    const bs_dist *d = &ps->init[v];
    for (uint64_t i = 0; i < lp->n; i++) {
      uint64_t gid = ps->gid0 + lp->lo + i;
      if (d->kind == BS_DIST_CONST) {
        lp->x[v][i] = d->a;
      } else {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_INIT, (uint32_t)gid, (uint32_t)v,
                    trial);
        lp->x[v][i] = bs_dist_sample(d, &r);
      }
    }
  }
  if (m->init) /* state derived from the initial V (gates at steady state) */
    m->init(&(bs_neuron_args){.n = lp->n,
                              .dt = s->dt,
                              .p = ps->p,
                              .k = lp->k,
                              .x = lp->x,
                              .model = m});
}

static bs_status build_pop(bs_ctx *ctx, const bs_spec *s, int p, lpop *lp) {
  const bs_pop_spec *ps = &s->pops[p];
  const bs_neuron_model *m = ps->model;
  lp->spec = ps;
  lp->lo = bs_engine_block_lo(ps->size, ctx->rank, ctx->size);
  lp->hi = bs_engine_block_lo(ps->size, ctx->rank + 1, ctx->size);
  lp->n = lp->hi - lp->lo;
  BS_CALL(ctx, alloc_state(ctx, m->nx, lp->n, &lp->x));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->I));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->I_ext));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->G));
  BS_CALL(ctx, bs_malloc(ctx, lp->n ? lp->n : 1, sizeof(uint32_t), &lp->spk));
  if (m->prepare)
    m->prepare(ps->p, s->dt, lp->k);
  init_pop_state(s, lp, 0);
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    if (in->pop != p)
      continue;
    uint64_t a = in->start > lp->lo ? in->start : lp->lo;
    uint64_t b = in->stop < lp->hi ? in->stop : lp->hi;
    for (uint64_t i = a; i < b; i++)
      lp->I_ext[i - lp->lo] += in->current;
  }
  return BS_OK;
}

/* ---- projections ------------------------------------------------------ */

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

static void stp_reset(lproj *lj) {
  for (uint64_t i = 0; i < lj->pre->spec->size; i++) {
    bs_stp_rest(&lj->stp_u[i], &lj->stp_x[i]);
    lj->stp_last[i] = 0;
  }
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

static bs_status build_sparse(bs_ctx *ctx, const bs_spec *s, int j, lproj *lj,
                              const bs_conn_args *a, bs_edges *fe) {
  const bs_proj_spec *js = lj->spec;
  const uint64_t n_pre = lj->pre->spec->size;
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

  /* CSR by pre-synaptic index; a stable counting sort keeps the
   * generation order within a row, which is the same on every rank. */
  /* Per-synapse values from a file's columns, IJ's lists or a g_max
   * dataset take the place of the projection's g_max and delay. */
  const int w_file = fe && fe->w, d_file = fe && fe->delay;
  const int w_var =
      !bs_dist_is_const(&js->g_max) || w_file || js->ij_w || js->g_file;
  const int d_var = (!bs_dist_is_const(&js->delay) && !js->delay_per_pre) ||
                    d_file || js->ij_d;
  const size_t nr = (size_t)n_pre + 1, nz = c.n ? c.n : 1;
  uint64_t *fill = NULL;
  bs_status st = bs_calloc(ctx, nr, sizeof(uint64_t), &fill);
  if (st == BS_OK && c.n <= UINT32_MAX)
    st = bs_malloc(ctx, nr, sizeof(uint32_t), &lj->row32);
  else if (st == BS_OK)
    st = bs_malloc(ctx, nr, sizeof(uint64_t), &lj->row64);
  if (st == BS_OK)
    st = bs_malloc(ctx, nz, sizeof(uint32_t), &lj->col);
  if (st == BS_OK && w_var)
    st = bs_malloc(ctx, nz, sizeof(float), &lj->w);
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
  for (size_t q = 0; q < c.n && st == BS_OK; q++) {
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
  if (st == BS_OK && d_var) {
    lj->dl_bytes = dmax <= UINT8_MAX ? 1 : dmax <= UINT16_MAX ? 2 : 4;
    st = bs_malloc(ctx, nz, (size_t)lj->dl_bytes, &lj->dl);
    for (uint64_t i = 0; st == BS_OK && i < n_pre; i++)
      fill[i] = lproj_row(lj, i);
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
  if (st == BS_OK && js->g_file && !w_file)
    st = bs_engine_gmax_file(ctx, lj);
  lj->syn_bytes =
      (uint64_t)nr * (lj->row32 ? 4 : 8) +
      (uint64_t)c.n * (4 + (w_var ? 4 : 0) + (uint64_t)lj->dl_bytes);
  return st;
}

static bs_status build_proj(bs_ctx *ctx, const bs_spec *s, int j, bs_net *net,
                            lproj *lj) {
  const bs_proj_spec *js = &s->projs[j];
  lj->spec = js;
  lj->pre = &net->pops[js->pre];
  lj->post = &net->pops[js->post];
  const uint64_t n_pre = lj->pre->spec->size;
  const uint64_t npost = lj->post->n;
  js->syn->prepare(js->sp, s->dt, lj->k);
  BS_CALL(ctx, alloc_state(ctx, js->syn->nx, npost, &lj->x));
  if (js->syn->gap) { /* built by gap.c; no spikes, so no delays */
    lj->dmin = UINT32_MAX;
    return BS_OK;
  }
  if (js->stp) {
    const size_t m = n_pre ? n_pre : 1;
    BS_CALL(ctx, bs_malloc(ctx, m, sizeof(double), &lj->stp_u));
    BS_CALL(ctx, bs_malloc(ctx, m, sizeof(double), &lj->stp_x));
    BS_CALL(ctx, bs_malloc(ctx, m, sizeof(int64_t), &lj->stp_last));
    stp_reset(lj);
  }
  /* The output's E per post neuron, keyed by the post index. */
  if (js->E_per_post) {
    BS_CALL(ctx,
            bs_malloc(ctx, npost ? npost : 1, sizeof(double), &lj->E_post));
    for (uint64_t i = 0; i < npost; i++) {
      const uint64_t k = lj->post->lo + i;
      bs_rng r;
      bs_rng_init(&r, s->seed, BS_RNG_OUT_E, (uint32_t)j, (uint32_t)k,
                  (uint32_t)(k >> 32));
      lj->E_post[i] =
          js->E_list ? js->E_list[k] : bs_dist_sample(&js->E_init, &r);
    }
  }
  lj->ref_var = -1;
  if (js->post_ref) {
    const bs_pop_spec *ps = lj->post->spec;
    lj->ref_var = bs_var_index(ps->model->nx, ps->model->vars, "t_last_spike");
    const int ip = bs_param_index(ps->model->np, ps->model->params, "tau_ref");
    lj->ref_lim = ps->p[ip] + 1e-7 * s->dt; /* the neurons' own limit */
  }

  lj->w0 = js->g_max.a;
  lj->d0 = (uint32_t)js->delay.a;
  lj->dmin = lj->dmax = lj->d0;
  bs_conn_args a = {.n_pre = n_pre,
                    .n_post = lj->post->spec->size,
                    .post_lo = lj->post->lo,
                    .post_hi = lj->post->hi,
                    .same_pop = js->pre == js->post,
                    .seed = s->seed,
                    .proj_id = (uint32_t)j,
                    .p = js->cp,
                    .i = js->ci,
                    .j = js->cj,
                    .n_ij = js->n_ij};
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

/* ---- monitors --------------------------------------------------------- */

static bs_status build_monitor(bs_ctx *ctx, bs_net *net,
                               const bs_monitor_spec *ms, lmon *m) {
  const bs_spec *s = net->spec;
  m->spec = ms;
  if (ms->per_syn) /* chosen synapses: the ones whose post is local */
    BS_CALL(ctx, bs_synmon_build(ctx, net, m));
  /* Per-pre monitors: the columns are the pre neurons this rank owns,
   * sampled by trace.c at the exchange. */
  lpop *lp = ms->pop >= 0  ? &net->pops[ms->pop]
             : ms->per_pre ? net->projs[ms->proj].pre
                           : net->projs[ms->proj].post;
  m->src = ms->pop >= 0                 ? lp->x[ms->var]
           : ms->per_pre || ms->per_syn ? NULL
                                        : net->projs[ms->proj].x[ms->var];
  m->lo = lp->lo;
  if (!ms->per_syn) {
    m->c0 = bs_engine_lower_bound(ms->idx, ms->n_idx, lp->lo);
    m->c1 = bs_engine_lower_bound(ms->idx, ms->n_idx, lp->hi);
  }
  m->rows = (uint64_t)((s->n_steps + ms->every - 1) / ms->every);
  /* Rows per flush from the global column count, so every rank flushes at
   * the same steps and no rank's buffer exceeds MON_BUF_BYTES. */
  uint64_t F = MON_BUF_BYTES / (8 * ms->n_idx);
  if (F < 1)
    F = 1;
  if (F > m->rows)
    F = m->rows;
  m->F = F;
  /* Flushes happen after the interval's exchange (where all ranks agree
   * that none failed), so the buffer also holds one interval of samples. */
  m->cap = F + (uint64_t)(net->D + ms->every - 1) / (uint64_t)ms->every + 1;
  uint64_t ncol = m->c1 - m->c0;
  BS_CALL(ctx,
          bs_malloc(ctx, m->cap * (ncol ? ncol : 1), sizeof(double), &m->buf));
  return BS_OK;
}

/* ---- build ------------------------------------------------------------ */

bs_status bs_net_build(bs_ctx *ctx, const bs_spec *s, bs_net **out) {
  *out = NULL;
  bs_net *net;
  bs_phase_begin(ctx, BS_PHASE_BUILD);
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *net, &net));
  *out = net; /* so the caller can destroy a half-built network */
  net->spec = s;
  net->P = ctx->size;
  net->rank = ctx->rank;
  /* Synapses from files first: reading them is collective. */
  BS_CALL(ctx, bs_engine_files_load(ctx, net));
  BS_CALL(ctx,
          bs_calloc(ctx, (size_t)s->n_pops, sizeof *net->pops, &net->pops));
  BS_CALL(ctx, bs_calloc(ctx, (size_t)(s->n_projs ? s->n_projs : 1),
                         sizeof *net->projs, &net->projs));
  for (int p = 0; p < s->n_pops; p++)
    BS_CALL(ctx, build_pop(ctx, s, p, &net->pops[p]));
  for (int j = 0; j < s->n_projs; j++) {
    lpop *pre = &net->pops[s->projs[j].pre];
    if (s->projs[j].syn->gap) /* carries no spikes */
      continue;
    BS_CALL(ctx, bs_realloc(ctx, (size_t)pre->nout, (size_t)pre->nout + 1,
                            sizeof(int), &pre->out));
    pre->out[pre->nout++] = j;
  }
  bs_phase_end(ctx, BS_PHASE_BUILD);
  /* A rank that fails here (a bad value in its rows, memory) must not
   * leave the others in the reduction below. */
  bs_status bst = BS_OK;
  for (int j = 0; j < s->n_projs && bst == BS_OK; j++)
    bst = build_proj(ctx, s, j, net, &net->projs[j]);
  BS_CALL(ctx, bs_comm_agree(ctx, bst, NULL));
  bs_phase_begin(ctx, BS_PHASE_BUILD);

  /* The exchange interval and the ring-buffer depths need the global
   * smallest and largest delays (drawn delays differ per synapse). */
  double dd[2 * 64 + 2];
  int nj = s->n_projs;
  double *dmm = nj <= 64 ? dd : NULL;
  if (!dmm)
    BS_CALL(ctx, bs_malloc(ctx, 2 * (size_t)nj, sizeof(double), &dmm));
  for (int j = 0; j < nj; j++) {
    lproj *lj = &net->projs[j];
    /* max of (-dmin) is -(global min) */
    dmm[2 * j] = lj->dmin == UINT32_MAX ? -1e9 : -(double)lj->dmin;
    dmm[2 * j + 1] = (double)lj->dmax;
  }
  bs_status st = nj ? bs_comm_max_double(ctx, dmm, 2 * nj) : BS_OK;
  uint64_t dmin_all = MAX_INTERVAL;
  for (int j = 0; j < nj && st == BS_OK; j++) {
    lproj *lj = &net->projs[j];
    uint64_t gmin = dmm[2 * j] <= -1e9 ? UINT32_MAX : (uint64_t)(-dmm[2 * j]);
    lj->dmin = (uint32_t)gmin;
    lj->dmax = (uint32_t)dmm[2 * j + 1];
    if (gmin < dmin_all)
      dmin_all = gmin;
    lj->R = lj->dmax + 1;
    st = bs_calloc(ctx, (size_t)lj->R * (lj->post->n ? lj->post->n : 1),
                   sizeof(double), &lj->ring);
  }
  if (dmm != dd)
    free(dmm);
  BS_CALL(ctx, st);
  net->D =
      (uint32_t)(dmin_all + 1 < MAX_INTERVAL ? dmin_all + 1 : MAX_INTERVAL);
  /* Gap junctions read the other end's V of the previous step, so V is
   * exchanged every step; one-step intervals keep that in line with the
   * spike exchange (and its error flag). */
  BS_CALL(ctx, bs_gap_build(ctx, net, &net->gap));
  if (net->gap)
    net->D = 1;
  BS_CALL(ctx, bs_trace_build(ctx, net));

  /* Monitors and spike recording. A listed synapse that does not exist
   * fails only on its post's rank: all ranks agree before going on. */
  bs_status mst = BS_OK;
  for (int q = 0; q < s->n_monitors && mst == BS_OK; q++) {
    const bs_monitor_spec *ms = &s->monitors[q];
    if (ms->kind == BS_MON_SPIKES) {
      for (int p = 0; p < s->n_pops; p++)
        if (ms->pops[p])
          net->pops[p].record = 1;
      continue;
    }
    mst = bs_realloc(ctx, (size_t)net->nmons, (size_t)net->nmons + 1,
                     sizeof *net->mons, &net->mons);
    if (mst != BS_OK)
      break;
    memset(&net->mons[net->nmons], 0, sizeof *net->mons);
    net->nmons++;
    mst = build_monitor(ctx, net, ms, &net->mons[net->nmons - 1]);
  }
  BS_CALL(ctx, bs_comm_agree(ctx, mst, NULL));
  net->local_cap = 4096;
  BS_CALL(ctx,
          bs_malloc(ctx, net->local_cap, sizeof(uint64_t), &net->local_spk));
  BS_CALL(ctx, bs_exchange_create(ctx, 1024, &net->ex));
  bs_phase_end(ctx, BS_PHASE_BUILD);
  return BS_OK;
}

void bs_net_destroy(bs_ctx *ctx, bs_net **netp) {
  if (!netp || !*netp)
    return;
  bs_net *net = *netp;
  const bs_spec *s = net->spec;
  for (int p = 0; net->pops && p < s->n_pops; p++) {
    lpop *lp = &net->pops[p];
    size_t n = lp->n ? lp->n : 1;
    for (int v = 0; lp->x && v < lp->spec->model->nx; v++)
      bs_free(ctx, n, sizeof(double), &lp->x[v]);
    bs_free(ctx,
            (size_t)(lp->spec && lp->spec->model->nx ? lp->spec->model->nx : 1),
            sizeof(double *), &lp->x);
    bs_free(ctx, n, sizeof(double), &lp->I);
    bs_free(ctx, n, sizeof(double), &lp->I_ext);
    bs_free(ctx, n, sizeof(double), &lp->G);
    bs_free(ctx, n, sizeof(uint32_t), &lp->spk);
    bs_free(ctx, (size_t)lp->nout, sizeof(int), &lp->out);
    bs_free(ctx, lp->rec_cap, sizeof(double), &lp->rec_t);
    bs_free(ctx, lp->rec_cap, sizeof(uint64_t), &lp->rec_id);
  }
  bs_trace_destroy(ctx, net);
  for (int j = 0; net->projs && j < s->n_projs; j++) {
    lproj *lj = &net->projs[j];
    if (!lj->spec)
      continue;
    size_t n = lj->post->n ? lj->post->n : 1, nnz = lj->nnz ? lj->nnz : 1;
    for (int v = 0; lj->x && v < lj->spec->syn->nx; v++)
      bs_free(ctx, n, sizeof(double), &lj->x[v]);
    bs_free(ctx, (size_t)(lj->spec->syn->nx ? lj->spec->syn->nx : 1),
            sizeof(double *), &lj->x);
    const size_t npre = lj->pre->spec->size ? lj->pre->spec->size : 1;
    bs_free(ctx, npre + 1, sizeof(uint32_t), &lj->row32);
    bs_free(ctx, npre + 1, sizeof(uint64_t), &lj->row64);
    bs_free(ctx, nnz, sizeof(uint32_t), &lj->col);
    bs_free(ctx, nnz, sizeof(float), &lj->w);
    bs_free(ctx, nnz, (size_t)(lj->dl_bytes ? lj->dl_bytes : 1), &lj->dl);
    bs_free(ctx, npre, sizeof(uint32_t), &lj->dpre);
    const size_t nm = (size_t)(lj->pre->spec->size * lj->mask_words);
    bs_free(ctx, nm ? nm : 1, sizeof(uint64_t), &lj->mask);
    const size_t nw = (size_t)(lj->pre->spec->size * lj->post->n);
    bs_free(ctx, nw ? nw : 1, sizeof(float), &lj->wd);
    bs_free(ctx, n, sizeof(double), &lj->E_post);
    bs_free(ctx, (size_t)lj->R * n, sizeof(double), &lj->ring);
    const size_t m = lj->pre->spec->size ? lj->pre->spec->size : 1;
    bs_free(ctx, m, sizeof(double), &lj->stp_u);
    bs_free(ctx, m, sizeof(double), &lj->stp_x);
    bs_free(ctx, m, sizeof(int64_t), &lj->stp_last);
  }
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    bs_free(ctx, m->cap * ((m->c1 - m->c0) ? (m->c1 - m->c0) : 1),
            sizeof(double), &m->buf);
    bs_synmon_free(ctx, m);
    bs_io_report_close(ctx, &m->rep);
  }
  bs_free(ctx, (size_t)net->nmons, sizeof *net->mons, &net->mons);
  bs_free(ctx, (size_t)s->n_pops, sizeof *net->pops, &net->pops);
  bs_free(ctx, (size_t)(s->n_projs ? s->n_projs : 1), sizeof *net->projs,
          &net->projs);
  bs_free(ctx, net->local_cap, sizeof(uint64_t), &net->local_spk);
  bs_free(ctx, (size_t)s->n_pops, sizeof(uint64_t), &net->restored_spk_len);
  bs_free(ctx, (size_t)(net->nmons ? net->nmons : 1), sizeof(uint64_t),
          &net->restored_row0);
  bs_exchange_destroy(ctx, &net->ex);
  bs_gap_destroy(ctx, &net->gap);
  bs_engine_files_free(ctx, net);
  bs_free(ctx, 1, sizeof *net, netp);
}

int bs_net_exchange_interval(const bs_net *net) { return (int)net->D; }

static void est_add(bs_estimate *e, double bytes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void est_add(bs_estimate *e, double bytes, const char *fmt, ...) {
  e->bytes += bytes;
  if (bytes > e->item_bytes) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->item, sizeof e->item, fmt, ap);
    va_end(ap);
    e->item_bytes = bytes;
  }
}

/* Largest delay a distribution can give, in steps. */
static double delay_max(const bs_dist *d) {
  switch (d->kind) {
  case BS_DIST_UNIFORM:
    return floor(d->b + 0.5);
  case BS_DIST_NORMAL:
    return floor(d->a + 8.0 * d->b + 0.5);
  case BS_DIST_LOGNORMAL:
    return floor(exp(d->a + 8.0 * d->b) + 0.5);
  case BS_DIST_TRUNCNORMAL:
    return floor(fmin(d->d, d->a + 8.0 * d->b) + 0.5);
  default:
    return d->a;
  }
}

/* Steady-state bytes of one projection's connectivity on a rank with nl of
 * the post neurons (syn of its synapses): sparse CSR (rows, column, and
 * weight and delay where they vary) or the dense mask and weights; plus
 * the per-pre delays. In doubles, so no product overflows. */
static double proj_storage(const bs_proj_spec *pj, double n_pre, double nl,
                           double syn) {
  const int w_var = !bs_dist_is_const(&pj->g_max);
  const int d_var = !bs_dist_is_const(&pj->delay) && !pj->delay_per_pre;
  double bytes = pj->delay_per_pre ? 4.0 * n_pre : 0.0;
  if (pj->dense)
    return bytes + n_pre * (ceil(nl / 64.0) * 8.0 + (w_var ? 4.0 * nl : 0.0));
  const double dmax = delay_max(&pj->delay);
  const double dlb = !d_var          ? 0.0
                     : dmax <= 255   ? 1.0
                     : dmax <= 65535 ? 2.0
                                     : 4.0;
  return bytes + (n_pre + 1.0) * (syn <= 4294967295.0 ? 4.0 : 8.0) +
         syn * (4.0 + (w_var ? 4.0 : 0.0) + dlb);
}

void bs_net_proj_storage(const bs_spec *s, int j, double *syn, double *bytes) {
  const bs_proj_spec *pj = &s->projs[j];
  const bs_pop_spec *pre = &s->pops[pj->pre], *post = &s->pops[pj->post];
  *syn = pj->conn->expected(pj->cp, pre->size, post->size, pj->pre == pj->post,
                            pj->n_ij);
  *bytes = proj_storage(pj, (double)pre->size, (double)post->size, *syn);
}

void bs_net_estimate(const bs_spec *s, int rank, int size, bs_estimate *e) {
  memset(e, 0, sizeof *e);
  for (int p = 0; p < s->n_pops; p++) {
    const bs_pop_spec *ps = &s->pops[p];
    double n = (double)(bs_engine_block_lo(ps->size, rank + 1, size) -
                        bs_engine_block_lo(ps->size, rank, size));
    est_add(e, n * (8.0 * (ps->model->nx + 3) + 4.0),
            "population '%s' (%.3g neurons on this rank)", ps->name, n);
  }
  for (int j = 0; j < s->n_projs; j++) {
    const bs_proj_spec *pj = &s->projs[j];
    const bs_pop_spec *pre = &s->pops[pj->pre], *post = &s->pops[pj->post];
    double nl = (double)(bs_engine_block_lo(post->size, rank + 1, size) -
                         bs_engine_block_lo(post->size, rank, size));
    double syn = pj->conn->expected(pj->cp, pre->size, post->size,
                                    pj->pre == pj->post, pj->n_ij) *
                 (nl / (double)post->size);
    if (pj->syn->gap) { /* gap.c: both ends, 40 B each while sorting */
      double npre = (double)(bs_engine_block_lo(pre->size, rank + 1, size) -
                             bs_engine_block_lo(pre->size, rank, size));
      double ends = syn + pj->conn->expected(pj->cp, pre->size, post->size,
                                             pj->pre == pj->post, pj->n_ij) *
                              (npre / (double)pre->size);
      est_add(e, ends * 56.0,
              "projection '%s' (%.3g gap junction ends on this rank)", pj->name,
              ends);
      continue;
    }
    double npre = (double)pre->size;
    /* Sparse: during the build the generated list (16 B per synapse) and
     * a counting array (8 B per pre) coexist with the CSR. Dense is
     * filled directly. */
    double build = pj->dense ? 0.0 : syn * 16.0 + 8.0 * (npre + 1.0);
    double ring = (delay_max(&pj->delay) + 1.0) * nl * 8.0;
    double other = ring + 8.0 * pj->syn->nx * nl +
                   (pj->stp ? 24.0 * npre : 0.0) +
                   (pj->E_per_post ? 8.0 * nl : 0.0);
    /* Trace synapses: state and history of g per traced pre neuron. */
    if (pj->syn->trace)
      other +=
          (8.0 * (pj->syn->nx + delay_max(&pj->delay) + 2.0) + 16.0) * npre;
    if (pj->dense) {
      bs_proj_spec sp = *pj;
      sp.dense = 0;
      char sb[32];
      est_add(e, proj_storage(pj, npre, nl, syn) + other,
              "projection '%s' (comp_method dense: a %.3g x %.3g matrix on "
              "this rank, %s weights, where comp_method sparse would store "
              "%s; %.3g-slot ring buffer)",
              pj->name, npre, nl,
              bs_dist_is_const(&pj->g_max) ? "1-bit" : "1-bit + float",
              bs_fmt_bytes(proj_storage(&sp, npre, nl, syn), sb, sizeof sb),
              delay_max(&pj->delay) + 1.0);
    } else {
      est_add(e, proj_storage(pj, npre, nl, syn) + build + other,
              "projection '%s' (%.3g synapses on this rank, %.3g-slot ring "
              "buffer)",
              pj->name, syn, delay_max(&pj->delay) + 1.0);
    }
  }
  for (int q = 0; q < s->n_monitors; q++) {
    const bs_monitor_spec *m = &s->monitors[q];
    if (m->kind != BS_MON_STATE)
      continue;
    double rows = (double)((s->n_steps + m->every - 1) / m->every);
    double all = rows * (double)m->n_idx * 8.0;
    est_add(e, all < MON_BUF_BYTES * 2.0 ? all : MON_BUF_BYTES * 2.0,
            "monitor '%s' of %s", m->name,
            m->pop >= 0 ? s->pops[m->pop].name : s->projs[m->proj].name);
  }
  /* Spike exchange blocks: one per rank, 1026 words to start with. */
  est_add(e, (double)size * 1026.0 * 8.0 * 2.0, "spike exchange buffers");
}

bs_status bs_net_sizes_get(bs_ctx *ctx, const bs_net *net, bs_net_sizes *l,
                           uint64_t *syn_per_proj) {
  const bs_spec *s = net->spec;
  l->neurons = 0;
  l->synapses = 0;
  for (int p = 0; p < s->n_pops; p++)
    l->neurons += net->pops[p].n;
  for (int j = 0; j < s->n_projs; j++) {
    l->synapses += net->projs[j].nnz;
    syn_per_proj[j] = net->projs[j].nnz;
  }
  l->bytes = ctx->mem_peak;
  if (s->n_projs)
    BS_CALL(ctx, bs_comm_sum_u64(ctx, syn_per_proj, s->n_projs));
  return BS_OK;
}

bs_status bs_net_storage_get(bs_ctx *ctx, const bs_net *net, uint64_t *syn,
                             uint64_t *bytes) {
  const int nj = net->spec->n_projs;
  for (int j = 0; j < nj; j++) {
    syn[j] = net->projs[j].nnz;
    bytes[j] = net->projs[j].syn_bytes;
  }
  if (nj) {
    BS_CALL(ctx, bs_comm_sum_u64(ctx, syn, nj));
    BS_CALL(ctx, bs_comm_sum_u64(ctx, bytes, nj));
  }
  return BS_OK;
}

/* ---- the step loop ---------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static bs_status push_local(bs_ctx *ctx, bs_net *net, uint64_t key) {
  if (net->nlocal == net->local_cap) {
    BS_CALL(ctx, bs_realloc(ctx, net->local_cap, 2 * net->local_cap,
                            sizeof(uint64_t), &net->local_spk));
    net->local_cap *= 2;
  }
  net->local_spk[net->nlocal++] = key;
  return BS_OK;
}

static bs_status record_spike(bs_ctx *ctx, lpop *lp, double t, uint64_t id) {
  if (lp->rec_n == lp->rec_cap) {
    size_t nc = lp->rec_cap ? 2 * lp->rec_cap : 4096;
    BS_CALL(ctx, bs_realloc(ctx, lp->rec_cap, nc, sizeof(double), &lp->rec_t));
    BS_CALL(ctx,
            bs_realloc(ctx, lp->rec_cap, nc, sizeof(uint64_t), &lp->rec_id));
    lp->rec_cap = nc;
  }
  lp->rec_t[lp->rec_n] = t;
  lp->rec_id[lp->rec_n] = id;
  lp->rec_n++;
  return BS_OK;
}

/* Every rank holds the same sorted spike list; each writes an even share. */
static bs_status flush_spikes(bs_ctx *ctx, bs_net *net, bs_io *io) {
  for (int p = 0; p < net->spec->n_pops; p++) {
    lpop *lp = &net->pops[p];
    if (!lp->record)
      continue;
    uint64_t tot = lp->rec_n;
    uint64_t a = bs_engine_block_lo(tot, ctx->rank, ctx->size);
    uint64_t b = bs_engine_block_lo(tot, ctx->rank + 1, ctx->size);
    /* A population that has not spiked yet has no buffer: NULL + 0 is UB. */
    if (io)
      BS_CALL(ctx, bs_io_spikes_append(ctx, io, lp->io_handle, tot, a, b - a,
                                       lp->rec_t ? lp->rec_t + a : NULL,
                                       lp->rec_id ? lp->rec_id + a : NULL));
    lp->rec_n = 0;
  }
  return BS_OK;
}

static bs_status flush_monitor(bs_ctx *ctx, lmon *m) {
  if (m->rep && m->cols)
    BS_CALL(ctx, bs_io_report_write_cols(ctx, m->rep, m->row0, m->nbuf, m->cols,
                                         m->c1 - m->c0, m->buf));
  else if (m->rep)
    BS_CALL(ctx, bs_io_report_write(ctx, m->rep, m->row0, m->nbuf, m->c0,
                                    m->c1 - m->c0, m->buf));
  m->row0 += m->nbuf;
  m->nbuf = 0;
  return BS_OK;
}

static bs_status nonfinite(bs_ctx *ctx, const bs_net *net, const char *what,
                           const char *name, const char *var, uint64_t idx,
                           double v, int64_t t0, int64_t t1,
                           const char *method) {
  const double dt = net->spec->dt;
  return bs_error_set(
      ctx, BS_ERR_NUMERIC,
      "%s '%s', neuron %llu: %s became %g between t = %.4g and %.4g ms. "
      "The integration diverged: reduce dt (now %g ms)%s%s%s, or check the "
      "parameters and inputs.",
      what, name, (unsigned long long)idx, var, v, (double)t0 * dt,
      (double)t1 * dt, dt, method ? " or use another method (now " : "",
      method ? method : "", method ? ")" : "");
}

/* Scan every state array for NaN or infinity: one pass per interval. */
static bs_status check_finite(bs_ctx *ctx, const bs_net *net, int64_t t0,
                              int64_t t1) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++) {
    const lpop *lp = &net->pops[p];
    const bs_neuron_model *m = lp->spec->model;
    for (int v = 0; v < m->nx; v++) {
      const double *x = lp->x[v];
      double acc = 0.0;
      for (uint64_t i = 0; i < lp->n; i++)
        acc += x[i] * 0.0; /* NaN iff some x[i] is NaN or infinite */
      if (acc == acc)
        continue;
      for (uint64_t i = 0; i < lp->n; i++)
        if (!isfinite(x[i]))
          return nonfinite(ctx, net, "population", lp->spec->name,
                           m->vars[v].name, lp->lo + i, x[i], t0, t1,
                           bs_method_name(lp->spec->method));
    }
  }
  for (int j = 0; j < s->n_projs; j++) {
    const lproj *lj = &net->projs[j];
    for (int v = 0; v < lj->spec->syn->nx; v++) {
      const double *x = lj->x[v];
      double acc = 0.0;
      for (uint64_t i = 0; i < lj->post->n; i++)
        acc += x[i] * 0.0;
      if (acc == acc)
        continue;
      for (uint64_t i = 0; i < lj->post->n; i++)
        if (!isfinite(x[i]))
          return nonfinite(ctx, net, "projection", lj->spec->name,
                           lj->spec->syn->vars[v].name, lj->post->lo + i, x[i],
                           t0, t1, NULL);
    }
    /* Trace synapses: the state per pre neuron ("pre neuron" in the
     * message: the index is in the pre population). */
    const ltrace *tr = lj->tr;
    for (int v = 0; tr && v < lj->spec->syn->nx; v++) {
      const double *x = tr->x[v];
      double acc = 0.0;
      for (uint64_t k = 0; k < tr->n; k++)
        acc += x[k] * 0.0;
      if (acc == acc)
        continue;
      char what[64];
      for (uint64_t k = 0; k < tr->n; k++)
        if (!isfinite(x[k])) {
          snprintf(what, sizeof what, "projection (pre neuron of %s)",
                   lj->pre->spec->name);
          return nonfinite(ctx, net, what, lj->spec->name,
                           lj->spec->syn->vars[v].name, tr->pre[k], x[k], t0,
                           t1, NULL);
        }
    }
  }
  return BS_OK;
}

/* Intervals are D steps, cut short at trial ends so a reset never has
 * spikes of the previous trial in flight outside the ring buffers. */
int64_t bs_engine_interval_end(const bs_net *net, int64_t t0) {
  const bs_spec *s = net->spec;
  int64_t t1 = t0 + net->D;
  int64_t trial_end = (t0 / s->trial_steps + 1) * s->trial_steps;
  if (t1 > trial_end)
    t1 = trial_end;
  return t1 < s->n_steps ? t1 : s->n_steps;
}

int bs_engine_interval_start(const bs_net *net, int64_t step) {
  return (step % net->spec->trial_steps) % net->D == 0 ||
         step == net->spec->n_steps;
}

/* BrainPy's reset(): initial state again (new draws for the trial), no
 * synaptic state, nothing in flight. */
static void reset_trial(bs_net *net, uint32_t trial) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++)
    init_pop_state(s, &net->pops[p], trial);
  for (int j = 0; j < s->n_projs; j++) {
    lproj *lj = &net->projs[j];
    const size_t n = lj->post->n;
    for (int v = 0; v < lj->spec->syn->nx; v++)
      memset(lj->x[v], 0, n * sizeof(double));
    memset(lj->ring, 0, (size_t)lj->R * n * sizeof(double));
    if (lj->stp_u)
      stp_reset(lj);
  }
  bs_trace_reset(net);
}

bs_status bs_engine_flush_output(bs_ctx *ctx, bs_net *net, bs_io *io) {
  BS_CALL(ctx, flush_spikes(ctx, net, io));
  for (int q = 0; q < net->nmons; q++)
    if (net->mons[q].nbuf)
      BS_CALL(ctx, flush_monitor(ctx, &net->mons[q]));
  return BS_OK;
}

static int find_pop_of_gid(const bs_net *net, uint64_t gid) {
  const bs_spec *s = net->spec;
  int lo = 0, hi = s->n_pops - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (s->pops[mid].gid0 <= gid)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* Push one spike of step `step` from population p, neuron i (within the
 * population) into the ring buffers of its local targets: per projection,
 * posts in storage order (ascending for dense); every ring cell receives
 * its additions in canonical spike order, so sparse and dense storage of
 * the same synapses give the same sums. */
static void deliver(bs_net *net, lpop *lp, uint64_t i, int64_t step) {
  for (int o = 0; o < lp->nout; o++) {
    lproj *lj = &net->projs[lp->out[o]];
    /* Short-term plasticity advances at every spike of the pre neuron on
     * every rank, targets here or not, so the state is global (and a
     * checkpoint can take it from rank 0). */
    double eff = 1.0;
    if (lj->stp_u) {
      eff = bs_stp_spike(lj->spec->stp->kind, lj->spec->stpp, net->spec->dt,
                         step - lj->stp_last[i], &lj->stp_u[i], &lj->stp_x[i]);
      lj->stp_last[i] = step;
    }
    if (lj->tr) { /* read every step from the pre neuron's trace */
      bs_trace_spike(lj, i, eff);
      if (!lj->dense)
        net->syn_events += lproj_row(lj, i + 1) - lproj_row(lj, i);
      else
        for (uint64_t q = 0; q < lj->mask_words; q++)
          net->syn_events +=
              (uint64_t)__builtin_popcountll(lj->mask[i * lj->mask_words + q]);
      continue;
    }
    const size_t npost = lj->post->n;
    double *restrict ring = lj->ring;
    const uint32_t d = lj->dpre ? lj->dpre[i] : lj->d0;
    double *restrict slot =
        ring + (size_t)((uint64_t)(step + 1 + d) % lj->R) * npost;
    if (lj->dense) {
      const uint64_t *m = lj->mask + i * lj->mask_words;
      const float *wr = lj->wd ? lj->wd + i * npost : NULL;
      const double w = lj->w0 * eff;
      uint64_t cnt = 0;
      for (uint64_t k = 0; k < lj->mask_words; k++) {
        for (uint64_t bits = m[k]; bits; bits &= bits - 1) {
          const size_t jl = (size_t)(k * 64 + (uint64_t)__builtin_ctzll(bits));
          slot[jl] += wr ? (double)wr[jl] * eff : w;
          cnt++;
        }
      }
      net->syn_events += cnt;
      continue;
    }
    const uint64_t b = lproj_row(lj, i), e = lproj_row(lj, i + 1);
    if (b == e)
      continue;
    const uint32_t *restrict col = lj->col;
    net->syn_events += e - b;
    if (!lj->dl) {
      if (!lj->w) {
        const double w = lj->w0 * eff;
        for (uint64_t q = b; q < e; q++)
          slot[col[q]] += w;
      } else if (!lj->stp_u) {
        const float *restrict wq = lj->w;
        for (uint64_t q = b; q < e; q++)
          slot[col[q]] += (double)wq[q];
      } else {
        const float *restrict wq = lj->w;
        for (uint64_t q = b; q < e; q++)
          slot[col[q]] += (double)wq[q] * eff;
      }
    } else {
      for (uint64_t q = b; q < e; q++) {
        size_t sl = (size_t)((uint64_t)(step + 1 + lproj_delay(lj, q)) % lj->R);
        ring[sl * npost + col[q]] += (lj->w ? (double)lj->w[q] : lj->w0) * eff;
      }
    }
  }
}

static void progress_line(const bs_ctx *ctx, const bs_run_opts *o,
                          const bs_spec *s, int64_t step0, int64_t step,
                          double t_start, int final) {
  if (!o->progress || ctx->rank != 0)
    return;
  /* Rates and ETA from the steps this process ran (a restart starts at
   * step0); the percentage never rounds up to 100 before the end. */
  double wall = bs_wtime() - t_start;
  double tsim = (double)step * s->dt;
  double done = (double)(step - step0), left = (double)(s->n_steps - step);
  double rtf = done > 0 ? wall / (done * s->dt / 1000.0) : 0.0;
  double eta = done > 0 ? wall * left / done : 0.0;
  double pct =
      s->n_steps ? floor(100.0 * (double)step / (double)s->n_steps) : 100.0;
  char line[256];
  snprintf(line, sizeof line,
           "[brainsim] t = %.1f / %.1f ms (%3.0f%%)  wall %.1f s  "
           "real-time factor %.2f  ETA %.1f s",
           tsim, s->duration, pct, wall, rtf, eta);
  if (o->tty)
    fprintf(stdout, "\r%s\033[K%s", line, final ? "\n" : "");
  else
    fprintf(stdout, "%s\n", line);
  fflush(stdout);
}

static bs_status open_outputs(bs_ctx *ctx, bs_net *net, bs_io *io) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++) {
    if (!net->pops[p].record)
      continue;
    BS_CALL(ctx, bs_io_spikes_add(ctx, io, s->pops[p].name,
                                  &net->pops[p].io_handle));
    /* A restart drops what was written after its checkpoint. */
    if (net->restored_spk_len)
      BS_CALL(ctx, bs_io_spikes_truncate(ctx, io, net->pops[p].io_handle,
                                         net->restored_spk_len[p]));
  }
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    if (net->restored_row0)
      m->row0 = net->restored_row0[q];
    const bs_monitor_spec *ms = m->spec;
    char group[600];
    const char *target =
        ms->pop >= 0 ? s->pops[ms->pop].name : s->projs[ms->proj].name;
    const bs_var *var = ms->pop >= 0 ? &s->pops[ms->pop].model->vars[ms->var]
                        : ms->stp || (ms->per_syn && ms->var < 0)
                            ? NULL
                            : &s->projs[ms->proj].syn->vars[ms->var];
    const char *units = var ? bs_dim_unit(var->dim)
                        : ms->syn_var == 3
                            ? bs_dim_unit(s->projs[ms->proj].syn->vars[0].dim)
                        : ms->syn_var == 4 ? "steps"
                                           : "1";
    const bs_proj_spec *pj = ms->pop >= 0 ? NULL : &s->projs[ms->proj];
    const char *post = !pj           ? s->pops[ms->pop].name
                       : ms->per_pre ? s->pops[pj->pre].name
                                     : s->pops[pj->post].name;
    snprintf(group, sizeof group, "/report/%s/%s", target, ms->name);
    BS_CALL(ctx, bs_io_report_create(ctx, io, group, ms->file, units, ms->idx,
                                     ms->n_idx, m->rows, 0.0, s->duration,
                                     (double)ms->every * s->dt, post, &m->rep));
    if (ms->per_syn) { /* the pre of each column */
      uint64_t *pre;
      BS_CALL(ctx, bs_malloc(ctx, ms->n_idx, sizeof(uint64_t), &pre));
      for (uint64_t c = 0; c < ms->n_idx; c++)
        pre[c] = ms->syn[2 * c];
      bs_status ps = bs_io_report_pre_ids(ctx, m->rep, pre, ms->n_idx,
                                          s->pops[pj->pre].name);
      bs_free(ctx, ms->n_idx, sizeof(uint64_t), &pre);
      BS_CALL(ctx, ps);
    }
  }
  return BS_OK;
}

bs_status bs_net_run(bs_ctx *ctx, bs_net *net, bs_io *io,
                     const bs_run_opts *opts, bs_run_result *res) {
  const bs_spec *s = net->spec;
  const int np = s->n_pops, nj = s->n_projs;
  memset(res, 0, sizeof *res);
  BS_CALL(ctx, bs_calloc(ctx, (size_t)np, sizeof(uint64_t), &res->spikes));
  if (io) {
    bs_phase_begin(ctx, BS_PHASE_IO);
    BS_CALL(ctx, open_outputs(ctx, net, io));
    bs_phase_end(ctx, BS_PHASE_IO);
  }
  const double t_start = bs_wtime();
  double next_progress = t_start + opts->progress_every;
  int64_t printed = 0; /* step of the last progress line */
  size_t rec_buffered = 0;
  bs_status st = BS_OK;

  int64_t t0;
  for (t0 = net->step0; t0 < s->n_steps;) {
    const int64_t t1 = bs_engine_interval_end(net, t0);
    if (net->gap) { /* D = 1: V of the previous step, every step */
      bs_phase_begin(ctx, BS_PHASE_EXCHANGE);
      bs_status gs = bs_gap_exchange(ctx, net->gap, net);
      bs_phase_end(ctx, BS_PHASE_EXCHANGE);
      if (gs != BS_OK)
        return gs; /* MPI itself failed */
    }
    bs_phase_begin(ctx, BS_PHASE_UPDATE);
    net->nlocal = 0;
    for (int64_t n = t0; n < t1 && st == BS_OK; n++) {
      /* 1. inputs: constant currents */
      for (int p = 0; p < np; p++)
        if (net->pops[p].spec->model->has_V) {
          memcpy(net->pops[p].I, net->pops[p].I_ext,
                 net->pops[p].n * sizeof(double));
          memset(net->pops[p].G, 0, net->pops[p].n * sizeof(double));
        }
      /* 2. synapses read this step's arrivals, then their outputs add to
       *    the post-synaptic input with V of the previous step */
      for (int j = 0; j < nj; j++) {
        lproj *lj = &net->projs[j];
        const bs_proj_spec *js = lj->spec;
        if (js->syn->to_V || js->syn->gap)
          continue;
        if (lj->tr) {
          bs_trace_input(lj, n);
          js->out->apply(&(bs_out_args){.n = lj->post->n,
                                        .p = js->op,
                                        .g = lj->tr->gpost,
                                        .V = lj->post->x[0],
                                        .I = lj->post->I,
                                        .G = lj->post->G});
          continue;
        }
        double *in = lj->ring + (size_t)((uint64_t)n % lj->R) * lj->post->n;
        /* Blocks small enough for L1, so the output reads g while hot. */
        for (size_t b0 = 0; b0 < lj->post->n; b0 += KERNEL_BLOCK) {
          const size_t bn =
              lj->post->n - b0 < KERNEL_BLOCK ? lj->post->n - b0 : KERNEL_BLOCK;
          double *xs[BS_MAX_VARS];
          for (int v = 0; v < js->syn->nx; v++)
            xs[v] = lj->x[v] + b0;
          bs_syn_args sa = {
              .n = bn, .p = js->sp, .k = lj->k, .x = xs, .in = in + b0};
          js->syn->update(&sa);
          bs_out_args oa = {.n = bn,
                            .p = js->op,
                            .g = xs[0],
                            .V = lj->post->x[0] + b0,
                            .I = lj->post->I + b0,
                            .G = lj->post->G + b0,
                            .E = lj->E_post ? lj->E_post + b0 : NULL};
          js->out->apply(&oa);
        }
      }
      /* Gap junctions: both ends' currents from V of the previous step. */
      if (net->gap)
        bs_gap_apply(net->gap, net);
      /* Synapses that add to V (Delta) go last, so every output above read
       * V of the previous step whatever the order of the projections. */
      for (int j = 0; j < nj; j++) {
        lproj *lj = &net->projs[j];
        if (!lj->spec->syn->to_V)
          continue;
        bs_syn_args sa = {.n = lj->post->n,
                          .p = lj->spec->sp,
                          .k = lj->k,
                          .in = lj->ring +
                                (size_t)((uint64_t)n % lj->R) * lj->post->n,
                          .V = lj->post->x[0]};
        if (lj->ref_var >= 0) {
          sa.t_last = lj->post->x[lj->ref_var];
          sa.t_prev = (double)(n - 1) * s->dt;
          sa.ref_lim = lj->ref_lim;
        }
        lj->spec->syn->update(&sa);
      }
      /* 3. monitors: V at the start of the step, g as used in this step
       *    (Brian2's sample convention: sample k is the state at k dt) */
      for (int q = 0; q < net->nmons; q++) {
        lmon *m = &net->mons[q];
        if (n % m->spec->every || m->spec->per_pre || m->spec->per_syn)
          continue;
        const uint64_t nc = m->c1 - m->c0;
        double *row = m->buf + m->nbuf * nc;
        for (uint64_t c = 0; c < nc; c++)
          row[c] = m->src[m->spec->idx[m->c0 + c] - m->lo];
        m->nbuf++;
      }
      /* 4. neurons integrate and detect spikes */
      for (int p = 0; p < np && st == BS_OK; p++) {
        lpop *lp = &net->pops[p];
        const bs_pop_spec *ps = lp->spec;
        bs_neuron_args na = {.n = lp->n,
                             .gid0 = ps->gid0 + lp->lo,
                             .step = n,
                             .dt = s->dt,
                             .seed = s->seed,
                             .p = ps->p,
                             .k = lp->k,
                             .x = lp->x,
                             .I = lp->I,
                             .G = lp->G,
                             .method = ps->method,
                             .model = ps->model,
                             .spk = lp->spk};
        ps->model->update(&na);
        const uint64_t key_hi = (uint64_t)(n - t0) << 32;
        for (size_t q = 0; q < na.nspk && st == BS_OK; q++)
          st = push_local(ctx, net, key_hi | (ps->gid0 + lp->lo + lp->spk[q]));
      }
    }
    /* A state that became NaN or infinite stops the run at this
     * interval's exchange, with the place named. */
    if (st == BS_OK)
      st = check_finite(ctx, net, t0, t1);
    bs_phase_end(ctx, BS_PHASE_UPDATE);

    /* One collective per interval; it also carries the error flag, so a
     * failure on any rank stops every rank here. */
    bs_phase_begin(ctx, BS_PHASE_EXCHANGE);
    /* The flag: 0 go on, 1 interrupted (SIGINT), 2 stop and checkpoint
     * (SIGTERM, SIGUSR1), 3 error; the maximum over ranks wins. */
    uint64_t flag = st != BS_OK ? 3 : (uint64_t)bs_signal_pending(),
             maxflag = 0;
    bs_status xs = bs_exchange_run(ctx, net->ex, net->local_spk, net->nlocal,
                                   flag, &maxflag);
    if (xs != BS_OK)
      return xs; /* MPI itself failed: nothing collective is safe now */
    if (maxflag == 3) {
      bs_phase_end(ctx, BS_PHASE_EXCHANGE);
      if (st == BS_OK)
        st = bs_error_set(ctx, BS_ERR_REMOTE, "another rank failed");
      /* Every rank stopped here together, so the output can still be
       * flushed collectively up to the last good exchange; it stays
       * marked incomplete. */
      bs_status fs = bs_engine_flush_output(ctx, net, io);
      for (int q = 0; fs == BS_OK && q < net->nmons; q++)
        fs = bs_io_report_close(ctx, &net->mons[q].rep);
      res->steps_done = t0;
      return st;
    }
    /* Canonical order: (step, source gid). Each rank's block is sorted, so
     * on one rank there is nothing to do. */
    if (ctx->size > 1)
      qsort(net->ex->all, net->ex->nall, sizeof(uint64_t), cmp_u64);
    bs_phase_end(ctx, BS_PHASE_EXCHANGE);

    bs_phase_begin(ctx, BS_PHASE_DELIVER);
    bs_trace_begin(net, t0);
    for (size_t q = 0; q < net->ex->nall && st == BS_OK; q++) {
      const uint64_t key = net->ex->all[q];
      const int64_t step = t0 + (int64_t)(key >> 32);
      const uint64_t gid = key & 0xffffffffu;
      bs_trace_catch_up(net, step, t1);
      const int p = find_pop_of_gid(net, gid);
      lpop *lp = &net->pops[p];
      const uint64_t i = gid - lp->spec->gid0;
      lp->nspikes++;
      if (lp->nout)
        deliver(net, lp, i, step);
      if (lp->record) {
        st = record_spike(ctx, lp, (double)step * s->dt, i);
        rec_buffered++;
      }
    }
    bs_trace_catch_up(net, t1, t1);
    bs_phase_end(ctx, BS_PHASE_DELIVER);
    if (st != BS_OK)
      return st;
    /* Every rank buffered the same spikes and samples, so all flush
     * together. */
    bs_phase_begin(ctx, BS_PHASE_IO);
    if (rec_buffered >= SPIKE_FLUSH) {
      BS_CALL(ctx, flush_spikes(ctx, net, io));
      rec_buffered = 0;
    }
    for (int q = 0; q < net->nmons; q++)
      if (net->mons[q].nbuf >= net->mons[q].F)
        BS_CALL(ctx, flush_monitor(ctx, &net->mons[q]));
    bs_phase_end(ctx, BS_PHASE_IO);
    /* A new trial starts from the initial conditions (before any
     * checkpoint at this step, so a restart resumes after the reset). */
    if (t1 < s->n_steps && t1 % s->trial_steps == 0)
      reset_trial(net, (uint32_t)(t1 / s->trial_steps));
    /* Checkpoints at interval ends, every ckpt_every steps, and when a
     * signal asks to stop (all ranks saw the same flag). */
    const int stop = maxflag != 0;
    const int due = opts->ckpt_every > 0 && t1 < s->n_steps &&
                    t1 / opts->ckpt_every > t0 / opts->ckpt_every;
    if (opts->ckpt_dir && (due || stop)) {
      bs_phase_begin(ctx, BS_PHASE_IO);
      BS_CALL(ctx, bs_engine_ckpt_write(ctx, net, io, t1, opts->ckpt_dir));
      rec_buffered = 0;
      bs_phase_end(ctx, BS_PHASE_IO);
    }
    t0 = t1;
    if (stop) {
      res->stopped = (int)maxflag;
      break;
    }
    if (opts->progress && ctx->rank == 0 && bs_wtime() >= next_progress) {
      progress_line(ctx, opts, s, net->step0, t1, t_start, 0);
      printed = t1;
      next_progress = bs_wtime() + opts->progress_every;
    }
  }
  res->wall_run = bs_wtime() - t_start;
  res->steps_done = t0 < s->n_steps ? t0 : s->n_steps;
  res->step0 = net->step0;
  /* Close the terminal line; in batch logs only add what is new. */
  if (printed && (opts->tty || printed != res->steps_done))
    progress_line(ctx, opts, s, net->step0, res->steps_done, t_start, 1);

  bs_phase_begin(ctx, BS_PHASE_IO);
  BS_CALL(ctx, bs_engine_flush_output(ctx, net, io));
  for (int q = 0; q < net->nmons; q++)
    BS_CALL(ctx, bs_io_report_close(ctx, &net->mons[q].rep));
  bs_phase_end(ctx, BS_PHASE_IO);

  for (int p = 0; p < np; p++)
    res->spikes[p] = net->pops[p].nspikes; /* every rank saw every spike */
  res->syn_events = net->syn_events;
  BS_CALL(ctx, bs_comm_sum_u64(ctx, &res->syn_events, 1));
  BS_CALL(ctx, bs_comm_stats(ctx, ctx->phase_time, BS_PHASE_COUNT,
                             res->phase_min, res->phase_mean, res->phase_max));
  double peak = (double)ctx->mem_peak;
  BS_CALL(ctx, bs_comm_max_double(ctx, &peak, 1));
  res->mem_peak_max = (uint64_t)peak;
  return BS_OK;
}

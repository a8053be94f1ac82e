/* Projections: the kind registry and the state every spiking projection
 * shares whatever its kind: short-term plasticity per pre neuron, the ring
 * buffer of arrivals, per-post synaptic state, and their checkpoint walks.
 * A kind (linear.c, trace.c, gap.c) builds on these through its ops. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "brainsim/rng.h"
#include "engine_impl.h"

/* In match order: the first kind that accepts a projection is its kind. */
const bs_proj_ops *const bs_proj_kinds[] = {&bs_proj_gap,     &bs_proj_trace,
                                            &bs_proj_plastic, &bs_proj_linear_V,
                                            &bs_proj_linear,  NULL};

/* linear, last, accepts every projection. */
const bs_proj_ops *bs_proj_kind_of(const bs_proj_spec *js) {
  int k = 0;
  while (!bs_proj_kinds[k]->match(js))
    k++;
  return bs_proj_kinds[k];
}

static void stp_reset(lproj *lj) {
  for (uint64_t i = 0; i < lj->npos; i++) {
    bs_stp_rest(&lj->stp_u[i], &lj->stp_x[i]);
    lj->stp_last[i] = 0;
  }
}

bs_status bs_proj_build(bs_ctx *ctx, bs_net *net, int j, lproj *lj) {
  const bs_spec *s = net->spec;
  const bs_proj_spec *js = &s->projs[j];
  lj->spec = js;
  lj->pre = &net->pops[js->pre];
  lj->post = &net->pops[js->post];
  lj->ops = bs_proj_kind_of(js);
  if (js->syn->prepare) /* stateless kinds (Delta, GapJunction) have none */
    js->syn->prepare(js->sp, s->dt, lj->k);
  return lj->ops->build(ctx, net, lj);
}

/* The state of the kinds that sum their synapses per post neuron (linear,
 * linear_V): per-post variables and the ring buffer of arrivals (R slots,
 * known once the global delays are). Their setup op; the other kinds
 * keep their own state (trace: per pre) or none (gap). */
bs_status bs_proj_setup_post(bs_ctx *ctx, bs_net *net, lproj *lj) {
  (void)net;
  const size_t n = lj->post->n ? lj->post->n : 1;
  BS_CALL(ctx, bs_engine_alloc_state(ctx, lj->spec->syn->nx, n, &lj->x));
  BS_CALL(ctx, bs_calloc(ctx, (size_t)lj->R * n, sizeof(double), &lj->ring));
  bs_mem_hot(lj->ring, (size_t)lj->R * n * sizeof(double));
  return BS_OK;
}

/* Their reset op (BrainPy's reset()): no synaptic state, nothing in
 * flight. */
void bs_proj_reset_post(lproj *lj) {
  const size_t n = lj->post->n;
  for (int v = 0; v < lj->spec->syn->nx; v++)
    memset(lj->x[v], 0, n * sizeof(double));
  if (lj->ring)
    memset(lj->ring, 0, (size_t)lj->R * n * sizeof(double));
  if (lj->cring)
    memset(lj->cring, 0, (size_t)lj->R * n * sizeof(uint16_t));
  if (lj->cring8)
    memset(lj->cring8, 0, (size_t)lj->R * n);
}

/* Their scan op: the per-post variables. */
bs_status bs_proj_scan_post(bs_ctx *ctx, const bs_net *net, const lproj *lj,
                            int64_t t0, int64_t t1) {
  for (int v = 0; v < lj->spec->syn->nx; v++) {
    const double *x = lj->x[v];
    if (bs_engine_all_finite(x, lj->post->n))
      continue;
    for (uint64_t i = 0; i < lj->post->n; i++)
      if (!isfinite(x[i]))
        return bs_engine_nonfinite(ctx, net, "projection", lj->spec->name,
                                   lj->spec->syn->vars[v].name,
                                   lj->post->lo + i, x[i], t0, t1, NULL);
  }
  return BS_OK;
}

bs_status bs_proj_build_spiking(bs_ctx *ctx, bs_net *net, lproj *lj) {
  const bs_spec *s = net->spec;
  const bs_proj_spec *js = lj->spec;
  const int j = (int)(js - s->projs);
  const uint64_t npost = lj->post->n;
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
    if (ps->pdist && (ps->plist[ip] || ps->pdist[ip].kind != BS_DIST_CONST))
      return bs_error_set(ctx, BS_ERR_CONFIG,
                          "projection %s: post_ref_key needs one tau_ref for "
                          "population %s, which has one per neuron",
                          js->name, ps->name);
    lj->ref_lim = ps->p[ip] + 1e-7 * s->dt; /* the neurons' own limit */
  }
  BS_CALL(ctx, bs_conn_build(ctx, net, j, lj));
  /* Short-term plasticity per pre neuron of the table. */
  if (js->stp) {
    const size_t m = lj->npos ? lj->npos : 1;
    BS_CALL(ctx, bs_malloc(ctx, m, sizeof(double), &lj->stp_u));
    BS_CALL(ctx, bs_malloc(ctx, m, sizeof(double), &lj->stp_x));
    BS_CALL(ctx, bs_malloc(ctx, m, sizeof(int64_t), &lj->stp_last));
    stp_reset(lj);
  }
  return lj->ops->narrow_targets ? lproj_narrow(ctx, lj) : BS_OK;
}

/* Short-term plasticity advances at every spike of the pre neuron, on
 * every rank whose table holds it (its targets' ranks and its owner), the
 * same way on each. */
double bs_proj_stp_spike(const bs_net *net, lproj *lj, uint64_t i,
                         int64_t step) {
  if (!lj->stp_u)
    return 1.0;
  BS_ASSERT(i < lj->npos);
  const double eff =
      bs_stp_spike(lj->spec->stp->kind, lj->spec->stpp, net->spec->dt,
                   step - lj->stp_last[i], &lj->stp_u[i], &lj->stp_x[i]);
  lj->stp_last[i] = step;
  return eff;
}

/* Short-term plasticity state at step n, from the state after the last
 * spike (the same relaxation as bs_stp_spike). */
double bs_proj_stp_at(const lproj *lj, int which, uint64_t e, int64_t n,
                      double dt) {
  const double gap = (double)(n - lj->stp_last[e]) * dt;
  const double *p = lj->spec->stpp; /* U, tau_f, tau_d */
  if (which == 1)
    return lj->stp_u[e] * exp(-gap / p[1]);
  return 1.0 + (lj->stp_x[e] - 1.0) * exp(-gap / p[2]);
}

/* Count rings where the double ring would outgrow a share of L2: below,
 * expanding the counts into weights costs more than the misses it saves,
 * unless the fused kernel reads the counts itself (any_size, for fused
 * projections only; COBA 32k, one rank: loop 0.46-0.48 -> 0.42 s). */
#define COUNT_RING_BYTES (256u << 10)

/* The count ring's cells, at the width asked for (lj->cmax set). */
static bs_status alloc_counts(bs_ctx *ctx, lproj *lj, int bytes) {
  const size_t cells = (size_t)lj->R * (lj->post->n ? lj->post->n : 1);
  if (bytes == 1 && lj->cmax <= UINT8_MAX) {
    BS_CALL(ctx, bs_calloc(ctx, cells, 1, &lj->cring8));
    bs_mem_hot(lj->cring8, cells);
  } else {
    BS_CALL(ctx, bs_calloc(ctx, cells, sizeof(uint16_t), &lj->cring));
    bs_mem_hot(lj->cring, cells * sizeof(uint16_t));
  }
  return BS_OK;
}

bs_status bs_proj_count_ring(bs_ctx *ctx, lproj *lj, int any_size, int bytes) {
  const size_t n = lj->post->n;
  if (lproj_counted(lj)) { /* at setup: empty, only its width may change */
    const size_t cells = (size_t)lj->R * (n ? n : 1);
    if ((bytes == 1 && lj->cmax <= UINT8_MAX) == (lj->cring8 != NULL))
      return BS_OK;
    bs_free(ctx, cells, 1, &lj->cring8);
    bs_free(ctx, cells, sizeof(uint16_t), &lj->cring);
    return alloc_counts(ctx, lj, bytes);
  }
  if (lj->w || lj->wd || lj->stp_u || !lj->ring ||
      (!any_size && (uint64_t)lj->R * n * sizeof(double) <= COUNT_RING_BYTES))
    return BS_OK;
  /* The most arrivals a cell can get: one per synapse onto its neuron
   * (a pre neuron spikes at most once per step). */
  uint64_t cmax = 0;
  if (lj->dense)
    cmax = lj->npos;
  else {
    uint32_t *deg;
    BS_CALL(ctx, bs_calloc(ctx, n ? n : 1, sizeof(uint32_t), &deg));
    if (lj->col16_delta) /* the targets are a row's running sums */
      for (uint64_t k = 0; k < lj->npos; k++) {
        lrow r;
        lproj_row(lj, k, &r);
        for (uint64_t q = 0; q < r.n; q++)
          deg[lrow_col(&r, q)]++;
      }
    else
      for (uint64_t q = 0; q < lj->nnz; q++)
        deg[lj->col16 ? lj->col16[q] : lj->col[q]]++;
    for (size_t i = 0; i < n; i++)
      cmax = deg[i] > cmax ? deg[i] : cmax;
    bs_free(ctx, n ? n : 1, sizeof(uint32_t), &deg);
  }
  if (cmax > UINT16_MAX)
    return BS_OK;
  const size_t cells = (size_t)lj->R * (n ? n : 1);
  lj->cmax = (uint32_t)cmax;
  BS_CALL(ctx, alloc_counts(ctx, lj, bytes));
  BS_CALL(ctx, bs_malloc(ctx, cmax + 1, sizeof(double), &lj->csum));
  /* The unfused step's arrivals (bs_proj_arrivals); any_size converts
   * only rings of fused projections, which never take that step. */
  if (!any_size)
    BS_CALL(ctx, bs_calloc(ctx, n ? n : 1, sizeof(double), &lj->cin));
  lj->csum[0] = 0.0;
  lj->ckexact = 0;
  for (uint64_t k = 1; k <= cmax; k++) {
    lj->csum[k] = lj->csum[k - 1] + lj->w0;
    if (lj->ckexact == k - 1 && lj->csum[k] == (double)k * lj->w0)
      lj->ckexact = (uint32_t)k;
  }
  bs_free(ctx, cells, sizeof(double), &lj->ring);
  return BS_OK;
}

double *bs_proj_arrivals(lproj *lj, int64_t n) {
  const size_t np = lj->post->n, at = (size_t)((uint64_t)n % lj->R) * np;
  if (!lproj_counted(lj))
    return lj->ring + at;
  BS_ASSERT(lj->cin); /* not a ring counts() converted */
  for (size_t i = 0; i < np; i++)
    BS_ASSERT(lproj_cell(lj, at + i) <= lj->cmax);
  if (lj->cring8)
    bs_counts_expand8(np, lj->cring8 + at, lj->csum, lj->w0, lj->ckexact,
                      lj->cin);
  else
    bs_counts_expand(np, lj->cring + at, lj->csum, lj->w0, lj->ckexact,
                     lj->cin);
  return lj->cin;
}

/* BrainPy's reset(): no synaptic state, nothing in flight (the kind's
 * state through its reset op). */
void bs_proj_reset(lproj *lj) {
  if (lj->stp_u)
    stp_reset(lj);
  if (lj->ops->reset)
    lj->ops->reset(lj);
}

void bs_proj_destroy(bs_ctx *ctx, bs_net *net, lproj *lj) {
  if (!lj->spec)
    return;
  if (lj->ops && lj->ops->destroy)
    lj->ops->destroy(ctx, net, lj);
  size_t n = lj->post->n ? lj->post->n : 1;
  for (int v = 0; lj->x && v < lj->spec->syn->nx; v++)
    bs_free(ctx, n, sizeof(double), &lj->x[v]);
  bs_free(ctx, (size_t)(lj->spec->syn->nx ? lj->spec->syn->nx : 1),
          sizeof(double *), &lj->x);
  bs_conn_free(ctx, lj);
  bs_free(ctx, n, sizeof(double), &lj->E_post);
  bs_free(ctx, (size_t)lj->R * n, sizeof(double), &lj->ring);
  bs_free(ctx, (size_t)lj->R * n, sizeof(uint16_t), &lj->cring);
  bs_free(ctx, (size_t)lj->R * n, 1, &lj->cring8);
  bs_free(ctx, (size_t)lj->cmax + 1, sizeof(double), &lj->csum);
  bs_free(ctx, n, sizeof(double), &lj->cin);
  const size_t m = lj->npos ? lj->npos : 1;
  bs_free(ctx, m, sizeof(double), &lj->stp_u);
  bs_free(ctx, m, sizeof(double), &lj->stp_x);
  bs_free(ctx, m, sizeof(int64_t), &lj->stp_last);
}

/* ---- checkpoint walks --------------------------------------------------- */

/* Per-post state variables, one row each over the post population. */
bs_status bs_proj_walk_x(bs_ctx *ctx, lproj *lj, bs_io *io, bs_block_fn fn) {
  const bs_syn_model *m = lj->spec->syn;
  char path[1024];
  for (int v = 0; v < m->nx; v++) {
    snprintf(path, sizeof path, "/state/projections/%s/%s", lj->spec->name,
             m->vars[v].name);
    BS_CALL(ctx, fn(ctx, io, path, 1, lj->post->spec->size, lj->post->lo,
                    lj->post->n, lj->x[v]));
  }
  return BS_OK;
}

/* The count whose sum is v (csum is monotonic in k), or -1. */
static int64_t count_of(const lproj *lj, double v) {
  const double *cs = lj->csum;
  uint64_t lo = 0, hi = lj->cmax;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (lj->w0 > 0 ? cs[mid] < v : cs[mid] > v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return cs[lo] == v ? (int64_t)lo : -1;
}

/* Ring buffer, rotated: row k = arrivals for step `step + k`, as weights
 * whatever the cells hold, so a checkpoint restores into either. */
bs_status bs_proj_walk_ring(bs_ctx *ctx, lproj *lj, bs_io *io, int64_t step,
                            bs_block_fn fn, int reading) {
  const uint64_t N = lj->post->spec->size, n = lj->post->n;
  BS_ASSERT(lj->post->lo + n <= N);
  char path[1024];
  double *tmp;
  BS_CALL(ctx,
          bs_malloc(ctx, (size_t)lj->R * (n ? n : 1), sizeof(double), &tmp));
  for (uint32_t k = 0; !reading && k < lj->R; k++) {
    const size_t at = (size_t)(((uint64_t)step + k) % lj->R) * n;
    for (uint64_t i = 0; i < n; i++)
      tmp[(size_t)k * n + i] = lproj_counted(lj)
                                   ? lj->csum[lproj_cell(lj, at + i)]
                                   : lj->ring[at + i];
  }
  snprintf(path, sizeof path, "/state/projections/%s/ring", lj->spec->name);
  bs_status st = fn(ctx, io, path, lj->R, N, lj->post->lo, n, tmp);
  for (uint32_t k = 0; st == BS_OK && reading && k < lj->R; k++) {
    const size_t at = (size_t)(((uint64_t)step + k) % lj->R) * n;
    for (uint64_t i = 0; st == BS_OK && i < n; i++) {
      const double v = tmp[(size_t)k * n + i];
      if (!lproj_counted(lj)) {
        lj->ring[at + i] = v;
        continue;
      }
      const int64_t c = count_of(lj, v);
      if (c < 0)
        st = bs_error_set(ctx, BS_ERR_IO,
                          "checkpoint: projection '%s', post neuron %llu: "
                          "ring value %g is not a sum of its weight %g",
                          lj->spec->name,
                          (unsigned long long)(lj->post->lo + i), v, lj->w0);
      else if (lj->cring8)
        lj->cring8[at + i] = (uint8_t)c;
      else
        lj->cring[at + i] = (uint16_t)c;
    }
  }
  bs_free(ctx, (size_t)lj->R * (n ? n : 1), sizeof(double), &tmp);
  return st;
}

/* Columns of a per-pre checkpoint block: a writer writes its own block of
 * the pre population (every pre neuron is in its owner's table, and its
 * state is the same on every rank that holds it); a reader reads the range
 * that covers its table and takes its neurons. So a checkpoint restores
 * onto any rank count. */
void bs_proj_pre_cols(const lproj *lj, int reading, uint64_t *c0,
                      uint64_t *nc) {
  *c0 = lj->pre->lo;
  *nc = lj->pre->n;
  if (reading) {
    *c0 = lj->npos ? lproj_id(lj, 0) : 0;
    *nc = lj->npos ? lproj_id(lj, lj->npos - 1) + 1 - *c0 : 0;
  }
}

/* Short-term plasticity: rows u, x and the step of the last spike (exact
 * in a double below 2^53) per pre neuron, by bs_proj_pre_cols. */
bs_status bs_proj_walk_stp(bs_ctx *ctx, lproj *lj, bs_io *io, bs_block_fn fn,
                           int reading) {
  if (!lj->stp_u)
    return BS_OK;
  const uint64_t N = lj->pre->spec->size;
  uint64_t c0, nc;
  bs_proj_pre_cols(lj, reading, &c0, &nc);
  char path[1024];
  snprintf(path, sizeof path, "/state/projections/%s/stp", lj->spec->name);
  double *tmp;
  BS_CALL(ctx, bs_malloc(ctx, 3 * (nc ? nc : 1), sizeof(double), &tmp));
  for (uint64_t c = 0; !reading && c < nc; c++) {
    const uint64_t k = lproj_pos(lj, c0 + c); /* in the table: own block */
    BS_ASSERT(k < lj->npos);
    tmp[c] = lj->stp_u[k];
    tmp[nc + c] = lj->stp_x[k];
    tmp[2 * nc + c] = (double)lj->stp_last[k];
  }
  bs_status st = fn(ctx, io, path, 3, N, c0, nc, tmp);
  for (uint64_t c = 0; st == BS_OK && reading && c < nc; c++) {
    const uint64_t k = lproj_pos(lj, c0 + c);
    if (k == LPROJ_NONE)
      continue;
    lj->stp_u[k] = tmp[c];
    lj->stp_x[k] = tmp[nc + c];
    lj->stp_last[k] = (int64_t)tmp[2 * nc + c];
  }
  bs_free(ctx, 3 * (nc ? nc : 1), sizeof(double), &tmp);
  return st;
}

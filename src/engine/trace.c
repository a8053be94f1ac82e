/* Trace synapses (AMPA, GABAa, NMDA, BioNMDA) and per-pre monitors.
 *
 * Which state where, and why (README, "Synapses"): the state of a trace
 * synapse is nonlinear in the spike train, so it is kept per pre-synaptic
 * neuron as in BrainPy, and the post-synaptic input is sum_i w_ij g_i
 * every step. Each rank advances the traces it needs (pre neurons with a
 * local target, and its own block of the pre population for monitors and
 * checkpoints) from the same spikes, identically.
 *
 * Delays: trace i is driven by the UNDELAYED spike train (a spike of step
 * n arrives in step n + 1, BrainPy's delay 0), giving G_i(m). The model
 * is time-invariant and starts at rest, so a synapse with delay d sees
 * G_i(m - d) in step m: one trace per pre neuron serves every delay, read
 * from a history of its last H = dmax + 1 values.
 *
 * Timing: the spikes of the interval [t0, t1) are known on every rank only
 * after its exchange; G(m) needs the spikes of steps < m, so the exchange
 * advances the traces from G(t0) to G(t1). In the next interval a step
 * k < t1 + D reads G(k - d) with d >= dmin = D - 1, i.e. k - d <= t1:
 * always known. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine_impl.h"

#define NONE UINT32_MAX

/* The trace of pre neuron i, or NONE. */
static uint32_t slot_of(const lproj *lj, uint64_t i) {
  const uint64_t k = lproj_pos(lj, i);
  return k == LPROJ_NONE ? NONE : lj->tr->slot[k];
}

static int match(const bs_proj_spec *js) { return js->syn->trace != NULL; }

static bs_status build(bs_ctx *ctx, bs_net *net, lproj *lj) {
  return bs_proj_build_spiking(ctx, net, lj);
}

/* Rest (also BrainPy's reset() between trials): the descriptor's initial
 * values, an empty history, nothing arriving. */
static void reset(lproj *lj) {
  ltrace *tr = lj->tr;
  const bs_syn_model *m = lj->spec->syn;
  for (int v = 0; v < m->nx; v++)
    for (uint64_t k = 0; k < tr->n; k++)
      tr->x[v][k] = m->vars[v].init;
  memset(tr->s, 0, tr->n * sizeof(double));
  tr->nhit = 0;
  memset(tr->hist, 0, (size_t)tr->H * tr->n * sizeof(double));
}

/* The traced neurons: those with a local synapse, and the local block of
 * the pre population (monitors, checkpoints). After the global delays. */
static bs_status setup(bs_ctx *ctx, bs_net *net, lproj *lj) {
  const bs_syn_model *m = lj->spec->syn;
  const uint64_t N = lj->npos;
  ltrace *tr;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *tr, &tr));
  lj->tr = tr;
  net->per_pre = 1;
  BS_CALL(ctx, bs_malloc(ctx, N ? N : 1, sizeof(uint32_t), &tr->slot));
  uint64_t n = 0;
  for (uint64_t i = 0; i < N; i++) {
    lrow r;
    lproj_row(lj, i, &r);
    const uint64_t id = lproj_id(lj, i);
    const int need = r.n > 0 || (id >= lj->pre->lo && id < lj->pre->hi);
    tr->slot[i] = need ? (uint32_t)n++ : NONE;
  }
  tr->n = n;
  tr->H = lj->R;
  const size_t nn = n ? n : 1;
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(uint64_t), &tr->pre));
  for (uint64_t i = 0; i < N; i++)
    if (tr->slot[i] != NONE)
      tr->pre[tr->slot[i]] = i;
  BS_CALL(ctx, bs_calloc(ctx, (size_t)m->nx, sizeof(double *), &tr->x));
  for (int v = 0; v < m->nx; v++)
    BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(double), &tr->x[v]));
  BS_CALL(ctx, bs_calloc(ctx, nn, sizeof(double), &tr->s));
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(uint32_t), &tr->hit));
  BS_CALL(ctx, bs_calloc(ctx, (size_t)tr->H * nn, sizeof(double), &tr->hist));
  BS_CALL(ctx, bs_calloc(ctx, lj->post->n ? lj->post->n : 1, sizeof(double),
                         &tr->gpost));
  reset(lj);
  return BS_OK;
}

static void destroy(bs_ctx *ctx, bs_net *net, lproj *lj) {
  (void)net;
  ltrace *tr = lj->tr;
  if (!tr)
    return;
  const size_t nn = tr->n ? tr->n : 1, N = lj->npos;
  for (int v = 0; tr->x && v < lj->spec->syn->nx; v++)
    bs_free(ctx, nn, sizeof(double), &tr->x[v]);
  bs_free(ctx, (size_t)lj->spec->syn->nx, sizeof(double *), &tr->x);
  bs_free(ctx, N ? N : 1, sizeof(uint32_t), &tr->slot);
  bs_free(ctx, nn, sizeof(uint64_t), &tr->pre);
  bs_free(ctx, nn, sizeof(double), &tr->s);
  bs_free(ctx, nn, sizeof(uint32_t), &tr->hit);
  bs_free(ctx, (size_t)tr->H * nn, sizeof(double), &tr->hist);
  bs_free(ctx, lj->post->n ? lj->post->n : 1, sizeof(double), &tr->gpost);
  bs_free(ctx, 1, sizeof *tr, &lj->tr);
}

/* The input of step n: gpost = sum_i w_ij g_i(n - d_ij), rows in pre
 * order, each in storage order: the same order of the sum for a post
 * neuron on every rank count and in both storages (a post gets at most
 * one term per pre in dense, which has no multapses). */
static void input(lproj *lj, int64_t n) {
  ltrace *tr = lj->tr;
  const uint64_t H = tr->H, ntr = tr->n;
  double *restrict gp = tr->gpost;
  memset(gp, 0, lj->post->n * sizeof(double));
  for (uint64_t k = 0; k < ntr; k++) {
    lrow r;
    lproj_row(lj, tr->pre[k], &r);
    if (!r.n)
      continue;
    const uint32_t *restrict col = r.col;
    if (!r.dl) {                         /* per projection, or per pre neuron */
      BS_ASSERT(r.d < H);                /* the history holds dmax + 1 steps */
      for (uint64_t q = 0; q < r.n; q++) /* no code in Release */
        BS_ASSERT(col[q] < lj->post->n);
      const double g = tr->hist[((uint64_t)n + H - r.d) % H * ntr + k];
      if (g == 0.0)
        continue;
      if (r.w)
        for (uint64_t q = 0; q < r.n; q++)
          gp[col[q]] += (double)r.w[q] * g;
      else
        for (uint64_t q = 0; q < r.n; q++)
          gp[col[q]] += r.w0 * g;
    } else {
      for (uint64_t q = 0; q < r.n; q++) {
        BS_ASSERT(lrow_d(&r, q) < H && col[q] < lj->post->n);
        const double g =
            tr->hist[((uint64_t)n + H - lrow_d(&r, q)) % H * ntr + k];
        if (g != 0.0)
          gp[col[q]] += lrow_w(&r, q) * g;
      }
    }
  }
}

static void step(bs_net *net, lproj *lj, int64_t n) {
  (void)net;
  input(lj, n);
  lj->spec->out->apply(&(bs_out_args){.n = lj->post->n,
                                      .p = lj->spec->op,
                                      .g = lj->tr->gpost,
                                      .V = lj->post->x[0],
                                      .I = lj->post->I,
                                      .G = lj->post->G});
}

/* Read every step from the pre neuron's trace: the spike only marks it. */
static void deliver(bs_net *net, lproj *lj, uint64_t i, int64_t st,
                    double eff) { /* i: table position */
  (void)st;
  ltrace *tr = lj->tr;
  const uint32_t k = tr->slot[i];
  if (k != NONE) {
    BS_ASSERT(k < tr->n);
    if (tr->s[k] == 0.0) {
      BS_ASSERT(tr->nhit < tr->n); /* each trace at most once */
      tr->hit[tr->nhit++] = k;
    }
    tr->s[k] = eff;
  }
  lrow r;
  lproj_row(lj, i, &r);
  net->syn_events += r.n;
}

/* Every trace to G(m): step m consumes the spikes of step m - 1, already
 * delivered. */
static void advance(bs_net *net, lproj *lj, int64_t m) {
  ltrace *tr = lj->tr;
  bs_trace_args a = {.n = tr->n,
                     .step = m,
                     .dt = net->spec->dt,
                     .p = lj->spec->sp,
                     .k = lj->k,
                     .x = tr->x,
                     .s = tr->s};
  lj->spec->syn->trace(&a);
  for (uint64_t h = 0; h < tr->nhit; h++)
    tr->s[tr->hit[h]] = 0.0;
  tr->nhit = 0;
  memcpy(tr->hist + (uint64_t)m % tr->H * tr->n, tr->x[0],
         tr->n * sizeof(double));
}

/* Monitors at step n: the traces hold G(n) (spikes of steps < n). A
 * synapse's g is w G(n - d), the term input() adds; the history holds
 * G(n - d) (d <= dmax = H - 1; zero before the first step of a trial). */
static double sample(const lproj *lj, const lmon *m, uint64_t c, int64_t n) {
  const ltrace *tr = lj->tr;
  if (m->spec->per_syn) {
    const uint32_t k = tr->slot[m->spre[c]]; /* spre: table positions */
    return m->sw[c] *
           tr->hist[((uint64_t)n + tr->H - m->sd[c]) % tr->H * tr->n + k];
  }
  return tr->x[m->spec->var][slot_of(lj, m->spec->idx[m->c0 + c])];
}

/* The state per pre neuron ("pre neuron" in the message: the index is in
 * the pre population). */
static bs_status scan(bs_ctx *ctx, const bs_net *net, const lproj *lj,
                      int64_t t0, int64_t t1) {
  const ltrace *tr = lj->tr;
  const double dt = net->spec->dt;
  for (int v = 0; v < lj->spec->syn->nx; v++) {
    const double *x = tr->x[v];
    if (bs_engine_all_finite(x, tr->n))
      continue;
    for (uint64_t k = 0; k < tr->n; k++)
      if (!isfinite(x[k]))
        return bs_error_set(
            ctx, BS_ERR_NUMERIC,
            "projection (pre neuron of %s) '%s', neuron %llu: %s became %g "
            "between t = %.4g and %.4g ms. The integration diverged: reduce "
            "dt (now %g ms), or check the parameters and inputs.",
            lj->pre->spec->name, lj->spec->name,
            (unsigned long long)lproj_id(lj, tr->pre[k]),
            lj->spec->syn->vars[v].name, x[k], (double)t0 * dt, (double)t1 * dt,
            dt);
  }
  return BS_OK;
}

/* Per pre neuron, rows = the model's state variables, then the history of
 * g, rotated: row nx + r holds g of step `step - r`. Every traced neuron's
 * state is the same on every rank that holds it and each rank traces its
 * own block of the pre population, so each writes that block; a reader
 * takes the range that covers the neurons it traces. */
static bs_status walk_trace(bs_ctx *ctx, lproj *lj, bs_io *io, int64_t step,
                            bs_block_fn fn, int reading) {
  ltrace *tr = lj->tr;
  const int nx = lj->spec->syn->nx;
  const uint64_t N = lj->pre->spec->size, H = tr->H, rows = (uint64_t)nx + H;
  uint64_t c0, nc;
  bs_proj_pre_cols(lj, reading, &c0, &nc);
  char path[1024];
  snprintf(path, sizeof path, "/state/projections/%s/trace", lj->spec->name);
  double *tmp;
  BS_CALL(ctx, bs_malloc(ctx, rows * (nc ? nc : 1), sizeof(double), &tmp));
  BS_ASSERT(c0 + nc <= N);
  for (uint64_t c = 0; !reading && c < nc; c++) {
    const uint32_t k = slot_of(lj, c0 + c);
    if (k == UINT32_MAX)
      continue;
    BS_ASSERT(k < tr->n);
    for (int v = 0; v < nx; v++)
      tmp[(uint64_t)v * nc + c] = tr->x[v][k];
    for (uint64_t r = 0; r < H; r++) {
      const uint64_t m =
          (uint64_t)(((step - (int64_t)r) % (int64_t)H + (int64_t)H) %
                     (int64_t)H);
      tmp[((uint64_t)nx + r) * nc + c] = tr->hist[m * tr->n + k];
    }
  }
  bs_status st = fn(ctx, io, path, rows, N, c0, nc, tmp);
  for (uint64_t c = 0; st == BS_OK && reading && c < nc; c++) {
    const uint32_t k = slot_of(lj, c0 + c);
    if (k == UINT32_MAX)
      continue;
    BS_ASSERT(k < tr->n);
    for (int v = 0; v < nx; v++)
      tr->x[v][k] = tmp[(uint64_t)v * nc + c];
    for (uint64_t r = 0; r < H; r++) {
      const uint64_t m =
          (uint64_t)(((step - (int64_t)r) % (int64_t)H + (int64_t)H) %
                     (int64_t)H);
      tr->hist[m * tr->n + k] = tmp[((uint64_t)nx + r) * nc + c];
    }
  }
  bs_free(ctx, rows * (nc ? nc : 1), sizeof(double), &tmp);
  return st;
}

static bs_status walk(bs_ctx *ctx, bs_net *net, lproj *lj, bs_io *io,
                      int64_t step, bs_block_fn fn, int reading) {
  (void)net;
  BS_CALL(ctx, bs_proj_walk_stp(ctx, lj, io, fn, reading));
  return walk_trace(ctx, lj, io, step, fn, reading);
}

static double current(const lproj *lj, uint64_t i) {
  double I = 0.0, G = 0.0;
  lj->spec->out->apply(&(bs_out_args){.n = 1,
                                      .p = lj->spec->op,
                                      .g = lj->tr->gpost + i,
                                      .V = lj->post->x[0] + i,
                                      .I = &I,
                                      .G = &G});
  return I;
}

const bs_proj_ops bs_proj_trace = {.name = "trace",
                                   .match = match,
                                   .stage = BS_STAGE_I,
                                   .owner_state = 1,
                                   .build = build,
                                   .setup = setup,
                                   .deliver = deliver,
                                   .advance = advance,
                                   .step = step,
                                   .sample = sample,
                                   .current = current,
                                   .scan = scan,
                                   .walk = walk,
                                   .reset = reset,
                                   .destroy = destroy};

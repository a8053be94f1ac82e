/* Trace synapses (AMPA, GABAa, NMDA, BioNMDA) and per-pre monitors.
 *
 * Which state where, and why (README, "Synapses"): the state of a trace
 * synapse is nonlinear in the spike train, so it is kept per pre-synaptic
 * neuron as in BrainPy, and the post-synaptic input is sum_i w_ij g_i
 * every step. Every rank receives every spike, so each rank advances the
 * traces it needs (pre neurons with a local target, and its own block of
 * the pre population for monitors and checkpoints) identically.
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
#include <string.h>

#include "engine_impl.h"

#define NONE UINT32_MAX

/* Whether pre neuron i has a local synapse (sparse row or dense mask row). */
static int has_synapses(const lproj *lj, uint64_t i) {
  if (!lj->dense) {
    uint64_t b, e;
    lproj_span(lj, i, &b, &e);
    return e > b;
  }
  for (uint64_t k = 0; k < lj->mask_words; k++)
    if (lj->mask[i * lj->mask_words + k])
      return 1;
  return 0;
}

static bs_status build_one(bs_ctx *ctx, lproj *lj) {
  const bs_syn_model *m = lj->spec->syn;
  const uint64_t N = lj->pre->spec->size;
  ltrace *tr;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *tr, &tr));
  lj->tr = tr;
  BS_CALL(ctx, bs_malloc(ctx, N ? N : 1, sizeof(uint32_t), &tr->slot));
  uint64_t n = 0;
  for (uint64_t i = 0; i < N; i++) {
    const int need =
        has_synapses(lj, i) || (i >= lj->pre->lo && i < lj->pre->hi);
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
  return BS_OK;
}

bs_status bs_trace_build(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  for (int j = 0; j < s->n_projs; j++)
    if (s->projs[j].syn->trace) {
      BS_CALL(ctx, build_one(ctx, &net->projs[j]));
      net->per_pre = 1;
    }
  for (int q = 0; q < s->n_monitors; q++)
    if (s->monitors[q].kind == BS_MON_STATE &&
        (s->monitors[q].per_pre || s->monitors[q].per_syn))
      net->per_pre = 1;
  bs_trace_reset(net);
  return BS_OK;
}

void bs_trace_destroy(bs_ctx *ctx, bs_net *net) {
  for (int j = 0; net->projs && j < net->spec->n_projs; j++) {
    lproj *lj = &net->projs[j];
    ltrace *tr = lj->tr;
    if (!tr)
      continue;
    const size_t nn = tr->n ? tr->n : 1, N = lj->pre->spec->size;
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
}

/* Rest (also BrainPy's reset() between trials): the descriptor's initial
 * values, an empty history, nothing arriving. */
void bs_trace_reset(bs_net *net) {
  for (int j = 0; j < net->spec->n_projs; j++) {
    lproj *lj = &net->projs[j];
    ltrace *tr = lj->tr;
    if (!tr)
      continue;
    const bs_syn_model *m = lj->spec->syn;
    for (int v = 0; v < m->nx; v++)
      for (uint64_t k = 0; k < tr->n; k++)
        tr->x[v][k] = m->vars[v].init;
    memset(tr->s, 0, tr->n * sizeof(double));
    tr->nhit = 0;
    memset(tr->hist, 0, (size_t)tr->H * tr->n * sizeof(double));
  }
}

/* Dense storage: the pre's mask row, posts ascending; a constant or per-pre
 * delay (dense keeps no per-synapse delays). A post gets at most one term
 * per pre in both storages (dense has no multapses), so the sums into a
 * post run over the pres in the same ascending order as the CSR's. */
static void input_dense(lproj *lj, int64_t n) {
  ltrace *tr = lj->tr;
  const uint64_t H = tr->H, ntr = tr->n, npost = lj->post->n;
  double *restrict gp = tr->gpost;
  for (uint64_t k = 0; k < ntr; k++) {
    const uint64_t i = tr->pre[k];
    const uint32_t d = lj->dpre ? lj->dpre[i] : lj->d0;
    const double g = tr->hist[((uint64_t)n + H - d) % H * ntr + k];
    if (g == 0.0)
      continue;
    const uint64_t *m = lj->mask + i * lj->mask_words;
    const float *wr = lj->wd ? lj->wd + i * npost : NULL;
    for (uint64_t q = 0; q < lj->mask_words; q++)
      for (uint64_t bits = m[q]; bits; bits &= bits - 1) {
        const size_t jl = (size_t)(q * 64 + (uint64_t)__builtin_ctzll(bits));
        gp[jl] += (wr ? (double)wr[jl] : lj->w0) * g;
      }
  }
}

/* Rows of the CSR in pre order, each in generation order: the same order
 * of the sum for a post neuron on every rank count. */
void bs_trace_input(lproj *lj, int64_t n) {
  ltrace *tr = lj->tr;
  const uint64_t H = tr->H, ntr = tr->n;
  double *restrict gp = tr->gpost;
  const uint32_t *restrict col = lj->col;
  const float *restrict w = lj->w;
  memset(gp, 0, lj->post->n * sizeof(double));
  if (lj->dense) {
    input_dense(lj, n);
    return;
  }
  for (uint64_t k = 0; k < ntr; k++) {
    const uint64_t i = tr->pre[k];
    uint64_t b, e;
    lproj_span(lj, i, &b, &e);
    if (b == e)
      continue;
    if (!lj->dl) { /* per projection, or per pre neuron */
      const uint32_t d = lj->dpre ? lj->dpre[i] : lj->d0;
      const double g = tr->hist[((uint64_t)n + H - d) % H * ntr + k];
      if (g == 0.0)
        continue;
      if (w)
        for (uint64_t q = b; q < e; q++)
          gp[col[q]] += (double)w[q] * g;
      else
        for (uint64_t q = b; q < e; q++)
          gp[col[q]] += lj->w0 * g;
    } else {
      for (uint64_t q = b; q < e; q++) {
        const double g =
            tr->hist[((uint64_t)n + H - lproj_delay(lj, q)) % H * ntr + k];
        if (g != 0.0)
          gp[col[q]] += (w ? (double)w[q] : lj->w0) * g;
      }
    }
  }
}

void bs_trace_spike(lproj *lj, uint64_t i, double eff) {
  ltrace *tr = lj->tr;
  const uint32_t k = tr->slot[i];
  if (k == NONE)
    return;
  if (tr->s[k] == 0.0)
    tr->hit[tr->nhit++] = k;
  tr->s[k] = eff;
}

/* Short-term plasticity state at step n, from the state after the last
 * spike (the same relaxation as bs_stp_spike). */
static double stp_at(const lproj *lj, int which, uint64_t e, int64_t n,
                     double dt) {
  const double gap = (double)(n - lj->stp_last[e]) * dt;
  const double *p = lj->spec->stpp; /* U, tau_f, tau_d */
  if (which == 1)
    return lj->stp_u[e] * exp(-gap / p[1]);
  return 1.0 + (lj->stp_x[e] - 1.0) * exp(-gap / p[2]);
}

/* A synapse's g at step n: w G(n - d), the term bs_trace_input adds. The
 * history holds G(n - d) (d <= dmax = H - 1; zero before the first step
 * of a trial). */
static double syn_g(const lproj *lj, uint32_t k, double w, uint32_t d,
                    int64_t n) {
  const ltrace *tr = lj->tr;
  return w * tr->hist[((uint64_t)n + tr->H - d) % tr->H * tr->n + k];
}

/* Per-pre monitors at step n: the traces hold G(n) (spikes of steps < n)
 * and stp holds every spike of steps < n. */
static void sample(bs_net *net, int64_t n) {
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    const bs_monitor_spec *ms = m->spec;
    if (!(ms->per_pre || ms->per_syn) || n % ms->every)
      continue;
    const lproj *lj = &net->projs[ms->proj];
    const uint64_t nc = m->c1 - m->c0;
    double *row = m->buf + m->nbuf * nc;
    if (ms->per_syn) { /* chosen synapses (synmon.c) */
      for (uint64_t c = 0; c < nc; c++)
        row[c] = ms->syn_var == 0 ? syn_g(lj, m->sk[c], m->sw[c], m->sd[c], n)
                 : ms->syn_var <= 2
                     ? stp_at(lj, ms->syn_var, m->spre[c], n, net->spec->dt)
                 : ms->syn_var == 3 ? m->sw[c]
                                    : (double)m->sd[c];
      m->nbuf++;
      continue;
    }
    for (uint64_t c = 0; c < nc; c++) {
      const uint64_t e = ms->idx[m->c0 + c];
      row[c] = ms->stp ? stp_at(lj, ms->stp, e, n, net->spec->dt)
                       : lj->tr->x[ms->var][lj->tr->slot[e]];
    }
    m->nbuf++;
  }
}

void bs_trace_begin(bs_net *net, int64_t t0) {
  if (!net->per_pre)
    return;
  net->tr_step = t0;
  sample(net, t0);
}

/* Advance every trace to G(step): step m consumes the spikes of step
 * m - 1, already delivered. */
void bs_trace_catch_up(bs_net *net, int64_t step, int64_t t1) {
  if (!net->per_pre)
    return;
  const bs_spec *s = net->spec;
  while (net->tr_step < step) {
    const int64_t m = ++net->tr_step;
    for (int j = 0; j < s->n_projs; j++) {
      lproj *lj = &net->projs[j];
      ltrace *tr = lj->tr;
      if (!tr)
        continue;
      const bs_syn_model *sm = lj->spec->syn;
      bs_trace_args a = {.n = tr->n,
                         .step = m,
                         .dt = s->dt,
                         .p = lj->spec->sp,
                         .k = lj->k,
                         .x = tr->x,
                         .s = tr->s};
      sm->trace(&a);
      for (uint64_t h = 0; h < tr->nhit; h++)
        tr->s[tr->hit[h]] = 0.0;
      tr->nhit = 0;
      memcpy(tr->hist + (uint64_t)m % tr->H * tr->n, tr->x[0],
             tr->n * sizeof(double));
    }
    if (m < t1)
      sample(net, m);
  }
}

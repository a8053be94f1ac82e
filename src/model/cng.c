/* ConNeuGroup (BrainPy's CondNeuGroup, V2.3.8 dyn/base.py:1032): a
 * conductance-based neuron assembled from ion channels (channels.c),
 *   C dV/dt = sum_j g_j (E_j - V) + input * 1e-3 / A,
 * with spike detection by upward crossing of V_th (no reset). Each step,
 * as BrainPy: V is integrated with the gates frozen; every gate with V of
 * the previous step; each calcium ion's concentration after its channels,
 * from their calcium current; then E_Ca from the new concentration. Every
 * variable obeys dx/dt = A - B x with the others frozen, so each method is
 * applied to that linear equation (exp_auto is exact for it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ode.h"

enum { P_C, P_A, P_VTH, NP };

static const bs_param cng_params[NP] = {
    {"C", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "membrane capacitance (uF/cm^2)"},
    {"A", BS_DIM_ONE, 1e-3, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "membrane area (cm^2): the input (nA) is scaled by 1e-3 / A"},
    {"V_th", BS_DIM_VOLTAGE, 0.0, -HUGE_VAL, HUGE_VAL, 0,
     "spike detection threshold (upward crossing)"},
};

static const bs_var v_var = {.name = "V",
                             .dim = BS_DIM_VOLTAGE,
                             .init = -70.0,
                             .doc = "membrane potential (default "
                                    "Uniform(-70, -60))",
                             .init_kind = BS_DIST_UNIFORM,
                             .init_b = -60.0};

typedef struct cng_chan {
  const bs_channel_kind *kind;
  double p[BS_CH_MAX_P];
  double k[BS_CH_MAX_K];
  int parent; /* ion channel index, or -1 */
  int x0;     /* first state variable */
  char *name; /* as the config names it (checkpoint identity) */
} cng_chan;

typedef struct cng {
  bs_neuron_model m; /* first: a->model points here */
  int nch;
  cng_chan *ch;
  bs_var *vars;
  char **names;
} cng;

/* E_Ca and C_Ca of channel c's ion for neuron i (0 without an ion). */
static inline void ion_state(const cng *g, const cng_chan *c, double *const *x,
                             size_t i, double *E, double *Ca) {
  if (c->parent < 0) {
    *E = 0.0;
    *Ca = 0.0;
    return;
  }
  const cng_chan *ion = &g->ch[c->parent];
  if (ion->kind->ngate == 0) { /* CalciumFixed */
    *E = ion->p[0];
    *Ca = ion->p[1];
  } else {
    *Ca = x[ion->x0][i];
    *E = x[ion->x0 + 1][i];
  }
}

#define BLK BS_CH_BLOCK

/* E_Ca and C_Ca of channel c's ion over the block at i0: pointers into
 * the state, into Eb, Cb (CalciumFixed's constants) or to zero. */
static void ion_block(const cng *g, const cng_chan *c, double *const *x,
                      size_t i0, int n, const double *zero, double *Eb,
                      double *Cb, const double **E, const double **Ca) {
  *E = *Ca = zero;
  if (c->parent < 0)
    return;
  const cng_chan *ion = &g->ch[c->parent];
  if (ion->kind->ngate) {
    *Ca = x[ion->x0] + i0;
    *E = x[ion->x0 + 1] + i0;
    return;
  }
  for (int i = 0; i < n; i++) { /* CalciumFixed */
    Eb[i] = ion->p[0];
    Cb[i] = ion->p[1];
  }
  *E = Eb;
  *Ca = Cb;
}

/* The state of channel c's gates over the block at i0 (SoA pointers). */
static void gate_ptrs(const cng_chan *c, double *const *x, size_t i0,
                      double *xp[BS_CH_MAX_GATES]) {
  for (int q = 0; q < BS_CH_MAX_GATES; q++)
    xp[q] = q < c->kind->ngate ? x[c->x0 + q] + i0 : NULL;
}

static void cond_block(const cng_chan *c, int n, double *const *xp,
                       const double *Ca, double *gc) {
  const bs_channel_kind *kd = c->kind;
  if (kd->conductance_n) {
    kd->conductance_n(c->p, n, (const double *const *)xp, Ca, gc);
    return;
  }
  for (int i = 0; i < n; i++) {
    double xg[BS_CH_MAX_GATES];
    for (int q = 0; q < kd->ngate; q++)
      xg[q] = xp[q][i];
    gc[i] = kd->conductance(c->p, xg, Ca[i]);
  }
}

/* x[i] <- one step of dx/dt = A[i] - B[i] x[i], in place; the switch is
 * outside the loop so that each loop vectorizes. */
#define LIN_LOOP(M)                                                            \
  for (int i = 0; i < n; i++)                                                  \
    x[i] = bs_vlin_step(M, x[i], A[i], B[i], dt);                              \
  break;
/* bs_vlin_step's exp_auto with the phi BS_VPHI_LOOP picks (the same bits) */
#define LIN_EXP_STEP(PHI)                                                      \
  {                                                                            \
    const double f = A[i] - B[i] * x[i];                                       \
    x[i] = x[i] + dt * PHI(-B[i] * dt) * f;                                    \
  }
BS_CH_CLONES static void lin_block(int method, int n, double *x,
                                   const double *A, const double *B,
                                   double dt) {
  switch (method) {
  case BS_METHOD_EXP_AUTO: {
    /* Slow variables (V, most gates) have |B dt| < 0.75 in every neuron of
     * a block, fast ones (COBAHH's m) >= 0.75: then phi takes one of its
     * two forms alone (the series with no exp and no division, or expm1/z).
     * A neuron's bits do not depend on the branch taken (bs_vphi). */
    int nsmall = 0;
    for (int i = 0; i < n; i++)
      nsmall += fabs(B[i] * dt) < 0.75;
    BS_VPHI_LOOP(n, nsmall, LIN_EXP_STEP);
    break;
  }
  case BS_METHOD_EULER:
    LIN_LOOP(BS_METHOD_EULER)
  case BS_METHOD_RK2:
    LIN_LOOP(BS_METHOD_RK2)
  default:
    LIN_LOOP(BS_METHOD_RK4)
  }
}

/* GCC 12 sees the block arrays as maybe uninitialized in the clones
 * (they are set for i < n before any read); clang has no such warning. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/* One block of n <= BLK neurons at i0, channel by channel: each channel's
 * kernel runs over the whole block (one indirect call per block), the
 * per-neuron arithmetic is that of the neuron-by-neuron form. I and G
 * (NULL: none) are the block's input; bad, where not NULL, gets bit 63
 * when a stored state is not finite (the fused update's test). */
BS_CH_CLONES static size_t cng_block(const cng *g, const bs_neuron_args *a,
                                     size_t i0, int n, const double *I,
                                     const double *G, size_t nspk,
                                     uint64_t *bad) {
  const int nch = g ? g->nch : 0;
  const double rC = 1.0 / a->p[P_C], s = 1e-3 / a->p[P_A];
  const double V_th = a->p[P_VTH];
  const double dt = a->dt;
  const int method = a->method;
  double *const *x = a->x;
  double V0[BLK], V[BLK], J[BLK], Gb[BLK], gs[BLK], gE[BLK], gc[BLK], Eb[BLK],
      Cb[BLK], zero[BLK], A[BS_CH_MAX_GATES][BLK], B[BS_CH_MAX_GATES][BLK];
  const double *E, *Ca;
  for (int i = 0; i < n; i++) {
    V0[i] = x[0][i0 + i];
    Gb[i] = G ? G[i] : 0.0;
    J[i] = I[i] + Gb[i] * V0[i];
    gs[i] = 0.0;
    gE[i] = 0.0;
    zero[i] = 0.0;
  }
  /* 1. V with the gates frozen: C dV/dt = sum g (E - V) + s (J - G V) */
  for (int c = 0; c < nch; c++) {
    const cng_chan *ch = &g->ch[c];
    const bs_channel_kind *kd = ch->kind;
    if (kd->flags & BS_CH_ION)
      continue;
    double *xp[BS_CH_MAX_GATES];
    gate_ptrs(ch, x, i0, xp);
    ion_block(g, ch, x, i0, n, zero, Eb, Cb, &E, &Ca);
    cond_block(ch, n, xp, Ca, gc);
    if (kd->e_param >= 0) {
      const double e = ch->p[kd->e_param];
      for (int i = 0; i < n; i++) {
        gs[i] += gc[i];
        gE[i] += gc[i] * e;
      }
    } else {
      for (int i = 0; i < n; i++) {
        gs[i] += gc[i];
        gE[i] += gc[i] * E[i];
      }
    }
  }
  for (int i = 0; i < n; i++) {
    V[i] = V0[i];
    gE[i] = (gE[i] + s * J[i]) * rC; /* A and B of V */
    gs[i] = (gs[i] + s * Gb[i]) * rC;
  }
  lin_block(method, n, V, gE, gs, dt);
  /* 2. gates with V of the previous step (and C, E of the previous step) */
  for (int c = 0; c < nch; c++) {
    const cng_chan *ch = &g->ch[c];
    const bs_channel_kind *kd = ch->kind;
    if (!kd->kinetics)
      continue;
    double *xp[BS_CH_MAX_GATES];
    gate_ptrs(ch, x, i0, xp);
    ion_block(g, ch, x, i0, n, zero, Eb, Cb, &E, &Ca);
    if (kd->kinetics_n) {
      kd->kinetics_n(ch->p, ch->k, n, V0, Ca, (const double *const *)xp, A, B);
    } else {
      for (int i = 0; i < n; i++) {
        double xg[BS_CH_MAX_GATES], Ai[BS_CH_MAX_GATES], Bi[BS_CH_MAX_GATES];
        for (int q = 0; q < kd->ngate; q++)
          xg[q] = xp[q][i];
        kd->kinetics(ch->p, ch->k, V0[i], Ca[i], xg, Ai, Bi);
        for (int q = 0; q < kd->ngate; q++) {
          A[q][i] = Ai[q];
          B[q][i] = Bi[q];
        }
      }
    }
    for (int q = 0; q < kd->ngate; q++)
      lin_block(method, n, xp[q], A[q], B[q], dt);
  }
  /* 3. calcium: influx from the updated calcium channels at V0 and the
   *    old E_Ca; then E_Ca from the new concentration */
  for (int c = 0; c < nch; c++) {
    const cng_chan *ion = &g->ch[c];
    if (!(ion->kind->flags & BS_CH_ION) || ion->kind->ngate == 0)
      continue;
    double *Cx = x[ion->x0] + i0, *Ex = x[ion->x0 + 1] + i0;
    double ica[BLK];
    for (int i = 0; i < n; i++)
      ica[i] = 0.0;
    for (int d = c + 1; d < nch; d++) {
      const cng_chan *ch = &g->ch[d];
      if (ch->parent != c || !(ch->kind->flags & BS_CH_CA_CURRENT))
        continue;
      double *xp[BS_CH_MAX_GATES];
      gate_ptrs(ch, x, i0, xp);
      cond_block(ch, n, xp, Cx, gc);
      for (int i = 0; i < n; i++)
        ica[i] += gc[i] * (Ex[i] - V0[i]);
    }
    for (int i = 0; i < n; i++) {
      double Ai, Bi;
      ion->kind->ion_rate(ion->p, ion->k, ica[i], &Ai, &Bi);
      const double Cn = bs_vlin_step(method, Cx[i], Ai, Bi, dt);
      Cx[i] = Cn;
      Ex[i] = ion->kind->ion_E(ion->p, ion->k, Cn);
    }
  }
  /* 4. spike: upward crossing, no reset. The crossings as flags in a loop
   * that vectorizes (with V's store), the rare spikes collected after. */
  uint64_t fired[BLK], nf = 0;
  { /* xV's restrict scope: the store loop only */
    double *restrict xV = x[0] + i0;
    for (int i = 0; i < n; i++) {
      const uint64_t f = (uint64_t)(V0[i] < V_th) & (uint64_t)(V[i] >= V_th);
      fired[i] = f;
      nf += f;
      xV[i] = V[i];
    }
  }
  if (nf)
    nspk = bs_spikes_collect(a->spk, nspk, i0, fired, (size_t)n, nf);
  if (bad) /* every variable: V, the gates, each ion's C and E */
    for (int v = 0; v < (g ? g->m.nx : 1); v++) {
      const double *xv = x[v] + i0;
      uint64_t b = 0;
      for (int i = 0; i < n; i++)
        b |= bs_nonfinite_bit(xv[i]);
      *bad |= b;
    }
  return nspk;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Neurons [b0, b0 + n) with input I, G (G may be NULL) in pieces of BLK:
 * the unfused update (all of them) and the fused update's block
 * (bs_fused_update). */
static void cng_fused_block(const bs_neuron_args *a, size_t b0, size_t n,
                            const double *I, const double *G, size_t *nspk,
                            uint64_t *bad) {
  const cng *g = a->model ? a->model->impl : NULL;
  for (size_t s = 0; s < n; s += BLK) {
    const size_t m = n - s < BLK ? n - s : BLK;
    *nspk =
        cng_block(g, a, b0 + s, (int)m, I + s, G ? G + s : NULL, *nspk, bad);
  }
}

static void cng_update(bs_neuron_args *a) {
  size_t nspk = 0;
  cng_fused_block(a, 0, a->n, a->I, a->G, &nspk, NULL);
  a->nspk = nspk;
}

static const bs_fused_neuron cng_fused_kernel = {.block = cng_fused_block,
                                                 .needs_G = 1};
static const bs_fused_neuron *cng_fused(int method) {
  (void)method; /* cng_block takes every method */
  return &cng_fused_kernel;
}

/* Variables left at NAN by default: ions' E from C, gates at their steady
 * state at (V0, C0) (BrainPy's reset_state). */
static void cng_init(bs_neuron_args *a) {
  const cng *g = a->model ? a->model->impl : NULL;
  if (!g)
    return;
  double *const *x = a->x;
  for (size_t i = 0; i < a->n; i++) {
    const double V = x[0][i];
    for (int c = 0; c < g->nch; c++) {
      const cng_chan *ch = &g->ch[c];
      const bs_channel_kind *kd = ch->kind;
      if (kd->flags & BS_CH_ION) {
        if (kd->ngate && isnan(x[ch->x0 + 1][i]))
          x[ch->x0 + 1][i] = kd->ion_E(ch->p, ch->k, x[ch->x0][i]);
        continue;
      }
      if (!kd->kinetics)
        continue;
      double E, Ca, xs[BS_CH_MAX_GATES] = {0}, A[BS_CH_MAX_GATES],
                    B[BS_CH_MAX_GATES];
      ion_state(g, ch, x, i, &E, &Ca);
      if (kd->steady) {
        kd->steady(ch->p, ch->k, V, Ca, xs);
      } else {
        kd->kinetics(ch->p, ch->k, V, Ca, xs, A, B);
        for (int q = 0; q < kd->ngate; q++)
          xs[q] = A[q] / B[q];
      }
      for (int q = 0; q < kd->ngate; q++)
        if (isnan(x[ch->x0 + q][i]))
          x[ch->x0 + q][i] = xs[q];
    }
  }
}

const bs_neuron_model bs_model_cng = {
    .name = "ConNeuGroup",
    .doc = "conductance-based neuron built from ion channels (BrainPy "
           "CondNeuGroup): channels: {NAME: {kind: KIND, ...}}",
    .np = NP,
    .params = cng_params,
    .nx = 1,
    .vars = &v_var,
    .has_V = 1,
    .update = cng_update,
    .init = cng_init,
    .methods = BS_METHODS_ALL,
    .fused = cng_fused,
};

int bs_neuron_is_cng(const bs_neuron_model *m) {
  return m == &bs_model_cng || (m && m->update == cng_update);
}

int bs_cng_channel_count(const bs_neuron_model *m) {
  return bs_neuron_is_cng(m) && m->impl ? ((const cng *)m->impl)->nch : 0;
}

const double *bs_cng_channel_params(const bs_neuron_model *m, int c,
                                    const bs_channel_kind **kind,
                                    const char **name) {
  const cng_chan *ch = &((const cng *)m->impl)->ch[c];
  *kind = ch->kind;
  *name = ch->name;
  return ch->p;
}

void bs_cng_destroy(bs_neuron_model **model) {
  if (!model || !*model)
    return;
  cng *g = (cng *)(*model)->impl;
  if (g) {
    for (int v = 0; v < g->m.nx; v++)
      free(g->names ? g->names[v] : NULL);
    free(g->names);
    free(g->vars);
    for (int c = 0; g->ch && c < g->nch; c++)
      free(g->ch[c].name);
    free(g->ch);
    free(g);
  }
  *model = NULL;
}

bs_neuron_model *bs_cng_create(int nch, const bs_cng_channel *spec) {
  cng *g = calloc(1, sizeof *g);
  if (!g)
    return NULL;
  g->m = bs_model_cng;
  g->m.impl = g;
  g->nch = nch;
  int nx = 1;
  for (int c = 0; c < nch; c++)
    nx += spec[c].kind->ngate;
  g->ch = calloc((size_t)(nch ? nch : 1), sizeof *g->ch);
  g->vars = calloc((size_t)nx, sizeof *g->vars);
  g->names = calloc((size_t)nx, sizeof *g->names);
  g->m.nx = nx;
  bs_neuron_model *m = &g->m;
  if (!g->ch || !g->vars || !g->names) {
    bs_cng_destroy(&m);
    return NULL;
  }
  g->vars[0] = v_var;
  int v = 1;
  for (int c = 0; c < nch; c++) {
    const bs_channel_kind *kd = spec[c].kind;
    cng_chan *ch = &g->ch[c];
    ch->kind = kd;
    memcpy(ch->p, spec[c].p, sizeof ch->p);
    ch->parent = spec[c].parent;
    ch->x0 = v;
    ch->name = malloc(strlen(spec[c].name) + 1);
    if (!ch->name) {
      bs_cng_destroy(&m);
      return NULL;
    }
    strcpy(ch->name, spec[c].name);
    if (kd->prepare)
      kd->prepare(ch->p, ch->k);
    for (int q = 0; q < kd->ngate; q++, v++) {
      char buf[512];
      if (ch->parent >= 0)
        snprintf(buf, sizeof buf, "%s.%s.%s", spec[ch->parent].name,
                 spec[c].name, kd->gates[q]);
      else
        snprintf(buf, sizeof buf, "%s.%s", spec[c].name, kd->gates[q]);
      g->names[v] = malloc(strlen(buf) + 1);
      if (!g->names[v]) {
        bs_cng_destroy(&m);
        return NULL;
      }
      strcpy(g->names[v], buf);
      const int is_ion = (kd->flags & BS_CH_ION) != 0;
      /* Ions: C starts at 2.4e-4 mM (BrainPy's C_initializer), E from C;
       * gates at their steady state. */
      g->vars[v] = (bs_var){
          .name = g->names[v],
          .dim = is_ion && q == 1 ? BS_DIM_VOLTAGE : BS_DIM_ONE,
          .init = is_ion && q == 0 ? 2.4e-4 : NAN,
          .doc = is_ion ? (q == 0 ? "calcium concentration (mM)"
                                  : "calcium reversal potential (from C)")
                        : "gating variable (default: steady state at V0)"};
    }
  }
  g->m.vars = g->vars;
  return m;
}

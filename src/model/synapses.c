/* Synapse kinetics and outputs. Exponential (BrainPy Exponential /
 * ExpCUBA / ExpCOBA): one trace g per post-synaptic neuron, since all
 * synapses of a projection share tau and sum linearly:
 *   g <- g e^{-dt/tau} + sum of arriving weights  (exp_auto is exact).
 * Outputs (BrainPy synouts): CUBA adds g; COBA adds g (E - V_post) with the
 * post-synaptic V of the previous step, and g to the input conductance. */
#include <math.h>
#include <string.h>

#include "model_impl.h"

enum { EXP_TAU, EXP_NP };
enum { EXP_G, EXP_NX };
enum { EXP_K_DECAY, EXP_NK };

static const bs_param exp_params[EXP_NP] = {
    {"tau", BS_DIM_TIME, 8.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "decay time constant"},
};
static const bs_var exp_vars[EXP_NX] = {
    BS_VAR("g", BS_DIM_ONE, 0.0, "synaptic conductance (per post neuron)"),
};

static void exp_prepare(const double *p, double dt, double *k) {
  k[EXP_K_DECAY] = exp(-dt / p[EXP_TAU]);
}

BS_CLONES static void exp_update(bs_syn_args *a) {
  const double decay = a->k[EXP_K_DECAY];
  double *restrict g = a->x[EXP_G];
  double *restrict in = a->in;
  for (size_t i = 0; i < a->n; i++) {
    g[i] = BS_FMA(g[i], decay, in[i]);
    in[i] = 0.0;
  }
}

const bs_syn_model bs_syn_exponential = {
    .name = "Exponential",
    .doc = "single-exponential decay, one trace per post neuron",
    .np = EXP_NP,
    .params = exp_params,
    .nx = EXP_NX,
    .vars = exp_vars,
    .nk = EXP_NK,
    .prepare = exp_prepare,
    .update = exp_update,
};

/* DualExponential (BrainPy DualExponential, DualExpCUBA/DualExpCOBA):
 *   dh/dt = -h / tau_rise,  dg/dt = -g / tau_decay + h,
 * arrivals add to h after the step's integration (BrainPy 2.3.8 update():
 * integrate, then h += spike, then the output reads g). BrainPy keeps (g,
 * h) per pre neuron and multiplies by the weights every step; the map is
 * linear with per-projection time constants, so one (g, h) per post neuron
 * fed with the summed weights gives the same g_post = sum_i w_ij g_i.
 * Integration as BrainPy's exp_auto on JointEq([dg, dh]): each variable is
 * advanced exactly for its own equation with the other frozen at its old
 * value (Jacobi style):
 *   g <- g e_d + tau_decay (1 - e_d) h_old,  h <- h e_r,
 * with e_d = exp(-dt/tau_decay), e_r = exp(-dt/tau_rise). After one weight w
 * arriving in step n, g in step n + k is
 *   w tau_d (1 - e_d) (e_d^k - e_r^k) / (e_d - e_r)   (e_d != e_r),
 *   w tau_d (1 - e_d) k e_d^(k-1)                      (Alpha),
 * the discrete recursion's closed form (tests/python/test_dual_exp.py). No
 * peak normalisation, as in BrainPy. */
enum { DE_TAU_DECAY, DE_TAU_RISE, DE_NP };
enum { DE_G, DE_H, DE_NX };
enum { DE_K_ED, DE_K_ER, DE_K_C, DE_NK };

static const bs_param de_params[DE_NP] = {
    {"tau_decay", BS_DIM_TIME, 10.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "decay time constant of g"},
    {"tau_rise", BS_DIM_TIME, 1.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "decay time constant of h (the rise of g)"},
};
static const bs_var de_vars[DE_NX] = {
    BS_VAR("g", BS_DIM_ONE, 0.0, "synaptic conductance (per post neuron)"),
    BS_VAR("h", BS_DIM_ONE, 0.0, "rise variable (per post neuron)"),
};

static void de_prepare_taus(double tau_d, double tau_r, double dt, double *k) {
  k[DE_K_ED] = exp(-dt / tau_d);
  k[DE_K_ER] = exp(-dt / tau_r);
  /* exp_auto of dg/dt = -g/tau_d + h: g + dt phi(-dt/tau_d) f, which is
   * g e_d + tau_d (1 - e_d) h; -expm1 keeps (1 - e_d) accurate. */
  k[DE_K_C] = -tau_d * expm1(-dt / tau_d);
}

static void de_prepare(const double *p, double dt, double *k) {
  de_prepare_taus(p[DE_TAU_DECAY], p[DE_TAU_RISE], dt, k);
}

static void de_update(bs_syn_args *a) {
  const double ed = a->k[DE_K_ED], er = a->k[DE_K_ER], c = a->k[DE_K_C];
  double *restrict g = a->x[DE_G];
  double *restrict h = a->x[DE_H];
  double *restrict in = a->in;
  for (size_t i = 0; i < a->n; i++) {
    const double h0 = h[i];
    g[i] = g[i] * ed + c * h0;
    h[i] = h0 * er + in[i];
    in[i] = 0.0;
  }
}

const bs_syn_model bs_syn_dual_exponential = {
    .name = "DualExponential",
    .doc = "rise and decay (dh = -h/tau_rise, dg = -g/tau_decay + h), one "
           "(g, h) per post neuron",
    .np = DE_NP,
    .params = de_params,
    .nx = DE_NX,
    .vars = de_vars,
    .nk = DE_NK,
    .prepare = de_prepare,
    .update = de_update,
};

/* Alpha (BrainPy 2.3.8 Alpha): DualExponential with tau_rise = tau_decay,
 * i.e. dg/dt = -g/tau + h. (BrainPy 2.5 changed it to -g/tau + h/tau, which
 * scales g by 1/tau; brainsim keeps 2.3.8's, the version of the
 * reference.) */
static const bs_param alpha_params[] = {
    {"tau_decay", BS_DIM_TIME, 10.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of both g and h"},
};

static void alpha_prepare(const double *p, double dt, double *k) {
  de_prepare_taus(p[0], p[0], dt, k);
}

const bs_syn_model bs_syn_alpha = {
    .name = "Alpha",
    .doc = "alpha function: DualExponential with tau_rise = tau_decay",
    .np = 1,
    .params = alpha_params,
    .nx = DE_NX,
    .vars = de_vars,
    .nk = DE_NK,
    .prepare = alpha_prepare,
    .update = de_update,
};

/* Delta (BrainPy Delta / DeltaSynapse): no state; the weights arriving in
 * step n are added to the post-synaptic V before the neurons integrate in
 * step n, so a V sample of step n (taken after the synapses) already shows
 * the jump of exactly w. With refractory gating (BrainPy post_ref_key /
 * DeltaSynapse post_has_ref) the arrivals are multiplied by (1 -
 * refractory), BrainPy's refractory flag as its last update left it:
 * t_{n-1} - t_last_spike <= tau_ref (true in the step after a spike, and
 * one step past the end of the hold, as in BrainPy). Without gating a
 * neuron held at its old V during refractoriness keeps the jump. */
static void delta_update(bs_syn_args *a) {
  double *restrict V = a->V;
  double *restrict in = a->in;
  if (a->t_last) {
    const double *restrict tl = a->t_last;
    const double t = a->t_prev, lim = a->ref_lim;
    for (size_t i = 0; i < a->n; i++) {
      if (!(t - tl[i] <= lim))
        V[i] += in[i];
      in[i] = 0.0;
    }
    return;
  }
  for (size_t i = 0; i < a->n; i++) {
    V[i] += in[i];
    in[i] = 0.0;
  }
}

const bs_syn_model bs_syn_delta = {
    .name = "Delta",
    .doc = "adds the arriving weights to the post-synaptic V directly, no "
           "state",
    .np = 0,
    .params = NULL,
    .nx = 0,
    .vars = NULL,
    .nk = 0,
    .update = delta_update,
    .to_V = 1,
};

/* GapJunction (BrainPy 2.3.8 GapJunction): an electrical coupling between
 * the pre and post neurons of every connected pair (i, j),
 *   diff_ij = (V_pre_i - V_post_j) w_ij,
 *   post.input += sum_i diff_ij,  pre.input -= sum_j diff_ij,
 * with V of the previous step. No state and nothing spike-driven: the
 * engine (engine/gap.c) computes it; this entry names it and its g_max. */
const bs_syn_model bs_syn_gap = {
    .name = "GapJunction",
    .doc = "electrical coupling: both ends get g_max (V_other - V_self) as "
           "input current every step; no state, no output, no delay",
    .np = 0,
    .params = NULL,
    .nx = 0,
    .vars = NULL,
    .nk = 0,
    .gap = 1,
};

static void cuba_apply(bs_out_args *a) {
  const double *restrict g = a->g;
  double *restrict I = a->I;
  for (size_t i = 0; i < a->n; i++)
    I[i] += g[i];
}

const bs_output_model bs_out_cuba = {
    .name = "CUBA",
    .doc = "current-based: I += g",
    .np = 0,
    .params = NULL,
    .needs_V = 0,
    .apply = cuba_apply,
};

static const bs_param coba_params[] = {
    {"E", BS_DIM_VOLTAGE, 0.0, -HUGE_VAL, HUGE_VAL, 0,
     "reversal potential: a value, an initializer or a list of post.num "
     "values (per post neuron)"},
};

BS_CLONES static void coba_apply(bs_out_args *a) {
  const double E = a->p[0];
  const double *restrict g = a->g;
  const double *restrict V = a->V;
  double *restrict I = a->I;
  if (a->E) { /* per post neuron */
    const double *restrict Ej = a->E;
    for (size_t i = 0; i < a->n; i++)
      I[i] = BS_FMA(g[i], Ej[i] - V[i], I[i]);
  } else {
    for (size_t i = 0; i < a->n; i++)
      I[i] = BS_FMA(g[i], E - V[i], I[i]);
  }
  /* The conductance too, so that models with a right-hand side can treat
   * g (E - V) as linear in V within the step. */
  if (a->G) {
    double *restrict Gs = a->G;
    for (size_t i = 0; i < a->n; i++)
      Gs[i] += g[i];
  }
}

const bs_output_model bs_out_coba = {
    .name = "COBA",
    .doc = "conductance-based: I += g (E - V)",
    .np = 1,
    .params = coba_params,
    .needs_V = 1,
    .apply = coba_apply,
};

/* MgBlock (BrainPy synouts.MgBlock, the NMDA output): the magnesium block
 *   I += g (E - V) / (1 + cc_Mg / beta exp(-alpha V))
 * with V of the previous step. The current is nonlinear in V; the input
 * conductance gets the block frozen at that V, G += g B(V) with
 * B = 1 / (1 + ...), so models that take G into their linearisation treat
 * the current as g B(V_prev) (E - V) within the step: ohmic in V with the
 * block's voltage dependence lagging one step, the same freezing as every
 * other coefficient under exp_auto. The full derivative (including
 * dB/dV) is not used because it is negative over NMDA's negative-slope
 * region, where it would turn G into a destabilising negative
 * conductance. */
enum { MG_E, MG_CC, MG_ALPHA, MG_BETA, MG_NP };
static const bs_param mg_params[MG_NP] = {
    {"E", BS_DIM_VOLTAGE, 0.0, -HUGE_VAL, HUGE_VAL, 0,
     "reversal potential (a value, an initializer or a list of post.num "
     "values)"},
    {"cc_Mg", BS_DIM_ONE, 1.2, 0.0, HUGE_VAL, 0,
     "extracellular magnesium concentration (mM)"},
    {"alpha", BS_DIM_ONE, 0.062, -HUGE_VAL, HUGE_VAL, 0,
     "voltage sensitivity of the block (1/mV)"},
    {"beta", BS_DIM_ONE, 3.57, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "magnesium dissociation constant (mM)"},
};

static void mg_apply(bs_out_args *a) {
  const double E = a->p[MG_E], r = a->p[MG_CC] / a->p[MG_BETA];
  const double alpha = a->p[MG_ALPHA];
  const double *restrict g = a->g;
  const double *restrict V = a->V;
  double *restrict I = a->I;
  double *restrict Gs = a->G;
  for (size_t i = 0; i < a->n; i++) {
    const double gb = g[i] / (1.0 + r * exp(-alpha * V[i]));
    I[i] += gb * ((a->E ? a->E[i] : E) - V[i]);
    if (Gs)
      Gs[i] += gb;
  }
}

const bs_output_model bs_out_mgblock = {
    .name = "MgBlock",
    .doc = "NMDA magnesium block: I += g (E - V) / (1 + cc_Mg/beta "
           "exp(-alpha V))",
    .np = MG_NP,
    .params = mg_params,
    .needs_V = 1,
    .apply = mg_apply,
};

/* ---- fused block kernels ----------------------------------------------
 * Block forms of a synapse's update followed by its output (as
 * engine/linear.c runs them): the same operations per neuron in the same
 * order, in one loop, so they vectorize and give the same bits. */

/* The output of conductance gi into neuron i of the block: CUBA adds gi;
 * COBA adds gi (E - V), E per post (Ej) or not, and gi to G when G is
 * tracked: four loops, so no test is left inside one. */
#define OUT_CUBA(i, gi) I[i] += (gi);
#define OUT_COBA_EJ(i, gi) I[i] = BS_FMA(gi, Ej[i] - V[i], I[i]);
#define OUT_COBA_E(i, gi) I[i] = BS_FMA(gi, E - V[i], I[i]);
#define OUT_COBA_EJ_G(i, gi) OUT_COBA_EJ(i, gi) G[i] += (gi);
#define OUT_COBA_E_G(i, gi) OUT_COBA_E(i, gi) G[i] += (gi);

/* exp_update then the output. */
#define EXP_BLOCK(OUT)                                                         \
  const double decay = s->k[EXP_K_DECAY];                                      \
  double *restrict g = s->x[EXP_G] + b0;                                       \
  uint64_t b = 0;                                                              \
  for (size_t i = 0; i < n; i++) {                                             \
    const double gi = BS_FMA(g[i], decay, in[i]);                              \
    g[i] = gi;                                                                 \
    in[i] = 0.0;                                                               \
    OUT(i, gi)                                                                 \
    b |= bs_nonfinite_bit(gi);                                                 \
  }                                                                            \
  *bad |= b;

/* de_update (DualExponential, Alpha) then the output. */
#define DE_BLOCK(OUT)                                                          \
  const double ed = s->k[DE_K_ED], er = s->k[DE_K_ER], c = s->k[DE_K_C];       \
  double *restrict g = s->x[DE_G] + b0;                                        \
  double *restrict h = s->x[DE_H] + b0;                                        \
  uint64_t b = 0;                                                              \
  for (size_t i = 0; i < n; i++) {                                             \
    const double h0 = h[i];                                                    \
    const double gi = g[i] * ed + c * h0;                                      \
    const double hi = h0 * er + in[i];                                         \
    g[i] = gi;                                                                 \
    h[i] = hi;                                                                 \
    in[i] = 0.0;                                                               \
    OUT(i, gi)                                                                 \
    b |= bs_nonfinite_bit(gi) | bs_nonfinite_bit(hi);                          \
  }                                                                            \
  *bad |= b;

#define COBA_VARIANTS(BLOCK)                                                   \
  const double E = s->op[0];                                                   \
  const double *restrict Ej = s->E ? s->E + b0 : NULL;                         \
  if (Ej && G) {                                                               \
    BLOCK(OUT_COBA_EJ_G)                                                       \
  } else if (Ej) {                                                             \
    BLOCK(OUT_COBA_EJ)                                                         \
  } else if (G) {                                                              \
    BLOCK(OUT_COBA_E_G)                                                        \
  } else {                                                                     \
    BLOCK(OUT_COBA_E)                                                          \
  }

#define FUSED_ARGS                                                             \
  const bs_fused_syn *s, size_t b0, size_t n, double *restrict in,             \
      const double *restrict V, double *restrict I, double *restrict G,        \
      uint64_t *bad

BS_CLONES static void exp_cuba_block(FUSED_ARGS) {
  (void)V, (void)G;
  EXP_BLOCK(OUT_CUBA)
}
BS_CLONES static void exp_coba_block(FUSED_ARGS){
    COBA_VARIANTS(EXP_BLOCK)} BS_CLONES static void de_cuba_block(FUSED_ARGS) {
  (void)V, (void)G;
  DE_BLOCK(OUT_CUBA)
}
BS_CLONES static void de_coba_block(FUSED_ARGS) { COBA_VARIANTS(DE_BLOCK) }

/* The terms (bs_fused_term) of exp_cuba_block and exp_coba_block with a
 * scalar E. */
static int exp_cuba_term(const bs_fused_syn *s, bs_fused_term *t) {
  *t = (bs_fused_term){
      .g = s->x[EXP_G], .decay = s->k[EXP_K_DECAY], .a = 1.0, .c = 0.0};
  return 1;
}
static int exp_coba_term(const bs_fused_syn *s, bs_fused_term *t) {
  *t = (bs_fused_term){
      .g = s->x[EXP_G], .decay = s->k[EXP_K_DECAY], .a = s->op[0], .c = 1.0};
  return !s->E;
}

typedef int (*term_fn)(const bs_fused_syn *s, bs_fused_term *t);
static const struct {
  const bs_syn_model *syn;
  const bs_output_model *out;
  bs_fused_syn_fn fn;
  term_fn term;
} fused_kernels[] = {
    {&bs_syn_exponential, &bs_out_cuba, exp_cuba_block, exp_cuba_term},
    {&bs_syn_exponential, &bs_out_coba, exp_coba_block, exp_coba_term},
    {&bs_syn_dual_exponential, &bs_out_cuba, de_cuba_block, NULL},
    {&bs_syn_dual_exponential, &bs_out_coba, de_coba_block, NULL},
    {&bs_syn_alpha, &bs_out_cuba, de_cuba_block, NULL},
    {&bs_syn_alpha, &bs_out_coba, de_coba_block, NULL},
};

bs_fused_syn_fn bs_fused_syn_kernel(const bs_syn_model *syn,
                                    const bs_output_model *out, term_fn *term) {
  for (size_t q = 0; q < sizeof fused_kernels / sizeof fused_kernels[0]; q++)
    if (fused_kernels[q].syn == syn && fused_kernels[q].out == out) {
      *term = fused_kernels[q].term;
      return fused_kernels[q].fn;
    }
  *term = NULL;
  return NULL;
}

/* ---- short-term plasticity -------------------------------------------- *
 * Tsodyks-Markram (Tsodyks, Pawelzik & Markram 1998; BrainPy synplast STD
 * and STP) with the corrected facilitation equation du/dt = -u / tau_f
 * (BrainPy <= 2.7 codes U - u/tau_f, fixed upstream in 62207550):
 *   between spikes  x -> 1 with tau_d, u -> 0 with tau_f (exactly);
 *   at a spike      STP: u+ = u- + U (1 - u-),  efficacy u+ x-,
 *                        x+ = x- - u+ x-;
 *                   STD: efficacy x-,  x+ = x- - U x-.
 * The efficacy is the textbook one, the fraction of the resources released
 * by this spike (u+ x-, as NEST's tsodyks2_synapse and Brian2's STP
 * example). BrainPy multiplies by the state after the jump (u+ x+, STD:
 * x+), which makes the first spike after rest transmit (1 - U) instead of
 * U (STP) or 1 (STD), and nothing at all when U = 1. The jump uses the
 * relaxed values u-, x- (BrainPy uses the values before the step's
 * relaxation, a dt-sized difference). Rest is u = 0, x = 1, the fixed
 * point of the corrected equations; BrainPy starts u at U. */
enum { STP_U, STP_TAU_F, STP_TAU_D };

static const bs_param std_params[] = {
    {"tau", BS_DIM_TIME, 200.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "recovery time constant of the resources x"},
    {"U", BS_DIM_ONE, 0.07, 0.0, 1.0, BS_P_LO_OPEN,
     "fraction of the resources used by a spike"},
};
static const int std_slot[] = {STP_TAU_D, STP_U};
static const bs_param stp_params[] = {
    {"U", BS_DIM_ONE, 0.15, 0.0, 1.0, BS_P_LO_OPEN,
     "increment of the utilisation u per spike (u+ = u + U (1 - u))"},
    {"tau_f", BS_DIM_TIME, 1500.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "facilitation time constant (u decays to 0)"},
    {"tau_d", BS_DIM_TIME, 200.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "depression time constant (x recovers to 1)"},
};
static const int stp_slot[] = {STP_U, STP_TAU_F, STP_TAU_D};

static const bs_stp_model stp_models[] = {
    {"STD", "short-term depression (x only)", BS_STP_STD, 2, std_params,
     std_slot},
    {"STP", "short-term facilitation and depression (u and x)", BS_STP_STP, 3,
     stp_params, stp_slot},
};

const bs_stp_model *bs_stp_find(const char *name) {
  for (int i = 0; i < bs_stp_count(); i++)
    if (strcmp(stp_models[i].name, name) == 0)
      return &stp_models[i];
  return NULL;
}
int bs_stp_count(void) {
  return (int)(sizeof stp_models / sizeof stp_models[0]);
}
const bs_stp_model *bs_stp_at(int i) { return &stp_models[i]; }

void bs_stp_rest(double *u, double *x) {
  *u = 0.0;
  *x = 1.0;
}

double bs_stp_spike(bs_stp_kind kind, const double *p, double dt,
                    int64_t gap_steps, double *u, double *x) {
  const double gap = (double)gap_steps * dt;
  double xm = 1.0 + (*x - 1.0) * exp(-gap / p[STP_TAU_D]);
  if (kind == BS_STP_STD) {
    *x = xm - p[STP_U] * xm;
    return xm;
  }
  const double um = *u * exp(-gap / p[STP_TAU_F]);
  const double up = um + p[STP_U] * (1.0 - um);
  *u = up;
  *x = xm - up * xm;
  return up * xm;
}

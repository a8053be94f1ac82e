/* Synapse kinetics and outputs. Exponential (BrainPy Exponential /
 * ExpCUBA / ExpCOBA): one trace g per post-synaptic neuron, since all
 * synapses of a projection share tau and sum linearly:
 *   g <- g e^{-dt/tau} + sum of arriving weights  (exp_auto is exact).
 * Outputs (BrainPy synouts): CUBA adds g; COBA adds g (E - V_post) with the
 * post-synaptic V of the previous step, and g to the input conductance. */
#include <math.h>

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

static void exp_update(bs_syn_args *a) {
  const double decay = a->k[EXP_K_DECAY];
  double *restrict g = a->x[EXP_G];
  double *restrict in = a->in;
  for (size_t i = 0; i < a->n; i++) {
    g[i] = g[i] * decay + in[i];
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
    {"E", BS_DIM_VOLTAGE, 0.0, -HUGE_VAL, HUGE_VAL, 0, "reversal potential"},
};

static void coba_apply(bs_out_args *a) {
  const double E = a->p[0];
  const double *restrict g = a->g;
  const double *restrict V = a->V;
  double *restrict I = a->I;
  for (size_t i = 0; i < a->n; i++)
    I[i] += g[i] * (E - V[i]);
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

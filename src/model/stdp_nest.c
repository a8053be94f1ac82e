/* NEST's stdp_synapse (Gutig et al. 2003; Rubin et al. 2001): traces
 * K+ (pre, tau_plus) and K- (post, tau_minus, in NEST a parameter of the
 * post neuron), each jumping by 1 after its spike is used; with
 * w~ = w / Wmax,
 *   at a post spike: w~ <- min(1, w~ + lambda (1 - w~)^mu_plus K+)
 *   at a pre spike:  w~ <- max(0, w~ - alpha lambda w~^mu_minus K-)
 * mu = 0: additive, mu = 1: multiplicative. Events in time order. */
#include <math.h>

#include "model_impl.h"

enum { TAU_PLUS, TAU_MINUS, LAMBDA, ALPHA, MU_PLUS, MU_MINUS, WMAX, NP };

static const bs_param params[NP] = {
    {"tau_plus", BS_DIM_TIME, 20.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the pre-synaptic trace K+"},
    {"tau_minus", BS_DIM_TIME, 20.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the post-synaptic trace K- (NEST: of the neuron)"},
    {"lambda", BS_DIM_ONE, 0.01, 0.0, HUGE_VAL, 0, "step size"},
    {"alpha", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0,
     "asymmetry: depression / potentiation"},
    {"mu_plus", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0,
     "weight dependence of potentiation (0 additive, 1 multiplicative)"},
    {"mu_minus", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0,
     "weight dependence of depression (0 additive, 1 multiplicative)"},
    {"Wmax", BS_DIM_ONE, 100.0, 0.0, HUGE_VAL, BS_P_LO_OPEN, "largest weight"},
};

static double on_post(const double *p, const double *pre, const double *post,
                      double w) {
  (void)post;
  const double nw =
      w / p[WMAX] + p[LAMBDA] * pow(1.0 - w / p[WMAX], p[MU_PLUS]) * pre[0];
  return nw < 1.0 ? nw * p[WMAX] : p[WMAX];
}

static double on_pre(const double *p, const double *pre, const double *post,
                     double w) {
  (void)pre;
  const double nw = w / p[WMAX] - p[ALPHA] * p[LAMBDA] *
                                      pow(w / p[WMAX], p[MU_MINUS]) * post[0];
  return nw > 0.0 ? nw * p[WMAX] : 0.0;
}

BS_PLAST_KERNELS(NP, 1, 1)

const bs_plast_rule bs_plast_nest = {
    .name = "stdp_synapse",
    .doc = "NEST's stdp_synapse (additive mu = 0, multiplicative mu = 1)",
    .np = NP,
    .params = params,
    .order = BS_PLAST_TIME_ORDER,
    .npre = 1,
    .npost = 1,
    .pre_tau = {TAU_PLUS},
    .post_tau = {TAU_MINUS},
    .pre_row = pre_row,
    .post_col = post_col};

/* BrainPy's STDP_Song2000 (brainpy.dyn.STDP_Song2000): pair-based STDP
 * with one trace per side,
 *   dA_pre/dt = -A_pre / tau_s + sum delta(t - t_pre)
 *   dA_post/dt = -A_post / tau_t + sum delta(t - t_post)
 *   at a pre spike:  w <- clip(w - A2 A_post, W_min, W_max)
 *   at a post spike: w <- clip(w + A1 A_pre, W_min, W_max)
 * in BrainPy's order within a step: both traces take the step's spikes
 * (the pre spikes arriving now, the post spikes of the previous step),
 * then the pre update, then the post update; the spike delivers the
 * updated weight. */
#include <math.h>

#include "model_impl.h"

enum { TAU_S, TAU_T, A1, A2, W_MAX, W_MIN, NP };

static const bs_param params[NP] = {
    {"tau_s", BS_DIM_TIME, 16.8, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the pre-synaptic trace A_pre"},
    {"tau_t", BS_DIM_TIME, 33.7, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the post-synaptic trace A_post"},
    {"A1", BS_DIM_ONE, 0.96, 0.0, HUGE_VAL, 0,
     "potentiation: w += A1 A_pre at a post spike"},
    {"A2", BS_DIM_ONE, 0.53, 0.0, HUGE_VAL, 0,
     "depression: w -= A2 A_post at a pre spike"},
    {"W_max", BS_DIM_ONE, NAN, -HUGE_VAL, HUGE_VAL, BS_P_NULLABLE,
     "upper bound of w (null: none)"},
    {"W_min", BS_DIM_ONE, NAN, -HUGE_VAL, HUGE_VAL, BS_P_NULLABLE,
     "lower bound of w (null: none)"},
};

static double on_pre(const double *p, const double *pre, const double *post,
                     double w) {
  (void)pre;
  return bs_plast_clip(w - p[A2] * post[0], p[W_MIN], p[W_MAX]);
}

static double on_post(const double *p, const double *pre, const double *post,
                      double w) {
  (void)post;
  return bs_plast_clip(w + p[A1] * pre[0], p[W_MIN], p[W_MAX]);
}

static const char *check(const double *p) {
  if (p[W_MIN] > p[W_MAX])
    return "W_min must not exceed W_max";
  return NULL;
}

BS_PLAST_KERNELS(NP, 1, 1)

const bs_plast_rule bs_plast_song2000 = {
    .name = "STDP_Song2000",
    .doc = "BrainPy's pair-based STDP (Song, Miller & Abbott 2000)",
    .np = NP,
    .params = params,
    .order = BS_PLAST_BRAINPY_ORDER,
    .npre = 1,
    .npost = 1,
    .pre_tau = {TAU_S},
    .post_tau = {TAU_T},
    .pre_row = pre_row,
    .post_col = post_col,
    .check = check};

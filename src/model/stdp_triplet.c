/* Triplet STDP of Pfister & Gerstner (2006), all-to-all interactions (the
 * traces sum every earlier spike): pre traces r1 (tau_plus), r2 (tau_x),
 * post traces o1 (tau_minus), o2 (tau_y), each jumping by 1 after its
 * spike is used:
 *   at a pre spike:  w <- w - o1 (A2_minus + A3_minus r2)
 *   at a post spike: w <- w + r1 (A2_plus + A3_plus o2)
 * (r2 and o2 before their own jump: the paper's t - epsilon), then
 * clipped to [W_min, W_max]. Events in time order. Defaults: the paper's
 * visual cortex all-to-all fit (Table 4). */
#include <math.h>

#include "model_impl.h"

enum {
  TAU_PLUS,
  TAU_X,
  TAU_MINUS,
  TAU_Y,
  A2P,
  A3P,
  A2M,
  A3M,
  W_MAX,
  W_MIN,
  NP
};

static const bs_param params[NP] = {
    {"tau_plus", BS_DIM_TIME, 16.8, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the pre trace r1"},
    {"tau_x", BS_DIM_TIME, 101.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the pre trace r2"},
    {"tau_minus", BS_DIM_TIME, 33.7, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the post trace o1"},
    {"tau_y", BS_DIM_TIME, 125.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "time constant of the post trace o2"},
    {"A2_plus", BS_DIM_ONE, 5e-10, 0.0, HUGE_VAL, 0, "pair potentiation"},
    {"A3_plus", BS_DIM_ONE, 6.2e-3, 0.0, HUGE_VAL, 0, "triplet potentiation"},
    {"A2_minus", BS_DIM_ONE, 7e-3, 0.0, HUGE_VAL, 0, "pair depression"},
    {"A3_minus", BS_DIM_ONE, 2.3e-4, 0.0, HUGE_VAL, 0, "triplet depression"},
    {"W_max", BS_DIM_ONE, 1.0, -HUGE_VAL, HUGE_VAL, BS_P_NULLABLE,
     "upper bound of w (null: none)"},
    {"W_min", BS_DIM_ONE, 0.0, -HUGE_VAL, HUGE_VAL, BS_P_NULLABLE,
     "lower bound of w (null: none)"},
};

static double on_pre(const double *p, const double *pre, const double *post,
                     double w) {
  return bs_plast_clip(w - post[0] * (p[A2M] + p[A3M] * pre[1]), p[W_MIN],
                       p[W_MAX]);
}

static double on_post(const double *p, const double *pre, const double *post,
                      double w) {
  return bs_plast_clip(w + pre[0] * (p[A2P] + p[A3P] * post[1]), p[W_MIN],
                       p[W_MAX]);
}

static const char *check(const double *p) {
  if (p[W_MIN] > p[W_MAX])
    return "W_min must not exceed W_max";
  return NULL;
}

BS_PLAST_KERNELS(NP, 2, 2)

const bs_plast_rule bs_plast_triplet = {
    .name = "Triplet",
    .doc = "triplet STDP, Pfister & Gerstner 2006, all-to-all",
    .np = NP,
    .params = params,
    .order = BS_PLAST_TIME_ORDER,
    .npre = 2,
    .npost = 2,
    .pre_tau = {TAU_PLUS, TAU_X},
    .post_tau = {TAU_MINUS, TAU_Y},
    .pre_row = pre_row,
    .post_col = post_col,
    .check = check};

/* BrainPy's conductance-based point neurons (V2.3.8
 * dyn/neurons/biological_models.py; shared/reference/brainpy-models.md
 * section 1): HH, MorrisLecar and WangBuzsakiModel. Spikes are upward
 * crossings of V_th (V_prev < V_th <= V_new), with no reset and no
 * refractoriness. Rate functions with removable singularities use exprel,
 * as Brian2 does. */
#include <math.h>

#include "ode.h"

#define VOLT(name, def, doc)                                                   \
  { name, BS_DIM_VOLTAGE, def, -HUGE_VAL, HUGE_VAL, 0, doc }
#define COND(name, def, doc)                                                   \
  { name, BS_DIM_ONE, def, 0.0, HUGE_VAL, 0, doc }
#define POS(name, def, doc)                                                    \
  { name, BS_DIM_ONE, def, 0.0, HUGE_VAL, BS_P_LO_OPEN, doc }

static int crossing(double V_th, const double *x0, const double *x) {
  return (x0[0] < V_th) & (x[0] >= V_th); /* no branch: block kernels */
}

/* ---- HH ---------------------------------------------------------------- */

enum { HH_ENA, HH_GNA, HH_EK, HH_GK, HH_EL, HH_GL, HH_VTH, HH_C, HH_NP };
enum { HH_V, HH_M, HH_H, HH_N, HH_NX };

static const bs_param hh_params[HH_NP] = {
    VOLT("ENa", 50.0, "sodium reversal potential"),
    COND("gNa", 120.0, "sodium conductance (mS/cm^2)"),
    VOLT("EK", -77.0, "potassium reversal potential"),
    COND("gK", 36.0, "potassium conductance"),
    VOLT("EL", -54.387, "leak reversal potential"),
    COND("gL", 0.03, "leak conductance"),
    VOLT("V_th", 20.0, "spike detection threshold (upward crossing)"),
    POS("C", 1.0, "membrane capacitance (uF/cm^2)"),
};

static const bs_var hh_vars[HH_NX] = {
    {.name = "V",
     .dim = BS_DIM_VOLTAGE,
     .init = -70.0,
     .doc = "membrane potential (default Uniform(-70, -60))",
     .init_kind = BS_DIST_UNIFORM,
     .init_b = -60.0},
    BS_VAR("m", BS_DIM_ONE, NAN, "Na activation (default: steady state at V0)"),
    BS_VAR("h", BS_DIM_ONE, NAN,
           "Na inactivation (default: steady state at V0)"),
    BS_VAR("n", BS_DIM_ONE, NAN, "K activation (default: steady state at V0)"),
};

/* Hodgkin-Huxley (1952) rates, V in mV, rates in 1/ms; exp and 1/exprel
 * (= 1/phi) from vexp.h, so the block kernel vectorizes and a neuron gets
 * the same bits in a SIMD lane or not. */
static inline BS_VEXP_INLINE void hh_rates(double V, double r[6]) {
  r[0] = bs_vinvphi(-(V + 40.0) * (1.0 / 10.0)); /* 0.1(V+40)/(1-e^{..}) */
  r[1] = 4.0 * bs_vexp(-(V + 65.0) * (1.0 / 18.0));
  r[2] = 0.07 * bs_vexp(-(V + 65.0) * (1.0 / 20.0));
  r[3] = 1.0 / (1.0 + bs_vexp(-(V + 35.0) * (1.0 / 10.0)));
  r[4] =
      0.1 * bs_vinvphi(-(V + 55.0) * (1.0 / 10.0)); /* 0.01(V+55)/(1-e^{..}) */
  r[5] = 0.125 * bs_vexp(-(V + 65.0) * (1.0 / 80.0));
}

static inline BS_VEXP_INLINE void hh_rhs(const double *p, const double *k,
                                         const double *x, double J, double G,
                                         double *f, double *d) {
  (void)k;
  const double V = x[HH_V], m = x[HH_M], h = x[HH_H], n = x[HH_N];
  const double gna = p[HH_GNA] * m * m * m * h;
  const double n2 = n * n, gk = p[HH_GK] * n2 * n2;
  const double rC = 1.0 / p[HH_C]; /* hoisted where C is uniform */
  double r[6];
  hh_rates(V, r);
  f[HH_V] = (-gna * (V - p[HH_ENA]) - gk * (V - p[HH_EK]) -
             p[HH_GL] * (V - p[HH_EL]) + J - G * V) *
            rC;
  f[HH_M] = r[0] * (1.0 - m) - r[1] * m;
  f[HH_H] = r[2] * (1.0 - h) - r[3] * h;
  f[HH_N] = r[4] * (1.0 - n) - r[5] * n;
  if (d) {
    d[HH_V] = -(gna + gk + p[HH_GL] + G) * rC;
    d[HH_M] = -(r[0] + r[1]);
    d[HH_H] = -(r[2] + r[3]);
    d[HH_N] = -(r[4] + r[5]);
  }
}

static int hh_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)aux;
  return crossing(p[HH_VTH], x0, x);
}

/* V defaults to Uniform(-70, -60) (set by the config reader); the gates
 * default to their steady state at V0, x_inf = alpha / (alpha + beta). */
static void hh_init(bs_neuron_args *a) {
  for (size_t i = 0; i < a->n; i++) {
    double r[6];
    hh_rates(a->x[HH_V][i], r);
    for (int g = 0; g < 3; g++)
      if (isnan(a->x[HH_M + g][i]))
        a->x[HH_M + g][i] = r[2 * g] / (r[2 * g] + r[2 * g + 1]);
  }
}

/* Blocks of neurons with the method a constant (vectorized; also the
 * fused update's kernel), and the per-neuron kernel with the same
 * arithmetic for noise. */
BS_ODE_KERNEL_ADV(hh_update_noise, HH_NX, 0, hh_rhs, hh_event, bs_ode_vadvance)
BS_ODE_BLOCK_KERNEL(hh_block, HH_NX, 0, hh_rhs, hh_event)
BS_ODE_BLOCK_UPDATE(hh_update, hh_block, hh_update_noise)

static const bs_fused_neuron hh_fused_block = {.block = hh_block, .needs_G = 1};
static const bs_fused_neuron *hh_fused(int method) {
  (void)method;
  return &hh_fused_block;
}

const bs_neuron_model bs_model_hh = {
    .name = "HH",
    .doc = "Hodgkin-Huxley (BrainPy HH); spike = upward crossing of V_th",
    .np = HH_NP,
    .params = hh_params,
    .nx = HH_NX,
    .vars = hh_vars,
    .has_V = 1,
    .update = hh_update,
    .init = hh_init,
    .methods = BS_METHODS_ALL,
    .nv = HH_NX,
    .rhs = hh_rhs,
    .event = hh_event,
    .fused = hh_fused,
};

/* ---- MorrisLecar ------------------------------------------------------- */

enum {
  ML_VCA,
  ML_GCA,
  ML_VK,
  ML_GK,
  ML_VL,
  ML_GL,
  ML_C,
  ML_V1,
  ML_V2,
  ML_V3,
  ML_V4,
  ML_PHI,
  ML_VTH,
  ML_NP
};
enum { ML_V, ML_W, ML_NX };

static const bs_param ml_params[ML_NP] = {
    VOLT("V_Ca", 130.0, "calcium reversal potential"),
    COND("g_Ca", 4.4, "calcium conductance"),
    VOLT("V_K", -84.0, "potassium reversal potential"),
    COND("g_K", 8.0, "potassium conductance"),
    VOLT("V_leak", -60.0, "leak reversal potential"),
    COND("g_leak", 2.0, "leak conductance"),
    POS("C", 20.0, "membrane capacitance"),
    VOLT("V1", -1.2, "M_inf half-activation"),
    {"V2", BS_DIM_VOLTAGE, 18.0, 0.0, HUGE_VAL, BS_P_LO_OPEN, "M_inf slope"},
    VOLT("V3", 2.0, "W_inf half-activation"),
    {"V4", BS_DIM_VOLTAGE, 30.0, 0.0, HUGE_VAL, BS_P_LO_OPEN, "W_inf slope"},
    POS("phi", 0.04, "W rate factor (1/ms)"),
    VOLT("V_th", 10.0, "spike detection threshold (upward crossing)"),
};

static const bs_var ml_vars[ML_NX] = {
    {.name = "V",
     .dim = BS_DIM_VOLTAGE,
     .init = -70.0,
     .doc = "membrane potential (default Uniform(-70, -60))",
     .init_kind = BS_DIST_UNIFORM,
     .init_b = -60.0},
    BS_VAR("W", BS_DIM_ONE, 0.02, "potassium activation"),
};

/* C dV/dt = -g_Ca M_inf (V - V_Ca) - g_K W (V - V_K) - g_leak (V - V_leak)
 * + I, M_inf = (1 + tanh((V - V1)/V2)) / 2; dW/dt = (W_inf - W) / tau_W,
 * tau_W = 1 / (phi cosh((V - V3) / (2 V4))). */
static void ml_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[ML_V], W = x[ML_W], C = p[ML_C];
  const double tm = tanh((V - p[ML_V1]) / p[ML_V2]);
  const double M = 0.5 * (1.0 + tm);
  const double W_inf = 0.5 * (1.0 + tanh((V - p[ML_V3]) / p[ML_V4]));
  const double rate = p[ML_PHI] * cosh((V - p[ML_V3]) / (2.0 * p[ML_V4]));
  f[ML_V] = (-p[ML_GCA] * M * (V - p[ML_VCA]) - p[ML_GK] * W * (V - p[ML_VK]) -
             p[ML_GL] * (V - p[ML_VL]) + J - G * V) /
            C;
  f[ML_W] = rate * (W_inf - W);
  if (d) {
    const double dM = 0.5 * (1.0 - tm * tm) / p[ML_V2];
    d[ML_V] = -(p[ML_GCA] * (dM * (V - p[ML_VCA]) + M) + p[ML_GK] * W +
                p[ML_GL] + G) /
              C;
    d[ML_W] = -rate;
  }
}

static int ml_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)aux;
  return crossing(p[ML_VTH], x0, x);
}

BS_ODE_KERNEL(ml_update, ML_NX, 0, ml_rhs, ml_event)

const bs_neuron_model bs_model_morris_lecar = {
    .name = "MorrisLecar",
    .doc = "Morris-Lecar (BrainPy MorrisLecar); spike = upward crossing",
    .np = ML_NP,
    .params = ml_params,
    .nx = ML_NX,
    .vars = ml_vars,
    .has_V = 1,
    .update = ml_update,
    .methods = BS_METHODS_ALL,
    .nv = ML_NX,
    .rhs = ml_rhs,
    .event = ml_event,
};

/* ---- WangBuzsakiModel -------------------------------------------------- */

enum {
  WB_ENA,
  WB_GNA,
  WB_EK,
  WB_GK,
  WB_EL,
  WB_GL,
  WB_VTH,
  WB_PHI,
  WB_C,
  WB_NP
};
enum { WB_V, WB_H, WB_N, WB_NX };

static const bs_param wb_params[WB_NP] = {
    VOLT("ENa", 55.0, "sodium reversal potential"),
    COND("gNa", 35.0, "sodium conductance"),
    VOLT("EK", -90.0, "potassium reversal potential"),
    COND("gK", 9.0, "potassium conductance"),
    VOLT("EL", -65.0, "leak reversal potential"),
    COND("gL", 0.1, "leak conductance"),
    VOLT("V_th", 20.0, "spike detection threshold (upward crossing)"),
    POS("phi", 5.0, "temperature factor of h and n"),
    POS("C", 1.0, "membrane capacitance"),
};

static const bs_var wb_vars[WB_NX] = {
    BS_VAR("V", BS_DIM_VOLTAGE, -65.0, "membrane potential"),
    BS_VAR("h", BS_DIM_ONE, 0.6, "Na inactivation"),
    BS_VAR("n", BS_DIM_ONE, 0.32, "K activation"),
};

/* d/dx [x / (e^x - 1)], by its series near 0. */
static inline double dxexpm1(double x) {
  if (fabs(x) < 1e-3)
    return -0.5 + x / 6.0 - x * x * x / 180.0;
  const double e = expm1(x);
  return (e - x * (e + 1.0)) / (e * e);
}

/* Wang & Buzsaki (1996): m = m_inf(V) instantaneous; exp_auto's
 * linearisation in V includes d(m_inf^3)/dV, as BrainPy's autodiff does. */
static void wb_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[WB_V], h = x[WB_H], n = x[WB_N], C = p[WB_C];
  const double xm = -0.1 * (V + 35.0);
  const double am = 1.0 / bs_exprel(xm); /* -0.1(V+35)/(e^{..}-1) */
  const double bm = 4.0 * exp(-(V + 60.0) / 18.0);
  const double m = am / (am + bm);
  const double ah = 0.07 * exp(-(V + 58.0) / 20.0);
  const double bh = 1.0 / (exp(-0.1 * (V + 28.0)) + 1.0);
  const double an = 0.1 / bs_exprel(-0.1 * (V + 34.0));
  const double bn = 0.125 * exp(-(V + 44.0) / 80.0);
  const double m3 = m * m * m, n2 = n * n;
  const double gna = p[WB_GNA] * m3 * h, gk = p[WB_GK] * n2 * n2;
  f[WB_V] = (-gna * (V - p[WB_ENA]) - gk * (V - p[WB_EK]) -
             p[WB_GL] * (V - p[WB_EL]) + J - G * V) /
            C;
  f[WB_H] = p[WB_PHI] * (ah * (1.0 - h) - bh * h);
  f[WB_N] = p[WB_PHI] * (an * (1.0 - n) - bn * n);
  if (d) {
    const double dam = -0.1 * dxexpm1(xm), dbm = -bm / 18.0;
    const double dm = (dam * bm - am * dbm) / ((am + bm) * (am + bm));
    const double dgna = p[WB_GNA] * 3.0 * m * m * dm * h;
    d[WB_V] = -(dgna * (V - p[WB_ENA]) + gna + gk + p[WB_GL] + G) / C;
    d[WB_H] = -p[WB_PHI] * (ah + bh);
    d[WB_N] = -p[WB_PHI] * (an + bn);
  }
}

static int wb_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)aux;
  return crossing(p[WB_VTH], x0, x);
}

BS_ODE_KERNEL(wb_update, WB_NX, 0, wb_rhs, wb_event)

const bs_neuron_model bs_model_wang_buzsaki = {
    .name = "WangBuzsakiModel",
    .doc = "Wang-Buzsaki interneuron (BrainPy WangBuzsakiModel)",
    .np = WB_NP,
    .params = wb_params,
    .nx = WB_NX,
    .vars = wb_vars,
    .has_V = 1,
    .update = wb_update,
    .methods = BS_METHODS_ALL,
    .nv = WB_NX,
    .rhs = wb_rhs,
    .event = wb_event,
};

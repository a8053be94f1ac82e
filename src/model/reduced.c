/* BrainPy's reduced point neurons (V2.3.8 dyn/neurons/reduced_models.py;
 * shared/reference/brainpy-models.md section 1): LeakyIntegrator, ExpIF,
 * AdExIF, QuaIF, AdQuaIF, GIF, Izhikevich, HindmarshRose and FHN.
 * Refractoriness where a model has tau_ref is LIF's: each step all
 * variables integrate, then V is held if t - t_last_spike <= tau_ref, then
 * V >= V_th spikes and resets, and t_last_spike = t. */
#include <math.h>

#include "ode.h"

#define VOLT(name, def, doc)                                                   \
  { name, BS_DIM_VOLTAGE, def, -HUGE_VAL, HUGE_VAL, 0, doc }
#define NUM(name, def, doc)                                                    \
  { name, BS_DIM_ONE, def, -HUGE_VAL, HUGE_VAL, 0, doc }
#define NONNEG(name, def, doc)                                                 \
  { name, BS_DIM_ONE, def, 0.0, HUGE_VAL, 0, doc }
#define POS(name, def, doc)                                                    \
  { name, BS_DIM_ONE, def, 0.0, HUGE_VAL, BS_P_LO_OPEN, doc }
#define TAU(name, def, doc)                                                    \
  { name, BS_DIM_TIME, def, 0.0, HUGE_VAL, BS_P_LO_OPEN, doc }
#define TAU_REF                                                                \
  {                                                                            \
    "tau_ref", BS_DIM_TIME, NAN, 0.0, HUGE_VAL, BS_P_NULLABLE,                 \
        "refractory period (null: none)"                                       \
  }
#define T_LAST(init)                                                           \
  BS_VAR("t_last_spike", BS_DIM_TIME, init, "time of the last spike")

/* LIF-style refractoriness, threshold and reset of V; returns 1 on a
 * spike. ref is bs_ref_limit(tau_ref, dt) (-inf without tau_ref). */
static inline int if_fire(double t, double ref, double V_th, double V_reset,
                          const double *x0, double *x, double *t_last) {
  if (t - *t_last <= ref)
    x[0] = x0[0];
  if (x[0] >= V_th) {
    x[0] = V_reset;
    *t_last = t;
    return 1;
  }
  return 0;
}

static const char *reset_below_th(const double *p, int reset, int th,
                                  int *blame) {
  if (p[reset] >= p[th]) {
    *blame = reset;
    return "V_reset must be below V_th";
  }
  return NULL;
}

/* ---- LeakyIntegrator --------------------------------------------------- */

enum { LI_V_REST, LI_R, LI_TAU, LI_NP };

static const bs_param li_params[LI_NP] = {
    VOLT("V_rest", 0.0, "resting potential"),
    NONNEG("R", 1.0, "membrane resistance"),
    TAU("tau", 10.0, "membrane time constant"),
};
static const bs_var li_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential")};

/* tau dV/dt = -(V - V_rest) + R I; never spikes. */
static void li_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  f[0] = (-(x[0] - p[LI_V_REST]) + p[LI_R] * (J - G * x[0])) / p[LI_TAU];
  if (d)
    d[0] = (-1.0 - p[LI_R] * G) / p[LI_TAU];
}

static int li_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)p, (void)k, (void)t, (void)x0, (void)x, (void)aux;
  return 0;
}

BS_ODE_KERNEL(li_update, 1, 0, li_rhs, li_event)

const bs_neuron_model bs_model_leaky_integrator = {
    .name = "LeakyIntegrator",
    .doc = "leaky integrator without spikes (BrainPy LeakyIntegrator)",
    .np = LI_NP,
    .params = li_params,
    .nx = 1,
    .vars = li_vars,
    .has_V = 1,
    .update = li_update,
    .methods = BS_METHODS_ALL,
    .nv = 1,
    .rhs = li_rhs,
    .event = li_event,
};

/* ---- ExpIF and AdExIF -------------------------------------------------- */

enum {
  EI_V_REST,
  EI_V_RESET,
  EI_V_TH,
  EI_V_T,
  EI_DELTA_T,
  EI_R,
  EI_TAU,
  EI_TAU_REF,
  EI_A, /* AdExIF only from here */
  EI_B,
  EI_TAU_W,
  EI_NP
};
enum { EI_K_REF, EI_NK };

static const bs_param ei_params[EI_NP] = {
    VOLT("V_rest", -65.0, "resting potential"),
    VOLT("V_reset", -68.0, "reset potential"),
    VOLT("V_th", -30.0, "spike threshold"),
    VOLT("V_T", -59.9, "threshold of the exponential term"),
    {"delta_T", BS_DIM_VOLTAGE, 3.48, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "spike slope factor"},
    NONNEG("R", 1.0, "membrane resistance"),
    TAU("tau", 10.0, "membrane time constant"),
    TAU_REF,
    NUM("a", 1.0, "subthreshold adaptation (AdExIF)"),
    NUM("b", 1.0, "spike-triggered adaptation (AdExIF)"),
    TAU("tau_w", 30.0, "adaptation time constant (AdExIF)"),
};

static const bs_var expif_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    T_LAST(-1e7),
};
static const bs_var adexif_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    BS_VAR("w", BS_DIM_ONE, 0.0, "adaptation current"),
    T_LAST(-1e8),
};

static const char *ei_check(const double *p, double dt, int *blame) {
  (void)dt;
  return reset_below_th(p, EI_V_RESET, EI_V_TH, blame);
}

static void ei_prepare(const double *p, double dt, double *k) {
  k[EI_K_REF] = bs_ref_limit(p[EI_TAU_REF], dt);
}

/* tau dV/dt = -(V - V_rest) + delta_T e^{(V - V_T)/delta_T} + R I */
static void expif_rhs(const double *p, const double *k, const double *x,
                      double J, double G, double *f, double *d) {
  (void)k;
  const double V = x[0], e = exp((V - p[EI_V_T]) / p[EI_DELTA_T]);
  const double R = p[EI_R], tau = p[EI_TAU];
  f[0] = (-(V - p[EI_V_REST]) + p[EI_DELTA_T] * e + R * (J - G * V)) / tau;
  if (d)
    d[0] = (-1.0 + e - R * G) / tau;
}

static int expif_event(const double *p, const double *k, double t,
                       const double *x0, double *x, double *aux) {
  return if_fire(t, k[EI_K_REF], p[EI_V_TH], p[EI_V_RESET], x0, x, &aux[0]);
}

BS_ODE_KERNEL(expif_update, 1, 1, expif_rhs, expif_event)

const bs_neuron_model bs_model_expif = {
    .name = "ExpIF",
    .doc = "exponential integrate-and-fire (BrainPy ExpIF)",
    .np = EI_A, /* without a, b, tau_w */
    .params = ei_params,
    .nx = 2,
    .vars = expif_vars,
    .nk = EI_NK,
    .has_V = 1,
    .check = ei_check,
    .prepare = ei_prepare,
    .update = expif_update,
    .methods = BS_METHODS_ALL,
    .nv = 1,
    .rhs = expif_rhs,
    .event = expif_event,
};

/* tau dV/dt = -V + V_rest + delta_T e^{(V - V_T)/delta_T} - R w + R I;
 * tau_w dw/dt = a (V - V_rest) - w; spike: V = V_reset, w += b. */
static void adexif_rhs(const double *p, const double *k, const double *x,
                       double J, double G, double *f, double *d) {
  (void)k;
  const double V = x[0], w = x[1], e = exp((V - p[EI_V_T]) / p[EI_DELTA_T]);
  const double R = p[EI_R], tau = p[EI_TAU];
  f[0] =
      (-V + p[EI_V_REST] + p[EI_DELTA_T] * e - R * w + R * (J - G * V)) / tau;
  f[1] = (p[EI_A] * (V - p[EI_V_REST]) - w) / p[EI_TAU_W];
  if (d) {
    d[0] = (-1.0 + e - R * G) / tau;
    d[1] = -1.0 / p[EI_TAU_W];
  }
}

static int adexif_event(const double *p, const double *k, double t,
                        const double *x0, double *x, double *aux) {
  if (!if_fire(t, k[EI_K_REF], p[EI_V_TH], p[EI_V_RESET], x0, x, &aux[0]))
    return 0;
  x[1] += p[EI_B];
  return 1;
}

BS_ODE_KERNEL(adexif_update, 2, 1, adexif_rhs, adexif_event)

const bs_neuron_model bs_model_adexif = {
    .name = "AdExIF",
    .doc = "adaptive exponential integrate-and-fire (BrainPy AdExIF)",
    .np = EI_NP,
    .params = ei_params,
    .nx = 3,
    .vars = adexif_vars,
    .nk = EI_NK,
    .has_V = 1,
    .check = ei_check,
    .prepare = ei_prepare,
    .update = adexif_update,
    .methods = BS_METHODS_ALL,
    .nv = 2,
    .rhs = adexif_rhs,
    .event = adexif_event,
};

/* ---- QuaIF ------------------------------------------------------------- */

enum {
  QI_V_REST,
  QI_V_RESET,
  QI_V_TH,
  QI_V_C,
  QI_C,
  QI_R,
  QI_TAU,
  QI_TAU_REF,
  QI_NP
};
enum { QI_K_REF, QI_NK };

static const bs_param qi_params[QI_NP] = {
    VOLT("V_rest", -65.0, "resting potential"),
    VOLT("V_reset", -68.0, "reset potential"),
    VOLT("V_th", -30.0, "spike threshold"),
    VOLT("V_c", -50.0, "critical voltage"),
    NUM("c", 0.07, "coefficient of the quadratic term (1/mV)"),
    NONNEG("R", 1.0, "membrane resistance"),
    TAU("tau", 10.0, "membrane time constant"),
    TAU_REF,
};
static const bs_var qi_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    T_LAST(-1e7),
};

static const char *qi_check(const double *p, double dt, int *blame) {
  (void)dt;
  return reset_below_th(p, QI_V_RESET, QI_V_TH, blame);
}

static void qi_prepare(const double *p, double dt, double *k) {
  k[QI_K_REF] = bs_ref_limit(p[QI_TAU_REF], dt);
}

/* tau dV/dt = c (V - V_rest)(V - V_c) + R I */
static void qi_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[0], c = p[QI_C], R = p[QI_R], tau = p[QI_TAU];
  f[0] = (c * (V - p[QI_V_REST]) * (V - p[QI_V_C]) + R * (J - G * V)) / tau;
  if (d)
    d[0] = (c * (2.0 * V - p[QI_V_REST] - p[QI_V_C]) - R * G) / tau;
}

static int qi_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  return if_fire(t, k[QI_K_REF], p[QI_V_TH], p[QI_V_RESET], x0, x, &aux[0]);
}

BS_ODE_KERNEL(qi_update, 1, 1, qi_rhs, qi_event)

const bs_neuron_model bs_model_quaif = {
    .name = "QuaIF",
    .doc = "quadratic integrate-and-fire (BrainPy QuaIF)",
    .np = QI_NP,
    .params = qi_params,
    .nx = 2,
    .vars = qi_vars,
    .nk = QI_NK,
    .has_V = 1,
    .check = qi_check,
    .prepare = qi_prepare,
    .update = qi_update,
    .methods = BS_METHODS_ALL,
    .nv = 1,
    .rhs = qi_rhs,
    .event = qi_event,
};

/* ---- AdQuaIF ----------------------------------------------------------- */

enum {
  AQ_V_REST,
  AQ_V_RESET,
  AQ_V_TH,
  AQ_V_C,
  AQ_A,
  AQ_B,
  AQ_C,
  AQ_TAU,
  AQ_TAU_W,
  AQ_NP
};

static const bs_param aq_params[AQ_NP] = {
    VOLT("V_rest", -65.0, "resting potential"),
    VOLT("V_reset", -68.0, "reset potential"),
    VOLT("V_th", -30.0, "spike threshold"),
    VOLT("V_c", -50.0, "critical voltage"),
    NUM("a", 1.0, "subthreshold adaptation"),
    NUM("b", 0.1, "spike-triggered adaptation"),
    NUM("c", 0.07, "coefficient of the quadratic term (1/mV)"),
    TAU("tau", 10.0, "membrane time constant"),
    TAU("tau_w", 10.0, "adaptation time constant"),
};
static const bs_var aq_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    BS_VAR("w", BS_DIM_ONE, 0.0, "adaptation current"),
};

static const char *aq_check(const double *p, double dt, int *blame) {
  (void)dt;
  return reset_below_th(p, AQ_V_RESET, AQ_V_TH, blame);
}

/* tau dV/dt = c (V - V_rest)(V - V_c) - w + I;
 * tau_w dw/dt = a (V - V_rest) - w; spike: V = V_reset, w += b. */
static void aq_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[0], w = x[1], c = p[AQ_C], tau = p[AQ_TAU];
  f[0] = (c * (V - p[AQ_V_REST]) * (V - p[AQ_V_C]) - w + J - G * V) / tau;
  f[1] = (p[AQ_A] * (V - p[AQ_V_REST]) - w) / p[AQ_TAU_W];
  if (d) {
    d[0] = (c * (2.0 * V - p[AQ_V_REST] - p[AQ_V_C]) - G) / tau;
    d[1] = -1.0 / p[AQ_TAU_W];
  }
}

static int aq_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)x0, (void)aux;
  if (x[0] < p[AQ_V_TH])
    return 0;
  x[0] = p[AQ_V_RESET];
  x[1] += p[AQ_B];
  return 1;
}

BS_ODE_KERNEL(aq_update, 2, 0, aq_rhs, aq_event)

const bs_neuron_model bs_model_adquaif = {
    .name = "AdQuaIF",
    .doc = "adaptive quadratic integrate-and-fire (BrainPy AdQuaIF)",
    .np = AQ_NP,
    .params = aq_params,
    .nx = 2,
    .vars = aq_vars,
    .has_V = 1,
    .check = aq_check,
    .update = aq_update,
    .methods = BS_METHODS_ALL,
    .nv = 2,
    .rhs = aq_rhs,
    .event = aq_event,
};

/* ---- GIF (Mihalas & Niebur 2009) ---------------------------------------- */

enum {
  GI_V_REST,
  GI_V_RESET,
  GI_V_TH_INF,
  GI_V_TH_RESET,
  GI_R,
  GI_TAU,
  GI_A,
  GI_B,
  GI_K1,
  GI_K2,
  GI_R1,
  GI_R2,
  GI_A1,
  GI_A2,
  GI_NP
};
enum { GI_V, GI_VTH, GI_I1, GI_I2, GI_NX };

static const bs_param gi_params[GI_NP] = {
    VOLT("V_rest", -70.0, "resting potential"),
    VOLT("V_reset", -70.0, "reset potential"),
    VOLT("V_th_inf", -50.0, "target of the threshold"),
    VOLT("V_th_reset", -60.0, "lowest threshold after a spike"),
    NONNEG("R", 20.0, "membrane resistance"),
    TAU("tau", 20.0, "membrane time constant"),
    NUM("a", 0.0, "threshold coupling to V (1/ms)"),
    NONNEG("b", 0.01, "threshold relaxation rate (1/ms)"),
    NONNEG("k1", 0.2, "decay rate of I1 (1/ms)"),
    NONNEG("k2", 0.02, "decay rate of I2 (1/ms)"),
    NUM("R1", 0.0, "I1 kept at a spike"),
    NUM("R2", 1.0, "I2 kept at a spike"),
    NUM("A1", 0.0, "I1 added at a spike"),
    NUM("A2", 0.0, "I2 added at a spike"),
};
static const bs_var gi_vars[GI_NX] = {
    BS_VAR("V", BS_DIM_VOLTAGE, -70.0, "membrane potential"),
    BS_VAR("V_th", BS_DIM_VOLTAGE, -50.0, "threshold"),
    BS_VAR("I1", BS_DIM_ONE, 0.0, "spike-induced current 1"),
    BS_VAR("I2", BS_DIM_ONE, 0.0, "spike-induced current 2"),
};

/* dI1 = -k1 I1; dI2 = -k2 I2; dV_th = a (V - V_rest) - b (V_th - V_th_inf);
 * tau dV = -(V - V_rest) + R (I + I1 + I2). */
static void gi_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[GI_V], R = p[GI_R], tau = p[GI_TAU];
  f[GI_V] = (-(V - p[GI_V_REST]) + R * (J - G * V + x[GI_I1] + x[GI_I2])) / tau;
  f[GI_VTH] =
      p[GI_A] * (V - p[GI_V_REST]) - p[GI_B] * (x[GI_VTH] - p[GI_V_TH_INF]);
  f[GI_I1] = -p[GI_K1] * x[GI_I1];
  f[GI_I2] = -p[GI_K2] * x[GI_I2];
  if (d) {
    d[GI_V] = (-1.0 - R * G) / tau;
    d[GI_VTH] = -p[GI_B];
    d[GI_I1] = -p[GI_K1];
    d[GI_I2] = -p[GI_K2];
  }
}

/* The spike test uses the threshold of the previous step (BrainPy). */
static int gi_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)aux;
  if (!(x0[GI_VTH] <= x[GI_V]))
    return 0;
  x[GI_V] = p[GI_V_RESET];
  x[GI_I1] = p[GI_R1] * x[GI_I1] + p[GI_A1];
  x[GI_I2] = p[GI_R2] * x[GI_I2] + p[GI_A2];
  if (x[GI_VTH] < p[GI_V_TH_RESET])
    x[GI_VTH] = p[GI_V_TH_RESET];
  return 1;
}

BS_ODE_KERNEL(gi_update, GI_NX, 0, gi_rhs, gi_event)

const bs_neuron_model bs_model_gif = {
    .name = "GIF",
    .doc = "generalized integrate-and-fire, Mihalas-Niebur (BrainPy GIF)",
    .np = GI_NP,
    .params = gi_params,
    .nx = GI_NX,
    .vars = gi_vars,
    .has_V = 1,
    .update = gi_update,
    .methods = BS_METHODS_ALL,
    .nv = GI_NX,
    .rhs = gi_rhs,
    .event = gi_event,
};

/* ---- Izhikevich -------------------------------------------------------- */

enum { IZ_A, IZ_B, IZ_C, IZ_D, IZ_V_TH, IZ_TAU_REF, IZ_NP };
enum { IZ_K_REF, IZ_NK };

static const bs_param iz_params[IZ_NP] = {
    NUM("a", 0.02, "recovery time scale (1/ms)"),
    NUM("b", 0.20, "recovery sensitivity"),
    VOLT("c", -65.0, "reset potential"),
    NUM("d", 8.0, "recovery increment at a spike"),
    VOLT("V_th", 30.0, "spike cut-off"),
    TAU_REF,
};
static const bs_var iz_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, -70.0, "membrane potential"),
    BS_VAR("u", BS_DIM_ONE, NAN, "recovery variable (default b * V0)"),
    T_LAST(-1e7),
};

static const char *iz_check(const double *p, double dt, int *blame) {
  (void)dt;
  return reset_below_th(p, IZ_C, IZ_V_TH, blame);
}

static void iz_prepare(const double *p, double dt, double *k) {
  k[IZ_K_REF] = bs_ref_limit(p[IZ_TAU_REF], dt);
}

/* dV = 0.04 V^2 + 5 V + 140 - u + I; du = a (b V - u) */
static void iz_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[0], u = x[1];
  f[0] = 0.04 * V * V + 5.0 * V + 140.0 - u + J - G * V;
  f[1] = p[IZ_A] * (p[IZ_B] * V - u);
  if (d) {
    d[0] = 0.08 * V + 5.0 - G;
    d[1] = -p[IZ_A];
  }
}

static int iz_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  if (!if_fire(t, k[IZ_K_REF], p[IZ_V_TH], p[IZ_C], x0, x, &aux[0]))
    return 0;
  x[1] += p[IZ_D];
  return 1;
}

static void iz_init(bs_neuron_args *a) {
  for (size_t i = 0; i < a->n; i++)
    if (isnan(a->x[1][i]))
      a->x[1][i] = a->p[IZ_B] * a->x[0][i];
}

BS_ODE_KERNEL(iz_update, 2, 1, iz_rhs, iz_event)

const bs_neuron_model bs_model_izhikevich = {
    .name = "Izhikevich",
    .doc = "Izhikevich (2003) (BrainPy Izhikevich)",
    .np = IZ_NP,
    .params = iz_params,
    .nx = 3,
    .vars = iz_vars,
    .nk = IZ_NK,
    .has_V = 1,
    .check = iz_check,
    .prepare = iz_prepare,
    .update = iz_update,
    .init = iz_init,
    .methods = BS_METHODS_ALL,
    .nv = 2,
    .rhs = iz_rhs,
    .event = iz_event,
};

/* ---- HindmarshRose ----------------------------------------------------- */

enum { HR_A, HR_B, HR_C, HR_D, HR_R, HR_S, HR_V_REST, HR_V_TH, HR_NP };

static const bs_param hr_params[HR_NP] = {
    NUM("a", 1.0, "cubic coefficient"),
    NUM("b", 3.0, "quadratic coefficient"),
    NUM("c", 1.0, "y drive"),
    NUM("d", 5.0, "y quadratic coefficient"),
    NUM("r", 0.01, "z time scale"),
    NUM("s", 4.0, "z coupling to V"),
    VOLT("V_rest", -1.6, "z reference potential"),
    VOLT("V_th", 1.0, "spike detection threshold (upward crossing)"),
};
static const bs_var hr_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    BS_VAR("y", BS_DIM_ONE, -10.0, "spiking variable"),
    BS_VAR("z", BS_DIM_ONE, 0.0, "bursting variable"),
};

/* dV = y - a V^3 + b V^2 - z + I; dy = c - d V^2 - y;
 * dz = r (s (V - V_rest) - z) */
static void hr_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[0], y = x[1], z = x[2];
  f[0] = y - p[HR_A] * V * V * V + p[HR_B] * V * V - z + J - G * V;
  f[1] = p[HR_C] - p[HR_D] * V * V - y;
  f[2] = p[HR_R] * (p[HR_S] * (V - p[HR_V_REST]) - z);
  if (d) {
    d[0] = -3.0 * p[HR_A] * V * V + 2.0 * p[HR_B] * V - G;
    d[1] = -1.0;
    d[2] = -p[HR_R];
  }
}

static int hr_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)aux;
  return x0[0] < p[HR_V_TH] && x[0] >= p[HR_V_TH];
}

BS_ODE_KERNEL(hr_update, 3, 0, hr_rhs, hr_event)

const bs_neuron_model bs_model_hindmarsh_rose = {
    .name = "HindmarshRose",
    .doc = "Hindmarsh-Rose bursting neuron (BrainPy HindmarshRose)",
    .np = HR_NP,
    .params = hr_params,
    .nx = 3,
    .vars = hr_vars,
    .has_V = 1,
    .update = hr_update,
    .methods = BS_METHODS_ALL,
    .nv = 3,
    .rhs = hr_rhs,
    .event = hr_event,
};

/* ---- FHN --------------------------------------------------------------- */

enum { FH_A, FH_B, FH_TAU, FH_VTH, FH_NP };

static const bs_param fh_params[FH_NP] = {
    NUM("a", 0.7, "w offset"),
    NUM("b", 0.8, "w self-coupling"),
    TAU("tau", 12.5, "w time constant"),
    VOLT("Vth", 1.8, "spike detection threshold (upward crossing)"),
};
static const bs_var fh_vars[] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    BS_VAR("w", BS_DIM_ONE, 0.0, "recovery variable"),
};

/* dV = V - V^3/3 - w + I; tau dw = V + a - b w */
static void fh_rhs(const double *p, const double *k, const double *x, double J,
                   double G, double *f, double *d) {
  (void)k;
  const double V = x[0], w = x[1];
  f[0] = V - V * V * V / 3.0 - w + J - G * V;
  f[1] = (V + p[FH_A] - p[FH_B] * w) / p[FH_TAU];
  if (d) {
    d[0] = 1.0 - V * V - G;
    d[1] = -p[FH_B] / p[FH_TAU];
  }
}

static int fh_event(const double *p, const double *k, double t,
                    const double *x0, double *x, double *aux) {
  (void)k, (void)t, (void)aux;
  return x0[0] < p[FH_VTH] && x[0] >= p[FH_VTH];
}

BS_ODE_KERNEL(fh_update, 2, 0, fh_rhs, fh_event)

const bs_neuron_model bs_model_fhn = {
    .name = "FHN",
    .doc = "FitzHugh-Nagumo (BrainPy FHN); spike = upward crossing of Vth",
    .np = FH_NP,
    .params = fh_params,
    .nx = 2,
    .vars = fh_vars,
    .has_V = 1,
    .update = fh_update,
    .methods = BS_METHODS_ALL,
    .nv = 2,
    .rhs = fh_rhs,
    .event = fh_event,
};

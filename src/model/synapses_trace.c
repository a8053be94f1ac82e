/* Trace synapses: BrainPy's nonlinear kinetic models (2.3.8
 * dyn/synapses/abstract_models.py AMPA, GABAa, NMDA; biological_models.py
 * BioNMDA). Their state is kept per pre-synaptic neuron, as in BrainPy,
 * because it is nonlinear in the spike train (saturation 1 - g) and cannot
 * be summed per post neuron; src/engine/trace.c drives it with the pre
 * spikes and forms sum_i w_ij g_i every step.
 *
 * Step m (t = m dt) from the state of step m - 1, with s the spike arriving
 * in step m (BrainPy update(): pre spike read, state integrated, output):
 *   AMPA/GABAa: if s: t_arr = t, release = s;
 *     TT = T release while (m - m_arr) dt < T_duration, else 0;
 *     dg/dt = alpha TT (1 - g) - beta g.
 *   NMDA: dg/dt = -g/tau_decay + a x (1 - g), dx/dt = -x/tau_rise,
 *     integrated, then x += s.
 *   BioNMDA: as AMPA for t_arr and TT = T_0 release;
 *     dg/dt = alpha1 x (1 - g) - beta1 g, dx/dt = alpha2 TT (1 - x) - beta2 x.
 * Integration is BrainPy's exp_auto on the JointEq: each variable advanced
 * exactly for its own equation, which is linear in it, with the others
 * frozen at their old values over the step:
 *   y <- y e^{-b dt} + (A / b) (1 - e^{-b dt})  for dy/dt = A - b y.
 * The pulse duration counts whole steps, (m - m_arr) dt < T_duration, so
 * it does not depend on the absolute time (BrainPy compares t - t_arr in
 * floating point, which can add or drop a step at the boundary).
 * `release` is the short-term plasticity efficacy of the last spike (1
 * without stp): it scales the transmitter pulse (NMDA: the jump of x), the
 * way stp scales the arriving weight of the other synapses. */
#include <math.h>

#include "model_impl.h"

/* y <- y e^{-b dt} + (A / b)(1 - e^{-b dt}), b > 0. */
static inline double lin_step(double y, double A, double b, double dt) {
  const double one_minus_e = -expm1(-b * dt);
  return y - y * one_minus_e + (A / b) * one_minus_e;
}

/* Steps k >= 0 with k dt < dur: the pulse length in steps. */
static double pulse_steps(double dur, double dt) {
  double n = ceil(dur / dt);
  while (n > 0 && (n - 1) * dt >= dur)
    n--;
  while (n * dt < dur)
    n++;
  return n;
}

/* Steps since the last arrival (t_arr in ms, exact multiple of dt). */
static inline double since(int64_t step, double t_arr, double dt) {
  return (double)step - nearbyint(t_arr / dt);
}

/* ---- AMPA / GABAa ------------------------------------------------------ */

enum { AM_ALPHA, AM_BETA, AM_T, AM_TDUR, AM_NP };
enum { AM_G, AM_TARR, AM_REL, AM_NX };
enum { AM_K_NT, AM_K_OFF, AM_NK };

static const bs_param ampa_params[AM_NP] = {
    {"alpha", BS_DIM_ONE, 0.98, 0.0, HUGE_VAL, 0, "binding rate (1/(ms mM))"},
    {"beta", BS_DIM_ONE, 0.18, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "unbinding rate (1/ms)"},
    {"T", BS_DIM_ONE, 0.5, 0.0, HUGE_VAL, 0,
     "transmitter concentration during the pulse (mM)"},
    {"T_duration", BS_DIM_TIME, 0.5, 0.0, HUGE_VAL, 0,
     "duration of the transmitter pulse"},
};
static const bs_param gabaa_params[AM_NP] = {
    {"alpha", BS_DIM_ONE, 0.53, 0.0, HUGE_VAL, 0, "binding rate (1/(ms mM))"},
    {"beta", BS_DIM_ONE, 0.18, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "unbinding rate (1/ms)"},
    {"T", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0,
     "transmitter concentration during the pulse (mM)"},
    {"T_duration", BS_DIM_TIME, 1.0, 0.0, HUGE_VAL, 0,
     "duration of the transmitter pulse"},
};
static const bs_var ampa_vars[AM_NX] = {
    BS_VAR("g", BS_DIM_ONE, 0.0, "open fraction (per pre neuron)"),
    BS_VAR("spike_arrival_time", BS_DIM_TIME, -1e7,
           "time of the last arriving spike, undelayed (per pre neuron)"),
    BS_VAR("release", BS_DIM_ONE, 1.0,
           "stp efficacy of the last spike, scales T (per pre neuron)"),
};

static void ampa_prepare(const double *p, double dt, double *k) {
  k[AM_K_NT] = pulse_steps(p[AM_TDUR], dt);
  k[AM_K_OFF] = exp(-p[AM_BETA] * dt);
}

static void ampa_trace(bs_trace_args *a) {
  const double alpha = a->p[AM_ALPHA], beta = a->p[AM_BETA], T = a->p[AM_T];
  const double nT = a->k[AM_K_NT], off = a->k[AM_K_OFF], dt = a->dt;
  const double t = (double)a->step * dt;
  double *restrict g = a->x[AM_G], *restrict tarr = a->x[AM_TARR];
  double *restrict rel = a->x[AM_REL];
  const double *restrict s = a->s;
  for (size_t i = 0; i < a->n; i++) {
    if (s[i] != 0.0) {
      tarr[i] = t;
      rel[i] = s[i];
    }
    if (since(a->step, tarr[i], dt) < nT) {
      const double A = alpha * T * rel[i];
      g[i] = lin_step(g[i], A, A + beta, dt);
    } else {
      g[i] *= off;
    }
  }
}

const bs_syn_model bs_syn_ampa = {
    .name = "AMPA",
    .doc = "AMPA receptor kinetics, dg = alpha T (1 - g) - beta g during a "
           "transmitter pulse; per pre neuron",
    .np = AM_NP,
    .params = ampa_params,
    .nx = AM_NX,
    .vars = ampa_vars,
    .nk = AM_NK,
    .prepare = ampa_prepare,
    .trace = ampa_trace,
    .def_output = "COBA",
    .def_E = 0.0,
    .def_g_max = 0.42,
};

const bs_syn_model bs_syn_gabaa = {
    .name = "GABAa",
    .doc = "GABA_A receptor kinetics (AMPA's equations, GABA_A rates); per "
           "pre neuron",
    .np = AM_NP,
    .params = gabaa_params,
    .nx = AM_NX,
    .vars = ampa_vars,
    .nk = AM_NK,
    .prepare = ampa_prepare,
    .trace = ampa_trace,
    .def_output = "COBA",
    .def_E = -80.0,
    .def_g_max = 0.04,
};

/* ---- NMDA --------------------------------------------------------------- */

enum { NM_TAU_D, NM_A, NM_TAU_R, NM_NP };
enum { NM_G, NM_X, NM_NX };
enum { NM_K_ED, NM_K_ER, NM_NK };

static const bs_param nmda_params[NM_NP] = {
    {"tau_decay", BS_DIM_TIME, 100.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "decay time constant of g"},
    {"a", BS_DIM_ONE, 0.5, 0.0, HUGE_VAL, 0, "coupling of x into g (1/ms)"},
    {"tau_rise", BS_DIM_TIME, 2.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "decay time constant of x (the rise of g)"},
};
static const bs_var nmda_vars[NM_NX] = {
    BS_VAR("g", BS_DIM_ONE, 0.0, "open fraction (per pre neuron)"),
    BS_VAR("x", BS_DIM_ONE, 0.0, "rise variable (per pre neuron)"),
};

static void nmda_prepare(const double *p, double dt, double *k) {
  k[NM_K_ED] = exp(-dt / p[NM_TAU_D]);
  k[NM_K_ER] = exp(-dt / p[NM_TAU_R]);
}

static void nmda_trace(bs_trace_args *a) {
  const double ainv = 1.0 / a->p[NM_TAU_D], c = a->p[NM_A], dt = a->dt;
  const double ed = a->k[NM_K_ED], er = a->k[NM_K_ER];
  double *restrict g = a->x[NM_G], *restrict x = a->x[NM_X];
  const double *restrict s = a->s;
  for (size_t i = 0; i < a->n; i++) {
    const double x0 = x[i];
    if (x0 != 0.0) {
      const double A = c * x0;
      g[i] = lin_step(g[i], A, A + ainv, dt);
    } else {
      g[i] *= ed;
    }
    x[i] = x0 * er + s[i];
  }
}

const bs_syn_model bs_syn_nmda = {
    .name = "NMDA",
    .doc = "NMDA receptor, dg = -g/tau_decay + a x (1 - g), dx = "
           "-x/tau_rise, x += 1 per spike; per pre neuron",
    .np = NM_NP,
    .params = nmda_params,
    .nx = NM_NX,
    .vars = nmda_vars,
    .nk = NM_NK,
    .prepare = nmda_prepare,
    .trace = nmda_trace,
    .def_output = "MgBlock",
    .def_E = NAN,
    .def_g_max = 0.15,
};

/* ---- BioNMDA ------------------------------------------------------------ */

enum { BN_A1, BN_B1, BN_A2, BN_B2, BN_T0, BN_TDUR, BN_NP };
enum { BN_G, BN_X, BN_TARR, BN_REL, BN_NX };
enum { BN_K_NT, BN_K_XOFF, BN_NK };

static const bs_param bionmda_params[BN_NP] = {
    {"alpha1", BS_DIM_ONE, 2.0, 0.0, HUGE_VAL, 0, "rate of g opening (1/ms)"},
    {"beta1", BS_DIM_ONE, 0.01, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "rate of g closing (1/ms)"},
    {"alpha2", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0,
     "binding rate of x (1/(ms mM))"},
    {"beta2", BS_DIM_ONE, 0.5, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "unbinding rate of x (1/ms)"},
    {"T_0", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0,
     "transmitter concentration during the pulse (mM)"},
    {"T_dur", BS_DIM_TIME, 0.5, 0.0, HUGE_VAL, 0,
     "duration of the transmitter pulse"},
};
static const bs_var bionmda_vars[BN_NX] = {
    BS_VAR("g", BS_DIM_ONE, 0.0, "open fraction (per pre neuron)"),
    BS_VAR("x", BS_DIM_ONE, 0.0, "bound fraction (per pre neuron)"),
    BS_VAR("spike_arrival_time", BS_DIM_TIME, -1e7,
           "time of the last arriving spike, undelayed (per pre neuron)"),
    BS_VAR("release", BS_DIM_ONE, 1.0,
           "stp efficacy of the last spike, scales T_0 (per pre neuron)"),
};

static void bionmda_prepare(const double *p, double dt, double *k) {
  k[BN_K_NT] = pulse_steps(p[BN_TDUR], dt);
  k[BN_K_XOFF] = exp(-p[BN_B2] * dt);
}

static void bionmda_trace(bs_trace_args *a) {
  const double a1 = a->p[BN_A1], b1 = a->p[BN_B1], a2 = a->p[BN_A2];
  const double b2 = a->p[BN_B2], T0 = a->p[BN_T0];
  const double nT = a->k[BN_K_NT], xoff = a->k[BN_K_XOFF], dt = a->dt;
  const double t = (double)a->step * dt;
  double *restrict g = a->x[BN_G], *restrict x = a->x[BN_X];
  double *restrict tarr = a->x[BN_TARR], *restrict rel = a->x[BN_REL];
  const double *restrict s = a->s;
  for (size_t i = 0; i < a->n; i++) {
    if (s[i] != 0.0) {
      tarr[i] = t;
      rel[i] = s[i];
    }
    const double x0 = x[i];
    const double A = a1 * x0;
    g[i] = lin_step(g[i], A, A + b1, dt);
    if (since(a->step, tarr[i], dt) < nT) {
      const double B = a2 * T0 * rel[i];
      x[i] = lin_step(x0, B, B + b2, dt);
    } else {
      x[i] = x0 * xoff;
    }
  }
}

const bs_syn_model bs_syn_bionmda = {
    .name = "BioNMDA",
    .doc = "biophysical NMDA, dg = alpha1 x (1 - g) - beta1 g, dx = alpha2 "
           "T (1 - x) - beta2 x during a transmitter pulse; per pre neuron",
    .np = BN_NP,
    .params = bionmda_params,
    .nx = BN_NX,
    .vars = bionmda_vars,
    .nk = BN_NK,
    .prepare = bionmda_prepare,
    .trace = bionmda_trace,
    .def_output = "MgBlock",
    .def_E = NAN,
    .def_g_max = 0.15,
};

/* The generic integrators (BrainPy's exp_auto, euler, rk2, rk4) over a
 * model's per-element right-hand side. Each model file instantiates its
 * kernel with BS_ODE_KERNEL, so the right-hand side is inlined into the
 * loop; the method is chosen per population at run time.
 * Sources: BrainPy integrators/ode/exponential.py and explicit_rk.py
 * (shared/reference/brainpy-models.md section 7). */
#ifndef BRAINSIM_MODEL_ODE_H
#define BRAINSIM_MODEL_ODE_H
#include <math.h>

#include "model_impl.h"
#include "vexp.h"

#define BS_ODE_MAXV 8 /* ODE variables per point model */

/* phi(z) = (e^z - 1) / z, phi(0) = 1: x += dt phi(a dt) f is the exact
 * step of x' = f + a (x - x0) with f, a frozen. */
static inline double bs_phi(double z) { return z == 0.0 ? 1.0 : expm1(z) / z; }

/* exprel(x) = (e^x - 1) / x with exprel(0) = 1 (Brian2's exprel), for rate
 * functions of the form x / (1 - e^-x) with a removable singularity. */
static inline double bs_exprel(double x) {
  return x == 0.0 ? 1.0 : expm1(x) / x;
}

/* bs_lin_step (channels.c) inline: one step of x' = A - B x with the
 * exp of vexp.h, so ConNeuGroup's block loops vectorize. Called with a
 * constant method, the switch folds away. */
static inline __attribute__((always_inline)) double
bs_vlin_step(int method, double x, double A, double B, double dt) {
  const double f = A - B * x;
  switch (method) {
  case BS_METHOD_EXP_AUTO:
    return x + dt * bs_vphi(-B * dt) * f;
  case BS_METHOD_EULER:
    return x + dt * f;
  case BS_METHOD_RK2: {
    const double f2 = A - B * (x + (2.0 / 3.0) * dt * f);
    return x + dt * (0.25 * f + 0.75 * f2);
  }
  default: {
    const double k2 = A - B * (x + 0.5 * dt * f);
    const double k3 = A - B * (x + 0.5 * dt * k2);
    const double k4 = A - B * (x + dt * k3);
    return x + dt / 6.0 * (f + 2.0 * k2 + 2.0 * k3 + k4);
  }
  }
}

/* One step of x' = f(x) for one element. rhs is a compile-time constant at
 * every call site, so it is inlined. rk2 is BrainPy's rk2 with beta = 2/3:
 * A = [(), (2/3)], B = [1/4, 3/4]. */
static inline __attribute__((always_inline)) void
bs_ode_advance(int method, int nv, bs_rhs_fn rhs, const double *p,
               const double *k, double *x, double J, double G, double dt) {
  double f[BS_ODE_MAXV], d[BS_ODE_MAXV];
  switch (method) {
  case BS_METHOD_EXP_AUTO:
    /* Each variable linearised in itself, the others frozen at the start
     * of the step (Jacobi style). */
    rhs(p, k, x, J, G, f, d);
    for (int v = 0; v < nv; v++)
      x[v] += dt * bs_phi(d[v] * dt) * f[v];
    break;
  case BS_METHOD_EULER:
    rhs(p, k, x, J, G, f, NULL);
    for (int v = 0; v < nv; v++)
      x[v] += dt * f[v];
    break;
  case BS_METHOD_RK2: {
    double y[BS_ODE_MAXV], f2[BS_ODE_MAXV];
    rhs(p, k, x, J, G, f, NULL);
    for (int v = 0; v < nv; v++)
      y[v] = x[v] + (2.0 / 3.0) * dt * f[v];
    rhs(p, k, y, J, G, f2, NULL);
    for (int v = 0; v < nv; v++)
      x[v] += dt * (0.25 * f[v] + 0.75 * f2[v]);
    break;
  }
  default: { /* BS_METHOD_RK4 */
    double y[BS_ODE_MAXV], k2[BS_ODE_MAXV], k3[BS_ODE_MAXV], k4[BS_ODE_MAXV];
    rhs(p, k, x, J, G, f, NULL);
    for (int v = 0; v < nv; v++)
      y[v] = x[v] + 0.5 * dt * f[v];
    rhs(p, k, y, J, G, k2, NULL);
    for (int v = 0; v < nv; v++)
      y[v] = x[v] + 0.5 * dt * k2[v];
    rhs(p, k, y, J, G, k3, NULL);
    for (int v = 0; v < nv; v++)
      y[v] = x[v] + dt * k3[v];
    rhs(p, k, y, J, G, k4, NULL);
    for (int v = 0; v < nv; v++)
      x[v] += dt / 6.0 * (f[v] + 2.0 * k2[v] + 2.0 * k3[v] + k4[v]);
    break;
  }
  }
}

/* The kernel of a point model: NV ODE variables first in its state table,
 * then NAUX others (t_last_spike). The input current at V = x[0] is
 * I + G (V_prev - V) = J - G V. */
#define BS_ODE_KERNEL(fname, NV, NAUX, RHS, EVENT)                             \
  static void fname(bs_neuron_args *a) {                                       \
    const double t = (double)a->step * a->dt;                                  \
    const int method = a->method;                                              \
    size_t nspk = 0;                                                           \
    for (size_t i = 0; i < a->n; i++) {                                        \
      double x[NV], x0[NV], aux[(NAUX) + 1];                                   \
      for (int v = 0; v < (NV); v++)                                           \
        x[v] = x0[v] = a->x[v][i];                                             \
      for (int v = 0; v < (NAUX); v++)                                         \
        aux[v] = a->x[(NV) + v][i];                                            \
      const double G = a->G ? a->G[i] : 0.0;                                   \
      bs_ode_advance(method, NV, RHS, a->p, a->k, x, a->I[i] + G * x0[0], G,   \
                     a->dt);                                                   \
      for (int v = 0; a->noise && v < (NV); v++)                               \
        if (a->noise[v])                                                       \
          x[v] += a->noise[v][i];                                              \
      if (EVENT(a->p, a->k, t, x0, x, aux))                                    \
        a->spk[nspk++] = (uint32_t)i;                                          \
      for (int v = 0; v < (NV); v++)                                           \
        a->x[v][i] = x[v];                                                     \
      for (int v = 0; v < (NAUX); v++)                                         \
        a->x[(NV) + v][i] = aux[v];                                            \
    }                                                                          \
    a->nspk = nspk;                                                            \
  }

/* BrainPy's refractory test (t - t_last_spike) <= tau_ref, done with a
 * tolerance of 1e-7 dt (as LIF) so tau_ref / dt steps are held exactly. */
static inline double bs_ref_limit(double tau_ref, double dt) {
  return isnan(tau_ref) ? -HUGE_VAL : tau_ref + 1e-7 * dt;
}

#endif

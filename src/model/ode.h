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

/* Loop hints for GCC, the Release compiler: unroll the loops over a
 * model's variables, and vectorize the loops over neurons, whose
 * iterations are independent. Neither changes an operation or its order,
 * so results stay bitwise the same. Other compilers (clang builds the
 * sanitizer and fuzz targets) go without: clang errs on GCC's spelling and
 * warns, fatally under -Werror, when a hinted loop does not vectorize. */
#if defined(__GNUC__) && !defined(__clang__)
#define BS_UNROLL _Pragma("GCC unroll 16")
#define BS_IVDEP _Pragma("GCC ivdep")
#else
#define BS_UNROLL
#define BS_IVDEP
#endif

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

/* exp_auto's x = x0 + dt phi(z) f over elements 0..n-1 with phi in one
 * form where every |z| is on one side of 0.75 (nsmall of the n below):
 * the series alone (no exp, no division), expm1(z) / z alone, or bs_vphi
 * with both. STEP(PHI) is the statement for element i, PHI the phi to
 * call; the three forms give the same bits (bs_vphi). */
#define BS_VPHI_LOOP(n, nsmall, STEP)                                          \
  do {                                                                         \
    if ((nsmall) == (n))                                                       \
      for (size_t i = 0; i < (size_t)(n); i++)                                 \
        STEP(bs_vphi_small)                                                    \
    else if ((nsmall) == 0)                                                    \
      for (size_t i = 0; i < (size_t)(n); i++)                                 \
        STEP(bs_vphi_large)                                                    \
    else                                                                       \
      for (size_t i = 0; i < (size_t)(n); i++)                                 \
        STEP(bs_vphi)                                                          \
  } while (0)

/* One step of x' = f(x) for one element. rhs is a compile-time constant at
 * every call site, so it is inlined. rk2 is BrainPy's rk2 with beta = 2/3:
 * A = [(), (2/3)], B = [1/4, 3/4]. bs_ode_advance uses libm's expm1 in
 * exp_auto's phi; bs_ode_vadvance vexp.h's, for kernels that vectorize. */
#define BS_ODE_ADVANCE(NAME, PHI)                                              \
  static inline __attribute__((always_inline)) void NAME(                      \
      int method, int nv, bs_rhs_fn rhs, const double *p, const double *k,     \
      double *x, double J, double G, double dt) {                              \
    double f[BS_ODE_MAXV], d[BS_ODE_MAXV];                                     \
    switch (method) {                                                          \
    case BS_METHOD_EXP_AUTO:                                                   \
      /* Each variable linearised in itself, the others frozen at the start    \
       * of the step (Jacobi style). */                                        \
      rhs(p, k, x, J, G, f, d);                                                \
      BS_UNROLL for (int v = 0; v < nv; v++) x[v] +=                           \
          dt * PHI(d[v] * dt) * f[v];                                          \
      break;                                                                   \
    case BS_METHOD_EULER:                                                      \
      rhs(p, k, x, J, G, f, NULL);                                             \
      BS_UNROLL for (int v = 0; v < nv; v++) x[v] += dt * f[v];                \
      break;                                                                   \
    case BS_METHOD_RK2: {                                                      \
      double y[BS_ODE_MAXV], f2[BS_ODE_MAXV];                                  \
      rhs(p, k, x, J, G, f, NULL);                                             \
      BS_UNROLL for (int v = 0; v < nv; v++) y[v] =                            \
          x[v] + (2.0 / 3.0) * dt * f[v];                                      \
      rhs(p, k, y, J, G, f2, NULL);                                            \
      BS_UNROLL for (int v = 0; v < nv; v++) x[v] +=                           \
          dt * (0.25 * f[v] + 0.75 * f2[v]);                                   \
      break;                                                                   \
    }                                                                          \
    default: { /* BS_METHOD_RK4 */                                             \
      double y[BS_ODE_MAXV], k2[BS_ODE_MAXV], k3[BS_ODE_MAXV],                 \
          k4[BS_ODE_MAXV];                                                     \
      rhs(p, k, x, J, G, f, NULL);                                             \
      BS_UNROLL for (int v = 0; v < nv; v++) y[v] = x[v] + 0.5 * dt * f[v];    \
      rhs(p, k, y, J, G, k2, NULL);                                            \
      BS_UNROLL for (int v = 0; v < nv; v++) y[v] = x[v] + 0.5 * dt * k2[v];   \
      rhs(p, k, y, J, G, k3, NULL);                                            \
      BS_UNROLL for (int v = 0; v < nv; v++) y[v] = x[v] + dt * k3[v];         \
      rhs(p, k, y, J, G, k4, NULL);                                            \
      BS_UNROLL for (int v = 0; v < nv; v++) x[v] +=                           \
          dt / 6.0 * (f[v] + 2.0 * k2[v] + 2.0 * k3[v] + k4[v]);               \
      break;                                                                   \
    }                                                                          \
    }                                                                          \
  }
BS_ODE_ADVANCE(bs_ode_advance, bs_phi)
BS_ODE_ADVANCE(bs_ode_vadvance, bs_vphi)

/* The kernel of a point model: NV ODE variables first in its state table,
 * then NAUX others (t_last_spike). The input current at V = x[0] is
 * I + G (V_prev - V) = J - G V. */
#define BS_ODE_KERNEL_ADV(fname, NV, NAUX, RHS, EVENT, ADVANCE)                \
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
      ADVANCE(method, NV, RHS, a->p, a->k, x, a->I[i] + G * x0[0], G, a->dt);  \
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

#define BS_ODE_KERNEL(fname, NV, NAUX, RHS, EVENT)                             \
  BS_ODE_KERNEL_ADV(fname, NV, NAUX, RHS, EVENT, bs_ode_advance)

/* The same step over a block [b0, b0 + n) with the method a constant, for
 * branch-free RHS and EVENT (vexp.h's exp, selects): no noise; the spikes
 * flagged, then collected. ivdep: the state arrays never overlap. With
 * BS_ODE_KERNEL_ADV(..., bs_ode_vadvance) the model's scalar kernel gives
 * the same bits (noise aside). */
#define BS_ODE_BLOCK_LOOP(M, NV, NAUX, RHS, EVENT)                             \
  BS_IVDEP for (size_t i = 0; i < n; i++) {                                    \
    double x[NV], x0[NV], aux[(NAUX) + 1];                                     \
    BS_UNROLL for (int v = 0; v < (NV); v++) x[v] = x0[v] = xs[v][i];          \
    BS_UNROLL for (int v = 0; v < (NAUX); v++) aux[v] = xs[(NV) + v][i];       \
    const double Gi = G[i];                                                    \
    bs_ode_vadvance(M, NV, RHS, a->p, a->k, x, I[i] + Gi * x0[0], Gi, a->dt);  \
    fired[i] = EVENT(a->p, a->k, t, x0, x, aux);                               \
    BS_UNROLL for (int v = 0; v < (NV); v++) xs[v][i] = x[v];                  \
    BS_UNROLL for (int v = 0; v < (NAUX); v++) xs[(NV) + v][i] = aux[v];       \
  }                                                                            \
  break;

/* exp_auto over the block in passes: the right-hand sides of every
 * neuron (f and the diagonal d), then each variable's step with one form
 * of phi alone where every |d dt| of the block is on one side of 0.75
 * (the series: no exp, no division; the same bits as bs_vphi), then the
 * event test. */
#define BS_ODE_EXP_STEP(PHI) xv[i] = x0v[i] + dt * PHI(dv[i] * dt) * fv[i];
#define BS_ODE_BLOCK_EXP(NV, NAUX, RHS, EVENT)                                 \
  {                                                                            \
    double fb[NV][BS_FUSED_BLOCK], db[NV][BS_FUSED_BLOCK],                     \
        x0b[NV][BS_FUSED_BLOCK];                                               \
    size_t nsmall[NV] = {0};                                                   \
    const double dt = a->dt;                                                   \
    BS_IVDEP for (size_t i = 0; i < n; i++) {                                  \
      double x[NV], f[NV], d[NV];                                              \
      BS_UNROLL for (int v = 0; v < (NV); v++) x[v] = x0b[v][i] = xs[v][i];    \
      const double Gi = G[i];                                                  \
      RHS(a->p, a->k, x, I[i] + Gi * x[0], Gi, f, d);                          \
      BS_UNROLL for (int v = 0; v < (NV); v++) {                               \
        fb[v][i] = f[v];                                                       \
        db[v][i] = d[v];                                                       \
        nsmall[v] += fabs(d[v] * dt) < 0.75;                                   \
      }                                                                        \
    }                                                                          \
    for (int v = 0; v < (NV); v++) {                                           \
      double *restrict xv = xs[v];                                             \
      const double *fv = fb[v], *dv = db[v], *x0v = x0b[v];                    \
      BS_VPHI_LOOP(n, nsmall[v], BS_ODE_EXP_STEP);                             \
    }                                                                          \
    BS_IVDEP for (size_t i = 0; i < n; i++) {                                  \
      double x[NV], x0[NV], aux[(NAUX) + 1];                                   \
      BS_UNROLL for (int v = 0; v < (NV); v++) {                               \
        x[v] = xs[v][i];                                                       \
        x0[v] = x0b[v][i];                                                     \
      }                                                                        \
      BS_UNROLL for (int v = 0; v < (NAUX); v++) aux[v] = xs[(NV) + v][i];     \
      fired[i] = EVENT(a->p, a->k, t, x0, x, aux);                             \
      BS_UNROLL for (int v = 0; v < (NAUX); v++) xs[(NV) + v][i] = aux[v];     \
    }                                                                          \
  }                                                                            \
  break;

#define BS_ODE_BLOCK_KERNEL(fname, NV, NAUX, RHS, EVENT)                       \
  BS_CLONES static void fname(const bs_neuron_args *a, size_t b0, size_t n,    \
                              const double *I, const double *G, size_t *nspk,  \
                              uint64_t *bad) {                                 \
    const double t = (double)a->step * a->dt;                                  \
    double *xs[(NV) + (NAUX)];                                                 \
    for (int v = 0; v < (NV) + (NAUX); v++)                                    \
      xs[v] = a->x[v] + b0;                                                    \
    int fired[BS_FUSED_BLOCK];                                                 \
    switch (a->method) {                                                       \
    case BS_METHOD_EXP_AUTO:                                                   \
      BS_ODE_BLOCK_EXP(NV, NAUX, RHS, EVENT)                                   \
    case BS_METHOD_EULER:                                                      \
      BS_ODE_BLOCK_LOOP(BS_METHOD_EULER, NV, NAUX, RHS, EVENT)                 \
    case BS_METHOD_RK2:                                                        \
      BS_ODE_BLOCK_LOOP(BS_METHOD_RK2, NV, NAUX, RHS, EVENT)                   \
    default:                                                                   \
      BS_ODE_BLOCK_LOOP(BS_METHOD_RK4, NV, NAUX, RHS, EVENT)                   \
    }                                                                          \
    uint64_t b = 0;                                                            \
    for (int v = 0; v < (NV) + (NAUX); v++)                                    \
      for (size_t i = 0; i < n; i++)                                           \
        b |= bs_nonfinite_bit(xs[v][i]);                                       \
    *bad |= b;                                                                 \
    size_t q = *nspk;                                                          \
    for (size_t i = 0; i < n; i++)                                             \
      if (fired[i])                                                            \
        a->spk[q++] = (uint32_t)(b0 + i);                                      \
    *nspk = q;                                                                 \
  }

/* A model's update from its block kernel (per block of BS_FUSED_BLOCK),
 * or from its per-neuron kernel when there is noise. */
#define BS_ODE_BLOCK_UPDATE(fname, BLOCK, SCALAR)                              \
  static void fname(bs_neuron_args *a) {                                       \
    if (a->noise) {                                                            \
      SCALAR(a);                                                               \
      return;                                                                  \
    }                                                                          \
    size_t nspk = 0;                                                           \
    uint64_t bad = 0; /* the engine scans the unfused state itself */          \
    for (size_t b0 = 0; b0 < a->n; b0 += BS_FUSED_BLOCK) {                     \
      const size_t n =                                                         \
          a->n - b0 < BS_FUSED_BLOCK ? a->n - b0 : BS_FUSED_BLOCK;             \
      BLOCK(a, b0, n, a->I + b0, a->G ? a->G + b0 : NULL, &nspk, &bad);        \
    }                                                                          \
    a->nspk = nspk;                                                            \
  }

/* BrainPy's refractory test (t - t_last_spike) <= tau_ref, done with a
 * tolerance of 1e-7 dt (as LIF) so tau_ref / dt steps are held exactly. */
static inline double bs_ref_limit(double tau_ref, double dt) {
  return isnan(tau_ref) ? -HUGE_VAL : tau_ref + 1e-7 * dt;
}

#endif

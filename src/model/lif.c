/* BrainPy's LIF (brainpy.neurons.LIF, V2.3.8 reduced_models.py):
 *   tau dV/dt = -(V - V_rest) + R I,  V >= V_th -> V = V_reset,
 * refractory for t - t_last_spike <= tau_ref (V held). exp_auto (exact
 * for this linear equation) has its own vectorised kernel, which treats
 * the synaptic input as a current frozen over the step (BrainPy 2.3); the
 * other methods use the generic integrators. */
#include <math.h>
#include <stdlib.h>

#include "ode.h"

enum { P_V_REST, P_V_RESET, P_V_TH, P_R, P_TAU, P_TAU_REF, NP };
enum { X_V, X_T_LAST, NX };
enum { K_A, K_REF, K_HAS_REF, NK };

static const bs_param lif_params[NP] = {
    {"V_rest", BS_DIM_VOLTAGE, 0.0, -HUGE_VAL, HUGE_VAL, 0,
     "resting potential"},
    {"V_reset", BS_DIM_VOLTAGE, -5.0, -HUGE_VAL, HUGE_VAL, 0,
     "reset potential"},
    {"V_th", BS_DIM_VOLTAGE, 20.0, -HUGE_VAL, HUGE_VAL, 0, "spike threshold"},
    {"R", BS_DIM_ONE, 1.0, 0.0, HUGE_VAL, 0, "membrane resistance"},
    {"tau", BS_DIM_TIME, 10.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "membrane time constant"},
    {"tau_ref", BS_DIM_TIME, NAN, 0.0, HUGE_VAL, BS_P_NULLABLE,
     "refractory period (null: none)"},
};

static const bs_var lif_vars[NX] = {
    BS_VAR("V", BS_DIM_VOLTAGE, 0.0, "membrane potential"),
    BS_VAR("t_last_spike", BS_DIM_TIME, -1e7, "time of the last spike"),
};

static const char *lif_check(const double *p, double dt, int *blame) {
  (void)dt;
  if (p[P_V_RESET] >= p[P_V_TH]) {
    *blame = P_V_RESET;
    return "V_reset must be below V_th";
  }
  return NULL;
}

static void lif_prepare(const double *p, double dt, double *k) {
  /* exp_auto: V += tau (1 - e^{-dt/tau}) f(V) with f = (-(V-V_rest)+RI)/tau,
   * i.e. V += (1 - e^{-dt/tau}) (V_rest + R I - V). */
  k[K_A] = -expm1(-dt / p[P_TAU]);
  k[K_HAS_REF] = isnan(p[P_TAU_REF]) ? 0.0 : 1.0;
  /* The BrainPy test (t - t_last) <= tau_ref is done with a tolerance of
   * 1e-7 dt so that 5 ms at 0.1 ms means exactly 50 steps, not whatever
   * the rounding of t makes of it. */
  k[K_REF] = k[K_HAS_REF] ? p[P_TAU_REF] + 1e-7 * dt : 0.0;
}

/* tau dV/dt = -(V - V_rest) + R I, for euler, rk2 and rk4. */
static void lif_rhs(const double *p, const double *k, const double *x, double J,
                    double G, double *f, double *d) {
  (void)k;
  const double R = p[P_R], tau = p[P_TAU];
  f[0] = (-(x[0] - p[P_V_REST]) + R * (J - G * x[0])) / tau;
  if (d)
    d[0] = (-1.0 - R * G) / tau;
}

static int lif_event(const double *p, const double *k, double t,
                     const double *x0, double *x, double *aux) {
  const double ref = k[K_HAS_REF] != 0.0 ? k[K_REF] : -HUGE_VAL;
  if (t - aux[0] <= ref)
    x[0] = x0[0];
  if (x[0] >= p[P_V_TH]) {
    x[0] = p[P_V_RESET];
    aux[0] = t;
    return 1;
  }
  return 0;
}

BS_ODE_KERNEL(lif_update_generic, 1, 1, lif_rhs, lif_event)

BS_CLONES static void lif_update(bs_neuron_args *a) {
  if (a->method != BS_METHOD_EXP_AUTO) {
    lif_update_generic(a);
    return;
  }
  const double V_rest = a->p[P_V_REST], V_reset = a->p[P_V_RESET];
  const double V_th = a->p[P_V_TH], R = a->p[P_R];
  const double A = a->k[K_A];
  /* Without refractoriness no neuron is ever held: -inf never compares. */
  const double ref = a->k[K_HAS_REF] != 0.0 ? a->k[K_REF] : -HUGE_VAL;
  const double t = (double)a->step * a->dt;
  const size_t n = a->n;
  double *restrict V = a->x[X_V];
  double *restrict tl = a->x[X_T_LAST];
  const double *restrict I = a->I;
  /* Two passes: a branch-free integration the compiler vectorises, then a
   * threshold scan that rarely finds anything. */
  const double *restrict nz = a->noise ? a->noise[X_V] : NULL;
  if (nz) /* Euler-Maruyama's g dW on the integrated V (BrainPy sdeint) */
    for (size_t i = 0; i < n; i++) {
      const double v = BS_FMA(A, BS_FMA(R, I[i], V_rest) - V[i], V[i]) + nz[i];
      V[i] = (t - tl[i] <= ref) ? V[i] : v;
    }
  else
    for (size_t i = 0; i < n; i++) {
      const double v = BS_FMA(A, BS_FMA(R, I[i], V_rest) - V[i], V[i]);
      V[i] = (t - tl[i] <= ref) ? V[i] : v;
    }
  size_t nspk = 0;
  for (size_t i = 0; i < n; i++) {
    if (V[i] >= V_th) {
      V[i] = V_reset;
      tl[i] = t;
      a->spk[nspk++] = (uint32_t)i;
    }
  }
  a->nspk = nspk;
}

/* The fused kernels (bs_fused_update) of exp_auto without noise: the two
 * passes of lif_update in one loop over the block, the threshold as
 * selects, and the spikes collected afterwards from a per-neuron flag when
 * there are any. LIF_KERNEL(name, I_i, params, terms) makes one: the
 * neuron's input I starts at I_i and the terms (LIF_TERM, each a
 * bs_fused_term as exp_*_block would apply it) add to it first, so
 * lif_block is the kernel without terms and the whole kernels (lif_whole)
 * have one to four. The parameters come as restrict arguments: GCC keeps
 * restrict, and so vectorises, only for those. */
#define LIF_KERNEL(NAME, I_I, PARAMS, TERMS)                                   \
  BS_CLONES static void NAME(const bs_neuron_args *a, double *restrict V,      \
                             double *restrict tl, size_t b0, size_t n,         \
                             const double *restrict I0, double I0v,            \
                             size_t *nspk, uint64_t *bad, PARAMS) {            \
    (void)I0, (void)I0v;                                                       \
    const double V_rest = a->p[P_V_REST], V_reset = a->p[P_V_RESET];           \
    const double V_th = a->p[P_V_TH], R = a->p[P_R];                           \
    const double A = a->k[K_A];                                                \
    const double ref = a->k[K_HAS_REF] != 0.0 ? a->k[K_REF] : -HUGE_VAL;       \
    const double t = (double)a->step * a->dt;                                  \
    uint64_t fired[BS_FUSED_BLOCK];                                            \
    uint64_t nf = 0, b = 0;                                                    \
    for (size_t i = 0; i < n; i++) {                                           \
      const double v0 = V[i];                                                  \
      double I = I_I;                                                          \
      TERMS                                                                    \
      const double v = BS_FMA(A, BS_FMA(R, I, V_rest) - v0, v0);               \
      const double w = (t - tl[i] <= ref) ? v0 : v;                            \
      const uint64_t f = w >= V_th;                                            \
      const double vs = f ? V_reset : w;                                       \
      V[i] = vs;                                                               \
      if (f)       /* a masked store: tl's lines stay clean */                 \
        tl[i] = t; /* t only: t_last stays finite */                           \
      fired[i] = f;                                                            \
      nf += f;                                                                 \
      b |= bs_nonfinite_bit(vs);                                               \
    }                                                                          \
    *bad |= b;                                                                 \
    if (nf)                                                                    \
      *nspk = bs_spikes_collect(a->spk, *nspk, b0, fired, n, nf);              \
  }

/* Term j: exp_update, then I += g (a - c V) (bs_fused_term). */
#define LIF_P(j)                                                               \
  double *restrict g##j, double *restrict in##j, const double d##j,            \
      const double a##j, const double c##j
#define LIF_A(j) t[j].g + b0, in[j], t[j].decay, t[j].a, t[j].c
#define LIF_TERM(j)                                                            \
  {                                                                            \
    const double x = BS_FMA(g##j[i], d##j, in##j[i]);                          \
    g##j[i] = x;                                                               \
    in##j[i] = 0.0;                                                            \
    I = BS_FMA(x, BS_FMA(-c##j, v0, a##j), I);                                 \
    b |= bs_nonfinite_bit(x);                                                  \
  }
#define LIF_P0 int unused_
#define LIF_P1 LIF_P(0)
#define LIF_P2 LIF_P1, LIF_P(1)
#define LIF_P3 LIF_P2, LIF_P(2)
#define LIF_P4 LIF_P3, LIF_P(3)
#define LIF_T1 LIF_TERM(0)
#define LIF_T2 LIF_T1 LIF_TERM(1)
#define LIF_T3 LIF_T2 LIF_TERM(2)
#define LIF_T4 LIF_T3 LIF_TERM(3)

LIF_KERNEL(lif_w0, I0[i], LIF_P0, (void)unused_;)
LIF_KERNEL(lif_w0u, I0v, LIF_P0, (void)unused_;)
LIF_KERNEL(lif_w1, I0[i], LIF_P1, LIF_T1)
LIF_KERNEL(lif_w1u, I0v, LIF_P1, LIF_T1)
LIF_KERNEL(lif_w2, I0[i], LIF_P2, LIF_T2)
LIF_KERNEL(lif_w2u, I0v, LIF_P2, LIF_T2)
LIF_KERNEL(lif_w3, I0[i], LIF_P3, LIF_T3)
LIF_KERNEL(lif_w3u, I0v, LIF_P3, LIF_T3)
LIF_KERNEL(lif_w4, I0[i], LIF_P4, LIF_T4)
LIF_KERNEL(lif_w4u, I0v, LIF_P4, LIF_T4)

/* The same kernels written for AVX-512 (LIF512_KERNEL, chosen at run time
 * where the CPU has it): the same operations in the same order, so the
 * same bits as the C kernels, in fewer instructions than GCC makes of
 * them: the threshold and refractory selects as mask registers, the
 * spike flags as one byte per 8 neurons, the NaN test as x - x (zero
 * exactly when x is finite) ORed over what is stored. The kernel's
 * stored values are per vector those of LIF_KERNEL's lanes. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&        \
    !defined(BS_NO_CLONES)
#include <immintrin.h>
#define LIF512 1
#define L5_TARGET __attribute__((target("avx512f")))

/* Lanes m of neurons [i, i + 8): LIF_KERNEL's body. */
#define LIF512_BODY(I_I, TERMS)                                                \
  {                                                                            \
    const __m512d v0 = _mm512_maskz_loadu_pd(m, V + i);                        \
    __m512d I = I_I;                                                           \
    TERMS                                                                      \
    const __m512d v = _mm512_fmadd_pd(                                         \
        kA, _mm512_sub_pd(_mm512_fmadd_pd(kR, I, kVr), v0), v0);               \
    /* not refractory: !(t - t_last <= ref), true for a NaN as in C */         \
    const __mmask8 go = _mm512_mask_cmp_pd_mask(                               \
        m, _mm512_sub_pd(kt, _mm512_maskz_loadu_pd(m, tl + i)), kref,          \
        _CMP_NLE_UQ);                                                          \
    const __m512d w = _mm512_mask_mov_pd(v0, go, v);                           \
    const __mmask8 f = _mm512_mask_cmp_pd_mask(m, w, kth, _CMP_GE_OQ);         \
    const __m512d vs = _mm512_mask_mov_pd(w, f, kVz);                          \
    _mm512_mask_storeu_pd(V + i, m, vs);                                       \
    if (f) {                                                                   \
      _mm512_mask_storeu_pd(tl + i, f, kt);                                    \
      any = 1;                                                                 \
    }                                                                          \
    fm[i / 8] = (uint8_t)f;                                                    \
    z = _mm512_or_si512(z, _mm512_castpd_si512(_mm512_sub_pd(vs, vs)));        \
  }

#define LIF512_KERNEL(NAME, I_I, PARAMS, CONSTS, TERMS)                        \
  L5_TARGET static void NAME(const bs_neuron_args *a, double *restrict V,      \
                             double *restrict tl, size_t b0, size_t n,         \
                             const double *restrict I0, double I0v,            \
                             size_t *nspk, uint64_t *bad, PARAMS) {            \
    (void)I0, (void)I0v;                                                       \
    const __m512d kVr = _mm512_set1_pd(a->p[P_V_REST]),                        \
                  kVz = _mm512_set1_pd(a->p[P_V_RESET]),                       \
                  kth = _mm512_set1_pd(a->p[P_V_TH]),                          \
                  kR = _mm512_set1_pd(a->p[P_R]),                              \
                  kA = _mm512_set1_pd(a->k[K_A]),                              \
                  kref = _mm512_set1_pd(a->k[K_HAS_REF] != 0.0 ? a->k[K_REF]   \
                                                               : -HUGE_VAL),   \
                  kt = _mm512_set1_pd((double)a->step * a->dt),                \
                  kI = _mm512_set1_pd(I0v), zero = _mm512_setzero_pd();        \
    (void)kI, (void)zero;                                                      \
    CONSTS                                                                     \
    uint8_t fm[BS_FUSED_BLOCK / 8];                                            \
    int any = 0;                                                               \
    __m512i z = _mm512_setzero_si512();                                        \
    size_t i = 0;                                                              \
    for (const __mmask8 m = 0xff; i + 8 <= n; i += 8)                          \
      LIF512_BODY(I_I, TERMS)                                                  \
    if (i < n) {                                                               \
      const __mmask8 m = (__mmask8)((1u << (n - i)) - 1);                      \
      LIF512_BODY(I_I, TERMS)                                                  \
    }                                                                          \
    *bad |= (uint64_t)(_mm512_test_epi64_mask(z, z) != 0) << 63;               \
    if (any) {                                                                 \
      size_t q = *nspk;                                                        \
      for (size_t k = 0; k < (n + 7) / 8; k++)                                 \
        for (unsigned b = fm[k]; b; b &= b - 1)                                \
          a->spk[q++] = (uint32_t)(b0 + k * 8 + (size_t)__builtin_ctz(b));     \
      *nspk = q;                                                               \
    }                                                                          \
  }

/* The arrivals of 8 neurons (lanes m, the low ones) as counts x w: the
 * counts read and cleared, converted exactly (bs_counts_expand's in). */
L5_TARGET static inline __m512d l5_counts(uint16_t *c, __mmask8 m) {
  __m128i v;
  if (m == 0xff) {
    v = _mm_loadu_si128((const __m128i *)c);
    _mm_storeu_si128((__m128i *)c, _mm_setzero_si128());
  } else { /* the block's last, partial vector */
    uint16_t t[8] = {0};
    const size_t k = (size_t)__builtin_popcount(m);
    memcpy(t, c, k * sizeof *c);
    memset(c, 0, k * sizeof *c);
    v = _mm_loadu_si128((const __m128i *)t);
  }
  return _mm512_cvtepi32_pd(_mm256_cvtepu16_epi32(v));
}

/* Term j: LIF_TERM's operations, its arrivals from in_j or, where cn_j is
 * not NULL, from counts of weight w_j. */
#define L5_P(j) LIF_P(j), uint16_t *restrict cn##j, const double w##j
#define L5_A(j) LIF_A(j), cnt[j], cw[j]
#define L5_CONST(j)                                                            \
  const __m512d kd##j = _mm512_set1_pd(d##j), ka##j = _mm512_set1_pd(a##j),    \
                kc##j = _mm512_set1_pd(c##j), kw##j = _mm512_set1_pd(w##j);
#define L5_TERM(j)                                                             \
  {                                                                            \
    __m512d arr;                                                               \
    if (cn##j) {                                                               \
      arr = _mm512_mul_pd(l5_counts(cn##j + i, m), kw##j);                     \
    } else {                                                                   \
      arr = _mm512_maskz_loadu_pd(m, in##j + i);                               \
      _mm512_mask_storeu_pd(in##j + i, m, zero);                               \
    }                                                                          \
    const __m512d x =                                                          \
        _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, g##j + i), kd##j, arr);       \
    _mm512_mask_storeu_pd(g##j + i, m, x);                                     \
    I = _mm512_fmadd_pd(x, _mm512_fnmadd_pd(kc##j, v0, ka##j), I);             \
    z = _mm512_or_si512(z, _mm512_castpd_si512(_mm512_sub_pd(x, x)));          \
  }
#define L5_P0 int unused_
#define L5_P1 L5_P(0)
#define L5_P2 L5_P1, L5_P(1)
#define L5_P3 L5_P2, L5_P(2)
#define L5_P4 L5_P3, L5_P(3)
#define L5_C0 (void)unused_;
#define L5_C1 L5_CONST(0)
#define L5_C2 L5_C1 L5_CONST(1)
#define L5_C3 L5_C2 L5_CONST(2)
#define L5_C4 L5_C3 L5_CONST(3)
#define L5_T0
#define L5_T1 L5_TERM(0)
#define L5_T2 L5_T1 L5_TERM(1)
#define L5_T3 L5_T2 L5_TERM(2)
#define L5_T4 L5_T3 L5_TERM(3)
#define L5_IA _mm512_maskz_loadu_pd(m, I0 + i)

LIF512_KERNEL(lif5_w0, L5_IA, L5_P0, L5_C0, L5_T0)
LIF512_KERNEL(lif5_w0u, kI, L5_P0, L5_C0, L5_T0)
LIF512_KERNEL(lif5_w1, L5_IA, L5_P1, L5_C1, L5_T1)
LIF512_KERNEL(lif5_w1u, kI, L5_P1, L5_C1, L5_T1)
LIF512_KERNEL(lif5_w2, L5_IA, L5_P2, L5_C2, L5_T2)
LIF512_KERNEL(lif5_w2u, kI, L5_P2, L5_C2, L5_T2)
LIF512_KERNEL(lif5_w3, L5_IA, L5_P3, L5_C3, L5_T3)
LIF512_KERNEL(lif5_w3u, kI, L5_P3, L5_C3, L5_T3)
LIF512_KERNEL(lif5_w4, L5_IA, L5_P4, L5_C4, L5_T4)
LIF512_KERNEL(lif5_w4u, kI, L5_P4, L5_C4, L5_T4)

/* The same kernels for AVX2 with FMA (LIF256_KERNEL, chosen at run time
 * where the CPU has those but not AVX-512): LIF512_KERNEL's operations in
 * 4 lanes, the selects as blends; a partial vector at the end through
 * masked loads and stores, its unused lanes zero (finite, never fired).
 * The rare vector with a spike sets t_last and appends its neurons in the
 * loop, so no flags are left to scan. */
#define LIF256 1
#define L2_TARGET __attribute__((target("avx2,fma")))
#define L2_LDF(p) _mm256_loadu_pd(p)
#define L2_STF(p, x) _mm256_storeu_pd(p, x)
#define L2_LDM(p) _mm256_maskload_pd(p, mk)
#define L2_STM(p, x) _mm256_maskstore_pd(p, mk, x)

#define LIF256_BODY(LD, ST, K, I_I, TERMS, ARR)                                \
  {                                                                            \
    const __m256d v0 = LD(V + i);                                              \
    __m256d I = I_I;                                                           \
    TERMS(ARR, LD, ST, K)                                                      \
    const __m256d v = _mm256_fmadd_pd(                                         \
        kA, _mm256_sub_pd(_mm256_fmadd_pd(kR, I, kVr), v0), v0);               \
    const __m256d go =                                                         \
        _mm256_cmp_pd(_mm256_sub_pd(kt, LD(tl + i)), kref, _CMP_NLE_UQ);       \
    const __m256d w = _mm256_blendv_pd(v0, v, go);                             \
    const __m256d f = _mm256_cmp_pd(w, kth, _CMP_GE_OQ);                       \
    const __m256d vs = _mm256_blendv_pd(w, kVz, f);                            \
    ST(V + i, vs);                                                             \
    zv = _mm256_add_pd(zv, vs);                                                \
    unsigned fb = (unsigned)_mm256_movemask_pd(f);                             \
    if ((K) < 4)                                                               \
      fb &= (1u << (K)) - 1;                                                   \
    for (; fb; fb &= fb - 1) {                                                 \
      const size_t l = i + (size_t)__builtin_ctz(fb);                          \
      tl[l] = t;                                                               \
      a->spk[q++] = (uint32_t)(b0 + l);                                        \
    }                                                                          \
  }

#define LIF256_KERNEL(NAME, I_I, PARAMS, CONSTS, TERMS, ARR)                   \
  L2_TARGET static void NAME(const bs_neuron_args *a, double *restrict V,      \
                             double *restrict tl, size_t b0, size_t n,         \
                             const double *restrict I0, double I0v,            \
                             size_t *nspk, uint64_t *bad, PARAMS) {            \
    (void)I0, (void)I0v;                                                       \
    const double t = (double)a->step * a->dt;                                  \
    const __m256d kVr = _mm256_set1_pd(a->p[P_V_REST]),                        \
                  kVz = _mm256_set1_pd(a->p[P_V_RESET]),                       \
                  kth = _mm256_set1_pd(a->p[P_V_TH]),                          \
                  kR = _mm256_set1_pd(a->p[P_R]),                              \
                  kA = _mm256_set1_pd(a->k[K_A]),                              \
                  kref = _mm256_set1_pd(a->k[K_HAS_REF] != 0.0 ? a->k[K_REF]   \
                                                               : -HUGE_VAL),   \
                  kt = _mm256_set1_pd(t), kI = _mm256_set1_pd(I0v),            \
                  zero = _mm256_setzero_pd();                                  \
    (void)kI, (void)zero;                                                      \
    CONSTS                                                                     \
    __m256d zg = _mm256_setzero_pd(), zv = _mm256_setzero_pd();                \
    size_t q = *nspk, i = 0;                                                   \
    for (; i + 4 <= n; i += 4)                                                 \
      LIF256_BODY(L2_LDF, L2_STF, 4, I_I(L2_LDF), TERMS, ARR)                  \
    if (i < n) {                                                               \
      const __m256i mk =                                                       \
          _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n - i)),           \
                             _mm256_set_epi64x(3, 2, 1, 0));                   \
      LIF256_BODY(L2_LDM, L2_STM, n - i, I_I(L2_LDM), TERMS, ARR)              \
    }                                                                          \
    *nspk = q;                                                                 \
    /* a sum of what was stored: not finite when one of them is not */         \
    const __m256d zs = _mm256_add_pd(zg, zv);                                  \
    const __m256i zi = _mm256_castpd_si256(_mm256_sub_pd(zs, zs));             \
    *bad |= (uint64_t)(!_mm256_testz_si256(zi, zi)) << 63;                     \
  }

/* The arrivals of k <= 4 neurons as counts x w, the counts read and
 * cleared (l5_counts). */
L2_TARGET static inline __m256d l2_counts(uint16_t *c, size_t k) {
  __m128i v;
  if (k == 4) {
    v = _mm_loadl_epi64((const __m128i *)c);
    _mm_storel_epi64((__m128i *)c, _mm_setzero_si128());
  } else {
    uint16_t t[8] = {0};
    memcpy(t, c, k * sizeof *c);
    memset(c, 0, k * sizeof *c);
    v = _mm_loadl_epi64((const __m128i *)t);
  }
  return _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(v));
}

/* The same of counts in bytes (l2_counts). */
L2_TARGET static inline __m256d l2_counts8(uint8_t *c, size_t k) {
  __m128i v;
  if (k == 4) {
    v = _mm_loadu_si32(c);
  } else {
    uint8_t t[4] = {0};
    memcpy(t, c, k);
    v = _mm_loadu_si32(t);
  }
  memset(c, 0, k);
  return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(v));
}

#define L2_CONST(j)                                                            \
  const __m256d kd##j = _mm256_set1_pd(d##j), ka##j = _mm256_set1_pd(a##j),    \
                kc##j = _mm256_set1_pd(c##j), kw##j = _mm256_set1_pd(w##j);
/* Term j's arrivals: from counts where cn_j is not NULL (L2_ARR), or from
 * counts only (L2_ARRC, the kernels of count rings alone: no test per
 * vector). */
#define L2_ARR(j, LD, ST, K)                                                   \
  __m256d arr;                                                                 \
  if (cn##j) {                                                                 \
    arr = _mm256_mul_pd(l2_counts(cn##j + i, K), kw##j);                       \
  } else {                                                                     \
    arr = LD(in##j + i);                                                       \
    ST(in##j + i, zero);                                                       \
  }
#define L2_ARRB(j, LD, ST, K)                                                  \
  (void)in##j;                                                                 \
  const __m256d arr = _mm256_mul_pd(l2_counts8(cn##j + i, K), kw##j);
#define L2_ARRC(j, LD, ST, K)                                                  \
  (void)in##j;                                                                 \
  const __m256d arr = _mm256_mul_pd(l2_counts(cn##j + i, K), kw##j);
#define L2_TERM(ARR, j, LD, ST, K)                                             \
  {                                                                            \
    ARR(j, LD, ST, K)                                                          \
    const __m256d x = _mm256_fmadd_pd(LD(g##j + i), kd##j, arr);               \
    ST(g##j + i, x);                                                           \
    I = _mm256_fmadd_pd(x, _mm256_fnmadd_pd(kc##j, v0, ka##j), I);             \
    zg = _mm256_add_pd(zg, x);                                                 \
  }
#define L2_C0 (void)unused_;
#define L2_C1 L2_CONST(0)
#define L2_C2 L2_C1 L2_CONST(1)
#define L2_C3 L2_C2 L2_CONST(2)
#define L2_C4 L2_C3 L2_CONST(3)
#define L2_T0(A, LD, ST, K)
#define L2_T1(A, LD, ST, K) L2_TERM(A, 0, LD, ST, K)
#define L2_T2(A, LD, ST, K) L2_T1(A, LD, ST, K) L2_TERM(A, 1, LD, ST, K)
#define L2_T3(A, LD, ST, K) L2_T2(A, LD, ST, K) L2_TERM(A, 2, LD, ST, K)
#define L2_T4(A, LD, ST, K) L2_T3(A, LD, ST, K) L2_TERM(A, 3, LD, ST, K)
#define L2_IA(LD) LD(I0 + i)
#define L2_IU(LD) kI

/* Term j's parameters with counts in bytes (L5_P's), and arguments. */
#define L2B_P(j) LIF_P(j), uint8_t *restrict cn##j, const double w##j
#define L2B_A(j) LIF_A(j), cnt8[j], cw[j]
#define L2B_P1 L2B_P(0)
#define L2B_P2 L2B_P1, L2B_P(1)
#define L2B_P3 L2B_P2, L2B_P(2)
#define L2B_P4 L2B_P3, L2B_P(3)

/* The kernels of one to four terms, with arrivals ARR and term
 * parameters P##j, prefix PFX. */
#define L2_KERNELS(PFX, ARR, P)                                                \
  LIF256_KERNEL(PFX##w1, L2_IA, P##1, L2_C1, L2_T1, ARR)                       \
  LIF256_KERNEL(PFX##w1u, L2_IU, P##1, L2_C1, L2_T1, ARR)                      \
  LIF256_KERNEL(PFX##w2, L2_IA, P##2, L2_C2, L2_T2, ARR)                       \
  LIF256_KERNEL(PFX##w2u, L2_IU, P##2, L2_C2, L2_T2, ARR)                      \
  LIF256_KERNEL(PFX##w3, L2_IA, P##3, L2_C3, L2_T3, ARR)                       \
  LIF256_KERNEL(PFX##w3u, L2_IU, P##3, L2_C3, L2_T3, ARR)                      \
  LIF256_KERNEL(PFX##w4, L2_IA, P##4, L2_C4, L2_T4, ARR)                       \
  LIF256_KERNEL(PFX##w4u, L2_IU, P##4, L2_C4, L2_T4, ARR)

LIF256_KERNEL(lif2_w0, L2_IA, L5_P0, L2_C0, L2_T0, L2_ARR)
LIF256_KERNEL(lif2_w0u, L2_IU, L5_P0, L2_C0, L2_T0, L2_ARR)
L2_KERNELS(lif2_, L2_ARR, L5_P)
/* No terms: nothing to specialise. */
#define lif2c_w0 lif2_w0
#define lif2c_w0u lif2_w0u
#define lif2b_w0 lif2_w0
#define lif2b_w0u lif2_w0u
L2_KERNELS(lif2c_, L2_ARRC, L5_P)
L2_KERNELS(lif2b_, L2_ARRB, L2B_P)
#endif

/* A population's kernel for its nt terms and I0 (an array, or NULL: the
 * uniform I0v), from the kernels of prefix PFX. */
#define LIF_DISPATCH(PFX, A)                                                   \
  switch (nt * 2 + !I0) {                                                      \
  case 0:                                                                      \
    PFX##w0(a, V, tl, b0, n, u, I0v, nspk, bad, 0);                            \
    break;                                                                     \
  case 1:                                                                      \
    PFX##w0u(a, V, tl, b0, n, u, I0v, nspk, bad, 0);                           \
    break;                                                                     \
  case 2:                                                                      \
    PFX##w1(a, V, tl, b0, n, u, I0v, nspk, bad, A(0));                         \
    break;                                                                     \
  case 3:                                                                      \
    PFX##w1u(a, V, tl, b0, n, u, I0v, nspk, bad, A(0));                        \
    break;                                                                     \
  case 4:                                                                      \
    PFX##w2(a, V, tl, b0, n, u, I0v, nspk, bad, A(0), A(1));                   \
    break;                                                                     \
  case 5:                                                                      \
    PFX##w2u(a, V, tl, b0, n, u, I0v, nspk, bad, A(0), A(1));                  \
    break;                                                                     \
  case 6:                                                                      \
    PFX##w3(a, V, tl, b0, n, u, I0v, nspk, bad, A(0), A(1), A(2));             \
    break;                                                                     \
  case 7:                                                                      \
    PFX##w3u(a, V, tl, b0, n, u, I0v, nspk, bad, A(0), A(1), A(2));            \
    break;                                                                     \
  case 8:                                                                      \
    PFX##w4(a, V, tl, b0, n, u, I0v, nspk, bad, A(0), A(1), A(2), A(3));       \
    break;                                                                     \
  default:                                                                     \
    PFX##w4u(a, V, tl, b0, n, u, I0v, nspk, bad, A(0), A(1), A(2), A(3));      \
    break;                                                                     \
  }

static void lif_whole(const bs_neuron_args *a, size_t b0, size_t n,
                      const double *I0, double I0v, const bs_fused_term *t,
                      double *const *in, int nt, size_t *nspk, uint64_t *bad) {
  const double *u = I0; /* the uniform kernels ignore it */
  double *V = a->x[X_V] + b0, *tl = a->x[X_T_LAST] + b0;
  LIF_DISPATCH(lif_, LIF_A)
}

static void lif_block(const bs_neuron_args *a, size_t b0, size_t n,
                      const double *I, const double *G, size_t *nspk,
                      uint64_t *bad) {
  (void)G;
  lif_whole(a, b0, n, I, 0.0, NULL, NULL, 0, nspk, bad);
}

static const bs_fused_neuron lif_fused_block = {.block = lif_block,
                                                .whole = lif_whole};

#ifdef LIF512
/* A set of intrinsic kernels (prefix PFX) as a bs_fused_neuron: whole
 * (rings of doubles), whole_counts and block (no terms); CPFX the kernels
 * of count rings alone, BYTES what runs the counts of bytes (COUNTS8). */
#define LIF_SIMD_OPS(PFX, CPFX, MAX_N, BYTES, COUNTS8)                         \
  static void PFX##whole_counts(                                               \
      const bs_neuron_args *a, size_t b0, size_t n, const double *I0,          \
      double I0v, const bs_fused_term *t, double *const *in,                   \
      uint16_t *const *cnt, uint8_t *const *cnt8, const double *cw, int nt,    \
      size_t *nspk, uint64_t *bad) {                                           \
    const double *u = I0;                                                      \
    double *V = a->x[X_V] + b0, *tl = a->x[X_T_LAST] + b0;                     \
    int all = 1;                                                               \
    for (int j = 0; !cnt8 && j < nt; j++)                                      \
      all &= cnt[j] != NULL;                                                   \
    if (cnt8) {                                                                \
      BYTES                                                                    \
    } else if (all) {                                                          \
      LIF_DISPATCH(CPFX, L5_A)                                                 \
    } else {                                                                   \
      LIF_DISPATCH(PFX, L5_A)                                                  \
    }                                                                          \
  }                                                                            \
  static void PFX##whole(const bs_neuron_args *a, size_t b0, size_t n,         \
                         const double *I0, double I0v, const bs_fused_term *t, \
                         double *const *in, int nt, size_t *nspk,              \
                         uint64_t *bad) {                                      \
    uint16_t *const none[BS_FUSED_TERMS] = {0};                                \
    const double w[BS_FUSED_TERMS] = {0};                                      \
    PFX##whole_counts(a, b0, n, I0, I0v, t, in, none, NULL, w, nt, nspk, bad); \
  }                                                                            \
  static void PFX##block(const bs_neuron_args *a, size_t b0, size_t n,         \
                         const double *I, const double *G, size_t *nspk,       \
                         uint64_t *bad) {                                      \
    (void)G;                                                                   \
    PFX##whole(a, b0, n, I, 0.0, NULL, NULL, 0, nspk, bad);                    \
  }                                                                            \
  static const bs_fused_neuron PFX##fused_block = {.block = PFX##block,        \
                                                   .whole = PFX##whole,        \
                                                   .whole_counts =             \
                                                       PFX##whole_counts,      \
                                                   .max_n = MAX_N,             \
                                                   .counts8 = COUNTS8};

/* The AVX-512 kernels flag spikes in a block's buffer and read counts of
 * two bytes; the AVX2 ones, with kernels for count rings alone (of two
 * bytes, lif2c_, or of one, lif2b_), take a population in one call. */
LIF_SIMD_OPS(lif5_, lif5_, BS_FUSED_BLOCK, (void)cnt8;, 0)
LIF_SIMD_OPS(lif2_, lif2c_, SIZE_MAX, LIF_DISPATCH(lif2b_, L2B_A), 1)
#endif

static const bs_fused_neuron *lif_fused(int method) {
  if (method != BS_METHOD_EXP_AUTO)
    return NULL;
#ifdef LIF512
  /* BRAINSIM_C_KERNELS (tests): the C kernels, to compare their bits. */
  if (!getenv("BRAINSIM_C_KERNELS")) {
    if (__builtin_cpu_supports("avx512f"))
      return &lif5_fused_block;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return &lif2_fused_block;
  }
#endif
  return &lif_fused_block;
}

const bs_neuron_model bs_model_lif = {
    .name = "LIF",
    .doc = "leaky integrate-and-fire (BrainPy LIF)",
    .np = NP,
    .params = lif_params,
    .nx = NX,
    .vars = lif_vars,
    .nk = NK,
    .has_V = 1,
    .check = lif_check,
    .prepare = lif_prepare,
    .update = lif_update,
    .methods = BS_METHODS_ALL,
    .nv = 1,
    .rhs = lif_rhs,
    .event = lif_event,
    .fused = lif_fused,
};

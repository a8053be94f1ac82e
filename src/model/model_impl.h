/* Private to model/: the descriptors the registry lists. */
#ifndef BRAINSIM_MODEL_IMPL_H
#define BRAINSIM_MODEL_IMPL_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "brainsim/model.h"

/* Bit 63 set when x is NaN or infinite: an exponent of all ones is the only
 * one that carries into bit 63 when 1 is added to it. And, add and or
 * vectorize, so block kernels OR this over what they store. */
static inline uint64_t bs_nonfinite_bit(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return (b & UINT64_C(0x7ff0000000000000)) + (UINT64_C(1) << 52);
}

/* A block kernel's spikes from its per-neuron flags: the nf flagged of
 * fired[0..n) as b0 + i into spk from q on, in order, the scan stopping at
 * the last; returns the new count. The flags come from a loop that
 * vectorizes, so the scalar scan runs only over blocks with spikes. */
static inline size_t bs_spikes_collect(uint32_t *spk, size_t q, size_t b0,
                                       const uint64_t *fired, size_t n,
                                       uint64_t nf) {
  const size_t end = q + nf;
  for (size_t i = 0; i < n && q < end; i++)
    if (fired[i])
      spk[q++] = (uint32_t)(b0 + i);
  return q;
}

/* An explicit fused multiply-add: one rounding, so correctly rounded in
 * every form (the FMA instruction of the wider clones, libm's fma
 * elsewhere) and the same bits in a SIMD lane as in scalar code, at every
 * rank count. -ffp-contract=off still forbids the compiler to fuse
 * anything else; the kernels fuse where they say so. */
#define BS_FMA(a, b, c) fma(a, b, c)

/* Wider vectors where the CPU has them (x86-64 function multiversioning):
 * still only basic operations and BS_FMA, since -ffp-contract=off forbids
 * contraction whatever the target, so every clone gives the same bits;
 * x86-64-v3 (AVX2 with FMA) and AVX-512 make BS_FMA one instruction. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&         \
    !defined(BS_NO_CLONES)
#define BS_CLONES                                                              \
  __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define BS_CLONES
#endif

extern const bs_neuron_model bs_model_lif;
extern const bs_input_kind bs_input_current, bs_input_section,
    bs_input_constant, bs_input_spike, bs_input_ramp, bs_input_sinusoidal,
    bs_input_square, bs_input_wiener, bs_input_poisson, bs_input_ou;
extern const bs_neuron_model bs_model_poisson;
extern const bs_neuron_model bs_model_spiketime;
extern const bs_neuron_model bs_model_leaky_integrator;
extern const bs_neuron_model bs_model_expif;
extern const bs_neuron_model bs_model_adexif;
extern const bs_neuron_model bs_model_quaif;
extern const bs_neuron_model bs_model_adquaif;
extern const bs_neuron_model bs_model_gif;
extern const bs_neuron_model bs_model_izhikevich;
extern const bs_neuron_model bs_model_hindmarsh_rose;
extern const bs_neuron_model bs_model_fhn;
extern const bs_neuron_model bs_model_hh;
extern const bs_neuron_model bs_model_morris_lecar;
extern const bs_neuron_model bs_model_wang_buzsaki;
extern const bs_neuron_model bs_model_cng;
extern const bs_syn_model bs_syn_exponential;
extern const bs_syn_model bs_syn_dual_exponential;
extern const bs_syn_model bs_syn_alpha;
extern const bs_syn_model bs_syn_delta;
extern const bs_syn_model bs_syn_gap;
extern const bs_syn_model bs_syn_ampa;
extern const bs_syn_model bs_syn_gabaa;
extern const bs_syn_model bs_syn_nmda;
extern const bs_syn_model bs_syn_bionmda;
extern const bs_output_model bs_out_cuba;
extern const bs_output_model bs_out_coba;
extern const bs_output_model bs_out_mgblock;
extern const bs_plast_rule bs_plast_song2000;
extern const bs_plast_rule bs_plast_nest;
extern const bs_plast_rule bs_plast_triplet;

/* w clipped to [lo, hi]; a NaN bound (BrainPy's None) does not clip. */
static inline double bs_plast_clip(double w, double lo, double hi) {
  if (w < lo) /* false for a NaN lo */
    w = lo;
  if (w > hi)
    w = hi;
  return w;
}

/* A rule's pre_row and post_col from its static on_pre and on_post
 * (double f(const double *p, const double *pre, const double *post,
 * double w)) with NP parameters and NPRE, NPOST traces: the loops of every
 * rule, the update inlined into them (README "Long-term plasticity",
 * event order). The parameters are copied to a local array, which the
 * weight stores cannot alias, so they stay in registers. A row the engine
 * found affine (ev->stride) and a column with consecutive pres (ev->dense)
 * take loops without the index loads, which vectorize in the wider
 * clones; the operations on each synapse are the same, so are the bits.
 * In BrainPy order pre_row stores on_pre's weight and delivers on_post's
 * where the post spiked too; post_col then applies on_post to every
 * synapse of the post, which recomputes that same value. */
#define BS_PLAST_KERNELS(NP, NPRE, NPOST)                                      \
  /* Row of n synapses to posts c0 + i (traces xp, inputs in, hit h or         \
   * NULL) with weights wq[i st]. */                                           \
  static inline uint64_t pre_affine(                                           \
      const double *restrict p, const double *restrict vpre,                   \
      const double *restrict g1, const double *restrict xp,                    \
      double *restrict wq, uint64_t st, double *restrict in,                   \
      const uint8_t *restrict h, double eff, uint64_t n) {                     \
    uint64_t bad = 0;                                                          \
    double vpost[NPOST];                                                       \
    if (!h) {                                                                  \
      for (uint64_t i = 0; i < n; i++) {                                       \
        for (int t = 0; t < NPOST; t++)                                        \
          vpost[t] = xp[i * NPOST + t] * g1[t];                                \
        const double ws = on_pre(p, vpre, vpost, wq[i * st]);                  \
        wq[i * st] = ws;                                                       \
        bad |= bs_nonfinite_bit(ws);                                           \
        in[i] += ws * eff;                                                     \
      }                                                                        \
      return bad;                                                              \
    }                                                                          \
    for (uint64_t i = 0; i < n; i++) {                                         \
      for (int t = 0; t < NPOST; t++)                                          \
        vpost[t] = xp[i * NPOST + t] * g1[t];                                  \
      const double ws = on_pre(p, vpre, vpost, wq[i * st]);                    \
      wq[i * st] = ws;                                                         \
      const double wp = on_post(p, vpre, vpost, ws);                           \
      const double wd = h[i] ? wp : ws;                                        \
      bad |= bs_nonfinite_bit(wd);                                             \
      in[i] += wd * eff;                                                       \
    }                                                                          \
    return bad;                                                                \
  }                                                                            \
  BS_CLONES static uint64_t pre_row(const bs_plast_ev *ev) {                   \
    double p[NP];                                                              \
    memcpy(p, ev->p, sizeof p);                                                \
    const double *restrict xpost = ev->x[1];                                   \
    const uint32_t *restrict col = ev->col;                                    \
    const uint32_t *restrict tpos = ev->tpos;                                  \
    const uint8_t *restrict hit = ev->hit;                                     \
    double *restrict w = ev->w, *restrict in = ev->in;                         \
    double vpre[NPRE], vpost[NPOST], g1[NPOST];                                \
    for (int t = 0; t < NPRE; t++)                                             \
      vpre[t] = ev->x[0][ev->k * NPRE + t] * ev->g[0][t];                      \
    for (int t = 0; t < NPOST; t++)                                            \
      g1[t] = ev->g[1][t];                                                     \
    const double eff = ev->eff;                                                \
    const uint64_t b = ev->b, e = ev->e;                                       \
    if (ev->stride && b < e) {                                                 \
      const uint64_t c0 = col[b];                                              \
      return pre_affine(p, vpre, g1, xpost + c0 * NPOST, w + tpos[b],          \
                        ev->stride, in + c0, hit ? hit + c0 : NULL, eff,       \
                        e - b);                                                \
    }                                                                          \
    uint64_t bad = 0;                                                          \
    /* the weights' gather misses, started 16 synapses early */                \
    const uint64_t pe = e > b + 16 ? e - 16 : b;                               \
    for (uint64_t s = b; s < e; s++) {                                         \
      const uint64_t j = col[s];                                               \
      for (int t = 0; t < NPOST; t++)                                          \
        vpost[t] = xpost[j * NPOST + t] * g1[t];                               \
      if (s < pe)                                                              \
        __builtin_prefetch(&w[tpos[s + 16]], 1);                               \
      const uint64_t q = tpos[s];                                              \
      const double ws = on_pre(p, vpre, vpost, w[q]);                          \
      w[q] = ws;                                                               \
      const double wd = hit && hit[j] ? on_post(p, vpre, vpost, ws) : ws;      \
      bad |= bs_nonfinite_bit(wd);                                             \
      in[j] += wd * eff;                                                       \
    }                                                                          \
    return bad;                                                                \
  }                                                                            \
  /* Synapses [t0, t1) of a column, pre k at tsrc[q] (or k0 + q - t0 when      \
   * tsrc is NULL): restrict parameters, so the loop vectorizes (the pre       \
   * traces gathered, or loaded) in the wider clones. */                       \
  static inline uint64_t post_run(                                             \
      const double *restrict p, const double *restrict xpre,                   \
      const uint32_t *restrict tsrc, uint64_t k0, double *restrict w,          \
      const double *restrict g0, const double *restrict vpost, uint64_t t0,    \
      uint64_t t1) {                                                           \
    double vpre[NPRE];                                                         \
    uint64_t bad = 0;                                                          \
    for (uint64_t q = t0; q < t1; q++) {                                       \
      const uint64_t k = tsrc ? tsrc[q] : k0 + (q - t0);                       \
      for (int t = 0; t < NPRE; t++)                                           \
        vpre[t] = xpre[k * NPRE + t] * g0[t];                                  \
      const double ws = on_post(p, vpre, vpost, w[q]);                         \
      w[q] = ws;                                                               \
      bad |= bs_nonfinite_bit(ws);                                             \
    }                                                                          \
    return bad;                                                                \
  }                                                                            \
  BS_CLONES static uint64_t post_col(const bs_plast_ev *ev) {                  \
    double p[NP];                                                              \
    memcpy(p, ev->p, sizeof p);                                                \
    double vpost[NPOST], g0[NPRE];                                             \
    for (int t = 0; t < NPOST; t++)                                            \
      vpost[t] = ev->x[1][ev->j * NPOST + t] * ev->g[1][t];                    \
    for (int t = 0; t < NPRE; t++)                                             \
      g0[t] = ev->g[0][t];                                                     \
    if (ev->dense && ev->t0 < ev->t1)                                          \
      return post_run(p, ev->x[0], NULL, ev->tsrc[ev->t0], ev->w, g0, vpost,   \
                      ev->t0, ev->t1);                                         \
    return post_run(p, ev->x[0], ev->tsrc, 0, ev->w, g0, vpost, ev->t0,        \
                    ev->t1);                                                   \
  }

#endif

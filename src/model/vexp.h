/* exp and expm1 from IEEE basic operations only (+ - * /, comparisons,
 * selects, integer bit moves), for the ConNeuGroup channel kernels.
 *
 * Why not libm: the channel kernels run over blocks of neurons and should
 * vectorize, and a neuron's result must not depend on whether it lands in
 * a SIMD lane or in the scalar remainder (that depends on the rank's block
 * split). glibc's vector exp (libmvec) and its scalar exp differ in the
 * last bits; these functions are the same sequence of correctly rounded
 * basic operations in either form (with -ffp-contract=off), so a neuron
 * gets the same bits at every rank count.
 *
 * Method: x = k ln2 + r, |r| <= ln2/2, k = rint(x / ln2) by the 1.5 * 2^52
 * shifter (whose low mantissa bits then hold k as an integer, so no
 * float-to-int conversion); ln2 in a Cody-Waite split (hi has 32 trailing
 * zero bits: k ln2_hi is exact for |k| < 2^20). exp: 1 + expm1(r) by
 * its Taylor series to r^13 (Horner with an Estrin tail); expm1: |x| <
 * 0.75 unreduced, to r^17, else 2^k expm1(r) + (2^k - 1); phi(z) =
 * expm1(z) / z: its own series for |z| < 0.75 (no division).
 * 2^k is built in the exponent field in two factors 2^k1 2^k2, so results
 * in the subnormal range round once and overflow gives +inf. Accuracy
 * against glibc over a dense sweep: tests/unit/test_channels.c (max ulp
 * stated there). NaN in gives NaN out; +inf gives +inf, -inf gives 0
 * (expm1: -1). */
#ifndef BRAINSIM_MODEL_VEXP_H
#define BRAINSIM_MODEL_VEXP_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "model_impl.h"

/* Wider vectors where the CPU has them (BS_CLONES, model_impl.h), on the
 * block kernels. The kernels vectorize only with -fno-trapping-math
 * (CMakeLists.txt), which lets the compiler compute both sides of the
 * selects below. */
#define BS_CH_CLONES BS_CLONES

#define BS_VEXP_INLINE __attribute__((always_inline))

/* The polynomials and the reduction use fused multiply-adds (BS_FMA), in
 * half the operations. */

#define BS_VEXP_SHIFT 0x1.8p52
#define BS_VEXP_LN2HI 0x1.62e42fefa0000p-1
#define BS_VEXP_LN2LO 0x1.cf79abc9e3b3ap-40
#define BS_VEXP_LOG2E 0x1.71547652b82fep0

static inline uint64_t bs_vexp_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}
static inline double bs_vexp_from_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* 2^n for an integer-valued double |n| <= 1022 (n + 1.5 2^52 holds n in
 * its low bits). */
static inline BS_VEXP_INLINE double bs_vexp_pow2(double n) {
  const uint64_t b = bs_vexp_bits(n + BS_VEXP_SHIFT) -
                     bs_vexp_bits(BS_VEXP_SHIFT) + (uint64_t)1023;
  return bs_vexp_from_bits(b << 52);
}

/* Reduction: returns r, sets k (integer valued); |r| <= ln2/2 (a little
 * more from rounding). */
static inline BS_VEXP_INLINE double bs_vexp_reduce(double x, double *k) {
  const double t = BS_FMA(x, BS_VEXP_LOG2E, BS_VEXP_SHIFT);
  const double kk = t - BS_VEXP_SHIFT;
  *k = kk;
  return BS_FMA(-kk, BS_VEXP_LN2LO, BS_FMA(-kk, BS_VEXP_LN2HI, x));
}

/* q(r) = (expm1(r) - r) / r^2, its Taylor series to r^(N-2) (N = 13 for
 * |r| <= ln2/2, where the truncation of expm1 is < 2^-60 relative; N = 17
 * for |r| <= 0.75: < 2^-57). The three leading terms by Horner (their
 * rounding sets the accuracy), the small tail t by Estrin's scheme, whose
 * independent products shorten the chain of dependent operations from 16
 * multiply-adds to 7. */
static inline BS_VEXP_INLINE double bs_vexp_q(double r, int n17) {
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double a0 = BS_FMA(r, 1.0 / 720.0, 1.0 / 120.0);
  const double a1 = BS_FMA(r, 1.0 / 40320.0, 1.0 / 5040.0);
  const double a2 = BS_FMA(r, 1.0 / 3628800.0, 1.0 / 362880.0);
  const double a3 = BS_FMA(r, 1.0 / 479001600.0, 1.0 / 39916800.0);
  const double a4 = n17 ? BS_FMA(r, 1.0 / 87178291200.0, 1.0 / 6227020800.0)
                        : 1.0 / 6227020800.0;
  const double a5 = BS_FMA(r, 1.0 / 20922789888000.0, 1.0 / 1307674368000.0);
  const double a6 = 1.0 / 355687428096000.0;
  const double b0 = BS_FMA(a1, r2, a0), b1 = BS_FMA(a3, r2, a2);
  const double b2 = n17 ? BS_FMA(a5, r2, a4) : a4;
  const double d0 = BS_FMA(b1, r4, b0);
  const double d1 = n17 ? BS_FMA(a6, r4, b2) : b2;
  const double t = BS_FMA(d1, r8, d0);
  return BS_FMA(r, BS_FMA(r, BS_FMA(r, t, 1.0 / 24.0), 1.0 / 6.0), 0.5);
}

/* expm1(r) = r + r^2 q(r). */
static inline BS_VEXP_INLINE double bs_vexp_poly(double r, int n17) {
  return BS_FMA(r * r, bs_vexp_q(r, n17), r);
}

static inline BS_VEXP_INLINE double bs_vexp(double x) {
  /* Clamp so k stays in [-1077, 1025]; NaN fails both tests and stays. */
  x = x > 710.0 ? 710.0 : x;
  x = x < -746.0 ? -746.0 : x;
  double k;
  const double r = bs_vexp_reduce(x, &k);
  const double p = 1.0 + bs_vexp_poly(r, 0);
  /* k = k1 + k2 with both in the normal exponent range. */
  const double k1t = k * 0.5 + BS_VEXP_SHIFT;
  const double k1 = k1t - BS_VEXP_SHIFT;
  const double k2 = k - k1;
  return (p * bs_vexp_pow2(k1)) * bs_vexp_pow2(k2);
}

static inline BS_VEXP_INLINE double bs_vexpm1(double x) {
  /* Below -40 the result rounds to -1 (e^-40 < 2^-57); above 709 it is
   * e^x (or +inf), computed as e^x. */
  double xc = x < -40.0 ? -40.0 : x;
  xc = xc > 710.0 ? 710.0 : xc;
  double k;
  double r = bs_vexp_reduce(xc, &k);
  /* |x| < 0.75 unreduced: 2 em + 1 for x just above ln2/2 would cancel. */
  r = fabs(xc) < 0.75 ? xc : r;
  k = fabs(xc) < 0.75 ? 0.0 : k;
  const double em = bs_vexp_poly(r, 1);
  const double k1t = k * 0.5 + BS_VEXP_SHIFT;
  const double k1 = k1t - BS_VEXP_SHIFT;
  const double k2 = k - k1;
  const double s1 = bs_vexp_pow2(k1), s2 = bs_vexp_pow2(k2);
  /* |k| <= 56: 2^k em + (2^k - 1), 2^k - 1 exact; beyond, e^x - 1 rounds
   * to e^x (k > 56) or to -1 (k < -56). */
  const double s = s1 * s2;
  const double small = BS_FMA(s, em, s - 1.0);
  const double large = ((1.0 + em) * s1) * s2;
  return k > 56.0 ? large : small;
}

/* phi(z) = (e^z - 1) / z for |z| < 0.75: 1 + z q(z), no division. */
static inline BS_VEXP_INLINE double bs_vphi_small(double z) {
  return BS_FMA(z, bs_vexp_q(z, 1), 1.0);
}

/* phi(z) = (e^z - 1) / z, phi(0) = 1 (ode.h's bs_phi, vectorizable): the
 * series for |z| < 0.75, else expm1(z) / z. A loop whose every |z| is below
 * 0.75 may call bs_vphi_small alone and gets the same bits. */
static inline BS_VEXP_INLINE double bs_vphi(double z) {
  /* Both sides computed, then a select: with -ftrapping-math the compiler
   * would not if-convert (speculate) a division inside a branch. */
  const int small = fabs(z) < 0.75; /* false for NaN */
  const double zz = small ? 1.0 : z;
  const double r = bs_vexpm1(zz) / zz;
  return small ? bs_vphi_small(z) : r;
}

/* bs_vphi where |z| >= 0.75 or z is NaN (its second branch, the same
 * bits): for loops that have checked it for every element. */
static inline BS_VEXP_INLINE double bs_vphi_large(double z) {
  return bs_vexpm1(z) / z;
}

/* 1 / phi(z) = z / (e^z - 1), 1 at 0: the form the channels' rate
 * functions take (a / phi(z) with one division instead of two). */
static inline BS_VEXP_INLINE double bs_vinvphi(double z) {
  const double zz = z == 0.0 ? 1.0 : z;
  const double r = zz / bs_vexpm1(zz);
  return z == 0.0 ? 1.0 : r;
}

#endif

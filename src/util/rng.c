/* Philox4x32-10 streams keyed by global ids (see rng.h). */
#include "brainsim/rng.h"

#include <Random123/philox.h>
#include <math.h>

static void refill(bs_rng *r) {
  philox4x32_ctr_t c = {{r->ctr[0], r->ctr[1], r->ctr[2], r->ctr[3]}};
  philox4x32_key_t k = {{r->key[0], r->key[1]}};
  philox4x32_ctr_t o = philox4x32(c, k);
  for (int i = 0; i < 4; i++)
    r->out[i] = o.v[i];
  r->ctr[3]++;
  r->used = 0;
}

void bs_rng_init(bs_rng *r, uint64_t seed, uint32_t purpose, uint32_t a,
                 uint32_t b, uint32_t c) {
  /* The seed is at most 32 bits (checked by the config reader); the
   * purpose takes the other key word so streams of different uses differ. */
  r->key[0] = (uint32_t)seed;
  r->key[1] = purpose ^ (uint32_t)(seed >> 32) * 0x9E3779B9u;
  r->ctr[0] = a;
  r->ctr[1] = b;
  r->ctr[2] = c;
  r->ctr[3] = 0;
  r->used = 4;
}

uint32_t bs_rng_u32(bs_rng *r) {
  if (r->used >= 4)
    refill(r);
  return r->out[r->used++];
}

static double to_open01(uint32_t hi, uint32_t lo) {
  uint64_t u = (((uint64_t)hi << 32) | lo) >> 11;
  return ((double)u + 0.5) * 0x1.0p-53;
}

double bs_rng_uniform(bs_rng *r) {
  uint32_t hi = bs_rng_u32(r);
  uint32_t lo = bs_rng_u32(r);
  return to_open01(hi, lo);
}

double bs_rng_normal(bs_rng *r) {
  double u1 = bs_rng_uniform(r);
  double u2 = bs_rng_uniform(r);
  /* Only the cosine half: one normal per pair keeps positions simple. */
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t bs_rng_below(bs_rng *r, uint64_t n) {
  if (n <= 1)
    return 0;
  /* Rejection sampling on 64-bit draws. */
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    uint64_t x = ((uint64_t)bs_rng_u32(r) << 32) | bs_rng_u32(r);
    if (x < limit)
      return x % n;
  }
}

double bs_rng_uniform_at(uint64_t seed, uint32_t purpose, uint32_t a,
                         uint32_t b, uint32_t c) {
  bs_rng r;
  bs_rng_init(&r, seed, purpose, a, b, c);
  refill(&r);
  return to_open01(r.out[0], r.out[1]);
}

void bs_binom_init(bs_binom *b, uint64_t n, double p) {
  b->n = n;
  b->p = p;
  b->q = 1.0 - p;
  b->m = 0;
  b->pm = 1.0;
  if (n == 0 || p <= 0.0 || p >= 1.0)
    return;
  const double dn = (double)n;
  uint64_t m = (uint64_t)floor((dn + 1.0) * p);
  b->m = m > n ? n : m;
  const double dm = (double)b->m;
  b->pm = exp(lgamma(dn + 1.0) - lgamma(dm + 1.0) - lgamma(dn - dm + 1.0) +
              dm * log(p) + (dn - dm) * log(b->q));
}

uint64_t bs_binom_draw(const bs_binom *b, bs_rng *r) {
  const uint64_t n = b->n, m = b->m;
  const double p = b->p, q = b->q;
  if (n == 0 || p <= 0.0)
    return 0;
  if (p >= 1.0)
    return n;
  double u = bs_rng_uniform(r) - b->pm;
  if (u <= 0.0)
    return m;
  uint64_t lo = m, hi = m;
  double plo = b->pm, phi = b->pm;
  while (lo > 0 || hi < n) {
    if (hi < n) {
      phi *= (double)(n - hi) / (double)(hi + 1) * p / q;
      hi++;
      u -= phi;
      if (u <= 0.0)
        return hi;
    }
    if (lo > 0) {
      plo *= (double)lo / (double)(n - lo + 1) * q / p;
      lo--;
      u -= plo;
      if (u <= 0.0)
        return lo;
    }
    if (phi == 0.0 && plo == 0.0)
      break;
  }
  return m; /* the rounding leftover */
}

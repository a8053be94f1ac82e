/* Counter-based random numbers (Random123 Philox4x32-10). A stream is keyed
 * by (seed, purpose) and positioned by global ids, never by rank, so every
 * rank count draws the same numbers for the same neuron or synapse. */
#ifndef BRAINSIM_RNG_H
#define BRAINSIM_RNG_H

#include <stdint.h>

/* Purposes: one per independent use, so streams never overlap. */
enum {
  BS_RNG_INIT = 1,      /* initial state: (gid, var) */
  BS_RNG_CONNECT = 2,   /* connectivity: (projection, post or pre index) */
  BS_RNG_WEIGHT = 3,    /* per-synapse weight: (projection, synapse key) */
  BS_RNG_DELAY = 4,     /* per-synapse delay: (projection, synapse key) */
  BS_RNG_POISSON = 5,   /* Poisson sources: (gid, step) */
  BS_RNG_DELAY_PRE = 6, /* per-pre delay: (projection, pre index) */
  BS_RNG_OUT_E = 7,     /* per-post reversal potential: (projection, post) */
  BS_RNG_PARAM = 8,     /* heterogeneous neuron parameter: (gid, param) */
  BS_RNG_NOISE = 9,     /* neuron noise dW: (gid, variable, step) */
  BS_RNG_INPUT = 12     /* noise inputs: (input, gid, step) */
};

typedef struct bs_rng {
  uint32_t key[2];
  uint32_t ctr[4];
  uint32_t out[4];
  int used; /* words of out[] already consumed */
} bs_rng;

/* A stream for (seed, purpose) at position (a, b, c); the fourth counter
 * word advances as numbers are drawn (2^32 blocks of 4 words). */
void bs_rng_init(bs_rng *r, uint64_t seed, uint32_t purpose, uint32_t a,
                 uint32_t b, uint32_t c);
uint32_t bs_rng_u32(bs_rng *r);
/* Uniform double in the open interval (0, 1), 53 random bits. */
double bs_rng_uniform(bs_rng *r);
/* Standard normal (Box-Muller, both halves used in turn). */
double bs_rng_normal(bs_rng *r);
/* Uniform integer in [0, n) without modulo bias. */
uint64_t bs_rng_below(bs_rng *r, uint64_t n);
/* Binomial(n, p) by inversion from the mode (exact up to rounding,
 * expected O(sqrt(n p (1 - p))) steps, one uniform per draw): the pmf at
 * the mode is computed once by bs_binom_init, so many draws of one
 * (n, p) cost no lgamma each. */
typedef struct bs_binom {
  uint64_t n, m; /* trials, the mode */
  double p, q, pm;
} bs_binom;
void bs_binom_init(bs_binom *b, uint64_t n, double p);
uint64_t bs_binom_draw(const bs_binom *b, bs_rng *r);
/* One-shot uniform in (0,1) for (seed, purpose, a, b, c): no state kept. */
double bs_rng_uniform_at(uint64_t seed, uint32_t purpose, uint32_t a,
                         uint32_t b, uint32_t c);

#endif

/* BrainPy's PoissonGroup: each step a neuron spikes with probability
 * freqs * dt / 1000 (freqs in Hz, dt in ms). The uniform draw is keyed by
 * (seed, gid, step), so it does not depend on the rank count. */
#include <math.h>

#include "brainsim/rng.h"
#include "model_impl.h"

enum { P_FREQS, NP };
enum { K_P, NK };

static const bs_param poisson_params[NP] = {
    {"freqs", BS_DIM_RATE, NAN, 0.0, HUGE_VAL, BS_P_REQUIRED | BS_P_SECTIONS,
     "firing rate: a value, per neuron (list, initializer, dataset) or in "
     "time ({values, durations})"},
};

static const char *poisson_check(const double *p, double dt, int *blame) {
  if (p[P_FREQS] * dt / 1000.0 > 1.0) {
    *blame = P_FREQS;
    return "freqs * dt exceeds one spike per step";
  }
  return NULL;
}

static void poisson_prepare(const double *p, double dt, double *k) {
  k[K_P] = p[P_FREQS] * dt / 1000.0;
}

static void poisson_update(bs_neuron_args *a) {
  const double prob = a->k[K_P];
  size_t nspk = 0;
  for (size_t i = 0; i < a->n; i++) {
    uint64_t gid = a->gid0 + i;
    double u = bs_rng_uniform_at(a->seed, BS_RNG_POISSON, (uint32_t)gid,
                                 (uint32_t)(gid >> 32), (uint32_t)a->step);
    if (u < prob)
      a->spk[nspk++] = (uint32_t)i;
  }
  a->nspk = nspk;
}

const bs_neuron_model bs_model_poisson = {
    .name = "PoissonGroup",
    .doc = "independent Poisson spike sources (BrainPy PoissonGroup)",
    .np = NP,
    .params = poisson_params,
    .nx = 0,
    .vars = NULL,
    .nk = NK,
    .has_V = 0,
    .check = poisson_check,
    .prepare = poisson_prepare,
    .update = poisson_update,
};

/* The one registry of models: adding a model is one file plus one line here. */
#include <math.h>
#include <string.h>

#include "brainsim/rng.h"
#include "model_impl.h"

static const bs_neuron_model *const neurons[] = {&bs_model_lif,
                                                 &bs_model_poisson,
                                                 &bs_model_spiketime,
                                                 &bs_model_leaky_integrator,
                                                 &bs_model_expif,
                                                 &bs_model_adexif,
                                                 &bs_model_quaif,
                                                 &bs_model_adquaif,
                                                 &bs_model_gif,
                                                 &bs_model_izhikevich,
                                                 &bs_model_hindmarsh_rose,
                                                 &bs_model_fhn,
                                                 &bs_model_hh,
                                                 &bs_model_morris_lecar,
                                                 &bs_model_wang_buzsaki,
                                                 &bs_model_cng};
static const bs_syn_model *const synapses[] = {
    &bs_syn_exponential, &bs_syn_dual_exponential,
    &bs_syn_alpha,       &bs_syn_delta,
    &bs_syn_gap,         &bs_syn_ampa,
    &bs_syn_gabaa,       &bs_syn_nmda,
    &bs_syn_bionmda};
static const bs_output_model *const outputs[] = {&bs_out_cuba, &bs_out_coba,
                                                 &bs_out_mgblock};
/* Current inputs (brainpy.inputs); "current" is the plain `current: I`. */
static const bs_input_kind *const inputs[] = {
    &bs_input_current, &bs_input_section, &bs_input_constant,
    &bs_input_spike,   &bs_input_ramp,    &bs_input_sinusoidal,
    &bs_input_square,  &bs_input_wiener,  &bs_input_poisson, &bs_input_ou};
static const bs_syn_alias aliases[] = {
    {"ExpCUBA", "Exponential", "CUBA"},
    {"ExpCOBA", "Exponential", "COBA"},
    {"DualExpCUBA", "DualExponential", "CUBA"},
    {"DualExpCOBA", "DualExponential", "COBA"},
    {"AlphaCUBA", "Alpha", "CUBA"},
    {"AlphaCOBA", "Alpha", "COBA"},
    {"DeltaSynapse", "Delta", "CUBA"},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *bs_dim_unit(bs_dim d) {
  switch (d) {
  case BS_DIM_TIME:
    return "ms";
  case BS_DIM_VOLTAGE:
    return "mV";
  case BS_DIM_RATE:
    return "Hz";
  default:
    return "1";
  }
}

const char *bs_dim_name(bs_dim d) {
  switch (d) {
  case BS_DIM_TIME:
    return "time";
  case BS_DIM_VOLTAGE:
    return "voltage";
  case BS_DIM_RATE:
    return "rate";
  default:
    return "dimensionless";
  }
}

const bs_neuron_model *bs_neuron_find(const char *name) {
  for (int i = 0; i < COUNT(neurons); i++)
    if (strcmp(neurons[i]->name, name) == 0)
      return neurons[i];
  return NULL;
}
const bs_syn_model *bs_syn_find(const char *name) {
  for (int i = 0; i < COUNT(synapses); i++)
    if (strcmp(synapses[i]->name, name) == 0)
      return synapses[i];
  return NULL;
}
const bs_output_model *bs_output_find(const char *name) {
  for (int i = 0; i < COUNT(outputs); i++)
    if (strcmp(outputs[i]->name, name) == 0)
      return outputs[i];
  return NULL;
}
const bs_syn_alias *bs_syn_alias_find(const char *name) {
  for (int i = 0; i < COUNT(aliases); i++)
    if (strcmp(aliases[i].name, name) == 0)
      return &aliases[i];
  return NULL;
}
static const char *const method_names[BS_METHOD_COUNT] = {"exp_auto", "euler",
                                                          "rk2", "rk4"};

const char *bs_method_name(int method) {
  return method >= 0 && method < BS_METHOD_COUNT ? method_names[method] : "?";
}

int bs_method_find(const char *name) {
  /* BrainPy's aliases of exp_auto (integrators/ode/exponential.py). */
  static const char *const exp_alias[] = {"exp_euler", "exponential_euler",
                                          "exp_euler_auto"};
  for (int m = 0; m < BS_METHOD_COUNT; m++)
    if (strcmp(method_names[m], name) == 0)
      return m;
  for (size_t i = 0; i < sizeof exp_alias / sizeof exp_alias[0]; i++)
    if (strcmp(exp_alias[i], name) == 0)
      return BS_METHOD_EXP_AUTO;
  return -1;
}

const bs_input_kind *bs_input_find(const char *name) {
  for (int i = 0; i < COUNT(inputs); i++)
    if (strcmp(inputs[i]->name, name) == 0)
      return inputs[i];
  return NULL;
}
int bs_input_count(void) { return COUNT(inputs); }
const bs_input_kind *bs_input_at(int i) { return inputs[i]; }
int bs_neuron_count(void) { return COUNT(neurons); }
const bs_neuron_model *bs_neuron_at(int i) { return neurons[i]; }
int bs_syn_count(void) { return COUNT(synapses); }
const bs_syn_model *bs_syn_at(int i) { return synapses[i]; }
int bs_output_count(void) { return COUNT(outputs); }
const bs_output_model *bs_output_at(int i) { return outputs[i]; }
int bs_syn_alias_count(void) { return COUNT(aliases); }
const bs_syn_alias *bs_syn_alias_at(int i) { return &aliases[i]; }

int bs_param_index(int np, const bs_param *params, const char *name) {
  for (int i = 0; i < np; i++)
    if (strcmp(params[i].name, name) == 0)
      return i;
  return -1;
}

int bs_var_index(int nx, const bs_var *vars, const char *name) {
  for (int i = 0; i < nx; i++)
    if (strcmp(vars[i].name, name) == 0)
      return i;
  return -1;
}

double bs_dist_sample(const bs_dist *d, bs_rng *r) {
  switch (d->kind) {
  case BS_DIST_UNIFORM:
    return d->a + (d->b - d->a) * bs_rng_uniform(r);
  case BS_DIST_NORMAL:
    return d->a + d->b * bs_rng_normal(r);
  case BS_DIST_LOGNORMAL:
    return exp(d->a + d->b * bs_rng_normal(r));
  case BS_DIST_TRUNCNORMAL: {
    /* Rejection from the parent normal: the draws come from the element's
     * own stream, so their number does not affect other elements. The
     * config refuses bounds holding less than 1e-3 of the mass, so this
     * ends quickly; a zero scale gives the mean clipped to the bounds. */
    if (!(d->b > 0))
      return fmin(fmax(d->a, d->c), d->d);
    for (;;) {
      const double v = d->a + d->b * bs_rng_normal(r);
      if (v >= d->c && v <= d->d)
        return v;
    }
  }
  default:
    return d->a;
  }
}

const char *bs_dist_name(const bs_dist *d) {
  switch (d->kind) {
  case BS_DIST_UNIFORM:
    return "uniform";
  case BS_DIST_NORMAL:
    return "normal";
  case BS_DIST_LOGNORMAL:
    return "lognormal";
  case BS_DIST_TRUNCNORMAL:
    return "truncnormal";
  default:
    return "const";
  }
}

double bs_dist_truncnormal_mass(const bs_dist *d) {
  if (!(d->b > 0))
    return d->a >= d->c && d->a <= d->d ? 1.0 : 0.0;
  const double zc = (d->c - d->a) / (d->b * sqrt(2.0));
  const double zd = (d->d - d->a) / (d->b * sqrt(2.0));
  /* erfc on the side away from the mean keeps precision in the tails. */
  if (zc > 0)
    return 0.5 * (erfc(zc) - erfc(zd));
  if (zd < 0)
    return 0.5 * (erfc(-zd) - erfc(-zc));
  return 1.0 - 0.5 * (erfc(-zc) + erfc(zd));
}

int bs_dist_is_const(const bs_dist *d) { return d->kind == BS_DIST_CONST; }

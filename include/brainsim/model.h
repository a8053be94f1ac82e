/* Models as data plus kernels: each neuron, synapse and output kind is one
 * static const descriptor (parameters with units, defaults and ranges; state
 * variables; kernels over SoA arrays). The config reader, `--help models`,
 * the monitors and the engine all read the same tables. Kernels never
 * allocate, print, call MPI or do I/O. */
#ifndef BRAINSIM_MODEL_H
#define BRAINSIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Physical dimension of a value; plain numbers are in the canonical unit. */
typedef enum {
  BS_DIM_ONE = 0, /* dimensionless (BrainPy's currents and conductances) */
  BS_DIM_TIME,    /* ms */
  BS_DIM_VOLTAGE, /* mV */
  BS_DIM_RATE     /* Hz */
} bs_dim;
const char *bs_dim_unit(bs_dim d);
const char *bs_dim_name(bs_dim d);

#define BS_P_LO_OPEN 1u   /* value must be > lo (else >= lo) */
#define BS_P_HI_OPEN 2u   /* value must be < hi (else <= hi) */
#define BS_P_REQUIRED 4u  /* no default: the config must give it */
#define BS_P_INTEGER 8u   /* must be a whole number */
#define BS_P_NULLABLE 16u /* may be `null` (BrainPy's None): stored as NAN */

typedef struct bs_param {
  const char *name;
  bs_dim dim;
  double def; /* default (NAN with BS_P_NULLABLE means None) */
  double lo, hi;
  unsigned flags;
  const char *doc;
} bs_param;

typedef struct bs_var {
  const char *name;
  bs_dim dim;
  double init; /* default constant initial value */
  const char *doc;
} bs_var;

/* A value drawn per element: constant, uniform [a, b) or normal(a, b). */
typedef enum { BS_DIST_CONST, BS_DIST_UNIFORM, BS_DIST_NORMAL } bs_dist_kind;
typedef struct bs_dist {
  bs_dist_kind kind;
  double a, b;
} bs_dist;

struct bs_rng;
double bs_dist_sample(const bs_dist *d, struct bs_rng *r);
int bs_dist_is_const(const bs_dist *d);

/* ---- neurons ---------------------------------------------------------- */

typedef struct bs_neuron_args {
  size_t n;         /* local neurons */
  uint64_t gid0;    /* global id of local neuron 0 */
  int64_t step;     /* the step being computed: t = step * dt */
  double dt;        /* ms */
  uint64_t seed;    /* run seed, for models that draw (PoissonGroup) */
  const double *p;  /* parameters, in the descriptor's order */
  const double *k;  /* constants derived by prepare() */
  double *const *x; /* state arrays, in the descriptor's order */
  const double *I;  /* summed input current for this step */
  uint32_t *spk;    /* out: local indices that spiked, ascending */
  size_t nspk;      /* out: how many */
} bs_neuron_args;

typedef struct bs_neuron_model {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int nx;
  const bs_var *vars; /* vars[0] is the membrane potential if has_V */
  int nk;             /* number of derived constants (<= BS_MAX_K) */
  int has_V;          /* receives currents; COBA reads vars[0] */
  /* Cross-parameter checks: returns NULL when fine, else a message naming
   * the parameter in *blame. */
  const char *(*check)(const double *p, double dt, int *blame);
  void (*prepare)(const double *p, double dt, double *k);
  void (*update)(bs_neuron_args *a);
} bs_neuron_model;

#define BS_MAX_K 16
#define BS_MAX_PARAMS 32
#define BS_MAX_VARS 16 /* state variables per model */

/* ---- synapses and outputs ---------------------------------------------- */

typedef struct bs_syn_args {
  size_t n;         /* local post-synaptic neurons */
  const double *p;  /* parameters */
  const double *k;  /* derived constants */
  double *const *x; /* per-post state arrays */
  double *in;       /* this step's arrivals (summed weights), cleared here */
} bs_syn_args;

typedef struct bs_syn_model {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int nx;
  const bs_var *vars; /* vars[0] is the conductance the output reads */
  int nk;
  void (*prepare)(const double *p, double dt, double *k);
  void (*update)(bs_syn_args *a);
} bs_syn_model;

typedef struct bs_out_args {
  size_t n;
  const double *p;
  const double *g; /* synaptic variable per post neuron */
  const double *V; /* post-synaptic membrane potential (previous step) */
  double *I;       /* post-synaptic input current, added to */
} bs_out_args;

typedef struct bs_output_model {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int needs_V;
  void (*apply)(bs_out_args *a);
} bs_output_model;

/* Compatibility names (ExpCUBA, ExpCOBA): a synapse plus an output whose
 * parameters are given at the projection level. */
typedef struct bs_syn_alias {
  const char *name;
  const char *synapse;
  const char *output;
} bs_syn_alias;

/* ---- registry ---------------------------------------------------------- */

const bs_neuron_model *bs_neuron_find(const char *name);
const bs_syn_model *bs_syn_find(const char *name);
const bs_output_model *bs_output_find(const char *name);
const bs_syn_alias *bs_syn_alias_find(const char *name);
int bs_neuron_count(void);
const bs_neuron_model *bs_neuron_at(int i);
int bs_syn_count(void);
const bs_syn_model *bs_syn_at(int i);
int bs_output_count(void);
const bs_output_model *bs_output_at(int i);
int bs_syn_alias_count(void);
const bs_syn_alias *bs_syn_alias_at(int i);
int bs_param_index(int np, const bs_param *params, const char *name);
int bs_var_index(int nx, const bs_var *vars, const char *name);

#endif

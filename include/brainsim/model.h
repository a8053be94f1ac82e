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
#define BS_P_SECTIONS                                                          \
  32u /* may vary in time, {values, durations} (a                              \
         population parameter; PoissonGroup's freqs) */

typedef struct bs_param {
  const char *name;
  bs_dim dim;
  double def; /* default (NAN with BS_P_NULLABLE means None) */
  double lo, hi;
  unsigned flags;
  const char *doc;
} bs_param;

/* A value drawn per element: constant a, uniform [a, b), normal(mean a,
 * scale b), lognormal exp(normal(a, b)) (BrainPy's LogNormal: a and b are
 * the mean and scale of the logarithm), or normal(a, b) truncated to
 * [c, d] (BrainPy's TruncatedNormal; c, d may be infinite). */
typedef enum {
  BS_DIST_CONST,
  BS_DIST_UNIFORM,
  BS_DIST_NORMAL,
  BS_DIST_LOGNORMAL,
  BS_DIST_TRUNCNORMAL
} bs_dist_kind;
typedef struct bs_dist {
  bs_dist_kind kind;
  double a, b;
  double c, d; /* truncation bounds (BS_DIST_TRUNCNORMAL) */
} bs_dist;
const char *bs_dist_name(const bs_dist *d);
/* Probability mass of normal(a, b) inside [c, d]. */
double bs_dist_truncnormal_mass(const bs_dist *d);

typedef struct bs_var {
  const char *name;
  bs_dim dim;
  double init; /* default initial value; NAN: derived by the model's init()
                  (e.g. a gate at its steady state) */
  const char *doc;
  /* A default that is a distribution: BS_DIST_UNIFORM draws from
   * [init, init_b) (BrainPy's V_initializer=Uniform(-70, -60)). */
  bs_dist_kind init_kind;
  double init_b;
} bs_var;
/* A state variable with a constant default (designated, so the optional
 * fields stay zero without warnings). */
#define BS_VAR(NAME, DIM, INIT, DOC)                                           \
  { .name = NAME, .dim = DIM, .init = INIT, .doc = DOC }

struct bs_rng;
double bs_dist_sample(const bs_dist *d, struct bs_rng *r);
int bs_dist_is_const(const bs_dist *d);

/* ---- neurons ---------------------------------------------------------- */

/* Integrators a population can choose with `method:` (BrainPy's names). */
typedef enum {
  BS_METHOD_EXP_AUTO = 0, /* per-variable exponential Euler (the default) */
  BS_METHOD_EULER,        /* forward Euler */
  BS_METHOD_RK2,          /* BrainPy's rk2, beta = 2/3 (Ralston) */
  BS_METHOD_RK4,          /* classic Runge-Kutta */
  BS_METHOD_COUNT
} bs_method;
#define BS_METHODS_ALL ((1u << BS_METHOD_COUNT) - 1u)
const char *bs_method_name(int method);
/* The method named (or a BrainPy alias such as exp_euler), or -1. */
int bs_method_find(const char *name);

struct bs_neuron_model;

typedef struct bs_neuron_args {
  size_t n;         /* local neurons */
  uint64_t gid0;    /* global id of local neuron 0 */
  int64_t step;     /* the step being computed: t = step * dt */
  int64_t tstep;    /* the same counted from the trial's start */
  double dt;        /* ms */
  uint64_t seed;    /* run seed, for models that draw (PoissonGroup) */
  const double *p;  /* parameters, in the descriptor's order */
  const double *k;  /* constants derived by prepare() */
  double *const *x; /* state arrays, in the descriptor's order */
  const double *I;  /* summed input current for this step, at V of the
                       previous step */
  /* Summed conductance of the conductance-based inputs (COBA outputs), or
   * NULL when none: the input current at potential V is
   * I + G (V_prev - V). Models with a right-hand side put it into their
   * exp_auto linearisation, as Brian2 and BrainPy's LTC neurons do; LIF's
   * fast kernel keeps it frozen (BrainPy 2.3). */
  const double *G;
  /* Per ODE variable: this step's noise increment g dW to add to the
   * integrated value before refractoriness and threshold (BrainPy's
   * sdeint), or NULL for none; the array NULL: no noise at all. */
  double *const *noise;
  int method;                          /* bs_method of the population */
  const struct bs_neuron_model *model; /* the population's descriptor */
  /* Listed spikes of the local neurons (models with `events`): nev keys
   * (trial step << 32 | local index), ascending and unique; *ev_next is
   * the first not yet emitted. NULL for other models. */
  const uint64_t *ev;
  uint64_t nev;
  uint64_t *ev_next;
  uint32_t *spk; /* out: local indices that spiked */
  size_t nspk;   /* out: how many */
} bs_neuron_args;

/* Per-element right-hand side of a model's ODEs, for the generic
 * integrators: x[0..nv-1] is one neuron's state, the input current at that
 * state is J - G x[0]. Writes dx/dt to f and, when dfdx is not NULL, the
 * diagonal derivatives d f_i / d x_i (exp_auto's linearisation). */
typedef void (*bs_rhs_fn)(const double *p, const double *k, const double *x,
                          double J, double G, double *f, double *dfdx);
/* After a step: x0 the state before it, x after it (the ODE variables),
 * aux the model's other variables. Applies refractoriness and reset and
 * returns 1 when the neuron spiked. t = step * dt. */
typedef int (*bs_event_fn)(const double *p, const double *k, double t,
                           const double *x0, double *x, double *aux);

typedef struct bs_neuron_model {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int nx;
  const bs_var *vars; /* vars[0] is the membrane potential if has_V */
  int nk;             /* number of derived constants (<= BS_MAX_K) */
  int has_V;          /* receives currents; COBA reads vars[0] */
  /* Replays listed spikes (BrainPy's SpikeTimeGroup): the config reads
   * `indices` and `times` (or a SONATA spike file) into the population's
   * spec, the engine gives update each rank's own events (ev above). */
  int events;
  /* Cross-parameter checks: returns NULL when fine, else a message naming
   * the parameter in *blame. */
  const char *(*check)(const double *p, double dt, int *blame);
  void (*prepare)(const double *p, double dt, double *k);
  void (*update)(bs_neuron_args *a);
  /* Optional. Called once after the initializers have set the state, to
   * derive what depends on it: a variable whose default initial value is
   * NAN (gates at their steady state x_inf(V0), Izhikevich's u = b V0) and
   * was not given an initializer. Only n, p, k, x, model are set. */
  void (*init)(bs_neuron_args *a);
  unsigned methods; /* bit (1 << bs_method) per supported integrator;
                       0 means exp_auto only */
  int nv;           /* ODE variables vars[0..nv-1] that rhs covers */
  bs_rhs_fn rhs;    /* NULL for models without one */
  bs_event_fn event;
  const void *impl; /* model-private data (ConNeuGroup's channels) */
  /* The block kernel of a fused update (bs_fused_update) for `method`, or
   * NULL (NULL selector: none); needs_G when it reads the input
   * conductance G. */
  const struct bs_fused_neuron *(*fused)(int method);
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
  double *V;        /* post-synaptic V, for synapses with to_V (Delta) */
  /* Delta's refractory gating (BrainPy post_ref_key), or t_last NULL: the
   * post is refractory when t_prev - t_last[i] <= ref_lim, t_prev the time
   * of the previous step (BrainPy's refractory flag of the last update). */
  const double *t_last;
  double t_prev, ref_lim;
} bs_syn_args;

/* One step of the per-pre-neuron state of a trace model (AMPA, GABAa,
 * NMDA, BioNMDA): x at step - 1 to x at step, t = step * dt. */
typedef struct bs_trace_args {
  size_t n;         /* pre-synaptic neurons */
  int64_t step;     /* the step being computed */
  double dt;        /* ms */
  const double *p;  /* parameters */
  const double *k;  /* derived constants */
  double *const *x; /* per-pre state arrays, in the descriptor's order */
  const double *s;  /* spike arriving in this step: 0, or its efficacy
                       (1 without short-term plasticity) */
} bs_trace_args;

typedef struct bs_syn_model {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int nx;
  const bs_var *vars; /* vars[0] is the conductance the output reads */
  int nk;
  /* Either may be NULL where the kind has no state (Delta: prepare;
   * GapJunction: both; engine/gap.c does its work). */
  void (*prepare)(const double *p, double dt, double *k);
  void (*update)(bs_syn_args *a);
  /* Adds the arrivals to the post-synaptic V itself (BrainPy's Delta,
   * output CUBA(target_var='V')): no output stage, and the engine runs it
   * after every other projection's output has read V of the previous
   * step. */
  int to_V;
  /* An electrical coupling (BrainPy's GapJunction), not driven by spikes:
   * no state, no output, no delay; the engine (engine/gap.c) adds
   * w (V_other - V_self) to both ends' input every step. */
  int gap;
  /* Trace models keep their state per pre-synaptic neuron, as BrainPy
   * does for its nonlinear synapses, and the post-synaptic input is
   * sum_i w_ij g_i every step (src/engine/trace.c). Such a model has
   * trace and no update; vars are per pre neuron, vars[0] = g. */
  void (*trace)(bs_trace_args *a);
  /* The output when the config gives none (NULL: CUBA), with def_E as its
   * reversal potential E (NAN: the output's own default), and g_max when
   * the config gives none (0: 1), BrainPy's defaults for the class. */
  const char *def_output;
  double def_E;
  double def_g_max;
} bs_syn_model;

typedef struct bs_out_args {
  size_t n;
  const double *p;
  const double *g; /* synaptic variable per post neuron */
  const double *V; /* post-synaptic membrane potential (previous step) */
  double *I;       /* post-synaptic input current, added to */
  double *G;       /* post-synaptic input conductance, added to by
                      conductance-based outputs (NULL: not tracked) */
  const double *E; /* reversal potential per post neuron, or NULL: the
                      parameter E */
} bs_out_args;

typedef struct bs_output_model {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int needs_V;
  void (*apply)(bs_out_args *a);
} bs_output_model;

/* ---- fused updates ------------------------------------------------------
 * A population whose incoming synapses all have block kernels, and whose
 * model has one for its method, is updated in one pass per block of
 * BS_FUSED_BLOCK neurons (model/fused.c): each projection reads its
 * arrivals, decays and adds its output into the block's input, then the
 * neurons integrate and detect spikes, while the block is in L1. Each
 * kernel does the arithmetic of the unfused kernels in the same order, so
 * the results are bitwise the same, and tests what it stores for NaN and
 * infinity (an OR per block), so no separate scan is needed. Kernels are
 * chosen once, at setup. */
#define BS_FUSED_BLOCK 256

struct bs_fused_syn;
struct bs_fused_term;
/* Synapses [b0, b0 + n) of one projection: the block's arrivals in[0, n)
 * (cleared), decay, output added to the block's I[0, n) (and G[0, n) when
 * G is not NULL) with V the block's V; bad gets a bit 63 when a stored
 * state is not finite (a kernel that tests a sum of them may set it for
 * finite values that overflow it: the caller's scan decides). */
typedef void (*bs_fused_syn_fn)(const struct bs_fused_syn *s, size_t b0,
                                size_t n, double *in, const double *V,
                                double *I, double *G, uint64_t *bad);
typedef struct bs_fused_syn {
  bs_fused_syn_fn block;
  const double *k;  /* synapse constants (prepare) */
  const double *op; /* output parameters */
  const double *E;  /* per-post reversal potential, or NULL: op's */
  double *const *x; /* per-post state arrays */
  /* This step's arrivals per post neuron, cleared as read: the summed
   * weights in[i], or, where all weights are one w, the count count[i]
   * with in[i] = sums[count[i]] (sums: w added up as often, in double),
   * or the same in bytes, count8. */
  double *in;
  uint16_t *count;
  uint8_t *count8;
  const double *sums;
  double w;        /* the one weight of count */
  uint32_t kexact; /* sums[k] == k x w for every k <= kexact */
  /* Optional: sets *t and returns 1 when the projection is one
   * first-order term (bs_fused_term), for a neuron's whole kernel. */
  int (*term)(const struct bs_fused_syn *s, struct bs_fused_term *t);
} bs_fused_syn;

/* A synapse of one exponentially decaying conductance g with an output
 * affine in V: g = g decay + in, then I += g (a - c V). CUBA is a = 1,
 * c = 0 and COBA a = E, c = 1; for finite V those give the very bits of
 * I += g and I += g (E - V). */
typedef struct bs_fused_term {
  double *g; /* the whole local population's */
  double decay, a, c;
} bs_fused_term;
#define BS_FUSED_TERMS 4 /* the most terms a whole kernel takes */

/* The block kernel of synapse kinetics syn with output out, or NULL; its
 * term op (or NULL) in *term. */
bs_fused_syn_fn
bs_fused_syn_kernel(const bs_syn_model *syn, const bs_output_model *out,
                    int (**term)(const bs_fused_syn *s, bs_fused_term *t));

/* Neurons [b0, b0 + n) of a population: a's arrays are the whole local
 * block's; I (and G when needs_G) are the block's input. Appends the
 * indices (from 0 of the local block) of the neurons that spiked to
 * a->spk at *nspk; bad as above, for every state it stores. */
typedef struct bs_fused_neuron {
  void (*block)(const bs_neuron_args *a, size_t b0, size_t n, const double *I,
                const double *G, size_t *nspk, uint64_t *bad);
  int needs_G;
  /* Optional: block's work and that of nt <= BS_FUSED_TERMS synapse terms
   * in one loop, with I and the conductances in registers: I starts at
   * I0[i] (I0v where I0 is NULL), in[j] are term j's arrivals of the
   * block (cleared). The same operations in the same order as the terms'
   * block kernels followed by block. */
  void (*whole)(const bs_neuron_args *a, size_t b0, size_t n, const double *I0,
                double I0v, const struct bs_fused_term *t, double *const *in,
                int nt, size_t *nspk, uint64_t *bad);
  /* Optional: whole with term j's arrivals as counts where cnt[j] is not
   * NULL: in = cnt[j][i] x cw[j] (cleared), every count of the block at
   * most the term's kexact, so the very bits of bs_counts_expand's in.
   * Saves the expansion's pass (at 256k neurons a quarter of the
   * update). With counts8, cnt8 may instead be given: every term's
   * counts in bytes (cnt unused). */
  void (*whole_counts)(const bs_neuron_args *a, size_t b0, size_t n,
                       const double *I0, double I0v,
                       const struct bs_fused_term *t, double *const *in,
                       uint16_t *const *cnt, uint8_t *const *cnt8,
                       const double *cw, int nt, size_t *nspk, uint64_t *bad);
  int counts8; /* whole_counts reads counts of one byte */
  /* The most neurons whole and whole_counts take in one call (0:
   * BS_FUSED_BLOCK, where a kernel keeps per-block buffers). */
  size_t max_n;
} bs_fused_neuron;

typedef struct bs_fused_args {
  bs_neuron_args *na; /* as for the model's update; na->I is unused */
  const double *I0;   /* the input before synapses (constant and
                         time-varying inputs), or NULL: I0v for all */
  double I0v;
  const bs_fused_neuron *neuron;
  int nsyn; /* incoming projections, in projection order */
  const bs_fused_syn *syn;
} bs_fused_args;

/* Whether fn's whole kernel takes the nsyn synapses syn, each as a term
 * (filled into t[0, nsyn)): bs_fused_update's choice. */
int bs_fused_whole_terms(const bs_fused_neuron *fn, int nsyn,
                         const bs_fused_syn *syn, bs_fused_term *t);

/* One step of a population and its incoming synapses; sets na->spk and
 * na->nspk. Returns nonzero when it stored a value that is not finite (or,
 * rarely, finite values whose sum overflows). */
int bs_fused_update(const bs_fused_args *a);

/* count[0, n) arrivals of one weight w into in[0, n) as the sums they
 * stand for (sums[k]: k weights added in double; sums[k] == k x w for
 * every k <= kexact); clears count. */
void bs_counts_expand(size_t n, uint16_t *count, const double *sums, double w,
                      uint32_t kexact, double *in);
void bs_counts_expand8(size_t n, uint8_t *count, const double *sums, double w,
                       uint32_t kexact, double *in);
/* The largest of count[0, n). */
uint16_t bs_counts_max(size_t n, const uint16_t *count);
uint8_t bs_counts_max8(size_t n, const uint8_t *count);

/* Short-term plasticity (BrainPy synplast STD / STP, Tsodyks-Markram) on
 * a projection: state per pre-synaptic neuron, advanced only at that
 * neuron's spikes (the dynamics between spikes have a closed form), and
 * the weight each spike delivers multiplied by the returned efficacy. */
typedef enum { BS_STP_NONE = 0, BS_STP_STD, BS_STP_STP } bs_stp_kind;
#define BS_STP_NP 3 /* parameters: U, tau_f, tau_d (STD: U, -, tau) */
typedef struct bs_stp_model {
  const char *name;
  const char *doc;
  bs_stp_kind kind;
  int np;
  const bs_param *params; /* config names; p[] below is always U, tau_f,
                             tau_d whatever the order here */
  const int *slot;        /* params[i] goes to p[slot[i]] */
} bs_stp_model;
const bs_stp_model *bs_stp_find(const char *name);
int bs_stp_count(void);
const bs_stp_model *bs_stp_at(int i); /* the config lists the kinds */
/* Resting state before the first spike: u = 0, x = 1. */
void bs_stp_rest(double *u, double *x);
/* One pre-synaptic spike gap_steps steps after the previous one (or after
 * the start): relax u and x over gap_steps * dt, apply the jump, return
 * the efficacy that multiplies this spike's weights. Not collective; a
 * pure function of its arguments, so every rank computes the same. */
double bs_stp_spike(bs_stp_kind kind, const double *p, double dt,
                    int64_t gap_steps, double *u, double *x);

/* Long-term plasticity (STDP) of a projection's weights: a rule is a
 * descriptor (parameters, traces per pre-synaptic neuron and per
 * post-synaptic neuron, weight updates at pre and at post spikes); a new
 * rule is one file in src/model/ plus one registry line (plasticity.c).
 * Traces are sums of exponentials: trace t of a side decays with the time
 * constant p[tau[t]] and jumps by 1 at each of that side's spikes. The
 * engine keeps each trace scaled to a base step B shared by the side, x,
 * and reads it at step m as x exp(-(m - B) dt / tau): one exp per step,
 * not per synapse event (a trace is still a pure function of its own
 * spike train and the step). README "Long-term plasticity" gives the
 * equations and the order of the events within a step. */
#define BS_PLAST_MAX_TR 2
typedef enum {
  /* Events in time order: the post spikes of step m - 1 (on_post, then
   * their traces jump), then the pre spikes arriving in step m (on_pre,
   * then their traces jump). NEST's and Pfister & Gerstner's convention. */
  BS_PLAST_TIME_ORDER,
  /* BrainPy's projection update in step m: first every trace jumps (pre
   * arrivals of step m, post spikes of step m - 1), then on_pre, then
   * on_post. */
  BS_PLAST_BRAINPY_ORDER
} bs_plast_order;

/* One batch of events for a rule's kernels (engine/plastic.c fills it).
 * Traces: side 0 per pre neuron (by the projection's table position),
 * side 1 per local post neuron, n per element (the rule's npre, npost),
 * scaled; the value of trace t of element e is x[s][e n + t] g[s][t]. */
typedef struct bs_plast_ev {
  const double *p; /* the rule's parameters */
  double *w;       /* weights, post-major (by post, then storage order) */
  const double *x[2];
  double g[2][BS_PLAST_MAX_TR];
  /* pre_row: the spike of pre k reaching its synapses at storage
   * positions [b, e) (post col[s], weight w[tpos[s]]), each updated then
   * delivering w eff into in[col[s]]; hit[j] != 0: post j also spiked
   * (BrainPy order: on_post after on_pre, stored by post_col, which
   * runs after every pre_row of the step), or NULL. stride != 0: the row
   * is affine, col[s] = col[b] + s - b and tpos[s] = tpos[b] + (s - b)
   * stride. */
  uint64_t k, b, e, stride;
  const uint32_t *col;
  const uint32_t *tpos;
  double *in;
  double eff;
  const uint8_t *hit;
  /* post_col: the spike of local post j on its synapses w[t] (pre
   * tsrc[t]) for t in [t0, t1); dense != 0: the pres are consecutive,
   * tsrc[t] = tsrc[t0] + t - t0. */
  uint64_t j, t0, t1;
  const uint32_t *tsrc;
  int dense;
} bs_plast_ev;

typedef struct bs_plast_rule {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  bs_plast_order order;
  int npre, npost;              /* traces per side */
  int pre_tau[BS_PLAST_MAX_TR]; /* parameter index of each tau */
  int post_tau[BS_PLAST_MAX_TR];
  /* The rule's on_pre / on_post (new weight of one synapse from the traces
   * of its pre and post as they stand; pure, so every rank computes the
   * same) over a row or a column, inlined (BS_PLAST_KERNELS in
   * model_impl.h). Return the bits that flag a NaN or infinite weight
   * (bit 63). */
  uint64_t (*pre_row)(const bs_plast_ev *ev);
  uint64_t (*post_col)(const bs_plast_ev *ev);
  /* Config check of the parameters (e.g. W_min <= W_max): NULL or an error
   * message. */
  const char *(*check)(const double *p);
} bs_plast_rule;
const bs_plast_rule *bs_plast_find(const char *name);
int bs_plast_count(void);
const bs_plast_rule *bs_plast_at(int i);

/* Compatibility names (ExpCUBA, ExpCOBA): a synapse plus an output whose
 * parameters are given at the projection level. */
typedef struct bs_syn_alias {
  const char *name;
  const char *synapse;
  const char *output;
} bs_syn_alias;

/* ---- ion channels (ConNeuGroup) ---------------------------------------- */

/* A channel kind of shared/reference/brainpy-models.md section 2. Every
 * gate obeys dx/dt = A - B x with A, B depending on V, the calcium
 * concentration C and the channel's other gates (all frozen over a step),
 * which covers the Markov form phi (alpha (1 - x) - beta x) and the
 * steady-state form phi (x_inf - x) / tau. The current is inward-positive:
 * I = g (E - V), with E the channel's own reversal potential or its
 * calcium ion's E_Ca. */
#define BS_CH_ION 1u        /* a calcium ion model: has child channels */
#define BS_CH_NEEDS_ION 2u  /* must be a child of a calcium ion */
#define BS_CH_CA_CURRENT 4u /* its current carries calcium into the ion */
#define BS_CH_MAX_P 16
#define BS_CH_MAX_K 8
#define BS_CH_MAX_GATES 3
#define BS_CH_BLOCK 128 /* neurons per block of the block kernels */

typedef struct bs_channel_kind {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int ngate;                /* gates, or an ion's state variables (C, E) */
  const char *const *gates; /* their names */
  unsigned flags;
  int e_param; /* index of the own reversal potential, or -1: the ion's */
  void (*prepare)(const double *p, double *k); /* temperature factors */
  /* Gate kinetics at V with concentration C and the gates x (old). */
  void (*kinetics)(const double *p, const double *k, double V, double C,
                   const double *x, double *A, double *B);
  /* I = g (E - V): g from the gates and C. */
  double (*conductance)(const double *p, const double *x, double C);
  /* Steady state at (V, C); NULL: x = A / B gate by gate. */
  void (*steady)(const double *p, const double *k, double V, double C,
                 double *x);
  /* Ions: the concentration's dC/dt = A - B C given the calcium current
   * ica (inward-positive), and E_Ca(C). Fixed ions have neither (ngate 0):
   * their E and C are parameters 0 and 1. */
  void (*ion_rate)(const double *p, const double *k, double ica, double *A,
                   double *B);
  double (*ion_E)(const double *p, const double *k, double C);
  /* Block forms of kinetics and conductance over n <= BS_CH_BLOCK neurons
   * (x[q], V, C, g: SoA arrays of the block; A[q][i], B[q][i]): the same
   * arithmetic neuron by neuron, inlined into one loop per kind so it
   * vectorizes (one indirect call per block, not per neuron). NULL: the
   * caller loops over the scalar kernels. */
  void (*kinetics_n)(const double *p, const double *k, int n, const double *V,
                     const double *C, const double *const *x,
                     double (*A)[BS_CH_BLOCK], double (*B)[BS_CH_BLOCK]);
  void (*conductance_n)(const double *p, int n, const double *const *x,
                        const double *C, double *g);
} bs_channel_kind;

const bs_channel_kind *bs_channel_find(const char *name);
int bs_channel_count(void);
const bs_channel_kind *bs_channel_at(int i);

/* One step of dx/dt = A - B x with A, B frozen, by the given method: the
 * integrators applied to ConNeuGroup's variables (each with the others
 * frozen, as BrainPy's channels are integrated one by one). */
double bs_lin_step(int method, double x, double A, double B, double dt);

/* A channel of a ConNeuGroup as the config gives it. parent is the index
 * of its ion in the list (which comes first), or -1. */
typedef struct bs_cng_channel {
  const char *name; /* state variables are named "<name>.<gate>"; a child
                       of an ion gets "<ion>.<name>.<gate>" */
  const bs_channel_kind *kind;
  double p[BS_CH_MAX_P];
  int parent;
} bs_cng_channel;

/* Build the descriptor of one ConNeuGroup population (state V, then every
 * channel's gates): parameters C, A, V_th as the ConNeuGroup entry of the
 * registry, the channels kept inside. Returns NULL when out of memory.
 * Not collective. */
bs_neuron_model *bs_cng_create(int nch, const bs_cng_channel *ch);
void bs_cng_destroy(bs_neuron_model **model);
/* Channels of a population's ConNeuGroup descriptor (0 for any other
 * model), and channel c's kind, config name and parameters. */
int bs_cng_channel_count(const bs_neuron_model *m);
const double *bs_cng_channel_params(const bs_neuron_model *m, int c,
                                    const bs_channel_kind **kind,
                                    const char **name);
/* The registry's ConNeuGroup entry (what the config names). */
int bs_neuron_is_cng(const bs_neuron_model *m);

/* ---- current inputs ------------------------------------------------------ */

/* A current input kind, as BrainPy 2.x's brainpy.inputs: scalar parameters
 * (params) and list parameters (lists: each a list of quantities, or one
 * value where BrainPy broadcasts one). The value used in step n is the
 * value of BrainPy's array at index n, i.e. at t = n dt. */
#define BS_INPUT_MAXL 3
typedef struct bs_input_args {
  const double *p;     /* params, in the table's order */
  double *const *l;    /* lists */
  const uint64_t *ln;  /* their lengths */
  double dt, duration; /* a trial's (t_end defaults to its duration);
                          the step given to apply counts from the
                          trial's start, as each trial replays the
                          protocol (BrainPy: reset, run again) */
  uint64_t seed;       /* run.seed */
  uint32_t input;      /* the input's index in the config (noise key) */
  int64_t step0;       /* the run's step at which this trial started:
                          kinds that are dynamics, not arrays (PoissonInput),
                          draw anew in each trial with step0 + step */
  /* The kind's per-neuron state (nstate arrays; element i belongs to
   * gid0 + i of the call), or NULL for kinds without state. */
  double *const *x;
} bs_input_args;
typedef struct bs_input_kind {
  const char *name;
  const char *doc;
  int np;
  const bs_param *params;
  int nl;
  const bs_param *lists;
  /* Why the values are refused (blame: the param index, or np + list
   * index), or NULL. */
  const char *(*check)(const bs_input_args *a, int *blame);
  /* Adds the input's current in step `step` to I[0, n) of the neurons
   * with global ids gid0, gid0 + 1, ... Noise kinds draw from Philox keyed
   * by (seed, input, gid, step): any rank split gives the same values. */
  void (*apply)(const bs_input_args *a, int64_t step, uint64_t gid0, uint64_t n,
                double *I);
  /* The first step whose value may be non-zero (a restore compares the
   * inputs that start before the checkpoint). */
  int64_t (*start)(const bs_input_args *a);
  /* The value never changes in time: summed once into the constant input. */
  int constant;
  /* Draws from Philox streams keyed by the input's index in the list:
   * a restore then needs the input at the same position. */
  int keyed;
  /* Per-neuron state (an OU process's x): the engine keeps nstate arrays
   * over the target neurons, init sets them at each trial's start, apply
   * advances them once per step (a->x), checkpoints store them by
   * neuron. 0: stateless. */
  int nstate;
  const char *const *states; /* their names (checkpoint datasets) */
  void (*init)(const bs_input_args *a, uint64_t gid0, uint64_t n);
} bs_input_kind;
const bs_input_kind *bs_input_find(const char *name);
int bs_input_count(void);
const bs_input_kind *bs_input_at(int i);

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

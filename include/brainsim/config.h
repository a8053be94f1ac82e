/* The YAML config (libfyaml) turned into a validated model spec. Every
 * mistake is reported with file:line:col and what was expected. No MPI and
 * no HDF5 here: every rank parses the same small file. */
#ifndef BRAINSIM_CONFIG_H
#define BRAINSIM_CONFIG_H

#include <stdint.h>

#include "brainsim/connect.h"
#include "brainsim/model.h"
#include "brainsim/util.h"

/* The node types of a SONATA node population (a simulation config): per
 * type its parameters and initial state in the population's model, chosen
 * per neuron by node_type_id, which each rank reads for its own block when
 * the network is built. */
typedef struct bs_sonata_types {
  char *file, *population; /* nodes file, /nodes/<population> */
  int n;                   /* node types */
  int64_t *id;             /* node_type_id of each */
  double *p;               /* n x model->np parameters */
  double *x0;              /* n x model->nx initial state */
  unsigned char *p_var;    /* per parameter: differs between the types */
  unsigned char *x_var;    /* per state variable: differs between the types */
} bs_sonata_types;

typedef struct bs_pop_spec {
  char *name;
  const bs_neuron_model *model;
  uint64_t size;
  uint64_t gid0; /* first global id: populations get contiguous ranges */
  double p[BS_MAX_PARAMS];
  bs_dist *init;      /* one per state variable (model->nx) */
  double **init_list; /* per state variable: size listed values, or NULL */
  /* (ifile/idset below: initial values from a dataset) */
  int method; /* bs_method: the integrator (`method:`) */
  /* Heterogeneous parameters, or NULL when every one is a scalar: per
   * parameter an initializer drawn per neuron (keyed by gid), or, when
   * plist[i] is set, size listed values; CONST entries with no list are
   * the scalar p[i]. p[i] is NAN for the heterogeneous ones. */
  /* Noise amplitude g per ODE variable (dx = f dt + g dW, Euler-Maruyama
   * as BrainPy's sdeint; 0: none), in the variable's unit per sqrt(ms). */
  double noise[BS_MAX_VARS];
  int has_noise;
  bs_dist *pdist;
  double **plist;
  char **pfile, **pdset; /* per parameter: {file, dataset}, or NULL */
  char **ifile, **idset; /* per state variable: {file, dataset}, or NULL */
  int nhetero;
  /* A parameter that varies in time (BS_P_SECTIONS, the section form
   * {values: [...], durations: [...]}): p[sec_param] is sec_v[k] for
   * int(sec_d[k] / dt) steps each from the trial's start, and the last
   * value after the last section; n_sec 0: none. */
  int sec_param;
  uint64_t n_sec;
  double *sec_v, *sec_d;
  /* Listed spikes (models with `events`, SpikeTimeGroup): n_ev pairs
   * (ev_idx index within the population, ev_t time in ms), any order; or
   * the SONATA spike file ev_file (read when the network is built, each
   * rank its own neurons), node population ev_pop (NULL: the file's
   * only one), of ev_file_rows rows in all nodes (set before the memory
   * estimate, bs_io_sonata_spikes_rows). */
  uint64_t n_ev, ev_file_rows;
  uint64_t *ev_idx;
  double *ev_t;
  char *ev_file, *ev_pop;
  /* The population's own descriptor (ConNeuGroup: its channels), owned
   * here; model points to it. NULL for registry models. */
  bs_neuron_model *own;
  bs_sonata_types *sn; /* SONATA nodes, or NULL */
} bs_pop_spec;

typedef struct bs_proj_spec {
  char *name;
  int pre, post; /* population indices */
  const bs_syn_model *syn;
  double sp[BS_MAX_PARAMS]; /* synapse parameters */
  const bs_output_model *out;
  double op[BS_MAX_PARAMS]; /* output parameters */
  bs_dist g_max;
  bs_dist delay;      /* in steps (already converted from ms), rounded */
  int delay_is_ms;    /* how the config gave it (for messages) */
  int delay_per_pre;  /* one delay per pre neuron (BrainPy's axonal
                         delay_step array), drawn keyed by pre id */
  double *delay_list; /* pre.size delays in steps (a list), or NULL */
  int dense;          /* comp_method: dense (else sparse) */
  /* The output's reversal potential E per post neuron: drawn from E_init
   * keyed by the post index, or listed (post.size values), when
   * E_per_post; else the constant op[E_idx]. */
  int E_idx; /* index of E in op, or -1 */
  int E_per_post;
  bs_dist E_init;
  double *E_list;
  int post_ref; /* Delta: arrivals times (1 - refractory) of the post */
  const bs_stp_model *stp;    /* short-term plasticity, or NULL */
  double stpp[BS_STP_NP];     /* U, tau_f, tau_d */
  const bs_plast_rule *plast; /* long-term plasticity (STDP), or NULL */
  double plp[BS_MAX_PARAMS];  /* its parameters, in the rule's order */
  const bs_connector *conn;
  double cp[BS_MAX_PARAMS];
  uint64_t *ci, *cj; /* explicit pairs */
  uint64_t n_ij;
  double *ij_w; /* IJ: g_max per pair, or NULL */
  double *ij_d; /* IJ: delay per pair in steps (rounded), or NULL */
  /* From files (README "Connectivity and weights from files"); paths are
   * resolved against the config file's folder. */
  char *conn_file;                 /* File and SONATA connectors */
  char *conn_group;                /* File: group of the rows; SONATA: the
                                    * edge population */
  char *conn_source, *conn_target; /* SONATA: node population names */
  char *g_file, *g_dataset;        /* g_max: {file, dataset} */
  /* SONATA (a simulation config): the edge types of the edge population
   * this projection takes (NULL: all), the sign of the weights it keeps
   * (+1: >= 0, -1: < 0, 0: all) and whether it stores their magnitude,
   * and the steps added to delays from the file (NEST templates: -1). */
  int64_t *conn_types;
  int n_conn_types;
  int conn_sign, conn_abs;
  double delay_shift;
} bs_proj_spec;

/* One entry of `inputs:`: a kind of brainpy.inputs (or the plain
 * `current: I`, kind "current") into [start, stop) of a population. */
typedef struct bs_input_spec {
  int pop;
  uint64_t start, stop; /* index range [start, stop) */
  /* `indices: [...]`: the target neurons, sorted and unique (n_idx of
   * them), or NULL: the range. */
  uint64_t *idx, n_idx;
  double current; /* the plain form's I (kind "current") */
  /* target_var: V (BrainPy's 'E.V'): the value is added to the membrane
   * potential before the neurons integrate, as Delta's arrivals, every
   * step; else (`input`, the default) to the input current. */
  int to_V;
  const bs_input_kind *kind;
  double p[BS_MAX_PARAMS];
  double *l[BS_INPUT_MAXL]; /* list parameters, owned */
  uint64_t ln[BS_INPUT_MAXL];
} bs_input_spec;

typedef enum { BS_MON_SPIKES, BS_MON_STATE } bs_mon_kind;

typedef struct bs_monitor_spec {
  bs_mon_kind kind;
  /* spikes: the populations recorded (flags per population) */
  int *pops;
  /* state: a population's or a projection's variable */
  int pop;  /* >= 0 for a population variable */
  int proj; /* >= 0 for a projection variable (per post neuron) */
  int var;
  /* The elements are pre-synaptic neurons: a variable of a trace synapse
   * (AMPA, NMDA, ...) or of the projection's stp (stp = 1: u, 2: x). */
  int per_pre;
  int stp;
  /* Chosen synapses (`synapses: [[pre, post], ...]`): n_idx (pre, post)
   * pairs in config order in syn[2c], syn[2c + 1]; idx holds the posts.
   * syn_var: 0 var (trace g), 1 stp.u, 2 stp.x, 3 w, 4 delay. */
  int per_syn;
  int syn_var;
  /* A population's summed input current of the step (`input`: constant
   * inputs, synaptic outputs, gap junctions, at V of the previous step),
   * as the neurons integrate it; var is -1. */
  int input;
  /* A population rate (`rate`): one column, the spikes of each step over
   * size x dt, in Hz; idx = {0}, every = 1, var -1. */
  int rate;
  /* A projection's synaptic current per post neuron (`I_syn`): what its
   * output adds to the post's input in the step; var -1. */
  int isyn;
  uint64_t *syn;
  char *name;    /* report name, unique per target */
  char *file;    /* report file, or NULL for the default beside the output */
  uint64_t *idx; /* sorted, unique element indices */
  uint64_t n_idx;
  int64_t every; /* steps */
  /* The window [start, stop) in steps (`start:`, `stop:`); stop -1: the
   * end of the run (so a continued, longer run extends it). A state
   * monitor samples start, start + every, ...; a spike monitor records
   * the spikes of steps in the window, of its indices (idx, n_idx; none:
   * all) when it names one population. */
  int64_t start, stop;
} bs_monitor_spec;

/* The last step + 1 of a monitor's window in a run of n_steps. */
static inline int64_t bs_monitor_stop(const bs_monitor_spec *m,
                                      int64_t n_steps) {
  return m->stop < 0 || m->stop > n_steps ? n_steps : m->stop;
}
/* Whether monitor m records step n. */
static inline int bs_monitor_due(const bs_monitor_spec *m, int64_t n,
                                 int64_t n_steps) {
  return n >= m->start && n < bs_monitor_stop(m, n_steps) &&
         (n - m->start) % m->every == 0;
}
/* Samples of a state monitor in a run of n_steps. */
static inline uint64_t bs_monitor_rows(const bs_monitor_spec *m,
                                       int64_t n_steps) {
  const int64_t e = bs_monitor_stop(m, n_steps);
  return e > m->start ? (uint64_t)((e - m->start + m->every - 1) / m->every)
                      : 0;
}

enum { BS_OVERLAP_AUTO = 0, BS_OVERLAP_ON, BS_OVERLAP_OFF };

typedef struct bs_spec {
  char *file;
  char *text;          /* the config file as given */
  char *overrides;     /* the --set overrides, one per line */
  double dt, duration; /* duration: all trials together */
  int64_t n_steps;     /* all trials */
  uint64_t trials;     /* run.trials: state reset between them */
  int64_t trial_steps;
  double trial_duration;
  uint64_t seed;
  int overlap; /* run.overlap: BS_OVERLAP_AUTO (0), _ON or _OFF */
  int n_pops, n_projs, n_inputs, n_monitors;
  bs_pop_spec *pops;
  bs_proj_spec *projs;
  bs_input_spec *inputs;
  bs_monitor_spec *monitors;
  uint64_t n_neurons;
  /* A SONATA simulation config: the output it names (output_dir /
   * spikes_file) and the folder to create, whether it may be replaced
   * (overwrite_output_dir); NULL / 0 for YAML configs. */
  char *out_file, *out_dir;
  int out_overwrite;
} bs_spec;

/* Parse and validate `file` with the overrides ("a.b.c=value"). Not
 * collective; deterministic, so every rank reaches the same verdict. On a
 * mistake returns BS_ERR_CONFIG with the message in ctx->errmsg. */
bs_status bs_config_load(bs_ctx *ctx, const char *file, int n_set,
                         char *const *set, bs_spec **spec);
void bs_config_destroy(bs_spec **spec);

/* The kind's view of input q of the spec (its parameters, the run's dt,
 * trial duration and seed). Not collective. */
bs_input_args bs_config_input_args(const bs_spec *s, int q);

/* Parse "<number> [unit]" with the expected dimension. Returns 0 on
 * success, else writes a reason to why. */
int bs_config_parse_quantity(const char *s, bs_dim dim, double *out, char *why,
                             size_t whylen);

#endif

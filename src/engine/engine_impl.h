/* Private to engine/: the local network that engine.c builds and runs and
 * checkpoint.c saves and restores. */
#ifndef BRAINSIM_ENGINE_IMPL_H
#define BRAINSIM_ENGINE_IMPL_H

#include "brainsim/comm.h"
#include "brainsim/engine.h"

typedef struct lpop {
  const bs_pop_spec *spec;
  uint64_t lo, hi, n; /* local block [lo, hi) of the population */
  double **x;         /* state arrays */
  double *I, *I_ext;  /* input current; constant inputs */
  double *G;          /* input conductance of COBA outputs (bs_neuron_args) */
  uint32_t *spk;      /* spike list from the kernel */
  double k[BS_MAX_K];
  int *out; /* projections whose pre is this population */
  int nout;
  int record; /* spikes recorded to the output */
  int io_handle;
  double *rec_t; /* buffered output spikes (all ranks hold all) */
  uint64_t *rec_id;
  size_t rec_n, rec_cap;
  uint64_t nspikes; /* global spike count */
} lpop;

/* Per-pre-neuron state of a trace synapse (AMPA, GABAa, NMDA, BioNMDA;
 * trace.c): the pre neurons with a local target and the local block of
 * the pre population (for monitors and checkpoints), each advanced from
 * the undelayed spike train, which every rank receives. */
typedef struct ltrace {
  uint64_t n;     /* traced pre neurons */
  uint64_t *pre;  /* their indices in the pre population, ascending */
  uint32_t *slot; /* pre index -> position in pre[], or UINT32_MAX */
  double **x;     /* model state per traced neuron (x[0] = g) */
  double *s;      /* spikes arriving in the next step: 0 or the efficacy */
  uint32_t *hit;  /* positions with s != 0 */
  uint64_t nhit;
  uint32_t H;    /* history depth: the projection's largest delay + 1 */
  double *hist;  /* H x n: g of step m in row m % H */
  double *gpost; /* per local post neuron: sum_i w_ij g_i(t - d_ij) */
} ltrace;

typedef struct lproj {
  const bs_proj_spec *spec;
  lpop *pre, *post;
  uint64_t *row; /* n_pre + 1 offsets */
  uint32_t *col; /* local post index */
  double *w;     /* per synapse, or NULL when constant (w0) */
  uint32_t *dl;  /* per synapse delay in steps, or NULL when constant (d0) */
  double w0;
  uint32_t d0, dmin, dmax;
  uint64_t nnz;
  double *ring; /* R slots x post->n */
  uint32_t R;
  double **x; /* per-post synaptic state */
  double k[BS_MAX_K];
  /* Short-term plasticity: per pre-synaptic neuron (the whole pre
   * population, on every rank: it depends only on the pre spike train,
   * which every rank receives), or NULL. */
  double *stp_u, *stp_x;
  int64_t *stp_last; /* step of the pre neuron's last spike */
  ltrace *tr;        /* trace synapses, else NULL */
} lproj;

typedef struct lmon {
  const bs_monitor_spec *spec;
  const double *src; /* local array; element e at src[e - lo] */
  uint64_t lo;
  uint64_t c0, c1; /* local columns: spec->idx[c0 .. c1) */
  uint64_t F;      /* rows per flush (same on every rank) */
  uint64_t cap;    /* rows the buffer holds: F + one interval's samples */
  double *buf;
  uint64_t nbuf, row0, rows;
  bs_io_report *rep;
} lmon;

struct bs_net {
  const bs_spec *spec;
  int P, rank;
  lpop *pops;
  lproj *projs;
  lmon *mons;
  int nmons;
  uint32_t D;          /* exchange interval in steps */
  uint64_t *local_spk; /* this interval's spikes: (step offset << 32) | gid */
  size_t nlocal, local_cap;
  bs_exchange *ex;
  uint64_t syn_events;
  /* Where the loop starts: 0, or the step of a restored checkpoint. */
  int64_t step0;
  uint64_t *restored_spk_len; /* output spikes per population, or NULL */
  uint64_t *restored_row0;    /* per monitor */
  /* Per-pre state (trace.c): traces hold step tr_step; per_pre is set
   * when there is any trace synapse or per-pre monitor. */
  int64_t tr_step;
  int per_pre;
};

/* Trace synapses and per-pre monitors (trace.c). Not collective. Build
 * after the projections' delays are global; destroy accepts a partly
 * built network. */
bs_status bs_trace_build(bs_ctx *ctx, bs_net *net);
void bs_trace_destroy(bs_ctx *ctx, bs_net *net);
void bs_trace_reset(bs_net *net);
/* The input of step n: lj->tr->gpost = sum_i w_ij g_i(n - d_ij). */
void bs_trace_input(lproj *lj, int64_t n);
/* Delivery of the interval [t0, t1): begin before the first spike, catch
 * up to each spike's step before delivering it, then to t1. Samples the
 * per-pre monitors at every step of the interval. */
void bs_trace_begin(bs_net *net, int64_t t0);
void bs_trace_catch_up(bs_net *net, int64_t step, int64_t t1);
void bs_trace_spike(lproj *lj, uint64_t i, double eff);

/* Checkpoints (checkpoint.c). Collective. */
bs_status bs_engine_ckpt_write(bs_ctx *ctx, bs_net *net, bs_io *out,
                               int64_t step_next, const char *dir);
bs_status bs_engine_flush_output(bs_ctx *ctx, bs_net *net, bs_io *io);
uint64_t bs_engine_block_lo(uint64_t n, int r, int P);
int64_t bs_engine_interval_end(const bs_net *net, int64_t t0);
int bs_engine_interval_start(const bs_net *net, int64_t step);

#endif

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
  /* Sparse storage (DESIGN.md "Performance model"): a CSR by pre-synaptic
   * index with 32-bit row offsets when the local synapses fit (else 64),
   * the local post index, and weight (float: BrainPy's default float32)
   * and delay (1, 2 or 4 bytes, the narrowest that holds the largest
   * delay) only where they vary per synapse. Read through lproj_row and
   * lproj_delay. */
  uint32_t *row32;
  uint64_t *row64;
  uint32_t *col;  /* local post index */
  float *w;       /* per synapse, or NULL when constant (w0) */
  void *dl;       /* per-synapse delays in steps, or NULL */
  int dl_bytes;   /* 1, 2 or 4 */
  uint32_t *dpre; /* per pre-synaptic neuron delays (all of pre), or NULL */
  /* Dense storage (comp_method: dense): one bit per (pre, local post),
   * rows padded to whole words, and a float weight per pair when the
   * weights vary (else w0). */
  int dense;
  uint64_t *mask;
  uint64_t mask_words; /* words per pre row */
  float *wd;           /* pre.num x post->n, or NULL */
  double w0;
  uint32_t d0, dmin, dmax;
  uint64_t nnz;
  uint64_t syn_bytes; /* bytes of the connectivity storage on this rank */
  double *E_post;     /* per local post reversal potential, or NULL */
  int ref_var;        /* Delta's refractory gating: the post's t_last_spike
                         variable, or -1 */
  double ref_lim;     /* and its tau_ref limit */
  double *ring;       /* R slots x post->n */
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

static inline uint64_t lproj_row(const lproj *lj, uint64_t i) {
  return lj->row32 ? lj->row32[i] : lj->row64[i];
}

static inline uint32_t lproj_delay(const lproj *lj, uint64_t q) {
  switch (lj->dl_bytes) {
  case 1:
    return ((const uint8_t *)lj->dl)[q];
  case 2:
    return ((const uint16_t *)lj->dl)[q];
  default:
    return ((const uint32_t *)lj->dl)[q];
  }
}

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
  /* Chosen synapses (synmon.c): the local ones (post on this rank), as
   * columns cols[c0 .. c1) of the report (ascending, not contiguous), each
   * with its pre neuron, weight, delay and trace slot. */
  uint64_t *cols, *spre;
  double *sw;
  uint32_t *sd, *sk;
} lmon;

/* Gap junctions (gap.c): every junction end on a local neuron, and the
 * per-step exchange of the V of ends on other ranks. */
typedef struct bs_gap bs_gap;

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
  bs_gap *gap;                /* NULL without GapJunction projections */
  bs_edges *file_edges; /* per projection: rows read from files, or NULL */
  /* Per-pre state (trace.c): traces hold step tr_step; per_pre is set
   * when there is any trace synapse or per-pre monitor. */
  int64_t tr_step;
  int per_pre;
};

/* Gap junctions (gap.c). Build: generates the GapJunction projections,
 * sets their nnz (junctions whose post end is local); *gap stays NULL when
 * there are none. Collective. */
bs_status bs_gap_build(bs_ctx *ctx, bs_net *net, bs_gap **gap);
/* V of every junction's other end as it is now (the previous step's):
 * one MPI_Allgatherv when some junction crosses ranks. Collective: every
 * rank calls it every step when net->gap is set. */
bs_status bs_gap_exchange(bs_ctx *ctx, bs_gap *gap, const bs_net *net);
/* Adds each local end's gap current, summed in the canonical order, to
 * its population's input I. Not collective. */
void bs_gap_apply(const bs_gap *gap, bs_net *net);
void bs_gap_destroy(bs_ctx *ctx, bs_gap **gap);

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

/* Monitors of chosen synapses (synmon.c). Build: finds this rank's
 * synapses (post local), fails on a listed pair the projection does not
 * have; not collective (the caller agrees). Sampled by trace.c at every
 * exchange, like the per-pre monitors. */
bs_status bs_synmon_build(bs_ctx *ctx, const bs_net *net, lmon *m);
void bs_synmon_free(bs_ctx *ctx, lmon *m);

/* First position in the sorted a[0..n) whose value is >= v. */
static inline uint64_t bs_engine_lower_bound(const uint64_t *a, uint64_t n,
                                             uint64_t v) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Checkpoints (checkpoint.c). Collective. */
bs_status bs_engine_ckpt_write(bs_ctx *ctx, bs_net *net, bs_io *out,
                               int64_t step_next, const char *dir);
bs_status bs_engine_flush_output(bs_ctx *ctx, bs_net *net, bs_io *io);
uint64_t bs_engine_block_lo(uint64_t n, int r, int P);
int64_t bs_engine_interval_end(const bs_net *net, int64_t t0);

/* Connectivity and weights from files (files.c). files_load is
 * collective: every rank reads its rows of every file projection. */
bs_status bs_engine_files_load(bs_ctx *ctx, bs_net *net);
void bs_engine_files_free(bs_ctx *ctx, bs_net *net);
bs_status bs_engine_gmax_file(bs_ctx *ctx, lproj *lj);

#endif

/* Private to engine/: the local network and the projection-kind interface.
 *
 * Files by job, each calling only the ones listed before it (no circle):
 *   pop.c        blocks of the populations, their state and its reset
 *   files.c      connectivity and weights read from files (io/ reads)
 *   connect.c    local connectivity storage (sparse CSR / dense mask) and
 *                its one row iterator, lproj_row
 *   proj.c       the projection-kind registry, the state every spiking
 *                projection has (stp, ring, per-post state), its checkpoint
 *                walks and destruction
 *   linear.c     kinds "linear" and "linear_V" (ring-buffer synapses)
 *   plastic.c    kind "plastic" (linear synapses with STDP weights)
 *   trace.c      kind "trace" (per-pre traces: AMPA, GABAa, NMDA, ...)
 *   gap.c        kind "gap" (gap junctions)
 *   inputs.c     the inputs of a step and the state of stateful kinds
 *   synmon.c     monitors of chosen synapses
 *   output.c     monitors, spike recording, buffers and flushes
 *   trial.c      exchange intervals and trial resets
 *   estimate.c   memory estimate and storage figures
 *   build.c      bs_net_build / bs_net_destroy
 *   finite.c     the NaN / infinity scan
 *   fuse.c       fused population updates (which, and their step)
 *   progress.c   the progress line
 *   checkpoint.c checkpoints (state walks through the kinds' ops)
 *   loop.c       bs_net_run: orchestrates one interval after another */
#ifndef BRAINSIM_ENGINE_IMPL_H
#define BRAINSIM_ENGINE_IMPL_H

#include <string.h>

#include "brainsim/comm.h"
#include "brainsim/engine.h"

#define MON_BUF_BYTES (4u << 20) /* report buffer per monitor (libsonata's) */

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
  int record;                     /* spikes recorded to the output */
  const bs_monitor_spec *rec_mon; /* its window and indices, or NULL */
  /* Heterogeneous parameters (spec->pdist): every local neuron's
   * parameters and derived constants, row-major (np, nk per neuron), or
   * NULL: the scalars spec->p and k serve all. */
  double *pn, *kn;
  /* Noise (spec->has_noise): per ODE variable this step's g dW per local
   * neuron, NULL for variables without noise; or NULL. */
  double **nz;
  double **x0; /* initial states read from datasets (per var), or NULL */
  /* Listed spikes (a model with `events`): the local neurons' events as
   * keys (trial step << 32 | local index), ascending and unique; ev_next
   * the first not yet emitted; ev_merged the listed times that fell into
   * a step a neuron already spikes in (one spike, BrainPy's boolean
   * spike vector). */
  uint64_t *ev, nev, ev_cap, ev_next, ev_merged;
  /* A parameter in time (spec->n_sec): the parameters with the current
   * section's value, and that section (-1: none yet); k follows them. */
  double psec[BS_MAX_PARAMS];
  int64_t sec_cur;
  int io_handle;
  double *rec_t; /* buffered output spikes of this rank's neurons */
  uint64_t *rec_id;
  size_t rec_n, rec_cap;
  uint64_t nspikes; /* spikes of this rank's neurons (sum over ranks: all) */
  /* A fused update (fuse.c), or NULL: its model's block kernel and its
   * incoming projections' (fsyn[q] of fproj[q], in projection order);
   * tv_inputs when time-varying inputs reach the local block; I_uni when
   * the input is I_ext and the same value I_univ for every local neuron. */
  const bs_fused_neuron *fused;
  bs_fused_syn *fsyn;
  struct lproj **fproj;
  int nfsyn, tv_inputs, I_uni;
  double I_univ;
  size_t nspk; /* spikes in spk[]: those of the previous step */
} lpop;

/* Per-pre-neuron state of a trace synapse (AMPA, GABAa, NMDA, BioNMDA;
 * trace.c): the pre neurons of the table with a local target or in the
 * local block of the pre population (for monitors and checkpoints), each
 * advanced from the undelayed spike train, which reaches every rank whose
 * table holds the neuron. */
typedef struct ltrace {
  uint64_t n;     /* traced pre neurons */
  uint64_t *pre;  /* their positions in the projection's table, ascending */
  uint32_t *slot; /* table position -> index in pre[], or UINT32_MAX */
  double **x;     /* model state per traced neuron (x[0] = g) */
  double *s;      /* spikes arriving in the next step: 0 or the efficacy */
  uint32_t *hit;  /* positions with s != 0 */
  uint64_t nhit;
  uint32_t H;    /* history depth: the projection's largest delay + 1 */
  double *hist;  /* H x n: g of step m in row m % H */
  double *gpost; /* per local post neuron: sum_i w_ij g_i(t - d_ij) */
} ltrace;

/* A compressed table (ctab.c). */
typedef struct lctab lctab;

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
  uint32_t *col; /* local post index */
  /* The same in 16 bits (col then NULL) where the kind reads rows through
   * lrow_col or loops of its own for both (lproj_narrow): half the bytes
   * of the target lists, read at every spike. The targets themselves
   * where the rank's block of the post population has at most 65,536
   * neurons; above, with col16_delta, each target's difference from the
   * one before it in the row (the first from 0), where every row ascends
   * in steps below 65,536 (FixedProb's rows do when their mean step is
   * far below that; one step more anywhere and the projection keeps col
   * on that rank), so the row's order, the canonical one, stays. */
  uint16_t *col16;
  int col16_delta;
  float *w;       /* per synapse, or NULL when constant (w0) */
  void *dl;       /* per-synapse delays in steps, or NULL */
  int dl_bytes;   /* 1, 2 or 4 */
  uint32_t *dpre; /* per-pre delays (by table position), or NULL */
  /* Dense storage (comp_method: dense): one bit per (pre, local post),
   * rows padded to whole words, and a float weight per pair when the
   * weights vary (else w0). */
  int dense;
  uint64_t *mask;
  uint64_t mask_words; /* words per pre row */
  float *wd;           /* npos x post->n, or NULL */
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
  /* Or, where every spike brings the same weight w0 (no per-synapse
   * weights, no stp), a ring of arrival counts (2 bytes a cell instead of
   * 8: the ring stays in cache at larger sizes) and csum[k], k weights
   * added up in double as the double ring would (so the sums are the
   * same bits), k up to the largest in-degree; cin, one slot expanded for
   * the unfused kernels. cring8 instead of cring where every count fits in
   * a byte (cmax <= 255): half the cache lines again, which is what
   * delivery into a large population waits for. */
  uint16_t *cring;
  uint8_t *cring8;
  double *csum, *cin;
  uint32_t cmax;
  uint32_t ckexact; /* csum[k] == k x w0 for every k <= ckexact */
  double **x;       /* per-post synaptic state */
  double k[BS_MAX_K];
  /* Short-term plasticity per pre neuron of the table (it depends only on
   * the pre's spike train), or NULL. */
  double *stp_u, *stp_x;
  int64_t *stp_last;             /* step of the pre neuron's last spike */
  ltrace *tr;                    /* trace synapses, else NULL */
  struct lplast *pl;             /* plastic (STDP) projections, else NULL */
  const struct bs_proj_ops *ops; /* the projection's kind (proj.c) */
  /* The table (connect.c): the pre neurons this rank keeps rows and
   * per-pre state for, ascending ids, or NULL: all of them (identity).
   * Rows, per-pre delays, dense rows, stp and trace state are indexed by
   * the position in it (lproj_pos). Sparse storage keeps it compressed
   * with the row bounds (ct; no pid, no row offsets), dense as pid. */
  uint32_t *pid;
  lctab *ct;
  uint64_t npos;
  /* Dense storage: one decoded row (lproj_row), npost entries each. */
  uint32_t *scol; /* also a 16-bit difference row's targets */
  float *sw;
  uint64_t nscol; /* scol's length */
  int fused;      /* stepped by its post's fused update, not by ops->step */
} lproj;

/* ---- the one row iterator (connect.c) ---------------------------------
 * The local synapses of one pre neuron, whatever the storage (sparse or
 * dense, weights and delays per synapse or not): n synapses, synapse k to
 * local post lrow_col(r, k) with weight lrow_w(r, k) and delay lrow_d(r, k).
 * Rows list the posts in storage order (generation order for sparse, ascending
 * for dense), the canonical order of every sum over a row. */
typedef struct lrow {
  uint64_t n;
  uint64_t at;           /* synapse k's index in the storage is at + k */
  const uint32_t *col;   /* NULL where the targets are 16-bit: */
  const uint16_t *col16; /* lproj.col16 */
  float *w;              /* per synapse, or NULL: w0 for all */
  double w0;
  const void *dl; /* per-synapse delays (dl_bytes wide), or NULL: d */
  int dl_bytes;
  uint32_t d;
} lrow;

#define LPROJ_NONE UINT64_MAX

/* The compressed table (ctab.c): its bytes for positions with these ids
 * (ascending) and row lengths, as bs_ctab_build stores them; the table;
 * the bytes it holds; position of id i or LPROJ_NONE; the id at position k;
 * the row bounds of position k. Lookups move the table's cursor, so
 * ascending ones are cheapest. */
uint64_t bs_ctab_bytes(const uint32_t *ids, const uint64_t *len, uint64_t n);
bs_status bs_ctab_build(bs_ctx *ctx, const uint32_t *ids, const uint64_t *len,
                        uint64_t n, lctab **out);
void bs_ctab_free(bs_ctx *ctx, lctab **t);
uint64_t bs_ctab_size(const lctab *t);
/* The expected bytes of a table of nt of n_pre pre neurons drawn
 * independently, with syn local synapses (estimate.c). */
double bs_ctab_expected(double n_pre, double nt, double syn);
uint64_t bs_ctab_find(lctab *t, uint64_t i);
uint64_t bs_ctab_id(lctab *t, uint64_t k);
void bs_ctab_row(lctab *t, uint64_t k, uint64_t *start, uint64_t *n);
void bs_ctab_seek(lctab *t, uint64_t k);

/* Position of pre neuron i in the projection's table, or LPROJ_NONE. */
static inline uint64_t lproj_pos(const lproj *lj, uint64_t i) {
  if (lj->ct)
    return bs_ctab_find(lj->ct, i);
  if (!lj->pid)
    return i;
  uint64_t lo = 0, hi = lj->npos;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (lj->pid[mid] < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < lj->npos && lj->pid[lo] == i ? lo : LPROJ_NONE;
}

/* Where the row at position k of a sparse table without ct starts: row
 * offsets are 32 bits while the local synapses fit, else 64. */
static inline uint64_t lproj_row_off(const lproj *lj, uint64_t k) {
  return lj->row32 ? lj->row32[k] : lj->row64[k];
}

/* The pre neuron at position k. */
static inline uint64_t lproj_id(const lproj *lj, uint64_t k) {
  if (lj->ct)
    return bs_ctab_id(lj->ct, k);
  return lj->pid ? lj->pid[k] : k;
}

/* The row at position k (lproj_pos) of the table. A dense row is decoded into
 * lj's scratch: valid until the next call on the same projection. Not
 * collective. */
void lproj_row(const lproj *lj, uint64_t k, lrow *r);
/* Stores the targets in 16 bits where the post block or the rows allow
 * it (lproj col16, col16_delta); for kinds with narrow_targets. A row of
 * differences is decoded into lj's scratch by lproj_row, as a dense one. */
bs_status lproj_narrow(bs_ctx *ctx, lproj *lj);

/* Prefetches the row offsets (rows 0) or the targets (rows 1, the first
 * 256 bytes; the offsets should be in cache by then) of the row at
 * position k of a sparse table. */
void lproj_prefetch(const lproj *lj, uint64_t k, int rows);

static inline double lrow_w(const lrow *r, uint64_t k) {
  return r->w ? (double)r->w[k] : r->w0;
}

static inline uint32_t lrow_col(const lrow *r, uint64_t k) {
  return r->col16 ? r->col16[k] : r->col[k];
}

static inline uint32_t lrow_d(const lrow *r, uint64_t k) {
  switch (r->dl ? r->dl_bytes : 0) {
  case 0:
    return r->d;
  case 1:
    return ((const uint8_t *)r->dl)[k];
  case 2:
    return ((const uint16_t *)r->dl)[k];
  default:
    return ((const uint32_t *)r->dl)[k];
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
   * with its pre neuron's position in the table, weight and delay. */
  uint64_t *cols, *spre;
  uint64_t *ssyn; /* position of the synapse in the projection's storage */
  double *sw;
  uint32_t *sd;
  /* A population rate: this rank's spikes per buffered row (every rank),
   * summed over ranks at the flush; pop its population's index. */
  uint64_t *cnt;
  double rate_per; /* the rate's divisor: size x dt in neuron-seconds */
  int late;        /* g of a fused projection: sampled after the neurons */
} lmon;

/* An input's local targets (inputs.c): elements [e0, e0 + ne) of its
 * range or index list are on this rank, as nrun runs of consecutive
 * neurons (run[2r] the first population index, run[2r + 1] the length);
 * x: the kind's state over those elements (nstate arrays), or NULL. */
typedef struct lin {
  uint64_t e0, ne, nrun;
  uint64_t *run;
  double **x;
} lin;

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
  uint32_t D;          /* smallest arrival lag in steps (1 + delay) */
  uint32_t iv;         /* exchange interval: D, or D / 2 overlapped */
  int overlap;         /* the exchange overlaps the next interval */
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
  lin *in_loc; /* per input: its local targets and state (inputs.c) */
};

/* ---- checkpoint blocks ----------------------------------------------- */

/* Writes or reads rows x ncols of a rows x cols dataset from column col0
 * (checkpoint.c's block_write / block_read). Collective. */
typedef bs_status (*bs_block_fn)(bs_ctx *ctx, bs_io *io, const char *path,
                                 uint64_t rows, uint64_t cols, uint64_t col0,
                                 uint64_t ncols, double *buf);

/* ---- projection kinds (proj.c) -----------------------------------------
 * A projection's kind is chosen once, at build, by the first entry of the
 * registry (proj.c) whose match() accepts its spec; the engine then only
 * calls the kind's ops. NULL means "nothing to do". A new kind is one file
 * with its ops plus one registry line. */
enum {
  BS_STAGE_I,   /* outputs add to I and G, reading V of the previous step */
  BS_STAGE_GAP, /* gap currents, after every output above */
  BS_STAGE_V,   /* synapses that add to V (Delta), last */
  BS_STAGES
};

typedef struct bs_proj_ops {
  const char *name;
  int (*match)(const bs_proj_spec *js);
  int stage; /* when step / step_all run within a step */
  /* Keeps state per pre neuron (besides stp) that its owner rank must
   * hold for checkpoints and monitors: the table then also lists the
   * rank's own block of the pre population. */
  int owner_state;
  /* Every reader of its rows takes 16-bit targets too (lrow_col, or loops
   * for both widths): the build stores them so where the post block
   * allows (lproj_narrow), and the estimate counts them so. */
  int narrow_targets;
  /* The local part of the projection (after the common part: spec, pre,
   * post, k, per-post state); sets dmin, dmax (UINT32_MAX, 0: no spikes).
   * Not collective (the caller agrees). */
  bs_status (*build)(bs_ctx *ctx, bs_net *net, lproj *lj);
  /* After the global delays and the ring are known. Not collective. */
  bs_status (*setup)(bs_ctx *ctx, bs_net *net, lproj *lj);
  /* Once per kind, after every projection's setup. Collective: every rank
   * calls it for every kind in the registry. */
  bs_status (*setup_all)(bs_ctx *ctx, bs_net *net);
  /* Once per kind at the start of every interval. Collective. */
  bs_status (*interval)(bs_ctx *ctx, bs_net *net);
  /* One spike of the pre neuron at table position k at step `step`, with
   * the stp efficacy eff. Projections with no deliver carry no spikes. */
  void (*deliver)(bs_net *net, lproj *lj, uint64_t i, int64_t step, double eff);
  /* The interval's spikes from the pre population [g0, g1): every key of
   * keys[0..n) (the exchange's, canonical order, step t0 + key >> 32)
   * whose gid is in it, delivered as deliver would, in the same order,
   * with the loop in the kind (fewer calls and lookups per spike, rows
   * fetched ahead). Where projections are delivered one at a time; NULL:
   * the loop calls deliver per spike. */
  void (*deliver_all)(bs_net *net, lproj *lj, const uint64_t *keys, size_t n,
                      uint64_t g0, uint64_t g1, int64_t t0);
  /* Per-pre state of step m, from the spikes of steps < m (delivered). */
  void (*advance)(bs_net *net, lproj *lj, int64_t m);
  /* Before step n's synapses read their arrivals, also when the post's
   * fused update does step's work: what the kind puts into this step's
   * ring slot itself (plastic: the rule's events, then the spikes'
   * delivery of the updated weights). NULL: nothing. */
  void (*prepare)(bs_net *net, lproj *lj, int64_t n);
  /* Step n: read this step's input, update the synapses, apply the
   * output; step_all once per kind (after the projections' step). */
  void (*step)(bs_net *net, lproj *lj, int64_t n);
  void (*step_all)(bs_net *net, int64_t n);
  /* Column c of a per-pre or per-synapse monitor m on this projection, for
   * the variables the kind holds (not stp, weight or delay). */
  double (*sample)(const lproj *lj, const lmon *m, uint64_t c, int64_t n);
  /* The output's current into local post i in this step, as step adds it
   * (the I_syn monitor; after step, before the neurons move V). NULL:
   * the kind has no output. */
  double (*current)(const lproj *lj, uint64_t i);
  /* NaN / infinity scan of the kind's state. */
  bs_status (*scan)(bs_ctx *ctx, const bs_net *net, const lproj *lj, int64_t t0,
                    int64_t t1);
  /* Checkpoint: the same walk writes and reads. Collective. */
  bs_status (*walk)(bs_ctx *ctx, bs_net *net, lproj *lj, bs_io *io,
                    int64_t step, bs_block_fn fn, int reading);
  /* Fills fs for the post's fused update (block kernel, constants, state;
   * fs->in is set every step) and returns 1, or returns 0: not fusable.
   * NULL: never. */
  int (*fuse)(const lproj *lj, bs_fused_syn *fs);
  /* Arrivals as counts at any ring size, where the weights allow
   * (bs_proj_count_ring), for a fused kernel that reads counts itself
   * (bs_fused_neuron.whole_counts); fuse is asked again after. NULL: the
   * ring stays as setup made it. */
  bs_status (*counts)(bs_ctx *ctx, lproj *lj, int bytes);
  /* Fetches what deliver will read for the pre at position k (rows 0: the
   * row offsets, 1: the row). NULL: nothing. */
  void (*prefetch)(const lproj *lj, uint64_t k, int rows);
  /* step / step_all also add to the pre population's input (gap
   * junctions), so the pre cannot be fused either. */
  int pre_input;
  /* The current weight of chosen synapse c of monitor m, for kinds whose
   * weights change (sampled every step); NULL: the stored weight. */
  double (*weight)(const lproj *lj, const lmon *m, uint64_t c);
  /* At the end of a run: the kind's final state to the output (plastic:
   * the trained weights as SONATA edges). Collective. */
  bs_status (*output)(bs_ctx *ctx, bs_net *net, lproj *lj, bs_io *io);
  void (*reset)(lproj *lj); /* a new trial: rest */
  void (*destroy)(bs_ctx *ctx, bs_net *net, lproj *lj);
  void (*destroy_all)(bs_ctx *ctx, bs_net *net);
} bs_proj_ops;

extern const bs_proj_ops bs_proj_linear, bs_proj_linear_V, bs_proj_trace,
    bs_proj_gap, bs_proj_plastic;
/* linear.c's step: this step's ring slot into the synapse state, then the
 * output (the plastic kind fills the slot itself). */
void bs_proj_linear_step(bs_net *net, lproj *lj, int64_t n);
/* linear.c's current: the I_syn monitor of the per-post state (also the
 * plastic kind's). */
double bs_proj_linear_current(const lproj *lj, uint64_t i);
/* linear.c's fuse (the plastic kind's too): the post's fused update does
 * the step when synapse and output have a block kernel. */
int bs_proj_linear_fuse(const lproj *lj, bs_fused_syn *fs);
/* The registry, in match order, NULL-terminated. */
extern const bs_proj_ops *const bs_proj_kinds[];

/* The kind of a projection: the first registry entry that matches. */
const bs_proj_ops *bs_proj_kind_of(const bs_proj_spec *js);
/* Common part of every projection (proj.c), then ops->build. */
bs_status bs_proj_build(bs_ctx *ctx, bs_net *net, int j, lproj *lj);
/* What every spiking kind builds: stp, the output's E, Delta's refractory
 * gating and the local connectivity with its delays. */
bs_status bs_proj_build_spiking(bs_ctx *ctx, bs_net *net, lproj *lj);
/* The stp efficacy of a spike of the pre at position k (1 without stp). */
double bs_proj_stp_spike(const bs_net *net, lproj *lj, uint64_t k,
                         int64_t step);
void bs_proj_reset(lproj *lj); /* common state, then ops->reset */
/* Per-post state and ring buffer (x, ring): the setup, reset and scan ops
 * of the kinds that have them. */
bs_status bs_proj_setup_post(bs_ctx *ctx, bs_net *net, lproj *lj);
void bs_proj_reset_post(lproj *lj);
bs_status bs_proj_scan_post(bs_ctx *ctx, const bs_net *net, const lproj *lj,
                            int64_t t0, int64_t t1);
/* Replaces the ring by a count ring where that gives the same sums (after
 * the ring is allocated), and, unless any_size, only where the double
 * ring outgrows its share of L2. any_size is for fused projections only:
 * their rings get no buffer for the unfused step's arrivals. Cells of one
 * byte where bytes is 1 and every count fits, else two; a count ring of
 * the other width is reallocated (at setup, while it is empty). Not
 * collective. */
bs_status bs_proj_count_ring(bs_ctx *ctx, lproj *lj, int any_size, int bytes);

/* Whether lj keeps a count ring (of either width), and its cell c. */
static inline int lproj_counted(const lproj *lj) {
  return lj->cring || lj->cring8;
}
static inline uint32_t lproj_cell(const lproj *lj, size_t c) {
  return lj->cring8 ? lj->cring8[c] : lj->cring[c];
}
/* Step n's arrivals per post neuron as weights, the slot cleared for its
 * next use. */
double *bs_proj_arrivals(lproj *lj, int64_t n);
void bs_proj_destroy(bs_ctx *ctx, bs_net *net, lproj *lj);
/* Checkpoint walks of the common state (collective). */
void bs_proj_pre_cols(const lproj *lj, int reading, uint64_t *c0, uint64_t *nc);
bs_status bs_proj_walk_x(bs_ctx *ctx, lproj *lj, bs_io *io, bs_block_fn fn);
bs_status bs_proj_walk_ring(bs_ctx *ctx, lproj *lj, bs_io *io, int64_t step,
                            bs_block_fn fn, int reading);
bs_status bs_proj_walk_stp(bs_ctx *ctx, lproj *lj, bs_io *io, bs_block_fn fn,
                           int reading);
/* stp u (which 1) or x (2) of the pre at position e at step n, relaxed
 * from its last spike. */
double bs_proj_stp_at(const lproj *lj, int which, uint64_t e, int64_t n,
                      double dt);

/* ---- populations (pop.c) --------------------------------------------- */

uint64_t bs_engine_block_lo(uint64_t n, int r, int P);
bs_status bs_engine_alloc_state(bs_ctx *ctx, int nx, size_t n, double ***x);
bs_status bs_pop_build(bs_ctx *ctx, const bs_spec *s, int p, lpop *lp);
/* Initial state of trial `trial` (0: a plain run). */
void bs_pop_init_state(const bs_spec *s, lpop *lp, uint32_t trial);
/* Listed spikes: continue with the first event at or after step tstep of
 * the trial (a restore; a trial start is 0). */
void bs_pop_events_seek(lpop *lp, int64_t tstep);
void bs_pop_free(bs_ctx *ctx, lpop *lp);

/* The population of a global id. */
static inline int bs_engine_pop_of_gid(const bs_spec *s, uint64_t gid) {
  int lo = 0, hi = s->n_pops - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (s->pops[mid].gid0 <= gid)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* Whether every x[i] is finite. An exponent of all ones (NaN, infinity)
 * is the only one that carries into bit 63 when 1 is added to it: and,
 * add and or vectorize (a floating-point sum would be a serial chain
 * without reassociation, which we never allow), so the scan costs a
 * fraction of a kernel pass. */
static inline int bs_engine_all_finite(const double *restrict x, uint64_t n) {
  const uint64_t E = UINT64_C(0x7ff0000000000000), one = UINT64_C(1) << 52;
  uint64_t bad = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t b;
    memcpy(&b, &x[i], sizeof b);
    bad |= (b & E) + one;
  }
  return !(bad >> 63);
}

/* qsort order of uint64_t keys. */
static inline int bs_engine_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The rank that owns neuron gid (pop.c). */
int bs_engine_owner_of(const bs_net *net, uint64_t gid);

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

/* ---- connectivity (connect.c) ----------------------------------------- */

/* The connector's arguments for the posts [post_lo, post_hi). */
bs_conn_args bs_conn_args_of(const bs_spec *s, int j, uint64_t post_lo,
                             uint64_t post_hi);
/* The local synapses of projection j (sparse or dense storage) and the
 * per-pre delays; sets nnz, syn_bytes, dmin, dmax. Not collective. */
bs_status bs_conn_build(bs_ctx *ctx, bs_net *net, int j, lproj *lj);
void bs_conn_free(bs_ctx *ctx, lproj *lj);

/* Connectivity and weights from files (files.c). files_load is
 * collective: every rank reads its rows of every file projection. */
bs_status bs_engine_files_load(bs_ctx *ctx, bs_net *net);
void bs_engine_files_free(bs_ctx *ctx, bs_net *net);
bs_status bs_engine_gmax_file(bs_ctx *ctx, lproj *lj);

/* ---- monitors and output (synmon.c, output.c) -------------------------- */

/* Monitors of chosen synapses: finds this rank's synapses (post local),
 * fails on a listed pair the projection does not have; not collective
 * (the caller agrees). */
bs_status bs_synmon_build(bs_ctx *ctx, const bs_net *net, lmon *m);
void bs_synmon_free(bs_ctx *ctx, lmon *m);

bs_status bs_engine_monitor_build(bs_ctx *ctx, bs_net *net,
                                  const bs_monitor_spec *ms, lmon *m);
void bs_engine_monitor_free(bs_ctx *ctx, lmon *m);
/* Creates the output's spike tables and reports. Collective. */
bs_status bs_engine_open_outputs(bs_ctx *ctx, bs_net *net, bs_io *io);
bs_status bs_engine_record_spike(bs_ctx *ctx, lpop *lp, double t, uint64_t id);
/* Whether neuron i's spike of step n goes to the output: in the window
 * and among the indices of the population's spike monitor. */
static inline int bs_engine_spike_recorded(const lpop *lp, int64_t n,
                                           int64_t n_steps, uint64_t i) {
  const bs_monitor_spec *m = lp->rec_mon;
  if (!m)
    return 1;
  if (n < m->start || n >= bs_monitor_stop(m, n_steps))
    return 0;
  if (!m->idx)
    return 1;
  const uint64_t k = bs_engine_lower_bound(m->idx, m->n_idx, i);
  return k < m->n_idx && m->idx[k] == i;
}
/* State monitors at step n (V at the start of the step, g as used): the
 * ones with late == `late` (output.c). */
void bs_engine_sample_state(bs_net *net, int64_t n, int late);
/* One step of a population's neurons (its model's update). */
void bs_pop_update(lpop *lp, bs_neuron_args *na);
/* Population p's nspk spikes of this step into its rate monitors. */
void bs_engine_count_rate(bs_net *net, int p, size_t nspk);
/* Per-pre and per-synapse monitors at step n. */
void bs_engine_sample_pre(bs_net *net, int64_t n);
/* Collective: every rank buffered the same spikes and monitor rows. */
bs_status bs_engine_flush_spikes(bs_ctx *ctx, bs_net *net, bs_io *io);
bs_status bs_engine_flush_monitor(bs_ctx *ctx, lmon *m);
bs_status bs_engine_flush_output(bs_ctx *ctx, bs_net *net, bs_io *io);

/* ---- inputs (inputs.c) ------------------------------------------------- */

/* The state of stateful input kinds, initialised. Not collective. */
bs_status bs_engine_inputs_build(bs_ctx *ctx, bs_net *net);
void bs_engine_inputs_reset(bs_net *net); /* a trial's start */
/* Step n: the time-varying inputs into the input current (to_V 0), or
 * every input into V (to_V 1). */
void bs_engine_inputs_apply(bs_net *net, int64_t n, int to_V);
/* Checkpoint walk of the inputs' state. Collective. */
bs_status bs_engine_inputs_walk(bs_ctx *ctx, bs_net *net, bs_io *io,
                                int64_t step, bs_block_fn fn, int reading);
void bs_engine_inputs_free(bs_ctx *ctx, bs_net *net);

/* ---- intervals and trials (trial.c) ------------------------------------ */

int64_t bs_engine_interval_end(const bs_net *net, int64_t t0);
/* BrainPy's reset() before trial `trial`. */
void bs_engine_trial_reset(bs_net *net, uint32_t trial);

/* ---- the NaN scan, progress, checkpoints -------------------------------- */

/* A state that became NaN or infinite (pop.c): the error names the place
 * (what: "population", "projection", ...) and suggests what to change. */
bs_status bs_engine_nonfinite(bs_ctx *ctx, const bs_net *net, const char *what,
                              const char *name, const char *var, uint64_t idx,
                              double v, int64_t t0, int64_t t1,
                              const char *method);
/* all: also the state that fused updates test themselves (to name the
 * place after one of them found a value that is not finite). */
bs_status bs_engine_check_finite(bs_ctx *ctx, const bs_net *net, int64_t t0,
                                 int64_t t1, int all);

/* ---- fused updates (fuse.c) -------------------------------------------- */

/* Chooses the populations updated by a fused kernel (their model has one
 * for the method, every incoming projection's kind can be fused, no
 * monitor needs their I) and marks their projections and late monitors.
 * After the monitors are built. Not collective. */
bs_status bs_engine_fuse_setup(bs_ctx *ctx, bs_net *net);
/* One step n of a fused population; fails (with the place named) when a
 * state became NaN or infinite. */
bs_status bs_engine_fused_update(bs_ctx *ctx, bs_net *net, lpop *lp,
                                 bs_neuron_args *na, int64_t n);
void bs_engine_fuse_free(bs_ctx *ctx, lpop *lp);
void bs_engine_progress(const bs_ctx *ctx, const bs_run_opts *o,
                        const bs_spec *s, int64_t step0, int64_t step,
                        double t_start, int final);
/* Checkpoints (checkpoint.c). Collective. */
bs_status bs_engine_ckpt_write(bs_ctx *ctx, bs_net *net, bs_io *out,
                               int64_t step_next, const char *dir);

#endif

/* Every MPI call of brainsim lives behind this header: start-up, agreement
 * on errors, the spike exchange, reductions and abort. Functions marked
 * "collective" must be called by every rank. */
#ifndef BRAINSIM_COMM_H
#define BRAINSIM_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "brainsim/util.h"

typedef struct bs_comm bs_comm;

/* MPI_Init and a private duplicate of MPI_COMM_WORLD with errors returned.
 * Collective. A process started without a launcher (mpirun, srun) runs
 * alone without starting MPI, unless BRAINSIM_MPI=1 asks for a singleton;
 * every collective is then the one-rank identity. */
bs_status bs_comm_init(int *argc, char ***argv, bs_comm **comm);
/* Whether MPI was started (0: one process without MPI). */
int bs_comm_uses_mpi(const bs_comm *comm);
/* MPI_Finalize. Collective. Accepts NULL. */
void bs_comm_finalize(bs_comm **comm);
int bs_comm_rank(const bs_comm *comm);
int bs_comm_size(const bs_comm *comm);
/* The MPI communicator, as an opaque pointer to an MPI_Comm, for io/;
 * NULL without MPI. */
void *bs_comm_mpi_handle(bs_comm *comm);

/* Collective: do all ranks have local == BS_OK? If not, returns local's
 * code on failing ranks and BS_ERR_REMOTE on the others, and *first is the
 * lowest failing rank (so exactly one rank reports). */
bs_status bs_comm_agree(bs_ctx *ctx, bs_status local, int *first);

/* Collective reductions. */
bs_status bs_comm_sum_u64(bs_ctx *ctx, uint64_t *v, int n);
bs_status bs_comm_max_double(bs_ctx *ctx, double *v, int n);
bs_status bs_comm_stats(bs_ctx *ctx, const double *local, int n, double *min,
                        double *mean, double *max);
bs_status bs_comm_gather_u64(bs_ctx *ctx, uint64_t local, uint64_t *all);
/* The sum of local over the ranks below this one (0 on rank 0). */
bs_status bs_comm_exscan_u64(bs_ctx *ctx, uint64_t local, uint64_t *before);
/* Every rank's n values to every rank, concatenated in rank order
 * (MPI_Allgatherv): counts[r] values of rank r land at recv + displs[r];
 * counts and displs are the same on every rank. The gap junctions' V
 * exchange (u64: their gid lists, once at build). Collective. */
bs_status bs_comm_allgatherv_f64(bs_ctx *ctx, const double *send, int n,
                                 double *recv, const int *counts,
                                 const int *displs);
bs_status bs_comm_allgatherv_u64(bs_ctx *ctx, const uint64_t *send, int n,
                                 uint64_t *recv, const int *counts,
                                 const int *displs);
/* How many ranks share this rank's node (memory). Collective. */
bs_status bs_comm_node_ranks(bs_ctx *ctx, int *n);

/* The spike exchange, target-aware (NEST 5g, Jordan et al. 2018): each
 * spike goes only to the ranks that hold one of its targets. The plan,
 * made once at build, gives every local neuron the list of ranks that
 * asked for it; per interval one MPI_Alltoall of (flag, count) per rank
 * and one MPI_Alltoallv of the spikes. A rank then holds, sorted, only
 * the spikes it asked for. Buffers grow with the traffic and shrink when
 * it stays well below them. Spikes are packed keys (step offset << 32) |
 * gid. */
typedef struct bs_gid_range {
  uint64_t lo, hi; /* gids [lo, hi) that this rank owns */
} bs_gid_range;

typedef struct bs_exchange {
  /* Plan: the local neurons, as ranges in gid order, each neuron's slot
   * its position in that order; dst[row[s] .. row[s + 1]) the ranks that
   * need slot s, ascending. */
  bs_gid_range *ranges;
  uint64_t *slot0; /* slot of ranges[k].lo */
  int nranges;
  uint64_t nslots;
  uint64_t *row;
  int32_t *dst;
  uint64_t ndst;
  /* One rank: bit s set when slot s is wanted (the row test of every
   * spike from a bitmap in cache instead of 8 bytes a neuron). */
  uint64_t *self_bits;
  /* Per interval. */
  uint64_t *sendbuf, *all; /* all: the received spikes, sorted */
  size_t sendcap, nall, allcap;
  int *scount, *sdispl, *rcount, *rdispl; /* per rank */
  uint64_t *hdr_s, *hdr_r;                /* per rank: flag, count */
  /* The largest traffic over the current window of intervals, for
   * shrinking. */
  size_t hw_send, hw_all;
  unsigned window;
  /* Totals over the run on this rank: spikes received (its own that it
   * asked for included), bytes sent to and received from other ranks
   * (counts and spikes). */
  uint64_t spikes_recv, bytes_sent, bytes_recv;
  /* The overlapped form: intervals started and finished. */
  struct bs_xflight *fl;
  unsigned nstarted, nfinished;
} bs_exchange;

bs_status bs_exchange_create(bs_ctx *ctx, bs_exchange **x);
void bs_exchange_destroy(bs_ctx *ctx, bs_exchange **x);
/* Builds the plan. `local` lists the gid ranges this rank owns, ascending;
 * `need` the gids this rank wants to receive, grouped by owner rank
 * (need_count[r] gids owned by rank r, in rank order) and ascending
 * within each group. Collective. */
bs_status bs_exchange_plan(bs_ctx *ctx, bs_exchange *x,
                           const bs_gid_range *local, int nlocal,
                           const uint64_t *need, const uint64_t *need_count);
/* One interval: sends each of the n sorted local spikes to the ranks
 * that need it; x->all[0 .. x->nall) then holds the spikes this rank
 * needs, sorted. `flag` rides along: *maxflag is the maximum over ranks.
 * Collective. */
bs_status bs_exchange_run(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                          size_t n, uint64_t flag, uint64_t *maxflag);
/* The same exchange overlapped with computing (issue: "overlap where the
 * delays allow it", as Arbor does): start packs one interval's spikes and
 * posts its headers (MPI_Ialltoall) and its spikes (MPI_Isend to each rank
 * that needs some), then returns; finish completes the oldest interval
 * started: its headers, then receives of exactly the announced counts,
 * after which x->all holds its spikes as after bs_exchange_run. At most
 * two intervals are in flight. Both collective, in the same order on
 * every rank. progress lets MPI advance what is in flight (call it
 * between steps; not collective). */
bs_status bs_exchange_start(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                            size_t n, uint64_t flag);
bs_status bs_exchange_finish(bs_ctx *ctx, bs_exchange *x, uint64_t *maxflag);
void bs_exchange_progress(bs_ctx *ctx, bs_exchange *x);
int bs_exchange_in_flight(const bs_exchange *x);
/* Gathers every rank's n values at rank 0, in rank order (counts[r] from
 * rank r; counts as bs_comm_gather_u64 gives them, the same on every
 * rank); recv matters on rank 0 only. Collective. */
bs_status bs_comm_gatherv_u64(bs_ctx *ctx, const uint64_t *send,
                              const uint64_t *counts, uint64_t *recv);
bs_status bs_comm_gatherv_f64(bs_ctx *ctx, const double *send,
                              const uint64_t *counts, double *recv);

/* Ends every rank at once (last resort after an unrecoverable error). */
void bs_comm_abort(bs_comm *comm, int code);

#endif

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
 * Collective. */
bs_status bs_comm_init(int *argc, char ***argv, bs_comm **comm);
/* MPI_Finalize. Collective. Accepts NULL. */
void bs_comm_finalize(bs_comm **comm);
int bs_comm_rank(const bs_comm *comm);
int bs_comm_size(const bs_comm *comm);
/* The MPI communicator, as an opaque pointer to an MPI_Comm, for io/. */
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

/* The spike exchange: every rank contributes its sorted list of packed
 * spikes and a flag; all ranks receive all lists (in rank order) and the
 * maximum flag. One MPI_Allgather of a fixed-size block in the common case;
 * when some rank has more spikes than the block holds, a second exact
 * round follows and the block grows (as NEST's buffers do). Collective. */
typedef struct bs_exchange {
  size_t cap;        /* spikes per rank per block */
  uint64_t *sendbuf; /* cap + 2 words */
  uint64_t *recvbuf; /* size * (cap + 2) words */
  uint64_t *all;     /* the received spikes, concatenated */
  size_t nall, allcap;
  size_t *counts;   /* per rank: spikes received */
  size_t *offsets;  /* per rank: start in all[] */
  uint64_t rounds2; /* how often the second round was needed */
} bs_exchange;

bs_status bs_exchange_create(bs_ctx *ctx, size_t cap, bs_exchange **x);
void bs_exchange_destroy(bs_ctx *ctx, bs_exchange **x);
bs_status bs_exchange_run(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                          size_t n, uint64_t flag, uint64_t *maxflag);

/* Ends every rank at once (last resort after an unrecoverable error). */
void bs_comm_abort(bs_comm *comm, int code);

#endif

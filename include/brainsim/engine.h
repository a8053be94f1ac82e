/* The engine: partition the populations over the ranks, build local state
 * and target-side connectivity, and run the step loop with ring buffers and
 * one spike exchange per min-delay interval. No MPI or HDF5 here: it calls
 * comm/ and io/. */
#ifndef BRAINSIM_ENGINE_H
#define BRAINSIM_ENGINE_H

#include <stdint.h>

#include "brainsim/config.h"
#include "brainsim/io.h"
#include "brainsim/util.h"

typedef struct bs_net bs_net;

/* Build this rank's part of the network. Collective. */
bs_status bs_net_build(bs_ctx *ctx, const bs_spec *spec, bs_net **net);
void bs_net_destroy(bs_ctx *ctx, bs_net **net);

/* Per-rank sizes for `brainsim check`. Collective. */
typedef struct bs_net_sizes {
  uint64_t neurons, synapses, bytes;
} bs_net_sizes;
bs_status bs_net_sizes_get(bs_ctx *ctx, const bs_net *net, bs_net_sizes *local,
                           uint64_t *syn_per_proj /* n_projs, global */);
int bs_net_exchange_interval(const bs_net *net);
/* 1 when the exchange of one interval overlaps the next interval's update
 * (run.overlap). */
int bs_net_exchange_overlapped(const bs_net *net);

/* The rows each rank keeps per projection, summed over ranks: rows (the
 * pre neurons of its table, or the whole pre population where that is
 * smaller), ids (rows listed by id in a table, else 0) and bytes (what
 * finds a row: the identity's row offsets, the compressed table of a
 * sparse projection, the ids of a dense one). Collective. */
bs_status bs_net_table_get(bs_ctx *ctx, const bs_net *net, uint64_t *rows,
                           uint64_t *ids, uint64_t *bytes);
/* Connectivity actually stored, per projection and summed over ranks:
 * synapses and bytes (CSR or dense matrix, per-pre delays). Collective. */
bs_status bs_net_storage_get(bs_ctx *ctx, const bs_net *net, uint64_t *syn,
                             uint64_t *bytes /* n_projs each */);
/* What projection j will store over all ranks, from the spec: the
 * connector's expected (or exact) synapse count and the bytes of its
 * storage at one rank. Not collective. */
void bs_net_proj_storage(const bs_spec *spec, int j, double *syn,
                         double *bytes);

/* Memory this rank will need, computed from the spec before anything is
 * allocated (sizes in floating point, so no product can overflow), and
 * the largest single item, to name it when the run does not fit. */
typedef struct bs_estimate {
  double bytes;      /* total on this rank */
  double item_bytes; /* the largest item */
  char item[256];    /* e.g. "projection 'EE' (1.2e9 synapses)" */
} bs_estimate;
void bs_net_estimate(const bs_spec *spec, int rank, int size, bs_estimate *est);

typedef struct bs_run_opts {
  int progress; /* rank 0 prints progress lines */
  int tty;      /* rewrite one line (terminal) or print lines (batch) */
  double progress_every; /* seconds of wall time between lines */
  int64_t ckpt_every;    /* steps between checkpoints (0: none) */
  const char *ckpt_dir;  /* where checkpoints go (NULL: none) */
  int ckpt_end; /* also one at the end, to continue into a longer run */
} bs_run_opts;

typedef struct bs_run_result {
  uint64_t *spikes;    /* per population, global */
  uint64_t syn_events; /* spike deliveries to synapses, global */
  double wall_run;     /* wall time of the step loop (s) */
  double phase_min[BS_PHASE_COUNT], phase_mean[BS_PHASE_COUNT],
      phase_max[BS_PHASE_COUNT];
  uint64_t mem_peak_max; /* largest peak over ranks (bytes) */
  int64_t steps_done;    /* the loop stopped before this step */
  int64_t step0;         /* and started here (a restart's checkpoint) */
  int stopped;           /* 0: ran to the end; 1: SIGINT; 2: SIGTERM/SIGUSR1 */
  /* This rank's exchange over the run (not reduced): the spikes it
   * received (only those it asked for) and the bytes it sent to and
   * received from other ranks. */
  uint64_t spikes_recv, bytes_sent, bytes_recv;
  double recv_min, recv_mean, recv_max; /* spikes_recv over ranks */
  uint64_t spikes_run; /* spikes of this run segment (a restart's), global */
} bs_run_result;

/* Restore the state of a checkpoint written by any rank count of the same
 * network; refuses one from another network, dt, seed or a shorter
 * duration with a message that names the config key that differs. Call after
 * bs_net_build and before bs_net_run (which then continues from the
 * checkpoint's step, appending to the same output file). Collective. */
bs_status bs_net_restore(bs_ctx *ctx, bs_net *net, const char *path,
                         char **output_path);

/* Run the whole simulation, writing spikes and reports to io (which may be
 * NULL for no output). Collective. res->spikes is allocated here (n_pops)
 * and freed by the caller with free(). */
bs_status bs_net_run(bs_ctx *ctx, bs_net *net, bs_io *io,
                     const bs_run_opts *opts, bs_run_result *res);

#endif

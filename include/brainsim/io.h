/* Every HDF5 call of brainsim lives behind this header: the one output file
 * (SONATA spikes and reports, /meta), written collectively with parallel
 * HDF5 over the communicator that comm/ provides. All functions here are
 * collective over the ranks of the file unless noted: every rank calls
 * them, with the same arguments where metadata is concerned, also when it
 * has nothing to write. */
#ifndef BRAINSIM_IO_H
#define BRAINSIM_IO_H

#include <stddef.h>
#include <stdint.h>

#include "brainsim/util.h"

typedef struct bs_io bs_io;
typedef struct bs_io_report bs_io_report;

/* Create the output file; refuses an existing file unless overwrite. The
 * file is marked incomplete (/meta@complete = 0, /meta@status
 * "incomplete: ...") until bs_io_close() is called with complete = 1.
 * Every write that allocates space first checks that it fits, leaving room
 * for closing the file (file size limit and free space): if not, every
 * rank gets BS_ERR_DISK_FULL with nothing written, and the file can still
 * be closed, readable, up to its last flush. */
bs_status bs_io_create(bs_ctx *ctx, const char *path, int overwrite,
                       bs_io **io);
bs_status bs_io_close(bs_ctx *ctx, bs_io **io, int complete);
/* Set /meta@status of an output that will close incomplete (why, e.g.
 * "incomplete: disk full at t = 12.0 ms"); gives back the reserved space
 * first. Collective. */
bs_status bs_io_status(bs_ctx *ctx, bs_io *io, const char *text);
/* Give back the space held beside the output for its final metadata
 * writes (done by bs_io_status and bs_io_close; call it before other final
 * writes). Not collective; NULL is fine. */
void bs_io_release_reserve(bs_io *io);
/* Open an existing file (a run's output to continue, or a checkpoint). */
bs_status bs_io_open(bs_ctx *ctx, const char *path, int writable, bs_io **io);
const char *bs_io_path(const bs_io *io);
/* Write HDF5's metadata of the file and of its open reports to disk
 * (H5Fflush), so the files are valid as they stand. Collective. */
bs_status bs_io_flush(bs_ctx *ctx, bs_io *io);
/* Rename a closed file (rank 0 renames, all agree): atomic replacement. */
/* Create a folder (rank 0; existing is fine). Collective. */
bs_status bs_io_mkdir(bs_ctx *ctx, const char *dir);
bs_status bs_io_rename(bs_ctx *ctx, const char *from, const char *to);
bs_status bs_io_exists(bs_ctx *ctx, bs_io *io, const char *path, int *yes);

/* Spikes in SONATA layout: /spikes/<pop>/{timestamps, node_ids}. */
bs_status bs_io_spikes_add(bs_ctx *ctx, bs_io *io, const char *pop,
                           int *handle);
/* Spikes already in the file for a handle; cut back to len (a restart
 * drops what was written after its checkpoint). */
uint64_t bs_io_spikes_length(const bs_io *io, int handle);
bs_status bs_io_spikes_truncate(bs_ctx *ctx, bs_io *io, int handle,
                                uint64_t len);
/* Append `total` spikes to population handle; this rank writes rows
 * [offset, offset + n) from t (ms) and ids. */
bs_status bs_io_spikes_append(bs_ctx *ctx, bs_io *io, int handle,
                              uint64_t total, uint64_t offset, uint64_t n,
                              const double *t, const uint64_t *ids);

/* A SONATA frame report (sonata.md §6.4) for group /report/<target>/<name>:
 * one variable per file, so the report is its own file (`file`, or NULL:
 * <output without .h5>.<target>.<name>.h5 beside the output) holding
 * /report/<target>/data [rows, nodes] (float64, attr units) and
 * mapping/{node_ids, index_pointers, element_ids, time (attr units ms)};
 * the output links it at `group` (an HDF5 external link, relative to the
 * output's folder when the two share it). When the link exists (a
 * restart), the report file is reopened and its shape checked. */
bs_status bs_io_report_create(bs_ctx *ctx, bs_io *io, const char *group,
                              const char *file, const char *units,
                              const uint64_t *node_ids, uint64_t n_nodes,
                              uint64_t n_rows, double tstart, double tstop,
                              double tstep, const char *population,
                              bs_io_report **rep);
/* The report's own file. */
const char *bs_io_report_path(const bs_io_report *rep);
/* Write rows [row0, row0 + nrows) x columns [col0, col0 + ncols) from buf
 * (row-major, ncols per row). */
bs_status bs_io_report_write(bs_ctx *ctx, bs_io_report *rep, uint64_t row0,
                             uint64_t nrows, uint64_t col0, uint64_t ncols,
                             const double *buf);
/* The same for the columns cols[0 .. ncols) (ascending, not necessarily
 * contiguous): buf row-major, ncols per row. Collective. */
bs_status bs_io_report_write_cols(bs_ctx *ctx, bs_io_report *rep, uint64_t row0,
                                  uint64_t nrows, const uint64_t *cols,
                                  uint64_t ncols, const double *buf);
/* A report of chosen synapses: mapping/pre_node_ids [nodes] (node_ids are
 * the posts) and the group's attr pre_population. Collective; kept as it
 * is when the report exists (a restart). */
bs_status bs_io_report_pre_ids(bs_ctx *ctx, bs_io_report *rep,
                               const uint64_t *pre_ids, uint64_t n,
                               const char *pre_population);
bs_status bs_io_report_close(bs_ctx *ctx, bs_io_report **rep);

/* Attributes and small datasets (same values on every rank). */
bs_status bs_io_group(bs_ctx *ctx, bs_io *io, const char *path);
bs_status bs_io_attr_str(bs_ctx *ctx, bs_io *io, const char *path,
                         const char *name, const char *value);
bs_status bs_io_attr_f64(bs_ctx *ctx, bs_io *io, const char *path,
                         const char *name, const double *v, size_t n);
bs_status bs_io_attr_u64(bs_ctx *ctx, bs_io *io, const char *path,
                         const char *name, const uint64_t *v, size_t n);
/* A 1-D uint64 dataset with one value per rank, each rank writing its
 * own (replaced if it exists). Collective. */
bs_status bs_io_rank_u64(bs_ctx *ctx, bs_io *io, const char *path,
                         uint64_t value);
bs_status bs_io_text(bs_ctx *ctx, bs_io *io, const char *path,
                     const char *text);

/* Distributed blocks: a float64 dataset [rows, cols] of which this rank
 * writes or reads columns [col0, col0 + ncols) (row-major buffer). */
bs_status bs_io_block_write(bs_ctx *ctx, bs_io *io, const char *path,
                            uint64_t rows, uint64_t cols, uint64_t col0,
                            uint64_t ncols, const double *buf);
bs_status bs_io_block_read(bs_ctx *ctx, bs_io *io, const char *path,
                           uint64_t rows, uint64_t cols, uint64_t col0,
                           uint64_t ncols, double *buf);
bs_status bs_io_read_attr_u64(bs_ctx *ctx, bs_io *io, const char *path,
                              const char *name, uint64_t *v, size_t n);
/* A fixed-length string dataset (as bs_io_text writes); caller frees. */
bs_status bs_io_read_text(bs_ctx *ctx, bs_io *io, const char *path,
                          char **text);

/* A 1-D column of `total` values (uint64 when is_u64, else float64) of
 * which this rank writes rows [row0, row0 + n), intermediate groups
 * created (SONATA edge columns: the trained weights of plastic
 * projections). Collective. */
bs_status bs_io_column_write(bs_ctx *ctx, bs_io *io, const char *path,
                             int is_u64, uint64_t total, uint64_t row0,
                             uint64_t n, const void *buf);

/* ---- connectivity and weights from files (src/io/edges.c) -------------
 * Input files are opened read-only by each rank on its own (serial HDF5):
 * a rank reads only the rows of its own targets where the file allows it. */

/* Where a projection's synapses come from. */
typedef struct bs_edges_src {
  const char *file;  /* path */
  const char *group; /* rows form: group holding pre, post, ...; SONATA:
                      * the edge population under /edges */
  int sonata;
  const char *source, *target; /* SONATA: expected node_population names */
  uint64_t n_pre, n_post;
  const char *proj; /* projection name, for messages */
  /* SONATA: keep only the edges whose edge_type_id is one of types[0 ..
   * ntypes) (NULL: all), whose weight has the sign `sign` (+1: >= 0, -1:
   * < 0, 0: any); abs_w stores |weight|. Edges without syn_weight weigh
   * w0; a group's `nsyns` (BMTK) multiplies the weight. */
  const int64_t *types;
  int ntypes;
  int sign, abs_w;
  double w0;
} bs_edges_src;

/* This rank's synapses from a file, in the file's row order (the canonical
 * order, the same at every rank count). */
typedef struct bs_edges {
  uint64_t n;
  uint64_t *pre, *post; /* indices within the pre and post populations */
  uint64_t *row;        /* row (SONATA edge id) in the file */
  double *w;            /* weights, or NULL when the file has none */
  double *delay;        /* delays (unit: delay_ms), or NULL */
  int delay_ms;         /* 1: ms (SONATA delay, rows form delay); 0: steps */
  uint64_t total;       /* rows in the file */
  const char *how;      /* "index", "sorted" or "scan": how rows were found */
  uint64_t cap;         /* allocated length of the arrays */
} bs_edges;

/* Read the rows whose target lies in [lo, hi). Collective: every rank
 * calls it for the same projections in the same order; an error on any
 * rank is an error on all (BS_ERR_REMOTE on the others). SONATA files with
 * indices/target_to_source are read through the index; other files are
 * binary-searched as if sorted by target and the result checked (each
 * rank's rows sorted and inside its block, and the rows of all ranks add
 * up to the file's); when that check fails every rank scans the whole
 * file in chunks instead. */
bs_status bs_edges_load(bs_ctx *ctx, const bs_edges_src *src, uint64_t lo,
                        uint64_t hi, bs_edges *out);
void bs_edges_free(bs_ctx *ctx, bs_edges *e);

/* The edge populations of a SONATA edge file, from metadata: names,
 * node populations of source and target, edge count, and whether the
 * groups hold syn_weight, delay and nsyns. Not collective. */
typedef struct bs_sonata_edge_pop {
  char *name, *source, *target;
  uint64_t n;
  int has_w, has_d, has_nsyns;
} bs_sonata_edge_pop;
typedef struct bs_sonata_edges_info {
  int n;
  bs_sonata_edge_pop *pop;
} bs_sonata_edges_info;
bs_status bs_io_sonata_edges_info(bs_ctx *ctx, const char *file,
                                  bs_sonata_edges_info *out);
void bs_io_sonata_edges_info_free(bs_sonata_edges_info *info);

/* A numeric dataset read in blocks (g_max: {file, dataset}): shape [rows,
 * cols], or [cols] when rows is 0. Not collective. */
typedef struct bs_matrix_in bs_matrix_in;
bs_status bs_matrix_open(bs_ctx *ctx, const char *file, const char *dataset,
                         uint64_t rows, uint64_t cols, const char *what,
                         bs_matrix_in **m);
/* Rows [row0, row0 + nrows) x columns [col0, col0 + ncols), row-major;
 * for a 1-D dataset only the columns. Values are not checked here: the
 * caller checks the entries it uses. */
bs_status bs_matrix_read(bs_ctx *ctx, bs_matrix_in *m, uint64_t row0,
                         uint64_t nrows, uint64_t col0, uint64_t ncols,
                         double *buf);
void bs_matrix_close(bs_matrix_in **m);

/* ---- SONATA spike files as input (src/io/spikefile.c) ----------------
 * /spikes/<population>/{timestamps, node_ids} (sonata.md §6.1), or the old
 * form /spikes/{gids, timestamps}. Not collective: each rank opens the
 * file read-only with serial HDF5 on its own. */
typedef struct bs_sonata_spikes {
  uint64_t n;         /* spikes kept (node ids in [lo, hi)) */
  uint64_t *node_ids; /* ids within the population */
  double *t;          /* ms (a file in units "s" is converted) */
  uint64_t total;     /* rows in the file, all nodes */
} bs_sonata_spikes;

/* The spikes of nodes [lo, hi) of `population` (NULL or "": the only one
 * in the file) of n_nodes nodes, in (time, node id, row) order: the same
 * on any rank count. Refuses, naming file, dataset and row: a missing
 * group or dataset, lengths that differ, non-integer ids, ids outside [0,
 * n_nodes), times that are negative or not finite, units other than ms
 * or s. The file is read in chunks of 2^20 rows. */
bs_status bs_io_sonata_spikes_read(bs_ctx *ctx, const char *file,
                                   const char *population, uint64_t n_nodes,
                                   uint64_t lo, uint64_t hi,
                                   bs_sonata_spikes *out);
void bs_io_sonata_spikes_free(bs_ctx *ctx, bs_sonata_spikes *s);
/* The rows of the file's spike population, from its metadata alone (for
 * the memory estimate before the network is built). */
bs_status bs_io_sonata_spikes_rows(bs_ctx *ctx, const char *file,
                                   const char *population, uint64_t *rows);

/* ---- SONATA node files (src/io/nodes.c, sonata.md §6.2) ---------------
 * Not collective: each rank opens the file read-only with serial HDF5. */
typedef struct bs_sonata_nodes_info {
  int n;          /* node populations in the file (/nodes/<name>) */
  char **name;    /* their names, sorted */
  uint64_t *size; /* their node counts (rows of node_type_id) */
} bs_sonata_nodes_info;

/* The populations of a node file, from metadata only (no rows read).
 * Refuses, naming file and dataset: no /nodes, a population without
 * node_type_id, node_group_id or node_group_index, columns of other
 * lengths or types, and per-node dynamics_params groups (not read). */
bs_status bs_io_sonata_nodes_info(bs_ctx *ctx, const char *file,
                                  bs_sonata_nodes_info *out);
void bs_io_sonata_nodes_info_free(bs_sonata_nodes_info *info);
/* node_type_id of the nodes [lo, hi) of population (checked: node_id,
 * when the file has it, equals the row). */
bs_status bs_io_sonata_node_types(bs_ctx *ctx, const char *file,
                                  const char *population, uint64_t lo,
                                  uint64_t hi, int64_t *type_id);

#endif

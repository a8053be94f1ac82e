/* Connectors: generate, deterministically, the synapses whose post-synaptic
 * neuron lies in [post_lo, post_hi). Random draws are keyed by neuron ids
 * within the projection, never by rank, so the network is the same at every
 * rank count. Connectors never communicate. */
#ifndef BRAINSIM_CONNECT_H
#define BRAINSIM_CONNECT_H

#include <stdint.h>

#include "brainsim/model.h"

typedef struct bs_conn_args {
  uint64_t n_pre, n_post;
  uint64_t post_lo, post_hi; /* local target block, indices within post */
  int same_pop;              /* pre and post are the same population */
  uint64_t seed;
  uint32_t proj_id;  /* projection number: separates random streams */
  const double *p;   /* parameters, in the descriptor's order */
  const uint64_t *i; /* explicit pairs (IJ): pre ids */
  const uint64_t *j; /* explicit pairs (IJ): post ids */
  uint64_t n_ij;
} bs_conn_args;

/* Receives one synapse: pre and post indices within their populations and a
 * key unique within the projection that keys per-synapse random draws.
 * Returns non-zero to stop (out of memory). */
typedef int (*bs_syn_emit_fn)(void *sink, uint64_t pre, uint64_t post,
                              uint64_t key);

typedef struct bs_connector {
  const char *name;
  const char *doc;
  const char *stats; /* what the connector guarantees */
  int np;
  const bs_param *params;
  int needs_ij; /* explicit pairs in a->i, a->j: 1 from IJ's lists, 2 from a
                 * 0/1 matrix (the config reader converts it to pairs) */
  /* Sizes check: NULL if fine, else a message (blame: parameter index or
   * -1 for the connector as a whole). */
  const char *(*check)(const double *p, uint64_t n_pre, uint64_t n_post,
                       int same_pop, int *blame);
  /* Expected number of synapses onto the whole post population. */
  double (*expected)(const double *p, uint64_t n_pre, uint64_t n_post,
                     int same_pop, uint64_t n_ij);
  int (*generate)(const bs_conn_args *a, bs_syn_emit_fn emit, void *sink);
  /* Takes `shape:` (a grid of 1 or 2 dimensions over the population,
   * row-major): the config stores ndim, n0, n1 in p[np], p[np + 1],
   * p[np + 2] (n1 = 1 for one dimension); pre and post are the same size
   * (ProbDist in 1-D: pre takes its own size). */
  int grid;
} bs_connector;

const bs_connector *bs_connector_find(const char *name);
int bs_connector_count(void);
const bs_connector *bs_connector_at(int i);
/* Connectors whose synapses come from a file, read by io/ (generate emits
 * nothing): 1 for File (rows of pre, post), 2 for SONATA edges, else 0. */
int bs_connector_file_kind(const bs_connector *c);

#endif

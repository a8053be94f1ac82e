/* The inputs of the step loop: each entry of `inputs:` applied to its
 * local target neurons through its kind (src/model/inputs.c), into the
 * input current or into V, and the per-neuron state of stateful kinds
 * (an OU process), reset at each trial and stored in checkpoints by
 * neuron. An input's targets (a range or an index list) are, on each
 * rank, runs of consecutive local neurons: a kind is applied run by run,
 * so it only ever sees contiguous gids. */
#include <stdio.h>

#include "engine_impl.h"

#define MAX_STATES 4 /* state arrays of one input kind */

/* The input's elements: its range, or its index list. */
static uint64_t n_elems(const bs_input_spec *in) {
  return in->idx ? in->n_idx : in->stop - in->start;
}

/* This rank's part of input q: elements [e0, e0 + ne) of its list (or
 * range), as nrun runs (first population index, length). */
static bs_status local_build(bs_ctx *ctx, const bs_net *net, int q, lin *li) {
  const bs_input_spec *in = &net->spec->inputs[q];
  const lpop *lp = &net->pops[in->pop];
  if (!in->idx) {
    const uint64_t a = in->start > lp->lo ? in->start : lp->lo;
    const uint64_t b = in->stop < lp->hi ? in->stop : lp->hi;
    li->e0 = a < b ? a - in->start : 0;
    li->ne = a < b ? b - a : 0;
    li->nrun = li->ne ? 1 : 0;
    BS_CALL(ctx, bs_malloc(ctx, 2, sizeof(uint64_t), &li->run));
    li->run[0] = a;
    li->run[1] = li->ne;
    return BS_OK;
  }
  const uint64_t e0 = bs_engine_lower_bound(in->idx, in->n_idx, lp->lo);
  const uint64_t e1 = bs_engine_lower_bound(in->idx, in->n_idx, lp->hi);
  li->e0 = e0;
  li->ne = e1 - e0;
  li->nrun = 0;
  for (uint64_t e = e0; e < e1; e++)
    li->nrun += e == e0 || in->idx[e] != in->idx[e - 1] + 1;
  BS_CALL(ctx, bs_malloc(ctx, 2 * (li->nrun ? li->nrun : 1), sizeof(uint64_t),
                         &li->run));
  uint64_t r = 0;
  for (uint64_t e = e0; e < e1; e++) {
    if (e == e0 || in->idx[e] != in->idx[e - 1] + 1) {
      li->run[2 * r] = in->idx[e];
      li->run[2 * r + 1] = 0;
      r++;
    }
    li->run[2 * r - 1]++;
  }
  return BS_OK;
}

/* Calls the kind over every local run of input q: fn(ia, gid0, n, dst
 * offset into the population's block); ia.x points at the run's state. */
typedef void (*run_fn)(const bs_input_spec *in, const bs_input_args *ia,
                       uint64_t gid0, uint64_t n, uint64_t off, void *data);

static void each_run(const bs_net *net, int q, bs_input_args ia, run_fn fn,
                     void *data) {
  const bs_input_spec *in = &net->spec->inputs[q];
  const lin *li = &net->in_loc[q];
  const lpop *lp = &net->pops[in->pop];
  double *xr[MAX_STATES];
  uint64_t done = 0; /* elements before this run: its state offset */
  for (uint64_t r = 0; r < li->nrun; r++) {
    const uint64_t lo = li->run[2 * r], n = li->run[2 * r + 1];
    for (int v = 0; v < in->kind->nstate; v++)
      xr[v] = li->x[v] + done;
    ia.x = in->kind->nstate ? xr : NULL;
    fn(in, &ia, lp->spec->gid0 + lo, n, lo - lp->lo, data);
    done += n;
  }
}

static void run_init(const bs_input_spec *in, const bs_input_args *ia,
                     uint64_t gid0, uint64_t n, uint64_t off, void *data) {
  (void)off;
  (void)data;
  in->kind->init(ia, gid0, n);
}

typedef struct apply_data {
  int64_t step;
  double *dst;
} apply_data;

static void run_apply(const bs_input_spec *in, const bs_input_args *ia,
                      uint64_t gid0, uint64_t n, uint64_t off, void *data) {
  const apply_data *d = data;
  in->kind->apply(ia, d->step, gid0, n, d->dst + off);
}

bs_status bs_engine_inputs_build(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  const size_t ni = (size_t)(s->n_inputs ? s->n_inputs : 1);
  BS_CALL(ctx, bs_calloc(ctx, ni, sizeof *net->in_loc, &net->in_loc));
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    lin *li = &net->in_loc[q];
    BS_CALL(ctx, local_build(ctx, net, q, li));
    if (in->kind->nstate > MAX_STATES)
      return bs_error_set(ctx, BS_ERR_INTERNAL, "input kind %s: %d states",
                          in->kind->name, in->kind->nstate);
    if (in->kind->nstate)
      BS_CALL(ctx,
              bs_engine_alloc_state(ctx, in->kind->nstate, li->ne, &li->x));
    /* A constant current is summed once into the neurons' constant input
     * (trials do not change it). */
    if (in->kind->constant && !in->to_V) {
      apply_data d = {0, net->pops[in->pop].I_ext};
      each_run(net, q, bs_config_input_args(s, q), run_apply, &d);
    }
  }
  bs_engine_inputs_reset(net);
  return BS_OK;
}

void bs_engine_inputs_reset(bs_net *net) {
  const bs_spec *s = net->spec;
  for (int q = 0; q < s->n_inputs; q++)
    if (s->inputs[q].kind->nstate)
      each_run(net, q, bs_config_input_args(s, q), run_init, NULL);
}

void bs_engine_inputs_apply(bs_net *net, int64_t n, int to_V) {
  const bs_spec *s = net->spec;
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    lpop *lp = &net->pops[in->pop];
    /* Constant currents are in I_ext already; into V every kind is
     * applied every step. */
    if (in->to_V != to_V || (!to_V && in->kind->constant))
      continue;
    bs_input_args ia = bs_config_input_args(s, q);
    ia.step0 = n - n % s->trial_steps;
    apply_data d = {n % s->trial_steps, to_V ? lp->x[0] : lp->I};
    each_run(net, q, ia, run_apply, &d);
  }
}

/* /state/inputs/<q>/<state>: one row over the input's elements. An input
 * that starts at or after the checkpoint's step has not moved from its
 * initial state, and may be new or changed (a new protocol phase): a
 * restore leaves it as built. Collective: the choice depends on the spec
 * and the step only. */
bs_status bs_engine_inputs_walk(bs_ctx *ctx, bs_net *net, bs_io *io,
                                int64_t step, bs_block_fn fn, int reading) {
  const bs_spec *s = net->spec;
  char path[1024];
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    const bs_input_kind *kd = in->kind;
    if (!kd->nstate)
      continue;
    const bs_input_args ia = bs_config_input_args(s, q);
    if (reading && kd->start(&ia) >= step % s->trial_steps)
      continue;
    const lin *li = &net->in_loc[q];
    for (int v = 0; v < kd->nstate; v++) {
      snprintf(path, sizeof path, "/state/inputs/%d/%s", q, kd->states[v]);
      BS_CALL(ctx, fn(ctx, io, path, 1, n_elems(in), li->e0, li->ne, li->x[v]));
    }
  }
  return BS_OK;
}

void bs_engine_inputs_free(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  if (!net->in_loc)
    return;
  for (int q = 0; q < s->n_inputs; q++) {
    lin *li = &net->in_loc[q];
    const int nx = s->inputs[q].kind->nstate;
    for (int v = 0; li->x && v < nx; v++)
      bs_free(ctx, li->ne ? li->ne : 1, sizeof(double), &li->x[v]);
    if (li->x)
      bs_free(ctx, (size_t)nx, sizeof(double *), &li->x);
    if (li->run)
      bs_free(ctx, 2 * (li->nrun ? li->nrun : 1), sizeof(uint64_t), &li->run);
  }
  bs_free(ctx, (size_t)(s->n_inputs ? s->n_inputs : 1), sizeof *net->in_loc,
          &net->in_loc);
}

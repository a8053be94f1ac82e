/* The inputs of the step loop: each entry of `inputs:` applied to its
 * local target neurons through its kind (src/model/inputs.c), into the
 * input current or into V, and the per-neuron state of stateful kinds
 * (an OU process), reset at each trial and stored in checkpoints by
 * neuron. */
#include <stdio.h>

#include "engine_impl.h"

/* The local part [*a, *b) of input q's range, as population indices. */
static void local_part(const bs_net *net, int q, uint64_t *a, uint64_t *b) {
  const bs_input_spec *in = &net->spec->inputs[q];
  const lpop *lp = &net->pops[in->pop];
  *a = in->start > lp->lo ? in->start : lp->lo;
  *b = in->stop < lp->hi ? in->stop : lp->hi;
  if (*a > *b)
    *a = *b;
}

static bs_input_args args_of(const bs_net *net, int q) {
  bs_input_args ia = bs_config_input_args(net->spec, q);
  ia.x = net->in_x ? net->in_x[q] : NULL;
  return ia;
}

bs_status bs_engine_inputs_build(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  const size_t ni = (size_t)(s->n_inputs ? s->n_inputs : 1);
  BS_CALL(ctx, bs_calloc(ctx, ni, sizeof *net->in_x, &net->in_x));
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_kind *kd = s->inputs[q].kind;
    if (!kd->nstate)
      continue;
    uint64_t a, b;
    local_part(net, q, &a, &b);
    BS_CALL(ctx, bs_engine_alloc_state(ctx, kd->nstate, b - a, &net->in_x[q]));
  }
  bs_engine_inputs_reset(net);
  return BS_OK;
}

void bs_engine_inputs_reset(bs_net *net) {
  const bs_spec *s = net->spec;
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    if (!in->kind->nstate)
      continue;
    uint64_t a, b;
    local_part(net, q, &a, &b);
    const bs_input_args ia = args_of(net, q);
    in->kind->init(&ia, net->pops[in->pop].spec->gid0 + a, b - a);
  }
}

void bs_engine_inputs_apply(bs_net *net, int64_t n, int to_V) {
  const bs_spec *s = net->spec;
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    lpop *lp = &net->pops[in->pop];
    uint64_t a, b;
    local_part(net, q, &a, &b);
    /* Constant currents are in I_ext already (pop.c); into V every
     * kind is applied every step. */
    if (in->to_V != to_V || (!to_V && in->kind->constant) || a >= b)
      continue;
    bs_input_args ia = args_of(net, q);
    ia.step0 = n - n % s->trial_steps;
    double *dst = to_V ? lp->x[0] : lp->I;
    in->kind->apply(&ia, n % s->trial_steps, lp->spec->gid0 + a, b - a,
                    dst + (a - lp->lo));
  }
}

/* /state/inputs/<q>/<state>: one row over the input's range. An input
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
    const bs_input_args ia = args_of(net, q);
    if (reading && kd->start(&ia) >= step % s->trial_steps)
      continue;
    uint64_t a, b;
    local_part(net, q, &a, &b);
    for (int v = 0; v < kd->nstate; v++) {
      snprintf(path, sizeof path, "/state/inputs/%d/%s", q, kd->states[v]);
      BS_CALL(ctx, fn(ctx, io, path, 1, in->stop - in->start, a - in->start,
                      b - a, net->in_x[q][v]));
    }
  }
  return BS_OK;
}

void bs_engine_inputs_free(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  if (!net->in_x)
    return;
  for (int q = 0; q < s->n_inputs; q++) {
    const int nx = s->inputs[q].kind->nstate;
    if (!net->in_x[q])
      continue;
    uint64_t a, b;
    local_part(net, q, &a, &b);
    for (int v = 0; v < nx; v++)
      bs_free(ctx, b - a ? b - a : 1, sizeof(double), &net->in_x[q][v]);
    bs_free(ctx, (size_t)nx, sizeof(double *), &net->in_x[q]);
  }
  bs_free(ctx, (size_t)(s->n_inputs ? s->n_inputs : 1), sizeof *net->in_x,
          &net->in_x);
}

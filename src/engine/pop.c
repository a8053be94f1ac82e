/* Populations: each split into contiguous blocks over the ranks, with one
 * array per state variable over the local block (DESIGN.md, "Data flow of
 * one run"). */
#include <stdlib.h>

#include "brainsim/rng.h"
#include "engine_impl.h"

uint64_t bs_engine_block_lo(uint64_t n, int r, int P) {
  return n * (uint64_t)r / (uint64_t)P;
}

/* The rank that owns gid (blocks as bs_engine_block_lo cuts them). */
int bs_engine_owner_of(const bs_net *net, uint64_t gid) {
  const bs_pop_spec *ps =
      &net->spec->pops[bs_engine_pop_of_gid(net->spec, gid)];
  const uint64_t i = gid - ps->gid0;
  int lo = 0, hi = net->P - 1; /* last r with block_lo(r) <= i */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (bs_engine_block_lo(ps->size, mid, net->P) <= i)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

bs_status bs_engine_alloc_state(bs_ctx *ctx, int nx, size_t n, double ***x) {
  BS_CALL(ctx, bs_calloc(ctx, (size_t)(nx ? nx : 1), sizeof(double *), x));
  for (int v = 0; v < nx; v++)
    BS_CALL(ctx, bs_calloc(ctx, n ? n : 1, sizeof(double), &(*x)[v]));
  return BS_OK;
}

/* Initial state (also BrainPy's reset() between trials): one stream per
 * (gid, variable, trial), independent of ranks; trial 0 is a plain run. */
void bs_pop_init_state(const bs_spec *s, lpop *lp, uint32_t trial) {
  const bs_pop_spec *ps = lp->spec;
  const bs_neuron_model *m = ps->model;
  for (int v = 0; v < m->nx; v++) {
    const bs_dist *d = &ps->init[v];
    for (uint64_t i = 0; i < lp->n; i++) {
      uint64_t gid = ps->gid0 + lp->lo + i;
      if (d->kind == BS_DIST_CONST) {
        lp->x[v][i] = d->a;
      } else {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_INIT, (uint32_t)gid, (uint32_t)v,
                    trial);
        lp->x[v][i] = bs_dist_sample(d, &r);
      }
    }
  }
  if (m->init) /* state derived from the initial V (gates at steady state) */
    m->init(&(bs_neuron_args){.n = lp->n,
                              .dt = s->dt,
                              .p = ps->p,
                              .k = lp->k,
                              .x = lp->x,
                              .model = m});
}

bs_status bs_pop_build(bs_ctx *ctx, const bs_spec *s, int p, lpop *lp) {
  const bs_pop_spec *ps = &s->pops[p];
  const bs_neuron_model *m = ps->model;
  lp->spec = ps;
  lp->lo = bs_engine_block_lo(ps->size, ctx->rank, ctx->size);
  lp->hi = bs_engine_block_lo(ps->size, ctx->rank + 1, ctx->size);
  lp->n = lp->hi - lp->lo;
  BS_CALL(ctx, bs_engine_alloc_state(ctx, m->nx, lp->n, &lp->x));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->I));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->I_ext));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->G));
  BS_CALL(ctx, bs_malloc(ctx, lp->n ? lp->n : 1, sizeof(uint32_t), &lp->spk));
  if (m->prepare)
    m->prepare(ps->p, s->dt, lp->k);
  bs_pop_init_state(s, lp, 0);
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    uint64_t a = in->start > lp->lo ? in->start : lp->lo;
    uint64_t b = in->stop < lp->hi ? in->stop : lp->hi;
    if (in->pop != p || !in->kind->constant || a >= b)
      continue; /* time-varying kinds are applied every step (loop.c) */
    const bs_input_args ia = bs_config_input_args(s, q);
    in->kind->apply(&ia, 0, ps->gid0 + a, b - a, lp->I_ext + (a - lp->lo));
  }
  return BS_OK;
}

void bs_pop_free(bs_ctx *ctx, lpop *lp) {
  size_t n = lp->n ? lp->n : 1;
  for (int v = 0; lp->x && v < lp->spec->model->nx; v++)
    bs_free(ctx, n, sizeof(double), &lp->x[v]);
  bs_free(ctx,
          (size_t)(lp->spec && lp->spec->model->nx ? lp->spec->model->nx : 1),
          sizeof(double *), &lp->x);
  bs_free(ctx, n, sizeof(double), &lp->I);
  bs_free(ctx, n, sizeof(double), &lp->I_ext);
  bs_free(ctx, n, sizeof(double), &lp->G);
  bs_free(ctx, n, sizeof(uint32_t), &lp->spk);
  bs_free(ctx, (size_t)lp->nout, sizeof(int), &lp->out);
  bs_free(ctx, lp->rec_cap, sizeof(double), &lp->rec_t);
  bs_free(ctx, lp->rec_cap, sizeof(uint64_t), &lp->rec_id);
}

bs_status bs_engine_nonfinite(bs_ctx *ctx, const bs_net *net, const char *what,
                              const char *name, const char *var, uint64_t idx,
                              double v, int64_t t0, int64_t t1,
                              const char *method) {
  const double dt = net->spec->dt;
  return bs_error_set(
      ctx, BS_ERR_NUMERIC,
      "%s '%s', neuron %llu: %s became %g between t = %.4g and %.4g ms. "
      "The integration diverged: reduce dt (now %g ms)%s%s%s, or check the "
      "parameters and inputs.",
      what, name, (unsigned long long)idx, var, v, (double)t0 * dt,
      (double)t1 * dt, dt, method ? " or use another method (now " : "",
      method ? method : "", method ? ")" : "");
}

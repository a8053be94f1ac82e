/* The NaN / infinity scan: one pass over every state array per interval,
 * so a diverging integration stops the run at the next exchange with the
 * population, neuron, variable and time named. */
#include <math.h>

#include "engine_impl.h"

/* Scan every state array for NaN or infinity: one pass per interval, but
 * for the populations and projections of fused updates, whose kernels
 * test what they store (fuse.c). */
bs_status bs_engine_check_finite(bs_ctx *ctx, const bs_net *net, int64_t t0,
                                 int64_t t1, int all) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++) {
    const lpop *lp = &net->pops[p];
    const bs_neuron_model *m = lp->spec->model;
    for (int v = 0; v < m->nx && (all || !lp->fused); v++) {
      const double *x = lp->x[v];
      if (bs_engine_all_finite(x, lp->n))
        continue;
      for (uint64_t i = 0; i < lp->n; i++)
        if (!isfinite(x[i]))
          return bs_engine_nonfinite(ctx, net, "population", lp->spec->name,
                                     m->vars[v].name, lp->lo + i, x[i], t0, t1,
                                     bs_method_name(lp->spec->method));
    }
  }
  for (int j = 0; j < s->n_projs; j++) {
    const lproj *lj = &net->projs[j];
    /* The kind's state (per post, per pre for trace synapses). */
    if (lj->ops->scan && (all || !lj->fused))
      BS_CALL(ctx, lj->ops->scan(ctx, net, lj, t0, t1));
  }
  return BS_OK;
}

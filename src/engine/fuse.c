/* Fused population updates (model/ bs_fused_update; DESIGN.md,
 * "Performance model"): which populations qualify, chosen once at setup,
 * and their step. A population qualifies when its model has a block kernel
 * for its method (uniform parameters, no noise), every projection onto it
 * has a kind that can be fused (ops->fuse), none adds to its input from
 * the pre side (gap junctions), no input adds to its V, and no monitor
 * reads its summed input or an incoming projection's current (the fused
 * kernel keeps them in the block). Everything else takes the unfused
 * path, with the same results. */
#include <math.h>

#include "engine_impl.h"

static int qualifies(const bs_net *net, int p) {
  const bs_spec *s = net->spec;
  const lpop *lp = &net->pops[p];
  const bs_pop_spec *ps = lp->spec;
  if (!ps->model->fused || !ps->model->fused(ps->method) || lp->pn || lp->nz)
    return 0;
  for (int j = 0; j < s->n_projs; j++) {
    const lproj *lj = &net->projs[j];
    bs_fused_syn fs;
    if (s->projs[j].post == p && !(lj->ops->fuse && lj->ops->fuse(lj, &fs)))
      return 0;
    if (s->projs[j].pre == p && lj->ops->pre_input)
      return 0;
  }
  /* Inputs into V come after the outputs have read V (loop.c). */
  for (int q = 0; q < s->n_inputs; q++)
    if (s->inputs[q].pop == p && s->inputs[q].to_V)
      return 0;
  for (int q = 0; q < net->nmons; q++) {
    const bs_monitor_spec *ms = net->mons[q].spec;
    if ((ms->input && ms->pop == p) ||
        (ms->isyn && s->projs[ms->proj].post == p))
      return 0;
  }
  return 1;
}

/* Whether lp's update takes the whole kernel, and that one reads counts. */
static int takes_counts(const lpop *lp) {
  bs_fused_term t[BS_FUSED_TERMS];
  return lp->fused->whole_counts &&
         bs_fused_whole_terms(lp->fused, lp->nfsyn, lp->fsyn, t);
}

bs_status bs_engine_fuse_setup(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++) {
    lpop *lp = &net->pops[p];
    if (!qualifies(net, p))
      continue;
    lp->fused = lp->spec->model->fused(lp->spec->method);
    int nin = 0;
    for (int j = 0; j < s->n_projs; j++)
      nin += s->projs[j].post == p;
    const size_t m = nin ? (size_t)nin : 1;
    BS_CALL(ctx, bs_calloc(ctx, m, sizeof *lp->fsyn, &lp->fsyn));
    BS_CALL(ctx, bs_calloc(ctx, m, sizeof *lp->fproj, &lp->fproj));
    for (int j = 0; j < s->n_projs; j++) {
      lproj *lj = &net->projs[j];
      if (s->projs[j].post != p)
        continue;
      lj->ops->fuse(lj, &lp->fsyn[lp->nfsyn]);
      lp->fproj[lp->nfsyn++] = lj;
      lj->fused = 1;
    }
    /* A kernel that reads counts: count rings at every size (1 or 2 bytes
     * a cell instead of 8, fewer misses in delivery), of one byte where
     * the kernel reads those. */
    const int tc = takes_counts(lp);
    for (int q = 0; tc && q < lp->nfsyn; q++) {
      lproj *lj = lp->fproj[q];
      if (lj->ops->counts) {
        BS_CALL(ctx, lj->ops->counts(ctx, lj, lp->fused->counts8 ? 1 : 2));
        lj->ops->fuse(lj, &lp->fsyn[q]);
      }
    }
    for (int q = 0; q < s->n_inputs; q++) {
      const bs_input_spec *in = &s->inputs[q];
      if (in->pop == p && !in->kind->constant && in->start < lp->hi &&
          in->stop > lp->lo)
        lp->tv_inputs = 1;
    }
  }
  /* A uniform constant input is one value, not a stream from memory (at
   * 256k neurons per rank the copy was 6 % of the run). */
  for (int p = 0; p < s->n_pops; p++) {
    lpop *lp = &net->pops[p];
    lp->I_uni = 0;
    if (!lp->fused || lp->tv_inputs || !lp->n)
      continue;
    size_t i = 1;
    while (i < lp->n && lp->I_ext[i] == lp->I_ext[0] &&
           signbit(lp->I_ext[i]) == signbit(lp->I_ext[0]))
      i++;
    lp->I_uni = i == lp->n;
    lp->I_univ = lp->I_ext[0];
  }
  /* g of a fused projection is as used in this step only after the
   * update (the neurons do not change it). */
  for (int q = 0; q < net->nmons; q++) {
    lmon *mo = &net->mons[q];
    const bs_monitor_spec *ms = mo->spec;
    if (ms->pop < 0 && !ms->per_pre && !ms->per_syn && !ms->isyn && !ms->rate &&
        ms->proj >= 0 && net->projs[ms->proj].fused)
      mo->late = 1;
  }
  return BS_OK;
}

bs_status bs_engine_fused_update(bs_ctx *ctx, bs_net *net, lpop *lp,
                                 bs_neuron_args *na, int64_t n) {
  for (int q = 0; q < lp->nfsyn; q++) {
    const lproj *lj = lp->fproj[q];
    const size_t at = (size_t)((uint64_t)n % lj->R) * lp->n;
    if (lj->cring8)
      lp->fsyn[q].count8 = lj->cring8 + at;
    else if (lj->cring)
      lp->fsyn[q].count = lj->cring + at;
    else
      lp->fsyn[q].in = lj->ring + at;
  }
  const bs_fused_args fa = {.na = na,
                            .I0 = lp->tv_inputs ? lp->I
                                  : lp->I_uni   ? NULL
                                                : lp->I_ext,
                            .I0v = lp->I_univ,
                            .neuron = lp->fused,
                            .nsyn = lp->nfsyn,
                            .syn = lp->fsyn};
  if (!bs_fused_update(&fa))
    return BS_OK;
  /* The kernel tested what it stored: the scan finds it and names it. A
   * kernel may test a sum of what it stored, which can overflow where
   * every value is finite: then the scan finds nothing and the run goes
   * on. */
  return bs_engine_check_finite(ctx, net, n, n + 1, 1);
}

void bs_engine_fuse_free(bs_ctx *ctx, lpop *lp) {
  const size_t m = lp->nfsyn ? (size_t)lp->nfsyn : 1;
  if (!lp->fsyn)
    return;
  bs_free(ctx, m, sizeof *lp->fsyn, &lp->fsyn);
  bs_free(ctx, m, sizeof *lp->fproj, &lp->fproj);
}

/* Monitors of chosen synapses (`synapses: [[pre, post], ...]`).
 *
 * A synapse is stored on the rank of its post neuron, so each rank records
 * the listed pairs whose post is local: its columns of the report, in the
 * config's order, are not contiguous (bs_io_report_write_cols). Weight,
 * delay are constant, so they are looked up once here;
 * trace.c samples at the exchange, where the pre neuron's trace history
 * and stp state are complete (README, "monitors"). A pair with several
 * synapses (multapses) records the first in the projection's canonical
 * (generation) order. */
#include <string.h>

#include "engine_impl.h"

/* The first synapse pre -> local post jl: its weight and delay; 0 when
 * the projection has none. */
static int find_syn(const lproj *lj, uint64_t pre, uint64_t jl, double *w,
                    uint32_t *d, uint64_t *pos) {
  const uint64_t k = lproj_pos(lj, pre);
  if (k == LPROJ_NONE)
    return 0;
  lrow r;
  lproj_row(lj, k, &r);
  for (uint64_t q = 0; q < r.n; q++)
    if (lrow_col(&r, q) == jl) {
      *w = lrow_w(&r, q);
      *d = lrow_d(&r, q);
      *pos = r.at + q;
      return 1;
    }
  return 0;
}

bs_status bs_synmon_build(bs_ctx *ctx, const bs_net *net, lmon *m) {
  const bs_monitor_spec *ms = m->spec;
  const lproj *lj = &net->projs[ms->proj];
  const lpop *post = lj->post;
  uint64_t n = 0;
  for (uint64_t c = 0; c < ms->n_idx; c++)
    n += ms->syn[2 * c + 1] >= post->lo && ms->syn[2 * c + 1] < post->hi;
  const size_t nn = n ? n : 1;
  m->c0 = 0;
  m->c1 = n; /* before the allocations: bs_synmon_free sizes by it */
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(uint64_t), &m->cols));
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(uint64_t), &m->spre));
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(uint64_t), &m->ssyn));
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(double), &m->sw));
  BS_CALL(ctx, bs_malloc(ctx, nn, sizeof(uint32_t), &m->sd));
  uint64_t k = 0;
  for (uint64_t c = 0; c < ms->n_idx; c++) {
    const uint64_t i = ms->syn[2 * c], j = ms->syn[2 * c + 1];
    if (j < post->lo || j >= post->hi)
      continue;
    if (!find_syn(lj, i, j - post->lo, &m->sw[k], &m->sd[k], &m->ssyn[k]))
      return bs_error_set(ctx, BS_ERR_CONFIG,
                          "monitor '%s' of projection '%s': synapses[%llu] = "
                          "[%llu, %llu]: the projection has no synapse from "
                          "%s %llu to %s %llu",
                          ms->name, lj->spec->name, (unsigned long long)c,
                          (unsigned long long)i, (unsigned long long)j,
                          lj->pre->spec->name, (unsigned long long)i,
                          post->spec->name, (unsigned long long)j);
    m->cols[k] = c;
    m->spre[k] = lproj_pos(lj, i); /* in the table: it has a local synapse */
    k++;
  }
  return BS_OK;
}

void bs_synmon_free(bs_ctx *ctx, lmon *m) {
  const size_t nn = m->c1 - m->c0 ? m->c1 - m->c0 : 1;
  bs_free(ctx, nn, sizeof(uint64_t), &m->cols);
  bs_free(ctx, nn, sizeof(uint64_t), &m->spre);
  bs_free(ctx, nn, sizeof(uint64_t), &m->ssyn);
  bs_free(ctx, nn, sizeof(double), &m->sw);
  bs_free(ctx, nn, sizeof(uint32_t), &m->sd);
}

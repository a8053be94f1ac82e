/* Building the local network: populations, projections by kind (their
 * connectivity is the rank's share of the synapses, those whose post is
 * local), the global delays that set the exchange interval and the ring
 * depths, monitors; and tearing it down. */
#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"
#include "engine_impl.h"

#define MAX_INTERVAL 100 /* steps per exchange without projections */

typedef struct gid_list {
  uint64_t *v;
  size_t n, cap;
} gid_list;

static bs_status gid_add(bs_ctx *ctx, gid_list *l, uint64_t gid) {
  if (l->n == l->cap) {
    size_t nc = l->cap ? 2 * l->cap : 1024;
    BS_CALL(ctx, bs_realloc(ctx, l->cap, nc, sizeof(uint64_t), &l->v));
    l->cap = nc;
  }
  l->v[l->n++] = gid;
  return BS_OK;
}

/* The rank that owns neuron gid (the block partition of its population). */
static int owner_of(const bs_net *net, uint64_t gid) {
  const bs_pop_spec *ps =
      &net->spec->pops[bs_engine_pop_of_gid(net->spec, gid)];
  const uint64_t i = gid - ps->gid0;
  int lo = 0, hi = net->P - 1; /* the last r with block_lo(r) <= i */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (bs_engine_block_lo(ps->size, mid, net->P) <= i)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* The exchange plan: this rank asks for the spikes of every source with a
 * local target, and of its own neurons where state driven by their own
 * spikes lives here (short-term plasticity and traces are checkpointed by
 * the owner; per-pre monitors sample the owner's block). Collective. */
static bs_status build_exchange(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  gid_list need = {0};
  uint64_t *grouped = NULL, *cnt = NULL, *at = NULL;
  int *own = NULL;
  bs_gid_range *ranges = NULL;
  int nr = 0;
  bs_status st = bs_exchange_create(ctx, &net->ex);
  for (int j = 0; j < s->n_projs && st == BS_OK; j++) {
    const lproj *lj = &net->projs[j];
    if (!lj->ops->deliver || !lj->nnz)
      continue;
    const uint64_t g0 = lj->pre->spec->gid0;
    if (!lj->dense)
      for (uint64_t k = 0; k < lj->nsrc && st == BS_OK; k++)
        st = gid_add(ctx, &need, g0 + lj->src[k]);
    else
      for (uint64_t i = 0; i < lj->pre->spec->size && st == BS_OK; i++) {
        lrow r;
        lproj_row(lj, i, &r);
        if (r.n)
          st = gid_add(ctx, &need, g0 + i);
      }
  }
  for (int p = 0; p < s->n_pops && st == BS_OK; p++) {
    const lpop *lp = &net->pops[p];
    int mine = net->per_pre;
    for (int o = 0; o < lp->nout; o++)
      mine |= net->projs[lp->out[o]].stp_u || net->projs[lp->out[o]].tr;
    for (uint64_t i = lp->lo; mine && i < lp->hi && st == BS_OK; i++)
      st = gid_add(ctx, &need, lp->spec->gid0 + i);
  }
  if (st == BS_OK && need.n) {
    qsort(need.v, need.n, sizeof(uint64_t), bs_engine_cmp_u64);
    size_t u = 1;
    for (size_t q = 1; q < need.n; q++)
      if (need.v[q] != need.v[u - 1])
        need.v[u++] = need.v[q];
    need.n = u;
  }
  /* Grouped by owner rank, ascending within each group (stable). */
  const size_t P = (size_t)net->P, nn = need.n ? need.n : 1;
  if (st == BS_OK)
    st = bs_calloc(ctx, P, sizeof(uint64_t), &cnt);
  if (st == BS_OK)
    st = bs_calloc(ctx, P, sizeof(uint64_t), &at);
  if (st == BS_OK)
    st = bs_malloc(ctx, nn, sizeof(uint64_t), &grouped);
  if (st == BS_OK)
    st = bs_malloc(ctx, nn, sizeof(int), &own);
  if (st == BS_OK)
    st = bs_malloc(ctx, (size_t)s->n_pops, sizeof *ranges, &ranges);
  for (size_t q = 0; st == BS_OK && q < need.n; q++) {
    own[q] = owner_of(net, need.v[q]);
    cnt[own[q]]++;
  }
  for (size_t r = 1; st == BS_OK && r < P; r++)
    at[r] = at[r - 1] + cnt[r - 1];
  for (size_t q = 0; st == BS_OK && q < need.n; q++)
    grouped[at[own[q]]++] = need.v[q];
  for (int p = 0; st == BS_OK && p < s->n_pops; p++)
    if (net->pops[p].n)
      ranges[nr++] = (bs_gid_range){s->pops[p].gid0 + net->pops[p].lo,
                                    s->pops[p].gid0 + net->pops[p].hi};
  /* Every rank must reach the collective plan, or none. */
  st = bs_comm_agree(ctx, st, NULL);
  if (st == BS_OK)
    st = bs_exchange_plan(ctx, net->ex, ranges, nr, grouped, cnt);
  bs_free(ctx, need.cap, sizeof(uint64_t), &need.v);
  bs_free(ctx, nn, sizeof(uint64_t), &grouped);
  bs_free(ctx, nn, sizeof(int), &own);
  bs_free(ctx, P, sizeof(uint64_t), &cnt);
  bs_free(ctx, P, sizeof(uint64_t), &at);
  bs_free(ctx, (size_t)s->n_pops, sizeof *ranges, &ranges);
  return st;
}

bs_status bs_net_build(bs_ctx *ctx, const bs_spec *s, bs_net **out) {
  *out = NULL;
  bs_net *net;
  bs_phase_begin(ctx, BS_PHASE_BUILD);
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *net, &net));
  *out = net; /* so the caller can destroy a half-built network */
  net->spec = s;
  net->P = ctx->size;
  net->rank = ctx->rank;
  /* Synapses from files first: reading them is collective. */
  BS_CALL(ctx, bs_engine_files_load(ctx, net));
  BS_CALL(ctx,
          bs_calloc(ctx, (size_t)s->n_pops, sizeof *net->pops, &net->pops));
  BS_CALL(ctx, bs_calloc(ctx, (size_t)(s->n_projs ? s->n_projs : 1),
                         sizeof *net->projs, &net->projs));
  for (int p = 0; p < s->n_pops; p++)
    BS_CALL(ctx, bs_pop_build(ctx, s, p, &net->pops[p]));
  bs_phase_end(ctx, BS_PHASE_BUILD);
  /* A rank that fails here (a bad value in its rows, memory) must not
   * leave the others in the reduction below. */
  bs_status bst = BS_OK;
  for (int j = 0; j < s->n_projs && bst == BS_OK; j++)
    bst = bs_proj_build(ctx, net, j, &net->projs[j]);
  BS_CALL(ctx, bs_comm_agree(ctx, bst, NULL));
  bs_phase_begin(ctx, BS_PHASE_BUILD);
  /* Spikes of a population go to the projections that deliver them. */
  for (int j = 0; j < s->n_projs; j++) {
    lpop *pre = &net->pops[s->projs[j].pre];
    if (!net->projs[j].ops->deliver)
      continue;
    BS_CALL(ctx, bs_realloc(ctx, (size_t)pre->nout, (size_t)pre->nout + 1,
                            sizeof(int), &pre->out));
    pre->out[pre->nout++] = j;
  }

  /* The exchange interval and the ring-buffer depths need the global
   * smallest and largest delays (drawn delays differ per synapse). */
  double dd[2 * 64 + 2];
  int nj = s->n_projs;
  double *dmm = nj <= 64 ? dd : NULL;
  if (!dmm)
    BS_CALL(ctx, bs_malloc(ctx, 2 * (size_t)nj, sizeof(double), &dmm));
  for (int j = 0; j < nj; j++) {
    lproj *lj = &net->projs[j];
    /* max of (-dmin) is -(global min) */
    dmm[2 * j] = lj->dmin == UINT32_MAX ? -1e9 : -(double)lj->dmin;
    dmm[2 * j + 1] = (double)lj->dmax;
  }
  bs_status st = nj ? bs_comm_max_double(ctx, dmm, 2 * nj) : BS_OK;
  uint64_t dmin_all = MAX_INTERVAL;
  for (int j = 0; j < nj && st == BS_OK; j++) {
    lproj *lj = &net->projs[j];
    uint64_t gmin = dmm[2 * j] <= -1e9 ? UINT32_MAX : (uint64_t)(-dmm[2 * j]);
    lj->dmin = (uint32_t)gmin;
    lj->dmax = (uint32_t)dmm[2 * j + 1];
    if (gmin < dmin_all)
      dmin_all = gmin;
    lj->R = lj->dmax + 1;
    st = bs_calloc(ctx, (size_t)lj->R * (lj->post->n ? lj->post->n : 1),
                   sizeof(double), &lj->ring);
  }
  if (dmm != dd)
    free(dmm);
  BS_CALL(ctx, st);
  net->D =
      (uint32_t)(dmin_all + 1 < MAX_INTERVAL ? dmin_all + 1 : MAX_INTERVAL);
  /* The kinds' state that needs the global delays (trace histories), then
   * their network-wide parts (gap junctions: collective; they may shorten
   * the interval). */
  bs_status sst = BS_OK;
  for (int j = 0; j < nj && sst == BS_OK; j++)
    if (net->projs[j].ops->setup)
      sst = net->projs[j].ops->setup(ctx, net, &net->projs[j]);
  BS_CALL(ctx, bs_comm_agree(ctx, sst, NULL));
  for (int k = 0; bs_proj_kinds[k]; k++)
    if (bs_proj_kinds[k]->setup_all)
      BS_CALL(ctx, bs_proj_kinds[k]->setup_all(ctx, net));
  /* Per-pre and per-synapse monitors are sampled on the per-pre clock. */
  for (int q = 0; q < s->n_monitors; q++)
    if (s->monitors[q].kind == BS_MON_STATE &&
        (s->monitors[q].per_pre || s->monitors[q].per_syn))
      net->per_pre = 1;

  /* Monitors and spike recording. A listed synapse that does not exist
   * fails only on its post's rank: all ranks agree before going on. */
  bs_status mst = BS_OK;
  for (int q = 0; q < s->n_monitors && mst == BS_OK; q++) {
    const bs_monitor_spec *ms = &s->monitors[q];
    if (ms->kind == BS_MON_SPIKES) {
      for (int p = 0; p < s->n_pops; p++)
        if (ms->pops[p]) {
          net->pops[p].record = 1;
          /* The config allows a window or indices only on a monitor that
           * is the population's only spike monitor. */
          if (ms->start > 0 || ms->stop >= 0 || ms->idx)
            net->pops[p].rec_mon = ms;
        }
      continue;
    }
    mst = bs_realloc(ctx, (size_t)net->nmons, (size_t)net->nmons + 1,
                     sizeof *net->mons, &net->mons);
    if (mst != BS_OK)
      break;
    memset(&net->mons[net->nmons], 0, sizeof *net->mons);
    net->nmons++;
    mst = bs_engine_monitor_build(ctx, net, ms, &net->mons[net->nmons - 1]);
  }
  BS_CALL(ctx, bs_comm_agree(ctx, mst, NULL));
  net->local_cap = 4096;
  BS_CALL(ctx,
          bs_malloc(ctx, net->local_cap, sizeof(uint64_t), &net->local_spk));
  BS_CALL(ctx, build_exchange(ctx, net));
  bs_phase_end(ctx, BS_PHASE_BUILD);
  return BS_OK;
}

void bs_net_destroy(bs_ctx *ctx, bs_net **netp) {
  if (!netp || !*netp)
    return;
  bs_net *net = *netp;
  const bs_spec *s = net->spec;
  for (int p = 0; net->pops && p < s->n_pops; p++)
    bs_pop_free(ctx, &net->pops[p]);
  for (int j = 0; net->projs && j < s->n_projs; j++)
    bs_proj_destroy(ctx, net, &net->projs[j]);
  for (int q = 0; q < net->nmons; q++)
    bs_engine_monitor_free(ctx, &net->mons[q]);
  bs_free(ctx, (size_t)net->nmons, sizeof *net->mons, &net->mons);
  bs_free(ctx, (size_t)s->n_pops, sizeof *net->pops, &net->pops);
  bs_free(ctx, (size_t)(s->n_projs ? s->n_projs : 1), sizeof *net->projs,
          &net->projs);
  bs_free(ctx, net->local_cap, sizeof(uint64_t), &net->local_spk);
  bs_free(ctx, (size_t)s->n_pops, sizeof(uint64_t), &net->restored_spk_len);
  bs_free(ctx, (size_t)(net->nmons ? net->nmons : 1), sizeof(uint64_t),
          &net->restored_row0);
  bs_exchange_destroy(ctx, &net->ex);
  for (int k = 0; bs_proj_kinds[k]; k++)
    if (bs_proj_kinds[k]->destroy_all)
      bs_proj_kinds[k]->destroy_all(ctx, net);
  bs_engine_files_free(ctx, net);
  bs_free(ctx, 1, sizeof *net, netp);
}

int bs_net_exchange_interval(const bs_net *net) { return (int)net->D; }

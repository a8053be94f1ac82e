/* Building the local network: populations, projections by kind (their
 * connectivity is the rank's share of the synapses, those whose post is
 * local), the global delays that set the exchange interval and the ring
 * depths, monitors; and tearing it down. */
#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"
#include "engine_impl.h"

#define MAX_INTERVAL 100 /* steps per exchange without projections */

/* Whether population p's own block is needed here: state driven by its own
 * spikes lives here (short-term plasticity and traces are checkpointed by
 * the owner; per-pre monitors sample the owner's block). */
static int own_needed(const bs_net *net, const lpop *lp) {
  int own = net->per_pre;
  for (int o = 0; o < lp->nout; o++)
    own |= net->projs[lp->out[o]].stp_u || net->projs[lp->out[o]].tr;
  return own;
}

/* The exchange plan: this rank asks for the spikes of every pre neuron of
 * a projection's table with a local synapse, and of its own neurons where
 * own_needed. The list is allocated at its exact size and grouped by
 * owner without a second copy of it while the plan is made (the build's
 * peak memory). Collective. */
static bs_status build_exchange(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  uint64_t *need = NULL, *grouped = NULL, *cnt = NULL;
  size_t n = 0, cap = 0;
  bs_gid_range *ranges = NULL;
  int nr = 0;
  bs_status st = bs_exchange_create(ctx, &net->ex);
  for (int pass = 0; pass < 2 && st == BS_OK; pass++) {
    if (pass == 1) {
      cap = n;
      n = 0;
      st = bs_malloc(ctx, cap ? cap : 1, sizeof(uint64_t), &need);
    }
    for (int j = 0; j < s->n_projs && st == BS_OK; j++) {
      const lproj *lj = &net->projs[j];
      if (!lj->ops->deliver || !lj->nnz)
        continue;
      const uint64_t g0 = lj->pre->spec->gid0;
      for (uint64_t k = 0; k < lj->npos; k++) {
        lrow r;
        lproj_row(lj, k, &r);
        if (r.n && pass)
          need[n] = g0 + lproj_id(lj, k);
        n += r.n > 0;
      }
    }
    for (int p = 0; p < s->n_pops && st == BS_OK; p++) {
      const lpop *lp = &net->pops[p];
      for (uint64_t i = lp->lo; own_needed(net, lp) && i < lp->hi; i++) {
        if (pass)
          need[n] = lp->spec->gid0 + i;
        n++;
      }
    }
  }
  if (st == BS_OK && n) {
    qsort(need, n, sizeof(uint64_t), bs_engine_cmp_u64);
    size_t u = 1;
    for (size_t q = 1; q < n; q++)
      if (need[q] != need[u - 1])
        need[u++] = need[q];
    n = u;
  }
  /* Grouped by owner rank, ascending within each group: owners ascend
   * with the index within a population, so the gids of (population,
   * owner) are one run of the sorted list. */
  const size_t P = (size_t)net->P;
  if (st == BS_OK)
    st = bs_calloc(ctx, P, sizeof(uint64_t), &cnt);
  if (st == BS_OK)
    st = bs_malloc(ctx, n ? n : 1, sizeof(uint64_t), &grouped);
  if (st == BS_OK)
    st = bs_malloc(ctx, (size_t)s->n_pops, sizeof *ranges, &ranges);
  for (size_t r = 0, at = 0; st == BS_OK && r < P; r++)
    for (int p = 0; p < s->n_pops; p++) {
      const bs_pop_spec *ps = &s->pops[p];
      const uint64_t a = bs_engine_lower_bound(
          need, n, ps->gid0 + bs_engine_block_lo(ps->size, (int)r, net->P));
      const uint64_t b = bs_engine_lower_bound(
          need, n, ps->gid0 + bs_engine_block_lo(ps->size, (int)r + 1, net->P));
      memcpy(grouped + at, need + a, (size_t)(b - a) * sizeof(uint64_t));
      at += (size_t)(b - a);
      cnt[r] += b - a;
    }
  bs_free(ctx, cap ? cap : 1, sizeof(uint64_t), &need);
  for (int p = 0; st == BS_OK && p < s->n_pops; p++)
    if (net->pops[p].n)
      ranges[nr++] = (bs_gid_range){s->pops[p].gid0 + net->pops[p].lo,
                                    s->pops[p].gid0 + net->pops[p].hi};
  /* Every rank must reach the collective plan, or none. */
  st = bs_comm_agree(ctx, st, NULL);
  if (st == BS_OK)
    st = bs_exchange_plan(ctx, net->ex, ranges, nr, grouped, cnt);
  bs_free(ctx, n ? n : 1, sizeof(uint64_t), &grouped);
  bs_free(ctx, P, sizeof(uint64_t), &cnt);
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
  /* A rank that fails to read its share of a dataset or spike file
   * stops every rank here. */
  bs_status pst = BS_OK;
  for (int p = 0; p < s->n_pops && pst == BS_OK; p++)
    pst = bs_pop_build(ctx, s, p, &net->pops[p]);
  if (pst == BS_OK)
    pst = bs_engine_inputs_build(ctx, net);
  BS_CALL(ctx, bs_comm_agree(ctx, pst, NULL));
  for (int p = 0; p < s->n_pops; p++)
    if (s->pops[p].model->events) {
      uint64_t merged = net->pops[p].ev_merged;
      BS_CALL(ctx, bs_comm_sum_u64(ctx, &merged, 1));
      if (merged)
        bs_log0(ctx,
                "warning: population %s: %llu listed spike(s) fell into a "
                "step in which the same neuron already spikes (one spike "
                "per neuron and step, as BrainPy)\n",
                s->pops[p].name, (unsigned long long)merged);
    }
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
    lj->R = lj->dmax + 1; /* allocated by the kinds with a ring */
  }
  if (dmm != dd)
    free(dmm);
  BS_CALL(ctx, st);
  net->D =
      (uint32_t)(dmin_all + 1 < MAX_INTERVAL ? dmin_all + 1 : MAX_INTERVAL);
  /* The kinds' state that needs the global delays (rings, trace
   * histories), then
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
  /* The overlapped exchange (README "Overlapping the exchange"):
   * intervals of half the smallest arrival lag D, so that one interval's
   * spikes travel while the next is computed and still arrive before any
   * step reads them. Only when asked (auto is off): on one node it lost
   * 3-18 % of the loop at 2 ranks over TCP and shared memory (README
   * "run"), the halved interval costing more than it hides. */
  net->iv = net->D;
  net->overlap = 0;
  if (net->D >= 2 && s->overlap == BS_OVERLAP_ON) {
    net->overlap = 1;
    net->iv = net->D / 2;
  }
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
  BS_CALL(ctx, bs_engine_fuse_setup(ctx, net));
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
  bs_engine_inputs_free(ctx, net); /* sized by the populations' blocks */
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

int bs_net_exchange_interval(const bs_net *net) { return (int)net->iv; }
int bs_net_exchange_overlapped(const bs_net *net) { return net->overlap; }

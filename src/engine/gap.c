/* Gap junctions (BrainPy GapJunction) across ranks. A junction (i, j, w) of
 * a projection gives, with V of the previous step,
 *   post j: I += w (V_i - V_j),   pre i: I += w (V_j - V_i)
 * (BrainPy: diff = (V_pre - V_post) w; post += diff; pre -= diff; the
 * negation is exact). Unlike spikes, both ends receive current, and a
 * floating-point sum split over ranks and reduced would depend on the rank
 * count. So each rank holds every junction end on its own neurons and sums
 * a neuron's whole gap current itself, in one canonical order (by the
 * other end's gid, then projection and synapse key), reading the V of
 * remote ends from a per-step MPI_Allgatherv of the "boundary" neurons
 * (ends of a junction whose other end lives on another rank).
 *
 * Construction: the connectors emit only local targets, but the pre end
 * needs its junctions too, so every rank generates each gap projection's
 * whole pair list and keeps the pairs with a local end. That is
 * O(junctions) work per rank (memory only for the kept ends); gap-junction
 * networks are small (tens of thousands of junctions), so this is cheaper
 * than a build-time all-to-all and needs no communication. */
#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"
#include "brainsim/rng.h"
#include "engine_impl.h"

/* One end of a junction, held on the rank of `self`. */
typedef struct jend {
  uint64_t self, other; /* gids */
  uint64_t key;         /* the connector's synapse key */
  uint32_t proj, side;  /* side 0: self is the post end, 1: the pre end */
  double w;
} jend;

struct bs_gap {
  /* Local neurons with junctions: population, local index, CSR row. */
  size_t nself;
  int *self_pop;
  uint64_t *self_idx;
  uint64_t *row; /* nself + 1 */
  /* Their junction ends in canonical order: where the other end's V is in
   * vx[], and the weight. */
  size_t nnz;
  uint64_t *src;
  double *w;
  /* vx = [every rank's boundary V (the Allgatherv result), V of the local
   * other ends]. */
  size_t nrecv, nloc;
  double *vx;
  int *loc_pop;
  uint64_t *loc_idx;
  /* This rank's boundary neurons, by gid, and what it sends. */
  size_t nbnd;
  int *bnd_pop;
  uint64_t *bnd_idx;
  double *send;
  int *counts, *displs; /* per rank, for the Allgatherv */
  int P;
};

typedef struct gen_sink {
  bs_ctx *ctx;
  const bs_spec *s;
  uint32_t proj;
  uint64_t pre_gid0, post_gid0;
  uint64_t pre_lo, pre_hi, post_lo, post_hi; /* local blocks */
  int w_var;
  jend *e;
  size_t n, cap;
  uint64_t local_post; /* junctions whose post end is local */
  int failed;
} gen_sink;

static int push_end(gen_sink *g, jend e) {
  if (g->n == g->cap) {
    size_t nc = g->cap ? 2 * g->cap : 1024;
    if (bs_realloc(g->ctx, g->cap, nc, sizeof(jend), &g->e)) {
      g->failed = 1;
      return 1;
    }
    g->cap = nc;
  }
  g->e[g->n++] = e;
  return 0;
}

static int gap_emit(void *sink, uint64_t pre, uint64_t post, uint64_t key) {
  gen_sink *g = sink;
  const int pre_here = pre >= g->pre_lo && pre < g->pre_hi;
  const int post_here = post >= g->post_lo && post < g->post_hi;
  if (!pre_here && !post_here)
    return 0;
  const bs_proj_spec *js = &g->s->projs[g->proj];
  double w = js->g_max.a;
  if (g->w_var) { /* the same draw as build_proj's, keyed by the synapse */
    bs_rng r;
    bs_rng_init(&r, g->s->seed, BS_RNG_WEIGHT, g->proj, (uint32_t)key,
                (uint32_t)(key >> 32));
    w = bs_dist_sample(&js->g_max, &r);
  }
  const uint64_t gi = g->pre_gid0 + pre, gj = g->post_gid0 + post;
  if (post_here) {
    g->local_post++;
    if (push_end(g, (jend){gj, gi, key, g->proj, 0, w}))
      return 1;
  }
  if (pre_here && push_end(g, (jend){gi, gj, key, g->proj, 1, w}))
    return 1;
  return 0;
}

static int cmp_end(const void *a, const void *b) {
  const jend *x = a, *y = b;
#define CMP(f)                                                                 \
  if (x->f != y->f)                                                            \
    return x->f < y->f ? -1 : 1;
  CMP(self)
  CMP(other)
  CMP(proj)
  CMP(key)
  CMP(side)
#undef CMP
  return 0;
}

static int is_local(const bs_net *net, uint64_t gid) {
  const lpop *lp = &net->pops[bs_engine_pop_of_gid(net->spec, gid)];
  const uint64_t i = gid - lp->spec->gid0;
  return i >= lp->lo && i < lp->hi;
}

/* Sorted unique gids of a (sorted or not) list, in place; returns count. */
static size_t sort_unique(uint64_t *a, size_t n) {
  if (!n)
    return 0;
  qsort(a, n, sizeof *a, bs_engine_cmp_u64);
  size_t m = 1;
  for (size_t q = 1; q < n; q++)
    if (a[q] != a[m - 1])
      a[m++] = a[q];
  return m;
}

static void split_gid(const bs_net *net, uint64_t gid, int *pop,
                      uint64_t *idx) {
  *pop = bs_engine_pop_of_gid(net->spec, gid);
  *idx = gid - net->pops[*pop].spec->gid0 - net->pops[*pop].lo;
}

/* Generate every gap projection's pairs and keep the ends on local neurons. */
static bs_status collect_ends(bs_ctx *ctx, bs_net *net, gen_sink *g) {
  const bs_spec *s = net->spec;
  for (int j = 0; j < s->n_projs; j++) {
    const bs_proj_spec *js = &s->projs[j];
    if (net->projs[j].ops != &bs_proj_gap)
      continue;
    const lpop *pre = &net->pops[js->pre], *post = &net->pops[js->post];
    g->proj = (uint32_t)j;
    g->pre_gid0 = pre->spec->gid0;
    g->post_gid0 = post->spec->gid0;
    g->pre_lo = pre->lo;
    g->pre_hi = pre->hi;
    g->post_lo = post->lo;
    g->post_hi = post->hi;
    g->w_var = !bs_dist_is_const(&js->g_max);
    g->local_post = 0;
    /* All the posts: see the top. */
    bs_conn_args a = bs_conn_args_of(s, j, 0, post->spec->size);
    bs_phase_begin(ctx, BS_PHASE_CONNECT);
    int rc = js->conn->generate(&a, gap_emit, g);
    bs_phase_end(ctx, BS_PHASE_CONNECT);
    if (rc) {
      if (!g->failed)
        bs_error_set(ctx, BS_ERR_NOMEM,
                     "projection '%s': out of memory generating gap "
                     "junctions on rank %d",
                     js->name, ctx->rank);
      bs_error_trace(ctx, __FILE__, __LINE__, __func__);
      return ctx->errcode;
    }
    /* Counted at the post end, so the sum over ranks is the total. */
    net->projs[j].nnz = g->local_post;
  }
  return BS_OK;
}

/* Every junction end on a local neuron, and the per-step exchange of the V
 * of ends on other ranks; *out stays NULL without gap projections (the
 * same on every rank). Collective. */
static bs_status gap_build(bs_ctx *ctx, bs_net *net, bs_gap **out) {
  *out = NULL;
  const bs_spec *s = net->spec;
  int any = 0;
  for (int j = 0; j < s->n_projs; j++)
    any |= net->projs[j].ops == &bs_proj_gap;
  if (!any)
    return BS_OK;
  bs_gap *g;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *g, &g));
  *out = g; /* freed by gap_destroy, also half-built */
  g->P = ctx->size;

  gen_sink gs = {.ctx = ctx, .s = s};
  bs_status st = collect_ends(ctx, net, &gs);
  if (st == BS_OK && gs.n)
    qsort(gs.e, gs.n, sizeof(jend), cmp_end);

  /* Local neurons with junctions, and the other ends they read. */
  uint64_t *others = NULL, *bnd = NULL;
  size_t nothers = 0;
  if (st == BS_OK)
    st = bs_malloc(ctx, gs.n ? gs.n : 1, sizeof(uint64_t), &others);
  if (st == BS_OK)
    st = bs_malloc(ctx, gs.n ? gs.n : 1, sizeof(uint64_t), &bnd);
  size_t nb = 0;
  for (size_t q = 0; st == BS_OK && q < gs.n; q++) {
    if (q == 0 || gs.e[q].self != gs.e[q - 1].self)
      g->nself++;
    if (is_local(net, gs.e[q].other)) {
      others[nothers++] = gs.e[q].other;
    } else {
      bnd[nb++] = gs.e[q].self; /* its V is needed on the other rank */
    }
  }
  g->nnz = gs.n;
  g->nloc = sort_unique(others, nothers);
  g->nbnd = sort_unique(bnd, nb);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nself ? g->nself : 1, sizeof(int), &g->self_pop);
  if (st == BS_OK)
    st =
        bs_malloc(ctx, g->nself ? g->nself : 1, sizeof(uint64_t), &g->self_idx);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nself + 1, sizeof(uint64_t), &g->row);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nnz ? g->nnz : 1, sizeof(uint64_t), &g->src);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nnz ? g->nnz : 1, sizeof(double), &g->w);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nloc ? g->nloc : 1, sizeof(int), &g->loc_pop);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nloc ? g->nloc : 1, sizeof(uint64_t), &g->loc_idx);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nbnd ? g->nbnd : 1, sizeof(int), &g->bnd_pop);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nbnd ? g->nbnd : 1, sizeof(uint64_t), &g->bnd_idx);
  if (st == BS_OK)
    st = bs_malloc(ctx, g->nbnd ? g->nbnd : 1, sizeof(double), &g->send);
  if (st == BS_OK)
    st = bs_calloc(ctx, (size_t)g->P, sizeof(int), &g->counts);
  if (st == BS_OK)
    st = bs_calloc(ctx, (size_t)g->P, sizeof(int), &g->displs);

  /* Every rank's boundary count and gid list, once: positions in the
   * per-step receive buffer. All ranks agree first that the local work
   * succeeded, so none is left waiting in a collective. */
  int first;
  bs_status cs = bs_comm_agree(ctx, st, &first);
  uint64_t *nall = NULL, *allbnd = NULL, tot = 0;
  if (cs == BS_OK)
    cs = bs_malloc(ctx, (size_t)g->P, sizeof(uint64_t), &nall);
  if (cs == BS_OK)
    cs = bs_comm_gather_u64(ctx, (uint64_t)g->nbnd, nall);
  for (int r = 0; cs == BS_OK && r < g->P; r++) {
    if (tot + nall[r] > (uint64_t)INT32_MAX) /* the same on every rank */
      cs = bs_error_set(ctx, BS_ERR_LIMIT,
                        "gap junctions: %llu neurons have a junction to "
                        "another rank, more than one MPI_Allgatherv carries",
                        (unsigned long long)(tot + nall[r]));
    g->counts[r] = (int)nall[r];
    g->displs[r] = (int)tot;
    tot += nall[r];
  }
  bs_free(ctx, (size_t)g->P, sizeof(uint64_t), &nall);
  if (cs == BS_OK) {
    /* cs is the same on every rank here. */
    g->nrecv = tot;
    bs_status ls = bs_malloc(ctx, g->nrecv + g->nloc ? g->nrecv + g->nloc : 1,
                             sizeof(double), &g->vx);
    if (ls == BS_OK)
      ls = bs_malloc(ctx, tot ? tot : 1, sizeof(uint64_t), &allbnd);
    cs = bs_comm_agree(ctx, ls, &first);
    /* Only when some rank has a boundary, as each step. */
    if (cs == BS_OK && tot)
      cs = bs_comm_allgatherv_u64(ctx, bnd, (int)g->nbnd, allbnd, g->counts,
                                  g->displs);
  }

  if (cs == BS_OK) {
    for (size_t b = 0; b < g->nbnd; b++)
      split_gid(net, bnd[b], &g->bnd_pop[b], &g->bnd_idx[b]);
    for (size_t q = 0; q < g->nloc; q++)
      split_gid(net, others[q], &g->loc_pop[q], &g->loc_idx[q]);
    size_t k = 0;
    for (size_t q = 0; q < gs.n; q++) {
      const jend *e = &gs.e[q];
      if (q == 0 || e->self != gs.e[q - 1].self) {
        split_gid(net, e->self, &g->self_pop[k], &g->self_idx[k]);
        g->row[k++] = q;
      }
      if (is_local(net, e->other)) {
        g->src[q] = g->nrecv + bs_engine_lower_bound(others, g->nloc, e->other);
      } else {
        const int r = bs_engine_owner_of(net, e->other);
        const uint64_t *seg = allbnd + g->displs[r];
        g->src[q] = (uint64_t)g->displs[r] +
                    bs_engine_lower_bound(seg, (size_t)g->counts[r], e->other);
      }
      g->w[q] = e->w;
    }
    g->row[g->nself] = gs.n;
  }
  bs_free(ctx, tot ? tot : 1, sizeof(uint64_t), &allbnd);
  bs_free(ctx, gs.n ? gs.n : 1, sizeof(uint64_t), &others);
  bs_free(ctx, gs.n ? gs.n : 1, sizeof(uint64_t), &bnd);
  bs_free(ctx, gs.cap, sizeof(jend), &gs.e);
  return cs;
}

/* V of every junction's other end as it is now (the previous step's):
 * one MPI_Allgatherv when some junction crosses ranks. Collective. */
static bs_status gap_exchange(bs_ctx *ctx, bs_gap *g, const bs_net *net) {
  if (g->nrecv) { /* the same on every rank, so all or none call */
    for (size_t b = 0; b < g->nbnd; b++)
      g->send[b] = net->pops[g->bnd_pop[b]].x[0][g->bnd_idx[b]];
    BS_CALL(ctx, bs_comm_allgatherv_f64(ctx, g->send, (int)g->nbnd, g->vx,
                                        g->counts, g->displs));
  }
  double *restrict loc = g->vx + g->nrecv;
  for (size_t q = 0; q < g->nloc; q++)
    loc[q] = net->pops[g->loc_pop[q]].x[0][g->loc_idx[q]];
  return BS_OK;
}

/* Adds each local end's gap current, summed in the canonical order, to
 * its population's input I. */
static void gap_apply(const bs_gap *g, bs_net *net) {
  const double *restrict vx = g->vx;
  for (size_t k = 0; k < g->nself; k++) {
    lpop *lp = &net->pops[g->self_pop[k]];
    const uint64_t i = g->self_idx[k];
    const double V = lp->x[0][i];
    double sum = 0.0;
    for (uint64_t q = g->row[k]; q < g->row[k + 1]; q++)
      sum += g->w[q] * (vx[g->src[q]] - V);
    lp->I[i] += sum;
  }
}

static void gap_destroy(bs_ctx *ctx, bs_gap **gp) {
  if (!gp || !*gp)
    return;
  bs_gap *g = *gp;
  const size_t ns = g->nself ? g->nself : 1, nz = g->nnz ? g->nnz : 1,
               nl = g->nloc ? g->nloc : 1, nb = g->nbnd ? g->nbnd : 1,
               nv = g->nrecv + g->nloc ? g->nrecv + g->nloc : 1;
  bs_free(ctx, ns, sizeof(int), &g->self_pop);
  bs_free(ctx, ns, sizeof(uint64_t), &g->self_idx);
  bs_free(ctx, g->nself + 1, sizeof(uint64_t), &g->row);
  bs_free(ctx, nz, sizeof(uint64_t), &g->src);
  bs_free(ctx, nz, sizeof(double), &g->w);
  bs_free(ctx, nv, sizeof(double), &g->vx);
  bs_free(ctx, nl, sizeof(int), &g->loc_pop);
  bs_free(ctx, nl, sizeof(uint64_t), &g->loc_idx);
  bs_free(ctx, nb, sizeof(int), &g->bnd_pop);
  bs_free(ctx, nb, sizeof(uint64_t), &g->bnd_idx);
  bs_free(ctx, nb, sizeof(double), &g->send);
  bs_free(ctx, (size_t)g->P, sizeof(int), &g->counts);
  bs_free(ctx, (size_t)g->P, sizeof(int), &g->displs);
  bs_free(ctx, 1, sizeof *g, gp);
}

/* ---- the kind --------------------------------------------------------- */

static int match(const bs_proj_spec *js) { return js->syn->gap; }

/* Built by setup_all (both ends are needed); no spikes, so no delays. */
static bs_status build(bs_ctx *ctx, bs_net *net, lproj *lj) {
  (void)ctx;
  (void)net;
  lj->dmin = UINT32_MAX;
  return BS_OK;
}

/* Gap junctions read the other end's V of the previous step, so V is
 * exchanged every step; one-step intervals keep that in line with the
 * spike exchange (and its error flag). */
static bs_status setup_all(bs_ctx *ctx, bs_net *net) {
  BS_CALL(ctx, gap_build(ctx, net, &net->gap));
  if (net->gap)
    net->D = 1;
  return BS_OK;
}

static bs_status interval(bs_ctx *ctx, bs_net *net) {
  if (!net->gap)
    return BS_OK;
  bs_phase_begin(ctx, BS_PHASE_EXCHANGE);
  bs_status st = gap_exchange(ctx, net->gap, net);
  bs_phase_end(ctx, BS_PHASE_EXCHANGE);
  return st;
}

/* Both ends' currents from V of the previous step. */
static void step_all(bs_net *net, int64_t n) {
  (void)n;
  if (net->gap)
    gap_apply(net->gap, net);
}

static void destroy_all(bs_ctx *ctx, bs_net *net) {
  gap_destroy(ctx, &net->gap);
}

const bs_proj_ops bs_proj_gap = {.name = "gap",
                                 .match = match,
                                 .stage = BS_STAGE_GAP,
                                 .build = build,
                                 .setup_all = setup_all,
                                 .interval = interval,
                                 .step_all = step_all,
                                 .pre_input = 1,
                                 .destroy_all = destroy_all};

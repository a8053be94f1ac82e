/* What a network costs before it is built (bs_net_estimate, `brainsim
 * check`) and what it holds once built (sizes, storage per projection). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "brainsim/comm.h"
#include "engine_impl.h"

static void est_add(bs_estimate *e, double bytes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void est_add(bs_estimate *e, double bytes, const char *fmt, ...) {
  e->bytes += bytes;
  if (bytes > e->item_bytes) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->item, sizeof e->item, fmt, ap);
    va_end(ap);
    e->item_bytes = bytes;
  }
}

/* Largest delay a distribution can give, in steps. */
static double delay_max(const bs_dist *d) {
  switch (d->kind) {
  case BS_DIST_UNIFORM:
    return floor(d->b + 0.5);
  case BS_DIST_NORMAL:
    return floor(d->a + 8.0 * d->b + 0.5);
  case BS_DIST_LOGNORMAL:
    return floor(exp(d->a + 8.0 * d->b) + 0.5);
  case BS_DIST_TRUNCNORMAL:
    return floor(fmin(d->d, d->a + 8.0 * d->b) + 0.5);
  default:
    return d->a;
  }
}

/* Steady-state bytes of one projection's connectivity on a rank with nl of
 * the post neurons (syn of its synapses) and nlb of the pre neurons:
 * sparse CSR (rows, column, and weight and delay where they vary) or the
 * dense mask and weights, plus the per-pre delays, over the rank's table
 * (connect.c): the pre neurons with a local synapse, expected
 * n_pre (1 - exp(-syn / n_pre)) of them (independent targets), and its own
 * block. *nt: the table's expected size; *npos: the rows kept (n_pre when
 * the identity is smaller, as connect.c's table_full chooses). In doubles,
 * so no product overflows. */
static double proj_storage(const bs_proj_spec *pj, double n_pre, double nlb,
                           double nl, double syn, double *nt, double *npos) {
  const int w_var = !bs_dist_is_const(&pj->g_max);
  const int d_var = !bs_dist_is_const(&pj->delay) && !pj->delay_per_pre;
  const double ow = syn <= 4294967295.0 ? 4.0 : 8.0;
  const double rc =
      (pj->dense ? ceil(nl / 64.0) * 8.0 + (w_var ? 4.0 * nl : 0.0) : ow) +
      (pj->delay_per_pre ? 4.0 : 0.0);
  *nt = n_pre > 0 ? nlb + (n_pre - nlb) * -expm1(-syn / n_pre) : 0.0;
  const int full = n_pre * rc <= *nt * (4.0 + rc);
  *npos = full ? n_pre : *nt;
  const double ids = full ? 0.0 : 4.0 * *nt;
  if (pj->dense)
    return ids + *npos * rc;
  /* A sparse table is compressed with its row bounds (ctab.c). */
  const double rows = full ? *npos * rc + ow
                           : bs_ctab_expected(n_pre, *nt, syn) +
                                 (pj->delay_per_pre ? 4.0 * *nt : 0.0);
  const double dmax = delay_max(&pj->delay);
  const double dlb = !d_var          ? 0.0
                     : dmax <= 255   ? 1.0
                     : dmax <= 65535 ? 2.0
                                     : 4.0;
  /* 16-bit targets where the kind takes them and the block is small;
   * above, 4 bytes at most (16-bit differences where the rows allow, which
   * only the built rows tell: lproj_narrow). */
  const double cb =
      bs_proj_kind_of(pj)->narrow_targets && nl <= 65536.0 ? 2.0 : 4.0;
  return rows + syn * (cb + (w_var ? 4.0 : 0.0) + dlb);
}

/* At one rank (the table is the whole pre population). */
void bs_net_proj_storage(const bs_spec *s, int j, double *syn, double *bytes) {
  const bs_proj_spec *pj = &s->projs[j];
  const bs_pop_spec *pre = &s->pops[pj->pre], *post = &s->pops[pj->post];
  double nt, npos;
  *syn = pj->conn->expected(pj->cp, pre->size, post->size, pj->pre == pj->post,
                            pj->n_ij);
  *bytes = proj_storage(pj, (double)pre->size, (double)pre->size,
                        (double)post->size, *syn, &nt, &npos);
}

void bs_net_estimate(const bs_spec *s, int rank, int size, bs_estimate *e) {
  memset(e, 0, sizeof *e);
  for (int p = 0; p < s->n_pops; p++) {
    const bs_pop_spec *ps = &s->pops[p];
    double n = (double)(bs_engine_block_lo(ps->size, rank + 1, size) -
                        bs_engine_block_lo(ps->size, rank, size));
    /* Heterogeneous parameters: every neuron's parameters and constants;
     * noise: one increment per noisy variable; dataset initial states. */
    double per = 8.0 * (ps->model->nx + 3) + 4.0;
    if (ps->pdist)
      per += 8.0 * (ps->model->np + (ps->model->nk ? ps->model->nk : 1));
    for (int v = 0; v < ps->model->nv; v++)
      per += ps->noise[v] > 0 ? 8.0 : 0.0;
    for (int v = 0; ps->ifile && v < ps->model->nx; v++)
      per += ps->ifile[v] ? 8.0 : 0.0; /* initial states from a dataset */
    /* Listed spikes: 8 bytes each for the rank's own neurons. A spike
     * file's rows are counted, not yet read: the rank's share is taken as
     * its share of the neurons, and while the keys are made its reader
     * holds 40 bytes per kept row (row, time, id twice). */
    const uint64_t lo = bs_engine_block_lo(ps->size, rank, size),
                   hi = bs_engine_block_lo(ps->size, rank + 1, size);
    double ev = 0.0;
    for (uint64_t q = 0; q < ps->n_ev; q++)
      ev += ps->ev_idx[q] >= lo && ps->ev_idx[q] < hi;
    if (ps->ev_file && ps->size)
      ev += 5.0 * (double)ps->ev_file_rows * n / (double)ps->size;
    est_add(e, n * per + 8.0 * ev,
            "population '%s' (%.3g neurons on this rank)", ps->name, n);
  }
  for (int j = 0; j < s->n_projs; j++) {
    const bs_proj_spec *pj = &s->projs[j];
    const bs_pop_spec *pre = &s->pops[pj->pre], *post = &s->pops[pj->post];
    double nl = (double)(bs_engine_block_lo(post->size, rank + 1, size) -
                         bs_engine_block_lo(post->size, rank, size));
    double syn = pj->conn->expected(pj->cp, pre->size, post->size,
                                    pj->pre == pj->post, pj->n_ij) *
                 (nl / (double)post->size);
    if (pj->syn->gap) { /* gap.c: both ends, 40 B each while sorting */
      double npre = (double)(bs_engine_block_lo(pre->size, rank + 1, size) -
                             bs_engine_block_lo(pre->size, rank, size));
      double ends = syn + pj->conn->expected(pj->cp, pre->size, post->size,
                                             pj->pre == pj->post, pj->n_ij) *
                              (npre / (double)pre->size);
      est_add(e, ends * 56.0,
              "projection '%s' (%.3g gap junction ends on this rank)", pj->name,
              ends);
      continue;
    }
    const double n_pre = (double)pre->size;
    /* The own block is in the table where per-pre state lives (stp,
     * traces: the kinds with owner_state). */
    const double nlb =
        pj->stp || bs_proj_kind_of(pj)->owner_state
            ? (double)(bs_engine_block_lo(pre->size, rank + 1, size) -
                       bs_engine_block_lo(pre->size, rank, size))
            : 0.0;
    double nt, npre;
    const double stor = proj_storage(pj, n_pre, nlb, nl, syn, &nt, &npre);
    /* Sparse: during the build the generated list (16 B per synapse) and
     * a counting array (8 B per row) coexist with the CSR. Dense is
     * filled directly (after a pass that lists the pre ids). */
    double build = pj->dense ? 0.0 : syn * 16.0 + 8.0 * (npre + 1.0);
    double other =
        (pj->stp ? 24.0 * npre : 0.0) + (pj->E_per_post ? 8.0 * nl : 0.0);
    /* Trace synapses: state and history of g per traced pre neuron (those
     * of the table with a local synapse or in the local block) and g per
     * post; the others: the ring buffer and the state per post. */
    if (pj->syn->trace)
      other += (8.0 * (pj->syn->nx + delay_max(&pj->delay) + 2.0) + 16.0) * nt +
               4.0 * npre + 8.0 * nl;
    else
      other += (delay_max(&pj->delay) + 1.0 + pj->syn->nx) * nl * 8.0;
    /* Plasticity (plastic.c): a double weight, its post-major index and
     * its source per synapse; traces and a flag per table position and per
     * post, the post's first synapse; the arrival queue (ring slots x
     * table positions). */
    if (pj->plast)
      other += syn * 16.0 + nl * (8.0 * pj->plast->npost + 9.0) +
               npre * (8.0 * pj->plast->npre + 1.0 +
                       12.0 * (delay_max(&pj->delay) + 2.0));
    const char *slots = pj->syn->trace ? "trace history" : "ring buffer";
    if (pj->dense) {
      bs_proj_spec sp = *pj;
      sp.dense = 0;
      char sb[32];
      double nt2, np2;
      est_add(e, stor + other,
              "projection '%s' (comp_method dense: a %.3g x %.3g matrix on "
              "this rank, %s weights, where comp_method sparse would store "
              "%s; %.3g-slot %s)",
              pj->name, npre, nl,
              bs_dist_is_const(&pj->g_max) ? "1-bit" : "1-bit + float",
              bs_fmt_bytes(proj_storage(&sp, n_pre, nlb, nl, syn, &nt2, &np2),
                           sb, sizeof sb),
              delay_max(&pj->delay) + 1.0, slots);
    } else {
      est_add(e, stor + build + other,
              "projection '%s' (%.3g synapses on this rank, %.3g-slot %s)",
              pj->name, syn, delay_max(&pj->delay) + 1.0, slots);
    }
  }
  for (int q = 0; q < s->n_monitors; q++) {
    const bs_monitor_spec *m = &s->monitors[q];
    if (m->kind != BS_MON_STATE)
      continue;
    double rows = (double)bs_monitor_rows(m, s->n_steps);
    double all = rows * (double)m->n_idx * 8.0;
    est_add(e, all < MON_BUF_BYTES * 2.0 ? all : MON_BUF_BYTES * 2.0,
            "monitor '%s' of %s", m->name,
            m->pop >= 0 ? s->pops[m->pop].name : s->projs[m->proj].name);
  }
  /* Spike exchange: counts and headers per rank, 1024-spike buffers to
   * start with (they follow the traffic). */
  est_add(e, (double)size * 48.0 + 2.0 * 1024.0 * 8.0,
          "spike exchange buffers");
}

bs_status bs_net_sizes_get(bs_ctx *ctx, const bs_net *net, bs_net_sizes *l,
                           uint64_t *syn_per_proj) {
  const bs_spec *s = net->spec;
  l->neurons = 0;
  l->synapses = 0;
  for (int p = 0; p < s->n_pops; p++)
    l->neurons += net->pops[p].n;
  for (int j = 0; j < s->n_projs; j++) {
    l->synapses += net->projs[j].nnz;
    syn_per_proj[j] = net->projs[j].nnz;
  }
  l->bytes = ctx->mem_peak;
  if (s->n_projs)
    BS_CALL(ctx, bs_comm_sum_u64(ctx, syn_per_proj, s->n_projs));
  return BS_OK;
}

bs_status bs_net_storage_get(bs_ctx *ctx, const bs_net *net, uint64_t *syn,
                             uint64_t *bytes) {
  const int nj = net->spec->n_projs;
  for (int j = 0; j < nj; j++) {
    syn[j] = net->projs[j].nnz;
    bytes[j] = net->projs[j].syn_bytes;
  }
  if (nj) {
    BS_CALL(ctx, bs_comm_sum_u64(ctx, syn, nj));
    BS_CALL(ctx, bs_comm_sum_u64(ctx, bytes, nj));
  }
  return BS_OK;
}

bs_status bs_net_table_get(bs_ctx *ctx, const bs_net *net, uint64_t *rows,
                           uint64_t *ids, uint64_t *bytes) {
  const int nj = net->spec->n_projs;
  for (int j = 0; j < nj; j++) {
    const lproj *lj = &net->projs[j];
    rows[j] = lj->npos;
    ids[j] = lj->pid || lj->ct ? lj->npos : 0;
    bytes[j] = lj->ct      ? bs_ctab_size(lj->ct)
               : lj->pid   ? 4 * lj->npos
               : lj->row32 ? 4 * (lj->npos + 1)
               : lj->row64 ? 8 * (lj->npos + 1)
                           : 0;
  }
  if (nj) {
    BS_CALL(ctx, bs_comm_sum_u64(ctx, rows, nj));
    BS_CALL(ctx, bs_comm_sum_u64(ctx, ids, nj));
    BS_CALL(ctx, bs_comm_sum_u64(ctx, bytes, nj));
  }
  return BS_OK;
}

/* Output and sampling: state monitors and their row buffers, spike
 * recording, and the flushes to the output file (io/ writes). Every rank
 * buffers the same number of rows of its columns, and the spike flushes
 * are agreed through the exchange flag, so all flush at the same
 * intervals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"

#include "engine_impl.h"

bs_status bs_engine_monitor_build(bs_ctx *ctx, bs_net *net,
                                  const bs_monitor_spec *ms, lmon *m) {
  const bs_spec *s = net->spec;
  m->spec = ms;
  if (ms->per_syn) /* chosen synapses: the ones whose post is local */
    BS_CALL(ctx, bs_synmon_build(ctx, net, m));
  /* Per-pre monitors: the columns are the pre neurons this rank owns,
   * sampled by trace.c at the exchange. */
  lpop *lp = ms->pop >= 0  ? &net->pops[ms->pop]
             : ms->per_pre ? net->projs[ms->proj].pre
                           : net->projs[ms->proj].post;
  m->src = ms->rate || ms->isyn         ? NULL
           : ms->input                  ? lp->I
           : ms->pop >= 0               ? lp->x[ms->var]
           : ms->per_pre || ms->per_syn ? NULL
                                        : net->projs[ms->proj].x[ms->var];
  m->lo = lp->lo;
  if (!ms->per_syn) {
    m->c0 = bs_engine_lower_bound(ms->idx, ms->n_idx, lp->lo);
    m->c1 = bs_engine_lower_bound(ms->idx, ms->n_idx, lp->hi);
  }
  m->rows = bs_monitor_rows(ms, s->n_steps);
  /* Rows per flush from the global column count, so every rank flushes at
   * the same steps and no rank's buffer exceeds MON_BUF_BYTES. */
  uint64_t F = MON_BUF_BYTES / (8 * ms->n_idx);
  if (F < 1)
    F = 1;
  if (F > m->rows)
    F = m->rows ? m->rows : 1;
  m->F = F;
  /* Flushes happen after the interval's exchange (where all ranks agree
   * that none failed), so the buffer also holds one interval of samples. */
  m->cap = F + (uint64_t)(net->D + ms->every - 1) / (uint64_t)ms->every + 1;
  uint64_t ncol = m->c1 - m->c0;
  BS_CALL(ctx,
          bs_malloc(ctx, m->cap * (ncol ? ncol : 1), sizeof(double), &m->buf));
  if (ms->rate) {
    BS_CALL(ctx, bs_calloc(ctx, m->cap, sizeof(uint64_t), &m->cnt));
    m->rate_per = (double)lp->spec->size * (s->dt * 1e-3); /* neuron-s */
  }
  return BS_OK;
}

void bs_engine_monitor_free(bs_ctx *ctx, lmon *m) {
  bs_free(ctx, m->cap * ((m->c1 - m->c0) ? (m->c1 - m->c0) : 1), sizeof(double),
          &m->buf);
  if (m->cnt)
    bs_free(ctx, m->cap, sizeof(uint64_t), &m->cnt);
  bs_synmon_free(ctx, m);
  bs_io_report_close(ctx, &m->rep);
}

/* V at the start of the step, g as used in this step (Brian2's sample
 * convention: sample k is the state at k dt). */
void bs_engine_sample_state(bs_net *net, int64_t n, int late) {
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    if (m->late != late || !bs_monitor_due(m->spec, n, net->spec->n_steps) ||
        m->spec->per_pre)
      continue;
    const uint64_t nc = m->c1 - m->c0;
    BS_ASSERT(m->nbuf < m->cap); /* flushed at F rows, cap > F */
    double *row = m->buf + m->nbuf * nc;
    if (m->spec->per_syn) { /* changing weights: sampled as they change */
      const lproj *lj = &net->projs[m->spec->proj];
      if (m->spec->syn_var != 3 || !lj->ops->weight)
        continue;
      for (uint64_t c = 0; c < nc; c++)
        row[c] = lj->ops->weight(lj, m, c);
    } else if (m->cnt) /* counted by bs_engine_count_rate after the update */
      m->cnt[m->nbuf] = 0;
    else if (m->spec->isyn) {
      const lproj *lj = &net->projs[m->spec->proj];
      for (uint64_t c = 0; c < nc; c++)
        row[c] = lj->ops->current(lj, m->spec->idx[m->c0 + c] - m->lo);
    } else
      for (uint64_t c = 0; c < nc; c++)
        row[c] = m->src[m->spec->idx[m->c0 + c] - m->lo];
    m->nbuf++;
  }
}

void bs_engine_count_rate(bs_net *net, int p, size_t nspk) {
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    if (m->cnt && m->spec->pop == p)
      m->cnt[m->nbuf - 1] += nspk;
  }
}

/* Per-pre and per-synapse monitors at step n, at the exchange, where stp
 * holds every spike of steps < n: stp, weight and delay here, the kind's
 * own variables (trace g) from its ops. */
void bs_engine_sample_pre(bs_net *net, int64_t n) {
  const double dt = net->spec->dt;
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    const bs_monitor_spec *ms = m->spec;
    if (!(ms->per_pre || ms->per_syn) ||
        !bs_monitor_due(ms, n, net->spec->n_steps))
      continue;
    const lproj *lj = &net->projs[ms->proj];
    if (ms->per_syn && ms->syn_var == 3 && lj->ops->weight)
      continue; /* sampled in the step (bs_engine_sample_state) */
    const uint64_t nc = m->c1 - m->c0;
    BS_ASSERT(m->nbuf < m->cap);
    double *row = m->buf + m->nbuf * nc;
    for (uint64_t c = 0; c < nc; c++) {
      if (ms->per_syn)
        row[c] = ms->syn_var == 0 ? lj->ops->sample(lj, m, c, n)
                 : ms->syn_var <= 2
                     ? bs_proj_stp_at(lj, ms->syn_var, m->spre[c], n, dt)
                 : ms->syn_var == 3 ? m->sw[c]
                                    : (double)m->sd[c];
      else
        row[c] = ms->stp
                     ? bs_proj_stp_at(lj, ms->stp,
                                      lproj_pos(lj, ms->idx[m->c0 + c]), n, dt)
                     : lj->ops->sample(lj, m, c, n);
    }
    m->nbuf++;
  }
}

bs_status bs_engine_open_outputs(bs_ctx *ctx, bs_net *net, bs_io *io) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++) {
    if (!net->pops[p].record)
      continue;
    BS_CALL(ctx, bs_io_spikes_add(ctx, io, s->pops[p].name,
                                  &net->pops[p].io_handle));
    /* A restart drops what was written after its checkpoint. */
    if (net->restored_spk_len)
      BS_CALL(ctx, bs_io_spikes_truncate(ctx, io, net->pops[p].io_handle,
                                         net->restored_spk_len[p]));
  }
  for (int q = 0; q < net->nmons; q++) {
    lmon *m = &net->mons[q];
    if (net->restored_row0)
      m->row0 = net->restored_row0[q];
    const bs_monitor_spec *ms = m->spec;
    char group[600];
    const char *target =
        ms->pop >= 0 ? s->pops[ms->pop].name : s->projs[ms->proj].name;
    const bs_var *var = ms->input || ms->rate || ms->isyn ? NULL
                        : ms->pop >= 0 ? &s->pops[ms->pop].model->vars[ms->var]
                        : ms->stp || (ms->per_syn && ms->var < 0)
                            ? NULL
                            : &s->projs[ms->proj].syn->vars[ms->var];
    const char *units = var        ? bs_dim_unit(var->dim)
                        : ms->rate ? "Hz"
                        : ms->syn_var == 3
                            ? bs_dim_unit(s->projs[ms->proj].syn->vars[0].dim)
                        : ms->syn_var == 4 ? "steps"
                                           : "1";
    const bs_proj_spec *pj = ms->pop >= 0 ? NULL : &s->projs[ms->proj];
    const char *post = !pj           ? s->pops[ms->pop].name
                       : ms->per_pre ? s->pops[pj->pre].name
                                     : s->pops[pj->post].name;
    snprintf(group, sizeof group, "/report/%s/%s", target, ms->name);
    BS_CALL(ctx,
            bs_io_report_create(ctx, io, group, ms->file, units, ms->idx,
                                ms->n_idx, m->rows, (double)ms->start * s->dt,
                                (double)bs_monitor_stop(ms, s->n_steps) * s->dt,
                                (double)ms->every * s->dt, post, &m->rep));
    if (ms->per_syn) { /* the pre of each column */
      uint64_t *pre;
      BS_CALL(ctx, bs_malloc(ctx, ms->n_idx, sizeof(uint64_t), &pre));
      for (uint64_t c = 0; c < ms->n_idx; c++)
        pre[c] = ms->syn[2 * c];
      bs_status ps = bs_io_report_pre_ids(ctx, m->rep, pre, ms->n_idx,
                                          s->pops[pj->pre].name);
      bs_free(ctx, ms->n_idx, sizeof(uint64_t), &pre);
      BS_CALL(ctx, ps);
    }
  }
  return BS_OK;
}

bs_status bs_engine_record_spike(bs_ctx *ctx, lpop *lp, double t, uint64_t id) {
  if (lp->rec_n == lp->rec_cap) {
    size_t nc = lp->rec_cap ? 2 * lp->rec_cap : 4096;
    BS_CALL(ctx, bs_realloc(ctx, lp->rec_cap, nc, sizeof(double), &lp->rec_t));
    BS_CALL(ctx,
            bs_realloc(ctx, lp->rec_cap, nc, sizeof(uint64_t), &lp->rec_id));
    lp->rec_cap = nc;
  }
  lp->rec_t[lp->rec_n] = t;
  lp->rec_id[lp->rec_n] = id;
  lp->rec_n++;
  return BS_OK;
}

/* Each rank holds its own recorded spikes, sorted by (time, id); rank 0
 * gathers them, merges them into (time, id) order and writes them. The
 * output thus passes through one rank, not through every rank. */
typedef struct tid {
  double t;
  uint64_t id;
} tid;

static int cmp_tid(const void *a, const void *b) {
  const tid *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

static bs_status flush_pop_spikes(bs_ctx *ctx, lpop *lp, bs_io *io) {
  const size_t P = (size_t)ctx->size;
  uint64_t *counts = NULL, *ids = NULL, tot = 0;
  double *t = NULL;
  tid *m = NULL;
  BS_CALL(ctx, bs_malloc(ctx, P, sizeof(uint64_t), &counts));
  bs_status st = bs_comm_gather_u64(ctx, lp->rec_n, counts);
  for (size_t r = 0; r < P; r++)
    tot += counts[r];
  const size_t nr = ctx->rank == 0 && tot ? tot : 1;
  if (st == BS_OK && tot)
    st = bs_malloc(ctx, nr, sizeof(double), &t);
  if (st == BS_OK && tot)
    st = bs_malloc(ctx, nr, sizeof(uint64_t), &ids);
  if (st == BS_OK && tot)
    st = bs_comm_gatherv_f64(ctx, lp->rec_t, counts, t);
  if (st == BS_OK && tot)
    st = bs_comm_gatherv_u64(ctx, lp->rec_id, counts, ids);
  if (st == BS_OK && tot && ctx->rank == 0 && P > 1) {
    st = bs_malloc(ctx, nr, sizeof(tid), &m);
    for (uint64_t q = 0; st == BS_OK && q < tot; q++)
      m[q] = (tid){t[q], ids[q]};
    if (st == BS_OK)
      qsort(m, tot, sizeof(tid), cmp_tid);
    for (uint64_t q = 0; st == BS_OK && q < tot; q++) {
      t[q] = m[q].t;
      ids[q] = m[q].id;
    }
    bs_free(ctx, nr, sizeof(tid), &m);
  }
  if (st == BS_OK && io)
    st = bs_io_spikes_append(ctx, io, lp->io_handle, tot,
                             ctx->rank == 0 ? 0 : tot, ctx->rank == 0 ? tot : 0,
                             t, ids);
  lp->rec_n = 0;
  bs_free(ctx, nr, sizeof(double), &t);
  bs_free(ctx, nr, sizeof(uint64_t), &ids);
  bs_free(ctx, P, sizeof(uint64_t), &counts);
  return st;
}

bs_status bs_engine_flush_spikes(bs_ctx *ctx, bs_net *net, bs_io *io) {
  for (int p = 0; p < net->spec->n_pops; p++)
    if (net->pops[p].record)
      BS_CALL(ctx, flush_pop_spikes(ctx, &net->pops[p], io));
  return BS_OK;
}

bs_status bs_engine_flush_monitor(bs_ctx *ctx, lmon *m) {
  if (m->cnt && m->nbuf) { /* the rate: the spikes of all ranks */
    BS_CALL(ctx, bs_comm_sum_u64(ctx, m->cnt, (int)m->nbuf));
    for (uint64_t r = 0; m->c1 > m->c0 && r < m->nbuf; r++)
      m->buf[r] = (double)m->cnt[r] / m->rate_per;
  }
  if (m->rep && m->cols)
    BS_CALL(ctx, bs_io_report_write_cols(ctx, m->rep, m->row0, m->nbuf, m->cols,
                                         m->c1 - m->c0, m->buf));
  else if (m->rep)
    BS_CALL(ctx, bs_io_report_write(ctx, m->rep, m->row0, m->nbuf, m->c0,
                                    m->c1 - m->c0, m->buf));
  m->row0 += m->nbuf;
  m->nbuf = 0;
  return BS_OK;
}

bs_status bs_engine_flush_output(bs_ctx *ctx, bs_net *net, bs_io *io) {
  BS_CALL(ctx, bs_engine_flush_spikes(ctx, net, io));
  for (int q = 0; q < net->nmons; q++)
    if (net->mons[q].nbuf)
      BS_CALL(ctx, bs_engine_flush_monitor(ctx, &net->mons[q]));
  return BS_OK;
}

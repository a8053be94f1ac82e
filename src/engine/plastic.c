/* Kind "plastic": a linear synapse (Exponential, Alpha, ...) whose weights
 * change by a long-term plasticity rule (model/: STDP_Song2000,
 * stdp_synapse, Triplet). README "Long-term plasticity".
 *
 * Where: each synapse lives with its post neuron, as for every kind, with
 * its own double weight. A post spike is local; pre spikes come through
 * the exchange. Traces are per pre neuron of the projection's table (its
 * position, lproj_pos) and per local post neuron, each held scaled to a
 * base step B of its side, x: its value at step m is x exp(-(m - B) dt /
 * tau), and a jump at step m adds exp((m - B) dt / tau) to x, so the
 * factors are computed once per step, not per synapse event. B moves
 * forward at fixed steps (every multiple of `period`, where the factors
 * stay below e^200), scaling every x down: a function of the step only,
 * so a trace is a function of its own spike train and the step, and
 * every rank computes the same bits.
 *
 * Delays are axonal: a spike of step n with delay d reaches the synapse
 * in step m = n + 1 + d, where the rule sees it and the synapse delivers
 * the updated weight into the input of step m; the post spike reaches the
 * synapse at once (no dendritic delay). The exchange hands a spike over
 * at the end of its interval, before step m (d >= D - 1), so deliver only
 * queues it for step m; step m then runs the rule's events in its order
 * (bs_plast_order) with the post spikes of step m - 1, which the neurons
 * left in the post's spike list. The delay must be the same for all of a
 * pre neuron's synapses (per projection or per pre neuron). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"
#include "brainsim/io.h"
#include "engine_impl.h"

typedef struct lplast {
  const bs_plast_rule *rule;
  const double *p;
  /* Per synapse, in the post-major order below (t): the post spikes walk
   * their synapses' weights contiguously; a pre spike's row reaches them
   * through tpos (storage position -> t). */
  double *w;
  /* Traces: side 0 per table position (npos), side 1 per local post. */
  int ntr[2];
  uint64_t n[2];
  double *x[2]; /* scaled to base[s], ntr per element */
  int64_t base[2], period[2];
  double dec[2][BS_PLAST_MAX_TR]; /* dt / tau */
  uint8_t *hit; /* per local post: spiked (BrainPy order, in a step) */
  /* Per table position: its row's storage positions [rb, rb + rn), read
   * once from the table (lproj_row), and the row's stride when it is
   * affine (posts consecutive, tpos in steps of stride; else 0): the
   * rule's kernels then index without tpos and col. */
  uint64_t *rb, *rn;
  uint32_t *rstride;
  /* Per local post: its column's pres are consecutive table positions. */
  uint8_t *cdense;
  /* Synapses per local post j: t in trow[j] .. trow[j + 1], ascending
   * storage order, with tsrc[t] their table position. */
  uint64_t *trow;
  uint32_t *tpos; /* 32 bits: build() refuses more local synapses */
  uint32_t *tsrc;
  /* Spikes reaching the synapses in step m: slot m % R, at most one per
   * table position. */
  uint32_t *qk;
  double *qeff;
  uint64_t *qn;
  /* Bit 63 set once a weight became NaN or infinite (bs_engine_all_finite's
   * test, accumulated as the rules write: a scan of every weight at every
   * exchange would cost more than the events). */
  uint64_t bad;
} lplast;

static int match(const bs_proj_spec *js) { return js->plast != NULL; }

static bs_status build(bs_ctx *ctx, bs_net *net, lproj *lj) {
  BS_CALL(ctx, bs_proj_build_spiking(ctx, net, lj));
  if (lj->dl)
    return bs_error_set(
        ctx, BS_ERR_CONFIG,
        "projection '%s': plasticity needs one delay per pre neuron (per "
        "projection, or per pre neuron with delay_per_pre), not per synapse",
        lj->spec->name);
  if (lj->nnz > UINT32_MAX)
    return bs_error_set(
        ctx, BS_ERR_CONFIG,
        "projection '%s': %llu plastic synapses on one rank (at most 2^32 - "
        "1: the kind indexes them in 32 bits); run on more ranks",
        lj->spec->name, (unsigned long long)lj->nnz);
  return BS_OK;
}

/* The factors of side s at step m: reading (g, value = x g) and jumping
 * (j, x += j), per trace; either may be NULL. */
static void factors(const lplast *pl, int s, int64_t m, double *g, double *j) {
  for (int t = 0; t < pl->ntr[s]; t++) {
    const double a = (double)(m - pl->base[s]) * pl->dec[s][t];
    if (g)
      g[t] = exp(-a);
    if (j)
      j[t] = exp(a);
  }
}

/* Side s moved to base b: every x scaled by exp(-(b - base) dt / tau). */
static void rebase(lplast *pl, int s, int64_t b) {
  const int nt = pl->ntr[s];
  for (int t = 0; t < nt; t++) {
    const double f = exp(-((double)(b - pl->base[s]) * pl->dec[s][t]));
    double *restrict x = pl->x[s];
    for (uint64_t e = 0; e < pl->n[s]; e++)
      x[e * (uint64_t)nt + t] *= f;
  }
  pl->base[s] = b;
}

/* A spike of element e of side s: every trace jumps by 1 (j: factors). */
static inline void jump(lplast *pl, int s, uint64_t e, const double *j) {
  const int nt = pl->ntr[s];
  for (int t = 0; t < nt; t++)
    pl->x[s][e * (uint64_t)nt + t] += j[t];
}

static void reset(lproj *lj) {
  bs_proj_reset_post(lj);
  lplast *pl = lj->pl;
  for (int s = 0; s < 2; s++) {
    memset(pl->x[s], 0, pl->n[s] * (uint64_t)pl->ntr[s] * sizeof(double));
    pl->base[s] = 0;
  }
  memset(pl->qn, 0, lj->R * sizeof(uint64_t));
}

static bs_status setup(bs_ctx *ctx, bs_net *net, lproj *lj) {
  /* The linear kinds' ring buffer and per-post state (proj.c). */
  BS_CALL(ctx, bs_proj_setup_post(ctx, net, lj));
  const bs_plast_rule *rule = lj->spec->plast;
  lplast *pl;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *pl, &pl));
  lj->pl = pl;
  pl->rule = rule;
  pl->p = lj->spec->plp;
  pl->ntr[0] = rule->npre;
  pl->ntr[1] = rule->npost;
  pl->n[0] = lj->npos;
  pl->n[1] = lj->post->n;
  for (int t = 0; t < rule->npre; t++)
    pl->dec[0][t] = net->spec->dt / pl->p[rule->pre_tau[t]];
  for (int t = 0; t < rule->npost; t++)
    pl->dec[1][t] = net->spec->dt / pl->p[rule->post_tau[t]];
  for (int s = 0; s < 2; s++) {
    /* the base moves every `period` steps: the factors stay within
     * e^(+-200), far from overflow */
    double dmax = 0.0;
    for (int t = 0; t < pl->ntr[s]; t++)
      dmax = fmax(dmax, pl->dec[s][t]);
    const double per = dmax > 0.0 ? floor(200.0 / dmax) : 0x1p40;
    pl->period[s] = per < 1.0      ? 1
                    : per > 0x1p40 ? (int64_t)1 << 40
                                   : (int64_t)per;
    const size_t n = pl->n[s] ? pl->n[s] : 1;
    const size_t nt = (size_t)(pl->ntr[s] ? pl->ntr[s] : 1);
    BS_CALL(ctx, bs_calloc(ctx, n * nt, sizeof(double), &pl->x[s]));
  }
  BS_CALL(ctx, bs_calloc(ctx, pl->n[1] ? pl->n[1] : 1, 1, &pl->hit));
  const uint64_t nk = lj->npos ? lj->npos : 1;
  BS_CALL(ctx, bs_calloc(ctx, nk, sizeof(uint64_t), &pl->rb));
  BS_CALL(ctx, bs_calloc(ctx, nk, sizeof(uint64_t), &pl->rn));
  BS_CALL(ctx, bs_calloc(ctx, nk, sizeof(uint32_t), &pl->rstride));
  BS_CALL(ctx, bs_calloc(ctx, pl->n[1] ? pl->n[1] : 1, 1, &pl->cdense));
  const uint64_t nnz = lj->nnz, npost = lj->post->n;
  BS_CALL(ctx, bs_malloc(ctx, nnz ? nnz : 1, sizeof(double), &pl->w));
  BS_CALL(ctx, bs_calloc(ctx, npost + 1, sizeof(uint64_t), &pl->trow));
  BS_CALL(ctx, bs_malloc(ctx, nnz ? nnz : 1, sizeof(uint32_t), &pl->tpos));
  BS_CALL(ctx, bs_malloc(ctx, nnz ? nnz : 1, sizeof(uint32_t), &pl->tsrc));
  for (uint64_t k = 0; k < lj->npos; k++) {
    lrow r;
    lproj_row(lj, k, &r);
    for (uint64_t q = 0; q < r.n; q++)
      pl->trow[r.col[q] + 1]++;
  }
  for (uint64_t j = 0; j < npost; j++)
    pl->trow[j + 1] += pl->trow[j];
  uint64_t *fill;
  BS_CALL(ctx, bs_malloc(ctx, npost ? npost : 1, sizeof(uint64_t), &fill));
  memcpy(fill, pl->trow, npost * sizeof(uint64_t));
  for (uint64_t k = 0; k < lj->npos; k++) {
    lrow r;
    lproj_row(lj, k, &r);
    const uint64_t b = r.at;
    for (uint64_t q = 0; q < r.n; q++) {
      const uint64_t at = fill[r.col[q]]++;
      pl->tpos[b + q] = (uint32_t)at;
      pl->w[at] = lrow_w(&r, q);
      pl->tsrc[at] = (uint32_t)k;
    }
  }
  bs_free(ctx, npost ? npost : 1, sizeof(uint64_t), &fill);
  for (uint64_t k = 0; k < lj->npos; k++) {
    lrow r;
    lproj_row(lj, k, &r);
    const uint64_t b = r.at;
    pl->rb[k] = b;
    pl->rn[k] = r.n;
    const int64_t st = r.n > 1 ? (int64_t)pl->tpos[b + 1] - pl->tpos[b] : 1;
    int aff = r.n > 0 && st > 0;
    for (uint64_t q = 1; aff && q < r.n; q++)
      aff = r.col[q] == r.col[0] + q &&
            pl->tpos[b + q] == pl->tpos[b] + (uint64_t)st * q;
    pl->rstride[k] = aff ? (uint32_t)st : 0;
  }
  for (uint64_t j = 0; j < npost; j++) {
    const uint64_t t0 = pl->trow[j], t1 = pl->trow[j + 1];
    int dense = 1;
    for (uint64_t t = t0; dense && t < t1; t++)
      dense = pl->tsrc[t] == pl->tsrc[t0] + (t - t0);
    pl->cdense[j] = (uint8_t)dense;
  }
  const size_t qn = (size_t)lj->R * (lj->npos ? lj->npos : 1);
  BS_CALL(ctx, bs_malloc(ctx, qn, sizeof(uint32_t), &pl->qk));
  BS_CALL(ctx, bs_malloc(ctx, qn, sizeof(double), &pl->qeff));
  BS_CALL(ctx, bs_calloc(ctx, lj->R, sizeof(uint64_t), &pl->qn));
  /* The per-synapse part is connectivity storage: weight and transposed
   * index (bytes per synapse in the summary and /meta). */
  lj->syn_bytes += nnz * (sizeof(double) + 2 * sizeof(uint32_t));
  reset(lj);
  return BS_OK;
}

static void destroy(bs_ctx *ctx, bs_net *net, lproj *lj) {
  (void)net;
  lplast *pl = lj->pl;
  if (!pl)
    return;
  for (int s = 0; s < 2; s++) {
    const size_t n = pl->n[s] ? pl->n[s] : 1;
    const size_t nt = (size_t)(pl->ntr[s] ? pl->ntr[s] : 1);
    bs_free(ctx, n * nt, sizeof(double), &pl->x[s]);
  }
  bs_free(ctx, pl->n[1] ? pl->n[1] : 1, 1, &pl->hit);
  const uint64_t nk = lj->npos ? lj->npos : 1;
  bs_free(ctx, nk, sizeof(uint64_t), &pl->rb);
  bs_free(ctx, nk, sizeof(uint64_t), &pl->rn);
  bs_free(ctx, nk, sizeof(uint32_t), &pl->rstride);
  bs_free(ctx, pl->n[1] ? pl->n[1] : 1, 1, &pl->cdense);
  const uint64_t nnz = lj->nnz ? lj->nnz : 1;
  bs_free(ctx, nnz, sizeof(double), &pl->w);
  bs_free(ctx, lj->post->n + 1, sizeof(uint64_t), &pl->trow);
  bs_free(ctx, nnz, sizeof(uint32_t), &pl->tpos);
  bs_free(ctx, nnz, sizeof(uint32_t), &pl->tsrc);
  const size_t qn = (size_t)lj->R * (lj->npos ? lj->npos : 1);
  bs_free(ctx, qn, sizeof(uint32_t), &pl->qk);
  bs_free(ctx, qn, sizeof(double), &pl->qeff);
  bs_free(ctx, lj->R, sizeof(uint64_t), &pl->qn);
  bs_free(ctx, 1, sizeof *pl, &lj->pl);
}

/* The spike of the pre at table position k, queued for the step it
 * reaches the synapses (one delay per pre); a pre without local synapses
 * has nothing to learn here. */
static void deliver(bs_net *net, lproj *lj, uint64_t k, int64_t step,
                    double eff) {
  (void)net;
  lplast *pl = lj->pl;
  if (!pl->rn[k])
    return;
  const uint32_t d = lj->dpre ? lj->dpre[k] : lj->d0;
  const uint64_t sl = (uint64_t)(step + 1 + d) % lj->R;
  /* each pre at most once per step: a slot's queue holds npos */
  BS_ASSERT(d < lj->R && pl->qn[sl] < lj->npos);
  const uint64_t at = sl * lj->npos + pl->qn[sl]++;
  pl->qk[at] = (uint32_t)k;
  pl->qeff[at] = eff;
}

/* The rule's events of step m, in its order (README "Long-term
 * plasticity"); each arriving spike delivers its synapses' updated
 * weights into the step's ring slot, in arrival order. */
static void events(bs_net *net, lproj *lj, int64_t m, const uint32_t *qk,
                   const double *qe, uint64_t na, double *in) {
  lplast *pl = lj->pl;
  const bs_plast_rule *ru = pl->rule;
  const lpop *post = lj->post;
  const size_t np = post->nspk;
  bs_plast_ev ev = {.p = pl->p,
                    .w = pl->w,
                    .x = {pl->x[0], pl->x[1]},
                    .col = lj->col,
                    .in = in,
                    .tpos = pl->tpos,
                    .tsrc = pl->tsrc};
  double j0[BS_PLAST_MAX_TR], j1[BS_PLAST_MAX_TR];
  uint64_t bad = 0;
  if (ru->order == BS_PLAST_TIME_ORDER) {
    if (np) { /* the post spikes of step m - 1, at their own time */
      factors(pl, 0, m - 1, ev.g[0], NULL);
      factors(pl, 1, m - 1, ev.g[1], j1);
      for (size_t q = 0; q < np; q++) {
        ev.j = post->spk[q];
        ev.t0 = pl->trow[ev.j];
        ev.t1 = pl->trow[ev.j + 1];
        ev.dense = pl->cdense[ev.j];
        bad |= ru->post_col(&ev);
      }
      for (size_t q = 0; q < np; q++)
        jump(pl, 1, post->spk[q], j1);
    }
    if (na) {
      factors(pl, 0, m, ev.g[0], j0);
      factors(pl, 1, m, ev.g[1], NULL);
    }
  } else { /* BrainPy: every trace first, then on_pre, then on_post */
    factors(pl, 0, m, ev.g[0], j0);
    factors(pl, 1, m, ev.g[1], j1);
    for (uint64_t a = 0; a < na; a++)
      jump(pl, 0, qk[a], j0);
    for (size_t q = 0; q < np; q++) {
      jump(pl, 1, post->spk[q], j1);
      pl->hit[post->spk[q]] = 1;
    }
    ev.hit = np ? pl->hit : NULL;
  }
  for (uint64_t a = 0; a < na; a++) {
    ev.k = qk[a];
    ev.b = pl->rb[ev.k];
    ev.e = ev.b + pl->rn[ev.k];
    ev.stride = pl->rstride[ev.k];
    ev.eff = qe[a];
    bad |= ru->pre_row(&ev);
    net->syn_events += ev.e - ev.b;
  }
  if (ru->order == BS_PLAST_TIME_ORDER) {
    for (uint64_t a = 0; a < na; a++)
      jump(pl, 0, qk[a], j0);
  } else { /* on_post on every synapse of the post (after pre_row's
            * on_pre where a pre arrived: the same value pre_row
            * delivered) */
    for (size_t q = 0; q < np; q++) {
      ev.j = post->spk[q];
      ev.t0 = pl->trow[ev.j];
      ev.t1 = pl->trow[ev.j + 1];
      ev.dense = pl->cdense[ev.j];
      bad |= ru->post_col(&ev);
      pl->hit[ev.j] = 0;
    }
  }
  pl->bad |= bad;
}

static void prepare(bs_net *net, lproj *lj, int64_t m) {
  lplast *pl = lj->pl;
  for (int s = 0; s < 2; s++) /* on every rank at the same steps */
    if (m - pl->base[s] >= pl->period[s])
      rebase(pl, s, m - m % pl->period[s]);
  const uint64_t sl = (uint64_t)m % lj->R;
  const uint64_t na = pl->qn[sl];
  if (na || lj->post->nspk)
    events(net, lj, m, pl->qk + sl * lj->npos, pl->qeff + sl * lj->npos, na,
           lj->ring + sl * lj->post->n);
  pl->qn[sl] = 0;
}

static double weight(const lproj *lj, const lmon *m, uint64_t c) {
  return lj->pl->w[lj->pl->tpos[m->ssyn[c]]];
}

static bs_status scan(bs_ctx *ctx, const bs_net *net, const lproj *lj,
                      int64_t t0, int64_t t1) {
  BS_CALL(ctx, bs_proj_scan_post(ctx, net, lj, t0, t1));
  const lplast *pl = lj->pl;
  if (!(pl->bad >> 63))
    return BS_OK;
  for (uint64_t s = 0; s < lj->nnz; s++)
    if (!isfinite(pl->w[s]))
      return bs_error_set(
          ctx, BS_ERR_NUMERIC,
          "projection '%s': a weight became %g between t = %.4g and %.4g ms "
          "(plasticity %s): check the rule's parameters and bounds",
          lj->spec->name, pl->w[s], (double)t0 * net->spec->dt,
          (double)t1 * net->spec->dt, pl->rule->name);
  return BS_OK;
}

/* Checkpoint. Per synapse, in the target-major order of the edges output
 * (the same on every rank count), one column of: the weight, its pre
 * neuron's traces (scaled) and their base step, and for each of the next
 * R steps the stp efficacy of a spike of the pre reaching the synapse
 * then (NaN: none). Per post neuron: its traces, their base step and
 * whether it spiked in the last step (seen in the next). A reader rebuilds
 * each step's queue in delivery order, (emission step, pre). */
typedef struct qent {
  int64_t emit;
  uint32_t k;
  double eff;
} qent;

static int cmp_qent(const void *a, const void *b) {
  const qent *x = a, *y = b;
  if (x->emit != y->emit)
    return x->emit < y->emit ? -1 : 1;
  return (x->k > y->k) - (x->k < y->k);
}

/* A restored trace: scaled to base b (the base it was written with; a
 * different one is converted). */
static void restore_trace(lplast *pl, int s, uint64_t e, int t, double v,
                          int64_t b) {
  if (b != pl->base[s])
    v *= exp(-((double)(pl->base[s] - b) * pl->dec[s][t]));
  pl->x[s][e * (uint64_t)pl->ntr[s] + (uint64_t)t] = v;
}

static bs_status walk_plastic(bs_ctx *ctx, lproj *lj, bs_io *io, int64_t step,
                              bs_block_fn fn, int reading) {
  lplast *pl = lj->pl;
  const uint64_t n = lj->nnz, nn = n ? n : 1, R = lj->R, ns = lj->npos;
  const int t0 = pl->ntr[0], t1 = pl->ntr[1];
  const uint64_t rows = 1 + (uint64_t)t0 + 1 + R;
  uint64_t row0 = 0, total = n;
  BS_CALL(ctx, bs_comm_exscan_u64(ctx, n, &row0));
  BS_CALL(ctx, bs_comm_sum_u64(ctx, &total, 1));
  double *buf = NULL, *q = NULL;
  bs_status st = bs_malloc(ctx, rows * nn, sizeof(double), &buf);
  if (st == BS_OK)
    st = bs_malloc(ctx, R * (ns ? ns : 1), sizeof(double), &q);
  st = bs_comm_agree(ctx, st, NULL);
  if (st != BS_OK)
    goto done;
  for (uint64_t e = 0; e < R * ns; e++)
    q[e] = NAN;
  if (!reading) {
    for (uint64_t r = 0; r < R; r++) {
      const uint64_t sl = ((uint64_t)step + r) % R;
      for (uint64_t a = 0; a < pl->qn[sl]; a++)
        q[r * ns + pl->qk[sl * ns + a]] = pl->qeff[sl * ns + a];
    }
    for (uint64_t t = 0; t < n; t++) {
      const uint64_t k = pl->tsrc[t];
      buf[t] = pl->w[t];
      for (int v = 0; v < t0; v++)
        buf[(uint64_t)(1 + v) * n + t] = pl->x[0][k * (uint64_t)t0 + v];
      buf[(uint64_t)(1 + t0) * n + t] = (double)pl->base[0];
      for (uint64_t r = 0; r < R; r++)
        buf[(2 + (uint64_t)t0 + r) * n + t] = q[r * ns + k];
    }
  }
  char path[1024];
  snprintf(path, sizeof path, "/state/projections/%s/plastic_syn",
           lj->spec->name);
  st = fn(ctx, io, path, rows, total, row0, n, buf);
  if (st == BS_OK && reading) {
    pl->base[0] = n ? (int64_t)buf[(uint64_t)(1 + t0) * n] : 0;
    for (uint64_t t = 0; t < n; t++) {
      const uint64_t k = pl->tsrc[t];
      const int64_t b = (int64_t)buf[(uint64_t)(1 + t0) * n + t];
      pl->w[t] = buf[t];
      for (int v = 0; v < t0; v++)
        restore_trace(pl, 0, k, v, buf[(uint64_t)(1 + v) * n + t], b);
      for (uint64_t r = 0; r < R; r++)
        q[r * ns + k] = buf[(2 + (uint64_t)t0 + r) * n + t];
    }
    /* each slot's queue in delivery order: (emission step, pre) */
    qent *tmp = (qent *)
        buf; /* rows * n doubles (rows >= 3) hold ns <= n entries of 24 B */
    for (uint64_t r = 0; r < R; r++) {
      const uint64_t sl = ((uint64_t)step + r) % R;
      uint64_t m = 0;
      for (uint64_t k = 0; k < ns; k++)
        if (!isnan(q[r * ns + k])) {
          const uint32_t d = lj->dpre ? lj->dpre[k] : lj->d0;
          tmp[m++] = (qent){step + (int64_t)r - 1 - (int64_t)d, (uint32_t)k,
                            q[r * ns + k]};
        }
      qsort(tmp, m, sizeof *tmp, cmp_qent);
      for (uint64_t a = 0; a < m; a++) {
        pl->qk[sl * ns + a] = tmp[a].k;
        pl->qeff[sl * ns + a] = tmp[a].eff;
      }
      pl->qn[sl] = m;
    }
  }
  if (st != BS_OK)
    goto done;
  /* per post neuron */
  const uint64_t np_ = lj->post->n, prow = (uint64_t)t1 + 2;
  double *pb = NULL;
  st = bs_comm_agree(
      ctx, bs_malloc(ctx, prow * (np_ ? np_ : 1), sizeof(double), &pb), NULL);
  if (st != BS_OK)
    goto done;
  if (!reading) {
    for (uint64_t j = 0; j < np_; j++) {
      for (int v = 0; v < t1; v++)
        pb[(uint64_t)v * np_ + j] = pl->x[1][j * (uint64_t)t1 + v];
      pb[(uint64_t)t1 * np_ + j] = (double)pl->base[1];
      pb[(uint64_t)(t1 + 1) * np_ + j] = 0.0;
    }
    for (size_t a = 0; a < lj->post->nspk; a++)
      pb[(uint64_t)(t1 + 1) * np_ + lj->post->spk[a]] = 1.0;
  }
  snprintf(path, sizeof path, "/state/projections/%s/plastic_post",
           lj->spec->name);
  st = fn(ctx, io, path, prow, lj->post->spec->size, lj->post->lo, np_, pb);
  if (st == BS_OK && reading) {
    lpop *post = lj->post;
    post->nspk = 0;
    pl->base[1] = np_ ? (int64_t)pb[(uint64_t)t1 * np_] : 0;
    for (uint64_t j = 0; j < np_; j++) {
      const int64_t b = (int64_t)pb[(uint64_t)t1 * np_ + j];
      for (int v = 0; v < t1; v++)
        restore_trace(pl, 1, j, v, pb[(uint64_t)v * np_ + j], b);
      if (pb[(uint64_t)(t1 + 1) * np_ + j] != 0.0)
        post->spk[post->nspk++] = (uint32_t)j;
    }
  }
  bs_free(ctx, prow * (np_ ? np_ : 1), sizeof(double), &pb);
done:
  bs_free(ctx, rows * nn, sizeof(double), &buf);
  bs_free(ctx, R * (ns ? ns : 1), sizeof(double), &q);
  return st;
}

static bs_status walk(bs_ctx *ctx, bs_net *net, lproj *lj, bs_io *io,
                      int64_t step, bs_block_fn fn, int reading) {
  (void)net;
  BS_CALL(ctx, bs_proj_walk_x(ctx, lj, io, fn));
  BS_CALL(ctx, bs_proj_walk_stp(ctx, lj, io, fn, reading));
  return walk_plastic(ctx, lj, io, step, fn, reading);
}

/* The trained weights in SONATA's edge layout, /edges/<projection>: one
 * row per synapse ordered by target, then by the rank-independent
 * storage order (source, generation), so the file is the same on every
 * rank count; delay (ms) only where it varies per pre neuron. The SONATA
 * connector reads it back (README "Long-term plasticity"). */
static bs_status output(bs_ctx *ctx, bs_net *net, lproj *lj, bs_io *io) {
  const lplast *pl = lj->pl;
  const uint64_t n = lj->nnz, nn = n ? n : 1;
  uint64_t row0 = 0, total = n;
  BS_CALL(ctx, bs_comm_exscan_u64(ctx, n, &row0));
  BS_CALL(ctx, bs_comm_sum_u64(ctx, &total, 1));
  uint64_t *src = NULL, *tgt = NULL, *idx = NULL, *zero = NULL;
  double *w = NULL, *d = NULL;
  bs_status st = bs_malloc(ctx, nn, sizeof(uint64_t), &src);
  if (st == BS_OK)
    st = bs_malloc(ctx, nn, sizeof(uint64_t), &tgt);
  if (st == BS_OK)
    st = bs_malloc(ctx, nn, sizeof(uint64_t), &idx);
  if (st == BS_OK)
    st = bs_calloc(ctx, nn, sizeof(uint64_t), &zero);
  if (st == BS_OK)
    st = bs_malloc(ctx, nn, sizeof(double), &w);
  if (st == BS_OK)
    st = bs_malloc(ctx, nn, sizeof(double), &d);
  st = bs_comm_agree(ctx, st, NULL);
  if (st == BS_OK) {
    uint64_t r = 0;
    for (uint64_t j = 0; j < lj->post->n; j++)
      for (uint64_t t = pl->trow[j]; t < pl->trow[j + 1]; t++, r++) {
        const uint64_t k = pl->tsrc[t], pre = lproj_id(lj, k);
        src[r] = pre;
        tgt[r] = lj->post->lo + j;
        idx[r] = row0 + r;
        w[r] = pl->w[t];
        d[r] = (double)(lj->dpre ? lj->dpre[k] : lj->d0) * net->spec->dt;
      }
    char base[600], path[700];
    snprintf(base, sizeof base, "/edges/%s", lj->spec->name);
    struct {
      const char *name;
      int u64;
      const void *buf;
    } cols[] = {{"source_node_id", 1, src},
                {"target_node_id", 1, tgt},
                {"edge_type_id", 1, zero},
                {"edge_group_id", 1, zero},
                {"edge_group_index", 1, idx},
                {"0/syn_weight", 0, w},
                {"0/delay", 0, d}};
    const int ncols = lj->dpre ? 7 : 6;
    for (int c = 0; st == BS_OK && c < ncols; c++) {
      snprintf(path, sizeof path, "%s/%s", base, cols[c].name);
      st = bs_io_column_write(ctx, io, path, cols[c].u64, total, row0, n,
                              cols[c].buf);
    }
    snprintf(path, sizeof path, "%s/source_node_id", base);
    if (st == BS_OK)
      st =
          bs_io_attr_str(ctx, io, path, "node_population", lj->pre->spec->name);
    snprintf(path, sizeof path, "%s/target_node_id", base);
    if (st == BS_OK)
      st = bs_io_attr_str(ctx, io, path, "node_population",
                          lj->post->spec->name);
  }
  bs_free(ctx, nn, sizeof(uint64_t), &src);
  bs_free(ctx, nn, sizeof(uint64_t), &tgt);
  bs_free(ctx, nn, sizeof(uint64_t), &idx);
  bs_free(ctx, nn, sizeof(uint64_t), &zero);
  bs_free(ctx, nn, sizeof(double), &w);
  bs_free(ctx, nn, sizeof(double), &d);
  return st;
}

const bs_proj_ops bs_proj_plastic = {.name = "plastic",
                                     .match = match,
                                     .stage = BS_STAGE_I,
                                     .build = build,
                                     .setup = setup,
                                     .deliver = deliver,
                                     .prepare = prepare,
                                     .step = bs_proj_linear_step,
                                     .fuse = bs_proj_linear_fuse,
                                     .current = bs_proj_linear_current,
                                     .weight = weight,
                                     .scan = scan,
                                     .walk = walk,
                                     .output = output,
                                     .reset = reset,
                                     .destroy = destroy};

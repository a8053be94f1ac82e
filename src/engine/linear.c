/* Kinds "linear" and "linear_V": synapses linear in the spike train
 * (Exponential, DualExponential, Alpha, ...; Delta adds to V). One state
 * per post neuron, fed by a ring buffer of (max delay + 1) slots: a spike
 * of step n with delay d lands in slot (n + 1 + d) % R, read at that step.
 * Every ring cell receives its additions in canonical (step, gid) spike
 * order, so the sums are the same on every rank count and in both
 * storages. */
#include <string.h>

#include "engine_impl.h"

#define KERNEL_BLOCK 512 /* post neurons per synapse/output block */

static int match_linear(const bs_proj_spec *js) {
  (void)js;
  return 1;
}

static int match_linear_V(const bs_proj_spec *js) { return js->syn->to_V; }

static bs_status build(bs_ctx *ctx, bs_net *net, lproj *lj) {
  return bs_proj_build_spiking(ctx, net, lj);
}

static bs_status setup(bs_ctx *ctx, bs_net *net, lproj *lj) {
  BS_CALL(ctx, bs_proj_setup_post(ctx, net, lj));
  return bs_proj_count_ring(ctx, lj, 0, 1);
}

static bs_status counts(bs_ctx *ctx, lproj *lj, int bytes) {
  return bs_proj_count_ring(ctx, lj, 1, bytes);
}

/* The delivery loops over one row's targets: col16[0..n) or col[0..n)
 * (the other NULL; the narrow ones are what most projections store,
 * lproj_narrow), as differences where lj's col16_delta says so, with
 * BODY for target tq of synapse q. */
#define FOR_TARGETS(LJ, C16, C32, N, BODY)                                     \
  if ((C16) && (LJ)->col16_delta) {                                            \
    const uint16_t *restrict dq = (C16);                                       \
    uint32_t tq = 0;                                                           \
    for (uint64_t q = 0; q < (N); q++) {                                       \
      tq += dq[q];                                                             \
      BODY;                                                                    \
    }                                                                          \
  } else if (C16) {                                                            \
    const uint16_t *restrict col = (C16);                                      \
    for (uint64_t q = 0; q < (N); q++) {                                       \
      const uint32_t tq = col[q];                                              \
      BODY;                                                                    \
    }                                                                          \
  } else {                                                                     \
    const uint32_t *restrict col = (C32);                                      \
    for (uint64_t q = 0; q < (N); q++) {                                       \
      const uint32_t tq = col[q];                                              \
      BODY;                                                                    \
    }                                                                          \
  }

/* One spike into a count ring slot of CELLs: one more w0 in each
 * target's cell. A cell counts at most cmax arrivals (its neuron's
 * in-degree): more would read past csum, or wrap. n is a local: the byte
 * stores may alias anything the compiler cannot see, and would reload it
 * every target. */
#define COUNT_ROW(NAME, CELL)                                                  \
  static inline void NAME(const lproj *lj, CELL *restrict slot,                \
                          const uint16_t *c16, const uint32_t *c32,            \
                          const uint64_t n) {                                  \
    FOR_TARGETS(lj, c16, c32, n, BS_ASSERT(tq < lj->post->n);                  \
                BS_ASSERT(slot[tq] < lj->cmax); slot[tq]++)                    \
  }
COUNT_ROW(count_row8, uint8_t)
COUNT_ROW(count_row, uint16_t)

/* One spike into a slot of the ring of doubles: eff times each synapse's
 * weight (w, or w0 for all where w is NULL). */
static inline void sum_row(const lproj *lj, double *restrict slot,
                           const uint16_t *c16, const uint32_t *c32,
                           const uint64_t n, const float *restrict w, double w0,
                           double eff) {
  if (!w) {
    const double x = w0 * eff;
    FOR_TARGETS(lj, c16, c32, n, BS_ASSERT(tq < lj->post->n); slot[tq] += x)
  } else if (eff == 1.0) { /* x * 1.0 == x: the same sums without stp */
    FOR_TARGETS(lj, c16, c32, n, BS_ASSERT(tq < lj->post->n);
                slot[tq] += (double)w[q])
  } else {
    FOR_TARGETS(lj, c16, c32, n, BS_ASSERT(tq < lj->post->n);
                slot[tq] += (double)w[q] * eff)
  }
}

/* One spike whose targets have delays of their own: cell by cell. */
static void deliver_delays(const lproj *lj, const lrow *r, int64_t step,
                           double eff) {
  const size_t npost = lj->post->n;
  for (uint64_t q = 0; q < r->n; q++) {
    /* a delay of R or more would land in a slot read too early */
    BS_ASSERT(lrow_d(r, q) < lj->R && lrow_col(r, q) < npost);
    const size_t c =
        (size_t)((uint64_t)(step + 1 + lrow_d(r, q)) % lj->R) * npost +
        lrow_col(r, q);
    if (lj->cring8) {
      BS_ASSERT(lj->cring8[c] < lj->cmax);
      lj->cring8[c]++;
    } else if (lj->cring) {
      BS_ASSERT(lj->cring[c] < lj->cmax);
      lj->cring[c]++;
    } else {
      lj->ring[c] += lrow_w(r, q) * eff;
    }
  }
}

/* The row (targets c16 or c32, n of them, weights w) into ring slot sl,
 * whichever ring the projection keeps (count rings: no stp, eff is 1).
 * Inlined by force: with the loops over differences GCC made it a call
 * per row. */
static inline __attribute__((always_inline)) void
deliver_row(lproj *lj, size_t sl, const uint16_t *c16, const uint32_t *c32,
            uint64_t n, const float *w, double eff) {
  BS_ASSERT(sl < lj->R);
  const size_t o = sl * lj->post->n;
  if (lj->cring8)
    count_row8(lj, lj->cring8 + o, c16, c32, n);
  else if (lj->cring)
    count_row(lj, lj->cring + o, c16, c32, n);
  else
    sum_row(lj, lj->ring + o, c16, c32, n, w, lj->w0, eff);
}

/* One spike of pre i into the ring cells of its local targets, in the
 * row's order. */
static void deliver(bs_net *net, lproj *lj, uint64_t i, int64_t step,
                    double eff) {
  lrow r;
  lproj_row(lj, i, &r);
  if (!r.n)
    return;
  net->syn_events += r.n;
  if (r.dl) {
    deliver_delays(lj, &r, step, eff);
    return;
  }
  BS_ASSERT(r.d < lj->R);
  deliver_row(lj, (size_t)((uint64_t)(step + 1 + r.d) % lj->R), r.col16, r.col,
              r.n, r.w, eff);
}

/* deliver_all looks up the table positions of CHUNK spikes (and fetches
 * their row offsets) before it delivers them, fetching the rows of the
 * spike AHEAD of the one it delivers: at 256k neurons a row is a miss
 * otherwise. */
#define CHUNK 256
#define AHEAD 8

/* Ring slot of step t0 + s plus 1 + d, from base = t0 % R: s is less
 * than an interval and d less than R, so one subtraction nearly always
 * does, and no division per spike. */
static inline size_t ring_slot(const lproj *lj, uint64_t base, uint64_t s,
                               uint32_t d) {
  uint64_t x = base + s + 1 + d;
  if (x >= lj->R) {
    x -= lj->R;
    if (x >= lj->R)
      x %= lj->R;
  }
  return (size_t)x;
}

/* Spikes at table positions pos[0..m), steps t0 + s[j]: a sparse table
 * without ct or per-synapse delays is read here, row bounds and all; any
 * other storage through lproj_row (deliver). */
static void deliver_chunk(bs_net *net, lproj *lj, const uint64_t *pos,
                          const uint32_t *s, size_t m, int64_t t0) {
  if (lj->dense || lj->ct || lj->dl) {
    for (size_t j = 0; j < m; j++) {
      const int64_t step = t0 + s[j];
      deliver(net, lj, pos[j], step, bs_proj_stp_spike(net, lj, pos[j], step));
    }
    return;
  }
  const uint64_t base = (uint64_t)t0 % lj->R;
  for (size_t j = 0; j < m && j < AHEAD; j++)
    lproj_prefetch(lj, pos[j], 1);
  for (size_t j = 0; j < m; j++) {
    if (j + AHEAD < m)
      lproj_prefetch(lj, pos[j + AHEAD], 1);
    const uint64_t k = pos[j], b = lproj_row_off(lj, k),
                   n = lproj_row_off(lj, k + 1) - b;
    const double eff = bs_proj_stp_spike(net, lj, k, t0 + s[j]);
    if (!n)
      continue;
    net->syn_events += n;
    const uint32_t d = lj->dpre ? lj->dpre[k] : lj->d0;
    BS_ASSERT(d < lj->R);
    deliver_row(
        lj, ring_slot(lj, base, s[j], d), lj->col16 ? lj->col16 + b : NULL,
        lj->col16 ? NULL : lj->col + b, n, lj->w ? lj->w + b : NULL, eff);
  }
}

static void deliver_all(bs_net *net, lproj *lj, const uint64_t *keys, size_t nk,
                        uint64_t g0, uint64_t g1, int64_t t0) {
  uint64_t pos[CHUNK];
  uint32_t s[CHUNK];
  size_t m = 0;
  const int pf = !lj->dense && !lj->ct;
  for (size_t q = 0; q < nk; q++) {
    const uint64_t gid = keys[q] & 0xffffffffu;
    if (gid < g0 || gid >= g1)
      continue;
    const uint64_t k = lproj_pos(lj, gid - g0);
    if (k == LPROJ_NONE)
      continue;
    if (pf)
      lproj_prefetch(lj, k, 0);
    pos[m] = k;
    s[m] = (uint32_t)(keys[q] >> 32);
    if (++m == CHUNK) {
      deliver_chunk(net, lj, pos, s, m, t0);
      m = 0;
    }
  }
  deliver_chunk(net, lj, pos, s, m, t0);
}

/* This step's arrivals into the synapse state, then the output into the
 * post's input with V of the previous step; in blocks small enough for L1,
 * so the output reads g while hot. */
void bs_proj_linear_step(bs_net *net, lproj *lj, int64_t n) {
  (void)net;
  const bs_proj_spec *js = lj->spec;
  double *in = bs_proj_arrivals(lj, n);
  for (size_t b0 = 0; b0 < lj->post->n; b0 += KERNEL_BLOCK) {
    const size_t bn =
        lj->post->n - b0 < KERNEL_BLOCK ? lj->post->n - b0 : KERNEL_BLOCK;
    double *xs[BS_MAX_VARS];
    for (int v = 0; v < js->syn->nx; v++)
      xs[v] = lj->x[v] + b0;
    bs_syn_args sa = {.n = bn, .p = js->sp, .k = lj->k, .x = xs, .in = in + b0};
    js->syn->update(&sa);
    bs_out_args oa = {.n = bn,
                      .p = js->op,
                      .g = xs[0],
                      .V = lj->post->x[0] + b0,
                      .I = lj->post->I + b0,
                      .G = lj->post->G + b0,
                      .E = lj->E_post ? lj->E_post + b0 : NULL};
    js->out->apply(&oa);
  }
}

/* Delta: the arrivals add to V (gated by the post's refractory period). */
static void step_V(bs_net *net, lproj *lj, int64_t n) {
  bs_syn_args sa = {.n = lj->post->n,
                    .p = lj->spec->sp,
                    .k = lj->k,
                    .in = bs_proj_arrivals(lj, n),
                    .V = lj->post->x[0]};
  if (lj->ref_var >= 0) {
    sa.t_last = lj->post->x[lj->ref_var];
    sa.t_prev = (double)(n - 1) * net->spec->dt;
    sa.ref_lim = lj->ref_lim;
  }
  lj->spec->syn->update(&sa);
}

/* The post's fused update does step_linear's work when the pair of
 * synapse and output has a block kernel. */
int bs_proj_linear_fuse(const lproj *lj, bs_fused_syn *fs) {
  const bs_proj_spec *js = lj->spec;
  int (*term)(const bs_fused_syn *, bs_fused_term *);
  const bs_fused_syn_fn fn = bs_fused_syn_kernel(js->syn, js->out, &term);
  if (!fn)
    return 0;
  *fs = (bs_fused_syn){.block = fn,
                       .term = term,
                       .k = lj->k,
                       .op = js->op,
                       .E = lj->E_post,
                       .x = lj->x,
                       .sums = lj->csum,
                       .w = lj->w0,
                       .kexact = lj->ckexact};
  return 1;
}

static bs_status walk(bs_ctx *ctx, bs_net *net, lproj *lj, bs_io *io,
                      int64_t step, bs_block_fn fn, int reading) {
  (void)net;
  BS_CALL(ctx, bs_proj_walk_x(ctx, lj, io, fn));
  BS_CALL(ctx, bs_proj_walk_ring(ctx, lj, io, step, fn, reading));
  return bs_proj_walk_stp(ctx, lj, io, fn, reading);
}

double bs_proj_linear_current(const lproj *lj, uint64_t i) {
  double I = 0.0, G = 0.0;
  const bs_proj_spec *js = lj->spec;
  bs_out_args oa = {.n = 1,
                    .p = js->op,
                    .g = lj->x[0] + i,
                    .V = lj->post->x[0] + i,
                    .I = &I,
                    .G = &G,
                    .E = lj->E_post ? lj->E_post + i : NULL};
  js->out->apply(&oa);
  return I;
}

const bs_proj_ops bs_proj_linear = {.name = "linear",
                                    .narrow_targets = 1,
                                    .match = match_linear,
                                    .stage = BS_STAGE_I,
                                    .build = build,
                                    .setup = setup,
                                    .deliver = deliver,
                                    .deliver_all = deliver_all,
                                    .step = bs_proj_linear_step,
                                    .current = bs_proj_linear_current,
                                    .scan = bs_proj_scan_post,
                                    .fuse = bs_proj_linear_fuse,
                                    .counts = counts,
                                    .prefetch = lproj_prefetch,
                                    .walk = walk,
                                    .reset = bs_proj_reset_post};

const bs_proj_ops bs_proj_linear_V = {.name = "linear_V",
                                      .narrow_targets = 1,
                                      .match = match_linear_V,
                                      .stage = BS_STAGE_V,
                                      .build = build,
                                      .setup = setup,
                                      .deliver = deliver,
                                      .deliver_all = deliver_all,
                                      .prefetch = lproj_prefetch,
                                      .step = step_V,
                                      .scan = bs_proj_scan_post,
                                      .walk = walk,
                                      .reset = bs_proj_reset_post};

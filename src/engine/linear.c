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

/* The delivery loops over one row, for targets COL of either width (the
 * narrow ones are what most projections store, lproj_narrow). */

/* One spike into a count ring of CELLs: one more w0 in each target's
 * cell. A cell counts at most cmax arrivals (its neuron's in-degree): more
 * would read past csum, or wrap. */
#define DELIVER_COUNT(COL, CELL)                                               \
  if (r->dl) {                                                                 \
    for (uint64_t q = 0; q < r->n; q++) {                                      \
      BS_ASSERT(lrow_d(r, q) < lj->R && COL[q] < npost);                       \
      CELL *cell =                                                             \
          ring +                                                               \
          (size_t)((uint64_t)(step + 1 + lrow_d(r, q)) % lj->R) * npost +      \
          COL[q];                                                              \
      BS_ASSERT(*cell < lj->cmax);                                             \
      (*cell)++;                                                               \
    }                                                                          \
    return;                                                                    \
  }                                                                            \
  BS_ASSERT(r->d < lj->R);                                                     \
  CELL *restrict slot =                                                        \
      ring + (size_t)((uint64_t)(step + 1 + r->d) % lj->R) * npost;            \
  for (uint64_t q = 0; q < r->n; q++) {                                        \
    BS_ASSERT(COL[q] < npost && slot[COL[q]] < lj->cmax);                      \
    slot[COL[q]]++;                                                            \
  }

/* Delivery loop LOOP (DELIVER_COUNT, DELIVER_SUM) for the row's targets
 * of either width into a ring of CELLs. */
#define DELIVER_COLS(LOOP, CELL)                                               \
  if (r->col16) {                                                              \
    const uint16_t *restrict col = r->col16;                                   \
    LOOP(col, CELL)                                                            \
  } else {                                                                     \
    const uint32_t *restrict col = r->col;                                     \
    LOOP(col, CELL)                                                            \
  }

static void deliver_count8(lproj *lj, const lrow *r, int64_t step) {
  const size_t npost = lj->post->n;
  uint8_t *restrict ring = lj->cring8;
  DELIVER_COLS(DELIVER_COUNT, uint8_t)
}

static void deliver_count(lproj *lj, const lrow *r, int64_t step) {
  const size_t npost = lj->post->n;
  uint16_t *restrict ring = lj->cring;
  DELIVER_COLS(DELIVER_COUNT, uint16_t)
}

/* One spike into the ring of doubles: eff times each synapse's weight. */
#define DELIVER_SUM(COL, CELL)                                                 \
  if (r->dl) {                                                                 \
    for (uint64_t q = 0; q < r->n; q++) {                                      \
      /* a delay of R or more would land in a slot read too early */           \
      BS_ASSERT(lrow_d(r, q) < lj->R && COL[q] < npost);                       \
      size_t sl = (size_t)((uint64_t)(step + 1 + lrow_d(r, q)) % lj->R);       \
      ring[sl * npost + COL[q]] += lrow_w(r, q) * eff;                         \
    }                                                                          \
    return;                                                                    \
  }                                                                            \
  BS_ASSERT(r->d < lj->R);                                                     \
  for (uint64_t q = 0; q < r->n; q++) /* no code in Release */                 \
    BS_ASSERT(COL[q] < npost);                                                 \
  CELL *restrict slot =                                                        \
      ring + (size_t)((uint64_t)(step + 1 + r->d) % lj->R) * npost;            \
  if (!r->w) {                                                                 \
    const double w = r->w0 * eff;                                              \
    for (uint64_t q = 0; q < r->n; q++)                                        \
      slot[COL[q]] += w;                                                       \
  } else if (eff == 1.0) { /* x * 1.0 == x: the same sums without stp */       \
    const float *restrict wq = r->w;                                           \
    for (uint64_t q = 0; q < r->n; q++)                                        \
      slot[COL[q]] += (double)wq[q];                                           \
  } else {                                                                     \
    const float *restrict wq = r->w;                                           \
    for (uint64_t q = 0; q < r->n; q++)                                        \
      slot[COL[q]] += (double)wq[q] * eff;                                     \
  }

static void deliver_sum(lproj *lj, const lrow *r, int64_t step, double eff) {
  const size_t npost = lj->post->n;
  double *restrict ring = lj->ring;
  DELIVER_COLS(DELIVER_SUM, double)
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
  if (lj->cring8) /* no stp: eff is 1 */
    deliver_count8(lj, &r, step);
  else if (lj->cring)
    deliver_count(lj, &r, step);
  else
    deliver_sum(lj, &r, step, eff);
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
                                      .prefetch = lproj_prefetch,
                                      .step = step_V,
                                      .scan = bs_proj_scan_post,
                                      .walk = walk,
                                      .reset = bs_proj_reset_post};

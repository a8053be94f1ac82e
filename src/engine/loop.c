/* The distributed step loop (DESIGN.md, "Data flow of one run"): it only
 * orchestrates. Time advances in intervals of D = 1 + (smallest delay)
 * steps; after each interval the spikes go, in one collective, to the
 * ranks that hold their targets, which receive them sorted by (step,
 * source gid) and hand them to the projections' kinds, so every sum
 * happens in the same order on every rank count. */
#define _POSIX_C_SOURCE 200809L
#include "brainsim/engine.h"

#include <stdlib.h>
#include <string.h>

#include "brainsim/comm.h"
#include "engine_impl.h"

/* Recorded spikes buffered over all ranks before a flush: rank 0 gathers
 * and sorts them (32 B each), so this bounds the writer's extra memory. */
#define SPIKE_FLUSH 16384
/* Wall seconds between writes of the files' HDF5 metadata (H5Fflush, which
 * also syncs them to disk): often enough that a file stays readable as it
 * stands, rarely enough that its cost does not grow with the spike rate. */
#define SYNC_EVERY_S 1.0

static bs_status push_local(bs_ctx *ctx, bs_net *net, uint64_t key) {
  if (net->nlocal == net->local_cap) {
    BS_CALL(ctx, bs_realloc(ctx, net->local_cap, 2 * net->local_cap,
                            sizeof(uint64_t), &net->local_spk));
    net->local_cap *= 2;
  }
  net->local_spk[net->nlocal++] = key;
  return BS_OK;
}

/* One step n of the interval starting at t0: inputs, synapses and their
 * outputs by stage, monitors, neurons; the spikes go to the local list.
 * Kept in one function: the boundary a fused per-population kernel
 * replaces. */
static bs_status step_once(bs_ctx *ctx, bs_net *net, int64_t n, int64_t t0) {
  const bs_spec *s = net->spec;
  const int np = s->n_pops, nj = s->n_projs;
  /* 1. inputs: constant currents */
  for (int p = 0; p < np; p++)
    if (net->pops[p].spec->model->has_V &&
        (!net->pops[p].fused || net->pops[p].tv_inputs)) {
      memcpy(net->pops[p].I, net->pops[p].I_ext,
             net->pops[p].n * sizeof(double));
      memset(net->pops[p].G, 0, net->pops[p].n * sizeof(double));
    }
  /*    and the time-varying inputs of this step, each over its local part */
  bs_engine_inputs_apply(net, n, 0);
  /* 2. synapses read this step's arrivals, then their outputs add to the
   *    post-synaptic input with V of the previous step: currents first,
   *    then gap junctions, then what adds to V (Delta), so every output
   *    read V of the previous step whatever the order of the projections. */
  for (int stage = 0; stage < BS_STAGES; stage++) {
    for (int j = 0; j < nj; j++) {
      lproj *lj = &net->projs[j];
      if (lj->ops->stage == stage && lj->ops->prepare)
        lj->ops->prepare(net, lj, n);
      if (lj->ops->stage == stage && lj->ops->step && !lj->fused)
        lj->ops->step(net, lj, n);
    }
    for (int k = 0; bs_proj_kinds[k]; k++)
      if (bs_proj_kinds[k]->stage == stage && bs_proj_kinds[k]->step_all)
        bs_proj_kinds[k]->step_all(net, n);
  }
  /*    inputs into V (target_var: V), after every output read V of the
   *    previous step, as Delta's arrivals */
  bs_engine_inputs_apply(net, n, 1);
  /* 3. monitors: V at the start of the step, g as used in this step */
  bs_engine_sample_state(net, n, 0);
  /* 4. neurons integrate and detect spikes */
  for (int p = 0; p < np; p++) {
    lpop *lp = &net->pops[p];
    const bs_pop_spec *ps = lp->spec;
    bs_neuron_args na = {.n = lp->n,
                         .gid0 = ps->gid0 + lp->lo,
                         .step = n,
                         .tstep = n % s->trial_steps,
                         .dt = s->dt,
                         .seed = s->seed,
                         .p = ps->p,
                         .k = lp->k,
                         .x = lp->x,
                         .I = lp->I,
                         .G = lp->G,
                         .method = ps->method,
                         .model = ps->model,
                         .spk = lp->spk};
    if (lp->fused)
      BS_CALL(ctx, bs_engine_fused_update(ctx, net, lp, &na, n));
    else
      bs_pop_update(lp, &na);
    lp->nspk = na.nspk; /* read by plastic projections in step n + 1 */
    const uint64_t key_hi = (uint64_t)(n - t0) << 32;
    for (size_t q = 0; q < na.nspk; q++)
      BS_CALL(ctx,
              push_local(ctx, net, key_hi | (ps->gid0 + lp->lo + lp->spk[q])));
    bs_engine_count_rate(net, p, na.nspk);
  }
  /* 5. g of fused projections, as this step used it */
  bs_engine_sample_state(net, n, 1);
  return BS_OK;
}

/* The per-pre clock: per-pre state (traces) and the per-pre monitors
 * advance step by step through the interval's delivered spikes: begin
 * before the first spike, catch up to each spike's step before delivering
 * it, then to t1. */
static void pre_begin(bs_net *net, int64_t t0) {
  if (!net->per_pre)
    return;
  net->tr_step = t0;
  bs_engine_sample_pre(net, t0);
}

static void pre_catch_up(bs_net *net, int64_t step, int64_t t1) {
  if (!net->per_pre)
    return;
  while (net->tr_step < step) {
    const int64_t m = ++net->tr_step;
    for (int j = 0; j < net->spec->n_projs; j++) {
      lproj *lj = &net->projs[j];
      if (lj->ops->advance)
        lj->ops->advance(net, lj, m);
    }
    if (m < t1)
      bs_engine_sample_pre(net, m);
  }
}

/* One spike of step `step` from neuron i of lp to every projection it
 * drives, in projection order, with the pre's stp efficacy; looked up in
 * each projection's table (a pre neuron not in it has nothing here). */
static void deliver(bs_net *net, lpop *lp, uint64_t i, int64_t step) {
  for (int o = 0; o < lp->nout; o++) {
    lproj *lj = &net->projs[lp->out[o]];
    const uint64_t k = lproj_pos(lj, i);
    if (k == LPROJ_NONE)
      continue;
    const double eff = bs_proj_stp_spike(net, lj, k, step);
    lj->ops->deliver(net, lj, k, step, eff);
  }
}

/* A full disk stopped the run before a write that needed space: the
 * monitors' reports were allocated whole at their creation, so what they
 * buffered still goes in, up to the stop. Collective. */
static bs_status keep_samples(bs_ctx *ctx, bs_net *net, bs_status st) {
  for (int q = 0; st == BS_ERR_DISK_FULL && q < net->nmons; q++)
    if (net->mons[q].nbuf && bs_engine_flush_monitor(ctx, &net->mons[q]))
      bs_error_trace(ctx, __FILE__, __LINE__, __func__);
  return st;
}

/* The rows of a spike to come (key) in projection lj, whose pre has gids
 * [g0, g1), into cache while earlier spikes are delivered (at 256k neurons
 * a row is a cache miss otherwise). The caller skips compressed tables:
 * they are looked up in spike order only (their cursor). */
static void prefetch_in(const lproj *lj, uint64_t key, uint64_t g0, uint64_t g1,
                        int rows) {
  const uint64_t g = key & 0xffffffffu;
  const uint64_t k = g >= g0 && g < g1 ? lproj_pos(lj, g - g0) : LPROJ_NONE;
  if (k != LPROJ_NONE)
    lj->ops->prefetch(lj, k, rows);
}

/* The same for every projection the spike's population drives. */
static void prefetch(const bs_net *net, uint64_t key, int rows) {
  const lpop *lp =
      &net->pops[bs_engine_pop_of_gid(net->spec, key & 0xffffffffu)];
  const uint64_t g0 = lp->spec->gid0, g1 = g0 + lp->spec->size;
  for (int o = 0; o < lp->nout; o++) {
    const lproj *lj = &net->projs[lp->out[o]];
    if (lj->ops->prefetch && !lj->ct)
      prefetch_in(lj, key, g0, g1, rows);
  }
}

/* Spikes ahead whose row offsets, and rows, are fetched. */
#define PREFETCH_OFFSETS 16
#define PREFETCH_ROWS 8

/* The delivery loops fetch ahead of the spike they deliver, which misses
 * the first ones: an interval often has fewer spikes than that distance.
 * Their offsets and rows, for every projection, first. */
static void prefetch_first(const bs_net *net) {
  const size_t nall = net->ex->nall;
  for (int rows = 0; rows < 2; rows++)
    for (size_t q = 0;
         q < nall && q < (rows ? PREFETCH_ROWS : PREFETCH_OFFSETS); q++)
      prefetch(net, net->ex->all[q], rows);
}

/* The interval's spikes projection by projection, each in canonical
 * order: a projection's ring, rows and stp state are its own, so this
 * gives the same bits as spike by spike, with one projection's ring slot
 * and rows in cache at a time. Not with per-pre sampling (pre_catch_up
 * interleaves every projection's traces with the spikes in time), nor
 * with more than BY_PROJECTION_MAX projections (each scans every spike
 * the rank received). */
#define BY_PROJECTION_MAX 16
static void deliver_by_projection(bs_net *net, int64_t t0) {
  const bs_spec *s = net->spec;
  const uint64_t *all = net->ex->all;
  const size_t nall = net->ex->nall;
  for (int j = 0; j < s->n_projs; j++) {
    lproj *lj = &net->projs[j];
    if (!lj->ops->deliver)
      continue;
    const bs_pop_spec *pre = &s->pops[s->projs[j].pre];
    const uint64_t g0 = pre->gid0, g1 = pre->gid0 + pre->size;
    if (lj->ops->deliver_all) {
      lj->ops->deliver_all(net, lj, all, nall, g0, g1, t0);
      continue;
    }
    const int pf = lj->ops->prefetch && !lj->ct;
    for (size_t q = 0; q < nall; q++) {
      const uint64_t gid = all[q] & 0xffffffffu;
      if (gid < g0 || gid >= g1)
        continue;
      if (pf && q + PREFETCH_OFFSETS < nall)
        prefetch_in(lj, all[q + PREFETCH_OFFSETS], g0, g1, 0);
      if (pf && q + PREFETCH_ROWS < nall)
        prefetch_in(lj, all[q + PREFETCH_ROWS], g0, g1, 1);
      const uint64_t k = lproj_pos(lj, gid - g0);
      if (k == LPROJ_NONE)
        continue;
      const int64_t step = t0 + (int64_t)(all[q] >> 32);
      const double eff = bs_proj_stp_spike(net, lj, k, step);
      lj->ops->deliver(net, lj, k, step, eff);
    }
  }
}

/* What the loop carries from one interval to the next. */
typedef struct runstate {
  size_t rec_buffered; /* recorded spikes buffered since the last flush */
  double last_sync;
  uint64_t spikes_run; /* this rank's spikes in this run segment */
  uint64_t stop;       /* the agreed signal flag (1 or 2), else 0 */
} runstate;

/* The flag this rank sends with an interval's spikes: 0 go on, 1
 * interrupted (SIGINT), 2 stop and checkpoint (SIGTERM, SIGUSR1), 3 error;
 * the maximum over ranks wins. Below it, bit 0 asks every rank to flush
 * the recorded spikes (each rank buffers only its own, so the decision
 * must be common), bit 1 (rank 0's clock) to flush everything and write
 * the files' metadata. */
static uint64_t make_flag(const bs_ctx *ctx, const bs_io *io, bs_status st,
                          const runstate *rs, double now) {
  uint64_t flag = st != BS_OK ? 3 : (uint64_t)bs_signal_pending();
  const size_t flush_at = SPIKE_FLUSH / (size_t)ctx->size > 64
                              ? SPIKE_FLUSH / (size_t)ctx->size
                              : 64;
  const uint64_t sync_due =
      ctx->rank == 0 && io && now - rs->last_sync >= SYNC_EVERY_S;
  return flag << 2 | sync_due << 1 | (rs->rec_buffered >= flush_at);
}

/* Whether monitor m writes at this interval's end: its buffer is full,
 * or a sync flushes what it holds. */
static int mon_due(const lmon *m, int sync_now) {
  return m->nbuf >= m->F || (sync_now && m->nbuf);
}

/* After the exchange of the interval [t0, t1): the error flag stops
 * every rank together (*over: the run returns the status); else the
 * rank's own spikes (own, n) are counted and recorded by their owner,
 * the received ones delivered in canonical (step, gid) order, and the
 * agreed flushes done. Collective. */
static bs_status settle(bs_ctx *ctx, bs_net *net, bs_io *io, runstate *rs,
                        int64_t t0, int64_t t1, uint64_t maxflag,
                        const uint64_t *own, size_t n, bs_status st,
                        bs_run_result *res, int *over) {
  const bs_spec *s = net->spec;
  const int sync_now = (int)(maxflag >> 1 & 1),
            flush_now = (int)(maxflag & 1) || sync_now;
  maxflag >>= 2;
  *over = 0;
  if (maxflag == 3) {
    *over = 1;
    if (st == BS_OK)
      st = bs_error_set(ctx, BS_ERR_REMOTE, "another rank failed");
    /* Every rank stopped here together, so the output can still be
     * flushed collectively up to the last good exchange; it stays
     * marked incomplete. */
    bs_status fs = bs_engine_flush_output(ctx, net, io);
    for (int q = 0; fs == BS_OK && q < net->nmons; q++)
      fs = bs_io_report_close(ctx, &net->mons[q].rep);
    res->steps_done = t0;
    return st;
  }
  if (maxflag)
    rs->stop = maxflag;
  /* st is the rank's status now: with the exchange overlapped it may be
   * a later interval's failure, which that interval's exchange reports. */
  st = BS_OK;
  bs_phase_begin(ctx, BS_PHASE_DELIVER);
  /* The rank's own spikes: counted and recorded here, by their owner. */
  for (size_t q = 0; q < n && st == BS_OK; q++) {
    const uint64_t key = own[q], gid = key & 0xffffffffu;
    lpop *lp = &net->pops[bs_engine_pop_of_gid(s, gid)];
    lp->nspikes++;
    rs->spikes_run++;
    const int64_t step = t0 + (int64_t)(key >> 32);
    const uint64_t i = gid - lp->spec->gid0;
    if (lp->record && bs_engine_spike_recorded(lp, step, s->n_steps, i)) {
      st = bs_engine_record_spike(ctx, lp, (double)step * s->dt, i);
      rs->rec_buffered++;
    }
  }
  /* The spikes this rank asked for, in canonical (step, gid) order. */
  pre_begin(net, t0);
  const size_t nall = net->ex->nall;
  const int by_proj = !net->per_pre && s->n_projs <= BY_PROJECTION_MAX;
  if (by_proj)
    deliver_by_projection(net, t0);
  else
    prefetch_first(net);
  for (size_t q = 0; !by_proj && q < nall; q++) {
    if (q + PREFETCH_OFFSETS < nall)
      prefetch(net, net->ex->all[q + PREFETCH_OFFSETS], 0);
    if (q + PREFETCH_ROWS < nall)
      prefetch(net, net->ex->all[q + PREFETCH_ROWS], 1);
    const uint64_t key = net->ex->all[q];
    const int64_t step = t0 + (int64_t)(key >> 32);
    const uint64_t gid = key & 0xffffffffu;
    pre_catch_up(net, step, t1);
    lpop *lp = &net->pops[bs_engine_pop_of_gid(s, gid)];
    if (lp->nout)
      deliver(net, lp, gid - lp->spec->gid0, step);
  }
  pre_catch_up(net, t1, t1);
  bs_phase_end(ctx, BS_PHASE_DELIVER);
  if (st != BS_OK) {
    *over = 1;
    return st;
  }
  /* Samples are the same count on every rank, and the spike flush was
   * agreed in the exchange, so all flush together. */
  /* At a sync, everything buffered and HDF5's metadata go to disk, so
   * the files are readable as they stand up to here whatever stops the
   * run later (a full disk stops it before a write: bs_io_create). */
  int due = flush_now || (sync_now && io);
  for (int q = 0; q < net->nmons; q++)
    due |= mon_due(&net->mons[q], sync_now);
  bs_status ws = BS_OK;
  if (due) /* no clock reads for the intervals that write nothing */
    bs_phase_begin(ctx, BS_PHASE_IO);
  if (flush_now) {
    ws = bs_engine_flush_spikes(ctx, net, io);
    rs->rec_buffered = 0;
  }
  for (int q = 0; ws == BS_OK && q < net->nmons; q++)
    if (mon_due(&net->mons[q], sync_now))
      ws = bs_engine_flush_monitor(ctx, &net->mons[q]);
  if (ws == BS_OK && sync_now && io) {
    ws = bs_io_flush(ctx, io);
    rs->last_sync = bs_wtime();
  }
  if (due)
    bs_phase_end(ctx, BS_PHASE_IO);
  if (ws != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    res->steps_done = t1;
    *over = 1;
    return keep_samples(ctx, net, ws);
  }
  return BS_OK;
}

/* The interval in flight when the exchange is overlapped: its bounds and
 * the rank's own spikes of it (the loop's two spike lists alternate). */
typedef struct flight {
  int64_t t0, t1;
  uint64_t *spk;
  size_t n, cap;
} flight;

/* Completes the oldest interval in flight and settles it. When its flag
 * says a rank failed and another interval is in flight (more), that one
 * is completed too and dropped (*dropped): every rank stops at the
 * first. *fatal: MPI itself failed, nothing collective is safe now.
 * Collective. */
static bs_status land(bs_ctx *ctx, bs_net *net, bs_io *io, runstate *rs,
                      const flight *f, int more, bs_status st,
                      bs_run_result *res, int *over, int *dropped, int *fatal) {
  uint64_t mf = 0, m2 = 0;
  bs_phase_begin(ctx, BS_PHASE_EXCHANGE);
  bs_status xs = bs_exchange_finish(ctx, net->ex, &mf);
  if (xs == BS_OK && more && mf >> 2 == 3) {
    xs = bs_exchange_finish(ctx, net->ex, &m2);
    *dropped = 1;
  }
  bs_phase_end(ctx, BS_PHASE_EXCHANGE);
  if (xs != BS_OK) {
    *fatal = *over = 1;
    return xs;
  }
  return settle(ctx, net, io, rs, f->t0, f->t1, mf, f->spk, f->n, st, res,
                over);
}

/* A checkpoint falls due at the end t1 of the interval from t0: every
 * ckpt_every steps, and at the run's end when asked. */
static int ckpt_due(const bs_run_opts *o, const bs_spec *s, int64_t t0,
                    int64_t t1) {
  return (o->ckpt_every > 0 && t1 < s->n_steps &&
          t1 / o->ckpt_every > t0 / o->ckpt_every) ||
         (o->ckpt_end && t1 == s->n_steps);
}

bs_status bs_net_run(bs_ctx *ctx, bs_net *net, bs_io *io,
                     const bs_run_opts *opts, bs_run_result *res) {
  const bs_spec *s = net->spec;
  const int np = s->n_pops;
  memset(res, 0, sizeof *res);
  res->steps_done = net->step0; /* where a failure left the run */
  BS_CALL(ctx, bs_calloc(ctx, (size_t)np, sizeof(uint64_t), &res->spikes));
  if (io) {
    bs_phase_begin(ctx, BS_PHASE_IO);
    BS_CALL(ctx, bs_engine_open_outputs(ctx, net, io));
    bs_phase_end(ctx, BS_PHASE_IO);
  }
  const double t_start = bs_wtime();
  double next_progress = t_start + opts->progress_every;
  int64_t printed = 0; /* step of the last progress line */
  runstate rs = {.last_sync = t_start};
  bs_status st = BS_OK;
  /* Overlapped (net->overlap): the spikes of one interval travel while
   * the next one is computed; intervals are at most half the smallest
   * arrival lag, so they arrive before any step that reads them. */
  flight fl = {0};
  int flying = 0;
  if (net->overlap) {
    fl.cap = net->local_cap;
    BS_CALL(ctx, bs_malloc(ctx, fl.cap, sizeof(uint64_t), &fl.spk));
  }

  int64_t t0;
  for (t0 = net->step0; t0 < s->n_steps;) {
    const int64_t t1 = bs_engine_interval_end(net, t0);
    /* The kinds' per-interval exchanges (gap junctions' V). */
    for (int k = 0; bs_proj_kinds[k]; k++)
      if (bs_proj_kinds[k]->interval) {
        bs_status gs = bs_proj_kinds[k]->interval(ctx, net);
        if (gs != BS_OK)
          return gs; /* MPI itself failed */
      }
    bs_phase_begin(ctx, BS_PHASE_UPDATE);
    net->nlocal = 0;
    for (int64_t n = t0; n < t1 && st == BS_OK; n++) {
      st = step_once(ctx, net, n, t0);
      if (flying)
        bs_exchange_progress(ctx, net->ex);
    }
    /* A state that became NaN or infinite stops the run at this
     * interval's exchange, with the place named. */
    if (st == BS_OK)
      st = bs_engine_check_finite(ctx, net, t0, t1, 0);
    /* The time here serves the sync and progress clocks too. */
    const double now = bs_phase_switch(ctx, BS_PHASE_UPDATE, BS_PHASE_EXCHANGE);

    /* One exchange per interval; it also carries the error flag, so a
     * failure on any rank stops every rank there. */
    const uint64_t flag = make_flag(ctx, io, st, &rs, now);
    int over = 0;
    bs_status ss = BS_OK;
    if (!net->overlap) {
      uint64_t maxflag = 0;
      bs_status xs = bs_exchange_run(ctx, net->ex, net->local_spk, net->nlocal,
                                     flag, &maxflag);
      bs_phase_end(ctx, BS_PHASE_EXCHANGE);
      if (xs != BS_OK)
        return xs; /* MPI itself failed: nothing collective is safe now */
      ss = settle(ctx, net, io, &rs, t0, t1, maxflag, net->local_spk,
                  net->nlocal, st, res, &over);
    } else {
      bs_status xs =
          bs_exchange_start(ctx, net->ex, net->local_spk, net->nlocal, flag);
      bs_phase_end(ctx, BS_PHASE_EXCHANGE);
      if (xs != BS_OK) {
        bs_free(ctx, fl.cap, sizeof(uint64_t), &fl.spk);
        return xs;
      }
      /* The previous interval lands now, before this one's spikes can be
       * needed; this one's own spikes are kept for its landing. */
      int dropped = 0, fatal = 0;
      if (flying)
        ss = land(ctx, net, io, &rs, &fl, 1, st, res, &over, &dropped, &fatal);
      if (fatal) {
        bs_free(ctx, fl.cap, sizeof(uint64_t), &fl.spk);
        return ss;
      }
      uint64_t *sw = fl.spk;
      const size_t swc = fl.cap;
      fl.spk = net->local_spk, fl.cap = net->local_cap, fl.n = net->nlocal;
      net->local_spk = sw, net->local_cap = swc;
      fl.t0 = t0, fl.t1 = t1;
      flying = !dropped;
      /* Whatever needs the state whole at t1 (the end, a trial reset, a
       * checkpoint, a stop) lands this interval too; a run that ends here
       * completes it. */
      if (flying && over) {
        uint64_t m2 = 0;
        xs = bs_exchange_finish(ctx, net->ex, &m2);
        flying = 0;
        if (xs != BS_OK)
          ss = xs;
      } else if (flying &&
                 (rs.stop || t1 == s->n_steps || t1 % s->trial_steps == 0 ||
                  (opts->ckpt_dir && ckpt_due(opts, s, t0, t1)))) {
        flying = 0;
        ss = land(ctx, net, io, &rs, &fl, 0, st, res, &over, &dropped, &fatal);
        if (fatal) {
          bs_free(ctx, fl.cap, sizeof(uint64_t), &fl.spk);
          return ss;
        }
      }
    }
    if (over) {
      if (net->overlap)
        bs_free(ctx, fl.cap, sizeof(uint64_t), &fl.spk);
      return ss;
    }
    /* A new trial starts from the initial conditions (before any
     * checkpoint at this step, so a restart resumes after the reset). */
    if (t1 < s->n_steps && t1 % s->trial_steps == 0)
      bs_engine_trial_reset(net, (uint32_t)(t1 / s->trial_steps));
    /* Checkpoints at interval ends, every ckpt_every steps, and when a
     * signal asks to stop (all ranks saw the same flag). */
    const int stop = rs.stop != 0 && !flying;
    const int due = ckpt_due(opts, s, t0, t1);
    if (opts->ckpt_dir && (due || stop)) {
      bs_phase_begin(ctx, BS_PHASE_IO);
      res->steps_done = t1;
      bs_status cs = keep_samples(
          ctx, net, bs_engine_ckpt_write(ctx, net, io, t1, opts->ckpt_dir));
      if (cs != BS_OK) {
        if (net->overlap)
          bs_free(ctx, fl.cap, sizeof(uint64_t), &fl.spk);
        bs_error_trace(ctx, __FILE__, __LINE__, __func__);
        return cs;
      }
      rs.rec_buffered = 0;
      bs_phase_end(ctx, BS_PHASE_IO);
    }
    t0 = t1;
    if (stop) {
      res->stopped = (int)rs.stop;
      break;
    }
    if (opts->progress && ctx->rank == 0 && now >= next_progress) {
      bs_engine_progress(ctx, opts, s, net->step0, t1, t_start, 0);
      printed = t1;
      next_progress = bs_wtime() + opts->progress_every;
    }
  }
  if (net->overlap)
    bs_free(ctx, fl.cap, sizeof(uint64_t), &fl.spk);
  const uint64_t spikes_run = rs.spikes_run;
  res->wall_run = bs_wtime() - t_start;
  res->steps_done = t0 < s->n_steps ? t0 : s->n_steps;
  res->step0 = net->step0;
  /* Close the terminal line; in batch logs only add what is new. */
  if (printed && (opts->tty || printed != res->steps_done))
    bs_engine_progress(ctx, opts, s, net->step0, res->steps_done, t_start, 1);

  bs_phase_begin(ctx, BS_PHASE_IO);
  BS_CALL(ctx, keep_samples(ctx, net, bs_engine_flush_output(ctx, net, io)));
  for (int q = 0; q < net->nmons; q++)
    BS_CALL(ctx, bs_io_report_close(ctx, &net->mons[q].rep));
  for (int j = 0; io && j < s->n_projs; j++)
    if (net->projs[j].ops->output)
      BS_CALL(ctx, net->projs[j].ops->output(ctx, net, &net->projs[j], io));
  bs_phase_end(ctx, BS_PHASE_IO);

  for (int p = 0; p < np; p++)
    res->spikes[p] = net->pops[p].nspikes; /* each rank counts its own */
  BS_CALL(ctx, bs_comm_sum_u64(ctx, res->spikes, np));
  res->syn_events = net->syn_events;
  BS_CALL(ctx, bs_comm_sum_u64(ctx, &res->syn_events, 1));
  res->spikes_run = spikes_run;
  BS_CALL(ctx, bs_comm_sum_u64(ctx, &res->spikes_run, 1));
  res->spikes_recv = net->ex->spikes_recv;
  res->bytes_sent = net->ex->bytes_sent;
  res->bytes_recv = net->ex->bytes_recv;
  const double recv = (double)res->spikes_recv;
  BS_CALL(ctx, bs_comm_stats(ctx, &recv, 1, &res->recv_min, &res->recv_mean,
                             &res->recv_max));
  BS_CALL(ctx, bs_comm_stats(ctx, ctx->phase_time, BS_PHASE_COUNT,
                             res->phase_min, res->phase_mean, res->phase_max));
  double peak = (double)ctx->mem_peak;
  BS_CALL(ctx, bs_comm_max_double(ctx, &peak, 1));
  res->mem_peak_max = (uint64_t)peak;
  return BS_OK;
}

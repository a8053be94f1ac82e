/* Populations: each split into contiguous blocks over the ranks, with one
 * array per state variable over the local block (DESIGN.md, "Data flow of
 * one run"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/rng.h"
#include "engine_impl.h"

uint64_t bs_engine_block_lo(uint64_t n, int r, int P) {
  return n * (uint64_t)r / (uint64_t)P;
}

/* The rank that owns gid (blocks as bs_engine_block_lo cuts them). */
int bs_engine_owner_of(const bs_net *net, uint64_t gid) {
  const bs_pop_spec *ps =
      &net->spec->pops[bs_engine_pop_of_gid(net->spec, gid)];
  const uint64_t i = gid - ps->gid0;
  int lo = 0, hi = net->P - 1; /* last r with block_lo(r) <= i */
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (bs_engine_block_lo(ps->size, mid, net->P) <= i)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

bs_status bs_engine_alloc_state(bs_ctx *ctx, int nx, size_t n, double ***x) {
  BS_CALL(ctx, bs_calloc(ctx, (size_t)(nx ? nx : 1), sizeof(double *), x));
  for (int v = 0; v < nx; v++)
    BS_CALL(ctx, bs_calloc(ctx, n ? n : 1, sizeof(double), &(*x)[v]));
  return BS_OK;
}

/* The first step n whose start n dt is at or after t: BrainPy's test
 * `t >= times[i]` with its t = n dt (and NEST's spike_generator rounds
 * an off-grid time up the same way), so a time on the grid, n dt as
 * brainsim writes it, is its own step and one between steps fires at
 * the next. */
static uint64_t time_step(double t, double dt) {
  const double g = ceil(t / dt);
  uint64_t n = g > 0 ? (uint64_t)g : 0;
  while (n > 0 && (double)(n - 1) * dt >= t)
    n--;
  while ((double)n * dt < t)
    n++;
  return n;
}

void bs_pop_events_seek(lpop *lp, int64_t tstep) {
  lp->ev_next = bs_engine_lower_bound(lp->ev, lp->nev, (uint64_t)tstep << 32);
}

/* This rank's listed spikes as sorted unique keys: from the config's
 * lists, or its own neurons' rows of a SONATA spike file (io/ reads
 * them). Not collective (the caller agrees). */
static bs_status events_build(bs_ctx *ctx, const bs_spec *s, lpop *lp) {
  const bs_pop_spec *ps = lp->spec;
  uint64_t n = 0;
  if (ps->ev_file) {
    bs_sonata_spikes sp = {0};
    BS_CALL(ctx, bs_io_sonata_spikes_read(ctx, ps->ev_file, ps->ev_pop,
                                          ps->size, lp->lo, lp->hi, &sp));
    bs_status st = bs_malloc(ctx, sp.n ? sp.n : 1, sizeof(uint64_t), &lp->ev);
    lp->ev_cap = sp.n ? sp.n : 1;
    for (uint64_t q = 0; st == BS_OK && q < sp.n; q++) {
      if (sp.t[q] / s->dt >= 4294967295.0)
        st = bs_error_set(ctx, BS_ERR_CONFIG,
                          "population %s: spike file %s: neuron %llu at "
                          "%g ms is beyond step 2^32 - 1 of dt = %g ms",
                          ps->name, ps->ev_file,
                          (unsigned long long)sp.node_ids[q], sp.t[q], s->dt);
      else
        lp->ev[n++] =
            time_step(sp.t[q], s->dt) << 32 | (sp.node_ids[q] - lp->lo);
    }
    bs_io_sonata_spikes_free(ctx, &sp);
    BS_CALL(ctx, st);
  } else {
    for (uint64_t q = 0; q < ps->n_ev; q++)
      n += ps->ev_idx[q] >= lp->lo && ps->ev_idx[q] < lp->hi;
    BS_CALL(ctx, bs_malloc(ctx, n ? n : 1, sizeof(uint64_t), &lp->ev));
    lp->ev_cap = n ? n : 1;
    n = 0;
    for (uint64_t q = 0; q < ps->n_ev; q++)
      if (ps->ev_idx[q] >= lp->lo && ps->ev_idx[q] < lp->hi)
        lp->ev[n++] =
            time_step(ps->ev_t[q], s->dt) << 32 | (ps->ev_idx[q] - lp->lo);
  }
  qsort(lp->ev, n, sizeof(uint64_t), bs_engine_cmp_u64);
  uint64_t u = 0;
  for (uint64_t q = 0; q < n; q++)
    if (!u || lp->ev[q] != lp->ev[u - 1])
      lp->ev[u++] = lp->ev[q];
  lp->ev_merged = n - u;
  lp->nev = u; /* the allocation keeps its size (ev_cap) */
  return BS_OK;
}

/* Initial state (also BrainPy's reset() between trials): one stream per
 * (gid, variable, trial), independent of ranks; trial 0 is a plain run. */
void bs_pop_init_state(const bs_spec *s, lpop *lp, uint32_t trial) {
  const bs_pop_spec *ps = lp->spec;
  const bs_neuron_model *m = ps->model;
  for (int v = 0; v < m->nx; v++) {
    const bs_dist *d = &ps->init[v];
    const double *list = ps->init_list ? ps->init_list[v] : NULL;
    const double *file = lp->x0 ? lp->x0[v] : NULL;
    for (uint64_t i = 0; i < lp->n; i++) {
      uint64_t gid = ps->gid0 + lp->lo + i;
      if (file) {
        lp->x[v][i] = file[i];
      } else if (list) {
        lp->x[v][i] = list[lp->lo + i];
      } else if (d->kind == BS_DIST_CONST) {
        lp->x[v][i] = d->a;
      } else {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_INIT, (uint32_t)gid, (uint32_t)v,
                    trial);
        lp->x[v][i] = bs_dist_sample(d, &r);
      }
    }
  }
  bs_pop_events_seek(lp, 0); /* each trial replays the listed spikes */
  if (m->init && !lp->pn)    /* state derived from V (gates at steady state) */
    m->init(&(bs_neuron_args){.n = lp->n,
                              .dt = s->dt,
                              .p = ps->p,
                              .k = lp->k,
                              .x = lp->x,
                              .model = m});
  for (uint64_t i = 0; m->init && lp->pn && i < lp->n; i++) {
    double *xs[BS_MAX_VARS];
    for (int v = 0; v < m->nx; v++)
      xs[v] = lp->x[v] + i;
    const size_t nk = (size_t)(m->nk ? m->nk : 1);
    m->init(&(bs_neuron_args){.n = 1,
                              .dt = s->dt,
                              .p = lp->pn + i * (size_t)m->np,
                              .k = lp->kn + i * nk,
                              .x = xs,
                              .model = m});
  }
}

/* This rank's block [lo, lo + n) of a dataset of one value per neuron. */
static bs_status read_block(bs_ctx *ctx, const bs_pop_spec *ps, const lpop *lp,
                            const char *file, const char *dataset,
                            const char *name, double **out) {
  char what[400];
  snprintf(what, sizeof what, "%s of population '%s' (one value per neuron)",
           name, ps->name);
  bs_matrix_in *m = NULL;
  BS_CALL(ctx, bs_matrix_open(ctx, file, dataset, 0, ps->size, what, &m));
  bs_status st = bs_malloc(ctx, lp->n ? lp->n : 1, sizeof(double), out);
  if (st == BS_OK && lp->n)
    st = bs_matrix_read(ctx, m, 0, 0, lp->lo, lp->n, *out);
  bs_matrix_close(&m);
  return st;
}

/* Whether v is inside parameter d's range. */
static int in_range(const bs_param *d, double v) {
  const int lo = (d->flags & BS_P_LO_OPEN) ? v > d->lo : v >= d->lo;
  const int hi = (d->flags & BS_P_HI_OPEN) ? v < d->hi : v <= d->hi;
  return lo && hi;
}

/* Every local neuron's parameters (from a dataset, listed, drawn keyed by
 * (gid, param), or the scalar), checked as the config checks one value,
 * and its derived constants. Not collective (the caller agrees). */
static bs_status hetero_build(bs_ctx *ctx, const bs_spec *s, lpop *lp,
                              const int *tix) {
  const bs_pop_spec *ps = lp->spec;
  const bs_neuron_model *m = ps->model;
  const size_t np = (size_t)m->np, nk = (size_t)(m->nk ? m->nk : 1);
  BS_CALL(ctx,
          bs_malloc(ctx, (lp->n ? lp->n : 1) * np, sizeof(double), &lp->pn));
  BS_CALL(ctx,
          bs_calloc(ctx, (lp->n ? lp->n : 1) * nk, sizeof(double), &lp->kn));
  double *fv[BS_MAX_PARAMS] = {0}; /* from datasets: one read each */
  bs_status st = BS_OK;
  for (size_t q = 0; q < np && st == BS_OK; q++)
    if (ps->pfile[q])
      st = read_block(ctx, ps, lp, ps->pfile[q], ps->pdset[q],
                      m->params[q].name, &fv[q]);
  for (uint64_t i = 0; i < lp->n && st == BS_OK; i++) {
    const uint64_t gid = ps->gid0 + lp->lo + i;
    double *p = lp->pn + i * np;
    for (size_t q = 0; q < np && st == BS_OK; q++) {
      const bs_dist *d = &ps->pdist[q];
      const char *from = NULL;
      if (fv[q]) {
        p[q] = fv[q][i];
        from = ps->pdset[q];
      } else if (tix && ps->sn->p_var[q]) { /* checked in config/ */
        p[q] = ps->sn->p[(size_t)tix[i] * np + q];
      } else if (ps->plist[q])
        p[q] = ps->plist[q][lp->lo + i];
      else if (d->kind == BS_DIST_CONST)
        p[q] = ps->p[q];
      else {
        bs_rng r;
        bs_rng_init(&r, s->seed, BS_RNG_PARAM, (uint32_t)gid, (uint32_t)q, 0);
        p[q] = bs_dist_sample(d, &r);
        from = bs_dist_name(d);
      }
      if (from && !in_range(&m->params[q], p[q]))
        st = bs_error_set(ctx, BS_ERR_CONFIG,
                          "population %s, neuron %llu: parameter %s = %g "
                          "(from %s) is outside its range [%g, %g]",
                          ps->name, (unsigned long long)(lp->lo + i),
                          m->params[q].name, p[q], from, m->params[q].lo,
                          m->params[q].hi);
    }
    int blame = -1;
    const char *why =
        st == BS_OK && m->check ? m->check(p, s->dt, &blame) : NULL;
    if (why)
      st = bs_error_set(ctx, BS_ERR_CONFIG,
                        "population %s, neuron %llu: %s (%s = %g)", ps->name,
                        (unsigned long long)(lp->lo + i), why,
                        blame >= 0 ? m->params[blame].name : "-",
                        blame >= 0 ? p[blame] : NAN);
    if (st == BS_OK && m->prepare)
      m->prepare(p, s->dt, lp->kn + i * nk);
  }
  for (size_t q = 0; q < np; q++)
    bs_free(ctx, lp->n ? lp->n : 1, sizeof(double), &fv[q]);
  return st;
}

/* SONATA nodes: each local neuron's node type, as its index in ps->sn,
 * from this rank's rows of node_type_id. Not collective. */
static bs_status sonata_types(bs_ctx *ctx, const lpop *lp, int **tix) {
  const bs_sonata_types *sn = lp->spec->sn;
  const size_t n = lp->n ? lp->n : 1;
  int64_t *id = NULL;
  BS_CALL(ctx, bs_malloc(ctx, n, sizeof(int64_t), &id));
  bs_status st = bs_io_sonata_node_types(ctx, sn->file, sn->population, lp->lo,
                                         lp->hi, id);
  if (st == BS_OK)
    st = bs_malloc(ctx, n, sizeof(int), tix);
  for (uint64_t i = 0; st == BS_OK && i < lp->n; i++) {
    int k = 0;
    while (k < sn->n && sn->id[k] != id[i])
      k++;
    if (k == sn->n)
      st = bs_error_set(ctx, BS_ERR_CONFIG,
                        "%s: dataset /nodes/%s/node_type_id row %llu: node "
                        "type %lld is not a node type of population '%s' in "
                        "its node types CSV",
                        sn->file, sn->population,
                        (unsigned long long)(lp->lo + i), (long long)id[i],
                        sn->population);
    else
      (*tix)[i] = k;
  }
  bs_free(ctx, n, sizeof(int64_t), &id);
  return st;
}

/* Initial states that differ between node types, per local neuron. */
static bs_status sonata_init(bs_ctx *ctx, lpop *lp, const int *tix) {
  const bs_sonata_types *sn = lp->spec->sn;
  const int nx = lp->spec->model->nx;
  for (int v = 0; v < nx; v++) {
    if (!sn->x_var[v])
      continue;
    if (!lp->x0)
      BS_CALL(ctx, bs_calloc(ctx, BS_MAX_VARS, sizeof(double *), &lp->x0));
    BS_CALL(ctx, bs_malloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->x0[v]));
    for (uint64_t i = 0; i < lp->n; i++)
      lp->x0[v][i] = sn->x0[(size_t)tix[i] * (size_t)nx + (size_t)v];
  }
  return BS_OK;
}

/* This step's noise increments g sqrt(dt) N(0, 1), one Philox stream per
 * (gid, variable, step): the same on any rank count. */
static void draw_noise(const lpop *lp, const bs_neuron_args *na) {
  const bs_pop_spec *ps = lp->spec;
  const bs_dist unit = {.kind = BS_DIST_NORMAL, .a = 0.0, .b = 1.0};
  for (int v = 0; v < ps->model->nv; v++) {
    if (!lp->nz[v])
      continue;
    const double s = ps->noise[v] * sqrt(na->dt);
    for (size_t i = 0; i < na->n; i++) {
      bs_rng r;
      bs_rng_init(&r, na->seed, BS_RNG_NOISE, (uint32_t)(na->gid0 + i),
                  (uint32_t)v, (uint32_t)na->step);
      lp->nz[v][i] = s * bs_dist_sample(&unit, &r);
    }
  }
}

/* A uniform population runs its model's kernel over the block; one with
 * heterogeneous parameters runs it neuron by neuron with each neuron's
 * parameters and constants (the same arithmetic per neuron, so the
 * results do not depend on the block). */
/* The section of a parameter in time at step `tstep` of the trial: each
 * int(d_k / dt) steps long (section_input's arithmetic); the last one
 * holds after the end. */
static int64_t section_at(const bs_pop_spec *ps, int64_t tstep, double dt) {
  int64_t start = 0;
  for (uint64_t k = 0; k + 1 < ps->n_sec; k++) {
    start += (int64_t)(ps->sec_d[k] / dt);
    if (tstep < start)
      return (int64_t)k;
  }
  return (int64_t)ps->n_sec - 1;
}

void bs_pop_update(lpop *lp, bs_neuron_args *na) {
  const bs_neuron_model *m = lp->spec->model;
  if (lp->spec->n_sec) {
    const bs_pop_spec *ps = lp->spec;
    const int64_t k = section_at(ps, na->tstep, na->dt);
    if (k != lp->sec_cur) {
      lp->psec[ps->sec_param] = ps->sec_v[k];
      if (m->prepare)
        m->prepare(lp->psec, na->dt, lp->k);
      lp->sec_cur = k;
    }
    na->p = lp->psec;
  }
  if (lp->nz) {
    draw_noise(lp, na);
    na->noise = lp->nz;
  }
  if (lp->ev) {
    na->ev = lp->ev;
    na->nev = lp->nev;
    na->ev_next = &lp->ev_next;
  }
  if (!lp->pn) {
    m->update(na);
    return;
  }
  const size_t np = (size_t)m->np, nk = (size_t)(m->nk ? m->nk : 1);
  const size_t n = na->n;
  size_t nspk = 0;
  double *xs[BS_MAX_VARS], *ns[BS_MAX_VARS];
  uint32_t one;
  for (size_t i = 0; i < n; i++) {
    for (int v = 0; v < m->nx; v++)
      xs[v] = lp->x[v] + i;
    for (int v = 0; lp->nz && v < m->nv; v++)
      ns[v] = lp->nz[v] ? lp->nz[v] + i : NULL;
    bs_neuron_args a = *na;
    a.n = 1;
    a.gid0 = na->gid0 + i;
    a.p = lp->pn + i * np;
    a.k = lp->kn + i * nk;
    a.x = xs;
    a.I = na->I + i;
    a.G = na->G ? na->G + i : NULL;
    a.noise = lp->nz ? ns : NULL;
    a.spk = &one;
    m->update(&a);
    if (a.nspk)
      na->spk[nspk++] = (uint32_t)i;
  }
  na->nspk = nspk;
}

bs_status bs_pop_build(bs_ctx *ctx, const bs_spec *s, int p, lpop *lp) {
  const bs_pop_spec *ps = &s->pops[p];
  const bs_neuron_model *m = ps->model;
  lp->spec = ps;
  lp->lo = bs_engine_block_lo(ps->size, ctx->rank, ctx->size);
  lp->hi = bs_engine_block_lo(ps->size, ctx->rank + 1, ctx->size);
  lp->n = lp->hi - lp->lo;
  BS_CALL(ctx, bs_engine_alloc_state(ctx, m->nx, lp->n, &lp->x));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->I));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->I_ext));
  BS_CALL(ctx, bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->G));
  BS_CALL(ctx, bs_malloc(ctx, lp->n ? lp->n : 1, sizeof(uint32_t), &lp->spk));
  if (m->prepare)
    m->prepare(ps->p, s->dt, lp->k);
  memcpy(lp->psec, ps->p, sizeof lp->psec);
  lp->sec_cur = -1;
  int *tix = NULL; /* SONATA: each local neuron's node type */
  bs_status st = ps->sn ? sonata_types(ctx, lp, &tix) : BS_OK;
  if (st == BS_OK && ps->pdist)
    st = hetero_build(ctx, s, lp, tix);
  if (st == BS_OK && ps->sn)
    st = sonata_init(ctx, lp, tix);
  if (tix)
    bs_free(ctx, lp->n ? lp->n : 1, sizeof(int), &tix);
  BS_CALL(ctx, st);
  if (ps->ifile) { /* initial states from datasets, kept for trials */
    BS_CALL(ctx, bs_calloc(ctx, BS_MAX_VARS, sizeof(double *), &lp->x0));
    for (int v = 0; v < m->nx; v++)
      if (ps->ifile[v])
        BS_CALL(ctx, read_block(ctx, ps, lp, ps->ifile[v], ps->idset[v],
                                m->vars[v].name, &lp->x0[v]));
  }
  if (m->events)
    BS_CALL(ctx, events_build(ctx, s, lp));
  if (ps->has_noise) {
    BS_CALL(ctx, bs_calloc(ctx, BS_MAX_VARS, sizeof(double *), &lp->nz));
    for (int v = 0; v < m->nv; v++)
      if (ps->noise[v] > 0)
        BS_CALL(ctx,
                bs_calloc(ctx, lp->n ? lp->n : 1, sizeof(double), &lp->nz[v]));
  }
  bs_pop_init_state(s, lp, 0);
  /* constant inputs: engine/inputs.c, once every population is built */
  return BS_OK;
}

void bs_pop_free(bs_ctx *ctx, lpop *lp) {
  size_t n = lp->n ? lp->n : 1;
  for (int v = 0; lp->x && v < lp->spec->model->nx; v++)
    bs_free(ctx, n, sizeof(double), &lp->x[v]);
  bs_free(ctx,
          (size_t)(lp->spec && lp->spec->model->nx ? lp->spec->model->nx : 1),
          sizeof(double *), &lp->x);
  bs_free(ctx, n, sizeof(double), &lp->I);
  bs_free(ctx, n, sizeof(double), &lp->I_ext);
  bs_free(ctx, n, sizeof(double), &lp->G);
  bs_free(ctx, n, sizeof(uint32_t), &lp->spk);
  for (int v = 0; lp->x0 && v < BS_MAX_VARS; v++)
    bs_free(ctx, n, sizeof(double), &lp->x0[v]);
  bs_free(ctx, BS_MAX_VARS, sizeof(double *), &lp->x0);
  for (int v = 0; lp->nz && v < BS_MAX_VARS; v++)
    bs_free(ctx, n, sizeof(double), &lp->nz[v]);
  bs_free(ctx, BS_MAX_VARS, sizeof(double *), &lp->nz);
  if (lp->ev)
    bs_free(ctx, lp->ev_cap, sizeof(uint64_t), &lp->ev);
  if (lp->pn) {
    const bs_neuron_model *m = lp->spec->model;
    bs_free(ctx, n * (size_t)m->np, sizeof(double), &lp->pn);
    bs_free(ctx, n * (size_t)(m->nk ? m->nk : 1), sizeof(double), &lp->kn);
  } else if (lp->kn) {
    const bs_neuron_model *m = lp->spec->model;
    bs_free(ctx, n * (size_t)(m->nk ? m->nk : 1), sizeof(double), &lp->kn);
  }
  bs_free(ctx, (size_t)lp->nout, sizeof(int), &lp->out);
  bs_engine_fuse_free(ctx, lp);
  bs_free(ctx, lp->rec_cap, sizeof(double), &lp->rec_t);
  bs_free(ctx, lp->rec_cap, sizeof(uint64_t), &lp->rec_id);
}

bs_status bs_engine_nonfinite(bs_ctx *ctx, const bs_net *net, const char *what,
                              const char *name, const char *var, uint64_t idx,
                              double v, int64_t t0, int64_t t1,
                              const char *method) {
  const double dt = net->spec->dt;
  return bs_error_set(
      ctx, BS_ERR_NUMERIC,
      "%s '%s', neuron %llu: %s became %g between t = %.4g and %.4g ms. "
      "The integration diverged: reduce dt (now %g ms)%s%s%s, or check the "
      "parameters and inputs.",
      what, name, (unsigned long long)idx, var, v, (double)t0 * dt,
      (double)t1 * dt, dt, method ? " or use another method (now " : "",
      method ? method : "", method ? ")" : "");
}

/* Checkpoints: everything the continuation needs, stored by global ids so a
 * run restores onto any rank count (BrainPy's save_states/load_states, made
 * distributed). Written at an interval end, after the exchange, so no spike
 * is in flight outside the ring buffers; the ring is stored rotated so that
 * row k holds the arrivals of step `step + k`. Random numbers are keyed by
 * (seed, id, step), so there is no generator state to save. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/rng.h"
#include "engine_impl.h"

/* ---- identity: what must match for a restore ------------------------- */

/* The identity is one "key<TAB>value" line per fact that changes the
 * dynamics, the key spelled as in the config (populations.E.method), so a
 * refused restore can name what changed. Two facts may differ on purpose
 * (README "Multi-phase runs"): run.duration may grow, and inputs that
 * start at or after the checkpoint may be added or changed. */

typedef struct sbuf {
  char *s;
  size_t n, cap;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt,
                                                      ...) {
  va_list ap;
  for (;;) {
    size_t room = b->cap - b->n;
    va_start(ap, fmt);
    int w = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
    va_end(ap);
    if (w >= 0 && (size_t)w < room) {
      b->n += (size_t)w;
      return;
    }
    size_t nc = b->cap ? 2 * b->cap : 4096;
    while (w >= 0 && nc < b->n + (size_t)w + 1)
      nc *= 2;
    char *ns = realloc(b->s, nc);
    if (!ns)
      return; /* the comparison then fails loudly on a short text */
    b->s = ns;
    b->cap = nc;
  }
}

static void put_params(sbuf *b, const char *key, int np, const bs_param *d,
                       const double *p) {
  for (int i = 0; i < np; i++)
    put(b, "%s.%s\t%.17g\n", key, d[i].name, p[i]);
}

static void put_dist(sbuf *b, const char *key, const bs_dist *d,
                     const char *unit) {
  if (d->kind == BS_DIST_TRUNCNORMAL)
    put(b, "%s\t%s(%.17g,%.17g,%.17g,%.17g)%s\n", key, bs_dist_name(d), d->a,
        d->b, d->c, d->d, unit);
  else if (d->kind == BS_DIST_CONST)
    put(b, "%s\t%.17g%s\n", key, d->a, unit);
  else
    put(b, "%s\t%s(%.17g,%.17g)%s\n", key, bs_dist_name(d), d->a, d->b, unit);
}

/* A splitmix64 finaliser: summed over elements (mod 2^64) it gives a
 * checksum that does not depend on which rank holds which element. */
static uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

static uint64_t mix_f64(uint64_t h, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return mix(h ^ mix(u));
}

/* Per projection: the synapses as built, (pre, post, weight, delay) each,
 * and the per-post reversal potentials: whatever the connector, the
 * weight or delay form or the file they came from. */
typedef struct facts {
  uint64_t *nnz, *syn, *epost;
  uint64_t *nev, *evsum; /* per population: listed spikes as built */
} facts;

static uint64_t syn_sum(const lproj *lj) {
  const uint64_t g0 = lj->post->lo;
  uint64_t h = 0;
  for (uint64_t k = 0; k < lj->npos; k++) { /* the rows of the table */
    const uint64_t i = lproj_id(lj, k);
    lrow r;
    lproj_row(lj, k, &r);
    for (uint64_t k = 0; k < r.n; k++)
      h += mix_f64(mix(i << 32 ^ (g0 + lrow_col(&r, k))) ^ lrow_d(&r, k),
                   lrow_w(&r, k));
  }
  return h;
}

static size_t facts_len(const bs_spec *s) {
  return 3 * (size_t)s->n_projs + 2 * (size_t)s->n_pops;
}

static bs_status facts_get(bs_ctx *ctx, const bs_net *net, facts *f) {
  const bs_spec *s = net->spec;
  const int nj = s->n_projs;
  const size_t n = facts_len(s);
  BS_CALL(ctx, bs_calloc(ctx, n, sizeof(uint64_t), &f->nnz));
  f->syn = f->nnz + nj;
  f->epost = f->syn + nj;
  f->nev = f->epost + nj;
  f->evsum = f->nev + s->n_pops;
  for (int j = 0; j < nj; j++) {
    const lproj *lj = &net->projs[j];
    f->nnz[j] = lj->nnz;
    f->syn[j] = syn_sum(lj);
    for (uint64_t k = 0; lj->E_post && k < lj->post->n; k++)
      f->epost[j] += mix_f64(lj->post->lo + k, lj->E_post[k]);
  }
  /* Listed spikes by (neuron, step), whichever rank holds them. */
  for (int p = 0; p < s->n_pops; p++) {
    const lpop *lp = &net->pops[p];
    f->nev[p] = lp->nev;
    for (uint64_t q = 0; q < lp->nev; q++)
      f->evsum[p] +=
          mix(mix(lp->lo + (lp->ev[q] & 0xffffffffu)) ^ (lp->ev[q] >> 32));
  }
  BS_CALL(ctx, bs_comm_sum_u64(ctx, f->nnz, (int)n));
  return BS_OK;
}

static void facts_free(bs_ctx *ctx, const bs_net *net, facts *f) {
  bs_free(ctx, facts_len(net->spec), sizeof(uint64_t), &f->nnz);
}

/* The step an input starts at: inputs that start at or after a
 * checkpoint are a new protocol phase and may change on a restore. */
static int64_t input_start(const bs_spec *s, int q) {
  const bs_input_args a = bs_config_input_args(s, q);
  return s->inputs[q].kind->start(&a);
}

static char *identity(const bs_spec *s, const facts *f) {
  sbuf b = {0};
  char key[1024];
  put(&b, "run.seed\t%llu\n", (unsigned long long)s->seed);
  put(&b, "run.dt\t%.17g ms\n", s->dt);
  /* One trial: the duration may grow (a continued run). Several: the
   * trials reset at trial_duration, so both are part of the dynamics. */
  put(&b, "run.trials\t%llu\n", (unsigned long long)s->trials);
  if (s->trials > 1)
    put(&b, "run.trial_duration\t%.17g ms\n", s->trial_duration);
  for (int p = 0; p < s->n_pops; p++) {
    const bs_pop_spec *ps = &s->pops[p];
    const bs_neuron_model *m = ps->model;
    snprintf(key, sizeof key, "populations.%s", ps->name);
    put(&b, "%s.model\t%s\n", key, m->name);
    put(&b, "%s.size\t%llu\n", key, (unsigned long long)ps->size);
    put(&b, "%s.method\t%s\n", key, bs_method_name(ps->method));
    if (ps->sn) /* each neuron's node type is in its rows of this file */
      put(&b, "%s.nodes\t%s /nodes/%s\n", key, ps->sn->file,
          ps->sn->population);
    for (int i = 0; i < m->np; i++) {
      char pk[1200];
      snprintf(pk, sizeof pk, "%s.%s", key, m->params[i].name);
      if (ps->n_sec && ps->sec_param == i) { /* in time */
        put(&b, "%s\tsections", pk);
        for (uint64_t q = 0; q < ps->n_sec; q++)
          put(&b, " %.17g for %.17g ms", ps->sec_v[q], ps->sec_d[q]);
        put(&b, "\n");
      } else if (ps->pfile && ps->pfile[i]) /* per neuron, from a dataset */
        put(&b, "%s\tfile %s:%s\n", pk, ps->pfile[i], ps->pdset[i]);
      else if (ps->plist && ps->plist[i]) { /* per neuron, listed */
        uint64_t h = 0;
        for (uint64_t q = 0; q < ps->size; q++)
          h += mix_f64(q, ps->plist[i][q]);
        put(&b, "%s\tlist, checksum %016llx\n", pk, (unsigned long long)h);
      } else if (ps->sn && ps->sn->p_var[i]) { /* per SONATA node type */
        put(&b, "%s	per node type", pk);
        for (int k = 0; k < ps->sn->n; k++)
          put(&b, " %lld=%.17g", (long long)ps->sn->id[k],
              ps->sn->p[(size_t)k * (size_t)m->np + (size_t)i]);
        put(&b, "\n");
      } else if (ps->pdist && ps->pdist[i].kind != BS_DIST_CONST)
        put_dist(&b, pk, &ps->pdist[i], " per neuron");
      else
        put(&b, "%s\t%.17g\n", pk, ps->p[i]);
    }
    for (int v = 0; v < m->nx; v++) {
      char vk[1200];
      snprintf(vk, sizeof vk, "%s.%s_initializer", key, m->vars[v].name);
      if (ps->ifile && ps->ifile[v])
        put(&b, "%s\tfile %s:%s\n", vk, ps->ifile[v], ps->idset[v]);
      else if (ps->init_list && ps->init_list[v]) {
        uint64_t h = 0;
        for (uint64_t q = 0; q < ps->size; q++)
          h += mix_f64(q, ps->init_list[v][q]);
        put(&b, "%s\tlist, checksum %016llx\n", vk, (unsigned long long)h);
      } else if (ps->sn && ps->sn->x_var[v]) {
        put(&b, "%s\tper node type", vk);
        for (int k = 0; k < ps->sn->n; k++)
          put(&b, " %lld=%.17g", (long long)ps->sn->id[k],
              ps->sn->x0[(size_t)k * (size_t)m->nx + (size_t)v]);
        put(&b, "\n");
      } else
        put_dist(&b, vk, &ps->init[v], "");
    }
    for (int v = 0; v < m->nx; v++)
      if (ps->noise[v] > 0)
        put(&b, "%s.noise.%s\t%.17g\n", key, m->vars[v].name, ps->noise[v]);
    if (m->events) /* the spikes as built, whatever their form */
      put(&b, "%s.times\t%llu spikes, checksum %016llx\n", key,
          (unsigned long long)f->nev[p], (unsigned long long)f->evsum[p]);
    for (int c = 0; c < bs_cng_channel_count(m); c++) {
      const bs_channel_kind *kind = NULL;
      const char *name = NULL;
      const double *cp = bs_cng_channel_params(m, c, &kind, &name);
      char ck[1400];
      snprintf(ck, sizeof ck, "%s.channels.%s", key, name);
      put(&b, "%s.kind\t%s\n", ck, kind->name);
      put_params(&b, ck, kind->np, kind->params, cp);
    }
  }
  for (int j = 0; j < s->n_projs; j++) {
    const bs_proj_spec *pj = &s->projs[j];
    snprintf(key, sizeof key, "projections.%s", pj->name);
    put(&b, "%s.pre\t%s\n", key, s->pops[pj->pre].name);
    put(&b, "%s.post\t%s\n", key, s->pops[pj->post].name);
    put(&b, "%s.synapse\t%s\n", key, pj->syn->name);
    put_params(&b, key, pj->syn->np, pj->syn->params, pj->sp);
    put(&b, "%s.output\t%s\n", key, pj->out->name);
    char ok[1200];
    snprintf(ok, sizeof ok, "%s.output.%s", key, pj->out->name);
    put_params(&b, ok, pj->out->np, pj->out->params, pj->op);
    put(&b, "%s.comp_method\t%s\n", key, pj->dense ? "dense" : "sparse");
    put(&b, "%s.post_ref_key\t%s\n", key, pj->post_ref ? "refractory" : "none");
    put(&b, "%s.stp\t%s", key, pj->stp ? pj->stp->name : "none");
    for (int i = 0; pj->stp && i < BS_STP_NP; i++)
      put(&b, " %.17g", pj->stpp[i]);
    put(&b, "\n");
    put(&b, "%s.plasticity\t%s\n", key, pj->plast ? pj->plast->name : "none");
    if (pj->plast) {
      snprintf(ok, sizeof ok, "%s.plasticity.%s", key, pj->plast->name);
      put_params(&b, ok, pj->plast->np, pj->plast->params, pj->plp);
    }
    put(&b, "%s.connect\t%s", key, pj->conn->name);
    for (int i = 0; i < pj->conn->np; i++)
      put(&b, " %s=%.17g", pj->conn->params[i].name, pj->cp[i]);
    if (pj->conn->grid)
      put(&b, " shape=%g:%gx%g", pj->cp[pj->conn->np], pj->cp[pj->conn->np + 1],
          pj->cp[pj->conn->np + 2]);
    put(&b, "\n");
    snprintf(ok, sizeof ok, "%s.g_max", key);
    put_dist(&b, ok, &pj->g_max, "");
    /* The delay as given (a distribution per synapse or per pre neuron)
     * and, below, the synapses as built: every pre, post, weight and
     * delay, so lists, files and per-pre delays are covered too. */
    snprintf(ok, sizeof ok, "%s.delay", key);
    put(&b, "%s.form\t%s%s\n", ok,
        pj->delay_per_pre ? "per pre" : "per synapse",
        pj->delay_list ? " list" : "");
    put_dist(&b, ok, &pj->delay, " steps");
    snprintf(ok, sizeof ok, "%s.output.%s.E", key, pj->out->name);
    if (pj->E_per_post) {
      put(&b, "%s.form\tper post%s\n", ok, pj->E_list ? " list" : "");
      put_dist(&b, ok, &pj->E_init, "");
      put(&b, "%s.values\tchecksum %016llx\n", ok,
          (unsigned long long)f->epost[j]);
    }
    put(&b, "%s.synapses\t%llu, checksum %016llx\n", key,
        (unsigned long long)f->nnz[j], (unsigned long long)f->syn[j]);
  }
  /* Inputs are one fact each, keyed by their start step: restore()
   * compares those that start before the checkpoint as a set. */
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    const bs_input_kind *kd = in->kind;
    if (in->idx) {
      uint64_t h = 0;
      for (uint64_t e = 0; e < in->n_idx; e++)
        h = mix(h ^ in->idx[e]);
      put(&b, "inputs@%lld\t%s indices %llu, checksum %016llx %s",
          (long long)input_start(s, q), s->pops[in->pop].name,
          (unsigned long long)in->n_idx, (unsigned long long)h, kd->name);
    } else
      put(&b, "inputs@%lld\t%s [%llu, %llu) %s", (long long)input_start(s, q),
          s->pops[in->pop].name, (unsigned long long)in->start,
          (unsigned long long)in->stop, kd->name);
    for (int i = 0; i < kd->np; i++) /* `current I`: the old text */
      if (kd->np == 1 && !kd->nl)
        put(&b, " %.17g", in->p[i]);
      else
        put(&b, " %s=%.17g", kd->params[i].name, in->p[i]);
    for (int i = 0; i < kd->nl; i++) {
      put(&b, " %s=[", kd->lists[i].name);
      for (uint64_t e = 0; e < in->ln[i]; e++)
        put(&b, "%s%.17g", e ? ", " : "", in->l[i][e]);
      put(&b, "]");
    }
    if (in->to_V)
      put(&b, " target_var=V");
    if (kd->keyed) /* its random streams are keyed by the position */
      put(&b, " at inputs[%d]", q);
    put(&b, "\n");
  }
  for (int q = 0; q < s->n_monitors; q++) {
    const bs_monitor_spec *m = &s->monitors[q];
    put(&b, "monitors[%d]\t", q);
    if (m->kind == BS_MON_SPIKES) {
      put(&b, "spikes");
      for (int p = 0; p < s->n_pops; p++)
        if (m->pops[p])
          put(&b, " %s", s->pops[p].name);
      if (m->idx) {
        uint64_t h = 0;
        for (uint64_t c = 0; c < m->n_idx; c++)
          h = mix(h ^ m->idx[c]);
        put(&b, " indices %llu, checksum %016llx", (unsigned long long)m->n_idx,
            (unsigned long long)h);
      }
    } else {
      put(&b, "%s %s every %lld steps, %llu elements",
          m->pop >= 0 ? s->pops[m->pop].name : s->projs[m->proj].name, m->name,
          (long long)m->every, (unsigned long long)m->n_idx);
    }
    /* The window; an open end follows run.duration. */
    if (m->start > 0 || m->stop >= 0)
      put(&b, " from step %lld to %lld", (long long)m->start,
          (long long)m->stop);
    put(&b, "\n");
  }
  return b.s;
}

/* One line of an identity text: key [k, k + kl), value [v, v + vl). */
typedef struct line {
  const char *k, *v;
  size_t kl, vl;
} line;

static size_t split_lines(const char *t, line *out) {
  size_t n = 0;
  while (*t) {
    const char *e = strchr(t, '\n');
    size_t l = e ? (size_t)(e - t) : strlen(t);
    const char *tab = memchr(t, '\t', l);
    if (out) {
      out[n].k = t;
      out[n].kl = tab ? (size_t)(tab - t) : l;
      out[n].v = tab ? tab + 1 : t + l;
      out[n].vl = tab ? l - (size_t)(tab + 1 - t) : 0;
    }
    n++;
    t += l + (e ? 1 : 0);
  }
  return n;
}

static int key_is(const line *a, const char *k) {
  return a->kl == strlen(k) && memcmp(a->k, k, a->kl) == 0;
}

static int same_line(const line *a, const line *b) {
  return a->kl == b->kl && a->vl == b->vl && !memcmp(a->k, b->k, a->kl) &&
         !memcmp(a->v, b->v, a->vl);
}

/* An input fact "inputs@<start>": later inputs may differ. */
static int later_input(const line *a, int64_t step) {
  if (a->kl < 7 || memcmp(a->k, "inputs@", 7) != 0)
    return 0;
  return strtoll(a->k + 7, NULL, 10) >= step;
}

static bs_status refuse(bs_ctx *ctx, const char *path, const line *key,
                        const line *theirs, const line *ours) {
  const int inputs = key->kl >= 7 && !memcmp(key->k, "inputs@", 7);
  return bs_error_set(
      ctx, BS_ERR_CONFIG,
      "checkpoint %s is from a different run: %.*s differs (the checkpoint "
      "has %.*s, this config has %.*s)%s",
      path, inputs ? 6 : (int)key->kl, key->k, theirs ? (int)theirs->vl : 7,
      theirs ? theirs->v : "nothing", ours ? (int)ours->vl : 7,
      ours ? ours->v : "nothing",
      inputs ? "; only inputs that start at or after the checkpoint may "
               "change"
             : "");
}

/* Every fact of the checkpoint must be in this config and the other way
 * round, except run.duration (checked against the step by the caller) and
 * inputs that start at or after the checkpoint's step. Inputs before it
 * are compared as a set, so adding a later one does not shift them. */
static bs_status compare_identity(bs_ctx *ctx, const char *path,
                                  const char *theirs, const char *ours,
                                  int64_t step) {
  size_t na = split_lines(theirs, NULL), nb = split_lines(ours, NULL);
  line *a = calloc(na + 1, sizeof *a), *b = calloc(nb + 1, sizeof *b);
  char *used = calloc(nb + 1, 1);
  bs_status st = BS_OK;
  if (!a || !b || !used)
    st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  if (st == BS_OK) {
    split_lines(theirs, a);
    split_lines(ours, b);
  }
  for (size_t i = 0; st == BS_OK && i < na; i++) {
    if (key_is(&a[i], "duration") || key_is(&a[i], "run.duration") ||
        later_input(&a[i], step))
      continue;
    const line *same = NULL, *key = NULL;
    for (size_t k = 0; k < nb && !same; k++) {
      if (used[k])
        continue;
      if (same_line(&a[i], &b[k]))
        same = &b[k], used[k] = 1;
      else if (!key && a[i].kl == b[k].kl && !memcmp(a[i].k, b[k].k, a[i].kl))
        key = &b[k];
    }
    if (!same)
      st = refuse(ctx, path, &a[i], &a[i], key);
  }
  for (size_t k = 0; st == BS_OK && k < nb; k++)
    if (!used[k] && !later_input(&b[k], step))
      st = refuse(ctx, path, &b[k], NULL, &b[k]);
  free(a);
  free(b);
  free(used);
  return st;
}

/* ---- state blocks ------------------------------------------------------ */

static bs_status block_write(bs_ctx *ctx, bs_io *io, const char *path,
                             uint64_t rows, uint64_t cols, uint64_t col0,
                             uint64_t ncols, double *buf) {
  return bs_io_block_write(ctx, io, path, rows, cols, col0, ncols, buf);
}

/* The same walk over every state array writes and reads, so the two can
 * never disagree on what a checkpoint holds: the populations here, each
 * projection's state through its kind. */
static bs_status walk_state(bs_ctx *ctx, bs_net *net, bs_io *io, int64_t step,
                            bs_block_fn fn, int reading) {
  const bs_spec *s = net->spec;
  char path[1024];
  for (int p = 0; p < s->n_pops; p++) {
    lpop *lp = &net->pops[p];
    const bs_neuron_model *m = lp->spec->model;
    for (int v = 0; v < m->nx; v++) {
      snprintf(path, sizeof path, "/state/populations/%s/%s", lp->spec->name,
               m->vars[v].name);
      BS_CALL(ctx,
              fn(ctx, io, path, 1, lp->spec->size, lp->lo, lp->n, lp->x[v]));
    }
  }
  for (int j = 0; j < s->n_projs; j++) {
    lproj *lj = &net->projs[j];
    if (lj->ops->walk) /* gap junctions keep no state of their own */
      BS_CALL(ctx, lj->ops->walk(ctx, net, lj, io, step, fn, reading));
  }
  return bs_engine_inputs_walk(ctx, net, io, step, fn, reading);
}

/* ---- write ------------------------------------------------------------- */

bs_status bs_engine_ckpt_write(bs_ctx *ctx, bs_net *net, bs_io *out,
                               int64_t step_next, const char *dir) {
  const bs_spec *s = net->spec;
  /* The output holds everything up to the checkpoint, so a restart can
   * cut it back to exactly this point. */
  BS_CALL(ctx, bs_engine_flush_output(ctx, net, out));
  if (out)
    BS_CALL(ctx, bs_io_flush(ctx, out));
  /* Created here, not at start: a run that never checkpoints leaves no
   * empty folder behind. */
  BS_CALL(ctx, bs_io_mkdir(ctx, dir));
  char tmp[4096], final[4096];
  snprintf(final, sizeof final, "%s/ckpt.h5", dir);
  snprintf(tmp, sizeof tmp, "%s/ckpt.h5.tmp", dir);
  uint64_t *spk = NULL, *len = NULL, *row0 = NULL;
  facts f = {0};
  char *id = NULL;
  bs_io *io = NULL;
  bs_status st = facts_get(ctx, net, &f);
  const size_t np = (size_t)s->n_pops,
               nm = (size_t)(net->nmons ? net->nmons : 1);
  if (st == BS_OK)
    st = bs_calloc(ctx, np, sizeof(uint64_t), &spk);
  if (st == BS_OK)
    st = bs_calloc(ctx, np, sizeof(uint64_t), &len);
  if (st == BS_OK)
    st = bs_calloc(ctx, nm, sizeof(uint64_t), &row0);
  if (st == BS_OK) {
    id = identity(s, &f);
    if (!id)
      st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  }
  for (size_t p = 0; st == BS_OK && p < np; p++) {
    spk[p] = net->pops[p].nspikes; /* this rank's own: summed below */
    len[p] = out && net->pops[p].record
                 ? bs_io_spikes_length(out, net->pops[p].io_handle)
                 : 0;
  }
  for (int q = 0; st == BS_OK && q < net->nmons; q++)
    row0[q] = net->mons[q].row0;
  uint64_t events = net->syn_events, stepu = (uint64_t)step_next;
  if (st == BS_OK)
    st = bs_comm_sum_u64(ctx, &events, 1);
  if (st == BS_OK)
    st = bs_comm_sum_u64(ctx, spk, (int)np);
  if (st == BS_OK)
    st = bs_io_create(ctx, tmp, 1, &io);
  if (st == BS_OK)
    st = bs_io_text(ctx, io, "/meta/identity", id);
  if (st == BS_OK)
    st = bs_io_text(ctx, io, "/meta/config", s->text);
  if (st == BS_OK)
    st = bs_io_text(ctx, io, "/meta/output", out ? bs_io_path(out) : "");
  if (st == BS_OK)
    st = bs_io_attr_u64(ctx, io, "/meta", "step", &stepu, 1);
  if (st == BS_OK)
    st = bs_io_attr_u64(ctx, io, "/meta", "synaptic_events", &events, 1);
  if (st == BS_OK)
    st = bs_io_attr_u64(ctx, io, "/meta", "spikes", spk, np);
  if (st == BS_OK)
    st = bs_io_attr_u64(ctx, io, "/meta", "output_spikes", len, np);
  if (st == BS_OK)
    st = bs_io_attr_u64(ctx, io, "/meta", "monitor_rows", row0, nm);
  if (st == BS_OK)
    st = walk_state(ctx, net, io, step_next, block_write, 0);
  if (io) {
    bs_status cs = bs_io_close(ctx, &io, st == BS_OK);
    if (st == BS_OK)
      st = cs;
  }
  /* Only a complete file replaces the previous checkpoint. */
  if (st == BS_OK)
    st = bs_io_rename(ctx, tmp, final);
  free(id);
  facts_free(ctx, net, &f);
  bs_free(ctx, np, sizeof(uint64_t), &spk);
  bs_free(ctx, np, sizeof(uint64_t), &len);
  bs_free(ctx, nm, sizeof(uint64_t), &row0);
  if (st == BS_OK && ctx->rank == 0)
    printf("[brainsim] checkpoint at t = %.1f ms: %s\n",
           (double)step_next * s->dt, final);
  return st;
}

/* ---- restore ----------------------------------------------------------- */

static bs_status block_read(bs_ctx *ctx, bs_io *io, const char *path,
                            uint64_t rows, uint64_t cols, uint64_t col0,
                            uint64_t ncols, double *buf) {
  return bs_io_block_read(ctx, io, path, rows, cols, col0, ncols, buf);
}

bs_status bs_net_restore(bs_ctx *ctx, bs_net *net, const char *path,
                         char **output_path) {
  const bs_spec *s = net->spec;
  *output_path = NULL;
  bs_io *io = NULL;
  BS_CALL(ctx, bs_io_open(ctx, path, 0, &io));
  uint64_t complete = 0, stepu = 0, events = 0;
  facts f = {0};
  char *theirs = NULL, *ours = NULL;
  const size_t np = (size_t)s->n_pops,
               nm = (size_t)(net->nmons ? net->nmons : 1);
  bs_status st =
      bs_io_read_attr_u64(ctx, io, "/meta", "complete", &complete, 1);
  if (st == BS_OK && !complete)
    st = bs_error_set(ctx, BS_ERR_IO, "checkpoint %s is incomplete", path);
  if (st == BS_OK)
    st = facts_get(ctx, net, &f);
  if (st == BS_OK)
    st = bs_io_read_attr_u64(ctx, io, "/meta", "step", &stepu, 1);
  if (st == BS_OK)
    st = bs_io_read_text(ctx, io, "/meta/identity", &theirs);
  if (st == BS_OK) {
    ours = identity(s, &f);
    st = ours ? compare_identity(ctx, path, theirs, ours, (int64_t)stepu)
              : bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  }
  /* A continued run may be longer, never shorter than the checkpoint. */
  if (st == BS_OK && stepu > (uint64_t)s->n_steps)
    st = bs_error_set(ctx, BS_ERR_CONFIG,
                      "checkpoint %s is at t = %.17g ms, after the end of "
                      "this run (run.duration %.17g ms): give a run.duration "
                      "of at least the checkpoint's time",
                      path, (double)stepu * s->dt, s->duration);
  if (st == BS_OK)
    st = bs_io_read_attr_u64(ctx, io, "/meta", "synaptic_events", &events, 1);
  uint64_t *spk = NULL;
  if (st == BS_OK)
    st = bs_calloc(ctx, np, sizeof(uint64_t), &spk);
  if (st == BS_OK)
    st = bs_io_read_attr_u64(ctx, io, "/meta", "spikes", spk, np);
  if (st == BS_OK)
    st = bs_calloc(ctx, np, sizeof(uint64_t), &net->restored_spk_len);
  if (st == BS_OK)
    st = bs_io_read_attr_u64(ctx, io, "/meta", "output_spikes",
                             net->restored_spk_len, np);
  if (st == BS_OK)
    st = bs_calloc(ctx, nm, sizeof(uint64_t), &net->restored_row0);
  if (st == BS_OK)
    st = bs_io_read_attr_u64(ctx, io, "/meta", "monitor_rows",
                             net->restored_row0, nm);
  if (st == BS_OK)
    st = walk_state(ctx, net, io, (int64_t)stepu, block_read, 1);
  if (st == BS_OK)
    st = bs_io_read_text(ctx, io, "/meta/output", output_path);
  if (st == BS_OK) {
    net->step0 = (int64_t)stepu;
    /* Listed spikes go on from the first one at or after the step (the
     * position follows from the step; the identity holds the list). */
    for (size_t p = 0; p < np; p++)
      bs_pop_events_seek(&net->pops[p], net->step0 % s->trial_steps);
    /* Global counts: kept on one rank so the final sums stay right. */
    for (size_t p = 0; p < np; p++)
      net->pops[p].nspikes = ctx->rank == 0 ? spk[p] : 0;
    net->syn_events = ctx->rank == 0 ? events : 0;
  }
  free(theirs);
  free(ours);
  bs_free(ctx, np, sizeof(uint64_t), &spk);
  facts_free(ctx, net, &f);
  bs_status cs = bs_io_close(ctx, &io, 0);
  return st != BS_OK ? st : cs;
}

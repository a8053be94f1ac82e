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

static void put_params(sbuf *b, int np, const bs_param *d, const double *p) {
  for (int i = 0; i < np; i++)
    put(b, " %s=%.17g", d[i].name, p[i]);
}

static void put_dist(sbuf *b, const char *name, const bs_dist *d) {
  if (d->kind == BS_DIST_TRUNCNORMAL)
    put(b, " %s=%s(%.17g,%.17g,%.17g,%.17g)", name, bs_dist_name(d), d->a, d->b,
        d->c, d->d);
  else
    put(b, " %s=%s(%.17g,%.17g)", name, bs_dist_name(d), d->a, d->b);
}

/* One line per fact, so a mismatch can be shown line against line. */
static char *identity(const bs_spec *s, const uint64_t *nnz) {
  sbuf b = {0};
  put(&b, "seed %llu\n", (unsigned long long)s->seed);
  put(&b, "dt %.17g ms\n", s->dt);
  put(&b, "duration %.17g ms in %llu trial(s)\n", s->duration,
      (unsigned long long)s->trials);
  for (int p = 0; p < s->n_pops; p++) {
    const bs_pop_spec *ps = &s->pops[p];
    put(&b, "population %s: %s size %llu", ps->name, ps->model->name,
        (unsigned long long)ps->size);
    put_params(&b, ps->model->np, ps->model->params, ps->p);
    for (int v = 0; v < ps->model->nx; v++)
      put_dist(&b, ps->model->vars[v].name, &ps->init[v]);
    put(&b, "\n");
  }
  for (int j = 0; j < s->n_projs; j++) {
    const bs_proj_spec *pj = &s->projs[j];
    put(&b, "projection %s: %s -> %s %s", pj->name, s->pops[pj->pre].name,
        s->pops[pj->post].name, pj->syn->name);
    put_params(&b, pj->syn->np, pj->syn->params, pj->sp);
    put(&b, " output %s", pj->out->name);
    put_params(&b, pj->out->np, pj->out->params, pj->op);
    put_dist(&b, "g_max", &pj->g_max);
    put_dist(&b, "delay_steps", &pj->delay);
    if (pj->stp) { /* only then, so older checkpoints stay valid */
      put(&b, " stp %s", pj->stp->name);
      for (int i = 0; i < BS_STP_NP; i++)
        put(&b, " %.17g", pj->stpp[i]);
    }
    put(&b, " connect %s", pj->conn->name);
    put_params(&b, pj->conn->np, pj->conn->params, pj->cp);
    if (pj->conn->grid)
      put(&b, " shape=%g:%gx%g", pj->cp[pj->conn->np], pj->cp[pj->conn->np + 1],
          pj->cp[pj->conn->np + 2]);
    put(&b, " synapses %llu\n", (unsigned long long)nnz[j]);
  }
  for (int q = 0; q < s->n_inputs; q++) {
    const bs_input_spec *in = &s->inputs[q];
    put(&b, "input %d: %s [%llu, %llu) %.17g\n", q, s->pops[in->pop].name,
        (unsigned long long)in->start, (unsigned long long)in->stop,
        in->current);
  }
  for (int q = 0; q < s->n_monitors; q++) {
    const bs_monitor_spec *m = &s->monitors[q];
    if (m->kind == BS_MON_SPIKES) {
      put(&b, "monitor %d: spikes", q);
      for (int p = 0; p < s->n_pops; p++)
        if (m->pops[p])
          put(&b, " %s", s->pops[p].name);
    } else {
      put(&b, "monitor %d: %s %s every %lld steps, %llu elements", q,
          m->pop >= 0 ? s->pops[m->pop].name : s->projs[m->proj].name, m->name,
          (long long)m->every, (unsigned long long)m->n_idx);
    }
    put(&b, "\n");
  }
  return b.s;
}

static bs_status global_nnz(bs_ctx *ctx, const bs_net *net, uint64_t **nnz) {
  int nj = net->spec->n_projs;
  BS_CALL(ctx, bs_calloc(ctx, (size_t)(nj ? nj : 1), sizeof(uint64_t), nnz));
  for (int j = 0; j < nj; j++)
    (*nnz)[j] = net->projs[j].nnz;
  if (nj)
    BS_CALL(ctx, bs_comm_sum_u64(ctx, *nnz, nj));
  return BS_OK;
}

static bs_status compare_identity(bs_ctx *ctx, const char *path,
                                  const char *theirs, const char *ours) {
  const char *a = theirs, *b = ours;
  while (*a || *b) {
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    size_t la = ea ? (size_t)(ea - a) : strlen(a);
    size_t lb = eb ? (size_t)(eb - b) : strlen(b);
    if (la != lb || memcmp(a, b, la) != 0)
      return bs_error_set(ctx, BS_ERR_CONFIG,
                          "checkpoint %s is from a different run: the "
                          "checkpoint has\n  %.*s\nbut this config has\n  "
                          "%.*s",
                          path, (int)la, la ? a : "(nothing)", (int)lb,
                          lb ? b : "(nothing)");
    a += la + (ea ? 1 : 0);
    b += lb + (eb ? 1 : 0);
  }
  return BS_OK;
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
    BS_CALL(ctx, lj->ops->walk(ctx, net, lj, io, step, fn, reading));
  }
  return BS_OK;
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
  uint64_t *nnz = NULL, *spk = NULL, *len = NULL, *row0 = NULL;
  char *id = NULL;
  bs_io *io = NULL;
  bs_status st = global_nnz(ctx, net, &nnz);
  const size_t np = (size_t)s->n_pops,
               nm = (size_t)(net->nmons ? net->nmons : 1);
  if (st == BS_OK)
    st = bs_calloc(ctx, np, sizeof(uint64_t), &spk);
  if (st == BS_OK)
    st = bs_calloc(ctx, np, sizeof(uint64_t), &len);
  if (st == BS_OK)
    st = bs_calloc(ctx, nm, sizeof(uint64_t), &row0);
  if (st == BS_OK) {
    id = identity(s, nnz);
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
  bs_free(ctx, (size_t)(s->n_projs ? s->n_projs : 1), sizeof(uint64_t), &nnz);
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
  uint64_t *nnz = NULL, complete = 0, stepu = 0, events = 0;
  char *theirs = NULL, *ours = NULL;
  const size_t np = (size_t)s->n_pops,
               nm = (size_t)(net->nmons ? net->nmons : 1);
  bs_status st =
      bs_io_read_attr_u64(ctx, io, "/meta", "complete", &complete, 1);
  if (st == BS_OK && !complete)
    st = bs_error_set(ctx, BS_ERR_IO, "checkpoint %s is incomplete", path);
  if (st == BS_OK)
    st = global_nnz(ctx, net, &nnz);
  if (st == BS_OK)
    st = bs_io_read_text(ctx, io, "/meta/identity", &theirs);
  if (st == BS_OK) {
    ours = identity(s, nnz);
    st = ours ? compare_identity(ctx, path, theirs, ours)
              : bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  }
  if (st == BS_OK)
    st = bs_io_read_attr_u64(ctx, io, "/meta", "step", &stepu, 1);
  if (st == BS_OK && (stepu > (uint64_t)s->n_steps ||
                      !bs_engine_interval_start(net, (int64_t)stepu)))
    st = bs_error_set(ctx, BS_ERR_IO,
                      "checkpoint %s: step %llu is not an exchange boundary "
                      "of this run",
                      path, (unsigned long long)stepu);
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
    /* Global counts: kept on one rank so the final sums stay right. */
    for (size_t p = 0; p < np; p++)
      net->pops[p].nspikes = ctx->rank == 0 ? spk[p] : 0;
    net->syn_events = ctx->rank == 0 ? events : 0;
  }
  free(theirs);
  free(ours);
  bs_free(ctx, np, sizeof(uint64_t), &spk);
  bs_free(ctx, (size_t)(s->n_projs ? s->n_projs : 1), sizeof(uint64_t), &nnz);
  bs_status cs = bs_io_close(ctx, &io, 0);
  return st != BS_OK ? st : cs;
}

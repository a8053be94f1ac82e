/* The engine's side of connectivity and weights from files: which rows
 * each rank needs, and g_max matrices applied to the local CSR. The HDF5
 * reading itself is io/'s (src/io/edges.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine_impl.h"

bs_status bs_engine_files_load(bs_ctx *ctx, bs_net *net) {
  const bs_spec *s = net->spec;
  int any = 0;
  for (int j = 0; j < s->n_projs; j++)
    any |= bs_connector_file_kind(s->projs[j].conn) != 0;
  if (!any)
    return BS_OK;
  bs_status st =
      bs_calloc(ctx, (size_t)s->n_projs, sizeof(bs_edges), &net->file_edges);
  BS_CALL(ctx, bs_comm_agree(ctx, st, NULL));
  for (int j = 0; j < s->n_projs; j++) {
    const bs_proj_spec *js = &s->projs[j];
    int kind = bs_connector_file_kind(js->conn);
    if (!kind)
      continue;
    const bs_pop_spec *pre = &s->pops[js->pre], *post = &s->pops[js->post];
    bs_edges_src src = {.file = js->conn_file,
                        .group = js->conn_group,
                        .sonata = kind == 2,
                        .source = js->conn_source,
                        .target = js->conn_target,
                        .n_pre = pre->size,
                        .n_post = post->size,
                        .proj = js->name,
                        .types = js->conn_types,
                        .ntypes = js->n_conn_types,
                        .sign = js->conn_sign,
                        .abs_w = js->conn_abs,
                        .w0 = js->g_max.a};
    /* Collective: all ranks fail together. */
    BS_CALL(ctx,
            bs_edges_load(
                ctx, &src, bs_engine_block_lo(post->size, ctx->rank, ctx->size),
                bs_engine_block_lo(post->size, ctx->rank + 1, ctx->size),
                &net->file_edges[j]));
    if (ctx->verbose)
      bs_log0(ctx, "projection '%s': %llu synapses from %s (%s)\n", js->name,
              (unsigned long long)net->file_edges[j].total, js->conn_file,
              net->file_edges[j].how);
  }
  return BS_OK;
}

void bs_engine_files_free(bs_ctx *ctx, bs_net *net) {
  if (!net->file_edges)
    return;
  for (int j = 0; j < net->spec->n_projs; j++)
    bs_edges_free(ctx, &net->file_edges[j]);
  bs_free(ctx, (size_t)net->spec->n_projs, sizeof(bs_edges), &net->file_edges);
}

/* g_max: {file, dataset}: W[pre, post] for each local synapse, read in
 * blocks of pre rows x the local post columns (never the whole matrix);
 * One2One takes a vector W[i]. Blocks without synapses are skipped. */
bs_status bs_engine_gmax_file(bs_ctx *ctx, lproj *lj) {
  const bs_proj_spec *js = lj->spec;
  const uint64_t n_pre = lj->pre->spec->size, nl = lj->post->n;
  const uint64_t n_post = lj->post->spec->size, lo = lj->post->lo;
  const int vec = js->conn == bs_connector_find("One2One");
  char what[300];
  snprintf(what, sizeof what, "g_max of projection '%s'%s", js->name,
           vec ? ", One2One: one value per neuron" : "");
  bs_matrix_in *m = NULL;
  BS_CALL(ctx, bs_matrix_open(ctx, js->g_file, js->g_dataset, vec ? 0 : n_pre,
                              n_post, what, &m));
  uint64_t B = nl ? ((uint64_t)1 << 20) / nl : n_pre;
  if (B < 1)
    B = 1;
  if (vec)
    B = n_pre; /* one read of the local part */
  double *buf = NULL;
  const size_t nbuf = (size_t)((vec ? 1 : B) * (nl ? nl : 1));
  bs_status st = bs_malloc(ctx, nbuf, sizeof(double), &buf);
  /* The table's pre neurons ascending: each block of B pre rows that
   * holds one of them is read once. */
  for (uint64_t k = 0; k < lj->npos && st == BS_OK;) {
    const uint64_t i0 = lproj_id(lj, k) / B * B;
    const uint64_t i1 = i0 + B < n_pre ? i0 + B : n_pre;
    int read = 0;
    for (; k < lj->npos && lproj_id(lj, k) < i1 && st == BS_OK; k++) {
      lrow r;
      lproj_row(lj, k, &r);
      if (r.n && !read) {
        st = vec ? bs_matrix_read(ctx, m, 0, 0, lo, nl, buf)
                 : bs_matrix_read(ctx, m, i0, i1 - i0, lo, nl, buf);
        read = 1;
      }
      const uint64_t i = lproj_id(lj, k);
      for (uint64_t q = 0; q < r.n && st == BS_OK; q++) {
        uint32_t c = lrow_col(&r, q);
        double w = vec ? buf[c] : buf[(i - i0) * nl + c];
        if (!isfinite(w)) {
          st = bs_error_set(ctx, BS_ERR_IO,
                            "%s: dataset %s at [%llu, %llu]: g_max %g of "
                            "synapse %llu -> %llu (projection '%s') is not "
                            "finite",
                            js->g_file, js->g_dataset, (unsigned long long)i,
                            (unsigned long long)(lo + c), w,
                            (unsigned long long)i, (unsigned long long)(lo + c),
                            js->name);
          break;
        }
        r.w[q] = (float)w;
      }
    }
  }
  bs_free(ctx, nbuf, sizeof(double), &buf);
  bs_matrix_close(&m);
  return st;
}

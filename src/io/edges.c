/* Connectivity and weights from HDF5 files: rows of (pre, post[, weight,
 * delay]) in a group, SONATA edge populations (shared/reference/sonata.md
 * §6.3) and dense g_max matrices. Each rank opens the file read-only with
 * serial HDF5 and reads only the rows of its own targets: through the
 * SONATA target_to_source index, or by binary search of a target-sorted
 * file, checked afterwards over all ranks; a file that is not sorted is
 * scanned in chunks instead. Every value read is checked; errors name the
 * file, the dataset and the row. */
#define _POSIX_C_SOURCE 200809L
#include "brainsim/io.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "io_impl.h"

#define CHUNK_ROWS ((uint64_t)1 << 20) /* rows per scan chunk */
#define MAX_GROUPS 64                  /* SONATA edge groups per population */

/* ---- errors ------------------------------------------------------------ */

/* A message naming the place, with HDF5's own words when it has some. */
__attribute__((format(printf, 2, 3))) static bs_status
h5fail(bs_ctx *ctx, const char *fmt, ...) {
  char msg[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  bs_h5_stack w;
  bs_io_h5_stack(&w);
  /* The innermost entry says why (e.g. "truncated file: eof = ..."). */
  if (w.n > 1 && strcmp(w.top, w.bottom))
    return bs_error_set(ctx, BS_ERR_IO, "%s (HDF5: %s: %s)", msg, w.top,
                        w.bottom);
  if (w.n && w.top[0])
    return bs_error_set(ctx, BS_ERR_IO, "%s (HDF5: %s)", msg, w.top);
  return bs_error_set(ctx, BS_ERR_IO, "%s", msg);
}

/* ---- columns ----------------------------------------------------------- */

typedef struct col {
  hid_t d;
  char path[600];
  uint64_t len, ncol; /* ncol: 0 for 1-D, else the second dimension */
  int is_int;
} col;

typedef struct reader {
  bs_ctx *ctx;
  const bs_edges_src *src;
  const char *file;
  hid_t f;
  char base[520];
  col pre, post, w, d, gid, gidx;
  int has_w, has_d, delay_ms, has_index;
  col n2r, r2e;
  /* SONATA groups: numeric subgroups holding syn_weight and delay */
  int ngroups;
  long group_id[MAX_GROUPS];
  col gw[MAX_GROUPS], gd[MAX_GROUPS], gn[MAX_GROUPS];
  int groups_w, groups_d; /* every group has syn_weight / delay */
  int groups_n;           /* some group has nsyns (BMTK) */
  col etype;              /* edge_type_id, when the source filters types */
  uint64_t E;
} reader;

static int exists(hid_t f, const char *path) {
  /* Every level: H5Lexists fails on a missing intermediate group. */
  char buf[700];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (p > buf + 1 && H5Lexists(f, buf, H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
      }
      *p = c;
      if (c == '\0')
        return 1;
    }
  }
}

/* Open base/name as a numeric dataset of 1 dimension (ncol 0) or 2 with
 * ncol columns. Returns BS_OK with c->d < 0 when optional and absent. */
static bs_status open_col(reader *r, const char *base, const char *name,
                          int required, int allow_float, uint64_t ncol,
                          const char *why, col *c) {
  c->d = -1;
  snprintf(c->path, sizeof c->path, "%s/%s", strcmp(base, "/") ? base : "",
           name);
  if (!exists(r->f, c->path)) {
    if (!required)
      return BS_OK;
    return bs_error_set(r->ctx, BS_ERR_IO,
                        "%s: dataset %s is missing (projection '%s' needs %s)",
                        r->file, c->path, r->src->proj, why);
  }
  H5O_info_t oi;
  if (H5Oget_info_by_name(r->f, c->path, &oi, H5P_DEFAULT) < 0)
    return h5fail(r->ctx, "%s: cannot read %s", r->file, c->path);
  if (oi.type != H5O_TYPE_DATASET)
    return bs_error_set(r->ctx, BS_ERR_IO, "%s: %s is not a dataset (%s)",
                        r->file, c->path, why);
  c->d = H5Dopen2(r->f, c->path, H5P_DEFAULT);
  if (c->d < 0)
    return h5fail(r->ctx, "%s: cannot open dataset %s", r->file, c->path);
  const H5T_class_t cl = bs_io_num_class(c->d);
  c->is_int = cl == H5T_INTEGER;
  if (!(cl == H5T_INTEGER || (allow_float && cl == H5T_FLOAT)))
    return bs_error_set(r->ctx, BS_ERR_IO,
                        "%s: dataset %s has the wrong type (expected %s for "
                        "%s)",
                        r->file, c->path,
                        allow_float ? "numbers (integer or float)" : "integers",
                        why);
  hid_t sp = H5Dget_space(c->d);
  int nd = H5Sget_simple_extent_ndims(sp);
  hsize_t dims[2] = {0, 0};
  if (nd >= 1 && nd <= 2)
    H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (nd != (ncol ? 2 : 1) || (ncol && dims[1] != ncol)) {
    if (ncol)
      return bs_error_set(r->ctx, BS_ERR_IO,
                          "%s: dataset %s has the wrong shape (expected "
                          "[n, %llu] for %s)",
                          r->file, c->path, (unsigned long long)ncol, why);
    return bs_error_set(r->ctx, BS_ERR_IO,
                        "%s: dataset %s has the wrong shape (%d dimensions, "
                        "expected 1 for %s)",
                        r->file, c->path, nd, why);
  }
  c->len = dims[0];
  c->ncol = ncol;
  return BS_OK;
}

static void close_col(col *c) {
  if (c->d >= 0)
    H5Dclose(c->d);
  c->d = -1;
}

/* Rows [start, start + n) of a column (all its columns for 2-D) converted
 * to mtype. */
static bs_status read_rows(reader *r, col *c, uint64_t start, uint64_t n,
                           hid_t mtype, void *buf) {
  if (n == 0)
    return BS_OK;
  hid_t fs = H5Dget_space(c->d);
  hsize_t st[2] = {start, 0}, cnt[2] = {n, c->ncol};
  hsize_t m = n * (c->ncol ? c->ncol : 1);
  hid_t ms = H5Screate_simple(1, &m, NULL);
  herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
  if (rc >= 0)
    rc = H5Dread(c->d, mtype, ms, fs, H5P_DEFAULT, buf);
  bs_status s =
      rc < 0 ? h5fail(r->ctx, "%s: reading rows %llu to %llu of dataset %s",
                      r->file, (unsigned long long)start,
                      (unsigned long long)(start + n - 1), c->path)
             : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  return s;
}

/* Elements at rows idx[0..n) of a 1-D column, as doubles. */
static bs_status read_points(reader *r, col *c, const uint64_t *idx, uint64_t n,
                             double *buf) {
  if (n == 0)
    return BS_OK;
  int contiguous = 1;
  for (uint64_t k = 1; k < n && contiguous; k++)
    contiguous = idx[k] == idx[0] + k;
  if (contiguous)
    return read_rows(r, c, idx[0], n, H5T_NATIVE_DOUBLE, buf);
  hsize_t *coord = malloc(n * sizeof *coord);
  if (!coord)
    return bs_error_set(r->ctx, BS_ERR_NOMEM, "out of memory reading %s",
                        c->path);
  for (uint64_t k = 0; k < n; k++)
    coord[k] = idx[k];
  hid_t fs = H5Dget_space(c->d);
  hsize_t m = n;
  hid_t ms = H5Screate_simple(1, &m, NULL);
  herr_t rc = H5Sselect_elements(fs, H5S_SELECT_SET, n, coord);
  if (rc >= 0)
    rc = H5Dread(c->d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
  bs_status s = rc < 0
                    ? h5fail(r->ctx, "%s: reading dataset %s", r->file, c->path)
                    : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  free(coord);
  return s;
}

/* A string attribute that SONATA requires. */
static bs_status read_str_attr(reader *r, const col *c, const char *name,
                               char *out, size_t len) {
  int found = 0;
  BS_CALL(r->ctx, bs_io_str_attr(r->ctx, c->d, r->file, c->path, name, out, len,
                                 &found));
  if (!found)
    return bs_error_set(r->ctx, BS_ERR_IO,
                        "%s: attribute %s of %s is missing (SONATA names "
                        "the node population of every edge there)",
                        r->file, name, c->path);
  return BS_OK;
}

/* ---- opening ----------------------------------------------------------- */

static herr_t group_cb(hid_t g, const char *name, const H5L_info_t *info,
                       void *data) {
  (void)info;
  reader *r = data;
  char *end;
  long id = strtol(name, &end, 10);
  if (!*name || *end || id < 0)
    return 0;
  H5O_info_t oi;
  if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 ||
      oi.type != H5O_TYPE_GROUP)
    return 0;
  if (r->ngroups == MAX_GROUPS)
    return 1;
  r->group_id[r->ngroups++] = id;
  return 0;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

static bs_status open_sonata(reader *r) {
  bs_ctx *ctx = r->ctx;
  const bs_edges_src *s = r->src;
  snprintf(r->base, sizeof r->base, "/edges/%s", s->group);
  if (!exists(r->f, r->base))
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: edge population %s is missing (projection "
                        "'%s'; SONATA edges live in /edges/<population>)",
                        r->file, r->base, s->proj);
  BS_CALL(ctx, open_col(r, r->base, "source_node_id", 1, 0, 0,
                        "the source of each edge", &r->pre));
  BS_CALL(ctx, open_col(r, r->base, "target_node_id", 1, 0, 0,
                        "the target of each edge", &r->post));
  if (r->pre.len != r->post.len)
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: %s has %llu rows but %s has %llu: edge columns "
                        "must have the same length",
                        r->file, r->pre.path, (unsigned long long)r->pre.len,
                        r->post.path, (unsigned long long)r->post.len);
  r->E = r->pre.len;
  char pop[256];
  BS_CALL(ctx, read_str_attr(r, &r->pre, "node_population", pop, sizeof pop));
  if (strcmp(pop, s->source))
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: %s@node_population is '%s', but projection "
                        "'%s' expects source population '%s' (set "
                        "connect.SONATA.source to use another name)",
                        r->file, r->pre.path, pop, s->proj, s->source);
  BS_CALL(ctx, read_str_attr(r, &r->post, "node_population", pop, sizeof pop));
  if (strcmp(pop, s->target))
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: %s@node_population is '%s', but projection "
                        "'%s' expects target population '%s' (set "
                        "connect.SONATA.target to use another name)",
                        r->file, r->post.path, pop, s->proj, s->target);
  /* Groups: weights and delays (ms) per group, found by edge_group_id
   * and edge_group_index. */
  hid_t g = H5Gopen2(r->f, r->base, H5P_DEFAULT);
  if (g < 0)
    return h5fail(ctx, "%s: cannot open group %s", r->file, r->base);
  herr_t it = H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, group_cb, r);
  H5Gclose(g);
  if (it < 0)
    return h5fail(ctx, "%s: cannot list group %s", r->file, r->base);
  if (it > 0)
    return bs_error_set(ctx, BS_ERR_IO, "%s: %s has more than %d edge groups",
                        r->file, r->base, MAX_GROUPS);
  qsort(r->group_id, (size_t)r->ngroups, sizeof(long), cmp_long);
  int nw = 0, nd = 0;
  for (int k = 0; k < r->ngroups; k++) {
    char gp[600];
    snprintf(gp, sizeof gp, "%s/%ld", r->base, r->group_id[k]);
    BS_CALL(ctx,
            open_col(r, gp, "syn_weight", 0, 1, 0, "edge weights", &r->gw[k]));
    BS_CALL(ctx,
            open_col(r, gp, "delay", 0, 1, 0, "edge delays (ms)", &r->gd[k]));
    BS_CALL(ctx, open_col(r, gp, "nsyns", 0, 1, 0, "synapses per edge (BMTK)",
                          &r->gn[k]));
    nw += r->gw[k].d >= 0;
    nd += r->gd[k].d >= 0;
    r->groups_n |= r->gn[k].d >= 0;
  }
  for (int k = 0; k < r->ngroups; k++) {
    if (nw && r->gw[k].d < 0)
      return bs_error_set(ctx, BS_ERR_IO,
                          "%s: group %s/%ld has no syn_weight but other "
                          "groups have: give weights in every group or none",
                          r->file, r->base, r->group_id[k]);
    if (nd && r->gd[k].d < 0)
      return bs_error_set(ctx, BS_ERR_IO,
                          "%s: group %s/%ld has no delay but other groups "
                          "have: give delays in every group or none",
                          r->file, r->base, r->group_id[k]);
  }
  r->groups_w = nw > 0;
  r->groups_d = nd > 0;
  r->has_w = r->groups_w || r->groups_n;
  r->has_d = r->groups_d;
  r->delay_ms = 1;
  if (s->types) {
    BS_CALL(ctx, open_col(r, r->base, "edge_type_id", 1, 0, 0,
                          "the type of each edge", &r->etype));
    if (r->etype.len != r->E)
      return bs_error_set(ctx, BS_ERR_IO,
                          "%s: %s has %llu rows but %s has %llu: edge "
                          "columns must have the same length",
                          r->file, r->etype.path,
                          (unsigned long long)r->etype.len, r->pre.path,
                          (unsigned long long)r->E);
  }
  if (nw || nd || r->groups_n) {
    BS_CALL(ctx, open_col(r, r->base, "edge_group_id", 1, 0, 0,
                          "the group of each edge", &r->gid));
    BS_CALL(ctx, open_col(r, r->base, "edge_group_index", 1, 0, 0,
                          "the row of each edge in its group", &r->gidx));
    const col *cs[2] = {&r->gid, &r->gidx};
    for (int k = 0; k < 2; k++)
      if (cs[k]->len != r->E)
        return bs_error_set(ctx, BS_ERR_IO,
                            "%s: %s has %llu rows but %s has %llu: edge "
                            "columns must have the same length",
                            r->file, cs[k]->path,
                            (unsigned long long)cs[k]->len, r->pre.path,
                            (unsigned long long)r->E);
  }
  /* Indices: node counts must match the populations. */
  char ip[600];
  static const char *const n2r_names[2] = {"node_id_to_ranges",
                                           "node_id_to_range"};
  for (int dir = 0; dir < 2; dir++) {
    snprintf(ip, sizeof ip, "%s/indices/%s", r->base,
             dir ? "source_to_target" : "target_to_source");
    if (!exists(r->f, ip))
      continue;
    col n2r = {.d = -1}, r2e = {.d = -1};
    /* BMTK writes node_id_to_range (sonata.md §6.3): accept both. */
    char probe[700];
    snprintf(probe, sizeof probe, "%s/%s", ip, n2r_names[0]);
    const char *nm = exists(r->f, probe) ? n2r_names[0] : n2r_names[1];
    bs_status st =
        open_col(r, ip, nm, 1, 0, 2, "the index of edge ranges per node", &n2r);
    if (st == BS_OK)
      st = open_col(r, ip, "range_to_edge_id", 1, 0, 2,
                    "the edge ids of each range", &r2e);
    /* BMTK ends an index at the last node with edges: shorter is fine
     * (the nodes past its end have none). */
    uint64_t want = dir ? s->n_pre : s->n_post;
    if (st == BS_OK && n2r.len > want)
      st = bs_error_set(ctx, BS_ERR_IO,
                        "%s: %s has %llu nodes, more than the %llu neurons "
                        "of %s population '%s'",
                        r->file, n2r.path, (unsigned long long)n2r.len,
                        (unsigned long long)want, dir ? "source" : "target",
                        dir ? s->source : s->target);
    if (st != BS_OK || dir) {
      close_col(&n2r);
      close_col(&r2e);
      BS_CALL(ctx, st);
      continue;
    }
    r->n2r = n2r;
    r->r2e = r2e;
    r->has_index = 1;
  }
  return BS_OK;
}

static bs_status open_rows(reader *r) {
  bs_ctx *ctx = r->ctx;
  snprintf(r->base, sizeof r->base, "%s", r->src->group);
  if (strcmp(r->base, "/") && !exists(r->f, r->base))
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: group %s is missing (projection '%s')", r->file,
                        r->base, r->src->proj);
  BS_CALL(ctx, open_col(r, r->base, "pre", 1, 0, 0, "the pre id of each row",
                        &r->pre));
  BS_CALL(ctx, open_col(r, r->base, "post", 1, 0, 0, "the post id of each row",
                        &r->post));
  BS_CALL(ctx, open_col(r, r->base, "weight", 0, 1, 0, "weights", &r->w));
  col dm = {.d = -1}, ds = {.d = -1};
  BS_CALL(ctx, open_col(r, r->base, "delay", 0, 1, 0, "delays in ms", &dm));
  bs_status st =
      open_col(r, r->base, "delay_step", 0, 0, 0, "delays in whole steps", &ds);
  if (st == BS_OK && dm.d >= 0 && ds.d >= 0)
    st = bs_error_set(ctx, BS_ERR_IO,
                      "%s: give either %s (ms) or %s (steps), not both",
                      r->file, dm.path, ds.path);
  if (st != BS_OK) {
    close_col(&dm);
    close_col(&ds);
    return st;
  }
  r->d = dm.d >= 0 ? dm : ds;
  r->delay_ms = dm.d >= 0;
  r->has_w = r->w.d >= 0;
  r->has_d = r->d.d >= 0;
  r->E = r->post.len;
  const col *cs[4] = {&r->pre, &r->post, &r->w, &r->d};
  for (int k = 0; k < 4; k++)
    if (cs[k]->d >= 0 && cs[k]->len != r->E)
      return bs_error_set(ctx, BS_ERR_IO,
                          "%s: %s has %llu rows but %s has %llu: the columns "
                          "must have the same length",
                          r->file, cs[k]->path, (unsigned long long)cs[k]->len,
                          r->post.path, (unsigned long long)r->E);
  return BS_OK;
}

static void reader_close(reader *r) {
  col *cs[] = {&r->pre,  &r->post, &r->w,   &r->d,    &r->gid,
               &r->gidx, &r->n2r,  &r->r2e, &r->etype};
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++)
    close_col(cs[k]);
  for (int k = 0; k < r->ngroups; k++) {
    close_col(&r->gw[k]);
    close_col(&r->gd[k]);
    close_col(&r->gn[k]);
  }
  if (r->f >= 0)
    H5Fclose(r->f);
  r->f = -1;
}

static bs_status reader_open(bs_ctx *ctx, const bs_edges_src *src, reader *r) {
  memset(r, 0, sizeof *r);
  r->ctx = ctx;
  r->src = src;
  r->file = src->file;
  r->f = -1;
  col *cs[] = {&r->pre,  &r->post, &r->w,   &r->d,    &r->gid,
               &r->gidx, &r->n2r,  &r->r2e, &r->etype};
  for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++)
    cs[k]->d = -1;
  for (int k = 0; k < MAX_GROUPS; k++)
    r->gw[k].d = r->gd[k].d = r->gn[k].d = -1;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (access(src->file, R_OK) != 0)
    return bs_error_set(ctx, BS_ERR_IO,
                        "cannot open '%s' (connectivity of projection "
                        "'%s'): %s",
                        src->file, src->proj, strerror(errno));
  r->f = H5Fopen(src->file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (r->f < 0)
    return h5fail(ctx,
                  "cannot open '%s' (connectivity of projection '%s') as "
                  "HDF5",
                  src->file, src->proj);
  return src->sonata ? open_sonata(r) : open_rows(r);
}

/* ---- the local rows ---------------------------------------------------- */

static bs_status grow(bs_ctx *ctx, bs_edges *e, uint64_t need, int with_w,
                      int with_d) {
  if (need <= e->cap)
    return BS_OK;
  uint64_t nc = e->cap ? e->cap : 1024;
  while (nc < need)
    nc *= 2;
  size_t oc = (size_t)e->cap;
  BS_CALL(ctx, bs_realloc(ctx, oc, (size_t)nc, sizeof(uint64_t), &e->pre));
  BS_CALL(ctx, bs_realloc(ctx, oc, (size_t)nc, sizeof(uint64_t), &e->post));
  BS_CALL(ctx, bs_realloc(ctx, oc, (size_t)nc, sizeof(uint64_t), &e->row));
  if (with_w)
    BS_CALL(ctx, bs_realloc(ctx, oc, (size_t)nc, sizeof(double), &e->w));
  if (with_d)
    BS_CALL(ctx, bs_realloc(ctx, oc, (size_t)nc, sizeof(double), &e->delay));
  e->cap = nc;
  return BS_OK;
}

void bs_edges_free(bs_ctx *ctx, bs_edges *e) {
  size_t c = (size_t)e->cap;
  bs_free(ctx, c, sizeof(uint64_t), &e->pre);
  bs_free(ctx, c, sizeof(uint64_t), &e->post);
  bs_free(ctx, c, sizeof(uint64_t), &e->row);
  bs_free(ctx, c, sizeof(double), &e->w);
  bs_free(ctx, c, sizeof(double), &e->delay);
  e->n = e->cap = 0;
}

static bs_status bad_id(reader *r, const col *c, uint64_t row, int64_t v,
                        uint64_t n, int is_pre) {
  const bs_edges_src *s = r->src;
  return bs_error_set(r->ctx, BS_ERR_IO,
                      "%s: dataset %s row %llu: %s id %lld is outside [0, "
                      "%llu) (population '%s' of projection '%s')",
                      r->file, c->path, (unsigned long long)row,
                      is_pre ? "pre" : "post", (long long)v,
                      (unsigned long long)n, is_pre ? s->source : s->target,
                      s->proj);
}

/* Append rows [start, start + n) of the file (all local) to e: pre, the
 * given post values, weights and delays of the rows form, and for SONATA
 * the group ids and indices into gid/gidx (grown with e). */
static bs_status append_range(reader *r, bs_edges *e, uint64_t start,
                              uint64_t n, const int64_t *post, int64_t **gid,
                              int64_t **gidx) {
  bs_ctx *ctx = r->ctx;
  uint64_t at = e->n, oldcap = e->cap;
  int plain = !r->src->sonata;
  if (n == 0) /* e.g. a sorted file without rows in this block */
    return BS_OK;
  BS_CALL(ctx, grow(ctx, e, at + n, r->has_w, r->has_d));
  if (r->src->sonata && (r->groups_w || r->groups_d || r->groups_n) &&
      e->cap != oldcap) {
    BS_CALL(ctx, bs_realloc(ctx, (size_t)oldcap, (size_t)e->cap,
                            sizeof(int64_t), gid));
    BS_CALL(ctx, bs_realloc(ctx, (size_t)oldcap, (size_t)e->cap,
                            sizeof(int64_t), gidx));
  }
  int64_t *tmp = (int64_t *)(e->pre + at);
  BS_CALL(ctx, read_rows(r, &r->pre, start, n, H5T_NATIVE_INT64, tmp));
  for (uint64_t k = 0; k < n; k++) {
    int64_t v = tmp[k];
    if (v < 0 || (uint64_t)v >= r->src->n_pre)
      return bad_id(r, &r->pre, start + k, v, r->src->n_pre, 1);
    e->pre[at + k] = (uint64_t)v;
    e->post[at + k] = (uint64_t)post[k];
    e->row[at + k] = start + k;
  }
  if (plain && r->has_w)
    BS_CALL(ctx, read_rows(r, &r->w, start, n, H5T_NATIVE_DOUBLE, e->w + at));
  if (plain && r->has_d)
    BS_CALL(ctx,
            read_rows(r, &r->d, start, n, H5T_NATIVE_DOUBLE, e->delay + at));
  if (!plain && (r->groups_w || r->groups_d || r->groups_n)) {
    BS_CALL(ctx, read_rows(r, &r->gid, start, n, H5T_NATIVE_INT64, *gid + at));
    BS_CALL(ctx,
            read_rows(r, &r->gidx, start, n, H5T_NATIVE_INT64, *gidx + at));
  }
  e->n = at + n;
  return BS_OK;
}

/* SONATA: weights and delays of the local edges from their groups. */
static bs_status attach_groups(reader *r, bs_edges *e, const int64_t *gid,
                               const int64_t *gidx) {
  bs_ctx *ctx = r->ctx;
  if (!(r->groups_w || r->groups_d || r->groups_n) || e->n == 0)
    return BS_OK;
  if (!r->groups_w && r->groups_n) /* nsyns without syn_weight: nsyns x w0 */
    for (uint64_t k = 0; k < e->n; k++)
      e->w[k] = r->src->w0;
  uint64_t *pos = NULL, *idx = NULL;
  double *val = NULL;
  bs_status st = BS_OK;
  pos = malloc(e->n * sizeof *pos);
  idx = malloc(e->n * sizeof *idx);
  val = malloc(e->n * sizeof *val);
  if (!pos || !idx || !val)
    st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory reading edge groups");
  for (uint64_t k = 0; k < e->n && st == BS_OK; k++) {
    int found = 0;
    for (int g = 0; g < r->ngroups; g++)
      found |= gid[k] == r->group_id[g];
    if (!found)
      st = bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s row %llu: edge group %lld does not "
                        "exist in %s",
                        r->file, r->gid.path, (unsigned long long)e->row[k],
                        (long long)gid[k], r->base);
  }
  for (int g = 0; g < r->ngroups && st == BS_OK; g++) {
    uint64_t m = 0;
    for (uint64_t k = 0; k < e->n; k++)
      if (gid[k] == r->group_id[g])
        pos[m++] = k;
    /* weight, delay, then nsyns, which multiplies the weight */
    for (int which = 0; which < 3 && st == BS_OK && m; which++) {
      col *c = which == 2 ? &r->gn[g] : which ? &r->gd[g] : &r->gw[g];
      if (c->d < 0)
        continue;
      for (uint64_t q = 0; q < m && st == BS_OK; q++) {
        int64_t v = gidx[pos[q]];
        if (v < 0 || (uint64_t)v >= c->len)
          st = bs_error_set(ctx, BS_ERR_IO,
                            "%s: dataset %s row %llu: index %lld is outside "
                            "%s (%llu rows)",
                            r->file, r->gidx.path,
                            (unsigned long long)e->row[pos[q]], (long long)v,
                            c->path, (unsigned long long)c->len);
        idx[q] = (uint64_t)v;
      }
      if (st == BS_OK)
        st = read_points(r, c, idx, m, val);
      double *out = which == 1 ? e->delay : e->w;
      for (uint64_t q = 0; q < m && st == BS_OK; q++) {
        if (which == 2 && !(val[q] >= 0 && val[q] == floor(val[q])))
          st = bs_error_set(ctx, BS_ERR_IO,
                            "%s: dataset %s row %lld: nsyns %g is not a "
                            "whole number >= 0",
                            r->file, c->path, (long long)idx[q], val[q]);
        if (which == 2)
          out[pos[q]] *= val[q];
        else
          out[pos[q]] = val[q];
      }
    }
  }
  free(pos);
  free(idx);
  free(val);
  return st;
}

/* Check values of the local rows: finite weights, delays >= 0. */
static bs_status check_values(reader *r, const bs_edges *e) {
  for (uint64_t k = 0; k < e->n; k++) {
    const char *what = NULL;
    double v = 0;
    if (e->w && !isfinite(e->w[k]))
      what = "weight", v = e->w[k];
    else if (e->delay && !(e->delay[k] >= 0 && e->delay[k] <= 1e9))
      what = "delay", v = e->delay[k];
    if (what) {
      const col *c = what[0] == 'w' ? (r->src->sonata ? NULL : &r->w)
                                    : (r->src->sonata ? NULL : &r->d);
      return bs_error_set(
          r->ctx, BS_ERR_IO, "%s: %s %s row %llu: %s %g is not %s", r->file,
          c ? "dataset" : "edge", c ? c->path : r->base,
          (unsigned long long)e->row[k], what, v,
          what[0] == 'w' ? "a finite number" : "a delay (finite, >= 0)");
    }
  }
  return BS_OK;
}

/* SONATA: keep the edges of the source's types and weight sign (in row
 * order), |w| when asked. */
static bs_status filter_edges(reader *r, bs_edges *e) {
  const bs_edges_src *s = r->src;
  if (!s->sonata || (!s->types && !s->sign && !s->abs_w) || e->n == 0)
    return BS_OK;
  double *ty = NULL;
  if (s->types) {
    ty = malloc(e->n * sizeof *ty);
    if (!ty)
      return bs_error_set(r->ctx, BS_ERR_NOMEM, "out of memory");
    bs_status st = read_points(r, &r->etype, e->row, e->n, ty);
    if (st != BS_OK) {
      free(ty);
      return st;
    }
  }
  uint64_t m = 0;
  for (uint64_t k = 0; k < e->n; k++) {
    int keep = !ty;
    for (int i = 0; ty && i < s->ntypes; i++)
      keep |= ty[k] == (double)s->types[i];
    const double w = e->w ? e->w[k] : s->w0;
    if (s->sign > 0)
      keep &= w >= 0;
    else if (s->sign < 0)
      keep &= w < 0;
    if (!keep)
      continue;
    e->pre[m] = e->pre[k];
    e->post[m] = e->post[k];
    e->row[m] = e->row[k];
    if (e->w)
      e->w[m] = s->abs_w ? fabs(w) : w;
    if (e->delay)
      e->delay[m] = e->delay[k];
    m++;
  }
  e->n = m;
  free(ty);
  return BS_OK;
}

/* Post values of rows [a, b) read into a buffer; NULL on error. */
static int64_t *read_post(reader *r, uint64_t a, uint64_t b) {
  int64_t *p = malloc((b > a ? b - a : 1) * sizeof *p);
  if (!p) {
    bs_error_set(r->ctx, BS_ERR_NOMEM, "out of memory reading %s",
                 r->post.path);
    return NULL;
  }
  if (read_rows(r, &r->post, a, b - a, H5T_NATIVE_INT64, p) != BS_OK) {
    free(p);
    return NULL;
  }
  return p;
}

/* First row whose post is >= v, as if the column were sorted. */
static bs_status lower_bound(reader *r, int64_t v, uint64_t *out) {
  uint64_t lo = 0, hi = r->E;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    int64_t x;
    BS_CALL(r->ctx, read_rows(r, &r->post, mid, 1, H5T_NATIVE_INT64, &x));
    if (x < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  *out = lo;
  return BS_OK;
}

/* Sorted by target: the local block is one run of rows. *ok = 0 when the
 * run is not sorted or leaves the block (the caller then scans). */
static bs_status read_sorted(reader *r, uint64_t lo, uint64_t hi, bs_edges *e,
                             int64_t **gid, int64_t **gidx, int *ok) {
  uint64_t a, b;
  *ok = 1;
  BS_CALL(r->ctx, lower_bound(r, (int64_t)lo, &a));
  BS_CALL(r->ctx, lower_bound(r, (int64_t)hi, &b));
  if (b < a) {
    *ok = 0;
    return BS_OK;
  }
  int64_t *post = read_post(r, a, b);
  if (!post)
    return r->ctx->errcode;
  for (uint64_t k = 0; k < b - a && *ok; k++)
    *ok = post[k] >= (int64_t)lo && post[k] < (int64_t)hi &&
          (k == 0 || post[k] >= post[k - 1]);
  bs_status st = BS_OK;
  if (*ok)
    st = append_range(r, e, a, b - a, post, gid, gidx);
  free(post);
  return st;
}

/* All columns of rows [c0, c0 + n) read at once; the local rows kept. */
static bs_status keep_local(reader *r, uint64_t c0, uint64_t n,
                            const int64_t *post, uint64_t lo, uint64_t hi,
                            bs_edges *e, int64_t **gid, int64_t **gidx) {
  bs_ctx *ctx = r->ctx;
  bs_edges t;
  memset(&t, 0, sizeof t);
  int64_t *tg = NULL, *tgx = NULL;
  const int groups =
      r->src->sonata && (r->groups_w || r->groups_d || r->groups_n);
  bs_status st = append_range(r, &t, c0, n, post, &tg, &tgx);
  for (uint64_t k = 0; k < t.n && st == BS_OK; k++) {
    if (!(t.post[k] >= lo && t.post[k] < hi))
      continue;
    uint64_t at = e->n, oldcap = e->cap;
    st = grow(ctx, e, at + 1, t.w != NULL, t.delay != NULL);
    if (st == BS_OK && groups && e->cap != oldcap) {
      st =
          bs_realloc(ctx, (size_t)oldcap, (size_t)e->cap, sizeof(int64_t), gid);
      if (st == BS_OK)
        st = bs_realloc(ctx, (size_t)oldcap, (size_t)e->cap, sizeof(int64_t),
                        gidx);
    }
    if (st != BS_OK)
      break;
    e->pre[at] = t.pre[k];
    e->post[at] = t.post[k];
    e->row[at] = t.row[k];
    if (t.w)
      e->w[at] = t.w[k];
    if (t.delay)
      e->delay[at] = t.delay[k];
    if (groups) {
      (*gid)[at] = tg[k];
      (*gidx)[at] = tgx[k];
    }
    e->n = at + 1;
  }
  bs_free(ctx, (size_t)t.cap, sizeof(int64_t), &tg);
  bs_free(ctx, (size_t)t.cap, sizeof(int64_t), &tgx);
  bs_edges_free(ctx, &t);
  return st;
}

/* Every row, in chunks of CHUNK_ROWS: keeps the local ones. */
static bs_status read_scan(reader *r, uint64_t lo, uint64_t hi, bs_edges *e,
                           int64_t **gid, int64_t **gidx) {
  uint64_t C = CHUNK_ROWS;
  const char *env = getenv("BRAINSIM_EDGE_CHUNK"); /* tests: tiny chunks */
  if (env && atoll(env) > 0)
    C = (uint64_t)atoll(env);
  int64_t *post = NULL;
  bs_status st = BS_OK;
  for (uint64_t c0 = 0; c0 < r->E && st == BS_OK; c0 += C) {
    uint64_t n = r->E - c0 < C ? r->E - c0 : C;
    free(post);
    post = read_post(r, c0, c0 + n);
    if (!post)
      return r->ctx->errcode;
    /* Every rank sees every row here, so all report a bad one alike. */
    for (uint64_t k = 0; k < n && st == BS_OK; k++)
      if (post[k] < 0 || (uint64_t)post[k] >= r->src->n_post)
        st = bad_id(r, &r->post, c0 + k, post[k], r->src->n_post, 0);
    /* Runs of local rows, appended in row order: read run by run when
     * there are few runs, else the whole chunk once and keep the local
     * rows (scattered rows of an unsorted file). */
    uint64_t runs = 0;
    for (uint64_t k = 0; k < n; k++)
      runs += (uint64_t)post[k] >= lo && (uint64_t)post[k] < hi &&
              (k == 0 ||
               !((uint64_t)post[k - 1] >= lo && (uint64_t)post[k - 1] < hi));
    if (runs > 16 && st == BS_OK) {
      st = keep_local(r, c0, n, post, lo, hi, e, gid, gidx);
      continue;
    }
    for (uint64_t k = 0; k < n && st == BS_OK;) {
      if (!((uint64_t)post[k] >= lo && (uint64_t)post[k] < hi)) {
        k++;
        continue;
      }
      uint64_t k1 = k + 1;
      while (k1 < n && (uint64_t)post[k1] >= lo && (uint64_t)post[k1] < hi)
        k1++;
      st = append_range(r, e, c0 + k, k1 - k, post + k, gid, gidx);
      k = k1;
    }
  }
  free(post);
  return st;
}

typedef struct span {
  uint64_t s, e, node, at;
} span;

static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  return (x->s > y->s) - (x->s < y->s);
}

/* SONATA target_to_source: the node ranges of the local block, then only
 * those edges. */
static bs_status read_index(reader *r, uint64_t lo, uint64_t hi, bs_edges *e,
                            int64_t **gid, int64_t **gidx) {
  bs_ctx *ctx = r->ctx;
  if (hi > r->n2r.len) /* nodes past a short index have no edges */
    hi = lo > r->n2r.len ? lo : r->n2r.len;
  uint64_t nn = hi - lo;
  if (nn == 0)
    return BS_OK;
  int64_t *nr = malloc(2 * nn * sizeof *nr), *rr = NULL, *post = NULL;
  span *sp = NULL;
  uint64_t nsp = 0;
  bs_status st = nr ? read_rows(r, &r->n2r, lo, nn, H5T_NATIVE_INT64, nr)
                    : bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  int64_t rmin = INT64_MAX, rmax = 0;
  for (uint64_t k = 0; k < nn && st == BS_OK; k++) {
    int64_t a = nr[2 * k], b = nr[2 * k + 1];
    if (a < 0 || b <= a) /* a node without edges */
      continue;
    if ((uint64_t)b > r->r2e.len)
      st = bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s row %llu: ranges [%lld, %lld) go "
                        "beyond the %llu rows of %s",
                        r->file, r->n2r.path, (unsigned long long)(lo + k),
                        (long long)a, (long long)b,
                        (unsigned long long)r->r2e.len, r->r2e.path);
    rmin = a < rmin ? a : rmin;
    rmax = b > rmax ? b : rmax;
  }
  if (st == BS_OK && rmax > rmin) {
    uint64_t nrr = (uint64_t)(rmax - rmin);
    rr = malloc(2 * nrr * sizeof *rr);
    sp = malloc(nrr * sizeof *sp);
    if (!rr || !sp)
      st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
    if (st == BS_OK)
      st = read_rows(r, &r->r2e, (uint64_t)rmin, nrr, H5T_NATIVE_INT64, rr);
    for (uint64_t k = 0; k < nn && st == BS_OK; k++) {
      int64_t a = nr[2 * k], b = nr[2 * k + 1];
      for (int64_t q = a; q < b && a >= 0 && st == BS_OK; q++) {
        int64_t s = rr[2 * (q - rmin)], t = rr[2 * (q - rmin) + 1];
        if (s < 0 || t < s || (uint64_t)t > r->E)
          st = bs_error_set(ctx, BS_ERR_IO,
                            "%s: dataset %s row %lld: edge range [%lld, "
                            "%lld) is not inside the %llu edges",
                            r->file, r->r2e.path, (long long)q, (long long)s,
                            (long long)t, (unsigned long long)r->E);
        else if (t > s)
          sp[nsp++] = (span){(uint64_t)s, (uint64_t)t, lo + k, 0};
      }
    }
  }
  /* Edge order: by edge id, the canonical order. */
  if (st == BS_OK && nsp)
    qsort(sp, (size_t)nsp, sizeof *sp, cmp_span);
  for (uint64_t k = 1; k < nsp && st == BS_OK; k++)
    if (sp[k].s < sp[k - 1].e)
      st = bs_error_set(ctx, BS_ERR_IO,
                        "%s: %s lists edges %llu to %llu twice (ranges "
                        "overlap)",
                        r->file, r->r2e.path, (unsigned long long)sp[k].s,
                        (unsigned long long)(sp[k].e < sp[k - 1].e
                                                 ? sp[k].e - 1
                                                 : sp[k - 1].e - 1));
  /* Read merged runs of adjacent ranges; each edge's target must be the
   * node whose range listed it. */
  for (uint64_t k = 0; k < nsp && st == BS_OK;) {
    uint64_t k1 = k + 1;
    while (k1 < nsp && sp[k1].s == sp[k1 - 1].e)
      k1++;
    uint64_t a = sp[k].s, b = sp[k1 - 1].e;
    free(post);
    post = read_post(r, a, b);
    if (!post) {
      st = ctx->errcode;
      break;
    }
    for (uint64_t q = k; q < k1 && st == BS_OK; q++)
      for (uint64_t x = sp[q].s; x < sp[q].e && st == BS_OK; x++)
        if (post[x - a] != (int64_t)sp[q].node)
          st = bs_error_set(ctx, BS_ERR_IO,
                            "%s: dataset %s row %llu: target %lld, but "
                            "indices/target_to_source lists this edge for "
                            "node %llu",
                            r->file, r->post.path, (unsigned long long)x,
                            (long long)post[x - a],
                            (unsigned long long)sp[q].node);
    if (st == BS_OK)
      st = append_range(r, e, a, b - a, post, gid, gidx);
    k = k1;
  }
  free(post);
  free(nr);
  free(rr);
  free(sp);
  return st;
}

bs_status bs_edges_load(bs_ctx *ctx, const bs_edges_src *src, uint64_t lo,
                        uint64_t hi, bs_edges *out) {
  memset(out, 0, sizeof *out);
  reader r;
  int64_t *gid = NULL, *gidx = NULL;
  int ok = 1;
  bs_status st = reader_open(ctx, src, &r);
  if (st == BS_OK) {
    out->how = r.has_index ? "index" : "sorted";
    out->total = r.E;
    out->delay_ms = r.delay_ms;
    st = r.has_index ? read_index(&r, lo, hi, out, &gid, &gidx)
                     : read_sorted(&r, lo, hi, out, &gid, &gidx, &ok);
  }
  /* Local problems first, so that no rank is left in the sum below. */
  st = bs_comm_agree(ctx, st, NULL);
  /* v[2]: the blocks must tile the target population for the rows to add
   * up to the file's (they do in the engine; a test may read one block). */
  uint64_t v[3] = {ok ? out->n : 0, ok ? 0 : 1, hi - lo};
  if (st == BS_OK)
    st = bs_comm_sum_u64(ctx, v, 3);
  if (st == BS_OK && v[2] != src->n_post)
    v[0] = r.E;
  if (st == BS_OK && r.has_index && v[0] != r.E)
    st = bs_error_set(ctx, BS_ERR_IO,
                      "%s: %s/indices/target_to_source lists %llu of the "
                      "%llu edges",
                      r.file, r.base, (unsigned long long)v[0],
                      (unsigned long long)r.E);
  if (st == BS_OK && !r.has_index && (v[1] || v[0] != r.E)) {
    /* Not sorted by target: every rank reads every row. */
    out->n = 0;
    out->how = "scan";
    st = read_scan(&r, lo, hi, out, &gid, &gidx);
    st = bs_comm_agree(ctx, st, NULL);
  }
  if (st == BS_OK) {
    st = attach_groups(&r, out, gid, gidx);
    if (st == BS_OK)
      st = check_values(&r, out);
    if (st == BS_OK)
      st = filter_edges(&r, out);
    st = bs_comm_agree(ctx, st, NULL);
  }
  bs_free(ctx, (size_t)out->cap, sizeof(int64_t), &gid);
  bs_free(ctx, (size_t)out->cap, sizeof(int64_t), &gidx);
  reader_close(&r);
  if (st != BS_OK)
    bs_edges_free(ctx, out);
  return st;
}

/* ---- edge file metadata (a SONATA simulation config) ------------------ */

static herr_t name_cb(hid_t g, const char *name, const H5L_info_t *info,
                      void *data) {
  (void)g;
  (void)info;
  bs_sonata_edges_info *in = data;
  bs_sonata_edge_pop *np =
      realloc(in->pop, (size_t)(in->n + 1) * sizeof *in->pop);
  if (!np)
    return -1;
  in->pop = np;
  memset(&in->pop[in->n], 0, sizeof *in->pop);
  in->pop[in->n].name = bs_strdup(name);
  return in->pop[in->n++].name ? 0 : -1;
}

static bs_status edge_pop_info(reader *r, bs_sonata_edge_pop *p) {
  bs_ctx *ctx = r->ctx;
  char pop[256];
  snprintf(r->base, sizeof r->base, "/edges/%s", p->name);
  BS_CALL(ctx, open_col(r, r->base, "source_node_id", 1, 0, 0,
                        "the source of each edge", &r->pre));
  BS_CALL(ctx, open_col(r, r->base, "target_node_id", 1, 0, 0,
                        "the target of each edge", &r->post));
  BS_CALL(ctx, read_str_attr(r, &r->pre, "node_population", pop, sizeof pop));
  p->source = bs_strdup(pop);
  BS_CALL(ctx, read_str_attr(r, &r->post, "node_population", pop, sizeof pop));
  p->target = bs_strdup(pop);
  p->n = r->pre.len;
  hid_t g = H5Gopen2(r->f, r->base, H5P_DEFAULT);
  if (g < 0)
    return h5fail(ctx, "%s: cannot open group %s", r->file, r->base);
  r->ngroups = 0;
  herr_t it = H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, group_cb, r);
  H5Gclose(g);
  if (it != 0)
    return h5fail(ctx, "%s: cannot list the groups of %s", r->file, r->base);
  for (int k = 0; k < r->ngroups; k++) {
    char gp[700];
    snprintf(gp, sizeof gp, "%s/%ld/syn_weight", r->base, r->group_id[k]);
    p->has_w |= exists(r->f, gp);
    snprintf(gp, sizeof gp, "%s/%ld/delay", r->base, r->group_id[k]);
    p->has_d |= exists(r->f, gp);
    snprintf(gp, sizeof gp, "%s/%ld/nsyns", r->base, r->group_id[k]);
    p->has_nsyns |= exists(r->f, gp);
  }
  return BS_OK;
}

bs_status bs_io_sonata_edges_info(bs_ctx *ctx, const char *file,
                                  bs_sonata_edges_info *out) {
  memset(out, 0, sizeof *out);
  bs_edges_src src = {.file = file, .sonata = 1, .proj = "(edge file)"};
  reader r;
  memset(&r, 0, sizeof r);
  r.ctx = ctx;
  r.src = &src;
  r.file = file;
  r.pre.d = r.post.d = -1;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (access(file, R_OK) != 0)
    return bs_error_set(ctx, BS_ERR_IO, "cannot open edge file '%s': %s", file,
                        strerror(errno));
  r.f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (r.f < 0)
    return h5fail(ctx, "cannot open edge file '%s' as HDF5", file);
  bs_status st = BS_OK;
  if (!exists(r.f, "/edges"))
    st = bs_error_set(ctx, BS_ERR_IO,
                      "%s: group /edges is missing (not a SONATA edge file)",
                      file);
  if (st == BS_OK) {
    hid_t g = H5Gopen2(r.f, "/edges", H5P_DEFAULT);
    herr_t it = g < 0 ? -1
                      : H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL,
                                   name_cb, out);
    if (g >= 0)
      H5Gclose(g);
    if (it < 0)
      st = h5fail(ctx, "%s: cannot list group /edges", file);
  }
  for (int k = 0; k < out->n && st == BS_OK; k++) {
    st = edge_pop_info(&r, &out->pop[k]);
    close_col(&r.pre);
    close_col(&r.post);
  }
  H5Fclose(r.f);
  if (st != BS_OK)
    bs_io_sonata_edges_info_free(out);
  return st;
}

void bs_io_sonata_edges_info_free(bs_sonata_edges_info *info) {
  for (int k = 0; k < info->n; k++) {
    free(info->pop[k].name);
    free(info->pop[k].source);
    free(info->pop[k].target);
  }
  free(info->pop);
  memset(info, 0, sizeof *info);
}

/* ---- dense matrices (g_max from a dataset) ----------------------------- */

struct bs_matrix_in {
  hid_t f, d;
  uint64_t rows, cols;
  char file[512], path[512];
};

void bs_matrix_close(bs_matrix_in **mp) {
  if (!mp || !*mp)
    return;
  bs_matrix_in *m = *mp;
  if (m->d >= 0)
    H5Dclose(m->d);
  if (m->f >= 0)
    H5Fclose(m->f);
  free(m);
  *mp = NULL;
}

bs_status bs_matrix_open(bs_ctx *ctx, const char *file, const char *dataset,
                         uint64_t rows, uint64_t cols, const char *what,
                         bs_matrix_in **out) {
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (access(file, R_OK) != 0)
    return bs_error_set(ctx, BS_ERR_IO, "cannot open '%s' (%s): %s", file, what,
                        strerror(errno));
  bs_matrix_in *m = calloc(1, sizeof *m);
  if (!m)
    return bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  m->d = -1;
  snprintf(m->file, sizeof m->file, "%s", file);
  snprintf(m->path, sizeof m->path, "%s", dataset);
  m->rows = rows;
  m->cols = cols;
  bs_status st = BS_OK;
  m->f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (m->f < 0)
    st = h5fail(ctx, "cannot open '%s' (%s) as HDF5", file, what);
  H5O_info_t oi;
  if (st == BS_OK &&
      (!exists(m->f, dataset) ||
       H5Oget_info_by_name(m->f, dataset, &oi, H5P_DEFAULT) < 0 ||
       oi.type != H5O_TYPE_DATASET)) {
    H5Eclear2(H5E_DEFAULT);
    st = bs_error_set(ctx, BS_ERR_IO, "%s: dataset %s is missing (%s)", file,
                      dataset, what);
  }
  if (st == BS_OK) {
    m->d = H5Dopen2(m->f, dataset, H5P_DEFAULT);
    if (m->d < 0)
      st = h5fail(ctx, "%s: cannot open dataset %s", file, dataset);
  }
  if (st == BS_OK) {
    const H5T_class_t cl = bs_io_num_class(m->d);
    hid_t sp = H5Dget_space(m->d);
    int nd = H5Sget_simple_extent_ndims(sp);
    hsize_t dims[2] = {0, 0};
    if (nd >= 1 && nd <= 2)
      H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    int want = rows ? 2 : 1;
    if (cl != H5T_FLOAT && cl != H5T_INTEGER)
      st = bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s has the wrong type (expected "
                        "numbers for %s)",
                        file, dataset, what);
    else if (nd != want ||
             (rows ? dims[0] != rows || dims[1] != cols : dims[0] != cols)) {
      char got[64];
      if (nd == 1)
        snprintf(got, sizeof got, "[%llu]", (unsigned long long)dims[0]);
      else if (nd == 2)
        snprintf(got, sizeof got, "[%llu, %llu]", (unsigned long long)dims[0],
                 (unsigned long long)dims[1]);
      else
        snprintf(got, sizeof got, "%d dimensions", nd);
      if (rows)
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: dataset %s has the wrong shape %s (expected "
                          "[%llu, %llu] = [pre, post] for %s)",
                          file, dataset, got, (unsigned long long)rows,
                          (unsigned long long)cols, what);
      else
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: dataset %s has the wrong shape %s (expected "
                          "[%llu] for %s)",
                          file, dataset, got, (unsigned long long)cols, what);
    }
  }
  if (st != BS_OK) {
    bs_matrix_close(&m);
    return st;
  }
  *out = m;
  return BS_OK;
}

bs_status bs_matrix_read(bs_ctx *ctx, bs_matrix_in *m, uint64_t row0,
                         uint64_t nrows, uint64_t col0, uint64_t ncols,
                         double *buf) {
  int two = m->rows > 0;
  hsize_t st[2] = {two ? row0 : col0, col0},
          cnt[2] = {two ? nrows : ncols, ncols};
  hsize_t n = two ? nrows * ncols : ncols;
  if (n == 0)
    return BS_OK;
  hid_t fs = H5Dget_space(m->d);
  hid_t ms = H5Screate_simple(1, &n, NULL);
  herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, cnt, NULL);
  if (rc >= 0)
    rc = H5Dread(m->d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
  bs_status s =
      rc < 0 ? h5fail(ctx, "%s: reading dataset %s", m->file, m->path) : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  return s;
}

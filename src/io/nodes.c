/* SONATA node files as input (shared/reference/sonata.md §6.2): the
 * populations under /nodes with their sizes, from metadata, and the
 * node_type_id of a block of rows, which each rank reads for its own
 * neurons only. Node parameters come from the node types (CSV and
 * dynamics_params JSON, read by config/); per-node dynamics_params groups
 * in the file are refused by name rather than ignored. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brainsim/io.h"
#include "io_impl.h"

static bs_status open_file(bs_ctx *ctx, const char *file, hid_t *f) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  *f = -1;
  if (access(file, R_OK) != 0)
    return bs_error_set(ctx, BS_ERR_IO, "cannot open node file '%s': %s", file,
                        strerror(errno));
  *f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (*f < 0)
    return bs_io_h5_fail(ctx, "cannot open node file '%s' as HDF5", file);
  return BS_OK;
}

typedef struct names {
  int n, cap;
  char **v;
} names;

static herr_t name_cb(hid_t g, const char *name, const H5L_info_t *info,
                      void *data) {
  (void)g;
  (void)info;
  names *nm = data;
  if (nm->n == nm->cap) {
    int nc = nm->cap ? 2 * nm->cap : 8;
    char **v = realloc(nm->v, (size_t)nc * sizeof *v);
    if (!v)
      return -1;
    nm->v = v;
    nm->cap = nc;
  }
  nm->v[nm->n] = bs_strdup(name);
  return nm->v[nm->n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_free(names *nm) {
  for (int i = 0; i < nm->n; i++)
    free(nm->v[i]);
  free(nm->v);
  memset(nm, 0, sizeof *nm);
}

/* The links of group path, sorted by name. */
static bs_status list_group(bs_ctx *ctx, hid_t f, const char *file,
                            const char *path, names *nm) {
  hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
  if (g < 0)
    return bs_io_h5_fail(ctx, "%s: cannot open group %s", file, path);
  herr_t it = H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, name_cb, nm);
  H5Gclose(g);
  if (it < 0)
    return bs_io_h5_fail(ctx, "%s: cannot list group %s", file, path);
  qsort(nm->v, (size_t)nm->n, sizeof *nm->v, cmp_str);
  return BS_OK;
}

static int is_group(hid_t f, const char *path) {
  H5O_info_t oi;
  if (H5Oget_info_by_name(f, path, &oi, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  return oi.type == H5O_TYPE_GROUP;
}

/* One population: the three required columns, equal lengths; node_id if
 * present; no per-node dynamics_params in its groups. */
static bs_status check_pop(bs_ctx *ctx, hid_t f, const char *file,
                           const char *pop, uint64_t *size) {
  static const char *const cols[] = {"node_type_id", "node_group_id",
                                     "node_group_index", "node_id"};
  char base[600], path[700];
  snprintf(base, sizeof base, "/nodes/%s", pop);
  uint64_t len[4] = {0, 0, 0, 0};
  bs_status st = BS_OK;
  for (int c = 0; c < 4 && st == BS_OK; c++) {
    snprintf(path, sizeof path, "%s/%s", base, cols[c]);
    if (c == 3 && !bs_io_link_exists(f, path))
      break; /* node_id is optional: implicit 0..N-1 */
    hid_t d = -1;
    st = bs_io_open_1d(ctx, f, file, path, 1, &d, &len[c]);
    if (d >= 0)
      H5Dclose(d);
    if (st == BS_OK && len[c] != len[0])
      st = bs_error_set(ctx, BS_ERR_IO,
                        "%s: %s has %llu rows but %s/node_type_id has %llu: "
                        "node columns must have the same length",
                        file, path, (unsigned long long)len[c], base,
                        (unsigned long long)len[0]);
  }
  names g = {0};
  if (st == BS_OK)
    st = list_group(ctx, f, file, base, &g);
  for (int k = 0; k < g.n && st == BS_OK; k++) {
    snprintf(path, sizeof path, "%s/%s/dynamics_params", base, g.v[k]);
    if (is_group(f, path)) {
      names dp = {0};
      st = list_group(ctx, f, file, path, &dp);
      if (st == BS_OK && dp.n > 0)
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: %s holds per-node dynamics_params (%s, ...): "
                          "brainsim takes dynamics_params from the node "
                          "types (CSV and JSON files) only",
                          file, path, dp.v[0]);
      names_free(&dp);
    }
  }
  names_free(&g);
  *size = len[0];
  return st;
}

bs_status bs_io_sonata_nodes_info(bs_ctx *ctx, const char *file,
                                  bs_sonata_nodes_info *out) {
  memset(out, 0, sizeof *out);
  hid_t f;
  bs_status st = open_file(ctx, file, &f);
  if (st == BS_OK && !bs_io_link_exists(f, "/nodes"))
    st = bs_error_set(ctx, BS_ERR_IO,
                      "%s: group /nodes is missing (not a SONATA node file)",
                      file);
  names nm = {0};
  if (st == BS_OK)
    st = list_group(ctx, f, file, "/nodes", &nm);
  if (st == BS_OK && nm.n == 0)
    st = bs_error_set(ctx, BS_ERR_IO, "%s: /nodes holds no population", file);
  if (st == BS_OK) {
    out->size = calloc((size_t)nm.n, sizeof *out->size);
    if (!out->size)
      st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  }
  for (int k = 0; k < nm.n && st == BS_OK; k++)
    st = check_pop(ctx, f, file, nm.v[k], &out->size[k]);
  if (f >= 0)
    H5Fclose(f);
  if (st != BS_OK) {
    names_free(&nm);
    free(out->size);
    memset(out, 0, sizeof *out);
    return st;
  }
  out->n = nm.n;
  out->name = nm.v;
  return BS_OK;
}

void bs_io_sonata_nodes_info_free(bs_sonata_nodes_info *info) {
  for (int i = 0; i < info->n; i++)
    free(info->name[i]);
  free(info->name);
  free(info->size);
  memset(info, 0, sizeof *info);
}

bs_status bs_io_sonata_node_types(bs_ctx *ctx, const char *file,
                                  const char *population, uint64_t lo,
                                  uint64_t hi, int64_t *type_id) {
  hid_t f;
  char path[700];
  bs_status st = open_file(ctx, file, &f);
  hid_t d = -1;
  uint64_t len = 0;
  snprintf(path, sizeof path, "/nodes/%s/node_type_id", population);
  if (st == BS_OK)
    st = bs_io_open_1d(ctx, f, file, path, 1, &d, &len);
  if (st == BS_OK && hi > len)
    st = bs_error_set(ctx, BS_ERR_IO,
                      "%s: %s has %llu rows, fewer than the %llu nodes of "
                      "population '%s'",
                      file, path, (unsigned long long)len,
                      (unsigned long long)hi, population);
  if (st == BS_OK && hi > lo)
    st = bs_io_read_chunk(ctx, d, file, path, lo, hi - lo, H5T_NATIVE_INT64,
                          type_id);
  if (d >= 0)
    H5Dclose(d);
  /* An explicit node_id must be the row: brainsim's ids are the rows. */
  snprintf(path, sizeof path, "/nodes/%s/node_id", population);
  if (st == BS_OK && hi > lo && bs_io_link_exists(f, path)) {
    int64_t *ids = malloc((size_t)(hi - lo) * sizeof *ids);
    d = -1;
    st = ids ? bs_io_open_1d(ctx, f, file, path, 1, &d, &len)
             : bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
    if (st == BS_OK)
      st = bs_io_read_chunk(ctx, d, file, path, lo, hi - lo, H5T_NATIVE_INT64,
                            ids);
    for (uint64_t i = 0; st == BS_OK && i < hi - lo; i++)
      if (ids[i] != (int64_t)(lo + i))
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: dataset %s row %llu: node_id %lld, but "
                          "brainsim needs node_id equal to the row "
                          "(0, 1, 2, ...)",
                          file, path, (unsigned long long)(lo + i),
                          (long long)ids[i]);
    if (d >= 0)
      H5Dclose(d);
    free(ids);
  }
  if (f >= 0)
    H5Fclose(f);
  return st;
}

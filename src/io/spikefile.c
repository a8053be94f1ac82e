/* SONATA spike files as input (shared/reference/sonata.md §6.1): the
 * spikes of one node population, /spikes/<pop>/{timestamps, node_ids},
 * or the old form /spikes/{gids, timestamps} without a population. Each
 * rank opens the file read-only with serial HDF5, reads it in chunks and
 * keeps the rows of its own nodes, so memory is O(its spikes + a chunk).
 * The result is in canonical (time, node id, row) order, the same on any
 * rank count. Every value is checked; errors name the file, the dataset
 * and the row. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/io.h"
#include "io_impl.h"

#define CHUNK_ROWS ((uint64_t)1 << 20)

bs_status bs_io_h5_fail(bs_ctx *ctx, const char *fmt, ...) {
  char msg[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  bs_h5_stack w;
  bs_io_h5_stack(&w);
  if (w.n && w.top[0])
    return bs_error_set(ctx, BS_ERR_IO, "%s (HDF5: %s)", msg, w.top);
  return bs_error_set(ctx, BS_ERR_IO, "%s", msg);
}

H5T_class_t bs_io_num_class(hid_t d) {
  hid_t t = H5Dget_type(d);
  if (t < 0) {
    H5Eclear2(H5E_DEFAULT);
    return H5T_NO_CLASS;
  }
  const H5T_class_t cl = H5Tget_class(t);
  const size_t bits = 8 * H5Tget_size(t), prec = H5Tget_precision(t);
  const int off = H5Tget_offset(t);
  int ok = (cl == H5T_INTEGER || cl == H5T_FLOAT) && bits >= 8 && bits <= 128 &&
           prec >= 1 && off >= 0 && (size_t)off + prec <= bits;
  if (ok && cl == H5T_FLOAT) {
    size_t spos, epos, esize, mpos, msize;
    ok = H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0 &&
         spos < bits && esize >= 1 && epos + esize <= bits && msize >= 1 &&
         mpos + msize <= bits;
  }
  H5Tclose(t);
  H5Eclear2(H5E_DEFAULT);
  return ok ? cl : H5T_NO_CLASS;
}

int bs_io_link_exists(hid_t f, const char *path) {
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

bs_status bs_io_str_attr(bs_ctx *ctx, hid_t obj, const char *file,
                         const char *objpath, const char *name, char *out,
                         size_t len, int *found) {
  out[0] = '\0';
  *found = 0;
  if (H5Aexists(obj, name) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return BS_OK;
  }
  *found = 1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
  hssize_t npts = H5Sget_simple_extent_npoints(sp);
  bs_status s = BS_OK;
  if (H5Tget_class(t) != H5T_STRING || npts != 1) {
    s = bs_error_set(ctx, BS_ERR_IO, "%s: attribute %s of %s is not one string",
                     file, name, objpath);
  } else if (H5Tis_variable_str(t) > 0) {
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t)); /* h5py writes UTF-8 */
    char *v = NULL;
    s = bs_io_vlen_attr_check(ctx, obj, file, objpath, name);
    if (s == BS_OK && H5Aread(a, mt, &v) < 0)
      s = bs_io_h5_fail(ctx, "%s: reading attribute %s of %s", file, name,
                        objpath);
    else if (s == BS_OK && v) {
      snprintf(out, len, "%s", v);
      H5free_memory(v);
    }
    H5Tclose(mt);
  } else {
    size_t n = H5Tget_size(t);
    char *v = calloc(n + 1, 1);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, n + 1);
    H5Tset_strpad(mt, H5T_STR_NULLTERM);
    H5Tset_cset(mt, H5Tget_cset(t));
    if (!v)
      s = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
    else if (H5Aread(a, mt, v) < 0)
      s = bs_io_h5_fail(ctx, "%s: reading attribute %s of %s", file, name,
                        objpath);
    else
      snprintf(out, len, "%s", v);
    H5Tclose(mt);
    free(v);
  }
  H5Sclose(sp);
  H5Tclose(t);
  H5Aclose(a);
  return s;
}

/* A 1-D numeric dataset; want_int: integers only. */
bs_status bs_io_open_1d(bs_ctx *ctx, hid_t f, const char *file,
                        const char *path, int want_int, hid_t *d,
                        uint64_t *len) {
  *d = -1;
  if (!bs_io_link_exists(f, path))
    return bs_error_set(ctx, BS_ERR_IO, "%s: dataset %s is missing", file,
                        path);
  H5O_info_t oi;
  if (H5Oget_info_by_name(f, path, &oi, H5P_DEFAULT) < 0)
    return bs_io_h5_fail(ctx, "%s: cannot read %s", file, path);
  if (oi.type != H5O_TYPE_DATASET)
    return bs_error_set(ctx, BS_ERR_IO, "%s: %s is not a dataset", file, path);
  *d = H5Dopen2(f, path, H5P_DEFAULT);
  if (*d < 0)
    return bs_io_h5_fail(ctx, "%s: cannot open dataset %s", file, path);
  const H5T_class_t cl = bs_io_num_class(*d);
  if (!(cl == H5T_INTEGER || (!want_int && cl == H5T_FLOAT)))
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s has the wrong type (expected %s)", file,
                        path, want_int ? "integers" : "numbers");
  hid_t sp = H5Dget_space(*d);
  int nd = H5Sget_simple_extent_ndims(sp);
  hsize_t n = 0;
  if (nd == 1)
    H5Sget_simple_extent_dims(sp, &n, NULL);
  H5Sclose(sp);
  if (nd != 1)
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s has %d dimensions, expected 1", file,
                        path, nd);
  *len = n;
  return BS_OK;
}

bs_status bs_io_read_chunk(bs_ctx *ctx, hid_t d, const char *file,
                           const char *path, uint64_t start, uint64_t n,
                           hid_t mtype, void *buf) {
  hid_t fs = H5Dget_space(d);
  hsize_t st = start, cnt = n;
  hid_t ms = H5Screate_simple(1, &cnt, NULL);
  herr_t rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &st, NULL, &cnt, NULL);
  if (rc >= 0)
    rc = H5Dread(d, mtype, ms, fs, H5P_DEFAULT, buf);
  bs_status s = rc < 0
                    ? bs_io_h5_fail(ctx, "%s: reading rows %llu to %llu of %s",
                                    file, (unsigned long long)start,
                                    (unsigned long long)(start + n - 1), path)
                    : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  return s;
}

typedef struct spk {
  double t;
  uint64_t id, row;
} spk;

static int cmp_spk(const void *a, const void *b) {
  const spk *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}

/* The population to read: the one named, or the only one in the file. */
static bs_status find_group(bs_ctx *ctx, hid_t f, const char *file,
                            const char *population, char *base, size_t len) {
  if (!bs_io_link_exists(f, "/spikes"))
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: group /spikes is missing (not a SONATA spike "
                        "file)",
                        file);
  if (population && population[0]) {
    snprintf(base, len, "/spikes/%s", population);
    if (bs_io_link_exists(f, base))
      return BS_OK;
    /* The old layout has no population: accept it for any name. */
    if (bs_io_link_exists(f, "/spikes/gids")) {
      snprintf(base, len, "/spikes");
      return BS_OK;
    }
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: spike population %s is missing (SONATA spikes "
                        "live in /spikes/<population>)",
                        file, base);
  }
  if (bs_io_link_exists(f, "/spikes/gids")) {
    snprintf(base, len, "/spikes");
    return BS_OK;
  }
  hid_t g = H5Gopen2(f, "/spikes", H5P_DEFAULT);
  if (g < 0)
    return bs_io_h5_fail(ctx, "%s: cannot open /spikes", file);
  H5G_info_t gi;
  herr_t rc = H5Gget_info(g, &gi);
  char name[256] = "";
  if (rc >= 0 && gi.nlinks == 1)
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, 0, name, sizeof name,
                       H5P_DEFAULT);
  H5Gclose(g);
  if (rc < 0)
    return bs_io_h5_fail(ctx, "%s: cannot list /spikes", file);
  if (gi.nlinks != 1)
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: /spikes holds %llu populations; name the one "
                        "to read",
                        file, (unsigned long long)gi.nlinks);
  snprintf(base, len, "/spikes/%s", name);
  return BS_OK;
}

static bs_status read_file(bs_ctx *ctx, hid_t f, const char *file,
                           const char *population, uint64_t n_nodes,
                           uint64_t lo, uint64_t hi, spk **out, uint64_t *nout,
                           uint64_t *total) {
  char base[600], tpath[700], ipath[700];
  BS_CALL(ctx, find_group(ctx, f, file, population, base, sizeof base));
  int old = strcmp(base, "/spikes") == 0;
  snprintf(tpath, sizeof tpath, "%s/timestamps", base);
  snprintf(ipath, sizeof ipath, "%s/%s", base, old ? "gids" : "node_ids");
  hid_t dt = -1, di = -1;
  uint64_t nt = 0, ni = 0;
  double scale = 1.0;
  spk *v = NULL;
  uint64_t n = 0, cap = 0;
  double *tb = NULL;
  int64_t *ib = NULL;
  bs_status st = bs_io_open_1d(ctx, f, file, tpath, 0, &dt, &nt);
  if (st == BS_OK)
    st = bs_io_open_1d(ctx, f, file, ipath, 1, &di, &ni);
  if (st == BS_OK && nt != ni)
    st = bs_error_set(ctx, BS_ERR_IO, "%s: %s has %llu rows but %s has %llu",
                      file, tpath, (unsigned long long)nt, ipath,
                      (unsigned long long)ni);
  if (st == BS_OK) { /* SONATA times are ms; BMTK and libsonata say so */
    char units[64];
    int found = 0;
    st = bs_io_str_attr(ctx, dt, file, tpath, "units", units, sizeof units,
                        &found);
    if (st == BS_OK && found && strcmp(units, "ms") != 0) {
      if (strcmp(units, "s") == 0)
        scale = 1000.0;
      else
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: %s has units '%s' (expected 'ms' or 's')", file,
                          tpath, units);
    }
  }
  uint64_t chunk = nt < CHUNK_ROWS ? nt : CHUNK_ROWS;
  if (st == BS_OK && chunk) {
    tb = malloc(chunk * sizeof *tb);
    ib = malloc(chunk * sizeof *ib);
    if (!tb || !ib)
      st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory reading %s", file);
  }
  for (uint64_t a = 0; st == BS_OK && a < nt; a += chunk) {
    uint64_t m = nt - a < chunk ? nt - a : chunk;
    st = bs_io_read_chunk(ctx, dt, file, tpath, a, m, H5T_NATIVE_DOUBLE, tb);
    if (st == BS_OK)
      st = bs_io_read_chunk(ctx, di, file, ipath, a, m, H5T_NATIVE_INT64, ib);
    for (uint64_t k = 0; st == BS_OK && k < m; k++) {
      double t = tb[k] * scale;
      if (!isfinite(t) || t < 0)
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: %s row %llu: time %g ms is not a finite time "
                          ">= 0",
                          file, tpath, (unsigned long long)(a + k), t);
      else if (ib[k] < 0 || (uint64_t)ib[k] >= n_nodes)
        st = bs_error_set(ctx, BS_ERR_IO,
                          "%s: %s row %llu: node id %lld is outside the "
                          "population of %llu nodes",
                          file, ipath, (unsigned long long)(a + k),
                          (long long)ib[k], (unsigned long long)n_nodes);
      else if ((uint64_t)ib[k] >= lo && (uint64_t)ib[k] < hi) {
        if (n == cap) {
          uint64_t nc = cap ? 2 * cap : 1024;
          spk *nv = realloc(v, nc * sizeof *nv);
          if (!nv) {
            st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory reading %s",
                              file);
            break;
          }
          v = nv;
          cap = nc;
        }
        v[n].t = t;
        v[n].id = (uint64_t)ib[k];
        v[n].row = a + k;
        n++;
      }
    }
  }
  free(tb);
  free(ib);
  if (dt >= 0)
    H5Dclose(dt);
  if (di >= 0)
    H5Dclose(di);
  if (st != BS_OK) {
    free(v);
    return st;
  }
  if (n)
    qsort(v, n, sizeof *v, cmp_spk);
  *out = v;
  *nout = n;
  *total = nt;
  return BS_OK;
}

bs_status bs_io_sonata_spikes_read(bs_ctx *ctx, const char *file,
                                   const char *population, uint64_t n_nodes,
                                   uint64_t lo, uint64_t hi,
                                   bs_sonata_spikes *out) {
  memset(out, 0, sizeof *out);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  BS_CHECK(ctx, lo <= hi && hi <= n_nodes, BS_ERR_ARG,
           "%s: node range [%llu, %llu) outside the population of %llu", file,
           (unsigned long long)lo, (unsigned long long)hi,
           (unsigned long long)n_nodes);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    return bs_io_h5_fail(ctx, "%s: cannot open the spike file", file);
  spk *v = NULL;
  uint64_t n = 0, total = 0;
  bs_status st =
      read_file(ctx, f, file, population, n_nodes, lo, hi, &v, &n, &total);
  H5Fclose(f);
  BS_CALL(ctx, st);
  st = bs_malloc(ctx, n ? n : 1, sizeof(uint64_t), &out->node_ids);
  if (st == BS_OK)
    st = bs_malloc(ctx, n ? n : 1, sizeof(double), &out->t);
  if (st != BS_OK) {
    free(v);
    bs_io_sonata_spikes_free(ctx, out);
    return st;
  }
  for (uint64_t k = 0; k < n; k++) {
    out->node_ids[k] = v[k].id;
    out->t[k] = v[k].t;
  }
  out->n = n;
  out->total = total;
  free(v);
  return BS_OK;
}

bs_status bs_io_sonata_spikes_rows(bs_ctx *ctx, const char *file,
                                   const char *population, uint64_t *rows) {
  *rows = 0;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0)
    return bs_io_h5_fail(ctx, "%s: cannot open the spike file", file);
  char base[600], tpath[700];
  bs_status st = find_group(ctx, f, file, population, base, sizeof base);
  hid_t d = -1;
  if (st == BS_OK) {
    snprintf(tpath, sizeof tpath, "%s/timestamps", base);
    st = bs_io_open_1d(ctx, f, file, tpath, 0, &d, rows);
  }
  if (d >= 0)
    H5Dclose(d);
  H5Fclose(f);
  return st;
}

void bs_io_sonata_spikes_free(bs_ctx *ctx, bs_sonata_spikes *s) {
  uint64_t n = s->n ? s->n : 1;
  if (s->node_ids)
    bs_free(ctx, n, sizeof(uint64_t), &s->node_ids);
  if (s->t)
    bs_free(ctx, n, sizeof(double), &s->t);
  memset(s, 0, sizeof *s);
}

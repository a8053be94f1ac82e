/* The output file: one HDF5 file written collectively with MPI-IO. Layout
 * follows SONATA (shared/reference/sonata.md §6): spikes under /spikes,
 * frame reports under /report, run metadata under /meta. Every call that
 * touches metadata is made by every rank with the same arguments; every
 * rank calls H5Dwrite, selecting nothing when it has nothing (§7.1). */
#define _POSIX_C_SOURCE 200809L
#include "brainsim/io.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "io_impl.h"

#define MAX_SPIKE_POPS 256
#define SPIKE_CHUNK 65536 /* elements per chunk of the spike datasets */
/* A full disk must not make the last metadata write fail: every write that
 * allocates space first checks that it leaves META_SLACK free (file size
 * limit and filesystem), and rank 0 holds RESERVE_BYTES of the output's
 * filesystem in an unlinked file, given back before the final writes (in
 * case another process fills the disk). */
#define META_SLACK (256u << 10)
#define RESERVE_BYTES (1u << 20)
#define STATUS_LEN 200 /* /meta@status, fixed so a rewrite stays in place */

struct bs_io {
  hid_t file;
  hid_t dxpl; /* collective transfers */
  char *path;
  int nspk;
  hid_t spk_t[MAX_SPIKE_POPS], spk_id[MAX_SPIKE_POPS];
  uint64_t spk_len[MAX_SPIKE_POPS];
  int overwrite;
  int has_meta;          /* the output (not a report or checkpoint) */
  int status_set;        /* /meta@status written by bs_io_status */
  int reserve_fd;        /* rank 0: the reserved space, or -1 */
  uint64_t granted;      /* rank 0: the file's size with all room() gave */
  bs_io_report *reports; /* open reports, flushed with the file */
};

/* A report is its own SONATA file (one variable per file, sonata.md §6.4),
 * linked from the main output at /report/<target>/<name>. */
struct bs_io_report {
  bs_io *io;   /* the report's own file */
  bs_io *main; /* the output file that links it */
  hid_t data;
  uint64_t rows, cols;
  char group[600]; /* /report/<target> inside the report file */
  bs_io_report *next;
};

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
  bs_h5_stack *w = data;
  const char *d = e->desc ? e->desc : "";
  /* The POSIX driver appends a time, the descriptor and buffer addresses
   * over several lines; h5_err names the errno itself. */
  const char *cut = strstr(d, ": time = ");
  const int len = cut ? (int)(cut - d) : (int)strlen(d);
  if (n == 0)
    snprintf(w->top, sizeof w->top, "%.*s", len, d);
  snprintf(w->bottom, sizeof w->bottom, "%.*s", len, d);
  w->n++;
  return 0;
}

void bs_io_h5_stack(bs_h5_stack *w) {
  memset(w, 0, sizeof *w);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, w);
  H5Eclear2(H5E_DEFAULT);
}

/* Turn the HDF5 error stack into a status with HDF5's own words. */
static bs_status h5_err_as(bs_ctx *ctx, bs_status code, const char *what,
                           const char *path) {
  /* HDF5's stack does not always carry the system's reason; these errno
   * values are the ones a user can act on. ENOENT is not among them: HDF5
   * probes files that need not exist (and names a missing file itself), so a
   * stale ENOENT would blame a type or shape error on a missing file. */
  int e = errno;
  const char *sys = e == EFBIG || e == ENOSPC || e == EDQUOT || e == EIO ||
                            e == EACCES || e == EROFS
                        ? strerror(e)
                        : NULL;
  bs_h5_stack w;
  bs_io_h5_stack(&w);
  if (strstr(w.top, "errno") || strstr(w.bottom, "errno"))
    sys = NULL; /* HDF5 said it already */
  errno = 0;
  const char *pre = code == BS_ERR_DISK_FULL ? "disk full: " : "";
  if (w.n > 1 && strcmp(w.top, w.bottom) != 0)
    return bs_error_set(ctx, code, "%s%s '%s' failed: %s (%s)%s%s", pre, what,
                        path, w.top, w.bottom, sys ? ": " : "", sys ? sys : "");
  return bs_error_set(ctx, code, "%s%s '%s' failed: %s%s%s", pre, what, path,
                      w.n ? w.top : "unknown HDF5 error", sys ? ": " : "",
                      sys ? sys : "");
}

static bs_status h5_err(bs_ctx *ctx, const char *what, const char *path) {
  return h5_err_as(ctx, BS_ERR_IO, what, path);
}

/* Whether a failed write of `bytes` to the file at path failed for want of
 * space: the system said so (errno e), or, looked at now, the file size
 * limit or the filesystem has no room for it (HDF5's MPI-IO driver does
 * not pass errno on). */
static int write_was_full(const char *path, int e, uint64_t bytes) {
  if (e == ENOSPC || e == EDQUOT || e == EFBIG)
    return 1;
  struct stat sb;
  struct rlimit rl;
  struct statvfs vf;
  const uint64_t size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      size + bytes > (uint64_t)rl.rlim_cur)
    return 1;
  return statvfs(path, &vf) == 0 && (uint64_t)vf.f_bavail * vf.f_frsize < bytes;
}

/* A failed data write, as BS_ERR_DISK_FULL when it was the space (the
 * caller agrees on it with agreed_write), else BS_ERR_IO. */
static bs_status write_err(bs_ctx *ctx, const char *file, const char *what,
                           const char *obj, uint64_t bytes) {
  const int e = errno;
  const int full = write_was_full(file, e, bytes);
  errno = e;
  char buf[1400];
  snprintf(buf, sizeof buf, "%s %s in", what, obj);
  return h5_err_as(ctx, full ? BS_ERR_DISK_FULL : BS_ERR_IO, buf, file);
}

/* The same, naming the object and the file it is in. */
static bs_status h5_err_in(bs_ctx *ctx, const char *file, const char *what,
                           const char *obj) {
  char buf[1400];
  snprintf(buf, sizeof buf, "%s %s in", what, obj);
  return h5_err(ctx, buf, file);
}

#define H5_TRY(ctx, expr, what, path)                                          \
  do {                                                                         \
    if ((expr) < 0) {                                                          \
      h5_err((ctx), (what), (path));                                           \
      bs_error_trace((ctx), __FILE__, __LINE__, __func__);                     \
      return BS_ERR_IO;                                                        \
    }                                                                          \
  } while (0)

/* One outcome on every rank, for room(), the reserve and collective
 * writes: a full disk found by any rank is a full disk on all (the caller
 * then closes the files cleanly, which needs all ranks to know); any other
 * failure stays an I/O error. Collective. */
static bs_status agreed_write(bs_ctx *ctx, bs_status st) {
  uint64_t v[2] = {st == BS_ERR_DISK_FULL, st != BS_OK};
  BS_CALL(ctx, bs_comm_sum_u64(ctx, v, 2));
  if (v[0] && st != BS_ERR_DISK_FULL)
    return bs_error_set(ctx, BS_ERR_DISK_FULL,
                        "disk full (found by another rank)");
  if (v[1] && st == BS_OK)
    return bs_error_set(ctx, BS_ERR_IO,
                        "a collective write failed on another rank");
  return st;
}

/* Whether `need` more bytes of `what` fit in io's file with META_SLACK to
 * spare: under the file size limit (RLIMIT_FSIZE, ulimit -f) and in its
 * filesystem's free space. Called before HDF5 allocates them, so a full
 * disk stops the run with the file as its last flush left it, still
 * closable. Rank 0 looks (and keeps the count), all agree. Collective. */
static bs_status room(bs_ctx *ctx, bs_io *io, uint64_t need, const char *what) {
  bs_status st = BS_OK;
  /* Tests: grant everything, as when another process fills the disk
   * between this check and the write (the write's own failure path). */
  static int blind = -1;
  if (blind < 0) {
    const char *v = getenv("BRAINSIM_TEST_ROOM_BLIND");
    blind = v && v[0] == '1';
  }
  if (ctx->rank == 0 && !blind) {
    /* HDF5 allocates at the end of the file, and the file's size lags
     * behind until the next flush (chunks are written sparsely): what was
     * granted counts as taken. */
    struct stat sb;
    uint64_t size = stat(io->path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (io->granted > size)
      size = io->granted;
    const uint64_t want = need + META_SLACK;
    struct rlimit rl;
    struct statvfs vf;
    char a[32], b[32], c[32];
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        size + want > (uint64_t)rl.rlim_cur)
      st = bs_error_set(
          ctx, BS_ERR_DISK_FULL,
          "disk full: writing %s would take '%s' from %s past the file size "
          "limit of %s (ulimit -f / RLIMIT_FSIZE; %s more needed, with "
          "room kept for closing the file)",
          what, io->path, bs_fmt_bytes((double)size, a, sizeof a),
          bs_fmt_bytes((double)rl.rlim_cur, b, sizeof b),
          bs_fmt_bytes((double)want, c, sizeof c));
    else if (statvfs(io->path, &vf) == 0 &&
             (uint64_t)vf.f_bavail * vf.f_frsize < want)
      st = bs_error_set(
          ctx, BS_ERR_DISK_FULL,
          "disk full: writing %s to '%s' needs %s (with room kept for "
          "closing the file), its filesystem has %s free",
          what, io->path, bs_fmt_bytes((double)want, a, sizeof a),
          bs_fmt_bytes((double)vf.f_bavail * vf.f_frsize, b, sizeof b));
    if (st == BS_OK)
      io->granted = size + need;
  }
  return agreed_write(ctx, st);
}

/* Rank 0 holds RESERVE_BYTES beside the output in a file unlinked at once
 * (the kernel frees it however the process ends). A file size limit below
 * the reserve, or a filesystem without fallocate, leaves none: room()
 * still holds. Collective. */
static bs_status reserve_take(bs_ctx *ctx, bs_io *io) {
  bs_status st = BS_OK;
  if (ctx->rank == 0 && io->reserve_fd < 0) {
    const size_t n = strlen(io->path) + 16;
    char *tmp = malloc(n);
    int fd = -1;
    if (tmp) {
      snprintf(tmp, n, "%s.rsrvXXXXXX", io->path);
      fd = mkstemp(tmp);
    }
    if (fd >= 0) {
      unlink(tmp);
      const int e = posix_fallocate(fd, 0, RESERVE_BYTES);
      if (e == ENOSPC || e == EDQUOT) {
        char a[32];
        st = bs_error_set(ctx, BS_ERR_DISK_FULL,
                          "disk full: less than %s free beside the output "
                          "'%s' before the run started",
                          bs_fmt_bytes(RESERVE_BYTES, a, sizeof a), io->path);
      }
      if (e) {
        close(fd);
        fd = -1;
      }
    }
    free(tmp);
    io->reserve_fd = fd;
  }
  return agreed_write(ctx, st);
}

void bs_io_release_reserve(bs_io *io) {
  if (io && io->reserve_fd >= 0) {
    close(io->reserve_fd);
    io->reserve_fd = -1;
  }
}

static bs_status status_write(bs_ctx *ctx, bs_io *io, const char *text);

/* The file access of every rank: MPI-IO with collective metadata, or,
 * when MPI was not started (one process, bs_comm_init), HDF5's POSIX
 * driver. */
static hid_t make_fapl(bs_ctx *ctx) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  const MPI_Comm *comm = bs_comm_mpi_handle(ctx->comm);
  if (comm) {
    H5Pset_fapl_mpio(fapl, *comm, MPI_INFO_NULL);
    H5Pset_all_coll_metadata_ops(fapl, 1);
    H5Pset_coll_metadata_write(fapl, 1);
  }
  return fapl;
}

static hid_t make_dxpl(bs_ctx *ctx) {
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (bs_comm_mpi_handle(ctx->comm))
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  return dxpl;
}

static bs_status file_create(bs_ctx *ctx, const char *path, int overwrite,
                             int with_meta, bs_io **out) {
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* Every rank looks before any rank creates, then all agree. */
  bs_status st = BS_OK;
  if (!overwrite && access(path, F_OK) == 0)
    st = bs_error_set(ctx, BS_ERR_IO,
                      "output file '%s' exists; remove it, choose another "
                      "with -o, or pass --overwrite",
                      path);
  BS_CALL(ctx, bs_comm_agree(ctx, st, NULL));
  bs_io *io;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *io, &io));
  io->path = bs_strdup(path);
  io->reserve_fd = -1;
  hid_t fapl = make_fapl(ctx);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  io->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  st = BS_OK;
  if (io->file < 0) /* before H5Pclose, which clears the error stack */
    st = h5_err(ctx, "creating output file", path);
  H5Pclose(fapl);
  st = bs_comm_agree(ctx, st, NULL);
  if (st != BS_OK) {
    if (io->file >= 0)
      H5Fclose(io->file);
    free(io->path);
    bs_free(ctx, 1, sizeof *io, &io);
    return st;
  }
  io->dxpl = make_dxpl(ctx);
  /* SONATA root attributes: magic 0x0A7A and version {0, 1}. */
  uint32_t magic = 0x0A7A, version[2] = {0, 1};
  hsize_t two = 2;
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(io->file, "magic", H5T_STD_U32LE, sp, H5P_DEFAULT,
                       H5P_DEFAULT);
  H5_TRY(ctx, a, "writing attribute magic of", path);
  H5Awrite(a, H5T_NATIVE_UINT32, &magic);
  H5Aclose(a);
  H5Sclose(sp);
  sp = H5Screate_simple(1, &two, NULL);
  a = H5Acreate2(io->file, "version", H5T_STD_U32LE, sp, H5P_DEFAULT,
                 H5P_DEFAULT);
  H5_TRY(ctx, a, "writing attribute version of", path);
  H5Awrite(a, H5T_NATIVE_UINT32, version);
  H5Aclose(a);
  H5Sclose(sp);
  io->overwrite = overwrite;
  *out = io;
  if (!with_meta)
    return BS_OK;
  io->has_meta = 1;
  BS_CALL(ctx, bs_io_group(ctx, io, "/meta"));
  uint64_t zero = 0;
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "complete", &zero, 1));
  BS_CALL(ctx, status_write(ctx, io, "incomplete: running"));
  BS_CALL(ctx, reserve_take(ctx, io));
  /* On disk from the start: a run that dies leaves a readable file. */
  return bs_io_flush(ctx, io);
}

bs_status bs_io_create(bs_ctx *ctx, const char *path, int overwrite,
                       bs_io **out) {
  return file_create(ctx, path, overwrite, 1, out);
}

bs_status bs_io_open(bs_ctx *ctx, const char *path, int writable, bs_io **out) {
  *out = NULL;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  bs_status st = BS_OK;
  if (access(path, F_OK) != 0)
    st = bs_error_set(ctx, BS_ERR_IO, "cannot open '%s': %s", path,
                      strerror(errno));
  BS_CALL(ctx, bs_comm_agree(ctx, st, NULL));
  bs_io *io;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *io, &io));
  io->path = bs_strdup(path);
  io->reserve_fd = -1;
  hid_t fapl = make_fapl(ctx);
  io->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  if (io->file < 0)
    st = h5_err(ctx, "opening", path);
  H5Pclose(fapl);
  st = bs_comm_agree(ctx, st, NULL);
  if (st != BS_OK) {
    if (io->file >= 0)
      H5Fclose(io->file);
    free(io->path);
    bs_free(ctx, 1, sizeof *io, &io);
    return st;
  }
  io->dxpl = make_dxpl(ctx);
  *out = io;
  /* A run's output opened to continue it: the same guard as a new one. */
  if (writable &&
      H5Aexists_by_name(io->file, "/meta", "complete", H5P_DEFAULT) > 0) {
    io->has_meta = 1;
    BS_CALL(ctx, status_write(ctx, io, "incomplete: running"));
    BS_CALL(ctx, reserve_take(ctx, io));
  }
  H5Eclear2(H5E_DEFAULT);
  return BS_OK;
}

const char *bs_io_path(const bs_io *io) { return io->path; }

bs_status bs_io_exists(bs_ctx *ctx, bs_io *io, const char *path, int *yes) {
  (void)ctx;
  /* Check every level: H5Lexists fails on a missing intermediate group. */
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", path);
  *yes = 1;
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (H5Lexists(io->file, buf, H5P_DEFAULT) <= 0) {
        *yes = 0;
        H5Eclear2(H5E_DEFAULT);
        return BS_OK;
      }
      *p = c;
      if (c == '\0')
        break;
    }
  }
  return BS_OK;
}

bs_status bs_io_close(bs_ctx *ctx, bs_io **iop, int complete) {
  if (!iop || !*iop)
    return BS_OK;
  bs_io *io = *iop;
  bs_status st = BS_OK;
  /* Reports still open (a run that stopped early) are closed by their
   * owners later: they no longer point back here. */
  for (bs_io_report *r = io->reports; r; r = r->next)
    r->main = NULL;
  io->reports = NULL;
  bs_io_release_reserve(io); /* the space for these last writes */
  if (complete) {
    uint64_t one = 1;
    st = bs_io_attr_u64(ctx, io, "/meta", "complete", &one, 1);
    if (st == BS_OK)
      st = status_write(ctx, io, "complete");
  } else if (io->has_meta && !io->status_set)
    st = status_write(ctx, io,
                      "incomplete: the run failed or stopped before its end");
  for (int i = 0; i < io->nspk; i++) {
    H5Dclose(io->spk_t[i]);
    H5Dclose(io->spk_id[i]);
  }
  H5Pclose(io->dxpl);
  if (H5Fclose(io->file) < 0 && st == BS_OK)
    st = h5_err(ctx, "closing output file", io->path);
  free(io->path);
  bs_free(ctx, 1, sizeof *io, iop);
  return st;
}

bs_status bs_io_group(bs_ctx *ctx, bs_io *io, const char *path) {
  /* Create every missing level. */
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      htri_t ex = H5Lexists(io->file, buf, H5P_DEFAULT);
      if (ex <= 0) {
        hid_t g =
            H5Gcreate2(io->file, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5_TRY(ctx, g, "creating group", buf);
        H5Gclose(g);
      }
      *p = c;
      if (c == '\0')
        break;
    }
  }
  return BS_OK;
}

static bs_status attr_write(bs_ctx *ctx, bs_io *io, const char *path,
                            const char *name, hid_t ftype, hid_t mtype,
                            hid_t space, const void *buf) {
  hid_t obj = H5Oopen(io->file, path, H5P_DEFAULT);
  H5_TRY(ctx, obj, "opening", path);
  if (H5Aexists(obj, name) > 0)
    H5Adelete(obj, name);
  hid_t a = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) {
    H5Oclose(obj);
    H5_TRY(ctx, a, "creating attribute on", path);
  }
  herr_t w = H5Awrite(a, mtype, buf);
  bs_status w_st =
      w < 0 ? h5_err_in(ctx, io->path, "writing attribute on", path) : BS_OK;
  H5Aclose(a);
  H5Oclose(obj);
  if (w_st != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return w_st;
  }
  return BS_OK;
}

bs_status bs_io_attr_str(bs_ctx *ctx, bs_io *io, const char *path,
                         const char *name, const char *value) {
  /* Fixed-length UTF-8: HDF5 1.10's object copy (h5copy, h5py's
   * Group.copy) crashes on groups whose attributes hold variable-length
   * strings (hdf5#2414); every reader takes either form. */
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(value) ? strlen(value) : 1);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t sp = H5Screate(H5S_SCALAR);
  bs_status st =
      attr_write(ctx, io, path, name, t, t, sp, strlen(value) ? value : " ");
  H5Sclose(sp);
  H5Tclose(t);
  return st;
}

bs_status bs_io_attr_f64(bs_ctx *ctx, bs_io *io, const char *path,
                         const char *name, const double *v, size_t n) {
  hsize_t dim = n;
  hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
  bs_status st =
      attr_write(ctx, io, path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sp, v);
  H5Sclose(sp);
  return st;
}

bs_status bs_io_attr_u64(bs_ctx *ctx, bs_io *io, const char *path,
                         const char *name, const uint64_t *v, size_t n) {
  hsize_t dim = n;
  hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
  bs_status st =
      attr_write(ctx, io, path, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, sp, v);
  H5Sclose(sp);
  return st;
}

/* /meta@status: fixed-length, padded to STATUS_LEN, so that a rewrite
 * reuses the attribute's place in the object header and needs no space. */
static bs_status status_write(bs_ctx *ctx, bs_io *io, const char *text) {
  char buf[STATUS_LEN];
  memset(buf, 0, sizeof buf);
  snprintf(buf, sizeof buf, "%s", text);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, STATUS_LEN);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t sp = H5Screate(H5S_SCALAR);
  bs_status st = attr_write(ctx, io, "/meta", "status", t, t, sp, buf);
  H5Sclose(sp);
  H5Tclose(t);
  return st;
}

bs_status bs_io_status(bs_ctx *ctx, bs_io *io, const char *text) {
  bs_io_release_reserve(io);
  BS_CALL(ctx, status_write(ctx, io, text));
  io->status_set = 1;
  return BS_OK;
}

/* A 1-D dataset written by rank 0 alone inside a collective call. */
static bs_status small_dataset(bs_ctx *ctx, bs_io *io, hid_t loc,
                               const char *name, hid_t ftype, hid_t mtype,
                               hsize_t n, const void *buf, const char *where) {
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t d =
      H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d < 0) {
    H5Sclose(sp);
    H5_TRY(ctx, d, "creating dataset", where);
  }
  hid_t ms = H5Screate_simple(1, &n, NULL);
  if (ctx->rank != 0 || n == 0) {
    H5Sselect_none(sp);
    H5Sselect_none(ms);
  }
  herr_t w = H5Dwrite(d, mtype, ms, sp, io->dxpl, buf);
  bs_status w_st =
      w < 0 ? h5_err_in(ctx, io->path, "writing dataset", where) : BS_OK;
  H5Sclose(ms);
  H5Sclose(sp);
  H5Dclose(d);
  if (w_st != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return w_st;
  }
  return BS_OK;
}

bs_status bs_io_text(bs_ctx *ctx, bs_io *io, const char *path,
                     const char *text) {
  /* Fixed-length string: parallel HDF5 cannot write variable-length data. */
  size_t len = strlen(text);
  int exists = 0;
  BS_CALL(ctx, bs_io_exists(ctx, io, path, &exists));
  if (exists) /* rewriting /meta of a continued run */
    H5_TRY(ctx, H5Ldelete(io->file, path, H5P_DEFAULT), "replacing", path);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, len ? len : 1);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t d =
      H5Dcreate2(io->file, path, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d < 0) {
    H5Sclose(sp);
    H5Tclose(t);
    H5_TRY(ctx, d, "creating dataset", path);
  }
  hid_t ms = H5Screate(H5S_SCALAR);
  if (ctx->rank != 0) {
    H5Sselect_none(sp);
    H5Sselect_none(ms);
  }
  herr_t w = H5Dwrite(d, t, ms, sp, io->dxpl, len ? text : " ");
  bs_status w_st =
      w < 0 ? h5_err_in(ctx, io->path, "writing dataset", path) : BS_OK;
  H5Sclose(ms);
  H5Sclose(sp);
  H5Dclose(d);
  H5Tclose(t);
  if (w_st != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return w_st;
  }
  return BS_OK;
}

bs_status bs_io_rank_u64(bs_ctx *ctx, bs_io *io, const char *path,
                         uint64_t value) {
  int exists = 0;
  BS_CALL(ctx, bs_io_exists(ctx, io, path, &exists));
  if (exists) /* rewriting /meta of a continued run */
    H5_TRY(ctx, H5Ldelete(io->file, path, H5P_DEFAULT), "replacing", path);
  hsize_t n = (hsize_t)ctx->size, at = (hsize_t)ctx->rank, one = 1;
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t d = H5Dcreate2(io->file, path, H5T_STD_U64LE, sp, H5P_DEFAULT,
                       H5P_DEFAULT, H5P_DEFAULT);
  if (d < 0) {
    H5Sclose(sp);
    H5_TRY(ctx, d, "creating dataset", path);
  }
  hid_t ms = H5Screate_simple(1, &one, NULL);
  H5Sselect_hyperslab(sp, H5S_SELECT_SET, &at, NULL, &one, NULL);
  herr_t w = H5Dwrite(d, H5T_NATIVE_UINT64, ms, sp, io->dxpl, &value);
  bs_status st =
      w < 0 ? h5_err_in(ctx, io->path, "writing dataset", path) : BS_OK;
  H5Sclose(ms);
  H5Sclose(sp);
  H5Dclose(d);
  if (st != BS_OK)
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
  return st;
}

/* ---- spikes ----------------------------------------------------------- */

/* Spike datasets keep no chunk cache: a write reaches the file (or fails,
 * on a full disk) in H5Dwrite, as parallel HDF5 always does, instead of
 * leaving dirty chunks that the close would retry without room. */
static hid_t spike_dapl(void) {
  hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
  H5Pset_chunk_cache(dapl, 0, 0, 1.0);
  return dapl;
}

static hid_t spike_dataset(hid_t g, const char *name, hid_t type) {
  hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = SPIKE_CHUNK;
  hid_t sp = H5Screate_simple(1, &zero, &unlim);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  hid_t dapl = spike_dapl();
  hid_t d = H5Dcreate2(g, name, type, sp, H5P_DEFAULT, dcpl, dapl);
  H5Pclose(dapl);
  H5Pclose(dcpl);
  H5Sclose(sp);
  return d;
}

static hid_t spike_open(hid_t g, const char *name) {
  hid_t dapl = spike_dapl();
  hid_t d = H5Dopen2(g, name, dapl);
  H5Pclose(dapl);
  return d;
}

bs_status bs_io_spikes_add(bs_ctx *ctx, bs_io *io, const char *pop,
                           int *handle) {
  char path[512];
  BS_CHECK(ctx, io->nspk < MAX_SPIKE_POPS, BS_ERR_LIMIT,
           "at most %d populations can record spikes", MAX_SPIKE_POPS);
  snprintf(path, sizeof path, "/spikes/%s", pop);
  int exists = 0;
  BS_CALL(ctx, bs_io_exists(ctx, io, path, &exists));
  if (exists) { /* continuing a run: reopen, bs_io_spikes_truncate sets
                 * the length */
    hid_t g = H5Gopen2(io->file, path, H5P_DEFAULT);
    H5_TRY(ctx, g, "opening group", path);
    hid_t t = spike_open(g, "timestamps");
    hid_t id = spike_open(g, "node_ids");
    H5Gclose(g);
    H5_TRY(ctx, t, "opening timestamps in", path);
    H5_TRY(ctx, id, "opening node_ids in", path);
    int h = io->nspk++;
    io->spk_t[h] = t;
    io->spk_id[h] = id;
    hid_t sp = H5Dget_space(t);
    hsize_t len = 0;
    H5Sget_simple_extent_dims(sp, &len, NULL);
    H5Sclose(sp);
    io->spk_len[h] = len;
    *handle = h;
    return BS_OK;
  }
  BS_CALL(ctx, bs_io_group(ctx, io, path));
  hid_t g = H5Gopen2(io->file, path, H5P_DEFAULT);
  H5_TRY(ctx, g, "opening group", path);
  hid_t t = spike_dataset(g, "timestamps", H5T_IEEE_F64LE);
  hid_t id = spike_dataset(g, "node_ids", H5T_STD_U64LE);
  H5Gclose(g);
  H5_TRY(ctx, t, "creating timestamps in", path);
  H5_TRY(ctx, id, "creating node_ids in", path);
  int h = io->nspk++;
  io->spk_t[h] = t;
  io->spk_id[h] = id;
  io->spk_len[h] = 0;
  /* units on timestamps (libsonata requires it) and the sorting enum as
   * libsonatareport writes it: H5T_ENUM over uint8 {none, by_id, by_time}. */
  char tpath[600];
  snprintf(tpath, sizeof tpath, "%s/timestamps", path);
  BS_CALL(ctx, bs_io_attr_str(ctx, io, tpath, "units", "ms"));
  hid_t et = H5Tenum_create(H5T_STD_U8LE);
  uint8_t v0 = 0, v1 = 1, v2 = 2;
  H5Tenum_insert(et, "none", &v0);
  H5Tenum_insert(et, "by_id", &v1);
  H5Tenum_insert(et, "by_time", &v2);
  hid_t sp = H5Screate(H5S_SCALAR);
  bs_status st = attr_write(ctx, io, path, "sorting", et, et, sp, &v2);
  H5Sclose(sp);
  H5Tclose(et);
  *handle = h;
  return st;
}

static bs_status append_1d(bs_ctx *ctx, bs_io *io, hid_t d, hid_t mtype,
                           uint64_t oldlen, uint64_t total, uint64_t off,
                           uint64_t n, const void *buf) {
  hsize_t newlen = oldlen + total, cur = 0;
  hid_t cs = H5Dget_space(d);
  H5Sget_simple_extent_dims(cs, &cur, NULL);
  H5Sclose(cs);
  if (newlen > cur) /* never shrink (see bs_io_spikes_truncate) */
    H5_TRY(ctx, H5Dset_extent(d, &newlen), "extending spikes in", io->path);
  hid_t fs = H5Dget_space(d);
  hsize_t start = oldlen + off, cnt = n;
  hid_t ms = H5Screate_simple(1, &cnt, NULL);
  if (n)
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
  else {
    H5Sselect_none(fs);
    H5Sselect_none(ms);
  }
  herr_t w = H5Dwrite(d, mtype, ms, fs, io->dxpl, buf);
  bs_status w_st =
      w < 0 ? write_err(ctx, io->path, "writing", "spikes", n * 8) : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  if (w_st != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return w_st;
  }
  return BS_OK;
}

uint64_t bs_io_spikes_length(const bs_io *io, int h) { return io->spk_len[h]; }

bs_status bs_io_spikes_truncate(bs_ctx *ctx, bs_io *io, int h, uint64_t len) {
  BS_CHECK(ctx, len <= io->spk_len[h], BS_ERR_IO,
           "%s: the output holds %llu spikes of a population, fewer than "
           "the %llu the checkpoint recorded: it is not this run's output",
           io->path, (unsigned long long)io->spk_len[h],
           (unsigned long long)len);
  /* Only the logical length changes: the run is deterministic, so what a
   * stopped run wrote past its checkpoint is a prefix of what the
   * continuation writes again. (Shrinking with H5Dset_extent would make
   * parallel HDF5 refill the partial edge chunk from its cache and lose
   * the next collective write into it.) */
  io->spk_len[h] = len;
  return BS_OK;
}

bs_status bs_io_spikes_append(bs_ctx *ctx, bs_io *io, int h, uint64_t total,
                              uint64_t offset, uint64_t n, const double *t,
                              const uint64_t *ids) {
  if (total == 0)
    return BS_OK; /* same on every rank */
  /* Parallel HDF5 allocates every chunk of the extent at once; both
   * datasets' chunks must fit before either grows. */
  hsize_t cur = 0;
  hid_t cs = H5Dget_space(io->spk_t[h]);
  H5Sget_simple_extent_dims(cs, &cur, NULL);
  H5Sclose(cs);
  const uint64_t have = (cur + SPIKE_CHUNK - 1) / SPIKE_CHUNK,
                 after =
                     (io->spk_len[h] + total + SPIKE_CHUNK - 1) / SPIKE_CHUNK;
  if (after > have)
    BS_CALL(ctx, room(ctx, io, 2 * (after - have) * SPIKE_CHUNK * 8, "spikes"));
  /* Both writes are collective, so every rank makes both, and all agree
   * on the outcome. */
  bs_status st = append_1d(ctx, io, io->spk_t[h], H5T_NATIVE_DOUBLE,
                           io->spk_len[h], total, offset, n, t);
  bs_status s2 = append_1d(ctx, io, io->spk_id[h], H5T_NATIVE_UINT64,
                           io->spk_len[h], total, offset, n, ids);
  st = agreed_write(ctx, st != BS_OK ? st : s2);
  if (st == BS_ERR_DISK_FULL) {
    /* The space ran out in spite of room() (another process took it): the
     * file ends at the spikes written before, so the extent goes back to
     * them; no write follows to lose (bs_io_spikes_truncate). A failure
     * here leaves the first message in place (the disk was full). */
    hsize_t len = io->spk_len[h];
    bs_io_release_reserve(io); /* pruning refills the edge chunk */
    const herr_t a = H5Dset_extent(io->spk_t[h], &len);
    const herr_t b = H5Dset_extent(io->spk_id[h], &len);
    if (a < 0 || b < 0)
      h5_err_in(ctx, io->path,
                "cutting back the spikes written when the "
                "disk filled,",
                "a population");
    H5Eclear2(H5E_DEFAULT);
  }
  if (st != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    return st;
  }
  io->spk_len[h] += total;
  return BS_OK;
}

/* ---- reports ---------------------------------------------------------- */

/* "dir/" of a path ("" for none), into buf. */
static void dir_of(const char *path, char *buf, size_t len) {
  const char *sl = strrchr(path, '/');
  size_t n = sl ? (size_t)(sl - path) + 1 : 0;
  snprintf(buf, len, "%.*s", (int)n, path);
}

/* The report file of group /report/<target>/<name>: `file` when given,
 * else <output without .h5>.<target>.<name>.h5 beside the output. */
static void report_file_name(const bs_io *io, const char *target,
                             const char *name, const char *file, char *buf,
                             size_t len) {
  if (file && file[0]) {
    snprintf(buf, len, "%s", file);
    return;
  }
  size_t n = strlen(io->path);
  if (n > 3 && strcmp(io->path + n - 3, ".h5") == 0)
    n -= 3;
  snprintf(buf, len, "%.*s.%s.%s.h5", (int)n, io->path, target, name);
}

static void report_free(bs_ctx *ctx, bs_io_report **r) {
  if ((*r)->data >= 0)
    H5Dclose((*r)->data);
  if ((*r)->io)
    bs_io_close(ctx, &(*r)->io, 0);
  bs_free(ctx, 1, sizeof **r, r);
}

/* Continue a report of an earlier run: follow the output's external link
 * to the report file and open it for writing. */
static bs_status report_reopen(bs_ctx *ctx, bs_io *io, const char *link,
                               bs_io_report *r) {
  H5L_info_t li;
  H5_TRY(ctx, H5Lget_info(io->file, link, &li, H5P_DEFAULT), "reading link",
         link);
  BS_CHECK(ctx, li.type == H5L_TYPE_EXTERNAL, BS_ERR_IO,
           "%s: %s is not a link to a report file: the output is from an "
           "older brainsim; start the run again",
           io->path, link);
  char val[1400], target[1400];
  BS_CHECK(ctx, li.u.val_size <= sizeof val, BS_ERR_IO, "%s: link %s too long",
           io->path, link);
  H5_TRY(ctx, H5Lget_val(io->file, link, val, sizeof val, H5P_DEFAULT),
         "reading link", link);
  const char *fname = NULL, *obj = NULL;
  H5_TRY(ctx, H5Lunpack_elink_val(val, li.u.val_size, NULL, &fname, &obj),
         "reading link", link);
  if (fname[0] == '/')
    snprintf(target, sizeof target, "%s", fname);
  else {
    char dir[1024];
    dir_of(io->path, dir, sizeof dir);
    snprintf(target, sizeof target, "%s%s", dir, fname);
  }
  snprintf(r->group, sizeof r->group, "%s", obj);
  return bs_io_open(ctx, target, 1, &r->io);
}

/* The data of a report: rows x nodes float64, contiguous, no fill. */
static bs_status report_data(bs_ctx *ctx, bs_io *io, hid_t g, const char *name,
                             uint64_t n_rows, uint64_t n_nodes,
                             const char *group, hid_t *out) {
  /* allocated at creation (parallel HDF5), whole */
  BS_CALL(ctx, room(ctx, io, n_rows * n_nodes * 8, "report data"));
  hsize_t dims[2] = {n_rows, n_nodes};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  hid_t d =
      H5Dcreate2(g, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5_TRY(ctx, d, "creating report data in", group);
  *out = d;
  return BS_OK;
}

static bs_status block_io(bs_ctx *ctx, bs_io *io, hid_t d, int writing,
                          uint64_t row0, uint64_t nrows, uint64_t col0,
                          uint64_t ncols, void *buf, const char *what,
                          const char *obj);

/* Contiguous data cannot be extended: a new dataset of n_rows takes the
 * old rows (rank 0 copies them, in slabs), replaces the old one, and the
 * mapping's time gets the new tstop. The old one's space stays unused in
 * the file. Collective. */
static bs_status report_grow(bs_ctx *ctx, bs_io *io, const char *group,
                             const char *units, uint64_t old_rows,
                             uint64_t n_rows, uint64_t n_nodes, double tstart,
                             double tstop, double tstep) {
  char path[700];
  hid_t g = H5Gopen2(io->file, group, H5P_DEFAULT);
  H5_TRY(ctx, g, "opening group", group);
  hid_t od = H5Dopen2(g, "data", H5P_DEFAULT), nd = -1;
  bs_status st = od < 0 ? h5_err_in(ctx, io->path, "opening report", group)
                        : report_data(ctx, io, g, "data.grow", n_rows, n_nodes,
                                      group, &nd);
  const uint64_t slab = n_nodes ? (1u << 20) / n_nodes + 1 : old_rows;
  double *buf = NULL;
  if (st == BS_OK && old_rows && n_nodes)
    st = bs_malloc(ctx, (slab < old_rows ? slab : old_rows) * n_nodes,
                   sizeof(double), &buf);
  for (uint64_t r = 0; st == BS_OK && n_nodes && r < old_rows; r += slab) {
    const uint64_t k = old_rows - r < slab ? old_rows - r : slab;
    const uint64_t nc = ctx->rank == 0 ? n_nodes : 0;
    st = block_io(ctx, io, od, 0, r, k, 0, nc, buf, "reading report", group);
    if (st == BS_OK)
      st = block_io(ctx, io, nd, 1, r, k, 0, nc, buf, "writing report", group);
  }
  if (buf)
    bs_free(ctx, (slab < old_rows ? slab : old_rows) * n_nodes, sizeof(double),
            &buf);
  if (od >= 0)
    H5Dclose(od);
  if (nd >= 0)
    H5Dclose(nd);
  if (st == BS_OK &&
      (H5Ldelete(g, "data", H5P_DEFAULT) < 0 ||
       H5Lmove(g, "data.grow", g, "data", H5P_DEFAULT, H5P_DEFAULT) < 0))
    st = h5_err_in(ctx, io->path, "replacing report data in", group);
  H5Gclose(g);
  snprintf(path, sizeof path, "%s/data", group);
  if (st == BS_OK)
    st = bs_io_attr_str(ctx, io, path, "units", units);
  snprintf(path, sizeof path, "%s/mapping/time", group);
  hid_t t = st == BS_OK ? H5Dopen2(io->file, path, H5P_DEFAULT) : -1;
  if (st == BS_OK && t < 0)
    st = h5_err_in(ctx, io->path, "opening", path);
  if (st == BS_OK) {
    const double time[3] = {tstart, tstop, tstep};
    hid_t fs = H5Dget_space(t);
    hsize_t n = 3;
    hid_t ms = H5Screate_simple(1, &n, NULL);
    if (ctx->rank != 0) {
      H5Sselect_none(fs);
      H5Sselect_none(ms);
    }
    if (H5Dwrite(t, H5T_NATIVE_DOUBLE, ms, fs, io->dxpl, time) < 0)
      st = h5_err_in(ctx, io->path, "writing", path);
    H5Sclose(ms);
    H5Sclose(fs);
  }
  if (t >= 0)
    H5Dclose(t);
  if (st != BS_OK)
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
  return st;
}

static bs_status rows_written(bs_ctx *ctx, bs_io_report *r, uint64_t end);

/* Open the report group's data in a report file, checking its shape. */
static bs_status report_reopen_data(bs_ctx *ctx, bs_io_report *r,
                                    const char *units, uint64_t n_rows,
                                    uint64_t n_nodes, double tstart,
                                    double tstop, double tstep) {
  char mpath[700];
  snprintf(mpath, sizeof mpath, "%s/data", r->group);
  hid_t d = H5Dopen2(r->io->file, mpath, H5P_DEFAULT);
  if (d < 0)
    return h5_err_in(ctx, r->io->path, "opening report", mpath);
  hid_t sp = H5Dget_space(d);
  hsize_t dims[2] = {0, 0};
  int nd = H5Sget_simple_extent_dims(sp, dims, NULL);
  H5Sclose(sp);
  if (nd == 2 && dims[0] < n_rows && dims[1] == n_nodes) {
    /* A run continued into a longer duration: the same report with more
     * rows. */
    H5Dclose(d);
    BS_CALL(ctx, report_grow(ctx, r->io, r->group, units, dims[0], n_rows,
                             n_nodes, tstart, tstop, tstep));
    d = H5Dopen2(r->io->file, mpath, H5P_DEFAULT);
    if (d < 0)
      return h5_err_in(ctx, r->io->path, "opening report", mpath);
  } else if (nd != 2 || dims[0] != n_rows || dims[1] != n_nodes) {
    H5Dclose(d);
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: report %s has shape [%llu, %llu], this run "
                        "needs [%llu, %llu]",
                        r->io->path, mpath, (unsigned long long)dims[0],
                        (unsigned long long)dims[1], (unsigned long long)n_rows,
                        (unsigned long long)n_nodes);
  }
  r->data = d;
  return BS_OK;
}

/* A step of creating a report, agreed over the ranks: rank 0 alone
 * writes the mapping, and a rank that failed must not leave the others
 * inside the next collective call. */
static bs_status agreed(bs_ctx *ctx, bs_status st) {
  return bs_comm_agree(ctx, st, NULL);
}

bs_status bs_io_report_create(bs_ctx *ctx, bs_io *io, const char *group,
                              const char *file, const char *units,
                              const uint64_t *node_ids, uint64_t n_nodes,
                              uint64_t n_rows, double tstart, double tstop,
                              double tstep, const char *population,
                              bs_io_report **out) {
  *out = NULL;
  /* group = /report/<target>/<name>: the file gets /report/<target>. */
  const char *sl = strrchr(group, '/');
  BS_CHECK(ctx, strncmp(group, "/report/", 8) == 0 && sl && sl > group + 8,
           BS_ERR_INTERNAL, "report group %s is not /report/<target>/<name>",
           group);
  char target[300], rfile[1024], mpath[700];
  snprintf(target, sizeof target, "%.*s", (int)(sl - group - 8), group + 8);
  int exists = 0;
  BS_CALL(ctx, bs_io_exists(ctx, io, group, &exists));
  bs_io_report *r;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *r, &r));
  r->main = io;
  r->data = -1;
  r->rows = n_rows;
  r->cols = n_nodes;
  bs_status st;
  if (exists) { /* continuing a run: the report file has the mapping */
    st = agreed(ctx, report_reopen(ctx, io, group, r));
    if (st == BS_OK)
      st = agreed(ctx, report_reopen_data(ctx, r, units, n_rows, n_nodes,
                                          tstart, tstop, tstep));
    goto done;
  }
  snprintf(r->group, sizeof r->group, "/report/%s", target);
  report_file_name(io, target, sl + 1, file, rfile, sizeof rfile);
  /* The report files belong to the output this run created (which was
   * refused if it existed without --overwrite): replace them with it. */
  st = agreed(ctx, file_create(ctx, rfile, 1, 0, &r->io));
  if (st != BS_OK)
    goto done;
  /* The link holds the name relative to the output's folder when the two
   * share it (HDF5 looks there first), so the pair can be moved. */
  {
    char d1[1024], d2[1024], lname[2048];
    dir_of(io->path, d1, sizeof d1);
    dir_of(rfile, d2, sizeof d2);
    if (strcmp(d1, d2) == 0)
      snprintf(lname, sizeof lname, "%s", rfile + strlen(d2));
    else if (rfile[0] == '/')
      snprintf(lname, sizeof lname, "%s", rfile);
    else {
      char cwd[900];
      if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
      snprintf(lname, sizeof lname, "%s/%s", cwd, rfile);
    }
    char parent[700];
    snprintf(parent, sizeof parent, "/report/%s", target);
    st = agreed(ctx, bs_io_group(ctx, io, parent));
    if (st == BS_OK && H5Lcreate_external(lname, r->group, io->file, group,
                                          H5P_DEFAULT, H5P_DEFAULT) < 0)
      st = h5_err_in(ctx, io->path, "linking report", group);
  }
  st = agreed(ctx, st);
  if (st != BS_OK)
    goto done;
  bs_io *f = r->io;
  snprintf(mpath, sizeof mpath, "%s/mapping", r->group);
  st = agreed(ctx, bs_io_group(ctx, f, mpath));
  if (st != BS_OK)
    goto done;
  {
    hid_t g = H5Gopen2(f->file, r->group, H5P_DEFAULT);
    if (g < 0)
      st = h5_err_in(ctx, f->path, "opening group", r->group);
    st = agreed(ctx, st);
    if (st != BS_OK) {
      if (g >= 0)
        H5Gclose(g);
      goto done;
    }
    st = agreed(ctx, report_data(ctx, f, g, "data", n_rows, n_nodes, r->group,
                                 &r->data));
    H5Gclose(g);
  }
  if (st != BS_OK)
    goto done;
  {
    char dpath[700];
    snprintf(dpath, sizeof dpath, "%s/data", r->group);
    st = agreed(ctx, bs_io_attr_str(ctx, f, dpath, "units", units));
    if (st == BS_OK) /* bmtk's CompartmentReport.variable() */
      st = agreed(ctx, bs_io_attr_str(ctx, f, dpath, "variable", sl + 1));
    if (st == BS_OK)
      st = agreed(ctx, rows_written(ctx, r, 0));
  }
  if (st == BS_OK && population)
    st =
        agreed(ctx, bs_io_attr_str(ctx, f, r->group, "population", population));
  if (st != BS_OK)
    goto done;
  hid_t m = H5Gopen2(f->file, mpath, H5P_DEFAULT);
  if (m < 0)
    st = h5_err_in(ctx, f->path, "opening group", mpath);
  st = agreed(ctx, st);
  if (st != BS_OK) {
    if (m >= 0)
      H5Gclose(m);
    goto done;
  }
  uint64_t *ip = malloc((n_nodes + 1) * sizeof *ip);
  uint32_t *el = calloc(n_nodes ? n_nodes : 1, sizeof *el);
  float *pos = malloc((n_nodes ? n_nodes : 1) * sizeof *pos);
  if (!ip || !el || !pos)
    st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory for report mapping");
  st = agreed(ctx, st);
  if (st == BS_OK) {
    for (uint64_t i = 0; i <= n_nodes; i++)
      ip[i] = i;
    double time[3] = {tstart, tstop, tstep};
    st =
        agreed(ctx, small_dataset(ctx, f, m, "node_ids", H5T_STD_U64LE,
                                  H5T_NATIVE_UINT64, n_nodes, node_ids, mpath));
    if (st == BS_OK)
      st =
          agreed(ctx, small_dataset(ctx, f, m, "index_pointers", H5T_STD_U64LE,
                                    H5T_NATIVE_UINT64, n_nodes + 1, ip, mpath));
    /* bmtk 1.0.6 reads the singular name: the same dataset, linked. */
    if (st == BS_OK && H5Lcreate_hard(m, "index_pointers", m, "index_pointer",
                                      H5P_DEFAULT, H5P_DEFAULT) < 0)
      st = h5_err_in(ctx, f->path, "linking index_pointer in", mpath);
    st = agreed(ctx, st);
    if (st == BS_OK)
      st = agreed(ctx, small_dataset(ctx, f, m, "element_ids", H5T_STD_U32LE,
                                     H5T_NATIVE_UINT32, n_nodes, el, mpath));
    /* One element per point neuron, at the middle of its only section
     * (bmtk counts a node's elements by element_pos). */
    for (uint64_t i = 0; st == BS_OK && i < n_nodes; i++)
      pos[i] = 0.5f;
    if (st == BS_OK)
      st = agreed(ctx, small_dataset(ctx, f, m, "element_pos", H5T_IEEE_F32LE,
                                     H5T_NATIVE_FLOAT, n_nodes, pos, mpath));
    if (st == BS_OK)
      st = agreed(ctx, small_dataset(ctx, f, m, "time", H5T_IEEE_F64LE,
                                     H5T_NATIVE_DOUBLE, 3, time, mpath));
  }
  free(ip);
  free(el);
  free(pos);
  H5Gclose(m);
  if (st == BS_OK) {
    char tpath[720];
    snprintf(tpath, sizeof tpath, "%s/time", mpath);
    st = agreed(ctx, bs_io_attr_str(ctx, f, tpath, "units", "ms"));
  }
done:
  if (st != BS_OK) {
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
    report_free(ctx, &r);
    return st;
  }
  r->next = io->reports;
  io->reports = r;
  *out = r;
  return BS_OK;
}

const char *bs_io_report_path(const bs_io_report *r) { return r->io->path; }

/* Collective transfer of rows [row0, row0 + nrows) x columns [col0, col0 +
 * ncols) of a 2-D float64 dataset, row-major in buf. A rank with nothing
 * selects nothing but still calls H5Dwrite/H5Dread (sonata.md 7.1). */
static bs_status block_io(bs_ctx *ctx, bs_io *io, hid_t d, int writing,
                          uint64_t row0, uint64_t nrows, uint64_t col0,
                          uint64_t ncols, void *buf, const char *what,
                          const char *obj) {
  hid_t fs = H5Dget_space(d);
  hsize_t start[2] = {row0, col0}, cnt[2] = {nrows, ncols}, m = nrows * ncols;
  hid_t ms = H5Screate_simple(1, &m, NULL);
  if (m)
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
  else {
    H5Sselect_none(fs);
    H5Sselect_none(ms);
  }
  /* Reads are independent: a collective read of column blocks that
   * overlap between ranks (a checkpoint's per-pre state, each rank the
   * range of its table) returned zeros for part of a row at 3 and 4
   * ranks (Open MPI's MPI-IO, Debian 12). */
  herr_t rc = writing ? H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, io->dxpl, buf)
                      : H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf);
  /* Read the error stack before H5Sclose clears it. */
  bs_status st = rc < 0 ? h5_err_in(ctx, io->path, what, obj) : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  if (st != BS_OK)
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
  return st;
}

/* data@rows_written: the rows before it hold samples, the others were
 * never written (a run that stopped early; the whole report is allocated
 * at its start). Rewritten in place after each block of rows, so a file
 * left by a stop, a full disk or a kill says which rows to trust.
 * Collective (every rank writes the same rows). */
static bs_status rows_written(bs_ctx *ctx, bs_io_report *r, uint64_t end) {
  hid_t a = H5Aexists(r->data, "rows_written") > 0
                ? H5Aopen(r->data, "rows_written", H5P_DEFAULT)
                : -1;
  if (a < 0) {
    hid_t sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(r->data, "rows_written", H5T_STD_U64LE, sp, H5P_DEFAULT,
                   H5P_DEFAULT);
    H5Sclose(sp);
  }
  const herr_t w = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT64, &end);
  bs_status st =
      w < 0 ? h5_err_in(ctx, r->io->path, "writing rows_written of", r->group)
            : BS_OK;
  if (a >= 0)
    H5Aclose(a);
  return st;
}

bs_status bs_io_report_write(bs_ctx *ctx, bs_io_report *r, uint64_t row0,
                             uint64_t nrows, uint64_t col0, uint64_t ncols,
                             const double *buf) {
  bs_status st = block_io(ctx, r->io, r->data, 1, row0, nrows, col0, ncols,
                          (void *)buf, "writing report", "data");
  /* block_io's message stands; the space decides the code (agreed). */
  if (st == BS_ERR_IO && write_was_full(r->io->path, 0, nrows * ncols * 8))
    st = BS_ERR_DISK_FULL;
  if (st == BS_OK)
    st = rows_written(ctx, r, row0 + nrows);
  return agreed_write(ctx, st);
}

bs_status bs_io_report_write_cols(bs_ctx *ctx, bs_io_report *r, uint64_t row0,
                                  uint64_t nrows, const uint64_t *cols,
                                  uint64_t ncols, const double *buf) {
  hid_t fs = H5Dget_space(r->data);
  hsize_t m = nrows * ncols;
  hid_t ms = H5Screate_simple(1, &m, NULL);
  H5Sselect_none(fs);
  if (!m)
    H5Sselect_none(ms);
  /* One hyperslab per run of consecutive columns; HDF5 then takes the
   * buffer in the file's row-major order, i.e. ascending columns per row. */
  for (uint64_t a = 0; m && a < ncols;) {
    uint64_t b = a + 1;
    while (b < ncols && cols[b] == cols[b - 1] + 1)
      b++;
    hsize_t start[2] = {row0, cols[a]}, cnt[2] = {nrows, b - a};
    H5Sselect_hyperslab(fs, H5S_SELECT_OR, start, NULL, cnt, NULL);
    a = b;
  }
  herr_t rc = H5Dwrite(r->data, H5T_NATIVE_DOUBLE, ms, fs, r->io->dxpl, buf);
  bs_status st =
      rc < 0 ? write_err(ctx, r->io->path, "writing report", "data", m * 8)
             : BS_OK;
  H5Sclose(ms);
  H5Sclose(fs);
  if (st == BS_OK)
    st = rows_written(ctx, r, row0 + nrows);
  if (st != BS_OK)
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
  return agreed_write(ctx, st);
}

bs_status bs_io_report_pre_ids(bs_ctx *ctx, bs_io_report *r,
                               const uint64_t *pre_ids, uint64_t n,
                               const char *pre_population) {
  char mpath[700];
  int exists = 0;
  snprintf(mpath, sizeof mpath, "%s/mapping/pre_node_ids", r->group);
  BS_CALL(ctx, bs_io_exists(ctx, r->io, mpath, &exists));
  if (exists)
    return BS_OK;
  BS_CALL(ctx, bs_io_attr_str(ctx, r->io, r->group, "pre_population",
                              pre_population));
  snprintf(mpath, sizeof mpath, "%s/mapping", r->group);
  hid_t g = H5Gopen2(r->io->file, mpath, H5P_DEFAULT);
  H5_TRY(ctx, g, "opening group", mpath);
  bs_status st = small_dataset(ctx, r->io, g, "pre_node_ids", H5T_STD_U64LE,
                               H5T_NATIVE_UINT64, n, pre_ids, mpath);
  H5Gclose(g);
  return st;
}

bs_status bs_io_report_close(bs_ctx *ctx, bs_io_report **rp) {
  if (!rp || !*rp)
    return BS_OK;
  bs_io_report *r = *rp;
  for (bs_io_report **q = r->main ? &r->main->reports : NULL; q && *q;
       q = &(*q)->next)
    if (*q == r) {
      *q = r->next;
      break;
    }
  H5Dclose(r->data);
  r->data = -1;
  bs_status st = bs_io_close(ctx, &r->io, 0);
  bs_free(ctx, 1, sizeof *r, rp);
  return st;
}

/* ---- distributed blocks (checkpoints) ---------------------------------- */

bs_status bs_io_block_write(bs_ctx *ctx, bs_io *io, const char *path,
                            uint64_t rows, uint64_t cols, uint64_t col0,
                            uint64_t ncols, const double *buf) {
  BS_ASSERT(col0 + ncols <= cols);
  BS_CALL(ctx, room(ctx, io, rows * cols * 8, "checkpoint data"));
  hsize_t dims[2] = {rows, cols};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t d =
      H5Dcreate2(io->file, path, H5T_IEEE_F64LE, sp, lcpl, dcpl, H5P_DEFAULT);
  H5Pclose(lcpl);
  H5Pclose(dcpl);
  if (d < 0) {
    H5Sclose(sp);
    H5_TRY(ctx, d, "creating dataset", path);
  }
  H5Sclose(sp);
  bs_status st = block_io(ctx, io, d, 1, 0, rows, col0, ncols, (void *)buf,
                          "writing dataset", path);
  H5Dclose(d);
  return st;
}

bs_status bs_io_column_write(bs_ctx *ctx, bs_io *io, const char *path,
                             int is_u64, uint64_t total, uint64_t row0,
                             uint64_t n, const void *buf) {
  int exists = 0;
  BS_CALL(ctx, bs_io_exists(ctx, io, path, &exists));
  if (exists) /* a continued run writes its final weights again */
    H5_TRY(ctx, H5Ldelete(io->file, path, H5P_DEFAULT), "replacing", path);
  BS_ASSERT(row0 + n <= total);
  BS_CALL(ctx, room(ctx, io, total * 8, "final weights"));
  hsize_t dim = total, start = row0, cnt = n;
  hid_t sp = H5Screate_simple(1, &dim, NULL);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t d = H5Dcreate2(io->file, path, is_u64 ? H5T_STD_U64LE : H5T_IEEE_F64LE,
                       sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  if (d < 0) {
    H5Sclose(sp);
    H5_TRY(ctx, d, "creating dataset", path);
  }
  hid_t ms = H5Screate_simple(1, &cnt, NULL);
  if (n)
    H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
  else {
    H5Sselect_none(sp);
    H5Sselect_none(ms);
  }
  herr_t rc = H5Dwrite(d, is_u64 ? H5T_NATIVE_UINT64 : H5T_NATIVE_DOUBLE, ms,
                       sp, io->dxpl, buf);
  bs_status st =
      rc < 0 ? h5_err_in(ctx, io->path, "writing dataset", path) : BS_OK;
  H5Sclose(ms);
  H5Sclose(sp);
  H5Dclose(d);
  if (st != BS_OK)
    bs_error_trace(ctx, __FILE__, __LINE__, __func__);
  return st;
}

bs_status bs_io_block_read(bs_ctx *ctx, bs_io *io, const char *path,
                           uint64_t rows, uint64_t cols, uint64_t col0,
                           uint64_t ncols, double *buf) {
  BS_ASSERT(col0 + ncols <= cols);
  hid_t d = H5Dopen2(io->file, path, H5P_DEFAULT);
  if (d < 0) {
    H5Eclear2(H5E_DEFAULT);
    return bs_error_set(ctx, BS_ERR_IO, "%s: dataset %s is missing", io->path,
                        path);
  }
  hid_t sp = H5Dget_space(d);
  hsize_t dims[2] = {0, 0};
  int nd = H5Sget_simple_extent_ndims(sp);
  if (nd == 2)
    H5Sget_simple_extent_dims(sp, dims, NULL);
  const int is_float = bs_io_num_class(d) == H5T_FLOAT;
  if (nd != 2 || dims[0] != rows || dims[1] != cols || !is_float) {
    H5Sclose(sp);
    H5Dclose(d);
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s has the wrong type or shape (expected "
                        "float [%llu, %llu])",
                        io->path, path, (unsigned long long)rows,
                        (unsigned long long)cols);
  }
  H5Sclose(sp);
  bs_status st = block_io(ctx, io, d, 0, 0, rows, col0, ncols, buf,
                          "reading dataset", path);
  H5Dclose(d);
  return st;
}

static bs_status attr_read(bs_ctx *ctx, bs_io *io, const char *path,
                           const char *name, hid_t mtype, size_t n, void *buf) {
  hid_t obj = H5Oopen(io->file, path, H5P_DEFAULT);
  if (obj < 0) {
    H5Eclear2(H5E_DEFAULT);
    return bs_error_set(ctx, BS_ERR_IO, "%s: %s is missing", io->path, path);
  }
  hid_t a = H5Aexists(obj, name) > 0 ? H5Aopen(obj, name, H5P_DEFAULT) : -1;
  if (a < 0) {
    H5Oclose(obj);
    H5Eclear2(H5E_DEFAULT);
    return bs_error_set(ctx, BS_ERR_IO, "%s: attribute %s of %s is missing",
                        io->path, name, path);
  }
  hid_t sp = H5Aget_space(a);
  hssize_t npts = H5Sget_simple_extent_npoints(sp);
  H5Sclose(sp);
  herr_t r = -1;
  if (npts == (hssize_t)n)
    r = H5Aread(a, mtype, buf);
  H5Aclose(a);
  H5Oclose(obj);
  if (npts != (hssize_t)n)
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: attribute %s of %s has %lld values, expected %zu",
                        io->path, name, path, (long long)npts, n);
  H5_TRY(ctx, r, "reading attribute of", path);
  return BS_OK;
}

bs_status bs_io_read_attr_u64(bs_ctx *ctx, bs_io *io, const char *path,
                              const char *name, uint64_t *v, size_t n) {
  return attr_read(ctx, io, path, name, H5T_NATIVE_UINT64, n, v);
}

bs_status bs_io_read_text(bs_ctx *ctx, bs_io *io, const char *path,
                          char **text) {
  *text = NULL;
  hid_t d = H5Dopen2(io->file, path, H5P_DEFAULT);
  if (d < 0) {
    H5Eclear2(H5E_DEFAULT);
    return bs_error_set(ctx, BS_ERR_IO, "%s: dataset %s is missing", io->path,
                        path);
  }
  hid_t t = H5Dget_type(d);
  if (H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0) {
    H5Tclose(t);
    H5Dclose(d);
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s is not a fixed-length string", io->path,
                        path);
  }
  /* One string: an array of them would overflow the buffer below. */
  hid_t sp = H5Dget_space(d);
  hssize_t npts = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
  if (sp >= 0)
    H5Sclose(sp);
  if (npts != 1) {
    H5Tclose(t);
    H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return bs_error_set(ctx, BS_ERR_IO,
                        "%s: dataset %s holds %lld strings, expected one",
                        io->path, path, (long long)npts);
  }
  size_t len = H5Tget_size(t);
  char *buf = calloc(len + 1, 1);
  herr_t r = buf ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : -1;
  H5Tclose(t);
  H5Dclose(d);
  if (r < 0) {
    free(buf);
    H5_TRY(ctx, r, "reading", path);
  }
  *text = buf;
  return BS_OK;
}

bs_status bs_io_flush(bs_ctx *ctx, bs_io *io) {
  for (bs_io_report *r = io->reports; r; r = r->next)
    BS_CALL(ctx, bs_io_flush(ctx, r->io));
  H5_TRY(ctx, H5Fflush(io->file, H5F_SCOPE_GLOBAL), "flushing", io->path);
  return BS_OK;
}

bs_status bs_io_mkdir(bs_ctx *ctx, const char *dir) {
  bs_status st = BS_OK;
  if (ctx->rank == 0 && mkdir(dir, 0777) != 0 && errno != EEXIST)
    st = bs_error_set(ctx, BS_ERR_IO, "cannot create folder %s: %s", dir,
                      strerror(errno));
  return bs_comm_agree(ctx, st, NULL);
}

bs_status bs_io_rename(bs_ctx *ctx, const char *from, const char *to) {
  bs_status st = BS_OK;
  if (ctx->rank == 0 && rename(from, to) != 0)
    st = bs_error_set(ctx, BS_ERR_IO, "renaming %s to %s: %s", from, to,
                      strerror(errno));
  return bs_comm_agree(ctx, st, NULL);
}

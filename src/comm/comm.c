/* All of brainsim's MPI: a duplicated communicator with MPI_ERRORS_RETURN,
 * so an MPI failure becomes a status with MPI's own message. */
/* setenv */
#define _POSIX_C_SOURCE 200809L
#include "brainsim/comm.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bs_comm {
  MPI_Comm comm;
  int rank, size;
  int we_initialised;
  int serial;         /* one process, MPI not started (bs_comm_init) */
  uint64_t max_count; /* the largest count passed to one MPI call */
};

/* MPI's counts are ints. BRAINSIM_MPI_MAX_COUNT lowers the limit, so the
 * tests reach the paths that refuse a larger message. */
static uint64_t max_count_from_env(void) {
  const char *v = getenv("BRAINSIM_MPI_MAX_COUNT");
  char *end = NULL;
  unsigned long long n = v ? strtoull(v, &end, 10) : 0;
  if (!v || end == v || *end || n == 0 || n > (unsigned long long)INT32_MAX)
    return (uint64_t)INT32_MAX;
  return (uint64_t)n;
}

static bs_status mpi_err(bs_ctx *ctx, int code, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return bs_error_set(ctx, BS_ERR_MPI, "%s failed: %.*s", what, len, msg);
}

#define MPI_CALL(ctx, call)                                                    \
  do {                                                                         \
    int mpi_rc_ = (call);                                                      \
    if (mpi_rc_ != MPI_SUCCESS) {                                              \
      mpi_err((ctx), mpi_rc_, #call);                                          \
      bs_error_trace((ctx), __FILE__, __LINE__, __func__);                     \
      return BS_ERR_MPI;                                                       \
    }                                                                          \
  } while (0)

static MPI_Comm C(bs_ctx *ctx) { return ctx->comm->comm; }

/* Whether a launcher (mpirun, srun, hydra) started this process. */
static int launched(void) {
  static const char *env[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                              "PMI_SIZE"};
  for (size_t i = 0; i < sizeof env / sizeof *env; i++)
    if (getenv(env[i]))
      return 1;
  return 0;
}

/* A process started without a launcher is an MPI singleton of size 1.
 * Open MPI 4 then forks an orted and probes UCX/OFI networks it cannot use:
 * ~0.3 s before the first step. Isolated singleton, ob1 and the self BTL
 * cost ~0.02 s. Only set when no launcher is seen and the user set none. */
static void singleton_mca_defaults(int via_launcher) {
#ifdef OPEN_MPI
  if (via_launcher)
    return;
  setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
  setenv("OMPI_MCA_pml", "ob1", 0);
  setenv("OMPI_MCA_btl", "self", 0);
#else
  (void)via_launcher;
#endif
}

bs_status bs_comm_init(int *argc, char ***argv, bs_comm **out) {
  bs_comm *c = calloc(1, sizeof *c);
  if (!c)
    return BS_ERR_NOMEM;
  int inited = 0;
  MPI_Initialized(&inited);
  c->max_count = max_count_from_env();
  const int via_launcher = launched();
  /* Alone, without a launcher, MPI would only cost its start-up (~0.02 s
   * of MPI_Init and plugin loading, as much as connecting COBA 4k): one
   * rank communicates nothing, so MPI is not started at all and io/ uses
   * HDF5's POSIX driver. BRAINSIM_MPI=1 starts it anyway (a singleton). */
  const char *force = getenv("BRAINSIM_MPI");
  if (!inited && !via_launcher && !(force && !strcmp(force, "1"))) {
    c->serial = 1;
    c->size = 1;
    *out = c;
    return BS_OK;
  }
  if (!inited) {
    singleton_mca_defaults(via_launcher);
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
      free(c);
      return BS_ERR_MPI;
    }
    c->we_initialised = 1;
  }
  /* The rest of brainsim has no context yet to report into: a failed
   * duplicate is told here and ends the process. */
  if (MPI_Comm_dup(MPI_COMM_WORLD, &c->comm) != MPI_SUCCESS) {
    fprintf(stderr, "brainsim: MPI_Comm_dup of MPI_COMM_WORLD failed\n");
    if (c->we_initialised)
      MPI_Finalize();
    free(c);
    return BS_ERR_MPI;
  }
  MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(c->comm, &c->rank);
  MPI_Comm_size(c->comm, &c->size);
  *out = c;
  return BS_OK;
}

void bs_comm_finalize(bs_comm **comm) {
  if (!comm || !*comm)
    return;
  bs_comm *c = *comm;
  if (!c->serial)
    MPI_Comm_free(&c->comm);
  if (c->we_initialised)
    MPI_Finalize();
  free(c);
  *comm = NULL;
}

int bs_comm_rank(const bs_comm *comm) { return comm->rank; }
int bs_comm_size(const bs_comm *comm) { return comm->size; }
int bs_comm_uses_mpi(const bs_comm *comm) { return !comm->serial; }
void *bs_comm_mpi_handle(bs_comm *comm) {
  return comm->serial ? NULL : &comm->comm;
}

bs_status bs_comm_agree(bs_ctx *ctx, bs_status local, int *first) {
  /* A rank that holds only BS_ERR_REMOTE from an earlier agreement is not
   * the one to report: the lowest rank with an error of its own is. */
  int mine[2] = {local != BS_OK && local != BS_ERR_REMOTE ? ctx->rank
                                                          : ctx->size,
                 local != BS_OK ? ctx->rank : ctx->size};
  int low[2] = {mine[0], mine[1]};
  if (ctx->size > 1)
    MPI_CALL(ctx, MPI_Allreduce(mine, low, 2, MPI_INT, MPI_MIN, C(ctx)));
  int lowest = low[0] < ctx->size ? low[0] : low[1];
  if (first)
    *first = lowest < ctx->size ? lowest : -1;
  if (lowest == ctx->size)
    return BS_OK;
  if (local != BS_OK)
    return local;
  return bs_error_set(ctx, BS_ERR_REMOTE, "rank %d failed", lowest);
}

bs_status bs_comm_sum_u64(bs_ctx *ctx, uint64_t *v, int n) {
  if (ctx->size == 1)
    return BS_OK;
  MPI_CALL(ctx,
           MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_SUM, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_max_double(bs_ctx *ctx, double *v, int n) {
  if (ctx->size == 1)
    return BS_OK;
  MPI_CALL(ctx, MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_stats(bs_ctx *ctx, const double *local, int n, double *min,
                        double *mean, double *max) {
  if (ctx->size == 1) {
    memcpy(min, local, (size_t)n * sizeof *min);
    memcpy(mean, local, (size_t)n * sizeof *mean);
    memcpy(max, local, (size_t)n * sizeof *max);
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Allreduce(local, min, n, MPI_DOUBLE, MPI_MIN, C(ctx)));
  MPI_CALL(ctx, MPI_Allreduce(local, max, n, MPI_DOUBLE, MPI_MAX, C(ctx)));
  MPI_CALL(ctx, MPI_Allreduce(local, mean, n, MPI_DOUBLE, MPI_SUM, C(ctx)));
  for (int i = 0; i < n; i++)
    mean[i] /= ctx->size;
  return BS_OK;
}

bs_status bs_comm_gather_u64(bs_ctx *ctx, uint64_t local, uint64_t *all) {
  if (ctx->size == 1) {
    all[0] = local;
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Allgather(&local, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T,
                              C(ctx)));
  return BS_OK;
}

bs_status bs_comm_allgatherv_f64(bs_ctx *ctx, const double *send, int n,
                                 double *recv, const int *counts,
                                 const int *displs) {
  if (ctx->size == 1) {
    memmove(recv + displs[0], send, (size_t)n * sizeof *recv);
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Allgatherv(send, n, MPI_DOUBLE, recv, counts, displs,
                               MPI_DOUBLE, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_allgatherv_u64(bs_ctx *ctx, const uint64_t *send, int n,
                                 uint64_t *recv, const int *counts,
                                 const int *displs) {
  if (ctx->size == 1) {
    memmove(recv + displs[0], send, (size_t)n * sizeof *recv);
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Allgatherv(send, n, MPI_UINT64_T, recv, counts, displs,
                               MPI_UINT64_T, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_exscan_u64(bs_ctx *ctx, uint64_t local, uint64_t *before) {
  uint64_t v = 0;
  if (ctx->size == 1) {
    *before = 0;
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Exscan(&local, &v, 1, MPI_UINT64_T, MPI_SUM, C(ctx)));
  *before = ctx->rank == 0 ? 0 : v;
  return BS_OK;
}

bs_status bs_comm_node_ranks(bs_ctx *ctx, int *n) {
  MPI_Comm node;
  if (ctx->size == 1) {
    *n = 1;
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Comm_split_type(C(ctx), MPI_COMM_TYPE_SHARED, ctx->rank,
                                    MPI_INFO_NULL, &node));
  MPI_Comm_size(node, n);
  MPI_Comm_free(&node);
  return BS_OK;
}

bs_status bs_exchange_create(bs_ctx *ctx, bs_exchange **out) {
  bs_exchange *x;
  const size_t P = (size_t)ctx->size;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *x, &x));
  *out = x; /* destroy accepts a partly made one */
  BS_CALL(ctx, bs_calloc(ctx, P, sizeof(int), &x->scount));
  BS_CALL(ctx, bs_calloc(ctx, P, sizeof(int), &x->sdispl));
  BS_CALL(ctx, bs_calloc(ctx, P, sizeof(int), &x->rcount));
  BS_CALL(ctx, bs_calloc(ctx, P, sizeof(int), &x->rdispl));
  BS_CALL(ctx, bs_calloc(ctx, 2 * P, sizeof(uint64_t), &x->hdr_s));
  BS_CALL(ctx, bs_calloc(ctx, 2 * P, sizeof(uint64_t), &x->hdr_r));
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof(uint64_t), &x->row));
  x->sendcap = x->allcap = 1024;
  BS_CALL(ctx, bs_malloc(ctx, x->sendcap, sizeof(uint64_t), &x->sendbuf));
  BS_CALL(ctx, bs_malloc(ctx, x->allcap, sizeof(uint64_t), &x->all));
  return BS_OK;
}

static void flights_free(bs_ctx *ctx, bs_exchange *x);

void bs_exchange_destroy(bs_ctx *ctx, bs_exchange **x) {
  if (!x || !*x)
    return;
  bs_exchange *e = *x;
  const size_t P = (size_t)ctx->size;
  bs_free(ctx, (size_t)(e->nranges ? e->nranges : 1), sizeof(bs_gid_range),
          &e->ranges);
  bs_free(ctx, (size_t)(e->nranges ? e->nranges : 1), sizeof(uint64_t),
          &e->slot0);
  bs_free(ctx, e->nslots + 1, sizeof(uint64_t), &e->row);
  bs_free(ctx, e->ndst ? e->ndst : 1, sizeof(int32_t), &e->dst);
  bs_free(ctx, (size_t)(e->nslots / 64 + 1), sizeof(uint64_t), &e->self_bits);
  bs_free(ctx, e->sendcap, sizeof(uint64_t), &e->sendbuf);
  bs_free(ctx, e->allcap, sizeof(uint64_t), &e->all);
  bs_free(ctx, P, sizeof(int), &e->scount);
  bs_free(ctx, P, sizeof(int), &e->sdispl);
  bs_free(ctx, P, sizeof(int), &e->rcount);
  bs_free(ctx, P, sizeof(int), &e->rdispl);
  bs_free(ctx, 2 * P, sizeof(uint64_t), &e->hdr_s);
  bs_free(ctx, 2 * P, sizeof(uint64_t), &e->hdr_r);
  flights_free(ctx, e);
  bs_free(ctx, 1, sizeof *e, x);
}

/* The slot of a local gid (the ranges are few: one per population). */
static uint64_t slot_of(const bs_exchange *x, uint64_t gid) {
  int k = 0;
  while (k + 1 < x->nranges && gid >= x->ranges[k + 1].lo)
    k++;
  BS_ASSERT(gid >= x->ranges[k].lo && gid < x->ranges[k].hi); /* own */
  return x->slot0[k] + (gid - x->ranges[k].lo);
}

static int in_ranges(const bs_exchange *x, uint64_t gid) {
  for (int k = 0; k < x->nranges; k++)
    if (gid >= x->ranges[k].lo && gid < x->ranges[k].hi)
      return 1;
  return 0;
}

/* Counts and displacements as MPI's ints, or a limit error (the same on
 * every rank when cnt is). */
static bs_status to_int_counts(bs_ctx *ctx, const uint64_t *cnt, int *c, int *d,
                               const char *what) {
  const uint64_t lim = ctx->comm->max_count;
  uint64_t off = 0;
  for (int r = 0; r < ctx->size; r++) {
    if (cnt[r] > lim || off + cnt[r] > lim)
      return bs_error_set(ctx, BS_ERR_LIMIT,
                          "%s: %llu values at offset %llu for rank %d exceed "
                          "the %llu one MPI call can carry (its int counts)",
                          what, (unsigned long long)cnt[r],
                          (unsigned long long)off, r, (unsigned long long)lim);
    c[r] = (int)cnt[r];
    d[r] = (int)off;
    off += cnt[r];
  }
  return BS_OK;
}

bs_status bs_exchange_plan(bs_ctx *ctx, bs_exchange *x,
                           const bs_gid_range *local, int nlocal,
                           const uint64_t *need, const uint64_t *need_count) {
  const int P = ctx->size;
  /* The sizes destroy frees with are set with each allocation, so an
   * error below leaves nothing behind and the accounting right. */
  BS_CALL(ctx, bs_malloc(ctx, (size_t)(nlocal ? nlocal : 1),
                         sizeof(bs_gid_range), &x->ranges));
  x->nranges = nlocal;
  BS_CALL(ctx, bs_malloc(ctx, (size_t)(nlocal ? nlocal : 1), sizeof(uint64_t),
                         &x->slot0));
  uint64_t nslots = 0;
  for (int k = 0; k < nlocal; k++) {
    x->ranges[k] = local[k];
    x->slot0[k] = nslots;
    nslots += local[k].hi - local[k].lo;
  }
  /* Per local neuron the ranks that asked: CSR offsets. */
  bs_free(ctx, x->nslots + 1, sizeof(uint64_t), &x->row);
  bs_free(ctx, (size_t)(x->nslots / 64 + 1), sizeof(uint64_t), &x->self_bits);
  BS_CALL(ctx, bs_calloc(ctx, nslots + 1, sizeof(uint64_t), &x->row));
  x->nslots = nslots;
  /* Who asks for what: counts, then the gids. */
  uint64_t *rc = NULL, *got = NULL, total = 0;
  BS_CALL(ctx, bs_calloc(ctx, (size_t)P, sizeof(uint64_t), &rc));
  bs_status st = BS_OK;
  int mrc = MPI_SUCCESS;
  if (P == 1)
    rc[0] = need_count[0];
  else
    mrc =
        MPI_Alltoall(need_count, 1, MPI_UINT64_T, rc, 1, MPI_UINT64_T, C(ctx));
  if (mrc != MPI_SUCCESS)
    st = mpi_err(ctx, mrc, "MPI_Alltoall (exchange plan)");
  for (int r = 0; st == BS_OK && r < P; r++)
    total += rc[r];
  if (st == BS_OK)
    st = to_int_counts(ctx, need_count, x->scount, x->sdispl, "exchange plan");
  if (st == BS_OK)
    st = to_int_counts(ctx, rc, x->rcount, x->rdispl, "exchange plan");
  if (st == BS_OK)
    st = bs_malloc(ctx, total ? total : 1, sizeof(uint64_t), &got);
  /* A rank over the limit (or out of memory) must not leave the others
   * in the Alltoallv. */
  if (mrc == MPI_SUCCESS)
    st = bs_comm_agree(ctx, st, NULL);
  if (st == BS_OK && P == 1)
    memcpy(got, need, total * sizeof *got);
  else if (st == BS_OK) {
    mrc = MPI_Alltoallv(need, x->scount, x->sdispl, MPI_UINT64_T, got,
                        x->rcount, x->rdispl, MPI_UINT64_T, C(ctx));
    if (mrc != MPI_SUCCESS)
      st = mpi_err(ctx, mrc, "MPI_Alltoallv (exchange plan)");
  }
  /* Per local neuron the ranks that asked, ascending (r runs upward). */
  for (uint64_t q = 0; st == BS_OK && q < total; q++) {
    if (!in_ranges(x, got[q])) {
      st = bs_error_set(ctx, BS_ERR_INTERNAL,
                        "exchange plan: gid %llu asked of rank %d, which "
                        "does not own it",
                        (unsigned long long)got[q], ctx->rank);
      break;
    }
    x->row[slot_of(x, got[q]) + 1]++;
  }
  for (uint64_t k = 0; st == BS_OK && k < x->nslots; k++)
    x->row[k + 1] += x->row[k];
  if (st == BS_OK)
    st = bs_malloc(ctx, total ? total : 1, sizeof(int32_t), &x->dst);
  if (st == BS_OK) /* what destroy frees */
    x->ndst = total;
  if (st == BS_OK) {
    uint64_t *fill;
    st = bs_malloc(ctx, x->nslots ? x->nslots : 1, sizeof(uint64_t), &fill);
    if (st == BS_OK) {
      memcpy(fill, x->row, x->nslots * sizeof(uint64_t));
      uint64_t q = 0;
      for (int r = 0; r < P; r++)
        for (uint64_t k = 0; k < rc[r]; k++, q++)
          x->dst[fill[slot_of(x, got[q])]++] = r;
      bs_free(ctx, x->nslots ? x->nslots : 1, sizeof(uint64_t), &fill);
    }
  }
  bs_free(ctx, total ? total : 1, sizeof(uint64_t), &got);
  bs_free(ctx, (size_t)P, sizeof(uint64_t), &rc);
  if (st == BS_OK && P == 1)
    st = bs_calloc(ctx, (size_t)(x->nslots / 64 + 1), sizeof(uint64_t),
                   &x->self_bits);
  for (uint64_t k = 0; st == BS_OK && P == 1 && k < x->nslots; k++)
    if (x->row[k + 1] > x->row[k])
      x->self_bits[k / 64] |= (uint64_t)1 << (k % 64);
  return st;
}

/* Grows a buffer to hold `need`, or shrinks it at the end of a window in
 * which the traffic stayed below a quarter of it (NEST PR #1699). */
static bs_status fit(bs_ctx *ctx, uint64_t **buf, size_t *cap, size_t need,
                     int shrink) {
  size_t ncap = *cap;
  if (need > *cap)
    ncap = need + need / 2;
  else if (shrink && need < *cap / 4 && *cap > 1024)
    ncap = need * 2 > 1024 ? need * 2 : 1024;
  if (ncap == *cap)
    return BS_OK;
  BS_CALL(ctx, bs_realloc(ctx, *cap, ncap, sizeof(uint64_t), buf));
  *cap = ncap;
  return BS_OK;
}

static int cmp_key(const void *a, const void *b) {
  uint64_t u = *(const uint64_t *)a, v = *(const uint64_t *)b;
  return u < v ? -1 : u > v;
}

#define EXCHANGE_WINDOW 256 /* intervals between shrink checks */
#define FAILED UINT64_MAX   /* header count of a rank that cannot send */

/* Counts the n sorted local spikes per destination (hdr[2r + 1]; hdr[2r]
 * the flag) and packs them into *buf grouped by destination, each group
 * in the sorted order (scount, sdispl). A rank that cannot send (over the
 * count limit, out of memory) says so in its header, with FAILED as every
 * count: every rank then skips the data, and all return an error together
 * instead of leaving the others inside a collective. */
static bs_status pack(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                      size_t n, uint64_t flag, uint64_t *hdr, uint64_t **buf,
                      size_t *cap, int *scount, int *sdispl, size_t *nsend_out,
                      int shrink) {
  const int P = ctx->size, me = ctx->rank;
  for (int r = 0; r < P; r++) {
    hdr[2 * r] = flag;
    hdr[2 * r + 1] = 0;
  }
  size_t nsend = 0;
  const uint64_t *bits = x->self_bits;
  for (size_t q = 0; bits && q < n; q++) {
    const uint64_t s = slot_of(x, send[q] & 0xffffffffu);
    nsend += bits[s / 64] >> (s % 64) & 1;
  }
  if (bits)
    hdr[1] = nsend;
  for (size_t q = 0; !bits && q < n; q++) {
    const uint64_t s = slot_of(x, send[q] & 0xffffffffu);
    for (uint64_t k = x->row[s]; k < x->row[s + 1]; k++)
      hdr[2 * x->dst[k] + 1]++;
    nsend += x->row[s + 1] - x->row[s];
  }
  *nsend_out = nsend;
  if (nsend > x->hw_send)
    x->hw_send = nsend;
  bs_status lst = fit(ctx, buf, cap, shrink ? x->hw_send : nsend, shrink);
  uint64_t off = 0;
  for (int r = 0; lst == BS_OK && r < P; r++) {
    const uint64_t c = hdr[2 * r + 1];
    if (c > ctx->comm->max_count || off + c > ctx->comm->max_count)
      lst = bs_error_set(ctx, BS_ERR_LIMIT,
                         "spike exchange: rank %d would send %llu spikes in "
                         "one exchange (%llu of them to rank %d), more than "
                         "the %llu one MPI call can carry",
                         me, (unsigned long long)nsend, (unsigned long long)c,
                         r, (unsigned long long)ctx->comm->max_count);
    if (lst != BS_OK)
      break;
    scount[r] = (int)c;
    sdispl[r] = (int)off;
    off += c;
  }
  if (lst != BS_OK) {
    for (int r = 0; r < P; r++)
      hdr[2 * r + 1] = FAILED;
    return lst;
  }
  for (size_t q = 0, k = 0; bits && q < n; q++) {
    const uint64_t s = slot_of(x, send[q] & 0xffffffffu);
    if (bits[s / 64] >> (s % 64) & 1) {
      BS_ASSERT(k < *cap);
      (*buf)[k++] = send[q];
    }
  }
  if (bits)
    sdispl[0] += (int)nsend;
  for (size_t q = 0; !bits && q < n; q++) {
    const uint64_t s = slot_of(x, send[q] & 0xffffffffu);
    for (uint64_t k = x->row[s]; k < x->row[s + 1]; k++) {
      BS_ASSERT(x->dst[k] >= 0 && x->dst[k] < P &&
                (size_t)sdispl[x->dst[k]] < *cap);
      (*buf)[sdispl[x->dst[k]]++] = send[q];
    }
  }
  for (int r = 0; r < P; r++)
    sdispl[r] -= scount[r];
  return BS_OK;
}

/* The received headers: the flag's maximum, rcount/rdispl, the total,
 * and how many ranks sent something (runs), with `all` fitted to it. */
static bs_status take_headers(bs_ctx *ctx, bs_exchange *x, const uint64_t *hdr,
                              bs_status lst, int shrink, uint64_t *maxflag,
                              uint64_t *total_out, int *runs_out) {
  const int P = ctx->size, me = ctx->rank;
  for (int r = 0; r < P; r++)
    if (hdr[2 * r + 1] == FAILED)
      return lst != BS_OK
                 ? lst
                 : bs_error_set(ctx, BS_ERR_REMOTE,
                                "rank %d could not send its spikes", r);
  uint64_t mf = 0, total = 0;
  int runs = 0;
  for (int r = 0; r < P; r++) {
    const uint64_t c = hdr[2 * r + 1];
    mf = hdr[2 * r] > mf ? hdr[2 * r] : mf;
    /* Each count is within the limit (its sender checked); only the sum
     * can overflow the int displacements, and only this rank sees it,
     * with the others already on their way into the data exchange: that
     * is an MPI failure (the caller aborts every rank). */
    if (total + c > (uint64_t)INT32_MAX)
      return bs_error_set(ctx, BS_ERR_MPI,
                          "spike exchange: rank %d would receive more than "
                          "%d spikes in one exchange (MPI's int counts); use "
                          "more ranks or a shorter smallest delay",
                          me, INT32_MAX);
    x->rcount[r] = (int)c;
    x->rdispl[r] = (int)total;
    total += c;
    runs += c > 0;
  }
  *maxflag = mf;
  if (total > x->hw_all)
    x->hw_all = total;
  BS_CALL(ctx,
          fit(ctx, &x->all, &x->allcap, shrink ? x->hw_all : total, shrink));
  *total_out = total;
  *runs_out = runs;
  return BS_OK;
}

/* What the received spikes become: canonical order (step, source gid),
 * each rank's run being sorted, and the totals. */
static void received(bs_ctx *ctx, bs_exchange *x, uint64_t total, int runs,
                     size_t nsend, int self_sent) {
  const int P = ctx->size;
  x->nall = total;
  if (runs > 1)
    qsort(x->all, total, sizeof(uint64_t), cmp_key);
  x->spikes_recv += total;
  if (P > 1) {
    const uint64_t hdr = 16 * (uint64_t)(P - 1);
    x->bytes_sent += hdr + 8 * (nsend - (uint64_t)self_sent);
    x->bytes_recv += hdr + 8 * (total - (uint64_t)x->rcount[ctx->rank]);
  }
}

static int window_tick(bs_exchange *x) {
  x->window++;
  return x->window == EXCHANGE_WINDOW;
}

bs_status bs_exchange_run(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                          size_t n, uint64_t flag, uint64_t *maxflag) {
  const int P = ctx->size;
  BS_ASSERT(x->nstarted == x->nfinished); /* not while overlapped */
  const int shrink = window_tick(x);
  size_t nsend = 0;
  bs_status lst = pack(ctx, x, send, n, flag, x->hdr_s, &x->sendbuf,
                       &x->sendcap, x->scount, x->sdispl, &nsend, shrink);
  if (P > 1)
    MPI_CALL(ctx, MPI_Alltoall(x->hdr_s, 2, MPI_UINT64_T, x->hdr_r, 2,
                               MPI_UINT64_T, C(ctx)));
  else
    memcpy(x->hdr_r, x->hdr_s, 2 * sizeof(uint64_t));
  uint64_t total = 0;
  int runs = 0;
  BS_CALL(ctx,
          take_headers(ctx, x, x->hdr_r, lst, shrink, maxflag, &total, &runs));
  if (shrink)
    x->window = 0, x->hw_send = nsend, x->hw_all = total;
  if (P > 1)
    MPI_CALL(ctx,
             MPI_Alltoallv(x->sendbuf, x->scount, x->sdispl, MPI_UINT64_T,
                           x->all, x->rcount, x->rdispl, MPI_UINT64_T, C(ctx)));
  else
    memcpy(x->all, x->sendbuf, total * sizeof(uint64_t));
  received(ctx, x, total, runs, nsend, x->scount[ctx->rank]);
  return BS_OK;
}

/* ---- the overlapped exchange ------------------------------------------ */

/* One interval in flight: its packed spikes stay here until every send
 * has completed. */
struct bs_xflight {
  uint64_t *buf;
  size_t cap, nsend;
  uint64_t *hdr_s, *hdr_r; /* per rank: flag, count */
  int *scount, *sdispl;
  MPI_Request hreq;
  MPI_Request *req; /* the sends, then (in finish) the receives */
  int nsreq;
  bs_status lst; /* a start that could not send */
  int shrink;
};

#define FLIGHTS 2   /* intervals in flight at most */
#define SPIKE_TAG 7 /* + the flight's parity */

static bs_status flights_make(bs_ctx *ctx, bs_exchange *x) {
  const size_t P = (size_t)ctx->size;
  BS_CALL(ctx, bs_calloc(ctx, FLIGHTS, sizeof(struct bs_xflight), &x->fl));
  for (int f = 0; f < FLIGHTS; f++) {
    struct bs_xflight *fl = &x->fl[f];
    fl->hreq = MPI_REQUEST_NULL;
    fl->cap = 1024;
    BS_CALL(ctx, bs_malloc(ctx, fl->cap, sizeof(uint64_t), &fl->buf));
    BS_CALL(ctx, bs_calloc(ctx, 2 * P, sizeof(uint64_t), &fl->hdr_s));
    BS_CALL(ctx, bs_calloc(ctx, 2 * P, sizeof(uint64_t), &fl->hdr_r));
    BS_CALL(ctx, bs_calloc(ctx, P, sizeof(int), &fl->scount));
    BS_CALL(ctx, bs_calloc(ctx, P, sizeof(int), &fl->sdispl));
    BS_CALL(ctx, bs_calloc(ctx, 2 * P, sizeof(MPI_Request), &fl->req));
  }
  return BS_OK;
}

static void flights_free(bs_ctx *ctx, bs_exchange *x) {
  const size_t P = (size_t)ctx->size;
  for (int f = 0; x->fl && f < FLIGHTS; f++) {
    struct bs_xflight *fl = &x->fl[f];
    bs_free(ctx, fl->cap, sizeof(uint64_t), &fl->buf);
    bs_free(ctx, 2 * P, sizeof(uint64_t), &fl->hdr_s);
    bs_free(ctx, 2 * P, sizeof(uint64_t), &fl->hdr_r);
    bs_free(ctx, P, sizeof(int), &fl->scount);
    bs_free(ctx, P, sizeof(int), &fl->sdispl);
    bs_free(ctx, 2 * P, sizeof(MPI_Request), &fl->req);
  }
  bs_free(ctx, FLIGHTS, sizeof(struct bs_xflight), &x->fl);
}

int bs_exchange_in_flight(const bs_exchange *x) {
  return (int)(x->nstarted - x->nfinished);
}

bs_status bs_exchange_start(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                            size_t n, uint64_t flag) {
  const int P = ctx->size, me = ctx->rank;
  if (!x->fl)
    BS_CALL(ctx, flights_make(ctx, x));
  BS_ASSERT(x->nstarted - x->nfinished < FLIGHTS);
  const unsigned f = x->nstarted % FLIGHTS;
  struct bs_xflight *fl = &x->fl[f];
  fl->shrink = window_tick(x);
  fl->lst = pack(ctx, x, send, n, flag, fl->hdr_s, &fl->buf, &fl->cap,
                 fl->scount, fl->sdispl, &fl->nsend, fl->shrink);
  x->nstarted++;
  fl->nsreq = 0;
  if (P == 1) {
    memcpy(fl->hdr_r, fl->hdr_s, 2 * sizeof(uint64_t));
    return BS_OK;
  }
  MPI_CALL(ctx, MPI_Ialltoall(fl->hdr_s, 2, MPI_UINT64_T, fl->hdr_r, 2,
                              MPI_UINT64_T, C(ctx), &fl->hreq));
  /* The spikes go now, to the ranks that need some; the receivers learn
   * the counts from the headers and post exactly those receives. */
  for (int r = 0; fl->lst == BS_OK && r < P; r++)
    if (r != me && fl->scount[r] > 0)
      MPI_CALL(ctx,
               MPI_Isend(fl->buf + fl->sdispl[r], fl->scount[r], MPI_UINT64_T,
                         r, SPIKE_TAG + (int)f, C(ctx), &fl->req[fl->nsreq++]));
  return BS_OK;
}

void bs_exchange_progress(bs_ctx *ctx, bs_exchange *x) {
  if (x->nstarted == x->nfinished || ctx->size == 1)
    return;
  int done = 0;
  /* Open MPI's non-blocking collectives advance only inside MPI calls. */
  MPI_Test(&x->fl[x->nfinished % FLIGHTS].hreq, &done, MPI_STATUS_IGNORE);
}

bs_status bs_exchange_finish(bs_ctx *ctx, bs_exchange *x, uint64_t *maxflag) {
  const int P = ctx->size, me = ctx->rank;
  BS_ASSERT(x->nstarted > x->nfinished);
  const unsigned f = x->nfinished % FLIGHTS;
  struct bs_xflight *fl = &x->fl[f];
  x->nfinished++;
  if (P > 1)
    MPI_CALL(ctx, MPI_Wait(&fl->hreq, MPI_STATUS_IGNORE));
  uint64_t total = 0;
  int runs = 0;
  bs_status hs = take_headers(ctx, x, fl->hdr_r, fl->lst, fl->shrink, maxflag,
                              &total, &runs);
  if (hs != BS_OK) {
    /* Nobody posts receives now: the run ends on every rank, and what
     * this rank sent is left to MPI (its buffer lives until destroy). */
    for (int q = 0; q < fl->nsreq; q++)
      MPI_Request_free(&fl->req[q]);
    return hs;
  }
  if (fl->shrink)
    x->window = 0, x->hw_send = fl->nsend, x->hw_all = total;
  int nr = fl->nsreq;
  for (int r = 0; r < P; r++)
    if (r != me && x->rcount[r] > 0)
      MPI_CALL(ctx, MPI_Irecv(x->all + x->rdispl[r], x->rcount[r], MPI_UINT64_T,
                              r, SPIKE_TAG + (int)f, C(ctx), &fl->req[nr++]));
  memcpy(x->all + x->rdispl[me], fl->buf + fl->sdispl[me],
         (size_t)fl->scount[me] * sizeof(uint64_t));
  if (nr)
    MPI_CALL(ctx, MPI_Waitall(nr, fl->req, MPI_STATUSES_IGNORE));
  received(ctx, x, total, runs, fl->nsend, fl->scount[me]);
  return BS_OK;
}

static bs_status gatherv(bs_ctx *ctx, const void *send, const uint64_t *counts,
                         void *recv, MPI_Datatype type) {
  const int P = ctx->size;
  int *c, *d;
  BS_CALL(ctx, bs_malloc(ctx, (size_t)P, sizeof(int), &c));
  bs_status st = bs_malloc(ctx, (size_t)P, sizeof(int), &d);
  if (st == BS_OK)
    st = to_int_counts(ctx, counts, c, d, "spike output gather");
  if (st == BS_OK && P == 1)
    memmove(recv, send,
            counts[0] *
                (type == MPI_DOUBLE ? sizeof(double) : sizeof(uint64_t)));
  else if (st == BS_OK) {
    int rc = MPI_Gatherv(send, c[ctx->rank], type, recv, c, d, type, 0, C(ctx));
    if (rc != MPI_SUCCESS)
      st = mpi_err(ctx, rc, "MPI_Gatherv (spike output)");
  }
  bs_free(ctx, (size_t)P, sizeof(int), &c);
  bs_free(ctx, (size_t)P, sizeof(int), &d);
  return st;
}

bs_status bs_comm_gatherv_u64(bs_ctx *ctx, const uint64_t *send,
                              const uint64_t *counts, uint64_t *recv) {
  return gatherv(ctx, send, counts, recv, MPI_UINT64_T);
}

bs_status bs_comm_gatherv_f64(bs_ctx *ctx, const double *send,
                              const uint64_t *counts, double *recv) {
  return gatherv(ctx, send, counts, recv, MPI_DOUBLE);
}

_Noreturn void bs_assert_fail(const char *expr, const char *file, int line,
                              const char *func) {
  int inited = 0, fin = 0, rank = -1;
  MPI_Initialized(&inited);
  MPI_Finalized(&fin);
  if (inited && !fin)
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  else if (!inited)
    rank = 0; /* one process without MPI (bs_comm_init) */
  fprintf(stderr,
          "brainsim: [rank %d] internal error: %s:%d: %s: assertion `%s' "
          "failed (a bug in brainsim: please report it with the config)\n",
          rank, file, line, func, expr);
  fflush(stderr);
  if (inited && !fin)
    MPI_Abort(MPI_COMM_WORLD, 70); /* EX_SOFTWARE, on every rank */
  abort();
}

void bs_comm_abort(bs_comm *comm, int code) {
  int inited = 0;
  MPI_Initialized(&inited);
  if ((comm && comm->serial) || !inited) {
    /* As MPI_Abort: no exit handlers (HDF5's would close files the
     * failure left half-written). */
    fflush(stdout);
    fflush(stderr);
    _Exit(code);
  }
  MPI_Abort(comm ? comm->comm : MPI_COMM_WORLD, code);
}

/* All of brainsim's MPI: a duplicated communicator with MPI_ERRORS_RETURN,
 * so an MPI failure becomes a status with MPI's own message. */
#include "brainsim/comm.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

struct bs_comm {
  MPI_Comm comm;
  int rank, size;
  int we_initialised;
};

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

bs_status bs_comm_init(int *argc, char ***argv, bs_comm **out) {
  bs_comm *c = calloc(1, sizeof *c);
  if (!c)
    return BS_ERR_NOMEM;
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
      free(c);
      return BS_ERR_MPI;
    }
    c->we_initialised = 1;
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &c->comm);
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
  MPI_Comm_free(&c->comm);
  if (c->we_initialised)
    MPI_Finalize();
  free(c);
  *comm = NULL;
}

int bs_comm_rank(const bs_comm *comm) { return comm->rank; }
int bs_comm_size(const bs_comm *comm) { return comm->size; }
void *bs_comm_mpi_handle(bs_comm *comm) { return &comm->comm; }

bs_status bs_comm_agree(bs_ctx *ctx, bs_status local, int *first) {
  /* A rank that holds only BS_ERR_REMOTE from an earlier agreement is not
   * the one to report: the lowest rank with an error of its own is. */
  int mine[2] = {local != BS_OK && local != BS_ERR_REMOTE ? ctx->rank
                                                          : ctx->size,
                 local != BS_OK ? ctx->rank : ctx->size};
  int low[2];
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
  MPI_CALL(ctx,
           MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_SUM, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_max_double(bs_ctx *ctx, double *v, int n) {
  MPI_CALL(ctx, MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_stats(bs_ctx *ctx, const double *local, int n, double *min,
                        double *mean, double *max) {
  MPI_CALL(ctx, MPI_Allreduce(local, min, n, MPI_DOUBLE, MPI_MIN, C(ctx)));
  MPI_CALL(ctx, MPI_Allreduce(local, max, n, MPI_DOUBLE, MPI_MAX, C(ctx)));
  MPI_CALL(ctx, MPI_Allreduce(local, mean, n, MPI_DOUBLE, MPI_SUM, C(ctx)));
  for (int i = 0; i < n; i++)
    mean[i] /= ctx->size;
  return BS_OK;
}

bs_status bs_comm_gather_u64(bs_ctx *ctx, uint64_t local, uint64_t *all) {
  MPI_CALL(ctx, MPI_Allgather(&local, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T,
                              C(ctx)));
  return BS_OK;
}

bs_status bs_comm_allgatherv_f64(bs_ctx *ctx, const double *send, int n,
                                 double *recv, const int *counts,
                                 const int *displs) {
  MPI_CALL(ctx, MPI_Allgatherv(send, n, MPI_DOUBLE, recv, counts, displs,
                               MPI_DOUBLE, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_allgatherv_u64(bs_ctx *ctx, const uint64_t *send, int n,
                                 uint64_t *recv, const int *counts,
                                 const int *displs) {
  MPI_CALL(ctx, MPI_Allgatherv(send, n, MPI_UINT64_T, recv, counts, displs,
                               MPI_UINT64_T, C(ctx)));
  return BS_OK;
}

bs_status bs_comm_exscan_u64(bs_ctx *ctx, uint64_t local, uint64_t *before) {
  uint64_t v = 0;
  MPI_CALL(ctx, MPI_Exscan(&local, &v, 1, MPI_UINT64_T, MPI_SUM, C(ctx)));
  *before = ctx->rank == 0 ? 0 : v;
  return BS_OK;
}

bs_status bs_comm_node_ranks(bs_ctx *ctx, int *n) {
  MPI_Comm node;
  MPI_CALL(ctx, MPI_Comm_split_type(C(ctx), MPI_COMM_TYPE_SHARED, ctx->rank,
                                    MPI_INFO_NULL, &node));
  MPI_Comm_size(node, n);
  MPI_Comm_free(&node);
  return BS_OK;
}

bs_status bs_exchange_create(bs_ctx *ctx, size_t cap, bs_exchange **out) {
  bs_exchange *x;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *x, &x));
  x->cap = cap;
  BS_CALL(ctx, bs_malloc(ctx, cap + 2, sizeof(uint64_t), &x->sendbuf));
  BS_CALL(ctx, bs_malloc(ctx, (size_t)ctx->size * (cap + 2), sizeof(uint64_t),
                         &x->recvbuf));
  x->allcap = cap;
  BS_CALL(ctx, bs_malloc(ctx, x->allcap, sizeof(uint64_t), &x->all));
  BS_CALL(ctx, bs_calloc(ctx, (size_t)ctx->size, sizeof(size_t), &x->counts));
  BS_CALL(ctx, bs_calloc(ctx, (size_t)ctx->size, sizeof(size_t), &x->offsets));
  *out = x;
  return BS_OK;
}

void bs_exchange_destroy(bs_ctx *ctx, bs_exchange **x) {
  if (!x || !*x)
    return;
  bs_exchange *e = *x;
  bs_free(ctx, e->cap + 2, sizeof(uint64_t), &e->sendbuf);
  bs_free(ctx, (size_t)ctx->size * (e->cap + 2), sizeof(uint64_t), &e->recvbuf);
  bs_free(ctx, e->allcap, sizeof(uint64_t), &e->all);
  bs_free(ctx, (size_t)ctx->size, sizeof(size_t), &e->counts);
  bs_free(ctx, (size_t)ctx->size, sizeof(size_t), &e->offsets);
  bs_free(ctx, 1, sizeof *e, x);
}

static bs_status grow_all(bs_ctx *ctx, bs_exchange *x, size_t need) {
  if (need <= x->allcap)
    return BS_OK;
  size_t ncap = need + need / 2;
  BS_CALL(ctx, bs_realloc(ctx, x->allcap, ncap, sizeof(uint64_t), &x->all));
  x->allcap = ncap;
  return BS_OK;
}

bs_status bs_exchange_run(bs_ctx *ctx, bs_exchange *x, const uint64_t *send,
                          size_t n, uint64_t flag, uint64_t *maxflag) {
  const int P = ctx->size;
  if (P == 1) { /* no MPI traffic on one rank */
    BS_CALL(ctx, grow_all(ctx, x, n));
    memcpy(x->all, send, n * sizeof *send);
    x->nall = n;
    x->counts[0] = n;
    x->offsets[0] = 0;
    *maxflag = flag;
    return BS_OK;
  }
  const size_t blk = x->cap + 2;
  x->sendbuf[0] = flag;
  x->sendbuf[1] = n;
  memcpy(x->sendbuf + 2, send, (n < x->cap ? n : x->cap) * sizeof *send);
  MPI_CALL(ctx, MPI_Allgather(x->sendbuf, (int)blk, MPI_UINT64_T, x->recvbuf,
                              (int)blk, MPI_UINT64_T, C(ctx)));
  size_t total = 0, biggest = 0;
  uint64_t mf = 0;
  for (int r = 0; r < P; r++) {
    const uint64_t *b = x->recvbuf + (size_t)r * blk;
    if (b[0] > mf)
      mf = b[0];
    x->counts[r] = (size_t)b[1];
    x->offsets[r] = total;
    total += x->counts[r];
    if (x->counts[r] > biggest)
      biggest = x->counts[r];
  }
  *maxflag = mf;
  BS_CALL(ctx, grow_all(ctx, x, total));
  x->nall = total;
  if (biggest <= x->cap) {
    for (int r = 0; r < P; r++)
      memcpy(x->all + x->offsets[r], x->recvbuf + (size_t)r * blk + 2,
             x->counts[r] * sizeof(uint64_t));
    return BS_OK;
  }
  /* Second, exact round; every rank saw the same counts, so all take it. */
  x->rounds2++;
  int *rc, *ro;
  BS_CALL(ctx, bs_malloc(ctx, (size_t)P, sizeof(int), &rc));
  BS_CALL(ctx, bs_malloc(ctx, (size_t)P, sizeof(int), &ro));
  for (int r = 0; r < P; r++) {
    if (x->counts[r] > (size_t)INT32_MAX || x->offsets[r] > (size_t)INT32_MAX)
      return bs_error_set(ctx, BS_ERR_LIMIT,
                          "spike exchange of %zu spikes exceeds MPI counts",
                          total);
    rc[r] = (int)x->counts[r];
    ro[r] = (int)x->offsets[r];
  }
  int st = MPI_Allgatherv(send, (int)n, MPI_UINT64_T, x->all, rc, ro,
                          MPI_UINT64_T, C(ctx));
  bs_free(ctx, (size_t)P, sizeof(int), &rc);
  bs_free(ctx, (size_t)P, sizeof(int), &ro);
  if (st != MPI_SUCCESS)
    return mpi_err(ctx, st, "MPI_Allgatherv (spike exchange)");
  /* Grow the block so the common case stays one collective. */
  size_t ncap = biggest + biggest / 2;
  uint64_t *ns, *nr;
  BS_CALL(ctx, bs_malloc(ctx, ncap + 2, sizeof(uint64_t), &ns));
  BS_CALL(ctx, bs_malloc(ctx, (size_t)P * (ncap + 2), sizeof(uint64_t), &nr));
  bs_free(ctx, x->cap + 2, sizeof(uint64_t), &x->sendbuf);
  bs_free(ctx, (size_t)P * (x->cap + 2), sizeof(uint64_t), &x->recvbuf);
  x->sendbuf = ns;
  x->recvbuf = nr;
  x->cap = ncap;
  return BS_OK;
}

void bs_comm_abort(bs_comm *comm, int code) {
  MPI_Abort(comm ? comm->comm : MPI_COMM_WORLD, code);
}

/* brainsim utilities: status codes, the context object, errors with a short
 * trace, memory accounting, phase timers and logging. Every other module
 * builds on this header; it has no MPI or HDF5 in it. */
#ifndef BRAINSIM_UTIL_H
#define BRAINSIM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define BS_VERSION "0.1.0"

/* One list gives both the enum and bs_strerror(). */
#define BS_STATUS_LIST(X)                                                      \
  X(BS_OK, "success")                                                          \
  X(BS_ERR_CONFIG, "invalid configuration")                                    \
  X(BS_ERR_ARG, "invalid argument")                                            \
  X(BS_ERR_NOMEM, "out of memory")                                             \
  X(BS_ERR_IO, "I/O error")                                                    \
  X(BS_ERR_DISK_FULL, "disk full")                                             \
  X(BS_ERR_MPI, "MPI error")                                                   \
  X(BS_ERR_NUMERIC, "numerical fault")                                         \
  X(BS_ERR_LIMIT, "resource limit exceeded")                                   \
  X(BS_ERR_REMOTE, "error on another rank")                                    \
  X(BS_ERR_INTERNAL, "internal error")

#define BS_STATUS_ENUM(name, text) name,
typedef enum { BS_STATUS_LIST(BS_STATUS_ENUM) BS_STATUS_COUNT } bs_status;
#undef BS_STATUS_ENUM

const char *bs_strerror(bs_status s);

/* Fixed list of timed phases, reduced over ranks at the end of a run. */
#define BS_PHASE_LIST(X)                                                       \
  X(BS_PHASE_BUILD, "build")                                                   \
  X(BS_PHASE_CONNECT, "connect")                                               \
  X(BS_PHASE_UPDATE, "update")                                                 \
  X(BS_PHASE_DELIVER, "deliver")                                               \
  X(BS_PHASE_EXCHANGE, "exchange")                                             \
  X(BS_PHASE_IO, "io")
#define BS_PHASE_ENUM(name, text) name,
typedef enum { BS_PHASE_LIST(BS_PHASE_ENUM) BS_PHASE_COUNT } bs_phase;
#undef BS_PHASE_ENUM
const char *bs_phase_name(int phase);

struct bs_comm;

/* The context: created first, destroyed last; no mutable globals elsewhere. */
typedef struct bs_ctx {
  struct bs_comm *comm; /* owned by the caller (cli), not by the context */
  int rank, size;
  int verbose;
  char errmsg[2048]; /* the first error recorded on this rank */
  bs_status errcode;
  char trace[1024]; /* file:line function, innermost first */
  size_t mem_bytes, mem_peak;
  double phase_time[BS_PHASE_COUNT];
  double phase_start[BS_PHASE_COUNT];
} bs_ctx;

bs_status bs_ctx_create(struct bs_comm *comm, bs_ctx **ctx);
void bs_ctx_destroy(bs_ctx **ctx);

/* Record an error (first one wins); returns code so callers can `return`. */
bs_status bs_error_set(bs_ctx *ctx, bs_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bs_status bs_error_vset(bs_ctx *ctx, bs_status code, const char *fmt,
                        va_list ap);
void bs_error_trace(bs_ctx *ctx, const char *file, int line, const char *func);
void bs_error_clear(bs_ctx *ctx);

/* Pass an error up, adding this place to the trace (PETSc's PetscCall). */
#define BS_CALL(ctx, expr)                                                     \
  do {                                                                         \
    bs_status bs_call_st_ = (expr);                                            \
    if (bs_call_st_ != BS_OK) {                                                \
      bs_error_trace((ctx), __FILE__, __LINE__, __func__);                     \
      return bs_call_st_;                                                      \
    }                                                                          \
  } while (0)

/* A user's mistake or an unsatisfied precondition: always checked. */
#define BS_CHECK(ctx, cond, code, ...)                                         \
  do {                                                                         \
    if (!(cond)) {                                                             \
      bs_error_set((ctx), (code), __VA_ARGS__);                                \
      bs_error_trace((ctx), __FILE__, __LINE__, __func__);                     \
      return (code);                                                           \
    }                                                                          \
  } while (0)

/* An internal invariant, where a wrong value would corrupt memory
 * silently (a ring-buffer slot, a CSR row range, a target index, a
 * checkpoint block's offset). Checked in Debug and sanitizer builds
 * (BRAINSIM_ASSERTS, set by CMake), compiled out of Release: the condition
 * is then not evaluated. A failure prints file:line, the function, the
 * expression and the rank, and aborts every rank. Never for a user's
 * mistake: that is a BS_CHECK with the place named. */
#ifdef BRAINSIM_ASSERTS
#define BS_ASSERT(cond)                                                        \
  ((cond) ? (void)0 : bs_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
#define BS_ASSERT(cond) ((void)sizeof(cond))
#endif
/* Defined in comm/ (it ends every rank). */
_Noreturn void bs_assert_fail(const char *expr, const char *file, int line,
                              const char *func);

/* p[0, bytes) is read at random by the step loop: huge pages if the
 * kernel offers them (before the first touch). */
void bs_mem_hot(void *p, size_t bytes);
/* Memory with accounting and overflow checks; sets the context error. */
bs_status bs_malloc(bs_ctx *ctx, size_t n, size_t size, void *out);
bs_status bs_calloc(bs_ctx *ctx, size_t n, size_t size, void *out);
bs_status bs_realloc(bs_ctx *ctx, size_t old_n, size_t n, size_t size,
                     void *inout);
void bs_free(bs_ctx *ctx, size_t n, size_t size, void *inout);
int bs_mul_overflows(size_t a, size_t b, size_t *out);
char *bs_strdup(const char *s);

/* Timers: wall clock, monotonic. */
double bs_wtime(void);
void bs_phase_begin(bs_ctx *ctx, int phase);
void bs_phase_end(bs_ctx *ctx, int phase);
/* Ends phase `from` and begins `to` with one clock read (a few per step
 * add up: 3 % of a small network's loop); returns the time read. */
double bs_phase_switch(bs_ctx *ctx, int from, int to);

/* Memory the system can still give (MemAvailable), bytes; 0 if unknown. */
double bs_mem_available(void);
/* "512MiB", "2 GiB", "1e9": bytes, or a negative value if malformed. */
double bs_parse_bytes(const char *s);

/* Rank-0 logging helpers (print only on rank 0). */
void bs_log0(const bs_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Human readable byte count into buf. */
const char *bs_fmt_bytes(double bytes, char *buf, size_t len);

/* Signals: SIGINT asks the run to stop (level 1); SIGTERM and SIGUSR1 ask
 * it to stop after writing a checkpoint (level 2, what SLURM's --signal
 * sends before the time limit). The engine polls the level once per
 * exchange interval and all ranks act on the highest. */
void bs_signal_install(void);
int bs_signal_pending(void);

#endif

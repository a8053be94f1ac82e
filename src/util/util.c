/* Context, error recording, memory accounting, timers and logging. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "brainsim/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BS_STATUS_TEXT(name, text) text,
static const char *const status_text[] = {BS_STATUS_LIST(BS_STATUS_TEXT)};
#undef BS_STATUS_TEXT

#define BS_PHASE_TEXT(name, text) text,
static const char *const phase_text[] = {BS_PHASE_LIST(BS_PHASE_TEXT)};
#undef BS_PHASE_TEXT

const char *bs_strerror(bs_status s) {
  if ((int)s < 0 || s >= BS_STATUS_COUNT)
    return "unknown status";
  return status_text[s];
}

const char *bs_phase_name(int phase) {
  if (phase < 0 || phase >= BS_PHASE_COUNT)
    return "?";
  return phase_text[phase];
}

bs_status bs_ctx_create(struct bs_comm *comm, bs_ctx **ctx) {
  bs_ctx *c = calloc(1, sizeof *c);
  if (!c)
    return BS_ERR_NOMEM;
  c->comm = comm;
  c->rank = 0;
  c->size = 1;
  *ctx = c;
  return BS_OK;
}

void bs_ctx_destroy(bs_ctx **ctx) {
  if (!ctx || !*ctx)
    return;
  free(*ctx);
  *ctx = NULL;
}

bs_status bs_error_vset(bs_ctx *ctx, bs_status code, const char *fmt,
                        va_list ap) {
  if (ctx && ctx->errcode == BS_OK) {
    ctx->errcode = code;
    vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
    ctx->trace[0] = '\0';
  }
  return code;
}

bs_status bs_error_set(bs_ctx *ctx, bs_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bs_error_vset(ctx, code, fmt, ap);
  va_end(ap);
  return code;
}

void bs_error_trace(bs_ctx *ctx, const char *file, int line, const char *func) {
  if (!ctx)
    return;
  size_t used = strlen(ctx->trace);
  if (used + 2 >= sizeof ctx->trace)
    return;
  const char *base = strrchr(file, '/');
  snprintf(ctx->trace + used, sizeof ctx->trace - used, "  at %s:%d %s()\n",
           base ? base + 1 : file, line, func);
}

void bs_error_clear(bs_ctx *ctx) {
  ctx->errcode = BS_OK;
  ctx->errmsg[0] = '\0';
  ctx->trace[0] = '\0';
}

int bs_mul_overflows(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a)
    return 1;
  if (out)
    *out = a * b;
  return 0;
}

static void mem_add(bs_ctx *ctx, size_t bytes) {
  if (!ctx)
    return;
  ctx->mem_bytes += bytes;
  if (ctx->mem_bytes > ctx->mem_peak)
    ctx->mem_peak = ctx->mem_bytes;
}

static void mem_sub(bs_ctx *ctx, size_t bytes) {
  if (!ctx)
    return;
  ctx->mem_bytes = bytes > ctx->mem_bytes ? 0 : ctx->mem_bytes - bytes;
}

/* Large arrays the step loop reads at random (synapse targets, rings):
 * with 4 KiB pages each row of a 256k-neuron network missed the TLB, and
 * the page walk stalled delivery's prefetches. Transparent huge pages
 * where the kernel offers them on request (THP "madvise"), only whole 2
 * MiB pages inside the block (no memory added). Not for everything: a
 * huge page's fault costs its zeroing and compaction, which made
 * connecting 256k neurons 0.5 s slower when the build's temporaries had
 * them too. */
#define HUGE_FROM (4u << 20)
void bs_mem_hot(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t page = (uintptr_t)2 << 20;
  if (bytes < HUGE_FROM)
    return;
  const uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1),
                  b = ((uintptr_t)p + bytes) & ~(page - 1);
  if (b > a)
    (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

bs_status bs_malloc(bs_ctx *ctx, size_t n, size_t size, void *out) {
  size_t bytes;
  void **p = (void **)out;
  *p = NULL;
  if (bs_mul_overflows(n, size, &bytes))
    return bs_error_set(ctx, BS_ERR_LIMIT,
                        "allocation of %zu x %zu bytes overflows size_t", n,
                        size);
  *p = malloc(bytes ? bytes : 1);
  if (!*p)
    return bs_error_set(ctx, BS_ERR_NOMEM,
                        "out of memory allocating %zu bytes (rank %d)", bytes,
                        ctx ? ctx->rank : 0);
  mem_add(ctx, bytes);
  return BS_OK;
}

bs_status bs_calloc(bs_ctx *ctx, size_t n, size_t size, void *out) {
  size_t bytes;
  void **p = (void **)out;
  *p = NULL;
  if (bs_mul_overflows(n, size, &bytes))
    return bs_error_set(ctx, BS_ERR_LIMIT,
                        "allocation of %zu x %zu bytes overflows size_t", n,
                        size);
  *p = calloc(n ? n : 1, size ? size : 1);
  if (!*p)
    return bs_error_set(ctx, BS_ERR_NOMEM,
                        "out of memory allocating %zu bytes (rank %d)", bytes,
                        ctx ? ctx->rank : 0);
  mem_add(ctx, bytes);
  return BS_OK;
}

bs_status bs_realloc(bs_ctx *ctx, size_t old_n, size_t n, size_t size,
                     void *inout) {
  size_t bytes;
  void **p = (void **)inout;
  if (bs_mul_overflows(n, size, &bytes))
    return bs_error_set(ctx, BS_ERR_LIMIT,
                        "allocation of %zu x %zu bytes overflows size_t", n,
                        size);
  void *q = realloc(*p, bytes ? bytes : 1);
  if (!q)
    return bs_error_set(ctx, BS_ERR_NOMEM,
                        "out of memory allocating %zu bytes (rank %d)", bytes,
                        ctx ? ctx->rank : 0);
  *p = q;
  mem_sub(ctx, old_n * size);
  mem_add(ctx, bytes);
  return BS_OK;
}

void bs_free(bs_ctx *ctx, size_t n, size_t size, void *inout) {
  void **p = (void **)inout;
  if (!p || !*p)
    return;
  free(*p);
  *p = NULL;
  mem_sub(ctx, n * size);
}

char *bs_strdup(const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

double bs_wtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bs_phase_begin(bs_ctx *ctx, int phase) {
  ctx->phase_start[phase] = bs_wtime();
}

void bs_phase_end(bs_ctx *ctx, int phase) {
  ctx->phase_time[phase] += bs_wtime() - ctx->phase_start[phase];
}

double bs_phase_switch(bs_ctx *ctx, int from, int to) {
  const double t = bs_wtime();
  ctx->phase_time[from] += t - ctx->phase_start[from];
  ctx->phase_start[to] = t;
  return t;
}

void bs_log0(const bs_ctx *ctx, const char *fmt, ...) {
  if (ctx && ctx->rank != 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fflush(stdout);
}

const char *bs_fmt_bytes(double bytes, char *buf, size_t len) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    u++;
  }
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
  return buf;
}

/* The one mutable global: a signal handler can only reach a static. */
static volatile sig_atomic_t signal_level = 0;

static void on_signal(int sig) {
  int level = sig == SIGINT ? 1 : 2;
  if (level > signal_level)
    signal_level = level;
}

void bs_signal_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}

int bs_signal_pending(void) { return (int)signal_level; }

double bs_mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f)
    return 0.0;
  char line[256];
  double kib = 0.0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1)
      break;
  fclose(f);
  return kib * 1024.0;
}

double bs_parse_bytes(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0)
    return -1.0;
  while (*end == ' ')
    end++;
  static const struct {
    const char *u;
    double f;
  } units[] = {{"", 1.0},
               {"B", 1.0},
               {"KiB", 1024.0},
               {"MiB", 1048576.0},
               {"GiB", 1073741824.0},
               {"TiB", 1099511627776.0},
               {"K", 1024.0},
               {"M", 1048576.0},
               {"G", 1073741824.0}};
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(end, units[i].u) == 0)
      return v * units[i].f;
  return -1.0;
}

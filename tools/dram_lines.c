/* How fast one core fetches cache lines at random from memory: the floor
 * under delivery's row fetches once a network's synapses no longer fit in
 * the last-level cache (README "Single-core speed", where the figures are).
 * An array of MIB MiB (default 64) on transparent huge pages where the
 * kernel grants them; 4 Mi random lines, loaded one by one (independent
 * loads, as many in flight as the core allows), then in batches that are
 * all prefetched before they are loaded, as delivery does with its rows.
 *
 *   cc -O2 -o /tmp/dram_lines tools/dram_lines.c && /tmp/dram_lines 64
 *
 * Not part of the build: a measurement of the machine, not of brainsim. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* An inline-assembly prefetch on x86: GCC drops a loop of nothing but
 * __builtin_prefetch. */
static inline void fetch(const uint8_t *p) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ volatile("prefetcht0 %0" ::"m"(*p));
#else
  __builtin_prefetch(p);
#endif
}

int main(int argc, char **argv) {
  const long mib = argc > 1 ? atol(argv[1]) : 64;
  if (mib < 1 || mib > 65536) {
    fprintf(stderr, "usage: %s [MiB, 1-65536; default 64]\n", argv[0]);
    return 2;
  }
  const size_t n = (size_t)mib << 20, lines = n / 64, m = (size_t)1 << 22;
  uint8_t *a = NULL;
  uint32_t *idx = malloc(m * sizeof *idx);
  if (posix_memalign((void **)&a, (size_t)2 << 20, n) || !idx) {
    fprintf(stderr, "%s: out of memory for %ld MiB\n", argv[0], mib);
    return 1;
  }
#ifdef MADV_HUGEPAGE
  (void)madvise(a, n, MADV_HUGEPAGE);
#endif
  for (size_t i = 0; i < n; i++)
    a[i] = (uint8_t)i;
  uint64_t x = 88172645463325252ull; /* xorshift64 */
  for (size_t i = 0; i < m; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    idx[i] = (uint32_t)(x % lines);
  }
  const size_t batch[] = {8, 16, 32, 64};
  unsigned s = 0;
  for (int rep = 0; rep < 2; rep++)
    for (size_t bi = 0; bi < sizeof batch / sizeof *batch; bi++) {
      const size_t b = batch[bi];
      const double t0 = now();
      for (size_t i = 0; i < m; i++)
        s += a[(size_t)idx[i] * 64];
      const double t1 = now();
      for (size_t i = 0; i + b <= m; i += b) {
        for (size_t j = 0; j < b; j++)
          fetch(a + (size_t)idx[i + j] * 64);
        for (size_t j = 0; j < b; j++)
          s += a[(size_t)idx[i + j] * 64];
      }
      const double t2 = now();
      printf("%ld MiB: loads %.1f ns per line; batches of %2zu prefetched, "
             "then loaded: %.1f ns per line\n",
             mib, (t1 - t0) / (double)m * 1e9, b, (t2 - t1) / (double)m * 1e9);
    }
  printf("(checksum %u: keeps the loads)\n", s);
  free(idx);
  free(a);
  return 0;
}

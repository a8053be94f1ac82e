/* The compressed table (src/engine/ctab.c) against the plain arrays it
 * replaces: for tables of random ids (sparse and dense, gaps from 0 to
 * 2^31) and row lengths (0, 1 and more, up to 300), every position's id and
 * row bounds in ascending and in random order, every id's position
 * (present or LPROJ_NONE) in ascending order, as the spikes of a step
 * come, and in random order, and the byte count bs_ctab_bytes predicts
 * equals what the table holds. */
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/engine_impl.h"
#include "brainsim/comm.h"
#include "check.h"

static uint64_t rnd(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Position of id i in ids[0, n) by bisection, or LPROJ_NONE. */
static uint64_t plain_pos(const uint32_t *ids, uint64_t n, uint64_t i) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (ids[mid] < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && ids[lo] == i ? lo : LPROJ_NONE;
}

static void one(bs_ctx *ctx, uint64_t seed, uint64_t n, uint64_t maxgap,
                int lens) {
  uint64_t s = seed;
  uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
  uint64_t *len = malloc((n ? n : 1) * sizeof *len),
           *row = malloc((n + 1) * sizeof *row);
  uint64_t id = rnd(&s) % (maxgap + 1);
  row[0] = 0;
  for (uint64_t k = 0; k < n; k++) {
    ids[k] = (uint32_t)id;
    const uint64_t r = rnd(&s) % 10;
    len[k] = lens == 1 ? 1 : r < 6 ? 1 : r < 8 ? 0 : 2 + rnd(&s) % 300;
    row[k + 1] = row[k] + len[k];
    id += 1 + rnd(&s) % (maxgap + 1);
    if (id > UINT32_MAX)
      n = k + 1;
  }
  lctab *t = NULL;
  EXPECT(bs_ctab_build(ctx, ids, len, n, &t) == BS_OK, "build n=%llu",
         (unsigned long long)n);
  EXPECT(bs_ctab_size(t) == bs_ctab_bytes(ids, len, n),
         "n=%llu: %llu bytes held, %llu predicted", (unsigned long long)n,
         (unsigned long long)bs_ctab_size(t),
         (unsigned long long)bs_ctab_bytes(ids, len, n));
  for (uint64_t k = 0; k < n; k++) { /* ascending positions */
    uint64_t b, m;
    bs_ctab_row(t, k, &b, &m);
    EXPECT(bs_ctab_id(t, k) == ids[k] && b == row[k] && m == len[k],
           "position %llu", (unsigned long long)k);
  }
  for (uint64_t q = 0; n && q < 2000; q++) { /* random positions */
    const uint64_t k = rnd(&s) % n;
    uint64_t b, m;
    bs_ctab_row(t, k, &b, &m);
    EXPECT(bs_ctab_id(t, k) == ids[k] && b == row[k] && m == len[k],
           "random position %llu", (unsigned long long)k);
  }
  /* Ascending ids, as a step's spikes: present ones and the ones between,
   * in runs that restart from a low id (the next step). */
  const uint64_t top = n ? (uint64_t)ids[n - 1] + 3 : 10;
  for (int run = 0; run < 4; run++)
    for (uint64_t i = rnd(&s) % 7; i < top;
         i += 1 + rnd(&s) % (maxgap < 4 ? 3 : maxgap / 2)) {
      const uint64_t k = bs_ctab_find(t, i);
      EXPECT(k == plain_pos(ids, n, i), "ascending find %llu: %llu",
             (unsigned long long)i, (unsigned long long)k);
      if (k != LPROJ_NONE) {
        uint64_t b, m;
        bs_ctab_row(t, k, &b, &m); /* right after the find, as deliver */
        EXPECT(b == row[k] && m == len[k], "row after find %llu",
               (unsigned long long)i);
      }
    }
  for (uint64_t q = 0; q < 3000; q++) { /* random ids, present or not */
    const uint64_t i =
        n && (q & 1) ? ids[rnd(&s) % n] + (q & 2 ? 1 : 0) : rnd(&s) % top;
    EXPECT(bs_ctab_find(t, i) == plain_pos(ids, n, i), "random find %llu",
           (unsigned long long)i);
  }
  bs_ctab_free(ctx, &t);
  EXPECT(t == NULL, "free");
  free(ids);
  free(len);
  free(row);
}

int main(int argc, char **argv) {
  bs_comm *comm = NULL;
  bs_ctx *ctx = NULL;
  if (bs_comm_init(&argc, &argv, &comm) != BS_OK ||
      bs_ctx_create(comm, &ctx) != BS_OK)
    return 2;
  const uint64_t sizes[] = {0, 1, 2, 63, 64, 65, 200, 5000};
  const uint64_t gaps[] = {0, 1, 10, 200, 70000, 1ull << 31};
  for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++)
      for (int lens = 1; lens <= 2; lens++)
        one(ctx, 1000 * a + 10 * g + (uint64_t)lens, sizes[a], gaps[g], lens);
  EXPECT(ctx->mem_bytes == 0, "%llu bytes left allocated",
         (unsigned long long)ctx->mem_bytes);
  bs_ctx_destroy(&ctx);
  bs_comm_finalize(&comm);
  return bs_test_done("test_ctab");
}

/* Counter-based streams: the same key and position give the same numbers;
 * different purposes or positions give different ones; moments of the
 * uniform and normal draws match their distributions. */
#include "brainsim/rng.h"
#include "check.h"

int main(void) {
  bs_rng a, b;
  bs_rng_init(&a, 1234, BS_RNG_INIT, 7, 1, 0);
  bs_rng_init(&b, 1234, BS_RNG_INIT, 7, 1, 0);
  for (int i = 0; i < 1000; i++) {
    double x = bs_rng_uniform(&a), y = bs_rng_uniform(&b);
    EXPECT(x == y, "draw %d: %.17g vs %.17g", i, x, y);
  }
  bs_rng_init(&a, 1234, BS_RNG_INIT, 7, 1, 0);
  bs_rng_init(&b, 1234, BS_RNG_CONNECT, 7, 1, 0);
  EXPECT(bs_rng_uniform(&a) != bs_rng_uniform(&b), "purposes share a stream");
  EXPECT(bs_rng_uniform_at(5, BS_RNG_POISSON, 1, 0, 10) !=
             bs_rng_uniform_at(5, BS_RNG_POISSON, 1, 0, 11),
         "steps share a number");
  EXPECT(bs_rng_uniform_at(5, BS_RNG_POISSON, 1, 0, 10) ==
             bs_rng_uniform_at(5, BS_RNG_POISSON, 1, 0, 10),
         "one-shot draws not repeatable");

  /* Moments over 10^6 draws: 5 standard errors. */
  const int n = 1000000;
  double s = 0, s2 = 0, mn = 1, mx = 0, z = 0, z2 = 0;
  bs_rng_init(&a, 99, BS_RNG_WEIGHT, 0, 0, 0);
  bs_rng_init(&b, 99, BS_RNG_DELAY, 0, 0, 0);
  for (int i = 0; i < n; i++) {
    double u = bs_rng_uniform(&a);
    s += u;
    s2 += u * u;
    mn = u < mn ? u : mn;
    mx = u > mx ? u : mx;
    double g = bs_rng_normal(&b);
    z += g;
    z2 += g * g;
  }
  EXPECT(mn > 0.0 && mx < 1.0, "uniform outside (0,1): [%g, %g]", mn, mx);
  EXPECT_NEAR(s / n, 0.5, 5 * sqrt(1.0 / 12 / n));
  EXPECT_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 5 * 0.0745 / sqrt(n));
  EXPECT_NEAR(z / n, 0.0, 5 / sqrt(n));
  EXPECT_NEAR(z2 / n, 1.0, 5 * sqrt(2.0 / n));
  int hist[7] = {0};
  for (int i = 0; i < 70000; i++) {
    uint64_t v = bs_rng_below(&a, 7);
    EXPECT(v < 7, "below(7) gave %llu", (unsigned long long)v);
    if (v < 7)
      hist[v]++;
  }
  for (int i = 0; i < 7; i++)
    EXPECT_NEAR(hist[i], 10000, 5 * sqrt(10000.0));
  return bs_test_done("test_rng");
}

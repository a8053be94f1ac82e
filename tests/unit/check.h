/* Minimal assertions for the unit tests: print both values, count failures. */
#ifndef BS_TEST_CHECK_H
#define BS_TEST_CHECK_H
#include <math.h>
#include <stdio.h>

static int bs_test_failures = 0;

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      bs_test_failures++;                                                      \
      fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);         \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

#define EXPECT_NEAR(a, b, tol)                                                 \
  EXPECT(fabs((double)(a) - (double)(b)) <= (tol), "%.17g vs %.17g (tol %g)",  \
         (double)(a), (double)(b), (double)(tol))

static int bs_test_done(const char *name) {
  if (bs_test_failures)
    fprintf(stderr, "%s: %d failure(s)\n", name, bs_test_failures);
  else
    printf("%s: all checks passed\n", name);
  return bs_test_failures ? 1 : 0;
}
#endif

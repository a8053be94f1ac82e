/* Units: a plain number is in the canonical unit; a unit converts; a unit
 * of the wrong dimension or an unknown unit is refused with a reason. */
#include <string.h>

#include "brainsim/config.h"
#include "check.h"

static void ok(const char *s, bs_dim d, double expect) {
  double v = NAN;
  char why[256] = "";
  int rc = bs_config_parse_quantity(s, d, &v, why, sizeof why);
  EXPECT(rc == 0, "'%s' refused: %s", s, why);
  EXPECT_NEAR(v, expect, 1e-12 * fabs(expect));
}

static void bad(const char *s, bs_dim d, const char *fragment) {
  double v;
  char why[256] = "";
  int rc = bs_config_parse_quantity(s, d, &v, why, sizeof why);
  EXPECT(rc != 0, "'%s' accepted as %g", s, v);
  EXPECT(strstr(why, fragment) != NULL, "'%s': reason '%s' lacks '%s'", s, why,
         fragment);
}

int main(void) {
  ok("5", BS_DIM_TIME, 5.0);
  ok("5 ms", BS_DIM_TIME, 5.0);
  ok("5ms", BS_DIM_TIME, 5.0);
  ok("1 s", BS_DIM_TIME, 1000.0);
  ok("250 us", BS_DIM_TIME, 0.25);
  ok("-60 mV", BS_DIM_VOLTAGE, -60.0);
  ok("-0.06 V", BS_DIM_VOLTAGE, -60.0);
  ok("20 Hz", BS_DIM_RATE, 20.0);
  ok("1.5 kHz", BS_DIM_RATE, 1500.0);
  ok("1e-3", BS_DIM_ONE, 1e-3);
  bad("5 mV", BS_DIM_TIME, "voltage");
  bad("20 Hz", BS_DIM_VOLTAGE, "rate");
  bad("3 ms", BS_DIM_ONE, "dimensionless");
  bad("5 parsecs", BS_DIM_TIME, "unknown unit");
  bad("fast", BS_DIM_TIME, "not a number");
  bad("", BS_DIM_TIME, "empty");
  bad("1e999", BS_DIM_ONE, "finite");
  return bs_test_done("test_units");
}

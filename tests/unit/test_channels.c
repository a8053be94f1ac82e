/* Every channel of the library against the closed forms of
 * shared/reference/brainpy-models.md section 2, written out again here:
 * steady state x_inf = A / B and time constant tau = 1 / B of each gate at
 * three voltages (default parameters), to 1e-12 relative; then a voltage
 * clamp step (-70 -> -20 mV) whose exp_auto gate relaxation must equal the
 * analytic x_inf + (x0 - x_inf) e^{-t/tau} at every step (1e-12), and
 * whose rk4 / euler relaxations converge to it. */
#include <math.h>
#include <string.h>

#include "../../src/model/vexp.h"
#include "brainsim/model.h"
#include "check.h"

typedef struct {
  double inf, tau;
} gate;

static double sg(double z) { return 1.0 / (1.0 + exp(z)); }
static gate mk(double a, double b, double phi) {
  return (gate){a / (a + b), 1.0 / (phi * (a + b))};
}

/* Closed forms: fill g[0..ngate-1] at V for the default parameters. */
static int closed(const char *name, double V, gate *g) {
  double u;
  if (!strcmp(name, "INa_Ba2002")) {
    u = V + 50.0;
    const double phi = 1.0; /* 3^((36-36)/10) */
    g[0] = mk(0.32 * (u - 13) / (1 - exp(-(u - 13) / 4)),
              -0.28 * (u - 40) / (1 - exp((u - 40) / 5)), phi);
    g[1] = mk(0.128 * exp(-(u - 17) / 18), 4 / (1 + exp(-(u - 40) / 5)), phi);
  } else if (!strcmp(name, "INa_TM1991")) {
    u = V + 63.0;
    g[0] = mk(0.32 * (13 - u) / (exp((13 - u) / 4) - 1),
              0.28 * (u - 40) / (exp((u - 40) / 5) - 1), 1);
    g[1] = mk(0.128 * exp((17 - u) / 18), 4 / (1 + exp(-(u - 40) / 5)), 1);
  } else if (!strcmp(name, "INa_HH1952")) {
    u = V + 45.0;
    g[0] = mk(0.1 * (u - 5) / (1 - exp(-(u - 5) / 10)), 4 * exp(-(u + 20) / 18),
              1);
    g[1] = mk(0.07 * exp(-(u + 20) / 20), 1 / (1 + exp(-(u - 10) / 10)), 1);
  } else if (!strcmp(name, "IKDR_Ba2002")) {
    u = V + 50.0;
    g[0] = mk(0.032 * (u - 15) / (1 - exp(-(u - 15) / 5)),
              0.5 * exp(-(u - 10) / 40), 1);
  } else if (!strcmp(name, "IK_TM1991")) {
    u = V + 60.0;
    g[0] = mk(0.032 * (15 - u) / (exp((15 - u) / 5) - 1),
              0.5 * exp((10 - u) / 40), 1);
  } else if (!strcmp(name, "IK_HH1952")) {
    u = V + 45.0;
    g[0] = mk(0.01 * (u + 10) / (1 - exp(-(u + 10) / 10)),
              0.125 * exp(-(u + 20) / 80), 1);
  } else if (!strcmp(name, "IKA1_HM1992") || !strcmp(name, "IKA2_HM1992")) {
    u = V;
    g[0].inf = name[3] == '1' ? sg(-(u + 60) / 8.5) : sg(-(u + 36) / 20);
    g[0].tau = 1 / (exp((u + 35.8) / 19.7) + exp(-(u + 79.7) / 12.7)) + 0.37;
    g[1].inf = sg((u + 78) / 6);
    g[1].tau =
        V < -63 ? 1 / (exp((u + 46) / 5) + exp(-(u + 238) / 37.5)) : 19.0;
  } else if (!strcmp(name, "IKK2A_HM1992") || !strcmp(name, "IKK2B_HM1992")) {
    u = V;
    g[0].inf = sg(-(u + 43) / 17);
    g[0].tau = 1 / (exp((u - 81) / 25.6) + exp(-(u + 132) / 18)) + 9.9;
    g[1].inf = sg((u + 58) / 10.6);
    g[1].tau = 1 / (exp((u - 1329) / 200) + exp(-(u + 130) / 7.1));
    if (name[4] == 'B' && !(V < -70))
      g[1].tau = 8.9;
  } else if (!strcmp(name, "IKNI_Ya1989")) {
    u = V;
    g[0].inf = sg(-(u + 35) / 10);
    g[0].tau = 4e3 / (3.3 * exp((u + 35) / 20) + exp(-(u + 35) / 20));
  } else if (!strcmp(name, "ICaT_HM1992") || !strcmp(name, "ICaHT_HM1992")) {
    u = V - (name[3] == 'T' ? -3.0 : 25.0);
    const double pp = pow(3.55, 1.2), pq = pow(3.0, 1.2);
    g[0].inf = sg(-(u + 59) / 6.2);
    g[0].tau =
        (1 / (exp(-(u + 132) / 16.7) + exp((u + 16.8) / 18.2)) + 0.612) / pp;
    g[1].inf = sg((u + 83) / 4);
    g[1].tau =
        (u >= -80 ? exp(-(u + 22) / 10.5) + 28 : exp((u + 467) / 66.6)) / pq;
  } else if (!strcmp(name, "ICaT_HP1992")) {
    u = V + 3.0;
    g[0].inf = sg(-(u + 52) / 7.4);
    g[0].tau =
        (3 + 1 / (exp((u + 27) / 10) + exp(-(u + 102) / 15))) / pow(5.0, 1.2);
    g[1].inf = sg((u + 80) / 5);
    g[1].tau =
        (85 + 1 / (exp((u + 48) / 4) + exp(-(u + 407) / 50))) / pow(3.0, 1.2);
  } else if (!strcmp(name, "ICaHT_Re1993")) {
    u = V;
    const double phi = pow(2.3, 1.3);
    g[0] = mk(0.055 * (-27 - u) / (exp((-27 - u) / 3.8) - 1),
              0.94 * exp((-75 - u) / 17), phi);
    g[1] = mk(0.000457 * exp((-13 - u) / 50),
              0.0065 / (exp((-15 - u) / 28) + 1), phi);
  } else if (!strcmp(name, "ICaL_IS2008")) {
    u = V;
    g[0].inf = sg(-(u + 10) / 4);
    g[0].tau =
        (0.4 + 0.7 / (exp(-(u + 5) / 15) + exp((u + 5) / 15))) / pow(3.55, 1.2);
    g[1].inf = sg((u + 25) / 2);
    g[1].tau = (300 + 100 / (exp((u + 40) / 9.5) + exp(-(u + 40) / 9.5))) /
               pow(3.0, 1.2);
  } else if (!strcmp(name, "ICaN_IS2008")) {
    g[0].inf = sg(-(V + 43) / 5.2);
    g[0].tau = 2.7 / (exp(-(V + 55) / 15) + exp((V + 55) / 15)) + 1.6;
  } else if (!strcmp(name, "Ih_HM1992")) {
    g[0].inf = sg((V + 75) / 5.5);
    g[0].tau = 1 / (exp(-0.086 * V - 14.59) + exp(0.0701 * V - 1.87));
  } else if (!strcmp(name, "IAHP_De1994")) {
    const double C = 2.4e-4, c2 = 48 * C * C;
    g[0].inf = c2 / (c2 + 0.09);
    g[0].tau = 1 / (c2 + 0.09);
  } else {
    return 0;
  }
  return 1;
}

static void check_kind(const bs_channel_kind *kd) {
  double p[BS_CH_MAX_P] = {0}, k[BS_CH_MAX_K] = {0};
  for (int i = 0; i < kd->np; i++)
    p[i] = kd->params[i].def;
  if (kd->prepare)
    kd->prepare(p, k);
  /* Away from the removable singularities of the closed forms (those are
   * checked at their limit in check_singular). */
  const double Vs[3] = {-70.0, -41.3, 10.0};
  gate g[BS_CH_MAX_GATES];
  if (!kd->kinetics || !closed(kd->name, -70.0, g)) {
    printf("  %-14s no closed-form gate check (%s)\n", kd->name,
           kd->flags & BS_CH_ION ? "an ion" : "see below");
    return;
  }
  for (int v = 0; v < 3; v++) {
    double x[BS_CH_MAX_GATES] = {0}, A[BS_CH_MAX_GATES], B[BS_CH_MAX_GATES];
    closed(kd->name, Vs[v], g);
    kd->kinetics(p, k, Vs[v], 2.4e-4, x, A, B);
    for (int q = 0; q < kd->ngate; q++) {
      EXPECT(fabs(A[q] / B[q] - g[q].inf) <= 1e-12 * fabs(g[q].inf) + 1e-300,
             "%s gate %s at V=%g: x_inf %.17g vs closed form %.17g", kd->name,
             kd->gates[q], Vs[v], A[q] / B[q], g[q].inf);
      EXPECT(fabs(1.0 / B[q] - g[q].tau) <= 1e-12 * g[q].tau,
             "%s gate %s at V=%g: tau %.17g vs closed form %.17g", kd->name,
             kd->gates[q], Vs[v], 1.0 / B[q], g[q].tau);
    }
  }
  /* Voltage clamp: steady state at -70, step to -20 mV for 20 ms. */
  gate g0[BS_CH_MAX_GATES], g1[BS_CH_MAX_GATES];
  closed(kd->name, -70.0, g0);
  closed(kd->name, -20.0, g1);
  const double dt = 0.1;
  for (int q = 0; q < kd->ngate; q++) {
    double xe = g0[q].inf, xr = g0[q].inf, xu = g0[q].inf, errmax = 0;
    for (int n = 1; n <= 200; n++) {
      double x[BS_CH_MAX_GATES] = {0}, A[BS_CH_MAX_GATES], B[BS_CH_MAX_GATES];
      kd->kinetics(p, k, -20.0, 2.4e-4, x, A, B);
      xe = bs_lin_step(BS_METHOD_EXP_AUTO, xe, A[q], B[q], dt);
      xr = bs_lin_step(BS_METHOD_RK4, xr, A[q], B[q], dt);
      xu = bs_lin_step(BS_METHOD_EULER, xu, A[q], B[q], dt);
      const double exact =
          g1[q].inf + (g0[q].inf - g1[q].inf) * exp(-n * dt / g1[q].tau);
      EXPECT(fabs(xe - exact) <= 1e-12,
             "%s gate %s clamp step %d: exp_auto %.17g vs analytic %.17g",
             kd->name, kd->gates[q], n, xe, exact);
      if (fabs(xr - exact) > errmax)
        errmax = fabs(xr - exact);
    }
    /* rk4 on the relaxation: error O((dt/tau)^4); tau >= 0.1 ms here. */
    EXPECT(errmax <= 1e-2, "%s gate %s: rk4 clamp error %g", kd->name,
           kd->gates[q], errmax);
  }
  printf("  %-14s %d gate(s): steady state, tau at -70/-41.3/10 mV, clamp ok\n",
         kd->name, kd->ngate);
}

/* Ih_De1996: the three-state scheme's rates and its steady state. */
static void check_ih_de(void) {
  const bs_channel_kind *kd = bs_channel_find("Ih_De1996");
  double p[BS_CH_MAX_P] = {0}, k[BS_CH_MAX_K] = {0};
  for (int i = 0; i < kd->np; i++)
    p[i] = kd->params[i].def;
  kd->prepare(p, k);
  const double phi = pow(3.0, 1.2), k2 = 4e-4, k4 = 1e-3;
  const double k1 = k2 / pow(2e-3, 4), k3 = k4 / 0.01, C = 1e-3;
  const double Vs[3] = {-90.0, -70.0, -40.0};
  for (int v = 0; v < 3; v++) {
    const double V = Vs[v];
    const double inf = sg((V + 75) / 5.5);
    const double tau =
        (20 + 1000 / (exp((V + 71.5) / 14.2) + exp(-(V + 89) / 11.6))) / phi;
    const double al = inf / tau, be = (1 - inf) / tau;
    double x[3] = {0.2, 0.1, 0.3}, A[3], B[3];
    kd->kinetics(p, k, V, C, x, A, B);
    /* dO = al (1 - O - OL) - be O; dOL = k3 P1 O - k4 OL;
     * dP1 = k1 C^4 (1 - P1) - k2 P1 */
    const double f[3] = {al * (1 - x[0] - x[1]) - be * x[0],
                         k3 * x[2] * x[0] - k4 * x[1],
                         k1 * pow(C, 4) * (1 - x[2]) - k2 * x[2]};
    for (int q = 0; q < 3; q++)
      EXPECT_NEAR(A[q] - B[q] * x[q], f[q], 1e-12 * (fabs(f[q]) + 1e-9));
    double s[3];
    kd->steady(p, k, V, C, s);
    kd->kinetics(p, k, V, C, s, A, B);
    for (int q = 0; q < 3; q++)
      EXPECT(fabs(A[q] - B[q] * s[q]) <= 1e-12 * B[q],
             "Ih_De1996 steady state at V=%g: d%s/dt = %g", V, kd->gates[q],
             A[q] - B[q] * s[q]);
  }
  printf("  %-14s scheme and steady state at -90/-70/-40 mV ok\n", kd->name);
}

/* Calcium ions: E_Ca by Nernst (about 120 mV at rest); inward calcium
 * current raises C (BrainPy 2.3.8's sign would clip it to 0). */
static void check_ions(void) {
  const bs_channel_kind *kd = bs_channel_find("CalciumDetailed");
  double p[BS_CH_MAX_P] = {0}, k[BS_CH_MAX_K] = {0};
  for (int i = 0; i < kd->np; i++)
    p[i] = kd->params[i].def;
  const double E = kd->ion_E(p, k, 2.4e-4);
  const double ref = 8.31441 / (2 * 96.489) * (273.15 + 36) * log(2 / 2.4e-4);
  EXPECT_NEAR(E, ref, 1e-12);
  EXPECT(E > 119 && E < 121, "E_Ca at rest %g", E);
  double A, B;
  kd->ion_rate(p, k, 1.0, &A, &B); /* 1 uA/cm^2 inward */
  EXPECT_NEAR(A, 1.0 / (2 * 96.489 * 1.0) + 2.4e-4 / 5.0, 1e-15);
  EXPECT_NEAR(B, 1.0 / 5.0, 1e-15);
  kd->ion_rate(p, k, -1.0, &A, &B); /* outward: no influx */
  EXPECT_NEAR(A, 2.4e-4 / 5.0, 1e-15);
  kd = bs_channel_find("CalciumFirstOrder");
  for (int i = 0; i < kd->np; i++)
    p[i] = kd->params[i].def;
  kd->ion_rate(p, k, 2.0, &A, &B);
  EXPECT_NEAR(A, 0.13 * 2.0, 1e-15);
  EXPECT_NEAR(B, 0.075, 1e-15);
  printf("  calcium ions: Nernst E_Ca = %.4f mV, influx sign ok\n", E);
}

/* At the removable singularity x / (1 - e^-x) -> 1 the rates are finite:
 * INa_HH1952 at V = -40 mV has alpha_p = 0.1 * 10 = 1. */
static void check_singular(void) {
  const bs_channel_kind *kd = bs_channel_find("INa_HH1952");
  double p[BS_CH_MAX_P] = {0}, k[BS_CH_MAX_K] = {0}, x[2] = {0}, A[2], B[2];
  for (int i = 0; i < kd->np; i++)
    p[i] = kd->params[i].def;
  kd->prepare(p, k);
  kd->kinetics(p, k, -40.0, 0.0, x, A, B);
  const double beta = 4 * exp(-25.0 / 18);
  EXPECT_NEAR(A[0], 1.0, 1e-15);
  EXPECT_NEAR(B[0], 1.0 + beta, 1e-15);
  printf("  INa_HH1952 at its removable singularity (V = -40 mV) ok\n");
}

/* Distance of a from b in units in the last place of b. */
static double ulps(double a, double b) {
  if (a == b)
    return 0.0;
  if (isnan(a) || isnan(b) || isinf(a) || isinf(b))
    return HUGE_VAL;
  double u = nextafter(fabs(b), HUGE_VAL) - fabs(b);
  if (b == 0.0)
    u = 0x1p-1074;
  return fabs(a - b) / u;
}

/* vexp.h's exp and expm1 against glibc over a dense sweep: at most 1 ulp
 * apart (glibc's are themselves < 1 ulp from exact; ours measured <= 1 ulp
 * from glibc's on every point here), edge cases as libm. */
static void check_vexp(void) {
  double me = 0.0, mm = 0.0, xe = 0.0, xm = 0.0;
  long n = 0;
  /* [-760, 720] in steps of ~1e-3 (irrational step: no grid alignment),
   * then [-2, 2] densely, then tiny |x| geometrically. */
  for (double x = -760.0; x <= 720.0; x += 1.0e-3 * 1.4142135623730951, n++) {
    const double e = ulps(bs_vexp(x), exp(x)), m = ulps(bs_vexpm1(x), expm1(x));
    if (e > me)
      me = e, xe = x;
    if (m > mm)
      mm = m, xm = x;
  }
  for (double x = -2.0; x <= 2.0; x += 1.0e-6 * 1.4142135623730951, n++) {
    const double e = ulps(bs_vexp(x), exp(x)), m = ulps(bs_vexpm1(x), expm1(x));
    if (e > me)
      me = e, xe = x;
    if (m > mm)
      mm = m, xm = x;
  }
  for (double x = 1e-300; x < 1.0;
       x *= 1.0 + 1e-3 * 1.4142135623730951, n += 2) {
    const double m1 = ulps(bs_vexpm1(x), expm1(x));
    const double m2 = ulps(bs_vexpm1(-x), expm1(-x));
    if (m1 > mm)
      mm = m1, xm = x;
    if (m2 > mm)
      mm = m2, xm = -x;
  }
  /* phi against expm1l(z) / z in long double: the series branch (|z| <
   * 0.75) and expm1(z) / z beyond it, densely around the switch. */
  double mp = 0.0, xp = 0.0, ms = 0.0, xs = 0.0;
  long nbranch = 0;
  for (double z = -40.0; z <= 5.0; z += 1.0e-5 * 1.4142135623730951, n++) {
    const double ref = (double)(expm1l((long double)z) / (long double)z);
    const double u = ulps(bs_vphi(z), ref);
    /* the one-form loops (lin_block, the HH block) give bs_vphi's bits */
    const double one = fabs(z) < 0.75 ? bs_vphi_small(z) : bs_vphi_large(z);
    if (one != bs_vphi(z))
      nbranch++;
    if (fabs(z) < 0.75 && u > ms)
      ms = u, xs = z;
    if (fabs(z) >= 0.75 && u > mp)
      mp = u, xp = z;
  }
  EXPECT(nbranch == 0,
         "phi's one-form branches differ from bs_vphi at %ld "
         "points",
         nbranch);
  EXPECT(ms <= 1.0, "phi series: %.3g ulp at %.17g", ms, xs);
  EXPECT(mp <= 2.0, "phi = expm1/z: %.3g ulp at %.17g", mp, xp);
  EXPECT(bs_vphi(0x1p-60) == 1.0 && bs_vphi(-0.0) == 1.0, "phi near 0");
  EXPECT(me <= 1.0, "exp: %.3g ulp from glibc at %.17g", me, xe);
  EXPECT(mm <= 1.0, "expm1: %.3g ulp from glibc at %.17g", mm, xm);
  EXPECT(isnan(bs_vexp(NAN)) && isnan(bs_vexpm1(NAN)), "NaN stays NaN");
  EXPECT(bs_vexp(HUGE_VAL) == HUGE_VAL && bs_vexpm1(HUGE_VAL) == HUGE_VAL,
         "exp(+inf)");
  EXPECT(bs_vexp(-HUGE_VAL) == 0.0 && bs_vexpm1(-HUGE_VAL) == -1.0,
         "exp(-inf)");
  EXPECT(bs_vexp(710.0) == HUGE_VAL && bs_vexp(0.0) == 1.0, "exp(710)");
  EXPECT(bs_vphi(0.0) == 1.0 && bs_vexpm1(0.0) == 0.0, "phi(0)");
  printf("  vexp: exp max %.2f ulp, expm1 max %.2f ulp from glibc, phi max "
         "%.2f ulp (series), %.2f ulp (expm1/z) from long double (%ld "
         "points)\n",
         me, mm, ms, mp, n);
}

/* The block kernels (vectorized, possibly in a wider clone) give the same
 * bits as the scalar kernels for every neuron of a block, whatever the
 * block length (lanes and remainders). */
static void check_blocks(void) {
  enum { NB = BS_CH_BLOCK };
  static double V[NB], C[NB], xs[BS_CH_MAX_GATES][NB], A[BS_CH_MAX_GATES][NB],
      B[BS_CH_MAX_GATES][NB], g[NB];
  int nk = 0;
  for (int c = 0; c < bs_channel_count(); c++) {
    const bs_channel_kind *kd = bs_channel_at(c);
    if (!kd->kinetics_n && !kd->conductance_n)
      continue;
    double p[BS_CH_MAX_P] = {0}, k[BS_CH_MAX_K] = {0};
    for (int i = 0; i < kd->np; i++)
      p[i] = kd->params[i].def;
    if (kd->prepare)
      kd->prepare(p, k);
    const int lens[] = {NB, NB - 1, 7, 3, 1};
    for (int l = 0; l < 5; l++) {
      const int n = lens[l];
      for (int i = 0; i < n; i++) {
        V[i] = -100.0 + 150.0 * (i + 0.37 * l) / n;
        C[i] = 1e-4 * (1.0 + i % 5);
        for (int q = 0; q < BS_CH_MAX_GATES; q++)
          xs[q][i] = 0.1 + 0.2 * q + 0.003 * i;
      }
      const double *xp[BS_CH_MAX_GATES] = {xs[0], xs[1], xs[2]};
      if (kd->kinetics_n)
        kd->kinetics_n(p, k, n, V, C, xp, A, B);
      if (kd->conductance_n)
        kd->conductance_n(p, n, xp, C, g);
      for (int i = 0; i < n; i++) {
        double xi[BS_CH_MAX_GATES], a[BS_CH_MAX_GATES], b[BS_CH_MAX_GATES];
        for (int q = 0; q < BS_CH_MAX_GATES; q++)
          xi[q] = xs[q][i];
        if (kd->kinetics_n) {
          kd->kinetics(p, k, V[i], C[i], xi, a, b);
          for (int q = 0; q < kd->ngate; q++)
            EXPECT(memcmp(&a[q], &A[q][i], sizeof a[q]) == 0 &&
                       memcmp(&b[q], &B[q][i], sizeof b[q]) == 0,
                   "%s gate %d neuron %d of %d: block %.17g %.17g, scalar "
                   "%.17g %.17g",
                   kd->name, q, i, n, A[q][i], B[q][i], a[q], b[q]);
        }
        if (kd->conductance_n) {
          const double gi = kd->conductance(p, xi, C[i]);
          EXPECT(memcmp(&gi, &g[i], sizeof gi) == 0,
                 "%s conductance neuron %d of %d", kd->name, i, n);
        }
      }
    }
    nk++;
  }
  /* Without any block kernel this check would pass having checked nothing. */
  EXPECT(nk > 0, "no channel kind has a block kernel (%d kinds)",
         bs_channel_count());
  printf("  block kernels of %d kinds bitwise equal to the scalar ones\n", nk);
}

int main(void) {
  check_vexp();
  check_blocks();
  check_singular();
  for (int i = 0; i < bs_channel_count(); i++)
    check_kind(bs_channel_at(i));
  check_ih_de();
  check_ions();
  /* The leak channels: g = g_max, no gates. */
  const bs_channel_kind *il = bs_channel_find("IL");
  double p[2] = {-70.0, 0.1};
  EXPECT_NEAR(il->conductance(p, NULL, 0.0), 0.1, 0.0);
  EXPECT(il->ngate == 0, "IL has %d gates", il->ngate);
  return bs_test_done("test_channels");
}

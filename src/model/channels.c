/* BrainPy's ion channel library (V2.3.8 dyn/channels/ Na.py, K.py, Ca.py, ...;
 * shared/reference/brainpy-models.md section 2) for ConNeuGroup: sodium,
 * potassium, leak, calcium, Ih and K(Ca) channels and the calcium ion
 * models that supply E_Ca and C_Ca to their child channels. Each gate is
 * dx/dt = A - B x (Markov: A = phi alpha, B = phi (alpha + beta); steady
 * state form: A = phi x_inf / tau, B = phi / tau). u = V - V_sh. */
#include <math.h>
#include <string.h>

#include "ode.h"

#define VOLT(name, def, doc)                                                   \
  { name, BS_DIM_VOLTAGE, def, -HUGE_VAL, HUGE_VAL, 0, doc }
#define GMAX(def)                                                              \
  {                                                                            \
    "g_max", BS_DIM_ONE, def, 0.0, HUGE_VAL, 0,                                \
        "maximal conductance (mS/cm^2)"                                        \
  }
#define POS(name, def, doc)                                                    \
  { name, BS_DIM_ONE, def, 0.0, HUGE_VAL, BS_P_LO_OPEN, doc }
#define NUM(name, def, doc)                                                    \
  { name, BS_DIM_ONE, def, -HUGE_VAL, HUGE_VAL, 0, doc }
#define TEMP(def) NUM("T", def, "temperature (degrees C)")

static const char *const gates_p[] = {"p"};
static const char *const gates_pq[] = {"p", "q"};

/* ---- helpers ------------------------------------------------------------ */

/* Scalar kernels are inlined into the block kernels (which loop over
 * them); their addresses in the table are the scalar forms. */
#define BS_KERNEL inline __attribute__((always_inline))

/* exp and 1/exprel from vexp.h (basic IEEE operations): the block kernels
 * vectorize and give the same bits in a SIMD lane as in scalar code. A
 * rate a x / (e^x - 1) is a * invexprel(x): one division. */
static BS_KERNEL double invexprel(double x) { return bs_vinvphi(x); }

static BS_KERNEL double sigm(double z) { return 1.0 / (1.0 + bs_vexp(z)); }

/* A Markov gate: A = phi alpha, B = phi (alpha + beta). */
static BS_KERNEL void markov(double phi, double alpha, double beta, double *A,
                             double *B) {
  *A = phi * alpha;
  *B = phi * (alpha + beta);
}

/* A steady-state gate: A = phi x_inf / tau, B = phi / tau. */
static BS_KERNEL void ss(double phi, double inf, double tau, double *A,
                         double *B) {
  *A = phi * inf / tau;
  *B = phi / tau;
}

/* ---- sodium: I = g_max p^3 q (E - V) ------------------------------------ */

enum { NA_E, NA_G, NA_VSH, NA_PHI, NA_T, NA_NP };
enum { NA_K_PHI };

static BS_KERNEL double na_cond(const double *p, const double *x, double C) {
  (void)C;
  return p[NA_G] * x[0] * x[0] * x[0] * x[1];
}

/* phi = 3^((T - 36) / 10) unless phi is given (INa_Ba2002; the other two
 * have no T and a plain phi). */
static void na_prepare(const double *p, double *k) {
  k[NA_K_PHI] =
      isnan(p[NA_PHI]) ? pow(3.0, (p[NA_T] - 36.0) / 10.0) : p[NA_PHI];
}

#define NA_PARAMS(E, G, VSH, PHI, PHIDOC)                                      \
  {                                                                            \
    VOLT("E", E, "reversal potential"), GMAX(G),                               \
        VOLT("V_sh", VSH, "membrane potential shift"),                         \
        {"phi", BS_DIM_ONE, PHI, 0.0, HUGE_VAL, BS_P_LO_OPEN | BS_P_NULLABLE,  \
         PHIDOC},                                                              \
        TEMP(36.0)                                                             \
  }

static const bs_param na_ba_params[NA_NP] =
    NA_PARAMS(50.0, 90.0, -50.0, NAN, "rate factor (null: 3^((T-36)/10))");
static const bs_param na_tm_params[NA_T] = {
    VOLT("E", 50.0, "reversal potential"), GMAX(120.0),
    VOLT("V_sh", -63.0, "membrane potential shift"),
    POS("phi", 1.0, "rate factor")};
static const bs_param na_hh_params[NA_T] = {
    VOLT("E", 50.0, "reversal potential"), GMAX(120.0),
    VOLT("V_sh", -45.0, "membrane potential shift"),
    POS("phi", 1.0, "rate factor")};

/* INa_Ba2002: alpha_p = 0.32 (u - 13) / (1 - e^{-(u-13)/4}),
 * beta_p = -0.28 (u - 40) / (1 - e^{(u-40)/5}), alpha_q = 0.128 e^{-(u-17)/18},
 * beta_q = 4 / (1 + e^{-(u-40)/5}). */
static BS_KERNEL void na_ba_kin(const double *p, const double *k, double V,
                                double C, const double *x, double *A,
                                double *B) {
  (void)C, (void)x;
  const double u = V - p[NA_VSH], phi = k[NA_K_PHI];
  markov(phi, 1.28 * invexprel(-(u - 13.0) / 4.0),
         1.4 * invexprel((u - 40.0) * (1.0 / 5.0)), A, B);
  markov(phi, 0.128 * bs_vexp(-(u - 17.0) * (1.0 / 18.0)),
         4.0 / (1.0 + bs_vexp(-(u - 40.0) * (1.0 / 5.0))), A + 1, B + 1);
}

/* INa_TM1991: alpha_p = 0.32 (13 - u) / (e^{(13-u)/4} - 1),
 * beta_p = 0.28 (u - 40) / (e^{(u-40)/5} - 1), alpha_q = 0.128 e^{(17-u)/18},
 * beta_q = 4 / (1 + e^{-(u-40)/5}). */
static BS_KERNEL void na_tm_kin(const double *p, const double *k, double V,
                                double C, const double *x, double *A,
                                double *B) {
  (void)C, (void)x;
  const double u = V - p[NA_VSH], phi = k[NA_K_PHI];
  markov(phi, 1.28 * invexprel((13.0 - u) / 4.0),
         1.4 * invexprel((u - 40.0) * (1.0 / 5.0)), A, B);
  markov(phi, 0.128 * bs_vexp((17.0 - u) * (1.0 / 18.0)),
         4.0 / (1.0 + bs_vexp(-(u - 40.0) * (1.0 / 5.0))), A + 1, B + 1);
}

/* INa_HH1952: alpha_p = 0.1 (u - 5) / (1 - e^{-(u-5)/10}),
 * beta_p = 4 e^{-(u+20)/18}, alpha_q = 0.07 e^{-(u+20)/20},
 * beta_q = 1 / (1 + e^{-(u-10)/10}). */
static BS_KERNEL void na_hh_kin(const double *p, const double *k, double V,
                                double C, const double *x, double *A,
                                double *B) {
  (void)C, (void)x;
  const double u = V - p[NA_VSH], phi = k[NA_K_PHI];
  markov(phi, invexprel(-(u - 5.0) * (1.0 / 10.0)),
         4.0 * bs_vexp(-(u + 20.0) * (1.0 / 18.0)), A, B);
  markov(phi, 0.07 * bs_vexp(-(u + 20.0) * (1.0 / 20.0)),
         1.0 / (1.0 + bs_vexp(-(u - 10.0) * (1.0 / 10.0))), A + 1, B + 1);
}

#define NA_KIND(NAME, PARAMS, NP, KIN, DOC)                                    \
  {                                                                            \
    .name = NAME, .doc = DOC, .np = NP, .params = PARAMS, .ngate = 2,          \
    .gates = gates_pq, .e_param = NA_E, .prepare = na_prepare,                 \
    .kinetics = KIN, .conductance = na_cond, .kinetics_n = KIN##_n,            \
    .conductance_n = na_cond_n                                                 \
  }

/* ---- potassium ---------------------------------------------------------- */

enum { KDR_E, KDR_G, KDR_VSH, KDR_PHI, KDR_TBASE, KDR_T, KDR_NP };
enum { KDR_K_PHI };

static const bs_param kdr_ba_params[KDR_NP] = {
    VOLT("E", -90.0, "reversal potential"),
    GMAX(10.0),
    VOLT("V_sh", -50.0, "membrane potential shift"),
    {"phi", BS_DIM_ONE, NAN, 0.0, HUGE_VAL, BS_P_LO_OPEN | BS_P_NULLABLE,
     "rate factor (null: T_base^((T-36)/10))"},
    POS("T_base", 3.0, "Q10 of the rates"),
    TEMP(36.0),
};
/* IK_TM1991 and IK_HH1952 take only E, g_max, V_sh and phi. */
static const bs_param k_tm_params[KDR_TBASE] = {
    VOLT("E", -90.0, "reversal potential"),
    GMAX(10.0),
    VOLT("V_sh", -60.0, "membrane potential shift"),
    POS("phi", 1.0, "rate factor"),
};
static const bs_param k_hh_params[KDR_TBASE] = {
    VOLT("E", -90.0, "reversal potential"),
    GMAX(10.0),
    VOLT("V_sh", -45.0, "membrane potential shift"),
    POS("phi", 1.0, "rate factor"),
};

static void kdr_prepare(const double *p, double *k) {
  k[KDR_K_PHI] = isnan(p[KDR_PHI]) ? pow(p[KDR_TBASE], (p[KDR_T] - 36.0) / 10.0)
                                   : p[KDR_PHI];
}

static BS_KERNEL double k4_cond(const double *p, const double *x, double C) {
  (void)C;
  const double p2 = x[0] * x[0];
  return p[KDR_G] * p2 * p2;
}

/* IKDR_Ba2002: alpha = 0.032 (u - 15) / (1 - e^{-(u-15)/5}),
 * beta = 0.5 e^{-(u-10)/40}. */
static BS_KERNEL void kdr_ba_kin(const double *p, const double *k, double V,
                                 double C, const double *x, double *A,
                                 double *B) {
  (void)C, (void)x;
  const double u = V - p[KDR_VSH];
  markov(k[KDR_K_PHI], 0.16 * invexprel(-(u - 15.0) * (1.0 / 5.0)),
         0.5 * bs_vexp(-(u - 10.0) * (1.0 / 40.0)), A, B);
}

/* IK_TM1991: alpha = 0.032 (15 - u) / (e^{(15-u)/5} - 1),
 * beta = 0.5 e^{(10-u)/40}. */
static BS_KERNEL void k_tm_kin(const double *p, const double *k, double V,
                               double C, const double *x, double *A,
                               double *B) {
  (void)C, (void)x;
  const double u = V - p[KDR_VSH];
  markov(k[KDR_K_PHI], 0.16 * invexprel((15.0 - u) * (1.0 / 5.0)),
         0.5 * bs_vexp((10.0 - u) * (1.0 / 40.0)), A, B);
}

/* IK_HH1952: alpha = 0.01 (u + 10) / (1 - e^{-(u+10)/10}),
 * beta = 0.125 e^{-(u+20)/80}. */
static BS_KERNEL void k_hh_kin(const double *p, const double *k, double V,
                               double C, const double *x, double *A,
                               double *B) {
  (void)C, (void)x;
  const double u = V - p[KDR_VSH];
  markov(k[KDR_K_PHI], 0.1 * invexprel(-(u + 10.0) * (1.0 / 10.0)),
         0.125 * bs_vexp(-(u + 20.0) * (1.0 / 80.0)), A, B);
}

#define K4_KIND(NAME, PARAMS, NP, KIN, DOC)                                    \
  {                                                                            \
    .name = NAME, .doc = DOC, .np = NP, .params = PARAMS, .ngate = 1,          \
    .gates = gates_p, .e_param = KDR_E, .prepare = kdr_prepare,                \
    .kinetics = KIN, .conductance = k4_cond, .kinetics_n = KIN##_n,            \
    .conductance_n = k4_cond_n                                                 \
  }

/* Hodgkin-Huxley-type K channels of Huguenard & McCormick (1992) in the
 * steady-state form, and the slow IKNI of Yamada (1989). */
enum { KA_E, KA_G, KA_VSH, KA_PHIP, KA_PHIQ, KA_NP };

#define KA_PARAMS(G)                                                           \
  {                                                                            \
    VOLT("E", -90.0, "reversal potential"), GMAX(G),                           \
        VOLT("V_sh", 0.0, "membrane potential shift"),                         \
        POS("phi_p", 1.0, "rate factor of p"),                                 \
        POS("phi_q", 1.0, "rate factor of q")                                  \
  }

static const bs_param ka1_params[KA_NP] = KA_PARAMS(30.0);
static const bs_param ka2_params[KA_NP] = KA_PARAMS(20.0);
static const bs_param kk2_params[KA_NP] = KA_PARAMS(10.0);

static BS_KERNEL double ka_cond(const double *p, const double *x, double C) {
  (void)C;
  const double p2 = x[0] * x[0];
  return p[KA_G] * p2 * p2 * x[1];
}

static BS_KERNEL double kk2_cond(const double *p, const double *x, double C) {
  (void)C;
  return p[KA_G] * x[0] * x[1];
}

/* q of IKA: q_inf = 1 / (1 + e^{(u+78)/6}); tau_q = 1 / (e^{(u+46)/5} +
 * e^{-(u+238)/37.5}) for V < -63 + V_sh, else 19. */
static BS_KERNEL void ka_q(const double *p, double u, double *A, double *B) {
  const double tq = u < -63.0 ? 1.0 / (bs_vexp((u + 46.0) * (1.0 / 5.0)) +
                                       bs_vexp(-(u + 238.0) * (1.0 / 37.5)))
                              : 19.0;
  ss(p[KA_PHIQ], sigm((u + 78.0) * (1.0 / 6.0)), tq, A, B);
}

static BS_KERNEL double ka_tau_p(double u) {
  return 1.0 / (bs_vexp((u + 35.8) * (1.0 / 19.7)) +
                bs_vexp(-(u + 79.7) * (1.0 / 12.7))) +
         0.37;
}

/* IKA1_HM1992: p_inf = 1 / (1 + e^{-(u+60)/8.5}). */
static BS_KERNEL void ka1_kin(const double *p, const double *k, double V,
                              double C, const double *x, double *A, double *B) {
  (void)k, (void)C, (void)x;
  const double u = V - p[KA_VSH];
  ss(p[KA_PHIP], sigm(-(u + 60.0) * (1.0 / 8.5)), ka_tau_p(u), A, B);
  ka_q(p, u, A + 1, B + 1);
}

/* IKA2_HM1992: p_inf = 1 / (1 + e^{-(u+36)/20}). */
static BS_KERNEL void ka2_kin(const double *p, const double *k, double V,
                              double C, const double *x, double *A, double *B) {
  (void)k, (void)C, (void)x;
  const double u = V - p[KA_VSH];
  ss(p[KA_PHIP], sigm(-(u + 36.0) * (1.0 / 20.0)), ka_tau_p(u), A, B);
  ka_q(p, u, A + 1, B + 1);
}

/* IKK2A_HM1992 (and B): p_inf = 1/(1 + e^{-(u+43)/17}), tau_p =
 * 1/(e^{(u-81)/25.6} + e^{-(u+132)/18}) + 9.9; q_inf = 1/(1 + e^{(u+58)/10.6}),
 * tau_q = 1/(e^{(u-1329)/200} + e^{-(u+130)/7.1}) (K2B: 8.9 from
 * V >= -70 + V_sh on). BrainPy 2.3.8's versions raise instead of return;
 * these are the intended functions (2.4's *_HM1992v2). */
static BS_KERNEL void kk2_kin_common(const double *p, double u, int b,
                                     double *A, double *B) {
  ss(p[KA_PHIP], sigm(-(u + 43.0) * (1.0 / 17.0)),
     1.0 / (bs_vexp((u - 81.0) * (1.0 / 25.6)) +
            bs_vexp(-(u + 132.0) * (1.0 / 18.0))) +
         9.9,
     A, B);
  double tq = 1.0 / (bs_vexp((u - 1329.0) * (1.0 / 200.0)) +
                     bs_vexp(-(u + 130.0) * (1.0 / 7.1)));
  if (b && !(u < -70.0))
    tq = 8.9;
  ss(p[KA_PHIQ], sigm((u + 58.0) * (1.0 / 10.6)), tq, A + 1, B + 1);
}

static BS_KERNEL void kk2a_kin(const double *p, const double *k, double V,
                               double C, const double *x, double *A,
                               double *B) {
  (void)k, (void)C, (void)x;
  kk2_kin_common(p, V - p[KA_VSH], 0, A, B);
}

static BS_KERNEL void kk2b_kin(const double *p, const double *k, double V,
                               double C, const double *x, double *A,
                               double *B) {
  (void)k, (void)C, (void)x;
  kk2_kin_common(p, V - p[KA_VSH], 1, A, B);
}

#define KA_KIND(NAME, PARAMS, KIN, COND, DOC)                                  \
  {                                                                            \
    .name = NAME, .doc = DOC, .np = KA_NP, .params = PARAMS, .ngate = 2,       \
    .gates = gates_pq, .e_param = KA_E, .kinetics = KIN, .conductance = COND,  \
    .kinetics_n = KIN##_n, .conductance_n = COND##_n                           \
  }

enum { KNI_E, KNI_G, KNI_TMAX, KNI_VSH, KNI_PHIP, KNI_NP };
static const bs_param kni_params[KNI_NP] = {
    VOLT("E", -90.0, "reversal potential"),
    GMAX(0.004),
    {"tau_max", BS_DIM_TIME, 4e3, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "largest time constant"},
    VOLT("V_sh", 0.0, "membrane potential shift"),
    POS("phi_p", 1.0, "rate factor"),
};

static BS_KERNEL double p1_cond(const double *p, const double *x, double C) {
  (void)C;
  return p[1] * x[0]; /* g_max is parameter 1 of every p-gated kind */
}

/* IKNI_Ya1989: p_inf = 1 / (1 + e^{-(u+35)/10}),
 * tau_p = tau_max / (3.3 e^{(u+35)/20} + e^{-(u+35)/20}). */
static BS_KERNEL void kni_kin(const double *p, const double *k, double V,
                              double C, const double *x, double *A, double *B) {
  (void)k, (void)C, (void)x;
  const double u = V - p[KNI_VSH];
  ss(p[KNI_PHIP], sigm(-(u + 35.0) * (1.0 / 10.0)),
     p[KNI_TMAX] / (3.3 * bs_vexp((u + 35.0) * (1.0 / 20.0)) +
                    bs_vexp(-(u + 35.0) * (1.0 / 20.0))),
     A, B);
}

/* ---- leak --------------------------------------------------------------- */

enum { L_E, L_G, L_NP };
static const bs_param il_params[L_NP] = {VOLT("E", -70.0, "reversal potential"),
                                         GMAX(0.1)};
static const bs_param ikl_params[L_NP] = {
    VOLT("E", -90.0, "reversal potential"), GMAX(0.005)};

static BS_KERNEL double leak_cond(const double *p, const double *x, double C) {
  (void)x, (void)C;
  return p[L_G];
}

/* ---- calcium channels: I = g_max p^2 q (E_Ca - V) ----------------------- */

enum { CA_G, CA_VSH, CA_T, CA_TBP, CA_TBQ, CA_PHIP, CA_PHIQ, CA_NP };
enum { CA_K_PHIP, CA_K_PHIQ };

#define CA_PARAMS(G, VSH, TBP, TBQ)                                            \
  {                                                                            \
    GMAX(G), VOLT("V_sh", VSH, "membrane potential shift"), TEMP(36.0),        \
        POS("T_base_p", TBP, "Q10 of p"), POS("T_base_q", TBQ, "Q10 of q"),    \
        {"phi_p",                                                              \
         BS_DIM_ONE,                                                           \
         NAN,                                                                  \
         0.0,                                                                  \
         HUGE_VAL,                                                             \
         BS_P_LO_OPEN | BS_P_NULLABLE,                                         \
         "rate factor of p (null: T_base_p^((T-24)/10))"},                     \
    {                                                                          \
      "phi_q", BS_DIM_ONE, NAN, 0.0, HUGE_VAL, BS_P_LO_OPEN | BS_P_NULLABLE,   \
          "rate factor of q (null: T_base_q^((T-24)/10))"                      \
    }                                                                          \
  }

static const bs_param cat_hm_params[CA_NP] = CA_PARAMS(2.0, -3.0, 3.55, 3.0);
static const bs_param cat_hp_params[CA_NP] = CA_PARAMS(1.75, -3.0, 5.0, 3.0);
static const bs_param caht_hm_params[CA_NP] = CA_PARAMS(2.0, 25.0, 3.55, 3.0);
static const bs_param cal_params[CA_NP] = CA_PARAMS(1.0, 0.0, 3.55, 3.0);

static void ca_prepare(const double *p, double *k) {
  const double e = (p[CA_T] - 24.0) / 10.0;
  k[CA_K_PHIP] = isnan(p[CA_PHIP]) ? pow(p[CA_TBP], e) : p[CA_PHIP];
  k[CA_K_PHIQ] = isnan(p[CA_PHIQ]) ? pow(p[CA_TBQ], e) : p[CA_PHIQ];
}

static BS_KERNEL double ca_cond(const double *p, const double *x, double C) {
  (void)C;
  return p[CA_G] * x[0] * x[0] * x[1];
}

/* ICaT_HM1992 (ICaHT_HM1992 with V_sh = 25): p_inf = 1/(1 + e^{-(u+59)/6.2}),
 * tau_p = 1/(e^{-(u+132)/16.7} + e^{(u+16.8)/18.2}) + 0.612;
 * q_inf = 1/(1 + e^{(u+83)/4}), tau_q = e^{-(u+22)/10.5} + 28 for
 * V >= -80 + V_sh, else e^{(u+467)/66.6}. */
static BS_KERNEL void cat_hm_kin(const double *p, const double *k, double V,
                                 double C, const double *x, double *A,
                                 double *B) {
  (void)C, (void)x;
  const double u = V - p[CA_VSH];
  ss(k[CA_K_PHIP], sigm(-(u + 59.0) * (1.0 / 6.2)),
     1.0 / (bs_vexp(-(u + 132.0) * (1.0 / 16.7)) +
            bs_vexp((u + 16.8) * (1.0 / 18.2))) +
         0.612,
     A, B);
  const double tq = u >= -80.0 ? bs_vexp(-(u + 22.0) * (1.0 / 10.5)) + 28.0
                               : bs_vexp((u + 467.0) * (1.0 / 66.6));
  ss(k[CA_K_PHIQ], sigm((u + 83.0) / 4.0), tq, A + 1, B + 1);
}

/* ICaT_HP1992: p_inf = 1/(1 + e^{-(u+52)/7.4}), tau_p = 3 + 1/(e^{(u+27)/10}
 * + e^{-(u+102)/15}); q_inf = 1/(1 + e^{(u+80)/5}), tau_q = 85 +
 * 1/(e^{(u+48)/4} + e^{-(u+407)/50}). */
static BS_KERNEL void cat_hp_kin(const double *p, const double *k, double V,
                                 double C, const double *x, double *A,
                                 double *B) {
  (void)C, (void)x;
  const double u = V - p[CA_VSH];
  ss(k[CA_K_PHIP], sigm(-(u + 52.0) * (1.0 / 7.4)),
     3.0 + 1.0 / (bs_vexp((u + 27.0) * (1.0 / 10.0)) +
                  bs_vexp(-(u + 102.0) * (1.0 / 15.0))),
     A, B);
  ss(k[CA_K_PHIQ], sigm((u + 80.0) * (1.0 / 5.0)),
     85.0 + 1.0 / (bs_vexp((u + 48.0) / 4.0) +
                   bs_vexp(-(u + 407.0) * (1.0 / 50.0))),
     A + 1, B + 1);
}

/* ICaL_IS2008: p_inf = 1/(1 + e^{-(u+10)/4}), tau_p = 0.4 + 0.7/(e^{-(u+5)/15}
 * + e^{(u+5)/15}); q_inf = 1/(1 + e^{(u+25)/2}), tau_q = 300 +
 * 100/(e^{(u+40)/9.5} + e^{-(u+40)/9.5}). */
static BS_KERNEL void cal_kin(const double *p, const double *k, double V,
                              double C, const double *x, double *A, double *B) {
  (void)C, (void)x;
  const double u = V - p[CA_VSH];
  ss(k[CA_K_PHIP], sigm(-(u + 10.0) / 4.0),
     0.4 + 0.7 / (bs_vexp(-(u + 5.0) * (1.0 / 15.0)) +
                  bs_vexp((u + 5.0) * (1.0 / 15.0))),
     A, B);
  ss(k[CA_K_PHIQ], sigm((u + 25.0) / 2.0),
     300.0 + 100.0 / (bs_vexp((u + 40.0) * (1.0 / 9.5)) +
                      bs_vexp(-(u + 40.0) * (1.0 / 9.5))),
     A + 1, B + 1);
}

#define CA_KIND(NAME, PARAMS, KIN, DOC)                                        \
  {                                                                            \
    .name = NAME, .doc = DOC, .np = CA_NP, .params = PARAMS, .ngate = 2,       \
    .gates = gates_pq, .flags = BS_CH_NEEDS_ION | BS_CH_CA_CURRENT,            \
    .e_param = -1, .prepare = ca_prepare, .kinetics = KIN,                     \
    .kinetics_n = KIN##_n, .conductance_n = ca_cond_n, .conductance = ca_cond  \
  }

/* ICaHT_Re1993 (Markov): phi = T_base^((T-23)/10); alpha_p = 0.055
 * (-27 - u) / (e^{(-27-u)/3.8} - 1), beta_p = 0.94 e^{(-75-u)/17},
 * alpha_q = 0.000457 e^{(-13-u)/50}, beta_q = 0.0065 / (e^{(-15-u)/28} + 1). */
enum { RE_G, RE_VSH, RE_T, RE_TB, RE_PHI, RE_NP };
enum { RE_K_PHI };
static const bs_param caht_re_params[RE_NP] = {
    GMAX(1.0),
    VOLT("V_sh", 0.0, "membrane potential shift"),
    TEMP(36.0),
    POS("T_base", 2.3, "Q10 of the rates"),
    {"phi", BS_DIM_ONE, NAN, 0.0, HUGE_VAL, BS_P_LO_OPEN | BS_P_NULLABLE,
     "rate factor (null: T_base^((T-23)/10))"},
};
static void re_prepare(const double *p, double *k) {
  k[RE_K_PHI] =
      isnan(p[RE_PHI]) ? pow(p[RE_TB], (p[RE_T] - 23.0) / 10.0) : p[RE_PHI];
}
static BS_KERNEL void re_kin(const double *p, const double *k, double V,
                             double C, const double *x, double *A, double *B) {
  (void)C, (void)x;
  const double u = V - p[RE_VSH], phi = k[RE_K_PHI];
  markov(phi, 0.055 * 3.8 * invexprel((-27.0 - u) * (1.0 / 3.8)),
         0.94 * bs_vexp((-75.0 - u) * (1.0 / 17.0)), A, B);
  markov(phi, 0.000457 * bs_vexp((-13.0 - u) * (1.0 / 50.0)),
         0.0065 / (bs_vexp((-15.0 - u) * (1.0 / 28.0)) + 1.0), A + 1, B + 1);
}

/* ICaN_IS2008 (Ca-activated non-specific cation current):
 * I = g_max C / (C + 0.2) p (E - V); p_inf = 1/(1 + e^{-(V+43)/5.2}),
 * tau_p = 2.7/(e^{-(V+55)/15} + e^{(V+55)/15}) + 1.6. */
enum { CAN_E, CAN_G, CAN_PHI, CAN_NP };
static const bs_param can_params[CAN_NP] = {
    VOLT("E", 10.0, "reversal potential"), GMAX(1.0),
    POS("phi", 1.0, "rate factor")};
static BS_KERNEL double can_cond(const double *p, const double *x, double C) {
  return p[CAN_G] * C / (C + 0.2) * x[0];
}
static BS_KERNEL void can_kin(const double *p, const double *k, double V,
                              double C, const double *x, double *A, double *B) {
  (void)k, (void)C, (void)x;
  ss(p[CAN_PHI], sigm(-(V + 43.0) * (1.0 / 5.2)),
     2.7 / (bs_vexp(-(V + 55.0) * (1.0 / 15.0)) +
            bs_vexp((V + 55.0) * (1.0 / 15.0))) +
         1.6,
     A, B);
}

/* ---- Ih and K(Ca) ------------------------------------------------------- */

/* Ih_HM1992: I = g p (E - V); p_inf = 1/(1 + e^{(V+75)/5.5}),
 * tau_p = 1/(e^{-0.086 V - 14.59} + e^{0.0701 V - 1.87}). */
enum { IH_E, IH_G, IH_PHI, IH_NP };
static const bs_param ih_params[IH_NP] = {VOLT("E", 43.0, "reversal potential"),
                                          GMAX(10.0),
                                          POS("phi", 1.0, "rate factor")};
static BS_KERNEL void ih_kin(const double *p, const double *k, double V,
                             double C, const double *x, double *A, double *B) {
  (void)k, (void)C, (void)x;
  ss(p[IH_PHI], sigm((V + 75.0) * (1.0 / 5.5)),
     1.0 / (bs_vexp(-0.086 * V - 14.59) + bs_vexp(0.0701 * V - 1.87)), A, B);
}

/* Ih_De1996 (Destexhe 1996, Ca-modulated): gates O, OL, P1:
 * dO = alpha (1 - O - OL) - beta O; dOL = k3 P1 O - k4 OL;
 * dP1 = k1 C^4 (1 - P1) - k2 P1; I = g_max (O + g_inc OL) (E - V);
 * k1 = k2 / Ca_half^4, k3 = k4 / 0.01, alpha = inf / tau,
 * beta = (1 - inf) / tau, inf = 1/(1 + e^{(u+75)/5.5}),
 * tau = (20 + 1000/(e^{(u+71.5)/14.2} + e^{-(u+89)/11.6})) / phi,
 * phi = T_base^((T-24)/10). BrainPy 2.3.8 updates only O; all three here. */
enum { HD_E, HD_G, HD_GINC, HD_K2, HD_K4, HD_CAH, HD_VSH, HD_T, HD_TB, HD_NP };
enum { HD_K_PHI, HD_K_K1, HD_K_K3 };
static const bs_param hd_params[HD_NP] = {
    VOLT("E", -40.0, "reversal potential"),
    GMAX(0.02),
    NUM("g_inc", 2.0, "relative conductance of OL"),
    POS("k2", 4e-4, "P1 unbinding rate (1/ms)"),
    POS("k4", 1e-3, "OL unbinding rate (1/ms)"),
    POS("Ca_half", 2e-3, "half-activating calcium (mM)"),
    VOLT("V_sh", 0.0, "membrane potential shift"),
    TEMP(36.0),
    POS("T_base", 3.0, "Q10 of the rates"),
};
static const char *const gates_hd[] = {"O", "OL", "P1"};
static void hd_prepare(const double *p, double *k) {
  k[HD_K_PHI] = pow(p[HD_TB], (p[HD_T] - 24.0) / 10.0);
  const double c2 = p[HD_CAH] * p[HD_CAH];
  k[HD_K_K1] = p[HD_K2] / (c2 * c2);
  k[HD_K_K3] = p[HD_K4] / 0.01;
}
static BS_KERNEL void hd_rates(const double *p, const double *k, double V,
                               double *al, double *be) {
  const double u = V - p[HD_VSH];
  const double inf = sigm((u + 75.0) * (1.0 / 5.5));
  const double tau = (20.0 + 1000.0 / (bs_vexp((u + 71.5) * (1.0 / 14.2)) +
                                       bs_vexp(-(u + 89.0) * (1.0 / 11.6)))) /
                     k[HD_K_PHI];
  *al = inf / tau;
  *be = (1.0 - inf) / tau;
}
static BS_KERNEL void hd_kin(const double *p, const double *k, double V,
                             double C, const double *x, double *A, double *B) {
  double al, be;
  hd_rates(p, k, V, &al, &be);
  const double c2 = C * C, kc = k[HD_K_K1] * c2 * c2;
  A[0] = al * (1.0 - x[1]);
  B[0] = al + be;
  A[1] = k[HD_K_K3] * x[2] * x[0];
  B[1] = p[HD_K4];
  A[2] = kc;
  B[2] = kc + p[HD_K2];
}
static void hd_steady(const double *p, const double *k, double V, double C,
                      double *x) {
  double al, be;
  hd_rates(p, k, V, &al, &be);
  const double c2 = C * C, kc = k[HD_K_K1] * c2 * c2;
  x[2] = kc / (kc + p[HD_K2]);
  x[0] = al / (al + al * k[HD_K_K3] * x[2] / p[HD_K4] + be);
  x[1] = k[HD_K_K3] * x[2] * x[0] / p[HD_K4];
}
static BS_KERNEL double hd_cond(const double *p, const double *x, double C) {
  (void)C;
  return p[HD_G] * (x[0] + p[HD_GINC] * x[1]);
}

/* IAHP_De1994: C2 = alpha C^n, C3 = C2 + beta; dp = phi (C2/C3 - p) C3;
 * I = g_max p^2 (E - V). */
enum { AHP_E, AHP_G, AHP_N, AHP_AL, AHP_BE, AHP_PHI, AHP_NP };
static const bs_param ahp_params[AHP_NP] = {
    VOLT("E", -95.0, "reversal potential"),
    GMAX(10.0),
    {"n", BS_DIM_ONE, 2.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "calcium binding exponent"},
    POS("alpha", 48.0, "binding rate"),
    POS("beta", 0.09, "unbinding rate (1/ms)"),
    POS("phi", 1.0, "rate factor"),
};
static BS_KERNEL void ahp_kin(const double *p, const double *k, double V,
                              double C, const double *x, double *A, double *B) {
  (void)k, (void)V, (void)x;
  const double c2 = p[AHP_AL] * pow(C, p[AHP_N]);
  A[0] = p[AHP_PHI] * c2;
  B[0] = p[AHP_PHI] * (c2 + p[AHP_BE]);
}
static BS_KERNEL double ahp_cond(const double *p, const double *x, double C) {
  (void)C;
  return p[AHP_G] * x[0] * x[0];
}

/* ---- calcium ions ------------------------------------------------------- */

static const char *const gates_ion[] = {"C", "E"};
#define R_GAS 8.31441
#define FARADAY 96.489

/* CalciumFixed: E_Ca and C_Ca are constants. */
static const bs_param cafix_params[] = {
    VOLT("E", 120.0, "calcium reversal potential"),
    POS("C", 2.4e-4, "calcium concentration (mM)"),
};

/* CalciumDetailed: dC/dt = max(I_Ca / (2 F d), 0) + (C_rest - C) / tau;
 * CalciumFirstOrder: dC/dt = max(alpha I_Ca, 0) - beta C; both
 * E_Ca = R (273.15 + T) / (2 F) ln(C0 / C). I_Ca is the (inward-positive)
 * sum of the calcium channels' currents g (E_Ca - V). BrainPy 2.3.8 writes
 * max(-I_Ca ...), which with inward-positive currents clips every influx
 * to 0, and sums every child's current (IAHP, ICaN, Ih_De1996 too); here
 * inward calcium current raises C, as the models intend. */
enum { CD_T, CD_D, CD_CREST, CD_TAU, CD_C0, CD_NP };
static const bs_param cadet_params[CD_NP] = {
    TEMP(36.0),
    POS("d", 1.0, "depth of the shell (um)"),
    POS("C_rest", 2.4e-4, "resting concentration (mM)"),
    {"tau", BS_DIM_TIME, 5.0, 0.0, HUGE_VAL, BS_P_LO_OPEN,
     "removal time constant"},
    POS("C0", 2.0, "extracellular concentration (mM)"),
};
enum { CF_T, CF_AL, CF_BE, CF_C0, CF_NP };
static const bs_param cafo_params[CF_NP] = {
    TEMP(36.0),
    NUM("alpha", 0.13, "influx per unit current"),
    POS("beta", 0.075, "removal rate (1/ms)"),
    POS("C0", 2.0, "extracellular concentration (mM)"),
};

static double nernst(double T, double C0, double C) {
  return R_GAS / (2.0 * FARADAY) * (273.15 + T) * log(C0 / C);
}
static double cadet_E(const double *p, const double *k, double C) {
  (void)k;
  return nernst(p[CD_T], p[CD_C0], C);
}
static double cafo_E(const double *p, const double *k, double C) {
  (void)k;
  return nernst(p[CF_T], p[CF_C0], C);
}
static void cadet_rate(const double *p, const double *k, double ica, double *A,
                       double *B) {
  (void)k;
  const double drive = ica / (2.0 * FARADAY * p[CD_D]);
  *A = (drive > 0.0 ? drive : 0.0) + p[CD_CREST] / p[CD_TAU];
  *B = 1.0 / p[CD_TAU];
}
static void cafo_rate(const double *p, const double *k, double ica, double *A,
                      double *B) {
  (void)k;
  const double drive = p[CF_AL] * ica;
  *A = drive > 0.0 ? drive : 0.0;
  *B = p[CF_BE];
}

/* ---- block kernels ------------------------------------------------------
 * A channel kind stays a table entry (name, parameters, scalar kernels, as
 * the config reader, the help and cng_init use it); its block kernels are
 * generated from the scalar ones, which the compiler inlines into one loop
 * over the block and vectorizes. The arithmetic per neuron is the scalar
 * kernel's, so a neuron's result does not depend on its lane. */
#define BLK BS_CH_BLOCK
#define KIN_N(KIN, NG)                                                         \
  BS_CH_CLONES static void KIN##_n(                                            \
      const double *restrict p, const double *restrict k, int n,               \
      const double *restrict V, const double *restrict C,                      \
      const double *const *x, double(*restrict A)[BLK],                        \
      double(*restrict B)[BLK]) {                                              \
    const double *restrict xq[BS_CH_MAX_GATES];                                \
    for (int q = 0; q < BS_CH_MAX_GATES; q++)                                  \
      xq[q] = x[q < (NG) ? q : 0];                                             \
    for (int i = 0; i < n; i++) {                                              \
      double xi[BS_CH_MAX_GATES], a[BS_CH_MAX_GATES], b[BS_CH_MAX_GATES];      \
      for (int q = 0; q < BS_CH_MAX_GATES; q++)                                \
        xi[q] = xq[q][i];                                                      \
      KIN(p, k, V[i], C[i], xi, a, b);                                         \
      for (int q = 0; q < (NG); q++) {                                         \
        A[q][i] = a[q];                                                        \
        B[q][i] = b[q];                                                        \
      }                                                                        \
    }                                                                          \
  }
#define COND_N(COND, NG)                                                       \
  BS_CH_CLONES static void COND##_n(                                           \
      const double *restrict p, int n, const double *const *x,                 \
      const double *restrict C, double *restrict g) {                          \
    const double *restrict xq[BS_CH_MAX_GATES];                                \
    for (int q = 0; q < BS_CH_MAX_GATES; q++)                                  \
      xq[q] = (NG) ? x[q < (NG) ? q : 0] : C;                                  \
    for (int i = 0; i < n; i++) {                                              \
      double xi[BS_CH_MAX_GATES];                                              \
      for (int q = 0; q < BS_CH_MAX_GATES; q++)                                \
        xi[q] = xq[q][i];                                                      \
      g[i] = COND(p, xi, C[i]);                                                \
    }                                                                          \
  }

KIN_N(na_ba_kin, 2)
KIN_N(na_tm_kin, 2)
KIN_N(na_hh_kin, 2)
KIN_N(kdr_ba_kin, 1)
KIN_N(k_tm_kin, 1)
KIN_N(k_hh_kin, 1)
KIN_N(ka1_kin, 2)
KIN_N(ka2_kin, 2)
KIN_N(kk2a_kin, 2)
KIN_N(kk2b_kin, 2)
KIN_N(kni_kin, 1)
KIN_N(cat_hm_kin, 2)
KIN_N(cat_hp_kin, 2)
KIN_N(re_kin, 2)
KIN_N(cal_kin, 2)
KIN_N(can_kin, 1)
KIN_N(ih_kin, 1)
KIN_N(hd_kin, 3)
KIN_N(ahp_kin, 1)
COND_N(na_cond, 2)
COND_N(k4_cond, 1)
COND_N(ka_cond, 2)
COND_N(kk2_cond, 2)
COND_N(p1_cond, 1)
COND_N(leak_cond, 0)
COND_N(ca_cond, 2)
COND_N(can_cond, 1)
COND_N(hd_cond, 3)
COND_N(ahp_cond, 1)

/* ---- the library -------------------------------------------------------- */

static const bs_channel_kind kinds[] = {
    NA_KIND("INa_Ba2002", na_ba_params, NA_NP, na_ba_kin,
            "sodium, Bazhenov et al. 2002 (p^3 q)"),
    NA_KIND("INa_TM1991", na_tm_params, NA_T, na_tm_kin,
            "sodium, Traub & Miles 1991 (p^3 q)"),
    NA_KIND("INa_HH1952", na_hh_params, NA_T, na_hh_kin,
            "sodium, Hodgkin & Huxley 1952 (p^3 q)"),
    K4_KIND("IKDR_Ba2002", kdr_ba_params, KDR_NP, kdr_ba_kin,
            "delayed rectifier K, Bazhenov et al. 2002 (p^4)"),
    K4_KIND("IK_TM1991", k_tm_params, KDR_TBASE, k_tm_kin,
            "K, Traub & Miles 1991 (p^4)"),
    K4_KIND("IK_HH1952", k_hh_params, KDR_TBASE, k_hh_kin,
            "K, Hodgkin & Huxley 1952 (p^4)"),
    KA_KIND("IKA1_HM1992", ka1_params, ka1_kin, ka_cond,
            "A-type K, Huguenard & McCormick 1992 (p^4 q)"),
    KA_KIND("IKA2_HM1992", ka2_params, ka2_kin, ka_cond,
            "A-type K, slower activation (p^4 q)"),
    KA_KIND("IKK2A_HM1992", kk2_params, kk2a_kin, kk2_cond,
            "slow K2, Huguenard & McCormick 1992 (p q)"),
    KA_KIND("IKK2B_HM1992", kk2_params, kk2b_kin, kk2_cond,
            "slow K2, variant B (p q)"),
    {.name = "IKNI_Ya1989",
     .doc = "slow non-inactivating K, Yamada 1989 (p)",
     .np = KNI_NP,
     .params = kni_params,
     .ngate = 1,
     .gates = gates_p,
     .e_param = KNI_E,
     .kinetics = kni_kin,
     .conductance = p1_cond,
     .kinetics_n = kni_kin_n,
     .conductance_n = p1_cond_n},
    {.name = "IL",
     .doc = "leak, I = g_max (E - V)",
     .np = L_NP,
     .params = il_params,
     .e_param = L_E,
     .conductance = leak_cond,
     .conductance_n = leak_cond_n},
    {.name = "IKL",
     .doc = "potassium leak",
     .np = L_NP,
     .params = ikl_params,
     .e_param = L_E,
     .conductance = leak_cond,
     .conductance_n = leak_cond_n},
    CA_KIND("ICaT_HM1992", cat_hm_params, cat_hm_kin,
            "T-type Ca, Huguenard & McCormick 1992 (p^2 q)"),
    CA_KIND("ICaT_HP1992", cat_hp_params, cat_hp_kin,
            "T-type Ca, Huguenard & Prince 1992 (p^2 q)"),
    CA_KIND("ICaHT_HM1992", caht_hm_params, cat_hm_kin,
            "high-threshold T-type Ca (p^2 q)"),
    {.name = "ICaHT_Re1993",
     .doc = "high-threshold Ca, Reuveni et al. 1993 (Markov p^2 q)",
     .np = RE_NP,
     .params = caht_re_params,
     .ngate = 2,
     .gates = gates_pq,
     .flags = BS_CH_NEEDS_ION | BS_CH_CA_CURRENT,
     .e_param = -1,
     .prepare = re_prepare,
     .kinetics = re_kin,
     .conductance = ca_cond,
     .kinetics_n = re_kin_n,
     .conductance_n = ca_cond_n}, /* g_max is parameter 0 in both */
    CA_KIND("ICaL_IS2008", cal_params, cal_kin,
            "L-type Ca, Inoue & Strowbridge 2008 (p^2 q)"),
    {.name = "ICaN_IS2008",
     .doc = "Ca-activated non-specific cation current (p, C/(C+0.2))",
     .np = CAN_NP,
     .params = can_params,
     .ngate = 1,
     .gates = gates_p,
     .flags = BS_CH_NEEDS_ION,
     .e_param = CAN_E,
     .kinetics = can_kin,
     .conductance = can_cond,
     .kinetics_n = can_kin_n,
     .conductance_n = can_cond_n},
    {.name = "Ih_HM1992",
     .doc = "hyperpolarization-activated cation current (p)",
     .np = IH_NP,
     .params = ih_params,
     .ngate = 1,
     .gates = gates_p,
     .e_param = IH_E,
     .kinetics = ih_kin,
     .conductance = p1_cond,
     .kinetics_n = ih_kin_n,
     .conductance_n = p1_cond_n},
    {.name = "Ih_De1996",
     .doc = "Ca-modulated Ih, Destexhe et al. 1996 (O, OL, P1)",
     .np = HD_NP,
     .params = hd_params,
     .ngate = 3,
     .gates = gates_hd,
     .flags = BS_CH_NEEDS_ION,
     .e_param = HD_E,
     .prepare = hd_prepare,
     .kinetics = hd_kin,
     .conductance = hd_cond,
     .kinetics_n = hd_kin_n,
     .conductance_n = hd_cond_n,
     .steady = hd_steady},
    {.name = "IAHP_De1994",
     .doc = "Ca-dependent K (AHP), Destexhe et al. 1994 (p^2)",
     .np = AHP_NP,
     .params = ahp_params,
     .ngate = 1,
     .gates = gates_p,
     .flags = BS_CH_NEEDS_ION,
     .e_param = AHP_E,
     .kinetics = ahp_kin,
     .conductance = ahp_cond,
     .kinetics_n = ahp_kin_n,
     .conductance_n = ahp_cond_n},
    {.name = "CalciumFixed",
     .doc = "calcium ion with constant E and C",
     .np = 2,
     .params = cafix_params,
     .flags = BS_CH_ION,
     .e_param = -1},
    {.name = "CalciumDetailed",
     .doc = "calcium ion: shell influx and relaxation to C_rest",
     .np = CD_NP,
     .params = cadet_params,
     .ngate = 2,
     .gates = gates_ion,
     .flags = BS_CH_ION,
     .e_param = -1,
     .ion_rate = cadet_rate,
     .ion_E = cadet_E},
    {.name = "CalciumFirstOrder",
     .doc = "calcium ion: first-order influx and removal",
     .np = CF_NP,
     .params = cafo_params,
     .ngate = 2,
     .gates = gates_ion,
     .flags = BS_CH_ION,
     .e_param = -1,
     .ion_rate = cafo_rate,
     .ion_E = cafo_E},
};

#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

const bs_channel_kind *bs_channel_find(const char *name) {
  for (int i = 0; i < NKINDS; i++)
    if (strcmp(kinds[i].name, name) == 0)
      return &kinds[i];
  return NULL;
}
int bs_channel_count(void) { return NKINDS; }
const bs_channel_kind *bs_channel_at(int i) { return &kinds[i]; }

double bs_lin_step(int method, double x, double A, double B, double dt) {
  return bs_vlin_step(method, x, A, B, dt);
}

/* Current input kinds, as BrainPy 2.x's brainpy.inputs (inputs/currents.py):
 * each gives the value of BrainPy's current array at index n for step n,
 * with BrainPy's index arithmetic (int() truncates, ceil() where it uses
 * ceil). Times are ms, frequencies Hz, currents in the population's unit. */
#include <math.h>
#include <stddef.h>

#include "brainsim/rng.h"
#include "model_impl.h"

#define INF HUGE_VAL
#define TWO_PI (2.0 * 3.14159265358979323846)

/* Python's int(x / dt) for x >= 0. */
static int64_t trunc_steps(double x, double dt) { return (int64_t)(x / dt); }

static double t_end_of(const bs_input_args *a, double t_end) {
  return isnan(t_end) ? a->duration : t_end;
}

/* The first step after a window that ends at t_end; an open end (null)
 * has none, so a continued, longer run keeps the input going exactly as
 * one long run (within a run the steps end with the trial). */
static int64_t end_step(const bs_input_args *a, double t_end) {
  return isnan(t_end) ? INT64_MAX : trunc_steps(t_end, a->dt);
}

static void add_const(double v, uint64_t n, double *I) {
  if (v != 0.0)
    for (uint64_t i = 0; i < n; i++)
      I[i] += v;
}

static int64_t start_zero(const bs_input_args *a) {
  (void)a;
  return 0;
}

/* ---- current: the old `current: I` form, constant from step 0 ---------- */

static const bs_param current_params[] = {
    {"I", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "constant current"}};

static void current_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                          uint64_t n, double *I) {
  (void)step;
  (void)gid0;
  add_const(a->p[0], n, I);
}

const bs_input_kind bs_input_current = {
    .name = "current",
    .doc = "a constant current from the start (BrainPy: a scalar input)",
    .np = 1,
    .params = current_params,
    .apply = current_apply,
    .start = start_zero,
    .constant = 1,
};

/* ---- section_input(values, durations) and constant_input ------------- */

static const bs_param section_lists[] = {
    {"values", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "current per section"},
    {"durations", BS_DIM_TIME, 0, 0, INF, BS_P_REQUIRED,
     "length of each section"}};

static const char *section_check(const bs_input_args *a, int *blame) {
  if (a->ln[0] != a->ln[1]) {
    *blame = 1;
    return "values and durations differ in length";
  }
  if (a->ln[0] == 0) {
    *blame = 0;
    return "at least one section is needed";
  }
  return NULL;
}

/* Section k covers [start_k, start_k + int(d_k / dt)), start_0 = 0; after
 * the last, 0 (BrainPy's zeros). */
static void section_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                          uint64_t n, double *I) {
  (void)gid0;
  int64_t start = 0;
  for (uint64_t k = 0; k < a->ln[0]; k++) {
    const int64_t len = trunc_steps(a->l[1][k], a->dt);
    if (step >= start && step < start + len) {
      add_const(a->l[0][k], n, I);
      return;
    }
    start += len;
  }
}

const bs_input_kind bs_input_section = {
    .name = "section_input",
    .doc = "piecewise constant: values[k] for durations[k] (int(d/dt) steps "
           "each), then 0",
    .nl = 2,
    .lists = section_lists,
    .check = section_check,
    .apply = section_apply,
    .start = start_zero,
};

/* constant_input([(I, duration), ...]): the same array as section_input;
 * the config gives the pairs as the two lists. */
static const bs_param constant_lists[] = {
    {"I", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "current per section"},
    {"durations", BS_DIM_TIME, 0, 0, INF, BS_P_REQUIRED,
     "length of each section"}};

const bs_input_kind bs_input_constant = {
    .name = "constant_input",
    .doc = "BrainPy's constant_input([(I, d), ...]) as lists I and durations",
    .nl = 2,
    .lists = constant_lists,
    .check = section_check,
    .apply = section_apply,
    .start = start_zero,
};

/* ---- spike_input(sp_times, sp_lens, sp_sizes) ------------------------- */

static const bs_param spike_lists[] = {
    {"sp_times", BS_DIM_TIME, 0, 0, INF, BS_P_REQUIRED, "pulse start times"},
    {"sp_lens", BS_DIM_TIME, 0, 0, INF, BS_P_REQUIRED,
     "pulse lengths (one value: all)"},
    {"sp_sizes", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED,
     "pulse amplitudes (one value: all)"}};

static const char *spike_check(const bs_input_args *a, int *blame) {
  for (int k = 1; k < 3; k++)
    if (a->ln[k] != 1 && a->ln[k] != a->ln[0]) {
      *blame = k;
      return "sp_lens and sp_sizes need one value or one per sp_times";
    }
  if (a->ln[0] == 0) {
    *blame = 0;
    return "at least one pulse is needed";
  }
  return NULL;
}

/* Pulse k sets [int(t_k/dt), int(t_k/dt) + int(len_k/dt)); a later pulse
 * overwrites an earlier one where they overlap, as BrainPy's assignments. */
static void spike_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                        uint64_t n, double *I) {
  (void)gid0;
  double v = 0.0;
  for (uint64_t k = 0; k < a->ln[0]; k++) {
    const int64_t p0 = trunc_steps(a->l[0][k], a->dt);
    const int64_t len = trunc_steps(a->l[1][a->ln[1] == 1 ? 0 : k], a->dt);
    if (step >= p0 && step < p0 + len)
      v = a->l[2][a->ln[2] == 1 ? 0 : k];
  }
  add_const(v, n, I);
}

static int64_t spike_start(const bs_input_args *a) {
  int64_t s = INT64_MAX;
  for (uint64_t k = 0; k < a->ln[0]; k++) {
    const int64_t p0 = trunc_steps(a->l[0][k], a->dt);
    s = p0 < s ? p0 : s;
  }
  return s;
}

const bs_input_kind bs_input_spike = {
    .name = "spike_input",
    .doc = "rectangular pulses of sp_sizes at sp_times for sp_lens",
    .nl = 3,
    .lists = spike_lists,
    .check = spike_check,
    .apply = spike_apply,
    .start = spike_start,
};

/* ---- ramp_input(c_start, c_end, t_start, t_end) ----------------------- */

static const bs_param ramp_params[] = {
    {"c_start", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "current at t_start"},
    {"c_end", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "current at t_end"},
    {"t_start", BS_DIM_TIME, 0, 0, INF, 0, "ramp start"},
    {"t_end", BS_DIM_TIME, NAN, 0, INF, BS_P_NULLABLE,
     "ramp end (null: the run's duration)"}};

static const char *ramp_check(const bs_input_args *a, int *blame) {
  if (!(t_end_of(a, a->p[3]) > a->p[2])) {
    *blame = 3;
    return "t_end must be after t_start";
  }
  return NULL;
}

/* linspace(c_start, c_end, p2 - p1) on [ceil(t_start/dt), ceil(t_end/dt)):
 * numpy's c_start + k (c_end - c_start) / (N - 1), the last exactly c_end. */
static void ramp_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                       uint64_t n, double *I) {
  (void)gid0;
  const int64_t p1 = (int64_t)ceil(a->p[2] / a->dt);
  const int64_t p2 = (int64_t)ceil(t_end_of(a, a->p[3]) / a->dt);
  if (step < p1 || step >= p2)
    return;
  const int64_t N = p2 - p1, k = step - p1;
  double v = a->p[0];
  if (N > 1)
    v = k == N - 1
            ? a->p[1]
            : (double)k * ((a->p[1] - a->p[0]) / (double)(N - 1)) + a->p[0];
  add_const(v, n, I);
}

static int64_t ramp_start(const bs_input_args *a) {
  return (int64_t)ceil(a->p[2] / a->dt);
}

const bs_input_kind bs_input_ramp = {
    .name = "ramp_input",
    .doc = "linear from c_start at t_start to c_end at t_end, 0 elsewhere",
    .np = 4,
    .params = ramp_params,
    .check = ramp_check,
    .apply = ramp_apply,
    .start = ramp_start,
};

/* ---- sinusoidal_input and square_input -------------------------------- */

static const bs_param wave_params[] = {
    {"amplitude", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "amplitude A"},
    {"frequency", BS_DIM_RATE, 0, 0, INF, BS_P_REQUIRED | BS_P_LO_OPEN,
     "frequency f"},
    {"t_start", BS_DIM_TIME, 0, 0, INF, 0, "start"},
    {"t_end", BS_DIM_TIME, NAN, 0, INF, BS_P_NULLABLE,
     "end (null: the run's duration)"},
    {"bias", BS_DIM_ONE, 0, 0, 1, BS_P_INTEGER, "add A (true/false)"}};

static const char *wave_check(const bs_input_args *a, int *blame) {
  if (!isnan(a->p[3]) && !(a->p[3] > a->p[2])) { /* null: open */
    *blame = 3;
    return "t_end must be after t_start";
  }
  return NULL;
}

/* The phase 2 pi t f / 1000 with t = (n - int(t_start/dt)) dt, in
 * BrainPy's order of operations, for n in [int(t_start/dt), int(t_end/dt));
 * else NAN (outside: the current is 0). */
static double wave_phase(const bs_input_args *a, int64_t step) {
  const int64_t i0 = trunc_steps(a->p[2], a->dt);
  const int64_t i1 = end_step(a, a->p[3]);
  if (step < i0 || step >= i1)
    return NAN;
  const double t = (double)(step - i0) * a->dt;
  return TWO_PI * t * (a->p[1] / 1000.0);
}

static void sin_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                      uint64_t n, double *I) {
  (void)gid0;
  const double x = wave_phase(a, step);
  if (isnan(x))
    return;
  add_const(a->p[0] * sin(x) + (a->p[4] != 0.0 ? a->p[0] : 0.0), n, I);
}

/* scipy.signal.square with duty 0.5: +1 on the first half of each period,
 * -1 on the second. */
static void square_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                         uint64_t n, double *I) {
  (void)gid0;
  const double x = wave_phase(a, step);
  if (isnan(x))
    return;
  const double s = fmod(x, TWO_PI) < 0.5 * TWO_PI ? 1.0 : -1.0;
  add_const(a->p[0] * s + (a->p[4] != 0.0 ? a->p[0] : 0.0), n, I);
}

static int64_t wave_start(const bs_input_args *a) {
  return trunc_steps(a->p[2], a->dt);
}

const bs_input_kind bs_input_sinusoidal = {
    .name = "sinusoidal_input",
    .doc = "A sin(2 pi f t) (+ A with bias) from t_start to t_end",
    .np = 5,
    .params = wave_params,
    .check = wave_check,
    .apply = sin_apply,
    .start = wave_start,
};

const bs_input_kind bs_input_square = {
    .name = "square_input",
    .doc = "A square(2 pi f t), duty 0.5 (+ A with bias), t_start to t_end",
    .np = 5,
    .params = wave_params,
    .check = wave_check,
    .apply = square_apply,
    .start = wave_start,
};

/* ---- wiener_process(t_start, t_end): N(0, 1) sqrt(dt) per neuron ------ */

static const bs_param wiener_params[] = {
    {"t_start", BS_DIM_TIME, 0, 0, INF, 0, "start"},
    {"t_end", BS_DIM_TIME, NAN, 0, INF, BS_P_NULLABLE,
     "end (null: the run's duration)"}};

static const char *wiener_check(const bs_input_args *a, int *blame) {
  if (!isnan(a->p[1]) && !(a->p[1] > a->p[0])) { /* null: open */
    *blame = 1;
    return "t_end must be after t_start";
  }
  return NULL;
}

/* Steps [int(t_start/dt), int(t_end/dt)); each neuron's draw comes from
 * the Philox stream (seed, input, gid, step). */
static void wiener_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                         uint64_t n, double *I) {
  if (step < trunc_steps(a->p[0], a->dt) || step >= end_step(a, a->p[1]))
    return;
  const double sq = sqrt(a->dt);
  for (uint64_t i = 0; i < n; i++) {
    bs_rng r;
    bs_rng_init(&r, a->seed, BS_RNG_INPUT, a->input, (uint32_t)(gid0 + i),
                (uint32_t)step);
    I[i] += bs_rng_normal(&r) * sq;
  }
}

static int64_t wiener_start(const bs_input_args *a) {
  return trunc_steps(a->p[0], a->dt);
}

const bs_input_kind bs_input_wiener = {
    .name = "wiener_process",
    .doc = "white noise N(0, 1) sqrt(dt) per neuron and step",
    .np = 2,
    .params = wiener_params,
    .check = wiener_check,
    .apply = wiener_apply,
    .start = wiener_start,
    .keyed = 1,
};

/* ---- PoissonInput(num_input, freq, weight) ------------------------------ */

/* BrainPy's PoissonInput: num_input independent Poisson sources of rate
 * freq onto every target neuron, without a population: each step adds
 * weight * Binomial(num_input, freq dt / 1000), drawn per neuron and step
 * from Philox keyed by (seed, input, gid, step of the run): a node with
 * its own draws, so trials differ (the brainpy.inputs arrays replay). Exact
 * binomial draws always (BrainPy 2.3.8 switches to a normal approximation for
 * large N p, with the variance passed as the scale). t_start / t_end (steps
 * [int(t_start/dt), int(t_end/dt))) are brainsim's, for protocol phases. */
static const bs_param pinput_params[] = {
    {"num_input", BS_DIM_ONE, 0, 1, 4294967295.0, BS_P_REQUIRED | BS_P_INTEGER,
     "number of Poisson sources per neuron"},
    {"freq", BS_DIM_RATE, 0, 0, INF, BS_P_REQUIRED, "rate of each source"},
    {"weight", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED,
     "added per source spike (the target variable's unit)"},
    {"t_start", BS_DIM_TIME, 0, 0, INF, 0, "start"},
    {"t_end", BS_DIM_TIME, NAN, 0, INF, BS_P_NULLABLE,
     "end (null: the run's duration)"}};

static const char *pinput_check(const bs_input_args *a, int *blame) {
  if (a->p[1] * a->dt / 1000.0 > 1.0) {
    *blame = 1;
    return "freq * dt exceeds one spike per source and step";
  }
  if (!isnan(a->p[4]) && !(a->p[4] > a->p[3])) { /* null: open */
    *blame = 4;
    return "t_end must be after t_start";
  }
  return NULL;
}

static void pinput_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                         uint64_t n, double *I) {
  if (step < trunc_steps(a->p[3], a->dt) || step >= end_step(a, a->p[4]))
    return;
  bs_binom b;
  bs_binom_init(&b, (uint64_t)a->p[0], a->p[1] * a->dt / 1000.0);
  const double w = a->p[2];
  for (uint64_t i = 0; i < n; i++) {
    bs_rng r;
    bs_rng_init(&r, a->seed, BS_RNG_INPUT, a->input, (uint32_t)(gid0 + i),
                (uint32_t)(a->step0 + step));
    const uint64_t k = bs_binom_draw(&b, &r);
    if (k)
      I[i] += w * (double)k;
  }
}

static int64_t pinput_start(const bs_input_args *a) {
  return trunc_steps(a->p[3], a->dt);
}

const bs_input_kind bs_input_poisson = {
    .name = "PoissonInput",
    .doc = "weight * Binomial(num_input, freq dt) per neuron and step "
           "(BrainPy PoissonInput)",
    .np = 5,
    .params = pinput_params,
    .check = pinput_check,
    .apply = pinput_apply,
    .start = pinput_start,
    .keyed = 1,
};

/* ---- ou_process(mean, sigma, tau, t_start, t_end) ------------------------ */

/* BrainPy's ou_process: per neuron x starts at mean, and in each step of
 * [int(t_start/dt), int(t_end/dt)) x += dt (mean - x) / tau + sigma
 * sqrt(dt) xi, then the step's current is the new x (BrainPy's for_loop
 * over arange(t_start, t_end, dt) fills its array with x after each
 * update); 0 outside. xi ~ N(0, 1) from Philox keyed by (seed, input,
 * gid, step): BrainPy 2.3.8 draws xi = rng.rand, a uniform on [0, 1),
 * a bug; this is the OU process its docstring states. */
static const bs_param ou_params[] = {
    {"mean", BS_DIM_ONE, 0, -INF, INF, BS_P_REQUIRED, "mean (and x at start)"},
    {"sigma", BS_DIM_ONE, 0, 0, INF, BS_P_REQUIRED,
     "noise amplitude per sqrt(ms)"},
    {"tau", BS_DIM_TIME, 0, 0, INF, BS_P_REQUIRED | BS_P_LO_OPEN,
     "time constant"},
    {"t_start", BS_DIM_TIME, 0, 0, INF, 0, "start"},
    {"t_end", BS_DIM_TIME, NAN, 0, INF, BS_P_NULLABLE,
     "end (null: the run's duration)"}};
static const char *const ou_states[] = {"x"};

static const char *ou_check(const bs_input_args *a, int *blame) {
  if (!isnan(a->p[4]) && !(a->p[4] > a->p[3])) { /* null: open */
    *blame = 4;
    return "t_end must be after t_start";
  }
  return NULL;
}

static void ou_init(const bs_input_args *a, uint64_t gid0, uint64_t n) {
  (void)gid0;
  for (uint64_t i = 0; i < n; i++)
    a->x[0][i] = a->p[0];
}

static void ou_apply(const bs_input_args *a, int64_t step, uint64_t gid0,
                     uint64_t n, double *I) {
  if (step < trunc_steps(a->p[3], a->dt) || step >= end_step(a, a->p[4]))
    return;
  const double mean = a->p[0], s = a->p[1] * sqrt(a->dt), tau = a->p[2];
  double *x = a->x[0];
  for (uint64_t i = 0; i < n; i++) {
    bs_rng r;
    bs_rng_init(&r, a->seed, BS_RNG_INPUT, a->input, (uint32_t)(gid0 + i),
                (uint32_t)step);
    x[i] = x[i] + a->dt * ((mean - x[i]) / tau) + s * bs_rng_normal(&r);
    I[i] += x[i];
  }
}

const bs_input_kind bs_input_ou = {
    .name = "ou_process",
    .doc = "Ornstein-Uhlenbeck dx = (mean - x)/tau dt + sigma dW per neuron, "
           "x(0) = mean",
    .np = 5,
    .params = ou_params,
    .check = ou_check,
    .apply = ou_apply,
    .start = pinput_start, /* t_start is p[3] as PoissonInput's */
    .keyed = 1,
    .nstate = 1,
    .states = ou_states,
    .init = ou_init,
};

/* YAML config to a validated bs_spec. Every error names file:line:col (or
 * the --set override it came from) and what was expected. Names, defaults
 * and units follow BrainPy (shared/reference/brainpy-models.md). */
#define _POSIX_C_SOURCE 200809L
#include "brainsim/config.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct reader {
  bs_ctx *ctx;
  const char *file;
  struct fy_document *fyd;
  int n_set;
  char *const *set;
  struct fy_node **set_nodes; /* value node of each override */
  struct fy_node **set_keys;  /* key node an override added, if any */
  bs_spec *spec;
} reader;

typedef struct fy_node fnode;

/* ---- locations and errors -------------------------------------------- */

static const struct fy_mark *scalar_mark(fnode *n) {
  struct fy_token *t = fy_node_get_scalar_token(n);
  return t ? fy_token_start_mark(t) : NULL;
}

/* Mappings and sequences carry no mark in libfyaml 0.7: use the key that
 * introduces them, else their first scalar. */
static const struct fy_mark *node_mark(fnode *n) {
  if (!n)
    return NULL;
  if (fy_node_is_scalar(n))
    return scalar_mark(n);
  fnode *parent = fy_node_get_parent(n);
  if (parent && fy_node_is_mapping(parent)) {
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(parent, &it)))
      if (fy_node_pair_value(pr) == n && fy_node_pair_key(pr))
        return scalar_mark(fy_node_pair_key(pr));
  }
  void *it = NULL;
  if (fy_node_is_mapping(n)) {
    struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
    return pr ? node_mark(fy_node_pair_key(pr)) : NULL;
  }
  if (fy_node_is_sequence(n)) {
    fnode *c = fy_node_sequence_iterate(n, &it);
    return c ? node_mark(c) : NULL;
  }
  return NULL;
}

static int override_of(reader *rd, fnode *n) {
  for (fnode *p = n; p; p = fy_node_get_parent(p))
    for (int k = 0; k < rd->n_set; k++)
      if ((rd->set_nodes && rd->set_nodes[k] == p) ||
          (rd->set_keys && rd->set_keys[k] == p))
        return k;
  return -1;
}

__attribute__((format(printf, 3, 4))) static bs_status
err_at(reader *rd, fnode *n, const char *fmt, ...) {
  char msg[1536], where[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int k = override_of(rd, n);
  const struct fy_mark *m = node_mark(n);
  if (k >= 0)
    snprintf(where, sizeof where, "--set %s: col %d", rd->set[k],
             m ? m->column + 1 : 1);
  else if (m)
    snprintf(where, sizeof where, "%s:%d:%d", rd->file, m->line + 1,
             m->column + 1);
  else
    snprintf(where, sizeof where, "%s", rd->file);
  return bs_error_set(rd->ctx, BS_ERR_CONFIG, "%s: error: %s", where, msg);
}

static const char *kind_name(fnode *n) {
  if (!n)
    return "nothing";
  if (fy_node_is_mapping(n))
    return "a mapping";
  if (fy_node_is_sequence(n))
    return "a list";
  return "a scalar";
}

static const char *scalar(fnode *n) {
  return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

static int is_null(fnode *n) {
  const char *s = scalar(n);
  if (!n)
    return 1;
  return s && fy_node_get_style(n) == FYNS_PLAIN &&
         (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 ||
          strcmp(s, "None") == 0 || s[0] == '\0');
}

/* ---- units ------------------------------------------------------------ */

typedef struct unit_def {
  const char *name;
  bs_dim dim;
  double factor; /* to the canonical unit */
} unit_def;

static const unit_def units[] = {
    {"ms", BS_DIM_TIME, 1.0},     {"s", BS_DIM_TIME, 1000.0},
    {"us", BS_DIM_TIME, 1e-3},    {"min", BS_DIM_TIME, 60000.0},
    {"mV", BS_DIM_VOLTAGE, 1.0},  {"V", BS_DIM_VOLTAGE, 1000.0},
    {"uV", BS_DIM_VOLTAGE, 1e-3}, {"Hz", BS_DIM_RATE, 1.0},
    {"kHz", BS_DIM_RATE, 1000.0},
};

int bs_config_parse_quantity(const char *s, bs_dim dim, double *out, char *why,
                             size_t whylen) {
  char *end;
  if (!s || !*s) {
    snprintf(why, whylen, "an empty value");
    return 1;
  }
  errno = 0;
  double v = strtod(s, &end);
  if (end == s) {
    snprintf(why, whylen, "'%s', which is not a number", s);
    return 1;
  }
  if (errno == ERANGE || !isfinite(v)) {
    snprintf(why, whylen, "'%s', which is not a finite number", s);
    return 1;
  }
  while (*end == ' ' || *end == '\t')
    end++;
  if (*end == '\0') {
    *out = v;
    return 0;
  }
  for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
    if (strcmp(end, units[u].name) != 0)
      continue;
    if (units[u].dim != dim) {
      snprintf(why, whylen, "'%s', a %s, where a %s%s%s%s is expected", s,
               bs_dim_name(units[u].dim), bs_dim_name(dim),
               dim == BS_DIM_ONE ? "" : " (",
               dim == BS_DIM_ONE ? " number" : bs_dim_unit(dim),
               dim == BS_DIM_ONE ? "" : ")");
      return 1;
    }
    *out = v * units[u].factor;
    return 0;
  }
  snprintf(why, whylen,
           "'%s' with unknown unit '%s' (known: ms, s, us, "
           "min, mV, V, uV, Hz, kHz)",
           s, end);
  return 1;
}

/* ---- typed getters ---------------------------------------------------- */

static bs_status get_quantity(reader *rd, fnode *n, bs_dim dim,
                              const char *what, double *out) {
  char why[512];
  const char *s = scalar(n);
  if (!s)
    return err_at(rd, n, "%s: expected a %s value%s%s, got %s", what,
                  dim == BS_DIM_ONE ? "numeric" : bs_dim_name(dim),
                  dim == BS_DIM_ONE ? "" : " in ",
                  dim == BS_DIM_ONE ? "" : bs_dim_unit(dim), kind_name(n));
  if (bs_config_parse_quantity(s, dim, out, why, sizeof why))
    return err_at(rd, n, "%s: expected a %s value%s%s, got %s", what,
                  dim == BS_DIM_ONE ? "numeric" : bs_dim_name(dim),
                  dim == BS_DIM_ONE ? "" : " in ",
                  dim == BS_DIM_ONE ? "" : bs_dim_unit(dim), why);
  return BS_OK;
}

static bs_status get_uint(reader *rd, fnode *n, const char *what, uint64_t max,
                          uint64_t *out) {
  const char *s = scalar(n);
  char *end;
  if (!s || !*s)
    return err_at(rd, n, "%s: expected a whole number, got %s", what,
                  kind_name(n));
  errno = 0;
  if (s[0] == '-')
    return err_at(rd, n, "%s: expected a whole number >= 0, got '%s'", what, s);
  unsigned long long v = strtoull(s, &end, 10);
  if (*end == '.' || *end == 'e' || *end == 'E') {
    double d = strtod(s, &end);
    if (*end == '\0' && d == floor(d) && d >= 0 && d < 1.8e19)
      v = (unsigned long long)d;
    else
      return err_at(rd, n, "%s: expected a whole number, got '%s'", what, s);
  } else if (*end != '\0' || errno == ERANGE) {
    return err_at(rd, n, "%s: expected a whole number, got '%s'", what, s);
  }
  if (v > max)
    return err_at(rd, n, "%s: %llu is out of range (at most %llu)", what, v,
                  (unsigned long long)max);
  *out = v;
  return BS_OK;
}

static bs_status get_name(reader *rd, fnode *n, const char *what,
                          const char **out) {
  const char *s = scalar(n);
  if (!s || !*s)
    return err_at(rd, n, "%s: expected a name, got %s", what, kind_name(n));
  *out = s;
  return BS_OK;
}

/* A parameter from a descriptor table: unit, range, integer and null. */
static bs_status get_param(reader *rd, fnode *n, const bs_param *d,
                           const char *owner, double *out) {
  char what[256];
  snprintf(what, sizeof what, "%s: parameter '%s'", owner, d->name);
  if (is_null(n)) {
    if (d->flags & BS_P_NULLABLE) {
      *out = NAN;
      return BS_OK;
    }
    return err_at(rd, n, "%s may not be null", what);
  }
  const char *s = scalar(n);
  if ((d->flags & BS_P_INTEGER) && s &&
      (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)) {
    *out = strcasecmp(s, "true") == 0;
    return BS_OK;
  }
  double v;
  BS_CALL(rd->ctx, get_quantity(rd, n, d->dim, what, &v));
  if ((d->flags & BS_P_INTEGER) && v != floor(v))
    return err_at(rd, n, "%s must be a whole number, got %g", what, v);
  int lo_bad = (d->flags & BS_P_LO_OPEN) ? !(v > d->lo) : !(v >= d->lo);
  int hi_bad = (d->flags & BS_P_HI_OPEN) ? !(v < d->hi) : !(v <= d->hi);
  if (lo_bad || hi_bad) {
    char lo[64] = "", hi[64] = "";
    if (isfinite(d->lo))
      snprintf(lo, sizeof lo, "%s %g",
               (d->flags & BS_P_LO_OPEN) ? ">" : ">=", d->lo);
    if (isfinite(d->hi))
      snprintf(hi, sizeof hi, "%s%s %g", *lo ? " and " : "",
               (d->flags & BS_P_HI_OPEN) ? "<" : "<=", d->hi);
    return err_at(rd, n, "%s = %g is out of range: must be %s%s %s", what, v,
                  lo, hi, d->dim == BS_DIM_ONE ? "" : bs_dim_unit(d->dim));
  }
  *out = v;
  return BS_OK;
}

/* Initializers, as BrainPy's: a constant, {Uniform: [lo, hi]} or
 * {Uniform: {min_val, max_val}}, {Normal: [mean, scale]} or
 * {Normal: {mean, scale}}, {LogNormal: [mean, scale]} (of the logarithm,
 * dimensionless; the value is in the quantity's canonical unit),
 * {TruncatedNormal: [mean, scale, lower, upper]} or {TruncatedNormal:
 * {mean, scale, lower, upper}} (low/high accepted; a missing or null
 * bound is no bound). */
static bs_status get_dist_kv(reader *rd, fnode *k, fnode *v, bs_dim dim,
                             const char *what, bs_dist *out);

static bs_status get_dist(reader *rd, fnode *n, bs_dim dim, const char *what,
                          bs_dist *out) {
  out->c = -HUGE_VAL;
  out->d = HUGE_VAL;
  if (fy_node_is_scalar(n)) {
    out->kind = BS_DIST_CONST;
    out->b = 0;
    return get_quantity(rd, n, dim, what, &out->a);
  }
  if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
    return err_at(rd, n,
                  "%s: expected a value, {Uniform: [low, high]}, "
                  "{Normal: [mean, scale]}, {LogNormal: [mean, scale]} or "
                  "{TruncatedNormal: [mean, scale, lower, upper]}, got %s",
                  what, kind_name(n));
  void *it = NULL;
  struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
  return get_dist_kv(rd, fy_node_pair_key(pr), fy_node_pair_value(pr), dim,
                     what, out);
}

/* The {KIND: ARGS} pair of an initializer. */
static bs_status get_dist_kv(reader *rd, fnode *k, fnode *v, bs_dim dim,
                             const char *what, bs_dist *out) {
  out->c = -HUGE_VAL;
  out->d = HUGE_VAL;
  const char *kind = scalar(k);
  /* Keyword names per position; alt: accepted synonyms. */
  const char *names[4] = {NULL, NULL, NULL, NULL};
  const char *alt[4] = {NULL, NULL, NULL, NULL};
  int nreq = 2, nmax = 2;
  bs_dim dims[4] = {dim, dim, dim, dim};
  if (kind && strcasecmp(kind, "uniform") == 0) {
    out->kind = BS_DIST_UNIFORM;
    names[0] = "min_val";
    names[1] = "max_val";
  } else if (kind && strcasecmp(kind, "normal") == 0) {
    out->kind = BS_DIST_NORMAL;
    names[0] = "mean";
    names[1] = "scale";
  } else if (kind && strcasecmp(kind, "lognormal") == 0) {
    out->kind = BS_DIST_LOGNORMAL;
    names[0] = "mean";
    names[1] = "scale";
    dims[0] = dims[1] = BS_DIM_ONE; /* parameters of log(value) */
  } else if (kind && (strcasecmp(kind, "truncatednormal") == 0 ||
                      strcasecmp(kind, "truncnormal") == 0)) {
    out->kind = BS_DIST_TRUNCNORMAL;
    names[0] = "mean";
    names[1] = "scale";
    names[2] = "lower";
    names[3] = "upper";
    alt[2] = "low";
    alt[3] = "high";
    nmax = 4;
  } else {
    return err_at(rd, k,
                  "%s: unknown initializer '%s' (expected Uniform, Normal, "
                  "LogNormal or TruncatedNormal)",
                  what, kind ? kind : "?");
  }
  fnode *arg[4] = {NULL, NULL, NULL, NULL};
  if (fy_node_is_sequence(v) && fy_node_sequence_item_count(v) >= nreq &&
      fy_node_sequence_item_count(v) <= nmax) {
    for (int q = 0; q < fy_node_sequence_item_count(v); q++)
      arg[q] = fy_node_sequence_get_by_index(v, q);
  } else if (fy_node_is_mapping(v)) {
    void *it2 = NULL;
    struct fy_node_pair *q;
    while ((q = fy_node_mapping_iterate(v, &it2))) {
      const char *key = scalar(fy_node_pair_key(q));
      int found = -1;
      for (int m = 0; m < nmax && key; m++)
        if (strcmp(key, names[m]) == 0 || (alt[m] && strcmp(key, alt[m]) == 0))
          found = m;
      if (found < 0)
        return err_at(rd, fy_node_pair_key(q),
                      "%s: unknown key '%s' in %s (expected %s, %s%s%s%s%s)",
                      what, key ? key : "?", kind, names[0], names[1],
                      nmax > 2 ? ", " : "", nmax > 2 ? names[2] : "",
                      nmax > 2 ? ", " : "", nmax > 2 ? names[3] : "");
      arg[found] = fy_node_pair_value(q);
    }
    if (!arg[0] || !arg[1])
      return err_at(rd, v, "%s: %s needs both %s and %s", what, kind, names[0],
                    names[1]);
  } else {
    if (nmax > 2)
      return err_at(rd, v, "%s: %s expects [%s, %s, %s, %s]", what, kind,
                    names[0], names[1], names[2], names[3]);
    return err_at(rd, v, "%s: %s expects [%s, %s]", what, kind, names[0],
                  names[1]);
  }
  double val[4] = {0, 0, -HUGE_VAL, HUGE_VAL};
  for (int q = 0; q < nmax; q++)
    if (arg[q] && !(q >= 2 && is_null(arg[q])))
      BS_CALL(rd->ctx, get_quantity(rd, arg[q], dims[q], what, &val[q]));
  out->a = val[0];
  /* The spread of a normal has the same unit as its mean. */
  out->b = val[1];
  if (out->kind == BS_DIST_UNIFORM && !(out->b > out->a))
    return err_at(rd, v, "%s: Uniform needs low < high, got [%g, %g]", what,
                  out->a, out->b);
  if (out->kind != BS_DIST_UNIFORM && !(out->b >= 0))
    return err_at(rd, arg[1], "%s: %s scale must be >= 0, got %g", what, kind,
                  out->b);
  if (out->kind == BS_DIST_TRUNCNORMAL) {
    out->c = val[2];
    out->d = val[3];
    if (!(out->c < out->d))
      return err_at(rd, v,
                    "%s: TruncatedNormal needs lower < upper, got %g "
                    "and %g",
                    what, out->c, out->d);
    if (bs_dist_truncnormal_mass(out) < 1e-3)
      return err_at(rd, v,
                    "%s: TruncatedNormal bounds [%g, %g] hold %.3g of the "
                    "mass of Normal(%g, %g); at least 1e-3 is needed",
                    what, out->c, out->d, bs_dist_truncnormal_mass(out), out->a,
                    out->b);
  }
  return BS_OK;
}

/* ---- mapping helpers -------------------------------------------------- */

/* Look up key in a mapping; NULL if absent. */
static fnode *lookup(fnode *map, const char *key) {
  if (!map || !fy_node_is_mapping(map))
    return NULL;
  struct fy_node_pair *pr =
      fy_node_mapping_lookup_pair_by_string(map, key, strlen(key));
  return pr ? fy_node_pair_value(pr) : NULL;
}

static bs_status expect_mapping(reader *rd, fnode *n, const char *what) {
  if (!n || !fy_node_is_mapping(n))
    return err_at(rd, n, "%s: expected a mapping (key: value), got %s", what,
                  kind_name(n));
  return BS_OK;
}

/* Reject keys not in the allowed list (NULL-terminated) nor accepted by
 * the extra callback. */
typedef int (*key_ok_fn)(const void *data, const char *key);

static bs_status check_keys(reader *rd, fnode *map, const char *what,
                            const char *const *allowed, key_ok_fn extra,
                            const void *data, const char *expected) {
  void *it = NULL;
  struct fy_node_pair *pr;
  while ((pr = fy_node_mapping_iterate(map, &it))) {
    fnode *k = fy_node_pair_key(pr);
    const char *key = scalar(k);
    if (!key)
      return err_at(rd, k, "%s: keys must be plain names", what);
    int ok = 0;
    for (int i = 0; allowed && allowed[i]; i++)
      if (strcmp(allowed[i], key) == 0)
        ok = 1;
    if (!ok && extra && extra(data, key))
      ok = 1;
    if (!ok)
      return err_at(rd, k, "%s: unknown key '%s' (expected one of: %s)", what,
                    key, expected);
  }
  return BS_OK;
}

static void list_params(char *buf, size_t len, const char *const *fixed, int np,
                        const bs_param *params, const char *suffix) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; fixed && fixed[i]; i++)
    used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                             used ? ", " : "", fixed[i]);
  for (int i = 0; i < np; i++)
    used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                             used ? ", " : "", params[i].name);
  if (suffix)
    snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? ", " : "",
             suffix);
}

/* One parameter from the mapping, or its default. */
static bs_status read_param(reader *rd, fnode *map, const bs_param *d,
                            const char *owner, double *p) {
  fnode *v = lookup(map, d->name);
  if (!v) {
    if (d->flags & BS_P_REQUIRED)
      return err_at(rd, map, "%s: missing required parameter '%s' (%s)", owner,
                    d->name, d->doc);
    *p = d->def;
    return BS_OK;
  }
  return get_param(rd, v, d, owner, p);
}

/* A list of exactly n quantities (per neuron values). */
static bs_status get_list(reader *rd, fnode *n, uint64_t len, bs_dim dim,
                          const char *what, double **out) {
  if ((uint64_t)fy_node_sequence_item_count(n) != len)
    return err_at(rd, n,
                  "%s: a list needs exactly %llu values (one per "
                  "neuron), got %d",
                  what, (unsigned long long)len,
                  fy_node_sequence_item_count(n));
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, len ? len : 1, sizeof(double), out));
  void *it = NULL;
  fnode *e;
  for (uint64_t q = 0; (e = fy_node_sequence_iterate(n, &it)); q++)
    BS_CALL(rd->ctx, get_quantity(rd, e, dim, what, &(*out)[q]));
  return BS_OK;
}

/* Fill p[] from the mapping's keys that name parameters; defaults else. */
static bs_status read_params(reader *rd, fnode *map, int np,
                             const bs_param *params, const char *owner,
                             double *p) {
  for (int i = 0; i < np; i++)
    BS_CALL(rd->ctx, read_param(rd, map, &params[i], owner, &p[i]));
  return BS_OK;
}

static int find_pop(const bs_spec *s, const char *name) {
  for (int i = 0; i < s->n_pops; i++)
    if (s->pops[i].name && strcmp(s->pops[i].name, name) == 0)
      return i;
  return -1;
}

static int find_proj(const bs_spec *s, const char *name) {
  for (int i = 0; i < s->n_projs; i++)
    if (s->projs[i].name && strcmp(s->projs[i].name, name) == 0)
      return i;
  return -1;
}

static bs_status get_pop_ref(reader *rd, fnode *n, const char *what, int *out) {
  const char *name = NULL;
  BS_CALL(rd->ctx, get_name(rd, n, what, &name));
  *out = find_pop(rd->spec, name);
  if (*out < 0) {
    char known[512];
    size_t used = 0;
    known[0] = '\0';
    for (int i = 0; i < rd->spec->n_pops; i++)
      used += (size_t)snprintf(known + used,
                               used < sizeof known ? sizeof known - used : 0,
                               "%s%s", i ? ", " : "", rd->spec->pops[i].name);
    return err_at(rd, n, "%s: no population named '%s' (populations: %s)", what,
                  name, known);
  }
  return BS_OK;
}

/* ---- run -------------------------------------------------------------- */

static bs_status read_run(reader *rd, fnode *run) {
  static const char *const keys[] = {"dt", "duration", "seed", "trials", NULL};
  bs_spec *s = rd->spec;
  BS_CALL(rd->ctx, expect_mapping(rd, run, "run"));
  BS_CALL(rd->ctx, check_keys(rd, run, "run", keys, NULL, NULL,
                              "dt, duration, seed, trials"));
  static const bs_param dt_p = {"dt", BS_DIM_TIME,  0.1,        0,
                                1000, BS_P_LO_OPEN, "time step"};
  static const bs_param dur_p = {
      "duration",      BS_DIM_TIME, NAN, 0, 1e15, BS_P_LO_OPEN | BS_P_REQUIRED,
      "simulated time"};
  BS_CALL(rd->ctx, read_params(rd, run, 1, &dt_p, "run", &s->dt));
  BS_CALL(rd->ctx, read_params(rd, run, 1, &dur_p, "run", &s->duration));
  double steps = s->duration / s->dt;
  s->n_steps = (int64_t)llround(steps);
  if (fabs(steps - (double)s->n_steps) > 1e-6 * (steps > 1 ? steps : 1))
    return err_at(rd, lookup(run, "duration"),
                  "run: duration %g ms is not a whole number of steps of "
                  "dt = %g ms",
                  s->duration, s->dt);
  /* Trials (BrainPy's reset() between runs): `duration` is one trial; the
   * run is `trials` of them back to back, state reset at each start. */
  fnode *tr = lookup(run, "trials");
  s->trials = 1;
  if (tr)
    BS_CALL(rd->ctx, get_uint(rd, tr, "run: trials", 1000000, &s->trials));
  if (s->trials < 1)
    return err_at(rd, tr, "run: trials must be at least 1");
  s->trial_steps = s->n_steps;
  s->trial_duration = s->duration;
  s->n_steps *= (int64_t)s->trials;
  s->duration *= (double)s->trials;
  if (s->n_steps > INT32_MAX)
    return err_at(rd, lookup(run, "duration"),
                  "run: %lld steps is too many (at most %d)",
                  (long long)s->n_steps, INT32_MAX);
  fnode *seed = lookup(run, "seed");
  s->seed = 0;
  if (seed)
    BS_CALL(rd->ctx, get_uint(rd, seed, "run: seed", UINT32_MAX, &s->seed));
  return BS_OK;
}

/* ---- populations ------------------------------------------------------ */

static int pop_key_ok(const void *data, const char *key) {
  const bs_neuron_model *m = data;
  if (bs_param_index(m->np, m->params, key) >= 0)
    return 1;
  size_t n = strlen(key);
  const char *suf = "_initializer";
  size_t ns = strlen(suf);
  if (n > ns && strcmp(key + n - ns, suf) == 0) {
    char var[128];
    snprintf(var, sizeof var, "%.*s", (int)(n - ns), key);
    return bs_var_index(m->nx, m->vars, var) >= 0;
  }
  return 0;
}

/* ConNeuGroup's channels: {NAME: {kind: KIND, params...}}; an ion kind
 * may hold its own `channels`. Appends to ch (parents first). */
#define MAX_CHANNELS 64

static int chan_key_ok(const void *data, const char *key) {
  const bs_channel_kind *kd = data;
  return strcmp(key, "kind") == 0 ||
         ((kd->flags & BS_CH_ION) && strcmp(key, "channels") == 0) ||
         bs_param_index(kd->np, kd->params, key) >= 0;
}

static bs_status read_channels(reader *rd, const char *owner, fnode *map,
                               int parent, bs_cng_channel *ch, int *nch) {
  char what[512];
  snprintf(what, sizeof what, "%s: channels", owner);
  BS_CALL(rd->ctx, expect_mapping(rd, map, what));
  void *it = NULL;
  struct fy_node_pair *pr;
  while ((pr = fy_node_mapping_iterate(map, &it))) {
    const char *cname = NULL;
    BS_CALL(rd->ctx, get_name(rd, fy_node_pair_key(pr), what, &cname));
    fnode *body = fy_node_pair_value(pr);
    char cowner[512];
    snprintf(cowner, sizeof cowner, "%s: channel '%s'", owner, cname);
    if (strchr(cname, '.'))
      return err_at(rd, fy_node_pair_key(pr),
                    "%s: a channel name may not contain '.'", cowner);
    BS_CALL(rd->ctx, expect_mapping(rd, body, cowner));
    fnode *kn = lookup(body, "kind");
    if (!kn)
      return err_at(rd, body, "%s: missing required key 'kind'", cowner);
    const char *kname = NULL;
    BS_CALL(rd->ctx, get_name(rd, kn, cowner, &kname));
    const bs_channel_kind *kd = bs_channel_find(kname);
    if (!kd) {
      char known[1024];
      size_t used = 0;
      known[0] = '\0';
      for (int i = 0; i < bs_channel_count(); i++)
        used += (size_t)snprintf(known + used,
                                 used < sizeof known ? sizeof known - used : 0,
                                 "%s%s", i ? ", " : "", bs_channel_at(i)->name);
      return err_at(rd, kn, "%s: unknown channel kind '%s' (available: %s)",
                    cowner, kname, known);
    }
    if ((kd->flags & BS_CH_ION) && parent >= 0)
      return err_at(rd, kn, "%s: an ion (%s) cannot be inside another ion",
                    cowner, kname);
    if ((kd->flags & BS_CH_NEEDS_ION) && parent < 0)
      return err_at(rd, kn,
                    "%s: %s needs a calcium ion: list it under the channels "
                    "of one, e.g. Ca: {kind: CalciumDetailed, channels: "
                    "{%s: {kind: %s}}}",
                    cowner, kname, cname, kname);
    char expected[1024];
    static const char *const kfixed[] = {"kind", NULL};
    list_params(expected, sizeof expected, kfixed, kd->np, kd->params,
                (kd->flags & BS_CH_ION) ? "channels" : NULL);
    BS_CALL(rd->ctx,
            check_keys(rd, body, cowner, NULL, chan_key_ok, kd, expected));
    if (*nch == MAX_CHANNELS)
      return err_at(rd, fy_node_pair_key(pr), "%s: more than %d channels",
                    cowner, MAX_CHANNELS);
    bs_cng_channel *c = &ch[(*nch)++];
    memset(c, 0, sizeof *c);
    c->name = cname;
    c->kind = kd;
    c->parent = parent;
    BS_CALL(rd->ctx, read_params(rd, body, kd->np, kd->params, cowner, c->p));
    fnode *sub = lookup(body, "channels");
    if (sub && !is_null(sub))
      BS_CALL(rd->ctx, read_channels(rd, cowner, sub, (int)(c - ch), ch, nch));
  }
  return BS_OK;
}

static bs_status read_pop(reader *rd, const char *name, fnode *n,
                          bs_pop_spec *pop) {
  static const char *const fixed[] = {"model", "size", "method", NULL};
  char owner[256], expected[3072];
  snprintf(owner, sizeof owner, "population '%s'", name);
  BS_CALL(rd->ctx, expect_mapping(rd, n, owner));
  pop->name = bs_strdup(name);
  fnode *model = lookup(n, "model");
  if (!model)
    return err_at(rd, n, "%s: missing required key 'model'", owner);
  const char *mname = NULL;
  BS_CALL(rd->ctx, get_name(rd, model, owner, &mname));
  pop->model = bs_neuron_find(mname);
  if (!pop->model) {
    char known[512];
    size_t used = 0;
    for (int i = 0; i < bs_neuron_count(); i++)
      used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                               i ? ", " : "", bs_neuron_at(i)->name);
    return err_at(rd, model, "%s: unknown model '%s' (available: %s)", owner,
                  mname, known);
  }
  const int is_cng = bs_neuron_is_cng(pop->model);
  static const char *const fixed_cng[] = {"model", "size", "method", "channels",
                                          NULL};
  if (is_cng) {
    fnode *chn = lookup(n, "channels");
    if (!chn || is_null(chn))
      return err_at(rd, model,
                    "%s: ConNeuGroup needs channels: {NAME: {kind: KIND, "
                    "...}, ...}",
                    owner);
    bs_cng_channel ch[MAX_CHANNELS];
    int nch = 0;
    BS_CALL(rd->ctx, read_channels(rd, owner, chn, -1, ch, &nch));
    pop->own = bs_cng_create(nch, ch);
    if (!pop->own)
      return bs_error_set(rd->ctx, BS_ERR_NOMEM, "%s: out of memory", owner);
    pop->model = pop->own;
  }
  const bs_neuron_model *m = pop->model;
  char suffix[2048];
  size_t used = 0;
  suffix[0] = '\0';
  for (int i = 0; i < m->nx; i++)
    used +=
        (size_t)snprintf(suffix + used, sizeof suffix - used,
                         "%s%s_initializer", i ? ", " : "", m->vars[i].name);
  list_params(expected, sizeof expected, is_cng ? fixed_cng : fixed, m->np,
              m->params, used ? suffix : NULL);
  BS_CALL(rd->ctx, check_keys(rd, n, owner, is_cng ? fixed_cng : fixed,
                              pop_key_ok, m, expected));
  fnode *size = lookup(n, "size");
  if (!size)
    return err_at(rd, n, "%s: missing required key 'size'", owner);
  BS_CALL(rd->ctx, get_uint(rd, size, "size", UINT32_MAX - 1, &pop->size));
  if (pop->size == 0)
    return err_at(rd, size, "%s: size must be at least 1", owner);
  fnode *method = lookup(n, "method");
  pop->method = BS_METHOD_EXP_AUTO;
  if (method) {
    const char *meth = NULL;
    BS_CALL(rd->ctx, get_name(rd, method, owner, &meth));
    const unsigned mask = m->methods ? m->methods : 1u << BS_METHOD_EXP_AUTO;
    const int mi = bs_method_find(meth);
    if (mi < 0 || !(mask & (1u << mi))) {
      char known[128];
      size_t kn = 0;
      known[0] = '\0';
      for (int q = 0; q < BS_METHOD_COUNT; q++)
        if (mask & (1u << q))
          kn += (size_t)snprintf(known + kn, sizeof known - kn, "%s%s",
                                 kn ? ", " : "", bs_method_name(q));
      return err_at(rd, method,
                    "%s: method '%s' is not available for %s (available: "
                    "%s)",
                    owner, meth, m->name, known);
    }
    pop->method = mi;
  }
  BS_CALL(rd->ctx, read_params(rd, n, m->np, m->params, owner, pop->p));
  if (m->check) {
    int blame = -1;
    const char *why = m->check(pop->p, rd->spec->dt, &blame);
    if (why) {
      fnode *at = blame >= 0 ? lookup(n, m->params[blame].name) : NULL;
      return err_at(rd, at ? at : model, "%s: %s", owner, why);
    }
  }
  BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)(m->nx ? m->nx : 1),
                             sizeof *pop->init, &pop->init));
  for (int i = 0; i < m->nx; i++) {
    char key[160];
    snprintf(key, sizeof key, "%s_initializer", m->vars[i].name);
    fnode *v = lookup(n, key);
    pop->init[i].kind = m->vars[i].init_kind;
    pop->init[i].a = m->vars[i].init;
    pop->init[i].b = m->vars[i].init_b;
    if (v) {
      char what[448];
      snprintf(what, sizeof what, "%s: %s", owner, key);
      BS_CALL(rd->ctx, get_dist(rd, v, m->vars[i].dim, what, &pop->init[i]));
    }
  }
  return BS_OK;
}

/* ---- projections ------------------------------------------------------ */

typedef struct proj_keys {
  const bs_syn_model *syn;
  const bs_output_model *alias_out;
} proj_keys;

static int proj_key_ok(const void *data, const char *key) {
  const proj_keys *pk = data;
  if (bs_param_index(pk->syn->np, pk->syn->params, key) >= 0)
    return 1;
  return pk->alias_out &&
         bs_param_index(pk->alias_out->np, pk->alias_out->params, key) >= 0;
}

/* The output's parameters; E may also be an initializer or a list of
 * post.num values (per post neuron, like a population's state). */
static bs_status read_out_params(reader *rd, fnode *map, const char *owner,
                                 bs_proj_spec *pj) {
  const bs_output_model *o = pj->out;
  pj->E_idx = bs_param_index(o->np, o->params, "E");
  for (int i = 0; i < o->np; i++) {
    fnode *v = lookup(map, o->params[i].name);
    if (i != pj->E_idx || !v || fy_node_is_scalar(v)) {
      BS_CALL(rd->ctx, read_param(rd, map, &o->params[i], owner, &pj->op[i]));
      continue;
    }
    char what[320];
    snprintf(what, sizeof what, "%s: E", owner);
    pj->E_per_post = 1;
    pj->op[i] = NAN; /* unused: E_post */
    if (fy_node_is_sequence(v))
      BS_CALL(rd->ctx, get_list(rd, v, rd->spec->pops[pj->post].size,
                                BS_DIM_VOLTAGE, what, &pj->E_list));
    else
      BS_CALL(rd->ctx, get_dist(rd, v, BS_DIM_VOLTAGE, what, &pj->E_init));
  }
  return BS_OK;
}

static bs_status read_output(reader *rd, fnode *n, const char *owner,
                             bs_proj_spec *pj) {
  fnode *body = NULL, *namenode = n;
  const char *name = scalar(n);
  if (!name) {
    if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
      return err_at(rd, n,
                    "%s: output: expected CUBA, COBA or {COBA: {E: ...}}, "
                    "got %s",
                    owner, kind_name(n));
    void *it = NULL;
    struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
    namenode = fy_node_pair_key(pr);
    name = scalar(namenode);
    body = fy_node_pair_value(pr);
  }
  pj->out = name ? bs_output_find(name) : NULL;
  if (!pj->out) {
    char known[256];
    size_t used = 0;
    for (int i = 0; i < bs_output_count(); i++)
      used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                               i ? ", " : "", bs_output_at(i)->name);
    return err_at(rd, namenode, "%s: unknown output '%s' (available: %s)",
                  owner, name ? name : "?", known);
  }
  char what[300], expected[512];
  snprintf(what, sizeof what, "%s: output %s", owner, pj->out->name);
  if (body && !is_null(body)) {
    BS_CALL(rd->ctx, expect_mapping(rd, body, what));
    list_params(expected, sizeof expected, NULL, pj->out->np, pj->out->params,
                NULL);
    BS_CALL(rd->ctx,
            check_keys(rd, body, what, NULL, proj_key_ok,
                       &(proj_keys){&(bs_syn_model){.np = pj->out->np,
                                                    .params = pj->out->params},
                                    NULL},
                       pj->out->np ? expected : "(none)"));
  }
  BS_CALL(rd->ctx, read_out_params(rd, body, what, pj));
  return BS_OK;
}

/* stp: STD | STP | {STD: {tau, U}} | {STP: {U, tau_f, tau_d}} | null. */
static bs_status read_stp(reader *rd, fnode *n, const char *owner,
                          bs_proj_spec *pj) {
  if (is_null(n))
    return BS_OK;
  fnode *body = NULL, *namenode = n;
  const char *name = scalar(n);
  if (!name) {
    if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
      return err_at(rd, n,
                    "%s: stp: expected STD, STP, {STD: {tau: 200 ms, U: "
                    "0.07}} or {STP: {U: 0.15, tau_f: 1500 ms, tau_d: 200 "
                    "ms}}, got %s",
                    owner, kind_name(n));
    void *it = NULL;
    struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
    namenode = fy_node_pair_key(pr);
    name = scalar(namenode);
    body = fy_node_pair_value(pr);
  }
  const bs_stp_model *m = name ? bs_stp_find(name) : NULL;
  if (!m)
    return err_at(rd, namenode,
                  "%s: unknown short-term plasticity '%s' (available: STD, "
                  "STP)",
                  owner, name ? name : "?");
  char what[300], expected[256];
  snprintf(what, sizeof what, "%s: stp %s", owner, m->name);
  if (body && !is_null(body)) {
    BS_CALL(rd->ctx, expect_mapping(rd, body, what));
    list_params(expected, sizeof expected, NULL, m->np, m->params, NULL);
    BS_CALL(
        rd->ctx,
        check_keys(rd, body, what, NULL, proj_key_ok,
                   &(proj_keys){
                       &(bs_syn_model){.np = m->np, .params = m->params}, NULL},
                   expected));
  } else {
    body = NULL;
  }
  double p[BS_STP_NP];
  BS_CALL(rd->ctx, read_params(rd, body, m->np, m->params, what, p));
  pj->stpp[0] = pj->stpp[1] = pj->stpp[2] = 0.0;
  for (int i = 0; i < m->np; i++)
    pj->stpp[m->slot[i]] = p[i];
  pj->stp = m;
  return BS_OK;
}

/* plasticity: RULE | {RULE: {params}} | null (README "Long-term
 * plasticity"). Weights become per synapse and mutable: the synapse must
 * be linear in the spike train and the storage sparse. */
static bs_status read_plasticity(reader *rd, fnode *n, fnode *proj,
                                 const char *owner, bs_proj_spec *pj) {
  if (is_null(n))
    return BS_OK;
  fnode *body = NULL, *namenode = n;
  const char *name = scalar(n);
  if (!name) {
    if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
      return err_at(rd, n,
                    "%s: plasticity: expected a rule name or {RULE: "
                    "{parameters}}, e.g. {STDP_Song2000: {tau_s: 20 ms}}, "
                    "got %s",
                    owner, kind_name(n));
    void *it = NULL;
    struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
    namenode = fy_node_pair_key(pr);
    name = scalar(namenode);
    body = fy_node_pair_value(pr);
  }
  const bs_plast_rule *m = name ? bs_plast_find(name) : NULL;
  if (!m) {
    char avail[256] = "";
    for (int i = 0; i < bs_plast_count(); i++)
      snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s",
               i ? ", " : "", bs_plast_at(i)->name);
    return err_at(rd, namenode,
                  "%s: unknown plasticity rule '%s' (available: %s)", owner,
                  name ? name : "?", avail);
  }
  char what[300], expected[512];
  snprintf(what, sizeof what, "%s: plasticity %s", owner, m->name);
  if (body && !is_null(body)) {
    BS_CALL(rd->ctx, expect_mapping(rd, body, what));
    list_params(expected, sizeof expected, NULL, m->np, m->params, NULL);
    BS_CALL(
        rd->ctx,
        check_keys(rd, body, what, NULL, proj_key_ok,
                   &(proj_keys){
                       &(bs_syn_model){.np = m->np, .params = m->params}, NULL},
                   expected));
  } else {
    body = NULL;
  }
  BS_CALL(rd->ctx, read_params(rd, body, m->np, m->params, what, pj->plp));
  const char *bad = m->check ? m->check(pj->plp) : NULL;
  if (bad)
    return err_at(rd, n, "%s: %s", what, bad);
  if (pj->syn->trace || pj->syn->to_V || pj->syn->gap)
    return err_at(rd, n,
                  "%s: needs a synapse linear in the spike train "
                  "(Exponential, DualExponential, Alpha, ...), not %s",
                  what, pj->syn->name);
  if (pj->dense)
    return err_at(rd, lookup(proj, "comp_method"),
                  "%s: needs sparse storage (weights are per synapse and "
                  "change); drop comp_method: dense",
                  what);
  pj->plast = m;
  return BS_OK;
}

/* IJ's optional per-pair lists g_max, delay (time) or delay_step (whole
 * steps), as long as i and j; they take the place of the projection's
 * g_max and delay. */
static bs_status read_ij_values(reader *rd, fnode *v, const char *owner,
                                bs_proj_spec *pj, uint64_t n) {
  fnode *lw = lookup(v, "g_max"), *ld = lookup(v, "delay"),
        *ls = lookup(v, "delay_step");
  if (ld && ls)
    return err_at(rd, ls,
                  "%s: give either delay (time) or delay_step (steps), "
                  "not both",
                  owner);
  fnode *lists[2] = {lw, ld ? ld : ls};
  for (int k = 0; k < 2; k++) {
    fnode *l = lists[k];
    if (!l)
      continue;
    const char *name = k == 0 ? "g_max" : ld ? "delay" : "delay_step";
    if (!fy_node_is_sequence(l) ||
        (uint64_t)fy_node_sequence_item_count(l) != n)
      return err_at(rd, l,
                    "%s: IJ %s: expected a list of %llu values (one "
                    "per pair), got %s",
                    owner, name, (unsigned long long)n, kind_name(l));
    double **dst = k == 0 ? &pj->ij_w : &pj->ij_d;
    BS_CALL(rd->ctx, bs_malloc(rd->ctx, n ? n : 1, sizeof(double), dst));
    char what[320];
    snprintf(what, sizeof what, "%s: IJ %s", owner, name);
    for (uint64_t q = 0; q < n; q++) {
      fnode *e = fy_node_sequence_get_by_index(l, (int)q);
      double x;
      BS_CALL(rd->ctx,
              get_quantity(rd, e, k == 1 && ld ? BS_DIM_TIME : BS_DIM_ONE, what,
                           &x));
      if (k == 1) {
        double st = floor((ld ? x * (1.0 / rd->spec->dt) : x) + 0.5);
        if (!ld && st != x)
          return err_at(rd, e, "%s: delay_step must be a whole number", what);
        if (!(st >= 0 && st <= 1e6))
          return err_at(rd, e,
                        "%s: delay must be between 0 and 1e6 steps, got %g "
                        "steps",
                        what, st);
        x = st;
      } else if (!isfinite(x)) {
        return err_at(rd, e, "%s: expected a finite number", what);
      }
      (*dst)[q] = x;
    }
  }
  return BS_OK;
}

static bs_status read_ij(reader *rd, fnode *v, const char *owner,
                         bs_proj_spec *pj, uint64_t n_pre, uint64_t n_post) {
  fnode *li = NULL, *lj = NULL;
  uint64_t n;
  if (fy_node_is_mapping(v)) {
    static const char *const keys[] = {"i",     "j",          "g_max",
                                       "delay", "delay_step", NULL};
    BS_CALL(rd->ctx, check_keys(rd, v, owner, keys, NULL, NULL,
                                "i, j, g_max, delay, delay_step"));
    li = lookup(v, "i");
    lj = lookup(v, "j");
    if (!li || !lj || !fy_node_is_sequence(li) || !fy_node_is_sequence(lj))
      return err_at(rd, v, "%s: IJ needs lists i (pre ids) and j (post ids)",
                    owner);
    n = (uint64_t)fy_node_sequence_item_count(li);
    if ((uint64_t)fy_node_sequence_item_count(lj) != n)
      return err_at(rd, lj,
                    "%s: IJ lists i and j differ in length (%llu vs "
                    "%d)",
                    owner, (unsigned long long)n,
                    fy_node_sequence_item_count(lj));
  } else if (fy_node_is_sequence(v)) {
    n = (uint64_t)fy_node_sequence_item_count(v);
  } else {
    return err_at(rd, v,
                  "%s: IJ expects {i: [...], j: [...]} or [[pre, post], ...]",
                  owner);
  }
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, n ? n : 1, sizeof(uint64_t), &pj->ci));
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, n ? n : 1, sizeof(uint64_t), &pj->cj));
  pj->n_ij = n;
  for (uint64_t q = 0; q < n; q++) {
    fnode *a, *b;
    if (li) {
      a = fy_node_sequence_get_by_index(li, (int)q);
      b = fy_node_sequence_get_by_index(lj, (int)q);
    } else {
      fnode *pair = fy_node_sequence_get_by_index(v, (int)q);
      if (!fy_node_is_sequence(pair) || fy_node_sequence_item_count(pair) != 2)
        return err_at(rd, pair, "%s: IJ pair %llu: expected [pre, post]", owner,
                      (unsigned long long)q);
      a = fy_node_sequence_get_by_index(pair, 0);
      b = fy_node_sequence_get_by_index(pair, 1);
    }
    BS_CALL(rd->ctx, get_uint(rd, a, "IJ pre id", n_pre - 1, &pj->ci[q]));
    BS_CALL(rd->ctx, get_uint(rd, b, "IJ post id", n_post - 1, &pj->cj[q]));
  }
  if (li)
    BS_CALL(rd->ctx, read_ij_values(rd, v, owner, pj, n));
  return BS_OK;
}

/* A path in the config, relative to the config file's folder. */
static bs_status get_path(reader *rd, fnode *n, const char *what, char **out) {
  const char *v = NULL;
  BS_CALL(rd->ctx, get_name(rd, n, what, &v));
  const char *slash = strrchr(rd->file, '/');
  size_t dl = v[0] == '/' || !slash ? 0 : (size_t)(slash - rd->file) + 1;
  free(*out);
  *out = malloc(dl + strlen(v) + 1);
  if (!*out)
    return bs_error_set(rd->ctx, BS_ERR_NOMEM, "out of memory");
  memcpy(*out, rd->file, dl);
  strcpy(*out + dl, v);
  return BS_OK;
}

static bs_status get_string(reader *rd, fnode *n, const char *what,
                            char **out) {
  const char *v = NULL;
  BS_CALL(rd->ctx, get_name(rd, n, what, &v));
  free(*out);
  *out = bs_strdup(v);
  return BS_OK;
}

/* File: {file, group} and SONATA: {file, population, source, target}. The
 * file itself is read when the network is built (io/ owns HDF5). */
static bs_status read_file_connect(reader *rd, fnode *body, const char *what,
                                   bs_proj_spec *pj) {
  const int sonata = bs_connector_file_kind(pj->conn) == 2;
  static const char *const kf[] = {"file", "group", NULL};
  static const char *const ks[] = {"file", "population", "source", "target",
                                   NULL};
  if (!fy_node_is_mapping(body))
    return err_at(rd, body, "%s: expected %s, got %s", what,
                  sonata ? "{file: edges.h5, population: name}"
                         : "{file: conn.h5, group: /path}",
                  kind_name(body));
  BS_CALL(rd->ctx, check_keys(rd, body, what, sonata ? ks : kf, NULL, NULL,
                              sonata ? "file, population, source, target"
                                     : "file, group"));
  fnode *f = lookup(body, "file");
  if (!f)
    return err_at(rd, body,
                  "%s: missing required key 'file' (an HDF5 file, "
                  "relative to the config's folder)",
                  what);
  char w2[400];
  snprintf(w2, sizeof w2, "%s: file", what);
  BS_CALL(rd->ctx, get_path(rd, f, w2, &pj->conn_file));
  fnode *g = lookup(body, sonata ? "population" : "group");
  snprintf(w2, sizeof w2, "%s: %s", what, sonata ? "population" : "group");
  if (g)
    BS_CALL(rd->ctx, get_string(rd, g, w2, &pj->conn_group));
  else
    pj->conn_group = bs_strdup(sonata ? pj->name : "/");
  const char *pre = rd->spec->pops[pj->pre].name,
             *post = rd->spec->pops[pj->post].name;
  fnode *src = lookup(body, "source"), *tgt = lookup(body, "target");
  if (src)
    BS_CALL(rd->ctx, get_string(rd, src, what, &pj->conn_source));
  else
    pj->conn_source = bs_strdup(pre);
  if (tgt)
    BS_CALL(rd->ctx, get_string(rd, tgt, what, &pj->conn_target));
  else
    pj->conn_target = bs_strdup(post);
  return BS_OK;
}

/* BrainPy's MatConn: a (pre, post) 0/1 matrix, rows = pre, stored as the
 * pairs of its ones in row-major order (the IJ path). */
static int matrix_entry(const char *s) {
  if (!s)
    return -1;
  if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0)
    return 1;
  if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0)
    return 0;
  return -1;
}

static bs_status read_matrix(reader *rd, fnode *v, const char *owner,
                             bs_proj_spec *pj, uint64_t n_pre,
                             uint64_t n_post) {
  if (!fy_node_is_sequence(v))
    return err_at(rd, v,
                  "%s: expected a list of %llu rows (pre) of %llu entries "
                  "(post), got %s",
                  owner, (unsigned long long)n_pre, (unsigned long long)n_post,
                  kind_name(v));
  if ((uint64_t)fy_node_sequence_item_count(v) != n_pre)
    return err_at(rd, v,
                  "%s: the matrix has %d rows but pre has %llu neurons (one "
                  "row per pre neuron)",
                  owner, fy_node_sequence_item_count(v),
                  (unsigned long long)n_pre);
  /* Pass 0 checks and counts the ones, pass 1 stores them. */
  uint64_t ones = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      BS_CALL(rd->ctx,
              bs_malloc(rd->ctx, ones ? ones : 1, sizeof(uint64_t), &pj->ci));
      BS_CALL(rd->ctx,
              bs_malloc(rd->ctx, ones ? ones : 1, sizeof(uint64_t), &pj->cj));
      pj->n_ij = ones;
    }
    uint64_t q = 0, i = 0;
    void *it = NULL;
    fnode *row;
    while ((row = fy_node_sequence_iterate(v, &it))) {
      if (pass == 0 && (!fy_node_is_sequence(row) ||
                        (uint64_t)fy_node_sequence_item_count(row) != n_post))
        return fy_node_is_sequence(row)
                   ? err_at(rd, row,
                            "%s: row %llu has %d entries but post has %llu "
                            "neurons (one entry per post neuron)",
                            owner, (unsigned long long)i,
                            fy_node_sequence_item_count(row),
                            (unsigned long long)n_post)
                   : err_at(rd, row,
                            "%s: row %llu: expected a list of %llu entries "
                            "(one per post neuron), got %s",
                            owner, (unsigned long long)i,
                            (unsigned long long)n_post, kind_name(row));
      void *jt = NULL;
      fnode *e;
      uint64_t j = 0;
      while ((e = fy_node_sequence_iterate(row, &jt))) {
        int x = matrix_entry(scalar(e));
        if (x < 0)
          return err_at(rd, e,
                        "%s: entry [%llu][%llu]: expected 0, 1, true or "
                        "false, got %s%s%s",
                        owner, (unsigned long long)i, (unsigned long long)j,
                        scalar(e) ? "'" : "",
                        scalar(e) ? scalar(e) : kind_name(e),
                        scalar(e) ? "'" : "");
        if (x && pass == 0)
          ones++;
        if (x && pass == 1) {
          pj->ci[q] = i;
          pj->cj[q] = j;
          q++;
        }
        j++;
      }
      i++;
    }
  }
  return BS_OK;
}

static bs_status read_connect(reader *rd, fnode *n, const char *owner,
                              bs_proj_spec *pj) {
  fnode *namenode = n, *body = NULL;
  const char *name = scalar(n);
  if (!name) {
    if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
      return err_at(rd, n,
                    "%s: connect: expected one connector, e.g. "
                    "{FixedProb: {prob: 0.02}}, got %s",
                    owner, kind_name(n));
    void *it = NULL;
    struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
    namenode = fy_node_pair_key(pr);
    name = scalar(namenode);
    body = fy_node_pair_value(pr);
  }
  pj->conn = name ? bs_connector_find(name) : NULL;
  if (!pj->conn) {
    char known[512];
    size_t used = 0;
    for (int i = 0; i < bs_connector_count(); i++)
      used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                               i ? ", " : "", bs_connector_at(i)->name);
    return err_at(rd, namenode, "%s: unknown connector '%s' (available: %s)",
                  owner, name ? name : "?", known);
  }
  const bs_connector *c = pj->conn;
  char what[300], expected[512];
  snprintf(what, sizeof what, "%s: connector %s", owner, c->name);
  bs_pop_spec *pre = &rd->spec->pops[pj->pre],
              *post = &rd->spec->pops[pj->post];
  if (bs_connector_file_kind(c))
    return read_file_connect(rd, body ? body : namenode, what, pj);
  if (c->needs_ij) {
    if (!body)
      return err_at(rd, namenode, "%s needs its %s", what,
                    c->needs_ij == 2 ? "matrix" : "pairs");
    if (c->needs_ij == 2)
      BS_CALL(rd->ctx, read_matrix(rd, body, what, pj, pre->size, post->size));
    else
      BS_CALL(rd->ctx, read_ij(rd, body, what, pj, pre->size, post->size));
    return BS_OK;
  }
  if (body && !is_null(body)) {
    BS_CALL(rd->ctx, expect_mapping(rd, body, what));
    static const char *const grid_keys[] = {"shape", NULL};
    list_params(expected, sizeof expected, c->grid ? grid_keys : NULL, c->np,
                c->params, NULL);
    BS_CALL(
        rd->ctx,
        check_keys(rd, body, what, c->grid ? grid_keys : NULL, proj_key_ok,
                   &(proj_keys){
                       &(bs_syn_model){.np = c->np, .params = c->params}, NULL},
                   c->np || c->grid ? expected : "(none)"));
  } else {
    body = NULL;
  }
  if (c->grid) {
    /* shape: n or [n0] or [n0, n1], row-major over the population;
     * default: one dimension of the population's size. */
    double *g = pj->cp + c->np;
    g[0] = 1;
    g[1] = (double)post->size;
    g[2] = 1;
    fnode *sh = body ? lookup(body, "shape") : NULL;
    if (sh) {
      int nd = fy_node_is_sequence(sh) ? fy_node_sequence_item_count(sh) : 1;
      if (nd < 1 || nd > 2)
        return err_at(rd, sh,
                      "%s: shape: expected n, [n0] or [n0, n1] (grids of 1 "
                      "or 2 dimensions)",
                      what);
      uint64_t prod = 1;
      for (int q = 0; q < nd; q++) {
        uint64_t v;
        fnode *e =
            fy_node_is_sequence(sh) ? fy_node_sequence_get_by_index(sh, q) : sh;
        BS_CALL(rd->ctx, get_uint(rd, e, "shape", UINT32_MAX, &v));
        if (v == 0)
          return err_at(rd, e, "%s: shape: sizes must be positive", what);
        g[1 + q] = (double)v;
        prod *= v;
      }
      g[0] = nd;
      if (prod != post->size)
        return err_at(rd, sh,
                      "%s: shape has %llu positions but population '%s' has "
                      "%llu neurons",
                      what, (unsigned long long)prod, post->name,
                      (unsigned long long)post->size);
    }
  }
  if (!body) {
    for (int i = 0; i < c->np; i++)
      if (c->params[i].flags & BS_P_REQUIRED)
        return err_at(rd, namenode, "%s: missing required parameter '%s' (%s)",
                      what, c->params[i].name, c->params[i].doc);
  }
  BS_CALL(rd->ctx, read_params(rd, body, c->np, c->params, what, pj->cp));
  if (c->check) {
    int blame = -1;
    const char *why =
        c->check(pj->cp, pre->size, post->size, pj->pre == pj->post, &blame);
    if (why) {
      fnode *at =
          blame >= 0 && body ? lookup(body, c->params[blame].name) : NULL;
      return err_at(rd, at ? at : namenode,
                    "%s: %s (pre '%s' has %llu, "
                    "post '%s' has %llu neurons)",
                    what, why, pre->name, (unsigned long long)pre->size,
                    post->name, (unsigned long long)post->size);
    }
  }
  return BS_OK;
}

/* A GapJunction couples V of both ends every step (engine/gap.c): the pre
 * population needs a membrane too, and nothing spike-driven applies. */
static bs_status check_gap(reader *rd, fnode *n, const char *owner,
                           const bs_proj_spec *pj) {
  const bs_pop_spec *pre = &rd->spec->pops[pj->pre];
  if (!pre->model->has_V)
    return err_at(rd, lookup(n, "pre"),
                  "%s: GapJunction couples membrane potentials, but pre "
                  "population '%s' (%s) has none",
                  owner, pre->name, pre->model->name);
  static const char *const refused[] = {"output", "stp", "delay", "delay_step"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    fnode *k = lookup(n, refused[i]);
    if (k)
      return err_at(rd, k,
                    "%s: GapJunction takes no %s (it adds g_max (V_pre - "
                    "V_post) to the post and subtracts it from the pre "
                    "input every step, with V of the previous step)",
                    owner, refused[i]);
  }
  return BS_OK;
}

static bs_status read_proj(reader *rd, const char *name, fnode *n,
                           bs_proj_spec *pj) {
  static const char *const fixed[] = {
      "pre",          "post",         "synapse", "output",      "g_max",
      "delay",        "delay_step",   "connect", "comp_method", "stp",
      "post_ref_key", "post_has_ref", "plasticity", NULL};
  char owner[256], expected[1024];
  snprintf(owner, sizeof owner, "projection '%s'", name);
  BS_CALL(rd->ctx, expect_mapping(rd, n, owner));
  pj->name = bs_strdup(name);
  fnode *pre = lookup(n, "pre"), *post = lookup(n, "post");
  if (!pre)
    return err_at(rd, n, "%s: missing required key 'pre'", owner);
  if (!post)
    return err_at(rd, n, "%s: missing required key 'post'", owner);
  BS_CALL(rd->ctx, get_pop_ref(rd, pre, "pre", &pj->pre));
  BS_CALL(rd->ctx, get_pop_ref(rd, post, "post", &pj->post));
  if (!rd->spec->pops[pj->post].model->has_V)
    return err_at(rd, post,
                  "%s: post population '%s' (%s) has no membrane to receive "
                  "synaptic input",
                  owner, rd->spec->pops[pj->post].name,
                  rd->spec->pops[pj->post].model->name);
  /* Synapse model or a compatibility alias (ExpCOBA = Exponential + COBA,
   * with the output's parameters given at projection level). */
  fnode *syn = lookup(n, "synapse");
  const char *sname = "Exponential";
  if (syn)
    BS_CALL(rd->ctx, get_name(rd, syn, owner, &sname));
  const bs_syn_alias *alias = bs_syn_alias_find(sname);
  pj->syn = bs_syn_find(alias ? alias->synapse : sname);
  if (!pj->syn) {
    char known[512];
    size_t used = 0;
    for (int i = 0; i < bs_syn_count(); i++)
      used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                               used ? ", " : "", bs_syn_at(i)->name);
    for (int i = 0; i < bs_syn_alias_count(); i++)
      used += (size_t)snprintf(known + used, sizeof known - used, ", %s",
                               bs_syn_alias_at(i)->name);
    return err_at(rd, syn, "%s: unknown synapse '%s' (available: %s)", owner,
                  sname, known);
  }
  const bs_output_model *aout = alias ? bs_output_find(alias->output) : NULL;
  char extra[256] = "";
  if (aout)
    list_params(extra, sizeof extra, NULL, aout->np, aout->params, NULL);
  list_params(expected, sizeof expected, fixed, pj->syn->np, pj->syn->params,
              *extra ? extra : NULL);
  proj_keys pk = {pj->syn, aout};
  BS_CALL(rd->ctx, check_keys(rd, n, owner, fixed, proj_key_ok, &pk, expected));
  BS_CALL(rd->ctx,
          read_params(rd, n, pj->syn->np, pj->syn->params, owner, pj->sp));
  fnode *out = lookup(n, "output");
  if (pj->syn->gap) /* GapJunction: both ends need a membrane */
    BS_CALL(rd->ctx, check_gap(rd, n, owner, pj));
  if (out && pj->syn->to_V)
    return err_at(rd, out,
                  "%s: synapse %s adds its weights to the post-synaptic V "
                  "directly and takes no output",
                  owner, pj->syn->name);
  if (aout) {
    if (out)
      return err_at(rd, out,
                    "%s: synapse %s fixes the output (%s); give its "
                    "parameters at the projection level or use synapse: "
                    "%s with an output",
                    owner, sname, aout->name, alias->synapse);
    pj->out = aout;
    BS_CALL(rd->ctx, read_out_params(rd, n, owner, pj));
  } else if (out) {
    BS_CALL(rd->ctx, read_output(rd, out, owner, pj));
  } else {
    /* BrainPy's default output of the class (AMPA: COBA(E=0), GABAa:
     * COBA(E=-80), NMDA: MgBlock), else CUBA. */
    const bs_syn_model *sm = pj->syn;
    pj->out = bs_output_find(sm->def_output ? sm->def_output : "CUBA");
    for (int i = 0; i < pj->out->np; i++)
      pj->op[i] = pj->out->params[i].def;
    int ie = bs_param_index(pj->out->np, pj->out->params, "E");
    if (sm->def_output && !isnan(sm->def_E) && ie >= 0)
      pj->op[ie] = sm->def_E;
  }
  /* comp_method: sparse (CSR) or dense (a pre x local post bit matrix and
   * float weights), for every synapse model (BrainPy's defaults differ per
   * model; brainsim's is sparse for all). Both give the same results. */
  fnode *cm = lookup(n, "comp_method");
  if (cm) {
    const char *m = NULL;
    BS_CALL(rd->ctx, get_name(rd, cm, owner, &m));
    if (strcmp(m, "sparse") != 0 && strcmp(m, "dense") != 0)
      return err_at(rd, cm,
                    "%s: comp_method '%s' is not available (available: "
                    "sparse, dense)",
                    owner, m);
    pj->dense = strcmp(m, "dense") == 0;
  }
  fnode *g = lookup(n, "g_max");
  pj->g_max.kind = BS_DIST_CONST;
  pj->g_max.a = pj->syn->def_g_max != 0.0 ? pj->syn->def_g_max : 1.0;
  if (g && fy_node_is_mapping(g) && lookup(g, "file")) {
    /* g_max: {file, dataset}: a [pre, post] matrix (or [n] for One2One),
     * read when the network is built. */
    char what[300];
    snprintf(what, sizeof what, "%s: g_max", owner);
    static const char *const gk[] = {"file", "dataset", NULL};
    BS_CALL(rd->ctx, check_keys(rd, g, what, gk, NULL, NULL, "file, dataset"));
    fnode *ds = lookup(g, "dataset");
    if (!ds)
      return err_at(rd, g,
                    "%s: missing required key 'dataset' (the path "
                    "of a [pre, post] dataset in the file)",
                    what);
    BS_CALL(rd->ctx, get_path(rd, lookup(g, "file"), what, &pj->g_file));
    BS_CALL(rd->ctx, get_string(rd, ds, what, &pj->g_dataset));
  } else if (g) {
    char what[300];
    snprintf(what, sizeof what, "%s: g_max", owner);
    BS_CALL(rd->ctx, get_dist(rd, g, BS_DIM_ONE, what, &pj->g_max));
  }
  /* Delays: `delay` in time units (rounded to whole steps) or `delay_step`
   * (BrainPy's integer steps); constant, drawn per synapse, or per pre
   * neuron (BrainPy's axonal delay_step array): a list of pre.num values
   * or {per: pre, KIND: [...]}. */
  fnode *d = lookup(n, "delay"), *ds = lookup(n, "delay_step");
  pj->delay.kind = BS_DIST_CONST;
  pj->delay.a = 0;
  if (d && ds)
    return err_at(rd, ds,
                  "%s: give either delay (time) or delay_step "
                  "(steps), not both",
                  owner);
  if (d || ds) {
    fnode *dn = d ? d : ds;
    char what[300];
    snprintf(what, sizeof what, "%s: %s", owner, d ? "delay" : "delay_step");
    pj->delay_is_ms = d != NULL;
    const bs_dim dim = d ? BS_DIM_TIME : BS_DIM_ONE;
    double scale = d ? 1.0 / rd->spec->dt : 1.0;
    if (fy_node_is_sequence(dn)) {
      const uint64_t n_pre = rd->spec->pops[pj->pre].size;
      BS_CALL(rd->ctx, get_list(rd, dn, n_pre, dim, what, &pj->delay_list));
      pj->delay_per_pre = 1;
      double mx = 0;
      for (uint64_t q = 0; q < n_pre; q++) {
        const double v = pj->delay_list[q] * scale, st = floor(v + 0.5);
        fnode *e = fy_node_sequence_get_by_index(dn, (int)q);
        if (!d && v != st)
          return err_at(rd, e, "%s: delay_step must be a whole number, got %g",
                        owner, v);
        if (st < 0 || st > 1e6)
          return err_at(rd, e,
                        "%s: delay of pre neuron %llu must be between 0 and "
                        "1e6 steps, got %g steps",
                        owner, (unsigned long long)q, st);
        pj->delay_list[q] = st;
        mx = st > mx ? st : mx;
      }
      pj->delay.a = mx; /* the ring depth */
    } else {
      fnode *per = fy_node_is_mapping(dn) ? lookup(dn, "per") : NULL;
      if (per) {
        const char *pv = scalar(per);
        if (!pv || (strcmp(pv, "pre") && strcmp(pv, "synapse")))
          return err_at(rd, per,
                        "%s: per: expected pre (one delay per pre-synaptic "
                        "neuron, BrainPy's delay_step array) or synapse",
                        what);
        pj->delay_per_pre = strcmp(pv, "pre") == 0;
        fnode *dk = NULL, *dv = NULL;
        void *it = NULL;
        struct fy_node_pair *pr;
        while ((pr = fy_node_mapping_iterate(dn, &it)))
          if (fy_node_pair_value(pr) != per) {
            dk = fy_node_pair_key(pr);
            dv = fy_node_pair_value(pr);
          }
        if (!dk || fy_node_mapping_item_count(dn) != 2)
          return err_at(rd, dn,
                        "%s: expected {per: %s, KIND: [...]} with one "
                        "initializer (Uniform, Normal, LogNormal, "
                        "TruncatedNormal)",
                        what, pv);
        BS_CALL(rd->ctx, get_dist_kv(rd, dk, dv, dim, what, &pj->delay));
      } else {
        BS_CALL(rd->ctx, get_dist(rd, dn, dim, what, &pj->delay));
      }
      if (pj->delay.kind == BS_DIST_LOGNORMAL) { /* exp(N) * scale */
        pj->delay.a += log(scale);
      } else {
        pj->delay.a *= scale;
        pj->delay.b *= scale;
        pj->delay.c *= scale;
        pj->delay.d *= scale;
      }
      if (pj->delay.kind == BS_DIST_CONST) {
        double st = floor(pj->delay.a + 0.5);
        if (!d && pj->delay.a != st)
          return err_at(rd, ds, "%s: delay_step must be a whole number", owner);
        if (st < 0 || st > 1e6)
          return err_at(rd, dn,
                        "%s: delay must be between 0 and 1e6 steps, got %g "
                        "steps",
                        owner, st);
        pj->delay.a = st;
      } else if (pj->delay.kind == BS_DIST_UNIFORM &&
                 (pj->delay.a < -0.5 || pj->delay.b > 1e6)) {
        return err_at(rd, dn,
                      "%s: delays drawn from [%g, %g] steps fall outside "
                      "[0, 1e6]",
                      owner, pj->delay.a, pj->delay.b);
      }
    }
  }
  if (pj->dense && !bs_dist_is_const(&pj->delay) && !pj->delay_per_pre)
    return err_at(rd, cm,
                  "%s: comp_method dense keeps no per-synapse delays; give "
                  "one delay, delays per pre neuron ({per: pre, ...} or a "
                  "list), or use comp_method: sparse",
                  owner);
  /* Delta's refractory gating: BrainPy's Delta(post_ref_key='refractory')
   * or DeltaSynapse(post_has_ref=True). */
  fnode *prk = lookup(n, "post_ref_key"), *phr = lookup(n, "post_has_ref");
  if (prk && phr)
    return err_at(rd, phr,
                  "%s: give either post_ref_key or post_has_ref, not both",
                  owner);
  fnode *rk = prk ? prk : phr;
  if (rk && !is_null(rk)) {
    const char *v = scalar(rk);
    int on = 0;
    if (prk && v && strcmp(v, "refractory") == 0)
      on = 1;
    else if (phr && v &&
             (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0))
      on = strcasecmp(v, "true") == 0;
    else
      return err_at(rd, rk,
                    prk ? "%s: post_ref_key: expected refractory (the post "
                          "neurons' refractory state) or null"
                        : "%s: post_has_ref: expected true or false",
                    owner);
    const bs_pop_spec *po = &rd->spec->pops[pj->post];
    const int ti = bs_var_index(po->model->nx, po->model->vars, "t_last_spike");
    const int pi = bs_param_index(po->model->np, po->model->params, "tau_ref");
    if (on && !pj->syn->to_V)
      return err_at(rd, rk,
                    "%s: refractory gating applies to Delta synapses only "
                    "(BrainPy Delta post_ref_key), not %s",
                    owner, pj->syn->name);
    if (on && (ti < 0 || pi < 0))
      return err_at(rd, rk,
                    "%s: post population '%s' (%s) has no refractory state "
                    "to gate by",
                    owner, po->name, po->model->name);
    if (on && isnan(po->p[pi]))
      return err_at(rd, rk,
                    "%s: post population '%s' has no refractory period "
                    "(tau_ref is null); give it tau_ref",
                    owner, po->name);
    pj->post_ref = on;
  }
  fnode *stp = lookup(n, "stp");
  if (stp)
    BS_CALL(rd->ctx, read_stp(rd, stp, owner, pj));
  fnode *conn = lookup(n, "connect");
  if (!conn)
    return err_at(rd, n,
                  "%s: missing required key 'connect' (e.g. "
                  "{FixedProb: {prob: 0.02}})",
                  owner);
  BS_CALL(rd->ctx, read_connect(rd, conn, owner, pj));
  /* engine/gap.c generates the pairs itself and draws g_max per pair: it
   * reads neither files nor per-pair lists. */
  if (pj->syn->gap && (bs_connector_file_kind(pj->conn) || pj->ij_w ||
                       pj->ij_d || pj->g_file || pj->dense))
    return err_at(rd, conn,
                  "%s: GapJunction takes its pairs from a generating "
                  "connector or IJ/matrix pairs, with g_max a value or an "
                  "initializer (not from files, per-pair lists, a g_max "
                  "dataset or comp_method dense)",
                  owner);
  fnode *pl = lookup(n, "plasticity");
  if (pl)
    BS_CALL(rd->ctx, read_plasticity(rd, pl, n, owner, pj));
  return BS_OK;
}

/* ---- inputs ----------------------------------------------------------- */

static bs_status read_range(reader *rd, fnode *n, const char *what,
                            uint64_t size, uint64_t *lo, uint64_t *hi) {
  if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) != 2)
    return err_at(rd, n, "%s: expected [start, stop] (stop excluded), got %s",
                  what, kind_name(n));
  BS_CALL(rd->ctx,
          get_uint(rd, fy_node_sequence_get_by_index(n, 0), what, size, lo));
  BS_CALL(rd->ctx,
          get_uint(rd, fy_node_sequence_get_by_index(n, 1), what, size, hi));
  if (*lo >= *hi)
    return err_at(rd, n, "%s: empty range [%llu, %llu)", what,
                  (unsigned long long)*lo, (unsigned long long)*hi);
  return BS_OK;
}

static bs_status read_input(reader *rd, fnode *n, int k, bs_input_spec *in) {
  static const char *const keys[] = {"target", "current", "range", NULL};
  char owner[64];
  snprintf(owner, sizeof owner, "inputs[%d]", k);
  BS_CALL(rd->ctx, expect_mapping(rd, n, owner));
  BS_CALL(rd->ctx,
          check_keys(rd, n, owner, keys, NULL, NULL, "target, current, range"));
  fnode *t = lookup(n, "target"), *c = lookup(n, "current");
  if (!t)
    return err_at(rd, n, "%s: missing required key 'target'", owner);
  if (!c)
    return err_at(rd, n, "%s: missing required key 'current'", owner);
  BS_CALL(rd->ctx, get_pop_ref(rd, t, "target", &in->pop));
  bs_pop_spec *pop = &rd->spec->pops[in->pop];
  if (!pop->model->has_V)
    return err_at(rd, t, "%s: population '%s' (%s) takes no input current",
                  owner, pop->name, pop->model->name);
  BS_CALL(rd->ctx, get_quantity(rd, c, BS_DIM_ONE, "current", &in->current));
  in->start = 0;
  in->stop = pop->size;
  fnode *r = lookup(n, "range");
  if (r)
    BS_CALL(rd->ctx,
            read_range(rd, r, "range", pop->size, &in->start, &in->stop));
  return BS_OK;
}

/* ---- monitors --------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static bs_status read_indices(reader *rd, fnode *n, uint64_t size,
                              uint64_t **idx, uint64_t *count) {
  uint64_t lo = 0, hi = size;
  if (n && fy_node_is_mapping(n)) {
    static const char *const keys[] = {"range", NULL};
    BS_CALL(rd->ctx, check_keys(rd, n, "indices", keys, NULL, NULL, "range"));
    fnode *r = lookup(n, "range");
    if (!r)
      return err_at(rd, n, "indices: expected a list or {range: [a, b]}");
    BS_CALL(rd->ctx, read_range(rd, r, "indices: range", size, &lo, &hi));
    n = NULL;
  } else if (n && scalar(n) && strcmp(scalar(n), "all") == 0) {
    n = NULL;
  }
  if (!n) {
    *count = hi - lo;
    BS_CALL(rd->ctx, bs_malloc(rd->ctx, *count, sizeof(uint64_t), idx));
    for (uint64_t q = 0; q < *count; q++)
      (*idx)[q] = lo + q;
    return BS_OK;
  }
  if (!fy_node_is_sequence(n))
    return err_at(rd, n,
                  "indices: expected a list, {range: [a, b]} or all, got %s",
                  kind_name(n));
  uint64_t cnt = (uint64_t)fy_node_sequence_item_count(n);
  if (cnt == 0)
    return err_at(rd, n, "indices: the list is empty");
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, cnt, sizeof(uint64_t), idx));
  for (uint64_t q = 0; q < cnt; q++)
    BS_CALL(rd->ctx, get_uint(rd, fy_node_sequence_get_by_index(n, (int)q),
                              "index", size - 1, &(*idx)[q]));
  qsort(*idx, cnt, sizeof(uint64_t), cmp_u64);
  for (uint64_t q = 1; q < cnt; q++)
    if ((*idx)[q] == (*idx)[q - 1])
      return err_at(rd, n, "indices: %llu is listed twice",
                    (unsigned long long)(*idx)[q]);
  *count = cnt;
  return BS_OK;
}

/* `synapses: [[pre, post], ...]` of a monitor: the pairs in config order,
 * each index checked against its population (whether the pair exists is
 * known only once the network is built). */
static bs_status read_syn_pairs(reader *rd, fnode *n, const char *owner,
                                const bs_proj_spec *pj, uint64_t **out,
                                uint64_t *count) {
  const bs_spec *s = rd->spec;
  if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) < 1)
    return err_at(rd, n,
                  "%s: synapses: expected a non-empty list of [pre, post] "
                  "pairs, got %s",
                  owner, kind_name(n));
  const uint64_t cnt = (uint64_t)fy_node_sequence_item_count(n);
  uint64_t *p;
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, 2 * cnt, sizeof(uint64_t), &p));
  bs_status st = BS_OK;
  for (uint64_t c = 0; c < cnt && st == BS_OK; c++) {
    fnode *e = fy_node_sequence_get_by_index(n, (int)c);
    if (!fy_node_is_sequence(e) || fy_node_sequence_item_count(e) != 2) {
      st = err_at(rd, e,
                  "%s: synapses[%llu]: expected a [pre, post] pair, got %s",
                  owner, (unsigned long long)c, kind_name(e));
      break;
    }
    const uint64_t size[2] = {s->pops[pj->pre].size, s->pops[pj->post].size};
    for (int k = 0; k < 2 && st == BS_OK; k++) {
      fnode *v = fy_node_sequence_get_by_index(e, k);
      char what[256];
      snprintf(what, sizeof what,
               "%s: synapses[%llu] of projection '%s': %s index (population "
               "'%s' has %llu neurons)",
               owner, (unsigned long long)c, pj->name, k ? "post" : "pre",
               s->pops[k ? pj->post : pj->pre].name,
               (unsigned long long)size[k]);
      st = get_uint(rd, v, what, size[k] - 1, &p[2 * c + (uint64_t)k]);
    }
    for (uint64_t o = 0; o < c && st == BS_OK; o++)
      if (p[2 * o] == p[2 * c] && p[2 * o + 1] == p[2 * c + 1])
        st = err_at(rd, e, "%s: synapses: [%llu, %llu] is listed twice", owner,
                    (unsigned long long)p[2 * c],
                    (unsigned long long)p[2 * c + 1]);
  }
  if (st != BS_OK) {
    free(p);
    return st;
  }
  *out = p;
  *count = cnt;
  return BS_OK;
}

static bs_status add_monitor(reader *rd, bs_monitor_spec *m) {
  bs_spec *s = rd->spec;
  BS_CALL(rd->ctx,
          bs_realloc(rd->ctx, (size_t)s->n_monitors, (size_t)s->n_monitors + 1,
                     sizeof *s->monitors, &s->monitors));
  s->monitors[s->n_monitors++] = *m;
  return BS_OK;
}

static bs_status read_monitor(reader *rd, fnode *n, int k) {
  char owner[64];
  bs_spec *s = rd->spec;
  snprintf(owner, sizeof owner, "monitors[%d]", k);
  BS_CALL(rd->ctx, expect_mapping(rd, n, owner));
  fnode *sp = lookup(n, "spikes");
  if (sp) {
    static const char *const keys[] = {"spikes", NULL};
    BS_CALL(rd->ctx, check_keys(rd, n, owner, keys, NULL, NULL, "spikes"));
    bs_monitor_spec m = {.kind = BS_MON_SPIKES, .pop = -1, .proj = -1};
    BS_CALL(rd->ctx,
            bs_calloc(rd->ctx, (size_t)s->n_pops, sizeof(int), &m.pops));
    if (scalar(sp) && strcmp(scalar(sp), "all") == 0) {
      for (int i = 0; i < s->n_pops; i++)
        m.pops[i] = 1;
    } else if (fy_node_is_sequence(sp)) {
      void *it = NULL;
      fnode *e;
      while ((e = fy_node_sequence_iterate(sp, &it))) {
        int p;
        bs_status st = get_pop_ref(rd, e, "spikes", &p);
        if (st != BS_OK) {
          free(m.pops);
          return st;
        }
        m.pops[p] = 1;
      }
    } else {
      int p;
      bs_status st = get_pop_ref(rd, sp, "spikes", &p);
      if (st != BS_OK) {
        free(m.pops);
        return st;
      }
      m.pops[p] = 1;
    }
    return add_monitor(rd, &m);
  }
  static const char *const keys[] = {"population", "projection", "variables",
                                     "indices",    "every",      "name",
                                     "synapses",   NULL};
  BS_CALL(rd->ctx, check_keys(rd, n, owner, keys, NULL, NULL,
                              "spikes, or population/projection, variables, "
                              "indices or synapses, every, name"));
  fnode *pn = lookup(n, "population"), *jn = lookup(n, "projection");
  if (!pn == !jn)
    return err_at(rd, n,
                  "%s: give exactly one of spikes, population or projection",
                  owner);
  int pop = -1, proj = -1, nx;
  const bs_var *vars;
  uint64_t size;
  if (pn) {
    BS_CALL(rd->ctx, get_pop_ref(rd, pn, "population", &pop));
    nx = s->pops[pop].model->nx;
    vars = s->pops[pop].model->vars;
    size = s->pops[pop].size;
  } else {
    const char *pname = NULL;
    BS_CALL(rd->ctx, get_name(rd, jn, "projection", &pname));
    proj = find_proj(s, pname);
    if (proj < 0)
      return err_at(rd, jn, "%s: no projection named '%s'", owner, pname);
    nx = s->projs[proj].syn->nx;
    vars = s->projs[proj].syn->vars;
    size = s->pops[s->projs[proj].post].size;
  }
  const bs_proj_spec *pj = proj >= 0 ? &s->projs[proj] : NULL;
  fnode *synn = lookup(n, "synapses");
  if (synn && !pj)
    return err_at(rd, synn,
                  "%s: synapses: only a projection's monitor "
                  "records chosen synapses",
                  owner);
  if (synn && pj->syn->gap)
    return err_at(rd, synn,
                  "%s: synapses: projection '%s' is a gap junction; its "
                  "junctions cannot be monitored one by one",
                  owner, pj->name);
  if (synn && lookup(n, "indices"))
    return err_at(rd, synn, "%s: give either indices or synapses, not both",
                  owner);
  fnode *vn = lookup(n, "variables");
  if (!vn)
    return err_at(rd, n, "%s: missing required key 'variables'", owner);
  int nv = fy_node_is_sequence(vn) ? fy_node_sequence_item_count(vn) : 1;
  if (nv < 1)
    return err_at(rd, vn, "%s: variables: the list is empty", owner);
  fnode *name = lookup(n, "name");
  if (name && nv != 1)
    return err_at(rd, name, "%s: name needs exactly one variable", owner);
  int64_t every = 1;
  fnode *ev = lookup(n, "every");
  if (ev) {
    double e;
    BS_CALL(rd->ctx, get_quantity(rd, ev, BS_DIM_TIME, "every", &e));
    double st = e / s->dt;
    every = (int64_t)llround(st);
    if (every < 1 || fabs(st - (double)every) > 1e-6 * st)
      return err_at(rd, ev,
                    "%s: every = %g ms must be a positive whole number of "
                    "steps of dt = %g ms",
                    owner, e, s->dt);
  }
  for (int v = 0; v < nv; v++) {
    fnode *vv =
        fy_node_is_sequence(vn) ? fy_node_sequence_get_by_index(vn, v) : vn;
    const char *vname = NULL;
    BS_CALL(rd->ctx, get_name(rd, vv, "variables", &vname));
    int var = bs_var_index(nx, vars, vname);
    /* stp.u / stp.x of a projection with short-term plasticity, and every
     * variable of a trace synapse, are per pre-synaptic neuron. */
    int stp_var = 0;
    if (pj && pj->stp && strcmp(vname, "stp.x") == 0)
      stp_var = 2;
    if (pj && pj->stp && pj->stp->kind == BS_STP_STP &&
        strcmp(vname, "stp.u") == 0)
      stp_var = 1;
    /* Per chosen synapse: w and delay of any projection, stp.u / stp.x
     * (the pre neuron's), and a trace synapse's g = w g_pre(t - d). */
    int syn_var = 0;
    if (synn) {
      if (stp_var)
        syn_var = stp_var;
      else if (strcmp(vname, "w") == 0)
        syn_var = 3;
      else if (strcmp(vname, "delay") == 0)
        syn_var = 4;
      else if (strcmp(vname, "g") == 0 && var >= 0 && pj->syn->trace)
        syn_var = 5;
      else if (var >= 0 && !pj->syn->trace)
        return err_at(rd, vv,
                      "%s: %s synapses of projection '%s' have no "
                      "per-synapse %s: their conductances add up linearly "
                      "into one state per post neuron (monitor %s without "
                      "synapses:, per post neuron)",
                      owner, pj->syn->name, pj->name, vname, vname);
      else if (var >= 0)
        return err_at(rd, vv,
                      "%s: '%s' of projection '%s' (%s) is not kept per "
                      "synapse: only g is, as history of the pre neuron's "
                      "trace; monitor '%s' without synapses: (per pre neuron)",
                      owner, vname, pj->name, pj->syn->name, vname);
      if (!syn_var && var < 0) {
        const char *stpv = !pj->stp                      ? ""
                           : pj->stp->kind == BS_STP_STP ? ", stp.u, stp.x"
                                                         : ", stp.x";
        return err_at(rd, vv,
                      "%s: no per-synapse variable '%s' (available: %sw, "
                      "delay%s)",
                      owner, vname, pj->syn->trace ? "g, " : "", stpv);
      }
    }
    if (var < 0 && !stp_var && !syn_var) {
      char known[256];
      size_t used = 0;
      known[0] = '\0';
      for (int i = 0; i < nx; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                                 i ? ", " : "", vars[i].name);
      if (pj && pj->stp)
        used += (size_t)snprintf(
            known + used, sizeof known - used, "%s%s", used ? ", " : "",
            pj->stp->kind == BS_STP_STP ? "stp.u, stp.x" : "stp.x");
      return err_at(rd, vv, "%s: no state variable '%s' (available: %s)", owner,
                    vname, used ? known : "none");
    }
    const int per_pre = !synn && pj && (stp_var || pj->syn->trace);
    const uint64_t vsize = per_pre ? s->pops[pj->pre].size : size;
    bs_monitor_spec m = {.kind = BS_MON_STATE,
                         .pop = pop,
                         .proj = proj,
                         .var = stp_var ? stp_var - 1 : var,
                         .per_pre = per_pre,
                         .stp = synn ? 0 : stp_var,
                         .per_syn = synn != NULL,
                         .syn_var = syn_var == 5 ? 0 : syn_var,
                         .every = every};
    if (syn_var >= 3)
      m.var = -1;
    const char *mname = vname;
    if (name)
      BS_CALL(rd->ctx, get_name(rd, name, "name", &mname));
    for (int q = 0; q < s->n_monitors; q++) {
      bs_monitor_spec *o = &s->monitors[q];
      if (o->kind == BS_MON_STATE && o->pop == pop && o->proj == proj &&
          strcmp(o->name, mname) == 0)
        return err_at(rd, name ? name : vv,
                      "%s: a monitor named '%s' already records %s; give "
                      "this one another name",
                      owner, mname,
                      pop >= 0 ? s->pops[pop].name : s->projs[proj].name);
    }
    m.name = bs_strdup(mname);
    bs_status st =
        synn ? read_syn_pairs(rd, synn, owner, pj, &m.syn, &m.n_idx)
             : read_indices(rd, lookup(n, "indices"), vsize, &m.idx, &m.n_idx);
    if (st == BS_OK && synn) { /* the report's node ids: the posts */
      st = bs_malloc(rd->ctx, m.n_idx, sizeof(uint64_t), &m.idx);
      for (uint64_t c = 0; st == BS_OK && c < m.n_idx; c++)
        m.idx[c] = m.syn[2 * c + 1];
    }
    if (st != BS_OK) { /* read_indices may have allocated m.idx */
      free(m.name);
      free(m.idx);
      free(m.syn);
      return st;
    }
    BS_CALL(rd->ctx, add_monitor(rd, &m));
  }
  return BS_OK;
}

/* Offset of the first byte that is not strict UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF, no NUL), or len when all is valid.
 * libfyaml loops forever on some invalid sequences (after a `%` directive),
 * so text is checked before it reaches the parser. */
static size_t utf8_invalid_at(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    unsigned c = s[i];
    if (c == 0)
      return i;
    if (c < 0x80) {
      i++;
      continue;
    }
    int n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0)
        lo = 0xA0; /* overlong */
      if (c == 0xED)
        hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0)
        lo = 0x90; /* overlong */
      if (c == 0xF4)
        hi = 0x8F; /* above U+10FFFF */
    } else
      return i;
    if (i + (size_t)n >= len) /* truncated sequence */
      return i;
    for (int k = 1; k <= n; k++) {
      unsigned b = s[i + (size_t)k];
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
        return i;
    }
    i += (size_t)n + 1;
  }
  return len;
}

/* Line and column (1-based, in bytes) of an offset. */
static void text_position(const char *text, size_t off, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      ++*line;
      *col = 1;
    } else
      ++*col;
  }
}

/* ---- overrides -------------------------------------------------------- */

static bs_status set_error(reader *rd, int k, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return bs_error_set(rd->ctx, BS_ERR_CONFIG, "--set %s: error: %s", rd->set[k],
                      msg);
}

static bs_status apply_override(reader *rd, int k) {
  const char *arg = rd->set[k];
  size_t alen = strlen(arg), bad = utf8_invalid_at(arg, alen);
  if (bad < alen)
    return set_error(rd, k, "byte %zu (0x%02x) is not valid UTF-8", bad + 1,
                     (unsigned char)arg[bad]);
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg)
    return set_error(rd, k,
                     "expected KEY=VALUE with KEY a dotted path such "
                     "as projections.EE.g_max");
  char path[512];
  snprintf(path, sizeof path, "%.*s", (int)(eq - arg), arg);
  const char *value = eq + 1;
  fnode *cur = fy_document_root(rd->fyd);
  char *save = NULL, *tok = strtok_r(path, ".", &save);
  char walked[512] = "";
  while (tok) {
    char *next = strtok_r(NULL, ".", &save);
    fnode *child = NULL;
    struct fy_node_pair *pair = NULL;
    int index = -1;
    if (fy_node_is_mapping(cur)) {
      pair = fy_node_mapping_lookup_pair_by_string(cur, tok, strlen(tok));
      child = pair ? fy_node_pair_value(pair) : NULL;
    } else if (fy_node_is_sequence(cur)) {
      char *end;
      long v = strtol(tok, &end, 10);
      if (*end || v < 0 || v >= fy_node_sequence_item_count(cur))
        return set_error(rd, k,
                         "'%s%s%s' is a list of %d entries; '%s' is "
                         "not an index in it",
                         walked, *walked ? "" : "(top)", "",
                         fy_node_sequence_item_count(cur), tok);
      index = (int)v;
      child = fy_node_sequence_get_by_index(cur, index);
    } else {
      return set_error(rd, k, "'%s' is a value, not a mapping or list", walked);
    }
    if (!next) {
      fnode *nv = fy_node_build_from_string(rd->fyd, value, strlen(value));
      if (!nv)
        return set_error(rd, k, "the value '%s' is not valid YAML", value);
      rd->set_nodes[k] = nv;
      if (pair) {
        if (fy_node_pair_set_value(pair, nv))
          return set_error(rd, k, "could not set the value");
      } else if (index >= 0) {
        fnode *old = NULL; /* removed from the list: ours to free */
        if (fy_node_sequence_insert_after(cur, child, nv) ||
            !(old = fy_node_sequence_remove(cur, child)))
          return set_error(rd, k, "could not set the value");
        fy_node_free(old);
      } else {
        fnode *key = fy_node_create_scalar_copy(rd->fyd, tok, strlen(tok));
        if (!key || fy_node_mapping_append(cur, key, nv)) {
          fy_node_free(key); /* not in the document: ours to free */
          fy_node_free(nv);
          rd->set_nodes[k] = NULL;
          return set_error(rd, k, "could not add key '%s'", tok);
        }
        rd->set_keys[k] = key; /* an unknown key is blamed on the --set */
      }
      return BS_OK;
    }
    if (!child)
      return set_error(rd, k, "'%s%s%s' does not exist in the config", walked,
                       *walked ? "." : "", tok);
    size_t used = strlen(walked);
    snprintf(walked + used, sizeof walked - used, "%s%s", used ? "." : "", tok);
    cur = child;
    tok = next;
  }
  return set_error(rd, k, "empty key");
}

/* ---- top level -------------------------------------------------------- */

static bs_status read_text(bs_ctx *ctx, const char *file, char **text,
                           size_t *len) {
  FILE *f = fopen(file, "rb");
  if (!f)
    return bs_error_set(ctx, BS_ERR_CONFIG, "%s: error: cannot read config: %s",
                        file, strerror(errno));
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (n + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf)
    return bs_error_set(ctx, BS_ERR_NOMEM, "%s: out of memory reading", file);
  if (bad) {
    free(buf);
    return bs_error_set(ctx, BS_ERR_CONFIG, "%s: error: cannot read config",
                        file);
  }
  buf[n] = '\0';
  *text = buf;
  *len = n;
  return BS_OK;
}

static bs_status parse_document(reader *rd, const char *text, size_t len) {
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL;
  dcfg.output_fn = NULL;
  dcfg.colorize = false;
  struct fy_diag *diag = fy_diag_create(&dcfg);
  if (!diag)
    return bs_error_set(rd->ctx, BS_ERR_NOMEM, "cannot create YAML diag");
  fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG,
                             .diag = diag};
  rd->fyd = fy_document_build_from_string(&cfg, text, len);
  bs_status st = BS_OK;
  if (!rd->fyd) {
    void *it = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
    if (e)
      st = bs_error_set(rd->ctx, BS_ERR_CONFIG, "%s:%d:%d: error: %s", rd->file,
                        e->line, e->column, e->msg); /* 1-based already */
    else
      /* No diagnostic: an empty (or comment-only) document. */
      st = bs_error_set(rd->ctx, BS_ERR_CONFIG,
                        "%s:1:1: error: the config is empty; expected a "
                        "mapping with run, populations, projections, inputs, "
                        "monitors",
                        rd->file);
  } else if (!fy_document_root(rd->fyd) ||
             !fy_node_is_mapping(fy_document_root(rd->fyd))) {
    st = bs_error_set(rd->ctx, BS_ERR_CONFIG,
                      "%s:1:1: error: expected a mapping with run, "
                      "populations, projections, inputs, monitors",
                      rd->file);
  }
  /* Overrides parse their values with the document's diag: stop collecting
   * there, as a collected error record of an invalid value is never freed
   * (libfyaml 0.7.12); apply_override reports those itself. */
  fy_diag_set_collect_errors(diag, false);
  fy_diag_destroy(diag);
  return st;
}

static bs_status read_all(reader *rd) {
  static const char *const top[] = {"run",    "populations", "projections",
                                    "inputs", "monitors",    NULL};
  bs_spec *s = rd->spec;
  fnode *root = fy_document_root(rd->fyd);
  BS_CALL(rd->ctx, check_keys(rd, root, "config", top, NULL, NULL,
                              "run, populations, projections, inputs, "
                              "monitors"));
  fnode *run = lookup(root, "run");
  if (!run)
    return err_at(rd, root,
                  "config: missing required section 'run' (dt, "
                  "duration, seed)");
  BS_CALL(rd->ctx, read_run(rd, run));

  fnode *pops = lookup(root, "populations");
  if (!pops)
    return err_at(rd, root, "config: missing required section 'populations'");
  BS_CALL(rd->ctx, expect_mapping(rd, pops, "populations"));
  int np = fy_node_mapping_item_count(pops);
  if (np < 1)
    return err_at(rd, pops, "populations: at least one population is needed");
  BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)np, sizeof *s->pops, &s->pops));
  void *it = NULL;
  struct fy_node_pair *pr;
  uint64_t gid = 0;
  while ((pr = fy_node_mapping_iterate(pops, &it))) {
    const char *name = NULL;
    BS_CALL(rd->ctx,
            get_name(rd, fy_node_pair_key(pr), "population name", &name));
    if (find_pop(s, name) >= 0)
      return err_at(rd, fy_node_pair_key(pr),
                    "population '%s' is defined "
                    "twice",
                    name);
    bs_pop_spec *p = &s->pops[s->n_pops++]; /* counted first: freed on error */
    BS_CALL(rd->ctx, read_pop(rd, name, fy_node_pair_value(pr), p));
    p->gid0 = gid;
    gid += p->size;
    if (gid >= UINT32_MAX)
      return err_at(rd, fy_node_pair_value(pr),
                    "populations: %llu neurons in total exceed the limit of "
                    "2^32 - 1",
                    (unsigned long long)gid);
  }
  s->n_neurons = gid;

  fnode *projs = lookup(root, "projections");
  if (projs && !is_null(projs)) {
    BS_CALL(rd->ctx, expect_mapping(rd, projs, "projections"));
    int nj = fy_node_mapping_item_count(projs);
    BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)(nj ? nj : 1), sizeof *s->projs,
                               &s->projs));
    it = NULL;
    while ((pr = fy_node_mapping_iterate(projs, &it))) {
      const char *name = NULL;
      BS_CALL(rd->ctx,
              get_name(rd, fy_node_pair_key(pr), "projection name", &name));
      if (find_proj(s, name) >= 0)
        return err_at(rd, fy_node_pair_key(pr),
                      "projection '%s' is defined twice", name);
      s->n_projs++; /* counted first: freed on error */
      BS_CALL(rd->ctx, read_proj(rd, name, fy_node_pair_value(pr),
                                 &s->projs[s->n_projs - 1]));
    }
  }

  fnode *inputs = lookup(root, "inputs");
  if (inputs && !is_null(inputs)) {
    if (!fy_node_is_sequence(inputs))
      return err_at(rd, inputs,
                    "inputs: expected a list of {target, current, range}, "
                    "got %s",
                    kind_name(inputs));
    int ni = fy_node_sequence_item_count(inputs);
    BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)(ni ? ni : 1),
                               sizeof *s->inputs, &s->inputs));
    for (int k = 0; k < ni; k++) {
      BS_CALL(rd->ctx, read_input(rd, fy_node_sequence_get_by_index(inputs, k),
                                  k, &s->inputs[k]));
      s->n_inputs++;
    }
  }

  fnode *mons = lookup(root, "monitors");
  if (mons && !is_null(mons)) {
    if (!fy_node_is_sequence(mons))
      return err_at(rd, mons, "monitors: expected a list, got %s",
                    kind_name(mons));
    int nm = fy_node_sequence_item_count(mons);
    for (int k = 0; k < nm; k++)
      BS_CALL(rd->ctx,
              read_monitor(rd, fy_node_sequence_get_by_index(mons, k), k));
  }
  return BS_OK;
}

bs_status bs_config_load(bs_ctx *ctx, const char *file, int n_set,
                         char *const *set, bs_spec **out) {
  *out = NULL;
  bs_spec *s = calloc(1, sizeof *s);
  if (!s)
    return bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  reader rd = {.ctx = ctx, .file = file, .n_set = n_set, .set = set, .spec = s};
  s->file = bs_strdup(file);
  size_t len = 0;
  bs_status st = read_text(ctx, file, &s->text, &len);
  if (st == BS_OK) {
    size_t bad = utf8_invalid_at(s->text, len);
    if (bad < len) {
      int line, col;
      text_position(s->text, bad, &line, &col);
      st = bs_error_set(ctx, BS_ERR_CONFIG,
                        "%s:%d:%d: error: byte 0x%02x is not valid UTF-8 "
                        "text (a config is UTF-8 YAML without NUL bytes)",
                        file, line, col, (unsigned char)s->text[bad]);
    }
  }
  if (st == BS_OK)
    st = parse_document(&rd, s->text, len);
  if (st == BS_OK && n_set > 0) {
    rd.set_nodes = calloc((size_t)n_set, sizeof *rd.set_nodes);
    rd.set_keys = calloc((size_t)n_set, sizeof *rd.set_keys);
    size_t total = 1;
    for (int k = 0; k < n_set; k++)
      total += strlen(set[k]) + 1;
    s->overrides = calloc(total, 1);
    for (int k = 0; k < n_set && st == BS_OK; k++) {
      strcat(s->overrides, set[k]);
      strcat(s->overrides, "\n");
      st = apply_override(&rd, k);
    }
  }
  if (st == BS_OK)
    st = read_all(&rd);
  if (rd.fyd)
    fy_document_destroy(rd.fyd);
  free(rd.set_nodes);
  free(rd.set_keys);
  if (st != BS_OK) {
    bs_config_destroy(&s);
    return st;
  }
  *out = s;
  return BS_OK;
}

void bs_config_destroy(bs_spec **spec) {
  if (!spec || !*spec)
    return;
  bs_spec *s = *spec;
  for (int i = 0; i < s->n_pops; i++) {
    free(s->pops[i].name);
    free(s->pops[i].init);
    bs_cng_destroy(&s->pops[i].own);
  }
  for (int i = 0; i < s->n_projs; i++) {
    free(s->projs[i].name);
    free(s->projs[i].ci);
    free(s->projs[i].cj);
    free(s->projs[i].delay_list);
    free(s->projs[i].E_list);
    free(s->projs[i].ij_w);
    free(s->projs[i].ij_d);
    free(s->projs[i].conn_file);
    free(s->projs[i].conn_group);
    free(s->projs[i].conn_source);
    free(s->projs[i].conn_target);
    free(s->projs[i].g_file);
    free(s->projs[i].g_dataset);
  }
  for (int i = 0; i < s->n_monitors; i++) {
    free(s->monitors[i].pops);
    free(s->monitors[i].name);
    free(s->monitors[i].idx);
    free(s->monitors[i].syn);
  }
  free(s->pops);
  free(s->projs);
  free(s->inputs);
  free(s->monitors);
  free(s->file);
  free(s->text);
  free(s->overrides);
  free(s);
  *spec = NULL;
}

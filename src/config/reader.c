/* The reader's common part: locations and errors, units, typed getters,
 * initializers, mapping helpers, the one kind lookup, the UTF-8 check, the
 * --set overrides and the YAML document. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

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

/* The alias or merge key whose copy holds n (the innermost), or -1. */
static int use_of(const reader *rd, fnode *n) {
  for (fnode *p = n; p && rd->n_use; p = fy_node_get_parent(p))
    for (int k = rd->n_use - 1; k >= 0; k--)
      if (rd->use_node[k] == p)
        return k;
  return -1;
}

bs_status cfg_err_at(reader *rd, fnode *n, const char *fmt, ...) {
  char msg[1536], where[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int k = override_of(rd, n);
  const struct fy_mark *m = node_mark(n);
  const int u = k >= 0 ? -1 : use_of(rd, n);
  if (u >= 0)
    return bs_error_set(rd->ctx, BS_ERR_CONFIG,
                        "%s:%d:%d: error: %s (a value from the anchor at line "
                        "%d)",
                        rd->file, rd->use_line[u], rd->use_col[u], msg,
                        rd->anchor_line[u]);
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

const char *cfg_kind_name(fnode *n) {
  if (!n)
    return "nothing";
  if (fy_node_is_mapping(n))
    return "a mapping";
  if (fy_node_is_sequence(n))
    return "a list";
  return "a scalar";
}

const char *cfg_scalar(fnode *n) {
  return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

int cfg_is_null(fnode *n) {
  const char *s = cfg_scalar(n);
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

bs_status cfg_get_quantity(reader *rd, fnode *n, bs_dim dim, const char *what,
                           double *out) {
  char why[512];
  const char *s = cfg_scalar(n);
  if (!s)
    return cfg_err_at(rd, n, "%s: expected a %s value%s%s, got %s", what,
                      dim == BS_DIM_ONE ? "numeric" : bs_dim_name(dim),
                      dim == BS_DIM_ONE ? "" : " in ",
                      dim == BS_DIM_ONE ? "" : bs_dim_unit(dim),
                      cfg_kind_name(n));
  if (bs_config_parse_quantity(s, dim, out, why, sizeof why))
    return cfg_err_at(rd, n, "%s: expected a %s value%s%s, got %s", what,
                      dim == BS_DIM_ONE ? "numeric" : bs_dim_name(dim),
                      dim == BS_DIM_ONE ? "" : " in ",
                      dim == BS_DIM_ONE ? "" : bs_dim_unit(dim), why);
  return BS_OK;
}

bs_status cfg_get_uint(reader *rd, fnode *n, const char *what, uint64_t max,
                       uint64_t *out) {
  const char *s = cfg_scalar(n);
  char *end;
  if (!s || !*s)
    return cfg_err_at(rd, n, "%s: expected a whole number, got %s", what,
                      cfg_kind_name(n));
  errno = 0;
  if (s[0] == '-')
    return cfg_err_at(rd, n, "%s: expected a whole number >= 0, got '%s'", what,
                      s);
  unsigned long long v = strtoull(s, &end, 10);
  if (*end == '.' || *end == 'e' || *end == 'E') {
    double d = strtod(s, &end);
    if (*end == '\0' && d == floor(d) && d >= 0 && d < 1.8e19)
      v = (unsigned long long)d;
    else
      return cfg_err_at(rd, n, "%s: expected a whole number, got '%s'", what,
                        s);
  } else if (*end != '\0' || errno == ERANGE) {
    return cfg_err_at(rd, n, "%s: expected a whole number, got '%s'", what, s);
  }
  if (v > max)
    return cfg_err_at(rd, n, "%s: %llu is out of range (at most %llu)", what, v,
                      (unsigned long long)max);
  *out = v;
  return BS_OK;
}

bs_status cfg_get_name(reader *rd, fnode *n, const char *what,
                       const char **out) {
  const char *s = cfg_scalar(n);
  if (!s || !*s)
    return cfg_err_at(rd, n, "%s: expected a name, got %s", what,
                      cfg_kind_name(n));
  *out = s;
  return BS_OK;
}

/* A parameter from a descriptor table: unit, range, integer and null. */
bs_status cfg_get_param(reader *rd, fnode *n, const bs_param *d,
                        const char *owner, double *out) {
  char what[256];
  snprintf(what, sizeof what, "%s: parameter '%s'", owner, d->name);
  if (cfg_is_null(n)) {
    if (d->flags & BS_P_NULLABLE) {
      *out = NAN;
      return BS_OK;
    }
    return cfg_err_at(rd, n, "%s may not be null", what);
  }
  const char *s = cfg_scalar(n);
  if ((d->flags & BS_P_INTEGER) && s &&
      (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)) {
    *out = strcasecmp(s, "true") == 0;
    return BS_OK;
  }
  double v;
  BS_CALL(rd->ctx, cfg_get_quantity(rd, n, d->dim, what, &v));
  if ((d->flags & BS_P_INTEGER) && v != floor(v))
    return cfg_err_at(rd, n, "%s must be a whole number, got %g", what, v);
  char why[256];
  if (cfg_param_out_of_range(d, v, why, sizeof why))
    return cfg_err_at(rd, n, "%s = %g is out of range: must be %s", what, v,
                      why);
  *out = v;
  return BS_OK;
}

int cfg_param_out_of_range(const bs_param *d, double v, char *why, size_t len) {
  int lo_bad = (d->flags & BS_P_LO_OPEN) ? !(v > d->lo) : !(v >= d->lo);
  int hi_bad = (d->flags & BS_P_HI_OPEN) ? !(v < d->hi) : !(v <= d->hi);
  if (!lo_bad && !hi_bad)
    return 0;
  char lo[64] = "", hi[64] = "";
  if (isfinite(d->lo))
    snprintf(lo, sizeof lo, "%s %g",
             (d->flags & BS_P_LO_OPEN) ? ">" : ">=", d->lo);
  if (isfinite(d->hi))
    snprintf(hi, sizeof hi, "%s%s %g", *lo ? " and " : "",
             (d->flags & BS_P_HI_OPEN) ? "<" : "<=", d->hi);
  snprintf(why, len, "%s%s %s", lo, hi,
           d->dim == BS_DIM_ONE ? "" : bs_dim_unit(d->dim));
  return 1;
}

/* Initializers, as BrainPy's: a constant, {Uniform: [lo, hi]} or
 * {Uniform: {min_val, max_val}}, {Normal: [mean, scale]} or
 * {Normal: {mean, scale}}, {LogNormal: [mean, scale]} (of the logarithm,
 * dimensionless; the value is in the quantity's canonical unit),
 * {TruncatedNormal: [mean, scale, lower, upper]} or {TruncatedNormal:
 * {mean, scale, lower, upper}} (low/high accepted; a missing or null
 * bound is no bound). */
bs_status cfg_get_dist(reader *rd, fnode *n, bs_dim dim, const char *what,
                       bs_dist *out) {
  out->c = -HUGE_VAL;
  out->d = HUGE_VAL;
  if (fy_node_is_scalar(n)) {
    out->kind = BS_DIST_CONST;
    out->b = 0;
    return cfg_get_quantity(rd, n, dim, what, &out->a);
  }
  if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
    return cfg_err_at(rd, n,
                      "%s: expected a value, {Uniform: [low, high]}, "
                      "{Normal: [mean, scale]}, {LogNormal: [mean, scale]} or "
                      "{TruncatedNormal: [mean, scale, lower, upper]}, got %s",
                      what, cfg_kind_name(n));
  void *it = NULL;
  struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
  return cfg_get_dist_kv(rd, fy_node_pair_key(pr), fy_node_pair_value(pr), dim,
                         what, out);
}

/* The {KIND: ARGS} pair of an initializer. */
bs_status cfg_get_dist_kv(reader *rd, fnode *k, fnode *v, bs_dim dim,
                          const char *what, bs_dist *out) {
  out->c = -HUGE_VAL;
  out->d = HUGE_VAL;
  const char *kind = cfg_scalar(k);
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
    return cfg_err_at(rd, k,
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
      const char *key = cfg_scalar(fy_node_pair_key(q));
      int found = -1;
      for (int m = 0; m < nmax && key; m++)
        if (strcmp(key, names[m]) == 0 || (alt[m] && strcmp(key, alt[m]) == 0))
          found = m;
      if (found < 0)
        return cfg_err_at(
            rd, fy_node_pair_key(q),
            "%s: unknown key '%s' in %s (expected %s, %s%s%s%s%s)", what,
            key ? key : "?", kind, names[0], names[1], nmax > 2 ? ", " : "",
            nmax > 2 ? names[2] : "", nmax > 2 ? ", " : "",
            nmax > 2 ? names[3] : "");
      arg[found] = fy_node_pair_value(q);
    }
    if (!arg[0] || !arg[1])
      return cfg_err_at(rd, v, "%s: %s needs both %s and %s", what, kind,
                        names[0], names[1]);
  } else {
    if (nmax > 2)
      return cfg_err_at(rd, v, "%s: %s expects [%s, %s, %s, %s]", what, kind,
                        names[0], names[1], names[2], names[3]);
    return cfg_err_at(rd, v, "%s: %s expects [%s, %s]", what, kind, names[0],
                      names[1]);
  }
  double val[4] = {0, 0, -HUGE_VAL, HUGE_VAL};
  for (int q = 0; q < nmax; q++)
    if (arg[q] && !(q >= 2 && cfg_is_null(arg[q])))
      BS_CALL(rd->ctx, cfg_get_quantity(rd, arg[q], dims[q], what, &val[q]));
  out->a = val[0];
  /* The spread of a normal has the same unit as its mean. */
  out->b = val[1];
  if (out->kind == BS_DIST_UNIFORM && !(out->b > out->a))
    return cfg_err_at(rd, v, "%s: Uniform needs low < high, got [%g, %g]", what,
                      out->a, out->b);
  if (out->kind != BS_DIST_UNIFORM && !(out->b >= 0))
    return cfg_err_at(rd, arg[1], "%s: %s scale must be >= 0, got %g", what,
                      kind, out->b);
  if (out->kind == BS_DIST_TRUNCNORMAL) {
    out->c = val[2];
    out->d = val[3];
    if (!(out->c < out->d))
      return cfg_err_at(rd, v,
                        "%s: TruncatedNormal needs lower < upper, got %g "
                        "and %g",
                        what, out->c, out->d);
    if (bs_dist_truncnormal_mass(out) < 1e-3)
      return cfg_err_at(rd, v,
                        "%s: TruncatedNormal bounds [%g, %g] hold %.3g of the "
                        "mass of Normal(%g, %g); at least 1e-3 is needed",
                        what, out->c, out->d, bs_dist_truncnormal_mass(out),
                        out->a, out->b);
  }
  return BS_OK;
}

/* ---- mapping helpers -------------------------------------------------- */

/* Look up key in a mapping; NULL if absent. */
fnode *cfg_lookup(fnode *map, const char *key) {
  if (!map || !fy_node_is_mapping(map))
    return NULL;
  struct fy_node_pair *pr =
      fy_node_mapping_lookup_pair_by_string(map, key, strlen(key));
  return pr ? fy_node_pair_value(pr) : NULL;
}

bs_status cfg_expect_mapping(reader *rd, fnode *n, const char *what) {
  if (!n || !fy_node_is_mapping(n))
    return cfg_err_at(rd, n, "%s: expected a mapping (key: value), got %s",
                      what, cfg_kind_name(n));
  return BS_OK;
}

bs_status cfg_check_keys(reader *rd, fnode *map, const char *what,
                         const char *const *allowed, cfg_key_ok_fn extra,
                         const void *data, const char *expected) {
  void *it = NULL;
  struct fy_node_pair *pr;
  while ((pr = fy_node_mapping_iterate(map, &it))) {
    fnode *k = fy_node_pair_key(pr);
    const char *key = cfg_scalar(k);
    if (!key)
      return cfg_err_at(rd, k, "%s: keys must be plain names", what);
    int ok = 0;
    for (int i = 0; allowed && allowed[i]; i++)
      if (strcmp(allowed[i], key) == 0)
        ok = 1;
    if (!ok && extra && extra(data, key))
      ok = 1;
    if (!ok)
      return cfg_err_at(rd, k, "%s: unknown key '%s' (expected one of: %s)",
                        what, key, expected);
  }
  return BS_OK;
}

void cfg_list_params(char *buf, size_t len, const char *const *fixed, int np,
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
bs_status cfg_read_param(reader *rd, fnode *map, const bs_param *d,
                         const char *owner, double *p) {
  fnode *hv = cfg_lookup(map, d->name);
  if (hv && !fy_node_is_scalar(hv) && rd->hetero_ok) {
    *p = NAN; /* per neuron: read_hetero (populations.c) */
    return BS_OK;
  }
  fnode *v = cfg_lookup(map, d->name);
  if (!v) {
    if (d->flags & BS_P_REQUIRED)
      return cfg_err_at(rd, map, "%s: missing required parameter '%s' (%s)",
                        owner, d->name, d->doc);
    *p = d->def;
    return BS_OK;
  }
  return cfg_get_param(rd, v, d, owner, p);
}

/* A list of exactly n quantities (per neuron values). */
bs_status cfg_get_list(reader *rd, fnode *n, uint64_t len, bs_dim dim,
                       const char *what, double **out) {
  if ((uint64_t)fy_node_sequence_item_count(n) != len)
    return cfg_err_at(rd, n,
                      "%s: a list needs exactly %llu values (one per "
                      "neuron), got %d",
                      what, (unsigned long long)len,
                      fy_node_sequence_item_count(n));
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, len ? len : 1, sizeof(double), out));
  void *it = NULL;
  fnode *e;
  for (uint64_t q = 0; (e = fy_node_sequence_iterate(n, &it)); q++)
    BS_CALL(rd->ctx, cfg_get_quantity(rd, e, dim, what, &(*out)[q]));
  return BS_OK;
}

/* Fill p[] from the mapping's keys that name parameters; defaults else. */
bs_status cfg_read_params(reader *rd, fnode *map, int np,
                          const bs_param *params, const char *owner,
                          double *p) {
  for (int i = 0; i < np; i++)
    BS_CALL(rd->ctx, cfg_read_param(rd, map, &params[i], owner, &p[i]));
  return BS_OK;
}

int cfg_find_pop(const bs_spec *s, const char *name) {
  for (int i = 0; i < s->n_pops; i++)
    if (s->pops[i].name && strcmp(s->pops[i].name, name) == 0)
      return i;
  return -1;
}

int cfg_find_proj(const bs_spec *s, const char *name) {
  for (int i = 0; i < s->n_projs; i++)
    if (s->projs[i].name && strcmp(s->projs[i].name, name) == 0)
      return i;
  return -1;
}

static int pops_count(const void *data) {
  return ((const bs_spec *)data)->n_pops;
}
static const char *pops_name(const void *data, int i) {
  return ((const bs_spec *)data)->pops[i].name;
}

bs_status cfg_get_pop_ref(reader *rd, fnode *n, const char *what, int *out) {
  const char *name = NULL;
  BS_CALL(rd->ctx, cfg_get_name(rd, n, what, &name));
  *out = cfg_find_pop(rd->spec, name);
  if (*out < 0) {
    const cfg_kinds pops = {"population", pops_count, pops_name,
                            NULL,         NULL,       rd->spec};
    char known[512];
    cfg_kinds_list(&pops, known, sizeof known);
    return cfg_err_at(rd, n, "%s: no population named '%s' (populations: %s)",
                      what, name, known);
  }
  return BS_OK;
}

/* ---- the kind lookup -------------------------------------------------- */

void cfg_kinds_list(const cfg_kinds *k, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  const int n = k->count(k->data);
  for (int i = 0; i < n; i++)
    if (!k->keep || k->keep(k->data, i))
      used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
                               used ? ", " : "", k->name(k->data, i));
}

int cfg_kinds_find(const cfg_kinds *k, const char *name) {
  const int n = k->count(k->data);
  if (name && k->canon && k->canon(name))
    name = k->canon(name);
  for (int i = 0; name && i < n; i++)
    if (strcmp(k->name(k->data, i), name) == 0)
      return i;
  return -1;
}

bs_status cfg_pick_kind(reader *rd, fnode *n, const char *owner,
                        const cfg_kinds *k, const char *name, int *idx) {
  *idx = cfg_kinds_find(k, name);
  if (*idx >= 0 && (!k->keep || k->keep(k->data, *idx)))
    return BS_OK;
  char known[2048];
  cfg_kinds_list(k, known, sizeof known);
  return cfg_err_at(rd, n, "%s: unknown %s '%s' (available: %s)", owner,
                    k->what, name ? name : "?", known);
}

/* A path in the config, relative to the config file's folder. */
bs_status cfg_get_path(reader *rd, fnode *n, const char *what, char **out) {
  const char *v = NULL;
  BS_CALL(rd->ctx, cfg_get_name(rd, n, what, &v));
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

bs_status cfg_get_string(reader *rd, fnode *n, const char *what, char **out) {
  const char *v = NULL;
  BS_CALL(rd->ctx, cfg_get_name(rd, n, what, &v));
  free(*out);
  *out = bs_strdup(v);
  return BS_OK;
}

bs_status cfg_get_dataset_ref(reader *rd, fnode *v, const char *what,
                              const char *shape, char **file, char **dataset) {
  static const char *const keys[] = {"file", "dataset", NULL};
  BS_CALL(rd->ctx,
          cfg_check_keys(rd, v, what, keys, NULL, NULL, "file, dataset"));
  fnode *ds = cfg_lookup(v, "dataset");
  if (!ds)
    return cfg_err_at(rd, v,
                      "%s: missing required key 'dataset' (the path of %s "
                      "in the file)",
                      what, shape);
  BS_CALL(rd->ctx, cfg_get_path(rd, cfg_lookup(v, "file"), what, file));
  return cfg_get_string(rd, ds, what, dataset);
}

bs_status cfg_read_range(reader *rd, fnode *n, const char *what, uint64_t size,
                         uint64_t *lo, uint64_t *hi) {
  if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) != 2)
    return cfg_err_at(rd, n,
                      "%s: expected [start, stop] (stop excluded), got %s",
                      what, cfg_kind_name(n));
  BS_CALL(rd->ctx, cfg_get_uint(rd, fy_node_sequence_get_by_index(n, 0), what,
                                size, lo));
  BS_CALL(rd->ctx, cfg_get_uint(rd, fy_node_sequence_get_by_index(n, 1), what,
                                size, hi));
  if (*lo >= *hi)
    return cfg_err_at(rd, n, "%s: empty range [%llu, %llu)", what,
                      (unsigned long long)*lo, (unsigned long long)*hi);
  return BS_OK;
}

/* Offset of the first byte that is not strict UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF, no NUL), or len when all is valid.
 * libfyaml loops forever on some invalid sequences (after a `%` directive),
 * so text is checked before it reaches the parser. */
size_t cfg_utf8_invalid_at(const char *text, size_t len) {
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
void cfg_text_position(const char *text, size_t off, int *line, int *col) {
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

bs_status cfg_apply_override(reader *rd, int k) {
  const char *arg = rd->set[k];
  size_t alen = strlen(arg), bad = cfg_utf8_invalid_at(arg, alen);
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

bs_status cfg_read_text(bs_ctx *ctx, const char *file, char **text,
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

/* ---- YAML aliases and merge keys -------------------------------------- */

/* Each alias (`I: *lif`) is replaced by a copy of its anchored node, and
 * each merge key (`<<: *lif`, `<<: [*a, *b]`, YAML 1.1) by copies of the
 * pairs of the mappings it names that the mapping does not have itself
 * (explicit keys win, then the earlier of a list), appended after the
 * mapping's own keys. The copies share the anchor's tokens, so the reader
 * records where each was used: errors inside a copy name that place. */
#define MAX_ALIAS_DEPTH 64

static bs_status note_use(reader *rd, fnode *copy, const struct fy_mark *use,
                          fnode *target) {
  if (rd->n_use == rd->cap_use) {
    const int nc = rd->cap_use ? 2 * rd->cap_use : 16;
    fnode **un = realloc(rd->use_node, (size_t)nc * sizeof *un);
    if (un)
      rd->use_node = un;
    int *ul = realloc(rd->use_line, (size_t)nc * sizeof *ul);
    if (ul)
      rd->use_line = ul;
    int *uc = realloc(rd->use_col, (size_t)nc * sizeof *uc);
    if (uc)
      rd->use_col = uc;
    int *al = realloc(rd->anchor_line, (size_t)nc * sizeof *al);
    if (al)
      rd->anchor_line = al;
    if (!un || !ul || !uc || !al)
      return bs_error_set(rd->ctx, BS_ERR_NOMEM, "out of memory");
    rd->cap_use = nc;
  }
  const struct fy_mark *am = node_mark(target);
  rd->use_node[rd->n_use] = copy;
  rd->use_line[rd->n_use] = use ? use->line + 1 : 0;
  rd->use_col[rd->n_use] = use ? use->column + 1 : 0;
  rd->anchor_line[rd->n_use] = am ? am->line + 1 : 0;
  rd->n_use++;
  return BS_OK;
}

/* The node an alias names, or an error at it. */
static bs_status alias_target(reader *rd, fnode *alias, fnode **out) {
  *out = fy_node_resolve_alias(alias);
  if (!*out)
    return cfg_err_at(rd, alias, "no anchor named '%s' before this alias",
                      cfg_scalar(alias) ? cfg_scalar(alias) : "?");
  if (fy_node_is_alias(*out))
    return cfg_err_at(rd, alias, "an alias of an alias");
  return BS_OK;
}

static bs_status resolve_node(reader *rd, fnode *n, int depth);

/* Nodes in the subtree of n, counting at most up to limit. */
static uint64_t subtree_size(fnode *n, uint64_t limit) {
  uint64_t c = 1;
  void *it = NULL;
  if (fy_node_is_sequence(n)) {
    fnode *e;
    while (c < limit && (e = fy_node_sequence_iterate(n, &it)))
      c += subtree_size(e, limit - c);
  } else if (fy_node_is_mapping(n)) {
    struct fy_node_pair *pr;
    while (c < limit && (pr = fy_node_mapping_iterate(n, &it)))
      c += 1 + subtree_size(fy_node_pair_value(pr), limit - c);
  }
  return c;
}

/* Aliases that expand without bound (a "billion laughs" document) stop
 * here: a config never needs this many copied nodes. */
#define MAX_ALIAS_NODES 1000000u

static bs_status count_copy(reader *rd, fnode *at, fnode *t) {
  rd->copied += subtree_size(t, MAX_ALIAS_NODES + 1);
  if (rd->copied > MAX_ALIAS_NODES)
    return cfg_err_at(rd, at, "aliases expand to more than %u nodes in total",
                      MAX_ALIAS_NODES);
  return BS_OK;
}

/* A copy of the node alias names, noted as used at the alias. */
static bs_status alias_copy(reader *rd, fnode *alias, fnode **out, int depth) {
  fnode *t;
  BS_CALL(rd->ctx, alias_target(rd, alias, &t));
  BS_CALL(rd->ctx, count_copy(rd, alias, t));
  *out = fy_node_copy(rd->fyd, t);
  if (!*out)
    return bs_error_set(rd->ctx, BS_ERR_NOMEM, "out of memory");
  BS_CALL(rd->ctx, note_use(rd, *out, node_mark(alias), t));
  return resolve_node(rd, *out, depth + 1);
}

static int is_merge_key(fnode *k) {
  const char *s = cfg_scalar(k);
  return s && !strcmp(s, "<<") && fy_node_get_style(k) == FYNS_PLAIN;
}

/* The merge key's pairs into map: from each mapping it names, those whose
 * key is not there yet. */
static bs_status merge_into(reader *rd, fnode *map, fnode *key, fnode *v,
                            int depth) {
  fnode *srcs[64];
  int ns = 0;
  if (fy_node_is_sequence(v)) {
    void *it = NULL;
    fnode *e;
    while ((e = fy_node_sequence_iterate(v, &it)) && ns < 64)
      srcs[ns++] = e;
  } else
    srcs[ns++] = v;
  for (int q = 0; q < ns; q++) {
    fnode *src = srcs[q];
    if (fy_node_is_alias(src))
      BS_CALL(rd->ctx, alias_target(rd, src, &src));
    if (!fy_node_is_mapping(src))
      return cfg_err_at(rd, key,
                        "'<<' (a merge key) takes a mapping or a list of "
                        "mappings (*anchor), got %s",
                        cfg_kind_name(src));
    void *it = NULL;
    struct fy_node_pair *pr;
    while ((pr = fy_node_mapping_iterate(src, &it))) {
      fnode *k = fy_node_pair_key(pr);
      if (is_merge_key(k))
        return cfg_err_at(rd, key,
                          "a merged mapping that has a merge key itself: "
                          "merge the inner anchors here instead");
      const char *ks = cfg_scalar(k);
      if (!ks || cfg_lookup(map, ks))
        continue; /* the mapping's own key (or an earlier merge) wins */
      BS_CALL(rd->ctx, count_copy(rd, key, fy_node_pair_value(pr)));
      fnode *kc = fy_node_copy(rd->fyd, k);
      fnode *vc = fy_node_copy(rd->fyd, fy_node_pair_value(pr));
      if (!kc || !vc || fy_node_mapping_append(map, kc, vc))
        return bs_error_set(rd->ctx, BS_ERR_NOMEM, "out of memory");
      BS_CALL(rd->ctx, note_use(rd, kc, node_mark(key), k));
      BS_CALL(rd->ctx, note_use(rd, vc, node_mark(key), k));
      BS_CALL(rd->ctx, resolve_node(rd, vc, depth + 1));
    }
  }
  return BS_OK;
}

static bs_status resolve_node(reader *rd, fnode *n, int depth) {
  if (depth > MAX_ALIAS_DEPTH)
    return cfg_err_at(rd, n,
                      "aliases nested more than %d deep (an anchor that "
                      "contains an alias of itself?)",
                      MAX_ALIAS_DEPTH);
  if (fy_node_is_sequence(n)) {
    for (;;) { /* replace the aliases one at a time (the list changes) */
      void *it = NULL;
      fnode *e, *alias = NULL;
      while (!alias && (e = fy_node_sequence_iterate(n, &it)))
        if (fy_node_is_alias(e))
          alias = e;
      if (!alias)
        break;
      fnode *c;
      BS_CALL(rd->ctx, alias_copy(rd, alias, &c, depth));
      if (fy_node_sequence_insert_before(n, alias, c))
        return bs_error_set(rd->ctx, BS_ERR_NOMEM, "out of memory");
      fy_node_free(fy_node_sequence_remove(n, alias));
    }
    void *it = NULL;
    fnode *e;
    while ((e = fy_node_sequence_iterate(n, &it)))
      BS_CALL(rd->ctx, resolve_node(rd, e, depth));
    return BS_OK;
  }
  if (!fy_node_is_mapping(n))
    return BS_OK;
  void *it = NULL;
  struct fy_node_pair *pr, *merge = NULL;
  while ((pr = fy_node_mapping_iterate(n, &it))) {
    fnode *k = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
    if (k && fy_node_is_alias(k))
      return cfg_err_at(rd, k, "an alias as a mapping key is not supported");
    if (is_merge_key(k)) {
      if (merge)
        return cfg_err_at(rd, k, "'<<' given twice in one mapping");
      merge = pr;
      continue;
    }
    if (v && fy_node_is_alias(v)) {
      fnode *c;
      BS_CALL(rd->ctx, alias_copy(rd, v, &c, depth));
      if (fy_node_pair_set_value(pr, c))
        return bs_error_set(rd->ctx, BS_ERR_NOMEM, "out of memory");
    } else if (v)
      BS_CALL(rd->ctx, resolve_node(rd, v, depth));
  }
  if (merge) {
    BS_CALL(rd->ctx, merge_into(rd, n, fy_node_pair_key(merge),
                                fy_node_pair_value(merge), depth));
    /* Removed by key: fy_node_mapping_remove would leave the pair and
     * its nodes allocated; this frees the pair and key and hands back
     * the value, ours to free. */
    fnode *mv = fy_node_mapping_remove_by_key(n, fy_node_pair_key(merge));
    if (!mv)
      return bs_error_set(rd->ctx, BS_ERR_INTERNAL, "cannot remove '<<'");
    fy_node_free(mv);
  }
  return BS_OK;
}

bs_status cfg_parse_document(reader *rd, const char *text, size_t len) {
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
  if (st == BS_OK)
    st = resolve_node(rd, fy_document_root(rd->fyd), 0);
  /* Overrides parse their values with the document's diag: stop collecting
   * there, as a collected error record of an invalid value is never freed
   * (libfyaml 0.7.12); apply_override reports those itself. */
  fy_diag_set_collect_errors(diag, false);
  fy_diag_destroy(diag);
  return st;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* `indices`: a list (sorted here; a repeat is an error), {range: [a, b]}
 * or `all` (also n NULL): the element indices below size. */
bs_status cfg_read_indices(reader *rd, fnode *n, uint64_t size, uint64_t **idx,
                           uint64_t *count) {
  uint64_t lo = 0, hi = size;
  if (n && fy_node_is_mapping(n)) {
    static const char *const keys[] = {"range", NULL};
    BS_CALL(rd->ctx,
            cfg_check_keys(rd, n, "indices", keys, NULL, NULL, "range"));
    fnode *r = cfg_lookup(n, "range");
    if (!r)
      return cfg_err_at(rd, n, "indices: expected a list or {range: [a, b]}");
    BS_CALL(rd->ctx, cfg_read_range(rd, r, "indices: range", size, &lo, &hi));
    n = NULL;
  } else if (n && cfg_scalar(n) && strcmp(cfg_scalar(n), "all") == 0) {
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
    return cfg_err_at(
        rd, n, "indices: expected a list, {range: [a, b]} or all, got %s",
        cfg_kind_name(n));
  uint64_t cnt = (uint64_t)fy_node_sequence_item_count(n);
  if (cnt == 0)
    return cfg_err_at(rd, n, "indices: the list is empty");
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, cnt, sizeof(uint64_t), idx));
  for (uint64_t q = 0; q < cnt; q++)
    BS_CALL(rd->ctx, cfg_get_uint(rd, fy_node_sequence_get_by_index(n, (int)q),
                                  "index", size - 1, &(*idx)[q]));
  qsort(*idx, cnt, sizeof(uint64_t), cmp_u64);
  for (uint64_t q = 1; q < cnt; q++)
    if ((*idx)[q] == (*idx)[q - 1])
      return cfg_err_at(rd, n, "indices: %llu is listed twice",
                        (unsigned long long)(*idx)[q]);
  *count = cnt;
  return BS_OK;
}

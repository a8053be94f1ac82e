/* populations: {NAME: {model, size, method, parameters, X_initializer}},
 * ConNeuGroup's channels included. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

/* The registries this section picks from. */
CFG_REGISTRY_KINDS(neuron_kinds, "model", bs_neuron_count, bs_neuron_at,
                   bs_neuron_find);
CFG_REGISTRY_KINDS(channel_kinds, "channel kind", bs_channel_count,
                   bs_channel_at, bs_channel_find);

/* Integrators: the names, those of the model's mask (data) kept. */
static int method_count(const void *data) {
  (void)data;
  return BS_METHOD_COUNT;
}
static const char *method_name(const void *data, int i) {
  (void)data;
  return bs_method_name(i);
}
static int method_keep(const void *data, int i) {
  return (*(const unsigned *)data & (1u << i)) != 0;
}

static int pop_key_ok(const void *data, const char *key) {
  const bs_neuron_model *m = data;
  if (bs_param_index(m->np, m->params, key) >= 0)
    return 1;
  if (m->events && (!strcmp(key, "indices") || !strcmp(key, "times")))
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

/* {file: F, dataset: D}: a 1-D dataset of one value per neuron, read when
 * the network is built. */
static bs_status get_dataset_ref(reader *rd, fnode *v, const char *what,
                                 char **file, char **dataset) {
  return cfg_get_dataset_ref(rd, v, what, "a dataset of one value per neuron",
                             file, dataset);
}

/* A parameter in time (BS_P_SECTIONS): {values: [...], durations:
 * [...]}, one value per section as section_input's; each value checked
 * against the parameter's range and the model's own check. */
static int is_sections(fnode *v) {
  return v && fy_node_is_mapping(v) &&
         (cfg_lookup(v, "values") || cfg_lookup(v, "durations"));
}

static bs_status read_sections(reader *rd, fnode *n, const char *owner,
                               bs_pop_spec *pop) {
  const bs_neuron_model *m = pop->model;
  for (int i = 0; i < m->np; i++) {
    const bs_param *d = &m->params[i];
    fnode *v = cfg_lookup(n, d->name);
    if (!is_sections(v))
      continue;
    char what[320];
    snprintf(what, sizeof what, "%s: parameter '%s'", owner, d->name);
    if (!(d->flags & BS_P_SECTIONS))
      return cfg_err_at(rd, v,
                        "%s: the section form {values, durations} is not "
                        "available for this parameter (only for parameters "
                        "that may vary in time: PoissonGroup's freqs)",
                        what);
    if (pop->n_sec)
      return cfg_err_at(rd, v, "%s: only one parameter may vary in time", what);
    static const char *const keys[] = {"values", "durations", NULL};
    BS_CALL(rd->ctx,
            cfg_check_keys(rd, v, what, keys, NULL, NULL, "values, durations"));
    fnode *vv = cfg_lookup(v, "values"), *dd = cfg_lookup(v, "durations");
    if (!vv || !dd)
      return cfg_err_at(rd, v,
                        "%s: the section form needs both values and "
                        "durations",
                        what);
    if (!fy_node_is_sequence(vv) || fy_node_sequence_item_count(vv) < 1)
      return cfg_err_at(rd, vv,
                        "%s: values: expected a list of at least one "
                        "value, got %s",
                        what, cfg_kind_name(vv));
    const uint64_t k = (uint64_t)fy_node_sequence_item_count(vv);
    if (!fy_node_is_sequence(dd) ||
        (uint64_t)fy_node_sequence_item_count(dd) != k)
      return cfg_err_at(rd, dd,
                        "%s: durations: expected a list of %llu times (one "
                        "per value), got %s",
                        what, (unsigned long long)k, cfg_kind_name(dd));
    static const bs_param dur = {
        "durations", BS_DIM_TIME, 0, 0, HUGE_VAL, 0, "length of each section"};
    BS_CALL(rd->ctx, bs_malloc(rd->ctx, k, sizeof(double), &pop->sec_v));
    BS_CALL(rd->ctx, bs_malloc(rd->ctx, k, sizeof(double), &pop->sec_d));
    pop->n_sec = k;
    pop->sec_param = i;
    for (uint64_t q = 0; q < k; q++) {
      fnode *e = fy_node_sequence_get_by_index(vv, (int)q);
      if (!fy_node_is_scalar(e))
        return cfg_err_at(rd, e,
                          "%s: values[%llu]: a section holds one value for "
                          "the whole population, got %s (rates per neuron "
                          "and in time at once are not supported: give "
                          "per-neuron rates without sections, or split the "
                          "population)",
                          what, (unsigned long long)q, cfg_kind_name(e));
      BS_CALL(rd->ctx, cfg_get_param(rd, e, d, owner, &pop->sec_v[q]));
      BS_CALL(rd->ctx,
              cfg_get_param(rd, fy_node_sequence_get_by_index(dd, (int)q), &dur,
                            what, &pop->sec_d[q]));
    }
  }
  return BS_OK;
}

/* Heterogeneous neuron parameters (README "Heterogeneous parameters"): a
 * parameter given as an initializer ({Normal: [...]}) is drawn per neuron
 * keyed by its gid; a list gives one value per neuron, each checked as a
 * value would be. Everything else stays one scalar in p[]. */
static bs_status read_hetero(reader *rd, fnode *n, const char *owner,
                             bs_pop_spec *pop) {
  const bs_neuron_model *m = pop->model;
  for (int i = 0; i < m->np; i++) {
    const bs_param *d = &m->params[i];
    fnode *v = cfg_lookup(n, d->name);
    if (!v || fy_node_is_scalar(v) || is_sections(v))
      continue;
    char what[320];
    snprintf(what, sizeof what, "%s: parameter '%s'", owner, d->name);
    if (d->flags & BS_P_INTEGER)
      return cfg_err_at(rd, v,
                        "%s is a whole number or flag and takes one value "
                        "for the population",
                        what);
    if (!pop->pdist) {
      BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->np, sizeof *pop->pdist,
                                 &pop->pdist));
      BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->np, sizeof *pop->plist,
                                 &pop->plist));
      BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->np, sizeof *pop->pfile,
                                 &pop->pfile));
      BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->np, sizeof *pop->pdset,
                                 &pop->pdset));
    }
    pop->nhetero++;
    if (fy_node_is_mapping(v) && cfg_lookup(v, "file")) {
      BS_CALL(rd->ctx,
              get_dataset_ref(rd, v, what, &pop->pfile[i], &pop->pdset[i]));
      pop->pdist[i].kind = BS_DIST_CONST;
    } else if (fy_node_is_sequence(v)) {
      if ((uint64_t)fy_node_sequence_item_count(v) != pop->size)
        return cfg_err_at(
            rd, v,
            "%s: a list needs exactly %llu values (one per neuron), "
            "got %d",
            what, (unsigned long long)pop->size,
            fy_node_sequence_item_count(v));
      BS_CALL(rd->ctx,
              bs_malloc(rd->ctx, pop->size, sizeof(double), &pop->plist[i]));
      void *it = NULL;
      fnode *e;
      for (uint64_t q = 0; (e = fy_node_sequence_iterate(v, &it)); q++)
        BS_CALL(rd->ctx, cfg_get_param(rd, e, d, owner, &pop->plist[i][q]));
      pop->pdist[i].kind = BS_DIST_CONST;
    } else if (fy_node_is_mapping(v)) {
      BS_CALL(rd->ctx, cfg_get_dist(rd, v, d->dim, what, &pop->pdist[i]));
    } else {
      return cfg_err_at(rd, v,
                        "%s: expected a value, an initializer or a list "
                        "of %llu values, got %s",
                        what, (unsigned long long)pop->size, cfg_kind_name(v));
    }
  }
  return BS_OK;
}

/* `noise: {VAR: amplitude, ...}`: BrainPy's noise term g of its SDE
 * neurons (dx = f dt + g dW), per ODE variable, in the variable's unit
 * per sqrt(ms). */
static bs_status read_noise(reader *rd, fnode *nz, const char *owner,
                            bs_pop_spec *pop) {
  if (!nz)
    return BS_OK;
  const bs_neuron_model *m = pop->model;
  char what[320];
  snprintf(what, sizeof what, "%s: noise", owner);
  if (!m->rhs || m->nv < 1)
    return cfg_err_at(
        rd, nz,
        "%s: not available for model %s (%s): noise goes into the "
        "differential equations of the point models",
        what, m->name,
        m->nv < 1 && !bs_neuron_is_cng(m)
            ? "it has no differential equations"
            : "its channels are integrated one by one");
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, nz, what));
  void *it = NULL;
  struct fy_node_pair *pr;
  while ((pr = fy_node_mapping_iterate(nz, &it))) {
    fnode *k = fy_node_pair_key(pr), *v = fy_node_pair_value(pr);
    const char *var = cfg_scalar(k);
    const int x = var ? bs_var_index(m->nx, m->vars, var) : -1;
    if (x < 0 || x >= m->nv) {
      char known[256];
      size_t used = 0;
      known[0] = '\0';
      for (int i = 0; i < m->nv; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
                                 i ? ", " : "", m->vars[i].name);
      return cfg_err_at(rd, k,
                        "%s: '%s' is not a differential variable of %s "
                        "(available: %s)",
                        what, var ? var : "?", m->name, known);
    }
    double g;
    BS_CALL(rd->ctx, cfg_get_quantity(rd, v, m->vars[x].dim, what, &g));
    if (!(g >= 0) || !isfinite(g))
      return cfg_err_at(rd, v, "%s: the amplitude of %s must be >= 0, got %g",
                        what, var, g);
    pop->noise[x] = g;
    if (g > 0)
      pop->has_noise = 1;
  }
  return BS_OK;
}

/* A spike source's events (SpikeTimeGroup, BrainPy's size, indices,
 * times): `indices: [...]` and `times: [...]` of the same length, or
 * `times: {file: F, population: P}`, a SONATA spike file read when the
 * network is built. Times are >= 0 and below 2^32 steps (the step is
 * the high half of a 64-bit event key). */
static bs_status read_events(reader *rd, fnode *n, const char *owner,
                             bs_pop_spec *pop) {
  fnode *tn = cfg_lookup(n, "times"), *in = cfg_lookup(n, "indices");
  char what[320];
  snprintf(what, sizeof what, "%s: times", owner);
  if (!tn)
    return cfg_err_at(rd, n,
                      "%s: missing required key 'times' (spike times with "
                      "'indices', or {file: spikes.h5, population: NAME}, a "
                      "SONATA spike file)",
                      owner);
  if (fy_node_is_mapping(tn)) {
    static const char *const keys[] = {"file", "population", NULL};
    BS_CALL(rd->ctx,
            cfg_check_keys(rd, tn, what, keys, NULL, NULL, "file, population"));
    fnode *f = cfg_lookup(tn, "file");
    if (!f)
      return cfg_err_at(rd, tn,
                        "%s: missing required key 'file' (a SONATA spike "
                        "file: /spikes/<population>/timestamps, node_ids)",
                        what);
    if (in)
      return cfg_err_at(rd, in,
                        "%s: indices come from the spike file's node_ids "
                        "when times is {file: ...}",
                        owner);
    BS_CALL(rd->ctx, cfg_get_path(rd, f, what, &pop->ev_file));
    fnode *pn = cfg_lookup(tn, "population");
    if (pn)
      BS_CALL(rd->ctx, cfg_get_string(rd, pn, what, &pop->ev_pop));
    return BS_OK;
  }
  if (!fy_node_is_sequence(tn))
    return cfg_err_at(rd, tn,
                      "%s: expected a list of times or {file: spikes.h5, "
                      "population: NAME}, got %s",
                      what, cfg_kind_name(tn));
  if (!in)
    return cfg_err_at(rd, n,
                      "%s: missing required key 'indices' (the neuron of "
                      "each of the times)",
                      owner);
  if (!fy_node_is_sequence(in))
    return cfg_err_at(rd, in, "%s: indices: expected a list, got %s", owner,
                      cfg_kind_name(in));
  const int nt = fy_node_sequence_item_count(tn);
  if (fy_node_sequence_item_count(in) != nt)
    return cfg_err_at(rd, in,
                      "%s: indices has %d entries and times %d: one index "
                      "per time",
                      owner, fy_node_sequence_item_count(in), nt);
  pop->n_ev = (uint64_t)nt;
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, nt ? (size_t)nt : 1, sizeof(uint64_t),
                             &pop->ev_idx));
  BS_CALL(rd->ctx,
          bs_malloc(rd->ctx, nt ? (size_t)nt : 1, sizeof(double), &pop->ev_t));
  char iwhat[320];
  snprintf(iwhat, sizeof iwhat, "%s: indices", owner);
  for (int q = 0; q < nt; q++) {
    fnode *e = fy_node_sequence_get_by_index(in, q);
    BS_CALL(rd->ctx,
            cfg_get_uint(rd, e, iwhat, pop->size - 1, &pop->ev_idx[q]));
    e = fy_node_sequence_get_by_index(tn, q);
    double t;
    BS_CALL(rd->ctx, cfg_get_quantity(rd, e, BS_DIM_TIME, what, &t));
    if (!(t >= 0) || !isfinite(t))
      return cfg_err_at(rd, e, "%s: a spike time must be >= 0 ms, got %g ms",
                        what, t);
    if (t / rd->spec->dt >= 4294967295.0)
      return cfg_err_at(rd, e,
                        "%s: %g ms is beyond step 2^32 - 1 of dt = %g ms", what,
                        t, rd->spec->dt);
    pop->ev_t[q] = t;
  }
  return BS_OK;
}

static bs_status read_channels(reader *rd, const char *owner, fnode *map,
                               int parent, bs_cng_channel *ch, int *nch) {
  char what[512];
  snprintf(what, sizeof what, "%s: channels", owner);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, map, what));
  void *it = NULL;
  struct fy_node_pair *pr;
  while ((pr = fy_node_mapping_iterate(map, &it))) {
    const char *cname = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, fy_node_pair_key(pr), what, &cname));
    fnode *body = fy_node_pair_value(pr);
    char cowner[512];
    snprintf(cowner, sizeof cowner, "%s: channel '%s'", owner, cname);
    if (strchr(cname, '.'))
      return cfg_err_at(rd, fy_node_pair_key(pr),
                        "%s: a channel name may not contain '.'", cowner);
    BS_CALL(rd->ctx, cfg_expect_mapping(rd, body, cowner));
    fnode *kn = cfg_lookup(body, "kind");
    if (!kn)
      return cfg_err_at(rd, body, "%s: missing required key 'kind'", cowner);
    const char *kname = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, kn, cowner, &kname));
    int ki;
    BS_CALL(rd->ctx, cfg_pick_kind(rd, kn, cowner, &channel_kinds, kname, &ki));
    const bs_channel_kind *kd = bs_channel_at(ki);
    if ((kd->flags & BS_CH_ION) && parent >= 0)
      return cfg_err_at(rd, kn, "%s: an ion (%s) cannot be inside another ion",
                        cowner, kname);
    if ((kd->flags & BS_CH_NEEDS_ION) && parent < 0)
      return cfg_err_at(
          rd, kn,
          "%s: %s needs a calcium ion: list it under the channels "
          "of one, e.g. Ca: {kind: CalciumDetailed, channels: "
          "{%s: {kind: %s}}}",
          cowner, kname, cname, kname);
    char expected[1024];
    static const char *const kfixed[] = {"kind", NULL};
    cfg_list_params(expected, sizeof expected, kfixed, kd->np, kd->params,
                    (kd->flags & BS_CH_ION) ? "channels" : NULL);
    BS_CALL(rd->ctx,
            cfg_check_keys(rd, body, cowner, NULL, chan_key_ok, kd, expected));
    if (*nch == MAX_CHANNELS)
      return cfg_err_at(rd, fy_node_pair_key(pr), "%s: more than %d channels",
                        cowner, MAX_CHANNELS);
    bs_cng_channel *c = &ch[(*nch)++];
    memset(c, 0, sizeof *c);
    c->name = cname;
    c->kind = kd;
    c->parent = parent;
    BS_CALL(rd->ctx,
            cfg_read_params(rd, body, kd->np, kd->params, cowner, c->p));
    fnode *sub = cfg_lookup(body, "channels");
    if (sub && !cfg_is_null(sub))
      BS_CALL(rd->ctx, read_channels(rd, cowner, sub, (int)(c - ch), ch, nch));
  }
  return BS_OK;
}

bs_status cfg_read_pop(reader *rd, const char *name, fnode *n,
                       bs_pop_spec *pop) {
  static const char *const fixed[] = {"model", "size", "method", "noise", NULL};
  char owner[256], expected[3072];
  snprintf(owner, sizeof owner, "population '%s'", name);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, n, owner));
  pop->name = bs_strdup(name);
  fnode *model = cfg_lookup(n, "model");
  if (!model)
    return cfg_err_at(rd, n, "%s: missing required key 'model'", owner);
  const char *mname = NULL;
  BS_CALL(rd->ctx, cfg_get_name(rd, model, owner, &mname));
  int mi;
  BS_CALL(rd->ctx, cfg_pick_kind(rd, model, owner, &neuron_kinds, mname, &mi));
  pop->model = bs_neuron_at(mi);
  const int is_cng = bs_neuron_is_cng(pop->model);
  static const char *const fixed_cng[] = {"model", "size", "method", "channels",
                                          NULL};
  if (is_cng) {
    fnode *chn = cfg_lookup(n, "channels");
    if (!chn || cfg_is_null(chn))
      return cfg_err_at(rd, model,
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
  if (m->events)
    used += (size_t)snprintf(suffix + used, sizeof suffix - used,
                             "%sindices, times", used ? ", " : "");
  cfg_list_params(expected, sizeof expected, is_cng ? fixed_cng : fixed, m->np,
                  m->params, used ? suffix : NULL);
  BS_CALL(rd->ctx, cfg_check_keys(rd, n, owner, is_cng ? fixed_cng : fixed,
                                  pop_key_ok, m, expected));
  fnode *size = cfg_lookup(n, "size");
  if (!size)
    return cfg_err_at(rd, n, "%s: missing required key 'size'", owner);
  BS_CALL(rd->ctx, cfg_get_uint(rd, size, "size", UINT32_MAX - 1, &pop->size));
  if (pop->size == 0)
    return cfg_err_at(rd, size, "%s: size must be at least 1", owner);
  fnode *method = cfg_lookup(n, "method");
  pop->method = BS_METHOD_EXP_AUTO;
  if (method) {
    const char *meth = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, method, owner, &meth));
    const unsigned mask = m->methods ? m->methods : 1u << BS_METHOD_EXP_AUTO;
    const int mi = bs_method_find(meth);
    if (mi < 0 || !(mask & (1u << mi))) {
      const cfg_kinds methods = {"method", method_count, method_name,
                                 NULL,     method_keep,  &mask};
      char known[128];
      cfg_kinds_list(&methods, known, sizeof known);
      return cfg_err_at(rd, method,
                        "%s: method '%s' is not available for %s (available: "
                        "%s)",
                        owner, meth, m->name, known);
    }
    pop->method = mi;
  }
  BS_CALL(rd->ctx, read_noise(rd, cfg_lookup(n, "noise"), owner, pop));
  if (m->events)
    BS_CALL(rd->ctx, read_events(rd, n, owner, pop));
  rd->hetero_ok = 1;
  bs_status hs = cfg_read_params(rd, n, m->np, m->params, owner, pop->p);
  rd->hetero_ok = 0;
  BS_CALL(rd->ctx, hs);
  BS_CALL(rd->ctx, read_hetero(rd, n, owner, pop));
  BS_CALL(rd->ctx, read_sections(rd, n, owner, pop));
  if (pop->n_sec && pop->pdist)
    return cfg_err_at(rd, cfg_lookup(n, m->params[pop->sec_param].name),
                      "%s: a parameter in time needs the other parameters "
                      "uniform (one value for the population)",
                      owner);
  if (pop->n_sec) /* step 0's value; the engine follows the sections */
    pop->p[pop->sec_param] = pop->sec_v[0];
  for (uint64_t q = 0;
       m->check && !pop->pdist && q < (pop->n_sec ? pop->n_sec : 1); q++) {
    double pq[BS_MAX_PARAMS];
    memcpy(pq, pop->p, sizeof pq);
    if (pop->n_sec)
      pq[pop->sec_param] = pop->sec_v[q];
    int blame = -1;
    const char *why = m->check(pq, rd->spec->dt, &blame);
    if (why) {
      fnode *at = blame >= 0 ? cfg_lookup(n, m->params[blame].name) : NULL;
      if (pop->n_sec && blame == pop->sec_param)
        at = fy_node_sequence_get_by_index(cfg_lookup(at, "values"), (int)q);
      return cfg_err_at(rd, at ? at : model, "%s: %s", owner, why);
    }
  }
  BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)(m->nx ? m->nx : 1),
                             sizeof *pop->init, &pop->init));
  for (int i = 0; i < m->nx; i++) {
    char key[160];
    snprintf(key, sizeof key, "%s_initializer", m->vars[i].name);
    fnode *v = cfg_lookup(n, key);
    pop->init[i].kind = m->vars[i].init_kind;
    pop->init[i].a = m->vars[i].init;
    pop->init[i].b = m->vars[i].init_b;
    if (v && fy_node_is_mapping(v) && cfg_lookup(v, "file")) {
      char what[448];
      snprintf(what, sizeof what, "%s: %s", owner, key);
      if (!pop->ifile) {
        BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->nx, sizeof *pop->ifile,
                                   &pop->ifile));
        BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->nx, sizeof *pop->idset,
                                   &pop->idset));
      }
      BS_CALL(rd->ctx,
              get_dataset_ref(rd, v, what, &pop->ifile[i], &pop->idset[i]));
      pop->init[i] = (bs_dist){.kind = BS_DIST_CONST, .a = NAN};
    } else if (v && fy_node_is_sequence(v)) { /* one value per neuron */
      char what[448];
      snprintf(what, sizeof what, "%s: %s", owner, key);
      if (!pop->init_list)
        BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)m->nx,
                                   sizeof *pop->init_list, &pop->init_list));
      BS_CALL(rd->ctx, cfg_get_list(rd, v, pop->size, m->vars[i].dim, what,
                                    &pop->init_list[i]));
      pop->init[i] = (bs_dist){.kind = BS_DIST_CONST, .a = NAN};
    } else if (v) {
      char what[448];
      snprintf(what, sizeof what, "%s: %s", owner, key);
      BS_CALL(rd->ctx,
              cfg_get_dist(rd, v, m->vars[i].dim, what, &pop->init[i]));
    }
  }
  return BS_OK;
}

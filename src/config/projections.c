/* projections: synapse (or a compatibility alias), output, stp,
 * plasticity, g_max, delays, connector (generated, pairs, a matrix or
 * files). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

/* The registries this section picks from. */
CFG_REGISTRY_KINDS(output_kinds, "output", bs_output_count, bs_output_at,
                   bs_output_find);
CFG_REGISTRY_KINDS(stp_kinds, "short-term plasticity", bs_stp_count, bs_stp_at,
                   bs_stp_find);
CFG_REGISTRY_KINDS(plast_kinds, "plasticity rule", bs_plast_count, bs_plast_at,
                   bs_plast_find);
CFG_REGISTRY_KINDS(connector_kinds, "connector", bs_connector_count,
                   bs_connector_at, bs_connector_find);

/* Synapse models, then the compatibility aliases (ExpCOBA, ...). */
static int synapse_count(const void *data) {
  (void)data;
  return bs_syn_count() + bs_syn_alias_count();
}
static const char *synapse_name(const void *data, int i) {
  (void)data;
  return i < bs_syn_count() ? bs_syn_at(i)->name
                            : bs_syn_alias_at(i - bs_syn_count())->name;
}
static const cfg_kinds synapse_kinds = {"synapse", synapse_count, synapse_name,
                                        NULL,      NULL,          NULL};

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
    fnode *v = cfg_lookup(map, o->params[i].name);
    if (i != pj->E_idx || !v || fy_node_is_scalar(v)) {
      BS_CALL(rd->ctx,
              cfg_read_param(rd, map, &o->params[i], owner, &pj->op[i]));
      continue;
    }
    char what[320];
    snprintf(what, sizeof what, "%s: E", owner);
    pj->E_per_post = 1;
    pj->op[i] = NAN; /* unused: E_post */
    if (fy_node_is_sequence(v))
      BS_CALL(rd->ctx, cfg_get_list(rd, v, rd->spec->pops[pj->post].size,
                                    BS_DIM_VOLTAGE, what, &pj->E_list));
    else
      BS_CALL(rd->ctx, cfg_get_dist(rd, v, BS_DIM_VOLTAGE, what, &pj->E_init));
  }
  return BS_OK;
}

/* A kind chosen as NAME or {NAME: {parameters}}: the name's node and text
 * and the body (NULL when there is none); form is what the key expects,
 * for the error ("stp: expected STD, ..."). */
static bs_status split_kind(reader *rd, fnode *n, const char *owner,
                            const char *form, fnode **namenode,
                            const char **name, fnode **body) {
  *namenode = n;
  *body = NULL;
  *name = cfg_scalar(n);
  if (*name)
    return BS_OK;
  if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
    return cfg_err_at(rd, n, "%s: %s, got %s", owner, form, cfg_kind_name(n));
  void *it = NULL;
  struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
  *namenode = fy_node_pair_key(pr);
  *name = cfg_scalar(*namenode);
  *body = fy_node_pair_value(pr);
  return BS_OK;
}

static bs_status read_output(reader *rd, fnode *n, const char *owner,
                             bs_proj_spec *pj) {
  fnode *body, *namenode;
  const char *name;
  BS_CALL(rd->ctx, split_kind(rd, n, owner,
                              "output: expected CUBA, COBA or {COBA: {E: ...}}",
                              &namenode, &name, &body));
  int oi;
  BS_CALL(rd->ctx,
          cfg_pick_kind(rd, namenode, owner, &output_kinds, name, &oi));
  pj->out = bs_output_at(oi);
  char what[300], expected[512];
  snprintf(what, sizeof what, "%s: output %s", owner, pj->out->name);
  if (body && !cfg_is_null(body)) {
    BS_CALL(rd->ctx, cfg_expect_mapping(rd, body, what));
    cfg_list_params(expected, sizeof expected, NULL, pj->out->np,
                    pj->out->params, NULL);
    BS_CALL(
        rd->ctx,
        cfg_check_keys(rd, body, what, NULL, proj_key_ok,
                       &(proj_keys){&(bs_syn_model){.np = pj->out->np,
                                                    .params = pj->out->params},
                                    NULL},
                       pj->out->np ? expected : "(none)"));
  }
  BS_CALL(rd->ctx, read_out_params(rd, body, what, pj));
  return BS_OK;
}

/* The parameters of a chosen kind from its body (none: the defaults),
 * every key checked against them. */
static bs_status read_kind_params(reader *rd, fnode *body, const char *what,
                                  int np, const bs_param *params, double *p) {
  if (body && !cfg_is_null(body)) {
    char expected[512];
    BS_CALL(rd->ctx, cfg_expect_mapping(rd, body, what));
    cfg_list_params(expected, sizeof expected, NULL, np, params, NULL);
    BS_CALL(rd->ctx,
            cfg_check_keys(
                rd, body, what, NULL, proj_key_ok,
                &(proj_keys){&(bs_syn_model){.np = np, .params = params}, NULL},
                expected));
  } else {
    body = NULL;
  }
  return cfg_read_params(rd, body, np, params, what, p);
}

/* stp: STD | STP | {STD: {tau, U}} | {STP: {U, tau_f, tau_d}} | null. */
static bs_status read_stp(reader *rd, fnode *n, const char *owner,
                          bs_proj_spec *pj) {
  if (cfg_is_null(n))
    return BS_OK;
  fnode *body, *namenode;
  const char *name;
  BS_CALL(rd->ctx,
          split_kind(rd, n, owner,
                     "stp: expected STD, STP, {STD: {tau: 200 ms, U: 0.07}} or "
                     "{STP: {U: 0.15, tau_f: 1500 ms, tau_d: 200 ms}}",
                     &namenode, &name, &body));
  int si;
  BS_CALL(rd->ctx, cfg_pick_kind(rd, namenode, owner, &stp_kinds, name, &si));
  const bs_stp_model *m = bs_stp_at(si);
  char what[300];
  snprintf(what, sizeof what, "%s: stp %s", owner, m->name);
  double p[BS_STP_NP];
  BS_CALL(rd->ctx, read_kind_params(rd, body, what, m->np, m->params, p));
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
  if (cfg_is_null(n))
    return BS_OK;
  fnode *body, *namenode;
  const char *name;
  BS_CALL(rd->ctx, split_kind(rd, n, owner,
                              "plasticity: expected a rule name or {RULE: "
                              "{parameters}}, e.g. {STDP_Song2000: {tau_s: 20 "
                              "ms}}",
                              &namenode, &name, &body));
  int ri;
  BS_CALL(rd->ctx, cfg_pick_kind(rd, namenode, owner, &plast_kinds, name, &ri));
  const bs_plast_rule *m = bs_plast_at(ri);
  char what[300];
  snprintf(what, sizeof what, "%s: plasticity %s", owner, m->name);
  BS_CALL(rd->ctx, read_kind_params(rd, body, what, m->np, m->params, pj->plp));
  const char *bad = m->check ? m->check(pj->plp) : NULL;
  if (bad)
    return cfg_err_at(rd, n, "%s: %s", what, bad);
  if (pj->syn->trace || pj->syn->to_V || pj->syn->gap)
    return cfg_err_at(rd, n,
                      "%s: needs a synapse linear in the spike train "
                      "(Exponential, DualExponential, Alpha, ...), not %s",
                      what, pj->syn->name);
  if (pj->dense)
    return cfg_err_at(rd,
                      cfg_lookup(proj, "comp_method")
                          ? cfg_lookup(proj, "comp_method")
                          : cfg_lookup(proj, "conn_type"),
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
  fnode *lw = cfg_lookup(v, "g_max"), *ld = cfg_lookup(v, "delay"),
        *ls = cfg_lookup(v, "delay_step");
  if (ld && ls)
    return cfg_err_at(rd, ls,
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
      return cfg_err_at(rd, l,
                        "%s: IJ %s: expected a list of %llu values (one "
                        "per pair), got %s",
                        owner, name, (unsigned long long)n, cfg_kind_name(l));
    double **dst = k == 0 ? &pj->ij_w : &pj->ij_d;
    BS_CALL(rd->ctx, bs_malloc(rd->ctx, n ? n : 1, sizeof(double), dst));
    char what[320];
    snprintf(what, sizeof what, "%s: IJ %s", owner, name);
    for (uint64_t q = 0; q < n; q++) {
      fnode *e = fy_node_sequence_get_by_index(l, (int)q);
      double x;
      BS_CALL(rd->ctx,
              cfg_get_quantity(rd, e, k == 1 && ld ? BS_DIM_TIME : BS_DIM_ONE,
                               what, &x));
      if (k == 1) {
        double st = floor((ld ? x * (1.0 / rd->spec->dt) : x) + 0.5);
        if (!ld && st != x)
          return cfg_err_at(rd, e, "%s: delay_step must be a whole number",
                            what);
        if (!(st >= 0 && st <= 1e6))
          return cfg_err_at(rd, e,
                            "%s: delay must be between 0 and 1e6 steps, got %g "
                            "steps",
                            what, st);
        x = st;
      } else if (!isfinite(x)) {
        return cfg_err_at(rd, e, "%s: expected a finite number", what);
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
    BS_CALL(rd->ctx, cfg_check_keys(rd, v, owner, keys, NULL, NULL,
                                    "i, j, g_max, delay, delay_step"));
    li = cfg_lookup(v, "i");
    lj = cfg_lookup(v, "j");
    if (!li || !lj || !fy_node_is_sequence(li) || !fy_node_is_sequence(lj))
      return cfg_err_at(
          rd, v, "%s: IJ needs lists i (pre ids) and j (post ids)", owner);
    n = (uint64_t)fy_node_sequence_item_count(li);
    if ((uint64_t)fy_node_sequence_item_count(lj) != n)
      return cfg_err_at(rd, lj,
                        "%s: IJ lists i and j differ in length (%llu vs "
                        "%d)",
                        owner, (unsigned long long)n,
                        fy_node_sequence_item_count(lj));
  } else if (fy_node_is_sequence(v)) {
    n = (uint64_t)fy_node_sequence_item_count(v);
  } else {
    return cfg_err_at(
        rd, v, "%s: IJ expects {i: [...], j: [...]} or [[pre, post], ...]",
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
        return cfg_err_at(rd, pair, "%s: IJ pair %llu: expected [pre, post]",
                          owner, (unsigned long long)q);
      a = fy_node_sequence_get_by_index(pair, 0);
      b = fy_node_sequence_get_by_index(pair, 1);
    }
    BS_CALL(rd->ctx, cfg_get_uint(rd, a, "IJ pre id", n_pre - 1, &pj->ci[q]));
    BS_CALL(rd->ctx, cfg_get_uint(rd, b, "IJ post id", n_post - 1, &pj->cj[q]));
  }
  if (li)
    BS_CALL(rd->ctx, read_ij_values(rd, v, owner, pj, n));
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
    return cfg_err_at(rd, body, "%s: expected %s, got %s", what,
                      sonata ? "{file: edges.h5, population: name}"
                             : "{file: conn.h5, group: /path}",
                      cfg_kind_name(body));
  BS_CALL(rd->ctx, cfg_check_keys(rd, body, what, sonata ? ks : kf, NULL, NULL,
                                  sonata ? "file, population, source, target"
                                         : "file, group"));
  fnode *f = cfg_lookup(body, "file");
  if (!f)
    return cfg_err_at(rd, body,
                      "%s: missing required key 'file' (an HDF5 file, "
                      "relative to the config's folder)",
                      what);
  char w2[400];
  snprintf(w2, sizeof w2, "%s: file", what);
  BS_CALL(rd->ctx, cfg_get_path(rd, f, w2, &pj->conn_file));
  fnode *g = cfg_lookup(body, sonata ? "population" : "group");
  snprintf(w2, sizeof w2, "%s: %s", what, sonata ? "population" : "group");
  if (g)
    BS_CALL(rd->ctx, cfg_get_string(rd, g, w2, &pj->conn_group));
  else
    pj->conn_group = bs_strdup(sonata ? pj->name : "/");
  const char *pre = rd->spec->pops[pj->pre].name,
             *post = rd->spec->pops[pj->post].name;
  fnode *src = cfg_lookup(body, "source"), *tgt = cfg_lookup(body, "target");
  if (src)
    BS_CALL(rd->ctx, cfg_get_string(rd, src, what, &pj->conn_source));
  else
    pj->conn_source = bs_strdup(pre);
  if (tgt)
    BS_CALL(rd->ctx, cfg_get_string(rd, tgt, what, &pj->conn_target));
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
    return cfg_err_at(rd, v,
                      "%s: expected a list of %llu rows (pre) of %llu entries "
                      "(post), got %s",
                      owner, (unsigned long long)n_pre,
                      (unsigned long long)n_post, cfg_kind_name(v));
  if ((uint64_t)fy_node_sequence_item_count(v) != n_pre)
    return cfg_err_at(
        rd, v,
        "%s: the matrix has %d rows but pre has %llu neurons (one "
        "row per pre neuron)",
        owner, fy_node_sequence_item_count(v), (unsigned long long)n_pre);
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
                   ? cfg_err_at(rd, row,
                                "%s: row %llu has %d entries but post has %llu "
                                "neurons (one entry per post neuron)",
                                owner, (unsigned long long)i,
                                fy_node_sequence_item_count(row),
                                (unsigned long long)n_post)
                   : cfg_err_at(rd, row,
                                "%s: row %llu: expected a list of %llu entries "
                                "(one per post neuron), got %s",
                                owner, (unsigned long long)i,
                                (unsigned long long)n_post, cfg_kind_name(row));
      void *jt = NULL;
      fnode *e;
      uint64_t j = 0;
      while ((e = fy_node_sequence_iterate(row, &jt))) {
        int x = matrix_entry(cfg_scalar(e));
        if (x < 0)
          return cfg_err_at(rd, e,
                            "%s: entry [%llu][%llu]: expected 0, 1, true or "
                            "false, got %s%s%s",
                            owner, (unsigned long long)i, (unsigned long long)j,
                            cfg_scalar(e) ? "'" : "",
                            cfg_scalar(e) ? cfg_scalar(e) : cfg_kind_name(e),
                            cfg_scalar(e) ? "'" : "");
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
  const char *name = cfg_scalar(n);
  if (!name) {
    if (!fy_node_is_mapping(n) || fy_node_mapping_item_count(n) != 1)
      return cfg_err_at(rd, n,
                        "%s: connect: expected one connector, e.g. "
                        "{FixedProb: {prob: 0.02}}, got %s",
                        owner, cfg_kind_name(n));
    void *it = NULL;
    struct fy_node_pair *pr = fy_node_mapping_iterate(n, &it);
    namenode = fy_node_pair_key(pr);
    name = cfg_scalar(namenode);
    body = fy_node_pair_value(pr);
  }
  int ci;
  BS_CALL(rd->ctx,
          cfg_pick_kind(rd, namenode, owner, &connector_kinds, name, &ci));
  pj->conn = bs_connector_at(ci);
  const bs_connector *c = pj->conn;
  char what[300], expected[512];
  snprintf(what, sizeof what, "%s: connector %s", owner, c->name);
  bs_pop_spec *pre = &rd->spec->pops[pj->pre],
              *post = &rd->spec->pops[pj->post];
  if (bs_connector_file_kind(c))
    return read_file_connect(rd, body ? body : namenode, what, pj);
  if (c->needs_ij) {
    if (!body)
      return cfg_err_at(rd, namenode, "%s needs its %s", what,
                        c->needs_ij == 2 ? "matrix" : "pairs");
    if (c->needs_ij == 2)
      BS_CALL(rd->ctx, read_matrix(rd, body, what, pj, pre->size, post->size));
    else
      BS_CALL(rd->ctx, read_ij(rd, body, what, pj, pre->size, post->size));
    return BS_OK;
  }
  if (body && !cfg_is_null(body)) {
    BS_CALL(rd->ctx, cfg_expect_mapping(rd, body, what));
    static const char *const grid_keys[] = {"shape", NULL};
    cfg_list_params(expected, sizeof expected, c->grid ? grid_keys : NULL,
                    c->np, c->params, NULL);
    BS_CALL(rd->ctx,
            cfg_check_keys(
                rd, body, what, c->grid ? grid_keys : NULL, proj_key_ok,
                &(proj_keys){&(bs_syn_model){.np = c->np, .params = c->params},
                             NULL},
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
    fnode *sh = body ? cfg_lookup(body, "shape") : NULL;
    if (sh) {
      int nd = fy_node_is_sequence(sh) ? fy_node_sequence_item_count(sh) : 1;
      if (nd < 1 || nd > 2)
        return cfg_err_at(rd, sh,
                          "%s: shape: expected n, [n0] or [n0, n1] (grids of 1 "
                          "or 2 dimensions)",
                          what);
      uint64_t prod = 1;
      for (int q = 0; q < nd; q++) {
        uint64_t v;
        fnode *e =
            fy_node_is_sequence(sh) ? fy_node_sequence_get_by_index(sh, q) : sh;
        BS_CALL(rd->ctx, cfg_get_uint(rd, e, "shape", UINT32_MAX, &v));
        if (v == 0)
          return cfg_err_at(rd, e, "%s: shape: sizes must be positive", what);
        g[1 + q] = (double)v;
        prod *= v;
      }
      g[0] = nd;
      if (prod != post->size)
        return cfg_err_at(
            rd, sh,
            "%s: shape has %llu positions but population '%s' has "
            "%llu neurons",
            what, (unsigned long long)prod, post->name,
            (unsigned long long)post->size);
    }
  }
  if (!body) {
    for (int i = 0; i < c->np; i++)
      if (c->params[i].flags & BS_P_REQUIRED)
        return cfg_err_at(rd, namenode,
                          "%s: missing required parameter '%s' (%s)", what,
                          c->params[i].name, c->params[i].doc);
  }
  BS_CALL(rd->ctx, cfg_read_params(rd, body, c->np, c->params, what, pj->cp));
  if (c->check) {
    int blame = -1;
    const char *why =
        c->check(pj->cp, pre->size, post->size, pj->pre == pj->post, &blame);
    if (why) {
      fnode *at =
          blame >= 0 && body ? cfg_lookup(body, c->params[blame].name) : NULL;
      return cfg_err_at(rd, at ? at : namenode,
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
    return cfg_err_at(rd, cfg_lookup(n, "pre"),
                      "%s: GapJunction couples membrane potentials, but pre "
                      "population '%s' (%s) has none",
                      owner, pre->name, pre->model->name);
  static const char *const refused[] = {"output", "stp", "delay", "delay_step"};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    fnode *k = cfg_lookup(n, refused[i]);
    if (k)
      return cfg_err_at(rd, k,
                        "%s: GapJunction takes no %s (it adds g_max (V_pre - "
                        "V_post) to the post and subtracts it from the pre "
                        "input every step, with V of the previous step)",
                        owner, refused[i]);
  }
  return BS_OK;
}

bs_status cfg_read_proj(reader *rd, const char *name, fnode *n,
                        bs_proj_spec *pj) {
  static const char *const fixed[] = {
      "pre",         "post",      "synapse",      "output",
      "g_max",       "delay",     "delay_step",   "connect",
      "comp_method", "stp",       "post_ref_key", "post_has_ref",
      "plasticity",  "conn_type", "method",       NULL};
  char owner[256], expected[1024];
  snprintf(owner, sizeof owner, "projection '%s'", name);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, n, owner));
  pj->name = bs_strdup(name);
  fnode *pre = cfg_lookup(n, "pre"), *post = cfg_lookup(n, "post");
  if (!pre)
    return cfg_err_at(rd, n, "%s: missing required key 'pre'", owner);
  if (!post)
    return cfg_err_at(rd, n, "%s: missing required key 'post'", owner);
  BS_CALL(rd->ctx, cfg_get_pop_ref(rd, pre, "pre", &pj->pre));
  BS_CALL(rd->ctx, cfg_get_pop_ref(rd, post, "post", &pj->post));
  if (!rd->spec->pops[pj->post].model->has_V)
    return cfg_err_at(
        rd, post,
        "%s: post population '%s' (%s) has no membrane to receive "
        "synaptic input",
        owner, rd->spec->pops[pj->post].name,
        rd->spec->pops[pj->post].model->name);
  /* Synapse model or a compatibility alias (ExpCOBA = Exponential + COBA,
   * with the output's parameters given at projection level). */
  fnode *syn = cfg_lookup(n, "synapse");
  const char *sname = "Exponential";
  if (syn)
    BS_CALL(rd->ctx, cfg_get_name(rd, syn, owner, &sname));
  int yi;
  BS_CALL(rd->ctx, cfg_pick_kind(rd, syn, owner, &synapse_kinds, sname, &yi));
  const bs_syn_alias *alias =
      yi >= bs_syn_count() ? bs_syn_alias_at(yi - bs_syn_count()) : NULL;
  pj->syn = bs_syn_find(alias ? alias->synapse : sname);
  const bs_output_model *aout = alias ? bs_output_find(alias->output) : NULL;
  char extra[256] = "";
  if (aout)
    cfg_list_params(extra, sizeof extra, NULL, aout->np, aout->params, NULL);
  cfg_list_params(expected, sizeof expected, fixed, pj->syn->np,
                  pj->syn->params, *extra ? extra : NULL);
  proj_keys pk = {pj->syn, aout};
  BS_CALL(rd->ctx,
          cfg_check_keys(rd, n, owner, fixed, proj_key_ok, &pk, expected));
  BS_CALL(rd->ctx,
          cfg_read_params(rd, n, pj->syn->np, pj->syn->params, owner, pj->sp));
  fnode *out = cfg_lookup(n, "output");
  if (pj->syn->gap) /* GapJunction: both ends need a membrane */
    BS_CALL(rd->ctx, check_gap(rd, n, owner, pj));
  if (out && pj->syn->to_V)
    return cfg_err_at(rd, out,
                      "%s: synapse %s adds its weights to the post-synaptic V "
                      "directly and takes no output",
                      owner, pj->syn->name);
  if (aout) {
    if (out)
      return cfg_err_at(rd, out,
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
  /* conn_type is the compatibility classes' name for it (BrainPy 2.3's
   * ExpCOBA(conn_type='sparse'), DualExpCUBA(conn_type='dense')). */
  static const char *const cm_keys[] = {"comp_method", "conn_type"};
  for (int q = 0; q < 2; q++) {
    fnode *cm = cfg_lookup(n, cm_keys[q]);
    if (!cm)
      continue;
    const char *m = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, cm, owner, &m));
    if (strcmp(m, "sparse") != 0 && strcmp(m, "dense") != 0)
      return cfg_err_at(rd, cm,
                        "%s: %s '%s' is not available (available: "
                        "sparse, dense)",
                        owner, cm_keys[q], m);
    if (q == 1 && cfg_lookup(n, "comp_method") &&
        pj->dense != (strcmp(m, "dense") == 0))
      return cfg_err_at(rd, cm,
                        "%s: conn_type '%s' contradicts comp_method (conn_type "
                        "is BrainPy's older name for it: give one)",
                        owner, m);
    pj->dense = strcmp(m, "dense") == 0;
  }
  /* method: the synapse's integrator (BrainPy's method='exp_auto'). The
   * kinetics here are integrated by exp_auto alone: exact for the linear
   * ones, each variable exact with the others frozen for the trace
   * models; another method would be a different model. */
  fnode *meth = cfg_lookup(n, "method");
  if (meth) {
    const char *m = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, meth, owner, &m));
    const int mi = bs_method_find(m);
    if (mi != BS_METHOD_EXP_AUTO)
      return cfg_err_at(
          rd, meth,
          "%s: method '%s' is not available for synapses (available: "
          "exp_auto, BrainPy's default, also spelled exp_euler: synapse "
          "kinetics are integrated exactly where linear, and each variable "
          "exactly with the others frozen otherwise)",
          owner, m);
  }
  fnode *g = cfg_lookup(n, "g_max");
  pj->g_max.kind = BS_DIST_CONST;
  pj->g_max.a = pj->syn->def_g_max != 0.0 ? pj->syn->def_g_max : 1.0;
  if (g && fy_node_is_mapping(g) && cfg_lookup(g, "file")) {
    /* g_max: {file, dataset}: a [pre, post] matrix (or [n] for One2One),
     * read when the network is built. */
    char what[300];
    snprintf(what, sizeof what, "%s: g_max", owner);
    BS_CALL(rd->ctx, cfg_get_dataset_ref(rd, g, what, "a [pre, post] dataset",
                                         &pj->g_file, &pj->g_dataset));
  } else if (g) {
    char what[300];
    snprintf(what, sizeof what, "%s: g_max", owner);
    BS_CALL(rd->ctx, cfg_get_dist(rd, g, BS_DIM_ONE, what, &pj->g_max));
  }
  /* Delays: `delay` in time units (rounded to whole steps) or `delay_step`
   * (BrainPy's integer steps); constant, drawn per synapse, or per pre
   * neuron (BrainPy's axonal delay_step array): a list of pre.num values
   * or {per: pre, KIND: [...]}. */
  fnode *d = cfg_lookup(n, "delay"), *ds = cfg_lookup(n, "delay_step");
  pj->delay.kind = BS_DIST_CONST;
  pj->delay.a = 0;
  if (d && ds)
    return cfg_err_at(rd, ds,
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
      BS_CALL(rd->ctx, cfg_get_list(rd, dn, n_pre, dim, what, &pj->delay_list));
      pj->delay_per_pre = 1;
      double mx = 0;
      for (uint64_t q = 0; q < n_pre; q++) {
        const double v = pj->delay_list[q] * scale, st = floor(v + 0.5);
        fnode *e = fy_node_sequence_get_by_index(dn, (int)q);
        if (!d && v != st)
          return cfg_err_at(
              rd, e, "%s: delay_step must be a whole number, got %g", owner, v);
        if (st < 0 || st > 1e6)
          return cfg_err_at(
              rd, e,
              "%s: delay of pre neuron %llu must be between 0 and "
              "1e6 steps, got %g steps",
              owner, (unsigned long long)q, st);
        pj->delay_list[q] = st;
        mx = st > mx ? st : mx;
      }
      pj->delay.a = mx; /* the ring depth */
    } else {
      fnode *per = fy_node_is_mapping(dn) ? cfg_lookup(dn, "per") : NULL;
      if (per) {
        const char *pv = cfg_scalar(per);
        if (!pv || (strcmp(pv, "pre") && strcmp(pv, "synapse")))
          return cfg_err_at(rd, per,
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
          return cfg_err_at(rd, dn,
                            "%s: expected {per: %s, KIND: [...]} with one "
                            "initializer (Uniform, Normal, LogNormal, "
                            "TruncatedNormal)",
                            what, pv);
        BS_CALL(rd->ctx, cfg_get_dist_kv(rd, dk, dv, dim, what, &pj->delay));
      } else {
        BS_CALL(rd->ctx, cfg_get_dist(rd, dn, dim, what, &pj->delay));
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
          return cfg_err_at(rd, ds, "%s: delay_step must be a whole number",
                            owner);
        if (st < 0 || st > 1e6)
          return cfg_err_at(rd, dn,
                            "%s: delay must be between 0 and 1e6 steps, got %g "
                            "steps",
                            owner, st);
        pj->delay.a = st;
      } else if (pj->delay.kind == BS_DIST_UNIFORM &&
                 (pj->delay.a < -0.5 || pj->delay.b > 1e6)) {
        return cfg_err_at(rd, dn,
                          "%s: delays drawn from [%g, %g] steps fall outside "
                          "[0, 1e6]",
                          owner, pj->delay.a, pj->delay.b);
      }
    }
  }
  if (pj->dense && !bs_dist_is_const(&pj->delay) && !pj->delay_per_pre)
    return cfg_err_at(rd,
                      cfg_lookup(n, "comp_method")
                          ? cfg_lookup(n, "comp_method")
                          : cfg_lookup(n, "conn_type"),
                      "%s: comp_method dense keeps no per-synapse delays; give "
                      "one delay, delays per pre neuron ({per: pre, ...} or a "
                      "list), or use comp_method: sparse",
                      owner);
  /* Delta's refractory gating: BrainPy's Delta(post_ref_key='refractory')
   * or DeltaSynapse(post_has_ref=True). */
  fnode *prk = cfg_lookup(n, "post_ref_key"),
        *phr = cfg_lookup(n, "post_has_ref");
  if (prk && phr)
    return cfg_err_at(rd, phr,
                      "%s: give either post_ref_key or post_has_ref, not both",
                      owner);
  fnode *rk = prk ? prk : phr;
  if (rk && !cfg_is_null(rk)) {
    const char *v = cfg_scalar(rk);
    int on = 0;
    if (prk && v && strcmp(v, "refractory") == 0)
      on = 1;
    else if (phr && v &&
             (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0))
      on = strcasecmp(v, "true") == 0;
    else
      return cfg_err_at(rd, rk,
                        prk ? "%s: post_ref_key: expected refractory (the post "
                              "neurons' refractory state) or null"
                            : "%s: post_has_ref: expected true or false",
                        owner);
    const bs_pop_spec *po = &rd->spec->pops[pj->post];
    const int ti = bs_var_index(po->model->nx, po->model->vars, "t_last_spike");
    const int pi = bs_param_index(po->model->np, po->model->params, "tau_ref");
    if (on && !pj->syn->to_V)
      return cfg_err_at(rd, rk,
                        "%s: refractory gating applies to Delta synapses only "
                        "(BrainPy Delta post_ref_key), not %s",
                        owner, pj->syn->name);
    if (on && (ti < 0 || pi < 0))
      return cfg_err_at(rd, rk,
                        "%s: post population '%s' (%s) has no refractory state "
                        "to gate by",
                        owner, po->name, po->model->name);
    if (on && isnan(po->p[pi]))
      return cfg_err_at(rd, rk,
                        "%s: post population '%s' has no refractory period "
                        "(tau_ref is null); give it tau_ref",
                        owner, po->name);
    pj->post_ref = on;
  }
  fnode *stp = cfg_lookup(n, "stp");
  if (stp)
    BS_CALL(rd->ctx, read_stp(rd, stp, owner, pj));
  fnode *conn = cfg_lookup(n, "connect");
  if (!conn)
    return cfg_err_at(rd, n,
                      "%s: missing required key 'connect' (e.g. "
                      "{FixedProb: {prob: 0.02}})",
                      owner);
  BS_CALL(rd->ctx, read_connect(rd, conn, owner, pj));
  /* engine/gap.c generates the pairs itself and draws g_max per pair: it
   * reads neither files nor per-pair lists. */
  if (pj->syn->gap && (bs_connector_file_kind(pj->conn) || pj->ij_w ||
                       pj->ij_d || pj->g_file || pj->dense))
    return cfg_err_at(rd, conn,
                      "%s: GapJunction takes its pairs from a generating "
                      "connector or IJ/matrix pairs, with g_max a value or an "
                      "initializer (not from files, per-pair lists, a g_max "
                      "dataset or comp_method dense)",
                      owner);
  fnode *pl = cfg_lookup(n, "plasticity");
  if (pl)
    BS_CALL(rd->ctx, read_plasticity(rd, pl, n, owner, pj));
  return BS_OK;
}

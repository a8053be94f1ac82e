/* inputs: [{target, range, KIND: {...}}]: currents into populations, one
 * kind of brainpy.inputs each (src/model/inputs.c), or the plain
 * `current: I`. Several inputs into one neuron add up. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

static int kind_key_ok(const void *data, const char *key) {
  const bs_input_kind *kd = data;
  return !strcmp(key, "target_var") ||
         bs_param_index(kd->np, kd->params, key) >= 0 ||
         bs_param_index(kd->nl, kd->lists, key) >= 0;
}

CFG_REGISTRY_KINDS(input_kinds, "input kind", bs_input_count, bs_input_at,
                   bs_input_find);

static int input_key_ok(const void *data, const char *key) {
  (void)data;
  return bs_input_find(key) != NULL;
}

bs_input_args bs_config_input_args(const bs_spec *s, int q) {
  const bs_input_spec *in = &s->inputs[q];
  return (bs_input_args){.p = in->p,
                         .l = in->l,
                         .ln = in->ln,
                         .dt = s->dt,
                         .duration = s->trial_duration,
                         .seed = s->seed,
                         .input = (uint32_t)q};
}

/* A list parameter: a list of quantities, or one (BrainPy broadcasts a
 * scalar sp_lens / sp_sizes). */
static bs_status read_list(reader *rd, fnode *v, const bs_param *d,
                           const char *owner, double **out, uint64_t *len) {
  char what[320];
  snprintf(what, sizeof what, "%s: '%s'", owner, d->name);
  const int seq = fy_node_is_sequence(v);
  const uint64_t n = seq ? (uint64_t)fy_node_sequence_item_count(v) : 1;
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, n ? n : 1, sizeof(double), out));
  *len = n;
  for (uint64_t q = 0; q < n; q++) {
    fnode *e = seq ? fy_node_sequence_get_by_index(v, (int)q) : v;
    BS_CALL(rd->ctx, cfg_get_param(rd, e, d, what, &(*out)[q]));
  }
  return BS_OK;
}

static bs_status read_kind(reader *rd, fnode *key, fnode *body,
                           const char *owner, int k, bs_input_spec *in) {
  const bs_input_kind *kd = in->kind;
  char what[256], expected[512];
  snprintf(what, sizeof what, "%s: %s", owner, kd->name);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, body, what));
  char tail[256] = "";
  cfg_list_params(tail, sizeof tail, NULL, kd->nl, kd->lists, NULL);
  cfg_list_params(expected, sizeof expected, NULL, kd->np, kd->params,
                  *tail ? tail : NULL);
  BS_CALL(rd->ctx,
          cfg_check_keys(rd, body, what, NULL, kind_key_ok, kd, expected));
  BS_CALL(rd->ctx, cfg_read_params(rd, body, kd->np, kd->params, what, in->p));
  for (int i = 0; i < kd->nl; i++) {
    fnode *v = cfg_lookup(body, kd->lists[i].name);
    if (!v)
      return cfg_err_at(rd, body, "%s: missing required parameter '%s' (%s)",
                        what, kd->lists[i].name, kd->lists[i].doc);
    BS_CALL(rd->ctx,
            read_list(rd, v, &kd->lists[i], what, &in->l[i], &in->ln[i]));
  }
  if (kd->check) {
    int blame = -1;
    const bs_input_args a = bs_config_input_args(rd->spec, k);
    const char *why = kd->check(&a, &blame);
    if (why) {
      const char *bn = blame < 0        ? NULL
                       : blame < kd->np ? kd->params[blame].name
                                        : kd->lists[blame - kd->np].name;
      fnode *at = bn ? cfg_lookup(body, bn) : NULL;
      return cfg_err_at(rd, at ? at : key, "%s: %s", what, why);
    }
  }
  return BS_OK;
}

/* target_var (BrainPy's 'E.input' or 'E.V', and PoissonInput's
 * target_var): `input`, the default, or the model's membrane potential. */
static bs_status read_target_var(reader *rd, fnode *tv, const char *owner,
                                 const bs_pop_spec *pop, bs_input_spec *in) {
  if (!tv)
    return BS_OK;
  const char *v = NULL;
  BS_CALL(rd->ctx, cfg_get_name(rd, tv, "target_var", &v));
  const char *V = pop->model->vars[0].name;
  if (!strcmp(v, V))
    in->to_V = 1;
  else if (strcmp(v, "input"))
    return cfg_err_at(rd, tv,
                      "%s: target_var '%s' is not a variable inputs can add "
                      "to (available: input, %s)",
                      owner, v, V);
  return BS_OK;
}

bs_status cfg_read_input(reader *rd, fnode *n, int k, bs_input_spec *in) {
  static const char *const keys[] = {"target", "range", "indices", "target_var",
                                     NULL};
  char owner[64], expected[512] = "target, range, indices, target_var, ";
  snprintf(owner, sizeof owner, "inputs[%d]", k);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, n, owner));
  cfg_kinds_list(&input_kinds, expected + strlen(expected),
                 sizeof expected - strlen(expected));
  BS_CALL(rd->ctx,
          cfg_check_keys(rd, n, owner, keys, input_key_ok, NULL, expected));
  fnode *t = cfg_lookup(n, "target");
  if (!t)
    return cfg_err_at(rd, n, "%s: missing required key 'target'", owner);
  /* Exactly one kind: the key that is neither target nor range. */
  fnode *kkey = NULL, *kval = NULL;
  void *it = NULL;
  struct fy_node_pair *pr;
  while ((pr = fy_node_mapping_iterate(n, &it))) {
    const char *kn = cfg_scalar(fy_node_pair_key(pr));
    if (!kn || !bs_input_find(kn))
      continue;
    if (kkey)
      return cfg_err_at(rd, fy_node_pair_key(pr),
                        "%s: '%s' and '%s' in one entry: give each input "
                        "kind its own entry (they add up)",
                        owner, cfg_scalar(kkey), kn);
    kkey = fy_node_pair_key(pr);
    kval = fy_node_pair_value(pr);
  }
  if (!kkey) {
    char kinds[512];
    cfg_kinds_list(&input_kinds, kinds, sizeof kinds);
    return cfg_err_at(rd, n,
                      "%s: missing required key 'current' (or an input "
                      "kind: %s)",
                      owner, kinds);
  }
  BS_CALL(rd->ctx, cfg_get_pop_ref(rd, t, "target", &in->pop));
  bs_pop_spec *pop = &rd->spec->pops[in->pop];
  if (!pop->model->has_V)
    return cfg_err_at(rd, t, "%s: population '%s' (%s) takes no input current",
                      owner, pop->name, pop->model->name);
  in->kind = bs_input_find(cfg_scalar(kkey));
  if (in->kind->np == 1 && !in->kind->nl && fy_node_is_scalar(kval)) {
    /* a one-parameter kind takes its value alone: `current: I` */
    BS_CALL(rd->ctx, cfg_get_quantity(rd, kval, in->kind->params[0].dim,
                                      in->kind->name, &in->p[0]));
    in->current = in->p[0];
  } else {
    BS_CALL(rd->ctx, read_kind(rd, kkey, kval, owner, k, in));
    in->current = in->kind->constant ? in->p[0] : 0.0;
  }
  in->start = 0;
  in->stop = pop->size;
  fnode *r = cfg_lookup(n, "range"), *ix = cfg_lookup(n, "indices");
  if (r && ix)
    return cfg_err_at(rd, ix, "%s: give either range or indices, not both",
                      owner);
  if (r)
    BS_CALL(rd->ctx,
            cfg_read_range(rd, r, "range", pop->size, &in->start, &in->stop));
  if (ix) {
    BS_CALL(rd->ctx, cfg_read_indices(rd, ix, pop->size, &in->idx, &in->n_idx));
    /* consecutive indices ({range: [a, b]} too) are a range */
    if (in->idx[in->n_idx - 1] - in->idx[0] + 1 == in->n_idx) {
      in->start = in->idx[0];
      in->stop = in->idx[0] + in->n_idx;
      free(in->idx);
      in->idx = NULL;
      in->n_idx = 0;
    }
  }
  fnode *tv = cfg_lookup(n, "target_var");
  fnode *tk = fy_node_is_mapping(kval) ? cfg_lookup(kval, "target_var") : NULL;
  if (tv && tk)
    return cfg_err_at(rd, tk, "%s: target_var is given twice", owner);
  return read_target_var(rd, tv ? tv : tk, owner, pop, in);
}

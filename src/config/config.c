/* YAML config to a validated bs_spec: the run section, the sections in
 * order, load and destroy. Every error names file:line:col (or the --set
 * override it came from) and what was expected. Names, defaults and units
 * follow BrainPy (shared/reference/brainpy-models.md). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

static bs_status read_run(reader *rd, fnode *run) {
  static const char *const keys[] = {"dt",     "duration", "seed",
                                     "trials", "overlap",  NULL};
  bs_spec *s = rd->spec;
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, run, "run"));
  BS_CALL(rd->ctx, cfg_check_keys(rd, run, "run", keys, NULL, NULL,
                                  "dt, duration, seed, trials, overlap"));
  static const bs_param dt_p = {"dt", BS_DIM_TIME,  0.1,        0,
                                1000, BS_P_LO_OPEN, "time step"};
  static const bs_param dur_p = {
      "duration",      BS_DIM_TIME, NAN, 0, 1e15, BS_P_LO_OPEN | BS_P_REQUIRED,
      "simulated time"};
  BS_CALL(rd->ctx, cfg_read_params(rd, run, 1, &dt_p, "run", &s->dt));
  BS_CALL(rd->ctx, cfg_read_params(rd, run, 1, &dur_p, "run", &s->duration));
  double steps = s->duration / s->dt;
  s->n_steps = (int64_t)llround(steps);
  if (fabs(steps - (double)s->n_steps) > 1e-6 * (steps > 1 ? steps : 1))
    return cfg_err_at(rd, cfg_lookup(run, "duration"),
                      "run: duration %g ms is not a whole number of steps of "
                      "dt = %g ms",
                      s->duration, s->dt);
  /* Trials (BrainPy's reset() between runs): `duration` is one trial; the
   * run is `trials` of them back to back, state reset at each start. */
  fnode *tr = cfg_lookup(run, "trials");
  s->trials = 1;
  if (tr)
    BS_CALL(rd->ctx, cfg_get_uint(rd, tr, "run: trials", 1000000, &s->trials));
  if (s->trials < 1)
    return cfg_err_at(rd, tr, "run: trials must be at least 1");
  s->trial_steps = s->n_steps;
  s->trial_duration = s->duration;
  s->n_steps *= (int64_t)s->trials;
  s->duration *= (double)s->trials;
  if (s->n_steps > INT32_MAX)
    return cfg_err_at(rd, cfg_lookup(run, "duration"),
                      "run: %lld steps is too many (at most %d)",
                      (long long)s->n_steps, INT32_MAX);
  /* How the spike exchange is scheduled, not what is computed: the
   * results are the same bits either way (so not in a checkpoint's
   * identity). */
  fnode *ov = cfg_lookup(run, "overlap");
  s->overlap = BS_OVERLAP_AUTO;
  if (ov) {
    const char *v;
    BS_CALL(rd->ctx, cfg_get_name(rd, ov, "run: overlap", &v));
    if (strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0)
      s->overlap = BS_OVERLAP_ON;
    else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0)
      s->overlap = BS_OVERLAP_OFF;
    else if (strcasecmp(v, "auto") != 0)
      return cfg_err_at(
          rd, ov, "run: overlap must be auto, true or false, got '%s'", v);
  }
  fnode *seed = cfg_lookup(run, "seed");
  s->seed = 0;
  if (seed)
    BS_CALL(rd->ctx, cfg_get_uint(rd, seed, "run: seed", UINT32_MAX, &s->seed));
  return BS_OK;
}

/* ---- top level -------------------------------------------------------- */

static bs_status read_all(reader *rd) {
  /* definitions: a place for YAML anchors (templates), not read. */
  static const char *const top[] = {"run",    "populations", "projections",
                                    "inputs", "monitors",    "definitions",
                                    NULL};
  bs_spec *s = rd->spec;
  fnode *root = fy_document_root(rd->fyd);
  BS_CALL(rd->ctx, cfg_check_keys(rd, root, "config", top, NULL, NULL,
                                  "run, populations, projections, inputs, "
                                  "monitors, definitions"));
  fnode *run = cfg_lookup(root, "run");
  if (!run)
    return cfg_err_at(rd, root,
                      "config: missing required section 'run' (dt, "
                      "duration, seed)");
  BS_CALL(rd->ctx, read_run(rd, run));

  fnode *pops = cfg_lookup(root, "populations");
  if (!pops)
    return cfg_err_at(rd, root,
                      "config: missing required section 'populations'");
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, pops, "populations"));
  int np = fy_node_mapping_item_count(pops);
  if (np < 1)
    return cfg_err_at(rd, pops,
                      "populations: at least one population is needed");
  BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)np, sizeof *s->pops, &s->pops));
  void *it = NULL;
  struct fy_node_pair *pr;
  uint64_t gid = 0;
  while ((pr = fy_node_mapping_iterate(pops, &it))) {
    const char *name = NULL;
    BS_CALL(rd->ctx,
            cfg_get_name(rd, fy_node_pair_key(pr), "population name", &name));
    if (cfg_find_pop(s, name) >= 0)
      return cfg_err_at(rd, fy_node_pair_key(pr),
                        "population '%s' is defined "
                        "twice",
                        name);
    bs_pop_spec *p = &s->pops[s->n_pops++]; /* counted first: freed on error */
    BS_CALL(rd->ctx, cfg_read_pop(rd, name, fy_node_pair_value(pr), p));
    p->gid0 = gid;
    gid += p->size;
    if (gid >= UINT32_MAX)
      return cfg_err_at(
          rd, fy_node_pair_value(pr),
          "populations: %llu neurons in total exceed the limit of "
          "2^32 - 1",
          (unsigned long long)gid);
  }
  s->n_neurons = gid;

  fnode *projs = cfg_lookup(root, "projections");
  if (projs && !cfg_is_null(projs)) {
    BS_CALL(rd->ctx, cfg_expect_mapping(rd, projs, "projections"));
    int nj = fy_node_mapping_item_count(projs);
    BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)(nj ? nj : 1), sizeof *s->projs,
                               &s->projs));
    it = NULL;
    while ((pr = fy_node_mapping_iterate(projs, &it))) {
      const char *name = NULL;
      BS_CALL(rd->ctx,
              cfg_get_name(rd, fy_node_pair_key(pr), "projection name", &name));
      if (cfg_find_proj(s, name) >= 0)
        return cfg_err_at(rd, fy_node_pair_key(pr),
                          "projection '%s' is defined twice", name);
      s->n_projs++; /* counted first: freed on error */
      BS_CALL(rd->ctx, cfg_read_proj(rd, name, fy_node_pair_value(pr),
                                     &s->projs[s->n_projs - 1]));
    }
  }

  fnode *inputs = cfg_lookup(root, "inputs");
  if (inputs && !cfg_is_null(inputs)) {
    if (!fy_node_is_sequence(inputs))
      return cfg_err_at(rd, inputs,
                        "inputs: expected a list of {target, current, range}, "
                        "got %s",
                        cfg_kind_name(inputs));
    int ni = fy_node_sequence_item_count(inputs);
    BS_CALL(rd->ctx, bs_calloc(rd->ctx, (size_t)(ni ? ni : 1),
                               sizeof *s->inputs, &s->inputs));
    for (int k = 0; k < ni; k++) {
      s->n_inputs++; /* counted first: its lists are freed on error */
      BS_CALL(rd->ctx,
              cfg_read_input(rd, fy_node_sequence_get_by_index(inputs, k), k,
                             &s->inputs[k]));
    }
  }

  fnode *mons = cfg_lookup(root, "monitors");
  if (mons && !cfg_is_null(mons)) {
    if (!fy_node_is_sequence(mons))
      return cfg_err_at(rd, mons, "monitors: expected a list, got %s",
                        cfg_kind_name(mons));
    int nm = fy_node_sequence_item_count(mons);
    for (int k = 0; k < nm; k++)
      BS_CALL(rd->ctx,
              cfg_read_monitor(rd, fy_node_sequence_get_by_index(mons, k), k));
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
  size_t len = 0, fl = strlen(file);
  if (fl > 5 && strcmp(file + fl - 5, ".json") == 0) {
    /* A SONATA simulation config (sonata_sim.c). */
    bs_status sst = cfg_sonata_load(ctx, file, n_set, s);
    if (sst != BS_OK) {
      bs_config_destroy(&s);
      return sst;
    }
    *out = s;
    return BS_OK;
  }
  bs_status st = cfg_read_text(ctx, file, &s->text, &len);
  if (st == BS_OK) {
    size_t bad = cfg_utf8_invalid_at(s->text, len);
    if (bad < len) {
      int line, col;
      cfg_text_position(s->text, bad, &line, &col);
      st = bs_error_set(ctx, BS_ERR_CONFIG,
                        "%s:%d:%d: error: byte 0x%02x is not valid UTF-8 "
                        "text (a config is UTF-8 YAML without NUL bytes)",
                        file, line, col, (unsigned char)s->text[bad]);
    }
  }
  if (st == BS_OK)
    st = cfg_parse_document(&rd, s->text, len);
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
      st = cfg_apply_override(&rd, k);
    }
  }
  if (st == BS_OK)
    st = read_all(&rd);
  if (rd.fyd)
    fy_document_destroy(rd.fyd);
  free(rd.use_node);
  free(rd.use_line);
  free(rd.use_col);
  free(rd.anchor_line);
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
    for (int q = 0; s->pops[i].plist && q < s->pops[i].model->np; q++)
      free(s->pops[i].plist[q]);
    free(s->pops[i].plist);
    free(s->pops[i].pdist);
    for (int q = 0; s->pops[i].pfile && q < s->pops[i].model->np; q++) {
      free(s->pops[i].pfile[q]);
      free(s->pops[i].pdset[q]);
    }
    free(s->pops[i].pfile);
    free(s->pops[i].pdset);
    for (int q = 0; s->pops[i].init_list && q < s->pops[i].model->nx; q++)
      free(s->pops[i].init_list[q]);
    free(s->pops[i].init_list);
    for (int q = 0; s->pops[i].ifile && q < s->pops[i].model->nx; q++) {
      free(s->pops[i].ifile[q]);
      free(s->pops[i].idset[q]);
    }
    free(s->pops[i].ifile);
    free(s->pops[i].idset);
    free(s->pops[i].sec_v);
    free(s->pops[i].sec_d);
    free(s->pops[i].ev_idx);
    free(s->pops[i].ev_t);
    free(s->pops[i].ev_file);
    free(s->pops[i].ev_pop);
    bs_cng_destroy(&s->pops[i].own);
    bs_sonata_types *sn = s->pops[i].sn;
    if (sn) {
      free(sn->file);
      free(sn->population);
      free(sn->id);
      free(sn->p);
      free(sn->x0);
      free(sn->p_var);
      free(sn->x_var);
      free(sn);
    }
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
    free(s->projs[i].conn_types);
  }
  for (int i = 0; i < s->n_inputs; i++) {
    for (int k = 0; k < BS_INPUT_MAXL; k++)
      free(s->inputs[i].l[k]);
    free(s->inputs[i].idx);
  }
  for (int i = 0; i < s->n_monitors; i++) {
    free(s->monitors[i].pops);
    free(s->monitors[i].name);
    free(s->monitors[i].file);
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
  free(s->out_file);
  free(s->out_dir);
  free(s);
  *spec = NULL;
}

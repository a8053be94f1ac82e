/* monitors: spikes of populations, state of populations and projections
 * (per neuron, per pre neuron or per chosen synapse). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

/* `synapses: [[pre, post], ...]` of a monitor: the pairs in config order,
 * each index checked against its population (whether the pair exists is
 * known only once the network is built). */
static bs_status read_syn_pairs(reader *rd, fnode *n, const char *owner,
                                const bs_proj_spec *pj, uint64_t **out,
                                uint64_t *count) {
  const bs_spec *s = rd->spec;
  if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) < 1)
    return cfg_err_at(rd, n,
                      "%s: synapses: expected a non-empty list of [pre, post] "
                      "pairs, got %s",
                      owner, cfg_kind_name(n));
  const uint64_t cnt = (uint64_t)fy_node_sequence_item_count(n);
  uint64_t *p;
  BS_CALL(rd->ctx, bs_malloc(rd->ctx, 2 * cnt, sizeof(uint64_t), &p));
  bs_status st = BS_OK;
  for (uint64_t c = 0; c < cnt && st == BS_OK; c++) {
    fnode *e = fy_node_sequence_get_by_index(n, (int)c);
    if (!fy_node_is_sequence(e) || fy_node_sequence_item_count(e) != 2) {
      st = cfg_err_at(rd, e,
                      "%s: synapses[%llu]: expected a [pre, post] pair, got %s",
                      owner, (unsigned long long)c, cfg_kind_name(e));
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
      st = cfg_get_uint(rd, v, what, size[k] - 1, &p[2 * c + (uint64_t)k]);
    }
    for (uint64_t o = 0; o < c && st == BS_OK; o++)
      if (p[2 * o] == p[2 * c] && p[2 * o + 1] == p[2 * c + 1])
        st = cfg_err_at(rd, e, "%s: synapses: [%llu, %llu] is listed twice",
                        owner, (unsigned long long)p[2 * c],
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

/* A time as a whole number of steps (every, start, stop of a monitor). */
static bs_status get_steps(reader *rd, fnode *v, const char *owner,
                           const char *key, int64_t *steps) {
  double e;
  BS_CALL(rd->ctx, cfg_get_quantity(rd, v, BS_DIM_TIME, key, &e));
  const double st = e / rd->spec->dt;
  *steps = (int64_t)llround(st);
  if (!(st >= 0) || fabs(st - (double)*steps) > 1e-6 * (st > 1 ? st : 1))
    return cfg_err_at(
        rd, v,
        "%s: %s = %g ms must be a whole number of steps of dt = %g "
        "ms",
        owner, key, e, rd->spec->dt);
  return BS_OK;
}

/* A monitor's window: `start:` (default 0) and `stop:` (default: the end
 * of the run, also of a longer continued run), times in whole steps. */
static bs_status read_window(reader *rd, fnode *n, const char *owner,
                             bs_monitor_spec *m) {
  fnode *a = cfg_lookup(n, "start"), *b = cfg_lookup(n, "stop");
  m->start = 0;
  m->stop = -1;
  if (a)
    BS_CALL(rd->ctx, get_steps(rd, a, owner, "start", &m->start));
  if (b)
    BS_CALL(rd->ctx, get_steps(rd, b, owner, "stop", &m->stop));
  if (b && m->stop <= m->start)
    return cfg_err_at(rd, b, "%s: stop must be after start (%g ms)", owner,
                      (double)m->start * rd->spec->dt);
  if (a && m->start >= rd->spec->n_steps)
    return cfg_err_at(rd, a,
                      "%s: start %g ms is not before the end of the run "
                      "(%g ms)",
                      owner, (double)m->start * rd->spec->dt,
                      rd->spec->duration);
  return BS_OK;
}

/* A spike monitor's indices (one population only), and the rule that
 * one with indices or a window is its populations' only spike monitor:
 * the output has one spike table per population. */
static bs_status spike_subset(reader *rd, fnode *n, const char *owner,
                              bs_monitor_spec *m) {
  const bs_spec *s = rd->spec;
  fnode *ix = cfg_lookup(n, "indices");
  int np = 0, pop = -1;
  for (int p = 0; p < s->n_pops; p++)
    if (m->pops[p])
      np++, pop = p;
  if (ix && np != 1)
    return cfg_err_at(rd, ix,
                      "%s: indices need exactly one population in spikes "
                      "(give one monitor per population)",
                      owner);
  if (ix)
    BS_CALL(rd->ctx,
            cfg_read_indices(rd, ix, s->pops[pop].size, &m->idx, &m->n_idx));
  const int sub = ix || m->start > 0 || m->stop >= 0;
  for (int q = 0; q < s->n_monitors; q++) {
    const bs_monitor_spec *o = &s->monitors[q];
    if (o->kind != BS_MON_SPIKES)
      continue;
    const int osub = o->idx || o->start > 0 || o->stop >= 0;
    for (int p = 0; p < s->n_pops; p++)
      if (m->pops[p] && o->pops[p] && (sub || osub))
        return cfg_err_at(rd, n,
                          "%s: population '%s' is already recorded by "
                          "monitors[%d]; a spike monitor with indices or a "
                          "window must be its population's only one",
                          owner, s->pops[p].name, q);
  }
  return BS_OK;
}

bs_status cfg_read_monitor(reader *rd, fnode *n, int k) {
  char owner[64];
  bs_spec *s = rd->spec;
  snprintf(owner, sizeof owner, "monitors[%d]", k);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, n, owner));
  fnode *sp = cfg_lookup(n, "spikes");
  if (sp) {
    static const char *const keys[] = {"spikes", "indices", "start", "stop",
                                       NULL};
    BS_CALL(rd->ctx, cfg_check_keys(rd, n, owner, keys, NULL, NULL,
                                    "spikes, indices, start, stop"));
    bs_monitor_spec m = {
        .kind = BS_MON_SPIKES, .pop = -1, .proj = -1, .every = 1};
    BS_CALL(rd->ctx, read_window(rd, n, owner, &m));
    BS_CALL(rd->ctx,
            bs_calloc(rd->ctx, (size_t)s->n_pops, sizeof(int), &m.pops));
    if (cfg_scalar(sp) && strcmp(cfg_scalar(sp), "all") == 0) {
      for (int i = 0; i < s->n_pops; i++)
        m.pops[i] = 1;
    } else if (fy_node_is_sequence(sp)) {
      void *it = NULL;
      fnode *e;
      while ((e = fy_node_sequence_iterate(sp, &it))) {
        int p;
        bs_status st = cfg_get_pop_ref(rd, e, "spikes", &p);
        if (st != BS_OK) {
          free(m.pops);
          return st;
        }
        m.pops[p] = 1;
      }
    } else {
      int p;
      bs_status st = cfg_get_pop_ref(rd, sp, "spikes", &p);
      if (st != BS_OK) {
        free(m.pops);
        return st;
      }
      m.pops[p] = 1;
    }
    bs_status st = spike_subset(rd, n, owner, &m);
    if (st != BS_OK) {
      free(m.pops);
      free(m.idx);
      return st;
    }
    return add_monitor(rd, &m);
  }
  static const char *const keys[] = {
      "population", "projection", "variables", "indices", "every",
      "name",       "synapses",   "start",     "stop",    NULL};
  BS_CALL(rd->ctx,
          cfg_check_keys(rd, n, owner, keys, NULL, NULL,
                         "spikes, or population/projection, variables, "
                         "indices or synapses, every, name, start, stop"));
  bs_monitor_spec win = {.every = 1};
  BS_CALL(rd->ctx, read_window(rd, n, owner, &win));
  fnode *pn = cfg_lookup(n, "population"), *jn = cfg_lookup(n, "projection");
  if (!pn == !jn)
    return cfg_err_at(
        rd, n, "%s: give exactly one of spikes, population or projection",
        owner);
  int pop = -1, proj = -1, nx;
  const bs_var *vars;
  uint64_t size;
  if (pn) {
    BS_CALL(rd->ctx, cfg_get_pop_ref(rd, pn, "population", &pop));
    nx = s->pops[pop].model->nx;
    vars = s->pops[pop].model->vars;
    size = s->pops[pop].size;
  } else {
    const char *pname = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, jn, "projection", &pname));
    proj = cfg_find_proj(s, pname);
    if (proj < 0)
      return cfg_err_at(rd, jn, "%s: no projection named '%s'", owner, pname);
    nx = s->projs[proj].syn->nx;
    vars = s->projs[proj].syn->vars;
    size = s->pops[s->projs[proj].post].size;
  }
  const bs_proj_spec *pj = proj >= 0 ? &s->projs[proj] : NULL;
  fnode *synn = cfg_lookup(n, "synapses");
  if (synn && !pj)
    return cfg_err_at(rd, synn,
                      "%s: synapses: only a projection's monitor "
                      "records chosen synapses",
                      owner);
  if (synn && pj->syn->gap)
    return cfg_err_at(rd, synn,
                      "%s: synapses: projection '%s' is a gap junction; its "
                      "junctions cannot be monitored one by one",
                      owner, pj->name);
  if (synn && cfg_lookup(n, "indices"))
    return cfg_err_at(rd, synn, "%s: give either indices or synapses, not both",
                      owner);
  fnode *vn = cfg_lookup(n, "variables");
  if (!vn)
    return cfg_err_at(rd, n, "%s: missing required key 'variables'", owner);
  int nv = fy_node_is_sequence(vn) ? fy_node_sequence_item_count(vn) : 1;
  if (nv < 1)
    return cfg_err_at(rd, vn, "%s: variables: the list is empty", owner);
  fnode *name = cfg_lookup(n, "name");
  if (name && nv != 1)
    return cfg_err_at(rd, name, "%s: name needs exactly one variable", owner);
  int64_t every = 1;
  fnode *ev = cfg_lookup(n, "every");
  if (ev) {
    double e;
    BS_CALL(rd->ctx, cfg_get_quantity(rd, ev, BS_DIM_TIME, "every", &e));
    double st = e / s->dt;
    every = (int64_t)llround(st);
    if (every < 1 || fabs(st - (double)every) > 1e-6 * st)
      return cfg_err_at(rd, ev,
                        "%s: every = %g ms must be a positive whole number of "
                        "steps of dt = %g ms",
                        owner, e, s->dt);
  }
  for (int v = 0; v < nv; v++) {
    fnode *vv =
        fy_node_is_sequence(vn) ? fy_node_sequence_get_by_index(vn, v) : vn;
    const char *vname = NULL;
    BS_CALL(rd->ctx, cfg_get_name(rd, vv, "variables", &vname));
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
        return cfg_err_at(rd, vv,
                          "%s: %s synapses of projection '%s' have no "
                          "per-synapse %s: their conductances add up linearly "
                          "into one state per post neuron (monitor %s without "
                          "synapses:, per post neuron)",
                          owner, pj->syn->name, pj->name, vname, vname);
      else if (var >= 0)
        return cfg_err_at(
            rd, vv,
            "%s: '%s' of projection '%s' (%s) is not kept per "
            "synapse: only g is, as history of the pre neuron's "
            "trace; monitor '%s' without synapses: (per pre neuron)",
            owner, vname, pj->name, pj->syn->name, vname);
      if (!syn_var && var < 0) {
        const char *stpv = !pj->stp                      ? ""
                           : pj->stp->kind == BS_STP_STP ? ", stp.u, stp.x"
                                                         : ", stp.x";
        return cfg_err_at(rd, vv,
                          "%s: no per-synapse variable '%s' (available: %sw, "
                          "delay%s)",
                          owner, vname, pj->syn->trace ? "g, " : "", stpv);
      }
    }
    /* A population's input current (BrainPy's input variable). */
    const int input = pop >= 0 && var < 0 && strcmp(vname, "input") == 0;
    if (input && !s->pops[pop].model->has_V)
      return cfg_err_at(
          rd, vv,
          "%s: population '%s' (%s) has no membrane potential and "
          "so no input current to monitor",
          owner, s->pops[pop].name, s->pops[pop].model->name);
    /* A population rate: one column, the population's spikes of each
     * step per neuron and second (Brian2's PopulationRateMonitor). */
    const int rate = pop >= 0 && var < 0 && strcmp(vname, "rate") == 0;
    if (rate && cfg_lookup(n, "indices"))
      return cfg_err_at(rd, cfg_lookup(n, "indices"),
                        "%s: rate is one column for the whole population; it "
                        "takes no indices",
                        owner);
    if (rate && every != 1)
      return cfg_err_at(
          rd, ev,
          "%s: rate is recorded every step (spikes of each step); "
          "bin it after the run, or give every: dt",
          owner);
    /* A projection's synaptic current (BrainPy's output current). */
    const int isyn =
        pj && !synn && var < 0 && !stp_var && strcmp(vname, "I_syn") == 0;
    if (isyn && (pj->syn->to_V || pj->syn->gap))
      return cfg_err_at(rd, vv,
                        "%s: projection '%s' (%s) has no output current: it %s",
                        owner, pj->name, pj->syn->name,
                        pj->syn->gap ? "couples V directly (monitor the post's "
                                       "input)"
                                     : "adds to V directly (monitor V)");
    if (var < 0 && !stp_var && !syn_var && !input && !rate && !isyn) {
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
      if (pop >= 0 && s->pops[pop].model->has_V)
        used += (size_t)snprintf(known + used, sizeof known - used, "%sinput",
                                 used ? ", " : "");
      if (pop >= 0)
        used += (size_t)snprintf(known + used, sizeof known - used, "%srate",
                                 used ? ", " : "");
      if (pj && !synn && !pj->syn->to_V && !pj->syn->gap)
        used += (size_t)snprintf(known + used, sizeof known - used, "%sI_syn",
                                 used ? ", " : "");
      return cfg_err_at(rd, vv, "%s: no state variable '%s' (available: %s)",
                        owner, vname, used ? known : "none");
    }
    const int per_pre = !synn && pj && !isyn && (stp_var || pj->syn->trace);
    const uint64_t vsize = per_pre ? s->pops[pj->pre].size : size;
    bs_monitor_spec m = {.kind = BS_MON_STATE,
                         .pop = pop,
                         .proj = proj,
                         .var = stp_var ? stp_var - 1 : var,
                         .per_pre = per_pre,
                         .stp = synn ? 0 : stp_var,
                         .per_syn = synn != NULL,
                         .syn_var = syn_var == 5 ? 0 : syn_var,
                         .input = input,
                         .rate = rate,
                         .isyn = isyn,
                         .every = every,
                         .start = win.start,
                         .stop = win.stop};
    if (syn_var >= 3)
      m.var = -1;
    const char *mname = vname;
    if (name)
      BS_CALL(rd->ctx, cfg_get_name(rd, name, "name", &mname));
    for (int q = 0; q < s->n_monitors; q++) {
      bs_monitor_spec *o = &s->monitors[q];
      if (o->kind == BS_MON_STATE && o->pop == pop && o->proj == proj &&
          strcmp(o->name, mname) == 0)
        return cfg_err_at(rd, name ? name : vv,
                          "%s: a monitor named '%s' already records %s; give "
                          "this one another name",
                          owner, mname,
                          pop >= 0 ? s->pops[pop].name : s->projs[proj].name);
    }
    m.name = bs_strdup(mname);
    bs_status st = synn ? read_syn_pairs(rd, synn, owner, pj, &m.syn, &m.n_idx)
                   : rate ? bs_calloc(rd->ctx, 1, sizeof(uint64_t), &m.idx)
                          : cfg_read_indices(rd, cfg_lookup(n, "indices"),
                                             vsize, &m.idx, &m.n_idx);
    if (rate) /* column "node 0": its owner writes the global count */
      m.n_idx = 1;
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

/* inputs: [{target, current, range}]: currents into populations. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_impl.h"

bs_status cfg_read_input(reader *rd, fnode *n, int k, bs_input_spec *in) {
  static const char *const keys[] = {"target", "current", "range", NULL};
  char owner[64];
  snprintf(owner, sizeof owner, "inputs[%d]", k);
  BS_CALL(rd->ctx, cfg_expect_mapping(rd, n, owner));
  BS_CALL(rd->ctx, cfg_check_keys(rd, n, owner, keys, NULL, NULL,
                                  "target, current, range"));
  fnode *t = cfg_lookup(n, "target"), *c = cfg_lookup(n, "current");
  if (!t)
    return cfg_err_at(rd, n, "%s: missing required key 'target'", owner);
  if (!c)
    return cfg_err_at(rd, n, "%s: missing required key 'current'", owner);
  BS_CALL(rd->ctx, cfg_get_pop_ref(rd, t, "target", &in->pop));
  bs_pop_spec *pop = &rd->spec->pops[in->pop];
  if (!pop->model->has_V)
    return cfg_err_at(rd, t, "%s: population '%s' (%s) takes no input current",
                      owner, pop->name, pop->model->name);
  BS_CALL(rd->ctx,
          cfg_get_quantity(rd, c, BS_DIM_ONE, "current", &in->current));
  in->start = 0;
  in->stop = pop->size;
  fnode *r = cfg_lookup(n, "range");
  if (r)
    BS_CALL(rd->ctx,
            cfg_read_range(rd, r, "range", pop->size, &in->start, &in->stop));
  return BS_OK;
}

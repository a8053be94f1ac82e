/* The registry of long-term plasticity rules (STDP). One file per rule;
 * a new rule is its file plus one line here. */
#include <string.h>

#include "model_impl.h"

static const bs_plast_rule *const rules[] = {&bs_plast_song2000, &bs_plast_nest,
                                             &bs_plast_triplet};

int bs_plast_count(void) { return (int)(sizeof rules / sizeof rules[0]); }

const bs_plast_rule *bs_plast_at(int i) { return rules[i]; }

const bs_plast_rule *bs_plast_find(const char *name) {
  for (int i = 0; i < bs_plast_count(); i++)
    if (strcmp(rules[i]->name, name) == 0)
      return rules[i];
  return NULL;
}

/* Time in intervals and trials: an interval is D steps between two spike
 * exchanges, cut at trial ends; a trial starts from the initial state. */
#include "engine_impl.h"

/* Intervals are D steps, cut short at trial ends so a reset never has
 * spikes of the previous trial in flight outside the ring buffers. */
int64_t bs_engine_interval_end(const bs_net *net, int64_t t0) {
  const bs_spec *s = net->spec;
  int64_t t1 = t0 + net->D;
  int64_t trial_end = (t0 / s->trial_steps + 1) * s->trial_steps;
  if (t1 > trial_end)
    t1 = trial_end;
  return t1 < s->n_steps ? t1 : s->n_steps;
}

int bs_engine_interval_start(const bs_net *net, int64_t step) {
  return (step % net->spec->trial_steps) % net->D == 0 ||
         step == net->spec->n_steps;
}

/* BrainPy's reset(): initial state again (new draws for the trial), no
 * synaptic state, nothing in flight. */
void bs_engine_trial_reset(bs_net *net, uint32_t trial) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++)
    bs_pop_init_state(s, &net->pops[p], trial);
  for (int j = 0; j < s->n_projs; j++)
    bs_proj_reset(&net->projs[j]);
}

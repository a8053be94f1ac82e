/* Time in intervals and trials: an interval is D steps between two spike
 * exchanges, cut at trial ends; a trial starts from the initial state. */
#include "engine_impl.h"

/* Intervals are D steps, cut short at trial ends so a reset never has
 * spikes of the previous trial in flight outside the ring buffers. */
int64_t bs_engine_interval_end(const bs_net *net, int64_t t0) {
  const bs_spec *s = net->spec;
  /* On the grid of iv steps from the trial's start, also when t0 is not
   * on it (a run continued from the end of a shorter one), so the
   * intervals after it are those of one long run. */
  const int64_t trial0 = t0 / s->trial_steps * s->trial_steps;
  int64_t t1 = trial0 + ((t0 - trial0) / net->iv + 1) * net->iv;
  int64_t trial_end = trial0 + s->trial_steps;
  if (t1 > trial_end)
    t1 = trial_end;
  return t1 < s->n_steps ? t1 : s->n_steps;
}

/* BrainPy's reset(): initial state again (new draws for the trial), no
 * synaptic state, nothing in flight. */
void bs_engine_trial_reset(bs_net *net, uint32_t trial) {
  const bs_spec *s = net->spec;
  for (int p = 0; p < s->n_pops; p++) {
    bs_pop_init_state(s, &net->pops[p], trial);
    net->pops[p].nspk = 0;
  }
  for (int j = 0; j < s->n_projs; j++)
    bs_proj_reset(&net->projs[j]);
  bs_engine_inputs_reset(net);
}

/* BrainPy's SpikeTimeGroup(size, indices, times): neurons that emit
 * exactly the listed spikes. The config (or a SONATA spike file) gives
 * the events; the engine turns each rank's share into sorted keys
 * (trial step << 32 | local index), BrainPy's need_sort, and update
 * emits those of the step: all events due by this step, as BrainPy's
 * `while t >= times[i]` loop. */
#include "model_impl.h"

static void spiketime_update(bs_neuron_args *a) {
  const uint64_t until = ((uint64_t)a->tstep + 1) << 32;
  uint64_t q = *a->ev_next;
  size_t nspk = 0;
  while (q < a->nev && a->ev[q] < until)
    a->spk[nspk++] = (uint32_t)(a->ev[q++] & 0xffffffffu);
  *a->ev_next = q;
  a->nspk = nspk;
}

const bs_neuron_model bs_model_spiketime = {
    .name = "SpikeTimeGroup",
    .doc = "emits the listed spikes: indices and times, or times: {file: "
           "spikes.h5, population: P} (BrainPy SpikeTimeGroup)",
    .np = 0,
    .params = NULL,
    .nx = 0,
    .vars = NULL,
    .nk = 0,
    .has_V = 0,
    .events = 1,
    .update = spiketime_update,
};

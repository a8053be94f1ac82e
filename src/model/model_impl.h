/* Private to model/: the descriptors the registry lists. */
#ifndef BRAINSIM_MODEL_IMPL_H
#define BRAINSIM_MODEL_IMPL_H
#include "brainsim/model.h"

extern const bs_neuron_model bs_model_lif;
extern const bs_neuron_model bs_model_poisson;
extern const bs_syn_model bs_syn_exponential;
extern const bs_output_model bs_out_cuba;
extern const bs_output_model bs_out_coba;

#endif

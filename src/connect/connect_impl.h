/* Private to src/connect: the connector tables kept outside connect.c. */
#ifndef BRAINSIM_CONNECT_IMPL_H
#define BRAINSIM_CONNECT_IMPL_H

#include "brainsim/connect.h"

/* SmallWorld, ScaleFreeBA, ScaleFreeBADual, PowerLaw, ProbDist (graphs.c). */
extern const bs_connector bs_connect_graphs[];
extern const int bs_connect_graphs_count;

#endif

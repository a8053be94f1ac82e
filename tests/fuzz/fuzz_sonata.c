/* libFuzzer target: the SONATA simulation config reader of
 * src/config/sonata_sim.c (JSON through jansson, manifest, types CSV,
 * dynamics_params, node sets, inputs, reports) and the node reader of
 * src/io/nodes.c that the network build calls. An input is a simulation
 * config, optionally followed by a line "%%" and a node types CSV; the
 * harness writes them as simulation_config.json and fuzz_node_types.csv
 * into a folder that links the circuit of tests/fuzz/sonata (network/,
 * components/, inputs/, built by make_seeds with bmtk.builder), loads the
 * config as `brainsim run` does and builds the network (MPI on one rank,
 * started once in LLVMFuzzerInitialize). Nothing is simulated or
 * written. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "brainsim/config.h"
#include "brainsim/engine.h"
#include "brainsim/util.h"
#include "harness.h"

static char dir[4096], sim[4200], csvf[4200];

static const char *parts[] = {"network", "components", "inputs"};

static void finish(void) {
  unlink(sim);
  unlink(csvf);
  for (int k = 0; k < 3; k++) {
    char to[4200];
    snprintf(to, sizeof to, "%s/%s", dir, parts[k]);
    unlink(to);
  }
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  fuzz_start(argc, argv, "sonata", finish);
  fuzz_tmp(dir, sizeof dir, "sonata-XXXXXX");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "fuzz_sonata: cannot create %s\n", dir);
    exit(1);
  }
  snprintf(sim, sizeof sim, "%s/simulation_config.json", dir);
  snprintf(csvf, sizeof csvf, "%s/fuzz_node_types.csv", dir);
  for (int k = 0; k < 3; k++) {
    char from[4200], to[4200];
    snprintf(from, sizeof from, "%s/%s", BS_FUZZ_SONATA_DIR, parts[k]);
    snprintf(to, sizeof to, "%s/%s", dir, parts[k]);
    if (symlink(from, to) != 0) {
      fprintf(stderr, "fuzz_sonata: cannot link %s\n", to);
      exit(1);
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The config up to a line "%%", the CSV after it. */
  size_t cut = size, rest = size;
  for (size_t k = 0; k + 3 < size; k++)
    if (data[k] == '\n' && data[k + 1] == '%' && data[k + 2] == '%' &&
        data[k + 3] == '\n') {
      cut = k + 1, rest = k + 4;
      break;
    }
  unlink(csvf);
  if (fuzz_put(sim, data, cut) != 0 ||
      (rest < size && fuzz_put(csvf, data + rest, size - rest) != 0))
    return 0;
  bs_error_clear(ctx);
  bs_spec *spec = NULL;
  bs_status st = bs_config_load(ctx, sim, 0, NULL, &spec);
  bs_net *net = NULL;
  if (st == BS_OK)
    st = bs_net_build(ctx, spec, &net);
  fuzz_report("load and build", st);
  bs_net_destroy(ctx, &net);
  bs_config_destroy(&spec);
  return 0;
}

"""Bad SONATA simulation configs, circuits and files are refused by name,
at 1 and 2 ranks, with no output file left: each case changes one thing
in a small valid circuit (written here with h5py: one nest:iaf_psc_delta
population, one brainsim:LIF population, static_synapse and
brainsim:Exponential edges) and expects the file and the key, row or
dataset in the message. The valid circuit itself runs.

Every case runs at 1 rank, started without a launcher (a launcher costs
~2 s per run and checks nothing more); the cases in AT_TWO_RANKS, one per
reader that refuses (JSON, CSV, NEST and brainsim parameters, node and
edge files, reports, inputs, --set), run under mpiexec at 2 ranks too."""
import copy
import json
import os
import shutil

import h5py
import numpy as np

import bstest

args = bstest.parser(__doc__).parse_args()
base = bstest.workdir(args, "sonata_config")


def write_nodes(path, pop, types, node_id=None, dyn_group=False):
    with h5py.File(path, "w") as f:
        g = f.create_group("nodes/%s" % pop)
        n = len(types)
        g["node_type_id"] = np.asarray(types, dtype=np.uint64)
        g["node_group_id"] = np.zeros(n, dtype=np.uint32)
        g["node_group_index"] = np.arange(n, dtype=np.uint32)
        g["node_id"] = (np.arange(n, dtype=np.uint64) if node_id is None
                        else np.asarray(node_id, dtype=np.uint64))
        g0 = g.create_group("0")
        if dyn_group:
            g0["dynamics_params/tau_m"] = np.ones(n)


def write_edges(path, name, src, tgt, pre, post, types):
    with h5py.File(path, "w") as f:
        g = f.create_group("edges/%s" % name)
        g["source_node_id"] = np.asarray(pre, dtype=np.uint64)
        g["source_node_id"].attrs["node_population"] = src
        g["target_node_id"] = np.asarray(post, dtype=np.uint64)
        g["target_node_id"].attrs["node_population"] = tgt
        g["edge_type_id"] = np.asarray(types, dtype=np.uint32)
        g["edge_group_id"] = np.zeros(len(pre), dtype=np.uint16)
        g["edge_group_index"] = np.arange(len(pre), dtype=np.uint32)
        g.create_group("0")


def make(wd, change=None):
    """The valid circuit in wd; change(files) edits the dict of texts."""
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(os.path.join(wd, "network"))
    os.makedirs(os.path.join(wd, "models"))
    files = {
        "sim": {"manifest": {"$BASE": "${configdir}",
                             "$OUT": "$BASE/output"},
                "run": {"tstop": 50.0, "dt": 0.1, "random_seed": 3},
                "output": {"output_dir": "$OUT", "spikes_file": "spikes.h5"},
                "reports": {"V": {"cells": "A", "variable_name": "V_m",
                                  "module": "membrane_report"}},
                "network": "$BASE/circuit_config.json"},
        "circ": {"manifest": {"$BASE": "${configdir}",
                              "$NET": "$BASE/network"},
                 "components": {"point_neuron_models_dir": "$BASE/models",
                                "synaptic_models_dir": "$BASE/models"},
                 "networks": {
                     "nodes": [{"nodes_file": "$NET/A_nodes.h5",
                                "node_types_file": "$NET/A_types.csv"},
                               {"nodes_file": "$NET/B_nodes.h5",
                                "node_types_file": "$NET/B_types.csv"}],
                     "edges": [{"edges_file": "$NET/AB_edges.h5",
                                "edge_types_file": "$NET/AB_types.csv"}]}},
        "A_types": ("node_type_id model_type model_template dynamics_params "
                    "pop_name\n"
                    "100 point_process nest:iaf_psc_delta a.json \"exc A\"\n"),
        "B_types": ("node_type_id model_type model_template dynamics_params\n"
                    "200 point_process brainsim:LIF b.json\n"),
        "AB_types": ("edge_type_id model_template syn_weight delay "
                     "dynamics_params\n"
                     "300 brainsim:Exponential 0.5 2.0 e.json\n"),
        "a": {"C_m": 250.0, "tau_m": 10.0, "I_e": 500.0},
        "b": {"V_rest": -60.0, "V_reset": -60.0, "V_th": -50.0, "tau": 20.0},
        "e": {"tau": 5.0, "output": "COBA", "E": 0.0},
        "A_nodes": dict(types=[100] * 6),
        "B_nodes": dict(types=[200] * 4),
    }
    if change:
        change(files)
    paths = {"sim": "simulation_config.json", "circ": "circuit_config.json",
             "a": "models/a.json", "b": "models/b.json", "e": "models/e.json",
             "A_types": "network/A_types.csv",
             "B_types": "network/B_types.csv",
             "AB_types": "network/AB_types.csv"}
    for k, p in paths.items():
        with open(os.path.join(wd, p), "w") as f:
            v = files[k]
            f.write(v if isinstance(v, str) else json.dumps(v, indent=1))
    write_nodes(os.path.join(wd, "network/A_nodes.h5"), "A",
                **files["A_nodes"])
    write_nodes(os.path.join(wd, "network/B_nodes.h5"), "B",
                **files["B_nodes"])
    write_edges(os.path.join(wd, "network/AB_edges.h5"), "A_to_B", "A", "B",
                [0, 1, 2, 3], [0, 1, 2, 3], [300] * 4)
    return os.path.join(wd, "simulation_config.json")


def sim(f, path, value):
    d = f["sim"]
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


cases = [
    ("json syntax", lambda f: f.update(sim='{"run": {"tstop": 50.0,, }}'),
     ["simulation_config.json:1:", "error"]),
    ("unknown run key", lambda f: sim(f, ["run", "t_stop"], 5),
     ["simulation_config.json", "key 'run.t_stop'"]),
    ("missing tstop", lambda f: f["sim"]["run"].pop("tstop"),
     ["simulation_config.json", "'tstop'"]),
    ("tstop not a multiple", lambda f: sim(f, ["run", "tstop"], 50.05),
     ["key 'run.tstop'", "whole number of steps"]),
    ("unknown manifest variable",
     lambda f: sim(f, ["network"], "$NOPE/circuit_config.json"),
     ["simulation_config.json", "key 'network'", "'$NOPE'"]),
    ("missing circuit", lambda f: sim(f, ["network"], "$BASE/nothere.json"),
     ["nothere.json"]),
    ("NEST template without equivalent",
     lambda f: f.update(A_types=f["A_types"].replace("iaf_psc_delta",
                                                     "iaf_psc_alpha")),
     ["A_types.csv:2", "nest:iaf_psc_alpha", "no brainsim equivalent"]),
    ("unknown NEST parameter", lambda f: f["a"].update(tau_x=3.0),
     ["a.json", "key 'tau_x'", "nest:iaf_psc_delta"]),
    ("bad NEST value", lambda f: f["a"].update(C_m=-1.0),
     ["a.json", "key 'C_m'", "out of range"]),
    ("unknown brainsim model",
     lambda f: f.update(B_types=f["B_types"].replace("brainsim:LIF",
                                                     "brainsim:LIFX")),
     ["B_types.csv:2", "no brainsim point model 'LIFX'"]),
    ("CSV row length",
     lambda f: f.update(A_types=f["A_types"].replace('"exc A"', "exc A")),
     ["A_types.csv:2", "6 fields, but the header has 5"]),
    ("CSV open quote",
     lambda f: f.update(A_types=f["A_types"].replace('"exc A"', '"exc A')),
     ["A_types.csv:2", "no closing"]),
    ("node type not in CSV", lambda f: f["A_nodes"].update(
        types=[100, 100, 100, 101, 100, 100]),
     ["A_nodes.h5", "/nodes/A/node_type_id row 3", "node type 101"]),
    ("node_id not the row", lambda f: f["A_nodes"].update(
        node_id=[0, 1, 2, 3, 5, 4]),
     ["A_nodes.h5", "/nodes/A/node_id row 4"]),
    ("per-node dynamics_params", lambda f: f["A_nodes"].update(
        dyn_group=True),
     ["A_nodes.h5", "/nodes/A/0/dynamics_params"]),
    ("edge template without equivalent",
     lambda f: f.update(AB_types=f["AB_types"].replace(
         "brainsim:Exponential", "stdp_synapse")),
     ["AB_types.csv:2", "stdp_synapse", "no brainsim equivalent"]),
    ("static_synapse into brainsim:LIF",
     lambda f: f.update(AB_types=f["AB_types"].replace(
         "brainsim:Exponential", "static_synapse")),
     ["AB_types.csv:2", "static_synapse (NEST) into population 'B'"]),
    ("unknown synapse parameter", lambda f: f["e"].update(tau_decay=2.0),
     ["e.json", "key 'tau_decay'"]),
    ("sort by id", lambda f: sim(f, ["output", "spikes_sort_order"], "by_id"),
     ["key 'output.spikes_sort_order'", "'by_id'"]),
    ("report variable", lambda f: sim(f, ["reports", "V", "variable_name"],
                                      "g_ex"),
     ["key 'reports.V.variable_name'", "no variable 'g_ex'"]),
    ("report node set", lambda f: sim(f, ["reports", "V", "cells"], "Q"),
     ["key 'reports.V.cells'", "no node set 'Q'"]),
    ("tstart", lambda f: sim(f, ["run", "tstart"], 10.0),
     ["key 'run.tstart'"]),
    ("current clamp input", lambda f: sim(f, ["inputs"], {"ic": {
        "input_type": "current_clamp", "module": "IClamp", "node_set": "A",
        "input_file": "x.h5"}}),
     ["key 'inputs.ic.input_type'", "'current_clamp'"]),
    ("spikes into simulated nodes", lambda f: sim(f, ["inputs"], {"sp": {
        "input_type": "spikes", "module": "sonata", "node_set": "A",
        "input_file": "$BASE/x.h5"}}),
     ["key 'inputs.sp.node_set'", "population 'A' is not virtual"]),
    ("--set on JSON", None, ["--set overrides apply to YAML configs"]),
]

AT_TWO_RANKS = {"json syntax", "unknown run key", "CSV row length",
                "bad NEST value", "unknown brainsim model",
                "node type not in CSV", "per-node dynamics_params",
                "static_synapse into brainsim:LIF", "report variable",
                "spikes into simulated nodes", "--set on JSON"}
unknown = AT_TWO_RANKS - {c[0] for c in cases}
bstest.check(not unknown, "AT_TWO_RANKS names no case: %s" % sorted(unknown))

# The valid circuit runs, with its report where the config says.
wd = os.path.join(base, "good")
cfg = make(wd)
for np_ in (0, 2):
    p = bstest.run(args, ["run", cfg, "-q", "--overwrite"], np=np_)
    out = os.path.join(wd, "output", "spikes.h5")
    bstest.check(os.path.exists(out) and
                 os.path.exists(os.path.join(wd, "output", "V.h5")),
                 "np %d: no output/spikes.h5 or output/V.h5" % (np_ or 1))
    with h5py.File(out, "r") as f:
        bstest.check(len(f["spikes/A/timestamps"]) > 0,
                     "np %d: A never spiked" % (np_ or 1))

for name, change, want in cases:
    wd = os.path.join(base, name.replace(" ", "_"))
    cfg = make(wd, change)
    extra = ["--set", "run.tstop=10"] if change is None else []
    for np_ in ((0, 2) if name in AT_TWO_RANKS else (0,)):
        for cmd in ("run", "check"):
            shutil.rmtree(os.path.join(wd, "output"), ignore_errors=True)
            p = bstest.run(args, [cmd, cfg] + extra, np=np_, check=False)
            msg = p.stderr
            bstest.check(p.returncode != 0,
                         "%s: np %d %s accepted" % (name, np_ or 1, cmd))
            for w in want:
                bstest.check(w in msg, "%s: np %d %s: '%s' not in: %s"
                             % (name, np_ or 1, cmd, w, msg.strip()[-600:]))
            out = os.path.join(wd, "output", "spikes.h5")
            done = False
            if os.path.exists(out):  # errors found in the build
                with h5py.File(out, "r") as f:
                    done = f["meta"].attrs.get("complete", 0) != 0
            bstest.check(not done, "%s: np %d %s: the output looks complete"
                         % (name, np_ or 1, cmd))
bstest.finish("sonata_config")

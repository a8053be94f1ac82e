"""A network built with BMTK's own tools runs with `brainsim run
config.json`, and BMTK reads the results back.

bmtk.builder writes the circuit (node and edge files, types CSV),
bmtk.utils.sim_setup.build_env_pointnet the simulation and circuit
configs (manifest, components, reports over "all" cells). The network has
the three NEST templates brainsim maps (iaf_psc_delta, iaf_psc_exp,
iaf_cond_exp) with static_synapse edges (weights from the CSV, nsyns
from the builder), a brainsim:LIF population with a brainsim:Exponential
COBA edge type, and a population `solo` of unconnected iaf_psc_delta
neurons of four node types. Checks:
- `brainsim check` and `run` at 1, 2 and 3 ranks: byte-identical spikes
  and reports;
- bmtk's SpikeTrains and CompartmentReport read the spikes and every
  population's membrane report, equal to h5py's view;
- the synapses each projection built equal the edges of its edge type in
  the edge file (h5py);
- `solo` against an independent implementation of NEST's iaf_psc_delta
  update (exact propagators, refractory counts) with each node type's
  parameters from its JSON: every V sample within 1e-9 mV and every spike
  one dt before NEST's stamp (brainsim stamps the start of the step, NEST
  its end);
- virtual populations fed from a PoissonSpikeGenerator file and an
  h5py spike file: never-spiking iaf_psc_delta probes against the summed
  jumps, iaf_psc_exp and iaf_cond_exp against NEST's integration (the
  README's tolerance);
- a checkpoint of a 150 ms config at 2 ranks continued by the 300 ms
  config at 3 ranks equals the uninterrupted run at 1 rank.
"""
import copy
import json
import os
import shutil
import sys

import h5py
import numpy as np

import bstest

args = bstest.parser(__doc__).parse_args()
wd = bstest.workdir(args, "sonata_run")
shutil.rmtree(wd, ignore_errors=True)
os.makedirs(wd)
os.chdir(wd)

from bmtk.builder.networks import NetworkBuilder  # noqa: E402
from bmtk.utils.sim_setup import build_env_pointnet  # noqa: E402
from bmtk.utils.reports.spike_trains import SpikeTrains  # noqa: E402
from bmtk.utils.reports.compartment import CompartmentReport  # noqa: E402
from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator  # noqa: E402

DT, TSTOP = 0.1, 300.0
models = os.path.join(wd, "components", "point_neuron_models")
synmods = os.path.join(wd, "components", "synaptic_models")
os.makedirs(models)
os.makedirs(synmods)


def dump(folder, name, d):
    with open(os.path.join(folder, name), "w") as f:
        json.dump(d, f)


dump(models, "exc.json", {"C_m": 250.0, "tau_m": 20.0, "I_e": 400.0,
                          "t_ref": 2.0, "V_th": -50.0, "V_reset": -65.0,
                          "E_L": -65.0})
dump(models, "inh.json", {"C_m": 250.0, "tau_m": 10.0, "I_e": 300.0,
                          "t_ref": 2.0, "V_th": -50.0, "V_reset": -65.0,
                          "E_L": -65.0, "V_m": -60.0})
SOLO = [  # node types of `solo`: NEST iaf_psc_delta parameters
    {"C_m": 250.0, "tau_m": 10.0, "I_e": 450.0, "t_ref": 2.0},
    {"C_m": 100.0, "tau_m": 20.0, "I_e": 120.0, "t_ref": 0.0,
     "V_m": -55.0, "E_L": -60.0, "V_reset": -62.0},
    {"C_m": 300.0, "tau_m": 15.0, "I_e": 500.0, "t_ref": 3.3, "V_th": -52.0},
    {"C_m": 200.0, "tau_m": 5.0, "I_e": 100.0},  # sub-threshold
]
for k, d in enumerate(SOLO):
    dump(models, "solo%d.json" % k, d)
dump(models, "psc_exp.json", {"C_m": 250.0, "tau_m": 10.0, "tau_syn_ex": 2.0,
                              "tau_syn_in": 5.0, "I_e": 400.0})
dump(models, "cond_exp.json", {"C_m": 250.0, "g_L": 16.7, "tau_syn_ex": 0.5,
                               "tau_syn_in": 3.0, "I_e": 250.0})
dump(models, "lif.json", {"V_rest": -60.0, "V_reset": -60.0, "V_th": -50.0,
                          "tau": 20.0, "tau_ref": 5.0, "V_initializer": -58.0})
dump(models, "probe.json", {"C_m": 250.0, "tau_m": 10.0, "V_th": 1e6,
                            "t_ref": 0.0, "E_L": -70.0, "V_m": -70.0})
dump(synmods, "static.json", {})
dump(synmods, "exp_coba.json", {"tau": 5.0, "output": "COBA", "E": 0.0})

np.random.seed(7)
v1 = NetworkBuilder("V1")
v1.add_nodes(N=8, pop_name="E", model_type="point_process",
             model_template="nest:iaf_psc_delta", dynamics_params="exc.json")
v1.add_nodes(N=2, pop_name="I", model_type="point_process",
             model_template="nest:iaf_psc_delta", dynamics_params="inh.json")
v1.add_edges(source={"pop_name": "E"}, target={"pop_name": "I"},
             connection_rule=lambda s, t: 1, syn_weight=2.0, delay=1.5,
             dynamics_params="static.json", model_template="static_synapse")
v1.add_edges(source={"pop_name": "I"}, target={"pop_name": "E"},
             connection_rule=lambda s, t: 2, syn_weight=-1.5, delay=1.0,
             dynamics_params="static.json", model_template="static_synapse")
v1.build()
v1.save(output_dir="network")

solo = NetworkBuilder("solo")
for k in range(len(SOLO)):
    solo.add_nodes(N=1, pop_name="s%d" % k, model_type="point_process",
                   model_template="nest:iaf_psc_delta",
                   dynamics_params="solo%d.json" % k)
solo.build()
solo.save(output_dir="network")

# X, Y, Z with edges from V1 (bmtk writes them as V1_X_edges.h5, ...).
for name, tmpl, dyn, ew, iw, stmpl, sdyn in (
        ("X", "nest:iaf_psc_exp", "psc_exp.json", 40.0, -30.0,
         "static_synapse", "static.json"),
        ("Y", "nest:iaf_cond_exp", "cond_exp.json", 3.0, -5.0,
         "static_synapse", "static.json"),
        ("Z", "brainsim:LIF", "lif.json", 0.6, None, "brainsim:Exponential",
         "exp_coba.json")):
    b = NetworkBuilder(name)
    b.add_nodes(N=3, pop_name=name, model_type="point_process",
                model_template=tmpl, dynamics_params=dyn)
    b.add_edges(source=v1.nodes(pop_name="E"), target=b.nodes(),
                connection_rule=lambda s, t: np.random.randint(0, 3),
                syn_weight=ew, delay=2.0, dynamics_params=sdyn,
                model_template=stmpl)
    if iw is not None:
        b.add_edges(source=v1.nodes(pop_name="I"), target=b.nodes(),
                    connection_rule=lambda s, t: 1, syn_weight=iw,
                    delay=1.0, dynamics_params=sdyn, model_template=stmpl)
    b.build()
    b.save(output_dir="network")

# Virtual Poisson inputs (bmtk's PoissonSpikeGenerator) into V1's E and
# into `probe`, iaf_psc_delta neurons that never spike: their V is the sum
# of the input's jumps.
lgn = NetworkBuilder("LGN")
lgn.add_nodes(N=6, pop_name="lgn", model_type="virtual")
lgn.add_edges(source=lgn.nodes(), target=v1.nodes(pop_name="E"),
              connection_rule=lambda s, t: np.random.randint(0, 3),
              syn_weight=3.0, delay=2.0, dynamics_params="static.json",
              model_template="static_synapse")
lgn.build()
lgn.save(output_dir="network")
probe = NetworkBuilder("probe")
probe.add_nodes(N=2, pop_name="probe", model_type="point_process",
                model_template="nest:iaf_psc_delta",
                dynamics_params="probe.json")
probe.add_edges(source=lgn.nodes(), target=probe.nodes(),
                connection_rule=lambda s, t: np.random.randint(0, 3),
                syn_weight=0.7, delay=1.3, dynamics_params="static.json",
                model_template="static_synapse")
probe.build()
probe.save(output_dir="network")
# Two on-grid input spike trains into never-spiking iaf_psc_exp and
# iaf_cond_exp neurons: their V against NEST's own integration (below).
dump(models, "pexp.json", {"C_m": 250.0, "tau_m": 10.0, "tau_syn_ex": 2.0,
                           "tau_syn_in": 5.0, "V_th": 1e6, "t_ref": 0.0})
dump(models, "pcond.json", {"C_m": 250.0, "g_L": 16.7, "tau_syn_ex": 2.0,
                            "tau_syn_in": 5.0, "V_th": 1e6, "t_ref": 0.0})
pulse = NetworkBuilder("pulse")
pulse.add_nodes(N=1, pop_name="ex", model_type="virtual")
pulse.add_nodes(N=1, pop_name="in", model_type="virtual")
pulse.build()
pulse.save(output_dir="network")
PULSE_W = {"pexp": (200.0, -200.0), "pcond": (5.0, -5.0)}
for name in ("pexp", "pcond"):
    b = NetworkBuilder(name)
    b.add_nodes(N=1, pop_name=name, model_type="point_process",
                model_template=("nest:iaf_psc_exp" if name == "pexp"
                                else "nest:iaf_cond_exp"),
                dynamics_params=name + ".json")
    for k, pn in enumerate(("ex", "in")):
        b.add_edges(source=pulse.nodes(pop_name=pn), target=b.nodes(),
                    connection_rule=lambda s, t: 1,
                    syn_weight=PULSE_W[name][k], delay=1.0,
                    dynamics_params="static.json",
                    model_template="static_synapse")
    b.build()
    b.save(output_dir="network")
PULSE_T = {0: [20.0, 60.0, 60.5, 200.0], 1: [100.0, 150.0, 200.0]}
os.makedirs("inputs")
with h5py.File(os.path.join(wd, "inputs", "pulse.h5"), "w") as f:
    g = f.create_group("spikes/pulse")
    tt = [t for k in PULSE_T for t in PULSE_T[k]]
    ii = [k for k in PULSE_T for t in PULSE_T[k]]
    g["timestamps"] = np.array(tt)
    g["timestamps"].attrs["units"] = "ms"
    g["node_ids"] = np.array(ii, dtype=np.uint64)
psg = PoissonSpikeGenerator(population="LGN", seed=5)
psg.add(node_ids=range(6), firing_rate=40.0, times=(0.0, TSTOP / 1000.0))
psg.to_sonata(os.path.join(wd, "inputs", "lgn.h5"))

build_env_pointnet(base_dir=wd, network_dir=os.path.join(wd, "network"),
                   tstop=TSTOP, dt=DT, report_vars=["V_m"],
                   spikes_inputs=[("LGN", os.path.join(wd, "inputs",
                                                       "lgn.h5")),
                                  ("pulse", os.path.join(wd, "inputs",
                                                         "pulse.h5"))],
                   include_examples=False)
with open("simulation_config.json") as f:
    sim = json.load(f)
with open("circuit_config.json") as f:
    circ = json.load(f)
bstest.check(sim["reports"]["V_m_report"]["cells"] == "all",
             "build_env_pointnet's report is no longer over all cells: %s"
             % sim["reports"])
sim.setdefault("run", {})["random_seed"] = 11
with open("simulation_config.json", "w") as f:
    json.dump(sim, f, indent=2)

# ---- check and run at 1, 2, 3 ranks ----------------------------------------
p = bstest.run(args, ["check", "config.json"], np=1)
bstest.check("config.json: OK" in p.stdout, "check: %s" % p.stdout)
outs = {}
for np_ in (1, 2, 3):
    # 1 rank: the output the config names (output_dir/spikes_file)
    out = os.path.join(wd, "output", "spikes.h5")
    if np_ == 1:
        bstest.run(args, ["run", "config.json", "-q"], np=np_)
    else:
        out = os.path.join(wd, "run%d.h5" % np_)
        bstest.run(args, ["run", "config.json", "-o", out, "-q"], np=np_)
    rep = {}
    for pop in ("V1", "solo", "X", "Y", "Z", "probe", "pexp", "pcond"):
        fn = os.path.join(wd, "output", "V_m_report.%s.h5" % pop)
        bstest.check(os.path.exists(fn), "np %d: no report file %s"
                     % (np_, fn))
        with h5py.File(fn, "r") as f:
            rep[pop] = f["report/%s/data" % pop][()]
    with h5py.File(out, "r") as f:
        spk = {k: (f["spikes/%s/timestamps" % k][()],
                   f["spikes/%s/node_ids" % k][()]) for k in f["spikes"]}
    outs[np_] = (spk, rep)
for np_ in (2, 3):
    s1, r1 = outs[1]
    sn, rn = outs[np_]
    bstest.check(sorted(s1) == sorted(sn), "np %d: spike populations %s vs %s"
                 % (np_, sorted(sn), sorted(s1)))
    for k in s1:
        bstest.check(k in sn and np.array_equal(s1[k][0], sn[k][0]) and
                     np.array_equal(s1[k][1], sn[k][1]),
                     "np %d: spikes of %s differ from 1 rank" % (np_, k))
    for k in r1:
        bstest.check(np.array_equal(r1[k], rn[k]),
                     "np %d: V report of %s differs from 1 rank" % (np_, k))
spk, rep = outs[1]
for k in ("V1", "X", "Y", "Z"):
    bstest.check(len(spk[k][0]) > 0, "population %s never spiked" % k)
bstest.check("LGN" not in spk, "the virtual population's spikes were "
             "recorded (BMTK records the simulated nodes)")

# ---- bmtk reads the output (spikes of 1 rank, reports of the last run) -----
st = SpikeTrains.from_sonata(os.path.join(wd, "output", "spikes.h5"))
bstest.check(sorted(st.populations) == sorted(spk),
             "bmtk sees populations %s, h5py %s" % (st.populations,
                                                    sorted(spk)))
for k in spk:
    df = st.to_dataframe()
    df = df[df["population"] == k]
    bstest.check(len(df) == len(spk[k][0]) and
                 np.array_equal(np.sort(df["timestamps"].values),
                                np.sort(spk[k][0])),
                 "bmtk's spikes of %s differ from h5py's" % k)
for k in rep:
    cr = CompartmentReport(os.path.join(wd, "output",
                                        "V_m_report.%s.h5" % k))
    bstest.check(cr.populations == [k], "report %s: populations %s"
                 % (k, cr.populations))
    bstest.check(np.array_equal(np.asarray(cr.data(population=k)), rep[k]),
                 "report %s: bmtk's data differ from h5py's" % k)
    bstest.check(abs(cr.tstart() - 0) < 1e-12 and
                 abs(cr.tstop() - TSTOP) < 1e-9 and abs(cr.dt() - DT) < 1e-12,
                 "report %s: time %s %s %s" % (k, cr.tstart(), cr.tstop(),
                                               cr.dt()))
    bstest.check(cr.units(population=k) == "mV", "report %s: units %s"
                 % (k, cr.units(population=k)))

# ---- checkpoint at 150 ms on 2 ranks, continued to 300 ms on 3 ranks -------
# (a simulation config with "network", output in its own folder each)
for tag, tstop in (("half", 150.0), ("full", TSTOP), ("one", TSTOP)):
    d = copy.deepcopy(sim)
    d["run"]["tstop"] = tstop
    d["network"] = "${configdir}/circuit_config.json"
    d["output"]["output_dir"] = "$BASE_DIR/" + ("one" if tag == "one"
                                                else "half")
    with open("sim_%s.json" % tag, "w") as f:
        json.dump(d, f, indent=1)
bstest.run(args, ["run", "sim_half.json", "-q", "--checkpoint-dir", "ck"],
           np=2)
bstest.run(args, ["run", "sim_full.json", "-q", "--restore",
                  os.path.join("ck", "ckpt.h5")], np=3)
bstest.run(args, ["run", "sim_one.json", "-q"], np=1)
with h5py.File(os.path.join("half", "spikes.h5"), "r") as a, \
        h5py.File(os.path.join("one", "spikes.h5"), "r") as b:
    bstest.check(a["meta"].attrs["complete"] == 1, "continued run incomplete")
    for k in b["spikes"]:
        bstest.check(np.array_equal(a["spikes/%s/timestamps" % k][()],
                                    b["spikes/%s/timestamps" % k][()]) and
                     np.array_equal(a["spikes/%s/node_ids" % k][()],
                                    b["spikes/%s/node_ids" % k][()]),
                     "restored run: spikes of %s differ" % k)
for k in rep:
    fa = os.path.join("half", "V_m_report.%s.h5" % k)
    fb = os.path.join("one", "V_m_report.%s.h5" % k)
    with h5py.File(fa, "r") as a, h5py.File(fb, "r") as b:
        bstest.check(np.array_equal(a["report/%s/data" % k][()],
                                    b["report/%s/data" % k][()]),
                     "restored run: report of %s differs" % k)

# ---- synapses per projection against the edge files -------------------------
p = bstest.run(args, ["check", "config.json"], np=2)
built = {}
for line in p.stdout.splitlines():
    if line.startswith("projection "):
        name = line.split()[1]
        built[name] = int(line.split("built ")[1].split(",")[0])
want = {}
for fn in os.listdir("network"):
    if not fn.endswith("_edges.h5"):
        continue
    with h5py.File(os.path.join("network", fn), "r") as f:
        for ep in f["edges"]:
            et = f["edges/%s/edge_type_id" % ep][()]
            for t in np.unique(et):
                want.setdefault(ep, {})[int(t)] = int(np.sum(et == t))
for ep, types in want.items():
    for t, n in types.items():
        names = [b for b in built if b == ep or b.startswith("%s.%d" % (ep, t))]
        got = sum(built[b] for b in names)
        bstest.check(names and got == n, "edge population %s type %d: %d "
                     "edges in the file, projections %s built %d"
                     % (ep, t, n, names, got))

# ---- solo against NEST's iaf_psc_delta algorithm ----------------------------
NEST = {"C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0,
        "V_th": -55.0, "V_reset": -70.0, "I_e": 0.0, "V_m": -70.0}
steps = int(round(TSTOP / DT))
with h5py.File(os.path.join("network", "solo_nodes.h5"), "r") as f:
    types = f["nodes/solo/node_type_id"][()]
csv = [ln.split() for ln in open(os.path.join("network",
                                              "solo_node_types.csv"))]
col = csv[0].index("dynamics_params")
dyn_of = {int(r[0]): r[col] for r in csv[1:]}
sp_t, sp_id = spk["solo"]
for i, t in enumerate(types):
    d = dict(NEST)
    d.update(json.load(open(os.path.join(models, dyn_of[int(t)]))))
    h, tau, C = DT, d["tau_m"], d["C_m"]
    P33 = np.exp(-h / tau)
    P30 = -tau / C * np.expm1(-h / tau)
    y3, r, ref = d["V_m"] - d["E_L"], 0, int(round(d["t_ref"] / h))
    V = [d["V_m"]]
    stamps = []
    for n in range(steps - 1):  # update from t_n to t_(n+1)
        if r == 0:
            y3 = P30 * d["I_e"] + P33 * y3
        else:
            r -= 1
        if y3 >= d["V_th"] - d["E_L"]:
            r = ref
            y3 = d["V_reset"] - d["E_L"]
            stamps.append((n + 1) * h)
        V.append(y3 + d["E_L"])
    V = np.array(V)
    err = np.max(np.abs(rep["solo"][:, i] - V))
    bstest.check(err < 1e-9, "solo %d (type %d): V differs from NEST's "
                 "algorithm by %.3g mV" % (i, t, err))
    mine = np.sort(sp_t[sp_id == i]) + DT
    bstest.check(len(mine) == len(stamps) and
                 np.allclose(mine, stamps, atol=1e-9),
                 "solo %d: spikes + dt %s vs NEST stamps %s"
                 % (i, mine[:5], stamps[:5]))
    print("solo %d (type %d): %d spikes, max |dV| %.2g mV" % (i, t,
                                                             len(stamps), err))
# ---- probe: the virtual input's spikes, nsyns and delays ---------------------
# brainsim's stated semantics (README, "Running a BMTK network"): a file
# spike at t fires in step n = ceil(t / dt); static_synapse's delay d
# becomes round(d / dt) - 1 steps, so the jump w * nsyns is added in step
# n + round(d / dt), before that step's decay (Delta), and shows in that
# row of the report. Weights are stored as float32 (BrainPy's default);
# two spikes of one virtual node in one step are one (SpikeTimeGroup,
# as BrainPy; brainsim warns).
with h5py.File(os.path.join(wd, "inputs", "lgn.h5"), "r") as f:
    ts = f["spikes/LGN/timestamps"][()]
    ids = f["spikes/LGN/node_ids"][()]
with h5py.File(os.path.join("network", "LGN_probe_edges.h5"), "r") as f:
    g = f["edges/LGN_to_probe"]
    pre, post = g["source_node_id"][()], g["target_node_id"][()]
    nsyns = g["0/nsyns"][()][g["edge_group_index"][()]]
P33 = np.exp(-DT / 10.0)
d_steps = int(round(1.3 / DT))
for j in range(2):
    J = np.zeros(steps + d_steps + 2)
    for a, b, m in zip(pre, post, nsyns):
        if b != j:
            continue
        for n in np.unique(np.ceil(ts[ids == a] / DT - 1e-9).astype(int)):
            J[n + d_steps] += float(np.float32(0.7 * m))
    y, V = 0.0, []
    for k in range(steps):
        y += J[k]
        V.append(y - 70.0)
        y *= P33
    err = np.max(np.abs(rep["probe"][:, j] - np.array(V)))
    bstest.check(err < 1e-9, "probe %d: V differs from the summed jumps of "
                 "the input spikes by %.3g mV" % (j, err))
    print("probe %d: %d input synapses, max |dV| %.2g mV"
          % (j, int(np.sum(nsyns[post == j])), err))
# ---- pexp, pcond: the stated tolerance against NEST's integration -----------
# NEST adds a spike stamped S (steps) with delay D to the synaptic current
# or conductance at the end of step S + D - 1 (and a spike generator
# stamps its spike at t with S = t / dt), so the input first moves V at
# t_(S + D + 1), as in brainsim. NEST integrates iaf_psc_exp exactly (its
# propagators, here in numpy) and iaf_cond_exp with an adaptive
# Runge-Kutta method (here RK4 with 100 substeps per dt); brainsim's
# exp_auto holds the synaptic input constant over each step. The bound is
# the README's: 5 % of the largest deflection.
D = int(round(1.0 / DT))
arr = {0: [], 1: []}
for k, tl in PULSE_T.items():
    for t in tl:
        arr[k].append(int(round(t / DT)) + D - 1)  # NEST's S + D - 1
tau_m, C = 10.0, 250.0
tau = (2.0, 5.0)
h = DT
# iaf_psc_exp, exact propagators (NEST's iaf_psc_exp.cpp)
P22 = np.exp(-h / tau_m)
P11 = [np.exp(-h / ts) for ts in tau]
P21 = [ts * tau_m / (C * (tau_m - ts)) * (P22 - np.exp(-h / ts))
       for ts in tau]
y, i_s, V = 0.0, [0.0, 0.0], []
for k in range(steps):
    V.append(y - 70.0)
    y = P22 * y + P21[0] * i_s[0] + P21[1] * i_s[1]
    for q in range(2):
        i_s[q] *= P11[q]
        i_s[q] += PULSE_W["pexp"][q] * arr[q].count(k)
V = np.array(V)
err = np.max(np.abs(rep["pexp"][:, 0] - V))
span = np.max(np.abs(V + 70.0))
bstest.check(err <= 0.05 * span, "iaf_psc_exp: max |dV| %.3g mV is above 5 "
             "%% of the largest deflection %.3g mV" % (err, span))
print("iaf_psc_exp: max |dV| %.3g mV = %.2f %% of the largest deflection "
      "(%.3g mV)" % (err, 100 * err / span, span))
# iaf_cond_exp: C dV/dt = -g_L (V - E_L) - g_ex (V - E_ex) - g_in (V - E_in)
gL, E = 16.7, (0.0, -85.0)


def rhs(x):
    v, ge, gi = x
    return np.array([(-gL * (v + 70.0) - ge * (v - E[0]) - gi * (v - E[1]))
                     / C, -ge / tau[0], -gi / tau[1]])


x, V, sub = np.array([-70.0, 0.0, 0.0]), [], 100
for k in range(steps):
    V.append(x[0])
    hh = h / sub
    for _ in range(sub):
        k1 = rhs(x)
        k2 = rhs(x + hh / 2 * k1)
        k3 = rhs(x + hh / 2 * k2)
        k4 = rhs(x + hh * k3)
        x = x + hh / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    for q in range(2):
        x[1 + q] += abs(PULSE_W["pcond"][q]) * arr[q].count(k)
V = np.array(V)
err = np.max(np.abs(rep["pcond"][:, 0] - V))
span = np.max(np.abs(V + 70.0))
bstest.check(err <= 0.05 * span, "iaf_cond_exp: max |dV| %.3g mV is above "
             "5 %% of the largest deflection %.3g mV" % (err, span))
print("iaf_cond_exp: max |dV| %.3g mV = %.2f %% of the largest deflection "
      "(%.3g mV)" % (err, 100 * err / span, span))
bstest.finish("sonata_run")

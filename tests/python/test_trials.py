"""Trials (BrainPy's reset()): `run.trials: N` runs N trials of `duration`
back to back; at each trial start every state variable returns to its
initial condition (initializers drawn anew for the trial), synaptic traces
and spikes in flight are cleared. Trial k occupies [k T, (k + 1) T).

- With constant initial conditions and no random input, every trial repeats
  trial 0 exactly (same steps, same neurons).
- With random initial V, trial 0 equals a plain one-trial run and later
  trials differ from it; the whole run is identical at 1 and 3 ranks."""
import h5py
import numpy as np

import bstest

NET = """
run: {dt: 0.1 ms, duration: 60 ms, seed: 5, trials: 3}
populations:
  E: {model: LIF, size: 120, V_rest: -60, V_reset: -60, V_th: -50, tau: 20, tau_ref: 2,
      V_initializer: %s}
projections:
  EE: {pre: E, post: E, tau: 5 ms, output: {COBA: {E: 0}}, g_max: 0.3, delay: 2 ms,
       connect: {FixedProb: {prob: 0.1}}}
inputs: [{target: E, range: [0, 60], current: 14}]
monitors: [{spikes: all}, {population: E, variables: [V], indices: [0, 100], every: 1 ms}]
"""


def spikes(path):
    with h5py.File(path, "r") as f:
        steps = np.rint(f["spikes/E/timestamps"][()] / 0.1).astype(np.int64)
        return steps, f["spikes/E/node_ids"][()], f["report/E/V/data"][()]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "trials")
    T = 600  # steps per trial
    # Constant initial V: trials repeat.
    cfg = bstest.write_config(wd + "/const.yaml", NET % "-58")
    bstest.run(args, ["run", cfg, "-o", wd + "/const.h5", "--overwrite", "-q"], np=2)
    st, ids, V = spikes(wd + "/const.h5")
    trial = st // T
    bstest.check(V.shape[0] == 180, "report rows %d, expected 180 (3 x 60 ms)" % V.shape[0])
    n0 = np.sum(trial == 0)
    bstest.check(n0 > 0, "no spikes in trial 0")
    for k in (1, 2):
        sk, ik = st[trial == k] - k * T, ids[trial == k]
        bstest.check(np.array_equal(sk, st[trial == 0]) and np.array_equal(ik, ids[trial == 0]),
                     "trial %d does not repeat trial 0 (%d vs %d spikes)" % (k, len(sk), n0))
        bstest.check(np.array_equal(V[60 * k:60 * (k + 1)], V[:60]),
                     "trial %d V trace differs from trial 0" % k)
    with h5py.File(wd + "/const.h5", "r") as f:
        bstest.check(int(f["meta"].attrs["trials"]) == 3, "/meta@trials missing")
        bstest.check(float(f["meta"].attrs["trial_duration"]) == 60.0, "/meta@trial_duration")
    print("constant initial state: 3 trials of %d spikes each, identical" % n0)

    # The same with a trace synapse (NMDA, state and g history per pre
    # neuron) under STP with drawn per-synapse delays: its reset too must
    # make every trial repeat trial 0.
    net = (NET % "-58").replace(
        "inputs:",
        "  EN: {pre: E, post: E, synapse: NMDA, g_max: 0.05, stp: STP,\n"
        "       delay: {Uniform: [0.5 ms, 3 ms]}, connect: {FixedProb: {prob: 0.1}}}\n"
        "inputs:")
    cfg = bstest.write_config(wd + "/trace.yaml", net)
    bstest.run(args, ["run", cfg, "-o", wd + "/trace.h5", "--overwrite", "-q"], np=2)
    st, ids, V = spikes(wd + "/trace.h5")
    trial = st // T
    n0 = np.sum(trial == 0)
    bstest.check(n0 > 0, "no spikes in trial 0 (NMDA network)")
    for k in (1, 2):
        sk, ik = st[trial == k] - k * T, ids[trial == k]
        bstest.check(np.array_equal(sk, st[trial == 0]) and np.array_equal(ik, ids[trial == 0]),
                     "NMDA network: trial %d does not repeat trial 0" % k)
        bstest.check(np.array_equal(V[60 * k:60 * (k + 1)], V[:60]),
                     "NMDA network: trial %d V trace differs from trial 0" % k)
    print("NMDA + STP + per-synapse delays: 3 trials of %d spikes each, identical" % n0)

    # Random initial V: trial 0 = a plain run; later trials differ; ranks agree.
    cfg = bstest.write_config(wd + "/rand.yaml", NET % "{Uniform: [-60, -50]}")
    for np_ in (1, 3):
        bstest.run(args, ["run", cfg, "-o", wd + "/rand_np%d.h5" % np_, "--overwrite", "-q"], np=np_)
    bstest.run(args, ["run", cfg, "-o", wd + "/one.h5", "--overwrite", "-q", "--set", "run.trials=1"], np=1)
    a, b = spikes(wd + "/rand_np1.h5"), spikes(wd + "/rand_np3.h5")
    bstest.check(all(np.array_equal(x, y) for x, y in zip(a, b)), "trials differ between 1 and 3 ranks")
    st, ids, V = a
    s1, i1, V1 = spikes(wd + "/one.h5")
    trial = st // T
    bstest.check(np.array_equal(st[trial == 0], s1) and np.array_equal(ids[trial == 0], i1),
                 "trial 0 differs from a one-trial run")
    bstest.check(not np.array_equal(V[60], V[0]), "trial 1 starts from the same random V as trial 0")
    bstest.check(np.all(V[60] >= -60) and np.all(V[60] <= -50), "trial 1 initial V outside its initializer")
    print("random initial state: trial 0 = one-trial run, trials redrawn, 1 and 3 ranks identical")
    bstest.finish("trials")


if __name__ == "__main__":
    main()

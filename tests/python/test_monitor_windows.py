"""Monitor windows and spike monitors of an index subset (issue 11 item 6).

`start:`/`stop:` limit a monitor to the steps [start, stop); a state
monitor samples start, start + every, ... (SONATA mapping/time = [start,
stop, every]); a spike monitor of one population takes `indices`. Checked
against a run of the same network that records everything: the subset's
spikes are exactly the full record's spikes of those neurons inside the
window, a windowed V report is the full report's rows start/dt,
start/dt + every/dt, ...; identical at 1, 2 and 3 ranks; a run continued
from an end checkpoint (an open stop follows the longer duration) is
identical to one run. Bad windows and subsets are refused with
file:line:col."""
import os
import shutil
import subprocess

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))

CFG = """run: {dt: 0.1 ms, duration: 300 ms, seed: 3}
populations:
  P: {model: PoissonGroup, size: 77, freqs: 40 Hz}
  E: {model: LIF, size: 50, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  PE: {pre: P, post: E, synapse: Exponential, tau: 5 ms, g_max: 1.5,
       delay: 1 ms, connect: {FixedProb: {prob: 0.2}}}
inputs:
  - {target: E, current: 8}
monitors:
  - {spikes: E, indices: [3, 7, 20, 49], start: 50 ms, stop: 250 ms}
  - {spikes: P}
  - {population: E, variables: [V], every: 0.5 ms, start: 100 ms, stop: 200.2 ms}
  - {population: E, variables: [V], name: Vall}
  - {projection: PE, variables: [g], start: 10 ms, name: gw}
"""
SUB = [3, 7, 20, 49]


def compare(a, b):
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "compare_runs.py"), a, b],
                       capture_output=True, text=True)
    if p.returncode:
        print(p.stdout)
    return p.returncode == 0


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "monitor_windows")
    shutil.rmtree(wd)
    os.makedirs(wd)
    cfg = bstest.write_config(wd + "/win.yaml", CFG)
    full = bstest.write_config(wd + "/full.yaml", CFG.replace(
        "  - {spikes: E, indices: [3, 7, 20, 49], start: 50 ms, stop: 250 ms}", "  - {spikes: E}"))
    bstest.run(args, ["run", full, "-o", wd + "/full.h5", "-q"], np=1)
    outs = []
    for np_ in (1, 2, 3):
        o = "%s/win_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "-q"], np=np_)
        outs.append(o)
    with h5py.File(wd + "/full.h5", "r") as a, h5py.File(outs[0], "r") as f:
        T, I = a["spikes/E/timestamps"][()], a["spikes/E/node_ids"][()]
        s = np.rint(T / 0.1)
        keep = np.isin(I, SUB) & (s >= 500) & (s < 2500)
        t, i = f["spikes/E/timestamps"][()], f["spikes/E/node_ids"][()]
        bstest.check(keep.sum() > 10, "only %d spikes in the subset: too few to test" % keep.sum())
        bstest.check(np.array_equal(t, T[keep]) and np.array_equal(i, I[keep]),
                     "subset spikes (%d) differ from the full record's %d in the window"
                     % (len(t), keep.sum()))
        V, Va = f["report/E/V/data"][()], f["report/E/Vall/data"][()]
        bstest.check(V.shape == (201, 50), "windowed V shape %s, expected (201, 50)" % (V.shape,))
        bstest.check(np.array_equal(V, Va[1000:2003:5]), "windowed V is not rows 1000, 1005, ... "
                     "of the full report")
        tm = f["report/E/V/mapping/time"][()]
        bstest.check(np.allclose(tm, [100.0, 200.2, 0.5]), "windowed V mapping/time %s" % tm)
        g = f["report/PE/gw/data"][()]
        bstest.check(g.shape == (2900, 50), "g from 10 ms: shape %s" % (g.shape,))
        print("subset spikes: %d, all of the full record's in [50, 250) ms; V window rows "
              "exact" % len(t))
    for o in outs[1:]:
        bstest.check(compare(outs[0], o), "%s differs from 1 rank" % o)
    print("identical at 1, 2, 3 ranks")
    o = wd + "/phase.h5"
    bstest.run(args, ["run", cfg, "-o", o, "-q", "--set", "run.duration=150 ms",
                      "--checkpoint-dir", wd + "/ck"], np=2)
    bstest.run(args, ["run", cfg, "--restore", wd + "/ck/ckpt.h5", "-q"], np=3)
    bstest.check(compare(outs[0], o), "150 ms + restore to 300 ms differs from one run")
    print("150 ms at 2 ranks + restore at 3 ranks: identical to one run")
    bad_cases = [
        ("  - {spikes: [E, P], indices: [1]}\n", ":17:22:", "exactly one population"),
        ("  - {spikes: E}\n", ":17:6:", "already recorded by monitors[0]"),
        ("  - {population: E, variables: [V], name: V3, start: 20 ms, stop: 10 ms}\n",
         ":17:67:", "stop must be after start"),
        ("  - {population: E, variables: [V], name: V4, start: 0.05 ms}\n",
         ":17:54:", "whole number of steps"),
        ("  - {population: E, variables: [V], name: V5, start: 400 ms}\n",
         ":17:54:", "not before the end of the run"),
    ]
    os.makedirs(wd + "/bad", exist_ok=True)
    for extra, where, msg in bad_cases:
        bad = bstest.write_config(wd + "/bad/win.yaml", CFG + extra)
        q = bstest.run(args, ["run", bad, "-o", wd + "/bad.h5", "-q", "--overwrite"], np=0,
                       check=False)
        bstest.check(q.returncode != 0 and ("win.yaml" + where) in q.stderr and msg in q.stderr,
                     "%r not refused at %s with %r: %r" % (extra.strip(), where, msg, q.stderr))
    print("%d bad windows and subsets refused" % len(bad_cases))
    bstest.finish("monitor_windows")


if __name__ == "__main__":
    main()

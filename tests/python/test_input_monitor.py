"""Monitors of a population's input current and of a projection's
synaptic current (issue 11 item 6).

`variables: [input]` records the summed input current each step as the
neurons integrate it: the constant inputs plus every projection's output
at V of the previous step. Checked against an independent sum from the
other reports of the same run: input = I_ext + g_cuba + g_coba (E - V),
with V and both g sampled at the same steps, on a LIF population driven
by Poisson spikes through a CUBA and a COBA projection, with a constant
input to all neurons and one more to an index range. The report is
identical at 1, 2 and 3 ranks; `input` of a PoissonGroup is refused.

`I_syn` of a projection is what its output adds to the post's input in
the step: equal to g for the CUBA projection, to g (E - V) for the COBA
one, and the input is I_ext + the I_syn of every projection (a trace
synapse, AMPA, included, whose g per post is not a report of its own).
`I_syn` of a Delta projection is refused."""
import os

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))

CFG = """run: {dt: 0.1 ms, duration: 200 ms, seed: 11}
populations:
  P: {model: PoissonGroup, size: 80, freqs: 40 Hz}
  E: {model: LIF, size: 30, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -52 mV]}}
projections:
  PC: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: CUBA, g_max: 0.8,
       delay: 1 ms, connect: {FixedProb: {prob: 0.2}}}
  PO: {pre: P, post: E, synapse: Exponential, tau: 3 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.05, delay: 0.5 ms, connect: {FixedProb: {prob: 0.2}}}
  QA: {pre: P, post: E, synapse: AMPA, g_max: 0.02, delay: 0.3 ms,
       connect: {FixedProb: {prob: 0.1}}}
inputs:
  - {target: E, current: 4}
  - {target: E, range: [10, 20], current: 2.5}
monitors:
  - {spikes: all}
  - {population: E, variables: [V, input]}
  - {projection: PC, variables: [g]}
  - {projection: PO, variables: [g, I_syn]}
  - {projection: PC, variables: [I_syn]}
  - {projection: QA, variables: [I_syn]}
"""


def read(path):
    with h5py.File(path, "r") as f:
        return {k: f["report/%s/data" % k][()] for k in
                ("E/V", "E/input", "PC/g", "PO/g", "PC/I_syn", "PO/I_syn", "QA/I_syn")}, \
            f["report/E/input/data"].attrs["units"]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "input_monitor")
    cfg = bstest.write_config(wd + "/input.yaml", CFG)
    outs = []
    for np_ in (1, 2, 3):
        o = "%s/input_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "-q", "--overwrite"], np=np_)
        outs.append(o)
    r, units = read(outs[0])
    units = units.decode() if isinstance(units, bytes) else units
    bstest.check(units == "1", "input report units %r, expected 1" % units)
    I_ext = np.full(30, 4.0)
    I_ext[10:20] += 2.5
    got = r["E/input"]
    bstest.check(got.shape == (2000, 30), "input report shape %s" % (got.shape,))
    bstest.check(np.array_equal(r["PC/I_syn"], r["PC/g"]), "CUBA I_syn differs from g")
    e = np.max(np.abs(r["PO/I_syn"] - r["PO/g"] * (0.0 - r["E/V"])))
    bstest.check(e <= 1e-15, "COBA I_syn differs from g (E - V) by %g" % e)
    bstest.check(np.ptp(r["QA/I_syn"]) > 0, "AMPA I_syn constant: the comparison would be trivial")
    expect = I_ext[None, :] + r["PC/I_syn"] + r["PO/I_syn"] + r["QA/I_syn"]
    err = np.max(np.abs(got - expect)) if got.shape == expect.shape else np.inf
    bstest.check(err <= 1e-12, "input differs from I_ext + sum of I_syn by %g" % err)
    print("I_syn: CUBA = g, COBA = g (E - V) (max error %g); input = I_ext + sum I_syn "
          "(max error %g)" % (e, err))
    expect = I_ext[None, :] + r["PC/g"] + r["PO/g"] * (0.0 - r["E/V"]) + r["QA/I_syn"]
    err = np.max(np.abs(got - expect)) if got.shape == expect.shape else np.inf
    bstest.check(err <= 1e-12, "input differs from I_ext + g_cuba + g_coba (E - V) by %g" % err)
    bstest.check(np.ptp(r["PC/g"]) > 0 and np.ptp(r["PO/g"]) > 0,
                 "no synaptic drive: the comparison would be trivial")
    print("input = I_ext + g_cuba + g_coba (E - V) + I_ampa: max error %g over %d samples" % (err, got.size))
    for o in outs[1:]:
        g, _ = read(o)
        for k in ("E/input", "PC/I_syn", "PO/I_syn", "QA/I_syn"):
            bstest.check(g[k].tobytes() == r[k].tobytes(), "%s: %s differs from 1 rank" % (o, k))
    print("input report identical at 1, 2, 3 ranks")
    bad = bstest.write_config(wd + "/bad.yaml", CFG.replace(
        "  - {projection: QA, variables: [I_syn]}\n",
        "  - {projection: QA, variables: [I_syn]}\n  - {population: P, variables: [input]}\n"))
    p = bstest.run(args, ["run", bad, "-o", wd + "/bad.h5", "-q", "--overwrite"], np=0, check=False)
    bstest.check(p.returncode != 0 and "bad.yaml:23:33:" in p.stderr and "no input current" in p.stderr,
                 "input of a PoissonGroup not refused with file:line:col: %r" % p.stderr)
    bad = bstest.write_config(wd + "/bad2.yaml", CFG.replace(
        "inputs:\n", "  D: {pre: P, post: E, synapse: Delta, g_max: 0.1, "
        "connect: {FixedProb: {prob: 0.1}}}\ninputs:\n") +
        "  - {projection: D, variables: [I_syn]}\n")
    p = bstest.run(args, ["run", bad, "-o", wd + "/bad.h5", "-q", "--overwrite"], np=0, check=False)
    bstest.check(p.returncode != 0 and "bad2.yaml:24:33:" in p.stderr and "no output current" in p.stderr,
                 "I_syn of a Delta projection not refused with file:line:col: %r" % p.stderr)
    bstest.finish("input_monitor")


if __name__ == "__main__":
    main()

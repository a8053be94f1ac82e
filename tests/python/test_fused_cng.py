"""ConNeuGroup's fused update (cng.c cng_fused_block): a ConNeuGroup whose
incoming synapses all have block kernels is updated block by block with
them, as HH and LIF are. Against the unfused path (an `input` monitor on
every population keeps them unfused) the spikes and state samples must be
bitwise the same at 1 and 2 ranks, for

- COBAHH (configs/cobahh.yaml, 200 ms): TM1991 channels, COBA synapses;
- thalamic-style cells with a calcium ion (CalciumDetailed with ICaT and
  IAHP) in a recurrent COBA network, with the ion's C and E monitored.

And a state that diverges in the fused kernel (channel gates and V under
forward Euler with a huge input on one neuron, the last rank's) stops the
run at that step, naming population, neuron and variable, on every rank,
non-zero."""
import os
import re

import h5py

import bstest
import test_cng

HERE = os.path.dirname(os.path.abspath(__file__))
COBAHH = open(os.path.join(HERE, "..", "..", "configs", "cobahh.yaml")).read()

# test_cng's calcium cell, 300 of them in a recurrent COBA network.
CALCIUM = (test_cng.CALCIUM.replace("duration: 300 ms", "duration: 150 ms")
           .replace("size: 2\n", "size: 300\n")
           .replace("inputs:\n", """projections:
  TT: {pre: tc, post: tc, synapse: Exponential, tau: 5 ms,
       output: {COBA: {E: 0 mV}}, g_max: 0.02, connect: {FixedProb: {prob: 0.05}}}
  TI: {pre: tc, post: tc, synapse: Exponential, tau: 10 ms,
       output: {COBA: {E: -80 mV}}, g_max: 0.01, connect: {FixedProb: {prob: 0.05}}}
inputs:
""").replace("  - {population: tc, variables: [V, Ca.C, Ca.E, Ca.ICaT.p, Ca.IAHP.p]}\n",
             "%s  - {population: tc, variables: [V, Ca.C, Ca.E, Ca.ICaT.p], indices: [0, 1, 150, 299]}\n"))
assert "size: 300" in CALCIUM and "TT:" in CALCIUM and "%s" in CALCIUM

DIVERGE = """run: {dt: 0.1 ms, duration: 50 ms}
populations:
  C:
    model: ConNeuGroup
    size: 10
    method: euler
    channels:
      INa: {kind: INa_HH1952, g_max: 120, E: 50}
      IK: {kind: IK_HH1952, g_max: 36, E: -77}
      IL: {kind: IL, g_max: 0.03, E: -54.387}
inputs:
  - {target: C, range: [9, 10], current: 1e6}
monitors: [{spikes: all}]
"""


def read(path, pops, report):
    with h5py.File(path, "r") as f:
        out = {}
        for p in pops:
            out["spikes/%s/node_ids" % p] = f["spikes/%s/node_ids" % p][()]
            out["spikes/%s/timestamps" % p] = f["spikes/%s/timestamps" % p][()]
        for r in report:
            out[r] = f[r][()]
        return out


def compare(args, wd, name, fused, unfused, pops, report):
    got = {}
    for form, body in (("fused", fused), ("unfused", unfused)):
        cfg = bstest.write_config("%s/%s_%s.yaml" % (wd, name, form), body)
        for np_ in ((1, 2) if form == "fused" else (1,)):
            out = "%s/%s_%s_%d.h5" % (wd, name, form, np_)
            bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
            got[form, np_] = read(out, pops, report)
    ref = got["unfused", 1]
    n = sum(len(ref["spikes/%s/node_ids" % p]) for p in pops)
    bstest.check(n > 100, "%s: only %d spikes" % (name, n))
    for key, r in got.items():
        for k, v in r.items():
            bstest.check(v.shape == ref[k].shape and v.tobytes() == ref[k].tobytes(),
                         "%s, %s at %d rank(s): %s differs from unfused" % (name, key[0], key[1], k))
    print("%s: fused at 1 and 2 ranks equals unfused bitwise (%d spikes)" % (name, n))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "fused_cng")
    hh = COBAHH.replace("duration: 1 s", "duration: 200 ms")
    assert hh != COBAHH and "monitors:\n" in hh
    unf = "monitors:\n  - {population: E, variables: [input]}\n  - {population: I, variables: [input]}\n"
    compare(args, wd, "cobahh", hh, hh.replace("monitors:\n", unf, 1), "EI",
            ["report/E/V/data"])
    compare(args, wd, "calcium", CALCIUM % "", CALCIUM % "  - {population: tc, variables: [input]}\n",
            ["tc"], ["report/tc/V/data", "report/tc/Ca.C/data", "report/tc/Ca.E/data",
                     "report/tc/Ca.ICaT.p/data"])

    cfg = bstest.write_config(wd + "/diverge.yaml", DIVERGE)
    for np_ in (1, 2):
        p = bstest.run(args, ["run", cfg, "-o", "%s/diverge_%d.h5" % (wd, np_), "--overwrite", "-q"],
                       np=np_, check=False)
        err = p.stdout + p.stderr
        bstest.check(p.returncode != 0, "diverging ConNeuGroup at %d ranks: exit 0" % np_)
        m = re.search(r"population 'C', neuron 9: (V|INa\.p|INa\.q|IK\.p) became (-?nan|-?inf) "
                      r"between t = ([0-9.]+) and ([0-9.]+) ms", err)
        bstest.check(m is not None, "diverging ConNeuGroup at %d ranks: message %r" % (np_, err[:600]))
        # The fused kernel tests what it stores: the step, not the interval.
        bstest.check(m is not None and abs(float(m.group(4)) - float(m.group(3)) - 0.1) < 1e-9,
                     "divergence not named at its step: %r" % (m.group(0) if m else err[:300]))
        bstest.check(np_ == 1 or "[rank 1]" in err, "divergence not reported by rank 1: %r" % err[:400])
        print("diverging ConNeuGroup at %d rank(s): %s" % (np_, m.group(0) if m else "?"))
    bstest.finish("fused_cng")


if __name__ == "__main__":
    main()

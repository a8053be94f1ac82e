"""The whole kernels of the fused update (LIF's lif_whole, bs_fused_term):
a population whose incoming projections are all Exponential with CUBA or
COBA (one E) is updated in one loop with its synapses. Against the unfused
path (an `input` monitor on every population keeps them all unfused) the
spikes and V samples must be bitwise the same, at 1 and 2 ranks, for

- C: four terms (the most), COBA and CUBA mixed;
- B: three terms, one from a count ring (a 3 ms delay makes the ring of
  doubles outgrow its L2 share) and one with per-synapse weights;
- D: no terms, a constant input on part of it only;
- A: five projections, one with per-post E: the block path.

Where the CPU has AVX-512 (or AVX2 with FMA) the fused runs take LIF's
intrinsic kernels; a third run with BRAINSIM_C_KERNELS=1 takes the C
kernels, which must give the same bits too. The sizes leave partial
vectors of 4 and of 8 lanes at the ends of blocks (B: 1501, D: 503; at 2
ranks 751/750 and 252/251)."""
import os

import h5py

import bstest

CFG = """run: {dt: 0.1 ms, duration: 200 ms, seed: 7}
populations:
  A: {model: LIF, size: 2000, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 5 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  B: {model: LIF, size: 1501, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 5 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  C: {model: LIF, size: 1000, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  D: {model: LIF, size: 503, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 10 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  AA: {pre: A, post: A, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.3, connect: {FixedProb: {prob: 0.02}}}
  BA: {pre: B, post: A, synapse: Exponential, tau: 10 ms, output: {COBA: {E: -80 mV}},
       g_max: 2.0, connect: {FixedProb: {prob: 0.02}}}
  CA: {pre: C, post: A, synapse: Exponential, tau: 3 ms, output: CUBA,
       g_max: 0.5, connect: {FixedProb: {prob: 0.02}}}
  DA: {pre: D, post: A, synapse: Exponential, tau: 4 ms, output: CUBA,
       g_max: -0.5, connect: {FixedProb: {prob: 0.05}}}
  AA2: {pre: A, post: A, synapse: Exponential, tau: 6 ms,
        output: {COBA: {E: {Uniform: [-80 mV, -70 mV]}}},
        g_max: 0.5, connect: {FixedProb: {prob: 0.01}}}
  AB: {pre: A, post: B, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.4, delay: 3 ms, connect: {FixedProb: {prob: 0.02}}}
  CB: {pre: C, post: B, synapse: Exponential, tau: 2 ms, output: CUBA,
       g_max: 0.7, connect: {FixedProb: {prob: 0.02}}}
  BB: {pre: B, post: B, synapse: Exponential, tau: 10 ms, output: {COBA: {E: -80 mV}},
       g_max: {Uniform: [1.0, 3.0]}, connect: {FixedProb: {prob: 0.02}}}
  AC: {pre: A, post: C, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.3, connect: {FixedProb: {prob: 0.02}}}
  BC: {pre: B, post: C, synapse: Exponential, tau: 10 ms, output: {COBA: {E: -80 mV}},
       g_max: 2.5, connect: {FixedProb: {prob: 0.02}}}
  CC: {pre: C, post: C, synapse: Exponential, tau: 3 ms, output: CUBA,
       g_max: 0.2, connect: {FixedProb: {prob: 0.02}}}
  DC: {pre: D, post: C, synapse: Exponential, tau: 8 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.2, connect: {FixedProb: {prob: 0.05}}}
inputs:
  - {target: A, current: 20}
  - {target: B, current: 19}
  - {target: C, current: 21}
  - {target: D, range: [0, 300], current: 12}
monitors:
  - spikes: [A, B, C, D]
%s  - {population: A, variables: [V], indices: [0, 1, 2, 1999], every: 0.5 ms}
  - {population: B, variables: [V], indices: [0, 7, 1499], every: 0.5 ms}
  - {population: C, variables: [V], indices: [0, 3, 999], every: 0.5 ms}
  - {population: D, variables: [V], indices: [0, 299, 499], every: 0.5 ms}
"""
UNFUSED = "".join("  - {population: %s, variables: [input]}\n" % p for p in "ABCD")
POPS = "ABCD"


def read(path):
    with h5py.File(path, "r") as f:
        out = {}
        for p in POPS:
            out["spikes/%s/node_ids" % p] = f["spikes/%s/node_ids" % p][()]
            out["spikes/%s/timestamps" % p] = f["spikes/%s/timestamps" % p][()]
            out["report/%s/V" % p] = f["report/%s/V/data" % p][()]
        return out


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "fused_whole")
    got = {}
    for form, extra, env in (("fused", "", None), ("unfused", UNFUSED, None),
                             ("fused_c", "", {"BRAINSIM_C_KERNELS": "1"})):
        cfg = bstest.write_config("%s/%s.yaml" % (wd, form), CFG % extra)
        for np_ in ((1, 2) if form == "fused" else (1,)):
            out = "%s/%s_%d.h5" % (wd, form, np_)
            bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_, env=env)
            got[form, np_] = read(out)
    ref = got["unfused", 1]
    for p in POPS:
        n = len(ref["spikes/%s/node_ids" % p])
        bstest.check(n > 200, "population %s: only %d spikes" % (p, n))
    for key, r in got.items():
        for k, v in r.items():
            bstest.check(v.shape == ref[k].shape and v.tobytes() == ref[k].tobytes(),
                         "%s at %d rank(s): %s differs from unfused" % (key[0], key[1], k))
    print("whole kernels (0, 3, 4 terms; intrinsics where the CPU has them, and C) and the "
          "block path at 1 and 2 ranks equal unfused bitwise (%s spikes)"
          % ", ".join("%s %d" % (p, len(ref["spikes/%s/node_ids" % p])) for p in POPS))
    bstest.finish("fused_whole")


if __name__ == "__main__":
    main()

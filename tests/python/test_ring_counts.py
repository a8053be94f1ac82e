"""Count rings (issue 14): a projection whose spikes all bring one weight
(no per-synapse weights, no stp) keeps a ring of arrival counts instead of
summed weights once the double ring would exceed 256 KiB on a rank, and
reads k arrivals as the sum of k weights added up in double, the value the
double ring would hold. With 1,000 post neurons and a delay of 10 ms (101
slots) the ring is 808 KB on 1 rank (counts), 404 KB on 2 (counts) and
202 KB on 4 (doubles), unless the population's fused kernel reads counts
itself (LIF's AVX-512 kernels), which takes count rings at every size;
BRAINSIM_C_KERNELS=1 keeps the C kernels and the size rule. So:

1. runs at 1, 2 and 4 ranks, and at 4 ranks with the C kernels, give
   bitwise identical spikes and traces (counts against doubles where the
   CPU has AVX-512, kernels reading counts against expanded counts
   everywhere);
2. a checkpoint at 1 rank (spikes in flight in the count ring) restored at
   4 ranks, and one at 4 ranks restored at 1 rank (doubles read into
   counts), end identical to the uninterrupted run.

Cells are one byte where every count fits (the largest in-degree of the
rank's posts is at most 255: SE, EE) and two bytes where not (PE, PF:
in-degrees near 270 and 285), so E's kernel takes both widths and a ring
of doubles (PEw) together, F's one ring of two-byte counts.

Counts of k arrivals are read as k x w where that is exactly the sum of k
weights (k <= 5 for w = 0.6) and from the table of sums above: SE, 40
synchronous spikes of a SpikeTimeGroup onto each post, brings cells of
~20 arrivals, which must give the same bits as the double ring too."""
import bstest

NET = """
run: {dt: 0.1 ms, duration: 200 ms, seed: 11}
populations:
  P: {model: PoissonGroup, size: 300, freqs: 30 Hz}
  S: {model: SpikeTimeGroup, size: 40, indices: %s, times: %s}
  E: {model: LIF, size: 1000, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  F: {model: LIF, size: 200, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  PF: {pre: P, post: F, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.03, delay: 10 ms, connect: {FixedProb: {prob: 0.95}}}
  PE: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.03, delay: 10 ms, connect: {FixedProb: {prob: 0.9}}}
  PEw: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: CUBA,
        g_max: {Uniform: [0.1, 0.4]}, delay: 10 ms, connect: {FixedProb: {prob: 0.05}}}
  EE: {pre: E, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: -80 mV}},
       g_max: 0.3, delay: {Uniform: [1 ms, 10 ms]}, connect: {FixedProb: {prob: 0.05}}}
  SE: {pre: S, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.6, delay: 10 ms, connect: {FixedProb: {prob: 0.5}}}
inputs:
  - {target: E, current: 9}
monitors:
  - {spikes: all}
  - {population: E, variables: [V], indices: [0, 97, 499, 500, 501, 998, 999]}
  - {population: F, variables: [V], indices: [0, 99, 100, 199]}
  - {projection: PE, variables: [g], indices: [0, 499, 500, 999]}
""" % (list(range(40)) * 3, ["%g ms" % t for t in (30, 90, 150) for _ in range(40)])


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "ring_counts")
    cfg = bstest.write_config(wd + "/net.yaml", NET)
    ref = wd + "/np1.h5"
    bstest.run(args, ["run", cfg, "-o", ref, "--overwrite", "-q"], np=1)
    for np_, env in ((2, None), (4, None), (4, {"BRAINSIM_C_KERNELS": "1"})):
        out = wd + "/np%d%s.h5" % (np_, "c" if env else "")
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_, env=env)
        bstest.check(bstest.identical(ref, out), "%d ranks%s differ from 1 rank"
                     % (np_, " (C kernels)" if env else ""))
    print("1, 2, 4 ranks and 4 ranks with the C kernels (count and double rings): identical")
    for w, r in ((1, 4), (4, 1)):
        out = wd + "/ck_%d_%d.h5" % (w, r)
        ck = wd + "/ck_%d" % w
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q", "--checkpoint-every",
                          "105ms", "--checkpoint-dir", ck], np=w)
        bstest.run(args, ["run", cfg, "--restore", ck + "/ckpt.h5", "-q"], np=r)
        bstest.check(bstest.identical(ref, out), "checkpoint at %d ranks restored at %d differs" % (w, r))
    print("checkpoint at 1 rank restored at 4, and at 4 restored at 1: identical")
    bstest.finish("ring_counts")


if __name__ == "__main__":
    main()

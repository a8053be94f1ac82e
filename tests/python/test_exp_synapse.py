"""Exponential synapse: after one pre spike the conductance decays as
g_max exp(-t / tau), and a spike emitted in step n through delay d steps
first affects the post neuron in step n + 1 + d (DESIGN.md, Contracts).

The pre neuron spikes once, in step 0 (its input drives V over threshold in
one step; a long refractory period keeps it silent after). brainsim records
g after the synapse update of each step, so g[m] = 0 for m < 1 + d and
g[m] = g_max exp(-(m - 1 - d) dt / tau) from then on; the post V sampled at
the start of step 1 + d is still V_rest and moves in the sample after.
Checked for several delays given in ms, in steps and with CUBA and COBA
outputs, at 1 and 2 ranks. Tolerance 1e-12 relative (one exp() per step,
products of the same factor)."""
import h5py
import numpy as np

import bstest

CASES = [  # (delay key, value, expected steps, output)
    ("delay_step", "0", 0, "CUBA"),
    ("delay", "1 ms", 10, "CUBA"),
    ("delay", "2.5 ms", 25, "{COBA: {E: 50 mV}}"),  # post rests at 0 mV
    ("delay_step", "7", 7, "CUBA"),
]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "exp_synapse")
    dt, tau, gmax = 0.1, 5.0, 0.75
    for c, (key, val, d, out) in enumerate(CASES):
        cfg = bstest.write_config("%s/syn_%d.yaml" % (wd, c), """
run: {dt: %g ms, duration: 40 ms, seed: 3}
populations:
  pre: {model: LIF, size: 1, tau_ref: 1000 ms}
  post: {model: LIF, size: 4, V_th: 1000}
projections:
  s: {pre: pre, post: post, synapse: Exponential, tau: %g ms, g_max: %g,
      %s: %s, output: %s, connect: All2All}
inputs: [{target: pre, current: 100000}]
monitors:
  - {spikes: [pre]}
  - {projection: s, variables: [g]}
  - {population: post, variables: [V], indices: [3]}
""" % (dt, tau, gmax, key, val, out))
        for np_ in (1, 2):
            o = "%s/syn_%d_np%d.h5" % (wd, c, np_)
            bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
            with h5py.File(o, "r") as f:
                spk = f["spikes/pre/timestamps"][()]
                g = f["report/s/g/data"][()]
                V = f["report/post/V/data"][:, 0]
            bstest.check(list(spk) == [0.0], "case %d: pre spikes %s, expected one at 0 ms" % (c, spk))
            m = np.arange(g.shape[0])
            expect = np.where(m >= 1 + d, gmax * np.exp(-(m - 1 - d) * dt / tau), 0.0)
            for col in range(g.shape[1]):
                rel = np.max(np.abs(g[:, col] - expect)) / gmax
                bstest.check(rel <= 1e-12, "case %d np %d post %d: g differs by %.3g (first nonzero at %s, expected %d)"
                             % (c, np_, col, rel, np.nonzero(g[:, col])[0][:1], 1 + d))
            bstest.check(np.all(V[:2 + d] == 0.0) and V[2 + d] != 0.0,
                         "case %d np %d: post V first moves at sample %s, expected %d"
                         % (c, np_, np.nonzero(V)[0][:1], 2 + d))
        print("case %d: %s = %s -> arrives at step %d, decay matches (1 and 2 ranks)" % (c, key, val, 1 + d))
    bstest.finish("exp_synapse")


if __name__ == "__main__":
    main()

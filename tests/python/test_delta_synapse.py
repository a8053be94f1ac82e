"""Delta synapse (BrainPy Delta / DeltaSynapse): the weights arriving in a
step are added to the post-synaptic V before the neurons integrate in that
step, with no synaptic state.

The pre neuron spikes once, in step 0; with delay d the weight arrives in
step 1 + d. The post LIF rests at V_rest = 0 with no input, so its V samples
(taken after the synapses, before the neurons) are exactly 0 before step
1 + d and exactly w at step 1 + d (0 + w is exact); afterwards V relaxes as
the LIF's exp_auto step V <- V (1 - A), A = 1 - exp(-dt/tau), checked to
1e-12. At 1 and 2 ranks. `output:` on a Delta projection is refused with
the config line."""
import math

import h5py
import numpy as np

import bstest

DT, TAU = 0.1, 10.0
CASES = [("delay_step", "0", 0, "Delta"), ("delay", "1.2 ms", 12, "Delta"),
         ("delay_step", "5", 5, "DeltaSynapse")]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "delta_synapse")
    w = 2.5
    A = -math.expm1(-DT / TAU)
    for c, (key, val, d, syn) in enumerate(CASES):
        cfg = bstest.write_config("%s/delta_%d.yaml" % (wd, c), """
run: {dt: %g ms, duration: 20 ms, seed: 3}
populations:
  pre: {model: LIF, size: 1, tau_ref: 1000 ms}
  post: {model: LIF, size: 3, V_th: 1000, V_rest: 0, V_reset: 0, tau: %g ms}
projections:
  s: {pre: pre, post: post, synapse: %s, g_max: %g, %s: %s, connect: All2All}
inputs: [{target: pre, current: 100000}]
monitors:
  - {spikes: [pre]}
  - {population: post, variables: [V]}
""" % (DT, TAU, syn, w, key, val))
        for np_ in (1, 2):
            o = "%s/delta_%d_np%d.h5" % (wd, c, np_)
            bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
            with h5py.File(o, "r") as f:
                spk = f["spikes/pre/timestamps"][()]
                V = f["report/post/V/data"][()]
            bstest.check(list(spk) == [0.0], "case %d: pre spikes %s" % (c, spk))
            m = np.arange(V.shape[0])
            expect = np.where(m >= 1 + d, w * (1 - A) ** np.maximum(m - 1 - d, 0), 0.0)
            for col in range(V.shape[1]):
                bstest.check(np.all(V[:1 + d, col] == 0.0) and V[1 + d, col] == w,
                             "case %d np %d post %d: V jumps to %r at sample %s, expected exactly %g at %d"
                             % (c, np_, col, V[1 + d, col], np.nonzero(V[:, col])[0][:1], w, 1 + d))
                err = np.max(np.abs(V[:, col] - expect)) / w
                bstest.check(err <= 1e-12, "case %d np %d post %d: V trace off by %.3g" % (c, np_, col, err))
        print("case %d: %s %s = %s: V jumps by exactly %g at step %d, then decays (1 and 2 ranks)"
              % (c, syn, key, val, w, 1 + d))
    bad = bstest.write_config("%s/delta_bad.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms}
populations:
  a: {model: LIF, size: 2}
projections:
  s: {pre: a, post: a, synapse: Delta, output: COBA, connect: All2All}
""")
    p = bstest.run(args, ["check", bad], np=0, check=False)
    bstest.check(p.returncode != 0 and "takes no output" in p.stderr and "delta_bad.yaml:6" in p.stderr,
                 "Delta with an output: expected a refusal at line 6, got %d: %s" % (p.returncode, p.stderr))
    bstest.finish("delta_synapse")


if __name__ == "__main__":
    main()

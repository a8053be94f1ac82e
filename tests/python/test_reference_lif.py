"""The LIF/Exponential seed example (configs/lif_exponential.yaml) against
Brian2's trace ref_B_lif_expcuba_dt0.1.h5.

Conventions: the reference samples state k at t_k = k dt after k steps and
reports a spike detected in the step starting at t_k at t_k; brainsim samples
V at the start of step k and g after the synapse update of step k (the g the
neuron integrates with over [t_k, t_k + dt)), which is the same state, and
records spikes at t_k. Both integrate the linear equations exactly
(exponential Euler) in float64, so they differ only by rounding of
algebraically equal formulas: we require |dV|, |dg| <= 1e-9 (observed
~1e-13) and identical spike times (to 1e-9 ms). brainsim's file has 1000
samples (t in [0, 100) ms); the reference has 1001 (including t = 100)."""
import h5py
import numpy as np

import bstest

TOL = 1e-9


def main():
    p = bstest.parser(__doc__)
    p.add_argument("--config", required=True)
    p.add_argument("--reference", required=True)
    args = p.parse_args()
    out = bstest.workdir(args, "reference_lif") + "/lif_exponential.h5"
    bstest.run(args, ["run", args.config, "-o", out, "--overwrite", "-q"], np=0)
    with h5py.File(args.reference, "r") as r, h5py.File(out, "r") as f:
        dt = float(r.attrs["dt"])
        bstest.check(abs(float(f["meta"].attrs["dt"]) - dt) < 1e-15, "dt differs")
        n = f["report/pre/V/data"].shape[0]
        bstest.check(n == int(r.attrs["n_steps"]), "samples %d vs n_steps %d" % (n, int(r.attrs["n_steps"])))
        for ours, theirs in (("report/pre/V/data", "V_pre"), ("report/post/V/data", "V_post"),
                             ("report/syn/g/data", "g")):
            a = f[ours][:, 0]
            b = r[theirs][:n]
            err = np.max(np.abs(a - b))
            k = int(np.argmax(np.abs(a - b)))
            bstest.check(err <= TOL, "%s vs %s: max |diff| %.3g at t = %.1f ms (%r vs %r)"
                         % (ours, theirs, err, k * dt, a[k], b[k]))
            print("%-20s vs %-7s max |diff| = %.3g" % (ours, theirs, err))
        for pop in ("pre", "post"):
            a = f["spikes/%s/timestamps" % pop][()]
            b = r["spike_t_%s" % pop][()]
            ok = a.shape == b.shape and (len(a) == 0 or np.max(np.abs(a - b)) <= TOL)
            bstest.check(ok, "%s spike times %s vs reference %s" % (pop, a, b))
            print("%-4s spikes: %s (reference %s)" % (pop, a, b))
        bstest.check(len(r["spike_t_pre"]) > 0, "reference has no pre spikes")
    bstest.finish("reference_lif_expcuba")


if __name__ == "__main__":
    main()

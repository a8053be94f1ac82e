"""LIF under constant input against the analytic solution.

V(t) = V_inf + (V_reset - V_inf) exp(-t / tau), V_inf = V_rest + R I, so the
continuous time from reset to threshold is T = tau ln((V_inf - V_reset) /
(V_inf - V_th)). Exponential Euler is exact for this linear equation, so the
sampled V equals V(k dt) to rounding, and the spike falls in the step whose
end first reaches V_th: with k = ceil(T / dt), starting at V_reset at t = 0
the first spike is recorded at t = (k - 1) dt (start of that step) and the
interspike interval is (k + r) dt, where r = tau_ref / dt refractory steps
hold V (BrainPy: t - t_last <= tau_ref, so r = 50 for 5 ms at 0.1 ms). Tolerance: spike times exact to
1e-9 ms; traces within 1e-9 mV of the closed form (observed ~1e-13). Cases
are chosen with T / dt at least 0.05 away from an integer so rounding
cannot move a spike by one step."""
import math

import h5py
import numpy as np

import bstest

CASES = [  # V_rest, V_reset, V_th, tau, R, I, tau_ref (None: no refractoriness)
    (0.0, -5.0, 20.0, 10.0, 1.0, 25.0, None),
    (-60.0, -60.0, -50.0, 20.0, 1.0, 20.0, 5.0),
    (-65.0, -70.0, -50.0, 15.0, 2.0, 12.0, 2.0),
]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "lif_analytic")
    dt, dur = 0.1, 200.0
    for c, (V_rest, V_reset, V_th, tau, R, I, tau_ref) in enumerate(CASES):
        V_inf = V_rest + R * I
        T = tau * math.log((V_inf - V_reset) / (V_inf - V_th))
        k = math.ceil(T / dt)
        frac = T / dt - math.floor(T / dt)
        bstest.check(0.05 < frac < 0.95, "case %d: T/dt = %.4f too close to a step" % (c, T / dt))
        r = 0 if tau_ref is None else round(tau_ref / dt)
        cfg = bstest.write_config("%s/lif_%d.yaml" % (wd, c), """
run: {dt: %g ms, duration: %g ms}
populations:
  n: {model: LIF, size: 3, V_rest: %r, V_reset: %r, V_th: %r, tau: %r, R: %r,
      tau_ref: %s, V_initializer: %r}
inputs: [{target: n, current: %r}]
monitors: [{spikes: [n]}, {population: n, variables: [V], indices: [1]}]
""" % (dt, dur, V_rest, V_reset, V_th, tau, R, "null" if tau_ref is None else repr(tau_ref),
       V_reset, I))
        out = "%s/lif_%d.h5" % (wd, c)
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=0)
        with h5py.File(out, "r") as f:
            ts = f["spikes/n/timestamps"][()]
            ids = f["spikes/n/node_ids"][()]
            V = f["report/n/V/data"][:, 0]
        t1 = ts[ids == 1]
        expect = [(k - 1) * dt + j * (k + r) * dt for j in range(200)]
        expect = np.array([t for t in expect if t < dur - 1e-9])
        ok = t1.shape == expect.shape and np.max(np.abs(t1 - expect)) <= 1e-9
        bstest.check(ok, "case %d: spikes %s, expected %s" % (c, t1[:5], expect[:5]))
        # Trace over the first interspike interval: closed form until the
        # spike, then V_reset held for r samples.
        kk = np.arange(k)
        Vc = V_inf + (V_reset - V_inf) * np.exp(-kk * dt / tau)
        err = np.max(np.abs(V[:k] - Vc))
        bstest.check(err <= 1e-9, "case %d: trace differs from closed form by %.3g" % (c, err))
        if r:
            # Spike in step k-1; steps k .. k+r-1 are refractory, so the
            # samples k .. k+r (state at their start) all read V_reset.
            held = V[k:k + r + 1]
            bstest.check(np.all(held == V_reset), "case %d: V not held at V_reset during refractoriness: %s"
                         % (c, held[:5]))
            bstest.check(V[k + r + 1] > V_reset, "case %d: V not integrated after %d refractory steps" % (c, r))
        print("case %d: T = %.4f ms, k = %d, refractory steps %d, ISI %.1f ms, %d spikes, trace err %.2g"
              % (c, T, k, r, (k + r) * dt, len(t1), err))
    bstest.finish("lif_analytic")


if __name__ == "__main__":
    main()

"""Order of convergence of each integrator (method: exp_auto, euler, rk2,
rk4), measured on brainsim runs at dt, dt/2 and dt/4.

1. LeakyIntegrator (tau dV/dt = -(V - V_rest) + R I, V(0) = 0), whose
   solution is known: V(t) = R I (1 - e^{-t/tau}). The error is the largest
   |V - V(t)| over the samples on the common grid (every 0.4 ms, 0-20 ms).
   Halving dt must divide it by 2 (euler, order 1), 4 (rk2) and 16 (rk4):
   we accept ratios within [1.8, 2.2], [3.6, 4.4] and [14, 18] (the
   asymptotic constants are reached to a few percent at these dt). exp_auto
   is exact for this linear equation: error <= 1e-12 at every dt.
2. FHN (nonlinear, two coupled variables, 20 ms from rest with input 0.5)
   at dt = 0.1, 0.05, 0.025 ms against rk4 at 0.004 ms computed here in
   numpy (its own error is below 1e-12): the same ratios for euler, rk2 and
   rk4; exp_auto, which freezes the other variable within the step, is
   first order on a coupled system: ratio in [1.8, 2.2].
"""
import h5py
import numpy as np

import bstest

DTS = [0.4, 0.2, 0.1]
T = 20.0
GRID = 0.4
RATIO = {"euler": (1.8, 2.2), "rk2": (3.6, 4.4), "rk4": (14.0, 18.0),
         "exp_auto": (1.8, 2.2)}


def fhn_f(y, I=0.5, a=0.7, b=0.8, tau=12.5):
    V, w = y
    return np.array([V - V ** 3 / 3 - w + I, (V + a - b * w) / tau])


def fhn_reference():
    """rk4 at 0.4/100 ms; samples on the 0.4 ms grid."""
    h = GRID / 100
    y = np.array([0.0, 0.0])
    out = []
    for k in range(int(round(T / GRID))):
        out.append(y[0])
        for _ in range(100):
            k1 = fhn_f(y)
            k2 = fhn_f(y + 0.5 * h * k1)
            k3 = fhn_f(y + 0.5 * h * k2)
            k4 = fhn_f(y + h * k3)
            y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.array(out)


def run(args, wd, model, extra, current, method, dt):
    cfg = ("run: {dt: %r ms, duration: %r ms, seed: 1}\n"
           "populations:\n  A: {model: %s, size: 1, method: %s%s}\n"
           "inputs:\n  - {target: A, current: %r}\n"
           "monitors:\n  - {population: A, variables: [V], every: %r ms}\n"
           % (dt, T, model, method, extra, current, GRID))
    name = "%s_%s_%g" % (model, method, dt)
    path = bstest.write_config("%s/%s.yaml" % (wd, name), cfg)
    out = "%s/%s.h5" % (wd, name)
    bstest.run(args, ["run", path, "-o", out, "--overwrite", "-q"], np=0)
    with h5py.File(out, "r") as f:
        return f["report/A/V/data"][:, 0]


def main():
    p = bstest.parser(__doc__)
    args = p.parse_args()
    wd = bstest.workdir(args, "integrator_order")
    t = np.arange(int(round(T / GRID))) * GRID
    exact_li = 5.0 * (1.0 - np.exp(-t / 10.0))
    ref_fhn = fhn_reference()
    for model, extra, cur, exact, dts in (
            ("LeakyIntegrator", "", 5.0, exact_li, DTS),
            ("FHN", "", 0.5, ref_fhn, [d / 4 for d in DTS])):
        for method in ("exp_auto", "euler", "rk2", "rk4"):
            errs = [np.max(np.abs(run(args, wd, model, extra, cur, method, dt) - exact))
                    for dt in dts]
            ratios = [errs[i] / errs[i + 1] for i in range(len(errs) - 1)]
            print("%-16s %-8s errors %s ratios %s" % (
                model, method, " ".join("%.3e" % e for e in errs),
                " ".join("%.2f" % r for r in ratios)))
            if model == "LeakyIntegrator" and method == "exp_auto":
                bstest.check(max(errs) <= 1e-12, "exp_auto not exact on a linear "
                             "equation: errors %s" % errs)
                continue
            lo, hi = RATIO[method]
            for r in ratios:
                bstest.check(lo <= r <= hi, "%s %s: error ratio %.3f outside [%g, %g] "
                             "(errors %s)" % (model, method, r, lo, hi, errs))
    bstest.finish("integrator_order")


if __name__ == "__main__":
    main()

"""Noise in the neuron equations (issue 11 item 5).

`noise: {V: g}` adds BrainPy's sdeint term: dV = f dt + g dW with dW ~
N(0, dt), Euler-Maruyama on the step (the exp_auto step plus g sqrt(dt)
xi), xi from Philox keyed by (seed, gid, variable, step).

1. A LeakyIntegrator (tau 10 ms, no threshold) with noise g = 0.8 mV /
   sqrt(ms) is an Ornstein-Uhlenbeck process; its exp_auto discretisation
   V' = V_inf + a (V - V_inf) + g sqrt(dt) xi, a = exp(-dt/tau), has the
   stationary variance g^2 dt / (1 - a^2) (3.2321 mV^2 at dt 0.1 ms; the
   continuous OU's g^2 tau / 2 is 3.2). 1000 neurons sampled every 50 ms
   (5 tau apart) from 100 ms to 2 s give 38000 nearly independent
   samples: the sample variance must be within 4 % (about 5 standard
   errors, SE = var sqrt(2/n) = 0.73 %) and the mean within 5 SE of V_inf.
2. The same and a spiking LIF with noise are bitwise identical at 1, 2 and
   4 ranks; a different seed changes the trajectory.
3. noise of PoissonGroup, of a variable that is not a differential one,
   and a negative amplitude are refused with file:line:col."""
import os

import h5py
import numpy as np

import bstest

CFG = """run: {dt: 0.1 ms, duration: 2 s, seed: 17}
populations:
  L: {model: LeakyIntegrator, size: 1000, V_rest: -60 mV, tau: 10 ms,
      noise: {V: 0.8}, V_initializer: {Uniform: [-62 mV, -58 mV]}}
  E: {model: LIF, size: 100, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, noise: {V: 1.5}}
inputs:
  - {target: L, current: 5}
  - {target: E, current: 9}
monitors:
  - {spikes: [E]}
  - {population: L, variables: [V], every: 50 ms}
  - {population: E, variables: [V], indices: [0, 1, 2], every: 1 ms}
"""


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "noise")
    cfg = bstest.write_config(wd + "/noise.yaml", CFG)
    outs = []
    for np_ in (1, 2, 4):
        o = "%s/noise_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "-q", "--overwrite"], np=np_)
        outs.append(o)
    with h5py.File(outs[0], "r") as f:
        V = f["report/L/V/data"][()]
        nE = len(f["spikes/E/node_ids"])
    dt, tau, g, vinf = 0.1, 10.0, 0.8, -60.0 + 5.0
    a = np.exp(-dt / tau)
    var_th = g * g * dt / (1 - a * a)
    x = V[2:].reshape(-1)  # samples from 100 ms on
    n = x.size
    var = x.var(ddof=1)
    se = var_th * np.sqrt(2.0 / (n - 1))
    bstest.check(abs(var - var_th) <= 0.04 * var_th,
                 "stationary variance %.4f, analytic %.4f (+-4%%)" % (var, var_th))
    bstest.check(abs(x.mean() - vinf) <= 5 * np.sqrt(var_th / n),
                 "stationary mean %.4f, expected %.4f" % (x.mean(), vinf))
    print("OU: variance %.4f vs analytic %.4f mV^2 (%.2f SE), mean %.4f vs %.1f over %d samples"
          % (var, var_th, (var - var_th) / se, x.mean(), vinf, n))
    bstest.check(nE > 0, "the noisy LIF never spiked")
    for o in outs[1:]:
        with h5py.File(o, "r") as f, h5py.File(outs[0], "r") as r:
            for k in ("report/L/V/data", "report/E/V/data", "spikes/E/timestamps",
                      "spikes/E/node_ids"):
                bstest.check(f[k][()].tobytes() == r[k][()].tobytes(), "%s: %s differs" % (o, k))
    print("noise: LeakyIntegrator and LIF (%d spikes) identical at 1, 2, 4 ranks" % nE)
    o = wd + "/seed.h5"
    bstest.run(args, ["run", cfg, "-o", o, "-q", "--overwrite", "--set", "run.seed=18"], np=1)
    with h5py.File(o, "r") as f:
        bstest.check(not np.array_equal(f["report/L/V/data"][()][2:], V[2:]),
                     "another seed gives the same noise")
    bad = [
        ("  P: {model: PoissonGroup, size: 3, freqs: 5 Hz, noise: {V: 1}}\n", ":7:50:",
         "no differential equations"),
        ("  Q: {model: LIF, size: 3, noise: {t_last_spike: 1}}\n", ":7:36:", "not a differential variable"),
        ("  Q: {model: LIF, size: 3, noise: {V: -1}}\n", ":7:39:", "must be >= 0"),
    ]
    for extra, where, msg in bad:
        text = CFG.replace("inputs:\n", extra + "inputs:\n")
        b = bstest.write_config(wd + "/bad.yaml", text)
        q = bstest.run(args, ["run", b, "-o", wd + "/bad.h5", "-q", "--overwrite"], np=0, check=False)
        bstest.check(q.returncode != 0 and ("bad.yaml" + where) in q.stderr and msg in q.stderr,
                     "%r not refused at %s with %r: %r" % (extra.strip(), where, msg, q.stderr))
    bstest.finish("noise")


if __name__ == "__main__":
    main()

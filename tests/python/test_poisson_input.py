#!/usr/bin/env python3
"""PoissonInput (BrainPy's PoissonInput(target_var, num_input, freq, weight)).

Each step adds weight * K to every target neuron, K ~ Binomial(num_input,
p = freq dt / 1000), drawn per neuron and step (Philox keyed by seed,
input, gid, step).

1. Into the input current (target_var: input) of 400 LIF neurons over
   2500 steps (10^6 draws), with N p = 1 (num_input 200, 50 Hz) and with
   N p = 50 (5000, 100 Hz, where BrainPy 2.3.8 would switch to a normal
   approximation): the `input` monitor divided by the weight is an
   integer each step; its mean and variance are those of the binomial
   within 5 standard errors (the variance's from the binomial's fourth
   moment), the histogram passes a chi-square test against the binomial
   pmf (statistic below dof + 5 sqrt(2 dof)), and the lag-1
   autocorrelation in time and the correlation of neighbouring neurons
   are within 5 / sqrt(n) of 0.
2. Into V (target_var: V) of a LIF with tau = 10^6 ms: each sample of V
   (taken after the step's inputs, as Delta's arrivals) is the previous
   one times (1 - A) plus weight K, K a whole number; the same
   statistics for K.
3. t_start / t_end: nothing outside the window.
4. 1, 2 and 4 ranks: every report bitwise the same.
5. freq * dt above one spike per step and an unknown target_var are
   refused at their file:line:col."""
import math
import re

import h5py
import numpy as np

import bstest

DT, STEPS = 0.1, 2500

CONFIG = """run: {dt: 0.1 ms, duration: 250 ms, seed: 21}
populations:
  A: {model: LIF, size: 400, V_rest: 0, V_reset: -5, V_th: 1e9, tau: 10 ms, V_initializer: 0}
  B: {model: LIF, size: 400, V_rest: 0, V_reset: -5, V_th: 1e9, tau: 10 ms, V_initializer: 0}
  C: {model: LIF, size: 400, V_rest: 0, V_reset: -5, V_th: 1e12, tau: 1e6 ms, V_initializer: 0}
  W: {model: LIF, size: 10, V_rest: 0, V_reset: -5, V_th: 1e9, tau: 10 ms, V_initializer: 0}
inputs:
  - {target: A, PoissonInput: {num_input: 200, freq: 50 Hz, weight: 0.3}}
  - {target: B, PoissonInput: {target_var: input, num_input: 5000, freq: 100 Hz, weight: 0.02}}
  - {target: C, PoissonInput: {target_var: V, num_input: 300, freq: 20 Hz, weight: 0.5}}
  - {target: W, PoissonInput: {num_input: 1000, freq: 80 Hz, weight: 1, t_start: 100 ms, t_end: 200 ms}}
monitors:
  - {population: A, variables: [input]}
  - {population: B, variables: [input]}
  - {population: C, variables: [V]}
  - {population: W, variables: [input]}
"""


def binom_stats(name, K, N, p):
    n = K.size
    mu, var = N * p, N * p * (1 - p)
    q = 1 - p
    mu4 = var * var * (3 + (1 - 6 * p * q) / (N * p * q))
    se_mu, se_var = math.sqrt(var / n), math.sqrt((mu4 - var * var) / n)
    m, v = K.mean(), K.var()
    bstest.check(abs(m - mu) < 5 * se_mu, "%s: mean %.5g, binomial %.5g +- %.2g" % (name, m, mu, se_mu))
    bstest.check(abs(v - var) < 5 * se_var, "%s: variance %.5g, binomial %.5g +- %.2g" % (name, v, var, se_var))
    # chi-square against the pmf, bins with >= 5 expected, tails merged
    ks = np.arange(0, N + 1)
    logpmf = (np.array([math.lgamma(N + 1) - math.lgamma(k + 1) - math.lgamma(N - k + 1) for k in ks])
              + ks * math.log(p) + (N - ks) * math.log(q))
    e = n * np.exp(logpmf)
    obs = np.bincount(K.astype(np.int64).ravel(), minlength=N + 1)[:N + 1]
    keep = e >= 5
    lo, hi = np.argmax(keep), len(keep) - np.argmax(keep[::-1]) - 1
    eb = np.concatenate([[e[:lo + 1].sum()], e[lo + 1:hi], [e[hi:].sum()]])
    ob = np.concatenate([[obs[:lo + 1].sum()], obs[lo + 1:hi], [obs[hi:].sum()]])
    chi2 = float(((ob - eb) ** 2 / eb).sum())
    dof = len(eb) - 1
    bstest.check(chi2 < dof + 5 * math.sqrt(2 * dof), "%s: chi2 %.1f over %d dof" % (name, chi2, dof))
    Kc = K - K.mean()
    ac_t = float((Kc[1:] * Kc[:-1]).mean() / Kc.var())
    ac_n = float((Kc[:, 1:] * Kc[:, :-1]).mean() / Kc.var())
    lim = 5 / math.sqrt(n)
    bstest.check(abs(ac_t) < lim and abs(ac_n) < lim,
                 "%s: correlations step-to-step %.3g, neuron-to-neuron %.3g (limit %.3g)" % (name, ac_t, ac_n, lim))
    print("%s: %d draws, mean %.5g (binomial %.5g), var %.5g (%.5g), chi2 %.1f / %d dof, "
          "corr %.2g %.2g" % (name, n, m, mu, v, var, chi2, dof, ac_t, ac_n))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "poisson_input")
    cfg = bstest.write_config("%s/pi.yaml" % wd, CONFIG)
    runs = {}
    for np_ in (1, 2, 4):
        out = "%s/pi_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
        with h5py.File(out, "r") as f:
            runs[np_] = {k: f["report/%s/data" % k][()] for k in ("A/input", "B/input", "C/V", "W/input")}
    r = runs[1]
    for key, w, N, f in (("A/input", 0.3, 200, 50.0), ("B/input", 0.02, 5000, 100.0)):
        X = r[key] / w
        K = np.rint(X)
        bstest.check(np.max(np.abs(X - K)) < 1e-9, "%s: input / weight is not a whole number" % key)
        binom_stats(key, K, N, f * DT / 1000.0)
    V = r["C/V"]
    A = -math.expm1(-DT / 1e6)
    X = np.empty_like(V)
    X[0] = V[0]
    X[1:] = V[1:] - V[:-1] * (1 - A)
    X /= 0.5
    K = np.rint(X)
    bstest.check(np.max(np.abs(X - K)) < 1e-6, "C/V: the kicks are not whole multiples of the weight (%.3g)"
                 % np.max(np.abs(X - K)))
    binom_stats("C/V kicks", K, 300, 20.0 * DT / 1000.0)
    Wi = r["W/input"]
    bstest.check(np.all(Wi[:1000] == 0) and np.all(Wi[2000:] == 0) and np.all(Wi[1000:2000].sum(axis=0) > 0),
                 "W: input outside [100 ms, 200 ms) or none inside")
    for np_ in (2, 4):
        for k in r:
            bstest.check(np.array_equal(runs[np_][k], r[k]), "%s: %d ranks differ from 1 rank" % (k, np_))
    bad = [("{target: A, PoissonInput: {num_input: 10, freq: 20 kHz, weight: 1}}", 4, "freq * dt exceeds one spike"),
           ("{target: A, PoissonInput: {target_var: g, num_input: 10, freq: 20 Hz, weight: 1}}", 4,
            "target_var 'g' is not a variable inputs can add to (available: input, V)"),
           ("{target: A, target_var: V, PoissonInput: {target_var: V, num_input: 10, freq: 20 Hz, weight: 1}}", 4,
            "target_var is given twice")]
    for k, (entry, line, frag) in enumerate(bad):
        c = bstest.write_config("%s/bad%d.yaml" % (wd, k), """run: {dt: 0.1 ms, duration: 10 ms}
populations: {A: {model: LIF, size: 3}}
inputs:
  - %s
""" % entry)
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and re.search(r"bad%d\.yaml:%d:\d+: error" % (k, line), msg),
                     "bad %r: expected %r at line %d:\n%s" % (entry, frag, line, msg))
    bstest.finish("poisson_input")


if __name__ == "__main__":
    main()

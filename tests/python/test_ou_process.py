#!/usr/bin/env python3
"""ou_process (BrainPy's brainpy.inputs.ou_process(mean, sigma, tau)).

Per neuron x starts at mean and each step x += dt (mean - x) / tau +
sigma sqrt(dt) xi, xi ~ N(0, 1) (Philox keyed by seed, input, gid,
step); the step's current is the new x. Recorded through the `input`
monitor of 2000 sub-threshold LIF neurons (the OU the only input):

1. The recursion: xi recovered from consecutive samples has mean 0 and
   variance 1 within 5 standard errors, and no lag-1 correlation.
2. The transient: the variance over neurons at step k is
   s^2 (1 - a^(2k)) / (1 - a^2) (a = 1 - dt/tau, s = sigma sqrt(dt))
   within 5 standard errors at k = 10, 50, 200.
3. Stationary (k >= 1000): mean within 5 standard errors (of correlated
   samples), variance s^2 / (1 - a^2) within 3 %, the autocorrelation at
   lags 1, 10, 50 equal to a^lag within 0.02.
4. t_start / t_end: 0 outside, x starting at mean at t_start.
5. 1, 2 and 4 ranks bitwise; a run cut at 123.4 ms on 2 ranks (the
   state x is in the checkpoint) restored on 3 ranks equals one long run;
   two trials replay the same process (BrainPy's arrays).
6. tau <= 0 and t_end before t_start are refused at file:line:col."""
import math
import re
import shutil

import h5py
import numpy as np

import bstest

DT, TAU, SIGMA, MEAN = 0.1, 5.0, 0.5, 2.0

CONFIG = """run: {dt: 0.1 ms, duration: %s, seed: 4%s}
populations:
  A: {model: LIF, size: 2000, V_rest: 0, V_reset: -5, V_th: 1e9, tau: 10 ms, V_initializer: 0}
  W: {model: LIF, size: 5, V_rest: 0, V_reset: -5, V_th: 1e9, tau: 10 ms, V_initializer: 0}
inputs:
  - {target: A, ou_process: {mean: 2, sigma: 0.5, tau: 5 ms}}
  - {target: W, ou_process: {mean: -1, sigma: 1, tau: 2 ms, t_start: 20 ms, t_end: 30 ms}}
monitors:
  - {population: A, variables: [input]}
  - {population: W, variables: [input]}
"""


def read(path):
    with h5py.File(path, "r") as f:
        return f["report/A/input/data"][()], f["report/W/input/data"][()]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "ou_process")
    cfg = bstest.write_config("%s/ou.yaml" % wd, CONFIG % ("300 ms", ""))
    runs = {}
    for np_ in (1, 2, 4):
        out = "%s/ou_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
        runs[np_] = read(out)
    for np_ in (2, 4):
        for k in (0, 1):
            bstest.check(np.array_equal(runs[np_][k], runs[1][k]), "%d ranks differ from 1 rank" % np_)
    X, Wi = runs[1]
    a, s = 1 - DT / TAU, SIGMA * math.sqrt(DT)
    # 1. the recursion's increments
    xi = (X[1:] - X[:-1] - DT * (MEAN - X[:-1]) / TAU) / s
    n = xi.size
    bstest.check(abs(xi.mean()) < 5 / math.sqrt(n) and abs(xi.var() - 1) < 5 * math.sqrt(2.0 / n),
                 "increments: mean %.4g, variance %.4g over %d (expected 0, 1)" % (xi.mean(), xi.var(), n))
    c1 = float((xi[1:] * xi[:-1]).mean())
    bstest.check(abs(c1) < 5 / math.sqrt(n), "increments: lag-1 correlation %.3g" % c1)
    x0 = (X[0] - MEAN - DT * 0.0) / s  # step 0: x = mean + s xi
    bstest.check(abs(x0.mean()) < 5 / math.sqrt(x0.size) and abs(x0.var() - 1) < 5 * math.sqrt(2.0 / x0.size),
                 "step 0 is not mean + s xi: %.3g %.3g" % (x0.mean(), x0.var()))
    print("increments: mean %.3g, var %.4f, lag-1 %.3g over %d" % (xi.mean(), xi.var(), c1, n))
    # 2. the transient variance over neurons (row k is after k + 1 updates)
    for k in (10, 50, 200):
        v = s * s * (1 - a ** (2 * (k + 1))) / (1 - a * a)
        got = X[k].var()
        se = v * math.sqrt(2.0 / X.shape[1])
        bstest.check(abs(got - v) < 5 * se, "transient: var at step %d %.5g, expected %.5g +- %.2g" % (k, got, v, se))
    # 3. stationary
    S = X[1000:]
    v = s * s / (1 - a * a)
    neff = S.size * (1 - a) / (1 + a)
    bstest.check(abs(S.mean() - MEAN) < 5 * math.sqrt(v / neff),
                 "stationary mean %.5g, expected %g +- %.2g" % (S.mean(), MEAN, math.sqrt(v / neff)))
    bstest.check(abs(S.var() / v - 1) < 0.03, "stationary variance %.5g, expected %.5g" % (S.var(), v))
    Sc = S - S.mean()
    for lag in (1, 10, 50):
        r = float((Sc[lag:] * Sc[:-lag]).mean() / Sc.var())
        bstest.check(abs(r - a ** lag) < 0.02, "autocorrelation at lag %d: %.4f, expected %.4f" % (lag, r, a ** lag))
        print("lag %d: autocorrelation %.4f (a^lag %.4f)" % (lag, r, a ** lag))
    print("stationary: mean %.4f (%g), variance %.5f (%.5f)" % (S.mean(), MEAN, S.var(), v))
    # 4. the window
    bstest.check(np.all(Wi[:200] == 0) and np.all(Wi[300:] == 0) and np.all(Wi[200:300] != 0),
                 "t_start/t_end: input outside [20 ms, 30 ms) or none inside")
    sw = 1.0 * math.sqrt(DT)
    z = (Wi[200] - (-1.0)) / sw
    bstest.check(np.all(np.abs(z) < 6), "t_start: the first value is not mean + s xi")
    # 5. restore onto 3 ranks, and trials
    long_out = "%s/long.h5" % wd
    bstest.run(args, ["run", cfg, "-o", long_out, "--overwrite", "-q", "--set", "run.duration=400 ms"], np=1)
    cut, ck = "%s/cut.h5" % wd, "%s/cut_ck" % wd
    shutil.rmtree(ck, ignore_errors=True)
    bstest.run(args, ["run", cfg, "-o", cut, "--overwrite", "-q", "--set", "run.duration=123.4 ms",
                      "--checkpoint-dir", ck], np=2)
    bstest.run(args, ["run", cfg, "--restore", ck + "/ckpt.h5", "-o", cut, "-q",
                      "--set", "run.duration=400 ms"], np=3)
    A1, B1 = read(long_out)
    A2, B2 = read(cut)
    bstest.check(np.array_equal(A1, A2) and np.array_equal(B1, B2), "restored at 123.4 ms: differs from one long run")
    trials = bstest.write_config("%s/ou_trials.yaml" % wd, CONFIG % ("50 ms", ", trials: 2"))
    tr = "%s/trials.h5" % wd
    bstest.run(args, ["run", trials, "-o", tr, "--overwrite", "-q"], np=2)
    At, _ = read(tr)
    bstest.check(np.array_equal(At[:500], At[500:]) and np.array_equal(At[:500], X[:500]),
                 "trials: the second trial does not replay the process")
    bad = [("{target: A, ou_process: {mean: 0, sigma: 1, tau: 0 ms}}", "parameter 'tau' = 0 is out of range"),
           ("{target: A, ou_process: {mean: 0, sigma: 1, tau: 1 ms, t_start: 5 ms, t_end: 2 ms}}",
            "t_end must be after t_start")]
    for k, (entry, frag) in enumerate(bad):
        c = bstest.write_config("%s/bad%d.yaml" % (wd, k), """run: {dt: 0.1 ms, duration: 10 ms}
populations: {A: {model: LIF, size: 3}}
inputs:
  - %s
""" % entry)
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and re.search(r"bad%d\.yaml:4:\d+: error" % k, msg),
                     "bad %r: expected %r at line 4:\n%s" % (entry, frag, msg))
    bstest.finish("ou_process")


if __name__ == "__main__":
    main()

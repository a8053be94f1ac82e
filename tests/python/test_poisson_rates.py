#!/usr/bin/env python3
"""PoissonGroup with per-neuron and time-varying rates.

Each step a neuron spikes with probability freqs dt / 1000, so its spike
count over T steps is Binomial(T, p).

1. A list of rates (0 to 1 kHz, 6 neurons, 4 10^4 steps): each neuron's
   count within 5 standard deviations of T p (0 Hz: no spike); the same
   rates from an HDF5 dataset give bitwise the same spikes.
2. An initializer (Uniform 10-50 Hz, 1000 neurons): the mean rate is 30
   Hz within 5 standard errors, and the spread of the counts over neurons
   is that of a uniform mixture of binomials (var = E[T p q] + T^2
   Var(p)) within 15 %, far above a single binomial's.
3. The section form {values: [20, 200, 5] Hz, durations: [300, 200,
   500] ms} on 1000 neurons over 4 s: the count of each section (and of
   the last 3 s, where the last value holds) within 5 standard
   deviations of the binomial, and the rate changes at the exact steps.
4. 1, 2 and 4 ranks bitwise; a run cut at 400 ms (inside a section) on 2
   ranks and restored on 3 equals one long run.
5. Refusals at file:line:col: a section value above one spike per step,
   the section form on parameters that cannot vary in time, durations
   that do not match the values."""
import math
import re
import shutil

import h5py
import numpy as np

import bstest

DT = 0.1
RATES = [0.0, 1.0, 7.5, 50.0, 200.0, 1000.0]

CONFIG = """run: {dt: 0.1 ms, duration: %(dur)s, seed: 17}
populations:
  L: {model: PoissonGroup, size: 6, freqs: %(list)s}
  U: {model: PoissonGroup, size: 1000, freqs: {Uniform: [10 Hz, 50 Hz]}}
  S: {model: PoissonGroup, size: 1000, freqs: {values: [20 Hz, 200 Hz, 5 Hz], durations: [300 ms, 200 ms, 500 ms]}}
monitors:
  - {spikes: all}
"""


def counts(ids, n):
    return np.bincount(ids.astype(np.int64), minlength=n)


def read(path):
    with h5py.File(path, "r") as f:
        return {p: (f["spikes/%s/timestamps" % p][()], f["spikes/%s/node_ids" % p][()]) for p in "LUS"}


def same(a, b):
    return all(np.array_equal(a[p][k], b[p][k]) for p in a for k in (0, 1))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "poisson_rates")
    lst = "[%s]" % ", ".join("%g Hz" % r for r in RATES)
    cfg = bstest.write_config("%s/pr.yaml" % wd, CONFIG % {"dur": "4 s", "list": lst})
    runs = {}
    for np_ in (1, 2, 4):
        out = "%s/pr_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
        runs[np_] = read(out)
    for np_ in (2, 4):
        bstest.check(same(runs[np_], runs[1]), "%d ranks differ from 1 rank" % np_)
    r = runs[1]
    T = 40000
    c = counts(r["L"][1], 6)
    for i, f in enumerate(RATES):
        p = f * DT / 1000.0
        sd = math.sqrt(T * p * (1 - p))
        bstest.check(abs(c[i] - T * p) <= 5 * sd, "list: neuron %d (%g Hz): %d spikes, expected %.1f +- %.1f"
                     % (i, f, c[i], T * p, sd))
    print("list: counts %s for %s Hz" % (list(c), RATES))
    # the same rates from a dataset
    with h5py.File("%s/rates.h5" % wd, "w") as f:
        f["/freqs"] = np.array(RATES)
    cfg_ds = bstest.write_config("%s/pr_ds.yaml" % wd, CONFIG % {"dur": "4 s",
                                                                "list": "{file: rates.h5, dataset: /freqs}"})
    out = "%s/pr_ds.h5" % wd
    bstest.run(args, ["run", cfg_ds, "-o", out, "--overwrite", "-q"], np=2)
    bstest.check(same(read(out), r), "dataset rates: spikes differ from the listed rates")
    # the initializer: a uniform mixture of binomials
    c = counts(r["U"][1], 1000)
    ps = np.array([10.0, 50.0]) * DT / 1000.0
    Ep, Vp = ps.mean(), (ps[1] - ps[0]) ** 2 / 12
    Epq = Ep - (Vp + Ep * Ep)
    mean, var = T * Ep, T * Epq + T * T * Vp
    se = math.sqrt(var / 1000)
    bstest.check(abs(c.mean() - mean) < 5 * se, "Uniform: mean count %.1f, expected %.1f +- %.1f" % (c.mean(), mean, se))
    bstest.check(abs(c.var() / var - 1) < 0.15, "Uniform: count variance %.0f, expected %.0f (one binomial: %.0f)"
                 % (c.var(), var, T * Ep * (1 - Ep)))
    print("Uniform: mean count %.1f (%.1f), variance %.0f (%.0f)" % (c.mean(), mean, c.var(), var))
    # the section form; 4 s: the last section's 5 Hz holds after 1 s
    t = r["S"][0]
    for lo, hi, f in ((0, 300, 20.0), (300, 500, 200.0), (500, 1000, 5.0), (1000, 4000, 5.0)):
        n = int(round((hi - lo) / DT))
        k = int(((t >= lo - 1e-9) & (t < hi - 1e-9)).sum())
        p = f * DT / 1000.0
        sd = math.sqrt(1000 * n * p * (1 - p))
        bstest.check(abs(k - 1000 * n * p) <= 5 * sd, "sections: [%g, %g) ms: %d spikes, expected %.0f +- %.0f"
                     % (lo, hi, k, 1000 * n * p, sd))
    steps = np.rint(t / DT).astype(np.int64)
    per = np.bincount(steps, minlength=40000)
    bstest.check(per[2990:3000].sum() < 45 and per[3000:3010].sum() > 130 and per[4990:5000].sum() > 130
                 and per[5000:5010].sum() < 17,
                 "sections: the rate does not change at steps 3000 and 5000: %s %s %s %s"
                 % (per[2990:3000].sum(), per[3000:3010].sum(), per[4990:5000].sum(), per[5000:5010].sum()))
    # restore inside a section onto another rank count
    cfg12 = bstest.write_config("%s/pr12.yaml" % wd, CONFIG % {"dur": "1200 ms", "list": lst})
    long_out = "%s/long.h5" % wd
    bstest.run(args, ["run", cfg12, "-o", long_out, "--overwrite", "-q"], np=1)
    cut, ck = "%s/cut.h5" % wd, "%s/cut_ck" % wd
    shutil.rmtree(ck, ignore_errors=True)
    bstest.run(args, ["run", cfg12, "-o", cut, "--overwrite", "-q", "--set", "run.duration=400 ms",
                      "--checkpoint-dir", ck], np=2)
    bstest.run(args, ["run", cfg12, "--restore", ck + "/ckpt.h5", "-o", cut, "-q"], np=3)
    bstest.check(same(read(cut), read(long_out)), "restored at 400 ms: spikes differ from one long run")
    bad = [("P: {model: PoissonGroup, size: 3, freqs: {values: [10 Hz, 20 kHz], durations: [5 ms, 5 ms]}}",
            3, "freqs * dt exceeds one spike per step"),
           ("P: {model: LIF, size: 3, tau: {values: [10 ms, 20 ms], durations: [5 ms, 5 ms]}}",
            3, "the section form {values, durations} is not available for this parameter"),
           ("P: {model: PoissonGroup, size: 2, freqs: {values: [10 Hz], durations: [5 ms, 5 ms]}}",
            3, "durations: expected a list of 1 times"),
           ("P: {model: LIF, size: 2, tau_ref: {values: [1 ms], durations: [5 ms]}}",
            3, "not available for this parameter"),
           ("P: {model: PoissonGroup, size: 2, freqs: {values: [[1 Hz, 2 Hz], 5 Hz], durations: [5 ms, 5 ms]}}",
            3, "values[0]: a section holds one value for the whole population, got a list"),
           ("P: {model: PoissonGroup, size: 2, freqs: {values: [5 Hz, {Uniform: [1 Hz, 2 Hz]}], durations: [5 ms, 5 ms]}}",
            3, "values[1]: a section holds one value for the whole population, got a mapping")]
    for k, (pop, line, frag) in enumerate(bad):
        c = bstest.write_config("%s/bad%d.yaml" % (wd, k), "run: {dt: 0.1 ms, duration: 10 ms}\npopulations:\n  %s\n" % pop)
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and re.search(r"bad%d\.yaml:%d:\d+: error" % (k, line), msg),
                     "bad %r: expected %r at line %d:\n%s" % (pop, frag, line, msg))
    bstest.finish("poisson_rates")


if __name__ == "__main__":
    main()

"""Initializers LogNormal and TruncatedNormal (issue 4), per synapse for
g_max and delay and per neuron for a population's initial state.

g_max: a pre neuron spiking once in step 0 reaches N post neurons through
One2One Delta synapses, so each post V (resting at 0) jumps by exactly its
synapse's weight; the delays (drawn too) give the step of the jump. Checks:
every value inside the truncation bounds; sample mean and variance within 4
standard errors of the distribution's (truncated normal: the closed-form
moments; lognormal: those of log w); the same draws at 1 and 2 ranks
(bitwise). Keyword forms (BrainPy's mean/scale/lower/upper, low/high) are
checked to give the same draws as the list forms. Bad bounds are refused."""
import math

import h5py
import numpy as np

import bstest

N = 4000


def tn_moments(mu, s, lo, hi):
    a, b = (lo - mu) / s, (hi - mu) / s
    phi = lambda z: math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    Phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))
    Z = Phi(b) - Phi(a)
    m = mu + s * (phi(a) - phi(b)) / Z
    v = s * s * (1 + (a * phi(a) - b * phi(b)) / Z - ((phi(a) - phi(b)) / Z) ** 2)
    return m, v


def moments_ok(x, m, v, what):
    n = len(x)
    se_m = math.sqrt(v / n)
    # SE of the sample variance ~ v sqrt(2/(n-1)) (normal-like tails)
    se_v = v * math.sqrt(2.0 / (n - 1)) * 1.5
    ok = abs(x.mean() - m) <= 4 * se_m and abs(x.var(ddof=1) - v) <= 4 * se_v
    bstest.check(ok, "%s: mean %.5g (expected %.5g +- %.2g), variance %.5g (expected %.5g +- %.2g)"
                 % (what, x.mean(), m, 4 * se_m, x.var(ddof=1), v, 4 * se_v))


def run(args, wd, name, gmax, delay, np_):
    cfg = bstest.write_config("%s/%s.yaml" % (wd, name), """
run: {dt: 0.1 ms, duration: 8 ms, seed: 11}
populations:
  pre: {model: LIF, size: %d, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 100 ms}
  post: {model: LIF, size: %d, V_th: 1e9, V_rest: 0, V_reset: 0, tau: 1e6 ms}
projections:
  s: {pre: pre, post: post, synapse: Delta, g_max: %s, delay: %s, connect: One2One}
inputs: [{target: pre, current: 100000}]
monitors:
  - {population: post, variables: [V]}
""" % (N, N, gmax, delay))
    o = "%s/%s_np%d.h5" % (wd, name, np_)
    bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
    with h5py.File(o, "r") as f:
        V = f["report/post/V/data"][()]
    first = np.argmax(V != 0.0, axis=0)  # sample of the jump = 1 + delay steps
    bstest.check(np.all(V[first, np.arange(N)] != 0.0), "%s: some post never received its spike" % name)
    w = V[first, np.arange(N)]
    return w, first - 1


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "initializers")
    mu, s, lo, hi = 0.5, 0.3, 0.2, 1.2
    res = {}
    for np_ in (1, 2):
        res[np_] = run(args, wd, "tn", "{TruncatedNormal: [%g, %g, %g, %g]}" % (mu, s, lo, hi),
                       "{TruncatedNormal: [1 ms, 0.5 ms, 0.3 ms, 2 ms]}", np_)
    w, d = res[1]
    bstest.check(np.array_equal(res[1][0], res[2][0]) and np.array_equal(res[1][1], res[2][1]),
                 "TruncatedNormal draws differ between 1 and 2 ranks")
    bstest.check(w.min() >= lo and w.max() <= hi, "weights outside [%g, %g]: %g .. %g" % (lo, hi, w.min(), w.max()))
    moments_ok(w, *tn_moments(mu, s, lo, hi), what="TruncatedNormal g_max")
    bstest.check(d.min() >= 3 and d.max() <= 20, "TruncatedNormal delays (steps) %d .. %d outside [3, 20]" % (d.min(), d.max()))
    print("TruncatedNormal(%g, %g, [%g, %g]): %d weights in bounds, mean %.4f var %.5f; delays %d..%d steps; "
          "1 == 2 ranks" % (mu, s, lo, hi, N, w.mean(), w.var(ddof=1), d.min(), d.max()))
    wk, dk = run(args, wd, "tn_kw", "{TruncatedNormal: {mean: %g, scale: %g, lower: %g, high: %g}}" % (mu, s, lo, hi),
                 "{TruncatedNormal: {mean: 1 ms, scale: 0.5 ms, low: 0.3 ms, upper: 2 ms}}", 1)
    bstest.check(np.array_equal(wk, w) and np.array_equal(dk, d), "keyword form draws differ from the list form")
    # one-sided: lower bound only (upper null)
    w1, _ = run(args, wd, "tn_half", "{TruncatedNormal: {mean: 0, scale: 1, lower: 0}}", "0 ms", 1)
    bstest.check(w1.min() >= 0, "half-normal below 0")
    moments_ok(w1, math.sqrt(2 / math.pi), 1 - 2 / math.pi, "half-normal g_max")

    lm, ls = -1.0, 0.4
    for np_ in (1, 2):
        res[np_] = run(args, wd, "ln", "{LogNormal: [%g, %g]}" % (lm, ls), "{LogNormal: {mean: 0.0, scale: 0.3}}", np_)
    w, d = res[1]
    bstest.check(np.array_equal(res[1][0], res[2][0]) and np.array_equal(res[1][1], res[2][1]),
                 "LogNormal draws differ between 1 and 2 ranks")
    bstest.check(w.min() > 0, "LogNormal weight <= 0")
    moments_ok(np.log(w), lm, ls * ls, "log of LogNormal g_max")
    # delay: exp(N(0, 0.3)) ms = 10 exp(N) steps, rounded
    bstest.check(abs(np.median(d) - 10) <= 1, "LogNormal delay median %g steps, expected ~10" % np.median(d))
    print("LogNormal(%g, %g): log w mean %.4f sd %.4f; delay median %g steps; 1 == 2 ranks"
          % (lm, ls, np.log(w).mean(), np.log(w).std(), np.median(d)))

    # bad bounds
    for text, msg in (("{TruncatedNormal: [0, 1, 2, 1]}", "lower < upper"),
                      ("{TruncatedNormal: [0, 1, 6, 7]}", "of the mass"),
                      ("{LogNormal: [0, -1]}", "scale must be >= 0"),
                      ("{TruncatedNormal: {mean: 0, scale: 1, top: 3}}", "unknown key 'top'")):
        cfg = bstest.write_config("%s/bad.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms}
populations:
  a: {model: LIF, size: 2}
projections:
  s: {pre: a, post: a, g_max: %s, connect: All2All}
""" % text)
        p = bstest.run(args, ["check", cfg], np=0, check=False)
        bstest.check(p.returncode != 0 and msg in p.stderr and "bad.yaml:6" in p.stderr,
                     "%s: expected a refusal at line 6 with '%s', got %d: %s" % (text, msg, p.returncode, p.stderr))
    bstest.finish("initializers")


if __name__ == "__main__":
    main()

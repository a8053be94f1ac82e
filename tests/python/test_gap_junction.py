"""GapJunction (BrainPy GapJunction): for each connected pair (i, j) with
weight w, diff = (V_pre_i - V_post_j) w; post.input += diff and pre.input
-= diff, with V of the previous step, before the neurons integrate.

1. Discrete reference: passive neurons (LIF below threshold and
   LeakyIntegrator, two populations) in a chain of junctions within and
   across populations, in both directions, with a duplicated pair; one end
   driven by a constant current. Every V sample equals an independent numpy
   iteration of the same update (exp_auto step of the membrane with the
   gap current frozen over the step, as BrainPy does) to 1e-12 relative,
   at 1, 2 and 3 ranks (so junction ends sit on different ranks).
2. Analytic solution of the continuous linear system (eigen decomposition):
   the trace converges to it at first order in dt (the gap current is
   frozen over a step): error at dt = 0.1 ms below 2% of the V range, and
   at dt = 0.025 ms at least 3x smaller; the steady state matches the
   linear system's fixed point to 1e-9.
3. Networks with gap junctions exchange every step (/meta
   exchange_interval_steps = 1); the same network without them keeps
   D = 1 + smallest delay (6 steps), so no per-step exchange happens.
4. Checkpoint/restart: tests/configs/gap_net.yaml checkpointed at 2 ranks
   and continued from the 100 ms checkpoint at 3 ranks gives output
   identical to the uninterrupted 1-rank run.
5. A GapJunction with output, stp or delay, or from a population without a
   membrane potential, is refused with the config line."""
import math
import os
import subprocess

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(HERE, "..", "configs", "gap_net.yaml")

# Populations: a = LIF (V_rest 0, R 1, tau 10), b = LeakyIntegrator
# (V_rest -5, R 2, tau 5); flat index: a0 a1 a2 b0 b1.
TAU = np.array([10.0, 10.0, 10.0, 5.0, 5.0])
VR = np.array([0.0, 0.0, 0.0, -5.0, -5.0])
R = np.array([1.0, 1.0, 1.0, 2.0, 2.0])
IEXT = np.array([10.0, 10.0, 0.0, 0.0, 0.0])
# (pre flat index, post flat index, w), in the config's projections.
JUNCTIONS = [(0, 1, 0.3), (1, 2, 0.3),                 # aa
             (2, 3, 0.5), (0, 4, 0.5), (0, 4, 0.5),    # ab (a duplicate)
             (4, 1, 0.2)]                              # ba: b is the pre end
CHAIN = """
run: {dt: %g ms, duration: 300 ms, seed: 5}
populations:
  a: {model: LIF, size: 3, V_th: 1000, V_rest: 0, V_reset: 0, tau: 10 ms,
      V_initializer: {Uniform: [-5 mV, 5 mV]}}
  b: {model: LeakyIntegrator, size: 2, V_rest: -5 mV, R: 2, tau: 5 ms,
      V_initializer: {Uniform: [-10 mV, 0 mV]}}
projections:
  aa: {pre: a, post: a, synapse: GapJunction, g_max: 0.3, connect: {IJ: {i: [0, 1], j: [1, 2]}}}
  ab: {pre: a, post: b, synapse: GapJunction, g_max: 0.5, connect: {IJ: [[2, 0], [0, 1], [0, 1]]}}
  ba: {pre: b, post: a, synapse: GapJunction, g_max: 0.2, connect: {IJ: [[1, 1]]}}
inputs: [{target: a, range: [0, 2], current: 10}]
monitors:
  - {population: a, variables: [V]}
  - {population: b, variables: [V]}
"""


def run_chain(args, wd, dt, np_):
    cfg = bstest.write_config("%s/chain_dt%g.yaml" % (wd, dt), CHAIN % dt)
    out = "%s/chain_dt%g_np%d.h5" % (wd, dt, np_)
    bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
    with h5py.File(out, "r") as f:
        V = np.hstack([f["report/a/V/data"][()], f["report/b/V/data"][()]])
        D = int(f["meta"].attrs["exchange_interval_steps"])
    return V, D


def discrete(V0, dt, n):
    """The update brainsim and BrainPy do: gap currents from V of the
    previous step, then each membrane's exact step with I frozen."""
    A = -np.expm1(-dt / TAU)
    V = V0.copy()
    out = [V.copy()]
    for _ in range(n - 1):
        I = IEXT.copy()
        for i, j, w in JUNCTIONS:
            d = (V[i] - V[j]) * w
            I[j] += d
            I[i] -= d
        V = V + A * (VR + R * I - V)
        out.append(V.copy())
    return np.array(out)


def linear_system():
    C = np.zeros((5, 5))
    for i, j, w in JUNCTIONS:
        C[i, j] += w
        C[j, i] += w
    L = C - np.diag(C.sum(axis=1))  # I_gap = L V
    M = (-np.eye(5) + R[:, None] * L) / TAU[:, None]
    c = (VR + R * IEXT) / TAU
    return M, c


def analytic(V0, t):
    M, c = linear_system()
    Vs = np.linalg.solve(M, -c)
    lam, Q = np.linalg.eig(M)
    coef = np.linalg.solve(Q, V0 - Vs)
    X = (Q[None, :, :] * (coef[None, None, :] * np.exp(lam[None, None, :] * t[:, None, None]))).sum(axis=2)
    return Vs[None, :] + X.real, Vs


def discrete_and_analytic(args, wd):
    errs = {}
    for dt in (0.1, 0.025):
        ref = None
        for np_ in ((1, 2, 3) if dt == 0.1 else (1,)):
            V, D = run_chain(args, wd, dt, np_)
            bstest.check(D == 1, "dt %g np %d: exchange interval %d, expected 1 with gap junctions" % (dt, np_, D))
            exp = discrete(V[0], dt, V.shape[0])
            err = np.max(np.abs(V - exp)) / np.max(np.abs(exp))
            bstest.check(err <= 1e-12, "dt %g np %d: V differs from the discrete update by %.3g (relative)"
                         % (dt, np_, err))
            if ref is None:
                ref = V
            else:
                bstest.check(ref.tobytes() == V.tobytes(), "dt %g: %d ranks not bitwise equal to 1 rank" % (dt, np_))
        t = np.arange(ref.shape[0]) * dt
        an, Vs = analytic(ref[0], t)
        span = np.max(an) - np.min(an)
        errs[dt] = np.max(np.abs(ref - an)) / span
        ss = np.max(np.abs(ref[-1] - Vs)) / np.max(np.abs(Vs))
        bstest.check(ss <= 1e-9, "dt %g: final V %s vs fixed point %s (%.3g)" % (dt, ref[-1], Vs, ss))
        print("dt %g ms: matches the discrete update to 1e-12 (1, 2, 3 ranks where run); "
              "analytic error %.3g of the V range; steady state %s" % (dt, errs[dt], np.round(Vs, 4)))
    bstest.check(errs[0.1] < 0.02, "dt 0.1: error against the analytic solution %.3g >= 2%%" % errs[0.1])
    bstest.check(errs[0.025] * 3 < errs[0.1], "no first-order convergence: error %.3g at dt 0.1, %.3g at 0.025"
                 % (errs[0.1], errs[0.025]))
    # The coupling matters: uncoupled, the fixed point would be V_rest + R I_ext.
    bstest.check(np.max(np.abs(Vs - (VR + R * IEXT))) > 1.0, "the gap junctions hardly move the fixed point")


def identical(a, b):
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "compare_runs.py"), a, b],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
    return p.returncode == 0


def interval(path):
    with h5py.File(path, "r") as f:
        return int(f["meta"].attrs["exchange_interval_steps"])


def exchange_interval(args, wd):
    text = open(NET).read()
    cut = text.index("  IIgap:")
    nogap = bstest.write_config(wd + "/nogap.yaml", text[:cut] + text[text.index("inputs:"):])
    bstest.check("synapse: GapJunction" not in open(nogap).read(), "nogap.yaml still has gap junctions")
    out = wd + "/nogap.h5"
    # not overlapped (run.overlap would halve it at 2 ranks: test_exchange)
    bstest.run(args, ["run", nogap, "-o", out, "--overwrite", "-q",
                      "--set", "run.overlap=false"], np=2)
    D = interval(out)
    bstest.check(D == 6, "network without gap junctions: exchange interval %d, expected 6 (1 + 0.5 ms / 0.1 ms)" % D)
    print("without gap junctions the exchange interval stays %d steps" % D)


def restart(args, wd):
    ref, out = wd + "/net_ref.h5", wd + "/net_ck.h5"
    bstest.run(args, ["run", NET, "-o", ref, "--overwrite", "-q"], np=1)
    bstest.check(interval(ref) == 1, "gap_net: exchange interval %d, expected 1" % interval(ref))
    p = bstest.run(args, ["run", NET, "-o", out, "--overwrite", "-q", "--checkpoint-every", "100ms",
                          "--checkpoint-dir", wd + "/ck"], np=2)
    bstest.check("checkpoint at t = 100.0 ms" in p.stdout, "no checkpoint at 100 ms:\n" + p.stdout)
    bstest.run(args, ["run", NET, "--restore", wd + "/ck/ckpt.h5", "-q"], np=3)
    bstest.check(identical(ref, out), "restart at 3 ranks from the 100 ms checkpoint differs "
                 "from the uninterrupted run")
    print("gap network: checkpoint at 2 ranks, restart at 3 ranks: identical to 1 rank")


BAD = [("output: COBA", "takes no output"), ("delay: 1 ms", "takes no delay"),
       ("delay_step: 2", "takes no delay_step"), ("stp: STD", "takes no stp")]


def refusals(args, wd):
    for k, (extra, msg) in enumerate(BAD + [(None, "has none")]):
        pre = "p" if extra is None else "a"
        cfg = bstest.write_config("%s/gap_bad_%d.yaml" % (wd, k), """run: {dt: 0.1 ms, duration: 1 ms}
populations:
  a: {model: LIF, size: 2}
  p: {model: PoissonGroup, size: 2, freqs: 10 Hz}
projections:
  g: {pre: %s, post: a, synapse: GapJunction, %sconnect: All2All}
""" % (pre, extra + ", " if extra else ""))
        p = bstest.run(args, ["check", cfg], np=0, check=False)
        where = "gap_bad_%d.yaml:6:" % k
        bstest.check(p.returncode != 0 and msg in p.stderr and where in p.stderr,
                     "case %r: expected '%s' at %s, got %d: %s" % (extra, msg, where, p.returncode, p.stderr))
    print("GapJunction with output, delay, delay_step, stp or a pre without V: refused at line 6")


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "gap_junction")
    discrete_and_analytic(args, wd)
    exchange_interval(args, wd)
    restart(args, wd)
    refusals(args, wd)
    bstest.finish("gap_junction")


if __name__ == "__main__":
    main()

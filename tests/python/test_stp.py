"""Short-term plasticity (issue 4): STD and STP (Tsodyks-Markram) on
projections, including sparse ones (BrainPy ignores stp there).

1. Efficacy sequence. Pre neurons fire regular trains (LIF driven over
   threshold in one step, silenced by tau_ref); each projects through an
   Exponential synapse with a tiny tau, so the jump of g in the arrival step
   m is w * efficacy: eff = (g[m] - g[m-1] e^(-dt/tau)) / w. The expected
   sequence is the Tsodyks-Markram recursion computed here from the
   recorded spike steps (rest u = 0, x = 1; between spikes x relaxes to 1
   with tau_d, u to 0 with tau_f, exactly; at a spike STP: u+ = u + U(1-u),
   eff = u+ x, x -= u+ x; STD: eff = x, x -= U x). Tolerance 1e-12.
   One projection is One2One, one FixedProb (sparse, random): every post
   neuron connected to the single pre sees w * eff, the others nothing.
2. Rank invariance of tests/configs/stp_net.yaml (STD and STP on FixedProb
   and FixedPreNum, drawn weights and delays, Exponential, DualExpCOBA and
   Delta synapses) is its own CTest (invariance_stp); here:
3. Checkpoint/restart: the network checkpointed every 100 ms at 2 ranks and
   continued from the 200 ms checkpoint at 3 ranks gives output identical
   to the uninterrupted 1-rank run (the STP state is in the checkpoint: a
   restart without it would differ)."""
import math
import os
import subprocess

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(HERE, "..", "configs", "stp_net.yaml")
DT, TAU = 0.1, 0.05


def tm(kind, p, steps):
    u, x, last, eff = 0.0, 1.0, 0, []
    for s in steps:
        gap = (s - last) * DT
        x = 1.0 + (x - 1.0) * math.exp(-gap / p["tau_d"])
        if kind == "STD":
            eff.append(x)
            x -= p["U"] * x
        else:
            u = u * math.exp(-gap / p["tau_f"])
            u = u + p["U"] * (1.0 - u)
            eff.append(u * x)
            x -= u * x
        last = s
    return np.array(eff)


def efficacy(args, wd):
    cases = [
        ("STD", {"U": 0.3, "tau_d": 100.0}, "{STD: {tau: 100 ms, U: 0.3}}"),
        ("STD", {"U": 0.07, "tau_d": 200.0}, "STD"),
        ("STP", {"U": 0.15, "tau_f": 1500.0, "tau_d": 200.0}, "STP"),
        ("STP", {"U": 0.1, "tau_f": 300.0, "tau_d": 50.0},
         "{STP: {U: 0.1, tau_f: 300 ms, tau_d: 50 ms}}"),
    ]
    w = 2.0
    decay = math.exp(-DT / TAU)
    for c, (kind, p, text) in enumerate(cases):
        cfg = bstest.write_config("%s/eff_%d.yaml" % (wd, c), """
run: {dt: %g ms, duration: 400 ms, seed: 5}
populations:
  fast: {model: LIF, size: 2, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 9.95 ms}
  slow: {model: LIF, size: 1, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 39.95 ms}
  post: {model: LIF, size: 2, V_th: 1e9}
  many: {model: LIF, size: 40, V_th: 1e9}
projections:
  a: {pre: fast, post: post, synapse: Exponential, tau: %g ms, g_max: %g,
      delay_step: 3, stp: %s, connect: One2One}
  b: {pre: slow, post: many, synapse: Exponential, tau: %g ms, g_max: %g,
      delay: {Uniform: [0 ms, 1 ms]}, stp: %s, connect: {FixedProb: {prob: 0.5}}}
inputs: [{target: fast, current: 100000}, {target: slow, current: 100000}]
monitors:
  - {spikes: [fast, slow]}
  - {projection: a, variables: [g]}
  - {projection: b, variables: [g]}
""" % (DT, TAU, w, text, TAU, w, text))
        for np_ in (1, 2):
            o = "%s/eff_%d_np%d.h5" % (wd, c, np_)
            bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
            with h5py.File(o, "r") as f:
                ts = {k: f["spikes/%s/timestamps" % k][()] for k in ("fast", "slow")}
                ids = {k: f["spikes/%s/node_ids" % k][()] for k in ("fast", "slow")}
                ga = f["report/a/g/data"][()]
                gb = f["report/b/g/data"][()]
            # projection a: One2One, delay 3 steps
            for i in range(2):
                steps = np.rint(ts["fast"][ids["fast"] == i] / DT).astype(int)
                bstest.check(len(steps) >= 30, "case %d: only %d spikes of fast %d" % (c, len(steps), i))
                exp = tm(kind, p, steps)
                arr = steps + 1 + 3
                arr = arr[arr < ga.shape[0]]
                got = (ga[arr, i] - ga[arr - 1, i] * decay) / w
                err = np.max(np.abs(got - exp[:len(arr)]))
                bstest.check(err <= 1e-12, "case %d np %d One2One pre %d: efficacy off by %.3g\n got %s\n exp %s"
                             % (c, np_, i, err, got[:6], exp[:6]))
            # projection b: FixedProb from one pre, drawn delays in [0, 10] steps
            steps = np.rint(ts["slow"] / DT).astype(int)
            exp = tm(kind, p, steps)
            jumps = gb[1:] - gb[:-1] * decay
            connected = 0
            for col in range(gb.shape[1]):
                nz = np.nonzero(np.abs(jumps[:, col]) > 1e-9)[0] + 1
                if len(nz) == 0:
                    continue
                connected += 1
                d = nz[0] - 1 - steps[0]
                bstest.check(0 <= d <= 10, "case %d post %d: delay %d steps" % (c, col, d))
                got = jumps[nz - 1, col] / w
                n = min(len(got), len(exp))
                bstest.check(len(nz) == np.sum(steps + 1 + d < gb.shape[0]),
                             "case %d post %d: %d arrivals for %d spikes" % (c, col, len(nz), len(steps)))
                err = np.max(np.abs(got[:n] - exp[:n]))
                bstest.check(err <= 1e-12, "case %d np %d FixedProb post %d: efficacy off by %.3g" % (c, np_, col, err))
            bstest.check(5 < connected < 35, "case %d: %d of 40 posts connected" % (c, connected))
        e = tm(kind, p, np.rint(ts["fast"][ids["fast"] == 0] / DT).astype(int))
        print("case %d %s %s: efficacy matches the recursion to 1e-12 on One2One and FixedProb "
              "(1 and 2 ranks); first efficacies %s" % (c, kind, p, np.round(e[:4], 4)))


def identical(a, b):
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "compare_runs.py"), a, b],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
    return p.returncode == 0


def restart(args, wd):
    ref, out = wd + "/net_ref.h5", wd + "/net_ck.h5"
    bstest.run(args, ["run", NET, "-o", ref, "--overwrite", "-q"], np=1)
    p = bstest.run(args, ["run", NET, "-o", out, "--overwrite", "-q", "--checkpoint-every", "100ms",
                          "--checkpoint-dir", wd + "/ck"], np=2)
    bstest.check("checkpoint at t = 200.0 ms" in p.stdout, "no checkpoint at 200 ms:\n" + p.stdout)
    with h5py.File(wd + "/ck/ckpt.h5", "r") as f:
        st = f["state/projections/EE/stp"][()]
        bstest.check(st.shape == (3, 307) and np.any(st[1] < 1.0),
                     "checkpoint STP state of EE: shape %s, x min %s" % (st.shape, st[1].min()))
    bstest.run(args, ["run", NET, "--restore", wd + "/ck/ckpt.h5", "-q"], np=3)
    bstest.check(identical(ref, out), "restart at 3 ranks from the 200 ms checkpoint differs "
                 "from the uninterrupted run")
    print("STP network: checkpoint at 2 ranks, restart at 3 ranks: identical to 1 rank")


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "stp")
    efficacy(args, wd)
    restart(args, wd)
    bstest.finish("stp")


if __name__ == "__main__":
    main()

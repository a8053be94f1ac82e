"""Trace synapses AMPA, GABAa, NMDA, BioNMDA (issue 4 items 1 and 9): state
per pre-synaptic neuron, per-pre monitors, stp.u / stp.x monitors, timing
of delays across ranks, checkpoint/restart.

1. Kinetics. For each model, pre neurons fire one spike (step 0), a slow
   train (every 50 steps) and a fast train (every 3 steps, so transmitter
   pulses overlap and g saturates). The monitored per-pre g (and x) must
   equal an independent integration of the model's equations with
   BrainPy's step semantics (the spike of step n arrives in step n + 1;
   AMPA-type: t_arr set, then TT = T while (m - m_arr) dt < T_duration;
   NMDA: integrate, then x += 1; within a step each variable sees the
   others at their old values, exp_auto on the JointEq): every step is
   integrated here by classic RK4 with 100 substeps of the frozen-
   coefficient ODE (local error ~ (b dt/100)^5 < 1e-15 per step), so the
   tolerance 1e-10 absolute (g, x <= 1) covers rounding over the run.
2. Timing and delays. Projections with delay_step 3 and 7 connect a pre
   neuron on one rank to a post neuron on the other (IJ pairs) through a
   CUBA output into an LIF with V_rest = 0: the current of step m is
   recovered exactly from V, I_m = (V_{m+1} - V_m e)/(1 - e), and must equal
   w G(m - d) of the undelayed trace (1e-9), so the first nonzero current
   is at step n + 1 + d (AMPA, GABAa) or n + 2 + d (NMDA, BioNMDA, whose g
   follows x by one step); identical at 1 and 2 ranks.
3. stp.u / stp.x monitors (NMDA + STP on the slow train, Exponential +
   STD): the Tsodyks-Markram recursion relaxed to every step (1e-12), and
   NMDA's x jumps by the efficacy u+ x- of each spike.
4. Checkpoint: tests/configs/nmda_net.yaml checkpointed every 100 ms at 2
   ranks and restored from 200 ms at 3 ranks equals the 1-rank run."""
import math
import os
import subprocess

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(HERE, "..", "configs", "nmda_net.yaml")
DT = 0.1
STEPS = 600

MODELS = {
    "AMPA": dict(alpha=0.98, beta=0.18, T=0.5, T_duration=0.5),
    "GABAa": dict(alpha=0.53, beta=0.18, T=1.0, T_duration=1.0),
    "NMDA": dict(tau_decay=100.0, a=0.5, tau_rise=2.0),
    "BioNMDA": dict(alpha1=2.0, beta1=0.01, alpha2=1.0, beta2=0.5, T_0=1.0, T_dur=0.5),
}


def rk4_lin(y, A, b, dt, n=100):
    """dy/dt = A - b y over dt, A and b frozen."""
    h = dt / n
    f = lambda v: A - b * v
    for _ in range(n):
        k1 = f(y)
        k2 = f(y + 0.5 * h * k1)
        k3 = f(y + 0.5 * h * k2)
        k4 = f(y + h * k3)
        y += h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def reference(model, p, spikes, M, eff=None):
    """g[m], x[m] for m < M; spikes: emission steps; eff: efficacy each."""
    eff = eff if eff is not None else [1.0] * len(spikes)
    arrive = {s + 1: e for s, e in zip(spikes, eff)}
    g = np.zeros(M)
    x = np.zeros(M)
    gi, xi, tarr, rel = 0.0, 0.0, None, 1.0
    dur = p.get("T_duration", p.get("T_dur"))
    nT = sum(1 for k in range(10000) if dur is not None and k * DT < dur)
    for m in range(1, M):
        s = arrive.get(m, 0.0)
        if model in ("AMPA", "GABAa"):
            if s:
                tarr, rel = m, s
            TT = p["T"] * rel if tarr is not None and m - tarr < nT else 0.0
            A = p["alpha"] * TT
            gi = rk4_lin(gi, A, A + p["beta"], DT)
        elif model == "NMDA":
            A = p["a"] * xi
            gi = rk4_lin(gi, A, A + 1.0 / p["tau_decay"], DT)
            xi = rk4_lin(xi, 0.0, 1.0 / p["tau_rise"], DT) + s
        else:
            if s:
                tarr, rel = m, s
            TT = p["T_0"] * rel if tarr is not None and m - tarr < nT else 0.0
            A = p["alpha1"] * xi
            g_new = rk4_lin(gi, A, A + p["beta1"], DT)
            B = p["alpha2"] * TT
            xi = rk4_lin(xi, B, B + p["beta2"], DT)
            gi = g_new
        g[m], x[m] = gi, xi
    return g, x


def tm(steps, U, tau_f, tau_d, M, kind="STP"):
    """u, x at every step m < M (spikes of steps < m), and efficacies."""
    u, x, last, k = 0.0, 1.0, 0, 0
    us, xs, eff = np.zeros(M), np.zeros(M), []
    for m in range(M):
        while k < len(steps) and steps[k] < m:
            s = steps[k]
            gap = (s - last) * DT
            x = 1.0 + (x - 1.0) * math.exp(-gap / tau_d)
            if kind == "STD":
                eff.append(x)
                x -= U * x
            else:
                u = u * math.exp(-gap / tau_f)
                u = u + U * (1.0 - u)
                eff.append(u * x)
                x -= u * x
            last = s
            k += 1
        gap = (m - last) * DT
        us[m] = u * math.exp(-gap / tau_f) if kind == "STP" else 0.0
        xs[m] = 1.0 + (x - 1.0) * math.exp(-gap / tau_d)
    return us, xs, eff


def kinetics(args, wd):
    W = 2.0
    for model, p in MODELS.items():
        cfg = bstest.write_config("%s/%s.yaml" % (wd, model), """
run: {dt: 0.1 ms, duration: %g ms, seed: 3}
populations:
  one: {model: LIF, size: 2, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 5e6 ms}
  slow: {model: LIF, size: 2, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 4.95 ms}
  fast: {model: LIF, size: 1, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 0.25 ms}
  post: {model: LIF, size: 2, V_th: 1e9}
  sink: {model: LIF, size: 3, V_th: 1e9}
projections:
  a: {pre: one, post: post, synapse: %s, output: CUBA, g_max: %g, delay_step: 3,
      connect: {IJ: {i: [1], j: [0]}}}
  b: {pre: slow, post: post, synapse: %s, output: CUBA, g_max: %g, delay_step: 7,
      connect: {IJ: {i: [0], j: [1]}}}
  c: {pre: fast, post: sink, synapse: %s, connect: All2All}
  s: {pre: slow, post: sink, synapse: NMDA, stp: {STP: {U: 0.2, tau_f: 100 ms, tau_d: 30 ms}},
      connect: All2All}
  e: {pre: slow, post: sink, synapse: Exponential, stp: {STD: {U: 0.3, tau: 20 ms}},
      connect: All2All}
inputs: [{target: one, current: 100000}, {target: slow, current: 100000},
         {target: fast, current: 100000}]
monitors:
  - {spikes: [one, slow, fast]}
  - {projection: a, variables: [g]}
  - {projection: b, variables: [g]}
  - {projection: c, variables: [g]}
  - {projection: s, variables: [g, x, stp.u, stp.x]}
  - {projection: e, variables: [stp.x], indices: [1]}
  - {population: post, variables: [V]}
""" % (STEPS * DT, model, W, model, W, model))
        res = {}
        for np_ in (1, 2):
            o = "%s/%s_np%d.h5" % (wd, model, np_)
            bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
            with h5py.File(o, "r") as f:
                res[np_] = {k: f[k][()] for k in (
                    "spikes/one/timestamps", "spikes/one/node_ids", "spikes/slow/timestamps",
                    "spikes/slow/node_ids", "spikes/fast/timestamps", "report/a/g/data",
                    "report/b/g/data", "report/c/g/data", "report/post/V/data",
                    "report/s/g/data", "report/s/x/data", "report/s/stp.u/data",
                    "report/s/stp.x/data", "report/e/stp.x/data")}
                pop = f["report/a/g"].attrs.get("population")
                pop = pop.decode() if isinstance(pop, bytes) else pop
                bstest.check(pop == "one" and f["report/a/g/data"].shape == (STEPS, 2),
                             "report a/g: population %s (pre 'one' expected), shape %s"
                             % (pop, f["report/a/g/data"].shape))
        for k in res[1]:
            bstest.check(np.array_equal(res[1][k], res[2][k]), "%s: %s differs at 1 and 2 ranks" % (model, k))
        r = res[1]

        def steps_of(pop, i):
            t = r["spikes/%s/timestamps" % pop]
            ids = r.get("spikes/%s/node_ids" % pop, np.zeros(len(t), int))
            return list(np.rint(t[ids == i] / DT).astype(int))

        one = steps_of("one", 1)
        slow = steps_of("slow", 0)
        fast = list(np.rint(r["spikes/fast/timestamps"] / DT).astype(int))
        bstest.check(one == [0], "%s: one spike at step 0 expected, got %s" % (model, one))
        bstest.check(len(slow) > 10 and len(fast) > 100, "%s: trains %d, %d spikes" % (model, len(slow), len(fast)))
        ga, _ = reference(model, p, one, STEPS)
        gb, _ = reference(model, p, slow, STEPS)
        gc, _ = reference(model, p, fast, STEPS)
        for name, got, exp in (("one spike", r["report/a/g/data"][:, 1], ga),
                               ("slow train", r["report/b/g/data"][:, 0], gb),
                               ("fast train", r["report/c/g/data"][:, 0], gc)):
            err = np.max(np.abs(got - exp))
            bstest.check(err <= 1e-10, "%s %s: g off by %.3g (max g %.3g)" % (model, name, err, exp.max()))
        # 2. the delayed current into post 0 (delay 3) and post 1 (delay 7)
        V = r["report/post/V/data"]
        e = math.exp(-DT / 10.0)
        I = (V[1:] - V[:-1] * e) / (1.0 - e)
        lag = 1 if model in ("AMPA", "GABAa") else 2
        for col, d, G in ((0, 3, ga), (1, 7, gb)):
            exp = np.zeros(STEPS - 1)
            exp[d:] = W * G[:STEPS - 1 - d]
            err = np.max(np.abs(I[:, col] - exp))
            bstest.check(err <= 1e-9, "%s delay %d: current off by %.3g" % (model, d, err))
            first = int(np.nonzero(np.abs(I[:, col]) > 1e-12)[0][0])
            bstest.check(first == 0 + lag + d, "%s delay %d: first current at step %d, expected %d"
                         % (model, d, first, lag + d))
        # 3. stp monitors and NMDA driven by the efficacies
        us, xs, eff = tm(slow, 0.2, 100.0, 30.0, STEPS)
        eu = np.max(np.abs(r["report/s/stp.u/data"][:, 0] - us))
        ex = np.max(np.abs(r["report/s/stp.x/data"][:, 0] - xs))
        bstest.check(eu <= 1e-12 and ex <= 1e-12, "%s: stp.u off by %.3g, stp.x by %.3g" % (model, eu, ex))
        gs, xsn = reference("NMDA", MODELS["NMDA"], slow, STEPS, eff)
        eg = max(np.max(np.abs(r["report/s/g/data"][:, 0] - gs)), np.max(np.abs(r["report/s/x/data"][:, 0] - xsn)))
        bstest.check(eg <= 1e-10, "%s: NMDA with STP off by %.3g" % (model, eg))
        _, xd, _ = tm(steps_of("slow", 1), 0.3, 1.0, 20.0, STEPS, "STD")
        ed = np.max(np.abs(r["report/e/stp.x/data"][:, 0] - xd))
        bstest.check(ed <= 1e-12, "%s: Exponential STD stp.x off by %.3g" % (model, ed))
        print("%s: g matches the RK4 reference to 1e-10 (one spike, %d- and %d-spike trains), "
              "delays 3 and 7 across ranks start at n+%d+d, stp.u/stp.x to 1e-12; 1 and 2 ranks identical"
              % (model, len(slow), len(fast), lag))


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
        tr = f["state/projections/EE/trace"][()]
        # rows g, x, then g of the last 31 steps (delays up to 30 steps)
        bstest.check(tr.shape == (2 + 31, 211) and np.any(tr[0] > 0),
                     "checkpoint trace of EE: shape %s" % (tr.shape,))
        ident = f["meta/identity"][()]
        ident = ident.decode() if isinstance(ident, bytes) else ident
    # BrainPy's default outputs when the config gives none: the identity
    # holds one "key<TAB>value" line per fact (checkpoint.c).
    kv = dict(line.split("\t", 1) for line in ident.splitlines() if "\t" in line)
    want = {
        "NMDA": {"tau_decay": "100", "a": "0.5", "tau_rise": "2", "output": "MgBlock",
                 "output.MgBlock.E": "0", "output.MgBlock.cc_Mg": "1.2",
                 "output.MgBlock.alpha": "0.062"},
        "BioNMDA": {"alpha1": "2", "beta1": "0.01", "alpha2": "1", "beta2": "0.5", "T_0": "1",
                    "T_dur": "0.5", "output": "MgBlock", "output.MgBlock.E": "0"},
        "AMPA": {"alpha": "0.97999999999999998", "beta": "0.17999999999999999", "T": "0.5",
                 "T_duration": "0.5", "output": "COBA", "output.COBA.E": "0"},
        "GABAa": {"alpha": "0.53000000000000003", "beta": "0.17999999999999999", "T": "1",
                  "T_duration": "1", "output": "COBA", "output.COBA.E": "-80"},
    }
    for syn, params in want.items():
        projs = [k[len("projections."):-len(".synapse")] for k, v in kv.items()
                 if k.startswith("projections.") and k.endswith(".synapse") and v == syn]
        bstest.check(projs, "default parameters/output: no %s projection in\n%s" % (syn, ident))
        for j in projs:
            for key, val in params.items():
                got = kv.get("projections.%s.%s" % (j, key))
                bstest.check(got == val, "default parameters/output: %s (%s) %s = %r, expected %r"
                             % (j, syn, key, got, val))
    bstest.run(args, ["run", NET, "--restore", wd + "/ck/ckpt.h5", "-q"], np=3)
    bstest.check(identical(ref, out), "restart at 3 ranks from the 200 ms checkpoint differs "
                 "from the uninterrupted run")
    print("trace-synapse network: checkpoint at 2 ranks, restart at 3 ranks: identical to 1 rank")


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "trace_synapses")
    kinetics(args, wd)
    restart(args, wd)
    bstest.finish("trace_synapses")


if __name__ == "__main__":
    main()

"""Delta's refractory gating (BrainPy Delta post_ref_key='refractory',
DeltaSynapse post_has_ref=True): arrivals are multiplied by (1 -
refractory) of the post, BrainPy's flag as its last update left it, i.e.
dropped in step m when t_{m-1} - t_last_spike <= tau_ref.

Three pre LIF neurons fire regularly (different currents) onto four post
LIF neurons (All2All, w = 0.35, delay 2 steps) that integrate without leak
(tau 1e6 ms), spike at V_th = 1 and are refractory for 1.5 ms. An
independent numpy integration of brainsim's documented step (synapses, then
the LIF exp_auto update with the hold t_m - t_last <= tau_ref, threshold,
reset), fed the pre spikes from the output, must give the same post spike
steps and V samples (to 1e-12), gated and ungated; gating must drop some
arrivals and change the result; post_has_ref: true is bitwise the same as
post_ref_key: refractory; all at 1 and 2 ranks. Refused: a post without a
refractory state, tau_ref null, a non-Delta synapse."""
import math

import h5py
import numpy as np

import bstest

DT, W, D, TAU, TAU_REF, STEPS = 0.1, 0.35, 2, 1e6, 1.5, 400

CFG = """
run: {dt: 0.1 ms, duration: 40 ms, seed: 9}
populations:
  pre: {model: LIF, size: 3, V_rest: 0, V_reset: 0, V_th: 1, tau: 10 ms, tau_ref: 0.5 ms}
  post: {model: LIF, size: 4, V_rest: 0, V_reset: 0, V_th: 1, tau: 1e6 ms, tau_ref: 1.5 ms,
         V_initializer: {Uniform: [0, 0.9]}}
projections:
  s: {pre: pre, post: post, synapse: %s, g_max: 0.35, delay_step: 2, %s connect: All2All}
inputs:
  - {target: pre, current: 1.6, range: [0, 1]}
  - {target: pre, current: 2.3, range: [1, 2]}
  - {target: pre, current: 4.1, range: [2, 3]}
monitors:
  - {spikes: [pre, post]}
  - {population: post, variables: [V]}
"""


def model(pre_steps, V0, gated):
    """brainsim's step for the post LIFs (exp_auto kernel, I = 0)."""
    A = -math.expm1(-DT / TAU)
    ref = TAU_REF + 1e-7 * DT
    arrivals = {}
    for s in sorted(pre_steps):  # canonical order: (step, gid); all weights equal
        m = s + 1 + D
        arrivals[m] = arrivals.get(m, 0.0) + W
    V = np.array(V0, dtype=float)
    tl = np.full(len(V), -1e7)
    Vs = np.zeros((STEPS, len(V)))
    spikes, dropped = [], 0
    for m in range(STEPS):
        a = arrivals.get(m, 0.0)
        for i in range(len(V)):
            if gated and (m - 1) * DT - tl[i] <= ref:
                dropped += a > 0
            else:
                V[i] += a
        Vs[m] = V
        t = m * DT
        for i in range(len(V)):
            v = V[i] + A * (0.0 + 1.0 * 0.0 - V[i])
            V[i] = V[i] if t - tl[i] <= ref else v
            if V[i] >= 1.0:
                V[i] = 0.0
                tl[i] = t
                spikes.append((m, i))
    return Vs, sorted(spikes), dropped


def run(args, wd, name, syn, extra, np_):
    cfg = bstest.write_config("%s/%s.yaml" % (wd, name), CFG % (syn, extra))
    o = "%s/%s_np%d.h5" % (wd, name, np_)
    bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_ if np_ > 1 else 0)
    with h5py.File(o, "r") as f:
        pre = [int(round(t / DT)) for t in f["spikes/pre/timestamps"][()]]
        post = sorted((int(round(t / DT)), int(i)) for t, i in
                      zip(f["spikes/post/timestamps"][()], f["spikes/post/node_ids"][()]))
        V = f["report/post/V/data"][()]
    return pre, post, V


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "delta_gating")
    res = {}
    for name, syn, extra, gated in (("gated", "Delta", "post_ref_key: refractory,", True),
                                    ("has_ref", "DeltaSynapse", "post_has_ref: true,", True),
                                    ("ungated", "Delta", "", False)):
        for np_ in (1, 2):
            pre, post, V = run(args, wd, name, syn, extra, np_)
            res[(name, np_)] = V
            Vm, spikes, dropped = model(pre, V[0], gated)
            bstest.check(len(pre) > 20 and len(post) > 10, "%s: too few spikes (pre %d, post %d)"
                         % (name, len(pre), len(post)))
            bstest.check(post == spikes, "%s np %d: post spikes %s, model %s" % (name, np_, post[:8], spikes[:8]))
            err = np.max(np.abs(V - Vm))
            bstest.check(err <= 1e-12, "%s np %d: V differs from the model by %.3g" % (name, np_, err))
            if gated:
                bstest.check(dropped > 0, "%s: no arrival fell into a refractory period" % name)
        print("%s: post spikes and V as the model (1 and 2 ranks)%s"
              % (name, ", %d arrivals dropped" % dropped if gated else ""))
    bstest.check(np.array_equal(res[("gated", 1)], res[("has_ref", 1)]), "post_has_ref differs from post_ref_key")
    bstest.check(np.array_equal(res[("gated", 1)], res[("gated", 2)]), "gated: 1 and 2 ranks differ")
    bstest.check(not np.array_equal(res[("gated", 1)], res[("ungated", 1)]), "gating changed nothing")

    bad = [("post: {model: LeakyIntegrator, size: 2}", "Delta", "post_ref_key: refractory", "has no refractory state"),
           ("post: {model: LIF, size: 2}", "Delta", "post_ref_key: refractory", "tau_ref is null"),
           ("post: {model: LIF, size: 2, tau_ref: 2 ms}", "Exponential", "post_ref_key: refractory",
            "Delta synapses only"),
           ("post: {model: LIF, size: 2, tau_ref: 2 ms}", "Delta", "post_ref_key: V", "expected refractory")]
    for k, (post, syn, key, msg) in enumerate(bad):
        cfg = bstest.write_config("%s/bad_%d.yaml" % (wd, k), """
run: {dt: 0.1 ms, duration: 1 ms}
populations:
  pre: {model: LIF, size: 2}
  %s
projections:
  s: {pre: pre, post: post, synapse: %s, %s, connect: All2All}
""" % (post, syn, key))
        p = bstest.run(args, ["check", cfg], np=0, check=False)
        bstest.check(p.returncode != 0 and msg in p.stderr and "bad_%d.yaml:7" % k in p.stderr,
                     "bad case %d: expected '%s' at line 7, got %d: %s" % (k, msg, p.returncode, p.stderr.strip()))
    print("refused: no refractory state, tau_ref null, non-Delta synapse, unknown key value")
    bstest.finish("delta_gating")


if __name__ == "__main__":
    main()

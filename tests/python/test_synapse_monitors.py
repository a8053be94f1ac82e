"""Monitors of chosen synapses (issue 4 item 9): `synapses: [[pre, post], ...]`
with variables g (trace synapses), stp.u, stp.x, w and delay.

The network: E (40 LIF, driven) -> E through NMDA with STP, drawn weights
and per-synapse delays 0..30 steps, all pairs but self (so which pairs
exist is known); S (one Poisson neuron) -> every E through Exponential with
drawn weights and delays 5..20 steps. The chosen synapses have posts 1, 5,
13, 14, 20, 39 (on ranks 0, 1 and 2 at 3 ranks) listed out of post order.

1. w and delay are constant over the run, within the drawn ranges, and for
   the Exponential projection equal an independent route: post j's per-post
   g (sampled every step) jumps by exactly w at step s + 1 + d after S's
   spike of step s (g[n] - g[n-1] e^{-dt/tau}, 1e-12), and nowhere before.
2. NMDA: g of synapse (i, j) at step n is w * G_i(n - d), the per-pre g
   monitor of pre i shifted by the synapse's delay, bitwise (and 0 for
   n < d); an `every: 0.5 ms` monitor holds every 5th sample.
3. stp.u / stp.x of a synapse equal the per-pre stp monitors of its pre,
   bitwise.
4. Every report is bitwise identical at 1, 2 and 3 ranks, and after a
   checkpoint at 2 ranks restored at 3; comp_method dense records the
   same w and delay as sparse.
5. Refusals: per-synapse g on Exponential (config time, line:col), a pair
   the projection does not have (build time, named; 3 ranks fail together
   without hanging), an index out of range (line:col), x of NMDA, stp.u
   without STP, synapses on a population."""
import math
import os

import h5py
import numpy as np

import bstest

DT = 0.1
STEPS = 1000
PAIRS = [[5, 39], [7, 1], [39, 20], [2, 1], [20, 5], [0, 13], [13, 14], [14, 13]]
SX_POSTS = [39, 1, 20, 13, 14]

CONFIG = """run: {dt: 0.1 ms, duration: 100 ms, seed: 7}
populations:
  S: {model: PoissonGroup, size: 1, freqs: 60 Hz}
  E: {model: LIF, size: 40, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  EN: {pre: E, post: E, synapse: NMDA, g_max: {Uniform: [0.01, 0.03]},
       delay: {Uniform: [0 ms, 3 ms]}, stp: {STP: {U: 0.2, tau_f: 300 ms, tau_d: 100 ms}},
       connect: {FixedProb: {prob: 1.0, include_self: false}}}
  SX: {pre: S, post: E, synapse: Exponential, g_max: {Uniform: [0.5, 1.5]},
       delay: {Uniform: [0.5 ms, 2 ms]}, connect: {FixedProb: {prob: 1.0}}}
inputs:
  - {target: E, current: 12}
monitors:
  - {spikes: all}
  - {projection: EN, variables: [g, stp.u, stp.x, w, delay], synapses: %s}
  - {projection: EN, variables: [g], synapses: %s, every: 0.5 ms, name: g5}
  - {projection: EN, variables: [g], name: pre_g}
  - {projection: EN, variables: [stp.u], name: pre_u}
  - {projection: EN, variables: [stp.x], name: pre_x}
  - {projection: SX, variables: [w, delay], synapses: %s}
  - {projection: SX, variables: [g]}
%s"""


def config(path, pairs=PAIRS, extra=""):
    sx = [[0, j] for j in SX_POSTS]
    return bstest.write_config(path, CONFIG % (pairs, pairs, sx, extra))


def reports(path):
    out = {}
    with h5py.File(path, "r") as f:
        for name, d in bstest.walk(f):
            out[name] = d[()]
        spk = f["spikes/S/timestamps"][()]
    return out, spk


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "synapse_monitors")
    cfg = config(os.path.join(wd, "net.yaml"))
    runs = {}
    for np_ in (1, 2, 3):
        out = os.path.join(wd, "net_np%d.h5" % np_)
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
        runs[np_] = reports(out)
    r, s_spk = runs[1]

    # mapping: node ids are the posts, pre_node_ids the pres, config order
    with h5py.File(os.path.join(wd, "net_np1.h5"), "r") as f:
        g = f["report/EN/g"]
        bstest.check(list(g["mapping/node_ids"][()]) == [p[1] for p in PAIRS]
                     and list(g["mapping/pre_node_ids"][()]) == [p[0] for p in PAIRS]
                     and g.attrs["population"] in (b"E", "E")
                     and g.attrs["pre_population"] in (b"E", "E"),
                     "EN/g mapping: node_ids/pre_node_ids not the pairs in config order")
        bstest.check(f["report/EN/delay/data"].attrs["units"] in (b"steps", "steps"),
                     "delay units not 'steps'")

    # 1. w and delay: constant, in range, and for SX an independent route
    for proj, lo_w, hi_w, lo_d, hi_d in (("EN", 0.01, 0.03, 0, 30),
                                         ("SX", 0.5, 1.5, 5, 20)):
        w, d = r["report/%s/w/data" % proj], r["report/%s/delay/data" % proj]
        bstest.check(w.shape[0] == STEPS and (w == w[0]).all() and (d == d[0]).all(),
                     "%s: w or delay not constant over the run" % proj)
        bstest.check(((w[0] >= lo_w) & (w[0] <= hi_w)).all(),
                     "%s: w %s outside [%g, %g]" % (proj, w[0], lo_w, hi_w))
        bstest.check(((d[0] >= lo_d) & (d[0] <= hi_d)).all()
                     and (d[0] == np.round(d[0])).all(),
                     "%s: delay %s outside [%d, %d] steps" % (proj, d[0], lo_d, hi_d))
        bstest.check(len(set(d[0])) > 1 and len(set(w[0])) > 1,
                     "%s: weights or delays not drawn per synapse" % proj)
    en_d = r["report/EN/delay/data"][0].astype(int)
    en_w = r["report/EN/w/data"][0]
    s_steps = np.round(np.asarray(s_spk) / DT).astype(int)
    bstest.check(len(s_steps) >= 2, "S fired %d times" % len(s_steps))
    gpost = r["report/SX/g/data"]
    decay = math.exp(-DT / 8.0)
    for c, j in enumerate(SX_POSTS):
        w = r["report/SX/w/data"][0, c]
        d = int(r["report/SX/delay/data"][0, c])
        gj = gpost[:, j]
        jump = gj[1:] - gj[:-1] * decay
        first = s_steps[0] + 1 + d
        bstest.check(np.all(np.abs(jump[:first - 1]) <= 1e-12) and gj[0] == 0.0,
                     "SX post %d: g before step %d" % (j, first))
        bstest.check(abs(jump[first - 1] - w) <= 1e-12,
                     "SX post %d: g jumps by %.17g at step %d, monitored w = %.17g"
                     % (j, jump[first - 1], first, w))

    # 2. NMDA g = w G_pre(n - d), bitwise; every 0.5 ms = every 5th row
    gs, pre_g = r["report/EN/g/data"], r["report/EN/pre_g/data"]
    bstest.check(gs.shape == (STEPS, len(PAIRS)), "EN/g shape %s" % (gs.shape,))
    for c, (i, j) in enumerate(PAIRS):
        d = en_d[c]
        exp = np.concatenate([np.zeros(d), en_w[c] * pre_g[:STEPS - d, i]])
        bad = np.nonzero(gs[:, c] != exp)[0]
        bstest.check(len(bad) == 0,
                     "EN [%d, %d] (delay %d): g differs from w G(n - d) at %d steps, "
                     "first %s: %r vs %r" % (i, j, d, len(bad), bad[:1],
                                             gs[bad[:1], c], exp[bad[:1]]))
        bstest.check(np.count_nonzero(gs[:, c]) > STEPS // 2,
                     "EN [%d, %d]: g is mostly zero (no activity to test)" % (i, j))
    bstest.check(np.array_equal(r["report/EN/g5/data"], gs[::5]),
                 "EN g5 (every 0.5 ms) is not every 5th sample of g")

    # 3. stp.u / stp.x are the pre's
    for v, pv in (("stp.u", "pre_u"), ("stp.x", "pre_x")):
        a, b = r["report/EN/%s/data" % v], r["report/EN/%s/data" % pv]
        pres = [p[0] for p in PAIRS]
        bstest.check(np.array_equal(a, b[:, pres]),
                     "EN %s of the synapses differs from the pre's %s monitor" % (v, pv))
        bstest.check(len(np.unique(a[:, 0])) > 10, "EN %s never changes" % v)

    # 4. rank counts
    for np_ in (2, 3):
        o = runs[np_][0]
        bstest.check(set(o) == set(r), "np%d: datasets differ" % np_)
        for k in r:
            if k.startswith("report/"):
                bstest.check(k in o and np.array_equal(o[k], r[k]),
                             "np%d: %s differs from 1 rank" % (np_, k))

    # checkpoint at 2 ranks, restored at 3: the trace history carries over
    ck, cko = os.path.join(wd, "ck"), os.path.join(wd, "net_ck.h5")
    p = bstest.run(args, ["run", cfg, "-o", cko, "--overwrite", "-q", "--checkpoint-every",
                          "40ms", "--checkpoint-dir", ck], np=2)
    bstest.check("checkpoint at t = 80.0 ms" in p.stdout, "no checkpoint at 80 ms:\n" + p.stdout)
    bstest.run(args, ["run", cfg, "--restore", os.path.join(ck, "ckpt.h5"), "-q"], np=3)
    o = reports(cko)[0]
    for k in r:
        if k.startswith("report/"):
            bstest.check(k in o and np.array_equal(o[k], r[k]),
                         "restart at 3 ranks from 80 ms: %s differs" % k)

    # dense storage (one delay) finds the same synapses as sparse
    got = {}
    for m in ("sparse", "dense"):
        text = (CONFIG % (PAIRS, PAIRS, [[0, j] for j in SX_POSTS], "")).replace(
            "delay: {Uniform: [0.5 ms, 2 ms]}, connect: {FixedProb: {prob: 1.0}}}",
            "delay: 1.2 ms, connect: {FixedProb: {prob: 1.0}}, comp_method: %s}" % m)
        path = bstest.write_config(os.path.join(wd, m + ".yaml"), text)
        bstest.run(args, ["run", path, "-o", os.path.join(wd, m + ".h5"), "--overwrite", "-q"],
                   np=2)
        got[m] = reports(os.path.join(wd, m + ".h5"))[0]
    for k in ("report/SX/w/data", "report/SX/delay/data"):
        bstest.check(np.array_equal(got["sparse"][k], got["dense"][k])
                     and (got["dense"]["report/SX/delay/data"] == 12).all(),
                     "comp_method dense: %s differs from sparse" % k)

    # 5. refusals
    def refused(name, text, frags, np_=0, where=None):
        path = bstest.write_config(os.path.join(wd, name + ".yaml"), text)
        cmd = ["check", path] if np_ == 0 else ["run", path, "-o",
                                                os.path.join(wd, name + ".h5"),
                                                "--overwrite", "-q"]
        p = bstest.run(args, cmd, np=np_, check=False, timeout=120)
        msg = p.stdout + p.stderr
        ok = p.returncode != 0 and all(f in msg for f in frags)
        if where:
            ok = ok and (os.path.basename(path) + ":" + where) in msg
        bstest.check(ok, "%s: expected refusal with %s%s, got rc %d:\n%s"
                     % (name, frags, " at " + where if where else "",
                        p.returncode, msg))
        return msg

    base = CONFIG % (PAIRS, PAIRS, [[0, 1]], "")
    lines = base.count("\n")
    refused("exp_g", base + "  - {projection: SX, variables: [g], synapses: [[0, 1]], name: sg}\n",
            ["monitors[8]", "Exponential synapses of projection 'SX' have no per-synapse g",
             "one state per post neuron"], where="%d:34" % (lines + 1))
    refused("nmda_x", base + "  - {projection: EN, variables: [x], synapses: [[0, 1]], name: sx}\n",
            ["'x' of projection 'EN' (NMDA) is not kept per synapse"],
            where="%d:34" % (lines + 1))
    refused("no_stp", base + "  - {projection: SX, variables: [stp.u], synapses: [[0, 1]], name: su}\n",
            ["no per-synapse variable 'stp.u' (available: w, delay)"])
    refused("pop_syn", base + "  - {population: E, variables: [V], synapses: [[0, 1]]}\n",
            ["only a projection's monitor records chosen synapses"])
    bad = "  - {projection: EN, variables: [w], synapses: [[0, 1], [3, 40]], name: wr}\n"
    refused("range", base + bad,
            ["monitors[8]: synapses[1] of projection 'EN': post index",
             "40 is out of range (at most 39)"],
            where="%d:%d" % (lines + 1, bad.index("40]") + 1))
    refused("twice", base + "  - {projection: EN, variables: [w], synapses: [[0, 1], [0, 1]], name: wt}\n",
            ["[0, 1] is listed twice"])
    missing = base + "  - {projection: EN, variables: [w], synapses: [[0, 1], [3, 3]], name: wm}\n"
    frags = ["monitor 'wm' of projection 'EN': synapses[1] = [3, 3]",
             "the projection has no synapse from E 3 to E 3"]
    refused("missing", missing, frags)
    # the post is on rank 0 of 3: the others must stop with it
    msg = refused("missing_np3", missing, frags, np_=3)
    bstest.check(msg.count("has no synapse") == 1,
                 "missing pair at 3 ranks: reported %d times" % msg.count("has no synapse"))

    bstest.finish("synapse_monitors")


if __name__ == "__main__":
    main()

"""Long-term plasticity (issue 13): every rule's weights against an
independent implementation (stdp_ref.py), on 1, 2, 3 and 4 ranks bitwise.

The network: S (20 Poisson neurons, fixed seed) -> E (3 LIF neurons driven
by a constant current) through four plastic Exponential projections, one
per rule: STDP_Song2000 (BrainPy's order), stdp_synapse additive (mu = 0)
and multiplicative (mu = 1, with STP and per-pre delays, COBA output) and
Triplet. Every synapse's weight is monitored (`w` of chosen synapses) every
step, so the test reads the weight trajectory.

1. The pre and post spike trains read back from the output, the delays
   and the initial weights (monitor sample 0: no event can reach a
   synapse in step 0) go into stdp_ref.final_weight; the last monitor
   sample (after the run's last step) must equal it (|diff| <= 1e-12).
2. The weights change (a test that passes with plasticity off is no
   test): at least half the synapses of each projection moved.
3. Spikes and every weight report are bitwise identical on 1, 2, 3, 4
   ranks.
4. The trained weights are in the output as SONATA edges
   (/edges/<projection>/source_node_id, target_node_id, 0/syn_weight,
   0/delay for the per-pre delays), equal to the last monitor sample of
   each pair, bitwise at 1-4 ranks; a run that reads them back through
   the SONATA connector (static, and plastic again) starts from them
   (its sample 0, rounded to float32: the static weight storage) with the
   per-pre delays of `mult` restored.
5. A checkpoint at 2 ranks (t = 200 ms) restored at 3 and at 4 ranks
   gives the same spikes, weight reports and edges, bitwise, as the
   uninterrupted run (weights, traces, pending arrivals and the last
   step's post spikes carry over).
6. Refusals: an unknown rule, a trace synapse, comp_method dense,
   per-synapse delays, W_min > W_max.
7. E's update is fused (its model's block kernel does the synapses' step,
   the plastic kind only fills the ring slot); with an input monitor on E,
   which keeps it unfused, spikes, weight reports and edges are the same
   bits."""
import os

import h5py
import numpy as np

import bstest
import stdp_ref

DT = 0.1
STEPS = 3000
NS, NE = 20, 3
PAIRS = [[i, j] for i in range(NS) for j in range(NE)]
DPRE = [(3 * i) % 7 + 2 for i in range(NS)]  # per-pre delays, steps

CONFIG = """run: {dt: 0.1 ms, duration: 300 ms, seed: 11}
populations:
  S: {model: PoissonGroup, size: 20, freqs: 30 Hz}
  E: {model: LIF, size: 3, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms}
projections:
  song: {pre: S, post: E, synapse: Exponential, tau: 5 ms,
         g_max: {Uniform: [0.2, 0.8]}, delay: 0.5 ms,
         connect: {FixedProb: {prob: 1.0}},
         plasticity: {STDP_Song2000: {tau_s: 16.8 ms, tau_t: 33.7 ms,
                      A1: 0.02, A2: 0.025, W_min: 0, W_max: 1}}}
  add: {pre: S, post: E, synapse: Exponential, tau: 5 ms,
        g_max: {Uniform: [0.2, 0.8]}, delay: 1 ms,
        connect: {FixedProb: {prob: 1.0}},
        plasticity: {stdp_synapse: {tau_plus: 20 ms, tau_minus: 30 ms,
                     lambda: 0.05, alpha: 1.1, mu_plus: 0, mu_minus: 0,
                     Wmax: 1}}}
  mult: {pre: S, post: E, synapse: Exponential, tau: 5 ms,
         output: {COBA: {E: 0 mV}}, g_max: {Uniform: [0.01, 0.05]},
         delay_step: %s, stp: {STP: {U: 0.3, tau_f: 200 ms, tau_d: 100 ms}},
         connect: {FixedProb: {prob: 1.0}},
         plasticity: {stdp_synapse: {lambda: 0.1, alpha: 0.9, Wmax: 0.06}}}
  trip: {pre: S, post: E, synapse: Exponential, tau: 5 ms,
         g_max: {Uniform: [0.2, 0.8]}, delay: 0 ms,
         connect: {FixedProb: {prob: 1.0}},
         plasticity: {Triplet: {A2_plus: 0.005, A3_plus: 0.01,
                      A2_minus: 0.007, A3_minus: 0.002, W_min: 0, W_max: 1}}}
inputs:
  - {target: E, current: 11}
monitors:
  - {spikes: all}
  - {projection: song, variables: [w], synapses: %s}
  - {projection: add, variables: [w], synapses: %s}
  - {projection: mult, variables: [w], synapses: %s}
  - {projection: trip, variables: [w], synapses: %s}
"""

RULES = {
    "song": (stdp_ref.Song2000(tau_s=16.8, tau_t=33.7, A1=0.02, A2=0.025,
                               W_min=0.0, W_max=1.0), lambda i: 5),
    "add": (stdp_ref.NestStdp(tau_plus=20.0, tau_minus=30.0, lam=0.05,
                              alpha=1.1, mu_plus=0.0, mu_minus=0.0, Wmax=1.0),
            lambda i: 10),
    "mult": (stdp_ref.NestStdp(lam=0.1, alpha=0.9, Wmax=0.06),
             lambda i: DPRE[i]),
    "trip": (stdp_ref.Triplet(A2_plus=0.005, A3_plus=0.01, A2_minus=0.007,
                              A3_minus=0.002, W_min=0.0, W_max=1.0),
             lambda i: 0),
}


def config_text():
    return CONFIG % (DPRE, PAIRS, PAIRS, PAIRS, PAIRS)


def read(path):
    out = {}
    with h5py.File(path, "r") as f:
        for name, obj in bstest.walk(f):  # follows the reports' links
            if name.startswith(("report", "spikes", "edges")):
                out[name] = obj[()]
    return out


def steps_of(out, pop, k):
    ids = out["spikes/%s/node_ids" % pop]
    ts = out["spikes/%s/timestamps" % pop]
    return [int(round(t / DT)) for t, i in zip(ts, ids) if i == k]


def check_reference(out):
    for name, (rule, delay) in RULES.items():
        w = out["report/%s/w/data" % name]
        bstest.check(w.shape == (STEPS, len(PAIRS)),
                     "%s: w report shape %s" % (name, w.shape))
        moved, worst = 0, 0.0
        for c, (i, j) in enumerate(PAIRS):
            ref = stdp_ref.final_weight(rule, float(w[0, c]),
                                        steps_of(out, "S", i),
                                        steps_of(out, "E", j), delay(i), DT,
                                        STEPS - 1)
            worst = max(worst, abs(ref - w[-1, c]))
            moved += abs(w[-1, c] - w[0, c]) > 1e-6
        print("%s: max |brainsim - reference| = %.3g, %d/%d synapses moved"
              % (name, worst, moved, len(PAIRS)))
        bstest.check(worst <= 1e-12, "%s: final weights differ from the "
                     "reference by %.3g" % (name, worst))
        bstest.check(moved >= len(PAIRS) // 2,
                     "%s: only %d of %d weights changed" % (name, moved,
                                                            len(PAIRS)))


RERUN = """run: {dt: 0.1 ms, duration: 5 ms, seed: 11}
populations:
  S: {model: PoissonGroup, size: 20, freqs: 30 Hz}
  E: {model: LIF, size: 3, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms}
projections:
  again: {pre: S, post: E, synapse: Exponential, tau: 5 ms,
          connect: {SONATA: {file: %s, population: song}}%s}
  mult: {pre: S, post: E, synapse: Exponential, tau: 5 ms,
         connect: {SONATA: {file: %s, population: mult}}}
monitors:
  - {projection: again, variables: [w], synapses: %s}
  - {projection: mult, variables: [w, delay], synapses: %s}
"""


def check_edges(args, wd, out, h5):
    for name in RULES:
        src = out["edges/%s/source_node_id" % name]
        tgt = out["edges/%s/target_node_id" % name]
        w = out["edges/%s/0/syn_weight" % name]
        last = out["report/%s/w/data" % name][-1]
        bstest.check(list(tgt) == sorted(tgt) and len(src) == len(PAIRS),
                     "%s: edges not ordered by target or %d rows"
                     % (name, len(src)))
        col = {(i, j): c for c, (i, j) in enumerate(PAIRS)}
        bad = [k for k in range(len(src))
               if w[k] != last[col[(int(src[k]), int(tgt[k]))]]]
        bstest.check(not bad, "%s: %d edge weights differ from the last "
                     "monitor sample" % (name, len(bad)))
    d = out.get("edges/mult/0/delay")
    bstest.check(d is not None and all(
        abs(d[k] - DPRE[int(out["edges/mult/source_node_id"][k])] * DT) < 1e-9
        for k in range(len(d))), "mult: edge delays are not the per-pre delays")
    bstest.check("edges/song/0/delay" not in out,
                 "song: a constant delay was written per edge")
    for plast in ("", ",\n          plasticity: {STDP_Song2000: {A1: 0.01, "
                  "A2: 0.01, W_min: 0, W_max: 1}}"):
        cfg = bstest.write_config(os.path.join(wd, "rerun.yaml"), RERUN % (
            h5, plast, h5, PAIRS, PAIRS))
        o2 = os.path.join(wd, "rerun.h5")
        bstest.run(args, ["run", cfg, "-o", o2, "--overwrite"], np=2)
        r = read(o2)
        for mine, name in (("again", "song"), ("mult", "mult")):
            src = out["edges/%s/source_node_id" % name]
            tgt = out["edges/%s/target_node_id" % name]
            w = out["edges/%s/0/syn_weight" % name]
            first = r["report/%s/w/data" % mine][0]
            col = {(i, j): c for c, (i, j) in enumerate(PAIRS)}
            bad = [k for k in range(len(src)) if first[col[(
                int(src[k]), int(tgt[k]))]] != float(np.float32(w[k]))]
            bstest.check(not bad, "rerun%s: %d weights read back differ from "
                         "the trained ones" % (" plastic" if plast else "",
                                               len(bad)))
        dl = r["report/mult/delay/data"][0]
        bstest.check(all(dl[c] == DPRE[i] for c, (i, j) in enumerate(PAIRS)),
                     "rerun: per-pre delays not restored from the edges")


def check_refusals(args, wd):
    base = config_text()
    cases = [
        ("plasticity: {STDP_Song2000:", "plasticity: {NoSuchRule:",
         "unknown plasticity rule 'NoSuchRule'"),
        ("song: {pre: S, post: E, synapse: Exponential, tau: 5 ms",
         "song: {pre: S, post: E, synapse: AMPA",
         "needs a synapse linear in the spike train"),
        ("delay: 0.5 ms,\n", "delay: 0.5 ms, comp_method: dense,\n",
         "needs sparse storage"),
        ("A1: 0.02, A2: 0.025, W_min: 0, W_max: 1",
         "A1: 0.02, A2: 0.025, W_min: 2, W_max: 1",
         "W_min must not exceed W_max"),
        ("delay: 0.5 ms,\n", "delay: {Uniform: [0.5 ms, 2 ms]},\n",
         "one delay per pre neuron"),
    ]
    for k, (old, new, msg) in enumerate(cases):
        assert old in base, old
        path = bstest.write_config(os.path.join(wd, "bad%d.yaml" % k),
                                   base.replace(old, new, 1))
        p = bstest.run(args, ["run", path, "-o", os.path.join(wd, "bad.h5"), "--overwrite"],
                       np=2, check=False)
        err = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and msg in err,
                     "refusal %d: expected '%s', got rc %d: %s"
                     % (k, msg, p.returncode, err[-400:]))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "stdp")
    cfg = bstest.write_config(os.path.join(wd, "stdp.yaml"), config_text())
    runs = {}
    for np_ in (1, 2, 3, 4):
        h5 = os.path.join(wd, "stdp_np%d.h5" % np_)
        bstest.run(args, ["run", cfg, "-o", h5, "--overwrite"], np=np_)
        runs[np_] = read(h5)
    check_reference(runs[1])
    for np_ in (2, 3, 4):
        for key, v in runs[1].items():
            o = runs[np_].get(key)
            bstest.check(o is not None and o.shape == v.shape
                         and o.tobytes() == v.tobytes(),
                         "%s differs between 1 and %d ranks" % (key, np_))
    check_edges(args, wd, runs[1], os.path.join(wd, "stdp_np1.h5"))
    text = config_text()
    unf = bstest.write_config(os.path.join(wd, "unfused.yaml"), text.replace(
        "  - {spikes: all}\n",
        "  - {spikes: all}\n  - {population: E, variables: [input]}\n", 1))
    h5 = os.path.join(wd, "unfused.h5")
    bstest.run(args, ["run", unf, "-o", h5, "--overwrite", "-q"], np=1)
    o = read(h5)
    for key, v in runs[1].items():
        bstest.check(key in o and o[key].tobytes() == v.tobytes(),
                     "unfused update (input monitor): %s differs" % key)
    ck, cko = os.path.join(wd, "ck"), os.path.join(wd, "stdp_ck.h5")
    for np_ in (3, 4):
        p = bstest.run(args, ["run", cfg, "-o", cko, "--overwrite", "-q",
                              "--checkpoint-every", "100ms",
                              "--checkpoint-dir", ck], np=2)
        bstest.check("checkpoint at t = 200.0 ms" in p.stdout,
                     "no checkpoint at 200 ms:\n" + p.stdout)
        bstest.run(args, ["run", cfg, "--restore",
                          os.path.join(ck, "ckpt.h5"), "-q"], np=np_)
        o = read(cko)
        for key, v in runs[1].items():
            bstest.check(key in o and o[key].tobytes() == v.tobytes(),
                         "restart at %d ranks from 200 ms: %s differs"
                         % (np_, key))
    check_refusals(args, wd)
    bstest.finish("stdp")


if __name__ == "__main__":
    main()

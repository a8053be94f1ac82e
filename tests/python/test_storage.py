"""Synapse storage, comp_method, per-pre delays and per-post E (issue 4
items 2, 4, 5, 10).

1. Bytes per synapse: `check` reports, per projection, what the build
   stored; it must equal the closed form: rows over the rank's table (the
   pre neurons with a local synapse and its own block of the pre
   population, n_t of them: n_t ids of 4 bytes + (n_t + 1) 32-bit row
   offsets, or (n_pre + 1) offsets without ids when that is no larger)
   + nnz * (2 column (16 bits, every post block here being under 65,536
   neurons) + 4 float weight if g_max varies + 1/2 byte delay if
   the delay varies, 2 when it exceeds 255 steps) + 4 per row for per-pre
   delays, and stay within 4.5 B (homogeneous) and 12 B (both vary) for
   COBA-sized blocks. Here every pre neuron has a local target
   (0.975^1600 < 1e-17), so n_t = n_pre and the rows need no ids. With
   One2One over 1, 2 and 4 ranks each rank's table is exactly its own
   block: the bytes do not grow with the whole network.
2. Sparse and dense storage of the same connectivity give bitwise equal
   spikes and traces (recurrent network with drawn weights, per-pre delays
   and STP) at 1, 2 and 3 ranks.
3. A dense projection too large for BRAINSIM_MAX_MEMORY is refused by
   check and run before anything is built, naming it; dense with
   per-synapse delays and dense with a multapse are refused.
4. Delays: pre neurons spike once, at steps read from the output; through
   per-pre delays (an explicit list, exact) every target's V jumps at
   exactly n + 1 + d; with drawn per-pre delays all targets of one pre jump
   in the same step; drawn per-synapse delays land within their range; all
   bitwise equal at 1 and 3 ranks (targets on other ranks).
5. COBA with E per post neuron (a list): V[n+1] = V[n] + A (V_rest +
   g[n] (E_j - V[n]) - V[n]) for every post j (LIF exp_auto), to 1e-12;
   E drawn from an initializer is rank-invariant and inside its bounds.
6. Target widths: where a rank's block of the post population exceeds
   65,536 neurons, 16-bit differences along rows that ascend in steps
   below 65,536 (FixedProb, and IJ pairs with a weight and delay each,
   whose monitored w and delay are theirs) and 32-bit targets where a row
   does not (IJ pairs given descending, or a step of 65,600); 16-bit
   targets where the block does not exceed 65,536: bitwise identical runs
   (count ring and ring of doubles, per-synapse delays), with the column
   bytes 2, 4 and 2; the differences also through the compressed table
   (test_widths_table)."""
import math
import os
import re

import h5py
import numpy as np

import bstest


def check_out(args, cfg, np_=0, env=None):
    p = bstest.run(args, ["check", cfg], np=np_, check=False)
    return p


def proj_lines(stdout):
    """{name: (built synapses, built bytes per synapse)} from `check`."""
    out = {}
    for m in re.finditer(r"^projection (\S+) .*built (\d+), ([0-9.]+) bytes/synapse", stdout, re.M):
        out[m.group(1)] = (int(m.group(2)), float(m.group(3)))
    return out


def test_bytes(args, wd):
    n_e, n_i = 3200, 800
    cfg = bstest.write_config("%s/bytes.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms, seed: 5}
populations:
  E: {model: LIF, size: %d}
  I: {model: LIF, size: %d}
projections:
  hom: {pre: E, post: E, g_max: 0.6, delay: 1 ms, connect: {FixedProb: {prob: 0.025}}}
  wvar: {pre: E, post: I, g_max: {Uniform: [0.1, 0.9]}, connect: {FixedProb: {prob: 0.025}}}
  both: {pre: I, post: E, g_max: {Normal: [1, 0.1]}, delay: {Uniform: [0.1 ms, 5 ms]},
         connect: {FixedProb: {prob: 0.1}}}
  wide: {pre: E, post: E, g_max: {Normal: [1, 0.1]}, delay: {Uniform: [0.1 ms, 40 ms]},
         connect: {FixedProb: {prob: 0.025}}}
  perpre: {pre: E, post: I, g_max: 0.6, delay: {per: pre, Uniform: [1 ms, 3 ms]},
           connect: {FixedProb: {prob: 0.025}}}
""" % (n_e, n_i))
    npre = {"hom": n_e, "wvar": n_e, "both": n_i, "wide": n_e, "perpre": n_e}
    per = {"hom": 2, "wvar": 6, "both": 7, "wide": 8, "perpre": 2}
    p = bstest.run(args, ["check", cfg], np=0)
    got = proj_lines(p.stdout)
    for name, b in per.items():
        nnz, bps = got[name]
        exp = ((npre[name] + 1) * 4 + nnz * b + (4 * npre[name] if name == "perpre" else 0)) / nnz
        bstest.check(abs(bps - exp) < 0.006, "%s: %.3f bytes/synapse reported, closed form %.3f" % (name, bps, exp))
    bstest.check(got["hom"][1] <= 4.5, "homogeneous: %.3f > 4.5 bytes/synapse" % got["hom"][1])
    bstest.check(got["wide"][1] <= 12, "weight and delay vary: %.3f > 12 bytes/synapse" % got["wide"][1])
    # The run reports the same in /meta.
    o = "%s/bytes.h5" % wd
    bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=2)
    with h5py.File(o, "r") as f:
        m = f["meta"]
        tot = sum(got[k][0] for k in got)
        bstest.check(int(m.attrs["synapses"]) == tot, "/meta synapses %s != %d" % (m.attrs["synapses"], tot))
        b = float(f["meta/projections/hom"].attrs["bytes_per_synapse"])
        # each of the two ranks needs every pre neuron (all have a target
        # in either half): rows over all of them, no ids, on both
        exp = ((n_e + 1) * 8 + got["hom"][0] * 2) / got["hom"][0]
        bstest.check(abs(b - exp) < 1e-9, "/meta hom bytes_per_synapse at 2 ranks %.4f, expected %.4f" % (b, exp))
        bstest.check(float(m.attrs["wall_build"]) > 0, "/meta wall_build missing")
    print("bytes per synapse: %s" % ", ".join("%s %.2f" % (k, v[1]) for k, v in got.items()))
    # One2One: rank r's table is exactly its block's n_r pre neurons, each
    # with one synapse: N * 2 columns + (N + 1) * 4 row offsets on a rank
    # that keeps the identity (one rank; two, where n_r * 8 >= N * 4), else
    # its block compressed (bstest.ctab_bytes: ~1 byte a row): no term in
    # N beyond the rank's own block.
    n = 3000
    cfg = bstest.write_config("%s/one2one.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms, seed: 5}
populations:
  A: {model: LIF, size: %d}
  B: {model: LIF, size: %d}
projections:
  AB: {pre: A, post: B, g_max: 0.6, connect: One2One}
""" % (n, n))
    for np_ in (1, 2, 4):
        o = "%s/one2one_%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
        with h5py.File(o, "r") as f:
            b = int(f["meta/projections/AB"].attrs["bytes"])
        exp = 2 * n
        for r in range(np_):
            lo, hi = r * n // np_, (r + 1) * n // np_
            full = n * 4 <= (hi - lo) * 8
            exp += 4 * (n + 1) if full else bstest.ctab_bytes(range(lo, hi), [1] * (hi - lo))
        bstest.check(b == exp, "One2One on %d ranks: %d bytes, expected %d" % (np_, b, exp))


NET = """
run: {dt: 0.1 ms, duration: 60 ms, seed: 21}
populations:
  E: {model: LIF, size: 160, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms,
      tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  I: {model: LIF, size: 40, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms,
      tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  EE: {pre: E, post: E, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: {Uniform: [0.2, 1.0]},
       delay: {per: pre, Uniform: [0.2 ms, 2 ms]}, comp_method: %(cm)s,
       connect: {FixedProb: {prob: 0.2}}}
  EI: {pre: E, post: I, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.6, delay: 0.5 ms,
       comp_method: %(cm)s, stp: STD, connect: All2All}
  IE: {pre: I, post: E, tau: 10 ms, output: {COBA: {E: -80 mV}}, g_max: {Normal: [0.5, 0.1]},
       comp_method: %(cm)s, stp: STP, connect: {FixedProb: {prob: 0.3}}}
  II: {pre: I, post: I, synapse: Delta, g_max: -0.7, delay: 1 ms, comp_method: %(cm)s,
       connect: {All2All: {include_self: false}}}
inputs:
  - {target: E, current: 15}
  - {target: I, current: 15}
monitors:
  - {spikes: [E, I]}
  - {population: E, variables: [V], indices: [0, 7, 80, 159], every: 1}
  - {projection: IE, variables: [g], indices: [0, 50, 159], every: 1}
"""


def read_all(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in ("spikes/E/timestamps", "spikes/E/node_ids", "spikes/I/timestamps",
                                      "spikes/I/node_ids", "report/E/V/data", "report/IE/g/data")}


def test_dense(args, wd):
    res = {}
    for cm in ("sparse", "dense"):
        cfg = bstest.write_config("%s/net_%s.yaml" % (wd, cm), NET % {"cm": cm})
        for np_ in (1, 2, 3):
            if cm == "sparse" and np_ == 2:
                continue
            o = "%s/net_%s_np%d.h5" % (wd, cm, np_)
            bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_ if np_ > 1 else 0)
            res[(cm, np_)] = read_all(o)
    ref = res[("sparse", 1)]
    bstest.check(len(ref["spikes/E/node_ids"]) > 100, "the network hardly spikes (%d)" % len(ref["spikes/E/node_ids"]))
    for key, r in res.items():
        for k in ref:
            bstest.check(np.array_equal(ref[k], r[k]), "%s differs between sparse np1 and %s np%d" % (k, key[0], key[1]))
    print("sparse == dense bitwise at 1, 2, 3 ranks (%d E spikes)" % len(ref["spikes/E/node_ids"]))


def test_refusals(args, wd):
    big = bstest.write_config("%s/big.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms}
populations:
  A: {model: LIF, size: 200000}
projections:
  big: {pre: A, post: A, g_max: {Uniform: [0, 1]}, comp_method: dense, connect: {FixedProb: {prob: 0.001}}}
""")
    env_before = os.environ.get("BRAINSIM_MAX_MEMORY")
    os.environ["BRAINSIM_MAX_MEMORY"] = "2GiB"
    try:
        for cmd in ("check", "run"):
            p = bstest.run(args, [cmd, big, "-o", "%s/big.h5" % wd, "--overwrite"] if cmd == "run" else [cmd, big],
                           np=0, check=False)
            bstest.check(p.returncode != 0 and "projection 'big'" in p.stderr and "dense" in p.stderr
                         and "BRAINSIM_MAX_MEMORY" in p.stderr,
                         "%s of a too large dense projection: rc %d, %s" % (cmd, p.returncode, p.stderr.strip()))
    finally:
        if env_before is None:
            del os.environ["BRAINSIM_MAX_MEMORY"]
        else:
            os.environ["BRAINSIM_MAX_MEMORY"] = env_before
    bad = bstest.write_config("%s/dense_dl.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms}
populations:
  A: {model: LIF, size: 20}
projections:
  s: {pre: A, post: A, delay: {Uniform: [1 ms, 2 ms]}, comp_method: dense, connect: All2All}
""")
    p = bstest.run(args, ["check", bad], np=0, check=False)
    bstest.check(p.returncode != 0 and "dense_dl.yaml:6" in p.stderr and "per-synapse delays" in p.stderr,
                 "dense with per-synapse delays: %s" % p.stderr.strip())
    multi = bstest.write_config("%s/dense_multi.yaml" % wd, """
run: {dt: 0.1 ms, duration: 1 ms}
populations:
  A: {model: LIF, size: 4}
projections:
  s: {pre: A, post: A, comp_method: dense, connect: {IJ: [[0, 1], [2, 3], [0, 1]]}}
""")
    p = bstest.run(args, ["check", multi], np=0, check=False)
    bstest.check(p.returncode != 0 and "multapse pre 0 -> post 1" in p.stderr and "'s'" in p.stderr,
                 "dense with a multapse: %s" % p.stderr.strip())
    print("refusals: dense too large (check and run), dense per-synapse delays, dense multapse")


DELAYS = """
run: {dt: 0.1 ms, duration: 12 ms, seed: 8}
populations:
  pre: {model: LIF, size: 5, V_rest: 0, V_reset: 0, V_th: 1, tau: 10 ms, tau_ref: 1e6 ms,
        V_initializer: {Uniform: [0, 0.9]}}
  post: {model: LIF, size: 15, V_th: 1e9, V_rest: 0, V_reset: 0, tau: 1e6 ms}
projections:
  s: {pre: pre, post: post, synapse: Delta, g_max: 1.0, delay: %s, connect: {IJ: {i: %s, j: %s}}}
inputs: [{target: pre, current: 3}]
monitors:
  - {spikes: [pre]}
  - {population: post, variables: [V]}
"""


def run_delays(args, wd, name, delay, np_):
    I = [j % 5 for j in range(15)]
    cfg = bstest.write_config("%s/%s.yaml" % (wd, name), DELAYS % (delay, I, list(range(15))))
    o = "%s/%s_np%d.h5" % (wd, name, np_)
    bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_ if np_ > 1 else 0)
    with h5py.File(o, "r") as f:
        t = f["spikes/pre/timestamps"][()]
        ids = f["spikes/pre/node_ids"][()]
        V = f["report/post/V/data"][()]
    bstest.check(sorted(ids) == list(range(5)), "%s: each pre spikes once: %s" % (name, ids))
    n = {int(i): int(round(x / 0.1)) for i, x in zip(ids, t)}
    arrive = np.argmax(V != 0.0, axis=0)
    bstest.check(np.all(V[arrive, np.arange(15)] == 1.0), "%s: some post never jumped by 1" % name)
    return np.array([n[j % 5] for j in range(15)]), arrive, V


def test_delays(args, wd):
    cases = [("list_ms", "[0 ms, 0.3 ms, 1 ms, 2.5 ms, 0.1 ms]", [0, 3, 10, 25, 1]),
             ("list_steps", None, [7, 12, 5, 30, 9]),
             ("per_pre", "{per: pre, Uniform: [0.5 ms, 4 ms]}", None),
             ("per_syn", "{Uniform: [0.5 ms, 4 ms]}", None)]
    for name, delay, d in cases:
        out = {}
        for np_ in (1, 3):
            if name == "list_steps":
                cfg_delay = "%s" % d
                # delay_step: a list of whole steps
                txt = DELAYS.replace("delay: %s", "delay_step: %s")
                I = [j % 5 for j in range(15)]
                cfg = bstest.write_config("%s/%s.yaml" % (wd, name), txt % (cfg_delay, I, list(range(15))))
                o = "%s/%s_np%d.h5" % (wd, name, np_)
                bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_ if np_ > 1 else 0)
                with h5py.File(o, "r") as f:
                    t, ids, V = f["spikes/pre/timestamps"][()], f["spikes/pre/node_ids"][()], f["report/post/V/data"][()]
                nn = {int(i): int(round(x / 0.1)) for i, x in zip(ids, t)}
                n, arrive = np.array([nn[j % 5] for j in range(15)]), np.argmax(V != 0.0, axis=0)
            else:
                n, arrive, V = run_delays(args, wd, name, delay, np_)
            out[np_] = (n, arrive, V)
            if d is not None:
                exp = n + 1 + np.array([d[j % 5] for j in range(15)])
                bstest.check(np.array_equal(arrive, exp), "%s np %d: arrivals at steps %s, expected n + 1 + d = %s"
                             % (name, np_, arrive.tolist(), exp.tolist()))
            else:
                dd = arrive - n - 1
                bstest.check(dd.min() >= 5 and dd.max() <= 40, "%s np %d: delays %s outside [5, 40] steps"
                             % (name, np_, dd.tolist()))
                if name == "per_pre":
                    for pre in range(5):
                        bstest.check(len(set(dd[pre::5].tolist())) == 1,
                                     "per-pre delays: pre %d's targets got delays %s" % (pre, dd[pre::5].tolist()))
                else:
                    bstest.check(len(set(dd.tolist())) > 5, "per-synapse delays hardly vary: %s" % dd.tolist())
        bstest.check(np.array_equal(out[1][2], out[3][2]), "%s: V differs between 1 and 3 ranks" % name)
        print("delays %s: every target jumps at n + 1 + d (1 and 3 ranks)" % name)


E_NET = """
run: {dt: 0.1 ms, duration: 15 ms, seed: 4}
populations:
  pre: {model: LIF, size: 3, V_rest: 0, V_reset: 0, V_th: 1, tau_ref: 1 ms}
  post: {model: LIF, size: 6, V_rest: -60, V_reset: -60, V_th: 1e9, tau: 10 ms,
         V_initializer: {Uniform: [-70, -50]}}
projections:
  s: {pre: pre, post: post, synapse: Exponential, tau: 3 ms, g_max: 0.05,
      output: {COBA: {E: %s}}, connect: All2All}
inputs: [{target: pre, current: 20}]
monitors:
  - {population: post, variables: [V]}
  - {projection: s, variables: [g]}
"""


def test_E(args, wd):
    E = [0.0, -80.0, -20.0, 10.0, -65.0, -45.0]
    A = -math.expm1(-0.1 / 10.0)
    for np_ in (1, 2):
        cfg = bstest.write_config("%s/E_list.yaml" % wd, E_NET % ("[%s]" % ", ".join("%g mV" % e for e in E)))
        o = "%s/E_list_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_ if np_ > 1 else 0)
        with h5py.File(o, "r") as f:
            V, g = f["report/post/V/data"][()], f["report/s/g/data"][()]
        bstest.check(g.max() > 0.01, "no conductance")
        pred = V[:-1] + A * (-60.0 + g[:-1] * (np.array(E)[None, :] - V[:-1]) - V[:-1])
        err = np.max(np.abs(pred - V[1:]))
        bstest.check(err < 1e-12, "np %d: V[n+1] vs V[n] + A (V_rest + g (E_j - V) - V): max error %.3g" % (np_, err))
    res = {}
    for np_ in (1, 2):
        cfg = bstest.write_config("%s/E_init.yaml" % wd, E_NET % "{Uniform: [-80 mV, 0 mV]}")
        o = "%s/E_init_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_ if np_ > 1 else 0)
        with h5py.File(o, "r") as f:
            V, g = f["report/post/V/data"][()], f["report/s/g/data"][()]
        res[np_] = V
        k = np.argmax(g[:, 0] > 0.01)
        Ej = ((V[k + 1] - V[k]) / A + 60.0 + V[k]) / g[k] + V[k]
        bstest.check(np.all(Ej > -80.001) and np.all(Ej < 0.001) and len(set(np.round(Ej, 6))) == 6,
                     "drawn E per post: %s" % Ej)
    bstest.check(np.array_equal(res[1], res[2]), "drawn E: V differs between 1 and 2 ranks")
    print("per-post E: g (E_j - V_j) for 6 neurons to 1e-12 (list), drawn E rank-invariant")


# f's rows ascend in steps below 65,536: 16-bit differences at 1 rank,
# with a weight and delay per synapse, some monitored.
F_POSTS = [x for i in range(40) for x in (10 + i, 60000 + i, 69990 - i)]
F_SYN = [[0, 10], [5, 60005], [39, 69951], [20, 30]]

WIDTHS_NET = """
run: {dt: 0.1 ms, duration: 20 ms, seed: 9}
populations:
  P: {model: PoissonGroup, size: 40, freqs: 300 Hz}
  E: {model: LIF, size: 70000, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 10 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  c: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
      g_max: 0.5, connect: {FixedProb: {prob: 0.05}}}
  d: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: CUBA,
      g_max: {Uniform: [0.5, 1.5]}, delay: {Uniform: [0.1 ms, 2 ms]},
      connect: {FixedProb: {prob: 0.05}}}
  e: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
      g_max: 2.0, connect: {IJ: {i: %s, j: %s}}}
  h: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
      g_max: 2.0, connect: {IJ: {i: %s, j: %s}}}
  f: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: CUBA,
      connect: {IJ: {i: %s, j: %s, g_max: %s, delay: %s}}}
monitors:
  - {spikes: all}
  - {population: E, variables: [V], indices: [0, 34999, 35000, 65535, 65536, 69999]}
  - {projection: f, variables: [w, delay], synapses: %s}
""" % ([i for i in range(40) for _ in (0, 1)],
       [x for i in range(40) for x in (69999 - i, 3 * i)],
       [i for i in range(40) for _ in (0, 1)], [x for i in range(40) for x in (i, 65600 + i)],
       [i for i in range(40) for _ in (0, 1, 2)], F_POSTS,
       [0.5 + 0.01 * k for k in range(120)], ["%g ms" % (0.1 * (k % 20)) for k in range(120)],
       F_SYN)


def test_widths(args, wd):
    cfg = bstest.write_config("%s/widths.yaml" % wd, WIDTHS_NET)
    out, col = {}, {}
    for np_ in (1, 2):
        out[np_] = "%s/widths_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", out[np_], "--overwrite", "-q"], np=np_)
        with h5py.File(out[np_], "r") as f:
            fw, fd = f["report/f/w/data"][0], f["report/f/delay/data"][0]
            for j in ("c", "e", "f", "h"):
                a = f["meta/projections/" + j].attrs
                nnz, b = int(a["synapses"]), int(a["bytes"])
                col[np_, j] = (b - np_ * 41 * 4) / nnz  # less the rows: 41 offsets a rank
            n_spk = len(f["spikes/E/node_ids"])
    bstest.check(n_spk > 100, "only %d spikes of E" % n_spk)
    want = {(1, "c"): 2, (1, "e"): 4, (1, "f"): 7, (1, "h"): 4,
            (2, "c"): 2, (2, "e"): 2, (2, "f"): 7, (2, "h"): 2}
    bstest.check(col == want, "column bytes %s; expected %s (1 rank: 70,000 posts, FixedProb's rows as "
                 "16-bit differences, in 32 bits IJ's descending ones (e) and those with a step of "
                 "65,600 (h); f: + 4 weight + 1 delay; 2 ranks: 35,000, 16 bits)" % (col, want))
    # the monitored synapses' w and delay (the last run's) are theirs in the lists
    k = [F_POSTS.index(j, 3 * i) for i, j in F_SYN]
    bstest.check(np.array_equal(fw, np.float32([0.5 + 0.01 * q for q in k]).astype(np.float64)),
                 "f's monitored w %s" % fw)
    bstest.check(np.array_equal(fd, [q % 20 for q in k]), "f's monitored delays %s" % fd)
    bstest.check(bstest.identical(out[1], out[2]), "16-bit differences, 32-bit and 16-bit targets differ")
    print("targets: 1 rank (70,000 posts) 16-bit differences (FixedProb, IJ with weights and delays) and "
          "32-bit (IJ descending, a step of 65,600), 2 ranks 16-bit; bitwise identical (%d spikes)" % n_spk)


TABLE_NET = """
run: {dt: 0.1 ms, duration: 20 ms, seed: 9}
populations:
  P: {model: PoissonGroup, size: 20000, freqs: 300 Hz}
  E: {model: LIF, size: 140000, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 10 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  t: {pre: P, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
      g_max: 3.0, connect: {IJ: {i: %s, j: %s}}}
monitors:
  - {spikes: all}
  - {population: E, variables: [V], indices: [10, 60005, 70010, 139999]}
"""


def test_widths_table(args, wd):
    """16-bit differences read through the compressed table: at 2 ranks
    each needs 100 of P's 20,000 (pre 100 i, i < 100, reaches posts below
    70,000 only), so the rows are found through the table (ctab.c); 70,000
    posts a rank, each row ascending in steps below 65,536. The same pairs
    listed in descending order within each row store 32-bit targets:
    exactly 2 bytes more per synapse, the same table, and bitwise the same
    run, at 1 (32-bit both ways: rows of P >= 100 start above 65,535), 2
    and 4 ranks (35,000 posts: 16-bit targets)."""
    rows = [(i, [(i % 100) + 70000 * (i >= 100) + x for x in (10, 30000, 60000)[: 2 + (i % 3 == 0)]])
            for i in range(200)]
    res = {}
    for order in ("up", "down"):
        ii = [100 * i for i, r in rows for _ in r]
        jj = [j for _, r in rows for j in (r if order == "up" else r[::-1])]
        cfg = bstest.write_config("%s/table_%s.yaml" % (wd, order), TABLE_NET % (ii, jj))
        for np_ in (1, 2, 4):
            o = "%s/table_%s_np%d.h5" % (wd, order, np_)
            bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
            with h5py.File(o, "r") as f:
                a = f["meta/projections/t"].attrs
                res[order, np_] = (o, int(a["synapses"]), int(a["bytes"]), len(f["spikes/E/node_ids"]))
    nnz = res["up", 2][1]
    bstest.check(res["up", 2][3] > 50, "only %d spikes of E" % res["up", 2][3])
    bstest.check(res["down", 2][2] - res["up", 2][2] == 2 * nnz,
                 "2 ranks: %d bytes with descending rows, %d ascending; expected %d more (%d synapses)"
                 % (res["down", 2][2], res["up", 2][2], 2 * nnz, nnz))
    bstest.check(res["down", 1][2] == res["up", 1][2] and res["down", 4][2] == res["up", 4][2],
                 "bytes at 1 and 4 ranks differ with the rows' order: %s" % res)
    for key in res:
        bstest.check(bstest.identical(res["up", 1][0], res[key][0]), "run %s differs from 1 rank's" % (key,))
    print("table: 16-bit differences through the compressed table at 2 ranks (%d synapses, 2 bytes fewer "
          "each than 32-bit), bitwise equal to 32-bit and 16-bit targets at 1, 2 and 4 ranks" % nnz)


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "storage")
    test_bytes(args, wd)
    test_dense(args, wd)
    test_refusals(args, wd)
    test_delays(args, wd)
    test_E(args, wd)
    test_widths(args, wd)
    test_widths_table(args, wd)
    bstest.finish("storage")


if __name__ == "__main__":
    main()

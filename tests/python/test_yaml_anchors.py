#!/usr/bin/env python3
"""YAML anchors, aliases and merge keys (issue 11 item 8).

1. A config written with anchors under `definitions:`, merge keys
   (`<<: *lif` with keys of its own that win, `<<: [*a, *b]`), aliases as
   values (`V_initializer: *v0`), as list items (`- *mon`) and inside
   lists, runs bitwise the same as the same config written out by hand,
   at 1 and 2 ranks; `--set` reaches a merged key.
2. Errors inside a value that came through an alias or a merge key name
   the line and column where it is used (the alias or the `<<`), and the
   anchor's line: a wrong unit, an unknown key, a bad initializer; an
   alias of an unknown anchor and a merge of a scalar are refused at
   their place."""
import re

import h5py
import numpy as np

import bstest

ANCHORED = """run: {dt: 0.1 ms, duration: 60 ms, seed: 8}
definitions:
  lif: &lif {model: LIF, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms, tau_ref: 5 ms}
  fast: &fast {tau: 10 ms, tau_ref: 2 ms}
  v0: &v0 {Uniform: [-60 mV, -50 mV]}
  exc: &exc {synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.6}
  mon: &mon {population: E, variables: [V], indices: &first [0, 1, 2]}
  one: &one 1
populations:
  E: {<<: *lif, size: 80, V_initializer: *v0}
  I:
    <<: [*fast, *lif]
    size: 20
    V_initializer: *v0
projections:
  EE: {<<: *exc, pre: E, post: E, connect: {FixedProb: {prob: 0.1}}}
  EI: {<<: *exc, pre: E, post: I, g_max: 0.3, connect: {FixedProb: {prob: 0.1}}}
inputs:
  - {target: E, current: 12}
  - {target: I, indices: *first, current: 14}
monitors:
  - {spikes: [E, I]}
  - *mon
  - {population: I, variables: [V], indices: [*one, 3]}
"""

EXPANDED = """run: {dt: 0.1 ms, duration: 60 ms, seed: 8}
populations:
  E: {model: LIF, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms, tau_ref: 5 ms, size: 80,
      V_initializer: {Uniform: [-60 mV, -50 mV]}}
  I: {model: LIF, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 10 ms, tau_ref: 2 ms, size: 20,
      V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  EE: {synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.6, pre: E, post: E,
       connect: {FixedProb: {prob: 0.1}}}
  EI: {synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.3, pre: E, post: I,
       connect: {FixedProb: {prob: 0.1}}}
inputs:
  - {target: E, current: 12}
  - {target: I, indices: [0, 1, 2], current: 14}
monitors:
  - {spikes: [E, I]}
  - {population: E, variables: [V], indices: [0, 1, 2]}
  - {population: I, variables: [V], indices: [1, 3]}
"""


def read(path):
    with h5py.File(path, "r") as f:
        return [f[k][()] for k in ("spikes/E/timestamps", "spikes/E/node_ids", "spikes/I/timestamps",
                                   "spikes/I/node_ids", "report/E/V/data", "report/I/V/data")]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "yaml_anchors")
    anchored = ANCHORED
    a = bstest.write_config("%s/anchored.yaml" % wd, anchored)
    e = bstest.write_config("%s/expanded.yaml" % wd, EXPANDED)
    ref = None
    for cfg, name in ((e, "expanded"), (a, "anchored")):
        for np_ in (1, 2):
            out = "%s/%s_np%d.h5" % (wd, name, np_)
            bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
            r = read(out)
            if ref is None:
                ref = r
                bstest.check(r[0].size > 0 and r[2].size > 0, "no spikes (vacuous)")
            bstest.check(all(np.array_equal(x, y) for x, y in zip(r, ref)),
                         "%s at %d ranks differs from the expanded config at 1 rank" % (name, np_))
    # --set reaches a merged key: the same as editing the expanded config
    o1, o2 = "%s/set_a.h5" % wd, "%s/set_e.h5" % wd
    bstest.run(args, ["run", a, "-o", o1, "--overwrite", "-q", "--set", "populations.I.tau=15ms"], np=0)
    bstest.run(args, ["run", e, "-o", o2, "--overwrite", "-q", "--set", "populations.I.tau=15ms"], np=0)
    bstest.check(all(np.array_equal(x, y) for x, y in zip(read(o1), read(o2))) and
                 not all(np.array_equal(x, y) for x, y in zip(read(o1), ref)),
                 "--set on a merged key: not the same as on the expanded config")
    print("anchored config = expanded config, bitwise, at 1 and 2 ranks; --set reaches merged keys")
    # errors name the place of use
    bad = [
        (anchored.replace("tau: 20 ms, tau_ref: 5 ms}", "tau: 20 mV, tau_ref: 5 ms}"), 10, 7, 3,
         "parameter 'tau': expected a time value in ms, got '20 mV'"),
        (anchored.replace("tau: 10 ms, tau_ref: 2 ms}", "tau: 10 ms, tau_rf: 2 ms}"), 12, 5, 4,
         "unknown key 'tau_rf'"),
        (anchored.replace("{Uniform: [-60 mV, -50 mV]}", "{Uniform: [-50 mV, -60 mV]}"), 10, 43, 5,
         "Uniform needs low < high"),
        (anchored.replace("V_initializer: *v0}", "V_initializer: *v9}"), 10, 43, None, "no anchor named 'v9'"),
        (anchored.replace("  E: {<<: *lif,", "  E: {<<: 3,"), 10, 7, None, "'<<' (a merge key) takes a mapping"),
    ]
    for k, (text, line, col, aline, frag) in enumerate(bad):
        c = bstest.write_config("%s/bad%d.yaml" % (wd, k), text)
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        where = r"bad%d\.yaml:%d:%d: error" % (k, line, col)
        ok = p.returncode != 0 and frag in msg and re.search(where, msg)
        if aline:
            ok = ok and ("from the anchor at line %d" % aline) in msg
        bstest.check(ok, "bad %d: expected %r at %d:%d (anchor line %s):\n%s" % (k, frag, line, col, aline, msg))
    bstest.finish("yaml_anchors")


if __name__ == "__main__":
    main()

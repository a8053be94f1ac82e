#!/usr/bin/env python3
"""The seeds' spellings: ExpCOBA's `conn_type` and the synapses' `method`
(BrainPy 2.3's compatibility classes, issue 11 item 8).

1. `conn_type: sparse` / `conn_type: dense` choose the storage as
   `comp_method` does: a network written with them runs bitwise the same
   as with comp_method (and sparse the same as dense), with `method:
   exp_auto` / `exp_euler` (BrainPy's default) on every projection.
2. Refused at file:line:col, with the reason: `method: rk4` (synapse
   kinetics are integrated by exp_auto only), `conn_type: matrix`, and a
   conn_type that contradicts comp_method."""
import re

import h5py
import numpy as np

import bstest

NET = """run: {dt: 0.1 ms, duration: 80 ms, seed: 2}
populations:
  E: {model: LIF, size: 60, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms, tau_ref: 5 ms,
      V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  EE: {pre: E, post: E, synapse: ExpCOBA, tau: 5 ms, E: 0 mV, g_max: 0.6, %s
       connect: {FixedProb: {prob: 0.2}}}
  EA: {pre: E, post: E, synapse: DualExpCUBA, tau_decay: 10 ms, tau_rise: 1 ms, g_max: 0.2, %s
       connect: {FixedProb: {prob: 0.1}}}
inputs:
  - {target: E, current: 11}
monitors:
  - {spikes: [E]}
  - {population: E, variables: [V], indices: [0, 1]}
"""


def read(path):
    with h5py.File(path, "r") as f:
        return [f[k][()] for k in ("spikes/E/timestamps", "spikes/E/node_ids", "report/E/V/data")]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "compat_keys")
    forms = {"comp_method": ("comp_method: sparse,", "comp_method: dense,"),
             "conn_type": ("conn_type: sparse, method: exp_auto,", "conn_type: dense, method: exp_euler,"),
             "dense": ("comp_method: dense, conn_type: dense,", "conn_type: dense,")}
    ref = None
    for name, (a, b) in forms.items():
        cfg = bstest.write_config("%s/%s.yaml" % (wd, name), NET % (a, b))
        for np_ in (1, 2):
            out = "%s/%s_np%d.h5" % (wd, name, np_)
            bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
            r = read(out)
            if ref is None:
                ref = r
                bstest.check(r[0].size > 0, "no spikes (vacuous)")
            bstest.check(all(np.array_equal(x, y) for x, y in zip(r, ref)),
                         "%s at %d ranks differs from comp_method at 1 rank" % (name, np_))
    print("conn_type and method: bitwise the same as comp_method, sparse and dense, 1 and 2 ranks")
    bad = [("method: rk4,", "conn_type: dense,", "method 'rk4' is not available for synapses"),
           ("conn_type: matrix,", "conn_type: dense,", "conn_type 'matrix' is not available (available: sparse, dense)"),
           ("comp_method: sparse, conn_type: dense,", "conn_type: dense,", "conn_type 'dense' contradicts comp_method")]
    for k, (a, b, frag) in enumerate(bad):
        c = bstest.write_config("%s/bad%d.yaml" % (wd, k), NET % (a, b))
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and re.search(r"bad%d\.yaml:6:\d+: error" % k, msg),
                     "bad %r: expected %r at line 6:\n%s" % (a, frag, msg))
    bstest.finish("compat_keys")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Input targets: a population, a range or an index list, several inputs
adding up (issue 11 item 1).

Twelve sub-threshold LIF neurons get eight overlapping inputs: into all,
a range, index lists (one that is consecutive, `{range: [a, b]}`, and
ones scattered across the rank blocks), deterministic kinds (current,
section_input, sinusoidal_input), noise kinds (wiener_process, and
ou_process, whose state is kept per listed neuron) and a constant into V
(target_var: V).

1. The `input` monitor of every neuron equals the numpy sum of the
   deterministic inputs that list it (bitwise for the constants and
   sections, 1e-12 with the sine), plus noise exactly where a noise
   input lists it (0 elsewhere).
2. V of the neurons without noise follows the exp_auto recursion with
   that input and the V kicks (1e-12).
3. 1, 2, 3 and 4 ranks bitwise (the lists span the rank blocks); a run
   cut at 41.3 ms on 3 ranks and restored on 2 equals one long run (the
   OU state of the listed neurons comes back by neuron).
4. An index out of range, a repeated index and range with indices are
   refused at their file:line:col."""
import math
import re
import shutil

import h5py
import numpy as np

import bstest
from test_input_kinds import DT, T, pad, section, wave

TAU, V_REST = 10.0, -65.0
N = 12

CONFIG = """run: {dt: 0.1 ms, duration: 100 ms, seed: 9}
populations:
  P: {model: LIF, size: 12, V_rest: -65, V_reset: -70, V_th: 1e6, tau: 10 ms, R: 1, tau_ref: null,
      V_initializer: -65}
inputs:
  - {target: P, current: 1}
  - {target: P, indices: [0, 3, 4, 5, 11], section_input: {values: [0, 5, -2], durations: [20 ms, 50 ms, 10 ms]}}
  - {target: P, range: [2, 7], current: 0.5}
  - {target: P, indices: {range: [6, 9]}, sinusoidal_input: {amplitude: 3, frequency: 40 Hz, t_start: 10 ms}}
  - {target: P, indices: [10, 1, 4], current: 2}
  - {target: P, indices: [3, 7, 8], ou_process: {mean: 1, sigma: 0.4, tau: 4 ms}}
  - {target: P, indices: [2, 9], wiener_process: {t_start: 5 ms}}
  - {target: P, indices: [5, 11], target_var: V, current: 0.01}
monitors:
  - {population: P, variables: [V, input]}
"""


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "input_targets")
    cfg = bstest.write_config("%s/targets.yaml" % wd, CONFIG)
    runs = {}
    for np_ in (1, 2, 3, 4):
        out = "%s/t_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
        with h5py.File(out, "r") as f:
            runs[np_] = (f["report/P/V/data"][()], f["report/P/input/data"][()])
    for np_ in (2, 3, 4):
        bstest.check(np.array_equal(runs[np_][0], runs[1][0]) and np.array_equal(runs[np_][1], runs[1][1]),
                     "%d ranks differ from 1 rank" % np_)
    V, Iin = runs[1]
    I = np.zeros((T, N))
    I += 1.0
    sec = pad(section([0, 5, -2], [20, 50, 10]))
    for i in (0, 3, 4, 5, 11):
        I[:, i] += sec
    I[:, 2:7] += 0.5
    sw = wave("sin", 3, 40, 10, 100.0, False)
    for i in (6, 7, 8):
        I[:, i] += sw
    for i in (10, 1, 4):
        I[:, i] += 2.0
    noisy = {3, 7, 8, 2, 9}
    kick = np.zeros(N)
    kick[[5, 11]] = 0.01
    for i in range(N):
        d = np.abs(Iin[:, i] - I[:, i])
        if i in noisy:
            bstest.check(np.count_nonzero(d > 1e-9) > T // 2, "neuron %d: the noise input did not reach it" % i)
        else:
            tol = 1e-12 if i in (6,) else 0.0
            bstest.check(d.max() <= tol, "neuron %d: input differs from the sum of its inputs by %.3g" % (i, d.max()))
    A = -np.expm1(-DT / TAU)
    v = np.full(N, V_REST)
    Vref = np.empty((T, N))
    for n in range(T):
        v = v + kick  # into V before the sample and the integration
        Vref[n] = v
        v = v + A * (V_REST + I[n] - v)
    quiet = [i for i in range(N) if i not in noisy]
    err = np.max(np.abs(V[:, quiet] - Vref[:, quiet]))
    bstest.check(err <= 1e-12, "V of the noise-free neurons differs from the recursion by %.3g" % err)
    print("input sums exact; V of %d noise-free neurons within %.3g of the recursion; 1-4 ranks bitwise"
          % (len(quiet), err))
    # restore onto another rank count
    long_out = "%s/long.h5" % wd
    bstest.run(args, ["run", cfg, "-o", long_out, "--overwrite", "-q"], np=1)
    cut, ck = "%s/cut.h5" % wd, "%s/cut_ck" % wd
    shutil.rmtree(ck, ignore_errors=True)
    bstest.run(args, ["run", cfg, "-o", cut, "--overwrite", "-q", "--set", "run.duration=41.3 ms",
                      "--checkpoint-dir", ck], np=3)
    bstest.run(args, ["run", cfg, "--restore", ck + "/ckpt.h5", "-o", cut, "-q"], np=2)
    with h5py.File(long_out, "r") as f, h5py.File(cut, "r") as g:
        same = all(np.array_equal(f["report/P/%s/data" % k][()], g["report/P/%s/data" % k][()])
                   for k in ("V", "input"))
    bstest.check(same, "restored at 41.3 ms (3 -> 2 ranks): differs from one long run")
    bad = [("{target: P, indices: [0, 12], current: 1}", "index: 12 is out of range (at most 11)"),
           ("{target: P, indices: [3, 1, 3], current: 1}", "indices: 3 is listed twice"),
           ("{target: P, range: [0, 2], indices: [5], current: 1}", "give either range or indices, not both")]
    for k, (entry, frag) in enumerate(bad):
        c = bstest.write_config("%s/bad%d.yaml" % (wd, k), """run: {dt: 0.1 ms, duration: 10 ms}
populations: {P: {model: LIF, size: 12}}
inputs:
  - %s
""" % entry)
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and re.search(r"bad%d\.yaml:4:\d+: error" % k, msg),
                     "bad %r: expected %r at line 4:\n%s" % (entry, frag, msg))
    bstest.finish("input_targets")


if __name__ == "__main__":
    main()

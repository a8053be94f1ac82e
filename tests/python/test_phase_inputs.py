#!/usr/bin/env python3
"""A new protocol phase on restore (issue 11 item 7): inputs that start at
or after the checkpoint's time may be added or changed; every other
change is refused, naming the key.

Phase 1 (2 ranks, 50 ms, --checkpoint-dir): a Poisson-driven LIF
population with a constant current, an ou_process into ten neurons
(state in the checkpoint) and a sinusoidal_input that starts at 80 ms.
Phase 2 (restored on 3 ranks, 100 ms): the sine's amplitude changed, and
new inputs appended that start at 50, 55 and 60 ms (PoissonInput,
spike_input, ou_process). Its spikes and V report equal bitwise one
100 ms run of the phase-2 config from the start, at 1 rank.

Refused, naming `inputs` (or the key): a new input that starts before
50 ms, the constant current changed, the OU removed, a new later input
inserted before the OU (its noise is keyed by its place), and, as
before, a parameter of a population."""
import os
import shutil

import h5py
import numpy as np

import bstest

BASE = """run: {dt: 0.1 ms, duration: %s, seed: 13}
populations:
  P: {model: PoissonGroup, size: 40, freqs: 20 Hz}
  E: {model: LIF, size: 30, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: %s, tau_ref: 3 ms,
      V_initializer: {Uniform: [-60 mV, -52 mV]}}
projections:
  PE: {pre: P, post: E, synapse: Exponential, tau: 5 ms, g_max: 0.8, connect: {FixedProb: {prob: 0.3}}}
inputs:
%s
monitors:
  - {spikes: all}
  - {population: E, variables: [V]}
"""

CUR = "  - {target: E, current: %s}"
OU = "  - {target: E, indices: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], ou_process: {mean: 2, sigma: 1, tau: 5 ms}}"
SIN = "  - {target: E, range: [10, 20], sinusoidal_input: {amplitude: %s, frequency: 50 Hz, t_start: 80 ms}}"
NEW = ["  - {target: E, PoissonInput: {num_input: 50, freq: 40 Hz, weight: 0.5, t_start: 50 ms}}",
       "  - {target: E, indices: [3, 17], spike_input: {sp_times: [55 ms], sp_lens: 5 ms, sp_sizes: 8}}",
       "  - {target: E, range: [20, 30], ou_process: {mean: 1, sigma: 2, tau: 3 ms, t_start: 60 ms}}"]


def config(wd, name, inputs, dur="100 ms", tau="20 ms"):
    return bstest.write_config("%s/%s.yaml" % (wd, name), BASE % (dur, tau, "\n".join(inputs)))


def read(path):
    with h5py.File(path, "r") as f:
        return [f[k][()] for k in ("spikes/E/timestamps", "spikes/E/node_ids", "spikes/P/timestamps",
                                   "report/E/V/data")]


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "phase_inputs")
    phase1 = config(wd, "phase1", [CUR % 9, OU, SIN % 1], dur="50 ms")
    phase2_inputs = [CUR % 9, OU, SIN % 3] + NEW
    phase2 = config(wd, "phase2", phase2_inputs)
    long_out = "%s/long.h5" % wd
    bstest.run(args, ["run", phase2, "-o", long_out, "--overwrite", "-q"], np=1)
    out, ck = "%s/phased.h5" % wd, "%s/ck" % wd
    shutil.rmtree(ck, ignore_errors=True)
    bstest.run(args, ["run", phase1, "-o", out, "--overwrite", "-q", "--checkpoint-dir", ck], np=2)
    shutil.copy(out, out + ".phase1")
    p = bstest.run(args, ["run", phase2, "--restore", ck + "/ckpt.h5", "-o", out, "-q"], np=3, check=False)
    ok = bstest.check(p.returncode == 0, "phase 2 with new later inputs refused:\n%s%s" % (p.stdout, p.stderr))
    if ok:
        a, b = read(long_out), read(out)
        bstest.check(all(np.array_equal(x, y) for x, y in zip(a, b)),
                     "phase 2 (restored on 3 ranks) differs from one long run of its config")
        # the new inputs did something after 50 ms
        bstest.check(a[3].shape[0] == 1000 and a[0].size > 0,
                     "V report has %d rows, %d spikes of E" % (a[3].shape[0], a[0].size))
        print("phase 2: %d spikes of E, equal to one long run" % a[0].size)
    refused = [
        ("earlier", [CUR % 9, OU, SIN % 1,
                     "  - {target: E, sinusoidal_input: {amplitude: 1, frequency: 5 Hz, t_start: 40 ms}}"],
         "20 ms", "inputs differs"),
        ("changed", [CUR % 10, OU, SIN % 1], "20 ms", "inputs differs"),
        ("removed", [CUR % 9, SIN % 1], "20 ms", "inputs differs"),
        ("shifted", [CUR % 9, NEW[1], OU, SIN % 1], "20 ms", "inputs differs"),
        ("param", [CUR % 9, OU, SIN % 1], "25 ms", "populations.E.tau differs"),
    ]
    for name, inputs, tau, frag in refused:
        c = config(wd, "bad_" + name, inputs, tau=tau)
        o = "%s/bad_%s.h5" % (wd, name)
        shutil.copy(out + ".phase1", o)
        p = bstest.run(args, ["run", c, "--restore", ck + "/ckpt.h5", "-o", o, "-q"], np=2, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and "from a different run" in msg,
                     "%s: expected a refusal naming %r, got rc %d:\n%s" % (name, frag, p.returncode, msg))
    bstest.finish("phase_inputs")


if __name__ == "__main__":
    main()

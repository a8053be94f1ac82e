#!/usr/bin/env python3
"""SpikeTimeGroup (BrainPy's SpikeTimeGroup(size, indices, times)).

1. 600 listed spikes of 37 neurons, in random order: times on the grid
   (k * dt as a float, what brainsim writes), between steps, and a few
   of one neuron in one step. The output spikes must be exactly the
   expected ones, computed here independently: a time t fires in the
   first step n with n * dt >= t (BrainPy's `t >= times[i]` test),
   one spike per (neuron, step), sorted by time then id. At 1, 2 and 4
   ranks, inline lists and the same spikes from a SONATA spike file
   (written with h5py) alike.
2. A projection from it drives a LIF as expected: Exponential CUBA with
   a delay of 1 ms into sub-threshold LIF neurons; V must follow the
   recursion g[m] = g[m-1] e^(-dt/tau) + w (spikes of step m - 1 - d),
   V[n+1] = V[n] + A (V_rest + R g[n] - V[n]) within 1e-12. AMPA (a
   per-pre trace), Delta and an STP projection from the same source:
   their V traces bitwise the same at 1, 2 and 4 ranks.
3. A run cut by a checkpoint at 2 ranks and restored at 3 ranks with a
   longer duration gives the spikes and traces of one long run (the
   position in the list follows the step; the AMPA trace and STP state
   per pre neuron come back right onto 3 ranks, which needed independent
   checkpoint reads); a changed list is refused by name; two trials
   replay the list in each trial.
4. Bad lists are refused at their file:line:col.
5. `check`'s memory estimate counts the rows of a spike file."""
import math
import os
import re
import shutil

import h5py
import numpy as np

import bstest

DT = 0.1
T = 400  # steps
SIZE = 37


def first_step(t):
    """The first n with n * dt >= t, with the float arithmetic brainsim uses."""
    n = max(int(math.ceil(t / DT)), 0)
    while n > 0 and (n - 1) * DT >= t:
        n -= 1
    while n * DT < t:
        n += 1
    return n


def events():
    rng = np.random.default_rng(11)
    idx = list(rng.integers(0, SIZE, 500))
    times = [float(k) * DT for k in rng.integers(0, T + 20, 250)]  # on the grid (some beyond the end)
    times += list(rng.uniform(0.0, T * DT, 250))  # between steps
    idx += [5, 5, 5, 9, 9] + list(rng.integers(0, SIZE, 95))
    times += [3.0, 3.0, 2.95, 7.0, 7.0 - 1e-9] + list(rng.uniform(0.0, T * DT, 95))
    order = rng.permutation(len(idx))
    return [int(idx[i]) for i in order], [float(times[i]) for i in order]


def expected(idx, times, steps):
    pairs = sorted({(first_step(t), i) for i, t in zip(idx, times) if first_step(t) < steps})
    return (np.array([s * DT for s, _ in pairs]), np.array([i for _, i in pairs], dtype=np.uint64))


NET = """run: {dt: 0.1 ms, duration: %(dur)s, seed: 3%(trials)s}
populations:
  S: {model: SpikeTimeGroup, size: %(size)d, %(src)s}
  L: {model: LIF, size: 3, V_rest: -65, V_reset: -70, V_th: 1e6, tau: 10 ms, R: 1, tau_ref: null,
      V_initializer: -65}
  M: {model: LIF, size: 4, V_rest: -65, V_reset: -70, V_th: -50, tau: 10 ms, tau_ref: 2 ms,
      V_initializer: -65}
projections:
  SL: {pre: S, post: L, synapse: Exponential, tau: 5 ms, g_max: 0.05, delay: 1 ms, connect: All2All}
  SA: {pre: S, post: M, synapse: AMPA, g_max: 0.02, connect: {FixedProb: {prob: 0.5}}}
  SD: {pre: S, post: M, synapse: Delta, g_max: 0.3, delay_step: 3, connect: {FixedProb: {prob: 0.3}}}
  SP: {pre: S, post: M, synapse: Exponential, g_max: 0.4, stp: STP, connect: {FixedProb: {prob: 0.2}}}
monitors:
  - {spikes: [S, M]}
  - {population: L, variables: [V]}
  - {population: M, variables: [V]}
"""


def config(wd, name, src, dur="40 ms", trials=""):
    return bstest.write_config("%s/%s.yaml" % (wd, name), NET % {
        "dur": dur, "size": SIZE, "src": src, "trials": trials})


def read(path):
    with h5py.File(path, "r") as f:
        return {"t": f["spikes/S/timestamps"][()], "id": f["spikes/S/node_ids"][()],
                "Mt": f["spikes/M/timestamps"][()], "Mid": f["spikes/M/node_ids"][()],
                "L": f["report/L/V/data"][()], "M": f["report/M/V/data"][()]}


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "spiketime")
    idx, times = events()
    inline = "indices: %s, times: [%s]" % (idx, ", ".join(repr(t) for t in times))
    spk = "%s/in_spikes.h5" % wd
    with h5py.File(spk, "w") as f:  # SONATA, the same times in ms
        g = f.create_group("spikes/S")
        g.create_dataset("node_ids", data=np.array(idx, dtype=np.uint64))
        ts = g.create_dataset("timestamps", data=np.array(times))
        ts.attrs["units"] = "ms"
    cfgs = {"inline": (config(wd, "inline", inline), times),
            "file": (config(wd, "file", "times: {file: in_spikes.h5, population: S}"), times)}
    runs = {}
    for form, (cfg, tl) in cfgs.items():
        et, eid = expected(idx, tl, T)
        for np_ in (1, 2, 4):
            out = "%s/%s_np%d.h5" % (wd, form, np_)
            bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
            r = runs[form, np_] = read(out)
            ok = np.array_equal(r["t"], et) and np.array_equal(r["id"], eid)
            bstest.check(ok, "%s, %d ranks: %d spikes out, %d expected; first difference at %s"
                         % (form, np_, r["t"].size, et.size,
                            next((k for k in range(min(r["t"].size, et.size))
                                  if r["t"][k] != et[k] or r["id"][k] != eid[k]), None)))
        print("%s: %d listed times -> %d spikes, equal to the expected ones at 1, 2, 4 ranks"
              % (form, len(idx), et.size))
    for key in runs:
        for v in ("L", "M", "Mt", "Mid"):
            bstest.check(np.array_equal(runs[key][v], runs["inline", 1][v]),
                         "%s at %d ranks: %s differs from inline at 1 rank" % (key[0], key[1], v))
    # 2. The Exponential projection through the recursion.
    r = runs["inline", 1]
    et, eid = expected(idx, times, T)
    per_step = np.bincount(np.rint(et / DT).astype(int), minlength=T)
    d = 10
    decay, A, w = math.exp(-DT / 5.0), -math.expm1(-DT / 10.0), 0.05
    g, V = 0.0, -65.0
    Vref = np.empty(T)
    for n in range(T):
        Vref[n] = V
        g = g * decay + (w * per_step[n - 1 - d] if n - 1 - d >= 0 else 0.0)
        V = V + A * (-65.0 + g - V)
    err = np.max(np.abs(r["L"] - Vref[:, None]))
    bstest.check(err <= 1e-12, "Exponential from SpikeTimeGroup: V differs from the recursion by %.3g" % err)
    bstest.check(np.ptp(Vref) > 1.0, "the spikes left V near rest (vacuous)")
    bstest.check(r["Mt"].size > 0, "the AMPA/Delta/STP target never spiked")
    print("Exponential CUBA: max |V - recursion| = %.3g; M spiked %d times" % (err, r["Mt"].size))
    # 3. Checkpoint and restore onto another rank count, longer run.
    long_out = "%s/long.h5" % wd
    cfg = cfgs["inline"][0]
    bstest.run(args, ["run", cfg, "-o", long_out, "--overwrite", "-q", "--set", "run.duration=60 ms"], np=1)
    cut = "%s/cut.h5" % wd
    ck = "%s/cut_ck" % wd
    shutil.rmtree(ck, ignore_errors=True)
    bstest.run(args, ["run", cfg, "-o", cut, "--overwrite", "-q", "--set", "run.duration=23.7 ms",
                      "--checkpoint-dir", ck], np=2)
    bstest.run(args, ["run", cfg, "--restore", ck + "/ckpt.h5", "-o", cut, "-q",
                      "--set", "run.duration=60 ms"], np=3)
    a, b = read(long_out), read(cut)
    for v in ("t", "id", "Mt", "Mid", "L", "M"):
        bstest.check(np.array_equal(a[v], b[v]), "restored run: %s differs from one long run" % v)
    et60, _ = expected(idx, times, 600)
    bstest.check(np.array_equal(a["t"], et60), "60 ms run: spikes are not the expected ones")
    print("restore at 23.7 ms (2 ranks -> 3 ranks, 60 ms): %d spikes, equal to one long run" % a["t"].size)
    # A changed list is a different run.
    p = bstest.run(args, ["run", config(wd, "changed", inline.replace("indices: [", "indices: [%d, " % ((idx[0] + 1) % SIZE), 1).replace("times: [", "times: [0.0, ", 1)),
                          "--restore", ck + "/ckpt.h5", "-o", cut, "-q", "--set", "run.duration=60 ms"],
                   np=1, check=False)
    bstest.check(p.returncode != 0 and "populations.S.times differs" in p.stdout + p.stderr,
                 "a changed spike list was not refused by name:\n%s%s" % (p.stdout, p.stderr))
    # Trials replay the list.
    tr = "%s/trials.h5" % wd
    bstest.run(args, ["run", config(wd, "trials", inline, trials=", trials: 2"), "-o", tr, "--overwrite", "-q"], np=2)
    rt = read(tr)
    e40, i40 = expected(idx, times, T)
    bstest.check(np.array_equal(rt["t"], np.concatenate([e40, np.array([(round(x / DT) + T) * DT for x in e40])]))
                 and np.array_equal(rt["id"], np.concatenate([i40, i40])),
                 "two trials: the second does not replay the list")
    # 4. Refusals at file:line:col.
    bad = [
        ("indices: [0, 37], times: [1, 2]", "indices: 37 is out of range (at most 36)", 2),
        ("indices: [0, 1], times: [1, -2 ms]", "a spike time must be >= 0 ms", 2),
        ("indices: [0, 1, 2], times: [1, 2]", "indices has 3 entries and times 2", 2),
        ("indices: [0], times: {file: x.h5}", "indices come from the spike file", 2),
        ("indices: [0]", "missing required key 'times'", 2),
        ("indices: [0], times: [1 mV]", "expected a time value in ms", 2),
        ("times: [1]", "missing required key 'indices'", 2),
    ]
    for k, (src, frag, line) in enumerate(bad):
        c = config(wd, "bad%d" % k, src)
        p = bstest.run(args, ["check", c], np=0, check=False)
        msg = p.stdout + p.stderr
        bstest.check(p.returncode != 0 and frag in msg and re.search(r"bad%d\.yaml:%d:\d+: error" % (k, line + 1), msg),
                     "bad %r: expected %r at line %d, got rc %d:\n%s" % (src, frag, line + 1, p.returncode, msg))
    p = bstest.run(args, ["run", config(wd, "nofile", "times: {file: missing.h5}"), "-o", "%s/nofile.h5" % wd,
                          "--overwrite", "-q"], np=2, check=False)
    bstest.check(p.returncode != 0 and "missing.h5" in p.stdout + p.stderr,
                 "a missing spike file was not refused by name:\n%s%s" % (p.stdout, p.stderr))
    # 5. The memory estimate counts a spike file's rows before it is read:
    # 2^21 rows more raise `check`'s estimate by 40 bytes a row (8 kept,
    # 32 more while they are read and sorted), at 1 and at 2 ranks (each
    # rank the share of its neurons).
    big = "%s/big_spikes.h5" % wd
    nbig = 1 << 21
    with h5py.File(big, "w") as f:
        g = f.create_group("spikes/S")
        g.create_dataset("node_ids", data=np.arange(nbig, dtype=np.uint64) % SIZE)
        g.create_dataset("timestamps", data=np.linspace(0, 30, nbig)).attrs["units"] = "ms"
    units = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

    def estimate(cfg, np_):
        p = bstest.run(args, ["check", cfg], np=np_)
        m = re.search(r"memory estimate: ([0-9.]+) (B|KiB|MiB|GiB) on rank 0", p.stdout)
        bstest.check(m is not None, "check printed no memory estimate:\n%s" % p.stdout)
        return float(m.group(1)) * units[m.group(2)] if m else 0.0

    for np_ in (1, 2):
        small = estimate(cfgs["file"][0], np_)
        large = estimate(config(wd, "big", "times: {file: big_spikes.h5, population: S}"), np_)
        want = 40.0 * nbig * (SIZE // np_) / SIZE  # rank 0's block of neurons
        bstest.check(abs((large - small) - want) <= 0.02 * want,
                     "%d rank(s): a spike file of %d rows adds %.0f B to the estimate, expected %.0f"
                     % (np_, nbig, large - small, want))
        print("estimate, %d rank(s): +%.1f MiB for %d spike-file rows (expected %.1f)"
              % (np_, (large - small) / 2**20, nbig, want / 2**20))
    bstest.finish("spiketime")


if __name__ == "__main__":
    main()

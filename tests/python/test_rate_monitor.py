"""Population rate monitor (issue 11 item 6).

`{population: POP, variables: [rate]}` is a one-column report: row n holds
the population's spikes of step n over size x dt, in Hz (Brian2's
PopulationRateMonitor). Checked against an independent count of the
recorded spike times of the same run (a LIF population driven by a
PoissonGroup, and the PoissonGroup itself), bitwise identical at 1, 2 and
3 ranks, and continued from an end checkpoint at another rank count
bitwise identical to one run. `indices` and an `every` other than dt are
refused with file:line:col."""
import os
import shutil
import subprocess

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))

CFG = """run: {dt: 0.1 ms, duration: 300 ms, seed: 3}
populations:
  P: {model: PoissonGroup, size: 77, freqs: 40 Hz}
  E: {model: LIF, size: 50, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  PE: {pre: P, post: E, synapse: Exponential, tau: 5 ms, g_max: 1.5,
       delay: 1 ms, connect: {FixedProb: {prob: 0.2}}}
inputs:
  - {target: E, current: 8}
monitors:
  - {spikes: all}
  - {population: E, variables: [rate]}
  - {population: P, variables: [rate]}
"""


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "rate_monitor")
    shutil.rmtree(wd)
    os.makedirs(wd)
    cfg = bstest.write_config(wd + "/rate.yaml", CFG)
    outs = []
    for np_ in (1, 2, 3):
        o = "%s/rate_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "-q"], np=np_)
        outs.append(o)
    dt = 0.1
    with h5py.File(outs[0], "r") as f:
        for pop, size in (("E", 50), ("P", 77)):
            d = f["report/%s/rate/data" % pop]
            r = d[()]
            units = d.attrs["units"]
            units = units.decode() if isinstance(units, bytes) else units
            bstest.check(r.shape == (3000, 1), "%s rate shape %s" % (pop, r.shape))
            bstest.check(units == "Hz", "%s rate units %r" % (pop, units))
            t = f["spikes/%s/timestamps" % pop][()]
            bstest.check(len(t) > 100, "%s: %d spikes, too few to test" % (pop, len(t)))
            count = np.bincount(np.rint(t / dt).astype(np.int64), minlength=3000)[:3000]
            expect = count / (size * (dt * 1e-3))
            err = np.max(np.abs(r[:, 0] - expect))
            bstest.check(err <= 1e-9 * max(1.0, expect.max()),
                         "%s: rate differs from the spike count per step by %g Hz" % (pop, err))
            print("%s: rate = spikes per step / (size dt), max error %g Hz, mean %.2f Hz"
                  % (pop, err, r.mean()))
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "compare_runs.py")] + outs,
                       capture_output=True, text=True)
    bstest.check(p.returncode == 0, "rate reports differ between rank counts:\n" + p.stdout)
    print("rate reports identical at 1, 2, 3 ranks")
    # continued from an end checkpoint
    o = wd + "/phase.h5"
    bstest.run(args, ["run", cfg, "-o", o, "-q", "--set", "run.duration=120 ms",
                      "--checkpoint-dir", wd + "/ck"], np=3)
    bstest.run(args, ["run", cfg, "--restore", wd + "/ck/ckpt.h5", "-q"], np=2)
    p = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "compare_runs.py"), outs[0], o],
                       capture_output=True, text=True)
    bstest.check(p.returncode == 0, "120 ms + restore differs from one run:\n" + p.stdout)
    print("120 ms at 3 ranks + restore at 2 ranks: identical to one run")
    for extra, where, msg in (
            ("  - {population: E, variables: [rate], indices: [0, 1]}\n", "rate.yaml:15:40:",
             "takes no indices"),
            ("  - {population: E, variables: [rate], every: 1 ms, name: r2}\n", "rate.yaml:15:47:",
             "every step")):
        os.makedirs(wd + "/bad", exist_ok=True)
        bad = bstest.write_config(wd + "/bad/rate.yaml", CFG + extra)
        q = bstest.run(args, ["run", bad, "-o", wd + "/bad.h5", "-q", "--overwrite"], np=0,
                       check=False)
        bstest.check(q.returncode != 0 and where in q.stderr and msg in q.stderr,
                     "%r not refused at %s: %r" % (extra.strip(), where, q.stderr))
    bstest.finish("rate_monitor")


if __name__ == "__main__":
    main()

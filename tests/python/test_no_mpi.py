"""One process without a launcher runs without MPI (issue 14 item 4): no
MPI_Init, HDF5's POSIX driver, every collective the one-rank identity.
The same network is run three ways: without a launcher (the header says
"without MPI"), with BRAINSIM_MPI=1 (an MPI singleton) and under
mpiexec -n 1; the output files must be bitwise identical. A checkpoint
written without MPI restores under mpiexec -n 2, and one written on 2
ranks restores without MPI, both bitwise equal to the uninterrupted
run. An error without MPI still names the place and exits 1."""
import os
import re
import subprocess

import bstest

CONFIG = """run: {dt: 0.1 ms, duration: 60 ms, seed: 17}
populations:
  E: {model: LIF, size: 300, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 5 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  I: {model: LIF, size: 80, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 5 ms}
projections:
  EE: {pre: E, post: E, synapse: Exponential, tau: 5 ms, delay: 1 ms,
       output: {COBA: {E: 0 mV}}, g_max: 0.6, connect: {FixedProb: {prob: 0.1}}}
  EI: {pre: E, post: I, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}},
       g_max: 0.6, connect: {FixedProb: {prob: 0.1}}}
  IE: {pre: I, post: E, synapse: Exponential, tau: 10 ms, output: {COBA: {E: -80 mV}},
       g_max: 6.7, connect: {FixedProb: {prob: 0.1}}}
inputs: [{target: E, current: 20}, {target: I, current: 20}]
monitors:
  - {spikes: all}
  - {population: E, variables: [V], indices: [0, 7, 299]}
"""


def header(p):
    return p.stdout.splitlines()[0] if p.stdout else ""


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "no_mpi")
    cfg = bstest.write_config(wd + "/net.yaml", CONFIG)

    out = {}
    p = bstest.run(args, ["run", cfg, "-o", wd + "/alone.h5", "--overwrite"], np=0)
    bstest.check("(without MPI)" in header(p), "no launcher: header %r" % header(p))
    out["alone"] = wd + "/alone.h5"

    env = bstest.mpi_env()
    env["BRAINSIM_MPI"] = "1"
    cmd = [args.brainsim, "run", cfg, "-o", wd + "/singleton.h5", "--overwrite"]
    q = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    bstest.check(q.returncode == 0, "BRAINSIM_MPI=1 failed: %s" % q.stderr)
    bstest.check("without MPI" not in header(q), "singleton: header %r" % header(q))
    out["singleton"] = wd + "/singleton.h5"

    p = bstest.run(args, ["run", cfg, "-o", wd + "/np1.h5", "--overwrite"], np=1)
    bstest.check("without MPI" not in header(p), "mpiexec -n 1: header %r" % header(p))
    out["np1"] = wd + "/np1.h5"
    for k in ("singleton", "np1"):
        bstest.check(bstest.identical(out["alone"], out[k]),
                     "without MPI and %s: outputs differ" % k)
    print("without MPI = MPI singleton = mpiexec -n 1, bitwise")

    # Checkpoints across the two modes: stop at 30 ms, continue to 60 ms.
    for w, r in ((0, 2), (2, 0)):
        d = "%s/ck_%d_%d" % (wd, w, r)
        os.makedirs(d, exist_ok=True)
        bstest.run(args, ["run", cfg, "-o", d + "/first.h5", "--overwrite",
                          "--checkpoint-dir", d, "--set", "run.duration=30ms"], np=w)
        bstest.run(args, ["run", cfg, "-o", d + "/first.h5", "--restore",
                          d + "/ckpt.h5"], np=r)
        bstest.check(bstest.identical(out["alone"], d + "/first.h5"),
                     "checkpoint written on %s, restored on %s: differs from the "
                     "uninterrupted run" % (w or "no MPI", r or "no MPI"))
    print("checkpoint without MPI -> 2 ranks and 2 ranks -> without MPI: bitwise")

    bad = bstest.write_config(wd + "/bad.yaml", CONFIG.replace("tau: 10 ms", "tau: -10 ms"))
    p = bstest.run(args, ["run", bad, "-o", wd + "/bad.h5", "--overwrite"], np=0, check=False)
    bstest.check(p.returncode == 1, "bad config without MPI: exit %d" % p.returncode)
    bstest.check(re.search(r"bad\.yaml:\d+:\d+", p.stderr) is not None,
                 "bad config without MPI: no file:line:col in %r" % p.stderr)
    print("error without MPI: exit 1, %s" % p.stderr.strip().splitlines()[0][:100])
    bstest.finish("no_mpi")


if __name__ == "__main__":
    main()

"""MPI's count limit on every rank at once (issue 12).

One MPI call carries at most 2^31 - 1 values; BRAINSIM_MPI_MAX_COUNT
lowers that limit so the paths that refuse a larger message run here. A
PoissonGroup of 10 neurons at 1 kHz into 10 LIF neurons with a 10 ms delay
(exchange every 100 steps, ~100 spikes per exchange):

- limit 20 at 1, 2 and 3 ranks: the spike exchange is over the limit on
  some rank; every rank stops at that exchange (none is left inside the
  Alltoallv: the run ends within the timeout, without MPI_ABORT), exits
  non-zero, the over-limit rank names the counts and the limit, and the
  output is left readable and marked incomplete;
- limit 3 at 2 ranks: the exchange plan (5 source ids per rank) is
  refused at build the same way;
- limit 1000: the same run completes, and its output equals the run
  without a limit."""
import os
import subprocess

import h5py
import numpy as np

import bstest

NET = """
run: {dt: 0.1 ms, duration: 100 ms}
populations:
  P: {model: PoissonGroup, size: 10, freqs: 1000 Hz}
  L: {model: LIF, size: 10}
projections:
  PL: {pre: P, post: L, synapse: Exponential, delay: 10 ms, connect: All2All}
monitors:
  - {population: L, variables: [V]}
"""


def run(args, cfg, out, np_, limit):
    env = bstest.mpi_env()
    env.pop("BRAINSIM_MPI_MAX_COUNT", None)
    if limit:
        env["BRAINSIM_MPI_MAX_COUNT"] = str(limit)
    cmd = [args.mpiexec, "-n", str(np_), "--oversubscribe", args.brainsim, "run", cfg, "-o", out,
           "--overwrite", "-q"]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        bstest.fail("limit %s at %d ranks: hang (no exit within 120 s)" % (limit, np_))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "comm_limits")
    cfg = bstest.write_config(wd + "/net.yaml", NET)
    for np_ in (1, 2, 3):
        out = wd + "/lim%d.h5" % np_
        p = run(args, cfg, out, np_, 20)
        lines = [l for l in p.stderr.split("\n") if "spike exchange:" in l]
        bstest.check(p.returncode != 0, "limit 20 at %d ranks: exit 0" % np_)
        bstest.check(lines and all("more than the 20 one MPI call can carry" in l and "would send"
                                   in l for l in lines),
                     "limit 20 at %d ranks: message %r" % (np_, p.stderr[:500]))
        bstest.check("MPI_ABORT" not in p.stderr, "limit 20 at %d ranks: aborted" % np_)
        with h5py.File(out, "r") as f:
            bstest.check(int(f["meta"].attrs["complete"]) == 0,
                         "limit 20 at %d ranks: output marked complete" % np_)
        print("limit 20, %d rank(s): exit %d; %s" % (np_, p.returncode, lines[0] if lines else "?"))
    p = run(args, cfg, wd + "/plan.h5", 2, 3)
    bstest.check(p.returncode != 0 and "exchange plan:" in p.stderr
                 and "exceed the 3 one MPI call can carry" in p.stderr
                 and "MPI_ABORT" not in p.stderr,
                 "limit 3 (plan): exit %d, %r" % (p.returncode, p.stderr[:500]))
    print("limit 3, 2 ranks: exit %d; %s" % (p.returncode, [l for l in p.stderr.split("\n")
                                                             if "plan" in l][:1]))
    ref, big = wd + "/ref.h5", wd + "/big.h5"
    for out, limit in ((ref, None), (big, 1000)):
        p = run(args, cfg, out, 2, limit)
        bstest.check(p.returncode == 0, "limit %s: exit %d: %s" % (limit, p.returncode, p.stderr[:400]))
    with h5py.File(ref, "r") as a, h5py.File(big, "r") as b:
        same = np.array_equal(a["report/L/V/data"][()], b["report/L/V/data"][()])
    bstest.check(same, "limit 1000 changed the run")
    print("limit 1000, 2 ranks: completes, V identical to the run without a limit")
    bstest.finish("comm_limits")


if __name__ == "__main__":
    main()

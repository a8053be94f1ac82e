"""jobs/run.sbatch, jobs/sweep.sbatch and jobs/scaling.sbatch on a real
single-node SLURM (issue 5), with srun and with mpirun as the launcher.

All jobs are submitted at once (COBA, 200 ms, 2 ranks) and SLURM runs them
as the node's cores allow. Then:
- every job (and array task) is COMPLETED with exit code 0;
- run.sbatch under srun and under mpirun: complete outputs on 2 ranks
  with spikes in every population, identical to each other;
- sweep.sbatch, 3 array tasks over projections.EE.g_max = 0.4 0.6 0.8: one
  complete output per task, each recording its value in /meta/overrides;
  the task at 0.6 (the config's own value) is identical to run.sbatch's
  output, the others differ from it, and the E rate rises with g_max;
- scaling.sbatch, strong and weak (mpirun) and strong (srun) over 1 and 2
  ranks: the table has one row per run with the right rank and neuron
  counts, every output is complete, and the strong-scaling outputs are
  identical across rank counts."""
import os
import time

import h5py

import slurmtest


def main():
    args = slurmtest.parse_args(__doc__)
    s = slurmtest.Slurm(args, "slurm_jobs")
    coba = os.path.join(s.src, "configs", "coba.yaml")
    short = ["--set", "run.duration=200ms"]

    run_srun = s.submit("run.sbatch", [coba] + short, env={"LAUNCHER": "srun", "OUT": "run_srun.h5"},
                        opts=["--ntasks=2", "--output=run_srun.log"])
    run_mpirun = s.submit("run.sbatch", [coba] + short,
                          env={"LAUNCHER": "mpirun", "OUT": "run_mpirun.h5"},
                          opts=["--ntasks=2", "--output=run_mpirun.log"])
    sweep = s.submit("sweep.sbatch", [coba] + short,
                     env={"LAUNCHER": "srun", "OUTDIR": "sweep", "PARAM": "projections.EE.g_max",
                          "VALUES": "0.4 0.6 0.8"},
                     opts=["--array=0-2", "--ntasks=2", "--output=sweep_%a.log"])
    scale_m = s.submit("scaling.sbatch", [coba] + short,
                       env={"LAUNCHER": "mpirun", "MODE": "both", "RANKS": "1 2",
                            "OUTDIR": "scaling_mpirun"},
                       opts=["--ntasks=2", "--output=scaling_mpirun.log"])
    scale_s = s.submit("scaling.sbatch", [coba] + short,
                       env={"LAUNCHER": "srun", "OUTDIR": "scaling_srun"},
                       opts=["--ntasks=2", "--output=scaling_srun.log"])
    s.wait(list(s.jobs), timeout=200)
    for j in s.jobs:
        s.check_completed(j)

    # run.sbatch
    a, b = s.path("run_srun.h5"), s.path("run_mpirun.h5")
    counts = s.check_output(a, ranks=2)
    s.check_output(b, ranks=2)
    rc, msg = s.compare(a, b)
    s.check(rc == 0, "run.sbatch: srun and mpirun outputs differ:\n" + msg)
    s.log("run.sbatch: srun and mpirun outputs complete and identical, spikes %s" % counts)

    # sweep.sbatch
    rates = []
    for i, g in enumerate(["0.4", "0.6", "0.8"]):
        out = s.path("sweep", "coba-%d.h5" % i)
        s.check_output(out, ranks=2)
        with h5py.File(out, "r") as f:
            ov = f["meta/overrides"][()].decode()
            rates.append(float(f["meta/populations/E"].attrs["rate_hz"]))
        s.check("projections.EE.g_max=%s" % g in ov.splitlines(),
                "sweep task %d: /meta/overrides has no g_max=%s: %r" % (i, g, ov))
        rc, msg = s.compare(a, out)
        if g == "0.6":
            s.check(rc == 0, "sweep task %d (g_max 0.6, the config's value) differs from "
                    "run.sbatch's output:\n%s" % (i, msg))
        else:
            s.check(rc == 1, "sweep task %d (g_max %s) is identical to g_max 0.6" % (i, g))
    s.check(rates[0] < rates[1] < rates[2],
            "E rate does not rise with EE g_max 0.4, 0.6, 0.8: %s Hz" % rates)
    s.log("sweep.sbatch: 3 tasks, E rates %s Hz; the 0.6 task equals run.sbatch's output"
          % ", ".join("%.2f" % r for r in rates))

    # scaling.sbatch
    for outdir, expect in (("scaling_mpirun", [("strong", 1, 4000), ("strong", 2, 4000),
                                               ("weak", 1, 4000), ("weak", 2, 8000)]),
                           ("scaling_srun", [("strong", 1, 4000), ("strong", 2, 4000)])):
        table = s.path(outdir, "scaling.tsv")
        s.check(os.path.exists(table), "no scaling table %s" % table)
        lines = s.read(outdir, "scaling.tsv").splitlines()
        head = lines[0].split("\t")
        rows = [dict(zip(head, line.split("\t"))) for line in lines[1:]]
        for col in ("mode", "ranks", "neurons", "wall_run", "speedup", "efficiency", "file"):
            s.check(col in head, "%s: no column %s in %s" % (table, col, head))
        got = [(r["mode"], int(r["ranks"]), int(r["neurons"])) for r in rows]
        s.check(got == expect, "%s: rows %s, expected %s" % (table, got, expect))
        for r in rows:
            s.check(float(r["wall_run"]) > 0, "%s: wall_run %s" % (table, r["wall_run"]))
            s.check_output(os.path.join(s.wd, r["file"]), ranks=int(r["ranks"]))
        strong = [os.path.join(s.wd, r["file"]) for r in rows if r["mode"] == "strong"]
        rc, msg = s.compare(strong[0], strong[1])
        s.check(rc == 0, "%s: strong scaling outputs differ across rank counts:\n%s"
                % (outdir, msg))
        s.check("table: " in s.read(outdir + ".log"), "%s.log: no table printed" % outdir)
        s.log("scaling.sbatch (%s): table with %d rows" % (outdir.split("_")[1], len(rows)))
    print("slurm_jobs: run, sweep and scaling jobs pass (%.1f s)" % (time.time() - s.t0))


if __name__ == "__main__":
    main()

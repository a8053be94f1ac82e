"""jobs/requeue.sbatch on a real single-node SLURM (issue 5): a signal
mid-run makes the job checkpoint, requeue itself and continue from the
checkpoint, and the result is identical to an uninterrupted run.

COBA, 6 s simulated, 2 ranks, signalled once 1 s is done, three ways the
signal can come:
- srun, `scancel --batch --signal=USR1`: to the batch shell only, as
  `#SBATCH --signal=B:USR1@N` sends it; the script's trap forwards it to
  srun, which forwards it to the ranks;
- mpirun, the same: the trap forwards it to mpirun, which forwards it;
- srun, `scancel --signal=USR1`: to the srun tasks directly, as
  `#SBATCH --signal=USR1@N` sends it; the batch shell sees only srun's
  exit status 75.
Each time: the first start writes a checkpoint mid-run and exits 75, the
job requeues itself (Restarts=1), the second start continues from the
checkpoint, and the job ends COMPLETED with exit code 0 and an output
identical (tools/brainsim-analyze compare) to an uninterrupted run.
SLURM holds a requeued job for about two minutes (Reason=BeginTime); the
test shortens that with `scontrol update JobId=.. StartTime=now+3`. Not to
0: slurmd revokes the killed run's credential, to the second, and a start
within the same second fails ("Job credential revoked", JobState=FAILED)."""
import os
import re
import subprocess
import time

import h5py

import slurmtest

DURATION = "6s"
N_STEPS = 60000
SIGNAL_AFTER_MS = 1000.0  # signal once a progress line shows this much done


def main():
    args = slurmtest.parse_args(__doc__)
    s = slurmtest.Slurm(args, "slurm_requeue")
    coba = os.path.join(s.src, "configs", "coba.yaml")
    run_args = [coba, "--set", "run.duration=" + DURATION]

    ref = s.path("ref.h5")
    p = subprocess.run([args.mpiexec, "-n", "2", "--oversubscribe", os.path.abspath(args.brainsim),
                        "run"] + run_args + ["-o", ref, "-q"], env=s.env, capture_output=True,
                       text=True)
    s.check(p.returncode == 0, "uninterrupted run failed: %s%s" % (p.stdout, p.stderr))
    s.log("uninterrupted reference run done")

    for name, launcher, how in (("srun_batch", "srun", "batch"),
                                ("mpirun_batch", "mpirun", "batch"),
                                ("srun_steps", "srun", "steps")):
        out, log = "rq_%s.h5" % name, "rq_%s.log" % name
        jid = s.submit("requeue.sbatch", run_args + ["--progress-every", "0.2"],
                       env={"LAUNCHER": launcher, "OUT": out},
                       opts=["--ntasks=2", "--output=" + log])
        # Signal once the progress lines show SIGNAL_AFTER_MS simulated.
        t0 = time.time()
        while time.time() - t0 < 120:
            done = [float(x) for x in re.findall(r"\[brainsim\] t = ([0-9.]+) /",
                                                 s.read(log) if os.path.exists(s.path(log)) else "")]
            if done and done[-1] >= SIGNAL_AFTER_MS:
                break
            time.sleep(0.05)
        else:
            s.fail("job %s: not %g ms simulated within 120 s" % (jid, SIGNAL_AFTER_MS))
        cmd = ["scancel", "--signal=USR1"] + (["--batch"] if how == "batch" else []) + [jid]
        s.run(cmd)
        s.log("job %s running; sent %s" % (jid, " ".join(cmd)))
        t0 = time.time()
        while time.time() - t0 < 60:
            info = s.jobinfo(jid)
            if info and info[0].get("JobState") == "PENDING" and info[0].get("Restarts") == "1":
                break
            if info and info[0].get("JobState") in ("COMPLETED", "FAILED", "CANCELLED"):
                s.fail("job %s ended (%s, ExitCode %s) instead of requeueing" % (
                    jid, info[0].get("JobState"), info[0].get("ExitCode")))
            time.sleep(0.1)
        else:
            s.fail("job %s not requeued within 60 s of the signal: %s" % (jid, s.jobinfo(jid)))
        s.log("job %s requeued (%s); releasing it in 3 s" % (jid, info[0].get("Reason")))
        s.run(["scontrol", "update", "JobId=" + jid, "StartTime=now+3"])
        s.wait([jid], timeout=120)
        s.check_completed(jid, restarts=1)

        text = s.read(log)
        for want in (["SIGUSR1 received"] if how == "batch" else []) + [
                "checkpoint at t =", "status 75", "requeueing job " + jid,
                "start 2 on 2 ranks", "continuing from", "(continued)",
                "run complete after 2 start(s)"]:
            s.check(want in text, "job %s: %r not in its log" % (jid, want))
        if how == "steps":
            s.check("SIGUSR1 received" not in text,
                    "job %s: the batch shell got the signal meant for the tasks" % jid)
        # The signal's checkpoint is mid-run (the first one the log names);
        # a run with --checkpoint-dir also checkpoints at its end, so the
        # file left is the final one.
        times = [float(x) for x in re.findall(r"checkpoint at t = ([0-9.]+) ms", text)]
        step = round(times[0] / 0.1) if times else -1
        s.check(SIGNAL_AFTER_MS / 0.1 <= step < N_STEPS,
                "job %s: first checkpoint at step %d, not mid-run" % (jid, step))
        ck = s.path(out[:-3] + ".ckpt", "ckpt.h5")
        s.check(os.path.exists(ck), "job %s: no checkpoint %s" % (jid, ck))
        with h5py.File(ck, "r") as f:
            last = int(f["meta"].attrs["step"])
        s.check(last == N_STEPS, "job %s: the last checkpoint is at step %d, not the end %d"
                % (jid, last, N_STEPS))
        s.check_output(s.path(out), ranks=2)
        rc, msg = s.compare(ref, s.path(out))
        s.check(rc == 0, "job %s (%s, %s): requeued result differs from the uninterrupted "
                "run:\n%s" % (jid, launcher, how, msg))
        s.log("%s: checkpoint at t = %s ms (step %d), requeued, continued: identical to the "
              "uninterrupted run" % (name, times[0] if times else "?", step))
    print("slurm_requeue: 3 signal paths pass (%.1f s)" % (time.time() - s.t0))


if __name__ == "__main__":
    main()

"""Helpers for the tests that submit jobs/ to the test SLURM cluster that
tests/slurm/slurm-cluster started (CTest fixture `slurm`)."""
import argparse
import os
import shutil
import subprocess
import sys
import time

import h5py

SKIP = 77  # CTest SKIP_RETURN_CODE


def parse_args(doc):
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--brainsim", required=True)
    p.add_argument("--mpiexec", default="mpirun")
    p.add_argument("--source", required=True, help="repository root (jobs/, configs/, tools/)")
    p.add_argument("--workdir", required=True)
    p.add_argument("--cluster", required=True, help="the DIR of slurm-cluster start DIR")
    return p.parse_args()


class Slurm:
    """One test's view of the cluster: submit, wait, inspect, fail."""

    def __init__(self, args, name):
        self.args = args
        self.src = os.path.abspath(args.source)
        self.wd = os.path.join(os.path.abspath(args.workdir), name)
        self.name = name
        self.env = dict(os.environ)
        self.env["SLURM_CONF"] = os.path.join(args.cluster, "slurm.conf")
        self.env["BRAINSIM"] = os.path.abspath(args.brainsim)
        self.env["PATH"] = self.env.get("PATH", "") + ":/usr/sbin"
        for k in list(self.env):
            # Variables of an enclosing allocation would confuse sbatch.
            if k.startswith("SLURM_") and k != "SLURM_CONF":
                del self.env[k]
        self.jobs = []
        self.t0 = time.time()
        self.require_cluster()
        shutil.rmtree(self.wd, ignore_errors=True)
        os.makedirs(self.wd)

    def require_cluster(self):
        """Skip (exit 77) with the reason when the cluster is not up."""
        conf = self.env["SLURM_CONF"]
        rf = os.path.join(self.args.cluster, "skip-reason")
        reason = None
        if os.path.exists(rf):
            reason = open(rf).read().strip()
        elif not os.path.exists(conf):
            reason = "no %s (the test slurm_start did not run)" % conf
        else:
            p = self.run(["scontrol", "ping"], check=False)
            if p.returncode != 0 or "is UP" not in p.stdout:
                reason = "scontrol ping: " + ((p.stdout + p.stderr).strip().splitlines() or ["?"])[0]
        if reason:
            print("SKIPPED: the test SLURM cluster is not running: %s (see the output of the "
                  "test slurm_start; tools/install-deps --slurm installs SLURM)" % reason)
            sys.exit(SKIP)

    def run(self, cmd, check=True, **kw):
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, **kw)
        if check and p.returncode != 0:
            self.fail("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    def log(self, msg):
        print("[%5.1f s] %s" % (time.time() - self.t0, msg), flush=True)

    def submit(self, script, script_args, env=None, opts=()):
        """sbatch jobs/SCRIPT ... in the work folder; returns the job id."""
        cmd = ["sbatch", "--parsable", "--chdir", self.wd] + list(opts)
        cmd += [os.path.join(self.src, "jobs", script)] + list(script_args)
        saved = self.env
        self.env = dict(saved, **(env or {}))
        try:
            p = self.run(cmd)
        finally:
            self.env = saved
        jid = p.stdout.strip().split(";")[0]
        self.jobs.append(jid)
        self.log("submitted %s as job %s (%s)" % (script, jid, " ".join(
            "%s=%s" % kv for kv in sorted((env or {}).items()))))
        return jid

    def jobinfo(self, jid):
        """scontrol show job, one dict per job (an array gives one per task)."""
        p = self.run(["scontrol", "show", "job", "-o", str(jid)], check=False)
        out = []
        for line in p.stdout.splitlines():
            d = {}
            for tok in line.split():
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    d.setdefault(k, v)
            if d:
                out.append(d)
        return out

    def pending_or_running(self, jids):
        p = self.run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(jids)], check=False)
        return [line for line in p.stdout.splitlines() if line.strip()]

    def wait(self, jids, timeout):
        t0 = time.time()
        while time.time() - t0 < timeout:
            if not self.pending_or_running(jids):
                self.log("jobs %s done in %.1f s" % (",".join(jids), time.time() - t0))
                return
            time.sleep(0.3)
        self.fail("jobs still queued or running after %d s: %s"
                  % (timeout, self.pending_or_running(jids)))

    def check_completed(self, jid, restarts=None):
        infos = self.jobinfo(jid)
        self.check(infos, "job %s unknown to scontrol" % jid)
        for d in infos:
            tag = d.get("JobId", jid)
            if d.get("ArrayTaskId"):
                tag = "%s (array task %s)" % (tag, d["ArrayTaskId"])
            self.check(d.get("JobState") == "COMPLETED" and d.get("ExitCode") == "0:0",
                       "job %s: JobState=%s ExitCode=%s" % (tag, d.get("JobState"),
                                                           d.get("ExitCode")))
            if restarts is not None:
                self.check(d.get("Restarts") == str(restarts),
                           "job %s: Restarts=%s, expected %d" % (tag, d.get("Restarts"), restarts))
        return infos

    def path(self, *parts):
        return os.path.join(self.wd, *parts)

    def read(self, *parts):
        with open(self.path(*parts)) as f:
            return f.read()

    def compare(self, a, b):
        """tools/brainsim-analyze compare: 0 identical, 1 different."""
        p = self.run([os.path.join(self.src, "tools", "brainsim-analyze"), "compare", a, b],
                     check=False)
        if p.returncode not in (0, 1):
            self.fail("brainsim-analyze compare %s %s: exit %d\n%s%s"
                      % (a, b, p.returncode, p.stdout, p.stderr))
        return p.returncode, p.stdout + p.stderr

    def check_output(self, path, ranks=None):
        """A finished output: complete, spikes in every population."""
        self.check(os.path.exists(path), "no output %s" % path)
        with h5py.File(path, "r") as f:
            meta = f["meta"].attrs
            self.check(int(meta["complete"]) == 1, "%s: /meta@complete is not 1" % path)
            if ranks is not None:
                self.check(int(meta["ranks"]) == ranks,
                           "%s: ran on %d ranks, expected %d" % (path, int(meta["ranks"]), ranks))
            counts = {}
            for pop, g in f["meta/populations"].items():
                counts[pop] = int(g.attrs["spikes"])
                n = len(f["spikes/%s/node_ids" % pop])
                self.check(n == counts[pop], "%s: %s has %d spikes, /meta says %d"
                           % (path, pop, n, counts[pop]))
                self.check(n > 0, "%s: no spikes in %s" % (path, pop))
            return counts

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)

    def fail(self, msg):
        print("FAIL: " + msg, flush=True)
        self.dump_logs()
        self.cancel_all()
        sys.exit(1)

    def dump_logs(self):
        if not os.path.isdir(self.wd):
            return
        for fn in sorted(os.listdir(self.wd)):
            if fn.endswith(".log"):
                print("----- %s" % fn)
                print(self.read(fn)[-4000:])

    def cancel_all(self):
        if self.jobs:
            self.run(["scancel"] + self.jobs, check=False)

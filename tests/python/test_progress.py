"""brainsim's progress output (issue 6), with and without a terminal.

Runs configs/coba.yaml for 5 s of simulated time with --progress-every 0.1
(about a second of wall time on one core, so several progress reports):

- stdout a pipe: plain newline-terminated lines
  `[brainsim] t = T / D ms (P%)  wall W s  real-time factor R  ETA E s`,
  at least 3, with no carriage return or escape sequence, t increasing, the
  last at t = D (100%), each line consistent (P = 100 T / D), then the
  summary table;
- stdout a pseudo-terminal (Python's pty module, output post-processing off
  so the bytes are exactly what brainsim wrote): the same reports, each
  starting with \\r and ending with ESC[K (erase to end of line), no newline
  between them, and one newline after the last;
- the same under `script -qec CMD /dev/null` (a real terminal, with the
  tty's \\n -> \\r\\n translation) when the script utility is installed;
- under mpiexec with stdout a pipe, the situation of a batch job: plain
  lines are expected. Open MPI gives every local rank a pseudo-terminal as
  stdout whatever mpiexec's own stdout is, so brainsim currently sees a
  terminal there and writes \\r-rewritten lines into the log. That check is
  reported as a known failure (XFAIL) and fails the test only with
  --strict-mpi; it reports XPASS once brainsim handles it;
- where brainsim has `--progress MODE`: `lines` under mpiexec gives plain
  lines, `tty` forces rewriting into a pipe, and `auto` on a terminal inside
  a SLURM batch job (SLURM_JOB_ID set, no SLURM_PTY_PORT) gives plain
  lines."""
import math
import os
import pty
import re
import select
import shutil
import subprocess
import termios

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DURATION = 5000.0
LINE = re.compile(r"\[brainsim\] t = (\d+\.\d) / (\d+\.\d) ms \(\s*(\d+)%\)  wall (\d+\.\d) s  "
                  r"real-time factor (\d+\.\d\d)  ETA (\d+\.\d) s")


def command(args, wd, name):
    return [args.brainsim, "run", os.path.join(ROOT, "configs", "coba.yaml"),
            "--set", "run.duration=%g ms" % DURATION, "--progress-every", "0.1",
            "-o", os.path.join(wd, name + ".h5"), "--overwrite"]


def check_reports(texts, what):
    """texts: the progress reports (without \\r, ESC[K or newline)."""
    ok = bstest.check(len(texts) >= 3, "%s: %d progress reports, expected at least 3:\n%r"
                      % (what, len(texts), texts))
    last_t = -1.0
    for s in texts:
        m = LINE.fullmatch(s)
        if not bstest.check(m is not None, "%s: malformed progress report %r" % (what, s)):
            ok = False
            continue
        t, d, pct = float(m.group(1)), float(m.group(2)), int(m.group(3))
        ok &= bstest.check(d == DURATION, "%s: %r: duration %g, expected %g" % (what, s, d, DURATION))
        ok &= bstest.check(t >= last_t, "%s: time goes back in %r (after %g)" % (what, s, last_t))
        # The percentage is rounded down, so it shows 100 only at the end.
        ok &= bstest.check(pct == math.floor(100.0 * t / d + 1e-9),
                           "%s: %r: %d%% but t / duration = %.2f%%" % (what, s, pct, 100.0 * t / d))
        last_t = t
    if texts:
        m = LINE.fullmatch(texts[-1])
        ok &= bstest.check(m is not None and float(m.group(1)) == DURATION and m.group(3) == "100"
                           and float(m.group(6)) == 0.0,
                           "%s: the last report %r is not t = %g (100%%), ETA 0.0" % (what, texts[-1], DURATION))
    return ok


def plain_reports(out, what):
    """Progress reports of a non-terminal run: whole lines."""
    ok = bstest.check("\r" not in out and "\x1b" not in out,
                      "%s: output contains \\r or an escape sequence:\n%r" % (what, out[:2000]))
    lines = out.split("\n")
    texts = [ln for ln in lines if ln.startswith("[brainsim] t =")]
    ok &= bstest.check(all("[brainsim] t =" not in ln or ln.startswith("[brainsim] t =") for ln in lines),
                       "%s: a progress report does not start its line:\n%s" % (what, out))
    return texts, ok


def tty_reports(raw, what):
    """Progress reports of a terminal run: \\r REPORT ESC[K ... then \\n."""
    first = raw.find("\r[brainsim] t =")
    if not bstest.check(first >= 0, "%s: no \\r-rewritten progress in the output:\n%r" % (what, raw[:3000])):
        return [], False
    end = raw.rfind("\x1b[K")
    region = raw[first:end + 3]
    ok = bstest.check("\n" not in region,
                      "%s: newlines between the rewritten progress reports:\n%r" % (what, region[:3000]))
    ok &= bstest.check(raw[end + 3:end + 4] == "\n",
                       "%s: no newline after the last progress report: %r" % (what, raw[end:end + 40]))
    parts = region.split("\r")[1:]
    texts = []
    for p in parts:
        ok &= bstest.check(p.endswith("\x1b[K"), "%s: a report does not end with ESC[K: %r" % (what, p))
        texts.append(p[:-3] if p.endswith("\x1b[K") else p)
    ok &= bstest.check(raw[:first].count("\n") >= 2 and "\r" not in raw[:first],
                       "%s: the header before the progress is not plain lines: %r" % (what, raw[:first]))
    return texts, ok


def run_pipe(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                       env=env or bstest.mpi_env())
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_pty(cmd, env=None):
    """Run cmd with stdout a pseudo-terminal whose output post-processing is
    off, so no \\n -> \\r\\n translation; stderr is a pipe."""
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen(cmd, stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env or bstest.mpi_env())
    os.close(slave)
    chunks = []
    while True:
        r, _, _ = select.select([master], [], [], 300)
        if not r:
            proc.kill()
            break
        try:
            b = os.read(master, 65536)
        except OSError:      # EIO: the child closed the terminal
            break
        if not b:
            break
        chunks.append(b)
    os.close(master)
    err = proc.stderr.read().decode("utf-8", "replace")
    rc = proc.wait(timeout=60)
    return rc, b"".join(chunks).decode("utf-8", "replace"), err


def main():
    p = bstest.parser(__doc__)
    p.add_argument("--strict-mpi", action="store_true",
                   help="fail (instead of XFAIL) when mpiexec output to a pipe is not plain lines")
    args = p.parse_args()
    wd = bstest.workdir(args, "progress")

    # 1. stdout a pipe.
    rc, out, err = run_pipe(command(args, wd, "pipe"))
    if bstest.check(rc == 0, "pipe run: exit %d\n%s\n%s" % (rc, out, err)):
        texts, ok = plain_reports(out, "pipe")
        ok &= check_reports(texts, "pipe")
        bstest.check(out.endswith("\n"), "pipe: output does not end with a newline")
        after = out[out.rfind("[brainsim] t ="):]
        bstest.check("\npopulation" in after and "wall time" in after,
                     "pipe: the summary does not follow the progress lines:\n" + out)
        print("pipe: %d plain progress lines%s" % (len(texts), "" if ok else " (FAILED)"))
        for t in texts:
            print("    " + t)

    # 2. a pseudo-terminal (pty module, raw output).
    rc, raw, err = run_pty(command(args, wd, "pty"))
    if bstest.check(rc == 0, "pty run: exit %d\n%r\n%s" % (rc, raw[:3000], err)):
        texts, ok = tty_reports(raw, "pty")
        ok &= check_reports(texts, "pty")
        print("pty: %d \\r-rewritten progress reports, then a newline%s"
              % (len(texts), "" if ok else " (FAILED)"))
        print("    last: %r" % (texts[-1] if texts else None))

    # 3. script(1): a terminal with the usual \n -> \r\n translation.
    script = shutil.which("script")
    if script:
        cmd = " ".join("'%s'" % a for a in command(args, wd, "script"))
        rc, out, err = run_pipe([script, "-qec", cmd, "/dev/null"])
        if bstest.check(rc == 0, "script run: exit %d\n%r\n%s" % (rc, out[:3000], err)):
            texts, ok = tty_reports(out.replace("\r\n", "\n"), "script")
            ok &= check_reports(texts, "script")
            print("script -qec: %d \\r-rewritten progress reports%s"
                  % (len(texts), "" if ok else " (FAILED)"))
    else:
        print("script(1) not installed: skipped the script run (the pty run covers it)")

    # 4. mpiexec with stdout a pipe: what a batch job's log gets.
    cmd = [args.mpiexec, "-n", "1"] + command(args, wd, "mpi_pipe")
    rc, out, err = run_pipe(cmd)
    if bstest.check(rc == 0, "mpiexec pipe run: exit %d\n%s\n%s" % (rc, out, err)):
        if "\r" in out or "\x1b" in out:
            msg = ("mpiexec -n 1 with stdout a pipe (a batch job's log): brainsim wrote \\r-rewritten "
                   "progress with ESC[K into the pipe, because Open MPI gives rank 0 a "
                   "pseudo-terminal as stdout (isatty(1) is true under mpiexec): %r"
                   % out[out.find("\r"):out.find("\r") + 200])
            if args.strict_mpi:
                bstest.check(False, msg)
            else:
                print("XFAIL (known brainsim bug, not counted; --strict-mpi makes it fail): " + msg)
        else:
            texts, ok = plain_reports(out, "mpiexec pipe")
            ok &= check_reports(texts, "mpiexec pipe")
            print("XPASS: mpiexec with stdout a pipe gives %d plain progress lines; the known-bug "
                  "marker in test_progress.py can go" % len(texts) if ok else
                  "mpiexec pipe: plain lines but malformed")

    # 5. --progress MODE, where this brainsim has it: lines under mpiexec,
    #    tty forced into a pipe, and auto inside a SLURM batch job (a
    #    terminal, SLURM_JOB_ID set, no SLURM_PTY_PORT) gives lines.
    h = run_pipe([args.brainsim, "--help"])
    if "--progress MODE" not in h[1]:
        print("brainsim has no --progress MODE option: skipped its checks")
        bstest.finish("progress")
    rc, out, err = run_pipe([args.mpiexec, "-n", "1"] + command(args, wd, "mpi_lines")
                            + ["--progress", "lines"])
    if bstest.check(rc == 0, "mpiexec --progress lines: exit %d\n%s\n%s" % (rc, out, err)):
        texts, ok = plain_reports(out, "mpiexec --progress lines")
        ok &= check_reports(texts, "mpiexec --progress lines")
        print("mpiexec --progress lines: %d plain lines%s" % (len(texts), "" if ok else " (FAILED)"))
    rc, out, err = run_pipe(command(args, wd, "pipe_tty") + ["--progress", "tty"])
    if bstest.check(rc == 0, "--progress tty into a pipe: exit %d\n%s\n%s" % (rc, out, err)):
        texts, ok = tty_reports(out, "--progress tty into a pipe")
        ok &= check_reports(texts, "--progress tty into a pipe")
        print("--progress tty into a pipe: %d \\r-rewritten reports%s" % (len(texts), "" if ok else " (FAILED)"))
    env = bstest.mpi_env()
    env["SLURM_JOB_ID"] = "4242"
    env.pop("SLURM_PTY_PORT", None)
    rc, raw, err = run_pty(command(args, wd, "slurm_batch"), env=env)
    if bstest.check(rc == 0, "pty with SLURM_JOB_ID: exit %d\n%r\n%s" % (rc, raw[:3000], err)):
        texts, ok = plain_reports(raw, "terminal inside a SLURM batch job")
        ok &= check_reports(texts, "terminal inside a SLURM batch job")
        print("terminal inside a SLURM batch job (auto): %d plain lines%s"
              % (len(texts), "" if ok else " (FAILED)"))
    bstest.finish("progress")


if __name__ == "__main__":
    main()

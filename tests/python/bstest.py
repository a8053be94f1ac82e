"""Shared helpers for brainsim's Python tests: argument parsing, running
brainsim (under mpiexec when asked) and failing with both values shown."""
import argparse
import os
import subprocess
import sys
import tempfile


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--brainsim", default="build/brainsim")
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--workdir", default=None)
    p.add_argument("--np", type=int, default=1)
    return p


def workdir(args, name):
    base = args.workdir or tempfile.gettempdir()
    d = os.path.join(base, name)
    os.makedirs(d, exist_ok=True)
    return d


def mpi_env():
    env = dict(os.environ)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    return env


def run(args, brainsim_args, np=None, check=True, timeout=300, env=None):
    """Run brainsim; returns CompletedProcess. np None: args.np; 0: no mpiexec.
    env: variables to add to the environment."""
    np = args.np if np is None else np
    cmd = [args.brainsim] + list(brainsim_args)
    if np:
        cmd = [args.mpiexec, "-n", str(np), "--oversubscribe"] + cmd
    e = mpi_env()
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
    if check and p.returncode != 0:
        fail("brainsim failed (%d): %s\nstdout:\n%s\nstderr:\n%s"
             % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


def write_config(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def identical(a, b):
    """Whether two output files hold the same datasets, bitwise
    (compare_runs.py; its report is printed when they differ)."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run(["/usr/bin/python3", os.path.join(here, "compare_runs.py"), a, b],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
    return p.returncode == 0


def walk(group, prefix=""):
    """(name, dataset) for every dataset under group, following links:
    brainsim's output links each report file at /report/<target>/<name>
    (HDF5 external links), which h5py's visititems does not enter."""
    import h5py
    for k in group:
        obj = group[k]
        name = prefix + k
        if isinstance(obj, h5py.Dataset):
            yield name, obj
        else:
            yield from walk(obj, name + "/")


_failures = []


def check(cond, msg):
    """Record a failed assertion (the test goes on to report all)."""
    if not cond:
        _failures.append(msg)
        print("FAIL:", msg)
    return cond


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def finish(name):
    if _failures:
        print("%s: %d check(s) failed" % (name, len(_failures)))
        sys.exit(1)
    print("%s: all checks passed" % name)
    sys.exit(0)


def ctab_bytes(ids, lens):
    """Bytes of a compressed table (src/engine/ctab.c) of positions with
    these ascending ids and row lengths: per position the LEB128 varint of
    (gap << 1 | single) (gap = id - previous id - 1, from -1) and, unless
    the row holds one synapse, of its length; 16 bytes of skip entry per 64
    positions; the table's 80-byte header (struct lctab on LP64)."""
    def vlen(v):
        n = 1
        while v >= 0x80:
            v >>= 7
            n += 1
        return n
    total, prev = 0, -1
    for i, m in zip(ids, lens):
        total += vlen((i - prev - 1) << 1 | (m == 1)) + (0 if m == 1 else vlen(m))
        prev = i
    return total + 16 * ((len(ids) + 63) // 64) + 80

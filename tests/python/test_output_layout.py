#!/usr/bin/env python3
"""The output file has the layout readers rely on: SONATA spikes and
reports, /meta, and spike counts that agree with the printed summary.

Runs configs/coba.yaml for 200 ms under mpiexec -n NP and checks the file
with h5py. Usage: test_output_layout.py --brainsim PATH [--mpiexec PATH]
                                         [--np N] [--workdir DIR]
"""
import argparse
import os
import re
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONFIG = os.path.join(ROOT, "configs", "coba.yaml")
DURATION = 200.0  # ms, set with --set run.duration
TIMERS = ("build", "connect", "update", "deliver", "exchange", "io")
SORTING_BY_TIME = 2

errors = []


def check(cond, msg):
    """Collect every failure rather than stopping at the first one."""
    if not cond:
        errors.append(msg)
    return cond


def run(opts, out_file):
    cmd = [opts.mpiexec, "-n", str(opts.np), "--oversubscribe", opts.brainsim,
           "run", CONFIG, "--set", 'run.duration=%g ms' % DURATION,
           "-o", out_file, "-q"]
    env = dict(os.environ)
    # Containers often run as root; Open MPI refuses that without these.
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, text=True, timeout=300)
    if p.returncode != 0:
        sys.exit("FAIL: brainsim exited with %d\ncommand: %s\nstderr:\n%s"
                 % (p.returncode, " ".join(cmd), p.stderr))
    return p.stdout


def summary_counts(stdout):
    """Spike counts from the table after the 'population neurons spikes'
    header: {pop: (neurons, spikes)}."""
    counts, in_table = {}, False
    for line in stdout.splitlines():
        if re.match(r"\s*population\s+neurons\s+spikes", line):
            in_table = True
            continue
        if in_table:
            m = re.match(r"(\S+)\s+(\d+)\s+(\d+)\s+[\d.]+\s*$", line)
            if not m:
                break  # the blank line ends the table
            counts[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return counts


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def check_root(f):
    magic, version = f.attrs.get("magic"), f.attrs.get("version")
    check(magic is not None and np.asarray(magic).dtype == np.uint32
          and np.asarray(magic).ravel().tolist() == [0x0A7A],
          "root attribute magic should be uint32 0x0A7A, got %r" % (magic,))
    check(version is not None and np.asarray(version).dtype == np.uint32
          and np.asarray(version).ravel().tolist() == [0, 1],
          "root attribute version should be uint32 [0, 1], got %r"
          % (version,))


def check_spikes(f, pop, size, dt):
    g = f.get("spikes/" + pop)
    if not check(g is not None, "/spikes/%s is missing" % pop):
        return None
    ts, ids = g.get("timestamps"), g.get("node_ids")
    if not check(ts is not None and ids is not None,
                 "/spikes/%s needs timestamps and node_ids" % pop):
        return None
    check(ts.dtype == np.float64, "/spikes/%s/timestamps is %s, not float64"
          % (pop, ts.dtype))
    check(text(ts.attrs.get("units")) == "ms",
          "/spikes/%s/timestamps units should be 'ms', got %r"
          % (pop, ts.attrs.get("units")))
    check(ids.dtype == np.uint64, "/spikes/%s/node_ids is %s, not uint64"
          % (pop, ids.dtype))
    check(ts.shape == ids.shape and ts.ndim == 1,
          "/spikes/%s: timestamps %s and node_ids %s differ in shape"
          % (pop, ts.shape, ids.shape))
    # sorting is an HDF5 enum, so SONATA readers see a name, not a number.
    if check("sorting" in g.attrs, "/spikes/%s has no sorting attribute" % pop):
        dtype = g.attrs.get_id("sorting").dtype
        enum = h5py.check_enum_dtype(dtype)
        check(enum is not None and dtype.base == np.uint8
              and enum.get("by_time") == SORTING_BY_TIME,
              "/spikes/%s sorting should be an enum over uint8 with "
              "by_time = 2, got dtype %r enum %r" % (pop, dtype, enum))
        check(int(np.asarray(g.attrs["sorting"]).ravel()[0]) == SORTING_BY_TIME,
              "/spikes/%s sorting should be by_time" % pop)
    t, n = ts[()], ids[()]
    if t.size:
        check(np.all(np.diff(t) >= 0),
              "/spikes/%s timestamps are not sorted by time" % pop)
        check(t.min() >= 0 and t.max() < DURATION,
              "/spikes/%s timestamps outside [0, %g): %g..%g"
              % (pop, DURATION, t.min(), t.max()))
        steps = t / dt
        check(np.allclose(steps, np.round(steps), rtol=0, atol=1e-6),
              "/spikes/%s timestamps are not multiples of dt = %g" % (pop, dt))
        check(n.max() < size, "/spikes/%s node id %d >= size %d"
              % (pop, n.max(), size))
    return n.size


def check_report(f, path, node_range):
    g = f.get(path)
    if not check(g is not None, "%s is missing" % path):
        return
    data = g.get("data")
    if check(data is not None, "%s/data is missing" % path):
        check(data.dtype == np.float64 and data.ndim == 2 and data.size > 0,
              "%s/data should be a non-empty float64 rows x nodes array, got "
              "%s %s" % (path, data.dtype, data.shape))
        check("units" in data.attrs, "%s/data has no units attribute" % path)
    m = g.get("mapping")
    if not check(m is not None, "%s/mapping is missing" % path):
        return
    for name in ("node_ids", "index_pointers", "element_ids", "time"):
        if not check(name in m, "%s/mapping/%s is missing" % (path, name)):
            return
    nodes, ptr = m["node_ids"][()], m["index_pointers"][()]
    elems, time = m["element_ids"][()], m["time"]
    check(len(ptr) == len(nodes) + 1,
          "%s: index_pointers has %d entries for %d nodes"
          % (path, len(ptr), len(nodes)))
    check(len(ptr) and ptr[0] == 0 and np.all(np.diff(ptr) >= 0)
          and ptr[-1] == len(elems),
          "%s: index_pointers %s do not cover element_ids (%d)"
          % (path, ptr, len(elems)))
    check(nodes.size and nodes.min() >= node_range[0]
          and nodes.max() < node_range[1],
          "%s: node_ids %s outside [%d, %d)" % (path, nodes, *node_range))
    if data is not None and data.ndim == 2:
        check(data.shape[1] == len(elems),
              "%s: data has %d columns for %d elements"
              % (path, data.shape[1], len(elems)))
        # every = 1 ms over 200 ms gives one row per ms
        check(data.shape[0] == int(DURATION),
              "%s: data has %d rows, expected %d" % (path, data.shape[0],
                                                     int(DURATION)))
    check(time[()].tolist() == [0.0, DURATION, 1.0],
          "%s: mapping/time should be [0, %g, 1], got %s"
          % (path, DURATION, time[()]))
    check(text(time.attrs.get("units")) == "ms",
          "%s: mapping/time units should be 'ms'" % path)
    check_report_file(f, path, data[()] if data is not None else None,
                      nodes)


def check_report_file(f, path, data, nodes):
    """SONATA has one variable per report file: the output links the
    report file (an external link, relative to the output's folder) and
    the file itself opens in bmtk's CompartmentReport, the real client."""
    link = f.get(path, getlink=True)
    if not check(isinstance(link, h5py.ExternalLink),
                 "%s should be an external link to its report file, got %r"
                 % (path, link)):
        return
    target, var = path.split("/")[1], path.split("/")[2]
    base = os.path.basename(f.filename)[:-3]
    check(link.filename == "%s.%s.%s.h5" % (base, target, var)
          and link.path == "/report/" + target,
          "%s links %s:%s, expected %s.%s.%s.h5:/report/%s"
          % (path, link.filename, link.path, base, target, var, target))
    rfile = os.path.join(os.path.dirname(f.filename), link.filename)
    with h5py.File(rfile, "r") as r:
        check_root(r)
        check(list(r["report"]) == [target],
              "%s: /report should hold only %s, got %s"
              % (rfile, target, list(r["report"])))
        g = r["report/" + target]
        m = g["mapping"]
        # libsonata reads index_pointers, bmtk 1.0.6 index_pointer
        check("index_pointer" in m and np.array_equal(
            m["index_pointer"][()], m["index_pointers"][()]),
            "%s: mapping/index_pointer should equal index_pointers" % rfile)
        check("element_pos" in m and m["element_pos"].shape == nodes.shape,
              "%s: mapping/element_pos missing or of the wrong length"
              % rfile)
        check(text(g["data"].attrs.get("variable")) == var,
              "%s: data@variable should be %s" % (rfile, var))
    try:
        from bmtk.utils.reports.compartment import CompartmentReport
    except ImportError:
        check(False, "bmtk is not installed (tools/install-deps installs "
              "python3-bmtk)")
        return
    rep = CompartmentReport(rfile, "r")
    check(rep.populations == [target], "bmtk: populations %s, expected [%s]"
          % (rep.populations, target))
    check(rep.tstart() == 0.0 and rep.tstop() == DURATION and rep.dt() == 1.0
          and len(rep.time_trace()) == int(DURATION),
          "bmtk: time %s %s %s %s" % (rep.tstart(), rep.tstop(), rep.dt(),
                                      len(rep.time_trace())))
    check(text(rep.variable()) == var, "bmtk: variable %r" % rep.variable())
    check(np.array_equal(rep.node_ids(), nodes), "bmtk: node_ids %s vs %s"
          % (rep.node_ids(), nodes))
    if data is not None:
        check(np.array_equal(rep.data(), data),
              "bmtk: data() differs from h5py's through the link")
        for c, n in enumerate(nodes):
            check(np.array_equal(rep.data(node_id=int(n))[:, 0], data[:, c]),
                  "bmtk: data(node_id=%d) differs from column %d" % (n, c))


def check_bmtk_spikes(path, spikes):
    """bmtk's SpikeTrains (the real client) reads the same spikes."""
    try:
        from bmtk.utils.reports.spike_trains import SpikeTrains
    except ImportError:
        check(False, "bmtk is not installed (tools/install-deps installs "
              "python3-bmtk)")
        return
    st = SpikeTrains.from_sonata(path)
    check(sorted(st.populations) == sorted(spikes),
          "bmtk: populations %s, expected %s" % (st.populations,
                                                 sorted(spikes)))
    for pop, (ids, t) in spikes.items():
        df = st.to_dataframe(population=pop)
        df = df[df["population"] == pop]  # bmtk 1.0.6 returns them all
        o = np.lexsort((df["node_ids"].values, df["timestamps"].values))
        check(len(df) == len(ids) and len(ids) > 0
              and np.array_equal(df["node_ids"].values[o].astype(np.uint64), ids)
              and np.array_equal(df["timestamps"].values[o], t),
              "bmtk: %s spikes differ from h5py's (%d vs %d)"
              % (pop, len(df), len(ids)))


def check_meta(f, np_ranks, config_text):
    meta = f.get("meta")
    if not check(meta is not None, "/meta is missing"):
        return
    a = meta.attrs

    def scalar(name):
        v = a.get(name)
        return None if v is None else np.asarray(v).ravel()[0]
    check(scalar("complete") == 1, "/meta complete should be 1, got %r"
          % scalar("complete"))
    check(scalar("ranks") == np_ranks, "/meta ranks should be %d, got %r"
          % (np_ranks, scalar("ranks")))
    check(scalar("seed") == 1234, "/meta seed should be 1234 (coba.yaml), "
          "got %r" % scalar("seed"))
    check(scalar("dt") is not None and abs(scalar("dt") - 0.1) < 1e-12,
          "/meta dt should be 0.1, got %r" % scalar("dt"))
    if check("config" in meta, "/meta/config is missing"):
        check(text(meta["config"][()]) == config_text,
              "/meta/config differs from the text of %s" % CONFIG)
    timers = meta.get("timers")
    if not check(timers is not None, "/meta/timers is missing"):
        return
    for name in TIMERS:
        v = timers.attrs.get(name)
        if check(v is not None and np.asarray(v).shape == (3,),
                 "/meta/timers@%s should be [min, mean, max], got %r"
                 % (name, v)):
            lo, mean, hi = np.asarray(v)
            check(0 <= lo <= mean + 1e-12 and mean <= hi + 1e-12,
                  "/meta/timers@%s: not min <= mean <= max: %s" % (name, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brainsim", default=os.path.join(ROOT, "build",
                                                       "brainsim"))
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--np", type=int, default=1)
    ap.add_argument("--workdir", default=os.getcwd())
    opts = ap.parse_args()
    os.makedirs(opts.workdir, exist_ok=True)
    out_file = os.path.join(opts.workdir, "output_layout_np%d.h5" % opts.np)
    # Remove a previous file, so a failed run cannot leave a stale one to
    # be checked.
    if os.path.exists(out_file):
        os.remove(out_file)
    ckpt_dir = out_file[:-3] + ".ckpt"
    if os.path.isdir(ckpt_dir):
        os.rmdir(ckpt_dir)
    stdout = run(opts, out_file)
    # A run that never checkpoints leaves no (empty) checkpoint folder.
    check(not os.path.exists(ckpt_dir),
          "a run without checkpoints created %s" % ckpt_dir)
    printed = summary_counts(stdout)
    check(printed, "no population table in stdout:\n" + stdout)
    with open(CONFIG) as fh:
        config_text = fh.read()

    with h5py.File(out_file, "r") as f:
        check_root(f)
        pops = f["meta/populations"] if "meta/populations" in f else {}
        check(set(pops) == {"E", "I"}, "/meta/populations should list E and I,"
              " got %s" % sorted(pops))
        for pop in sorted(pops):
            size = int(np.asarray(pops[pop].attrs["size"]).ravel()[0])
            meta_spikes = int(np.asarray(pops[pop].attrs["spikes"]).ravel()[0])
            n = check_spikes(f, pop, size, 0.1)
            # The three counts of one population must agree: printed,
            # /meta and the node_ids written.
            if check(pop in printed, "population %s not in the printed table"
                     % pop):
                check(printed[pop] == (size, n) and n == meta_spikes,
                      "%s: printed (neurons, spikes) %s, file size %d, "
                      "node_ids %s, /meta spikes %d"
                      % (pop, printed[pop], size, n, meta_spikes))
        check_report(f, "report/E/V", (0, 3200))
        check_report(f, "report/EE/g", (0, 3200))
        check_meta(f, opts.np, config_text)
        spikes = {p: (f["spikes/%s/node_ids" % p][()],
                      f["spikes/%s/timestamps" % p][()]) for p in pops}
    check_bmtk_spikes(out_file, spikes)

    if errors:
        print("FAIL: %s (np=%d), %d problem(s):" % (out_file, opts.np,
                                                   len(errors)))
        for e in errors:
            print("  - " + e)
        return 1
    print("PASS: %s (np=%d): layout, spikes, reports, /meta and summary "
          "agree" % (out_file, opts.np))
    return 0


if __name__ == "__main__":
    sys.exit(main())

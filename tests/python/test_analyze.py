"""tools/brainsim-analyze on real output and on SONATA files written here.

Runs configs/coba.yaml for 200 ms at 2 ranks and at 1 rank, then every
subcommand: exit statuses; `summary --json` and its text against numbers
computed here independently (Counter, statistics, per-neuron loops) from the
datasets; PNGs that exist, are PNGs, read back with matplotlib and are not
blank; `compare` on the 1- and 2-rank runs (identical), on copies with one
spike dropped, one spike moved and one report value moved by one ulp;
`export-csv` row by row; the /meta@complete warning; and `summary`, `raster`
and `traces` on SONATA files without /meta (BMTK's string `sorting`,
libsonatareport's enum, the old /spikes/gids layout, `index_pointer`)."""
import collections
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tool(args, *argv):
    cmd = [args.analyze] + [str(a) for a in argv]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, MPLBACKEND="Agg"))
    print("$ brainsim-analyze %s -> %d" % (" ".join(cmd[1:]), p.returncode))
    return p


def expect_rc(p, rc, what):
    return bstest.check(p.returncode == rc, "%s: exit %d, expected %d\nstdout:\n%s\nstderr:\n%s"
                        % (what, p.returncode, rc, p.stdout, p.stderr))


def check_png(path, what, min_var=1e-3):
    if not bstest.check(os.path.isfile(path), "%s: %s was not written" % (what, path)):
        return
    with open(path, "rb") as fh:
        bstest.check(fh.read(8) == PNG_MAGIC, "%s: %s is not a PNG" % (what, path))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    try:
        img = mpimg.imread(path)
    except Exception as e:  # noqa: BLE001 - any read failure is the finding
        bstest.check(False, "%s: matplotlib cannot read %s: %s" % (what, path, e))
        return
    ok = img.ndim == 3 and img.shape[2] in (3, 4) and img.shape[0] >= 100 and img.shape[1] >= 100
    bstest.check(ok, "%s: %s has shape %s" % (what, path, img.shape))
    var = float(np.var(img[..., :3]))
    bstest.check(var > min_var, "%s: %s looks blank (pixel variance %.3g <= %g)"
                 % (what, path, var, min_var))
    print("  %s: %s %dx%d, pixel variance %.4f" % (what, os.path.basename(path),
                                                   img.shape[1], img.shape[0], var))


def expected_stats(ids, times, size, dur_ms):
    """Per-population numbers, computed without numpy's bincount/lexsort."""
    T = dur_ms / 1000.0
    cnt = collections.Counter(int(i) for i in ids)
    rates = [cnt.get(i, 0) / T for i in range(size)]
    per = collections.defaultdict(list)
    for i, t in zip(ids.tolist(), times.tolist()):
        per[int(i)].append(t)
    cvs = []
    for ts in per.values():
        ts.sort()
        isi = [b - a for a, b in zip(ts[:-1], ts[1:])]
        if len(isi) >= 2:
            cvs.append(statistics.pstdev(isi) / statistics.fmean(isi))
    return {
        "spikes": len(ids),
        "rate_hz": len(ids) / (size * T),
        "rate_mean_hz": statistics.fmean(rates),
        "rate_median_hz": statistics.median(rates),
        "fraction_silent": sum(1 for i in range(size) if cnt.get(i, 0) == 0) / size,
        "cv_isi_mean": statistics.fmean(cvs) if cvs else float("nan"),
        "cv_isi_neurons": len(cvs),
    }


def close(a, b, rel=1e-9):
    if a is None or b is None:
        return False
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def check_summary_numbers(doc, pops, what):
    """pops: {name: (ids, times, size, duration_ms)}"""
    for name, (ids, times, size, dur) in pops.items():
        got = doc["populations"].get(name)
        if not bstest.check(got is not None, "%s: population %s missing from summary" % (what, name)):
            continue
        bstest.check(got["size"] == size, "%s: %s size %s, expected %d" % (what, name, got["size"], size))
        exp = expected_stats(ids, times, size, dur)
        for k, v in exp.items():
            bstest.check(close(float(got[k]), float(v)),
                         "%s: %s %s = %r, computed independently %r" % (what, name, k, got[k], v))
    print("  %s: spike counts, rates, median, silent fraction and CV ISI agree" % what)


def _copy_attrs(src, dst):
    for k, v in src.attrs.items():
        dst.attrs.create(k, v, dtype=src.attrs.get_id(k).dtype)


def _copy_group(src, dst):
    _copy_attrs(src, dst)
    for name, obj in src.items():
        if isinstance(obj, h5py.Group):
            _copy_group(obj, dst.create_group(name))
        else:
            d = dst.create_dataset(name, data=obj[()], dtype=obj.dtype, chunks=obj.chunks,
                                   maxshape=obj.maxshape if obj.chunks else None)
            _copy_attrs(obj, d)


def h5_copy(src, dst, edit):
    """Copy src to dst with h5py, then call edit(f) on the copy. Group by
    group, not with Group.copy / H5Ocopy: HDF5 1.10.8 (Debian 12) segfaults
    copying an object whose attributes are in dense storage and include a
    variable-length string, which brainsim's /meta is (HDFGroup/hdf5#2414,
    fixed by hdf5 PR #3967)."""
    with h5py.File(src, "r") as a, h5py.File(dst, "w") as b:
        _copy_group(a, b)
        edit(b)


def replace_dataset(g, name, values):
    old = g[name]
    attrs = {k: (v, old.attrs.get_id(k).dtype) for k, v in old.attrs.items()}
    dtype = old.dtype
    del g[name]
    d = g.create_dataset(name, data=np.asarray(values, dtype=dtype), maxshape=(None,),
                         chunks=True)
    for k, (v, t) in attrs.items():
        d.attrs.create(k, v, dtype=t)


# ---------------------------------------------------------------- real runs


def test_real(args, wd):
    a = os.path.join(wd, "coba_np2.h5")
    b = os.path.join(wd, "coba_np1.h5")
    base = [os.path.join(ROOT, "configs", "coba.yaml"), "--set", "run.duration=200 ms",
            "--overwrite", "-q"]
    bstest.run(args, ["run"] + base[:1] + ["-o", a] + base[1:], np=2)
    bstest.run(args, ["run"] + base[:1] + ["-o", b] + base[1:], np=1)

    with h5py.File(a, "r") as f:
        meta = f["meta"].attrs
        dur = float(meta["duration"])
        pops = {}
        for name in ("E", "I"):
            size = int(f["meta/populations/%s" % name].attrs["size"])
            pops[name] = (f["spikes/%s/node_ids" % name][()], f["spikes/%s/timestamps" % name][()],
                          size, dur)
        timers = {k: [float(x) for x in v] for k, v in f["meta/timers"].attrs.items()}
        syn = int(np.asarray(meta["synaptic_events"]).reshape(-1)[0])
        V = f["report/E/V/data"][()]
        Vnodes = f["report/E/V/mapping/node_ids"][()]
        Vt0, _, Vdt = f["report/E/V/mapping/time"][()]
        meta_spikes = {n: int(np.asarray(f["meta/populations/%s" % n].attrs["spikes"]).reshape(-1)[0])
                       for n in pops}
    total = sum(len(p[0]) for p in pops.values())
    bstest.check(total > 1000, "the 200 ms COBA run has only %d spikes" % total)
    for n in pops:
        bstest.check(meta_spikes[n] == len(pops[n][0]),
                     "/meta/populations/%s@spikes = %d but the dataset has %d"
                     % (n, meta_spikes[n], len(pops[n][0])))

    # summary: JSON numbers and the text.
    p = tool(args, "summary", a, "--json")
    if expect_rc(p, 0, "summary --json"):
        doc = json.loads(p.stdout)
        check_summary_numbers(doc, pops, "summary of the 2-rank run")
        bstest.check(doc["complete"] == 1, "summary: complete = %r" % doc["complete"])
        bstest.check(doc["ranks"] == 2 and close(doc["dt_ms"], 0.1) and close(doc["duration_ms"], 200.0),
                     "summary: ranks %r dt %r duration %r, expected 2, 0.1, 200"
                     % (doc["ranks"], doc["dt_ms"], doc["duration_ms"]))
        bstest.check(doc.get("timers") == timers, "summary timers %r != /meta/timers %r"
                     % (doc.get("timers"), timers))
        bstest.check(doc.get("synaptic_events") == syn, "summary synaptic events %r != %d"
                     % (doc.get("synaptic_events"), syn))
        bstest.check(doc.get("peak_memory_bytes_max", 0) > 0, "summary has no peak memory")
        bstest.check(sorted(doc["reports"]) == ["E/V", "EE/g"], "summary reports %r" % doc["reports"])
    p = tool(args, "summary", a)
    if expect_rc(p, 0, "summary"):
        out = p.stdout
        bstest.check("complete: 1" in out, "summary text does not report complete: 1:\n" + out)
        bstest.check("WARNING" not in p.stderr, "summary warns on a complete run: " + p.stderr)
        for n, (ids, times, size, d) in pops.items():
            rows = [ln.split() for ln in out.splitlines() if ln.split()[:1] == [n]]
            e = expected_stats(ids, times, size, d)
            want = [n, str(size), str(len(ids)), "%.3f" % e["rate_hz"], "%.3f" % e["rate_median_hz"]]
            bstest.check(bool(rows) and rows[0][:5] == want and rows[0][-1] == "%.1f%%"
                         % (100 * e["fraction_silent"]),
                         "summary text row for %s is %r, expected %r ... %.1f%%"
                         % (n, rows[:1], want, 100 * e["fraction_silent"]))
        for phase in ("build", "connect", "update", "deliver", "exchange", "io"):
            bstest.check(any(ln.startswith(phase + " ") for ln in out.splitlines()),
                         "summary text lacks the %s timer row" % phase)
        for word in ("ranks 2", "dt 0.1 ms", "run length 200 ms", "synaptic events %d" % syn,
                     "peak memory", "real-time factor"):
            bstest.check(word in out, "summary text lacks %r:\n%s" % (word, out))
        print(out)

    # An unfinished run: complete = 0, and no complete attribute at all.
    for label, edit in (("complete=0", lambda f: f["meta"].attrs.modify("complete", np.array([0], np.uint64))),
                        ("no complete", lambda f: f["meta"].attrs.__delitem__("complete"))):
        c = os.path.join(wd, "incomplete_%s.h5" % label.replace(" ", "_").replace("=", ""))
        shutil.copy(a, c)
        with h5py.File(c, "r+") as f:
            edit(f)
        p = tool(args, "summary", c)
        bstest.check(p.returncode == 0 and "WARNING" in p.stderr and "did not finish" in p.stderr.lower()
                     and "DID NOT FINISH" in p.stdout,
                     "summary of a file with %s: exit %d, should warn loudly\nstdout:\n%s\nstderr:\n%s"
                     % (label, p.returncode, p.stdout, p.stderr))
        print("  %s: %s" % (label, p.stderr.strip()))

    # An unfinished run whose spikes stop at 100 ms: the run length comes
    # from the last spike, not from /meta's configured 200 ms.
    cut = os.path.join(wd, "stopped_at_100ms.h5")

    def stop(f):
        f["meta"].attrs.modify("complete", np.array([0], np.uint64))
        for n, (ids, times, _, _) in pops.items():
            keep = times < 100.0
            replace_dataset(f["spikes/" + n], "timestamps", times[keep])
            replace_dataset(f["spikes/" + n], "node_ids", ids[keep])
    h5_copy(a, cut, stop)
    p = tool(args, "summary", cut, "--json")
    if expect_rc(p, 0, "summary of an unfinished run"):
        doc = json.loads(p.stdout)
        last = max(float(times[times < 100.0].max()) for _, times, _, _ in pops.values())
        bstest.check(close(doc["duration_ms"], last + 0.1) and "did not finish" in doc["duration_source"],
                     "unfinished run: run length %r (%s), expected the last spike + dt = %r"
                     % (doc["duration_ms"], doc["duration_source"], last + 0.1))
        check_summary_numbers(doc, {n: (ids[times < 100.0], times[times < 100.0], size, last + 0.1)
                                    for n, (ids, times, size, _) in pops.items()},
                              "summary of a run stopped at 100 ms")
        bstest.check("WARNING" in p.stderr, "unfinished run: no warning: " + p.stderr)

    # Plots.
    for sub, extra in (("raster", []), ("raster", ["--pop", "E", "--t0", "50", "--t1", "150"]),
                       ("rates", []), ("traces", ["--var", "V", "--target", "E", "--ids", 0, 2, 4]),
                       ("traces", ["--var", "g"])):
        png = os.path.join(wd, "%s_%d.png" % (sub, len(extra)))
        if os.path.exists(png):
            os.remove(png)
        p = tool(args, sub, a, "-o", png, *extra)
        if expect_rc(p, 0, "%s %s" % (sub, extra)):
            check_png(png, "%s %s" % (sub, " ".join(map(str, extra))))
    p = tool(args, "traces", a, "--var", "nosuchvar", "-o", os.path.join(wd, "x.png"))
    bstest.check(p.returncode == 2 and "E/V" in p.stderr,
                 "traces of an unknown variable: exit %d, stderr %r" % (p.returncode, p.stderr))
    p = tool(args, "traces", a, "--var", "V", "--ids", 7, "-o", os.path.join(wd, "x.png"))
    bstest.check(p.returncode == 2 and "node 7 not recorded" in p.stderr,
                 "traces of an unrecorded id: exit %d, stderr %r" % (p.returncode, p.stderr))
    p = tool(args, "raster", a, "--pop", "X", "-o", os.path.join(wd, "x.png"))
    bstest.check(p.returncode == 2 and "X" in p.stderr,
                 "raster of an unknown population: exit %d, stderr %r" % (p.returncode, p.stderr))

    # compare: 1 rank vs 2 ranks are identical.
    p = tool(args, "compare", b, a)
    expect_rc(p, 0, "compare 1 rank vs 2 ranks")
    bstest.check("identical" in p.stdout, "compare of identical runs says: " + p.stdout)

    # One spike dropped.
    E_ids, E_t = pops["E"][0], pops["E"][1]
    k = len(E_ids) // 2
    drop = os.path.join(wd, "drop_one.h5")
    h5_copy(a, drop, lambda f: (replace_dataset(f["spikes/E"], "timestamps", np.delete(E_t, k)),
                                replace_dataset(f["spikes/E"], "node_ids", np.delete(E_ids, k))))
    p = tool(args, "compare", a, drop)
    if expect_rc(p, 1, "compare with one spike dropped"):
        want = ["spikes/E", "index %d" % k, "node %d" % E_ids[k], repr(float(E_t[k]))]
        bstest.check(all(w in p.stdout for w in want),
                     "compare (one spike dropped) should name %s:\n%s" % (want, p.stdout))
        bstest.check("spikes/I" not in p.stdout, "compare blames spikes/I too:\n" + p.stdout)
        print(p.stdout)

    # One spike moved by one step (its node id kept).
    moved = os.path.join(wd, "move_one.h5")
    newt = E_t[k] + 0.1

    def move(f):
        f["spikes/E/timestamps"][k] = newt
    h5_copy(a, moved, move)
    p = tool(args, "compare", a, moved)
    if expect_rc(p, 1, "compare with one spike moved"):
        want = ["spikes/E", "index %d" % k, repr(float(E_t[k])), repr(float(newt))]
        bstest.check(all(w in p.stdout for w in want),
                     "compare (one spike moved) should name %s:\n%s" % (want, p.stdout))
        print(p.stdout)

    # One report value moved by one ulp.
    r, c = V.shape[0] // 3, 2
    x = V[r, c]
    y = np.nextafter(x, np.inf)

    def ulp(f):
        f["report/E/V/data"][r, c] = y
    ulpf = os.path.join(wd, "ulp.h5")
    h5_copy(a, ulpf, ulp)
    with h5py.File(ulpf, "r") as f:
        bstest.check(f["report/E/V/data"][r, c] == y and y != x, "the ulp edit did not take")
    p = tool(args, "compare", a, ulpf)
    if expect_rc(p, 1, "compare with a one-ulp trace difference"):
        want = ["report/E/V", "sample %d" % r, "t = %r ms" % float(Vt0 + r * Vdt),
                "node %d" % Vnodes[c], repr(float(x)), repr(float(y)), "(1 ulp)"]
        bstest.check(all(w in p.stdout for w in want),
                     "compare (one ulp) should name %s:\n%s" % (want, p.stdout))
        bstest.check("spikes/" not in p.stdout, "compare blames spikes after a trace edit:\n" + p.stdout)
        print(p.stdout)

    # export-csv: every spike, in file order, times round-trip exactly.
    out_csv = os.path.join(wd, "spikes.csv")
    p = tool(args, "export-csv", a, "-o", out_csv)
    if expect_rc(p, 0, "export-csv"):
        with open(out_csv, newline="") as fh:
            rows = list(csv.reader(fh))
        bstest.check(rows[0] == ["population", "node_id", "time_ms"], "CSV header %r" % rows[:1])
        body = rows[1:]
        bstest.check(len(body) == total, "CSV has %d rows, the file %d spikes" % (len(body), total))
        for n, (ids, times, _, _) in pops.items():
            mine = [(int(r_[1]), float(r_[2])) for r_ in body if r_[0] == n]
            bstest.check(mine == list(zip(ids.tolist(), times.tolist())),
                         "CSV rows of %s differ from the datasets" % n)
        print("  export-csv: %d rows + header" % len(body))
    p = tool(args, "export-csv", a, "--pop", "I", "-o", out_csv)
    if expect_rc(p, 0, "export-csv --pop I"):
        with open(out_csv) as fh:
            n_rows = sum(1 for _ in fh) - 1
        bstest.check(n_rows == len(pops["I"][0]), "export-csv --pop I: %d rows, expected %d"
                     % (n_rows, len(pops["I"][0])))


# ---------------------------------------------------------------- SONATA files


def spike_trains(seed, size, dur, rate_hz, silent_every):
    """(node_ids, timestamps) sorted by time, on a 0.1 ms grid; neurons with
    id % silent_every == 1 never fire, the last neuron always fires."""
    rng = np.random.default_rng(seed)
    ids, ts = [], []
    for i in range(size):
        if i % silent_every == 1 and i != size - 1:
            continue
        n = max(1, rng.poisson(rate_hz * dur / 1000.0))
        t = np.unique(np.round(rng.uniform(0, dur, n) * 10) / 10)
        ids += [i] * len(t)
        ts += t.tolist()
    ids, ts = np.array(ids, np.uint64), np.array(ts, np.float64)
    o = np.lexsort((ids, ts))
    return ids[o], ts[o]


def root_attrs(f):
    f.attrs.create("magic", 0x0A7A, dtype=np.uint32)
    f.attrs.create("version", np.array([0, 1], np.uint32))


def write_pop(g, ids, ts, sorting):
    if sorting == "string":      # BMTK: a variable-length ASCII string
        g.attrs.create("sorting", "by_time", dtype=h5py.string_dtype("ascii"))
    elif sorting == "enum":      # libsonatareport: H5T_ENUM over uint8
        g.attrs.create("sorting", 2, dtype=h5py.enum_dtype(
            {"none": 0, "by_id": 1, "by_time": 2}, basetype=np.uint8))
    t = g.create_dataset("timestamps", data=ts.astype(np.float64))
    t.attrs.create("units", "ms", dtype=h5py.string_dtype("ascii"))
    g.create_dataset("node_ids", data=ids.astype(np.uint64))


def test_sonata(args, wd):
    cx = spike_trains(1, 120, 500.0, 8.0, 5)
    th = spike_trains(2, 40, 500.0, 15.0, 7)

    files = {}
    # BMTK style: sorting as a string, one population.
    files["string"] = os.path.join(wd, "sonata_string.h5")
    with h5py.File(files["string"], "w") as f:
        root_attrs(f)
        write_pop(f.create_group("spikes/cortex"), *cx, "string")
    # libsonatareport style: the enum, two populations, one of them empty,
    # and a frame report with BMTK's index_pointer (singular) and float32.
    files["enum"] = os.path.join(wd, "sonata_enum.h5")
    with h5py.File(files["enum"], "w") as f:
        root_attrs(f)
        write_pop(f.create_group("spikes/cortex"), *cx, "enum")
        write_pop(f.create_group("spikes/thalamus"), *th, "enum")
        write_pop(f.create_group("spikes/empty"), np.zeros(0, np.uint64), np.zeros(0), "enum")
        rep = f.create_group("report/cortex")
        tt = np.arange(0, 100.0, 0.5)
        data = np.stack([-65 + 5 * np.sin(tt / (5.0 + j)) for j in range(3)], axis=1).astype(np.float32)
        d = rep.create_dataset("data", data=data)
        d.attrs.create("units", "mV", dtype=h5py.string_dtype("ascii"))
        m = rep.create_group("mapping")
        m.create_dataset("node_ids", data=np.array([3, 10, 42], np.uint64))
        m.create_dataset("index_pointer", data=np.array([0, 1, 2, 3], np.uint64))
        m.create_dataset("element_ids", data=np.zeros(3, np.uint32))
        tm = m.create_dataset("time", data=np.array([0.0, 100.0, 0.5]))
        tm.attrs.create("units", "ms", dtype=h5py.string_dtype("ascii"))
    # Old layout: /spikes/gids + /spikes/timestamps, no population, no sorting.
    files["old"] = os.path.join(wd, "sonata_old.h5")
    with h5py.File(files["old"], "w") as f:
        root_attrs(f)
        f.create_dataset("spikes/gids", data=cx[0])
        f.create_dataset("spikes/timestamps", data=cx[1])

    def trains(which):
        last = float(max(cx[1].max(), th[1].max() if which == "enum" else 0))
        if which == "string":
            return {"cortex": (cx[0], cx[1], 120, float(cx[1].max()))}
        if which == "old":
            return {"default": (cx[0], cx[1], 120, float(cx[1].max()))}
        return {"cortex": (cx[0], cx[1], 120, last), "thalamus": (th[0], th[1], 40, last)}

    for which, path in files.items():
        p = tool(args, "summary", path, "--json")
        if expect_rc(p, 0, "summary of the %s SONATA file" % which):
            doc = json.loads(p.stdout)
            check_summary_numbers(doc, trains(which), "summary of the %s SONATA file" % which)
            bstest.check(doc["meta"] is False and doc["duration_source"] == "last spike",
                         "%s: meta %r, duration from %r" % (which, doc["meta"], doc["duration_source"]))
            if which == "enum":
                e = doc["populations"].get("empty", {})
                bstest.check(e.get("spikes") == 0 and e.get("size") == 0,
                             "the empty population reads as %r" % e)
                bstest.check(doc["populations"]["cortex"]["sorting"] == "by_time",
                             "enum sorting read as %r" % doc["populations"]["cortex"]["sorting"])
            if which == "string":
                bstest.check(doc["populations"]["cortex"]["sorting"] == "by_time",
                             "string sorting read as %r" % doc["populations"]["cortex"]["sorting"])
        p = tool(args, "summary", path)
        if expect_rc(p, 0, "summary text of the %s SONATA file" % which):
            bstest.check("complete: unknown" in p.stdout and "no /meta" in p.stdout,
                         "summary of a file without /meta should say so:\n" + p.stdout)
            print(p.stdout)
        png = os.path.join(wd, "raster_sonata_%s.png" % which)
        p = tool(args, "raster", path, "-o", png)
        if expect_rc(p, 0, "raster of the %s SONATA file" % which):
            check_png(png, "raster of the %s SONATA file" % which)
            n = sum(len(v[0]) for v in trains(which).values())
            bstest.check("%d spikes" % n in p.stdout,
                         "raster of the %s file should show all %d spikes (the last one "
                         "ends the guessed run length): %s" % (which, n, p.stdout))

    # --size and --duration replace the guesses.
    p = tool(args, "summary", files["string"], "--json", "--size", "150", "--duration", "1000")
    if expect_rc(p, 0, "summary --size --duration"):
        doc = json.loads(p.stdout)
        check_summary_numbers(doc, {"cortex": (cx[0], cx[1], 150, 1000.0)},
                              "summary --size 150 --duration 1000")
    p = tool(args, "summary", files["enum"], "--json", "--size", "thalamus=64")
    if expect_rc(p, 0, "summary --size POP=N"):
        doc = json.loads(p.stdout)
        bstest.check(doc["populations"]["thalamus"]["size"] == 64
                     and doc["populations"]["cortex"]["size"] == 120,
                     "--size thalamus=64 gave sizes %r" % {k: v["size"] for k, v in doc["populations"].items()})

    # traces from the index_pointer / float32 report.
    png = os.path.join(wd, "traces_sonata.png")
    p = tool(args, "traces", files["enum"], "--var", "cortex", "--ids", 10, 42, "-o", png)
    if expect_rc(p, 0, "traces of the SONATA report (index_pointer, float32)"):
        check_png(png, "traces of the SONATA report")
    # compare reads these layouts too: a file against itself, and the
    # string-sorting file against the old layout (different population names).
    expect_rc(tool(args, "compare", files["enum"], files["enum"]), 0, "compare enum file with itself")
    p = tool(args, "compare", files["string"], files["old"])
    expect_rc(p, 1, "compare string-sorting file with the old layout")
    # export-csv of the old layout names the population "default".
    out_csv = os.path.join(wd, "old.csv")
    p = tool(args, "export-csv", files["old"], "-o", out_csv)
    if expect_rc(p, 0, "export-csv of the old layout"):
        with open(out_csv) as fh:
            rows = list(csv.reader(fh))[1:]
        bstest.check(len(rows) == len(cx[0]) and all(r[0] == "default" for r in rows),
                     "export-csv of the old layout: %d rows, populations %s"
                     % (len(rows), sorted({r[0] for r in rows})))


def main():
    p = bstest.parser(__doc__)
    p.add_argument("--analyze", default=os.path.join(ROOT, "tools", "brainsim-analyze"))
    args = p.parse_args()
    if not os.access(args.analyze, os.X_OK):
        bstest.fail("%s is not executable" % args.analyze)
    with open(args.analyze) as fh:
        bstest.check(fh.readline().strip() == "#!/usr/bin/python3",
                     "%s does not start with #!/usr/bin/python3" % args.analyze)
    wd = bstest.workdir(args, "analyze")
    h = tool(args, "--help")
    if expect_rc(h, 0, "--help"):
        for sub in ("summary", "raster", "traces", "rates", "compare", "export-csv"):
            bstest.check(sub in h.stdout, "--help does not list %s" % sub)
    test_real(args, wd)
    test_sonata(args, wd)
    bstest.finish("analyze")


if __name__ == "__main__":
    sys.exit(main())

"""The SONATA spike-file reader (bs_io_sonata_spikes_read, through
tests/unit/spikefile_dump): for files written by h5py in the layouts
BMTK, libsonata and old SONATA use, it returns exactly the rows of the
requested node range, in (time, node id) order, the same union for any
split into ranges; bad files are refused with the file, dataset and row
named. Also reads a spike file written by bmtk's PoissonSpikeGenerator
when bmtk is installed."""
import os
import subprocess

import h5py
import numpy as np

import bstest

p = bstest.parser(__doc__)
p.add_argument("--dump", required=True)
args = p.parse_args()
wd = bstest.workdir(args, "spikefile")


def dump(path, pop, n, lo, hi):
    r = subprocess.run([args.dump, path, pop or "-", str(n), str(lo), str(hi)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return None, r.stderr
    lines = r.stdout.split("\n")
    total = int(lines[0].split()[1])
    rows = [ln.split() for ln in lines[1:] if ln]
    ids = np.array([int(a) for a, _ in rows], dtype=np.uint64)
    t = np.array([float(b) for _, b in rows])
    return (total, ids, t), r.stderr


def expected(ids, t, lo, hi):
    keep = (ids >= lo) & (ids < hi)
    i, tt = ids[keep], t[keep]
    o = np.lexsort((i, tt))
    return i[o], tt[o]


rng = np.random.default_rng(7)
N = 50
ids = rng.integers(0, N, 5000).astype(np.uint64)
t = np.round(rng.uniform(0, 1000, 5000), 1)  # ties in time on purpose

# 1. the SONATA layout, as libsonatareport writes it (sorting enum)
f1 = os.path.join(wd, "sonata.h5")
with h5py.File(f1, "w") as f:
    g = f.create_group("/spikes/inp")
    g.create_dataset("timestamps", data=t).attrs["units"] = "ms"
    g.create_dataset("node_ids", data=ids)
    g.attrs["sorting"] = "none"
    f.create_group("/spikes/other").create_dataset("timestamps", data=[1.0])
for lo, hi in [(0, N), (0, 17), (17, 33), (33, N), (5, 5)]:
    got, err = dump(f1, "inp", N, lo, hi)
    if not bstest.check(got is not None, "sonata [%d,%d): %s" % (lo, hi, err)):
        continue
    ei, et = expected(ids, t, lo, hi)
    bstest.check(got[0] == len(ids), "total %d vs %d" % (got[0], len(ids)))
    bstest.check(np.array_equal(got[1], ei) and np.array_equal(got[2], et),
                 "sonata [%d,%d): %d spikes, expected %d (or order differs)"
                 % (lo, hi, len(got[1]), len(ei)))
# the union of a split is the whole, rank by rank
parts = [dump(f1, "inp", N, a, b)[0] for a, b in [(0, 17), (17, 33), (33, N)]]
bstest.check(sum(len(q[1]) for q in parts) == len(ids),
             "split into 3 ranges loses or duplicates spikes")

# 2. times in seconds, the one population chosen without a name
f2 = os.path.join(wd, "seconds.h5")
with h5py.File(f2, "w") as f:
    g = f.create_group("/spikes/only")
    g.create_dataset("timestamps", data=t / 1000.0).attrs["units"] = "s"
    g.create_dataset("node_ids", data=ids.astype(np.int32))
got, err = dump(f2, None, N, 0, N)
if bstest.check(got is not None, "seconds: %s" % err):
    ei, et = expected(ids, t / 1000.0 * 1000.0, 0, N)
    bstest.check(np.array_equal(got[1], ei) and np.allclose(got[2], et,
                                                            rtol=1e-15),
                 "seconds file not converted to ms")

# 3. the old layout /spikes/{gids, timestamps}
f3 = os.path.join(wd, "old.h5")
with h5py.File(f3, "w") as f:
    f.create_dataset("/spikes/gids", data=ids)
    f.create_dataset("/spikes/timestamps", data=t)
got, err = dump(f3, "anything", N, 10, 20)
if bstest.check(got is not None, "old layout: %s" % err):
    ei, et = expected(ids, t, 10, 20)
    bstest.check(np.array_equal(got[1], ei) and np.array_equal(got[2], et),
                 "old layout rows differ")

# 4. an empty population is legal
f4 = os.path.join(wd, "empty.h5")
with h5py.File(f4, "w") as f:
    g = f.create_group("/spikes/e")
    g.create_dataset("timestamps", data=np.zeros(0)).attrs["units"] = "ms"
    g.create_dataset("node_ids", data=np.zeros(0, dtype=np.uint64))
got, err = dump(f4, "e", 3, 0, 3)
bstest.check(got is not None and got[0] == 0 and len(got[1]) == 0,
             "empty population: %s" % err)

# 5. bad files, each refused with what is wrong and where


def bad(name, build, pop, n, want):
    path = os.path.join(wd, "bad_" + name + ".h5")
    with h5py.File(path, "w") as f:
        build(f)
    got, err = dump(path, pop, n, 0, n)
    bstest.check(got is None, "%s: accepted" % name)
    for w in want + [path]:
        bstest.check(w in err, "%s: message lacks %r: %s" % (name, w, err))


def pop(f, t, ids, units="ms"):
    g = f.create_group("/spikes/p")
    d = g.create_dataset("timestamps", data=t)
    if units:
        d.attrs["units"] = units
    if ids is not None:
        g.create_dataset("node_ids", data=ids)


bad("no_spikes", lambda f: f.create_group("x"), "p", 4, ["/spikes"])
bad("no_pop", lambda f: pop(f, [1.0], [0]), "q", 4, ["/spikes/q"])
bad("no_ids", lambda f: pop(f, [1.0], None), "p", 4, ["/spikes/p/node_ids"])
bad("lengths", lambda f: pop(f, [1.0, 2.0], [0]), "p", 4,
    ["/spikes/p/timestamps", "2 rows", "1"])
bad("id_range", lambda f: pop(f, [1.0, 2.0, 3.0], [0, 1, 4]), "p", 4,
    ["/spikes/p/node_ids", "row 2", "node id 4"])
bad("neg_id", lambda f: pop(f, [1.0], np.array([-1], dtype=np.int64)), "p", 4,
    ["row 0", "node id -1"])
bad("float_ids", lambda f: pop(f, [1.0], [0.5]), "p", 4,
    ["/spikes/p/node_ids", "integers"])
bad("nan_time", lambda f: pop(f, [1.0, np.nan], [0, 1]), "p", 4,
    ["/spikes/p/timestamps", "row 1"])
bad("neg_time", lambda f: pop(f, [-1.0], [0]), "p", 4, ["row 0"])
bad("units", lambda f: pop(f, [1.0], [0], units="us"), "p", 4, ["'us'"])
bad("two_d", lambda f: pop(f, [[1.0]], [0]), "p", 4,
    ["/spikes/p/timestamps", "dimensions"])
bad("str_units", lambda f: pop(f, [1.0], [0], units=None) or
    f["/spikes/p/timestamps"].attrs.create("units", [1, 2]), "p", 4,
    ["units", "not one string"])
bad("ambiguous", lambda f: pop(f, [1.0], [0]) or f.create_group("/spikes/q"),
    None, 4, ["2 populations"])
nf = os.path.join(wd, "missing.h5")
got, err = dump(nf, "p", 4, 0, 4)
bstest.check(got is None and nf in err, "missing file: %s" % err)

# 6. a file from the real client: bmtk's PoissonSpikeGenerator
try:
    from bmtk.utils.reports.spike_trains import PoissonSpikeGenerator
except ImportError:
    PoissonSpikeGenerator = None
bstest.check(PoissonSpikeGenerator is not None,
             "bmtk is not installed (tools/install-deps installs "
             "python3-bmtk)")
if PoissonSpikeGenerator is not None:
    psg = PoissonSpikeGenerator(population="virt", seed=3)
    psg.add(node_ids=range(20), firing_rate=15.0, times=(0.0, 2.0))
    f6 = os.path.join(wd, "bmtk.h5")
    psg.to_sonata(f6)
    with h5py.File(f6, "r") as f:
        bi = f["/spikes/virt/node_ids"][()].astype(np.uint64)
        bt = f["/spikes/virt/timestamps"][()]
    got, err = dump(f6, "virt", 20, 0, 20)
    if bstest.check(got is not None, "bmtk file: %s" % err):
        ei, et = expected(bi, bt, 0, 20)
        bstest.check(len(ei) > 100 and np.array_equal(got[1], ei)
                     and np.array_equal(got[2], et),
                     "bmtk file: %d spikes read, %d in the file"
                     % (len(got[1]), len(ei)))

bstest.finish("spikefile")

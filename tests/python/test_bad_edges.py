"""Bad connectivity and weight files (issue 7): each is refused with a
message naming the file, the dataset and, for a bad value, the row; every
rank exits non-zero (each rank's exit code is collected through a wrapper),
at 1 and 2 ranks, without a crash or a hang. Also at `brainsim check`."""
import os
import shutil
import subprocess

import h5py
import numpy as np

import bstest

CFG = """run: {dt: 0.1 ms, duration: 5 ms}
populations:
  P: {model: PoissonGroup, size: 10, freqs: 10 Hz}
  E: {model: LIF, size: 8}
projections:
  PE: {pre: P, post: E, %s}
"""


def rows(path, pre=None, post=None, **extra):
    n = 30
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        f["pre"] = rng.integers(0, 10, n) if pre is None else pre
        f["post"] = np.sort(rng.integers(0, 8, n)) if post is None else post
        for k, v in extra.items():
            f[k] = v
    return path


def sonata(path, edit=None, index=True, libver="earliest"):
    n = 30
    rng = np.random.default_rng(2)
    j = np.sort(rng.integers(0, 8, n))
    with h5py.File(path, "w", libver=libver) as f:
        g = f.create_group("edges/PE")
        g["source_node_id"] = rng.integers(0, 10, n).astype(np.uint64)
        g["source_node_id"].attrs["node_population"] = "P"
        g["target_node_id"] = j.astype(np.uint64)
        g["target_node_id"].attrs["node_population"] = "E"
        g["edge_type_id"] = np.zeros(n, dtype=np.uint32)
        g["edge_group_id"] = np.zeros(n, dtype=np.uint16)
        g["edge_group_index"] = np.arange(n, dtype=np.uint32)
        g["0/syn_weight"] = np.ones(n)
        g["0/delay"] = np.ones(n)
        if index:
            n2r = np.zeros((8, 2), dtype=np.uint64)
            r2e = []
            for k in range(8):
                ids = np.nonzero(j == k)[0]
                n2r[k] = (len(r2e), len(r2e) + (1 if len(ids) else 0))
                if len(ids):
                    r2e.append((ids[0], ids[-1] + 1))
            g["indices/target_to_source/node_id_to_ranges"] = n2r
            g["indices/target_to_source/range_to_edge_id"] = np.array(r2e, dtype=np.uint64)
        if edit:
            edit(g)
    return path


def main():
    ap = bstest.parser(__doc__)
    ap.add_argument("--part", choices=["rows", "sonata"], default=None,
                    help="only the rows-form cases or only SONATA and g_max")
    args = ap.parse_args()
    wd = bstest.workdir(args, "bad_edges_%s" % (args.part or "all"))
    shutil.rmtree(wd)
    os.makedirs(wd)
    bad_pre = np.random.default_rng(1).integers(0, 10, 30)
    bad_pre[17] = 10
    bad_post = np.sort(np.random.default_rng(1).integers(0, 8, 30))
    bad_post[29] = 8
    nan_w = np.ones(30)
    nan_w[4] = np.nan
    good = rows(wd + "/good.h5")
    with open(good, "rb") as f:
        data = f.read()
    with open(wd + "/truncated.h5", "wb") as f:
        f.write(data[: len(data) // 2])

    def sset(name, value):
        def edit(g):
            del g[name]
            g[name] = value
        return edit

    def drop_attr(g):
        del g["target_node_id"].attrs["node_population"]

    def rename_pop(g):
        g["source_node_id"].attrs["node_population"] = "Q"

    def short_index(g):
        # Shorter indices are legal (BMTK ends them at the last node with
        # edges); one with more nodes than the population is not.
        del g["indices/target_to_source/node_id_to_ranges"]
        g["indices/target_to_source/node_id_to_ranges"] = np.zeros((12, 2), dtype=np.uint64)

    def zero_heap(path):
        """The hang of HDF5 1.10.8 (tests/fuzz/regressions/edges): the
        free-space object of the global heap holding the vlen attributes
        gets size 0, so HDF5's walk of the heap never advances."""
        data = bytearray(open(path, "rb").read())
        at = data.find(b"GCOL")
        size = int.from_bytes(data[at + 8:at + 16], "little")
        p = at + 16
        while p + 16 <= at + size:
            idx = int.from_bytes(data[p:p + 2], "little")
            osz = int.from_bytes(data[p + 8:p + 16], "little")
            if idx == 0:
                data[p + 8:p + 16] = bytes(8)
                break
            p += 16 + (osz + 7) // 8 * 8
        else:
            bstest.fail("no free-space object in the heap of %s" % path)
        open(path, "wb").write(bytes(data))
        return path

    C = "connect: {File: {file: %s}}"
    S = "connect: {SONATA: {file: %s}}"
    cases = [
        ("missing file", C % "nothere.h5", ["cannot open", "nothere.h5", "No such file"]),
        ("truncated", C % "truncated.h5", ["truncated.h5", "cannot open", "truncated file"]),
        ("pre out of range", C % rows(wd + "/badpre.h5", pre=bad_pre),
         ["badpre.h5", "dataset /pre row 17", "pre id 10 is outside [0, 10)"]),
        ("post out of range", C % rows(wd + "/badpost.h5", post=bad_post),
         ["badpost.h5", "dataset /post row 29", "post id 8 is outside [0, 8)"]),
        ("missing dataset", C % "nopost.h5", ["nopost.h5", "dataset /post is missing"]),
        ("wrong dtype", C % rows(wd + "/floatpre.h5", pre=np.zeros(30)),
         ["floatpre.h5", "dataset /pre has the wrong type"]),
        ("wrong shape", C % rows(wd + "/shape.h5", pre=np.zeros((30, 2), dtype=int)),
         ["shape.h5", "dataset /pre has the wrong shape"]),
        ("mismatched lengths", C % rows(wd + "/lengths.h5", weight=np.ones(29)),
         ["lengths.h5", "/weight has 29 rows but /post has 30"]),
        ("nan weight", C % rows(wd + "/nan.h5", weight=nan_w),
         ["nan.h5", "dataset /weight row 4", "not a finite number"]),
        ("delay and delay_step", C % rows(wd + "/twodelays.h5", delay=np.ones(30),
                                          delay_step=np.ones(30, dtype=int)),
         ["twodelays.h5", "either /delay (ms) or /delay_step"]),
        ("sonata missing attribute", S % sonata(wd + "/noattr.h5", drop_attr),
         ["noattr.h5", "attribute node_population of /edges/PE/target_node_id is missing"]),
        ("sonata population name", S % sonata(wd + "/popname.h5", rename_pop),
         ["popname.h5", "node_population is 'Q'", "source population 'P'"]),
        ("sonata population, v2 headers", S % sonata(wd + "/popname2.h5", rename_pop,
                                                      libver="latest"),
         ["popname2.h5", "node_population is 'Q'", "source population 'P'"]),
        ("sonata corrupt vlen heap", S % zero_heap(sonata(wd + "/heap0.h5")),
         ["heap0.h5", "attribute node_population of /edges/PE/source_node_id",
          "a global heap object has size 0"]),
        ("sonata index size", S % sonata(wd + "/index5.h5", short_index),
         ["index5.h5", "node_id_to_ranges has 12 nodes, more than the 8 neurons of target population 'E'"]),
        ("sonata group index", S % sonata(wd + "/gidx.h5", sset("edge_group_index",
                                                                np.arange(30, dtype=np.uint32) + 5)),
         ["gidx.h5", "/edges/PE/edge_group_index row 25", "outside /edges/PE/0/syn_weight"]),
        ("sonata missing population", "connect: {SONATA: {file: %s, population: XY}}"
         % sonata(wd + "/pop.h5"), ["pop.h5", "edge population /edges/XY is missing"]),
        ("sonata wrong source dtype", S % sonata(wd + "/srcfloat.h5", sset("source_node_id", np.zeros(30))),
         ["srcfloat.h5", "/edges/PE/source_node_id has the wrong type"]),
        ("g_max wrong shape", "g_max: {file: %s, dataset: W}, connect: All2All"
         % rows(wd + "/gmax.h5", W=np.ones((8, 10))),
         ["gmax.h5", "dataset W has the wrong shape [8, 10]", "expected [10, 8]"]),
        ("g_max missing dataset", "g_max: {file: %s, dataset: /V}, connect: All2All"
         % (wd + "/gmax.h5"), ["gmax.h5", "dataset /V is missing"]),
        ("g_max wrong dtype", "g_max: {file: %s, dataset: S}, connect: All2All"
         % rows(wd + "/gmaxs.h5", S=np.array([b"ab"] * 80).reshape(10, 8)),
         ["gmaxs.h5", "dataset S has the wrong type"]),
    ]
    if args.part:
        cases = [c for c in cases if ("File:" in c[1]) == (args.part == "rows")]
    rows(wd + "/nopost.h5")
    with h5py.File(wd + "/nopost.h5", "r+") as f:
        del f["post"]
    # Each rank reports its own exit code; the wrapper exits 0 so that
    # mpiexec does not kill the others before they report.
    wrap = 'r=0; "$@" || r=$?; echo "exit-code rank ${OMPI_COMM_WORLD_RANK:-0}: $r" >&2; exit 0'
    for np_ in (1, 2):
        for k, (name, proj, frags) in enumerate(cases):
            cfg = bstest.write_config("%s/case%d.yaml" % (wd, k), CFG % proj)
            cmds = [("run", ["run", cfg, "-o", wd + "/out.h5", "--overwrite", "-q"])]
            if np_ == 1 and k % 4 == 0:  # some at `brainsim check` too
                cmds.append(("check", ["check", cfg]))
            for what, bargs in cmds:
                cmd = [args.mpiexec, "-n", str(np_), "--oversubscribe", "sh", "-c", wrap, "sh",
                       args.brainsim] + bargs
                try:
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                                       env=bstest.mpi_env())
                except subprocess.TimeoutExpired:
                    bstest.fail("%s (%s) at %d ranks: hang" % (name, what, np_))
                codes = sorted(l.split(": ")[1] for l in p.stderr.split("\n")
                               if l.startswith("exit-code rank"))
                bstest.check(len(codes) == np_ and all(c not in ("0", "") for c in codes),
                             "%s (%s) at %d ranks: exit codes %s" % (name, what, np_, codes))
                bstest.check("signal" not in p.stderr and "Segmentation" not in p.stderr,
                             "%s at %d ranks: crash: %r" % (name, np_, p.stderr[:300]))
                for frag in frags:
                    bstest.check(frag in p.stderr, "%s (%s) at %d ranks: message lacks %r: %r"
                                 % (name, what, np_, frag, p.stderr[:500]))
                msg = [l for l in p.stderr.split("\n") if l.startswith("brainsim:")]
                bstest.check(len(msg) == 1, "%s (%s) at %d ranks: %d error lines (one rank "
                             "reports): %r" % (name, what, np_, len(msg), p.stderr[:500]))
                if what == "run":
                    print("%-26s np %d: %s" % (name, np_, msg[0][:150] if msg else p.stderr[:150]))
    bstest.finish("bad_edges")


if __name__ == "__main__":
    main()

"""Connectivity and weights from HDF5 files (issue 4 item 6): the same
network given inline (IJ pairs with per-pair g_max and delay lists, One2One
with a constant) and from files written here with h5py:
  - the rows form ({File: {file, group}}: pre, post, weight, delay in ms or
    delay_step in steps), sorted by post and unsorted;
  - SONATA edge populations ({SONATA: {file, population}}) in two edge
    groups, with and without indices/target_to_source, sorted by target and
    not;
  - g_max from a dataset: a [pre, post] matrix for IJ pairs and a vector for
    One2One.
Spikes must be bitwise identical to the inline network's at 1, 2 and 3
ranks, and the log (-v) must say each file was read the expected way
(index, sorted: binary search, scan: every rank reads every row, here in
chunks of 7 or 100 rows). A file without weight columns takes the projection's
drawn g_max and delay: bitwise equal at 1, 2 and 3 ranks."""
import os
import re

import h5py
import numpy as np

import bstest

DT = 0.1
NP_, NE, NI = 60, 50, 20  # populations P, E, I


def network(rng):
    """Pairs in a random order, with multapses; weights and delays."""
    def pairs(npre, npost, n, dup):
        i = rng.integers(0, npre, n)
        j = rng.integers(0, npost, n)
        k = rng.choice(n, dup, replace=False)  # repeat some pairs (multapses)
        i = np.concatenate([i, i[k]])
        j = np.concatenate([j, j[k]])
        p = rng.permutation(len(i))
        return i[p].astype(np.uint64), j[p].astype(np.uint64)

    net = {}
    i, j = pairs(NP_, NE, 500, 40)
    net["PE"] = dict(i=i, j=j, w=rng.uniform(0.5, 2.0, len(i)),
                     d_ms=np.round(rng.uniform(0.0, 3.0, len(i)), 1))
    i, j = pairs(NE, NE, 300, 20)
    net["EE"] = dict(i=i, j=j, w=rng.uniform(0.1, 0.6, len(i)),
                     d_step=rng.integers(0, 15, len(i)))
    i, j = pairs(NE, NI, 200, 10)
    net["EI"] = dict(i=i, j=j, W=rng.uniform(0.2, 1.0, (NE, NI)))
    net["II"] = dict(v=rng.uniform(0.1, 0.9, NI))
    return net


HEAD = """run: {dt: %g ms, duration: 200 ms, seed: 5}
populations:
  P: {model: PoissonGroup, size: %d, freqs: 40 Hz}
  E: {model: LIF, size: %d, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  I: {model: LIF, size: %d, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 10 ms, tau_ref: 1 ms}
inputs: [{target: E, current: 9}, {target: I, current: 11}]
monitors: [{spikes: all}]
""" % (DT, NP_, NE, NI)

SYN = {"PE": "pre: P, post: E, synapse: Exponential, tau: 5 ms",
       "EE": "pre: E, post: E, synapse: Exponential, tau: 5 ms, output: {COBA: {E: 0 mV}}",
       "EI": "pre: E, post: I, synapse: Exponential, tau: 5 ms, delay: 0.5 ms",
       "II": "pre: I, post: I, synapse: Delta, delay_step: 2"}


def flist(a):
    return "[" + ", ".join(repr(float(x)) for x in a) + "]"


def ilist(a):
    return "[" + ", ".join(str(int(x)) for x in a) + "]"


def inline_config(net):
    pe, ee, ei, ii = net["PE"], net["EE"], net["EI"], net["II"]
    w_ei = ei["W"][ei["i"].astype(int), ei["j"].astype(int)]
    return HEAD + """projections:
  PE: {%s, connect: {IJ: {i: %s, j: %s, g_max: %s, delay: [%s]}}}
  EE: {%s, connect: {IJ: {i: %s, j: %s, g_max: %s, delay_step: %s}}}
  EI: {%s, connect: {IJ: {i: %s, j: %s, g_max: %s}}}
  II: {%s, connect: {IJ: {i: %s, j: %s, g_max: %s}}}
""" % (SYN["PE"], ilist(pe["i"]), ilist(pe["j"]), flist(pe["w"]),
       ", ".join("%r ms" % float(x) for x in pe["d_ms"]),
       SYN["EE"], ilist(ee["i"]), ilist(ee["j"]), flist(ee["w"]), ilist(ee["d_step"]),
       SYN["EI"], ilist(ei["i"]), ilist(ei["j"]), flist(w_ei),
       SYN["II"], ilist(range(NI)), ilist(range(NI)), flist(ii["v"]))


def order(post, sort):
    return np.argsort(post, kind="stable") if sort else np.arange(len(post))


def write_rows(path, net, sort):
    """Rows form: PE with weight + delay (ms), EE with weight + delay_step."""
    with h5py.File(path, "w") as f:
        pe, ee = net["PE"], net["EE"]
        o = order(pe["j"], sort)
        g = f.create_group("conn/PE")
        g["pre"], g["post"] = pe["i"][o], pe["j"][o].astype(np.int32)
        g["weight"], g["delay"] = pe["w"][o], pe["d_ms"][o]
        o = order(ee["j"], sort)
        f["pre"], f["post"] = ee["i"][o].astype(np.int64), ee["j"][o]
        f["weight"], f["delay_step"] = ee["w"][o].astype(np.float64), ee["d_step"][o]


def ranges_index(g, name, node_of_edge, n_nodes):
    """indices/<name>: node_id_to_ranges and range_to_edge_id (libsonata)."""
    n2r = np.zeros((n_nodes, 2), dtype=np.uint64)
    r2e = []
    for n in range(n_nodes):
        ids = np.nonzero(node_of_edge == n)[0]
        start = len(r2e)
        k = 0
        while k < len(ids):
            k1 = k + 1
            while k1 < len(ids) and ids[k1] == ids[k1 - 1] + 1:
                k1 += 1
            r2e.append((ids[k], ids[k1 - 1] + 1))
            k = k1
        n2r[n] = (start, len(r2e))
    ix = g.create_group("indices/" + name)
    ix["node_id_to_ranges"] = n2r
    ix["range_to_edge_id"] = np.array(r2e, dtype=np.uint64).reshape(-1, 2)


def write_sonata(path, net, sort, index, rng):
    """Edge populations PE and EE, each split over edge groups 0 and 3,
    their rows shuffled within each group."""
    with h5py.File(path, "w") as f:
        for name, src, tgt in (("PE", "P", "E"), ("EE", "E", "E")):
            d = net[name]
            o = order(d["j"], sort)
            i, j, w = d["i"][o], d["j"][o], d["w"][o]
            delay = d["d_ms"][o] if "d_ms" in d else d["d_step"][o] * DT
            E = len(i)
            g = f.create_group("edges/" + name)
            g["source_node_id"] = i
            g["source_node_id"].attrs["node_population"] = src
            g["target_node_id"] = j
            g["target_node_id"].attrs["node_population"] = tgt
            g["edge_type_id"] = np.zeros(E, dtype=np.uint32)
            grp = np.where(rng.random(E) < 0.5, 0, 3).astype(np.uint16)
            gidx = np.zeros(E, dtype=np.uint32)
            for gid in (0, 3):
                rows = np.nonzero(grp == gid)[0]
                perm = rng.permutation(len(rows))
                gidx[rows] = perm
                gw, gd = np.zeros(len(rows)), np.zeros(len(rows))
                gw[perm], gd[perm] = w[rows], delay[rows]
                g["%d/syn_weight" % gid] = gw
                g["%d/delay" % gid] = gd
            g["edge_group_id"], g["edge_group_index"] = grp, gidx
            if index:
                ranges_index(g, "target_to_source", j, NE)
                ranges_index(g, "source_to_target", i, NP_ if name == "PE" else NE)


def write_gmax(path, net):
    with h5py.File(path, "w") as f:
        f["W"] = net["EI"]["W"]
        f["v"] = net["II"]["v"].astype(np.float32).astype(np.float64)
        f["v32"] = net["II"]["v"].astype(np.float32)


def file_config(net, pe_conn, ee_conn, delays_in_file=True):
    ei = net["EI"]
    return HEAD + """projections:
  PE: {%s, connect: %s}
  EE: {%s, connect: %s}
  EI: {%s, g_max: {file: gmax.h5, dataset: /W}, connect: {IJ: {i: %s, j: %s}}}
  II: {%s, g_max: {file: gmax.h5, dataset: v}, connect: One2One}
""" % (SYN["PE"], pe_conn, SYN["EE"], ee_conn, SYN["EI"], ilist(ei["i"]),
       ilist(ei["j"]), SYN["II"])


def spikes(path):
    with h5py.File(path, "r") as f:
        return {p: (f["spikes/%s/timestamps" % p][()], f["spikes/%s/node_ids" % p][()])
                for p in f["spikes"]}


def same(a, b):
    return a.keys() == b.keys() and all(
        np.array_equal(a[k][0], b[k][0]) and np.array_equal(a[k][1], b[k][1]) for k in a)


def main():
    ap = bstest.parser(__doc__)
    ap.add_argument("--part", choices=["rows", "sonata"], default=None,
                    help="only the rows form (and drawn values) or only SONATA")
    args = ap.parse_args()
    wd = bstest.workdir(args, "edges_%s" % (args.part or "all"))
    rng = np.random.default_rng(11)
    net = network(rng)
    # One2One weights as float32 in the file: the inline list holds the same
    # values (float32 -> float64 is exact).
    net["II"]["v"] = net["II"]["v"].astype(np.float32).astype(np.float64)
    write_gmax(wd + "/gmax.h5", net)
    write_rows(wd + "/rows_sorted.h5", net, True)
    write_rows(wd + "/rows_unsorted.h5", net, False)
    for sort in (0, 1):
        for index in (0, 1):
            write_sonata("%s/sonata_s%d_i%d.h5" % (wd, sort, index), net, sort, index, rng)

    ref_cfg = bstest.write_config(wd + "/inline.yaml", inline_config(net))
    variants = {"inline": (ref_cfg, None)}
    for s in ("sorted", "unsorted") if args.part != "sonata" else ():
        variants["rows_" + s] = (bstest.write_config(
            "%s/rows_%s.yaml" % (wd, s),
            file_config(net, "{File: {file: rows_%s.h5, group: /conn/PE}}" % s,
                        "{File: {file: rows_%s.h5}}" % s)),
            "sorted" if s == "sorted" else "scan")
    for sort in (0, 1) if args.part != "rows" else ():
        for index in (0, 1):
            f = "sonata_s%d_i%d.h5" % (sort, index)
            variants[f[:-3]] = (bstest.write_config(
                "%s/%s.yaml" % (wd, f[:-3]),
                file_config(net, "{SONATA: {file: %s, population: PE}}" % f,
                            "{SONATA: {file: %s}}" % f)),
                "index" if index else ("sorted" if sort else "scan"))

    # Small scan chunks: several per file; 100 rows hold scattered local
    # rows (read whole), 7 rows only short runs (read run by run).
    os.environ["BRAINSIM_EDGE_CHUNK"] = "100" if args.part == "sonata" else "7"
    ref = None
    for name, (cfg, how) in variants.items():
        for np_ in (1, 2, 3):
            out = "%s/%s_np%d.h5" % (wd, name, np_)
            p = bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-v"], np=np_)
            s = spikes(out)
            if ref is None:
                ref = s
                n = {k: len(v[0]) for k, v in s.items()}
                print("inline network: spikes per population %s" % n)
                bstest.check(all(v > 20 for v in n.values()), "too few spikes: %s" % n)
                continue
            bstest.check(same(s, ref), "%s at %d ranks: spikes differ from the inline network"
                         % (name, np_))
            if how:
                got = re.findall(r"projection '(PE|EE)': \d+ synapses from \S+ \((\w+)\)", p.stdout)
                bstest.check(sorted(got) == [("EE", how), ("PE", how)],
                             "%s at %d ranks: read %s, expected %s" % (name, np_, got, how))
        print("%-16s bitwise equal to the inline network at 1, 2, 3 ranks%s"
              % (name, " (read: %s)" % how if how else ""))

    if args.part == "sonata":
        bstest.finish("edges")
    # No weight or delay columns: the projection's drawn g_max and delay.
    drawn = bstest.write_config(wd + "/drawn.yaml", HEAD + """projections:
  PE: {pre: P, post: E, tau: 5 ms, g_max: {Uniform: [0.5, 2.0]},
       delay: {Uniform: [0 ms, 3 ms]}, connect: {File: {file: drawn.h5}}}
""")
    with h5py.File(wd + "/drawn.h5", "w") as f:
        f["pre"], f["post"] = net["PE"]["i"], net["PE"]["j"]
    runs = []
    for np_ in (1, 2, 3):
        out = "%s/drawn_np%d.h5" % (wd, np_)
        bstest.run(args, ["run", drawn, "-o", out, "--overwrite", "-q"], np=np_)
        runs.append(spikes(out))
    bstest.check(same(runs[0], runs[1]) and same(runs[0], runs[2]),
                 "drawn weights: spikes differ between rank counts")
    print("drawn g_max/delay over file rows: bitwise equal at 1, 2, 3 ranks")

    # SONATA groups with delays and no syn_weight (nor nsyns): every edge
    # takes the projection's g_max, as the rows form without a weight
    # column does (this once wrote w0 through a NULL weight array).
    pe = net["PE"]
    with h5py.File(wd + "/delay_only_rows.h5", "w") as f:
        f["pre"], f["post"], f["delay"] = pe["i"], pe["j"], pe["d_ms"]
    with h5py.File(wd + "/delay_only_sonata.h5", "w") as f:
        g = f.create_group("edges/PE")
        g["source_node_id"] = pe["i"]
        g["source_node_id"].attrs["node_population"] = "P"
        g["target_node_id"] = pe["j"]
        g["target_node_id"].attrs["node_population"] = "E"
        g["edge_group_id"] = np.zeros(len(pe["i"]), dtype=np.uint16)
        g["edge_group_index"] = np.arange(len(pe["i"]), dtype=np.uint32)
        g["0/delay"] = pe["d_ms"]
    res = {}
    for form, conn in (("rows", "{File: {file: delay_only_rows.h5}}"),
                       ("sonata", "{SONATA: {file: delay_only_sonata.h5}}")):
        cfg = bstest.write_config("%s/delay_only_%s.yaml" % (wd, form), HEAD + """projections:
  PE: {pre: P, post: E, tau: 5 ms, g_max: 1.5, connect: %s}
""" % conn)
        for np_ in (1, 2):
            out = "%s/delay_only_%s_np%d.h5" % (wd, form, np_)
            bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
            res[form, np_] = spikes(out)
    n = sum(len(v[0]) for v in res["rows", 1].values())
    bstest.check(n > 0, "delay-only edges: no spikes")
    bstest.check(all(same(v, res["rows", 1]) for v in res.values()),
                 "SONATA groups with delays only: spikes differ from the rows form")
    print("SONATA delay-only groups = rows form without weights (g_max), "
          "bitwise at 1, 2 ranks (%d spikes)" % n)
    bstest.finish("edges")


if __name__ == "__main__":
    main()

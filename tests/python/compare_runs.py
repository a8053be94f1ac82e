"""Rank-count invariance: every spike and report dataset of the given
output files must be byte-for-byte identical to the first file's.

brainsim writes spikes sorted by (time, node id) and reports in node-id
order, so no canonical sort is needed before comparing."""
import sys

import h5py
import numpy as np

import bstest


def datasets(f):
    return {name: d[()] for name, d in bstest.walk(f)
            if name.split("/")[0] in ("spikes", "report")}


def main():
    p = bstest.parser(__doc__)
    p.add_argument("files", nargs="+")
    args = p.parse_args()
    with h5py.File(args.files[0], "r") as f:
        ref = datasets(f)
        bstest.check(int(f["meta"].attrs["complete"]) == 1, "%s incomplete" % args.files[0])
    bstest.check(len(ref) > 0, "no datasets in %s" % args.files[0])
    nspk = sum(len(v) for k, v in ref.items() if k.endswith("node_ids") and k.startswith("spikes"))
    bstest.check(nspk > 0, "no spikes in %s: the comparison would be empty" % args.files[0])
    for path in args.files[1:]:
        with h5py.File(path, "r") as f:
            got = datasets(f)
            ranks = int(f["meta"].attrs["ranks"])
        bstest.check(sorted(got) == sorted(ref),
                     "%s has datasets %s, %s has %s" % (path, sorted(got), args.files[0], sorted(ref)))
        for name, a in ref.items():
            b = got.get(name)
            if b is None:
                continue
            same = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
            if not same and a.shape == b.shape:
                diff = np.nonzero(a.reshape(-1) != b.reshape(-1))[0]
                where = "first difference at flat index %d: %r vs %r" % (
                    diff[0], a.reshape(-1)[diff[0]], b.reshape(-1)[diff[0]]) if len(diff) else "dtype differs"
            else:
                where = "shapes %s vs %s" % (a.shape, b.shape)
            bstest.check(same, "%s (%d ranks) differs from %s in %s: %s"
                         % (path, ranks, args.files[0], name, where))
        print("%s (%d ranks): %d datasets identical to %s" % (path, ranks, len(ref), args.files[0]))
    bstest.finish("compare_runs")


if __name__ == "__main__":
    main()

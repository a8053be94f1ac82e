"""Trace synapses (AMPA, GABAa, NMDA, BioNMDA) with comp_method dense give
bitwise the same output as sparse on the same connectivity, at 1 and 3
ranks: tests/configs/nmda_net.yaml (NMDA with STP and MgBlock, AMPA with
STD, GABAa, BioNMDA from Poisson input, per-pre trace and stp monitors),
with per-pre delays (dense keeps no per-synapse delays)."""
import os

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(os.path.dirname(HERE), "configs", "nmda_net.yaml")
PROJS = ("PE", "EE", "EI", "IE")
PER_PRE = {"PE": "{per: pre, Uniform: [0.5 ms, 2 ms]}",
           "EE": "{per: pre, Uniform: [0 ms, 3 ms]}",
           "IE": "{per: pre, Uniform: [0.5 ms, 1.5 ms]}"}


def datasets(path):
    with h5py.File(path, "r") as f:
        return {name: d[()] for name, d in bstest.walk(f)
                if not name.startswith("meta")}


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "trace_dense")
    common = ["--set", "run.duration=150 ms"]
    for p, d in PER_PRE.items():
        common += ["--set", "projections.%s.delay=%s" % (p, d)]
    runs = {}
    for method in ("sparse", "dense"):
        for np_ in (1, 3):
            out = os.path.join(wd, "%s_np%d.h5" % (method, np_))
            sets = list(common)
            for p in PROJS:
                sets += ["--set", "projections.%s.comp_method=%s" % (p, method)]
            bstest.run(args, ["run", CONFIG, "-o", out, "--overwrite", "-q"] + sets, np=np_)
            runs[(method, np_)] = datasets(out)
    ref = runs[("sparse", 1)]
    n_spk = sum(len(v) for k, v in ref.items() if k.endswith("node_ids") and k.startswith("spikes"))
    bstest.check(n_spk > 100, "too few spikes to compare (%d)" % n_spk)
    for key, d in runs.items():
        bstest.check(set(d) == set(ref), "%s: datasets differ: %s" % (key, sorted(set(d) ^ set(ref))))
        for name, v in ref.items():
            if name in d:
                bstest.check(d[name].shape == v.shape and
                             np.array_equal(d[name].view(np.uint8), v.view(np.uint8)),
                             "%s: %s differs from sparse at 1 rank" % (key, name))
    with h5py.File(os.path.join(wd, "dense_np1.h5"), "r") as f:
        for p in PROJS:
            m = f["meta/projections/%s" % p].attrs
            method = m.get("storage", m.get("comp_method", b"?"))
            if isinstance(method, bytes):
                method = method.decode()
            bstest.check("dense" in str(method), "%s stored as %s, expected dense" % (p, method))
    print("sparse and dense: %d datasets, %d spikes, bitwise equal at 1 and 3 ranks"
          % (len(ref), n_spk))
    bstest.finish("trace_dense")


if __name__ == "__main__":
    main()

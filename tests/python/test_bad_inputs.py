"""Bad HDF5 inputs (issue 7): a missing, truncated, wrong-type or
wrong-shape checkpoint, or one missing a dataset or attribute, is refused
with a message naming the file and the dataset, at 1 and 2 ranks, with a
non-zero exit and no crash or hang. (Checkpoints are the HDF5 input
brainsim reads today.)"""
import os
import shutil
import subprocess

import h5py
import numpy as np

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = os.path.join(HERE, "..", "configs", "mixed.yaml")


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "bad_inputs")
    shutil.rmtree(wd)
    os.makedirs(wd)
    bstest.run(args, ["run", CFG, "-o", wd + "/run.h5", "-q", "--checkpoint-every", "100ms",
                      "--checkpoint-dir", wd + "/ck"], np=1)
    good = wd + "/ck/ckpt.h5"

    def variant(name, edit):
        path = "%s/%s.h5" % (wd, name)
        shutil.copy(good, path)
        if edit:
            with h5py.File(path, "r+") as f:
                edit(f)
        return path

    def retype(f):
        del f["state/populations/E/V"]
        f["state/populations/E/V"] = np.zeros((1, 401), dtype=np.int32)

    def reshape(f):
        del f["state/populations/E/V"]
        f["state/populations/E/V"] = np.zeros((1, 400))

    def drop_ring(f):
        del f["state/projections/EE/ring"]

    def drop_step(f):
        del f["meta"].attrs["step"]

    truncated = wd + "/truncated.h5"
    with open(good, "rb") as src, open(truncated, "wb") as dst:
        data = src.read()
        dst.write(data[: len(data) // 2])
    cases = [
        (wd + "/missing.h5", ["cannot open", "missing.h5", "No such file"]),
        (truncated, ["truncated.h5"]),
        (variant("wrongtype", retype), ["wrongtype.h5", "/state/populations/E/V", "wrong type or shape"]),
        (variant("wrongshape", reshape), ["wrongshape.h5", "/state/populations/E/V", "wrong type or shape"]),
        (variant("noring", drop_ring), ["noring.h5", "/state/projections/EE/ring", "missing"]),
        (variant("nostep", drop_step), ["nostep.h5", "attribute step", "missing"]),
    ]
    for np_ in (1, 2):
        for path, frags in cases:
            try:
                p = bstest.run(args, ["run", CFG, "--restore", path, "-o", wd + "/out.h5", "-q"],
                               np=np_, check=False, timeout=120)
            except subprocess.TimeoutExpired:
                bstest.fail("%s at %d ranks: hang" % (os.path.basename(path), np_))
            name = os.path.basename(path)
            bstest.check(p.returncode != 0, "%s at %d ranks: exit 0" % (name, np_))
            bstest.check("signal" not in p.stderr and "Segmentation" not in p.stderr,
                         "%s at %d ranks: crash: %r" % (name, np_, p.stderr[:300]))
            for frag in frags:
                bstest.check(frag in p.stderr, "%s at %d ranks: message lacks %r: %r"
                             % (name, np_, frag, p.stderr[:400]))
            line = [l for l in p.stderr.split("\n") if name in l]
            print("%-15s np %d: %s" % (name, np_, line[0][:140] if line else p.stderr[:140]))
    bstest.finish("bad_inputs")


if __name__ == "__main__":
    main()

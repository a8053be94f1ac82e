"""The fused update's input (fuse.c): a constant input that is the same
for every local neuron is one value broadcast into each block, any other
is copied from I_ext. COBA (configs/coba.yaml, 300 ms) must give bitwise
the same spikes and V samples

- fused with the uniform input (broadcast) as unfused (an `input` monitor
  on E and I keeps both populations on the unfused path);
- with an extra 0.5 on E neurons 0-99 only: at 1 rank E takes the copy,
  at 2 ranks rank 0 copies and rank 1 broadcasts; 1, 2 ranks and
  unfused all agree."""
import os

import h5py

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
COBA = open(os.path.join(HERE, "..", "..", "configs", "coba.yaml")).read()
UNFUSED = "  - {population: E, variables: [input]}\n  - {population: I, variables: [input]}\n"
PART = "  - {target: E, range: [0, 100], current: 0.5}\n"


def read(path):
    with h5py.File(path, "r") as f:
        return {k: f[k][()] for k in ("spikes/E/timestamps", "spikes/E/node_ids",
                                      "spikes/I/node_ids", "report/E/V/data")}


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "fused_input")
    text = COBA.replace("duration: 1 s", "duration: 300 ms")
    assert "duration: 300 ms" in text and "monitors:\n" in text and "inputs:\n" in text
    for name, part in (("uniform", ""), ("partial", PART)):
        base = text.replace("inputs:\n", "inputs:\n" + part, 1)
        cfgs = {"fused": base, "unfused": base.replace("monitors:\n", "monitors:\n" + UNFUSED, 1)}
        got = {}
        for form, body in cfgs.items():
            cfg = bstest.write_config("%s/%s_%s.yaml" % (wd, name, form), body)
            for np_ in ((1, 2) if form == "fused" else (1,)):
                out = "%s/%s_%s_%d.h5" % (wd, name, form, np_)
                bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q"], np=np_)
                got[form, np_] = read(out)
        ref = got["unfused", 1]
        bstest.check(len(ref["spikes/E/node_ids"]) > 1000, "%s: few spikes" % name)
        for key, r in got.items():
            for k, v in r.items():
                bstest.check(v.shape == ref[k].shape and v.tobytes() == ref[k].tobytes(),
                             "%s input, %s at %d rank(s): %s differs from unfused" % (name, key[0], key[1], k))
        print("%s input: fused at 1 and 2 ranks equals unfused bitwise (%d E spikes)"
              % (name, len(ref["spikes/E/node_ids"])))
    bstest.finish("fused_input")


if __name__ == "__main__":
    main()

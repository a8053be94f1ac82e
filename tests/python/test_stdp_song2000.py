"""configs/stdp_song2000.yaml (Song, Miller & Abbott 2000 as in Brian2's
STDP example), shortened from 100 s to 20 s.

What a 20 s run can show, stated honestly: the full 100 s run ends bimodal
(README: 25 % of the weights in the lowest tenth of [0, gmax], 18 % in the
highest); after 20 s the weights have only begun to move to the bounds. So
this asserts the direction and a size a uniform start cannot reach by
chance: against the initial weights of the same seed (a one-step run, whose
edges output holds them: no spike reaches a synapse in step 0),
  1. the fraction in the outer tenths (w < 0.1 gmax or w > 0.9 gmax) grows
     by at least 5 points (at the start it is 0.2 +- 0.013),
  2. the standard deviation of w / gmax grows by at least 0.01 (uniform:
     0.289 +- 0.005),
  3. every weight stays in [0, gmax] and the neuron fires (5-60 Hz).
Not asserted: the full bimodal shape, which needs the 100 s run
(`brainsim run configs/stdp_song2000.yaml`, README figures)."""
import os

import h5py
import numpy as np

import bstest

GMAX = 0.01


def weights(args, wd, cfg, duration):
    out = os.path.join(wd, "song_%s.h5" % duration.replace(" ", ""))
    bstest.run(args, ["run", cfg, "-o", out, "--overwrite", "-q", "--set",
                      "run.duration=%s" % duration], np=0, timeout=900)
    with h5py.File(out, "r") as f:
        return (f["edges/input/0/syn_weight"][()] / GMAX,
                f["spikes/neuron/node_ids"].shape[0])


def main():
    p = bstest.parser(__doc__)
    p.add_argument("--config", required=True)
    args = p.parse_args()
    wd = bstest.workdir(args, "stdp_song2000")
    w0, _ = weights(args, wd, args.config, "0.1 ms")
    w, nspk = weights(args, wd, args.config, "20 s")
    def outer(x):
        return float(np.mean((x < 0.1) | (x > 0.9)))
    print("initial: outer %.3f std %.4f; after 20 s: outer %.3f std %.4f, "
          "%.1f Hz, histogram %s" % (outer(w0), np.std(w0), outer(w), np.std(w),
                                     nspk / 20.0,
                                     np.histogram(w, 10, (0, 1))[0].tolist()))
    bstest.check(len(w) == 1000 and len(w0) == 1000, "expected 1000 edges")
    bstest.check(outer(w) >= outer(w0) + 0.05,
                 "outer tenths %.3f -> %.3f: grew less than 0.05"
                 % (outer(w0), outer(w)))
    bstest.check(np.std(w) >= np.std(w0) + 0.01,
                 "std %.4f -> %.4f: grew less than 0.01" % (np.std(w0), np.std(w)))
    bstest.check(w.min() >= 0.0 and w.max() <= 1.0, "a weight left [0, gmax]")
    bstest.check(5.0 <= nspk / 20.0 <= 60.0, "post rate %.1f Hz" % (nspk / 20.0))
    bstest.finish("stdp_song2000")


if __name__ == "__main__":
    main()

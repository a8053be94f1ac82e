"""COBA (or CUBA, COBAHH: --model) mean rates per population against Brian2's own runs of the same
network over 16 seeds (8 for COBAHH; tests/data/brian2_rates.json and
brian2_cobahh_rates.json, produced by tools/brian2_coba_rates.py with Brian2 2.5.1 cpp_standalone). The rate of
brainsim's run must lie within [min, max] of Brian2's seeds: the spread
comes from the random network (quenched variability), so one seed of ours
is one more draw from that distribution."""
import json

import h5py

import bstest


def main():
    p = bstest.parser(__doc__)
    p.add_argument("--run", required=True, help="brainsim output of configs/coba.yaml")
    p.add_argument("--brian2", required=True)
    p.add_argument("--model", default="COBA")
    args = p.parse_args()
    ref = json.load(open(args.brian2))
    summ = ref["models"][args.model]["summary"]
    with h5py.File(args.run, "r") as f:
        dur = float(f["meta"].attrs["duration"]) / 1000.0
        for pop in ("E", "I"):
            n = int(f["meta/populations/%s" % pop].attrs["size"])
            rate = len(f["spikes/%s/node_ids" % pop]) / (n * dur)
            lo, hi = summ[pop]["min"], summ[pop]["max"]
            print("%s %s: brainsim %.3f Hz; Brian2 over %d seeds: min %.3f, mean %.3f, max %.3f"
                  % (args.model, pop, rate, len(ref["models"][args.model]["per_seed"]), lo, summ[pop]["mean"], hi))
            bstest.check(lo <= rate <= hi, "%s rate %.3f Hz outside Brian2's [%.3f, %.3f]" % (pop, rate, lo, hi))
    bstest.finish("%s_rates_vs_brian2" % args.model.lower())


if __name__ == "__main__":
    main()

"""Per-rank memory that does not grow with the rank count at fixed work per
rank (issue 10 items 1 and 4).

The same network per rank (1,000 neurons: E 800, I 200; in-degree 2 from
E and from I by FixedProb, a One2One E -> E with STP) at 1, 2 and 4 ranks,
so the whole network grows with the rank count:

1. Synapse storage, per projection, equals its exact split from what
   each rank built (`check` prints the rows each rank keeps, summed over
   ranks, how many of them are listed by id, and the bytes of the tables
   that find a row): 2 per column (16 bits: every rank's post block is
   under 65,536 neurons) (+ 4 per varying weight) + the tables.
   Rows are the pre neurons with a local synapse (and, with STP, the
   rank's own block), or the whole pre population where that is smaller
   (4 bytes of row offset each, + 4 per rank); a listed table is
   compressed with its row offsets (src/engine/ctab.c), under 2.5 bytes
   a row here. So the bytes are bounded by 12 per synapse + 8 per own pre
   neuron + 4 per rank: no term in the size of the network.
2. One2One: rank r's rows are exactly its n_r pre neurons: 6 N + 4 on one
   rank, 10 N + 8 on two (the identity is no larger there), and 2 N + the
   compressed blocks (bstest.ctab_bytes, ~1 byte a row) on four.
3. Bytes per synapse of the whole run (/meta) at 4 ranks within 1.6x of
   1 rank (the ratio the table gives at this in-degree; it stops growing
   once every row holds about one synapse), and the largest rank's peak
   memory (/meta peak_memory_bytes_max) at 4 ranks within 1.5x of 1
   rank."""
import re

import h5py

import bstest

NET = """
run: {dt: 0.1 ms, duration: 5 ms, seed: 3}
populations:
  E: {model: LIF, size: %(ne)d, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms,
      tau_ref: 5 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
  I: {model: LIF, size: %(ni)d, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV, tau: 20 ms,
      tau_ref: 5 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  EE: {pre: E, post: E, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.6,
       connect: {FixedProb: {prob: %(pe)r}}}
  IE: {pre: I, post: E, tau: 10 ms, output: {COBA: {E: -80 mV}}, g_max: {Uniform: [5, 7]},
       connect: {FixedProb: {prob: %(pi)r}}}
  EI: {pre: E, post: I, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.6,
       connect: {FixedProb: {prob: %(pe)r}}}
  O2O: {pre: E, post: E, tau: 5 ms, output: {COBA: {E: 0 mV}}, g_max: 0.1,
        stp: {STD: {tau: 100 ms, U: 0.3}}, connect: One2One}
inputs:
  - {target: E, current: 20}
  - {target: I, current: 20}
monitors:
  - {spikes: [E, I]}
"""
PER_SYN = {"EE": 2, "IE": 6, "EI": 2, "O2O": 2}  # 16-bit column + varying weight
PRE = {"EE": "E", "IE": "I", "EI": "E", "O2O": "E"}


def check_lines(stdout):
    """{name: (synapses, rows, listed by id, table bytes)} from `check`."""
    out = {}
    for m in re.finditer(r"^projection (\S+) .*built (\d+), [0-9.]+ bytes/synapse; rows (\d+), "
                         r"(\d+) listed by id, table (\d+) bytes", stdout, re.M):
        out[m.group(1)] = tuple(int(m.group(k)) for k in (2, 3, 4, 5))
    return out


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "weak_memory")
    per = {}
    for np_ in (1, 2, 4):
        ne, ni = 800 * np_, 200 * np_
        cfg = bstest.write_config("%s/weak_%d.yaml" % (wd, np_), NET % {
            "ne": ne, "ni": ni, "pe": 2.0 / ne, "pi": 2.0 / ni})
        size = {"E": ne, "I": ni}
        p = bstest.run(args, ["check", cfg], np=np_)
        got = check_lines(p.stdout)
        bstest.check(set(got) == set(PER_SYN), "%d ranks: check lines %s" % (np_, sorted(got)))
        o = "%s/weak_%d.h5" % (wd, np_)
        bstest.run(args, ["run", cfg, "-o", o, "--overwrite", "-q"], np=np_)
        with h5py.File(o, "r") as f:
            m = f["meta"]
            built = {j: (int(m["projections/%s" % j].attrs["synapses"]),
                         int(m["projections/%s" % j].attrs["bytes"])) for j in PER_SYN}
            per[np_] = (float(m.attrs["bytes_per_synapse"]), int(m.attrs["peak_memory_bytes_max"]))
        for j, b in PER_SYN.items():
            nnz, rows, ids, tab = got.get(j, (0, 0, 0, 0))
            bstest.check(built[j][0] == nnz, "%d ranks, %s: /meta %d synapses, check %d"
                         % (np_, j, built[j][0], nnz))
            exact = nnz * b + tab
            bstest.check(built[j][1] == exact, "%d ranks, %s: %d bytes stored, formula %d (%d synapses, "
                         "%d rows, %d ids, table %d bytes)" % (np_, j, built[j][1], exact, nnz, rows, ids, tab))
            if ids:  # compressed: ~1-2 bytes a listed row, not 8
                bstest.check(tab <= 2.5 * ids + 96 * np_, "%d ranks, %s: %d table bytes for %d listed rows"
                             % (np_, j, tab, ids))
            # Every row has a synapse, or is the rank's own pre neuron (STP),
            # or the identity was no larger than the table: no N term.
            own = size[PRE[j]] if j == "O2O" else 0
            bound = nnz * (b + 8) + own * 8 + 4 * np_
            bstest.check(built[j][1] <= bound, "%d ranks, %s: %d bytes > %d (12 per synapse + 8 per own "
                         "pre neuron + 4 per rank)" % (np_, j, built[j][1], bound))
        n = ne
        o2o = 2 * n
        for r in range(np_):
            lo, hi = r * n // np_, (r + 1) * n // np_
            o2o += 4 * (n + 1) if n * 4 <= (hi - lo) * 8 else \
                bstest.ctab_bytes(range(lo, hi), [1] * (hi - lo))
        bstest.check(built["O2O"][1] == o2o, "%d ranks: One2One %d bytes, expected %d"
                     % (np_, built["O2O"][1], o2o))
        print("%d ranks: %.2f bytes/synapse, peak %d bytes on the largest rank; %s"
              % (np_, per[np_][0], per[np_][1],
                 ", ".join("%s %d rows (%d by id, %d table bytes)" % (j, got[j][1], got[j][2], got[j][3])
                        for j in sorted(got))))
    bstest.check(per[4][0] <= 1.6 * per[1][0], "bytes per synapse %.2f at 4 ranks > 1.6 x %.2f at 1"
                 % (per[4][0], per[1][0]))
    bstest.check(per[4][1] <= 1.5 * per[1][1], "peak memory %d at 4 ranks > 1.5 x %d at 1"
                 % (per[4][1], per[1][1]))
    bstest.finish("weak_memory")


if __name__ == "__main__":
    main()

"""ConNeuGroup (BrainPy's CondNeuGroup) built from channels in YAML.

1. INa_HH1952 + IK_HH1952 + IL with HH's parameters reproduce the HH model,
   with constant input and with a COBA synapse from a driver neuron: the
   same update (V with the gates frozen, the gates with V of the previous
   step, all by exponential Euler), arranged differently (u = V - V_sh),
   so V agrees to rounding: |dV| <= 1e-9 mV (observed ~3e-13), gates to
   1e-11, identical spikes. With method rk4 the two differ by design
   (BrainPy's HH couples V and gates across rk4 stages, CondNeuGroup's
   channels do not), so only exp_auto is compared.
2. A thalamic-style cell with a calcium ion (CalciumDetailed holding
   ICaT_HM1992 and IAHP_De1994), IL, IKL, INa_Ba2002, IKDR_Ba2002: the
   run is finite, E_Ca starts at its Nernst value (~120 mV) and the
   calcium concentration rises above rest while the cell fires.
3. Config mistakes name file:line:col: an unknown channel kind, a
   parameter of another channel, a calcium channel outside an ion, an ion
   inside an ion, a ConNeuGroup without channels.
"""
import re

import h5py
import numpy as np

import bstest

HH_EQUIV = """run: {dt: 0.1 ms, duration: 200 ms, seed: 3}
populations:
  drive: {model: HH, size: 1, V_initializer: -65}
  hh: {model: HH, size: 3, V_initializer: -65}
  cng:
    model: ConNeuGroup
    size: 3
    V_initializer: -65
    V_th: 20
    channels:
      INa: {kind: INa_HH1952, g_max: 120, E: 50}
      IK: {kind: IK_HH1952, g_max: 36, E: -77}
      IL: {kind: IL, g_max: 0.03, E: -54.387}
projections:
  a: {pre: drive, post: hh, tau: 8 ms, g_max: 0.5, output: {COBA: {E: 0}}, connect: All2All}
  b: {pre: drive, post: cng, tau: 8 ms, g_max: 0.5, output: {COBA: {E: 0}}, connect: All2All}
inputs:
  - {target: drive, current: 5}
  - {target: hh, current: 2, range: [0, 1]}
  - {target: cng, current: 2, range: [0, 1]}
  - {target: hh, current: 7, range: [2, 3]}
  - {target: cng, current: 7, range: [2, 3]}
monitors:
  - spikes: all
  - {population: hh, variables: [V, m, h, n]}
  - {population: cng, variables: [V, INa.p, INa.q, IK.p]}
"""

CALCIUM = """run: {dt: 0.05 ms, duration: 300 ms, seed: 5}
populations:
  tc:
    model: ConNeuGroup
    size: 2
    V_initializer: {Uniform: [-70, -60]}
    channels:
      Ca:
        kind: CalciumDetailed
        channels:
          ICaT: {kind: ICaT_HM1992, g_max: 2}
          IAHP: {kind: IAHP_De1994, g_max: 0.3}
      INa: {kind: INa_Ba2002}
      IK: {kind: IKDR_Ba2002}
      IL: {kind: IL, g_max: 0.05}
      IKL: {kind: IKL, g_max: 0.01}
inputs:
  - {target: tc, current: 3}
monitors:
  - spikes: all
  - {population: tc, variables: [V, Ca.C, Ca.E, Ca.ICaT.p, Ca.IAHP.p]}
"""

BAD = [
    ("unknown channel kind",
     "      INa: {kind: INa_XX1999, g_max: 100}\n", 8, 19, "unknown channel kind 'INa_XX1999'"),
    ("parameter of another channel",
     "      IL: {kind: IL, V_sh: -63}\n", 8, 22, "unknown key 'V_sh'"),
    ("calcium channel without an ion",
     "      ICaT: {kind: ICaT_HM1992}\n", 8, 20, "needs a calcium ion"),
    ("ion inside an ion",
     "      Ca: {kind: CalciumFixed, channels: {Ca2: {kind: CalciumDetailed}}}\n",
     8, 55, "cannot be inside another ion"),
]


def main():
    p = bstest.parser(__doc__)
    args = p.parse_args()
    wd = bstest.workdir(args, "cng")

    # 1. ConNeuGroup(INa_HH1952, IK_HH1952, IL) == HH
    path = bstest.write_config(wd + "/cng_hh.yaml", HH_EQUIV)
    out = wd + "/cng_hh.h5"
    bstest.run(args, ["run", path, "-o", out, "--overwrite", "-q"], np=0)
    with h5py.File(out, "r") as f:
        for a, b, tol in (("V", "V", 1e-9), ("m", "INa.p", 1e-11), ("h", "INa.q", 1e-11),
                          ("n", "IK.p", 1e-11)):
            x = f["report/hh/%s/data" % a][()]
            y = f["report/cng/%s/data" % b][()]
            err = np.max(np.abs(x - y))
            bstest.check(err <= tol, "HH %s vs ConNeuGroup %s: max |diff| %.3g > %g"
                         % (a, b, err, tol))
            print("HH %-2s vs ConNeuGroup %-6s max |diff| %.2e (tol %g)" % (a, b, err, tol))
        for key in ("timestamps", "node_ids"):
            x = f["spikes/hh/" + key][()]
            y = f["spikes/cng/" + key][()]
            bstest.check(x.shape == y.shape and np.all(x == y),
                         "spikes differ: %s vs %s" % (x[:8], y[:8]))
        n = len(f["spikes/hh/timestamps"][()])
        bstest.check(n > 10, "too few spikes (%d) to compare" % n)
        print("spikes identical (%d)" % n)

    # 2. calcium dynamics
    path = bstest.write_config(wd + "/calcium.yaml", CALCIUM)
    out = wd + "/calcium.h5"
    bstest.run(args, ["run", path, "-o", out, "--overwrite", "-q"], np=0)
    with h5py.File(out, "r") as f:
        C = f["report/tc/Ca.C/data"][()]
        E = f["report/tc/Ca.E/data"][()]
        V = f["report/tc/V/data"][()]
        nspk = len(f["spikes/tc/timestamps"][()])
        bstest.check(np.all(np.isfinite(V)) and np.all(np.isfinite(C)), "non-finite state")
        e0 = 8.31441 / (2 * 96.489) * (273.15 + 36) * np.log(2 / 2.4e-4)
        bstest.check(np.allclose(E[0], e0, rtol=0, atol=1e-9),
                     "E_Ca(0) %s vs Nernst %g" % (E[0], e0))
        bstest.check(nspk > 0, "the calcium cell did not fire")
        bstest.check(C.max() > 2.4e-4 * 1.5, "calcium did not rise: max C %g" % C.max())
        print("calcium cell: %d spikes, C in [%.3g, %.3g] mM, E_Ca(0) = %.3f mV"
              % (nspk, C.min(), C.max(), E[0, 0]))

    # 3. config errors
    head = ("run: {dt: 0.1 ms, duration: 10 ms}\npopulations:\n  P:\n    model: ConNeuGroup\n"
            "    size: 2\n    channels:\n      IK: {kind: IK_TM1991}\n")
    for what, line, ln, col, msg in BAD:
        path = bstest.write_config(wd + "/bad_%s.yaml" % re.sub(r"\W+", "_", what), head + line)
        r = bstest.run(args, ["check", path], np=0, check=False)
        loc = "%s:%d:%d:" % (path, ln, col)
        ok = r.returncode != 0 and loc in r.stderr and msg in r.stderr
        bstest.check(ok, "%s: expected '%s ... %s', got rc %d: %s"
                     % (what, loc, msg, r.returncode, r.stderr.strip()))
        print("%-32s -> %s" % (what, r.stderr.strip().splitlines()[0] if r.stderr else "?"))
    path = bstest.write_config(wd + "/bad_no_channels.yaml",
                               "run: {dt: 0.1 ms, duration: 10 ms}\npopulations:\n"
                               "  P: {model: ConNeuGroup, size: 2}\n")
    r = bstest.run(args, ["check", path], np=0, check=False)
    bstest.check(r.returncode != 0 and (path + ":3:") in r.stderr and "needs channels" in r.stderr,
                 "no channels: %s" % r.stderr.strip())
    bstest.finish("cng")


if __name__ == "__main__":
    main()

"""Multi-phase runs and the checkpoint identity (issue 11 item 7, issue 12).

1. A run with --checkpoint-dir writes a checkpoint at its end. COBA (with a
   V and a g report) run 0.5 s at 2 ranks, then --restore with run.duration
   = 1 s at 3 ranks and, from a copy, at 1 rank, ends with spikes and
   reports byte-identical to one 1 s run at 1 rank (BrainPy's runner.run()
   twice). The same for tests/configs/mixed.yaml (delays of several steps,
   an exchange interval of more than one step) cut at a step that is not on
   its exchange grid.
2. A shorter run.duration than the checkpoint's time is refused.
3. Every change that alters the dynamics is refused, naming the config
   key: a parameter, an initializer, method, comp_method, Delta's post_ref
   gating, a per-post E, a per-pre delay, a weight, stp, the plasticity
   rule and each of its parameters, the seed, dt, an input, a monitor."""
import os
import shutil

import h5py

import bstest

HERE = os.path.dirname(os.path.abspath(__file__))
COBA = os.path.join(HERE, "..", "..", "configs", "coba.yaml")
MIXED = os.path.join(HERE, "..", "configs", "mixed.yaml")

# Delta with refractory gating, a per-post E and per-pre delays, so that
# each of them has something to change.
KEYS = """run: {dt: 0.1 ms, duration: 100 ms, seed: 5}
populations:
  P: {model: PoissonGroup, size: 50, freqs: 30 Hz}
  E: {model: LIF, size: 40, V_rest: -60 mV, V_reset: -60 mV, V_th: -50 mV,
      tau: 20 ms, tau_ref: 2 ms, V_initializer: {Uniform: [-60 mV, -50 mV]}}
projections:
  PE: {pre: P, post: E, synapse: Exponential, tau: 5 ms,
       output: {COBA: {E: {Uniform: [-5 mV, 5 mV]}}}, g_max: 0.3,
       delay: {per: pre, Uniform: [0.5 ms, 2 ms]},
       connect: {FixedProb: {prob: 0.3}}}
  PD: {pre: P, post: E, synapse: Delta, g_max: 0.5, post_ref_key: refractory,
       stp: {STD: {tau: 200 ms, U: 0.2}}, connect: {FixedProb: {prob: 0.1}}}
  PS: {pre: P, post: E, synapse: Exponential, tau: 5 ms, g_max: 0.2,
       plasticity: {STDP_Song2000: {W_max: 0.5, W_min: 0.0}},
       connect: {FixedProb: {prob: 0.1}}}
inputs:
  - {target: E, current: 5}
monitors:
  - {spikes: all}
  - {population: E, variables: [V], indices: [0, 1, 2]}
"""


def identical(a, b):
    p = bstest.subprocess.run(["/usr/bin/python3", os.path.join(HERE, "compare_runs.py"), a, b],
                              capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
    return p.returncode == 0


def ckpt_step(path):
    with h5py.File(path, "r") as f:
        return int(f["meta"].attrs["step"])


def two_phases(args, wd, name, config, total, first, first_steps, np1, np2s):
    ref = "%s/%s_ref.h5" % (wd, name)
    bstest.run(args, ["run", config, "-o", ref, "-q", "--set", "run.duration=" + total], np=1)
    out = "%s/%s.h5" % (wd, name)
    ck = "%s/%s_ck" % (wd, name)
    p = bstest.run(args, ["run", config, "-o", out, "-q", "--set", "run.duration=" + first,
                          "--checkpoint-dir", ck], np=np1)
    ok = bstest.check(os.path.exists(ck + "/ckpt.h5"), "%s: no checkpoint at the end of the run:\n%s"
                      % (name, p.stdout))
    if not ok:
        return
    bstest.check(ckpt_step(ck + "/ckpt.h5") == first_steps, "%s: end checkpoint at step %d, not %d"
                 % (name, ckpt_step(ck + "/ckpt.h5"), first_steps))
    shutil.copy(out, out + ".copy")
    for k, np2 in enumerate(np2s):
        o = out if k == 0 else "%s.%d.h5" % (out, np2)
        if k:
            shutil.copy(out + ".copy", o)
        p = bstest.run(args, ["run", config, "--restore", ck + "/ckpt.h5", "-o", o, "-q",
                              "--set", "run.duration=" + total], np=np2)
        bstest.check("(continued)" in p.stdout, "%s: restore did not continue:\n%s" % (name, p.stdout))
        bstest.check(identical(ref, o), "%s: %s at %d ranks + %s at %d ranks differs from one run"
                     % (name, first, np1, total, np2))
        print("%s: %s at %d ranks, continued to %s at %d ranks: identical to one run"
              % (name, first, np1, total, np2))
    return ck + "/ckpt.h5"


def refused(args, config, ck, sets, key):
    cmd = ["run", config, "--restore", ck, "-q", "-o", os.path.dirname(ck) + "/refused.h5"]
    for s in sets:
        cmd += ["--set", s]
    p = bstest.run(args, cmd, np=1, check=False)
    bstest.check(p.returncode != 0 and ("%s differs" % key) in p.stderr,
                 "--set %s: not refused naming %s: rc %d, %r" % (sets, key, p.returncode, p.stderr))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "multiphase")
    shutil.rmtree(wd)
    os.makedirs(wd)

    # 1. continue into a longer run
    ck = two_phases(args, wd, "coba", COBA, "1 s", "0.5 s", 5000, 2, [3, 1])
    two_phases(args, wd, "mixed", MIXED, "300 ms", "100.1 ms", 1001, 1, [2])

    # 2. shorter than the checkpoint
    p = bstest.run(args, ["run", COBA, "--restore", ck, "-q", "-o", wd + "/short.h5",
                          "--set", "run.duration=0.4 s"], np=1, check=False)
    bstest.check(p.returncode != 0 and "after the end of this run" in p.stderr
                 and "run.duration" in p.stderr, "shorter duration not refused: %r" % p.stderr)

    # 3. each key that changes the dynamics, named
    cfg = bstest.write_config(wd + "/keys.yaml", KEYS)
    bstest.run(args, ["run", cfg, "-o", wd + "/keys.h5", "-q", "--checkpoint-dir", wd + "/kck"], np=2)
    kck = wd + "/kck/ckpt.h5"
    # the unchanged config restores (a check of the test itself)
    p = bstest.run(args, ["run", cfg, "--restore", kck, "-q", "-o", wd + "/keys.h5",
                          "--set", "run.duration=150 ms"], np=1, check=False)
    bstest.check(p.returncode == 0, "unchanged config refused: %r" % p.stderr)
    cases = [
        (["populations.E.method=rk4"], "populations.E.method"),
        (["populations.E.tau=21 ms"], "populations.E.tau"),
        (["populations.E.V_initializer={Normal: [-55 mV, 1 mV]}"], "populations.E.V_initializer"),
        (["populations.P.freqs=31 Hz"], "populations.P.freqs"),
        (["projections.PE.comp_method=dense", "projections.PE.delay=1 ms"],
         "projections.PE.comp_method"),
        (["projections.PD.post_ref_key=null"], "projections.PD.post_ref_key"),
        (["projections.PE.output={COBA: {E: {Uniform: [-5 mV, 6 mV]}}}"], "projections.PE.output.COBA.E"),
        (["projections.PE.output={COBA: {E: 0 mV}}"], "projections.PE.output.COBA.E"),
        (["projections.PE.delay={per: pre, Uniform: [0.5 ms, 2.5 ms]}"], "projections.PE.delay"),
        (["projections.PE.delay={Uniform: [0.5 ms, 2 ms]}"], "projections.PE.delay.form"),
        (["projections.PE.g_max=0.31"], "projections.PE.g_max"),
        (["projections.PD.stp={STD: {tau: 100 ms, U: 0.2}}"], "projections.PD.stp"),
        (["projections.PE.connect={FixedProb: {prob: 0.31}}"], "projections.PE.connect"),
        (["projections.PS.plasticity={stdp_synapse: {Wmax: 0.5}}"], "projections.PS.plasticity"),
        (["projections.PS.plasticity={STDP_Song2000: {W_max: 0.5, W_min: 0.0, tau_s: 20 ms}}"],
         "projections.PS.plasticity.STDP_Song2000.tau_s"),
        (["projections.PS.plasticity={STDP_Song2000: {W_max: 0.6, W_min: 0.0}}"],
         "projections.PS.plasticity.STDP_Song2000.W_max"),
        (["projections.PS.plasticity=null"], "projections.PS.plasticity"),
        (["run.seed=6"], "run.seed"),
        (["run.dt=0.05 ms"], "run.dt"),
        (["inputs=[{target: E, current: 6}]"], "inputs"),
        (["monitors=[{spikes: all}]"], "monitors[1]"),
    ]
    for sets, key in cases:
        refused(args, cfg, kck, sets, key)
    print("%d changed keys refused, each named" % len(cases))
    bstest.finish("multiphase")


if __name__ == "__main__":
    main()

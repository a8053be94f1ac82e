#!/usr/bin/env python3
"""Invalid configs must fail cleanly: a non-zero exit, no crash or hang, and
one error message that names the exact place (file:line:col, or the --set
argument) and says what is wrong -- once, however many ranks run.

At --np 1 every case runs, as a one-rank process started without a launcher
(what a user types; a launcher costs ~2 s per case and checks nothing more).
At --np 2 the cases in AT_TWO_RANKS run under mpiexec: one per stage that
finds an error (YAML reader, populations, connectors, inputs, monitors,
--set overrides, the output file), since "printed once" is a property of the
shared error path, not of each message.

Usage: test_bad_configs.py --brainsim PATH [--np 1|2] [--mpiexec PATH]
                           [--workdir DIR]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BAD = os.path.join(ROOT, "tests", "configs", "bad")
TIMEOUT = 60  # seconds; a config error must never take this long

# The expectations. config: a file in tests/configs/bad, or a path with a
# "/" relative to the repository root. line/col: where the error must point,
# counted by hand from the YAML (1-based). For --set rows line is None and the
# location is the "--set ARG" text, followed by ": col COL" when col is given.
# fragment: text the message must contain. args: extra command-line arguments.
CASES = [
    # config                          line col  fragment                          args
    ("yaml_syntax.yaml",                 3, 13, "invalid nested block mapping", []),
    # libfyaml places a tab-indentation error on the token the tab indents
    ("yaml_tab_indent.yaml",             4,  2, "invalid tab", []),
    ("yaml_duplicate_key.yaml",          7,  5, "duplicate key", []),
    ("empty_config.yaml",                1,  1, "expected a mapping with run, populations", []),
    ("not_utf8.yaml",                    2, 13, "is not valid UTF-8", []),
    ("gap_from_file.yaml",               6,  8, "GapJunction takes its pairs from a generating", []),
    ("unknown_top_key.yaml",             5,  1, "unknown key 'monitor'", []),
    ("unknown_pop_key.yaml",             7,  5, "unknown key 'tau_m'", []),
    ("unknown_model.yaml",               5, 12, "unknown model 'Izhikevitch'", []),
    # a missing key is reported at the key that opens the mapping lacking it
    ("missing_size.yaml",                4,  3, "missing required key 'size'", []),
    ("size_zero.yaml",                   6, 11, "size must be at least 1", []),
    ("size_fractional.yaml",             6, 11, "expected a whole number, got '10.5'", []),
    ("negative_tau.yaml",                7, 10, "parameter 'tau' = -5 is out of range", []),
    ("tau_wrong_dimension.yaml",         7, 10, "expected a time value in ms, got '5 mV', a voltage", []),
    ("unknown_unit.yaml",                7, 10, "unknown unit 'msec'", []),
    ("non_numeric.yaml",                 7, 11, "'high', which is not a number", []),
    ("reset_above_threshold.yaml",       8, 14, "V_reset must be below V_th", []),
    ("uniform_low_above_high.yaml",      7, 21, "Uniform needs low < high", []),
    ("missing_duration.yaml",            2,  1, "missing required parameter 'duration'", []),
    ("duration_not_multiple_of_dt.yaml", 4, 13, "is not a whole number of steps of dt", []),
    ("seed_too_large.yaml",              5,  9, "seed: 4294967296 is out of range", []),
    ("populations_is_list.yaml",         3,  1, "populations: expected a mapping (key: value), got a list", []),
    ("projection_missing_pop.yaml",      8, 11, "no population named 'I'", []),
    ("unknown_synapse.yaml",             9, 14, "unknown synapse 'Alpha2'", []),
    ("unknown_output.yaml",              9, 13, "unknown output 'NMDA'", []),
    ("unknown_connector.yaml",           9, 15, "unknown connector 'Gaussian'", []),
    ("fixedprob_above_one.yaml",         9, 33, "parameter 'prob' = 1.5 is out of range", []),
    ("fixedprob_missing_prob.yaml",     10,  7, "missing required parameter 'prob'", []),
    ("one2one_size_mismatch.yaml",       7, 34, "One2One needs pre and post of the same size", []),
    ("fixedprenum_too_many.yaml",       11, 26, "num exceeds the number of distinct pre-synaptic neurons", []),
    ("ij_id_out_of_range.yaml",          9, 38, "IJ post id: 10 is out of range (at most 9)", []),
    ("matrix_wrong_rows.yaml",           7, 35, "the matrix has 2 rows but pre has 3 neurons", []),
    ("matrix_row_length.yaml",          13, 12, "row 1 has 3 entries but post has 2 neurons", []),
    ("matrix_bad_value.yaml",           13, 15, "entry [1][1]: expected 0, 1, true or false, got '2'", []),
    ("smallworld_too_many.yaml",         6, 62, "num_neighbor must be below the number of nodes", []),
    ("scalefree_m_too_large.yaml",       9, 32, "m must be below the number of nodes (1 <= m < n)", []),
    ("projection_onto_poisson.yaml",     7, 22, "has no membrane to receive synaptic input", []),
    ("delay_and_delay_step.yaml",       10, 17, "give either delay (time) or delay_step (steps), not both", []),
    ("negative_delay.yaml",              9, 12, "delay must be between 0 and 1e6 steps, got -10 steps", []),
    ("input_missing_pop.yaml",           6, 14, "no population named 'X'", []),
    ("input_range_out_of_bounds.yaml",   6, 40, "range: 11 is out of range (at most 10)", []),
    ("inputs_is_mapping.yaml",           5,  1, "inputs: expected a list", []),
    ("input_section_lengths.yaml",       6, 49, "section_input: values and durations differ in length", []),
    ("input_ramp_end_before_start.yaml", 7, 62, "ramp_input: t_end must be after t_start", []),
    ("input_sin_frequency_unit.yaml",    6, 61, "parameter 'frequency': expected a rate value in Hz, got '5 ms'", []),
    ("input_two_kinds.yaml",             6, 29, "'current' and 'wiener_process' in one entry", []),
    ("input_spike_unknown_key.yaml",     6, 77, "unknown key 'sp_size' (expected one of: sp_times, sp_lens, sp_sizes)", []),
    ("monitor_unknown_variable.yaml",    6, 36, "no state variable 'U'", []),
    ("monitor_index_out_of_range.yaml",  6, 50, "index: 10 is out of range (at most 9)", []),
    ("monitor_stp_u_of_std.yaml",        8, 37, "no state variable 'stp.u' (available: g, x, stp.x, I_syn)", []),
    # a trace synapse's variables are per pre neuron (P has 5)
    ("monitor_trace_index_pre.yaml",     9, 51, "index: 7 is out of range (at most 4)", []),
    # the list is sorted before the check, so the error names the list
    ("monitor_duplicate_index.yaml",     6, 37, "indices: 3 is listed twice", []),
    ("monitor_every_not_multiple.yaml",  6, 44, "every = 0.25 ms must be a positive whole number of steps", []),
    ("monitor_unknown_projection.yaml",  8, 18, "no projection named 'EI'", []),
    # overrides on a valid config: the error must point at the --set argument
    ("configs/coba.yaml", None, None, "'projections.XX' does not exist in the config",
     ["--set", "projections.XX.g_max=0.7"]),
    ("configs/coba.yaml", None, 1, "expected a time value in ms, got '5 mV'",
     ["--set", "populations.E.tau=5 mV"]),
    ("configs/coba.yaml", None, None, "unknown key 'durationn'",
     ["--set", "run.durationn=200 ms"]),
    ("configs/coba.yaml", None, None, "expected KEY=VALUE",
     ["--set", "run.dt"]),
    ("configs/coba.yaml", None, None, "'monitors' is a list of 3 entries; '7' is not an index",
     ["--set", "monitors.7.every=2 ms"]),
]

# Cases also given to `run`: the config must be rejected before an output
# file is created.
RUN_TOO = {"unknown_model.yaml", "one2one_size_mismatch.yaml",
           "monitor_index_out_of_range.yaml", "seed_too_large.yaml"}

# The cases run at 2 ranks too (see the docstring): each stage of the config
# reader and of the network build that refuses a config, at least once.
AT_TWO_RANKS = {"yaml_syntax.yaml", "not_utf8.yaml", "unknown_model.yaml",
                "missing_size.yaml", "negative_tau.yaml",
                "tau_wrong_dimension.yaml", "reset_above_threshold.yaml",
                "fixedprob_above_one.yaml", "one2one_size_mismatch.yaml",
                "fixedprenum_too_many.yaml", "smallworld_too_many.yaml",
                "input_range_out_of_bounds.yaml",
                "input_section_lengths.yaml",
                "monitor_index_out_of_range.yaml", "seed_too_large.yaml",
                "configs/coba.yaml --set populations.E.tau=5 mV"}

# Open MPI reports a rank killed by a signal as "exited on signal N (...)".
# ("aborted" is not a crash sign: Open MPI says it after any non-zero exit.)
CRASH = re.compile(r"segmentation fault|signal|core dumped", re.IGNORECASE)


def session_pids(sid):
    """Processes in session sid: mpiexec and the ranks it started, which
    Open MPI puts in process groups of their own."""
    pids = []
    for d in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                pids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass  # not a process, or it ended meanwhile
    return pids


def stop(p):
    """End a hung mpiexec and its ranks: SIGTERM lets mpiexec take its
    ranks down; SIGKILL whatever of the session is left after 10 s."""
    p.terminate()
    try:
        p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for pid in session_pids(p.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    p.communicate()


def launch(opts, args):
    """Run brainsim under mpiexec; return (rc, stdout, stderr) or None on a
    timeout. A new session marks every process of the run, so a hang can be
    cleaned up completely."""
    cmd = [opts.brainsim] + args
    if opts.np > 1:
        cmd = [opts.mpiexec, "-n", str(opts.np), "--oversubscribe"] + cmd
    env = dict(os.environ)
    # Containers often run as root; Open MPI refuses that without these.
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        stop(p)
        return None
    return p.returncode, out, err


def failure_basics(res):
    """Reasons common to every case: hang, exit 0, crash."""
    if res is None:
        return "hang (no exit within %d s)" % TIMEOUT
    rc, _, err = res
    if rc == 0:
        return "exit status 0"
    # A negative status is mpiexec killed by a signal; above 128 is how a
    # rank's signal death is usually passed on.
    if rc < 0 or rc > 128 or CRASH.search(err):
        return "crash (exit status %d): %s" % (rc, last_lines(err))
    return None


def last_lines(text, n=3):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[:n]) or "(empty stderr)"


def check_case(opts, tmp, case, mode):
    name, line, col, fragment, extra = case
    path = os.path.join(ROOT if "/" in name else BAD, name)
    args = [mode, path] + extra
    out_file = None
    if mode == "run":
        out_file = os.path.join(tmp, os.path.basename(name) + ".h5")
        args += ["-o", out_file, "-q"]
    res = launch(opts, args)
    why = failure_basics(res)
    if why:
        return why
    _, _, err = res
    if line is None:
        where = "--set " + extra[1] + (": col %d" % col if col else "") + ":"
    else:
        where = "%s:%d:%d:" % (path, line, col)
    if where not in err:
        return "location %r not in stderr: %s" % (where, last_lines(err))
    if fragment not in err:
        return "fragment %r not in stderr: %s" % (fragment, last_lines(err))
    # Every rank sees the same error; only one may print it.
    if err.count(fragment) != 1 or err.count(where) != 1:
        return "message printed %d times: %s" % (err.count(fragment),
                                                 last_lines(err, 4))
    if out_file and os.path.exists(out_file):
        return "output file %s was created for an invalid config" % out_file
    return None


def check_missing_dir(opts, tmp):
    """An unwritable output path fails at once, naming the path, before any
    simulation work."""
    target = "/nonexistent-dir/out.h5"
    res = launch(opts, ["run", os.path.join(ROOT, "configs", "coba.yaml"),
                        "-o", target])
    why = failure_basics(res)
    if why:
        return why
    _, out, err = res
    if target not in err:
        return "path %r not named in stderr: %s" % (target, last_lines(err))
    if "network built" in out or "population" in out:
        return "the run went past opening the output: %s" % last_lines(out)
    return None


def check_existing_file(opts, tmp):
    """Without --overwrite an existing output file is refused by name and
    left byte for byte as it was."""
    target = os.path.join(tmp, "existing.h5")
    content = b"not an HDF5 file; must survive\n"
    with open(target, "wb") as f:
        f.write(content)
    res = launch(opts, ["run", os.path.join(ROOT, "configs", "coba.yaml"),
                        "-o", target, "-q"])
    why = failure_basics(res)
    if why:
        return why
    _, _, err = res
    if target not in err:
        return "file %r not named in stderr: %s" % (target, last_lines(err))
    if err.count(target) != 1:
        return "message printed %d times: %s" % (err.count(target),
                                                 last_lines(err, 4))
    with open(target, "rb") as f:
        if f.read() != content:
            return "the existing file was modified"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brainsim", default=os.path.join(ROOT, "build",
                                                       "brainsim"))
    ap.add_argument("--np", type=int, choices=(1, 2), default=1)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--workdir", default=None,
                    help="where temporary outputs go (default: system temp)")
    opts = ap.parse_args()
    if opts.workdir:
        os.makedirs(opts.workdir, exist_ok=True)

    # Every file in the bad directory must be covered by the table, so a new
    # config cannot be added and silently never run.
    listed = {c[0] for c in CASES}
    unlisted = sorted(f for f in os.listdir(BAD)
                      if f.endswith(".yaml") and f not in listed)

    failures = 0
    with tempfile.TemporaryDirectory(dir=opts.workdir,
                                     prefix="bad_configs_np%d_" % opts.np) as tmp:
        tests = []
        for case in CASES:
            label = case[0] if not case[4] else "%s %s" % (case[0],
                                                           " ".join(case[4]))
            if opts.np > 1 and label not in AT_TWO_RANKS:
                continue
            tests.append(("check " + label,
                          lambda c=case: check_case(opts, tmp, c, "check")))
            if case[0] in RUN_TOO:
                tests.append(("run " + label,
                              lambda c=case: check_case(opts, tmp, c, "run")))
        tests.append(("run -o /nonexistent-dir/out.h5",
                      lambda: check_missing_dir(opts, tmp)))
        tests.append(("run onto an existing file without --overwrite",
                      lambda: check_existing_file(opts, tmp)))
        for label, fn in tests:
            why = fn()
            print("%s  np=%d  %s%s" % ("FAIL" if why else "PASS", opts.np,
                                       label, ": " + why if why else ""))
            sys.stdout.flush()
            failures += bool(why)
    for f in unlisted:
        print("FAIL  %s is in tests/configs/bad but not in the table" % f)
        failures += 1
    total = len(tests) + len(unlisted)
    print("%d of %d cases failed" % (failures, total))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

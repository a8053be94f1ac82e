#!/usr/bin/env python3
"""Replay fuzz artifacts (crash-*, leak-*, timeout-*, oom-*) and say whose
each one is: brainsim's, or a library's own (HDF5, Open MPI, libfyaml).

A report is a library's own when the faulting code and, for a memory error
or a leak, the code that allocated the memory are both inside that library:
the first frame that is not the sanitizer runtime or libc is in the
library's .so. Anything that reaches brainsim's code first (src/, or the
harness in tests/fuzz/) is brainsim's. A hang is replayed with a short
-timeout and belongs to the code libFuzzer's alarm finds looping: a loop
inside HDF5's own parser (a corrupt file) is HDF5's and listed, a loop
anywhere in brainsim, or one whose stack cannot be read, is brainsim's. Reports are grouped by signature so one
bug found a hundred times is listed once.

Usage: triage.py FUZZ_BINARY ARTIFACT... [--json]
Exit status: 1 if any artifact is brainsim's, else 0.
"""
import json
import os
import re
import subprocess
import sys

LIBS = {"libhdf5": "HDF5", "libmpi": "Open MPI", "libopen-pal": "Open MPI",
        "libopen-rte": "Open MPI", "mca_": "Open MPI", "libpmix": "Open MPI",
        "libfyaml": "libfyaml"}
# Frames that are neither brainsim nor a library: the sanitizer runtime
# (interceptors live in the fuzz binary itself, without a source file),
# libc, and libFuzzer.
RUNTIME = re.compile(r"__interceptor_|__asan|__sanitizer|__ubsan|__lsan|"
                     r"\b(malloc|calloc|realloc|free|strdup|memcpy|memmove|"
                     r"memset|pread|pwrite|read|write|strlen|strcmp|v?asprintf|"
                     r"__v?asprintf_chk|__vasprintf_internal)\b|"
                     r"libc\.so|/libc/|libio/|csu/|nptl/|fuzzer::|"
                     r"compiler-rt|sanitizer_common")
FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ (?:in (\S+) )?(.*)$")
# tools/fuzz's -rss_limit_mb.
RSS_LIMIT_MB = 2048


def owner(frame_fn, frame_loc):
    for key, lib in LIBS.items():
        if key in frame_loc:
            return lib
    if "/src/" in frame_loc or "/tests/fuzz/" in frame_loc:
        return "brainsim"
    return None


def first_owner(frames):
    """(owner, 'function location') of the first meaningful frame."""
    for fn, loc in frames:
        if RUNTIME.search(fn or "") or RUNTIME.search(loc):
            continue
        who = owner(fn, loc)
        if who:
            return who, "%s %s" % (fn or "?", loc.split(" (BuildId")[0])
        return "unknown", "%s %s" % (fn or "?", loc.split(" (BuildId")[0])
    return "unknown", "(no frames)"


def stacks(text):
    """Split a sanitizer report into its stacks: a list of (title, frames)."""
    out, title, frames = [], None, []
    for line in text.splitlines():
        m = FRAME.match(line)
        if m:
            frames.append((m.group(2), m.group(3)))
            continue
        if frames:
            out.append((title, frames))
            frames = []
        if line.strip():
            title = line.strip()
    if frames:
        out.append((title, frames))
    return out


def classify(binary, artifact, env):
    if os.path.basename(artifact).startswith("timeout-"):
        # Replay with a short -timeout: libFuzzer's alarm prints the stack
        # of the code that was looping; its first meaningful frame says
        # whose loop it is.
        try:
            p = subprocess.run([binary, "-timeout=5", artifact],
                               capture_output=True, text=True, timeout=60,
                               env=env, errors="replace")
            text, rc = p.stderr + p.stdout, p.returncode
        except subprocess.TimeoutExpired:
            text, rc = "", None
        if rc == 0 and "libFuzzer: timeout" not in text:
            # Finished within the short -timeout on replay: the machine
            # was loaded, not a hang.
            return {"artifact": artifact, "kind": "timeout", "owner": "none",
                    "where": "does not reproduce", "signature": "no-repro"}
        st = stacks(text) if "libFuzzer: timeout" in text else []
        who, where = first_owner(st[0][1]) if st else ("brainsim", "?")
        return {"artifact": artifact, "kind": "timeout", "owner": who,
                "where": "hang in " + where, "what": "no return within "
                "libFuzzer's -timeout", "signature": "hang @ " + where}
    base = os.path.basename(artifact)
    kind = base.split("-")[0] if "-" in base else "crash"
    renv, limit = env, 30
    if kind == "oom":
        # An out-of-memory input makes tens of millions of allocations
        # before the RSS limit: with full allocation stacks (main() asks
        # for them, for leaks) the replay would take minutes. The live-heap
        # report needs two frames to say whose memory it is.
        renv = dict(env)
        for k in ("ASAN_OPTIONS", "LSAN_OPTIONS"):
            renv[k] = renv.get(k, "") + ":fast_unwind_on_malloc=1"
        # One allocation beyond the RSS limit of tools/fuzz (a size read
        # from a corrupt file, which the fuzzing run's RSS check caught
        # only as its pages filled) is reported at once, with its stack.
        renv["ASAN_OPTIONS"] += ":max_allocation_size_mb=%d" % RSS_LIMIT_MB
        limit = 120
    try:
        p = subprocess.run([binary, artifact], capture_output=True, text=True,
                           timeout=limit, env=renv, errors="replace")
        text, rc = p.stderr + p.stdout, p.returncode
    except subprocess.TimeoutExpired:
        return {"artifact": artifact, "kind": "timeout", "owner": "brainsim",
                "where": "no exit within %d s on replay" % limit,
                "signature": "hang"}
    if kind == "oom" and rc != 0 and not stacks(text):
        # An RSS out-of-memory prints the largest live allocations, but
        # none when the growth is many small blocks: replay with a low
        # malloc limit, whose report is the stack of the first large
        # allocation, to see whose memory it is.
        try:
            p = subprocess.run([binary, "-malloc_limit_mb=64", artifact],
                               capture_output=True, text=True, timeout=60,
                               env=renv, errors="replace")
            if stacks(p.stderr + p.stdout):
                text, rc = p.stderr + p.stdout, p.returncode
        except subprocess.TimeoutExpired:
            pass
    if rc == 0 and kind not in ("timeout", "slow"):
        return {"artifact": artifact, "kind": kind, "owner": "none",
                "where": "does not reproduce", "signature": "no-repro"}
    # The SUMMARY line names the error class (heap-buffer-overflow,
    # allocation-size-too-big, ...); UBSan's first line says what it was.
    m = re.search(r"runtime error: (.*)|SUMMARY: (\w+): ([\w-]+)", text)
    what = (m.group(1) or "%s %s" % (m.group(2), m.group(3))) if m else "exit %d" % rc
    st = stacks(text)
    if "ERROR: LeakSanitizer" in text:
        # Every leak of the report must be a library's own for the
        # report to be one; the first leak of ours decides otherwise.
        owners = [first_owner(f) for t, f in st if t and "leak of" in t]
        ours = [o for o in owners if o[0] != "HDF5" and o[0] != "Open MPI"
                and o[0] != "libfyaml"]
        pick = ours[0] if ours else (owners[0] if owners else ("unknown", "?"))
        return {"artifact": artifact, "kind": "leak", "owner": pick[0],
                "where": pick[1], "what": "LeakSanitizer leak",
                "signature": "leak:" + pick[1]}
    fault = first_owner(st[0][1]) if st else ("unknown", "?")
    alloc = None
    for title, frames in st[1:]:
        if title and ("allocated by" in title or "freed by" in title):
            alloc = first_owner(frames)
            break
    who = fault[0]
    if alloc and alloc[0] != fault[0]:
        who = "brainsim" if "brainsim" in (alloc[0], fault[0]) else alloc[0]
    where = fault[1] + (" (memory from %s)" % alloc[1] if alloc else "")
    return {"artifact": artifact, "kind": kind, "owner": who, "where": where,
            "what": what, "signature": what + " @ " + where}


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    if len(args) < 2:
        print(__doc__)
        return 2
    binary, arts = args[0], args[1:]
    env = dict(os.environ)
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "log_path=stderr"
    # Whole allocation stacks, to see whose memory leaked or overflowed.
    lsan = env.get("LSAN_OPTIONS", "")
    env["LSAN_OPTIONS"] = (lsan + ":" if lsan else "") + "fast_unwind_on_malloc=0"
    results = [classify(binary, a, env) for a in arts]
    groups = {}
    for r in results:
        groups.setdefault((r["owner"], r["signature"]), []).append(r)
    if "--json" in sys.argv:
        print(json.dumps(results, indent=1))
    for (who, sig), rs in sorted(groups.items()):
        r = rs[0]
        print("%-9s %-6s x%-3d %s\n          %s\n          e.g. %s" % (
            who, r["kind"], len(rs), r.get("what", ""), r["where"],
            r["artifact"]))
    return 1 if any(r["owner"] in ("brainsim", "unknown") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

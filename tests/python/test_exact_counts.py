"""`check` says "exactly N synapses" only where the connector guarantees
the count (issue 12): for every such connector, on several shapes, open
and periodic, with and without include_self, the number `check` predicts
before the build equals the number the build made, on 1 and 3 ranks.
The grid cases include the three the issue found wrong (20 x 20 GridFour
open, GridEight periodic, GridN with N = 2) and grids smaller than the
neighbourhood, where wrapping reaches a position twice."""
import re

import bstest

CASES = [
    # name, pre size, post size, connect
    ("all", 30, 20, "All2All"),
    ("all_noself", 25, 25, "{All2All: {include_self: false}}"),
    ("one", 40, 40, "One2One"),
    ("prenum", 30, 50, "{FixedPreNum: {num: 7}}"),
    ("postnum", 30, 50, "{FixedPostNum: {num: 9}}"),
    ("totalnum", 30, 50, "{FixedTotalNum: {num: 333}}"),
    ("ij", 10, 10, "{IJ: [[0, 1], [3, 4], [3, 4], [9, 0]]}"),
]
for shape in ("[20, 20]", "[3, 2]", "[2, 1]", "[1, 7]", "[7]", "[2]"):
    n = eval(shape.replace("[", "(").replace("]", ",)"))
    size = 1
    for k in n:
        size *= k
    for kind, extra in (("GridFour", ""), ("GridEight", ""), ("GridN", "N: 2, "), ("GridN", "N: 3, ")):
        for self_ in ("false", "true"):
            for per in ("false", "true"):
                name = "%s_%s_%s_%s_%s" % (kind, "x".join(str(k) for k in n), extra[3:4] or "1",
                                           self_[0], per[0])
                CASES.append((name, size, size, "{%s: {%sshape: %s, include_self: %s, "
                              "periodic_boundary: %s}}" % (kind, extra, shape, self_, per)))


def main():
    args = bstest.parser(__doc__).parse_args()
    wd = bstest.workdir(args, "exact_counts")
    pops, projs = [], []
    for k, (name, a, b, conn) in enumerate(CASES):
        pops.append("  a%d: {model: LIF, size: %d}\n  b%d: {model: LIF, size: %d}" % (k, a, k, b))
        same = conn.startswith("{Grid")
        projs.append("  %s: {pre: a%d, post: %s%d, g_max: 1.0, connect: %s}"
                     % (name, k, "a" if same else "b", k, conn))
    cfg = bstest.write_config("%s/exact.yaml" % wd, "run: {dt: 0.1 ms, duration: 0.1 ms, seed: 3}\n"
                              "populations:\n%s\nprojections:\n%s\n" % ("\n".join(pops), "\n".join(projs)))
    for np_ in (1, 3):
        p = bstest.run(args, ["check", cfg], np=np_)
        got = {}
        for m in re.finditer(r"^projection (\S+) .*: (exactly|expected) (\d+) synapses.*built (\d+),",
                             p.stdout, re.M):
            got[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(4)))
        for name, _, _, _ in CASES:
            if name not in got:
                bstest.check(False, "%d ranks: projection %s missing from check's output" % (np_, name))
                continue
            how, pred, built = got[name]
            bstest.check(how == "exactly", "%s: check says '%s', the connector claims an exact count"
                         % (name, how))
            bstest.check(pred == built, "%d ranks: %s: check says exactly %d synapses, the build made %d"
                         % (np_, name, pred, built))
    print("exact counts: %d projections, check == build at 1 and 3 ranks" % len(CASES))
    bstest.finish("exact_counts")


if __name__ == "__main__":
    main()

"""A SONATA simulation config (JSON) is refused by name, on every rank,
with a pointer to what brainsim does read (YAML with SONATA edges), not
parsed as YAML and refused key by key."""
import json
import os

import bstest

args = bstest.parser(__doc__).parse_args()
wd = bstest.workdir(args, "sonata_config")
cfg = os.path.join(wd, "simulation_config.json")
with open(cfg, "w") as f:
    json.dump({"run": {"tstop": 100.0, "dt": 0.1},
               "networks": {"nodes": [], "edges": []}}, f)
for np_ in (1, 2):
    for cmd in ("run", "check"):
        p = bstest.run(args, [cmd, cfg, "-o", os.path.join(wd, "o.h5"),
                              "--overwrite"], np=np_, check=False)
        bstest.check(p.returncode != 0, "np %d %s: accepted" % (np_, cmd))
        bstest.check(cfg in p.stderr and "SONATA simulation" in p.stderr
                     and "SONATA edges" in p.stderr,
                     "np %d %s: message does not name the file and what is "
                     "refused: %s" % (np_, cmd, p.stderr))
        bstest.check(not os.path.exists(os.path.join(wd, "o.h5")),
                     "np %d %s: an output file was created" % (np_, cmd))
bstest.finish("sonata_config")

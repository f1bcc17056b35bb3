"""o2edge.perf.connectivity through ansible-runner, inside the lab's controller namespace (--lab).

Takes /tmp/o2lab.lock for the whole check; brings the lab up when it is down and then down again
(a lab found up is left up). The lab's edge-sites config is copied into the private data
directory's inventory/; edge2 is listed there at its stale address, so 3 of 4 sites are fully up.
"""
import json
import os
import subprocess
import sys

from common import ROOT, VENV_BIN, artifact_data, env_with_venv, load_events, read, results_doc

SESSION = r'''
py="$1"; pdd="$2"; lab="$3"
up=$("$py" -m tests.lab status --json 2>/dev/null | "$py" -c 'import json,sys; print(json.load(sys.stdin).get("up"))')
"$py" -m tests.lab up >/dev/null || { echo "lab up failed" >&2; exit 90; }
cp "$lab/edge-sites.yml" "$pdd/inventory/edge-sites.yml"
"$py" -m tests.lab exec -- "$(dirname "$py")/ansible-runner" run "$pdd" -p connectivity.yml --ident lab
rc=$?
[ "$up" = True ] || "$py" -m tests.lab down >/dev/null || echo "lab down failed" >&2
exit $rc
'''


def check_lab_connectivity(ctx):
    """ansible-runner runs o2edge.perf.connectivity against the lab; the probe summary is artifact_data."""
    lab_dir = os.environ.get("O2LAB_DIR") or os.path.join(ROOT, ".lab")
    pdd = ctx.private_data_dir("lab", extravars={"connectivity_check_min_healthy_share": 0.75})
    res = subprocess.run(["flock", "/tmp/o2lab.lock", "sh", "-c", SESSION, "sh", sys.executable, pdd, lab_dir],
                         cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
                         env=env_with_venv({"O2LAB_DIR": lab_dir, "PATH": VENV_BIN + os.pathsep + os.environ["PATH"]}))
    artifacts = os.path.join(pdd, "artifacts", "lab")
    assert res.returncode == 0, "exit %s: %s %s" % (res.returncode, res.stdout[-2000:], res.stderr[-1000:])
    assert read(os.path.join(artifacts, "status")) == "successful"
    summary = artifact_data(load_events(artifacts))["o2edge_probe_summary"]
    assert (summary["sites_total"], summary["sites_up"]) == (4, 3), json.dumps(summary)
    doc = results_doc(artifacts)
    probes = dict(((p["result"]["site"], p["result"]["service"]), p["result"]["state"]) for p in doc["probes"])
    assert probes.get(("edge1", "ssh")) == "up" and probes.get(("edge2", "ssh")) == "host_key_mismatch", probes


CHECKS = [("lab: o2edge.perf.connectivity through ansible-runner", check_lab_connectivity)]

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark the concurrent prober against the old sequential checks, on the lab.

Run inside the lab's controller namespace (the lab must be up):

    python -m tests.lab exec -- .venv/bin/python bench/bench_probe.py [--runs 5] [--json out.json]

1. 4 sites x 3 services (ssh, prometheus, kubernetes) with edge3 blackholed, 2 s timeout,
   three variants timed the same way, as whole processes (interpreter start-up included), side
   by side in one run with their order rotated every round, median of --runs:
   - service_probe's prober (a fresh Python process that imports it and probes the 12 targets);
   - the old way, one site after another: ``ping -c1 -W2``, ``ssh -o BatchMode=yes
     -o ConnectTimeout=2`` with host-key checking on, ``nc -z -w2`` per port;
   - a parallel shell: ``xargs -P 12`` running ``ssh-keyscan -T 2`` for SSH and ``nc -z -w 2``
     for the other ports (it checks less than the prober: no host-key comparison, no HTTP).
2. 256 targets (the lab's services over many ports and addresses, 32 of them on the blackholed
   site), 2 s timeout, default concurrency 64: wall time against 1.5 x the timeout.
3. Peak memory (ru_maxrss) of a fresh process probing 1000 targets, next to the same process
   before probing.

edge3 is blackholed only while scenarios 1 and 2 run and is restored in every case. Only lab
addresses (198.18.0.0/15) are contacted; 198.19.200.0/24 has no route (answers unreachable).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.abspath(os.environ.get("O2LAB_DIR", os.path.join(REPO, ".lab")))
TIMEOUT = 2.0
SITES = {"edge1": "198.18.1.10", "edge2": "198.18.2.10", "edge3": "198.18.3.10", "edge4": "198.18.4.10"}
BLACKHOLED = "edge3"


def _import_probe():
    tree = os.path.join(REPO, ".build", "unit", "ansible_collections", "o2edge")
    link = os.path.join(tree, "perf")
    if not os.path.exists(link):
        os.makedirs(tree, exist_ok=True)
        os.symlink(REPO, link)
    sys.path.insert(0, os.path.dirname(os.path.dirname(tree)))
    from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe
    return _probe


def lab(*args):
    subprocess.run([sys.executable, "-m", "tests.lab"] + list(args), cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def paths():
    return {"kh": os.path.join(LAB, "ssh", "known_hosts"), "key": os.path.join(LAB, "ssh", "id_ed25519"),
            "ca": os.path.join(LAB, "pki", "ca.crt"), "wrong_ca": os.path.join(LAB, "pki", "wrong-ca.crt"),
            "token": os.path.join(LAB, "pki", "token")}


def small_targets():
    p = paths()
    out = []
    for site, addr in SITES.items():
        out.append({"site": site, "service": "ssh", "kind": "ssh", "address": addr, "port": 22, "alias": site,
                    "known_hosts": p["kh"]})
        out.append({"site": site, "service": "prometheus", "kind": "prometheus", "address": addr, "port": 9090})
        out.append({"site": site, "service": "kubernetes", "kind": "kubernetes", "address": addr, "port": 6443,
                    "ca_file": p["ca"], "token_file": p["token"]})
    return out


def old_way():
    """The old checks: one site after another, ping, ssh (host keys checked), nc per port."""
    p = paths()
    states = {}
    for site, addr in SITES.items():
        ping = subprocess.run(["ping", "-c1", "-W2", addr], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False)
        ssh = subprocess.run(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-o", "StrictHostKeyChecking=yes",
                              "-o", "UserKnownHostsFile=" + p["kh"], "-o", "HostKeyAlias=" + site,
                              "-o", "IdentitiesOnly=yes", "-o", "ControlMaster=no", "-o", "ControlPath=none",
                              "-i", p["key"], "-l", "root", addr, "true"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        ports = {}
        for port in (9090, 6443):
            ports[port] = subprocess.run(["nc", "-z", "-w2", addr, str(port)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, check=False).returncode == 0
        states[site] = {"ping": ping.returncode == 0, "ssh": ssh.returncode == 0, "9090": ports[9090],
                        "6443": ports[6443]}
    return states


XARGS_SCRIPT = (
    'kind=$1 addr=$2 port=$3; '
    'if [ "$kind" = ssh ]; then ssh-keyscan -T 2 -t ed25519 -p "$port" -- "$addr" >/dev/null 2>&1; '
    'else nc -z -w 2 "$addr" "$port" >/dev/null 2>&1; fi; echo "$kind $addr $port $?"')


def xargs_argv(targets, parallel):
    """A parallel shell baseline: one ssh-keyscan or nc per target, xargs -P in parallel."""
    lines = "".join("%s %s %d\n" % (t["kind"], t["address"], t["port"]) for t in targets)
    return ["xargs", "-P", str(parallel), "-L", "1", "sh", "-c", XARGS_SCRIPT, "sh"], lines


def timed_process(argv, stdin=None):
    """Wall time of a whole process, from spawn to exit (monotonic clock)."""
    t0 = time.monotonic()
    res = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, check=False)
    return time.monotonic() - t0, res


def child_probe():
    """Run in a fresh process: probe the 12 small targets, print the matrix."""
    probe = _import_probe()
    res = probe.probe_all(small_targets(), concurrency=64, connect_timeout=TIMEOUT, timeout=TIMEOUT)
    print(json.dumps(probe.matrix(res), sort_keys=True))


def many_targets():
    """256 targets: the lab's services over several ports and addresses; 32 on the blackholed site."""
    p = paths()
    out = []

    def add(n, site, service, **t):
        for i in range(n):
            d = {"site": site, "service": "%s_%d" % (service, i)}
            d.update(t)
            out.append(d)

    for site in ("edge1", "edge2"):
        a = SITES[site]
        add(4, site, "ssh", kind="ssh", address=a, port=22, alias=site, known_hosts=p["kh"])
        add(8, site, "kubernetes", kind="kubernetes", address=a, port=6443, ca_file=p["ca"], token_file=p["token"])
        add(8, site, "prometheus", kind="prometheus", address=a, port=9090)
        add(8, site, "o2ims", kind="http", address=a, port=8080,
            url="http://%s:8080/o2ims-infrastructureInventory/v1" % a)
        add(8, site, "node_exporter", kind="tcp", address=a, port=9100)
        for port in range(10000, 10020):
            out.append({"site": site, "service": "closed_%d" % port, "kind": "tcp", "address": a, "port": port})
    for port in [22] + list(range(10001, 10032)):
        out.append({"site": "edge3", "service": "tcp_%d" % port, "kind": "tcp", "address": SITES["edge3"], "port": port})
    add(4, "edge4", "ssh", kind="ssh", address=SITES["edge4"], port=22, alias="edge4", known_hosts=p["kh"])
    for port in range(10000, 10028):
        out.append({"site": "edge4", "service": "closed_%d" % port, "kind": "tcp", "address": SITES["edge4"], "port": port})
    add(4, "stale", "ssh", kind="ssh", address="198.18.102.10", port=22, alias="edge2", known_hosts=p["kh"])
    for port in range(10000, 10012):
        out.append({"site": "stale", "service": "closed_%d" % port, "kind": "tcp", "address": "198.18.102.10",
                    "port": port})
    add(8, "mgmt", "prometheus", kind="prometheus", address="198.18.0.1", port=9090)
    add(8, "mgmt", "registry", kind="tcp", address="198.18.0.1", port=5000)
    for i in range(16):
        out.append({"site": "unrouted", "service": "tcp_%d" % i, "kind": "tcp", "address": "198.19.200.%d" % (i + 1),
                    "port": 22})
    add(16, "edge1", "kubernetes_wrong_ca", kind="kubernetes", address=SITES["edge1"], port=6443, ca_file=p["wrong_ca"],
        token_file=p["token"])
    add(16, "edge2", "kubernetes_wrong_token", kind="kubernetes", address=SITES["edge2"], port=6443, ca_file=p["ca"],
        token="o2edge-bench-not-the-token")
    return out


def count_states(results, by_kind=False):
    out = {}
    for r in results:
        key = "%s:%s" % (r["kind"], r["state"]) if by_kind else r["state"]
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def child_memory(n):
    """Run in a fresh process: ru_maxrss before and after probing n targets (no blackhole)."""
    probe = _import_probe()
    base = [t for t in many_targets() if t["site"] != BLACKHOLED]
    targets = [dict(base[i % len(base)], service="%s#%d" % (base[i % len(base)]["service"], i)) for i in range(n)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    results = probe.probe_all(targets, concurrency=64, connect_timeout=TIMEOUT, timeout=TIMEOUT)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"targets": n, "maxrss_kib_before": before, "maxrss_kib_after": after, "wall_s": round(wall, 3),
                      "states": count_states(results), "by_kind": count_states(results, by_kind=True)}))


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--memory-targets", type=int, default=1000)
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    ap.add_argument("--child-mem", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-old", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_mem:
        child_memory(a.child_mem)
        return 0
    if a.child_probe:
        child_probe()
        return 0
    if a.child_old:
        print(json.dumps(old_way(), sort_keys=True))
        return 0
    missing = [t for t in ("ping", "nc", "ssh", "ssh-keyscan", "xargs") if not shutil.which(t)]
    if missing:
        print("missing tools: %s (Debian packages iputils-ping, netcat-openbsd, openssh-client)" % ", ".join(missing))
        return 2
    probe = _import_probe()
    out = {"machine": machine(), "timeout_s": TIMEOUT, "runs": a.runs}
    small = small_targets()
    many = many_targets()
    assert len(many) == 256, len(many)
    times = {"new": [], "old": [], "xargs": []}
    many_times = []
    seen = {}
    xargv, xstdin = xargs_argv(small, len(small))
    variants = {
        "new": lambda: timed_process([sys.executable, os.path.abspath(__file__), "--child-probe"]),
        "old": lambda: timed_process([sys.executable, os.path.abspath(__file__), "--child-old"]),
        "xargs": lambda: timed_process(xargv, xstdin),
    }
    order = list(variants)
    lab("fault", BLACKHOLED, "site", "blackhole")
    try:
        for i in range(a.runs):
            rotated = order[i % len(order):] + order[:i % len(order)]
            for name in rotated:
                took, res = variants[name]()
                times[name].append(took)
                seen[name] = res.stdout
            t0 = time.monotonic()
            res_many = probe.probe_all(many, concurrency=64, connect_timeout=TIMEOUT, timeout=TIMEOUT)
            many_times.append(time.monotonic() - t0)
    finally:
        lab("fault", BLACKHOLED, "site", "restore")
    new_times, old_times, xargs_times = times["new"], times["old"], times["xargs"]
    res_matrix = json.loads(seen["new"].strip().splitlines()[-1])
    old = json.loads(seen["old"].strip().splitlines()[-1])
    out["small"] = {"targets": len(small), "new_s": [round(x, 3) for x in new_times],
                    "old_s": [round(x, 3) for x in old_times],
                    "new_median_s": round(statistics.median(new_times), 3),
                    "old_median_s": round(statistics.median(old_times), 3),
                    "xargs_s": [round(x, 3) for x in xargs_times],
                    "xargs_median_s": round(statistics.median(xargs_times), 3),
                    "matrix": res_matrix, "old_checks": old, "xargs_output": seen["xargs"].split("\n")}
    out["small"]["ratio_old_over_new"] = round(out["small"]["old_median_s"] / out["small"]["new_median_s"], 2)
    out["small"]["ratio_xargs_over_new"] = round(out["small"]["xargs_median_s"] / out["small"]["new_median_s"], 2)
    out["many"] = {"targets": len(many), "concurrency": 64, "wall_s": [round(x, 3) for x in many_times],
                   "median_s": round(statistics.median(many_times), 3), "states": count_states(res_many),
                   "limit_s": 1.5 * TIMEOUT}
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--child-mem", str(a.memory_targets)],
                           stdout=subprocess.PIPE, check=True, universal_newlines=True)
    out["memory"] = json.loads(child.stdout.strip().splitlines()[-1])

    s, m, mem = out["small"], out["many"], out["memory"]
    print("machine: %(cpu)s, %(cores)s cores, Linux %(kernel)s, Python %(python)s" % out["machine"])
    print("")
    print("| scenario | wall time, median of %d | target |" % a.runs)
    print("|---|---|---|")
    print("| 4 sites x 3 services, edge3 blackholed, 2 s timeout: service_probe (concurrent, whole process) "
          "| %.3f s | <= 2.5 s |" % s["new_median_s"])
    print("| same, old way (sequential ping + ssh + nc per port, whole process) | %.3f s (%.2fx) | - |"
          % (s["old_median_s"], s["ratio_old_over_new"]))
    print("| same, parallel shell (xargs -P 12: ssh-keyscan / nc -z, whole process) | %.3f s (%.2fx) | - |"
          % (s["xargs_median_s"], s["ratio_xargs_over_new"]))
    print("| 256 targets, 32 blackholed, 2 s timeout, concurrency 64 | %.3f s | <= %.1f s |" % (m["median_s"], m["limit_s"]))
    print("| peak RSS, %d targets (before probing -> after) | %.1f MiB -> %.1f MiB | - |"
          % (mem["targets"], mem["maxrss_kib_before"] / 1024.0, mem["maxrss_kib_after"] / 1024.0))
    print("")
    print("small: new runs %s, old runs %s, xargs runs %s (order rotated every round)"
          % (s["new_s"], s["old_s"], s["xargs_s"]))
    print("xargs results (kind address port rc): %s" % "; ".join(x for x in s["xargs_output"] if x))
    print("small matrix: %s" % json.dumps(s["matrix"], sort_keys=True))
    print("old checks: %s" % json.dumps(s["old_checks"], sort_keys=True))
    print("256 runs %s; states %s" % (m["wall_s"], json.dumps(m["states"])))
    print("1000 targets: wall %.3f s; states %s" % (mem["wall_s"], json.dumps(mem["states"])))
    print("1000 targets by kind: %s" % json.dumps(mem["by_kind"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

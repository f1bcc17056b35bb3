# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The prober at scale: 10 to 10,000 targets, one ssh-keyscan per ssh target (old) against batched
ssh-keyscan (new), side by side in one run, each run a fresh process (peak RSS is its ru_maxrss).

Run inside the lab's controller namespace (the lab must be up; nothing else is started):

    flock /tmp/o2lab.lock sh -c '.venv/bin/python -m tests.lab up &&
        .venv/bin/python -m tests.lab exec -- nice -n 10 .venv/bin/python bench/bench_probe_scale.py \\
            [--sizes 10,100,1000,10000] [--rounds 1] [--json out.json];
        .venv/bin/python -m tests.lab down'

Targets: bench/bench_probe.py's mix of 224 (its 256 less the blackholed edge3: ssh with known_hosts
on edge1, edge2, edge4 and a stale address, kubernetes with good and wrong CA or token, prometheus,
O2IMS, node_exporter, closed ports, unrouted addresses), repeated to the size, as in the issue's
"10,000 targets at T = 2 s". Every target's expected state is first taken from the 224 probed
calmly (concurrency 8); a run's false failures are its targets in another state than expected.

With ``--sim-sites N`` (the simulated sites must be up: ``python -m tests.lab sim up N
--blackhole-every 0``): ssh targets only, one per simulated site (distinct addresses, so that no
two targets share a scan), swept over the same sizes up to N: the cost of ssh probes of a fleet.

Per run: wall time, wall / T, peak RSS, CPU (the prober's own, and its children's: the
ssh-keyscan processes), ssh-keyscan processes started, false failures (all, and ssh).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_probe  # noqa: E402  pylint: disable=wrong-import-position

TIMEOUT = 2.0
SIM_KNOWN_HOSTS = os.path.join(bench_probe.LAB, "ssh", "sim_known_hosts")


def base_targets(sim_sites):
    if sim_sites:
        out = []
        for i in range(sim_sites):
            name, ip = "sim%04d" % i, "198.19.%d.%d" % (i // 250, i % 250 + 1)
            out.append({"site": name, "service": "ssh", "kind": "ssh", "address": ip, "port": 22, "alias": name,
                        "known_hosts": SIM_KNOWN_HOSTS})
        return out
    return [t for t in bench_probe.many_targets() if t["site"] != bench_probe.BLACKHOLED]


def sized(base, n):
    """``n`` targets: the base list repeated (each copy its own service name), cut at ``n``."""
    return [dict(base[i % len(base)], service="%s#%d" % (base[i % len(base)]["service"], i // len(base)))
            for i in range(n)]


def base_key(t):
    return "%s|%s" % (t["site"], t["service"].split("#")[0])


def child(n, variant, concurrency, sim_sites):
    """In a fresh process: probe ``n`` targets with ``variant`` (old: one ssh-keyscan per target)."""
    probe = bench_probe._import_probe()  # pylint: disable=protected-access
    from ansible_collections.o2edge.perf.plugins.module_utils.probe import _keyscan
    targets = sized(base_targets(sim_sites), n)
    ctx = probe.default_context()
    batcher = None
    if variant == "old":
        ctx["keyscan_batch"] = None
    else:
        batcher = ctx["keyscan_batch"] = _keyscan.KeyscanBatcher(ctx["keyscan"])
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    results = probe.probe_all(targets, concurrency=concurrency, connect_timeout=TIMEOUT, timeout=TIMEOUT, ctx=ctx)
    wall = time.monotonic() - t0
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    ssh = [r for r in results if r["kind"] == "ssh"]
    print(json.dumps({
        "n": n, "variant": variant, "wall_s": round(wall, 3), "maxrss_kib": r1.ru_maxrss,
        "cpu_self_s": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 2),
        "cpu_children_s": round(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, 2),
        "ssh_targets": len(ssh),
        "keyscan_processes": (len(batcher.batches) + batcher.alone) if batcher else None,
        "batches": len(batcher.batches) if batcher else None,
        "max_latency_ms": max(r["latency_ms"] for r in results),
        "states": dict((base_key(t) + "#" + str(i), r["state"]) for i, (t, r) in enumerate(zip(targets, results))),
    }))


def run_child(n, variant, concurrency, sim_sites):
    argv = [sys.executable, os.path.abspath(__file__), "--child", "%d,%s" % (n, variant),
            "--concurrency", str(concurrency), "--sim-sites", str(sim_sites)]
    res = subprocess.run(argv, stdout=subprocess.PIPE, check=True, universal_newlines=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def expected_states(sim_sites):
    probe = bench_probe._import_probe()  # pylint: disable=protected-access
    base = base_targets(sim_sites)
    res = probe.probe_all(base, concurrency=8, connect_timeout=TIMEOUT, timeout=TIMEOUT)
    return dict((base_key(t), r["state"]) for t, r in zip(base, res))


def false_failures(run, expected):
    bad = {}
    for key, state in run["states"].items():
        base = key.rsplit("#", 1)[0]
        if state != expected[base]:
            kind = "ssh" if "|ssh" in base else base.split("|")[1].rsplit("_", 1)[0]
            bad[kind] = bad.get(kind, 0) + 1
    return bad


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--sim-sites", type=int, default=0)
    ap.add_argument("--variants", default="old,new")
    ap.add_argument("--json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        n, variant = a.child.split(",")
        child(int(n), variant, a.concurrency, a.sim_sites)
        return 0
    sizes = [int(x) for x in a.sizes.split(",")]
    variants = a.variants.split(",")
    expected = expected_states(a.sim_sites)
    runs = []
    print("machine: %(cpu)s, %(cores)s cores, Linux %(kernel)s, Python %(python)s" % bench_probe.machine())
    print("targets: %s; T = %g s; concurrency %d; load before: %s"
          % ("ssh on %d simulated sites" % a.sim_sites if a.sim_sites else "bench_probe mix of 224",
             TIMEOUT, a.concurrency, loadavg()))
    print("")
    print("| targets | variant | wall | wall / T | peak RSS | CPU prober + ssh-keyscan | keyscan processes "
          "| false failures (ssh) | load 1-min |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rnd in range(a.rounds):
        for n in sizes:
            order = variants if (rnd + sizes.index(n)) % 2 == 0 else list(reversed(variants))
            for v in order:
                r = run_child(n, v, a.concurrency, a.sim_sites)
                ff = false_failures(r, expected)
                r.update(false_failures=ff, load=loadavg(), round=rnd)
                del r["states"]
                runs.append(r)
                print("| %d | %s | %.2f s | %.2f | %.1f MiB | %.1f + %.1f s | %s | %d (%d) %s | %s |" % (
                    n, v, r["wall_s"], r["wall_s"] / TIMEOUT, r["maxrss_kib"] / 1024.0, r["cpu_self_s"],
                    r["cpu_children_s"], r["keyscan_processes"] if v == "new" else "<= %d" % r["ssh_targets"],
                    sum(ff.values()), ff.get("ssh", 0), json.dumps(ff, sort_keys=True) if ff else "",
                    r["load"].split()[0]))
                sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"expected": expected, "runs": runs, "timeout_s": TIMEOUT, "concurrency": a.concurrency,
                       "sim_sites": a.sim_sites, "machine": bench_probe.machine()}, f, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a probe sweep's time goes: each kind's latency alone, each kind's share under load, and the CPU of every
process of the machine meanwhile.

    flock /tmp/o2lab.lock sh -c '.venv/bin/python -m tests.lab up &&
        .venv/bin/python -m tests.lab exec -- .venv/bin/python bench/probe_breakdown.py [--targets 10000];
        .venv/bin/python -m tests.lab down'

1. Calm: the first three targets of each kind of ``bench_probe_scale.py``'s mix of 224 (Kubernetes, O2IMS,
   Prometheus, SSH), each probed three times in a row, one at a time: what one probe of an idle server costs.
2. Under load: ``probe_all`` of ``--targets`` targets of the same mix (concurrency 64, T = 2 s, as goal 1 of
   ``bench_scale.py``), in this process; per kind, service and state: the count, the median, p95 and largest
   latency, and the sum of the latencies (the sum over 64 is the wall time when the workers are never idle).
3. The CPU of every process of the machine during step 2 (``proc_cpu.snapshot`` and ``differences``: per command
   line, its own and its reaped children's, so sshd's per-connection children count for sshd): who uses the cores.

Run inside the lab's controller namespace (the lab must be up; nothing else is started).
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_probe  # noqa: E402  pylint: disable=wrong-import-position,import-error
import bench_probe_scale  # noqa: E402  pylint: disable=wrong-import-position,import-error
import proc_cpu  # noqa: E402  pylint: disable=wrong-import-position,import-error

KINDS = ("kubernetes", "http", "prometheus", "ssh")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    probe = bench_probe._import_probe()  # pylint: disable=protected-access
    ctx = probe.default_context()
    base = bench_probe_scale.base_targets(0)
    print("## One probe at a time, each three times (ms)\n")
    for kind in KINDS:
        for target in [t for t in base if t["kind"] == kind][:3]:
            results = probe.probe_all([target] * 3, concurrency=1, connect_timeout=2.0, timeout=2.0, ctx=ctx)
            print("- %s %s: %s" % (kind, target["service"], ", ".join(
                "%s %.1f" % (r["state"], r["latency_ms"]) for r in results)))
    targets = bench_probe_scale.sized(base, args.targets)
    before = proc_cpu.snapshot()
    started = time.monotonic()
    results = probe.probe_all(targets, concurrency=args.concurrency, connect_timeout=2.0, timeout=2.0, ctx=ctx)
    wall = time.monotonic() - started
    spent = proc_cpu.differences(before, proc_cpu.snapshot())
    groups = collections.defaultdict(list)
    for target, result in zip(targets, results):
        service = target["service"].split("#")[0].rstrip("0123456789").rstrip("_")
        groups[(result["kind"], service, result["state"])].append(result["latency_ms"])
    print("\n## %d targets at concurrency %d, T = 2 s: %.2f s\n" % (len(targets), args.concurrency, wall))
    print("| kind | service | state | probes | median (ms) | p95 (ms) | largest (ms) | sum (s) |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    total = 0.0
    for (kind, service, state), latencies in sorted(groups.items(), key=lambda item: -sum(item[1])):
        latencies.sort()
        total += sum(latencies) / 1000.0
        print("| %s | %s | %s | %d | %.1f | %.1f | %.1f | %.1f |" % (
            kind, service, state, len(latencies), latencies[len(latencies) // 2],
            latencies[int(len(latencies) * 0.95)], latencies[-1], sum(latencies) / 1000.0))
    print("\nSum of the latencies: %.1f s (/ %d workers: %.2f s)\n" % (total, args.concurrency, total / args.concurrency))
    print("## CPU of the machine's processes meanwhile (s; %d CPUs x %.2f s = %.1f s available)\n" % (
        os.cpu_count(), wall, os.cpu_count() * wall))
    for seconds, label in spent[:12]:
        print("- %s: %.2f" % (label, seconds))


if __name__ == "__main__":
    main()

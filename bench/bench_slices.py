# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One job against a job sliced in 4 (AWX job slicing), on the lab's 1,000 simulated edge sites.

    flock /tmp/o2lab.lock .venv/bin/python -m tests.lab exec -- .venv/bin/python bench/bench_slices.py \\
        [--sites 1000] [--slices 4] [--rounds 2] [--json out.json]

Each variant probes every site with o2edge.perf.connectivity (service_probe, default concurrency
64 per job) as ansible-runner jobs started through its Python API, one process per job
(tests/slices/job.py), all of a variant's jobs at once:

- ``1 job``: the whole inventory in one job;
- ``N slices``: the inventory cut the way AWX does (host i of the name order to slice i mod N),
  N jobs at once, each with its own private data directory and results;
- ``N slices, concurrency 64 / N each``: the same slices with as many probes in flight in total
  as the one job (what slices sharing one controller should do);
- ``1 job, concurrency 64 x N``: one job probing with as many probes in flight as the N slices
  together, to tell the gain of slicing from the gain of more probes in flight;
- ``1 job, ssh_concurrency 64`` (only when asked, ``--variants ...,ssh64``): one job with 64 ssh
  probes at once instead of the default 8 per CPU (the simulation's one sshd takes them: its
  MaxStartups is 4000), to tell how much the ssh lane bounds the job.

For each: wall time (first job started to last job ended), the CPU of every job's processes
(ansible-runner, ansible-playbook and its workers, the modules; getrusage of the reaped
children), where the time of the slowest job went (its runner events: start-up until the play
starts, then each task from its start to the next task's, the slowest first), each job's peak RSS (the largest
process of the job, ansible-playbook or a worker, from getrusage; and ansible-runner's own
process), their sum and max, and the time of the report (o2edge.perf.perf_report over the
variant's results files, merged when several; ansible-playbook start-up included). The variants
alternate their order from round to round; medians over the rounds. The merged reports are
checked (every site once, each (site, service) once) before any figure is printed.
The simulated sites are brought up (and down again afterwards) when fewer are up.
"""
from __future__ import annotations

import argparse
import collections
import json
import glob
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "slices"))

import checks  # noqa: E402  pylint: disable=wrong-import-position
import slicer  # noqa: E402  pylint: disable=wrong-import-position
import sliced  # noqa: E402  pylint: disable=wrong-import-position

LAB = os.path.abspath(os.environ.get("O2LAB_DIR", os.path.join(REPO, ".lab")))


def sim_config(sites):
    path = os.path.join(LAB, "sim-sites.yml")
    started = False
    if not (os.path.exists("/run/netns/o2lab-sim") and os.path.isfile(path)
            and len(slicer.read_edge_sites(path)["sites"]) >= sites):
        subprocess.run([sys.executable, "-m", "tests.lab", "sim", "up", str(sites)], cwd=REPO, check=True,
                       capture_output=True, timeout=600)
        started = True
    return path, started


def variant(tmp, coll_path, name, config, sites, count, extravars):
    base = os.path.join(tmp, name.replace(" ", "_").replace(",", ""))
    doc = slicer.read_edge_sites(config)
    doc["sites"] = doc["sites"][:sites]
    os.makedirs(base)
    inv = os.path.join(base, "sites.yml")
    slicer.dump_edge_sites(doc, inv, "first %d simulated sites" % sites)
    run = sliced.SlicedRun(os.path.join(base, "run"), coll_path, count)
    run.prepare(inv, extravars=dict(extravars, connectivity_check_show_table=False))
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run.run()
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    bad = [(s["index"], s["job"], s["stderr"][-500:]) for s in run.slices if not s["job"] or s["job"]["status"] != "successful"]
    if bad:
        raise SystemExit("%s: jobs failed: %s" % (name, bad))
    dummy, merged, report_seconds = run.merge()
    checks.matrix_complete(merged, [n for s in run.slices for n in s["names"]])
    jobs = [s["job"] for s in run.slices]
    slowest = max(run.slices, key=lambda s: s["job"]["seconds"])
    out = {"variant": name, "jobs": count, "wall_s": wall,
           "job_s_max": max(j["seconds"] for j in jobs),
           "playbook_rss_sum_mb": sum(j["children_maxrss_kb"] for j in jobs) / 1024.0,
           "playbook_rss_max_mb": max(j["children_maxrss_kb"] for j in jobs) / 1024.0,
           "runner_rss_sum_mb": sum(j["maxrss_kb"] for j in jobs) / 1024.0,
           "report_s": report_seconds, "probes": len(merged["probes"]),
           "cpu_s": round(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, 2),
           "timeline": timeline(slowest["dir"], slowest["ident"], slowest["job"]["seconds"]),
           "slowest_slice": slowest["index"]}
    states = {}
    for p in merged["probes"]:
        states.setdefault(p["result"]["site"], []).append(p["result"]["state"] == "up")
    down = collections.Counter("%s %s" % (p["result"]["service"], p["result"]["state"])
                               for p in merged["probes"] if p["result"]["state"] != "up")
    out["not_up"] = dict(sorted(down.items()))
    out["sites_fully_up"] = sum(1 for v in states.values() if all(v))
    out["sites_down"] = sum(1 for v in states.values() if not any(v))
    shutil.rmtree(base, ignore_errors=True)
    return out


def timeline(job_dir, ident, seconds):
    """Where a job's wall time went, from its runner events: ``[(what, seconds)]``, the slowest first:
    "start-up" (the job's start to the first play's), each task (its start to the next task's or the
    end of the play), "end" (the last task's end to the job's end)."""
    events = []
    for path in glob.glob(os.path.join(job_dir, "artifacts", ident, "job_events", "*.json")):
        with open(path, encoding="utf-8") as handle:
            ev = json.load(handle)
        if ev.get("created") and ev.get("event") in ("playbook_on_start", "playbook_on_task_start", "playbook_on_stats"):
            events.append((ev["counter"], ev["event"], ev.get("event_data", {}).get("task", ""), ev["created"]))
    if not events:
        return []
    events.sort()
    from datetime import datetime  # pylint: disable=import-outside-toplevel
    times = [datetime.fromisoformat(e[3]).timestamp() for e in events]
    out = {}
    for i, ev in enumerate(events[:-1]):
        if ev[1] == "playbook_on_task_start":
            out[ev[2]] = out.get(ev[2], 0.0) + times[i + 1] - times[i]
    out["(playbook start to first task)"] = times[min(
        i for i, e in enumerate(events) if e[1] == "playbook_on_task_start")] - times[0]
    out["(the rest: runner and ansible-playbook start-up with the inventory, and end)"] = max(0.0, seconds - (times[-1] - times[0]))
    return sorted(((k, round(v, 2)) for k, v in out.items()), key=lambda kv: -kv[1])


def cpu_model():
    """The processor's model name (/proc/cpuinfo), or "" when it cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        return ""


def machine():
    cpu = cpu_model()
    mem = 0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    return "%s, %d CPUs (os.cpu_count), %d MiB RAM, Python %s, %s" % (
        cpu, os.cpu_count(), mem, platform.python_version(), platform.platform())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="write the figures as JSON here")
    parser.add_argument("--variants", default="one,sliced,divided,wide",
                        help="which of one, sliced, divided, wide, ssh64 (comma-separated)")
    args = parser.parse_args(argv)
    config, started = sim_config(args.sites)
    tmp = tempfile.mkdtemp(prefix="o2edge-bench-slices-")
    coll_path = sliced.collections_dir(tmp)
    names = {"one": "1 job", "sliced": "%d slices" % args.slices,
             "divided": "%d slices, concurrency 64 / %d each" % (args.slices, args.slices),
             "wide": "1 job, concurrency 64 x %d" % args.slices, "ssh64": "1 job, ssh_concurrency 64"}
    specs = {"one": (1, {}), "sliced": (args.slices, {}),
             "divided": (args.slices, {"connectivity_check_concurrency": max(1, 64 // args.slices)}),
             "wide": (1, {"connectivity_check_concurrency": 64 * args.slices}),
             "ssh64": (1, {"connectivity_check_ssh_concurrency": 64})}
    for key in set(specs) - set(args.variants.split(",")):
        del specs[key]
    rows = dict((k, []) for k in specs)
    try:
        for rnd in range(args.rounds):
            order = list(specs)[rnd % len(specs):] + list(specs)[:rnd % len(specs)]
            for key in order:
                count, extra = specs[key]
                row = variant(tmp, coll_path, "%s r%d" % (names[key], rnd), config, args.sites, count, extra)
                rows[key].append(row)
                print("round %d %-28s wall %6.1f s, CPU %6.1f s, report %5.1f s, playbook RSS sum %6.1f MiB max %6.1f MiB, "
                      "not up %s, load %.1f" % (rnd, names[key], row["wall_s"], row["cpu_s"], row["report_s"],
                                                row["playbook_rss_sum_mb"], row["playbook_rss_max_mb"], row["not_up"],
                                                os.getloadavg()[0]), file=sys.stderr, flush=True)
                spent = "; ".join("%s %.1f s" % kv for kv in row["timeline"][:8])
                print("  slowest job's (slice %d) time: %s" % (row["slowest_slice"], spent), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if started:
            subprocess.run([sys.executable, "-m", "tests.lab", "sim", "down"], cwd=REPO, check=False, capture_output=True)

    def med(key, field):
        return statistics.median(r[field] for r in rows[key])
    print("%d simulated sites (every 10th blackholed), %d rounds (medians); %s; load average at the end %s"
          % (args.sites, args.rounds, machine(), "%.2f %.2f %.2f" % os.getloadavg()))
    print()
    print("| variant | jobs | wall (s) | CPU (s) | slowest job (s) | ansible-playbook peak RSS, sum / max (MiB) "
          "| ansible-runner RSS, sum (MiB) | report (s) | probes | sites fully up / down | probes not up (last round) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for key in specs:
        last = rows[key][-1]
        print("| %s | %d | %.1f | %.1f | %.1f | %.0f / %.0f | %.0f | %.1f | %d | %d / %d | %s |" % (
            names[key], specs[key][0], med(key, "wall_s"), med(key, "cpu_s"), med(key, "job_s_max"),
            med(key, "playbook_rss_sum_mb"),
            med(key, "playbook_rss_max_mb"), med(key, "runner_rss_sum_mb"), med(key, "report_s"), last["probes"],
            last["sites_fully_up"], last["sites_down"], ", ".join("%s %d" % kv for kv in last["not_up"].items())))
    print()
    for a, b, what in (("one", "sliced", "1 job / %d slices" % args.slices),
                       ("one", "divided", "1 job / %d slices at concurrency 64 / %d each" % (args.slices, args.slices)),
                       ("wide", "sliced", "1 job at concurrency 64 x %d / %d slices" % (args.slices, args.slices))):
        if a in specs and b in specs:
            print("wall time, %s: %.2f x" % (what, med(a, "wall_s") / med(b, "wall_s")))
    if args.json:
        slicer.write_atomic(args.json, json.dumps({"rows": rows, "machine": machine(), "sites": args.sites}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

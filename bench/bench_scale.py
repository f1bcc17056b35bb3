# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The three scale goals in one benchmark run, one after the other on the same machine, with the curve.

    flock /tmp/o2lab.lock sh -c '.venv/bin/python -m tests.lab up &&
        .venv/bin/python -m tests.lab exec -- .venv/bin/python bench/bench_scale.py [--json out.json];
        .venv/bin/python -m tests.lab down'

It runs the three benchmarks that measure each goal, each as a process of its own, and judges their figures:

1. ``bench_probe_scale.py --variants new``: service_probe over 10, 100, 1,000 and 10,000 targets (wall time,
   peak RSS, false failures against the calm states). Goal: 10,000 targets within 5 timeouts (5 T), with no
   false failure at any size.
2. ``bench_slices.py --variants one``: the probe and report part of the benchmark playbook for the lab's 1,000
   simulated sites in one ansible-runner job. Goal: the job's wall time within 30 s (the merged perf_report run
   after it is shown beside it).
3. ``bench_perf_report.py --sweep 100,1000,10000``: perf_report of 100 to 10,000 measurements with and without a
   baseline, each report a whole process. Goal: 10,000 measurements with a 10,000-measurement baseline under 1 s
   (the median of the rounds). The sweep's control (the collection's CPU calibration loop, rotated with the
   reports) is shown beside it, with the report's time in units of it: the figure to compare across days.

The verdict of each goal is computed from the figures, never written by hand: a goal is "met" only when every
round of it is within its bound for 1 and 2, and the median for 3. The load average before and after each part
is printed next to it: a busy machine makes every figure slower, never faster.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PROBE_BOUND_T = 5.0  # goal 1: 10,000 targets within 5 timeouts
JOB_BOUND_S = 30.0  # goal 2: 1,000 sites in one job
REPORT_BOUND_S = 1.0  # goal 3: a 10,000-record report with its baseline


def part(name, argv, out_json):
    """Run one benchmark (its table goes to our stderr as it comes); its JSON figures, load and seconds."""
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    done = subprocess.run([sys.executable] + argv + ["--json", out_json], cwd=REPO, stdout=sys.stderr, check=False)
    took = time.monotonic() - t0
    if done.returncode != 0:
        raise SystemExit("%s: exit %d" % (name, done.returncode))
    with open(out_json) as handle:
        figures = json.load(handle)
    return figures, {"load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2), "seconds": round(took, 1)}


def judge_probe(figures):
    """(met, lines): the curve per size, and goal 1 at the largest size."""
    timeout = figures["timeout_s"]
    rows = [r for r in figures["runs"] if r["variant"] == "new"]
    lines = ["| targets | wall (s) | wall / T | peak RSS (MiB) | false failures |", "|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (r["n"], r.get("round", 0))):
        row = (r["n"], r["wall_s"], r["wall_s"] / timeout, r["maxrss_kib"] / 1024.0, sum(r["false_failures"].values()))
        lines.append("| %d | %.2f | %.2f | %.1f | %d |" % row)
    top = [r for r in rows if r["n"] == 10000]
    met = bool(top) and all(r["wall_s"] <= PROBE_BOUND_T * timeout for r in top) and \
        not any(sum(r["false_failures"].values()) for r in rows)  # no false failure at any size
    return met, lines, {"timeout_s": timeout, "walls_10000_s": [r["wall_s"] for r in top]}


def judge_job(figures):
    rows = figures["rows"]["one"]
    lines = ["| round | one job, wall (s) | merged perf_report (s) | CPU (s) | peak RSS, ansible-playbook (MiB) | probes |",
             "|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(rows):
        row = (i, r["wall_s"], r["report_s"], r["cpu_s"], r["playbook_rss_max_mb"], r["probes"])
        lines.append("| %d | %.1f | %.1f | %.1f | %.0f | %d |" % row)
    met = bool(rows) and all(r["wall_s"] <= JOB_BOUND_S for r in rows)
    return met, lines, {"walls_s": [r["wall_s"] for r in rows], "reports_s": [r["report_s"] for r in rows]}


def processor():
    """The processor's model name, or ``unknown``: goal 3's ratio to the control compares runs on the same
    processor only (the control and the report do not slow down alike from one processor to another)."""
    from bench_slices import cpu_model  # pylint: disable=import-outside-toplevel,import-error  # bench/, beside this file
    return cpu_model() or "unknown"


def judge_report(figures):
    sweep = figures["sweep"]
    lines = ["| measurements | scenario | process, median (s) | runs (s) |", "|---:|---|---:|---|"]
    for n in sorted(sweep, key=int):
        for name, r in sweep[n].items():
            runs = ", ".join("%.2f" % x for x in r["process_runs_s"])
            lines.append("| %s | %s | %.3f | %s |" % (n, name, r["process_median_s"], runs))
    top = sweep.get("10000", {}).get("baseline")
    met = top is not None and top["process_median_s"] < REPORT_BOUND_S
    control = next((r for name, r in sweep.get("10000", {}).items() if name.startswith("control")), None)
    figures = {"median_10000_baseline_s": top and top["process_median_s"],
               "control_median_s": control and control["process_median_s"]}
    if top and control:
        # the report in units of the control: what another day's figure is compared with (the bound itself is
        # judged on seconds, on this machine, today)
        # per round (the two processes of a round ran minutes apart at most, seconds apart mostly), then the median
        figures["baseline_per_control"] = round(statistics.median(
            a / b for a, b in zip(top["process_runs_s"], control["process_runs_s"])), 3)
        lines.append("")
        lines.append("The 10,000-measurement report with its baseline takes %.3f times the control's process (median "
                     "of the rounds' ratios; control median %.3f s): compare another day's figures through this ratio, "
                     "not through seconds." % (
                         figures["baseline_per_control"], control["process_median_s"]))
    return met, lines, figures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe-rounds", type=int, default=2)
    ap.add_argument("--job-rounds", type=int, default=2)
    ap.add_argument("--report-rounds", type=int, default=5)
    ap.add_argument("--json", help="write every figure and verdict here")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="o2edge-bench-scale-")
    try:
        parts = [
            ("1. 10,000 targets within %g T" % PROBE_BOUND_T, judge_probe,
             ["bench/bench_probe_scale.py", "--variants", "new", "--sizes", "10,100,1000,10000",
              "--rounds", str(a.probe_rounds)]),
            ("2. 1,000 sites in one job within %g s" % JOB_BOUND_S, judge_job,
             ["bench/bench_slices.py", "--sites", "1000", "--variants", "one", "--rounds", str(a.job_rounds)]),
            ("3. 10,000 records with a baseline under %g s" % REPORT_BOUND_S, judge_report,
             ["bench/bench_perf_report.py", "--sweep", "100,1000,10000", "--rounds", str(a.report_rounds)]),
        ]
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        out = {"started": started, "cpus": os.cpu_count(), "processor": processor(), "goals": []}
        for i, (name, judge, argv) in enumerate(parts):
            figures, meta = part(name, argv, os.path.join(work, "part%d.json" % i))
            met, lines, key = judge(figures)
            out["goals"].append(dict(goal=name, met=met, figures=key, **meta))
            print("## %s: %s (%.0f s, load %.2f before, %.2f after)" % (name, "met" if met else "NOT met", meta["seconds"],
                                                                        meta["load_before"], meta["load_after"]))
            print("")
            print("\n".join(lines))
            print("")
        met = sum(g["met"] for g in out["goals"])
        print("One run, started %s, %d CPUs (%s): %d of 3 goals met." % (started, os.cpu_count(), out["processor"], met))
        if a.json:
            with open(a.json, "w") as handle:
                json.dump(out, handle, indent=1)
        return 0 if all(g["met"] for g in out["goals"]) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

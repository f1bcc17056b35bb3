# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark the whole perf_report on 10,000 measurement records of 10 samples each.

    .venv/bin/python bench/bench_perf_report.py [--records 10000] [--rounds 5] [--json out.json]

No lab needed (it reads and writes files only). Each round, timed with time.perf_counter in this
process, is one complete ``_report.generate`` call as the action plugin makes it: read and validate
results.json (``_results.load``), evaluate the shipped objectives (``_slo``), build the model, write
the six files of a new run directory (report.md, report.html, measurements.csv, results.json,
junit.xml, metrics.prom) and rewrite the index. Scenarios, side by side in one run, in an order
rotated every round:

1. ``no baseline``: 10,000 records, 400 probes, 2,000 task timings;
2. ``baseline``: the same plus a baseline of the same 10,000 measurements, so every record is
   compared (``_compare.compare``: Mann-Whitney U and a 2,000-resample bootstrap interval each).

Prints, per scenario, the median wall and CPU time of the whole report and every round (the CPU of
this process, and apart that of the report's second process, ``_report_parallel``, reaped children),
the ratio of the two scenarios, and the CPU time of each stage (measured once more per round, stage
by stage, all in this process) so that the share of reading, objectives, comparisons and each format
is visible. The load averages before and after are printed: on a loaded machine compare CPU times.

    .venv/bin/python bench/bench_perf_report.py --sweep 100,1000,10000 [--rounds 5] [--json out.json]

The sweep runs every report in a process of its own (``bench/report_worker.py``), as a playbook's task does:
per size, no baseline, a baseline (NumPy path when installed) and a baseline on the pure-Python
path (``O2EDGE_PERF_STATS=pure``), in an order rotated every round. It prints the median of the
rounds of ``generate`` (the whole report: reading, objectives, comparisons with NumPy's import
when it is used, every format, the files and the index; its CPU, and the second process's) and of the
whole process (interpreter, the report's imports and the report; this bench's worker imports nothing
else). Python keeps its compiled modules as it does by default (under .build/bench/pycache, filled by one
untimed report first), even when the environment sets PYTHONDONTWRITEBYTECODE; ``--no-bytecode-cache``
makes every process compile the report's modules again (about 0.04 s more a process on this machine).
``--compare-with PATH`` adds the report of another checkout (an older commit: ``git archive REV | tar -x -C
PATH``) with the baseline as one more scenario of the rotation, for a ratio measured side by side.
Every size's rotation also runs the control (``CONTROL``): the collection's CPU calibration loop, in a process of
the same shape, which no change to the report touches. Figures of two days are compared through it: a report that
got 20 % slower while the control got 20 % slower too did not change.
``--realtime`` (root) runs the sweep and its reports at real-time priority (SCHED_FIFO): on a machine
shared with other sessions, their processes then wait for the reports instead of sharing the cores
with them (the kernel still keeps 50 ms of each second for them, so figures run a little high).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The collection importable as ansible_collections.o2edge.perf (this tree), as bench_kpt_render makes it, without
# importing what that bench measures (the kpt renderer): a report's process imports only the report's modules.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, ".build", "bench", "ansible_collections", "o2edge")
if not os.path.islink(os.path.join(TREE, "perf")):
    os.makedirs(TREE, exist_ok=True)
    os.symlink(ROOT, os.path.join(TREE, "perf"))
sys.path.insert(0, os.path.dirname(os.path.dirname(TREE)))

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report, _report_formats, _report_html, _slo  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record  # noqa: E402

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "report_worker.py")
COMPONENTS = ("kpt_render", "git", "prometheus_query", "file_io", "command")


def make_doc(n_records, seed, run_id):
    rng = random.Random(seed)
    started = "2026-11-28T14:00:00.000Z"
    records = []
    for i in range(n_records):
        component = COMPONENTS[i % len(COMPONENTS)]
        base = 0.05 + (i % 97) / 100.0
        samples = [round(base * rng.uniform(0.9, 1.1), 6) for dummy in range(10)]
        ctx = {"host": "edge%d" % (i % 4 + 1), "started_at": started, "versions": {"python": "3.11.7", "kpt": "1.0.0"}}
        rec = make_record("%s/m%05d" % (component, i), component, "s", samples, warmup=1, context=ctx)
        records.append({"host": ctx["host"], "play": "Measure the pipeline", "task": "measure %d" % i, "record": rec})
    states = ("up", "up", "up", "refused", "timeout")
    probes = [{"host": "localhost", "play": "Probe the edge sites", "task": "probe",
               "result": {"site": "edge%d" % (i // 4), "service": ("ssh", "kubernetes", "o2ims", "prometheus")[i % 4],
                          "kind": "tcp", "address": "198.18.1.10", "port": 22, "ok": states[i % 5] == "up",
                          "state": states[i % 5], "latency_ms": 3.5, "connect_ms": 1.0, "detail": "", "info": {}}}
              for i in range(400)]
    tasks = [{"play": "Measure the pipeline", "role": None, "task": "task %d" % i, "action": "o2edge.perf.command_bench",
              "host": "edge1", "status": "ok", "seconds": rng.uniform(0.1, 30.0), "started_at": started}
             for i in range(2000)]
    return {"schema": "o2edge.perf/results/v1",
            "run": {"id": run_id, "started_at": started, "finished_at": "2026-11-28T15:00:00Z", "status": "ok",
                    "playbooks": ["benchmark.yml"], "runner": None, "slice": None,
                    "controller": {"host": "ctl", "python": "3.11.7", "ansible_core": "2.19.14", "collection": "0.2.0"}},
            "hosts": {"edge1": {"ok": 1, "changed": 0, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0,
                                "ignored": 0}},
            "records": records, "probes": probes, "tasks": tasks,
            "totals": {"wall_seconds": 3600.0, "plays": [], "roles": []}, "missing": []}


def stages(params, dest):
    """CPU seconds of each stage of one report, run one after the other as ``generate`` runs them (with the
    cyclic garbage collector paused, as ``generate`` pauses it)."""
    pause = getattr(_report, "_no_cycle_collection", None)  # older checkouts (side by side) have none
    if pause is None:
        return _stages(params, dest)
    with pause():
        return _stages(params, dest)


def _stages(params, dest):
    out = {}

    def timed(key, func, *args):
        c0 = time.process_time()
        value = func(*args)
        out[key] = time.process_time() - c0
        return value
    doc = timed("load results (_results)", _report.load_documents, params["results"], "results")
    base = timed("load baseline (_results)", _report.load_documents, params["baseline"], "baseline") \
        if params.get("baseline") else None
    objectives = _report.load_objectives(None)
    timed("objectives (_slo.evaluate)", _slo.evaluate, objectives, doc)
    model = timed("model and comparisons (_report.build, _compare)", _report.build, doc, base, [])
    model["slo"] = _slo.evaluate(objectives, doc)
    for key, func in (("report.md", _report_formats.markdown), ("measurements.csv", _report_formats.measurements_csv),
                      ("junit.xml", _report_formats.junit), ("metrics.prom", _report_formats.prometheus),
                      ("report.html", _report_html.report_html)):
        timed(key, func, model)
    timed("results.json", lambda: json.dumps(dict(doc, report=_report.report_section(model)),
                                             separators=(",", ":")))
    return out


def _children_cpu():
    """CPU seconds of this process's reaped children (the report's second process, _report_parallel)."""
    times = os.times()
    return times.children_user + times.children_system


SWEEP_SCENARIOS = (("no baseline", False, {}), ("baseline", True, {}),
                   ("baseline, pure path", True, {"O2EDGE_PERF_STATS": "pure"}))
# The sweep's control, rotated with the reports: the collection's CPU calibration loop in a process of the same shape.
# No change to the report touches it, so its time moves only with the machine (another day's CPU, a busy neighbour):
# a report figure compared with another day's is read against the control's figures of both days.
CONTROL_STEPS = 2000000
CONTROL = "control: calibration loop (%d steps)" % CONTROL_STEPS


def worker_env(bytecode_cache):
    """The environment of a report's process. With ``bytecode_cache``, Python's own default: compiled modules kept
    (here under .build/bench/pycache, not beside the sources), as an installed collection has them after its first
    use; without it, every process compiles the report's modules again (PYTHONDONTWRITEBYTECODE=1)."""
    env = dict(os.environ)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(ROOT, ".build", "bench", "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def sweep(sizes, rounds, work, bytecode_cache=True, compare_with=None):
    """{size: {scenario: {generate_median_s, process_median_s, ...}}}, each report in a process of its own
    (one untimed report first, which fills the bytecode cache when it is on)."""
    out = {}
    base_env = worker_env(bytecode_cache)
    scenarios = [(name, with_baseline, env, []) for name, with_baseline, env in SWEEP_SCENARIOS]
    if compare_with:  # the other checkout's report with the baseline, rotated with the others
        scenarios.append(("baseline, %s" % compare_with, True, {}, ["--collection", compare_with]))
    scenarios.append((CONTROL, None, {}, ["--control", str(CONTROL_STEPS)]))
    warm = True
    for n in sizes:
        current = os.path.join(work, "current-%d.json" % n)
        baseline = os.path.join(work, "baseline-%d.json" % n)
        for path, seed, run_id in ((current, 1, "current"), (baseline, 2, "baseline")):
            with open(path, "w") as handle:
                json.dump(make_doc(n, seed, run_id), handle)
        runs = dict((scenario[0], {"generate": [], "cpu": [], "children": [], "process": []}) for scenario in scenarios)
        if warm:
            for scenario in scenarios:
                if scenario[1] is not None:
                    subprocess.run([sys.executable, WORKER] + scenario[3] + [current, baseline, os.path.join(work, "warm-up")],
                                   env=base_env, stdout=subprocess.PIPE, check=True)
            warm = False
        for rnd in range(rounds):
            order = scenarios[rnd % len(scenarios):] + scenarios[:rnd % len(scenarios)]
            for name, with_baseline, env, extra in order:
                dest = os.path.join(work, "sweep-%d-%d" % (n, rnd))
                argv = [sys.executable, WORKER] + extra
                if with_baseline is not None:  # else the control
                    argv += [current] + ([baseline] if with_baseline else []) + [dest]
                t0 = time.perf_counter()
                done = subprocess.run(argv, env=dict(base_env, **env), stdout=subprocess.PIPE, check=True)
                runs[name]["process"].append(time.perf_counter() - t0)
                figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
                runs[name]["generate"].append(figures["generate_s"])
                runs[name]["cpu"].append(figures["cpu_s"])
                runs[name]["children"].append(figures["children_cpu_s"])
        out[n] = dict((name, {"generate_median_s": round(statistics.median(r["generate"]), 3),
                              "generate_runs_s": [round(x, 3) for x in r["generate"]],
                              "generate_cpu_median_s": round(statistics.median(r["cpu"]), 3),
                              "second_process_cpu_median_s": round(statistics.median(r["children"]), 3),
                              "process_median_s": round(statistics.median(r["process"]), 3),
                              "process_runs_s": [round(x, 3) for x in r["process"]]})
                      for name, r in runs.items())
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json")
    parser.add_argument("--sweep", help="sizes, e.g. 100,1000,10000: each report in a process of its own")
    parser.add_argument("--compare-with", metavar="PATH",
                        help="with --sweep: another checkout of the collection (git archive of an older commit); its "
                             "report with the baseline is a scenario of its own, rotated with the others")
    parser.add_argument("--realtime", action="store_true",
                        help="with --sweep: run the reports at real-time priority (SCHED_FIFO 10, root only), so that "
                             "other sessions' processes cannot take their CPU (the kernel still keeps 5 %% of each second)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="with --sweep: each report's process compiles the report's modules again (no .pyc kept)")
    args = parser.parse_args()
    if args.sweep:
        if args.realtime:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))  # inherited by every report's process
        work = tempfile.mkdtemp(prefix="bench-perf-report-")
        load_before = os.getloadavg()
        try:
            table = sweep([int(n) for n in args.sweep.split(",")], args.rounds, work, not args.no_bytecode_cache,
                          args.compare_with and os.path.abspath(args.compare_with))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        out = {"rounds": args.rounds, "samples_per_record": 10, "python": platform.python_version(),
               "cpus": os.cpu_count(), "load_before": load_before,
               "bytecode_cache": not args.no_bytecode_cache, "realtime": args.realtime, "sweep": table}
        try:
            import numpy  # pylint: disable=import-outside-toplevel
            out["numpy"] = numpy.__version__
        except ImportError:
            out["numpy"] = None
        out["load_after"] = os.getloadavg()
        text = json.dumps(out, indent=1)
        sys.stdout.write(text + "\n")
        if args.json:
            with open(args.json, "w") as handle:
                handle.write(text + "\n")
        return
    work = tempfile.mkdtemp(prefix="bench-perf-report-")
    load_before = os.getloadavg()
    try:
        current = os.path.join(work, "current.json")
        baseline = os.path.join(work, "baseline.json")
        with open(current, "w") as handle:
            json.dump(make_doc(args.records, 1, "current"), handle)
        with open(baseline, "w") as handle:
            json.dump(make_doc(args.records, 2, "baseline"), handle)
        scenarios = [("no baseline", {"results": [current]}), ("baseline", {"results": [current], "baseline": [baseline]})]
        wall = dict((name, []) for name, dummy in scenarios)
        cpu = dict((name, []) for name, dummy in scenarios)
        children = dict((name, []) for name, dummy in scenarios)
        parts = dict((name, []) for name, dummy in scenarios)
        details = {}
        for rnd in range(args.rounds):
            order = scenarios[rnd % 2:] + scenarios[:rnd % 2]
            for name, params in order:
                dest = os.path.join(work, "reports-%d" % rnd)
                c0, t0, k0 = time.process_time(), time.perf_counter(), _children_cpu()
                result = _report.generate(dict(params, dest=dest, title="bench"), {}, "2026-11-28T15:00:00.000Z")
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
                children[name].append(_children_cpu() - k0)
                details[name] = {"verdicts": result["verdicts"], "slo": len(result["slo"]),
                                 "files": dict((k, os.path.getsize(v)) for k, v in result["files"].items())}
                parts[name].append(stages(params, os.path.join(work, "stages-%d" % rnd)))
        out = {"records": args.records, "samples_per_record": 10, "rounds": args.rounds, "load_before": load_before,
               "python": platform.python_version(), "cpus": os.cpu_count(), "scenarios": {}}
        for name, dummy in scenarios:
            out["scenarios"][name] = {
                "median_s": round(statistics.median(wall[name]), 3), "runs_s": [round(x, 3) for x in wall[name]],
                "cpu_median_s": round(statistics.median(cpu[name]), 3), "cpu_runs_s": [round(x, 3) for x in cpu[name]],
                "second_process_cpu_median_s": round(statistics.median(children[name]), 3),
                "stages_cpu_median_s": dict((k, round(statistics.median(p[k] for p in parts[name]), 3)) for k in parts[name][0]),
                "details": details[name]}
        out["load_after"] = os.getloadavg()
        out["ratio_baseline_to_none"] = round(statistics.median(wall["baseline"]) / statistics.median(wall["no baseline"]), 2)
        text = json.dumps(out, indent=1)
        sys.stdout.write(text + "\n")
        if args.json:
            with open(args.json, "w") as handle:
                handle.write(text + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

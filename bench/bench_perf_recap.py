# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Overhead of the perf_recap callback on a 200-task play, next to no callback and profile_tasks.

    .venv/bin/python bench/bench_perf_recap.py [--rounds 10] [--tasks 200] [--json out.json]

A local play (connection local, no facts) of ``--tasks`` ``ansible.builtin.debug`` tasks is run
by whole ``ansible-playbook`` processes (start-up included), three ways:

- ``none``: no aggregate callback enabled (only the default stdout callback);
- ``perf_recap``: ``callbacks_enabled=o2edge.perf.perf_recap`` (writes results.jsonl and
  results.json, shows its recap);
- ``profile_tasks``: ``callbacks_enabled=ansible.posix.profile_tasks``, the usual way to time
  tasks, for comparison.

Each round runs the three variants once, in an order rotated from round to round, after one
untimed warm-up round; stdout goes to /dev/null. Reported per variant: the median wall time
and the median CPU time (user + system of the process and its children), and the ratios of
each variant to ``none`` in the same round (wall and CPU), whose medians come with a bootstrap
95 % interval. The target is a median wall ratio of perf_recap to none of at most 1.03.

On a shared machine the run-to-run spread of whole processes is larger than 3 %, so two
measures of the callback's own cost come with it: the controller process's time in the
callback in one run under cProfile (its share of the profiled total), and perf_recap's code
timed directly in-process (import, per task, end of run) against the median run.

ansible.posix is not installed in the venv: the script takes it from the ``ansible`` wheel
downloaded from PyPI into ``.build/bench`` (``pip download --no-deps ansible``), extracting only
``ansible_collections/ansible/posix`` into ``.build/bench/perf_recap/collections``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
WORK = os.path.join(REPO, ".build", "bench", "perf_recap")
POSIX_PREFIX = "ansible_collections/ansible/posix/"
VARIANTS = ("none", "perf_recap", "profile_tasks")
CALLBACKS = {"none": "", "perf_recap": "o2edge.perf.perf_recap", "profile_tasks": "ansible.posix.profile_tasks"}


def posix_collection():
    """The collections path holding ansible.posix, extracted from the downloaded ansible wheel."""
    dest = os.path.join(WORK, "collections")
    if os.path.isfile(os.path.join(dest, POSIX_PREFIX, "plugins", "callback", "profile_tasks.py")):
        return dest
    wheels = sorted(glob.glob(os.path.join(REPO, ".build", "bench", "ansible-*-py3-none-any.whl")))
    if not wheels:
        os.makedirs(os.path.join(REPO, ".build", "bench"), exist_ok=True)
        subprocess.run([os.path.join(VENV_BIN, "pip"), "download", "--no-deps", "--only-binary=:all:", "-d",
                        os.path.join(REPO, ".build", "bench"), "ansible"], check=True)
        wheels = sorted(glob.glob(os.path.join(REPO, ".build", "bench", "ansible-*-py3-none-any.whl")))
    with zipfile.ZipFile(wheels[-1]) as wheel:
        members = [m for m in wheel.namelist() if m.startswith(POSIX_PREFIX) and ".." not in m.split("/")]
        wheel.extractall(dest, members)
    return dest


def unit_tree():
    """The working tree as ansible_collections/o2edge/perf (the unit tests' symlink tree)."""
    tree = os.path.join(REPO, ".build", "unit", "ansible_collections", "o2edge")
    if not os.path.exists(os.path.join(tree, "perf")):
        os.makedirs(tree, exist_ok=True)
        os.symlink(REPO, os.path.join(tree, "perf"))
    return os.path.dirname(os.path.dirname(tree))


def write_play(tasks):
    path = os.path.join(WORK, "play%d.yml" % tasks)
    lines = ["---", "- name: Bench play", "  hosts: localhost", "  connection: local", "  gather_facts: false", "  tasks:"]
    for i in range(tasks):
        lines += ["    - name: Task %d" % i, "      ansible.builtin.debug:", "        msg: \"task %d\"" % i]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def run_once(variant, play, collections, results_dir):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "O2EDGE_PERF")))
    if CALLBACKS[variant]:
        env["ANSIBLE_CALLBACKS_ENABLED"] = CALLBACKS[variant]
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", O2EDGE_PERF_RESULTS_DIR=results_dir,
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,", play], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("%s failed (rc %d): %s" % (variant, proc.returncode, proc.stderr.decode()[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def profile_share(play, collections, scratch):
    """Seconds the controller process spends in perf_recap during one run, measured with cProfile.

    Counted: every ``v2_*`` method of the callback (cumulative: its module_utils calls, JSON
    encoding and file writes included), loading the plugin module, and perf_recap's share of the
    result copies Ansible makes for each callback that implements a result method
    (``as_callback_task_result``: one per such callback and result, the default stdout callback
    taking the other). Returned with the run's profiled total, so their ratio is the share of the
    controller's time the callback takes (profiling slows both alike).
    """
    import pstats

    out = os.path.join(scratch, "profile.out")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "O2EDGE_PERF")))
    env.update(ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_CALLBACKS_ENABLED=CALLBACKS["perf_recap"], ANSIBLE_NOCOLOR="1",
               O2EDGE_PERF_RESULTS_DIR=os.path.join(scratch, "profiled"), ANSIBLE_LOCALHOST_WARNING="0")
    subprocess.run([os.path.join(VENV_BIN, "python"), "-m", "cProfile", "-o", out, os.path.join(VENV_BIN, "ansible-playbook"),
                    "-i", "localhost,", play], env=env, stdout=subprocess.DEVNULL, check=True)
    stats = pstats.Stats(out).stats
    ours = 0.0
    calls = 0
    total = max(ct for (_cc, _nc, _tt, ct, _callers) in stats.values())
    copies = (0, 0.0)
    for (filename, _line, func), (_cc, ncalls, _tt, cumtime, _callers) in stats.items():
        if filename.endswith(os.path.join("callback", "perf_recap.py")):
            if func.startswith("v2_") or func == "<module>":
                ours += cumtime
            if func.startswith("v2_runner_on_"):
                calls += ncalls
        elif func == "as_callback_task_result":
            copies = (ncalls, cumtime)
    copy_share = copies[1] / copies[0] * calls if copies[0] else 0.0
    return {"callback_seconds": ours, "copy_seconds": copy_share, "profiled_total": total,
            "share": (ours + copy_share) / total}


def in_process_cost(tasks, scratch):
    """What perf_recap's own code costs, timed directly (no profiler), best of 5.

    ``import``: loading the plugin module in a fresh interpreter that has already imported
    Ansible's callback base (the plugin's share of start-up); ``per_task``: one task's start, its
    result (a debug result) and the jsonl line; ``finish``: folding the document, writing
    results.json (fsync included) and the screen recap.
    """
    code = ("import sys, time; sys.path.insert(0, %r); import ansible.plugins.callback; t = time.perf_counter(); "
            "import ansible_collections.o2edge.perf.plugins.callback.perf_recap; print(time.perf_counter() - t)") % unit_tree()
    imports = [float(subprocess.run([os.path.join(VENV_BIN, "python"), "-c", code], stdout=subprocess.PIPE, check=True).stdout)
               for _attempt in range(5)]
    sys.path.insert(0, unit_tree())
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _callback_recap  # pylint: disable=import-outside-toplevel
    loops, ends = [], []
    for rep in range(5):
        sink = _callback_recap.JsonlSink(os.path.join(scratch, "inproc-%d.jsonl" % rep))
        recap = _callback_recap.Recap({"controller": {}, "runner": None, "slice": None}, sink=sink)
        recap.play("Bench play", key=1)
        start = time.perf_counter()
        for i in range(tasks):
            recap.task(i, "Task %d" % i, "ansible.builtin.debug")
            recap.host_start(i, "localhost")
            recap.host_end(i, "localhost", "ok", {"msg": "task %d" % i, "changed": False, "_ansible_verbose_always": True})
        middle = time.perf_counter()
        doc = recap.finish({"localhost": {}}, "ok")
        _callback_recap.atomic_write_json(os.path.join(scratch, "inproc-%d.json" % rep), doc)
        _callback_recap.recap_lines(doc, 10)
        sink.close()
        loops.append((middle - start) / tasks)
        ends.append(time.perf_counter() - middle)
    return {"import": min(imports), "per_task": min(loops), "finish": min(ends),
            "total": min(imports) + min(loops) * tasks + min(ends)}


def bootstrap_ci(values, resamples=2000, seed=0):
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choice(values) for _value in values) for _resample in range(resamples))
    return meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    if args.rounds < 5:
        parser.error("--rounds must be at least 5")
    os.makedirs(WORK, exist_ok=True)
    collections = os.pathsep.join([unit_tree(), posix_collection()])
    play = write_play(args.tasks)
    scratch = tempfile.mkdtemp(prefix="perf-recap-bench-", dir=WORK)
    times = dict((v, {"wall": [], "cpu": []}) for v in VARIANTS)
    ratios = dict((v, []) for v in VARIANTS if v != "none")
    cpu_ratios = dict((v, []) for v in VARIANTS if v != "none")
    try:
        for rnd in range(args.rounds + 1):
            order = VARIANTS[rnd % 3:] + VARIANTS[:rnd % 3]
            got = {}
            for variant in order:
                got[variant] = run_once(variant, play, collections, os.path.join(scratch, "r%d-%s" % (rnd, variant)))
            if rnd == 0:
                continue  # warm-up round
            for variant in VARIANTS:
                times[variant]["wall"].append(got[variant][0])
                times[variant]["cpu"].append(got[variant][1])
            for variant in ratios:
                ratios[variant].append(got[variant][0] / got["none"][0])
                cpu_ratios[variant].append(got[variant][1] / got["none"][1])
            print("round %d: %s" % (rnd, ", ".join("%s %.3f s" % (v, got[v][0]) for v in VARIANTS)), flush=True)
        # perf_recap really wrote its document: a bench of a callback that did nothing would prove nothing
        docs = glob.glob(os.path.join(scratch, "r1-perf_recap", "*", "results.json"))
        with open(docs[0], encoding="utf-8") as handle:
            doc = json.load(handle)
        if len(doc["tasks"]) != args.tasks:
            raise SystemExit("perf_recap recorded %d task entries, expected %d" % (len(doc["tasks"]), args.tasks))
        profiled = profile_share(play, collections, scratch)
        direct = in_process_cost(args.tasks, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = {"machine": "%s, %d CPUs, Python %s, %s" % (platform.node(), os.cpu_count(), platform.python_version(), platform.platform()),
           "command": "ansible-playbook -i localhost, play%d.yml (%d ansible.builtin.debug tasks, connection local)" % (args.tasks, args.tasks),
           "rounds": args.rounds, "variants": {}}
    print("\n%s; %s; %d rounds (+1 warm-up), order rotated each round" % (out["machine"], out["command"], args.rounds))
    print("| variant | median wall (s) | min wall (s) | max wall (s) | median CPU (s) | wall ratio to none (median, 95 % CI) "
          "| CPU ratio to none (median, 95 % CI) |")
    print("|---|---|---|---|---|---|---|")
    for variant in VARIANTS:
        wall, cpu = times[variant]["wall"], times[variant]["cpu"]
        row = {"median_wall": statistics.median(wall), "min_wall": min(wall), "max_wall": max(wall), "median_cpu": statistics.median(cpu),
               "walls": wall, "cpus": cpu}
        if variant in ratios:
            lo, hi = bootstrap_ci(ratios[variant])
            clo, chi = bootstrap_ci(cpu_ratios[variant])
            row.update(ratio=statistics.median(ratios[variant]), ratio_ci=[lo, hi],
                       cpu_ratio=statistics.median(cpu_ratios[variant]), cpu_ratio_ci=[clo, chi])
            ratio = "%.3f [%.3f, %.3f]" % (row["ratio"], lo, hi)
            cpu_ratio = "%.3f [%.3f, %.3f]" % (row["cpu_ratio"], clo, chi)
        else:
            ratio = cpu_ratio = "1"
        out["variants"][variant] = row
        print("| %s | %.3f | %.3f | %.3f | %.3f | %s | %s |" % (variant, row["median_wall"], row["min_wall"], row["max_wall"],
                                                                row["median_cpu"], ratio, cpu_ratio))
    verdict = "within" if out["variants"]["perf_recap"]["ratio"] <= 1.03 else "OVER"
    print("\nperf_recap overhead: %+.1f %% wall (target <= 3 %%: %s), %+.1f %% CPU" % (
        (out["variants"]["perf_recap"]["ratio"] - 1) * 100, verdict, (out["variants"]["perf_recap"]["cpu_ratio"] - 1) * 100))
    out["profile"] = profiled
    out["in_process"] = direct
    print("in-process, timed directly (best of 5): import %.1f ms, %.1f us per task, finish %.1f ms: %.1f ms for the "
          "%d-task run, %.2f %% of the median run without callback" % (
              direct["import"] * 1e3, direct["per_task"] * 1e6, direct["finish"] * 1e3, direct["total"] * 1e3, args.tasks,
              direct["total"] / out["variants"]["none"]["median_wall"] * 100))
    print("profiled run (cProfile, controller process): %.3f s in perf_recap's methods and module load, %.3f s its share of "
          "result copies, of %.3f s in all: %.2f %% of the controller's time" % (
              profiled["callback_seconds"], profiled["copy_seconds"], profiled["profiled_total"], profiled["share"] * 100))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

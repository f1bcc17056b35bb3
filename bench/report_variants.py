# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole perf_report processes of several checkouts of the collection, interleaved round by round.

    .venv/bin/python bench/report_variants.py [--rounds N] [--records N] TREE [TREE ...]

Each TREE is a checkout of the collection (``git archive <rev> | tar -x -C TREE``, or a copy of a working
tree with one setting changed). Every round runs ``bench/report_worker.py --collection TREE`` once per tree,
the trees in turn (reversed every other round), on the same inputs (``bench_perf_report.make_doc``: the
current run and a baseline of as many records, written once under ``.build/report-variants``). Printed per
tree: the median wall time of the whole process (interpreter start, imports, report, exit), every round's
time, and the medians of the report's CPU in its own process and in its second processes. This is the
side-by-side measure for a change of the report's arrangement (which formats a second process renders,
what is sent back): the machine's speed moves between minutes, so only trees measured in one run compare.
``O2EDGE_PERF_REPORT_PROCESSES=1`` in the environment compares the trees in one process each.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))


def inputs(records):
    """(current, baseline) paths of ``records`` records each, written once."""
    from bench_perf_report import make_doc  # pylint: disable=import-outside-toplevel,import-error
    folder = os.path.join(ROOT, ".build", "report-variants")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for seed, run_id in ((1, "current"), (2, "baseline")):
        path = os.path.join(folder, "%s-%d.json" % (run_id, records))
        if not os.path.exists(path):
            with open(path + ".tmp", "w") as handle:
                json.dump(make_doc(records, seed, run_id), handle)
            os.replace(path + ".tmp", path)
        paths.append(path)
    return paths


def run(tree, current, baseline, dest, env):
    """(wall seconds, the worker's JSON line) of one report of ``tree`` in a process of its own."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report_worker.py"), "--collection", tree,
                          current, baseline, dest], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("trees", nargs="+")
    args = parser.parse_args()
    trees = [os.path.abspath(t) for t in args.trees]
    current, baseline = inputs(args.records)
    dest = os.path.join(ROOT, ".build", "report-variants", "dest")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # Python's default: compiled modules kept, as a controller keeps them
    for tree in trees:  # untimed: fills each tree's bytecode cache
        run(tree, current, baseline, dest, env)
    walls, cpu = dict((t, []) for t in trees), dict((t, []) for t in trees)
    for number in range(args.rounds):
        for tree in trees if number % 2 == 0 else trees[::-1]:
            wall, line = run(tree, current, baseline, dest, env)
            walls[tree].append(wall)
            cpu[tree].append((line["cpu_s"], line["children_cpu_s"]))
    for tree in trees:
        sys.stdout.write("%-40s median %.3f s [%s]  CPU here %.3f s, second processes %.3f s\n" % (
            tree, statistics.median(walls[tree]), ", ".join("%.2f" % w for w in walls[tree]),
            statistics.median(c[0] for c in cpu[tree]), statistics.median(c[1] for c in cpu[tree])))


if __name__ == "__main__":
    main()

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One perf_report in a process of its own, as a playbook's task makes it (``bench_perf_report.py --sweep``).

    .venv/bin/python bench/report_worker.py [--collection PATH] CURRENT [BASELINE] DEST
    .venv/bin/python bench/report_worker.py --control STEPS

The process imports what the report imports and nothing else (the sweep's own argparse, statistics,
subprocess ... stay in the sweep's process), so that its wall time is the interpreter's start, the
report's imports and the report; it then ends with ``os._exit``, as the Ansible worker process that runs a playbook's
task does (multiprocessing's fork start method), so the objects the report keeps (``_report._KEPT``) are not freed
one by one by the interpreter's finalisation. Prints one JSON line: ``generate_s`` (the wall time of
``_report.generate``), ``cpu_s`` (this process's CPU time in it) and ``children_cpu_s`` (that of the
report's second processes, reaped children). ``--collection`` runs the report of another checkout of the
collection (an older commit unpacked with ``git archive``), for a side-by-side comparison in one sweep.
``--control STEPS`` times the collection's CPU calibration loop instead (``_controls.calibration_loop``), the
sweep's control: work no change to the report touches, whose time moves only with the machine.
"""
from __future__ import annotations

import json
import os
import sys
import time

# The collection importable as ansible_collections.o2edge.perf: this tree (as bench_perf_report makes it) or the
# checkout given with --collection (a tree of its own under .build/bench).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = ROOT
if len(sys.argv) > 2 and sys.argv[1] == "--collection":
    COLLECTION = os.path.abspath(sys.argv[2])
    del sys.argv[1:3]
BASE = os.path.join(ROOT, ".build", "bench")
if COLLECTION != ROOT:
    BASE = os.path.join(BASE, "other" + COLLECTION.replace(os.sep, "_"))
TREE = os.path.join(BASE, "ansible_collections", "o2edge")
if not os.path.islink(os.path.join(TREE, "perf")):
    os.makedirs(TREE, exist_ok=True)
    os.symlink(COLLECTION, os.path.join(TREE, "perf"))
sys.path.insert(0, os.path.dirname(os.path.dirname(TREE)))

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report  # noqa: E402


def _children_cpu():
    times = os.times()
    return times.children_user + times.children_system


def control(steps):
    """The sweep's control: the collection's CPU calibration loop (fixed pure-Python work, nothing of the report),
    timed as a report is, in a process of the same shape (interpreter, one import of the collection, the work)."""
    from ansible_collections.o2edge.perf.plugins.module_utils.measure._controls import calibration_loop  # noqa: E402  # pylint: disable=import-outside-toplevel
    c0, t0 = time.process_time(), time.perf_counter()
    calibration_loop(steps)
    sys.stdout.write(json.dumps({"generate_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                                 "children_cpu_s": 0.0}) + "\n")


def main(paths):
    if len(paths) == 2 and paths[0] == "--control":
        control(int(paths[1]))
        return
    if len(paths) not in (2, 3):
        sys.exit("usage: report_worker.py CURRENT [BASELINE] DEST")
    params = {"results": [paths[0]], "dest": paths[-1], "title": "bench"}
    if len(paths) == 3:
        params["baseline"] = [paths[1]]
    c0, t0, k0 = time.process_time(), time.perf_counter(), _children_cpu()
    _report.generate(params, {}, "2026-11-28T15:00:00.000Z")
    sys.stdout.write(json.dumps({"generate_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                                 "children_cpu_s": _children_cpu() - k0}) + "\n")
    sys.stdout.flush()
    os._exit(0)  # pylint: disable=protected-access  # as an Ansible worker process ends (multiprocessing's fork)


if __name__ == "__main__":
    main(sys.argv[1:])

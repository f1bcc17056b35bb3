# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The timeline of one perf_report in a process of its own: when each stage of the report's own process starts,
its wall and CPU time, its page faults, and the CPU of its second processes.

    .venv/bin/python bench/report_timeline.py CURRENT BASELINE DEST

CURRENT and BASELINE are results files (``bench_perf_report.make_doc``'s, as ``check_report_bytes.py write``
leaves them under its inputs folder). Times are from the process's start (/proc/self/stat), so the first line
is the interpreter's start and the second the report's imports. Set ``O2EDGE_PERF_REPORT_PROCESSES=1`` for the
same report in one process.
"""
from __future__ import annotations

import os
import resource
import sys
import time


def _process_age():
    with open("/proc/self/stat") as handle:
        start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as handle:
        uptime = float(handle.read().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


P0 = time.perf_counter() - _process_age()
T_IMPORT = time.perf_counter()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build", "bench"))
from ansible_collections.o2edge.perf.plugins.plugin_utils import (  # noqa: E402  # pylint: disable=wrong-import-position
    _comparisons, _fast_stats, _report, _report_parallel, _slo)

LOG = [("interpreter start", T_IMPORT - P0, 0.0, None), ("imports", T_IMPORT - P0, time.perf_counter() - T_IMPORT, None)]
STAGES = [(_report, "load_documents"), (_slo, "evaluate"), (_report, "build"), (_comparisons, "plan"),
          (_comparisons, "sequential_many"), (_fast_stats, "numpy_module"), (_report_parallel, "start"),
          (_report_parallel.Worker, "result"), (_report, "results_json"), (_report_parallel, "rendered"),
          (_report, "write_run"), (_report, "update_index")]


def _wrap(owner, name):
    func = getattr(owner, name)

    def timed(*args, **kwargs):
        t0, c0, r0 = time.perf_counter(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
        try:
            return func(*args, **kwargs)
        finally:
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            LOG.append((name, t0 - P0, time.perf_counter() - t0,
                        (time.process_time() - c0, r1.ru_minflt - r0.ru_minflt, r1.ru_stime - r0.ru_stime)))
    setattr(owner, name, timed)


def main(paths):
    if len(paths) != 3:
        sys.exit("usage: report_timeline.py CURRENT BASELINE DEST")
    for owner, name in STAGES:
        _wrap(owner, name)
    t0 = time.perf_counter()
    _report.generate({"results": [paths[0]], "baseline": [paths[1]], "dest": paths[2], "title": "bench"}, {},
                     "2026-11-28T15:00:00.000Z")
    LOG.append(("generate (whole)", t0 - P0, time.perf_counter() - t0, None))
    LOG.append(("end of generate", time.perf_counter() - P0, 0.0, None))
    children = os.times()
    print("second processes' CPU: %.3f s" % (children.children_user + children.children_system))
    for name, at, took, extra in sorted(LOG, key=lambda e: e[1]):
        more = "" if extra is None else "  CPU %.3f s, %d page faults, system %.3f s" % extra
        print("%-22s at %.3f s  took %.3f s%s" % (name, at, took, more))


if __name__ == "__main__":
    main(sys.argv[1:])

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark ``_slo.evaluate`` of the shipped objectives over a 10,000-record results document.

    .venv/bin/python bench/bench_slo.py [--records 10000] [--rounds 7] [--json out.json]

Decides whether the hand-written JMESPath compiler (``_slo_select._jp_compile``) earns its place.
Side by side in one process, in an order swapped every round, timed with time.perf_counter:

1. ``evaluate, compiled``: the whole ``evaluate()`` as perf_report calls it (selections through
   the compiled functions where they cover the expression);
2. ``evaluate, jmespath``: the same with ``compiled=False`` (jmespath's interpreter for every
   selection);
3. ``selections only, jmespath``: ``jmespath.search`` of the four selections, nothing else.

Prints the medians, the ratio jmespath / compiled, and the share of (2) spent in jmespath (3 / 2):
when that share is most of ``evaluate()``, jmespath is the bottleneck and the compiler stays.
The verdicts of (1) and (2) must be equal (checked each round).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# bench_perf_report builds the results document; bench_kpt_render makes the collection importable
from bench_perf_report import make_doc  # noqa: E402

import jmespath  # noqa: E402

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json")
    args = parser.parse_args()
    doc = make_doc(args.records, 1, "bench")
    objectives = _slo.default_objectives()
    selects = [o["select"] for o in objectives]
    scenarios = [
        ("evaluate, compiled", lambda: _slo.evaluate(objectives, doc)),
        ("evaluate, jmespath", lambda: _slo.evaluate(objectives, doc, compiled=False)),
        ("selections only, jmespath", lambda: [jmespath.search(s, doc) for s in selects]),
    ]
    times = dict((name, []) for name, dummy in scenarios)
    for rnd in range(args.rounds):
        outcomes = {}
        for name, func in scenarios[rnd % 3:] + scenarios[:rnd % 3]:
            t0 = time.perf_counter()
            outcomes[name] = func()
            times[name].append(time.perf_counter() - t0)
        if outcomes["evaluate, compiled"] != outcomes["evaluate, jmespath"]:
            raise SystemExit("the compiled selections and jmespath disagree")
    med = dict((name, statistics.median(values)) for name, values in times.items())
    out = {
        "records": args.records, "probes": len(doc["probes"]), "objectives": len(objectives), "rounds": args.rounds,
        "python": platform.python_version(), "jmespath": jmespath.__version__, "cpus": os.cpu_count(),
        "median_s": dict((name, round(value, 4)) for name, value in med.items()),
        "runs_s": dict((name, [round(x, 4) for x in values]) for name, values in times.items()),
        "ratio_jmespath_to_compiled": round(med["evaluate, jmespath"] / med["evaluate, compiled"], 2),
        "jmespath_share_of_evaluate": round(med["selections only, jmespath"] / med["evaluate, jmespath"], 2),
    }
    text = json.dumps(out, indent=1)
    if args.json:
        with open(args.json, "w") as handle:
            handle.write(text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()

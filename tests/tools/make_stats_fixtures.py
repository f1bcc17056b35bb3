# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the SciPy reference figures the comparison tests check _compare against.

SciPy is used here only, once, from a throwaway venv; it is neither a runtime nor a test
dependency (the JSON it writes is committed):

    python3 -m venv .build/scipy-venv
    .build/scipy-venv/bin/pip install scipy==1.17.1
    .build/scipy-venv/bin/python tests/tools/make_stats_fixtures.py

Writes tests/unit/plugins/plugin_utils/fixtures_stats/mannwhitneyu.json: for many sample pairs
(ties and none, small and large, unequal sizes, identical samples, big shifts), the U statistic
of the first sample and the two-sided p-value of ``method='auto'``, and of ``exact`` (when no
value ties) and ``asymptotic``.
"""
from __future__ import annotations

import json
import os
import random

import numpy
import scipy
from scipy.stats import mannwhitneyu

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "unit", "plugins", "plugin_utils", "fixtures_stats", "mannwhitneyu.json")


def cases():
    rng = random.Random(20261128)
    out = []

    def add(kind, x, y):
        out.append((kind, [float(v) for v in x], [float(v) for v in y]))

    # small, no ties (exact under auto): every size pair up to 8, and 8 against up to 20
    for n1 in range(1, 9):
        for n2 in range(1, 9):
            pool = rng.sample(range(1, 100000), n1 + n2)
            shift = rng.choice([0, 0, 5000, 20000])
            add("small-distinct", [v / 1e4 for v in pool[:n1]], [(v + shift) / 1e4 for v in pool[n1:]])
    for n1, n2 in ((6, 9), (7, 12), (8, 20), (3, 20), (20, 8), (9, 9), (12, 15), (20, 20)):
        pool = rng.sample(range(1, 100000), n1 + n2)
        add("distinct", [v / 1e4 for v in pool[:n1]], [(v + rng.choice([0, 30000])) / 1e4 for v in pool[n1:]])
    # one small side against a large one (exact, long distribution)
    for n1, n2 in ((6, 200), (8, 400), (2, 1000)):
        pool = rng.sample(range(1, 10 ** 7), n1 + n2)
        add("exact-long", [v / 1e6 for v in pool[:n1]], [v / 1e6 for v in pool[n1:]])
    # ties (asymptotic under auto), small and large
    for n1, n2 in ((3, 4), (6, 6), (6, 8), (8, 8), (10, 12), (30, 25), (100, 80), (500, 500)):
        add("ties", [rng.randint(1, 6) for dummy in range(n1)], [rng.randint(2, 7) for dummy in range(n2)])
    # timings rounded like records: few ties, large samples
    for n1, n2, factor in ((50, 50, 1.0), (50, 60, 0.97), (200, 180, 0.9), (1000, 1000, 1.02), (2000, 3000, 1.0)):
        add("timings", [round(rng.lognormvariate(-1.5, 0.1), 4) for dummy in range(n1)],
            [round(factor * rng.lognormvariate(-1.5, 0.1), 4) for dummy in range(n2)])
    # large, no ties, strong shift (tiny p)
    pool = rng.sample(range(1, 10 ** 6), 120)
    add("shifted", sorted(pool)[:60], sorted(pool)[60:])
    # identical samples, all equal values, one value each, complete separation
    data = [rng.random() for dummy in range(10)]
    add("identical", data, list(data))
    add("all-equal", [0.25] * 7, [0.25] * 9)
    add("one-each", [1.0], [2.0])
    add("separated-small", [1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
    add("separated-large", list(range(1, 31)), list(range(31, 61)))
    return out


def main():
    results = []
    for kind, x, y in cases():
        auto = mannwhitneyu(x, y, alternative="two-sided", method="auto")
        asym = mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        ties = len(set(x + y)) < len(x) + len(y)
        exact = None if ties else mannwhitneyu(x, y, alternative="two-sided", method="exact")
        results.append({
            "kind": kind, "x": x, "y": y, "ties": ties,
            "u": float(auto.statistic), "p_auto": float(auto.pvalue),
            "p_asymptotic": float(asym.pvalue), "p_exact": None if exact is None else float(exact.pvalue),
        })
    doc = {"generator": "tests/tools/make_stats_fixtures.py", "scipy": scipy.__version__,
           "numpy": numpy.__version__, "function": "scipy.stats.mannwhitneyu(x, y, alternative='two-sided')",
           "cases": results}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(doc, handle, indent=None, separators=(",", ":"))
        handle.write("\n")
    os.replace(tmp, OUT)
    print("%d cases written to %s (scipy %s)" % (len(results), OUT, scipy.__version__))


if __name__ == "__main__":
    main()

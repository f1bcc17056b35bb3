# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/bench_scale.py's verdict on goal 3 and the control beside it, on made-up sweep figures: the verdict is
computed from the figures (never met by a constant), and the report's time in units of the control is taken
round by round (a control of another round must not be paired with it)."""
from __future__ import annotations

import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location(
    "bench_scale", os.path.join(HERE, "..", "..", "..", "bench", "bench_scale.py"))
bench_scale = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench_scale)


def sweep(baseline_runs, control_runs=None):
    def row(runs):
        ordered = sorted(runs)
        return {"process_median_s": ordered[len(ordered) // 2], "process_runs_s": list(runs)}
    table = {"no baseline": row([0.5, 0.5, 0.5]), "baseline": row(baseline_runs)}
    if control_runs is not None:
        table["control: calibration loop (2000000 steps)"] = row(control_runs)
    return {"sweep": {"10000": table}}


def test_goal_met_only_under_the_bound():
    # Bug caught: a verdict that is a constant, or judged on another scenario than the baseline's.
    assert bench_scale.judge_report(sweep([0.95, 0.97, 0.99]))[0] is True
    assert bench_scale.judge_report(sweep([0.95, 1.0, 1.2]))[0] is False
    assert bench_scale.judge_report({"sweep": {"1000": {"baseline": {"process_median_s": 0.1,
                                                                     "process_runs_s": [0.1]}}}})[0] is False


def test_ratio_to_the_control_is_round_by_round():
    # Rounds: (1.2 / 0.3 = 4), (1.0 / 0.5 = 2), (2.0 / 0.4 = 5): median 4. The ratio of the medians
    # (1.2 / 0.4 = 3) or a pairing of other rounds would give another figure.
    met, lines, figures = bench_scale.judge_report(sweep([1.2, 1.0, 2.0], [0.3, 0.5, 0.4]))
    assert met is False
    assert figures["baseline_per_control"] == pytest.approx(4.0)
    assert figures["control_median_s"] == pytest.approx(0.4)
    assert figures["median_10000_baseline_s"] == pytest.approx(1.2)
    assert any("4.000 times the control" in line for line in lines)
    assert any(line.startswith("| 10000 | control:") for line in lines)


def test_no_control_no_ratio():
    # An older sweep's figures (no control) are still judged, without a made-up ratio.
    met, lines, figures = bench_scale.judge_report(sweep([0.9, 0.9, 0.9]))
    assert met is True and figures["control_median_s"] is None and "baseline_per_control" not in figures
    assert not any("times the control" in line for line in lines)

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the mutmut survivors of _compare.py (issue 15 §7, third round; docs/mutation.md).

Each test is named for the bug it catches; the survivors argued equivalent are listed in docs/mutation.md.
"""
from __future__ import annotations

import json
import math
import os
import random
import warnings

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp
from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats
from ansible_collections.o2edge.perf.plugins.module_utils._stats import percentile

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_stats", "mannwhitneyu.json")

# six samples a side, clearly apart: the exact U test gives p = 2/924, the change is +100%
BEFORE6 = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
AFTER6 = [2.0, 2.1, 2.2, 2.3, 2.4, 2.5]


def _noisy(center, n, seed, spread=0.02):
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for dummy in range(n)]


def _refused(message, call, *args, **kwargs):
    """``call`` raises CompareError with exactly ``message``."""
    with pytest.raises(cmp.CompareError) as info:
        call(*args, **kwargs)
    assert str(info.value) == message


@pytest.fixture
def fresh_plans(monkeypatch):
    """Empty plan and index caches: the first comparison of a plan takes every cell, later ones the pruned cells."""
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    monkeypatch.setattr(cmp, "_INDEX_CACHE", {})


# --------------------------------------------------------------------------- constants

def test_verdicts_are_the_four_documented_ones_and_compare_gives_only_those():
    assert cmp.VERDICTS == ("faster", "slower", "no clear change", "not enough samples")
    given = {cmp.compare(BEFORE6, AFTER6)["verdict"], cmp.compare(AFTER6, BEFORE6)["verdict"],
             cmp.compare(BEFORE6, BEFORE6)["verdict"], cmp.compare(BEFORE6[:2], AFTER6)["verdict"]}
    assert given == set(cmp.VERDICTS)


@pytest.mark.parametrize("unit", ["MB/s", "MiB/s", "GB/s", "KB/s", "B/s", "bytes/s", "ops/s", "req/s", "1/s", "Hz"])
def test_every_throughput_unit_is_higher_is_better_not_a_cost(unit):
    assert cmp.higher_is_better(unit)
    # so a larger after figure is faster in that unit, slower in seconds
    assert cmp.compare(BEFORE6, AFTER6, higher_is_better=cmp.higher_is_better(unit))["verdict"] == "faster"


def test_a_change_short_of_the_threshold_by_more_than_the_tolerance_is_not_called():
    before, after = _noisy(1.0, 30, 1), _noisy(0.8, 30, 2)
    change = abs(cmp.compare(before, after)["ratio"] - 1.0)
    assert cmp.compare(before, after, threshold=change + 0.5e-12)["verdict"] == "faster"  # within 1e-12: counted
    res = cmp.compare(before, after, threshold=change + 1.5e-12)
    assert res["verdict"] == "no clear change" and "threshold" in res["reason"]


# --------------------------------------------------------------------------- input messages

def test_input_refusals_name_the_side_and_index_in_full():
    _refused("before must be a list of numbers, got str", cmp.compare, "1.0", [1.0])
    _refused("x[1] is None, not a number", cmp.mann_whitney_u, [1.0, None], [1.0])
    _refused("y[0] is inf, not a finite number", cmp.mann_whitney_u, [1.0], [float("inf")])
    _refused("before[1] is '2', not a number", cmp.bootstrap_ratio_ci, [1.0, "2"], [1.0])
    _refused("after[1] is nan, not a finite number", cmp.bootstrap_ratio_ci, [1.0], [1.0, float("nan")])


def test_u_test_refusals_in_full():
    _refused("the U test needs at least one sample on each side (got 0 and 2)", cmp.mann_whitney_u, [], [3, 4])
    _refused("the exact U distribution assumes no ties; use the asymptotic method",
             cmp.mann_whitney_u, [1, 2, 2], [3, 4], method="exact")
    _refused("method must be auto, exact or asymptotic, got 'permutation'", cmp.mann_whitney_u, [1, 2], [3, 4],
             method="permutation")


def test_bootstrap_refusals_in_full_with_the_smallest_before_sample():
    for before, after in (([1.0], []), ([], [1.0])):
        _refused("the bootstrap needs at least one sample on each side", cmp.bootstrap_ratio_ci, before, after)
    _refused("the ratio of medians needs every before sample > 0 (smallest 0.0)", cmp.bootstrap_ratio_ci,
             [2.0, 0.0, 1.0], [1.0])
    _refused("the interval of the ratio of medians is beyond the float range (a resampled ratio overflows)",
             cmp.bootstrap_ratio_ci, [1e-300] * 5, [1e300] * 5)


def test_weights_short_of_a_rank_are_an_internal_error_not_a_type_error():
    _refused("internal error: the weights do not reach rank 2", cmp._at_ranks, [1.0, 2.0], [1, 1], 0, 2)


# --------------------------------------------------------------------------- parameters

def test_parameter_bounds_are_inclusive_where_documented():
    assert cmp.compare(BEFORE6, AFTER6, threshold=0)["verdict"] == "slower"
    assert cmp.compare(BEFORE6[:2], AFTER6[:2], min_samples=2)["verdict"] == "no clear change"  # not "not enough samples"
    assert cmp.compare(BEFORE6, AFTER6, confidence=0.5)["verdict"] == "slower"
    assert cmp.compare(BEFORE6, AFTER6, resamples=100)["verdict"] == "slower"
    assert cmp.compare([], [], resamples=1000000)["verdict"] == "not enough samples"  # checked, nothing resampled


@pytest.mark.parametrize("kwargs,message", [
    ({"threshold": 1}, "threshold must be a number in [0, 1), got 1"),
    ({"threshold": "0.05"}, "threshold must be a number in [0, 1), got '0.05'"),
    ({"threshold": False}, "threshold must be a number in [0, 1), got False"),
    ({"min_samples": "6"}, "min_samples must be an integer >= 2, got '6'"),
    ({"min_samples": 6.0}, "min_samples must be an integer >= 2, got 6.0"),
    ({"confidence": "0.95"}, "confidence must be a number in [0.5, 1), got '0.95'"),
    ({"resamples": 1000001}, "resamples must be an integer between 100 and 1000000, got 1000001"),
])
def test_a_bad_parameter_is_refused_by_name_not_with_a_type_error(kwargs, message):
    _refused(message, cmp.compare, BEFORE6, AFTER6, **kwargs)


# --------------------------------------------------------------------------- U test

def test_compare_p_value_is_scipys_with_the_continuity_correction():
    with open(FIXTURES) as handle:
        cases = [c for c in json.load(handle)["cases"] if c["kind"] == "ties" and min(c["x"]) > 0]
    assert cases
    for case in cases:
        res = cmp.compare(case["x"], case["y"])
        assert res["method"] == "asymptotic"
        assert math.isclose(res["p_value"], case["p_auto"], rel_tol=1e-9), case


def test_asymptotic_p_without_continuity_correction_is_the_plain_normal_tail():
    x = [float(v) for v in range(1, 11)]
    y = [v + 3.5 for v in x]
    u = sum(1 for a in x for b in y if a > b)
    z = abs(u - 50.0) / math.sqrt(100 * 21 / 12.0)
    plain = cmp.mann_whitney_u(x, y, method="asymptotic", continuity=False)
    assert plain["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2.0)), rel=1e-12)
    corrected = cmp.mann_whitney_u(x, y, method="asymptotic")
    assert corrected["p_value"] == pytest.approx(math.erfc((z - 0.5 / math.sqrt(175.0)) / math.sqrt(2.0)), rel=1e-12)


def test_every_value_tied_is_p_1_with_or_without_continuity_correction():
    for continuity in (True, False):
        assert cmp.mann_whitney_u([2.0] * 3, [2.0] * 4, method="asymptotic", continuity=continuity)["p_value"] == 1.0


# --------------------------------------------------------------------------- bootstrap

class _EdgeRng:
    """A generator at the top of its ranges: a Beta draw of 1.0 and a uniform draw of 0.0 (both allowed)."""

    def __init__(self, beta):
        self.beta = beta

    def betavariate(self, alpha, beta):
        return self.beta

    def random(self):
        return 0.0


def test_a_draw_at_the_top_of_the_unit_interval_stays_inside_the_sample():
    assert cmp.resampled_median([1.0, 2.0, 3.0], _EdgeRng(1.0)) == 3.0
    assert cmp.resampled_median([1.0, 2.0, 3.0, 4.0], _EdgeRng(0.5)) == 3.5  # upper draw 0.5 + 0.5 * (1 - 0) = 1.0
    assert cmp.resampled_median([1.0, 2.0, 3.0, 4.0], _EdgeRng(1.0)) == 4.0


def test_the_largest_confidence_below_1_gives_the_extreme_resampled_ratios(fresh_plans):
    before, after = _noisy(1.0, 9, 41, 0.1), _noisy(0.9, 8, 42, 0.1)
    b, a = sorted(before), sorted(after)
    after_idx = zip(*cmp._median_indices(8, "after", 0, 2000))
    before_idx = zip(*cmp._median_indices(9, "before", 0, 2000))
    ratios = [(a[i] + a[j]) / (b[k] + b[m]) for (i, j), (k, m) in zip(after_idx, before_idx)]
    lo, hi = cmp.bootstrap_ratio_ci(before, after, confidence=math.nextafter(1.0, 0.0))
    assert hi == max(ratios)
    assert lo == pytest.approx(min(ratios), rel=1e-9)


def test_huge_after_samples_are_halved_not_summed_to_infinity():
    # the largest after value alone is huge (a[1] and a[-2] are small); every before value small
    lo, hi = cmp.bootstrap_ratio_ci([1.0] * 5, [1.0, 1.0, 1.0, 1.0, 1.7e308])
    assert (lo, hi) == (1.0, 1.7e308)


def test_huge_negative_after_samples_are_halved_not_summed_to_minus_infinity():
    lo, hi = cmp.bootstrap_ratio_ci([1.0] * 5, [-1.7e308, 1.0, 1.0, 1.0, 1.0])
    assert (lo, hi) == (-1.7e308, 1.0)


def test_a_huge_before_sample_is_halved_so_the_ratio_does_not_fall_to_zero():
    lo, hi = cmp.bootstrap_ratio_ci([1.0, 1.0, 1.0, 1.0, 1.7e308], [1.0] * 5)
    assert (lo, hi) == (1.0 / 1.7e308, 1.0) and lo > 0


def test_a_single_negative_after_sample_uses_every_cell(monkeypatch):
    # the pruning holds only when every after sample is >= 0: one negative (the smallest) is enough to break it
    monkeypatch.setattr(cmp, "PRUNE_AFTER", 1)
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    before = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
    after = [-0.9, 0.2, 0.1, 0.3, 0.25, 0.15]
    b, a = sorted(before), sorted(after)
    after_idx = zip(*cmp._median_indices(6, "after", 0, 2000))
    before_idx = zip(*cmp._median_indices(6, "before", 0, 2000))
    ratios = [(a[i] + a[j]) / (b[k] + b[m]) for (i, j), (k, m) in zip(after_idx, before_idx)]
    assert cmp.bootstrap_ratio_ci(before, after) == pytest.approx([percentile(ratios, 2.5), percentile(ratios, 97.5)], rel=1e-12)


# --------------------------------------------------------------------------- compare_many

def _jobs():
    rng = random.Random(5)
    jobs = [("not a list", [1.0], False, 0.05)]  # a bad job first: the ones after it are still compared
    jobs.append(([1.0], [2.0, 3.0], False, 0.05))  # one before sample
    jobs.append((BEFORE6, AFTER6, False, 0.05))  # six a side: enough with the default min_samples
    for dummy in range(3):
        jobs.append(([rng.uniform(1, 2) for dummy in range(7)], [rng.uniform(0.5, 2) for dummy in range(6)], False, 0.05))
    return jobs


def _one_by_one(jobs):
    out = []
    for before, after, higher, threshold in jobs:
        try:
            out.append(cmp.compare(before, after, higher, threshold))
        except cmp.CompareError as exc:
            out.append(str(exc))
    return out


def _many(jobs, **kwargs):
    return [str(item) if isinstance(item, cmp.CompareError) else item for item in cmp.compare_many(jobs, **kwargs)]


def test_compare_many_has_compares_defaults_and_keeps_going_after_a_bad_job():
    jobs = _jobs()
    got = _many(jobs)
    assert got == _one_by_one(jobs)
    assert got[0] == "before must be a list of numbers, got str"
    assert got[2]["verdict"] == "slower"


def test_compare_many_names_the_side_and_index_of_a_bad_sample():
    got = _many([([1.0, None], [1.0], False, 0.05), ([1.0], [True], False, 0.05)])
    assert got == ["before[1] is None, not a number", "after[0] is True, not a number"]


def test_compare_many_on_numpy_gives_compares_results(monkeypatch, fresh_plans):
    """Groups of 64 jobs of one size pair, ranked and resampled by NumPy, give what compare gives one by one:
    without ties (the exact U test) and with ties (the asymptotic one), a fresh plan pruned for the group; jobs
    with a before sample of 0 (no interval) are not resampled by NumPy at all (no division by zero, no warning)."""
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 0)
    rng = random.Random(9)
    jobs = []
    for number in range(_fast_stats.MIN_GROUP):
        shift = rng.choice([0.6, 1.0, 1.5])
        jobs.append(([rng.uniform(1, 2) for dummy in range(7)], [shift * rng.uniform(1, 2) for dummy in range(6)], False, 0.05))
        jobs.append(([float(rng.randint(1, 4)) for dummy in range(7)], [float(rng.randint(2, 5)) for dummy in range(6)],
                     False, 0.05))
        jobs.append(([0.0] + [rng.uniform(1, 2) for dummy in range(4)], [rng.uniform(0, 2) for dummy in range(5)], False, 0.05))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _many(jobs)
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    want = _one_by_one(jobs)
    assert got == want
    assert {r["method"] for r in got} == {"exact", "asymptotic"}

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_compare: tests for the last survivors of the recount (docs/mutation.md): the exact bounds of
compare_many's NumPy path (_FLOAT_SUM_MAX, PRUNE_MAX_RESAMPLES, _fast_stats.MAX_POOLED), the reasons
of an overflow and of a before sample <= 0, alpha's rounding and the threshold's inclusive bound.

At each bound of the NumPy path a job exactly at the bound and one just past it give compare's very
results, and the job at the bound is computed by NumPy while the one past it is not; each test is
named for the bug it catches.
"""
from __future__ import annotations

import math
import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp
from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats


@pytest.fixture
def numpy_groups(monkeypatch):
    """compare_many's NumPy path on small fixtures, recording the group sizes it resamples (``boot``) and ranks
    (``ranks``); fresh plan caches (skipped where NumPy is not installed)."""
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 0)  # these fixtures are smaller than a report worth NumPy
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    monkeypatch.setattr(cmp, "_INDEX_CACHE", {})
    seen = {"boot": [], "ranks": []}
    real_boot, real_ranks = _fast_stats.bootstrap_many, _fast_stats.rank_sum_lists

    def boot(befores, afters, pruned, ranks):
        seen["boot"].append(len(befores))
        return real_boot(befores, afters, pruned, ranks)

    def ranks(befores, afters):
        seen["ranks"].append((len(befores[0]), len(afters[0]), len(befores)))
        return real_ranks(befores, afters)
    monkeypatch.setattr(_fast_stats, "bootstrap_many", boot)
    monkeypatch.setattr(_fast_stats, "rank_sum_lists", ranks)
    return seen


def _one_by_one(jobs, **kwargs):
    return [cmp.compare(before, after, higher_is_better=higher, threshold=threshold, **kwargs)
            for before, after, higher, threshold in jobs]


def _plain(rng, n_before, n_after, count):
    """``count`` ordinary jobs: a shift of 0 to 50 % with 10 % noise."""
    out = []
    for dummy in range(count):
        shift = rng.choice([1.0, 1.5])
        out.append(([rng.uniform(0.9, 1.1) for dummy in range(n_before)],
                    [shift * rng.uniform(0.9, 1.1) for dummy in range(n_after)], False, 0.05))
    return out


# --------------------------------------------------------------------------- the NumPy path's bounds

def test_samples_exactly_at_the_float_sum_bound_are_resampled_by_numpy_and_one_past_it_are_not(numpy_groups):
    """Bugs: the bound on the after or the before samples made exclusive (a value of exactly _FLOAT_SUM_MAX,
    whose sums of two cannot overflow, sent to the pure path), or the path past the bound giving other figures."""
    bound = cmp._FLOAT_SUM_MAX
    past = math.nextafter(bound, math.inf)
    rng = random.Random(537)
    jobs = _plain(rng, 5, 5, _fast_stats.MIN_GROUP)
    edge = [([1.0, 1.1, 1.2, 1.3, 1.4], [1.0, 1.2, 1.4, 1.6, bound], False, 0.05),
            ([1.0, 1.1, 1.2, 1.3, bound], [1.0, 1.2, 1.4, 1.6, 1.8], False, 0.05),
            ([1.0, 1.1, 1.2, 1.3, 1.4], [1.0, 1.2, 1.4, 1.6, past], False, 0.05),
            ([1.0, 1.1, 1.2, 1.3, past], [1.0, 1.2, 1.4, 1.6, 1.8], False, 0.05)]
    jobs[10:10] = edge
    got = cmp.compare_many(jobs)
    # the 64 plain jobs and the two at the bound in one NumPy group; the two past it one by one
    assert numpy_groups["boot"] == [_fast_stats.MIN_GROUP + 2]
    cmp._PLAN_CACHE.clear()
    assert got == _one_by_one(jobs)
    assert all(r["ci"] is not None and all(map(math.isfinite, r["ci"])) for r in got[10:14])


def test_exactly_prune_max_resamples_takes_the_numpy_path_and_one_more_does_not(numpy_groups):
    """Bugs: the resamples bound made exclusive (20,000 resamples, whose plan is pruned, sent to the pure path),
    or either side of it giving other figures than compare."""
    rng = random.Random(549)
    jobs = _plain(rng, 3, 4, _fast_stats.MIN_GROUP)
    for resamples, groups in ((cmp.PRUNE_MAX_RESAMPLES, [_fast_stats.MIN_GROUP]), (cmp.PRUNE_MAX_RESAMPLES + 1, [])):
        numpy_groups["boot"][:] = []
        got = cmp.compare_many(jobs, resamples=resamples)
        assert numpy_groups["boot"] == groups
        cmp._PLAN_CACHE.clear()
        assert got == _one_by_one(jobs, resamples=resamples)


def test_rank_sums_by_numpy_for_at_most_max_pooled_samples_and_only_with_both_sides(numpy_groups):
    """Bugs: the pooled bound made exclusive (32 + 32 = 64 samples not ranked at once), the two sizes subtracted
    instead of added (33 + 32 ranked at once), or a group without before samples sent to NumPy for ranking."""
    assert _fast_stats.MAX_POOLED == 64
    rng = random.Random(571)
    jobs = _plain(rng, 32, 32, _fast_stats.MIN_GROUP) + _plain(rng, 33, 32, _fast_stats.MIN_GROUP)
    jobs += [([], [1.0, 2.0, 3.0], False, 0.05) for dummy in range(_fast_stats.MIN_GROUP)]
    rng.shuffle(jobs)
    got = cmp.compare_many(jobs, resamples=200)
    assert numpy_groups["ranks"] == [(32, 32, _fast_stats.MIN_GROUP)]
    cmp._PLAN_CACHE.clear()
    assert got == _one_by_one(jobs, resamples=200)
    assert sum(r["verdict"] == "not enough samples" for r in got) == _fast_stats.MIN_GROUP


# --------------------------------------------------------------------------- reasons

def test_a_ratio_of_medians_beyond_the_float_range_is_named_with_both_medians():
    """Bugs: the overflow of the ratio of medians left unnamed (the result then reads as if the interval overflowed)
    or its words changed."""
    res = cmp.compare([1e-300] * 6, [1e300] * 6)
    assert res["verdict"] == "no clear change"
    assert res["ratio"] is None and res["ci"] is None and res["change_pct"] is None
    assert res["reason"] == "No change can be called: the ratio of medians (1e+300 / 1e-300) is beyond the float range."


def test_an_interval_beyond_the_float_range_is_named_not_read_as_a_before_sample_below_0():
    """Bug: the bootstrap's overflow dropped, so the reason blames non-positive before samples (smallest 1e-300 > 0).
    The medians 1 and 1e300 have a finite ratio; resamples whose before median is 1e-300 overflow."""
    res = cmp.compare([1e-300] * 3 + [1.0] * 4, [1e300] * 7)
    assert res["verdict"] == "no clear change"
    assert res["ratio"] is None and res["ci"] is None and res["change_pct"] is None
    assert res["reason"] == ("No change can be called: the interval of the ratio of medians is beyond the float range "
                             "(a resampled ratio overflows).")


def test_a_before_sample_of_0_is_named_in_full():
    """Bug: the words of the reason for a before sample <= 0 changed."""
    res = cmp.compare([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert res["verdict"] == "no clear change" and res["ratio"] == 1.4 and res["ci"] is None
    assert res["reason"] == "The ratio of medians needs positive before samples (smallest 0), so no change can be called."


# --------------------------------------------------------------------------- alpha and the threshold

def test_alpha_is_one_minus_confidence_rounded_to_12_decimals():
    """Pins alpha as _compare computes it, 1 - confidence rounded to 12 decimals (which drops the float noise of
    1 - 0.95): with 1 - confidence = 0.0005827505827 (to 13 decimals), alpha is 0.000582750583, above the exact
    p = 2/3432 of seven samples a side apart, so the change is called. Caught: alpha rounded to 13 decimals or more
    (a convention rather than a likely bug: the two differ only for a confidence given to 13 decimals)."""
    confidence = 0.9994172494173
    assert round(1.0 - confidence, 12) == 0.000582750583
    res = cmp.compare([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6], [2.0, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6], confidence=confidence)
    assert res["method"] == "exact" and res["p_value"] == 2 / 3432
    assert res["verdict"] == "slower"


def test_a_change_exactly_at_the_threshold_less_the_tolerance_is_called():
    """Bug: the threshold's bound made exclusive (a change of exactly threshold - THRESHOLD_EPSILON not called).
    Medians 2 and 3 give a ratio of exactly 1.5; the threshold 0.500000000001 less 1e-12 is exactly 0.5."""
    threshold = 0.5 + cmp.THRESHOLD_EPSILON
    assert threshold - cmp.THRESHOLD_EPSILON == 0.5
    before = [1.96, 1.97, 1.98, 1.99, 2.0, 2.01, 2.02, 2.03, 2.04]
    after = [2.96, 2.97, 2.98, 2.99, 3.0, 3.01, 3.02, 3.03, 3.04]
    res = cmp.compare(before, after, threshold=threshold)
    assert res["ratio"] == 1.5
    assert res["verdict"] == "slower"
    assert cmp.compare(before, after, threshold=math.nextafter(threshold, 1.0))["verdict"] == "no clear change"


# --------------------------------------------------------------------------- found surviving by the recount

def test_every_result_has_exactly_the_documented_fields():
    """Bug: a field of the initial result misnamed (the result then has an extra key beside the ``reason`` set later)."""
    fields = {"n_before", "n_after", "median_before", "median_after", "ratio", "ci", "change_pct", "u", "p_value",
              "method", "verdict", "reason"}
    for before, after in (([1.0], [2.0]), ([1e-300] * 6, [1e300] * 6), ([0.0] + [1.0] * 5, [1.0] * 6),
                          ([1.0] * 6, [1.0] * 6), ([1.0, 1.1, 1.2, 1.3, 1.4, 1.5], [2.0, 2.1, 2.2, 2.3, 2.4, 2.5])):
        assert set(cmp.compare(before, after)) == fields


def test_a_ratio_whose_change_in_percent_overflows_is_beyond_the_float_range_and_one_just_below_is_kept():
    """Bugs: the change in percent not checked (divided by 100, or the check read as ``or``), so a finite ratio of
    1.8e306 gives a change of +inf %; or checked against 101 times the ratio, so 1.79e306 (x 100 = 1.79e308, finite)
    is refused."""
    before = [0.96, 0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.03, 1.04]
    res = cmp.compare(before, [1.8e306 * v for v in before])
    assert res["ratio"] is None and res["change_pct"] is None and res["ci"] is None
    assert res["reason"] == "No change can be called: the ratio of medians (1.8e+306 / 1) is beyond the float range."
    kept = cmp.compare(before, [1.79e306 * v for v in before])
    assert kept["ratio"] == 1.79e306 and kept["change_pct"] == (1.79e306 - 1.0) * 100.0
    assert math.isfinite(kept["change_pct"]) and kept["verdict"] == "slower"


def test_every_changed_version_is_named_comma_separated():
    """Bug: the changed tools joined with another separator."""
    assert cmp.comparable({"host": "ctl", "versions": {"git": "1", "kpt": "1", "python": "3"}},
                          {"host": "ctl", "versions": {"git": "2", "kpt": "2", "python": "3"}}) == (
        False, "versions differ: git 1 -> 2, kpt 1 -> 2")


def test_an_interval_ending_exactly_at_1_does_not_exclude_1():
    """Bugs: ``lo >= 1.0`` for ``lo > 1.0`` (a rise) or ``hi <= 1.0`` for ``hi < 1.0`` (a fall), so an interval
    ending exactly at 1 is read as excluding it. Nine before samples of 1.0 against three of 1.0 and six of 1.2:
    the resampled after median is 1.0 in about 15 % of the resamples, so the interval is exactly [1, 1.2] while
    the U test is significant and the change is 20 %: the interval alone fails."""
    ones, mixed = [1.0] * 9, [1.0] * 3 + [1.2] * 6
    rise = cmp.compare(ones, mixed)
    assert rise["ci"] == [1.0, 1.2] and rise["p_value"] < 0.05 and rise["ratio"] == 1.2
    assert rise["verdict"] == "no clear change"
    assert rise["reason"] == "No clear change: the 95% interval of the ratio [1, 1.2] does not exclude 1 on the side of the change."
    fall = cmp.compare(mixed, ones)
    assert fall["ci"] == [1.0 / 1.2, 1.0] and fall["p_value"] < 0.05
    assert fall["verdict"] == "no clear change"
    assert fall["reason"] == ("No clear change: the 95% interval of the ratio [0.8333, 1] does not exclude 1 on the "
                              "side of the change.")

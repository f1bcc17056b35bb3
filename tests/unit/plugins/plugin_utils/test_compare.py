# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import collections
import itertools
import json
import math
import os
import random
import statistics

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp
from ansible_collections.o2edge.perf.plugins.module_utils._stats import percentile

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_stats", "mannwhitneyu.json")


def _load_cases():
    with open(FIXTURES) as handle:
        return json.load(handle)


SCIPY = _load_cases()
CASES = SCIPY["cases"]


def _close(mine, ref):
    return math.isclose(mine, ref, rel_tol=1e-9, abs_tol=1e-300)


# --------------------------------------------------------------------------- U test against SciPy

def test_fixtures_cover_every_path():
    assert SCIPY["scipy"] == "1.17.1"
    kinds = collections.Counter(c["kind"] for c in CASES)
    assert len(CASES) >= 90
    assert kinds["ties"] >= 5 and kinds["small-distinct"] == 64 and kinds["identical"] == 1
    assert any(c["ties"] for c in CASES) and any(c["p_exact"] is not None for c in CASES)
    assert any(c["p_auto"] < 1e-10 for c in CASES) and any(c["p_auto"] == 1.0 for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=["%s-%d-%d-%d" % (c["kind"], len(c["x"]), len(c["y"]), i) for i, c in enumerate(CASES)])
def test_matches_scipy_auto_exact_and_asymptotic(case):
    auto = cmp.mann_whitney_u(case["x"], case["y"])
    assert _close(auto["u"], case["u"])
    assert _close(auto["p_value"], case["p_auto"]), (auto, case["p_auto"])
    asym = cmp.mann_whitney_u(case["x"], case["y"], method="asymptotic")
    assert _close(asym["p_value"], case["p_asymptotic"])
    if case["p_exact"] is not None:
        exact = cmp.mann_whitney_u(case["x"], case["y"], method="exact")
        assert _close(exact["p_value"], case["p_exact"])
    # SciPy's auto: exact when a side has at most 8 samples and no pooled value ties
    small = min(len(case["x"]), len(case["y"])) <= 8
    assert auto["method"] == ("exact" if small and not case["ties"] else "asymptotic")


def test_exact_and_asymptotic_differ_where_auto_chooses():
    # a case where the choice matters: the p-values of the two methods are far apart
    case = next(c for c in CASES if c["kind"] == "separated-small")
    assert cmp.mann_whitney_u(case["x"], case["y"])["p_value"] == pytest.approx(2.0 / 924, rel=1e-12)
    assert cmp.mann_whitney_u(case["x"], case["y"], method="asymptotic")["p_value"] > 0.003


def test_u_counts_match_enumeration():
    for m, n in ((1, 1), (2, 3), (3, 3), (4, 2), (3, 5)):
        brute = collections.Counter()
        for xs in itertools.combinations(range(m + n), m):
            ys = [v for v in range(m + n) if v not in xs]
            brute[sum(1 for a in xs for b in ys if a > b)] += 1
        counts = cmp.u_counts(m, n, m * n)
        assert counts == [brute[u] for u in range(m * n + 1)]
        assert sum(counts) == math.comb(m + n, m)
    assert cmp.u_counts(8, 40, 5) == cmp.u_counts(8, 40, 320)[:6]


def test_u_test_refusals():
    with pytest.raises(cmp.CompareError, match="no ties"):
        cmp.mann_whitney_u([1, 2, 2], [3, 4], method="exact")
    with pytest.raises(cmp.CompareError, match="method must be"):
        cmp.mann_whitney_u([1, 2], [3, 4], method="permutation")
    with pytest.raises(cmp.CompareError, match="at least one sample"):
        cmp.mann_whitney_u([], [3, 4])


# --------------------------------------------------------------------------- bootstrap

def _exact_resample_median_distribution(values):
    """Every one of the n^n equally likely resamples, tallied by median."""
    n = len(values)
    dist = collections.Counter()
    for idx in itertools.product(range(n), repeat=n):
        dist[statistics.median(values[i] for i in idx)] += 1
    total = float(n ** n)
    return dict((k, v / total) for k, v in dist.items())


@pytest.mark.parametrize("values", [[1.0, 2.0, 4.0], [1.0, 2.0, 4.0, 8.0], [1.0, 10.0], [1.0, 2.0, 3.0, 5.0, 7.0]])
def test_resampled_median_has_the_bootstrap_distribution(values):
    exact = _exact_resample_median_distribution(values)
    rng = random.Random(7)
    draws = 60000
    seen = collections.Counter(cmp.resampled_median(values, rng) for dummy in range(draws))
    assert set(seen) <= set(exact)
    for median_value, probability in exact.items():
        assert abs(seen[median_value] / float(draws) - probability) < 0.01, (median_value, probability)


def test_bootstrap_interval_agrees_with_textbook_resampling():
    rng = random.Random(3)
    before = [rng.lognormvariate(0, 0.2) for dummy in range(41)]
    after = [0.9 * rng.lognormvariate(0, 0.2) for dummy in range(40)]
    textbook = random.Random(11)
    ratios = sorted(statistics.median(textbook.choices(after, k=len(after)))
                    / statistics.median(textbook.choices(before, k=len(before))) for dummy in range(4000))
    lo, hi = cmp.bootstrap_ratio_ci(before, after, resamples=4000, seed=5)
    assert lo == pytest.approx(ratios[100], rel=0.02)
    assert hi == pytest.approx(ratios[3899], rel=0.02)
    assert lo < statistics.median(after) / statistics.median(before) < hi


def test_bootstrap_is_seeded():
    before, after = _noisy(1.0, 30, 21, 0.1), _noisy(0.9, 30, 22, 0.1)
    first = cmp.bootstrap_ratio_ci(before, after, seed=1)
    assert first == cmp.bootstrap_ratio_ci(before, after, seed=1)
    assert first != cmp.bootstrap_ratio_ci(before, after, seed=2)
    assert cmp.compare(before, after)["ci"] == cmp.bootstrap_ratio_ci(before, after, seed=0)


@pytest.fixture
def prune_at_once(monkeypatch):
    """Prune every plan from its first comparison (a report prunes a plan at its PRUNE_AFTER-th)."""
    monkeypatch.setattr(cmp, "PRUNE_AFTER", 1)
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})


@pytest.mark.parametrize("n_before,n_after,pruned", [(9, 8, True), (3, 4, True), (10, 10, True), (160, 150, True)])
def test_interval_is_the_type7_percentile_of_the_resampled_ratios(n_before, n_after, pruned, prune_at_once):
    before, after = _noisy(1.0, n_before, 31, 0.1), _noisy(0.9, n_after, 32, 0.1)
    b, a = sorted(before), sorted(after)
    after_idx = zip(*cmp._median_indices(n_after, "after", 0, 2000))
    before_idx = zip(*cmp._median_indices(n_before, "before", 0, 2000))
    ratios = [(a[i] + a[j]) / (b[k] + b[m]) for (i, j), (k, m) in zip(after_idx, before_idx)]
    assert len(ratios) == 2000
    for confidence in (0.95, 0.5, 0.9):
        tail = (1 - confidence) / 2 * 100
        lo, hi = cmp.bootstrap_ratio_ci(before, after, confidence=confidence)
        # the same floats as the type 7 percentile of all 2000 ratios, not merely close
        assert lo == percentile(ratios, tail)
        assert hi == percentile(ratios, 100 - tail)
        (dummy, low, high), (dummy, cells) = cmp._resample_plan(n_after, n_before, 0, 2000, confidence)
        # each end looks at fewer cells than there are (the pruning works), all cells' weights are the 2000 resamples
        assert sum(cells[2]) == 2000
        assert (len(low[2]) < len(cells[2]) and len(high[2]) < len(cells[2])) == pruned


def test_plan_is_pruned_at_its_prune_after_th_comparison(monkeypatch):
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    for use in range(1, cmp.PRUNE_AFTER + 1):
        pruned, everything = cmp._resample_plan(7, 6, 0, 2000, 0.95)
        assert (pruned is not None) == (use == cmp.PRUNE_AFTER)
    assert cmp._resample_plan(7, 6, 0, 2000, 0.95)[0] is pruned
    assert cmp._resample_plan(7, 6, 0, 2000, 0.9)[0] is None  # another confidence: another plan
    # above PRUNE_MAX_RESAMPLES every cell is used whatever the number of comparisons
    monkeypatch.setattr(cmp, "PRUNE_MAX_RESAMPLES", 1000)
    for dummy in range(cmp.PRUNE_AFTER + 1):
        assert cmp._resample_plan(7, 6, 0, 2000, 0.99)[0] is None


def test_pruned_interval_equals_the_full_one_on_many_inputs(prune_at_once):
    rng = random.Random(17)
    for trial in range(300):
        nb, na = rng.choice([2, 5, 6, 8, 10, 12, 25]), rng.choice([2, 3, 7, 10, 11, 30])
        spread = rng.choice([0.01, 0.3])
        before = [rng.choice([1.0, 1.0 + spread, 1.0 - spread, rng.uniform(0.5, 1.5)]) for dummy in range(nb)]
        after = [rng.choice([1.0, rng.uniform(0.2, 2.0)]) * rng.choice([0.8, 1.0]) for dummy in range(na)]
        confidence, resamples = rng.choice([0.95, 0.9, 0.99]), rng.choice([200, 2000])
        b, a = sorted(before), sorted(after)
        after_idx = zip(*cmp._median_indices(na, "after", 0, resamples))
        before_idx = zip(*cmp._median_indices(nb, "before", 0, resamples))
        ratios = [(a[i] + a[j]) / (b[k] + b[m]) for (i, j), (k, m) in zip(after_idx, before_idx)]
        tail = (1 - confidence) / 2 * 100
        got = cmp.bootstrap_ratio_ci(before, after, confidence=confidence, resamples=resamples)
        assert got == [percentile(ratios, tail), percentile(ratios, 100 - tail)], (trial, before, after)


def test_negative_after_samples_use_every_cell(prune_at_once):
    # a negative numerator breaks the order the pruning relies on: every cell is then used
    before = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01, 0.99, 1.0]
    after = [-0.5, 0.2, -0.1, 0.3, 0.1, -0.2, 0.25, 0.05, -0.3, 0.15]
    b, a = sorted(before), sorted(after)
    after_idx = zip(*cmp._median_indices(10, "after", 0, 2000))
    before_idx = zip(*cmp._median_indices(10, "before", 0, 2000))
    ratios = [(a[i] + a[j]) / (b[k] + b[m]) for (i, j), (k, m) in zip(after_idx, before_idx)]
    assert cmp.bootstrap_ratio_ci(before, after) == [percentile(ratios, 2.5), percentile(ratios, 97.5)]


def test_weighted_ranks_equal_the_expanded_ones():
    values, weights = [7.5, 1.0, 3.0, 2.0], [3, 2, 1, 2]
    expanded = sorted(v for v, count in zip(values, weights) for dummy in range(count))
    for first in range(len(expanded)):
        for second in range(first, len(expanded)):
            assert cmp._at_ranks(values, weights, first, second) == (expanded[first], expanded[second])
            top = len(expanded) - 1
            descending = (expanded[top - first], expanded[top - second])
            assert cmp._at_ranks(values, weights, first, second, reverse=True) == descending


def test_bootstrap_refuses_non_positive_before():
    with pytest.raises(cmp.CompareError, match="before sample > 0"):
        cmp.bootstrap_ratio_ci([0.0, 1.0], [1.0, 2.0])


# --------------------------------------------------------------------------- verdicts

def _noisy(center, n, seed, spread=0.02):
    rng = random.Random(seed)
    return [center * (1 + rng.uniform(-spread, spread)) for dummy in range(n)]


def test_faster_and_slower():
    before, after = _noisy(1.0, 30, 1), _noisy(0.8, 30, 2)
    res = cmp.compare(before, after)
    assert res["verdict"] == "faster"
    assert res["ratio"] == pytest.approx(statistics.median(after) / statistics.median(before))
    assert res["change_pct"] == pytest.approx((res["ratio"] - 1) * 100)
    assert res["ci"][0] < res["ratio"] < res["ci"][1] < 1
    assert res["p_value"] < 0.05 and res["method"] == "asymptotic"
    assert res["median_before"] == statistics.median(before) and res["n_after"] == 30
    assert res["reason"].startswith("Faster: median")
    assert cmp.compare(after, before)["verdict"] == "slower"


def test_higher_is_better_flips_the_direction():
    before, after = _noisy(100.0, 20, 3), _noisy(130.0, 20, 4)
    assert cmp.compare(before, after)["verdict"] == "slower"
    assert cmp.compare(before, after, higher_is_better=True)["verdict"] == "faster"
    assert cmp.compare(after, before, higher_is_better=True)["verdict"] == "slower"
    assert cmp.higher_is_better("MB/s") and not cmp.higher_is_better("s")


def test_same_distribution_is_no_clear_change():
    res = cmp.compare(_noisy(1.0, 40, 5), _noisy(1.0, 40, 6))
    assert res["verdict"] == "no clear change"
    assert "not significant" in res["reason"] and "does not exclude 1" in res["reason"]


def test_small_but_significant_change_is_below_threshold():
    before, after = _noisy(1.0, 200, 7, 0.002), _noisy(0.98, 200, 8, 0.002)
    res = cmp.compare(before, after)
    assert res["p_value"] < 1e-10 and res["ci"][1] < 1
    assert res["verdict"] == "no clear change"
    assert "below the 5% threshold" in res["reason"]
    assert cmp.compare(before, after, threshold=0.01)["verdict"] == "faster"


def test_threshold_boundary_counts_an_exact_five_percent():
    before = [1.0, 0.99, 1.01, 1.0, 0.98, 1.02, 1.0]
    after = [v * 0.95 for v in before]
    res = cmp.compare(before, after)
    assert res["ratio"] == pytest.approx(0.95)
    assert res["verdict"] == "faster", res["reason"]
    assert cmp.compare(before, after, threshold=0.06)["verdict"] == "no clear change"


def test_each_criterion_is_required(monkeypatch):
    before, after = _noisy(1.0, 30, 9), _noisy(0.7, 30, 10)
    assert cmp.compare(before, after)["verdict"] == "faster"
    real_u = cmp._u_figures
    monkeypatch.setattr(cmp, "_u_figures", lambda *args: real_u(*args)[:1] + (0.2,) + real_u(*args)[2:])
    res = cmp.compare(before, after)
    assert res["verdict"] == "no clear change" and "p = 0.2" in res["reason"]
    monkeypatch.setattr(cmp, "_u_figures", lambda *args: real_u(*args)[:1] + (0.05,) + real_u(*args)[2:])
    assert cmp.compare(before, after)["verdict"] == "no clear change"  # p must be strictly below 0.05
    monkeypatch.setattr(cmp, "_u_figures", real_u)
    monkeypatch.setattr(cmp, "_bootstrap", lambda *a: [0.6, 1.01])
    res = cmp.compare(before, after)
    assert res["verdict"] == "no clear change" and "does not exclude 1" in res["reason"]
    # an interval excluding 1 on the wrong side does not count either
    monkeypatch.setattr(cmp, "_bootstrap", lambda *a: [1.01, 1.2])
    assert cmp.compare(before, after)["verdict"] == "no clear change"


def test_min_samples():
    before, after = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5], [2.0, 2.1, 2.2, 2.3, 2.4, 2.5]
    res = cmp.compare(before, after)
    assert res["method"] == "exact" and res["p_value"] == pytest.approx(2.0 / 924)
    assert res["verdict"] == "slower"
    res = cmp.compare(before[:5], after)
    assert res["verdict"] == "not enough samples"
    assert res["reason"] == "before has 5 samples: at least 6 samples per side are needed to call a change."
    assert res["ratio"] is not None and res["p_value"] is not None
    res = cmp.compare(before, after, min_samples=7)
    assert res["verdict"] == "not enough samples" and "after has 6 samples" in res["reason"]
    res = cmp.compare([], after)
    assert res["verdict"] == "not enough samples" and res["median_before"] is None and res["p_value"] is None


def test_identical_and_zero_samples():
    same = [0.25] * 10
    res = cmp.compare(same, list(same))
    assert res["p_value"] == 1.0 and res["ratio"] == 1.0 and res["verdict"] == "no clear change"
    res = cmp.compare([0.0] * 8, [1.0] * 8)
    assert res["ratio"] is None and res["ci"] is None and res["verdict"] == "no clear change"
    assert "positive before samples" in res["reason"]


def test_bad_input_names_the_side_and_index():
    with pytest.raises(cmp.CompareError, match=r"before\[2\] is None"):
        cmp.compare([1.0, 2.0, None], [1.0])
    with pytest.raises(cmp.CompareError, match=r"after\[0\] is nan"):
        cmp.compare([1.0], [float("nan")])
    with pytest.raises(cmp.CompareError, match=r"after\[1\] is True"):
        cmp.compare([1.0], [1.0, True])
    for kwargs in ({"threshold": 1.5}, {"min_samples": 1}, {"confidence": 1.0}, {"resamples": 10}, {"resamples": 2000.0}):
        with pytest.raises(cmp.CompareError, match=list(kwargs)[0]):
            cmp.compare([1.0], [1.0], **kwargs)


# --------------------------------------------------------------------------- comparable

def _ctx(host="ctl", **versions):
    return {"host": host, "started_at": "2026-01-01T00:00:00.000Z", "versions": dict({"python": "3.11.7"}, **versions)}


def test_comparable():
    ok, reason = cmp.comparable(_ctx(kpt="1.0.0"), _ctx(kpt="1.0.0", git="2.39"))
    assert ok and "same host ctl" in reason
    ok, reason = cmp.comparable(_ctx("ctl"), _ctx("mgmt"))
    assert not ok and reason == "measured on host ctl before and on host mgmt after"
    ok, reason = cmp.comparable(_ctx(kpt="1.0.0-beta.56"), _ctx(kpt="1.0.0"))
    assert not ok and reason == "versions differ: kpt 1.0.0-beta.56 -> 1.0.0"
    ok, reason = cmp.comparable(None, _ctx())
    assert not ok and "before" in reason
    ok, reason = cmp.comparable(_ctx(), {"versions": {}})
    assert not ok and "after record's context has no host" in reason


# --------------------------------------------------------------------------- issue 15: huge finite samples

def test_huge_finite_samples_give_finite_figures_or_none_with_a_reason():
    # Bug (issue 15, 3): the median of two 1.7e308 samples, the ratio of 1e308 over a small median and the
    # bootstrap sums of huge samples overflowed to inf (or inf / inf = NaN), written out as Infinity/NaN.
    near = cmp.compare([1e308] * 3 + [1.7e308] * 3, [1.7e308] * 6)
    assert near["median_before"] == 1.35e308 and near["median_after"] == 1.7e308
    assert math.isfinite(near["ratio"]) and all(math.isfinite(v) for v in near["ci"])
    assert near["ci"] == cmp.compare([1.0] * 3 + [1.7] * 3, [1.7] * 6)["ci"]  # same ranks, same interval
    over = cmp.compare([1e-3] * 6, [1.7e308] * 6)
    assert over["ratio"] is None and over["ci"] is None and over["change_pct"] is None
    assert over["verdict"] == "no clear change" and "beyond the float range" in over["reason"]
    assert cmp.bootstrap_ratio_ci([1.7e308] * 4, [1.7e308] * 4) == [1.0, 1.0]

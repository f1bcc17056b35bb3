# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""compare_many: the NumPy path (_fast_stats) gives the very results of the pure path, one by one."""
from __future__ import annotations

import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp
from ansible_collections.o2edge.perf.plugins.plugin_utils import _comparisons, _fast_stats
from ansible_collections.o2edge.perf.plugins.module_utils._stats import percentile


@pytest.fixture
def numpy_path(monkeypatch):
    """The vectorised path, counting the groups it computes (skipped where NumPy is not installed)."""
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 0)  # these fixtures are smaller than a report worth NumPy
    calls = _Calls()
    real, real_ranks = _fast_stats.bootstrap_many, _fast_stats.rank_sum_lists

    def counted(befores, afters, pruned, ranks):
        calls.append(len(befores))
        return real(befores, afters, pruned, ranks)

    def counted_ranks(befores, afters):
        calls.ranks.append(len(befores))
        return real_ranks(befores, afters)
    monkeypatch.setattr(_fast_stats, "bootstrap_many", counted)
    monkeypatch.setattr(_fast_stats, "rank_sum_lists", counted_ranks)
    return calls


class _Calls(list):
    """The sizes of the groups whose intervals (the list) and rank sums (``ranks``) NumPy computed."""

    def __init__(self):
        super().__init__()
        self.ranks = []


def _group(rng, kind, n_before, n_after, count):
    """``count`` (before, after) pairs of one kind of values and one pair of sizes."""
    out = []
    for dummy in range(count):
        if kind == "ties":  # a coarse grid: many ties within and across the sides
            before = [rng.choice([1.0, 1.1, 1.2]) for dummy in range(n_before)]
            after = [rng.choice([0.9, 1.0, 1.1, 1.2]) for dummy in range(n_after)]
        elif kind == "huge":
            before = [rng.uniform(1e306, 9e306) for dummy in range(n_before)]
            after = [rng.uniform(1e306, 9e306) for dummy in range(n_after)]
        elif kind == "tiny":
            before = [rng.uniform(1e-300, 3e-300) for dummy in range(n_before)]
            after = [rng.uniform(1e-300, 3e-300) for dummy in range(n_after)]
        elif kind == "zeros":  # zeros on the after side (allowed), ints mixed in
            before = [rng.randint(1, 5) for dummy in range(n_before)]
            after = [rng.choice([0, 0.0, rng.uniform(0.5, 5.0)]) for dummy in range(n_after)]
        elif kind == "beyond":  # sums that would overflow, negative after values, non-positive before: pure path
            before = [rng.choice([1.7e308, 1.0, -1.0, 0.0]) for dummy in range(n_before)]
            after = [rng.choice([1.7e308, -0.5, 1.0]) for dummy in range(n_after)]
        else:  # "noisy": a shift of 0 to 30 % with 10 % noise
            shift = rng.choice([0.7, 0.95, 1.0, 1.05, 1.3])
            before = [rng.lognormvariate(0, 0.1) for dummy in range(n_before)]
            after = [shift * rng.lognormvariate(0, 0.1) for dummy in range(n_after)]
        out.append((before, after, rng.random() < 0.3, rng.choice([0.0, 0.05, 0.1])))
    return out


KINDS = ("noisy", "ties", "huge", "tiny", "zeros", "beyond")
SIZES = ((1, 1), (1, 3), (2, 2), (3, 2), (3, 3), (8, 9), (9, 8), (8, 8), (9, 9), (10, 10), (6, 40), (31, 30))


def one_by_one(jobs, **kwargs):
    """``compare`` of each job ``(before, after, higher, threshold)``: its result dict or the CompareError raised."""
    out = []
    for before, after, higher, threshold in jobs:
        try:
            out.append(cmp.compare(before, after, higher_is_better=higher, threshold=threshold, **kwargs))
        except cmp.CompareError as exc:
            out.append(exc)
    return out


def _one_by_one(jobs, **kwargs):
    return [str(item) if isinstance(item, cmp.CompareError) else item for item in one_by_one(jobs, **kwargs)]


def _shown(results):
    return [str(r) if isinstance(r, cmp.CompareError) else r for r in results]


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_path_equals_pure_path(kind, numpy_path):
    rng = random.Random(kind)
    jobs = []
    for n_before, n_after in SIZES:
        jobs.extend(_group(rng, kind, n_before, n_after, _fast_stats.MIN_GROUP))
    rng.shuffle(jobs)  # groups interleaved, as records of a report are
    for kwargs in ({}, {"confidence": 0.9, "resamples": 500, "seed": 3}, {"min_samples": 2}):
        many = _shown(cmp.compare_many(jobs, **kwargs))
        # exact equality of every figure (floats compared with ==), reasons and verdicts included
        assert many == _one_by_one(jobs, **kwargs)
    if kind != "beyond":
        assert numpy_path, "the vectorised path was not taken"
    assert len(numpy_path.ranks) == 3 * len(SIZES), "the U test's rank sums were not all taken at once"


def test_small_groups_and_the_pure_switch_take_the_pure_path(numpy_path, monkeypatch):
    rng = random.Random(5)
    small = _group(rng, "noisy", 10, 10, _fast_stats.MIN_GROUP - 1)
    assert _shown(cmp.compare_many(small)) == _one_by_one(small)
    assert not numpy_path
    monkeypatch.setenv(_fast_stats.ENV_STATS, "pure")
    big = _group(rng, "noisy", 10, 10, _fast_stats.MIN_GROUP)
    assert _shown(cmp.compare_many(big)) == _one_by_one(big)
    assert not numpy_path and not numpy_path.ranks and not _fast_stats.available()


def test_numpy_only_for_enough_comparisons(numpy_path, monkeypatch):
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 2 * _fast_stats.MIN_GROUP + 1)
    rng = random.Random(6)
    jobs = _group(rng, "noisy", 10, 10, _fast_stats.MIN_GROUP) + _group(rng, "noisy", 9, 9, _fast_stats.MIN_GROUP)
    assert _shown(cmp.compare_many(jobs)) == _one_by_one(jobs)
    assert not numpy_path and not numpy_path.ranks
    jobs += _group(rng, "noisy", 5, 5, 1)  # a small group does not count
    cmp.compare_many(jobs)
    assert not numpy_path
    jobs += _group(rng, "noisy", 5, 5, _fast_stats.MIN_GROUP)
    assert _shown(cmp.compare_many(jobs)) == _one_by_one(jobs)
    assert sorted(numpy_path) == [_fast_stats.MIN_GROUP] * 2 + [_fast_stats.MIN_GROUP + 1] and len(numpy_path.ranks) == 3


def test_bad_jobs_come_back_as_errors_in_place(numpy_path):
    rng = random.Random(8)
    jobs = _group(rng, "noisy", 10, 10, _fast_stats.MIN_GROUP)
    jobs[3] = ([1.0, "x"], [1.0], False, 0.05)
    jobs[7] = ([1.0, 2.0], [1.0, 2.0], False, 1.5)
    out = cmp.compare_many(jobs)
    assert str(out[3]) == "before[1] is 'x', not a number"
    assert str(out[7]).startswith("threshold must be a number in [0, 1)")
    assert _shown(out) == _one_by_one(jobs)


def test_the_interval_still_resamples(numpy_path):
    """Fails if the bootstrap stops resampling (fewer resamples, no resampling, another percentile):
    the interval is the type 7 percentile of all 2000 resampled ratios of the seeded draws."""
    rng = random.Random(13)
    jobs = _group(rng, "noisy", 10, 10, _fast_stats.MIN_GROUP)
    after_idx = list(zip(*cmp._median_indices(10, "after", 0, 2000)))
    before_idx = list(zip(*cmp._median_indices(10, "before", 0, 2000)))
    assert len(after_idx) == len(before_idx) == 2000
    assert len(set(after_idx)) > 20 and len(set(before_idx)) > 20  # the draws vary
    tail = (1 - 0.95) / 2 * 100  # as _compare takes it: 1 - 0.95 is 0.050000000000000044
    for (before, after, dummy, dummy), result in zip(jobs, cmp.compare_many(jobs)):
        b, a = sorted(before), sorted(after)
        ratios = [(a[i] + a[j]) / (b[k] + b[m]) for (i, j), (k, m) in zip(after_idx, before_idx)]
        assert result["ci"] == [percentile(ratios, tail), percentile(ratios, 100 - tail)]
        assert result["ci"][0] < result["ratio"] < result["ci"][1]
    assert numpy_path == [_fast_stats.MIN_GROUP]


def test_the_u_test_rule_holds_on_the_batch_path(numpy_path):
    """Fails if the exact/asymptotic rule flips: exact only with at most 8 on one side and no ties."""
    rng = random.Random(21)
    cases = {(8, 9, "noisy"): "exact", (9, 8, "noisy"): "exact", (9, 9, "noisy"): "asymptotic",
             (8, 8, "ties"): "asymptotic", (3, 2, "noisy"): "exact", (31, 30, "noisy"): "asymptotic"}
    for (n_before, n_after, kind), method in cases.items():
        jobs = _group(rng, kind, n_before, n_after, _fast_stats.MIN_GROUP)
        if kind == "ties":
            jobs = [job for job in jobs if len(set(job[0] + job[1])) < n_before + n_after]
        methods = set(r["method"] for r in cmp.compare_many(jobs))
        assert methods == {method}, (n_before, n_after, kind)


def test_sequential_many_equals_sequential_one_by_one(numpy_path):
    rng = random.Random(34)

    def item(samples, host="edge1", unit="s", name="m"):
        ctx = {"host": host, "started_at": "t", "versions": {"kpt": "1"}}
        return {"host": host, "record": {"name": name, "unit": unit, "samples": samples, "context": ctx}}
    jobs = []
    for number, (before, after, dummy, threshold) in enumerate(_group(rng, "noisy", 10, 10, 80)):
        role = ("sequential", "control", "host_state")[number % 3]
        jobs.append((item(before), item(after, unit="MB/s" if number % 5 == 0 else "s"), threshold, role))
    jobs.append((item([1.0] * 10, host="edge2"), item([1.0] * 10), 0.05, "sequential"))  # not comparable
    many = _comparisons.sequential_many(jobs, 6)
    assert many == [_comparisons.sequential(b, a, t, 6, role) for b, a, t, role in jobs]
    assert many[-1]["verdict"] == "not comparable" and numpy_path

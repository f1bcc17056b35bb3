# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast paths of compare_many and sequential_many give the reference path's very results.

Each fast path (NumPy medians, rank sums checked only against the after samples, the unstable sort of the
bootstrap's cells, the shared parameter check, the sorted samples standing for the samples, the cached
confidence texts, the reason texts in one format, the comparable answer shared by equal contexts) is checked
against the path it replaces: ``compare`` one job at a time, the pure path, or the reference verdict below
(the reason texts as they were written before, one ``_num`` at a time). Floats are compared by ``repr``, so
that a ``-0.0`` for a ``0.0`` counts.
"""
from __future__ import annotations

import math
import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp
from ansible_collections.o2edge.perf.plugins.plugin_utils import _comparisons, _fast_stats, _report_parallel

from tests.unit.plugins.plugin_utils.test_compare_fast import one_by_one


def _exact(value):
    """A structure with every float replaced by its repr (``-0.0`` and ``0.0`` differ)."""
    if isinstance(value, dict):
        return [(key, _exact(item)) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [_exact(item) for item in value]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Exception):
        return (type(value).__name__, str(value))
    return value


@pytest.fixture
def numpy_path(monkeypatch):
    """NumPy's path for groups of MIN_GROUP jobs (skipped where NumPy is not installed), counting its groups."""
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 0)
    seen = []
    real = _fast_stats.medians

    def counted(values):
        seen.append(len(values))
        return real(values)
    monkeypatch.setattr(_fast_stats, "medians", counted)
    return seen


def _sample(rng, kind, n):
    if kind == "ties":
        return [rng.choice([1.0, 1.5, 2.0]) for dummy in range(n)]
    if kind == "zeros":  # after side: zeros of both signs, ints
        return [rng.choice([0.0, -0.0, 0, rng.uniform(0.5, 2.0)]) for dummy in range(n)]
    if kind == "negative":
        return [rng.choice([-1.0, 0.0, 1.0, 2.5]) for dummy in range(n)]
    if kind == "huge":  # medians whose two middle values overflow when added
        return [rng.choice([1.7e308, 1.6e308, 1.0]) for dummy in range(n)]
    if kind == "big":  # near the float-sum bound of the NumPy bootstrap
        return [rng.choice([cmp._FLOAT_SUM_MAX, 1e306, 2.0]) for dummy in range(n)]
    return [rng.lognormvariate(0, 0.1) * rng.choice([0.7, 1.0, 1.3]) for dummy in range(n)]


KINDS = ("noisy", "ties", "zeros", "negative", "huge", "big")
SIZES = ((1, 1), (2, 3), (4, 4), (6, 6), (7, 9), (10, 10), (3, 12), (33, 32))


def _jobs(rng, count_per_group):
    jobs = []
    for n_before, n_after in SIZES:
        for kind in KINDS:
            for dummy in range(count_per_group):
                before_kind = kind if kind != "zeros" else "noisy"
                jobs.append((_sample(rng, before_kind, n_before), _sample(rng, kind, n_after),
                             rng.random() < 0.3, rng.choice([0.0, 0.05, 0.1])))
    rng.shuffle(jobs)
    return jobs


def test_numpy_groups_give_the_one_by_one_figures_bit_for_bit(numpy_path, monkeypatch):
    """Bugs: a NumPy median, rank sum, tie term or interval that differs from compare's (an overflowing
    midpoint, a tie counted in the wrong row, an unstable sort picking a -0.0), in groups of MIN_GROUP jobs
    and in groups too small for NumPy."""
    rng = random.Random(8101)
    jobs = _jobs(rng, 17)  # every (sizes, kind) 17 times: groups of 102 jobs per pair of sizes
    jobs += [([1.0, 2.0, 3.0], [2.0, 3.0], False, 0.05)] * (_fast_stats.MIN_GROUP - 1)  # a group too small
    booted = []
    real = _fast_stats.bootstrap_many
    monkeypatch.setattr(_fast_stats, "bootstrap_many", lambda *args: booted.append(len(args[0])) or real(*args))
    got = cmp.compare_many(jobs)
    # both sides' medians of every pair of sizes by NumPy; in each group the 68 jobs of the kinds noisy, ties,
    # zeros and big (and those of the others whose values happen to allow it) take the NumPy bootstrap, the
    # others (negative, huge) the pure path
    assert numpy_path == [102] * 2 * len(SIZES)
    assert len(booted) == len(SIZES) and all(68 <= n < 102 for n in booted), booted
    assert _exact(got) == _exact(one_by_one(jobs))


def test_the_pure_path_gives_the_numpy_figures(numpy_path, monkeypatch):
    rng = random.Random(8117)
    jobs = _jobs(rng, 11)
    fast = cmp.compare_many(jobs)
    monkeypatch.setenv(_fast_stats.ENV_STATS, "pure")
    assert _exact(cmp.compare_many(jobs)) == _exact(fast)


def test_medians_of_rows_as_the_sorted_median():
    """Bugs: the overflow branch of an even median left out or taken for every row, the odd median read off by one."""
    np = pytest.importorskip("numpy")
    rng = random.Random(8123)
    for n in (1, 2, 3, 4, 9, 10):
        rows = [sorted(map(float, _sample(rng, rng.choice(KINDS), n))) for dummy in range(40)]
        rows.append(sorted([1.7e308] * n))
        rows.append(sorted([-0.0] * n))
        got = _fast_stats.medians(np.array(rows, dtype=np.float64))
        assert _exact(got) == _exact([cmp._sorted_median(row) for row in rows])


def _pure_rank_sum(x, y):
    pooled = sorted(x + y)
    twice = sum(2 * sum(v < x_i for v in pooled) + sum(v == x_i for v in pooled) + 1 for x_i in x)
    ties = sum(pooled.count(v) ** 2 - 1 for v in pooled)
    return twice / 2.0, ties


def test_rank_sums_with_ties_in_some_rows_only():
    """Bugs: the tie term of the rows with ties written to other rows, ties within one side missed, the before
    side's own part of the rank sum other than n1 ** 2 when its values tie."""
    np = pytest.importorskip("numpy")
    rng = random.Random(8129)
    for n_before, n_after in ((1, 1), (3, 5), (6, 4), (10, 10)):
        befores, afters = [], []
        for row in range(30):
            kind = ("noisy", "ties")[row % 2]
            befores.append(sorted(_sample(rng, kind, n_before)))
            afters.append(sorted(_sample(rng, "noisy" if row % 3 else kind, n_after)))
        befores.append([1.0] * n_before)
        afters.append([2.0] * n_after)
        got = _fast_stats.rank_sums(np.array(befores), np.array(afters))
        assert got == [_pure_rank_sum(x, y) for x, y in zip(befores, afters)]
        ranked = [cmp._u_figures(x, y, "auto", True, ranked=r) for x, y, r in zip(befores, afters, got)]
        assert _exact(ranked) == _exact([cmp._u_figures(x, y, "auto", True) for x, y in zip(befores, afters)])


def test_an_after_sample_of_negative_zero_gives_the_stable_sort_interval(numpy_path):
    """Bug: an unstable sort of equal ratios whose zeros differ in sign changing the interval's bits."""
    rng = random.Random(8147)
    jobs = []
    for dummy in range(_fast_stats.MIN_GROUP):
        after = [rng.choice([0.0, -0.0]) for dummy in range(8)] + [rng.choice([-0.0, 0.0, 1.0]) for dummy in range(2)]
        jobs.append(([rng.uniform(0.5, 2.0) for dummy in range(10)], after, False, 0.05))
    got = cmp.compare_many(jobs)
    assert _exact(got) == _exact(one_by_one(jobs))
    assert all(repr(value) == "0.0" for r in got for value in r["ci"][:1])


def test_sorted_values_as_values_then_sorted():
    for samples in ([3.0, 1.0, 2.0], [3, 1.5, True and 2], (2.0, 1.0), [], [-0.0, 0.0, -0.0], [1e308, -1e308]):
        assert _exact(cmp._sorted_values(samples, "before")) == _exact(sorted(cmp._values(samples, "before")))
    for bad in ([1.0, float("nan")], [1.0, math.inf], [1.0, True], [1.0, "2"], "12", None):
        with pytest.raises(cmp.CompareError) as first:
            cmp._sorted_values(bad, "after")
        with pytest.raises(cmp.CompareError) as second:
            cmp._values(bad, "after")
        assert str(first.value) == str(second.value)


class _Share(float):
    """A float subclass: not a plain float, checked in full."""


class _Odd(float):
    """A float subclass whose products are its own: its texts are not a plain float's."""

    def __mul__(self, other):
        return float(self) * other + 1.0


@pytest.mark.parametrize("params", [{}, {"min_samples": 1}, {"confidence": 1.0}, {"resamples": 10},
                                    {"confidence": 0.9, "min_samples": 3}])
def test_shared_parameters_checked_once_give_each_jobs_error(params):
    """Bugs: a threshold error hidden behind the shared parameters' (or the reverse), a bool, a NaN or an
    out-of-range threshold let through by the fast check."""
    before, after = [1.0, 1.1, 1.2, 0.9, 1.0, 1.05], [1.3, 1.2, 1.4, 1.25, 1.35, 1.3]
    thresholds = [0.05, 0, 0.999, 1, -0.1, 1.0, True, False, math.nan, "0.1", None, _Share(0.05), _Share(2.0)]
    jobs = [(before, after, False, threshold) for threshold in thresholds]
    assert _exact(cmp.compare_many(jobs, **params)) == _exact(one_by_one(jobs, **params))


def test_confidence_texts_follow_each_level():
    """Bug: the cached texts of one confidence level served for another (or for an equal level of another type)."""
    before = [1.0, 1.2, 0.8, 1.1, 0.9, 1.0, 1.05]
    after = [1.01, 1.19, 0.82, 1.08, 0.93, 0.99, 1.04]
    for confidence, level, alpha in ((0.95, "95%", "< 0.05"), (0.9, "90%", "< 0.1"), (_Share(0.8), "80%", "< 0.2"),
                                     (0.95, "95%", "< 0.05"), (0.5, "50%", "< 0.5")):
        reason = cmp.compare(before, after, confidence=confidence)["reason"]
        assert ("the %s interval" % level) in reason and alpha in reason, reason
    # the texts are kept for plain floats only: a float subclass equal to a kept level gets its own
    assert "the 96% interval" in cmp.compare(before, after, confidence=_Odd(0.95))["reason"]


# --------------------------------------------------------------------------- the reason texts

def _num(value):
    return "%.4g" % value


def _reference_verdict(result, b, higher_is_better, threshold, min_samples, confidence):
    """The verdict and reason of a result's figures, written as they were before the texts were formatted at once."""
    short = [(side, n) for side, n in (("before", result["n_before"]), ("after", result["n_after"])) if n < min_samples]
    if short:
        return "not enough samples", "%s: at least %d samples per side are needed to call a change." % (
            " and ".join("%s has %d sample%s" % (side, n, "" if n == 1 else "s") for side, n in short), min_samples)
    if result["ratio"] is None or result["ci"] is None:
        if result["reason"].startswith("No change can be called: "):  # the overflow, named by the path that met it
            return "no clear change", result["reason"]
        return "no clear change", ("The ratio of medians needs positive before samples (smallest %s), so no change "
                                   "can be called." % _num(min(b)))
    ratio, (lo, hi), p = result["ratio"], result["ci"], result["p_value"]
    alpha = round(1.0 - confidence, 12)
    better = (ratio > 1.0) if higher_is_better else (ratio < 1.0)
    direction = "faster" if better else "slower"
    up = ratio > 1.0
    change_pct = (ratio - 1.0) * 100.0
    failed = []
    if not p < alpha:
        failed.append("the U test is not significant (p = %s, needs < %s)" % (_num(p), _num(alpha)))
    if not ((lo > 1.0) if up else (hi < 1.0)):
        failed.append("the %s%% interval of the ratio [%s, %s] does not exclude 1 on the side of the change" % (
            _num(confidence * 100), _num(lo), _num(hi)))
    if not abs(ratio - 1.0) >= threshold - cmp.THRESHOLD_EPSILON:
        failed.append("the change of %+.2f%% is below the %s%% threshold" % (change_pct, _num(threshold * 100)))
    if ratio == 1.0:
        failed = failed or ["the medians are equal"]
    if failed:
        return "no clear change", "No clear change: %s." % "; ".join(failed)
    return direction, "%s: median %s -> %s (%+.2f%%), %s%% interval of the ratio [%s, %s], p = %s." % (
        direction.capitalize(), _num(result["median_before"]), _num(result["median_after"]), change_pct,
        _num(confidence * 100), _num(lo), _num(hi), _num(p))


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_reasons_as_the_reference_texts(confidence):
    """Bugs: a figure of the reason formatted otherwise than ``_num`` / ``%+.2f`` formats it, a criterion's
    text, the direction or the joining of the failed criteria changed."""
    rng = random.Random(8161)
    seen = set()
    for dummy in range(400):
        n_before, n_after = rng.choice(((6, 6), (7, 9), (3, 8), (10, 10), (5, 7)))
        kind = rng.choice(("noisy", "noisy", "ties", "negative", "huge"))
        shift = rng.choice((0.5, 0.9, 0.97, 1.0, 1.03, 1.1, 2.0))
        b = _sample(rng, kind, n_before)
        a = [v * (shift if kind != "huge" else 1.0) for v in _sample(rng, kind, n_after)]
        if rng.random() < 0.05:
            a = list(b)  # equal medians
        higher, threshold = rng.random() < 0.5, rng.choice((0.0, 0.03, 0.05, 0.2, 0.01234, 0.1005))
        result = cmp.compare(b, a, higher_is_better=higher, threshold=threshold, confidence=confidence, resamples=200)
        assert (result["verdict"], result["reason"]) == _reference_verdict(result, b, higher, threshold, 6, confidence)
        seen.add(result["verdict"])
    assert seen == {"faster", "slower", "no clear change", "not enough samples"}


# --------------------------------------------------------------------------- comparable, once per pair of contexts

def _context(rng):
    choice = rng.random()
    if choice < 0.05:
        return rng.choice([None, "edge1", ["edge1"]])
    ctx = {"host": rng.choice(["edge1", "edge2", "", None, 7]) if choice < 0.15 else rng.choice(["edge1", "edge2"])}
    versions = {}
    for tool in rng.sample(["python", "kpt", "git"], rng.randint(0, 3)):
        versions[tool] = rng.choice(["1.0", "1.1"])
    if rng.random() < 0.1:
        versions[rng.choice(["kpt", "git"])] = rng.choice([1, 1.0, None, ["1"]])  # not strings: checked on their own
    if rng.random() < 0.9:
        ctx["versions"] = versions if rng.random() < 0.95 else rng.choice([None, [], "1"])
    if rng.random() < 0.1:
        ctx["concurrency"] = rng.choice([1, 4])
    return ctx


def _item(rng, ctx, samples):
    return {"host": "edge1", "record": {"name": "m%d" % rng.randint(0, 5), "component": "kpt_render", "unit": "s",
                                        "samples": samples, "context": ctx}}


def test_comparable_once_per_distinct_contexts_as_each_pair_alone(monkeypatch):
    """Bugs: the cached answer keyed on less than decides it (the hosts only, one side's versions, the versions'
    names without their values), or a context whose versions are not strings sharing a string context's answer."""
    rng = random.Random(8179)
    contexts = [_context(rng) for dummy in range(40)]
    samples = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0]
    jobs = []
    for dummy in range(600):
        before, after = rng.choice(contexts), rng.choice(contexts)
        if rng.random() < 0.3 and isinstance(before, dict) and isinstance(before.get("versions"), dict):
            after = dict(before, versions=dict(reversed(list(before["versions"].items()))))
            if rng.random() < 0.5 and after["versions"]:
                after["versions"][next(iter(after["versions"]))] = "9.9"
        jobs.append((_item(rng, before, samples), _item(rng, after, samples), 0.05, "sequential"))
    got = _comparisons.sequential_many(jobs, 6)
    asked = []
    real = cmp.comparable

    def one_by_one(before_ctx, after_ctx):
        asked.append(1)
        return real(before_ctx, after_ctx)
    monkeypatch.setattr(cmp, "comparable", one_by_one)
    monkeypatch.setattr(cmp, "context_key", lambda before_ctx, after_ctx: None)
    assert _exact(got) == _exact(_comparisons.sequential_many(jobs, 6))
    assert len(asked) == len(jobs)
    assert sum(e["comparable"] for e in got) > 100 and sum(not e["comparable"] for e in got) > 100


def test_context_key_only_for_string_hosts_and_versions():
    ok = {"host": "edge1", "versions": {"kpt": "1.0"}}
    assert cmp.context_key(ok, ok) == ("edge1", "edge1", (("kpt", "1.0"),), (("kpt", "1.0"),))
    assert cmp.context_key(ok, dict(ok, versions={})) == ("edge1", "edge1", (("kpt", "1.0"),), ())
    for other in (None, [], {"versions": {}}, {"host": 1, "versions": {}}, {"host": "edge1"},
                  {"host": "edge1", "versions": None}, {"host": "edge1", "versions": {"kpt": 1}},
                  {"host": "edge1", "versions": {1: "1"}}, {"host": "edge1", "versions": {"kpt": ["1"]}}):
        assert cmp.context_key(ok, other) is None and cmp.context_key(other, ok) is None, other


# --------------------------------------------------------------------------- plans built before the fork

def test_common_sizes_are_those_of_two_numpy_groups():
    """Bugs: a pair of sizes of fewer than 2 * MIN_GROUP jobs built for nothing (or one of exactly that many left
    out), the sizes swapped, an empty side's plan asked for, samples that are not a list counted (or crashing)."""
    def job(n_before, n_after):
        return ({"record": {"samples": [1.0] * n_before}}, {"record": {"samples": [2.0] * n_after}}, 0.05, "sequential")
    group = 2 * _fast_stats.MIN_GROUP
    jobs = [job(10, 12)] * group + [job(9, 9)] * (group - 1) + [job(0, 5)] * group + [job(5, 0)] * group
    jobs += [({"record": {"samples": 7}}, {"record": {"samples": [1.0]}}, 0.05, "sequential")] * group
    jobs += [({"record": {}}, {"record": {"samples": (1.0,)}}, 0.05, "sequential")] * group
    assert _comparisons._common_sizes(jobs) == [(12, 10)]


def test_prepared_plans_are_the_pruned_plans(monkeypatch):
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    cmp.prepare_plans([(12, 10)])
    assert list(cmp._PLAN_CACHE) == [(12, 10, 0, 2000, 0.95)]
    plan = cmp._PLAN_CACHE[12, 10, 0, 2000, 0.95]
    assert plan[0] == 0 and plan[1] is not None
    cmp.prepare_plans([(12, 10)], resamples=cmp.PRUNE_MAX_RESAMPLES + 1)
    assert list(cmp._PLAN_CACHE) == [(12, 10, 0, 2000, 0.95)]


def test_a_split_report_gives_the_one_process_entries(monkeypatch):
    """The plans built before the fork, the halves compared apart: the entries of one process, one pass."""
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    rng = random.Random(8191)
    jobs = []
    for number in range(4 * _fast_stats.MIN_GROUP + 3):
        ctx = {"host": "edge1", "versions": {"kpt": "1.0"}}
        before = {"host": "edge1", "record": {"name": "m%d" % number, "unit": "s", "context": ctx,
                                              "samples": _sample(rng, "noisy", 10)}}
        after = {"host": "edge1", "record": {"name": "m%d" % number, "unit": "s", "context": ctx,
                                             "samples": _sample(rng, rng.choice(KINDS), 10)}}
        jobs.append((before, after, 0.05, "sequential"))
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 0)
    monkeypatch.setattr(_report_parallel, "MIN_RECORDS", 2 * _fast_stats.MIN_GROUP)
    monkeypatch.delenv(_report_parallel.ENV_PROCESSES, raising=False)
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    prepared = []
    real = cmp.prepare_plans
    monkeypatch.setattr(cmp, "prepare_plans", lambda sizes: prepared.append(sizes) or real(sizes))
    split = _comparisons.sequential_split(jobs, 6)
    assert prepared == [[(10, 10)]] and cmp._PLAN_CACHE[10, 10, 0, 2000, 0.95][1] is not None
    monkeypatch.setattr(cmp, "_PLAN_CACHE", {})
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 10 ** 9)  # one process, the pure path
    assert _exact(split) == _exact(_comparisons.sequential_many(jobs, 6))


def test_entry_texts_of_other_kinds_as_text():
    """Bug: a name, host, component or unit that is not a string put in the entry as it is rather than as text."""
    samples = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0]
    ctx = {"host": "edge1"}
    after = {"host": 7, "record": {"name": None, "component": 3.5, "unit": None, "samples": samples, "context": ctx}}
    before = {"host": 7, "record": {"name": None, "component": 3.5, "samples": samples, "context": ctx}}
    entry = _comparisons.sequential_many([(before, after, 0.05, "sequential")], 6)[0]
    assert [entry[key] for key in ("name", "host", "component", "unit")] == ["", "7", "3.5", ""]
    assert entry["comparable"] is True
    after["record"]["unit"] = 2
    entry = _comparisons.sequential_many([(before, after, 0.05, "sequential")], 6)[0]
    assert entry["unit"] == "2" and entry["reason"] == "not comparable: unit  before, 2 after"

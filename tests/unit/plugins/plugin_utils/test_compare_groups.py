# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""compare_many's group checks and array path give ``compare``'s very results, one job at a time.

The jobs whose samples are two non-empty lists are checked by groups of the same sizes (one type and finiteness
check over the whole group), sorted into arrays by NumPy's stable sort when NumPy ranks the group, and their
results made from the group's figures (the U test's figures once per rank sum and tie term, the smallest before
value read off the sorted row); the reasons of "no clear change" are one format per set of failed criteria, and
sequential_many skips the concurrency check of two dicts without a concurrency. Each is checked against the path
it replaces, with hostile values in the groups; floats are compared by ``repr`` (``-0.0`` and ``0.0`` differ).
"""
from __future__ import annotations

import collections
import itertools
import math
import random
import warnings

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp
from ansible_collections.o2edge.perf.plugins.plugin_utils import _comparisons, _fast_stats, _verdicts

from tests.unit.plugins.plugin_utils.test_compare_fast import one_by_one
from tests.unit.plugins.plugin_utils.test_compare_many_paths import _exact


@pytest.fixture
def array_rows(monkeypatch):
    """NumPy's path for groups of MIN_GROUP jobs (skipped where NumPy is not installed): the number of jobs
    ``_array_results`` finished, and how many of them it sent back to ``_compare_values`` (``fallback``)."""
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", 0)
    seen = collections.Counter()
    real_rows, real_values = cmp._array_results, cmp._compare_values

    def rows(prepared, figures, *args):
        seen["rows"] += len(figures[0])
        seen["inside"] = 1
        try:
            return real_rows(prepared, figures, *args)
        finally:
            seen["inside"] = 0

    def values(*args):
        seen["fallback"] += seen["inside"]
        return real_values(*args)
    monkeypatch.setattr(cmp, "_array_results", rows)
    monkeypatch.setattr(cmp, "_compare_values", values)
    return seen


class _Share(float):
    """A float subclass: not a plain float, so its row is checked on its own (and converted)."""


def _row(rng, kind, n):
    if kind == "ties":
        return [rng.choice([1.0, 1.5, 2.0]) for dummy in range(n)]
    if kind == "zeros":  # zeros of both signs: the stable sort keeps them as they come
        return [rng.choice([0.0, -0.0, 0.0, -0.0, rng.uniform(0.5, 2.0)]) for dummy in range(n)]
    if kind == "negative":
        return [rng.choice([-1.0, -0.0, 0.0, 1.0, 2.5]) for dummy in range(n)]
    if kind == "huge":  # medians and sums beyond the float range, before values > 0: the pure bootstrap
        return [rng.choice([1.7e308, 1.6e308, 1.0]) for dummy in range(n)]
    if kind == "tiny":  # ratios of medians beyond the float range
        return [rng.choice([1e-300, 2e-300, 1e300]) for dummy in range(n)]
    return [rng.lognormvariate(0, 0.1) * rng.choice([0.6, 1.0, 1.4]) for dummy in range(n)]


KINDS = ("noisy", "ties", "zeros", "negative", "huge", "tiny")


def _group(rng, n_before, n_after, count):
    jobs = []
    for dummy in range(count):
        before_kind, after_kind = rng.choice(KINDS), rng.choice(KINDS)
        jobs.append((_row(rng, before_kind, n_before), _row(rng, after_kind, n_after), rng.random() < 0.3,
                     rng.choice([0.0, 0.05, 0.1, 0.5])))
    return jobs


@pytest.mark.parametrize("sizes", [(10, 10), (5, 7), (8, 8), (3, 4), (1, 1), (32, 32)])
def test_array_results_are_compares_results(array_rows, sizes):
    """Bugs: a figure of the array path other than compare's (a median, the U test's exact or asymptotic figures,
    the ratio or its overflow, the smallest before value named with the wrong sign, an interval taken for before
    values <= 0), a job sent to the fallback wrongly or not at all (huge values: the pure bootstrap names the
    overflow), or the path not taken."""
    rng = random.Random("groups-%d-%d" % sizes)
    count = 3 * _fast_stats.MIN_GROUP
    jobs = _group(rng, sizes[0], sizes[1], count)
    for min_samples in (6, 2):
        array_rows.clear()
        got = cmp.compare_many(jobs, min_samples=min_samples)
        assert array_rows["rows"] == count
        assert 0 < array_rows["fallback"] < count  # (the huge values' jobs, and only some)
        assert _exact(got) == _exact(one_by_one(jobs, min_samples=min_samples))
    verdicts = set(result["verdict"] for result in got)
    assert {"faster", "slower", "no clear change"} <= verdicts or sizes[0] < 6 or sizes[1] < 6


def test_negative_and_zero_before_values_are_named_with_their_sign(array_rows):
    """Bugs: an unstable sort (or a minimum of the row taken otherwise) naming ``0`` for a ``-0.0`` that came
    first, or the reverse; a median of zeros of the wrong sign."""
    jobs = []
    for number in range(_fast_stats.MIN_GROUP):
        zeros = [-0.0, 0.0] if number % 2 else [0.0, -0.0]
        before = zeros * 3 + [1.0, 2.0, 3.0]
        after = [1.0, 1.5, 2.0, 2.5] + zeros * 2 + [-0.0]
        jobs.append((before, after, False, 0.05))
    got = cmp.compare_many(jobs)
    assert array_rows["rows"] == len(jobs)
    assert _exact(got) == _exact(one_by_one(jobs))
    assert {result["reason"] for result in got} == {
        "The ratio of medians needs positive before samples (smallest -0), so no change can be called.",
        "The ratio of medians needs positive before samples (smallest 0), so no change can be called."}


def test_rows_of_one_rank_sum_and_other_ties_get_their_own_u_figures(array_rows):
    """Bug: the U test's figures shared by jobs of the same rank sum whatever their ties (the key without the tie
    term): the tie correction, and for small sizes the exact method, belong to the job's own ties."""
    plain = ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    tied = ([1.0, 1.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0, 10.0, 11.0, 12.0])  # the same rank sum, 21
    jobs = [(list(plain[0]), list(plain[1]), False, 0.05), (list(tied[0]), list(tied[1]), False, 0.05)]
    jobs = jobs * (_fast_stats.MIN_GROUP // 2)
    got = cmp.compare_many(jobs)
    assert array_rows["rows"] == len(jobs)
    assert _exact(got) == _exact(one_by_one(jobs))
    assert got[0]["method"] == "exact" and got[1]["method"] == "asymptotic"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, False, 3, 2 ** 80, "1.5", None, _Share(1.25),
                                 [1.0]])
@pytest.mark.parametrize("side", ["before", "after", "both"])
def test_one_odd_value_in_a_group_gives_compares_error_or_figures(array_rows, bad, side):
    """Bugs: the group's type check weakened (a bool, an int, a float subclass or a string taken as a float by
    NumPy), its finiteness check skipped (a NaN or an infinity sorted into the arrays), the errors of a job named
    on the wrong side (before is checked first), or the group's other jobs not compared as compare does."""
    rng = random.Random("odd-%r-%s" % (bad, side))
    jobs = _group(rng, 9, 9, _fast_stats.MIN_GROUP + 2)
    for number in (3, 40):
        before, after, higher, threshold = jobs[number]
        if side in ("before", "both"):
            before = before[:4] + [bad] + before[5:]
        if side in ("after", "both"):
            after = after[:7] + [bad] + after[8:]
        jobs[number] = (before, after, higher, threshold)
    got = cmp.compare_many(jobs)
    assert _exact(got) == _exact(one_by_one(jobs))
    assert isinstance(got[3], cmp.CompareError) == (not isinstance(bad, (int, float)) or isinstance(bad, bool) or
                                                    not math.isfinite(bad))
    if isinstance(got[3], cmp.CompareError):
        assert str(got[3]).startswith("after" if side == "after" else "before")


def test_finite_values_whose_sum_overflows_are_finite(array_rows):
    """Bug: a group refused (or checked as bad) because the sum of its values, taken to check them at once,
    overflows to infinity though every value is finite."""
    jobs = [([1.7e308] * 10, [1.6e308] * 9 + [1.0], False, 0.05) for dummy in range(_fast_stats.MIN_GROUP)]
    assert math.isinf(sum(itertools.chain.from_iterable(before for before, dummy, dummy, dummy in jobs)))
    got = cmp.compare_many(jobs)
    assert array_rows["rows"] == len(jobs)
    assert _exact(got) == _exact(one_by_one(jobs))
    assert not any(isinstance(result, cmp.CompareError) for result in got)


def test_plain_floats_is_the_check_of_every_value():
    """Bugs: ``_plain_floats`` true for a value ``_sorted_values`` refuses or converts (a bool, an int, a float
    subclass, a NaN, an infinity, a NaN hidden by an infinity of the other sign), or false for finite floats."""
    def reference(rows):
        # pylint: disable-next=unidiomatic-typecheck
        return all(type(value) is float and math.isfinite(value) for row in rows for value in row)
    cases = [[[1.0, 2.0], [3.0]], [[1e308, 1e308], [1e308]], [[-1e308, -1e308]], [[math.inf, -math.inf]],
             [[1.0, math.nan]], [[math.inf]], [[1.0], [True]], [[1.0], [3]], [[_Share(1.0)]], [[1.0, "2"]], [[]],
             [[-0.0, 0.0]], [[5e-324, -5e-324]], [[1e308] * 3, [-math.inf]]]
    for rows in cases:
        assert cmp._plain_floats(cmp._flat(rows)) == reference(rows), rows


def test_a_group_joined_by_tuples_and_the_pure_path_give_the_same_results(array_rows, monkeypatch):
    """Bugs: a group of lists joined by jobs whose samples are tuples (checked one by one) losing a job or its
    order, or the pure path of the same jobs giving other results than the NumPy path."""
    rng = random.Random(8209)
    jobs = _group(rng, 6, 6, _fast_stats.MIN_GROUP + 5)
    for number in (0, 17, _fast_stats.MIN_GROUP + 1):
        before, after, higher, threshold = jobs[number]
        jobs[number] = (tuple(before), after, higher, threshold)
    jobs.append(([], [1.0, 2.0], False, 0.05))
    jobs.append(([1.0] * 6, [], False, 0.05))
    got = cmp.compare_many(jobs)
    assert array_rows["rows"] == 0  # (the group was sorted one job at a time)
    assert _exact(got) == _exact(one_by_one(jobs))
    plain = _group(rng, 7, 6, _fast_stats.MIN_GROUP)
    fast = cmp.compare_many(plain)
    assert array_rows["rows"] == len(plain)
    monkeypatch.setenv(_fast_stats.ENV_STATS, "pure")
    assert _exact(cmp.compare_many(plain)) == _exact(fast) == _exact(one_by_one(plain))


def test_sorted_arrays_are_sorted_rows_in_sorteds_order():
    """Bug: an unstable sort, which may swap a ``-0.0`` and a ``0.0`` (equal values, other bits)."""
    pytest.importorskip("numpy")
    rng = random.Random(8219)
    for n in (2, 5, 10, 17, 40):
        rows = [[rng.choice([0.0, -0.0, 1.0, -1.0, 0.0, -0.0]) for dummy in range(n)] for dummy in range(300)]
        befores, afters = _fast_stats.sorted_arrays(cmp._flat(rows), cmp._flat(rows[::-1]), len(rows))
        assert _exact(befores.tolist()) == _exact([sorted(row) for row in rows])
        assert _exact(afters.tolist()) == _exact([sorted(row) for row in rows[::-1]])


# --------------------------------------------------------------------------- the reasons, one format per case

def _reference(ratio, change_pct, interval, p, median_before, median_after, higher_is_better, threshold, confidence):
    """``_verdict`` as it was written before its texts were one format per case."""
    lo, hi = interval
    alpha, alpha_text, level_text = cmp._level(confidence)
    up = ratio > 1.0
    failed = []
    if not p < alpha:
        failed.append("the U test is not significant (p = %.4g, needs < %s)" % (p, alpha_text))
    if not ((lo > 1.0) if up else (hi < 1.0)):
        failed.append("the %s%% interval of the ratio [%.4g, %.4g] does not exclude 1 on the side of the change" % (
            level_text, lo, hi))
    if not abs(ratio - 1.0) >= threshold - cmp.THRESHOLD_EPSILON:
        failed.append("the change of %+.2f%% is below the %.4g%% threshold" % (change_pct, threshold * 100))
    if ratio == 1.0:
        failed = failed or ["the medians are equal"]
    if failed:
        return "no clear change", "No clear change: %s." % "; ".join(failed)
    direction = "Faster" if ((ratio > 1.0) if higher_is_better else (ratio < 1.0)) else "Slower"
    return direction.lower(), "%s: median %.4g -> %.4g (%+.2f%%), %s%% interval of the ratio [%.4g, %.4g], p = %.4g." % (
        direction, median_before, median_after, change_pct, level_text, lo, hi, p)


def test_every_set_of_failed_criteria_reads_as_before():
    """Bugs: a case's format with a criterion's text missing, doubled or out of order, its figures given to the
    wrong criterion, or a percent sign of a text lost."""
    seen = set()
    for ratio in (0.5, 0.97, 1.0, 1.03, 2.0):
        for interval in ([0.4, 0.6], [0.9, 1.1], [1.5, 2.5], [-0.0, 0.0]):
            for p in (0.001, 0.05, 0.3, 1.0):
                for threshold in (0.0, 0.05, 0.5):
                    for higher in (False, True):
                        args = (ratio, (ratio - 1.0) * 100.0, interval, p, 1.0, ratio, higher, threshold, 0.95)
                        got = cmp._verdict(*args)
                        assert got == _reference(*args)
                        seen.add(got[1].split(":")[0] + str(got[1].count(";")))
                        if ratio != 1.0:
                            args = args[:-1] + (0.9,)
                            assert cmp._verdict(*args) == _reference(*args)
    assert seen >= {"No clear change0", "No clear change1", "No clear change2", "Faster0", "Slower0"}


# --------------------------------------------------------------------------- sequential_many's checks

def test_units_and_concurrency_checks_as_the_reference_functions():
    """Bugs: the unit check of a before unit that is not a string (None, a number) skipped or compared as it is,
    the concurrency check skipped for a context with a concurrency (on either side, equal or not, or in a dict
    subclass), or made for the roles it does not concern."""
    rng = random.Random(8231)
    samples = [1.0, 1.1, 0.9, 1.05, 0.95, 1.0]
    jobs = []
    for dummy in range(400):
        contexts = []
        for dummy in range(2):
            ctx = {"host": "edge1", "versions": {"kpt": "1.0"}}
            if rng.random() < 0.4:
                ctx["concurrency"] = rng.choice([1, 4, None])
            if rng.random() < 0.1:
                ctx = collections.OrderedDict(ctx)
            contexts.append(ctx)
        units = [rng.choice(["s", "s", "MB/s", None, 2]) for dummy in range(2)]
        items = [{"host": "edge1", "record": {"name": "m", "unit": unit, "samples": samples, "context": ctx}}
                 for unit, ctx in zip(units, contexts)]
        jobs.append((items[0], items[1], 0.05, rng.choice(["sequential", "control", "host_state"])))
    got = _comparisons.sequential_many(jobs, 6)
    for (before, after, dummy, role), entry in zip(jobs, got):
        before_unit, after_unit = before["record"]["unit"], after["record"]["unit"]
        reason = None
        if _comparisons._text(before_unit) != _comparisons._text(after_unit):
            reason = "unit %s before, %s after" % (_comparisons._text(before_unit), _comparisons._text(after_unit))
        elif role == "sequential":
            reason = _verdicts.concurrency_problem(before["record"]["context"], after["record"]["context"])
        if reason is None:
            assert entry["comparable"] is True, entry
        else:
            assert entry["comparable"] is False and entry["reason"] == "not comparable: %s" % reason
    assert 50 < sum(entry["comparable"] for entry in got) < 350


@pytest.mark.parametrize("kind", ["noisy", "negative"])
def test_groups_of_more_than_max_pooled_samples_are_sorted_as_lists(array_rows, kind):
    """Bug: a group too large for NumPy's rank sums sorted into arrays all the same (its jobs would then keep
    their unsorted samples, or reach the array path without rank sums)."""
    rng = random.Random("pooled-" + kind)
    jobs = [(_row(rng, kind, 33), _row(rng, "noisy", 32), False, 0.05) for dummy in range(_fast_stats.MIN_GROUP)]
    got = cmp.compare_many(jobs, resamples=200)
    assert array_rows["rows"] == 0
    assert _exact(got) == _exact(one_by_one(jobs, resamples=200))


def test_overflowing_groups_leave_no_numpy_warning(array_rows):
    """Bug: NumPy's RuntimeWarnings (overflow in a ratio, inf - inf in an interpolation) printed on the report's
    standard error for a group of tiny and huge values, where the interval is simply not finite (the pure
    bootstrap then names the overflow)."""
    rng = random.Random("overflow")
    jobs = [([rng.choice([1e-300, 2e-300, 3e-300]) for dummy in range(10)],
             [rng.choice([1e300, 2e300, 5e299]) for dummy in range(10)], False, 0.05)
            for dummy in range(3 * _fast_stats.MIN_GROUP)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = cmp.compare_many(jobs)
    assert array_rows["rows"] == len(jobs)
    assert _exact(got) == _exact(one_by_one(jobs))


def test_a_group_of_tuples_alone_is_compared_as_one_by_one(array_rows):
    """Bug: a group made only of jobs whose samples are not lists (tuples: checked and sorted one job at a time)
    entered wrongly, or not at all (mutation run 8: 611), failing or losing its NumPy figures."""
    rng = random.Random(611)
    jobs = [(tuple(before), tuple(after), higher, threshold)
            for before, after, higher, threshold in _group(rng, 5, 5, _fast_stats.MIN_GROUP + 3)]
    jobs += _group(rng, 6, 6, _fast_stats.MIN_GROUP)  # and a group of lists beside it
    assert _exact(cmp.compare_many(jobs)) == _exact(one_by_one(jobs))
    assert array_rows["rows"] == _fast_stats.MIN_GROUP


def test_a_group_numpy_neither_ranks_nor_boots_does_not_stop_the_groups_after_it(array_rows):
    """Bug: the loop over the groups stopped (not skipped) at a large group NumPy neither ranks (more than
    MAX_POOLED samples together) nor bootstraps (before values <= 0) (mutation run 8: 673): the groups after
    it, whose samples were sorted into arrays only, would be compared from their unsorted lists."""
    rng = random.Random(673)
    half = _fast_stats.MAX_POOLED // 2 + 1
    jobs = [([-rng.uniform(0.1, 2.0) for dummy in range(half)], [rng.uniform(0.1, 2.0) for dummy in range(half)],
             False, 0.05) for dummy in range(_fast_stats.MIN_GROUP)]
    jobs += [(_row(rng, "noisy", 10), _row(rng, "noisy", 10), False, 0.05) for dummy in range(_fast_stats.MIN_GROUP)]
    assert _exact(cmp.compare_many(jobs)) == _exact(one_by_one(jobs))
    assert array_rows["rows"] == _fast_stats.MIN_GROUP  # the second group took the array path

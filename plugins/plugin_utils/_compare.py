# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Before/after comparison of two sets of samples (stdlib only, Python 3.9+).

Methods (stated here and in docs/statistics.md, "Comparing before and after"):

* **Mann-Whitney U, two-sided**, as ``scipy.stats.mannwhitneyu(before, after,
  method='auto')`` of SciPy 1.17.1 computes it (checked to 1e-9 against fixtures made with
  it, ``tests/tools/make_stats_fixtures.py``): average ranks of the pooled samples,
  ``U1 = R1 - n1 (n1 + 1) / 2`` for ``before`` (returned as ``u``), ``U = max(U1, n1 n2 - U1)``.
  ``auto`` picks the exact null distribution when one side has at most 8 samples and no two
  pooled values tie; otherwise the normal approximation with tie correction and continuity
  correction: ``z = (U - n1 n2 / 2 - 0.5) / sqrt(n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))))``,
  ``p = 2 * sf(z)``. The exact distribution is the coefficient list of the Gaussian binomial
  ``prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)`` (the standard counting recursion), in exact
  integers; ``p = 2 * P(U' >= U)``. p is clipped to 1.
* **Bootstrap percentile interval of the ratio of medians** (after / before): each resample
  draws ``n`` values with replacement from each side; the interval is the type 7 percentiles
  ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` of the resampled ratios. The median of
  a resample is drawn directly rather than by sorting ``n`` drawn values: the k-th smallest
  of ``n`` uniform draws is ``Beta(k, n - k + 1)``, and the index ``floor(n U)`` of a uniform
  ``U`` is a uniform draw of an index, so the k-th smallest resampled value is
  ``sorted[floor(n * Beta(k, n - k + 1))]``; for an even ``n`` the (k+1)-th is the smallest of
  the ``n - k`` draws above it, ``U_(k+1) = U_(k) + (1 - U_(k)) * Beta(1, n - k)``. Same
  distribution as the textbook resampling, O(1) per resample whatever ``n``: the full number
  of resamples (default 2000) is always used. The drawn indices depend only on ``n``, the side
  and the seed (two ``random.Random`` streams seeded from ``seed``, one per side), so they are
  drawn once per sample size and reused by every comparison of that size. The repeated index
  combinations (cells) are counted once with a weight (same percentiles), and each end of the
  interval only looks at the cells that can hold its ranks: since ``a`` and ``b`` are sorted
  and ``a >= 0``, a resample whose after indices are all <= and before indices all >= another's
  has a ratio <= it whatever the values, so a cell that more than k other resamples surely lie
  below cannot be the k-th smallest. Which cells those are depends only on the sizes, the seed,
  the resamples and the confidence: found once per plan (at its ``PRUNE_AFTER``-th comparison),
  it gives the very same two percentiles as sorting all the resampled ratios. A negative after
  sample (the order does not hold) uses every cell.
* **Verdict**: ``faster`` or ``slower`` only when, with at least ``min_samples`` per side,
  the U test (p < 1 - confidence), the interval (excludes 1, on the side of the change) and
  the practical threshold (``|ratio - 1| >= threshold``) all agree; else ``no clear change``
  or ``not enough samples``, with a reason sentence. For ``higher_is_better`` units
  (throughput, MB/s) a ratio above 1 is ``faster``.

Size: over 450 lines, one statistical test with its exact and asymptotic paths, ties and continuity
correction, matched to SciPy (tests/unit/plugins/plugin_utils/fixtures_stats), and ``compare_many``'s group
paths (checks, sorting and results of thousands of comparisons of the same sizes at once), which belong next to
the one-by-one path they must match bit for bit.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import math
import operator
import random

from ansible_collections.o2edge.perf.plugins.module_utils._stats import _midpoint
from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats

VERDICTS = ("faster", "slower", "no clear change", "not enough samples")
# Units where a larger figure is better (throughput, rates); everything else is a cost (time).
HIGHER_IS_BETTER_UNITS = ("MB/s", "MiB/s", "GB/s", "KB/s", "B/s", "bytes/s", "ops/s", "req/s", "1/s", "Hz")
# SciPy's method='auto': exact when one side has at most this many samples and nothing ties.
EXACT_MAX_SMALLER = 8
# Tolerance of the practical threshold check, so that a ratio of exactly 0.95 is a 5% change.
THRESHOLD_EPSILON = 1e-12
# Beyond this a sum of two samples may overflow to inf: the interval is then taken over every cell.
_FLOAT_SUM_MAX = 1e307


class CompareError(ValueError):
    """Bad input to a comparison (the message names the side, index or parameter)."""


def higher_is_better(unit):
    """True for throughput-like units (``MB/s`` ...), False for times and everything else."""
    return unit in HIGHER_IS_BETTER_UNITS


_NUMBER_TYPES = frozenset((float, int))


def _values(samples, side):
    if not isinstance(samples, (list, tuple)):
        raise CompareError("%s must be a list of numbers, got %s" % (side, type(samples).__name__))
    if _NUMBER_TYPES.issuperset(map(type, samples)):  # the usual case, checked at C speed
        values = list(map(float, samples))
        if all(map(math.isfinite, values)):
            return values
    values = []
    for index, value in enumerate(samples):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CompareError("%s[%d] is %r, not a number" % (side, index, value))
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise CompareError("%s[%d] is %r, not a finite number" % (side, index, value))
        values.append(value)
    return values


_FLOAT_ONLY = frozenset((float,))


def _sorted_values(samples, side):
    """``sorted(_values(samples, side))`` (the same floats, the same errors), in one list when every sample is a
    finite float already (the usual case)."""
    # pylint: disable=unidiomatic-typecheck
    if type(samples) is list and _FLOAT_ONLY.issuperset(map(type, samples)) and all(map(math.isfinite, samples)):
        return sorted(samples)
    values = _values(samples, side)
    values.sort()
    return values


# --------------------------------------------------------------------------- Mann-Whitney U

def u_counts(m, n, upto):
    """Number of arrangements giving U = 0..upto for samples of sizes m and n (exact integers).

    The coefficients of the Gaussian binomial ``prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)``,
    truncated at degree ``upto``; they sum to C(m + n, m) over the full range 0..m*n.
    """
    m, n = min(m, n), max(m, n)
    upto = min(upto, m * n)
    poly = [1] + [0] * upto
    for i in range(1, m + 1):
        shift = n + i
        for d in range(upto, shift - 1, -1):
            poly[d] -= poly[d - shift]
        for d in range(i, upto + 1):
            poly[d] += poly[d - i]
    return poly


def _normal_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_whitney_u(x, y, method="auto", continuity=True):
    """Two-sided Mann-Whitney U test: dict ``u`` (U of ``x``), ``p_value``, ``method`` used.

    ``method``: ``auto`` (SciPy's choice), ``exact`` or ``asymptotic``. Exact with ties is
    refused (the exact distribution assumes none).
    """
    return _u_test(_values(x, "x"), _values(y, "y"), method, continuity)


def _u_cumulative(n1, n2):
    """Cumulative counts of U = 0..n1*n2 (exact integers), kept per pair of sizes."""
    key = (min(n1, n2), max(n1, n2))
    found = _U_CACHE.get(key)
    if found is None:
        found = list(itertools.accumulate(u_counts(key[0], key[1], key[0] * key[1])))
        if len(_U_CACHE) >= _U_CACHE_MAX:
            _U_CACHE.pop(next(iter(_U_CACHE)))
        _U_CACHE[key] = found
    return found


def _u_test(x, y, method, continuity, ranked=None):
    """``mann_whitney_u`` on lists of floats already checked by ``_values`` (``_u_figures`` as a dict)."""
    u, p, method = _u_figures(x, y, method, continuity, ranked)
    return {"u": u, "p_value": p, "method": method}


def _u_figures(x, y, method, continuity, ranked=None):
    """``(u, p_value, method)`` of the U test on lists of floats already checked by ``_values``, in any order.

    The rank sum of ``x`` is taken with bisect on the sorted pooled values: the average rank of
    a value is ``(lo + hi + 1) / 2`` (``lo``, ``hi``: its bisect_left and bisect_right), the same
    half-integers as average ranks of tied groups, summed exactly. ``ranked``: ``(rank sum of x,
    sum of t^3 - t over the tied groups)`` when already computed (``_fast_stats.rank_sums``).
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise CompareError("the U test needs at least one sample on each side (got %d and %d)" % (n1, n2))
    n = n1 + n2
    if ranked is not None:
        r1, tie_term = ranked
        ties = tie_term > 0
    else:
        pooled = sorted(x + y)
        distinct = len(set(pooled))
        if distinct == n:
            ties = ()
            r1 = math.fsum([bisect.bisect_left(pooled, v) + 1.0 for v in x])
        else:
            ties = [t for t in collections.Counter(pooled).values() if t > 1]
            r1 = math.fsum([(bisect.bisect_left(pooled, v) + bisect.bisect_right(pooled, v) + 1) / 2.0 for v in x])
        tie_term = sum(t ** 3 - t for t in ties)
    return _u_of_ranks(n1, n2, r1, tie_term, ties, method, continuity)


def _u_of_ranks(n1, n2, r1, tie_term, ties, method, continuity):
    """``_u_figures`` from the sizes, the rank sum of x, the tie term and whether anything ties (``ties``, true or
    false): they decide the figures, so the many comparisons of a group that share them share their figures."""
    n = n1 + n2
    u1 = r1 - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    big = max(u1, u2)
    if method == "auto":
        method = "exact" if (min(n1, n2) <= EXACT_MAX_SMALLER and not ties) else "asymptotic"
    if method == "exact":
        if ties:
            raise CompareError("the exact U distribution assumes no ties; use the asymptotic method")
        low = n1 * n2 - int(round(big))  # P(U >= big) = P(U <= n1 n2 - big) by symmetry
        p = 2 * _u_cumulative(n1, n2)[low] / math.comb(n1 + n2, n1)
    elif method == "asymptotic":
        variance = n1 * n2 / 12.0 * ((n + 1) - (tie_term / float(n * (n - 1)) if n > 1 else 0.0))
        numerator = big - n1 * n2 / 2.0 - (0.5 if continuity else 0.0)
        if variance <= 0:
            # every value ties: no evidence of a difference (SciPy divides by zero: z = -inf, p = 1)
            p = 1.0 if numerator <= 0 else 0.0
        else:
            p = 2 * _normal_sf(numerator / math.sqrt(variance))
    else:
        raise CompareError("method must be auto, exact or asymptotic, got %r" % (method,))
    return u1, min(max(p, 0.0), 1.0), method


# --------------------------------------------------------------------------- bootstrap

def resampled_median_indices(n, rng):
    """Indices ``(i, j)`` into the sorted sample whose mean is the median of one resample (i == j for odd n).

    The k-th smallest of ``n`` uniform draws is ``Beta(k, n - k + 1)``; ``floor(n U)`` of a
    uniform ``U`` is a uniformly drawn index; for an even ``n`` the next order statistic is the
    smallest of the ``n - k`` draws above: ``U + (1 - U) * Beta(1, n - k)``.
    """
    last = n - 1
    if n % 2:
        k = (n + 1) // 2
        i = min(int(n * rng.betavariate(k, n - k + 1)), last)
        return i, i
    k = n // 2
    lower = rng.betavariate(k, n - k + 1)
    upper = lower + (1.0 - lower) * (1.0 - rng.random() ** (1.0 / (n - k)))
    return min(int(n * lower), last), min(int(n * upper), last)


def resampled_median(sorted_values, rng):
    """The median of one bootstrap resample of ``sorted_values`` (sorted ascending), drawn in O(1)."""
    i, j = resampled_median_indices(len(sorted_values), rng)
    return (sorted_values[i] + sorted_values[j]) / 2.0


# The resampled indices depend only on the sample size, the side, the seed and the number of
# resamples, not on the values: they are drawn once and kept (a report compares many records of
# the same size). Same draws as without the cache; at most _INDEX_CACHE_MAX entries are kept.
# Plans (pairs of sizes) are kept apart, up to _PLAN_CACHE_MAX: a report has many size pairs.
_INDEX_CACHE = {}
_INDEX_CACHE_MAX = 64
_PLAN_CACHE = {}
_PLAN_CACHE_MAX = 1024
_U_CACHE = {}
_U_CACHE_MAX = 256
# The tails are pruned with per-resample bit sets: above this many resamples every cell is kept.
PRUNE_MAX_RESAMPLES = 20000
# A plan (pair of sample sizes) is pruned when it serves its PRUNE_AFTER-th comparison.
PRUNE_AFTER = 64


def _cached(cache, limit, key, build):
    found = cache.get(key)
    if found is None:
        found = build()
        if len(cache) >= limit:
            cache.pop(next(iter(cache)))
        cache[key] = found
    return found


def _median_indices(n, side, seed, resamples):
    """Two lists (lower, upper): the median indices of every resample of one side."""
    def build():
        rng = random.Random("o2edge.perf/bootstrap/%s/%r" % (side, seed))
        pairs = [resampled_median_indices(n, rng) for dummy in range(resamples)]
        return [i for i, dummy in pairs], [j for dummy, j in pairs]
    return _cached(_INDEX_CACHE, _INDEX_CACHE_MAX, (n, side, seed, resamples), build)


def _quantile_ranks(total, q):
    """``(h, lo, hi)`` of the type 7 quantile ``q`` of ``total`` sorted values (0-based ranks)."""
    h = (total - 1) * q
    lo = int(math.floor(h))
    return h, lo, min(lo + 1, total - 1)


def _popcount(value):
    return bin(value).count("1")


def _dominated_weights(columns, below):
    """For every resample, how many resamples are surely on its side of it whatever the values.

    ``columns``: the four index lists (after lower, after upper, before lower, before upper).
    With the sorted values ``a``, ``b`` and every ``a >= 0``, ``(a[i] + a[j]) / (b[k] + b[l])``
    grows with ``i`` and ``j`` and shrinks with ``k`` and ``l`` (IEEE rounding is monotone):
    a resample whose after indices are all <= and before indices all >= another's has a ratio
    <= it (``below``; the mirror for ``not below``). Returns ``{cell: count}`` where the count
    includes every resample of the cell itself.
    """
    masks = []
    for position, column in enumerate(columns):
        by_value = {}
        for index, value in enumerate(column):
            by_value[value] = by_value.get(value, 0) | (1 << index)
        ascending = (position < 2) == below  # cumulate from small values for "<=", large for ">="
        cumulative = {}
        acc = 0
        for value in sorted(by_value, reverse=not ascending):
            acc |= by_value[value]
            cumulative[value] = acc
        masks.append(cumulative)
    first, second, third, fourth = masks
    out = {}
    for cell in set(zip(*columns)):
        out[cell] = _popcount(first[cell[0]] & second[cell[1]] & third[cell[2]] & fourth[cell[3]])
    return out


def _resample_plan(n_after, n_before, seed, resamples, confidence):
    """The resample cells that can decide each end of the interval, with their weights.

    The resamples are grouped in cells (after lower, after upper, before lower, before upper
    index) counted once with a weight. The k-th smallest ratio is always among the cells that
    fewer than k + 1 other resamples surely lie below (``_dominated_weights``): a cell with more
    has at least k + 1 values <= its own, found among the kept cells by descending that order.
    So each end only looks at the few cells that can hold its ranks. Returns ``(pruned, every
    cell)``: ``pruned`` is ``(pairs, low cells, high cells)``, or None until the plan has served
    PRUNE_AFTER comparisons (finding those cells costs about what 50 comparisons save) or when
    there are too many resamples; ``pairs`` the four index lists of the distinct after and before
    index pairs, a cells entry ``(after pair ids, before pair ids, weights)``; ``every cell`` is
    ``(pairs, cells)``.
    """
    plan = _cached(_PLAN_CACHE, _PLAN_CACHE_MAX, (n_after, n_before, seed, resamples, confidence),
                   lambda: _new_plan(n_after, n_before, seed, resamples))
    plan[0] += 1
    if plan[1] is None and plan[0] >= PRUNE_AFTER and resamples <= PRUNE_MAX_RESAMPLES:
        plan[1] = _pruned_cells(plan[3], plan[4], resamples, confidence)
    return plan[1], plan[2]


def _pruned_plan(n_after, n_before, seed, resamples, confidence):
    """The pruned cells of a plan now (``_resample_plan``'s ``pruned``), for a group of many comparisons."""
    plan = _cached(_PLAN_CACHE, _PLAN_CACHE_MAX, (n_after, n_before, seed, resamples, confidence),
                   lambda: _new_plan(n_after, n_before, seed, resamples))
    if plan[1] is None:
        plan[1] = _pruned_cells(plan[3], plan[4], resamples, confidence)
    return plan[1]


def prepare_plans(size_pairs, confidence=0.95, resamples=2000, seed=0):
    """Build (and prune) the resample plans of the ``(n after, n before)`` pairs now, e.g. before a fork, so that
    both processes use them rather than each building its own; the figures are the same with or without."""
    if resamples <= PRUNE_MAX_RESAMPLES:
        for n_after, n_before in size_pairs:
            _pruned_plan(n_after, n_before, seed, resamples, confidence)


def _pairs_of(cells):
    after_pairs = sorted(set((c[0], c[1]) for c in cells))
    before_pairs = sorted(set((c[2], c[3]) for c in cells))
    return after_pairs, before_pairs, ([i for i, dummy in after_pairs], [j for dummy, j in after_pairs],
                                       [k for k, dummy in before_pairs], [m for dummy, m in before_pairs])


def _split(cells, joint, after_pairs, before_pairs):
    after_id = dict((pair, index) for index, pair in enumerate(after_pairs))
    before_id = dict((pair, index) for index, pair in enumerate(before_pairs))
    return ([after_id[c[0], c[1]] for c in cells], [before_id[c[2], c[3]] for c in cells], [joint[c] for c in cells])


def _new_plan(n_after, n_before, seed, resamples):
    """``[uses, pruned cells, every cell, index columns, cell weights]`` (see ``_resample_plan``)."""
    after = _median_indices(n_after, "after", seed, resamples)
    before = _median_indices(n_before, "before", seed, resamples)
    columns = (after[0], after[1], before[0], before[1])
    joint = collections.Counter(zip(*columns))
    cells = list(joint)
    after_pairs, before_pairs, pairs = _pairs_of(cells)
    return [0, None, (pairs, _split(cells, joint, after_pairs, before_pairs)), columns, joint]


def _pruned_cells(columns, joint, resamples, confidence):
    tail = (1.0 - confidence) / 2.0
    dummy, dummy, low_rank = _quantile_ranks(resamples, tail)
    dummy, high_lo, dummy = _quantile_ranks(resamples, 1.0 - tail)
    high_rank = resamples - 1 - high_lo
    below = _dominated_weights(columns, True)
    above = _dominated_weights(columns, False)
    low = [c for c in joint if below[c] - joint[c] <= low_rank]
    high = [c for c in joint if above[c] - joint[c] <= high_rank]
    after_pairs, before_pairs, pairs = _pairs_of(low + high)
    return pairs, _split(low, joint, after_pairs, before_pairs), _split(high, joint, after_pairs, before_pairs)


def _sums(a, b, pairs):
    """The sums ``a[i] + a[j]`` and ``b[k] + b[l]`` of each distinct index pair (twice the medians)."""
    a_lower, a_upper, b_lower, b_upper = pairs
    return (list(map(operator.add, map(a.__getitem__, a_lower), map(a.__getitem__, a_upper))),
            list(map(operator.add, map(b.__getitem__, b_lower), map(b.__getitem__, b_upper))))


def _ratios(tops, bottoms, cells):
    """The cells' ratios ``tops[p] / bottoms[q]`` (the halves of both medians cancel)."""
    return list(map(operator.truediv, map(tops.__getitem__, cells[0]), map(bottoms.__getitem__, cells[1])))


def _at_ranks(ratios, weights, first, second, reverse=False):
    """The values at 0-based ranks ``first <= second`` of ``ratios`` sorted (descending with ``reverse``),
    each standing ``weights[i]`` times."""
    seen = 0
    found = None
    for index in sorted(range(len(ratios)), key=ratios.__getitem__, reverse=reverse):
        seen += weights[index]
        if found is None and seen > first:
            found = ratios[index]
        if seen > second:
            return found, ratios[index]
    raise CompareError("internal error: the weights do not reach rank %d" % second)


def bootstrap_ratio_ci(before, after, confidence=0.95, resamples=2000, seed=0):
    """Percentile bootstrap interval ``[lo, hi]`` of median(after) / median(before).

    Every ``before`` sample must be > 0 (so that every resampled denominator is). Deterministic:
    the before and after resamples come from two ``random.Random`` streams seeded from ``seed``.
    """
    return _bootstrap(sorted(_values(before, "before")), sorted(_values(after, "after")), confidence, resamples, seed)


def _bootstrap(b, a, confidence, resamples, seed):
    """``bootstrap_ratio_ci`` on sorted lists of floats already checked by ``_values``."""
    if not b or not a:
        raise CompareError("the bootstrap needs at least one sample on each side")
    if b[0] <= 0:
        raise CompareError("the ratio of medians needs every before sample > 0 (smallest %r)" % b[0])
    if a[-1] > _FLOAT_SUM_MAX or -a[0] > _FLOAT_SUM_MAX or b[-1] > _FLOAT_SUM_MAX:
        # a[i] + a[j] could overflow: halve every value (exact for these magnitudes; the ratio is unchanged)
        a = [v / 2.0 for v in a]
        b = [v / 2.0 for v in b]
    pruned, everything = _resample_plan(len(a), len(b), seed, resamples, confidence)
    tail = (1.0 - confidence) / 2.0
    h_low, lo_low, hi_low = _quantile_ranks(resamples, tail)
    h_high, lo_high, hi_high = _quantile_ranks(resamples, 1.0 - tail)
    if pruned is None or a[0] < 0:
        tops, bottoms = _sums(a, b, everything[0])
        cells = everything[1]
        ratios = _ratios(tops, bottoms, cells)
        low_pair = _at_ranks(ratios, cells[2], lo_low, hi_low)
        high_pair = _at_ranks(ratios, cells[2], lo_high, hi_high)
    else:
        pairs, low, high = pruned
        tops, bottoms = _sums(a, b, pairs)
        low_pair = _at_ranks(_ratios(tops, bottoms, low), low[2], lo_low, hi_low)
        top = resamples - 1
        high_top = _at_ranks(_ratios(tops, bottoms, high), high[2], top - hi_high, top - lo_high, reverse=True)
        high_pair = (high_top[1], high_top[0])
    ci = [low_pair[0] + (h_low - lo_low) * (low_pair[1] - low_pair[0]),
          high_pair[0] + (h_high - lo_high) * (high_pair[1] - high_pair[0])]
    if not all(map(math.isfinite, ci)):
        raise CompareError("the interval of the ratio of medians is beyond the float range (a resampled ratio overflows)")
    return ci


# --------------------------------------------------------------------------- verdict

def _num(value):
    return "%.4g" % value


def _check_params(threshold, min_samples, confidence, resamples):
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < 1:
        raise CompareError("threshold must be a number in [0, 1), got %r" % (threshold,))
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 2:
        raise CompareError("min_samples must be an integer >= 2, got %r" % (min_samples,))
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.5 <= confidence < 1:
        raise CompareError("confidence must be a number in [0.5, 1), got %r" % (confidence,))
    if isinstance(resamples, bool) or not isinstance(resamples, int) or not 100 <= resamples <= 1000000:
        raise CompareError("resamples must be an integer between 100 and 1000000, got %r" % (resamples,))


def compare(before, after, higher_is_better=False, threshold=0.05, min_samples=6,
            confidence=0.95, resamples=2000, seed=0):
    """Compare two sets of samples of one measurement (contract C3).

    Returns a dict: n_before, n_after, median_before, median_after, ratio (after / before
    medians), ci ([lo, hi] of the ratio), change_pct (from ratio), u (U of ``before``),
    p_value (two-sided), method (of the U test), verdict (one of VERDICTS) and reason. Figures
    that cannot be computed are None. Raises CompareError for bad input.
    """
    _check_params(threshold, min_samples, confidence, resamples)
    b = _values(before, "before")
    a = _values(after, "after")
    return _compare_values(b, a, sorted(b), sorted(a), higher_is_better, threshold, min_samples, confidence,
                           resamples, seed)


def compare_many(jobs, min_samples=6, confidence=0.95, resamples=2000, seed=0):
    """``compare`` of each job ``(before, after, higher_is_better, threshold)``, in order.

    Each item of the list returned is the result dict ``compare`` gives, or the CompareError it
    raises. The bootstrap intervals of the comparisons that share their sample sizes are computed
    together with NumPy when it is installed (``_fast_stats``: the same floats); else, and for
    small groups or unusual values, one by one as ``compare`` does. The parameters shared by every
    job are checked once: a job whose threshold is a plain number in [0, 1) is then known to pass
    ``_check_params``, any other is checked in full (the same error, the threshold's first). The
    samples that are two non-empty lists are checked and sorted by groups of the same sizes
    (``_checked_groups``), any others one job at a time.
    """
    # pylint: disable=unidiomatic-typecheck
    try:
        _check_params(0.0, min_samples, confidence, resamples)
        shared_ok = True
    except CompareError:
        shared_ok = False
    prepared = []
    lists = {}  # {(n before, n after): [job numbers]} of the jobs whose samples are two non-empty lists
    others = []  # the numbers of the other jobs with samples on both sides
    for number, (before, after, higher, threshold) in enumerate(jobs):
        try:
            if not (shared_ok and type(threshold) in _NUMBER_TYPES and 0 <= threshold < 1):
                _check_params(threshold, min_samples, confidence, resamples)
            if type(before) is list and type(after) is list and before and after:
                prepared.append((before, after, higher, threshold))  # (not checked yet: _checked_groups)
                group = lists.get((len(before), len(after)))
                if group is None:
                    lists[len(before), len(after)] = [number]
                else:
                    group.append(number)
                continue
            sb = _sorted_values(before, "before")
            sa = _sorted_values(after, "after")
        except CompareError as exc:
            prepared.append(exc)
            continue
        prepared.append((sb, sa, higher, threshold))
        if sb and sa:
            others.append(number)
    by_sizes, use_ranks = _checked_groups(prepared, lists, others)
    _numpy_groups(prepared, by_sizes, use_ranks, min_samples, confidence, resamples, seed)
    out = []
    for number, item in enumerate(prepared):
        prepared[number] = None  # (each job's samples let go once compared: fewer objects alive for the collector)
        if type(item) is dict or isinstance(item, CompareError):  # pylint: disable=unidiomatic-typecheck
            out.append(item)  # (a result of _array_results, or the job's error)
            continue
        # the sorted samples stand for the samples: the U test and the smallest value do not depend on the order
        if len(item) == 4:
            sb, sa, higher, threshold = item
            out.append(_compare_values(sb, sa, sb, sa, higher, threshold, min_samples, confidence, resamples, seed))
            continue
        sb, sa, higher, threshold, ci, rank_sum, tie_term, median_before, median_after = item
        out.append(_compare_values(sb, sa, sb, sa, higher, threshold, min_samples, confidence, resamples, seed, ci,
                                   None if rank_sum is None else (rank_sum, tie_term), (median_before, median_after)))
    return out


def _flat(rows):
    """The values of ``rows`` (lists) in one list, row after row."""
    flat = []
    for row in rows:
        flat += row
    return flat


def _plain_floats(values):
    """Whether every one of ``values`` (a list) is a finite float: ``_sorted_values`` then sorts each row of them as
    it is. A sum of floats with an infinity or a NaN among them is never finite, so a finite sum answers for every
    value; an infinite one (a NaN, an infinity, or finite values whose sum overflows) is checked value by value."""
    return _FLOAT_ONLY.issuperset(map(type, values)) and (math.isfinite(sum(values)) or all(map(math.isfinite, values)))


def _sort_rows(prepared, numbers):
    """``_sorted_values`` of both sides of each job in ``numbers`` (checked already): their items sorted."""
    for number in numbers:
        before, after, higher, threshold = prepared[number]
        prepared[number] = (sorted(before), sorted(after), higher, threshold)


def _bootable(sb, sa):
    """Whether the NumPy bootstrap can take a job's sorted samples: before > 0, after >= 0, sums of two finite."""
    return sb[0] > 0 and sa[0] >= 0 and sa[-1] <= _FLOAT_SUM_MAX and sb[-1] <= _FLOAT_SUM_MAX


def _checked_groups(prepared, lists, others):
    """The jobs with samples on both sides by sizes, checked and sorted: ``({(n before, n after): [job numbers,
    whether each can take the NumPy bootstrap, None or the group's samples as two arrays of sorted rows]}, whether
    NumPy ranks the groups of MIN_GROUP jobs or more with at most MAX_POOLED samples)``.

    ``lists``: the jobs whose samples are two non-empty lists, unchecked in ``prepared``. A group whose values are
    all finite floats passes ``_sorted_values`` whole: each row is sorted as it is, by NumPy's stable sort into
    arrays when NumPy ranks the group (the floats ``sorted`` gives, in its order: ``-0.0`` and ``0.0`` kept as they
    come; ``prepared`` keeps the unsorted lists, which ``_array_results`` never reads), else by ``sorted``; any
    other group is checked row by row (the same errors). ``others``: the jobs with samples on both sides checked
    and sorted one by one already."""
    by_sizes = {}
    plain = {}  # {sizes: (before values, after values)} of the groups of finite floats, each side in one list
    for sizes, numbers in lists.items():
        befores = _flat([prepared[i][0] for i in numbers])
        if _plain_floats(befores):
            afters = _flat([prepared[i][1] for i in numbers])
            if _plain_floats(afters):
                by_sizes[sizes] = [numbers, None, None]
                plain[sizes] = (befores, afters)
                continue
        valid = []
        for number in numbers:
            before, after, higher, threshold = prepared[number]
            try:
                prepared[number] = (_sorted_values(before, "before"), _sorted_values(after, "after"), higher, threshold)
            except CompareError as exc:
                prepared[number] = exc
                continue
            valid.append(number)
        if valid:
            by_sizes[sizes] = [valid, None, None]
    for number in others:
        sb, sa = prepared[number][:2]
        group = by_sizes.get((len(sb), len(sa)))
        if group is None:
            by_sizes[len(sb), len(sa)] = [[number], None, None]
            continue
        if (len(sb), len(sa)) in plain:  # a group of plain lists joined by another kind of samples: sorted row by row
            _sort_rows(prepared, group[0])
            del plain[len(sb), len(sa)]
        group[0].append(number)
        group[0].sort()
    use_ranks = _fast_stats.available(sum(len(group[0]) for (n_before, n_after), group in by_sizes.items()
                                          if len(group[0]) >= _fast_stats.MIN_GROUP and
                                          n_before + n_after <= _fast_stats.MAX_POOLED))
    for sizes, (befores, afters) in plain.items():
        group = by_sizes[sizes]
        numbers = group[0]
        if use_ranks and len(numbers) >= _fast_stats.MIN_GROUP and sum(sizes) <= _fast_stats.MAX_POOLED:
            group[2] = _fast_stats.sorted_arrays(befores, afters, len(numbers))
            group[1] = _fast_stats.bootable(*group[2], _FLOAT_SUM_MAX)
        else:
            _sort_rows(prepared, numbers)
    for group in by_sizes.values():
        if group[1] is None:
            group[1] = [_bootable(prepared[i][0], prepared[i][1]) for i in group[0]]
    return by_sizes, use_ranks


def _numpy_groups(prepared, by_sizes, use_ranks, min_samples, confidence, resamples, seed):
    """The figures NumPy computes for whole groups of jobs of the same sizes (``_fast_stats``), added to the jobs'
    items in ``prepared``: ``(sb, sa, higher, threshold)`` becomes ``(sb, sa, higher, threshold, bootstrap
    interval, rank sum, tie term, median before, median after)`` (None for what NumPy did not compute), and the
    jobs of a group sorted into arrays (``_checked_groups``) get their results (``_array_results``).

    Rank sums for groups of ``MIN_GROUP`` jobs or more with at most ``MAX_POOLED`` samples together (``use_ranks``:
    when there are ``MIN_TOTAL`` such jobs in all), intervals for the jobs of a group whose values allow it (before
    > 0, after >= 0, sums of two finite) when ``MIN_GROUP`` or more do and there are ``MIN_TOTAL`` such jobs in all;
    the medians of every group whose samples were made into arrays for either. One flat tuple per job: fewer
    objects than a tuple of tuples."""
    big = [(sizes, group) for sizes, group in by_sizes.items() if len(group[0]) >= _fast_stats.MIN_GROUP]
    booted = [sum(group[1]) for dummy, group in big]
    use_boot = any(count >= _fast_stats.MIN_GROUP for count in booted) and resamples <= PRUNE_MAX_RESAMPLES and \
        _fast_stats.available(sum(count for count in booted if count >= _fast_stats.MIN_GROUP))
    if not use_ranks and not use_boot:
        return
    # (a job passed _check_params, so the shared parameters are valid)
    tail = (1.0 - confidence) / 2.0
    ranks = (_quantile_ranks(resamples, tail), _quantile_ranks(resamples, 1.0 - tail), resamples)
    for ((n_before, n_after), (numbers, bootable, made)), count in zip(big, booted):
        ranking = use_ranks and n_before + n_after <= _fast_stats.MAX_POOLED
        booting = use_boot and count >= _fast_stats.MIN_GROUP
        if not ranking and not booting:
            continue
        befores, afters = made or _fast_stats.arrays([prepared[i][0] for i in numbers],
                                                     [prepared[i][1] for i in numbers])
        rank_sums, tie_terms = _fast_stats.rank_sum_lists(befores, afters) if ranking else (_NONES, _NONES)
        intervals = _NONES
        if booting:
            pruned = _pruned_plan(n_after, n_before, seed, resamples, confidence)
            some = iter(_fast_stats.bootstrap_many(*_fast_stats.rows(befores, afters, bootable), pruned, ranks))
            intervals = (next(some) if ok else None for ok in bootable)
        figures = (numbers, intervals, rank_sums, tie_terms, _fast_stats.medians(befores), _fast_stats.medians(afters))
        if made:
            _array_results(prepared, figures, made, (n_before, n_after), min_samples, confidence, resamples, seed)
            continue
        for number, ci, rank_sum, tie_term, median_before, median_after in zip(*figures):
            prepared[number] += (ci, rank_sum, tie_term, median_before, median_after)


def _array_results(prepared, figures, made, sizes, min_samples, confidence, resamples, seed):
    """The result of each job of a group sorted into arrays (``made``: the before and after rows), in
    ``prepared``: what ``_compare_values`` returns from the same figures (``figures``: the jobs' numbers, and per
    job its interval or None, rank sum, tie term and medians).

    The U test's figures depend only on the sizes, the rank sum and the tie term: computed once per distinct pair
    of them (a group of thousands of jobs has a few hundred). The smallest before value is the first of its sorted
    row; the ratios of medians and their changes come from ``_fast_stats.ratios_of_medians`` (``_ratio``'s
    floats). A job that needs its samples as lists (an interval NumPy did not give for before values > 0: the
    pure bootstrap names its overflow) takes ``_compare_values`` itself."""
    n_before, n_after = sizes
    befores, afters = made
    numbers, intervals, rank_sums, tie_terms, medians_before, medians_after = figures
    known = {}  # {(rank sum, tie term): (u, p, method)}
    for row, (number, ci, rank_sum, tie_term, median_before, median_after, first, ratio, change_pct) in enumerate(zip(
            numbers, intervals, rank_sums, tie_terms, medians_before, medians_after, befores[:, 0].tolist(),
            *_fast_stats.ratios_of_medians(medians_before, medians_after))):
        item = prepared[number]
        if ci is None and first > 0:
            sb, sa = befores[row].tolist(), afters[row].tolist()
            prepared[number] = _compare_values(sb, sa, sb, sa, item[2], item[3], min_samples, confidence, resamples,
                                               seed, None, (rank_sum, tie_term), (median_before, median_after))
            continue
        u_figures = known.get((rank_sum, tie_term))
        if u_figures is None:
            u_figures = known[rank_sum, tie_term] = _u_of_ranks(n_before, n_after, rank_sum, tie_term, tie_term > 0,
                                                                "auto", True)
        overflow = None
        if ratio is None and median_before > 0:
            overflow = "the ratio of medians (%.4g / %.4g) is beyond the float range" % (median_after, median_before)
        prepared[number] = _result(n_before, n_after, median_before, median_after, ratio,
                                   ci if first > 0 and overflow is None else None, change_pct, *u_figures, overflow,
                                   first, item[2], item[3], min_samples, confidence)


_NONES = itertools.repeat(None)


# The texts of a confidence level in the reasons: {confidence: (alpha, "%.4g" of alpha, "%.4g" of the level in %)}.
_LEVELS = {}
_LEVELS_MAX = 16


def _level(confidence):
    """``(alpha, "%.4g" of alpha, "%.4g" of the level in %)`` of a confidence level (kept per float level)."""
    # pylint: disable=unidiomatic-typecheck
    found = _LEVELS.get(confidence) if type(confidence) is float else None
    if found is None:
        alpha = round(1.0 - confidence, 12)  # 1 - 0.95 is 0.050000000000000044 in floating point
        found = (alpha, _num(alpha), _num(confidence * 100))
        if type(confidence) is float:
            if len(_LEVELS) >= _LEVELS_MAX:
                _LEVELS.pop(next(iter(_LEVELS)))
            _LEVELS[confidence] = found
    return found


def _short_reason(n_before, n_after, min_samples):
    short = [(side, n) for side, n in (("before", n_before), ("after", n_after)) if n < min_samples]
    return "%s: at least %d samples per side are needed to call a change." % (
        " and ".join("%s has %d sample%s" % (side, n, "" if n == 1 else "s") for side, n in short), min_samples)


def _compare_values(b, a, sb, sa, higher_is_better, threshold, min_samples, confidence, resamples, seed, ci=None,
                    ranked=None, medians=None):
    """``compare`` on checked lists of floats ``b``, ``a`` and their sorted copies; ``ci``: the bootstrap
    interval, ``ranked``: the U test's rank sum and tie term, ``medians``: the medians of the before and after
    samples, when already computed (``compare_many``)."""
    n_before, n_after = len(b), len(a)
    median_before, median_after = medians if medians is not None else (_sorted_median(sb), _sorted_median(sa))
    ratio = interval = change_pct = u = p = method = overflow = None
    if b and a:
        u, p, method = _u_figures(b, a, "auto", True, ranked)
        if median_before > 0:
            ratio = _ratio(median_after, median_before)
            if ratio is None:
                overflow = "the ratio of medians (%.4g / %.4g) is beyond the float range" % (median_after, median_before)
            else:
                change_pct = (ratio - 1.0) * 100.0
        if sb[0] > 0 and overflow is None:
            try:
                interval = ci if ci is not None else _bootstrap(sb, sa, confidence, resamples, seed)
            except CompareError as exc:
                overflow = str(exc)
    return _result(n_before, n_after, median_before, median_after, ratio, interval, change_pct, u, p, method, overflow,
                   b, higher_is_better, threshold, min_samples, confidence)


def _result(n_before, n_after, median_before, median_after, ratio, interval, change_pct, u, p, method, overflow,
            smallest, higher_is_better, threshold, min_samples, confidence):
    """The result dict of a comparison from its figures (``_compare_values``): the verdict and reason added.
    ``smallest``: the before samples (a list: its smallest is named) or their smallest value (a float)."""
    if n_before < min_samples or n_after < min_samples:
        verdict, reason = "not enough samples", _short_reason(n_before, n_after, min_samples)
    elif overflow is not None:
        ratio = change_pct = interval = None
        verdict, reason = "no clear change", "No change can be called: %s." % overflow
    elif ratio is None or interval is None:
        if type(smallest) is list:  # pylint: disable=unidiomatic-typecheck
            smallest = min(smallest)
        verdict, reason = "no clear change", ("The ratio of medians needs positive before samples (smallest %.4g), "
                                              "so no change can be called." % smallest)
    else:
        verdict, reason = _verdict(ratio, change_pct, interval, p, median_before, median_after, higher_is_better,
                                   threshold, confidence)
    return {
        "n_before": n_before, "n_after": n_after, "median_before": median_before, "median_after": median_after,
        "ratio": ratio, "ci": interval, "change_pct": change_pct, "u": u, "p_value": p, "method": method,
        "verdict": verdict, "reason": reason,
    }


# The reasons of "no clear change" by the criteria that failed (1: the U test, 2: the interval, 4: the threshold),
# each one format: "No clear change: " and the failed criteria's texts joined by "; ".
_FAILED_TEXTS = ("the U test is not significant (p = %.4g, needs < %s)",
                 "the %s%% interval of the ratio [%.4g, %.4g] does not exclude 1 on the side of the change",
                 "the change of %+.2f%% is below the %.4g%% threshold")
_NO_CLEAR = dict((mask, "No clear change: %s." % "; ".join(
    text for bit, text in enumerate(_FAILED_TEXTS) if mask & (1 << bit))) for mask in range(1, 8))


def _verdict(ratio, change_pct, interval, p, median_before, median_after, higher_is_better, threshold, confidence):
    """``(verdict, reason)`` of a comparison with enough samples, a ratio and an interval."""
    lo, hi = interval
    alpha, alpha_text, level_text = _level(confidence)
    up = ratio > 1.0
    failed = 0
    args = ()
    if not p < alpha:
        failed = 1
        args = (p, alpha_text)
    if not ((lo > 1.0) if up else (hi < 1.0)):
        failed |= 2
        args += (level_text, lo, hi)
    if not abs(ratio - 1.0) >= threshold - THRESHOLD_EPSILON:
        failed |= 4
        args += (change_pct, threshold * 100)
    if failed:
        return "no clear change", _NO_CLEAR[failed] % args
    if ratio == 1.0:
        return "no clear change", "No clear change: the medians are equal."
    direction = "Faster" if ((ratio > 1.0) if higher_is_better else (ratio < 1.0)) else "Slower"
    return direction.lower(), "%s: median %.4g -> %.4g (%+.2f%%), %s%% interval of the ratio [%.4g, %.4g], p = %.4g." % (
        direction, median_before, median_after, change_pct, level_text, lo, hi, p)


def _ratio(top, bottom):
    """``top / bottom`` (bottom > 0), or None when it overflows the float range."""
    try:
        ratio = top / bottom
    except OverflowError:
        return None
    return ratio if math.isfinite(ratio) and math.isfinite((ratio - 1.0) * 100.0) else None


def _sorted_median(values):
    """``_stats.median`` of values already sorted and checked (None for none)."""
    n = len(values)
    mid = n // 2
    return None if not n else values[mid] if n % 2 else _midpoint(values[mid - 1], values[mid])


def comparable(before_ctx, after_ctx):
    """Whether two records' contexts can be compared: ``(bool, reason)``.

    Not comparable: another host (``context.host``), or a tool whose version both contexts
    state and that differs (``context.versions``: kpt, git, python ...). A context that is not
    a mapping or lacks ``host`` is not comparable either: the baseline cannot be trusted.
    """
    for side, ctx in (("before", before_ctx), ("after", after_ctx)):
        if not isinstance(ctx, dict):
            return False, "the %s record has no context mapping" % side
        if not ctx.get("host"):
            return False, "the %s record's context has no host" % side
    if before_ctx["host"] != after_ctx["host"]:
        return False, "measured on host %s before and on host %s after" % (before_ctx["host"], after_ctx["host"])
    vb = before_ctx.get("versions") or {}
    va = after_ctx.get("versions") or {}
    if not isinstance(vb, dict) or not isinstance(va, dict):
        return False, "context.versions is not a mapping"
    common = sorted(set(vb) & set(va))
    changed = ["%s %s -> %s" % (tool, vb[tool], va[tool]) for tool in common if vb[tool] != va[tool]]
    if changed:
        return False, "versions differ: %s" % ", ".join(changed)
    return True, "same host %s and same versions of %s" % (
        before_ctx["host"], ", ".join(common) or "no tool stated on both sides")


_STR_ONLY = frozenset((str,))


def context_key(before_ctx, after_ctx):
    """A hashable key that decides ``comparable(before_ctx, after_ctx)``, or None when there is none.

    The key is the two hosts and the two ``versions`` mappings' items when both contexts are dicts
    whose host, version names and versions are all strings (what a results file holds): two pairs
    of contexts with equal keys get the same ``comparable`` answer, so a report's many records with
    the same contexts can share it. Anything else (no mapping, no or another kind of host or
    versions, a version that is not a string) has no key and is checked on its own.
    """
    # pylint: disable=unidiomatic-typecheck
    if type(before_ctx) is not dict or type(after_ctx) is not dict:
        return None
    before_host, after_host = before_ctx.get("host"), after_ctx.get("host")
    before_versions, after_versions = before_ctx.get("versions"), after_ctx.get("versions")
    if type(before_host) is not str or type(after_host) is not str or type(before_versions) is not dict or \
            type(after_versions) is not dict or not _STR_ONLY.issuperset(map(type, itertools.chain(
                before_versions, before_versions.values(), after_versions, after_versions.values()))):
        return None
    return before_host, after_host, tuple(before_versions.items()), tuple(after_versions.items())

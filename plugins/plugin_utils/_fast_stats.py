# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bootstrap intervals of many comparisons at once with NumPy, the same floats as ``_compare``.

Controller only (the report). ``_compare._bootstrap`` computes, per comparison, the ratios of the
resampled medians over the cells of a resample plan (the plan depends only on the two sample
sizes, the seed, the resamples and the confidence) and takes two type 7 percentiles. A report
compares thousands of records of the same sizes: ``bootstrap_many`` does the same arithmetic for
a whole group as arrays, one row per comparison:

* the sums ``a[i] + a[j]`` and ``b[k] + b[l]`` of the plan's index pairs (IEEE additions, as the
  pure path's ``operator.add``), the ratios ``top / bottom`` of the plan's cells (one division each);
* the values at the two ranks of each end: the cells ordered by ratio, their weights cumulated,
  the first cell whose cumulated weight passes the rank (ties order cells of equal ratios, which
  gives the same value); the high end reads the cells in descending order, as the pure path does;
* the interpolation ``v0 + (h - lo) * (v1 - v0)``: one subtraction, one multiplication and one
  addition per row, each rounded as Python rounds it (NumPy does not fuse them).

The U test's rank sums come out of ``rank_sums`` the same way: per value of ``before``, how many
pooled values are below it and how many are not above (``bisect_left`` and ``bisect_right`` of the
pure path), as integers (the before values' own share of them is ``n1 ** 2``, so only the after values
are compared); twice the rank sum is their exact sum, halved once; the tie term ``sum(t^3 - t)`` over
tied groups is the sum over the pooled values of ``c^2 - 1`` (``c``: how many pooled values equal it),
an integer, counted only in the rows whose sorted pooled values repeat. The p-value is then computed by
``_compare._u_figures`` as ever. ``medians`` takes the medians of a group's sorted rows (the same IEEE
additions and halvings as ``_stats._midpoint``). ``sorted_arrays`` sorts a group's samples, already checked to
be finite floats, with NumPy's stable sort: the floats ``sorted`` gives, in its order (a ``-0.0`` and a ``0.0``
stay as they came, as in ``sorted``), so the medians and the smallest values read from them are its very floats.

So the intervals and the U statistics are the very floats the pure path gives (tests/unit/plugins/plugin_utils/
test_compare_fast.py checks both paths agree on many fixtures, and bench/check_report_bytes.py that
the report's files are byte-identical). NumPy is optional: ``available()`` is False without it, or
when ``O2EDGE_PERF_STATS=pure`` is set, and the report then takes the pure path (the same bytes).
It is imported only when there are enough comparisons to pay for its import (``MIN_GROUP`` of the
same sizes, ``MIN_TOTAL`` in all).
"""

from __future__ import annotations

import os
import sys

# Rank sums are taken at once for groups whose two sides hold at most this many samples together
# (an array of rows x pooled x pooled comparisons).
MAX_POOLED = 64
# Below this many comparisons of the same sizes the pure path is as fast.
MIN_GROUP = 64
# Below this many comparisons in such groups, importing NumPy costs more than it saves (measured:
# bench/bench_perf_report.py --sweep, 1,000 records are faster on the pure path): NumPy is left alone.
MIN_TOTAL = 4000
ENV_STATS = "O2EDGE_PERF_STATS"

_NUMPY = []  # [module or None] once looked for
# Read by OpenBLAS when NumPy loads it. Nothing here uses BLAS (sorting, sums, indexing only), but with its
# default OpenBLAS starts a thread per further CPU at the import, and those threads spin on the CPU the
# report's second process needs: a 10,000-record report with its baseline took 1.034 s against 0.999 s with
# one thread (medians of 10, interleaved; bench/report_worker.py, 2 CPUs).
BLAS_THREADS = "OPENBLAS_NUM_THREADS"


def numpy_module(load=True):
    """NumPy, or None when it is not installed or ``O2EDGE_PERF_STATS=pure`` asks for the pure path;
    with ``load`` False, only when it is imported already (by this report or anything else).

    When this imports NumPy, OpenBLAS is loaded with one thread (``BLAS_THREADS``) unless the environment
    sets its own count; the environment is left as it was."""
    if os.environ.get(ENV_STATS, "") == "pure":
        return None
    if not load and not _NUMPY and "numpy" not in sys.modules:
        return None
    if not _NUMPY:
        added = BLAS_THREADS not in os.environ
        if added:
            os.environ[BLAS_THREADS] = "1"
        try:
            import numpy  # pylint: disable=import-outside-toplevel
        except ImportError:
            numpy = None
        finally:
            if added:
                os.environ.pop(BLAS_THREADS, None)
        _NUMPY.append(numpy)
    return _NUMPY[0]


def available(count=None):
    """True when the vectorised path can be used (for ``count`` comparisons: when there are enough)."""
    return (count is None or count >= MIN_TOTAL) and numpy_module() is not None


def _at_ranks(np, ratios, weights, first, second, descending):
    """Per row, the values at 0-based ranks ``first <= second`` of the row's ratios each standing
    ``weights[i]`` times, in ascending (or descending) order: ``_compare._at_ranks`` row by row.

    NumPy's default sort is not stable: equal ratios may come in another order than the pure path's
    stable sort, which changes which of them is read, not the value. Equal ratios are the same bits
    but for ``-0.0`` and ``0.0`` (an after value ``-0.0``), and the sign of a zero read here never
    reaches the interval: ``v0 + f * (v1 - v0)`` with ``f >= 0`` and zeros ``v0``, ``v1`` is ``0.0``
    whatever their signs (``-0.0 + 0.0``, ``0.0 + -0.0`` and ``0.0 + 0.0`` are all ``0.0``; the one way
    to ``-0.0``, ``-0.0 + -0.0``, needs ``v1 - v0 = -0.0``, that is ``v0 = 0.0``)."""
    order = np.argsort(-ratios if descending else ratios, axis=1)
    cumulated = np.cumsum(weights[order], axis=1)
    rows = np.arange(ratios.shape[0])
    # (only the two cells read are looked up: ratios[row, order[row, i]] is the i-th of the row's sorted ratios)
    return (ratios[rows, order[rows, (cumulated > first).argmax(axis=1)]],
            ratios[rows, order[rows, (cumulated > second).argmax(axis=1)]])


def arrays(befores, afters):
    """The before and after samples of one group (lists of lists of floats, each side of one length) as two
    arrays, one row per comparison: what ``medians``, ``rank_sums`` and ``bootstrap_many`` take."""
    np = numpy_module()
    return np.array(befores, dtype=np.float64), np.array(afters, dtype=np.float64)


def sorted_arrays(befores, afters, count):
    """``arrays`` of the unsorted samples of one group, each side's finite floats in one list (``count`` rows one
    after the other), each row sorted by NumPy's stable sort: the floats ``sorted`` gives, in its order (equal
    values, ``-0.0`` and ``0.0``, kept as they come)."""
    np = numpy_module()
    return (np.sort(np.array(befores, dtype=np.float64).reshape(count, -1), axis=1, kind="stable"),
            np.sort(np.array(afters, dtype=np.float64).reshape(count, -1), axis=1, kind="stable"))


def bootable(befores, afters, bound):
    """Per row of two arrays of sorted rows, whether ``bootstrap_many`` can take it (a list of booleans): every
    before value > 0, every after value >= 0, none above ``bound`` (so no sum of two overflows)."""
    return ((befores[:, 0] > 0) & (afters[:, 0] >= 0) & (afters[:, -1] <= bound) & (befores[:, -1] <= bound)).tolist()


def rows(befores, afters, chosen):
    """The rows of the two arrays of a group (``arrays``) where ``chosen`` (a list of booleans) is true."""
    if all(chosen):
        return befores, afters
    np = numpy_module()
    mask = np.array(chosen, dtype=bool)
    return befores[mask], afters[mask]


def medians(values):
    """The median of each row of ``values`` (an array of sorted rows), as ``_compare._sorted_median`` takes it:
    the middle value, or for an even length ``(lo + hi) / 2``, ``lo / 2 + hi / 2`` when the sum overflows
    (``_stats._midpoint``; the same IEEE operations, so the same floats)."""
    np = numpy_module()
    n = values.shape[1]
    mid = n // 2
    if n % 2:
        return values[:, mid].tolist()
    lo, hi = values[:, mid - 1], values[:, mid]
    with np.errstate(over="ignore", invalid="ignore"):
        out = (lo + hi) / 2.0
        overflow = ~np.isfinite(out)
        if overflow.any():
            out[overflow] = lo[overflow] / 2.0 + hi[overflow] / 2.0
    return out.tolist()


def ratios_of_medians(medians_before, medians_after):
    """``(ratios, changes)``: per pair of medians (two lists of floats), ``_compare._ratio(after, before)`` and
    ``(ratio - 1.0) * 100.0``, both None when the before median is not > 0 or either is not finite (the same IEEE
    division, subtraction and multiplication as Python's)."""
    np = numpy_module()
    bottom = np.array(medians_before, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ratio = np.array(medians_after, dtype=np.float64) / bottom
        change = (ratio - 1.0) * 100.0
    ok = ((bottom > 0) & np.isfinite(ratio) & np.isfinite(change)).tolist()
    if all(ok):
        return ratio.tolist(), change.tolist()
    return ([r if good else None for r, good in zip(ratio.tolist(), ok)],
            [c if good else None for c, good in zip(change.tolist(), ok)])


def bootstrap_many(befores, afters, pruned, ranks):
    """The intervals ``[lo, hi]`` (lists of two floats) of each comparison of one group.

    ``befores``, ``afters``: lists of sorted lists of floats, every ``before`` of one length and
    every ``after`` of another, each before value > 0, each after value >= 0 and no value so large
    that a sum of two overflows (``_compare`` sends only such groups); ``pruned``: the plan's
    ``(pairs, low cells, high cells)``; ``ranks``: ``(h, lo, hi)`` of the low then the high
    percentile and the number of resamples. An interval that is not finite comes back as None
    (``_compare`` then takes the pure path, which names the overflow).
    """
    np = numpy_module()
    (a_lower, a_upper, b_lower, b_upper), low, high = pruned
    (h_low, lo_low, hi_low), (h_high, lo_high, hi_high), resamples = ranks
    a = np.asarray(afters, dtype=np.float64)
    b = np.asarray(befores, dtype=np.float64)
    tops = a[:, np.asarray(a_lower, dtype=np.intp)] + a[:, np.asarray(a_upper, dtype=np.intp)]
    bottoms = b[:, np.asarray(b_lower, dtype=np.intp)] + b[:, np.asarray(b_upper, dtype=np.intp)]

    def ratios(cells):
        return (tops[:, np.asarray(cells[0], dtype=np.intp)] / bottoms[:, np.asarray(cells[1], dtype=np.intp)],
                np.asarray(cells[2], dtype=np.int32))  # (the weights of a plan add up to its resamples, <= 20,000)

    # A ratio or an interpolation that overflows (tiny before values, huge after values) gives an interval that is
    # not finite, which is sent back as None: no RuntimeWarning of NumPy's on the report's standard error.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        low_ratios, low_weights = ratios(low)
        low0, low1 = _at_ranks(np, low_ratios, low_weights, lo_low, hi_low, False)
        top = resamples - 1
        high_ratios, high_weights = ratios(high)
        high1, high0 = _at_ranks(np, high_ratios, high_weights, top - hi_high, top - lo_high, True)
        lows = low0 + (h_low - lo_low) * (low1 - low0)
        highs = high0 + (h_high - lo_high) * (high1 - high0)
    finite = np.isfinite(lows) & np.isfinite(highs)
    return [[lo, hi] if ok else None for lo, hi, ok in zip(lows.tolist(), highs.tolist(), finite.tolist())]


def rank_sums(befores, afters):
    """``(rank sum of before, sum of t^3 - t over the tied groups)`` of each comparison of one group
    (every before of one length, every after of another, ``MAX_POOLED`` at most together)."""
    return list(zip(*rank_sum_lists(befores, afters)))


def rank_sum_lists(befores, afters):
    """``rank_sums`` as two lists: the rank sums of before, the tie terms.

    Twice the rank sum of ``before`` is the sum over its values ``x_i`` of ``below_i + not_above_i + 1``
    (pooled values below it, pooled values not above it). The before values' own part of it is
    ``n1 ** 2`` whatever they are: two before values ``x_i < x_j`` add 0 to ``x_i``'s counts and 2
    to ``x_j``'s, two equal ones 1 to each, and each value counts itself once in ``not_above``; so
    only the after values are compared with the before values. The tie term is 0 for a row whose
    sorted pooled values never repeat; the rows where some do count every value's equals."""
    np = numpy_module()
    x = np.asarray(befores, dtype=np.float64)
    y = np.asarray(afters, dtype=np.float64)
    n1 = x.shape[1]
    below = (y[:, None, :] < x[:, :, None]).sum(axis=(1, 2), dtype=np.int64)
    not_above = (y[:, None, :] <= x[:, :, None]).sum(axis=(1, 2), dtype=np.int64)
    twice = below + not_above + (n1 * n1 + n1)
    pooled = np.concatenate((x, y), axis=1)
    ordered = np.sort(pooled, axis=1)
    tied = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    ties = np.zeros(pooled.shape[0], dtype=np.int64)
    if tied.size:
        some = pooled[tied]
        equal = (some[:, :, None] == some[:, None, :]).sum(axis=2, dtype=np.int64)
        ties[tied] = (equal * equal - 1).sum(axis=1)
    return [t / 2.0 for t in twice.tolist()], ties.tolist()


def median_resamples(rng, values, resamples):
    """The sorted medians of ``resamples`` resamples of ``values`` (with replacement), drawn as
    ``values[int(rng.random() * n)]`` one after the other would draw them; None without NumPy, or
    when it is not imported yet (the report's comparisons import it when there are enough).

    NumPy's ``RandomState`` given the state of ``rng`` (a ``random.Random``: the same MT19937) makes
    the same doubles as ``rng.random()`` (53 bits from two 32-bit words, ``(a >> 5) * 2^26 + (b >> 6)``
    over ``2^53``); the index is the truncated product with ``n``; each row's median is the middle
    value of the sorted row or the half-sum of the two middle ones, as ``_verdicts._median`` takes it.
    """
    np = numpy_module(load=False)  # one paired comparison does not pay for NumPy's import
    if np is None:
        return None
    dummy, state, dummy = rng.getstate()
    generator = np.random.RandomState()
    generator.set_state(("MT19937", np.array(state[:-1], dtype=np.uint32), state[-1]))
    n = len(values)
    draws = (generator.random_sample(resamples * n).reshape(resamples, n) * n).astype(np.intp)
    rows = np.sort(np.asarray(values, dtype=np.float64)[draws], axis=1)
    mid = n // 2
    medians = rows[:, mid] if n % 2 else (rows[:, mid - 1] + rows[:, mid]) / 2.0
    return np.sort(medians).tolist()

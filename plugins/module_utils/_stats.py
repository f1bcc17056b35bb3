# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Descriptive statistics for benchmark samples (stdlib only, Python 3.9+).

Methods (stated once, here and in docs/statistics.md):

* ``median`` is the middle value (mean of the two middle values for an even count).
* ``p95`` (and :func:`percentile` in general) uses linear interpolation between the
  closest ranks: Hyndman & Fan type 7, numpy's default ``method='linear'``, Excel's
  ``PERCENTILE.INC``. For sorted ``x[0..n-1]`` and ``q`` in [0, 100]:
  ``h = (n - 1) * q / 100``; ``p = x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)])``.
* ``stdev`` is the sample standard deviation (Bessel's correction, n - 1), as hyperfine
  reports it; it is missing (None) for a single sample: it cannot be measured from one run.
* ``mad`` is the raw median absolute deviation ``median(|x - median(x)|)`` (not scaled by
  1.4826).
* Outliers: the modified z-score of Iglewicz & Hoaglin, ``M = 0.6745 * (x - median) / MAD``;
  a sample is an outlier when ``|M| > 3.5``. hyperfine uses the same robust score (its
  ``(x - median) / MAD``) but only warns at a much higher threshold. When MAD is 0 (more than
  half the samples are identical), any sample that differs from the median is an outlier,
  as in hyperfine (which divides by machine epsilon).
* A slow first run is flagged when the first counted sample is itself a high outlier
  (``M > 3.5``), as hyperfine's "first run was significantly slower" warning does.

A figure that cannot be computed (no samples at all) is ``None``: never made up. Samples of any
finite size (up to the largest float, down to the smallest subnormal) never make a figure
infinite or NaN, tiny samples beside a huge one keep their deviations, and no size threshold
decides how samples are taken:

* order statistics (min, median, percentiles, max) are taken on the samples as they are;
* the mean is ``fsum`` of the samples divided by their count; only when a sum overflows is it
  taken on the samples scaled down by the power of two the count needs
  (``2 ** count.bit_length()``), and the sum is scaled back before the division when it fits;
* the deviations of ``mad`` and of the z-scores are the samples' differences from the median;
  only when one overflows are they taken on halved samples;
* the standard deviation squares the deviations from the mean scaled so the largest is about 1
  (a power of two: exact), so squares neither overflow (``1e200``) nor underflow (``1e-200``).

A figure that the float range cannot hold once scaled back (the standard deviation of
``-1e308`` and ``1e308``) is ``None`` as well.
"""

from __future__ import annotations

import math

STAT_KEYS = ("min", "median", "mean", "p95", "max", "stdev", "mad")
OUTLIER_THRESHOLD = 3.5
MODIFIED_Z_FACTOR = 0.6745


def _check(samples):
    values = []
    for value in samples:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("sample %r is not a number" % (value,))
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            raise ValueError("sample %r is not finite" % (value,))
        values.append(value)
    return values


def _midpoint(a, b):
    """``(a + b) / 2`` without overflowing (the same float whenever ``a + b`` is finite)."""
    mid = (a + b) / 2.0
    return mid if math.isfinite(mid) else a / 2.0 + b / 2.0


def _unscale(value, exponent):
    """``value * 2 ** exponent``, or None when the float range cannot hold it."""
    if not exponent:
        return value
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return None


def _diffs(values):
    """``(exponent, differences)``: each value minus the median, times ``2 ** -exponent``.

    The exponent is 0 unless a difference overflows (values of both signs near the float limit);
    then it is 1 and the differences are those of the halved values, which cannot overflow."""
    med = median(values)
    diffs = [v - med for v in values]
    if all(math.isfinite(d) for d in diffs):
        return 0, diffs
    return 1, [v / 2.0 - med / 2.0 for v in values]


def median(samples):
    """Median of the samples, None when there are none."""
    values = sorted(_check(samples))
    n = len(values)
    if n == 0:
        return None
    mid = n // 2
    if n % 2:
        return values[mid]
    return _midpoint(values[mid - 1], values[mid])


def percentile(samples, q):
    """Percentile ``q`` (0..100) by linear interpolation (Hyndman & Fan type 7)."""
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q <= 100:
        raise ValueError("percentile q must be a number between 0 and 100, got %r" % (q,))
    values = sorted(_check(samples))
    n = len(values)
    if n == 0:
        return None
    if n == 1:
        return values[0]
    h = (n - 1) * (q / 100.0)
    lo = int(math.floor(h))
    hi = min(lo + 1, n - 1)
    value = values[lo] + (h - lo) * (values[hi] - values[lo])
    if math.isfinite(value):
        return value
    # values[hi] - values[lo] overflowed (samples of both signs near the float limit)
    return values[lo] * (1.0 - (h - lo)) + values[hi] * (h - lo)


def mean(samples):
    """Arithmetic mean (``math.fsum``), None when there are no samples."""
    values = _check(samples)
    n = len(values)
    if not n:
        return None
    try:
        return math.fsum(values) / n
    except OverflowError:  # a partial sum overflowed; scaled by 2 ** -bits (> 1 / n) no sum can
        bits = n.bit_length()
        total = math.fsum(math.ldexp(v, -bits) for v in values)
        whole = _unscale(total, bits)  # the sum itself, when only a partial sum overflowed
        return whole / n if whole is not None else _unscale(total / n, bits)


def stdev(samples):
    """Sample standard deviation (n - 1); None for fewer than two samples."""
    values = _check(samples)
    n = len(values)
    if n < 2:
        return None
    m = mean(values)
    deviations = [v - m for v in values]
    halved = 0
    if not all(math.isfinite(d) for d in deviations):  # a sample and the mean of both signs near the limit
        halved, deviations = 1, [v / 2.0 - m / 2.0 for v in values]
    top = max(abs(d) for d in deviations)
    if not top:
        return 0.0
    exponent = math.frexp(top)[1]  # the largest scaled deviation is in [0.5, 1): its square cannot overflow
    squares = math.fsum(math.ldexp(d, -exponent) ** 2 for d in deviations)
    return _unscale(math.sqrt(squares / (n - 1)), exponent + halved)


def mad(samples):
    """Raw median absolute deviation; None when there are no samples."""
    values = _check(samples)
    if not values:
        return None
    exponent, diffs = _diffs(values)
    return _unscale(median([abs(d) for d in diffs]), exponent)


def modified_zscores(samples):
    """Iglewicz-Hoaglin modified z-scores, one per sample (may be +/-inf when MAD is 0)."""
    values = _check(samples)
    if not values:
        return []
    diffs = _diffs(values)[1]  # the scores do not change with the scale of the differences
    dev = median([abs(d) for d in diffs])
    scores = []
    for diff in diffs:
        if dev > 0:
            scores.append(MODIFIED_Z_FACTOR * diff / dev)
        elif diff == 0:
            scores.append(0.0)
        else:
            scores.append(math.copysign(float("inf"), diff))
    return scores


def outliers(samples, threshold=OUTLIER_THRESHOLD):
    """Indices of the samples whose |modified z-score| exceeds ``threshold``."""
    return [i for i, z in enumerate(modified_zscores(samples)) if abs(z) > threshold]


def slow_first_run(samples, threshold=OUTLIER_THRESHOLD):
    """True when the first sample is a high outlier (needs at least 3 samples).

    With two samples the first one's modified z-score is 0 or +/-0.6745 whatever the values
    (MAD is half their distance), so the guard only matters for thresholds below that: one
    sample more than the other is not a "first run slower than the rest".
    """
    values = _check(samples)
    if len(values) < 3:
        return False
    return modified_zscores(values)[0] > threshold


def _round(value, digits):
    if value is None or digits is None:
        return value
    return round(value, digits)


def summarize(samples, digits=6):
    """The ``stats`` mapping of a record.

    Keys: the seven figures of ``STAT_KEYS`` (None when no sample exists), plus
    ``outliers`` (indices into ``samples``) and ``slow_first_run`` (bool).
    """
    values = _check(samples)
    result = {
        "min": min(values) if values else None,
        "median": median(values),
        "mean": mean(values),
        "p95": percentile(values, 95),
        "max": max(values) if values else None,
        "stdev": stdev(values),
        "mad": mad(values),
    }
    result = dict((k, _round(v, digits)) for k, v in result.items())
    result["outliers"] = outliers(values)
    result["slow_first_run"] = slow_first_run(values)
    return result

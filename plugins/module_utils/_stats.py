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

A figure that cannot be computed (no samples at all) is ``None``: never made up. Huge finite
samples (up to the largest float) never make a figure infinite or NaN: sums and squares are
taken on the samples scaled by a power of two (exact), and a figure that the float range cannot
hold once scaled back (the standard deviation of ``-1e308`` and ``1e308``) is ``None`` as well.
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


# Above this magnitude sums and squares of samples may overflow: they are taken on scaled samples.
_BIG = 2.0 ** 400


def _midpoint(a, b):
    """``(a + b) / 2`` without overflowing (the same float whenever ``a + b`` is finite)."""
    mid = (a + b) / 2.0
    return mid if math.isfinite(mid) else a / 2.0 + b / 2.0


def _scale(values):
    """``(exponent, scaled values)``: the values times ``2 ** -exponent`` (exact), largest about 1 when big."""
    top = max(abs(v) for v in values) if values else 0.0
    if top <= _BIG:
        return 0, values
    exponent = math.frexp(top)[1]
    return exponent, [math.ldexp(v, -exponent) for v in values]


def _unscale(value, exponent):
    """``value * 2 ** exponent``, or None when the float range cannot hold it."""
    if value is None or not exponent:
        return value
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return None


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
    if not values:
        return None
    exponent, scaled = _scale(values)
    return _unscale(math.fsum(scaled) / len(scaled), exponent)


def stdev(samples):
    """Sample standard deviation (n - 1); None for fewer than two samples."""
    values = _check(samples)
    n = len(values)
    if n < 2:
        return None
    exponent, scaled = _scale(values)
    m = math.fsum(scaled) / n
    return _unscale(math.sqrt(math.fsum((v - m) ** 2 for v in scaled) / (n - 1)), exponent)


def mad(samples):
    """Raw median absolute deviation; None when there are no samples."""
    values = _check(samples)
    if not values:
        return None
    exponent, scaled = _scale(values)
    med = median(scaled)
    return _unscale(median([abs(v - med) for v in scaled]), exponent)


def modified_zscores(samples):
    """Iglewicz-Hoaglin modified z-scores, one per sample (may be +/-inf when MAD is 0)."""
    values = _check(samples)
    if not values:
        return []
    values = _scale(values)[1]  # the scores do not change with the scale; the differences stay finite
    med = median(values)
    dev = mad(values)
    scores = []
    for v in values:
        diff = v - med
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

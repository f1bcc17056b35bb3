# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of _stats.py (see docs/mutation.md).

Each test is named for the bug it catches; the samples are chosen so that the exact figure is known
(powers of two near the float limit, where a sum or a difference overflows).
"""
from __future__ import annotations

import math
import random

from ansible_collections.o2edge.perf.plugins.module_utils import _stats as st

M = 2.0 ** 1023  # the largest power of two a float holds: M + M and M - (-M) overflow


class TestOverflowFallbacks:
    def test_median_of_two_near_limit_values_is_their_exact_midpoint(self):
        # (a + b) / 2 overflows here; the fallback a / 2 + b / 2 must give the midpoint itself,
        # not a weighted or a signed mix of the two.
        assert st.median([M, 1.5 * M]) == 1.25 * M

    def test_percentile_across_both_signs_near_the_limit_is_the_interpolated_value(self):
        # values[hi] - values[lo] overflows (lo negative, hi positive): the weighted form must give
        # the same value as the interpolation would in exact arithmetic.
        assert st.percentile([-M, M], 50) == 0.0
        assert st.percentile([-M, M], 25) == -0.5 * M
        assert st.percentile([-M, M], 75) == 0.5 * M
        # lo = 1, h = 1.5: the weights are h - lo = 0.5, not h + lo or 1 - (h + lo)
        assert st.percentile([-M, -M, M], 75) == 0.0
        # lo = 1, h = 1.25 (q = 62.5 of 3 samples): weights 0.75 and 0.25
        assert st.percentile([-M, -M, M], 62.5) == -0.5 * M


class TestScaling:
    def test_stdev_of_samples_far_above_the_scaling_bound_is_exact(self):
        # 2 ** 600 is scaled before squaring; unscaled, (v - m) ** 2 overflows (OverflowError).
        big = 2.0 ** 600
        assert st.stdev([0.0, big]) == st.stdev([0.0, 1.0]) * big
        assert st.stdev([0.0, big, -big]) == big
        assert st.summarize([0.0, big])["mean"] == big / 2

    def test_ordinary_samples_are_not_scaled_so_a_tiny_deviation_keeps_every_bit(self):
        # Scaling by a power of two is exact except for subnormal values, which lose bits: the samples
        # of ordinary size (here at most 1000) must be taken as they are.
        tiny = 4e-320  # subnormal, not a multiple of 2 ** -1064
        assert st.mad([0.0, tiny, 1000.0]) == tiny
        assert st.median([0.0, tiny, 1000.0]) == tiny


def _textbook(values):
    """mean, stdev and mad by their formulas, unguarded: right whenever no sum, square or difference leaves the float range."""
    n = len(values)
    m = math.fsum(values) / n
    med = st.median(values)
    return m, math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1)), st.median([abs(v - med) for v in values])


class TestNoThreshold:
    """No magnitude threshold decides how samples are taken: the fallbacks start where the float range ends
    (a sum or a difference overflows), and squares are of scaled deviations. Bugs: a threshold that scales
    samples which need no scaling (tiny samples beside a huge one flattened to zero), squares that underflow,
    a fallback scale too small (overflow) or too large (bits lost), a halved difference not scaled back."""

    def test_ordinary_samples_give_the_textbook_figures_bit_for_bit(self):
        rng = random.Random(15)
        for dummy in range(500):
            values = [rng.choice((1e-4, 1e-2, 1.0, 1e3)) * rng.random() for dummy in range(rng.randint(2, 30))]
            assert (st.mean(values), st.stdev(values), st.mad(values)) == _textbook(values), values

    def test_tiny_samples_beside_a_huge_one_keep_their_deviations(self):
        values = [1e200, 1e-300, 2e-300, 3e-300, 5e-300]  # 1e200 made the old code scale them all to zero
        dev = st.median([abs(v - 3e-300) for v in values])
        assert dev > 0 and st.mad(values) == dev
        assert st.modified_zscores(values)[1:] == [st.MODIFIED_Z_FACTOR * (v - 3e-300) / dev for v in values[1:]]
        assert st.outliers(values) == [0]

    def test_the_deviations_of_tiny_samples_are_not_squared_to_zero(self):
        tiny = 2.0 ** -700  # its square is below the smallest float
        assert st.stdev([tiny, 2 * tiny, 3 * tiny]) == tiny
        assert st.stdev([0.0, tiny]) == st.stdev([0.0, 1.0]) * tiny

    def test_a_mean_whose_partial_sums_overflow(self):
        assert st.mean([1.7e308] * 5) == 1.7e308  # scaled by less than 2 ** -3 the five would overflow again
        assert st.mean([M, M, -M, -M, 3.0]) == 0.6
        # the sum (2 ** -1071) is scaled back before the division: 2 ** -1071 / 5 rounds to 2 ** -1073;
        # scaled by 2 ** -4 instead of 2 ** -3 it would vanish (mean 0.0)
        assert st.mean([M, M, -M, -M, 2.0 ** -1071]) == 2.0 ** -1073

    def test_differences_from_the_median_that_overflow_are_halved_and_scaled_back(self):
        values = [-1.5 * M, M, 1.5 * M]  # -1.5M - M overflows
        assert st.mad(values) == 0.5 * M
        assert st.modified_zscores(values) == [st.MODIFIED_Z_FACTOR * -5.0, 0.0, st.MODIFIED_Z_FACTOR]

    def test_deviations_from_the_mean_that_overflow_are_halved_and_scaled_back(self):
        small = [-1.5, 1.0, 1.0, 1.0, 1.5]  # the mean is 0.6: -1.5M - 0.6M overflows
        assert st.stdev([v * M for v in small]) == st.stdev(small) * M
        assert st.stdev([-1.7e308, 1.7e308]) is None  # beyond the float range
        assert st.stdev([5.0, 5.0, 5.0]) == 0.0

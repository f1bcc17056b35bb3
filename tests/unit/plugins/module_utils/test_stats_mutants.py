# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of _stats.py (see docs/mutation.md).

Each test is named for the bug it catches; the samples are chosen so that the exact figure is known
(powers of two near the float limit, where a sum or a difference overflows).
"""
from __future__ import annotations

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

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import math
import re
import statistics

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _stats as st


def test_known_values_odd():
    s = st.summarize([3, 1, 2, 5, 4])
    assert s["min"] == 1 and s["max"] == 5
    assert s["median"] == 3
    assert s["mean"] == 3
    # type 7: h = 4 * 0.95 = 3.8 -> 4 + 0.8 * (5 - 4)
    assert s["p95"] == pytest.approx(4.8)
    assert s["stdev"] == pytest.approx(statistics.stdev([1, 2, 3, 4, 5]))
    assert s["mad"] == 1  # |x-3| = 2,1,0,1,2 -> median 1
    assert s["outliers"] == [] and s["slow_first_run"] is False


def test_known_values_even_and_percentiles():
    data = [10, 20, 30, 40]
    assert st.median(data) == 25
    assert st.percentile(data, 0) == 10
    assert st.percentile(data, 100) == 40
    assert st.percentile(data, 50) == 25
    # numpy.percentile([10,20,30,40], 95) == 38.5
    assert st.percentile(data, 95) == pytest.approx(38.5)
    assert st.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == pytest.approx(9.55)


def test_percentile_matches_statistics_quantiles_inclusive():
    data = [0.212, 0.208, 0.230, 0.199, 0.251, 0.204, 0.219]
    cuts = statistics.quantiles(data, n=100, method="inclusive")  # same as type 7
    assert st.percentile(data, 95) == pytest.approx(cuts[94])
    assert st.percentile(data, 25) == pytest.approx(cuts[24])


def test_one_sample():
    s = st.summarize([0.5])
    assert s["min"] == s["median"] == s["mean"] == s["p95"] == s["max"] == 0.5
    assert s["stdev"] is None  # cannot be measured from one run
    assert s["mad"] == 0
    assert s["outliers"] == [] and s["slow_first_run"] is False


def test_no_samples_all_failures():
    s = st.summarize([])
    for key in st.STAT_KEYS:
        assert s[key] is None
    assert s["outliers"] == [] and s["slow_first_run"] is False


def test_outlier_modified_zscore():
    data = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 5.0]
    # median 1.00, MAD 0.01 -> z(5.0) = 0.6745 * 4 / 0.01 = 269.8
    assert st.outliers(data) == [6]
    z = st.modified_zscores(data)
    assert z[6] == pytest.approx(0.6745 * 4.0 / 0.01)
    assert st.summarize(data)["outliers"] == [6]


def test_outlier_threshold_boundary():
    # median 10, MAD 1; z = 0.6745 * d: d=5 -> 3.37 (not), d=6 -> 4.05 (outlier)
    base = [9, 10, 11, 9, 10, 11, 10]
    assert st.outliers(base + [15]) == []
    assert st.outliers(base + [16]) == [7]
    assert st.outliers(base + [4]) == [7]  # low outliers count too


def test_zero_mad():
    data = [2.0, 2.0, 2.0, 2.0, 2.5]
    assert st.mad(data) == 0
    assert st.outliers(data) == [4]
    assert math.isinf(st.modified_zscores(data)[4])
    assert st.outliers([1.0, 1.0, 1.0]) == []


def test_slow_first_run():
    assert st.slow_first_run([3.0, 1.0, 1.01, 0.99, 1.0, 1.02])
    assert st.summarize([3.0, 1.0, 1.01, 0.99, 1.0, 1.02])["slow_first_run"] is True
    assert not st.slow_first_run([1.0, 3.0, 1.01, 0.99, 1.0])  # a later slow run is only an outlier
    assert not st.slow_first_run([0.5, 1.0, 1.01, 0.99, 1.0])  # a fast first run is not slow
    assert not st.slow_first_run([3.0, 1.0])  # too few samples to tell


def test_slow_first_run_needs_three_samples():
    # With two samples the first one's modified z-score is always +/-0.6745 (MAD is half their
    # distance), so the "at least 3 samples" guard only shows with a threshold below that.
    assert st.modified_zscores([3.0, 1.0])[0] == pytest.approx(0.6745)
    assert not st.slow_first_run([3.0, 1.0], threshold=0.5)  # n = 2: too few to tell
    assert not st.slow_first_run([3.0], threshold=-1.0)  # n = 1 (z is 0 > -1, but too few)
    assert st.slow_first_run([3.0, 1.0, 1.0])  # n = 3 is enough (MAD 0: z = +inf)
    assert st.slow_first_run([3.0, 1.0, 1.1], threshold=0.5)  # n = 3 with the lowered threshold
    assert not st.slow_first_run([1.0, 1.0, 3.0])  # the slow run is not the first


def test_rejects_bad_samples():
    with pytest.raises(TypeError):
        st.summarize([1.0, "2"])
    with pytest.raises(TypeError):
        st.summarize([True])
    with pytest.raises(ValueError):
        st.summarize([float("nan")])
    with pytest.raises(ValueError):
        st.percentile([1.0], 101)


def test_rounding():
    s = st.summarize([1 / 3.0, 2 / 3.0], digits=3)
    assert s["mean"] == 0.5 and s["min"] == 0.333


# --- mutation-testing kills (docs/mutation.md) -------------------------------------------


@pytest.mark.parametrize("bad, error, message", [
    ("2", TypeError, r"sample '2' is not a number"),
    (True, TypeError, r"sample True is not a number"),
    (None, TypeError, r"sample None is not a number"),
    (float("nan"), ValueError, r"sample nan is not finite"),
    (float("-inf"), ValueError, r"sample -inf is not finite"),
])
def test_bad_sample_message_is_exact(bad, error, message):
    # The operator reads which sample was refused and why; the message is checked whole.
    with pytest.raises(error) as err:
        st.summarize([1.0, bad])
    assert re.fullmatch(message, str(err.value)), str(err.value)


@pytest.mark.parametrize("q", [True, False, "50", None, -0.1, 100.1, 101])
def test_percentile_q_refused_bool_string_or_out_of_range(q):
    # A bool is not a percentile (True == 1 would quietly give p1); a string must not reach the
    # comparison (TypeError); the message names the bad q whole.
    with pytest.raises(ValueError) as err:
        st.percentile([1.0, 2.0], q)
    assert re.fullmatch(r"percentile q must be a number between 0 and 100, got %s" % re.escape(repr(q)),
                        str(err.value)), str(err.value)


def test_percentile_two_samples_interpolates():
    # n = 2 is the first count that interpolates; only n = 1 short-cuts to the single value.
    assert st.percentile([1.0, 3.0], 0) == 1.0
    assert st.percentile([1.0, 3.0], 50) == 2.0
    assert st.percentile([1.0, 3.0], 100) == 3.0
    assert st.summarize([1.0, 3.0])["p95"] == pytest.approx(2.9)


def test_stdev_defined_from_two_samples():
    # Two samples are enough for a sample standard deviation (n - 1 = 1); only n < 2 is None.
    assert st.stdev([1.0, 3.0]) == pytest.approx(math.sqrt(2.0))
    assert st.summarize([1.0, 3.0])["stdev"] == pytest.approx(round(math.sqrt(2.0), 6))
    assert st.stdev([1.0]) is None


def test_zero_mad_score_of_the_median_samples_is_zero():
    # MAD 0: samples equal to the median score exactly 0, the others +/-inf.
    assert st.modified_zscores([2.0, 2.0, 2.0, 2.5, 1.0]) == [0.0, 0.0, 0.0, float("inf"), float("-inf")]
    assert st.outliers([2.0, 2.0, 2.0], threshold=0.5) == []


def test_score_exactly_at_threshold_is_not_an_outlier():
    # "|M| > threshold": a sample whose score equals the threshold is not an outlier,
    # and a first run scoring exactly the threshold is not a slow first run.
    data = [1.3, 1.0, 1.01, 0.99, 1.0, 1.02]
    z = st.modified_zscores(data)
    assert st.outliers(data, threshold=abs(z[0])) == []
    assert st.outliers(data, threshold=abs(z[0]) - 1e-9) == [0]
    assert st.slow_first_run(data, threshold=z[0]) is False
    assert st.slow_first_run(data, threshold=z[0] - 1e-9) is True


def test_summarize_rounds_to_six_digits_by_default():
    # Records carry six decimals (microseconds for seconds) unless asked otherwise.
    s = st.summarize([0.1234567])
    assert s["min"] == s["median"] == s["mean"] == s["p95"] == s["max"] == 0.123457


# --------------------------------------------------------------------------- issue 15: huge finite samples

@pytest.mark.parametrize("samples", [
    [1e308] * 5 + [1.7e308],            # median/mean of two near-limit values overflowed to inf
    [-1.7e308, 1.7e308, 1.0],           # the p95 interpolation span overflowed
    [1e200, 2e200, 3e200],              # (v - mean) ** 2 raised OverflowError
    [1e308, 1.2e308, 1.1e308, 1.3e308],  # fsum raised OverflowError
])
def test_huge_finite_samples_never_make_a_figure_infinite_or_raise(samples):
    # Bug (issue 15, 3): summarize of huge finite samples raised OverflowError (fsum, squares) or
    # returned inf/NaN, which was then written out as Infinity/NaN (not JSON).
    s = st.summarize(samples)
    for key in st.STAT_KEYS:
        assert s[key] is None or math.isfinite(s[key]), (key, s[key])
    ref = statistics.median(samples)  # Fraction-free but overflow-prone: compare where it is finite
    if math.isfinite(ref):
        assert s["median"] == round(ref, 6)
    assert s["min"] == min(samples) and s["max"] == max(samples)


def test_huge_samples_scaled_figures_match_the_small_ones():
    small = [1.0, 2.0, 4.0, 7.0]
    big = [v * 2.0 ** 1000 for v in small]
    for name in ("mean", "stdev", "mad", "median"):
        assert getattr(st, name)(big) == getattr(st, name)(small) * 2.0 ** 1000, name
    assert st.percentile(big, 95) == st.percentile(small, 95) * 2.0 ** 1000
    assert st.stdev([-1.7e308, 1.7e308]) is None  # beyond the float range: missing, not inf
    assert st.modified_zscores(big) == st.modified_zscores(small)

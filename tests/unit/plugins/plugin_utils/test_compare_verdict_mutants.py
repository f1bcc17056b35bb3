# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_compare: tests for survivors of the resumed mutation run (mutants 532-790: the verdict's reasons, the
median of sorted values, comparable's reasons), each named for the bug it catches (docs/mutation.md)."""
from __future__ import annotations

import re

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare as cmp


def test_the_median_of_an_even_count_is_the_midpoint_of_the_middle_two():
    """Bug: the odd/even test of the median taken modulo 3, so 4 or 8 sorted values give one middle value."""
    assert cmp._sorted_median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert cmp._sorted_median([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 10.0]) == 4.5
    assert cmp._sorted_median([1.0, 2.0, 3.0]) == 2.0
    assert cmp._sorted_median([]) is None
    res = cmp.compare([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0], min_samples=2)
    assert res["median_before"] == 2.5 and res["median_after"] == 5.0 and res["ratio"] == 2.0


def test_too_few_samples_leaves_every_figure_of_a_verdict_empty_and_says_which_side():
    """Bugs: the result's empty fields filled or misnamed, the reason's sides, counts or plural changed."""
    res = cmp.compare([1.0], [1.0, 2.0], min_samples=3)
    assert res["verdict"] == "not enough samples"
    assert res["n_before"] == 1 and res["n_after"] == 2
    assert res["reason"] == ("before has 1 sample and after has 2 samples: at least 3 samples per side are "
                             "needed to call a change.")
    empty = cmp.compare([], [1.0], min_samples=2)
    assert {k: empty[k] for k in ("ratio", "ci", "change_pct", "u", "p_value", "method")} == dict.fromkeys(
        ("ratio", "ci", "change_pct", "u", "p_value", "method"))
    assert empty["verdict"] == "not enough samples"


def test_equal_medians_are_no_change_and_say_so():
    """Bugs: equal medians compared against 2.0 instead of 1.0, or their reason changed."""
    res = cmp.compare([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert res["ratio"] == 1.0 and res["verdict"] == "no clear change"
    assert res["reason"].startswith("No clear change: the U test is not significant (p = ")
    doubled = cmp.compare([1.0] * 6 + [1.1], [2.0] * 6 + [2.2])
    assert doubled["ratio"] == 2.0 and doubled["verdict"] == "slower"


def test_a_change_below_every_bar_names_each_failed_condition_in_order():
    """Bugs: a failed condition's words changed, or the conditions joined otherwise."""
    res = cmp.compare([1.00, 1.01, 0.99, 1.02, 0.98, 1.00], [1.01, 1.00, 1.02, 0.99, 1.00, 1.01])
    assert res["verdict"] == "no clear change"
    assert re.fullmatch(
        r"No clear change: the U test is not significant \(p = [0-9.e-]+, needs < 0\.05\); "
        r"the 95% interval of the ratio \[[0-9.]+, [0-9.]+\] does not exclude 1 on the side of the change; "
        r"the change of [+-][0-9.]+% is below the 5% threshold\.", res["reason"]), res["reason"]


def test_a_called_change_states_its_medians_interval_and_p():
    """Bug: the reason of a called change loses its interval bounds or its p value."""
    res = cmp.compare([1.0, 1.1, 0.9, 1.05, 0.95, 1.0], [2.0, 2.1, 1.9, 2.05, 1.95, 2.0])
    assert res["verdict"] == "slower"
    ci, change = list(res["ci"]), float(res["change_pct"])
    assert res["reason"] == "Slower: median %s -> %s (%+.2f%%), 95%% interval of the ratio [%s, %s], p = %s." % (
        cmp._num(res["median_before"]), cmp._num(res["median_after"]), change, cmp._num(ci[0]), cmp._num(ci[1]),
        cmp._num(res["p_value"]))


def test_comparable_names_the_side_and_what_is_missing():
    """Bugs: the side's name, the missing-host or not-a-mapping reasons changed; a versions mapping on one side
    only accepted (``or`` read as ``and``); the reason of a comparable pair changed."""
    host = {"host": "ctl"}
    assert cmp.comparable(None, host) == (False, "the before record has no context mapping")
    assert cmp.comparable(host, None) == (False, "the after record has no context mapping")
    assert cmp.comparable({}, host) == (False, "the before record's context has no host")
    assert cmp.comparable(host, {"host": ""}) == (False, "the after record's context has no host")
    assert cmp.comparable({"host": "ctl", "versions": ["kpt"]}, {"host": "ctl", "versions": {"kpt": "1"}}) == (
        False, "context.versions is not a mapping")
    assert cmp.comparable({"host": "ctl", "versions": {"kpt": "1"}}, {"host": "ctl", "versions": "1"}) == (
        False, "context.versions is not a mapping")
    assert cmp.comparable({"host": "ctl", "versions": {"kpt": "1", "git": "2"}},
                          {"host": "ctl", "versions": {"kpt": "2", "git": "2"}}) == (False, "versions differ: kpt 1 -> 2")
    assert cmp.comparable({"host": "ctl", "versions": {"kpt": "1", "git": "2"}},
                          {"host": "ctl", "versions": {"kpt": "1", "git": "2"}}) == (
        True, "same host ctl and same versions of git, kpt")
    assert cmp.comparable(host, host) == (True, "same host ctl and same versions of no tool stated on both sides")

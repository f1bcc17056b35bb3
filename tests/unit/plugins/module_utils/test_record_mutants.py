# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""validate_record: tests written for the survivors of _record.py's mutation run (docs/mutation.md), each named
for the bug it catches."""
from __future__ import annotations

import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _record as rec

BIG = int(sys.float_info.max)  # the largest float, as the integer it is exactly


def record(**over):
    out = rec.make_record("git/status", "git", "s", [0.2, 0.1, 0.3], warmup=1, context=rec.base_context())
    out.update(over)
    return out


@pytest.mark.parametrize("samples", [[1, 2, 3], [-5, 0, 7], [BIG, -BIG, 0.5]])
def test_integer_samples_within_the_float_range_are_numbers(samples):
    """Bugs: the float bound unset (every integer sample crashing the check), or its lower end taken as +max
    (every integer refused), or either end exclusive (the largest float, written as an integer, refused)."""
    assert rec.validate_record(record(samples=samples)) == []


@pytest.mark.parametrize("value", [BIG + 1, -BIG - 1, 10 ** 400])
def test_an_integer_beyond_the_float_range_is_not_a_finite_number(value):
    assert rec.validate_record(record(samples=[0.5, value])) == ["samples[1] is not a finite number"]


def test_only_the_first_bad_sample_is_named():
    """Bug: every bad sample listed (thousands of lines for a bad file) instead of the first one."""
    assert rec.validate_record(record(samples=[0.1, float("nan"), float("inf"), "x"])) == \
        ["samples[1] is not a finite number"]


def test_unexpected_keys_name_the_showable_ones_and_count_the_rest():
    """Bugs: a secret-named or odd key shown (every str key taken as showable), the count of the rest wrong
    (added instead of subtracted) or its words changed."""
    doc = record()
    doc.update({"zeta": 1, "password": "hunter2", "bad key!": 2, 7: 3})
    assert rec.validate_record(doc) == ["unexpected keys zeta, 3 more not shown"]
    assert rec.validate_record(record(password="x")) == ["unexpected keys 1 more not shown"]
    assert rec.validate_record(record(zeta=1, eta=2)) == ["unexpected keys eta, zeta"]


@pytest.mark.parametrize("name", ["", 5, None, ["x"]])
def test_a_name_must_be_a_non_empty_string(name):
    """Bugs: an empty string, or a truthy non-string, taken for a name; the message's words changed."""
    assert rec.validate_record(record(name=name)) == ["name must be a non-empty string"]


def test_samples_must_be_a_list():
    assert rec.validate_record(record(samples="0.1 0.2")) == ["samples must be a list of numbers"]


@pytest.mark.parametrize("key", ["warmup", "failures"])
@pytest.mark.parametrize("value", ["1", 1.0, True, -1, None])
def test_counts_must_be_non_negative_integers(key, value):
    """Bugs: a string, a float or a bool taken for a count (the type checks joined by the wrong operator)."""
    assert rec.validate_record(record(**{key: value})) == ["%s must be a non-negative integer" % key]

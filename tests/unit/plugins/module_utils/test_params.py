# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error


@pytest.mark.parametrize("params, kwargs, expected", [
    ({"runs": 3, "warmup": 1}, {}, None),
    ({"runs": 0, "warmup": 1}, {}, "runs must be at least 1, got 0"),
    ({"runs": 2, "warmup": -1}, {}, "warmup must be 0 or more, got -1"),
    ({"runs": 2, "warmup": 0, "timeout": 0}, {"positive": ("timeout",)}, "timeout must be a positive number of seconds, got 0"),
    ({"runs": 2, "warmup": 0, "timeout": None}, {"positive": ("timeout",)}, None),
    ({"size_mb": 0}, {"minimums": (("size_mb", 1),)}, "size_mb must be at least 1, got 0"),
    # the first problem in the order given is the one reported
    ({"runs": 0, "warmup": -1, "timeout": -2}, {"positive": ("timeout",)}, "runs must be at least 1, got 0"),
])
def test_range_error(params, kwargs, expected):
    assert range_error(params, **kwargs) == expected


@pytest.mark.parametrize("value", [1, 0.5, 0.001])
def test_positive_duration_accepts_one_second_and_fractions(value):
    # "positive" means above zero, not above one: timeout=1 and timeout=0.5 are valid.
    assert range_error({"timeout": value}, minimums=(), positive=("timeout",)) is None


def test_positive_duration_refuses_negative():
    assert range_error({"timeout": -0.5}, minimums=(), positive=("timeout",)) == \
        "timeout must be a positive number of seconds, got -0.5"

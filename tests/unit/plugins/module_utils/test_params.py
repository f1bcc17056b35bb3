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


def test_bounds_and_where():
    """One home for range checks (issue 17 item 2): the between-checks of image_precache and the
    prefixed checks of service_probe targets and kpt_render's compare.b were written by hand."""
    assert range_error({"concurrency": 65}, minimums=(), bounds=(("concurrency", 1, 64),)) == \
        "concurrency must be between 1 and 64, got 65"
    assert range_error({"retries": 0}, minimums=(), bounds=(("retries", 0, 20),)) is None
    assert range_error({"max_workers": 0}, minimums=(("max_workers", 1),), where="compare.b.") == \
        "compare.b.max_workers must be at least 1, got 0"


@pytest.mark.parametrize("module_name, args, expected", [
    ("kpt_fn_images", {"root": "/", "max_kptfiles": 0}, "max_kptfiles must be at least 1, got 0"),
    ("image_precache", {"images": ["a.io/x:v1"], "store": "oci", "oci_dir": "/tmp", "concurrency": 0},
     "concurrency must be between 1 and 64, got 0"),
    ("image_precache", {"images": ["a.io/x:v1"], "store": "oci", "oci_dir": "/tmp", "retries": 21},
     "retries must be between 0 and 20, got 21"),
])
def test_modules_word_their_range_checks_through_range_error(module_name, args, expected):
    """Bug: kpt_fn_images and image_precache wrote their own checks ('..., not 0'), unlike every other module."""
    import importlib

    from tests.unit.module_runner import run_module
    module = importlib.import_module("ansible_collections.o2edge.perf.plugins.modules." + module_name)
    res = run_module(module, args)
    assert res["failed"] is True and res["msg"] == expected

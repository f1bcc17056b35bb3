# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of _params.py (see docs/mutation.md)."""
from __future__ import annotations

from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error


class TestBounds:
    def test_the_highest_bound_itself_is_allowed(self):
        # "between 1 and 64" includes 64: concurrency=64 and retries=20 are valid, 65 and 21 are not.
        assert range_error({"concurrency": 64}, minimums=(), bounds=(("concurrency", 1, 64),)) is None
        assert range_error({"retries": 20}, minimums=(), bounds=(("retries", 0, 20),)) is None
        assert range_error({"retries": 20.5}, minimums=(), bounds=(("retries", 0, 20),), where="b.") == \
            "b.retries must be between 0 and 20, got 20.5"

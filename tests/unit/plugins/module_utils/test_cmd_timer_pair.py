# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_cmd_timer.measure_pair (issue 16 item 1): two things measured interleaved, rounds kept per sample."""
from __future__ import annotations

from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import measure_pair


def fake(calls, side, seconds, fail_at=()):
    state = {"n": 0}

    def run():
        calls.append(side)
        n = state["n"]
        state["n"] += 1
        if n in fail_at:
            return {"ok": False, "seconds": 0.5, "rc": 1, "error": "exit status 1", "stderr": "boom"}
        return {"ok": True, "seconds": seconds + n / 1000.0}
    return run


def test_order_alternates_and_samples_are_each_sides_own():
    """Bug: all of A then all of B (a load change between them is credited to B)."""
    calls = []
    out = measure_pair(fake(calls, "a", 1.0), fake(calls, "b", 2.0), runs=4, warmup=1)
    assert "".join(calls) == "ab" + "ab" "ba" "ab" "ba"
    assert out["a"]["samples"] == [1.001, 1.002, 1.003, 1.004]     # call 0 was the warm-up
    assert out["b"]["samples"] == [2.001, 2.002, 2.003, 2.004]
    assert out["a"]["rounds"] == out["b"]["rounds"] == [0, 1, 2, 3]


def test_failed_run_is_a_gap_with_its_round_in_the_error():
    """a's call 3 (warm-up, rounds 0, 1, then round 2) fails: a keeps rounds [0, 1, 3], not [0, 1, 2]."""
    calls = []
    out = measure_pair(fake(calls, "a", 1.0, fail_at=(3,)), fake(calls, "b", 2.0), runs=4, warmup=1)
    assert out["a"]["rounds"] == [0, 1, 3] and out["a"]["samples"] == [1.001, 1.002, 1.004]
    assert out["a"]["failures"] == 1 and out["b"]["failures"] == 0
    assert [(e["phase"], e["run"], e["round"], e["rc"]) for e in out["a"]["errors"]] == [("run", 2, 2, 1)]
    assert out["b"]["rounds"] == [0, 1, 2, 3]


def test_failed_warmup_has_no_round_and_no_gap():
    calls = []
    out = measure_pair(fake(calls, "a", 1.0, fail_at=(0,)), fake(calls, "b", 2.0), runs=2, warmup=1)
    assert out["a"]["rounds"] == [0, 1] and out["a"]["failures"] == 0
    assert out["a"]["errors"][0]["phase"] == "warmup" and "round" not in out["a"]["errors"][0]

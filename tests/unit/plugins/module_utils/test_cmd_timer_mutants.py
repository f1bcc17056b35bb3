# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of _cmd_timer.py (see docs/mutation.md): the paired
(interleaved) design, whose module-level tests are not in this file's mutation targets."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _cmd_timer as ct


def fake(calls, side, seconds):
    def run():
        calls.append(side)
        return {"ok": True, "seconds": seconds}
    return run


class TestPairSchedule:
    def test_the_order_named_in_records_is_the_order_run(self):
        # command_bench and kpt_render write PAIR_ORDER into each record's context.pair.order
        assert ct.PAIR_ORDER == "ABBA"
        sides = "".join(side for _phase, _index, side in ct.pair_schedule(2)).upper()
        assert sides == ct.PAIR_ORDER

    def test_one_round_without_warmup_is_allowed_and_is_the_default(self):
        assert ct.pair_schedule(1) == [("run", 0, "a"), ("run", 0, "b")]
        assert ct.pair_schedule(1, 0) == [("run", 0, "a"), ("run", 0, "b")]

    @pytest.mark.parametrize("runs, warmup, message", [
        (0, 0, "runs must be at least 1, got 0"),
        (1, -1, "warmup must be 0 or more, got -1"),
    ])
    def test_refusals_name_the_field_and_the_value(self, runs, warmup, message):
        with pytest.raises(ValueError) as err:
            ct.pair_schedule(runs, warmup)
        assert str(err.value) == message


class TestMeasurePair:
    def test_no_warmup_unless_asked_and_the_whole_result_shape(self):
        calls = []
        out = ct.measure_pair(fake(calls, "a", 1.0), fake(calls, "b", 2.0), runs=2)
        assert "".join(calls) == "abba"
        assert sorted(out) == ["a", "b", "schedule"]
        assert out["schedule"] == ct.pair_schedule(2)
        for side, seconds in (("a", 1.0), ("b", 2.0)):
            assert out[side] == {"samples": [seconds, seconds], "rounds": [0, 1], "failures": 0, "errors": [],
                                 "results": [{"ok": True, "seconds": seconds}] * 2}


class TestBenchPair:
    def test_defaults_one_counted_run_each_exit_status_zero_expected(self, tmp_path):
        log = tmp_path / "log"
        out = ct.bench_pair(["sh", "-c", "echo a >> %s" % log], ["sh", "-c", "echo b >> %s; exit 1" % log], 1)
        assert log.read_text() == "a\nb\n"  # no warm-up run by default
        assert len(out["a"]["samples"]) == 1 and out["a"]["failures"] == 0
        assert out["b"]["samples"] == [] and out["b"]["failures"] == 1
        assert out["b"]["errors"][0]["error"] == "exit status 1 (expected 0)"

    def test_a_prepare_list_is_run_as_argv_and_the_environment_reaches_both_sides(self, tmp_path):
        marker = tmp_path / "prepared here"  # a space: joined into a shell line it would make two files
        check = ["sh", "-c", 'test "$O2_PAIR" = yes']
        out = ct.bench_pair(check, check, 1, environment={"O2_PAIR": "yes"}, prepare=["touch", str(marker)])
        assert marker.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["prepared here"]
        assert out["a"]["failures"] == out["b"]["failures"] == 0
        assert len(out["a"]["samples"]) == len(out["b"]["samples"]) == 1

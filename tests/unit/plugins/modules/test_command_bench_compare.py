# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""command_bench's ``compare`` option (issue 16 item 1): two commands measured interleaved.

The SSH login timing before and after optimize was two passes minutes apart; a busy machine
during the first pass made the second look faster. The commands here write their side to a log,
so the test sees the order they really ran in.
"""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import command_bench
from tests.unit.module_runner import run_module


def test_commands_run_interleaved_abba_and_pair(tmp_path):
    log = tmp_path / "log"
    res = run_module(command_bench, {
        "cmd": "echo A >> %s" % log, "shell": True, "runs": 3, "warmup": 1, "name": "ssh/login", "component": "ssh",
        "compare": {"label_a": "before", "label_b": "after", "cmd": "echo B >> %s" % log}})
    assert res["failed"] is False, res["msg"]
    # warm-up A B, round 0 A B, round 1 B A, round 2 A B
    assert log.read_text().split() == list("AB" + "AB" + "BA" + "AB")
    a, b = res["records"]
    assert res["record"] == a
    assert (a["name"], b["name"]) == ("ssh/login (before)", "ssh/login (after)")
    for rec, side, label in ((a, "a", "before"), (b, "b", "after")):
        assert validate_record(rec) == [] and rec["component"] == "ssh"
        pair = rec["context"]["pair"]
        assert (pair["id"], pair["side"], pair["label"], pair["design"], pair["order"]) == (
            "ssh/login", side, label, "interleaved", "ABBA")
        assert pair["rounds"] == [0, 1, 2] and len(rec["samples"]) == 3
    assert a["context"]["pair"]["session"] == b["context"]["pair"]["session"]
    assert "echo B" in b["context"]["command"] and "echo A" in a["context"]["command"]
    assert res["msg"].startswith("interleaved (ABBA)")


def test_failed_round_leaves_a_gap_in_that_side_only(tmp_path):
    """B's third counted run fails: B's rounds are [0, 1, 3], A's [0, 1, 2, 3] (a gap, not a shift)."""
    count = tmp_path / "count"
    count.write_text("")
    b_cmd = "n=$(wc -l < %s); echo x >> %s; [ $n -ne 2 ]" % (count, count)
    res = run_module(command_bench, {
        "cmd": "true", "shell": True, "runs": 4, "warmup": 0, "name": "x", "fail_on_error": False,
        "compare": {"cmd": b_cmd}})
    a, b = res["records"]
    assert a["context"]["pair"]["rounds"] == [0, 1, 2, 3]
    assert b["context"]["pair"]["rounds"] == [0, 1, 3] and len(b["samples"]) == 3 and b["failures"] == 1
    assert [(e["phase"], e["run"], e["round"]) for e in b["errors"]] == [("run", 2, 2)]
    assert (a["name"], b["name"]) == ("x (A)", "x (B)")


@pytest.mark.parametrize("compare,needle", [
    ({"label_a": "same", "label_b": "same", "argv": ["true"]}, "must differ"),
    ({}, "exactly one of compare.argv and compare.cmd"),
    ({"argv": ["true"], "cmd": "true"}, "exactly one of compare.argv and compare.cmd"),
    ({"argv": []}, "compare: argv must not be empty"),
    ({"label_b": "a b", "argv": ["true"]}, "compare.label_b must be"),
])
def test_compare_bad_input(compare, needle):
    res = run_module(command_bench, {"argv": ["true"], "compare": compare})
    assert res["failed"] is True and needle in res["msg"], res["msg"]

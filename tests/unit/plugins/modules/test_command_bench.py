# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import command_bench
from tests.unit.module_runner import run_module


def test_success_record():
    res = run_module(command_bench, {"argv": [sys.executable, "-c", "pass"], "runs": 3, "warmup": 1,
                                     "component": "git", "name": "git/noop"})
    assert res["failed"] is False and res["changed"] is False
    rec = res["record"]
    assert validate_record(rec) == [] and res["records"] == [rec]
    assert rec["name"] == "git/noop" and rec["component"] == "git" and rec["unit"] == "s"
    assert len(rec["samples"]) == 3 and rec["warmup"] == 1 and rec["failures"] == 0


def test_check_mode_still_measures():
    res = run_module(command_bench, {"argv": [sys.executable, "-c", "pass"], "runs": 2}, check_mode=True)
    assert len(res["record"]["samples"]) == 2 and res["changed"] is False


def test_failures_are_counted_and_fail_the_task():
    res = run_module(command_bench, {"cmd": "exit 3", "shell": True, "runs": 2, "warmup": 0})
    assert res["failed"] is True and res["record"]["failures"] == 2
    assert res["record"]["errors"][0]["rc"] == 3 and "exit status 3" in res["msg"]
    res = run_module(command_bench, {"cmd": "exit 3", "shell": True, "runs": 2, "warmup": 0, "fail_on_error": False})
    assert res["failed"] is False and res["record"]["stats"]["median"] is None


def test_default_name_and_cmd_split():
    res = run_module(command_bench, {"cmd": "git --version", "runs": 1, "warmup": 0})
    assert res["record"]["name"] == "command/git-version"
    assert res["record"]["context"]["command"] == "git --version"


@pytest.mark.parametrize("args,needle", [
    ({"argv": ["true"], "runs": 0}, "runs must be at least 1, got 0"),
    ({"argv": ["true"], "warmup": -1}, "warmup must be 0 or more"),
    ({"argv": ["true"], "timeout": 0}, "timeout must be a positive"),
    ({"argv": []}, "argv must not be empty"),
    ({"argv": ["true"], "shell": True}, "shell=true needs cmd"),
    ({"cmd": "echo 'unterminated"}, "cannot be split"),
    ({"argv": ["true"], "chdir": "/nonexistent/dir"}, "chdir /nonexistent/dir is not a directory"),
    ({"argv": ["true"], "cmd": "true"}, "mutually exclusive"),
    ({}, "one of the following is required"),
])
def test_bad_input(args, needle):
    res = run_module(command_bench, args)
    assert res["failed"] is True and needle in res["msg"]

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import subprocess
import sys
import time
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _cmd_timer
from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import system_baseline
from tests.unit.module_runner import run_module


def test_facts_only():
    res = run_module(system_baseline, {"paths": ["/"]}, check_mode=True)
    assert res["failed"] is False and res["records"] == []
    assert res["system"]["cpu_count"] >= 1 and res["system"]["disks"][0]["path"] == "/"


def test_sampling_a_command():
    res = run_module(system_baseline, {"argv": [sys.executable, "-c", "import time; time.sleep(0.3)"],
                                       "interval": 0.05})
    names = [r["name"] for r in res["records"]]
    assert names == ["system/command", "system/cpu_util", "system/mem_util"]
    for rec in res["records"]:
        assert validate_record(rec) == []
    assert len(res["records"][0]["samples"]) == 1 and res["records"][1]["unit"] == "%"


def test_command_is_timed_by_the_runner(monkeypatch):
    # the clock starts before the spawn and stops when the command is reaped (no polling wait)
    events = []
    real_popen = subprocess.Popen

    class LoggedPopen(real_popen):
        def __init__(self, *args, **kwargs):
            events.append("spawn")
            super(LoggedPopen, self).__init__(*args, **kwargs)

        def wait(self, timeout=None):
            assert timeout is None, "the command must be waited for in waitpid, not polled"
            rc = super(LoggedPopen, self).wait(timeout)
            events.append("reaped")
            return rc

    def monotonic():
        events.append("clock")
        return time.monotonic()

    monkeypatch.setattr(_cmd_timer, "time", types.SimpleNamespace(monotonic=monotonic))
    monkeypatch.setattr(_cmd_timer, "subprocess", types.SimpleNamespace(Popen=LoggedPopen, DEVNULL=subprocess.DEVNULL))
    res = run_module(system_baseline, {"argv": ["sleep", "0.1"], "interval": 0.05})
    assert res["failed"] is False
    command = res["records"][0]
    assert command["name"] == "system/command" and command["samples"][0] >= 0.1
    assert events[:4] == ["clock", "spawn", "reaped", "clock"]


def test_failed_command():
    res = run_module(system_baseline, {"cmd": "exit 2", "shell": True, "interval": 0.05})
    assert res["failed"] is True and res["records"][0]["failures"] == 1


def test_duration_sampling():
    res = run_module(system_baseline, {"duration": 0.2, "interval": 0.05})
    assert [r["name"] for r in res["records"]] == ["system/cpu_util", "system/mem_util"]


@pytest.mark.parametrize("args,needle", [
    ({"interval": 0}, "interval must be a positive"),
    ({"duration": -1}, "duration must be 0 or more, got -1"),
    ({"argv": ["true"], "duration": 1}, "duration applies without a command"),
    ({"paths": ["/nonexistent/x"]}, "paths: /nonexistent/x does not exist"),
    ({"shell": True}, "shell=true needs cmd"),
    # the same command checks as command_bench (one source: _cmd_timer.command_from_params)
    ({"argv": []}, "argv must not be empty"),
    ({"cmd": "echo 'unterminated"}, "cannot be split"),
    ({"argv": ["true"], "chdir": "/nonexistent/dir"}, "chdir /nonexistent/dir is not a directory"),
    ({"argv": ["true"], "timeout": 0}, "timeout must be a positive"),
])
def test_bad_input(args, needle):
    res = run_module(system_baseline, args)
    assert res["failed"] is True and needle in res["msg"]

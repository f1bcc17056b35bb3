# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import sys
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import system_baseline


class Done(Exception):
    def __init__(self, result):
        super(Done, self).__init__(result)
        self.result = result


def run_module(module, args, check_mode=False, diff=False):
    """Run a module main() in-process; return its result dict (fail_json gives failed=True)."""
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault("failed", False)
        raise Done(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise Done(kwargs)

    with patch_module_args(args):
        with mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
                mock.patch.object(basic.AnsibleModule, "fail_json", fail_json):
            with pytest.raises(Done) as done:
                module.main()
    return done.value.result


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


def test_failed_command():
    res = run_module(system_baseline, {"cmd": "exit 2", "shell": True, "interval": 0.05})
    assert res["failed"] is True and res["records"][0]["failures"] == 1


def test_duration_sampling():
    res = run_module(system_baseline, {"duration": 0.2, "interval": 0.05})
    assert [r["name"] for r in res["records"]] == ["system/cpu_util", "system/mem_util"]


@pytest.mark.parametrize("args,needle", [
    ({"interval": 0}, "interval must be a positive"),
    ({"duration": -1}, "duration must be 0 or more"),
    ({"argv": ["true"], "duration": 1}, "duration applies without a command"),
    ({"paths": ["/nonexistent/x"]}, "paths: /nonexistent/x does not exist"),
    ({"shell": True}, "shell=true needs cmd"),
])
def test_bad_input(args, needle):
    res = run_module(system_baseline, args)
    assert res["failed"] is True and needle in res["msg"]

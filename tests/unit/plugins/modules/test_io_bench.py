# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

import os

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import io_bench


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


def test_records(tmp_path):
    res = run_module(io_bench, {"path": str(tmp_path), "size_mb": 2, "runs": 2, "block_kb": 256}, check_mode=True)
    assert res["failed"] is False and res["changed"] is False
    names = [r["name"] for r in res["records"]]
    base = names[0].rsplit("/", 1)[0]
    assert names == [base + "/write", base + "/write_seconds", base + "/read", base + "/read_seconds"]
    assert [r["unit"] for r in res["records"]] == ["MB/s", "s", "MB/s", "s"]
    for rec in res["records"]:
        assert validate_record(rec) == [] and len(rec["samples"]) == 2
    assert res["write_mb_s"] > 0 and res["read_mb_s"] > 0
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("args,needle", [
    ({"path": "/nonexistent/dir"}, "path /nonexistent/dir is not a directory"),
    ({"path": "/", "runs": 0}, "runs must be at least 1"),
    ({"path": "/", "size_mb": 0}, "size_mb must be at least 1"),
    ({"path": "/", "block_kb": 0}, "block_kb must be at least 1"),
    ({"path": "/", "size_mb": 10 ** 12}, "not enough for size_mb"),
])
def test_bad_input(args, needle):
    res = run_module(io_bench, args)
    assert res["failed"] is True and needle in res["msg"]

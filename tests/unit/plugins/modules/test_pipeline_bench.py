# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pipeline_bench: records of the pipeline and of each stage, check mode runs nothing, bad input named."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import pipeline_bench
from tests.unit.module_runner import run_module


def _args(tmp_path, **kw):
    args = {"name": "lab", "chdir": str(tmp_path), "runs": 2, "warmup": 0,
            "stages": [{"name": "make", "command": "echo x >> made; sleep 0.05", "shell": True},
                       {"name": "check", "command": ["test", "-s", "made"]}]}
    args.update(kw)
    return args


def test_records_of_the_pipeline_and_of_each_stage(tmp_path):
    # Bug caught: the module returning no per-stage records, or records of another shape.
    res = run_module(pipeline_bench, _args(tmp_path))
    assert res["failed"] is False and res["changed"] is False
    names = [r["name"] for r in res["records"]]
    assert names == ["pipeline/lab", "pipeline/lab/make", "pipeline/lab/check"]
    assert res["record"] == res["records"][0] and all(validate_record(r) == [] for r in res["records"])
    total, make, check = res["records"]
    assert len(total["samples"]) == 2 and min(make["samples"]) >= 0.05
    assert all(abs(t - m - c) < 1e-5 for t, m, c in zip(total["samples"], make["samples"], check["samples"]))
    assert total["context"]["critical_stage"] == "make" and "critical stage make" in res["msg"]
    assert (tmp_path / "made").read_text().split() == ["x", "x"]


def test_check_mode_runs_nothing_and_tells_what_it_would_run(tmp_path):
    # Bug caught: check mode running the pipeline (a commit and push in a dry run).
    res = run_module(pipeline_bench, _args(tmp_path, prepare="touch prepared"), check_mode=True)
    assert res["failed"] is False and res["records"] == []
    assert not (tmp_path / "made").exists() and not (tmp_path / "prepared").exists()
    assert [s["name"] for s in res["plan"]["stages"]] == ["make", "check"]
    assert res["plan"]["stages"][1]["argv"] == ["test", "-s", "made"] and res["plan"]["prepare"] == "touch prepared"


def test_broken_stage_fails_the_task_naming_the_stage(tmp_path):
    # Bug caught: a failed stage not failing the task, or the message not naming it.
    stages = [{"name": "make", "command": ["false"]}, {"name": "check", "command": ["true"]}]
    res = run_module(pipeline_bench, _args(tmp_path, stages=stages))
    assert res["failed"] is True and res["records"][0]["failures"] == 2
    assert "stage make failed: exit status 1" in res["msg"]
    assert res["records"][2]["context"]["skipped_rounds"] == [0, 1]
    res = run_module(pipeline_bench, _args(tmp_path, stages=stages, fail_on_error=False))
    assert res["failed"] is False and res["records"][0]["failures"] == 2


@pytest.mark.parametrize("kw,needle", [
    ({"runs": 0}, "runs must be at least 1, got 0"),
    ({"warmup": -1}, "warmup must be 0 or more"),
    ({"timeout": 0}, "timeout must be a positive"),
    ({"name": "a/b"}, "name must be 1 to 63"),
    ({"chdir": "/nonexistent/dir"}, "chdir /nonexistent/dir is not a directory"),
    ({"prepare": "  "}, "prepare must not be empty"),
    ({"stages": []}, "stages must be a non-empty list"),
    ({"stages": [{"name": "a", "command": 3}]}, "stages[0] (a).command must be a list of arguments or a string"),
    ({"stages": [{"name": "a", "command": "x", "timeout": -1}]}, "stages[0] (a).timeout must be a positive"),
    ({"stages": [{"name": "a", "command": ["x"], "shell": True}]}, "shell=true needs command as a string"),
])
def test_bad_input_is_named(tmp_path, kw, needle):
    # Bug caught: bad input ending in a traceback or a message that names no field.
    res = run_module(pipeline_bench, _args(tmp_path, **kw))
    assert res["failed"] is True and needle in res["msg"], res["msg"]
    assert "Traceback" not in res["msg"]

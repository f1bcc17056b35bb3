# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""control_bench (issue 16 item 2): controls and host state as records, check mode measures."""
from __future__ import annotations

import math
import subprocess

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import control_bench
from tests.unit.module_runner import run_module


def test_records_with_git_repo(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    res = run_module(control_bench, {"git_repo": str(repo), "scratch_dir": str(tmp_path), "runs": 2, "warmup": 1,
                                     "file_size_kb": 16, "calibration_iterations": 1000}, check_mode=True)
    assert res["failed"] is False and res["changed"] is False, res["msg"]
    names = [r["name"] for r in res["records"]]
    assert names == ["control/cpu_calibration", "control/file_read", "control/git_status",
                     "host/load1", "host/cpu_steal", "host/cpu_mhz"]
    for rec in res["records"]:
        assert validate_record(rec) == []
        assert rec["component"] == ("control" if rec["name"].startswith("control/") else "host_state")
        assert all(math.isfinite(x) for x in rec["samples"])
    for rec in res["records"][:4]:
        assert len(rec["samples"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]         # scratch file removed


def test_bad_input():
    res = run_module(control_bench, {"runs": 0})
    assert res["failed"] is True and "runs must be at least 1" in res["msg"]
    res = run_module(control_bench, {"controls": ["git_status"]})
    assert res["failed"] is True and "git_status needs git_repo" in res["msg"]
    res = run_module(control_bench, {"file_size_kb": 0})
    assert res["failed"] is True and "file_size_kb must be at least 1" in res["msg"]


def test_tag_names_start_and_end_apart():
    """Two control runs of one pass (start and end) must not share record names."""
    res = run_module(control_bench, {"controls": ["cpu_calibration"], "tag": "start", "runs": 1, "warmup": 0,
                                     "calibration_iterations": 100})
    assert [r["name"] for r in res["records"]] == [
        "control/cpu_calibration@start", "host/load1@start", "host/cpu_steal@start", "host/cpu_mhz@start"]
    assert res["records"][0]["context"]["tag"] == "start"
    res = run_module(control_bench, {"tag": "no spaces"})
    assert res["failed"] is True and res["msg"].startswith("tag must be")

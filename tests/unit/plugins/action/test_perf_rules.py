# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The perf_rules action plugin: writes three files, changed only when content changes, check mode writes
nothing, diff mode shows the change, bad options fail naming the field and leave the old files as they were."""
from __future__ import annotations

import os
from unittest import mock

from ansible_collections.o2edge.perf.plugins.action.perf_rules import ActionModule

SLO = """apiVersion: openslo/v1
kind: SLO
metadata: {name: edge-connectivity}
spec:
  service: edges
  budgetingMethod: Occurrences
  indicator:
    metadata: {name: probes-up}
    spec: {thresholdMetric: {metricSource: {type: o2edge.perf, spec: {select: probes, statistic: success_ratio}}}}
  objectives: [{target: 0.99}]
"""


def run_action(args, check_mode=False, diff=False):
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.async_val = 0
    task.diff = diff
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_hostname": "localhost"})


def snapshot(folder):
    return {n: open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder))}


def test_writes_then_idempotent_then_changes_with_the_slo(tmp_path):
    """Bug caught: changed on every run (no idempotency) or the files not rewritten when the objectives change."""
    slo = tmp_path / "slo.yml"
    slo.write_text(SLO)
    dest = tmp_path / "out"
    first = run_action({"slo_file": str(slo), "dest": str(dest)})
    assert first.get("failed") is not True and first["changed"] is True
    assert sorted(os.listdir(dest)) == ["o2edge_perf.dashboard.json", "o2edge_perf.rules.test.yml",
                                        "o2edge_perf.rules.yml"]
    assert first["objectives"] == ["edge-connectivity"] and "O2edgePerfErrorBudgetBurnPage" in first["alerts"]
    again = run_action({"slo_file": str(slo), "dest": str(dest)})
    assert again["changed"] is False and again["changed_files"] == []
    slo.write_text(SLO.replace("0.99", "0.95"))
    changed = run_action({"slo_file": str(slo), "dest": str(dest)}, diff=True)
    assert changed["changed"] is True and len(changed["changed_files"]) == 2  # the dashboard has no target in it
    rules_diff = [d for d in changed["diff"] if d["after_header"].endswith("rules.yml")][0]
    assert "> 0.144" in rules_diff["before"] and "> 0.72" in rules_diff["after"]  # 14.4 x 0.01 -> 14.4 x 0.05


def test_check_mode_writes_nothing(tmp_path):
    """Bug caught: check mode creating the directory or files."""
    result = run_action({"dest": str(tmp_path / "out")}, check_mode=True)
    assert result["changed"] is True and not (tmp_path / "out").exists()


def test_bad_option_fails_by_field_and_keeps_old_files(tmp_path):
    """Bug caught: a bad window half-writing the set (new rules, old tests) or failing with a traceback."""
    dest = tmp_path / "out"
    run_action({"dest": str(dest)})
    before = snapshot(dest)
    result = run_action({"dest": str(dest), "interval": "15s",
                         "windows": [{"severity": "page", "long": "1h", "short": "5m", "factor": "x"}]})
    assert result["failed"] is True and "windows[0].factor" in result["msg"]
    assert snapshot(dest) == before


def test_bad_slo_file_fails_by_field(tmp_path):
    """Bug caught: an SLO error reaching the user as a traceback instead of the field."""
    slo = tmp_path / "slo.yml"
    slo.write_text(SLO.replace("target: 0.99", "target: 2"))
    result = run_action({"slo_file": str(slo), "dest": str(tmp_path / "out")})
    assert result["failed"] is True and "target" in result["msg"] and not (tmp_path / "out").exists()

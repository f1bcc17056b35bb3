# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What perf_report does for speed leaves the process as it found it."""
from __future__ import annotations

import gc

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report

from tests.unit.plugins.plugin_utils.test_report import T0, standard_pair, write_json


@pytest.fixture
def collector():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_during_a_report_and_restored_after(collector, monkeypatch, enabled):
    seen = []

    def fake(*args):
        seen.append(gc.isenabled())
        raise _report.ReportError("stop")
    monkeypatch.setattr(_report, "_generate", fake)
    if enabled:
        gc.enable()
    else:
        gc.disable()
    with pytest.raises(_report.ReportError):
        _report.generate({}, {}, "")
    assert seen == [False]
    assert gc.isenabled() is enabled


@pytest.fixture
def unfrozen(collector):
    """No object frozen before the test (the report's own freeze is then the only one), none after it."""
    _report._thaw()  # pylint: disable=protected-access
    gc.unfreeze()
    yield
    _report._thaw()  # pylint: disable=protected-access
    gc.unfreeze()


def _small_report(tmp_path, name="r"):
    baseline, current = standard_pair()
    return _report.generate({"results": [write_json(tmp_path / (name + ".json"), current)],
                             "baseline": [write_json(tmp_path / (name + "-b.json"), baseline)],
                             "dest": str(tmp_path / name)}, {}, T0)


def test_a_report_keeps_its_objects_frozen_until_the_next_report_frees_them(unfrozen, monkeypatch, tmp_path):
    gc.enable()
    result = _small_report(tmp_path)
    kept = _report._KEPT  # pylint: disable=protected-access
    assert len(kept) == 4 and kept[2]["verdicts"] is result["verdicts"]  # the model whose result was returned
    assert kept[0]["records"] and kept[1]["records"]  # the results and the baseline read
    assert gc.isenabled() and gc.get_freeze_count() > 0
    # the next report frees them and unfreezes before it reads anything, even when it then fails
    monkeypatch.setattr(_report, "_generate", lambda *args: (gc.get_freeze_count(), list(kept)))
    assert _report.generate({}, {}, "") == (0, [])


def test_a_failed_report_keeps_nothing_and_the_collector_of_a_paused_process_is_not_touched(unfrozen, tmp_path):
    gc.disable()
    _small_report(tmp_path)
    assert gc.get_freeze_count() == 0 and not gc.isenabled()
    with pytest.raises(_report.ReportError):
        _report.generate({"results": [str(tmp_path / "missing.json")], "dest": str(tmp_path / "d")}, {}, T0)
    assert _report._KEPT == []  # pylint: disable=protected-access


def test_objects_someone_else_froze_stay_frozen(unfrozen, tmp_path):
    gc.enable()
    gc.freeze()
    theirs = gc.get_freeze_count()
    _small_report(tmp_path)
    assert gc.get_freeze_count() >= theirs  # not unfrozen at the end
    _small_report(tmp_path, "again")  # nor by the next report's start
    assert gc.get_freeze_count() >= theirs and _report._FROZEN == []  # pylint: disable=protected-access

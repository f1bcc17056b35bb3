# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What perf_report does for speed leaves the process as it found it."""
from __future__ import annotations

import gc

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report


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

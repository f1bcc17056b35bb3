# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin o2edge.perf.perf_report: writes the report on the controller (docs: plugins/modules/perf_report.py)."""

from __future__ import annotations

import os

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report
from ansible_collections.o2edge.perf.plugins.plugin_utils._controller_action import ControllerAction
from ansible_collections.o2edge.perf.plugins.module_utils._record import utc_now

ARGUMENT_SPEC = {
    "results": {"type": "list", "elements": "str", "required": True},
    "baseline": {"type": "list", "elements": "str", "default": []},
    "slo_file": {"type": "path"},
    "dest": {"type": "path", "required": True},
    "title": {"type": "str", "default": "o2edge.perf report"},
    "threshold": {"type": "float", "default": 0.05},
    "min_samples": {"type": "int", "default": 6},
    "play_filter": {"type": "str"},
    "pushgateway_url": {"type": "str"},
    "pushgateway_timeout": {"type": "float", "default": 10.0},
    "pushgateway_required": {"type": "bool", "default": False},
    "fail_on_slo": {"type": "bool", "default": False},
    "fail_on_regression": {"type": "bool", "default": False},
    "regression_threshold": {"type": "dict"},
    "untouched": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ControllerAction):
    """Read results on the controller, compare, evaluate SLOs, write the report; no connection to the host."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    ERRORS = (_report.ReportError,)

    def work(self, params, task_vars):
        params = dict(params, instance=task_vars.get("inventory_hostname"))
        return _report.generate(params, os.environ, generated_at=utc_now(), check_mode=bool(self._task.check_mode))

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the collection's action plugins that work on the controller only (perf_report,
perf_rules): no connection to the host, no file transfer, the options checked against the
plugin's ``ARGUMENT_SPEC``, and the plugin's own errors (``ERRORS``) turned into a failed result
with their message, never a traceback."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Subclasses set ``ARGUMENT_SPEC``, ``_VALID_ARGS = frozenset(ARGUMENT_SPEC)`` and ``ERRORS``,
    and implement ``work(params, task_vars)`` returning the result's keys."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}
    ERRORS = ()

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerAction, self).run(tmp, task_vars)
        dummy, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        try:
            out = self.work(params, task_vars or {})
        except self.ERRORS as exc:
            result.update(failed=True, changed=False, msg=self.message(exc))
            return result
        result.update(out)
        return result

    def work(self, params, task_vars):
        raise NotImplementedError

    @staticmethod
    def message(exc):
        return str(exc)

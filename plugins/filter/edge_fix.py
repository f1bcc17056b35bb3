# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the playbooks fix_edge_connectivity, optimize and site: edge_fix_report,
ssh_tuning_controller_outcome, ssh_tuning_edge_outcomes, optimize_lines, facts_per_site,
ansible_ssh_states.

The logic lives in plugin_utils/_edge_fix.py (unit-tested); these are thin wrappers that turn its
errors into AnsibleFilterError. Each filter is documented in its own YAML file beside this one."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.o2edge.perf.plugins.plugin_utils import _edge_fix


def _wrap(name, function):
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except _edge_fix.EdgeFixError as exc:
            raise AnsibleFilterError("o2edge.perf.%s: %s" % (name, exc))
    run.__name__ = name
    return run


class FilterModule(object):
    def filters(self):
        return {
            "edge_fix_report": _wrap("edge_fix_report", _edge_fix.fix_report),
            "ssh_tuning_controller_outcome": _wrap("ssh_tuning_controller_outcome", _edge_fix.controller_tuning),
            "ssh_tuning_edge_outcomes": _wrap("ssh_tuning_edge_outcomes", _edge_fix.edge_tuning),
            "optimize_lines": _wrap("optimize_lines", _edge_fix.optimize_lines),
            "facts_per_site": _wrap("facts_per_site", _edge_fix.facts_per_site),
            "ansible_ssh_states": _wrap("ansible_ssh_states", _edge_fix.ansible_ssh_states),
        }

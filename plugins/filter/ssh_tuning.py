# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the ssh_tuning role: ssh_weakening, sshd_settings, ssh_tuning_problems.

The logic lives in plugin_utils/_ssh_options.py (unit-tested); these are thin wrappers that turn its
errors into AnsibleFilterError. Each filter is documented in its own YAML file beside this one."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.o2edge.perf.plugins.plugin_utils import _ssh_options


def ssh_weakening(client_options, ssh_args=None):
    try:
        return _ssh_options.weakening(client_options, ssh_args)
    except _ssh_options.SshOptionsError as exc:
        raise AnsibleFilterError("o2edge.perf.ssh_weakening: %s" % exc)


def sshd_settings(forks, client_alive_interval=15, client_alive_count_max=3, use_dns=False, max_startups="",
                  login_grace_time=30, extra=None):
    try:
        return _ssh_options.sshd_settings(forks, client_alive_interval, client_alive_count_max, use_dns,
                                          max_startups, login_grace_time, extra)
    except _ssh_options.SshOptionsError as exc:
        raise AnsibleFilterError("o2edge.perf.sshd_settings: %s" % exc)


_CHECKS = {"controller": _ssh_options.controller_problems, "edge": _ssh_options.edge_problems}


def ssh_tuning_problems(side, **values):
    check = _CHECKS.get(side)
    if check is None:
        raise AnsibleFilterError("o2edge.perf.ssh_tuning_problems: the side must be controller or edge")
    try:
        return check(**values)
    except TypeError as exc:
        raise AnsibleFilterError("o2edge.perf.ssh_tuning_problems(%s): %s" % (side, exc))


class FilterModule(object):
    def filters(self):
        return {
            "ssh_weakening": ssh_weakening,
            "sshd_settings": sshd_settings,
            "ssh_tuning_problems": ssh_tuning_problems,
        }

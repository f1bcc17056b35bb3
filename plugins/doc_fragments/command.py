# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The options of a command to run, as ``measure/_cmd_timer.command_argument_spec`` declares them
    (command_bench, system_baseline). A module's own entry for an option overrides the fragment's keys."""

    DOCUMENTATION = r"""
options:
  argv:
    description:
      - The command as a list of arguments (no shell).
      - Mutually exclusive with O(cmd).
    type: list
    elements: str
  cmd:
    description:
      - The command as a string. Split like a shell would (C(shlex)) and run without a
        shell, unless O(shell=true), where it is passed to C(/bin/sh -c).
      - Mutually exclusive with O(argv).
    type: str
  shell:
    description: Run O(cmd) through C(/bin/sh -c).
    type: bool
    default: false
  chdir:
    description: Working directory of the command.
    type: path
  environment:
    description: Extra environment variables of the command; a null value removes a variable.
    type: dict
    default: {}
  timeout:
    description: Seconds after which the command's process group is killed; that run is counted as failed.
    type: float
    default: 600
"""

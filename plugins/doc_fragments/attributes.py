# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The ``attributes`` the collection's modules share, as community.docker's ``attributes`` fragment.

    ``o2edge.perf.attributes`` is a module that changes nothing (it reads or measures); the variants
    say what differs: ``.writes`` (check mode reports, diff mode shows the change), and where it runs
    (``.platform_target``, ``.platform_controller``). A module's own ``attributes`` entries override
    the fragment's keys (a module-specific check mode description, for example).
    """

    # A module that only reads or measures (extend with one platform variant).
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: The module only reads or measures; it runs in check mode too and returns the same result.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
"""

    # A module that writes: check mode reports what would change, diff mode shows it.
    WRITES = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Reports what would change, with the diff, without writing anything.
  diff_mode:
    support: full
    description: The before and after text of every file that changes.
"""

    # Runs on the managed host with the standard library only.
    PLATFORM_TARGET = r"""
options: {}
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs on the target host; Python 3.9 or later, standard library only.
"""

    # An action plugin that runs on the controller (with ansible.builtin.action_common_attributes and its .flow).
    PLATFORM_CONTROLLER = r"""
options: {}
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    support: full
    platforms: posix
    description: Runs on the controller (Python 3.9 or later, standard library only).
"""

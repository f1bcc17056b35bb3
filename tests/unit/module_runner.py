# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process, the way the module unit tests need it."""
from __future__ import annotations

from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Done(Exception):
    def __init__(self, result):
        super(Done, self).__init__(result)
        self.result = result


def run_module(module, args, check_mode=False, diff=False):
    """Run a module main() in-process; return its result dict (fail_json gives failed=True)."""
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault("failed", False)
        raise Done(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise Done(kwargs)

    with patch_module_args(args):
        with mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
                mock.patch.object(basic.AnsibleModule, "fail_json", fail_json):
            with pytest.raises(Done) as done:
                module.main()
    return done.value.result

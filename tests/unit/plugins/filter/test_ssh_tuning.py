# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh_tuning filters, and the role's own task expressions rendered by Ansible with them: the role's
checks and computations must go through the tested Python (issue 15 class 6: MaxStartups max -> min and a
weakening regex without the space form or case-insensitivity survived the unit suite)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.o2edge.perf.plugins.filter import ssh_tuning

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
TASKS = os.path.join(ROOT, "roles", "ssh_tuning", "tasks")
SHKC = "Strict" + "HostKeyChecking"

# Renders templates with Ansible's Templar and the collection loader, in a child process so that the
# collection finder does not change how this test session imports the collection.
RENDER = r"""
import json, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
out = []
for case in json.load(sys.stdin):
    try:
        out.append(Templar(loader=DataLoader(), variables=case["vars"]).template(trust_as_template(case["expr"])))
    except Exception as exc:
        out.append({"error": str(exc)})
print(json.dumps(out))
"""


def render(cases):
    tree = os.path.join(ROOT, ".build", "unit")
    proc = subprocess.run([sys.executable, "-c", RENDER, tree], input=json.dumps(cases), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def task(file_name, name):
    with open(os.path.join(TASKS, file_name)) as f:
        for item in yaml.safe_load(f):
            if item["name"].startswith(name):
                return item
    raise AssertionError("no task %r in %s" % (name, file_name))


def defaults(**more):
    with open(os.path.join(ROOT, "roles", "ssh_tuning", "defaults", "main.yml")) as f:
        values = yaml.safe_load(f)
    values.update(ssh_tuning_forks=20, groups={"all": [], "edge_sites": []})
    values.update(more)
    return values


def test_the_filters_are_registered_under_their_documented_names():
    names = ssh_tuning.FilterModule().filters()
    assert sorted(names) == ["ssh_tuning_problems", "ssh_weakening", "sshd_settings"]
    for name in names:
        assert os.path.isfile(os.path.join(ROOT, "plugins", "filter", name + ".yml")), name


def test_filter_errors_are_filter_errors_naming_the_variable():
    with pytest.raises(AnsibleFilterError, match="ssh_tuning_client_extra_options must be a mapping"):
        ssh_tuning.ssh_weakening(["x"])
    with pytest.raises(AnsibleFilterError, match="ssh_tuning_forks must be a positive number"):
        ssh_tuning.sshd_settings("none")
    with pytest.raises(AnsibleFilterError, match="the side must be controller or edge"):
        ssh_tuning.ssh_tuning_problems("client")
    with pytest.raises(AnsibleFilterError, match="ssh_tuning_problems\\(edge\\)"):
        ssh_tuning.ssh_tuning_problems("edge", control_dir="/x")


def test_the_role_renders_its_checks_and_settings_through_the_filters():
    weak = task("controller.yml", "Find options that would weaken")["ansible.builtin.set_fact"]["ssh_tuning_weakening"]
    compose = task("edge.yml", "Compose the sshd settings")["ansible.builtin.set_fact"]["ssh_tuning_sshd_settings"]
    edge_that = task("edge.yml", "Check the edge-side settings")["ansible.builtin.assert"]["that"]
    ctrl_that = task("controller.yml", "Check the ControlPath folder")["ansible.builtin.assert"]["that"]
    expr = "{{ %s }}"
    cases = [
        dict(expr=weak, vars=defaults()),
        # Bug (class 3): KnownHostsCommand, VerifyHostKeyDNS passed the role's check; spacing and case slipped.
        dict(expr=weak, vars=defaults(ssh_tuning_client_extra_options={"knownhostscommand": "/bin/true"},
                                      ssh_tuning_ansible_extra_ssh_args=["-oVerifyHostKeyDNS=yes",
                                                                         '-o "%s  No"' % SHKC.lower()])),
        # Bug (class 6): MaxStartups max -> min.
        dict(expr=compose, vars=defaults(ssh_tuning_forks=50)),
        dict(expr=compose, vars=defaults(ssh_tuning_forks=5, ssh_tuning_sshd_max_startups="",
                                         ssh_tuning_sshd_extra_settings={"MaxSessions": 20})),
        dict(expr=expr % " and ".join("(%s)" % t for t in edge_that), vars=defaults()),
        dict(expr=expr % " and ".join("(%s)" % t for t in edge_that),
             vars=defaults(ssh_tuning_rollback_delay=24)),
        dict(expr=expr % " and ".join("(%s)" % t for t in ctrl_that),
             vars=defaults(ssh_tuning_control_dir_abs="/root/.ssh/o2cm")),
        dict(expr=expr % " and ".join("(%s)" % t for t in ctrl_that),
             vars=defaults(ssh_tuning_control_dir_abs="/root/.ssh/o2cm", ssh_tuning_groups=["missing"])),
    ]
    got = render(cases)
    assert got[0] == []
    assert got[1] == ["KnownHostsCommand", "VerifyHostKeyDNS=yes", SHKC + "=No"]
    assert got[2] == {"ClientAliveInterval": 15, "ClientAliveCountMax": 3, "UseDNS": False,
                      "MaxStartups": "50:30:150", "LoginGraceTime": 30}
    assert got[3]["MaxStartups"] == "10:30:100" and got[3]["MaxSessions"] == 20
    assert got[4:] == [True, False, True, False]

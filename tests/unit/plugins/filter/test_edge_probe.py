# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""o2edge.perf.edge_probe_input against what the connectivity_check role templated before (per host)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, is_trusted_as_template, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.o2edge.perf.plugins.filter.edge_probe import edge_probe_input


def _site(name, **extra):
    site = {"name": trust_as_template(name), "address": trust_as_template("198.18.1.10"), "ssh": {"port": 22},
            "labels": {"tier": trust_as_template("healthy")}, "metadata": {"note": "{{ not rendered }}"}}
    site.update(extra)
    return site


@pytest.fixture
def hostvars():
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[])
    inventory.add_group("edge_sites")
    for name in ("edge1", "edge2", "edge3", "plain", "edge4"):
        inventory.add_host(name, group="edge_sites")
    data = inventory._inventory  # pylint: disable=protected-access
    data.set_variable("edge1", "edge_site", _site("edge1"))
    data.set_variable("edge1", "edge_kubernetes_token", "tok-1")
    data.set_variable("edge2", "edge_site", _site("edge2", labels={"tier": trust_as_template("{{ 'tem' ~ 'plated' }}")}))
    data.set_variable("edge2", "edge_kubernetes_token", trust_as_template("{{ 'tok' ~ '-2' }}"))
    data.set_variable("edge3", "edge_site", _site("edge3"))
    data.set_variable("edge3", "edge_kubernetes_token", trust_as_template("{{ no_such_variable }}"))
    data.set_variable("edge4", "edge_site", trust_as_template("{{ no_such_variable }}"))
    manager = VariableManager(loader=loader, inventory=inventory)
    return HostVars(inventory=inventory, variable_manager=manager, loader=loader)


def _template(hostvars, expression, **variables):
    variables["hostvars"] = hostvars
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def _before(hostvars, hosts, token_var):
    """The role's old expressions: the sites of the group, then one `is defined` check per host for its token."""
    sites = _template(hostvars, "{{ hosts | map('extract', hostvars) | selectattr('edge_site', 'defined')"
                                " | map(attribute='edge_site') | list }}", hosts=hosts)
    tokens = {}
    for host in hosts:
        if _template(hostvars, "{{ hostvars[item][var] is defined }}", item=host, var=token_var):
            tokens[host] = _template(hostvars, "{{ hostvars[item][var] }}", item=host, var=token_var)
    return {"sites": sites, "tokens": tokens}


def _after(hostvars, hosts, token_var):
    # called from a template as the role does (HostVars templates in a template context only)
    return _template(hostvars, "{{ edge_probe_input(hosts, hostvars, var) }}", hosts=hosts, var=token_var,
                     edge_probe_input=edge_probe_input)


def test_same_sites_and_tokens_as_templating_each_host(hostvars):
    """Catches: a site or token taken raw where templating changes it (edge2's label and token), an undefined
    one kept (edge3's token, edge4's site), a host order change, a host without edge_site listed."""
    hosts = ["edge1", "edge2", "edge3", "plain", "edge4"]
    got = _after(hostvars, hosts, "edge_kubernetes_token")
    assert got == _before(hostvars, hosts, "edge_kubernetes_token")
    assert [s["name"] for s in got["sites"]] == ["edge1", "edge2", "edge3"]
    assert got["sites"][1]["labels"] == {"tier": "templated"}
    assert got["sites"][0]["metadata"] == {"note": "{{ not rendered }}"}
    assert got["tokens"] == {"edge1": "tok-1", "edge2": "tok-2"}
    assert _after(hostvars, ["not-in-inventory", "edge1"], "edge_kubernetes_token")["tokens"] == {"edge1": "tok-1"}


def test_sites_are_plain_data(hostvars):
    """Catches: trusted strings handed on, which templating the probe's arguments would render again."""
    site = _after(hostvars, ["edge1"], "edge_kubernetes_token")["sites"][0]
    assert site["name"].__class__ is str and not is_trusted_as_template(site["name"])
    assert site["labels"].__class__ is dict and not is_trusted_as_template(site["labels"]["tier"])


@pytest.mark.parametrize("hosts, hv, token_var, message", [
    (["edge1"], None, "", "token_var must be a variable name"),
    ("edge1", None, "t", "input must be a list of host names"),
    (["edge1"], {"edge1": {}}, "t", "second argument must be hostvars"),
])
def test_bad_arguments_name_what_is_wrong(hostvars, hosts, hv, token_var, message):
    with pytest.raises(AnsibleFilterError, match=message):
        edge_probe_input(hosts, hostvars if hv is None else hv, token_var)

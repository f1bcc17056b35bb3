# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: edge_sites
short_description: The edge-sites config file as an inventory source
version_added: 1.0.0
description:
  - Reads an edge-sites config (a YAML file whose C(plugin) key is V(o2edge.perf.edge_sites)), validates it
    against the documented schema (docs/edge-sites.md in the collection) and adds one host per site.
  - Every invalid entry is reported with its site and field; plaintext secrets (by key name, such as C(password),
    C(api_token), C(client_secret), C(private_key), or by shape, such as a private key block or a token in a URL)
    are refused anywhere in the file, and error messages never print them.
  - The file is read within bounds (1 MiB, 32 levels of nesting, 100000 values with YAML aliases expanded, no
    repeated keys) before anything big is built, so an alias bomb or a deeply nested file is refused at once.
  - Values are data, never templates - a string that could be a Jinja template stays untrusted (C(!unsafe) or not)
    and is used verbatim; C(!vault) values stay encrypted until used.
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
notes:
  - By Ansible's default a refused inventory source is only a warning and the run goes on (exit code 0). Set
    C(unparsed_is_failed = True) in the C([inventory]) section of C(ansible.cfg) (or the environment variable
    E(ANSIBLE_INVENTORY_UNPARSED_FAILED) set to V(True)) so that a refused edge-sites config fails the run; the collection
    ships an example as C(ansible.cfg.example).
  - That example also sets C(enable_plugins = o2edge.perf.edge_sites, host_list, script, toml). The C(auto) and
    C(yaml) plugins would load a refused file again with Ansible's unbounded YAML loader, and C(ini) quotes its
    lines in errors.
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

import yaml

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.template import trust_as_template

from ansible_collections.o2edge.perf.plugins.module_utils.edge._edge_sites import (
    MAX_DEPTH, MAX_VALUES, EdgeSitesError, PLUGIN_NAMES, is_vaulted, pinned_known_hosts_line, site_groups,
    site_hostvars, validate_config)
from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, read_bytes, read_text
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import YamlBoundsError, check_yaml, yaml_problem

try:
    from ansible._internal._datatag._tags import Origin
except ImportError:  # pragma: no cover - only ansible-core 2.19 is supported; Origin is a nicety
    Origin = None

# libyaml's safe loader, for configs without tags (load_bounded); None without libyaml.
FAST_LOADER = getattr(yaml, "CSafeLoader", None)

# An edge-sites config is a few KB; anything bigger than this is refused unread.
MAX_FILE_BYTES = 1 << 20


def load_bounded(path, max_bytes=MAX_FILE_BYTES):
    """The YAML document in ``path``, read and parsed within bounds; raise YamlBoundsError or FileReadError.

    ``_safe_read`` reads at most ``max_bytes`` of a regular file only (a FIFO, a device or a
    directory is refused without blocking); ``_yaml_bounds.check_yaml`` (the collection's one
    bounded loader) checks the event stream; then the document is built with Ansible's own loader
    (``!unsafe`` and ``!vault`` work as in any Ansible YAML file). Nothing is trusted as a template.
    """
    raw = read_bytes(path, max_bytes, what="edge-sites config")
    if raw.lstrip().startswith(b"$ANSIBLE_VAULT"):
        raise YamlBoundsError("is vault-encrypted as a whole; encrypt single values (!vault) instead")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlBoundsError("is not UTF-8 text (byte %d)" % exc.start)
    check_yaml(text, max_depth=MAX_DEPTH, max_values=MAX_VALUES)
    if "!" not in text and FAST_LOADER is not None:
        # No tag anywhere (every YAML tag starts with "!"), so nothing for Ansible's constructors (!unsafe,
        # !vault) to do: libyaml builds the same data faster (1,000 sites, bounds check included: 1.2 s against
        # 2.7 s on a loaded 2-core machine), without the source positions Ansible's loader attaches to values.
        try:
            return yaml.load(text, Loader=FAST_LOADER)  # noqa: S506 - CSafeLoader, a safe loader
        except yaml.YAMLError as exc:
            raise YamlBoundsError("is not valid YAML: %s" % yaml_problem(exc))
        except (ValueError, TypeError, RecursionError) as exc:
            raise YamlBoundsError("is not valid YAML: %s" % yaml_problem(exc))
    if Origin is not None:
        text = Origin(path=path).tag(text)
    loader = AnsibleLoader(text)
    if hasattr(loader, "_duplicate_key_mode"):
        # Repeated keys were refused above; what is left is a merge key (<<) overridden on purpose, which
        # Ansible would warn about showing the source line.
        loader._duplicate_key_mode = "ignore"
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise YamlBoundsError("is not valid YAML: %s" % yaml_problem(exc))
    except (ValueError, TypeError, RecursionError) as exc:
        raise YamlBoundsError("is not valid YAML: %s" % yaml_problem(exc))
    finally:
        loader.dispose()


def _write_if_changed(path, text):
    """Write the generated known_hosts ``path`` unless it already holds ``text``.

    The old content is read through ``_safe_read`` (a FIFO or device planted there is never opened
    for reading, it is replaced); the write is ``_atomic.atomic_write``.
    """
    try:
        if read_text(path, 1 << 16, what="generated known_hosts") == text:
            return
    except FileReadError:
        pass
    atomic_write(path, text.encode("utf-8"), 0o644)


def _may_be_template(text):
    """True for a string Jinja could take as a template: any ``{`` (``{{``, ``{%``, ``{#``) or ``#jinja2:``."""
    return "{" in text or "#jinja2:" in text


def _as_data(value):
    """Values from the operator's file as data, never templates.

    A string that could be a template (``_may_be_template``) is left untrusted, ``!unsafe`` or not,
    so Ansible uses it verbatim and ``ansible-inventory --list`` marks it ``__ansible_unsafe``. Any
    other string is inert (there is nothing to render), so it is marked trusted only to keep
    ``--list`` output plain JSON strings. Vaulted values are left as they are.
    """
    if isinstance(value, str) and not is_vaulted(value):
        return value if _may_be_template(value) else trust_as_template(value)
    if isinstance(value, dict):
        return dict((k, _as_data(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_as_data(v) for v in value]
    return value


class InventoryModule(BaseInventoryPlugin):

    NAME = "o2edge.perf.edge_sites"

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if not path.endswith((".yml", ".yaml")):
            return False
        try:
            head = read_bytes(path, MAX_FILE_BYTES, what="edge-sites config")[:65536]
        except FileReadError as exc:
            # A FIFO, device or directory named *.yml is claimed, so that parse() refuses it clearly
            # instead of another plugin blocking on it; a missing or unreadable file is not ours.
            return exc.reason == "type"
        return any(name.encode() in head for name in PLUGIN_NAMES)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache)
        try:
            data = load_bounded(path)
        except YamlBoundsError as exc:
            raise AnsibleParserError("edge-sites config (%s) is refused: the file %s" % (path, exc))
        except FileReadError as exc:
            raise AnsibleParserError("edge-sites config refused: %s" % to_native(exc))
        try:
            config = validate_config(data, base_dir=os.path.dirname(os.path.abspath(path)), source=path)
            hostvars = [(site, site_hostvars(site)) for site in config["sites"]]
        except EdgeSitesError as exc:
            raise AnsibleParserError(to_native(exc))
        keys = ("plugin", "version", "sites", "defaults", "known_hosts_dir")
        self.set_options(direct=dict((k, data[k]) for k in keys if k in data))
        kh_dir = config["known_hosts_dir"] or os.path.expanduser(self.get_option("known_hosts_dir"))
        for site, hv in hostvars:
            if site["ssh"].get("host_key") and not site["ssh"].get("known_hosts"):
                hv = site_hostvars(site, self._pinned_known_hosts(kh_dir, site))
            name = site["name"]
            self.inventory.add_host(name)
            for group in site_groups(site):
                self.inventory.add_group(group)
                self.inventory.add_host(name, group=group)
            for key, value in hv.items():
                self.inventory.set_variable(name, key, _as_data(value))

    def _pinned_known_hosts(self, directory, site):
        path = os.path.join(directory, site["name"])
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            _write_if_changed(path, pinned_known_hosts_line(site))
        except (OSError, ValueError) as exc:
            raise AnsibleParserError("site %s: cannot write the known_hosts file for its pinned host_key at %s: %s"
                                     % (site["name"], path, to_native(exc)))
        return path

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge_sites inventory plugin: parsed in-process and through ansible-inventory (no network)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

from ansible_collections.o2edge.perf.plugins.inventory.edge_sites import InventoryModule

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
EXAMPLE = os.path.join(ROOT, "inventory", "edge-sites.yml")
PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHw/eyRlBcTW0mPB2vsXmU9x+deZSWRRgAYXvFK8dzB1"


def lab_shaped(tmp_path, **overrides):
    doc = {"plugin": "o2edge.perf.edge_sites", "version": 1,
           "defaults": {"ssh": {"port": 22, "user": "root", "key_file": "/lab/ssh/id_ed25519",
                                "known_hosts": "/lab/ssh/known_hosts"}, "python_interpreter": "/usr/bin/python3"},
           "sites": [
               {"name": "edge1", "address": "198.18.1.10", "labels": {"role": "edge", "tier": "healthy", "region": "lab"},
                "metadata": {"lab_index": 1},
                "services": {"kubernetes": {"port": 6443, "ca_file": "/lab/pki/ca.crt", "token_file": "/lab/pki/token"},
                             "prometheus": {"port": 9090},
                             "o2ims": {"url": "http://198.18.1.10:8080/o2ims-infrastructureInventory/v1"}}},
               {"name": "edge3", "address": "198.18.3.10", "labels": {"role": "edge", "tier": "ssh_only", "region": "lab"},
                "metadata": {"lab_index": 3}},
           ]}
    doc.update(overrides)
    path = tmp_path / "edge-sites.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture
def plugin(monkeypatch):
    p = InventoryModule()
    options = {}
    monkeypatch.setattr(p, "set_options", lambda direct=None, **kw: options.update(direct or {}))
    monkeypatch.setattr(p, "get_option", lambda k: options.get(k, {"known_hosts_dir": "/nonexistent"}.get(k)))
    return p


def parse(plugin, path):
    inv = InventoryData()
    plugin.parse(inv, DataLoader(), path, cache=False)
    return inv


def test_verify_file(tmp_path, plugin):
    path = lab_shaped(tmp_path)
    assert plugin.verify_file(path)
    other = tmp_path / "hosts.yml"
    other.write_text("all:\n  hosts:\n    a: {}\n")
    assert not plugin.verify_file(str(other))
    assert not plugin.verify_file(str(tmp_path / "missing.yml"))


def test_hosts_vars_and_groups(tmp_path, plugin):
    inv = parse(plugin, lab_shaped(tmp_path))
    assert sorted(inv.hosts) == ["edge1", "edge3"]
    assert sorted(h.name for h in inv.groups["tier_healthy"].get_hosts()) == ["edge1"]
    assert sorted(h.name for h in inv.groups["tier_ssh_only"].get_hosts()) == ["edge3"]
    assert sorted(h.name for h in inv.groups["edge_sites"].get_hosts()) == ["edge1", "edge3"]
    assert "role_edge" in inv.groups and "region_lab" in inv.groups
    v = inv.hosts["edge1"].vars
    assert v["ansible_host"] == "198.18.1.10"
    assert v["ansible_port"] == 22 and v["ansible_user"] == "root"
    assert v["ansible_ssh_private_key_file"] == "/lab/ssh/id_ed25519"
    assert v["ansible_python_interpreter"] == "/usr/bin/python3"
    assert v["ansible_ssh_common_args"] == ("-o HostKeyAlias=edge1 -o StrictHostKeyChecking=yes "
                                            "-o UserKnownHostsFile=/lab/ssh/known_hosts -o IdentitiesOnly=yes")
    assert v["edge_services"]["kubernetes"]["token_file"] == "/lab/pki/token"
    assert v["edge_labels"]["tier"] == "healthy"
    assert v["edge_metadata"] == {"lab_index": 1}
    assert v["edge_site"]["name"] == "edge1" and "secrets" not in v["edge_site"]


def test_invalid_file_names_site_and_field(tmp_path, plugin):
    path = lab_shaped(tmp_path)
    doc = yaml.safe_load(open(path))
    doc["sites"][1]["address"] = "198.18.3.999"
    doc["sites"][0]["services"]["kubernetes"] = {"token": "plain"}
    with open(path, "w") as f:
        yaml.safe_dump(doc, f)
    with pytest.raises(AnsibleParserError) as info:
        parse(plugin, path)
    text = str(info.value)
    assert "sites[1] (edge3).address: is not a valid IPv4 address" in text
    assert "sites[0] (edge1).services.kubernetes.token: a plaintext token is refused; use token_file or a vaulted variable" in text


def test_pinned_host_key_writes_known_hosts(tmp_path, plugin):
    kh_dir = tmp_path / "kh"
    path = lab_shaped(tmp_path, known_hosts_dir=str(kh_dir),
                      defaults={"ssh": {"user": "root"}},
                      sites=[{"name": "edge1", "address": "198.18.1.10", "ssh": {"host_key": PIN}}])
    inv = parse(plugin, path)
    kh = kh_dir / "edge1"
    assert kh.read_text() == "edge1,198.18.1.10 %s\n" % PIN
    assert "-o UserKnownHostsFile=%s" % kh in inv.hosts["edge1"].vars["ansible_ssh_common_args"]
    mtime = kh.stat().st_mtime_ns
    parse(plugin, path)
    assert kh.stat().st_mtime_ns == mtime  # unchanged content is not rewritten


def ansible_inventory(*args):
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, ".build", "unit")
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "1"
    env["ANSIBLE_NOCOLOR"] = "1"
    exe = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    return subprocess.run([exe] + list(args), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)


def test_ansible_inventory_graph_and_list_on_the_example():
    graph = ansible_inventory("-i", EXAMPLE, "--graph")
    assert graph.returncode == 0, graph.stderr
    for group in ("@edge_sites:", "@tier_healthy:", "@region_east:", "@ocloud_o_cloud_a:"):
        assert group in graph.stdout
    listed = ansible_inventory("-i", EXAMPLE, "--list")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert "__ansible_unsafe" not in listed.stdout  # plain JSON, usable by from_json and other tools
    hv = data["_meta"]["hostvars"]
    assert sorted(hv) == ["edge-east-1", "edge-east-2", "edge-west-1", "edge-west-2"]
    assert hv["edge-west-2"]["ansible_port"] == 2222
    assert hv["edge-east-1"]["ansible_host"] == "2001:db8:100::10"
    assert hv["edge-east-1"]["edge_site"]["ssh"]["host_key"].startswith("ssh-ed25519 ")
    assert hv["edge-east-2"]["edge_services"]["kubernetes"]["kubeconfig"] == "/etc/o2edge/kubeconfig/edge-east-2.yaml"


def test_ansible_inventory_reports_the_bad_field(tmp_path):
    path = lab_shaped(tmp_path)
    doc = yaml.safe_load(open(path))
    doc["sites"][0]["ssh"] = {"password": "hunter2"}
    with open(path, "w") as f:
        yaml.safe_dump(doc, f)
    out = ansible_inventory("-i", path, "--list")
    assert out.returncode != 0
    assert "sites[0] (edge1).ssh.password: a plaintext password is refused" in out.stderr
    assert "hunter2" not in out.stderr

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
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import YamlBoundsError, check_yaml

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


def ansible_cli(tool, *args, **env_changes):
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, ".build", "unit")
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "1"
    env["ANSIBLE_NOCOLOR"] = "1"
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    exe = os.path.join(os.path.dirname(sys.executable), tool)
    return subprocess.run([exe] + list(args), env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)


def ansible_inventory(*args, **env_changes):
    return ansible_cli("ansible-inventory", *args, **env_changes)


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


# ---------------------------------------------------------------------------------------------
# Hardening against hostile and careless files. Each class names the bug class it catches.

SECRET = "s3cr3tVALUE"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt%s\n-----END OPENSSH PRIVATE KEY-----\n" % SECRET
HEAD = ("plugin: o2edge.perf.edge_sites\nversion: 1\ndefaults: {ssh: {known_hosts: /k/known_hosts}}\n"
        "sites:\n  - name: edge1\n    address: 192.0.2.10\n")
BOMB = "".join(["a0: &a0 [x, x, x, x, x, x, x, x, x]\n"] + [
    "a%d: &a%d [%s]\n" % (i, i, ", ".join(["*a%d" % (i - 1)] * 9)) for i in range(1, 9)])


def write(tmp_path, text, name="edge-sites.yml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def refused(plugin, path):
    with pytest.raises(AnsibleParserError) as info:
        parse(plugin, path)
    return str(info.value)


class TestValuesStayData(object):
    """Catches: the plugin trusting the file's strings as templates (undoing !unsafe, rendering '{{ 7*6 }}'
    or a lookup when a play uses the variable)."""

    TEXT = HEAD + ("    metadata:\n"
                   "      unsafe: !unsafe '{{ lookup(\"pipe\", \"id\") }}'\n"
                   "      plain: '{{ 7*6 }}'\n"
                   "      header: \"#jinja2:variable_start_string:'[['\\n[[ 6*7 ]]\"\n"
                   "      '{{ 6*7 }}': key\n"
                   "      text: plain words\n"
                   "    ssh: {key_file: !unsafe '/k/{{ 6*7 }}/id'}\n")
    EXPECTED = {"unsafe": '{{ lookup("pipe", "id") }}', "plain": "{{ 7*6 }}",
                "header": "#jinja2:variable_start_string:'[['\n[[ 6*7 ]]", "{{ 6*7 }}": "key", "text": "plain words"}

    def test_verbatim_through_inventory_manager_and_templar(self, tmp_path, plugin):
        from ansible.inventory.manager import InventoryManager
        from ansible.template import Templar, trust_as_template
        from ansible.vars.manager import VariableManager

        loader = DataLoader()
        manager = InventoryManager(loader=loader)
        plugin.parse(manager._inventory, loader, write(tmp_path, self.TEXT), cache=False)
        hostvars = VariableManager(loader=loader, inventory=manager).get_vars(host=manager.get_host("edge1"))
        templar = Templar(loader=loader, variables=hostvars)
        assert templar.template(trust_as_template("{{ edge_metadata }}")) == self.EXPECTED
        assert templar.template(trust_as_template("{{ edge_site.metadata.plain }}")) == "{{ 7*6 }}"
        assert templar.template(trust_as_template("{{ edge_metadata.unsafe }}")) == '{{ lookup("pipe", "id") }}'
        assert templar.template(hostvars["ansible_ssh_private_key_file"]) == "/k/{{ 6*7 }}/id"
        assert templar.template(trust_as_template("{{ ansible_host }}")) == "192.0.2.10"

    def test_verbatim_in_a_play_and_marked_unsafe_in_list(self, tmp_path):
        path = write(tmp_path, self.TEXT)
        out = ansible_cli("ansible", "-i", path, "edge1", "-m", "ansible.builtin.debug", "-a", "var=edge_metadata")
        assert out.returncode == 0, out.stderr
        assert '"plain": "{{ 7*6 }}"' in out.stdout and '"unsafe": "{{ lookup(\\"pipe\\", \\"id\\") }}"' in out.stdout
        assert "uid=" not in out.stdout and "42" not in out.stdout
        listed = ansible_inventory("-i", path, "--list")
        assert listed.returncode == 0, listed.stderr
        meta = json.loads(listed.stdout)["_meta"]["hostvars"]["edge1"]["edge_metadata"]
        assert meta["unsafe"] == {"__ansible_unsafe": '{{ lookup("pipe", "id") }}'}
        assert meta["plain"] == {"__ansible_unsafe": "{{ 7*6 }}"}
        assert meta["text"] == "plain words"  # inert strings stay plain JSON strings


class TestVault(object):
    """Catches: the bounded loader losing Ansible's !vault tag (or the plugin refusing a vaulted token)."""

    def test_vaulted_token_is_published_encrypted_and_decrypts(self, tmp_path, plugin, monkeypatch):
        from ansible.parsing.vault import EncryptedString, VaultLib, VaultSecret, VaultSecretsContext
        from ansible.template import Templar, trust_as_template

        secrets = [("default", VaultSecret(b"test-only-password"))]
        monkeypatch.setattr(VaultSecretsContext, "_current", VaultSecretsContext(secrets))
        cipher = VaultLib(secrets).encrypt(SECRET).decode()
        text = HEAD + "    services:\n      kubernetes:\n        token: !vault |\n%s\n" % "\n".join(
            "          " + line for line in cipher.splitlines())
        inv = parse(plugin, write(tmp_path, text))
        token = inv.hosts["edge1"].vars["edge_kubernetes_token"]
        assert isinstance(token, EncryptedString)
        assert SECRET not in json.dumps(inv.hosts["edge1"].vars["edge_site"])
        templar = Templar(loader=DataLoader(), variables={"t": token})
        assert templar.template(trust_as_template("{{ t }}")) == SECRET


class TestRefusedCleanly(object):
    """Catches: a traceback (ValueError, RecursionError, TypeError) or a YAML error that quotes the file's
    line (and so its secret) instead of a clear AnsibleParserError naming the site and field."""

    def test_nul_in_address(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD.replace("192.0.2.10", '"192.0.2.10\\0"')))
        assert "sites[0] (edge1).address: must not contain white space or control characters" in text

    def test_nul_in_path(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD + '    ssh: {key_file: "/k/id\\0"}\n'))
        assert "sites[0] (edge1).ssh.key_file: must be a file path" in text

    def test_raw_nul_byte(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD + "    metadata: {a: \"x\0\"}\n"))
        assert "is not valid YAML" in text and "#x0000" in text

    @pytest.mark.parametrize("yaml_text", ["    metadata: &m {self: *m}\n", "    metadata: &m [1, *m]\n"])
    def test_recursive_anchor(self, tmp_path, plugin, yaml_text):
        text = refused(plugin, write(tmp_path, HEAD + yaml_text))
        assert "alias *m (line 7) refers to a node that contains it: a recursive structure" in text

    def test_deep_nesting(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD + "    metadata: {a: " + "[" * 5000 + "]" * 5000 + "}\n"))
        assert "nests deeper than 32 levels (line 7)" in text

    def test_odd_service_shapes(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD + "    services: {kubernetes: [1], x: 5, y: {kind: [tcp]}}\n"))
        assert "sites[0] (edge1).services.kubernetes: must be a mapping, got a list (1 items)" in text
        assert "sites[0] (edge1).services.x: must be a mapping, got 5" in text
        assert "sites[0] (edge1).services.y.kind: must be one of" in text

    def test_yaml_error_does_not_quote_the_line(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD + '    metadata: {api_token: "%s\n' % SECRET))
        assert "is not valid YAML" in text and "line" in text
        assert SECRET not in text

    def test_repeated_key_refused(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD + "    address: 192.0.2.99\n"))
        assert "repeats the key address in one mapping (line 7)" in text

    def test_merge_key_override_accepted(self, tmp_path, plugin):
        text = HEAD + "    metadata:\n      <<: {a: 1, b: 2}\n      a: 3\n"
        assert parse(plugin, write(tmp_path, text)).hosts["edge1"].vars["edge_metadata"] == {"a": 3, "b": 2}


class TestBounded(object):
    """Catches: an alias bomb, a huge or deeply nested file taking long (or crashing libyaml) before it is
    refused, and a huge value echoed back."""

    def test_alias_bomb_refused_fast(self, tmp_path, plugin):
        import time
        path = write(tmp_path, HEAD + "    metadata:\n" + "".join("      " + line + "\n" for line in BOMB.splitlines()))
        start = time.monotonic()
        text = refused(plugin, path)
        assert time.monotonic() - start < 1.0
        assert "holds more than 100000 values once YAML aliases are expanded" in text

    def test_deep_nesting_refused_before_libyaml_recurses(self):
        import time
        from ansible_collections.o2edge.perf.plugins.inventory import edge_sites as inv

        start = time.monotonic()
        with pytest.raises(YamlBoundsError, match="nests deeper than 32 levels"):
            # the plugin's one bounded loader is _yaml_bounds.check_yaml (composing this in libyaml segfaults)
            inv.check_yaml("[" * 500000 + "]" * 500000, max_depth=inv.MAX_DEPTH)
        assert time.monotonic() - start < 1.0

    def test_alias_expanding_too_deep(self):
        text = "a: &a " + "[" * 20 + "]" * 20 + "\nb: " + "[" * 15 + "*a" + "]" * 15 + "\n"
        with pytest.raises(YamlBoundsError, match=r"alias \*a \(line 2\) nests deeper than 32 levels"):
            check_yaml(text)
        # map, a, [1, 2] (3 nodes), b, [*a, *a] (1 + 3 + 3): aliases count as the nodes they stand for
        assert check_yaml("a: &a [1, 2]\nb: [*a, *a]\n") == 13

    def test_big_file_refused_unread(self, tmp_path, plugin):
        path = write(tmp_path, HEAD + "    metadata: {pad: '%s'}\n" % ("x" * (1 << 20)))
        assert "over the limit of 1048576" in refused(plugin, path)

    def test_huge_name_not_echoed(self, tmp_path, plugin):
        text = refused(plugin, write(tmp_path, HEAD.replace("edge1", "n" * 100000) + "    labels: [x]\n"))
        assert len(text) < 2000 and text.count("n" * 60) == 1


class TestRefusedFileFailsTheRun(object):
    """Catches: a refused file exiting 0 (Ansible's default only warns), the shipped example config not
    setting it, and a secret from the refused file reaching the output."""

    BAD = HEAD + "    ssh:\n      key_file: |\n%s    metadata: {api_token: %s, bmc: {password: [%s]}}\n" % (
        "".join("        " + line + "\n" for line in PEM.splitlines()), SECRET, SECRET)

    def check(self, out):
        assert out.returncode != 0
        for field in ("sites[0] (edge1).ssh.key_file: holds a private key block",
                      "sites[0] (edge1).metadata.api_token: a plaintext token is refused",
                      "sites[0] (edge1).metadata.bmc.password: a plaintext password is refused"):
            assert field in out.stderr
        assert SECRET not in out.stdout + out.stderr
        assert "BEGIN OPENSSH" not in out.stdout + out.stderr

    def test_env_var(self, tmp_path):
        self.check(ansible_inventory("-i", write(tmp_path, self.BAD), "--list"))

    def test_shipped_example_config(self, tmp_path):
        cfg = tmp_path / "ansible.cfg"
        with open(os.path.join(ROOT, "ansible.cfg.example")) as f:
            cfg.write_text(f.read())
        out = ansible_inventory("-i", write(tmp_path, self.BAD), "--list",
                                ANSIBLE_INVENTORY_UNPARSED_FAILED=None, ANSIBLE_CONFIG=str(cfg))
        self.check(out)
        assert "'auto' plugin" not in out.stderr and "'ini' plugin" not in out.stderr

    def test_alias_bomb_with_example_config(self, tmp_path):
        cfg = tmp_path / "ansible.cfg"
        with open(os.path.join(ROOT, "ansible.cfg.example")) as f:
            cfg.write_text(f.read())
        path = write(tmp_path, HEAD + "    metadata:\n" + "".join("      " + line + "\n" for line in BOMB.splitlines()))
        out = ansible_inventory("-i", path, "--list", ANSIBLE_INVENTORY_UNPARSED_FAILED=None, ANSIBLE_CONFIG=str(cfg))
        assert out.returncode != 0
        assert "an alias bomb" in out.stderr


# --------------------------------------------------------------------------- hostile files (issue 15)

SHADOW_LINES = ["root:$y$j9T$Zq1d8wGx0Wb3$Kq4Qn8bXh1Zp2mQ0Yv:19700:0:99999:7:::",
                "daemon:*:19700:0:99999:7:::"]


def test_a_file_that_is_not_a_config_has_no_line_echoed(tmp_path, plugin):
    """Bug: a config that is really /etc/shadow (a symlink) had each line echoed as an "unknown field"
    (40 characters of it); keys that are not short identifiers are named by position only."""
    shadow = write(tmp_path, "\n".join(SHADOW_LINES) + "\n", name="shadow")
    link = tmp_path / "edge-sites.yml"
    link.symlink_to(shadow)
    text = refused(plugin, str(link))
    assert "<key 1>: unknown field" in text and "<key 2>: unknown field" in text
    assert "19700" not in text and "daemon" not in text and "$y$" not in text


def test_a_fifo_as_config_is_refused_without_blocking(tmp_path, plugin):
    """Bug: a named pipe given as the config (or named *.yml) blocked verify_file and parse forever."""
    fifo = str(tmp_path / "edge-sites.yml")
    os.mkfifo(fifo)
    assert plugin.verify_file(fifo)  # claimed, so that parse refuses it clearly
    assert "named pipe" in refused(plugin, fifo)


def test_generated_known_hosts_over_a_fifo_is_replaced_without_blocking(tmp_path, plugin):
    """Bug: the generated known_hosts was read with open() first; a FIFO planted there blocked parse."""
    kh_dir = tmp_path / "kh"
    kh_dir.mkdir()
    os.mkfifo(str(kh_dir / "edge1"))
    path = write(tmp_path, "plugin: o2edge.perf.edge_sites\nversion: 1\nknown_hosts_dir: %s\nsites:\n"
                 "  - name: edge1\n    address: 192.0.2.10\n    ssh: {host_key: %s}\n" % (kh_dir, PIN))
    parse(plugin, path)
    assert (kh_dir / "edge1").read_text().startswith("edge1,192.0.2.10 ssh-ed25519 ")


@pytest.mark.parametrize("where", ["defaults", "site"])
@pytest.mark.parametrize("value", ["/usr/bin/python3; touch pwned", "/usr/bin/python3 -c x", "python3",
                                   "/usr/bin/$(id)", "/usr/bin/python3\n"])
def test_python_interpreter_is_a_strict_absolute_path(tmp_path, plugin, where, value):
    """Bug: python_interpreter "/usr/bin/python3; touch pwned" was accepted (Ansible runs it through a shell)."""
    doc = yaml.safe_load(open(lab_shaped(tmp_path)).read())
    if where == "defaults":
        doc["defaults"]["python_interpreter"] = value
    else:
        doc["sites"][1]["python_interpreter"] = value
    path = write(tmp_path, yaml.safe_dump(doc))
    text = refused(plugin, path)
    assert "python_interpreter: must be an absolute path" in text


class TestFastLoader:
    """load_bounded takes libyaml's safe loader when the text has no tag (no "!" at all)."""

    TEXT = ("plugin: o2edge.perf.edge_sites\nversion: 1\n"
            "base: &base {port: 22, user: root, enabled: yes, ratio: 0.5, none: ~, date: 2026-12-06, octal: 0o17, hex: 0x1f}\n"
            "sites:\n  - {name: edge1, address: 198.18.1.10, ssh: {<<: *base, user: admin}, note: 'a: b # c', n: '010'}\n")

    def _both(self, tmp_path, text, monkeypatch):
        from ansible_collections.o2edge.perf.plugins.inventory import edge_sites as plugin
        path = tmp_path / "edge-sites.yml"
        path.write_text(text)
        calls = []
        real = plugin.AnsibleLoader
        monkeypatch.setattr(plugin, "AnsibleLoader", lambda *a, **k: calls.append(1) or real(*a, **k))
        fast = plugin.load_bounded(str(path))
        used_ansible = bool(calls)
        monkeypatch.setattr(plugin, "FAST_LOADER", None)
        slow = plugin.load_bounded(str(path))
        return fast, slow, used_ansible

    def test_same_data_as_ansibles_loader(self, tmp_path, monkeypatch):
        """Catches: the fast path building other values (YAML 1.1 booleans, dates, merge keys, octal) than
        Ansible's loader, or not being taken for a config without tags."""
        fast, slow, used_ansible = self._both(tmp_path, self.TEXT, monkeypatch)
        assert not used_ansible
        assert fast == slow
        assert fast["sites"][0]["ssh"] == {"port": 22, "user": "admin", "enabled": True, "ratio": 0.5, "none": None,
                                           "date": slow["base"]["date"], "octal": "0o17", "hex": 31}

    def test_tags_go_through_ansibles_loader(self, tmp_path, monkeypatch):
        """Catches: a tagged config (!unsafe, !vault) read by a loader that does not know Ansible's tags."""
        fast, slow, used_ansible = self._both(tmp_path, self.TEXT + "raw: !unsafe '{{ 6*7 }}'\n", monkeypatch)
        assert used_ansible and fast == slow and fast["raw"] == "{{ 6*7 }}"

    def test_a_bang_in_a_string_is_still_read(self, tmp_path, monkeypatch):
        fast, slow, used_ansible = self._both(tmp_path, self.TEXT.replace("'a: b # c'", "'hello!'"), monkeypatch)
        assert used_ansible and fast == slow and fast["sites"][0]["note"] == "hello!"

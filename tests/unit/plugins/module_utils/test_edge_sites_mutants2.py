# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edge/_edge_sites.py from validate_config on: tests written for the survivors of its mutation run.

Each test is named for the bug it catches: an edge-sites config (a dict, or YAML text) that the checker
must accept or refuse, with the whole list of errors (each naming its field) or the whole normalized
result; then the host variables, groups and probe targets derived from a site, compared whole.
Addresses are data only (198.18.0.0/15 and 2001:db8::/32); nothing is sent.
"""
from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _edge_sites as es

PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHw/eyRlBcTW0mPB2vsXmU9x+deZSWRRgAYXvFK8dzB1"
HOST_KEYS = "needs known_hosts or host_key (host keys are always verified); set it here or in defaults.ssh"
GROUP_CLASH = ("is also the name of a group (all, ungrouped, edge_sites or a label group <key>_<value>); "
               "a host must not share a group's name")
PASSWORD = "a plaintext password is refused; use an SSH key (ssh.key_file) or a vaulted variable (!vault)"
TOKEN = ("a plaintext token is refused; use token_file or a vaulted variable (token: !vault | ..., or "
         "edge_kubernetes_token in host_vars)")
VAULTED = ("a vaulted secret is only taken as ssh.password or services.kubernetes.token; keep others in "
           "vaulted host_vars, never in edge_site")
PUBLISH = "site edge1: refusing to publish a secret as a host variable: "
BAD_MAPPING = "the document must be a mapping with plugin, version and sites, got "

MINIMAL = """\
plugin: o2edge.perf.edge_sites
version: 1
sites:
  - name: edge1
    address: 198.18.1.10
    ssh:
      known_hosts: /k/known_hosts
"""


class Vaulted(object):
    """Stands for an ansible vault value (!vault)."""

    def __init__(self, ciphertext):
        self._ciphertext = ciphertext


class VaultedText(str):
    """A vaulted value that is also a string (as ansible-core's vault strings are)."""

    _ciphertext = "x"


class Sealed(object):
    """A vault value only a caller's own is_vault recognises (no _ciphertext attribute)."""


def doc(text=MINIMAL):
    return yaml.safe_load(text)


def with_sites(*sites, **top):
    out = {"plugin": "o2edge.perf.edge_sites", "version": 1, "sites": list(sites)}
    out.update(top)
    return out


def one(**fields):
    out = {"name": "edge1", "address": "198.18.1.10", "ssh": {"known_hosts": "/k/known_hosts"}}
    out.update(fields)
    return out


def errors(data, **kwargs):
    with pytest.raises(es.EdgeSitesError) as info:
        es.validate_config(data, **kwargs)
    return info.value.errors


def normal_site(**changes):
    base = {"name": "edge1", "address": "198.18.1.10", "address_kind": "ipv4", "labels": {},
            "ssh": {"port": 22, "user": None, "key_file": None, "known_hosts": "/k/known_hosts", "host_key": None},
            "python_interpreter": None, "services": {}, "metadata": {}, "secrets": {}}
    base.update(changes)
    return base


class TestTheDocumentAsAWhole(object):
    """Catches: the whole-document refusal showing the wrong thing, the source dropped, the result's keys or
    empty values changed, a caller's is_vault ignored."""

    def test_minimal_config_normalized_whole(self):
        assert es.validate_config(doc()) == {"version": 1, "known_hosts_dir": None, "sites": [normal_site()]}

    def test_host_key_only_site_normalized_whole(self):
        data = with_sites(one(ssh={"host_key": PIN}))
        ssh = {"port": 22, "user": None, "key_file": None, "known_hosts": None, "host_key": PIN}
        assert es.validate_config(data)["sites"] == [normal_site(ssh=ssh)]

    @pytest.mark.parametrize("data, got", [
        ("root:x:0:0:root", "a string of 15 characters"),
        (VaultedText("$ANSIBLE_VAULT;1.1;AES256"), "a hidden value"),
        (b"plugin: x", "a hidden value"),
        (5, "5"),
        (None, "None"),
        ([1, 2], "a list (2 items)"),
    ], ids=["str", "vaulted-str", "bytes", "int", "none", "list"])
    def test_not_a_mapping_shows_type_and_size_only(self, data, got):
        with pytest.raises(es.EdgeSitesError) as info:
            es.validate_config(data, source="/cfg/edge-sites.yml")
        assert info.value.errors == [BAD_MAPPING + got]
        assert info.value.source == "/cfg/edge-sites.yml"
        assert str(info.value) == "edge-sites config (/cfg/edge-sites.yml) is invalid: " + BAD_MAPPING + got

    def test_too_deep_document_refused_with_source(self):
        data = doc()
        data["sites"][0]["metadata"] = {"loop": {}}
        data["sites"][0]["metadata"]["loop"]["again"] = data["sites"][0]["metadata"]["loop"]
        with pytest.raises(es.EdgeSitesError) as info:
            es.validate_config(data, source="e.yml")
        assert info.value.source == "e.yml" and len(info.value.errors) == 1
        assert info.value.errors[0].startswith("sites[0].metadata.loop.again.again")
        assert info.value.errors[0].endswith(": nests deeper than 32 levels (or refers to itself)")

    def test_callers_is_vault_is_used(self):
        """A caller (the inventory plugin on another ansible-core) may say what a vault value is."""
        sealed = Sealed()
        data = with_sites(one(ssh={"known_hosts": "/k/kh", "password": sealed}))
        site = es.validate_config(data, is_vault=lambda v: isinstance(v, Sealed))["sites"][0]
        assert site["secrets"] == {"ansible_password": sealed}
        assert "password" not in site["ssh"]
        assert errors(copy.deepcopy(data)) == ["sites[0] (edge1).ssh.password: " + PASSWORD]


class TestTopLevelFields(object):
    """Catches: a top-level field checked under the wrong name, a wrong plugin or version let through, the
    version message built wrongly, known_hosts_dir or defaults dropped."""

    def test_every_top_level_problem_at_once(self):
        data = {"plugin": "yaml", "version": True, "hosts": [], "defaults": {"services": {}}, "sites": {}}
        assert errors(data) == [
            "hosts: unknown field (allowed: plugin, version, defaults, sites, known_hosts_dir)",
            "plugin: must be o2edge.perf.edge_sites, got 'yaml'",
            "version: must be 1 (the schema version), got True",
            "defaults.services: unknown field (allowed: ssh, python_interpreter, labels)",
            "sites: must be a non-empty list of sites, got a mapping (0 entries)",
        ]

    @pytest.mark.parametrize("sites, got", [([], "a list (0 items)"), ("edge1", "'edge1'"), (None, "None")])
    def test_sites_must_be_a_non_empty_list(self, sites, got):
        data = doc()
        data["sites"] = sites
        assert errors(data) == ["sites: must be a non-empty list of sites, got " + got]

    @pytest.mark.parametrize("version", [1.0, "1", None, 0, 2])
    def test_only_the_integer_1_is_a_version(self, version):
        data = doc()
        data["version"] = version
        assert errors(data) == ["version: must be 1 (the schema version), got %s" % es._show(version)]

    def test_versions_are_listed_with_or(self, monkeypatch):
        monkeypatch.setattr(es, "SCHEMA_VERSIONS", (1, 2))
        data = doc()
        data["version"] = 2
        assert es.validate_config(data)["version"] == 2
        data["version"] = 3
        assert errors(data) == ["version: must be 1 or 2 (the schema version), got 3"]

    def test_another_plugin_name_list(self):
        data = doc()
        assert es.validate_config(data, plugin_names=("x.y.z", "o2edge.perf.edge_sites"))["version"] == 1
        assert errors(data, plugin_names=("x.y.z",)) == ["plugin: must be x.y.z, got 'o2edge.perf.edge_sites'"]

    def test_known_hosts_dir_resolved_against_the_config_folder(self):
        data = doc()
        data["known_hosts_dir"] = "kh"
        assert es.validate_config(data, base_dir="/srv/edge")["known_hosts_dir"] == "/srv/edge/kh"
        data["known_hosts_dir"] = None
        assert es.validate_config(data)["known_hosts_dir"] is None

    @pytest.mark.parametrize("value, message", [
        ("kh", "known_hosts_dir: must be an absolute path, got 'kh'"),
        (5, "known_hosts_dir: must be a file path (a string without control characters), got 5"),
    ])
    def test_bad_known_hosts_dir(self, value, message):
        data = doc()
        data["known_hosts_dir"] = value
        assert errors(data) == [message]

    def test_secrets_in_defaults_named_under_defaults(self):
        data = doc()
        data["defaults"] = {"ssh": {"password": "x"}, "labels": {"api_token": "abc"}}
        assert errors(data) == [
            "defaults.ssh.password: " + PASSWORD,
            "defaults.labels.api_token: " + TOKEN,
        ]

    def test_defaults_not_a_mapping(self):
        data = doc()
        data["defaults"] = "ssh"
        assert errors(data) == ["defaults: must be a mapping, got 'ssh'"]

    def test_bad_defaults_named_under_defaults(self):
        data = doc()
        data["defaults"] = {"ssh": {"port": 0, "user": "a b"}, "labels": {"tier": "a b"},
                            "python_interpreter": "python3"}
        assert errors(data) == [
            "defaults.ssh.port: must be an integer port 1-65535, got 0",
            "defaults.ssh.user: must be a user name, got 'a b'",
            "defaults.labels.tier: label value must be a word of [A-Za-z0-9_.-] (it becomes group tier_<value>), "
            "got 'a b'",
            "defaults.python_interpreter: must be an absolute path of letters, digits and _ . + - / only (no white "
            "space, no shell characters; e.g. /usr/bin/python3), got 'python3'",
        ]

    def test_defaults_reach_every_site(self):
        data = with_sites(one(ssh=None), one(name="edge2", address="198.18.2.10", ssh={"port": 2222},
                                             labels={"tier": "b"}, python_interpreter="/opt/py3"),
                          defaults={"ssh": {"user": "ops", "known_hosts": "/k/kh", "key_file": "/k/id"},
                                    "labels": {"tier": "a", "role": "edge"},
                                    "python_interpreter": "/usr/bin/python3"})
        ssh = {"port": 22, "user": "ops", "key_file": "/k/id", "known_hosts": "/k/kh", "host_key": None}
        assert es.validate_config(data)["sites"] == [
            normal_site(ssh=ssh, labels={"tier": "a", "role": "edge"}, python_interpreter="/usr/bin/python3"),
            normal_site(name="edge2", address="198.18.2.10", ssh=dict(ssh, port=2222),
                        labels={"tier": "b", "role": "edge"}, python_interpreter="/opt/py3"),
        ]


class TestSites(object):
    """Catches: a bad site stopping the checks of the next ones, a label or path naming the wrong site or
    field, a duplicate or endpoint clash missed or reported for a site already refused."""

    def test_every_bad_entry_reported_and_the_next_sites_still_checked(self):
        data = with_sites("edge0", one(), 5, one(name="edge1", address="198.18.1.11"))
        assert errors(data) == [
            "sites[0]: must be a mapping with name and address, got 'edge0'",
            "sites[2]: must be a mapping with name and address, got 5",
            "sites[3] (edge1).name: duplicate site name (also sites[1])",
        ]

    def test_bad_name_labels_by_position(self):
        data = with_sites(one(name="edge 1", address="bad address", python_interpreter="py",
                              metadata=[1], labels={"t": "a b"}, ssh={"port": "x", "known_hosts": "/kh"}))
        assert errors(data) == [
            "sites[0].name: must be a site name of [A-Za-z0-9_.-] starting with a letter or digit, at most 63 "
            "characters, got 'edge 1'",
            "sites[0].address: must not contain white space or control characters (NUL, newline), got 'bad address'",
            "sites[0].ssh.port: must be an integer port 1-65535, got 'x'",
            "sites[0].labels.t: label value must be a word of [A-Za-z0-9_.-] (it becomes group t_<value>), got 'a b'",
            "sites[0].python_interpreter: must be an absolute path of letters, digits and _ . + - / only (no white "
            "space, no shell characters; e.g. /usr/bin/python3), got 'py'",
            "sites[0].metadata: must be a mapping, got a list (1 items)",
        ]

    def test_name_of_another_type(self):
        assert errors(with_sites(one(name=5))) == [
            "sites[0].name: must be a site name of [A-Za-z0-9_.-] starting with a letter or digit, at most 63 "
            "characters, got 5"]

    def test_unknown_site_field_and_secret_in_it(self):
        data = with_sites(one(hostname="x", metadata={"api_token": "abc"}))
        assert errors(data) == [
            "sites[0] (edge1).hostname: unknown field (allowed: name, address, labels, ssh, services, metadata, "
            "python_interpreter)",
            "sites[0] (edge1).metadata.api_token: " + TOKEN,
        ]

    def test_three_sites_same_name(self):
        data = with_sites(one(), one(address="198.18.1.11"), one(address="198.18.1.12"))
        assert errors(data) == [
            "sites[1] (edge1).name: duplicate site name (also sites[0])",
            "sites[2] (edge1).name: duplicate site name (also sites[0])",
        ]

    def test_site_without_host_keys(self):
        assert errors(with_sites(one(ssh={"user": "root"}))) == ["sites[0] (edge1).ssh: " + HOST_KEYS]

    @pytest.mark.parametrize("first, second", [
        ("2001:db8::1", "2001:DB8:0:0::1"), ("edge.example.net", "EDGE.Example.NET."), ("198.18.1.10", "198.18.1.10"),
    ])
    def test_same_endpoint_names_the_first_site_and_its_address(self, first, second):
        data = with_sites(one(address=first), one(name="edge2", address=second))
        assert errors(data) == ["sites[1] (edge2).address: %s port 22 is already site edge1 (%s)" % (second, first)]

    def test_same_endpoint_by_the_ssh_port_of_defaults(self):
        data = with_sites(one(ssh={"known_hosts": "/kh", "port": 2200}), one(name="edge2", ssh={"known_hosts": "/kh"}),
                          defaults={"ssh": {"port": 2200}})
        assert errors(data) == ["sites[1] (edge2).address: 198.18.1.10 port 2200 is already site edge1 (198.18.1.10)"]

    def test_no_endpoint_clash_for_a_site_already_refused(self):
        """A site with a bad name or a bad address takes no endpoint: no second message about it."""
        data = with_sites(one(name=None), one(name="edge2"), one(name="edge3", address="a b"),
                          one(name="edge4", address="a b"))
        addr = "must not contain white space or control characters (NUL, newline), got 'a b'"
        assert errors(data) == [
            "sites[0].name: must be a site name of [A-Za-z0-9_.-] starting with a letter or digit, at most 63 "
            "characters, got None",
            "sites[2] (edge3).address: " + addr,
            "sites[3] (edge4).address: " + addr,
        ]

    def test_site_named_like_a_builtin_or_label_group(self):
        data = with_sites(one(name="all"), one(name="tier_a", address="198.18.1.11", labels={"tier": "a"}))
        assert errors(data) == ["sites[0] (all).name: " + GROUP_CLASH, "sites[1] (tier_a).name: " + GROUP_CLASH]


class TestServices(object):
    """Catches: a bad service name stopping the checks of the next services, a token not kept as the site's
    secret, a service path naming the wrong site."""

    def test_every_bad_service_reported(self):
        data = with_sites(one(services={"bad-name": {}, "ssh": {"port": 22}, "x": {"kind": "udp"}, 7: {},
                                        "y": {"kind": "tcp"}}))
        assert errors(data) == [
            "sites[0] (edge1).services.bad-name: service name must match [A-Za-z_][A-Za-z0-9_]*",
            "sites[0] (edge1).services.ssh: ssh is not a service entry: configure it under the site's ssh:",
            "sites[0] (edge1).services.x.kind: must be one of tcp, http, prometheus, kubernetes, got 'udp'",
            "sites[0] (edge1).services.[7]: service name must match [A-Za-z_][A-Za-z0-9_]*",
            "sites[0] (edge1).services.y.port: is required for kind tcp",
        ]

    def test_services_not_a_mapping(self):
        assert errors(with_sites(one(services="kubernetes"))) == [
            "sites[0] (edge1).services: must be a mapping, got 'kubernetes'"]

    def test_services_normalized_and_token_kept_as_secret(self):
        token = Vaulted("$ANSIBLE_VAULT;1.1;AES256\n3132")
        data = with_sites(one(services={"db": {"kind": "tcp", "port": 5432}, "api": {"kind": "kubernetes", "token": token},
                                        "prometheus": None}))
        site = es.validate_config(data)["sites"][0]
        assert site["services"] == {"db": {"kind": "tcp", "port": 5432}, "api": {"kind": "kubernetes", "port": 6443},
                                    "prometheus": {"kind": "prometheus", "port": 9090}}
        assert site["secrets"] == {"edge_kubernetes_token": token}


def checked_site(**fields):
    return es.validate_config(with_sites(one(**fields)))["sites"][0]


class TestHostVariables(object):
    """Catches: a host variable added, dropped or renamed, the ssh options built wrongly, a secret published,
    or the refusal naming the wrong variable."""

    COMMON = "-o HostKeyAlias=edge1 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/k/known_hosts -o IdentitiesOnly=yes"

    def test_minimal_site_hostvars_whole(self):
        site = checked_site()
        public = dict((k, v) for k, v in site.items() if k != "secrets")
        assert es.site_hostvars(site) == {
            "ansible_host": "198.18.1.10", "ansible_port": 22, "ansible_ssh_common_args": self.COMMON,
            "edge_site": public, "edge_services": {}, "edge_labels": {}, "edge_metadata": {},
        }
        assert es.public_site(site) == public

    def test_full_site_hostvars_whole(self):
        password = Vaulted("p")
        site = checked_site(ssh={"port": 2222, "user": "ops", "key_file": "/k/id", "known_hosts": "/k/known_hosts",
                                 "password": password},
                            python_interpreter="/usr/bin/python3", labels={"tier": "a"}, metadata={"rack": 4},
                            services={"prometheus": {"port": 9091}})
        hv = es.site_hostvars(site)
        assert hv == {
            "ansible_host": "198.18.1.10", "ansible_port": 2222, "ansible_ssh_common_args": self.COMMON,
            "edge_site": dict((k, v) for k, v in site.items() if k != "secrets"),
            "edge_services": {"prometheus": {"kind": "prometheus", "port": 9091}}, "edge_labels": {"tier": "a"},
            "edge_metadata": {"rack": 4}, "ansible_user": "ops", "ansible_ssh_private_key_file": "/k/id",
            "ansible_python_interpreter": "/usr/bin/python3", "ansible_password": password,
        }
        assert es.site_groups(site) == ["edge_sites", "tier_a"]

    def test_ssh_common_args_with_a_generated_known_hosts_file(self):
        site = checked_site(ssh={"host_key": PIN})
        assert es.ssh_common_args(site) == "-o HostKeyAlias=edge1 -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
        assert es.ssh_common_args(site, "/kh dir/edge1") == (
            "-o HostKeyAlias=edge1 -o StrictHostKeyChecking=yes -o 'UserKnownHostsFile=/kh dir/edge1' -o IdentitiesOnly=yes")
        both = checked_site(ssh={"host_key": PIN, "known_hosts": "/k/known_hosts"})
        assert es.ssh_common_args(both, "/gen/edge1") == self.COMMON.replace("/k/known_hosts", "/gen/edge1")
        assert es.site_hostvars(both, "/gen/edge1")["ansible_ssh_common_args"] == es.ssh_common_args(both, "/gen/edge1")

    def test_pinned_known_hosts_line(self):
        site = checked_site(address="2001:db8::10", ssh={"host_key": PIN})
        assert es.pinned_known_hosts_line(site) == "edge1,2001:db8::10 %s\n" % PIN

    def test_groups_sorted_by_label_key(self):
        site = checked_site(labels={"zone": "z-1", "app": "o2.ims"})
        assert es.site_groups(site) == ["edge_sites", "app_o2_ims", "zone_z_1"]

    def test_secret_in_edge_site_and_a_plaintext_password_both_named(self):
        site = checked_site()
        site["metadata"] = {"api_token": "abc"}
        site["secrets"] = {"ansible_password": "hunter2"}
        with pytest.raises(es.EdgeSitesError) as info:
            es.site_hostvars(site)
        assert info.value.errors == [
            PUBLISH + "edge_site.metadata.api_token: " + TOKEN,
            PUBLISH + "edge_metadata.api_token: " + TOKEN,
            PUBLISH + "ansible_password: " + PASSWORD,
        ]
        with pytest.raises(es.EdgeSitesError) as info:
            es.public_site(site)
        assert info.value.errors == [PUBLISH + "edge_site.metadata.api_token: " + TOKEN]

    def test_vaulted_value_only_in_the_secret_variables(self):
        site = checked_site()
        site["secrets"] = {"ansible_become_password": Vaulted("b"), "ansible_password": Vaulted("a")}
        with pytest.raises(es.EdgeSitesError) as info:
            es.site_hostvars(site)
        assert info.value.errors == [PUBLISH + "ansible_become_password: " + VAULTED]

    def test_refusal_keeps_a_leading_capital_x(self):
        site = checked_site()
        site["secrets"] = {"X_Auth_Token": "abc"}
        with pytest.raises(es.EdgeSitesError) as info:
            es.site_hostvars(site)
        assert info.value.errors == [PUBLISH + "X_Auth_Token: " + TOKEN]

    def test_refusal_names_a_site_without_name(self):
        site = checked_site()
        site["name"] = None
        site["metadata"] = {"api_token": "abc"}
        with pytest.raises(es.EdgeSitesError) as info:
            es.public_site(site)
        assert info.value.errors == ["site [None]: refusing to publish a secret as a host variable: "
                                     "edge_site.metadata.api_token: " + TOKEN]

    def test_checked_config_hostvars_through_yaml(self):
        text = MINIMAL + "    labels: {tier: healthy}\n    services:\n      prometheus: {port: 9090}\n"
        site = es.validate_config(yaml.safe_load(text))["sites"][0]
        hv = es.site_hostvars(site)
        assert sorted(hv) == ["ansible_host", "ansible_port", "ansible_ssh_common_args", "edge_labels",
                              "edge_metadata", "edge_services", "edge_site"]
        assert hv["edge_services"] == {"prometheus": {"kind": "prometheus", "port": 9090}}


class TestProbeTargets(object):
    """Catches: a probe target with the wrong address, port, kind or token, a service skipped or probed
    when not asked for, and odd sites raising something else than a ValueError naming them."""

    SITE = {"name": "edge1", "address": "198.18.1.10",
            "ssh": {"port": 2222, "user": "ops", "key_file": "/k/id", "known_hosts": "/k/kh", "host_key": PIN},
            "services": {"db": {"kind": "tcp", "port": 5432},
                         "api": {"kind": "kubernetes", "ca_file": "/pki/ca", "tls_server_name": "k8s"},
                         "prometheus": {"port": 9091, "query": None},
                         "web": {"kind": "http", "url": "http://198.18.1.20:8080/x", "port": 9999,
                                 "expect_status": [200]}}}

    SSH = {"site": "edge1", "service": "ssh", "kind": "ssh", "address": "198.18.1.10", "port": 2222,
           "alias": "edge1", "known_hosts": "/k/kh", "host_key": PIN, "user": "ops", "key_file": "/k/id",
           "login": False}

    def test_every_target_whole(self):
        assert es.site_targets(copy.deepcopy(self.SITE)) == [
            self.SSH,
            {"site": "edge1", "service": "api", "kind": "kubernetes", "address": "198.18.1.10", "port": 6443,
             "ca_file": "/pki/ca", "tls_server_name": "k8s"},
            {"site": "edge1", "service": "db", "kind": "tcp", "address": "198.18.1.10", "port": 5432},
            {"site": "edge1", "service": "prometheus", "kind": "prometheus", "address": "198.18.1.10", "port": 9091},
            {"site": "edge1", "service": "web", "kind": "http", "address": "198.18.1.20", "port": 8080,
             "url": "http://198.18.1.20:8080/x", "expect_status": [200]},
        ]

    def test_token_only_for_kubernetes_services(self):
        targets = es.site_targets(copy.deepcopy(self.SITE), services=["api", "db"], ssh_login=True, token="tok")
        assert targets == [
            {"site": "edge1", "service": "api", "kind": "kubernetes", "address": "198.18.1.10", "port": 6443,
             "ca_file": "/pki/ca", "tls_server_name": "k8s", "token": "tok"},
            {"site": "edge1", "service": "db", "kind": "tcp", "address": "198.18.1.10", "port": 5432},
        ]

    def test_a_url_decides_the_endpoint_and_a_stray_port_is_not_copied(self):
        """A hand-made edge_site with both url and port (validate_config refuses it): the URL's host and port win."""
        targets = es.site_targets(copy.deepcopy(self.SITE), services=["web"])
        assert (targets[0]["address"], targets[0]["port"]) == ("198.18.1.20", 8080)

    def test_a_none_field_is_not_copied_into_the_target(self):
        targets = es.site_targets(copy.deepcopy(self.SITE), services=["prometheus"])
        assert targets == [{"site": "edge1", "service": "prometheus", "kind": "prometheus", "address": "198.18.1.10",
                            "port": 9091}]

    def test_services_not_asked_for_are_skipped_not_the_rest(self):
        targets = es.site_targets(copy.deepcopy(self.SITE), services=["web"])
        assert [t["service"] for t in targets] == ["web"]

    def test_ssh_only_and_login(self):
        assert es.site_targets(copy.deepcopy(self.SITE), services=["ssh"], ssh_login=1) == [dict(self.SSH, login=True)]

    def test_ssh_defaults_for_a_site_without_ssh(self):
        assert es.site_targets({"name": "e", "address": "198.18.1.1"}) == [
            {"site": "e", "service": "ssh", "kind": "ssh", "address": "198.18.1.1", "port": 22, "alias": "e",
             "known_hosts": None, "host_key": None, "user": None, "key_file": None, "login": False}]

    def test_kubernetes_by_name_without_kind(self):
        site = {"name": "e", "address": "198.18.1.1", "services": {"kubernetes": {}, "o2ims": {"url": "https://e.example.net/"}}}
        assert es.site_targets(site, services=["kubernetes", "o2ims"], token="t") == [
            {"site": "e", "service": "kubernetes", "kind": "kubernetes", "address": "198.18.1.1", "port": 6443,
             "token": "t"},
            {"site": "e", "service": "o2ims", "kind": "http", "address": "e.example.net", "port": 443,
             "url": "https://e.example.net/"},
        ]

    @pytest.mark.parametrize("site, message", [
        ("edge1", "a site needs at least name and address, got 'edge1'"),
        ({"name": "e"}, "a site needs at least name and address, got a mapping (1 entries)"),
        ({"address": "198.18.1.1"}, "a site needs at least name and address, got a mapping (1 entries)"),
        ({"name": "", "address": "198.18.1.1"}, "a site needs at least name and address, got a mapping (2 entries)"),
        ({"name": "e", "address": "198.18.1.1", "ssh": [22]}, "site 'e': ssh and services must be mappings"),
        ({"name": "e", "address": "198.18.1.1", "services": ["x"]}, "site 'e': ssh and services must be mappings"),
        ({"name": "e", "address": "198.18.1.1", "services": {"x": 5}}, "site 'e': service x must be a mapping, got 5"),
        ({"name": "e", "address": "198.18.1.1", "services": {"x": {"url": "ftp://h/"}}},
         "site 'e': service x url must use http or https, got scheme 'ftp'"),
    ], ids=["str", "no-address", "no-name", "empty-name", "ssh-list", "services-list", "service-int", "bad-url"])
    def test_odd_sites_are_value_errors_naming_them(self, site, message):
        with pytest.raises(ValueError) as info:
            es.site_targets(site)
        assert str(info.value) == message

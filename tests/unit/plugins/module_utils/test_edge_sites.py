# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema validation of the edge-sites config: a corpus of bad configs, each with its message."""
from __future__ import annotations

import copy
import os

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.module_utils import _edge_sites as es

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHw/eyRlBcTW0mPB2vsXmU9x+deZSWRRgAYXvFK8dzB1"

GOOD = {
    "plugin": "o2edge.perf.edge_sites",
    "version": 1,
    "defaults": {
        "ssh": {"port": 22, "user": "root", "key_file": "/k/id_ed25519", "known_hosts": "/k/known_hosts"},
        "python_interpreter": "/usr/bin/python3",
    },
    "sites": [
        {"name": "edge1", "address": "192.0.2.10",
         "labels": {"role": "edge", "tier": "healthy", "region": "lab"},
         "services": {
             "kubernetes": {"port": 6443, "ca_file": "/pki/ca.crt", "token_file": "/pki/token"},
             "prometheus": {"port": 9090},
             "o2ims": {"url": "http://192.0.2.10:8080/o2ims-infrastructureInventory/v1"},
         },
         "metadata": {"free": "form", "nested": {"any": [1, 2]}}},
        {"name": "edge2", "address": "2001:db8::2", "labels": {"role": "edge", "tier": "ssh_only"}},
    ],
}


def bad(mutate):
    doc = copy.deepcopy(GOOD)
    mutate(doc)
    return doc


def site(doc, i=0):
    return doc["sites"][i]


class Vaulted(object):
    """Stands for an ansible vault value (!vault) in tests."""

    def __init__(self, ciphertext):
        self._ciphertext = ciphertext


# (id, mutation, expected substrings of the error message)
CORPUS = [
    ("not-a-mapping", lambda d: d.clear() or d.update({"x": 1}), ["unknown field", "plugin: must be o2edge.perf.edge_sites"]),
    ("wrong-plugin", lambda d: d.update(plugin="yaml"), ["plugin: must be o2edge.perf.edge_sites, got 'yaml'"]),
    ("no-version", lambda d: d.pop("version"), ["version: must be 1 (the schema version), got None"]),
    ("version-2", lambda d: d.update(version=2), ["version: must be 1", "got 2"]),
    ("version-string", lambda d: d.update(version="1"), ["version: must be 1", "got '1'"]),
    ("unknown-top", lambda d: d.update(hosts=[]), ["hosts: unknown field (allowed: plugin, version"]),
    ("no-sites", lambda d: d.pop("sites"), ["sites: must be a non-empty list of sites, got None"]),
    ("empty-sites", lambda d: d.update(sites=[]), ["sites: must be a non-empty list"]),
    ("site-not-mapping", lambda d: d["sites"].append("edge3"), ["sites[2]: must be a mapping with name and address, got str"]),
    ("no-name", lambda d: site(d).pop("name"), ["sites[0].name: must be a site name"]),
    ("bad-name", lambda d: site(d).update(name="edge 1"), ["sites[0] (edge 1).name: must be a site name", "'edge 1'"]),
    ("dup-name", lambda d: site(d, 1).update(name="edge1"), ["sites[1] (edge1).name: duplicate site name (also sites[0])"]),
    ("unknown-site-key", lambda d: site(d).update(hostname="x"), ["sites[0] (edge1).hostname: unknown field (allowed: name, address"]),
    ("no-address", lambda d: site(d).pop("address"), ["sites[0] (edge1).address: must be a non-empty string (IPv4, IPv6 or DNS name), got None"]),
    ("bad-ipv4", lambda d: site(d).update(address="192.0.2.300"), ["sites[0] (edge1).address: is not a valid IPv4 address: '192.0.2.300'"]),
    ("short-ipv4", lambda d: site(d).update(address="192.0.2"), ["sites[0] (edge1).address: is not a valid IPv4 address"]),
    ("bad-ipv6", lambda d: site(d).update(address="2001:db8::zz"), ["sites[0] (edge1).address: is not a valid IPv6 address"]),
    ("bracketed-ipv6", lambda d: site(d).update(address="[2001:db8::1]"), ["address: must be a plain address without brackets"]),
    ("bad-dns", lambda d: site(d).update(address="edge_1.example.net"), ["address: is neither an IP address nor a valid DNS name"]),
    ("address-int", lambda d: site(d).update(address=1234), ["address: must be a non-empty string", "got 1234"]),
    ("address-with-port", lambda d: site(d).update(address="192.0.2.10:22"), ["address: is not a valid IPv6 address"]),
    ("dup-endpoint", lambda d: site(d, 1).update(address="192.0.2.10"), ["sites[1] (edge2).address: 192.0.2.10 port 22 is already site edge1"]),
    ("ssh-port-string", lambda d: site(d).update(ssh={"port": "22"}), ["sites[0] (edge1).ssh.port: must be an integer port 1-65535, got '22'"]),
    ("ssh-port-range", lambda d: site(d).update(ssh={"port": 70000}), ["ssh.port: must be an integer port 1-65535, got 70000"]),
    ("ssh-port-bool", lambda d: site(d).update(ssh={"port": True}), ["ssh.port: must be an integer port 1-65535, got True"]),
    ("ssh-unknown", lambda d: site(d).update(ssh={"strict": False}), ["sites[0] (edge1).ssh.strict: unknown field (allowed: port, user"]),
    ("ssh-relative-key", lambda d: site(d).update(ssh={"key_file": "keys/id"}), ["ssh.key_file: must be an absolute path, got 'keys/id'"]),
    ("ssh-bad-user", lambda d: site(d).update(ssh={"user": "root; rm"}), ["ssh.user: must be a user name"]),
    ("ssh-no-host-keys", lambda d: d["defaults"]["ssh"].pop("known_hosts"),
     ["sites[0] (edge1).ssh: needs known_hosts or host_key (host keys are always verified)"]),
    ("plaintext-ssh-password", lambda d: site(d).update(ssh={"password": "hunter2"}),
     ["sites[0] (edge1).ssh.password: a plaintext password is refused; use an SSH key (ssh.key_file) or a vaulted variable"]),
    ("plaintext-password-metadata", lambda d: site(d)["metadata"].update(bmc={"password": "x"}),
     ["sites[0] (edge1).metadata.bmc.password: a plaintext password is refused"]),
    ("plaintext-password-defaults", lambda d: d["defaults"]["ssh"].update(password="x"),
     ["defaults.ssh.password: a plaintext password is refused"]),
    ("plaintext-token", lambda d: site(d)["services"]["kubernetes"].update(token="abc", token_file=None),
     ["sites[0] (edge1).services.kubernetes.token: a plaintext token is refused; use token_file or a vaulted variable"]),
    ("plaintext-token-metadata", lambda d: site(d)["metadata"].update(token="abc"),
     ["sites[0] (edge1).metadata.token: a plaintext token is refused; use token_file or a vaulted variable"]),
    ("host-key-type", lambda d: site(d).update(ssh={"host_key": "ssh-foo AAAA"}), ["ssh.host_key: has unknown key type 'ssh-foo'"]),
    ("host-key-b64", lambda d: site(d).update(ssh={"host_key": "ssh-ed25519 !!!notbase64"}), ["ssh.host_key: has a key that is not valid base64 SSH key data"]),
    ("host-key-mismatched-type", lambda d: site(d).update(ssh={"host_key": "ssh-rsa " + PIN.split()[1]}),
     ["ssh.host_key: says ssh-rsa but the key data is of type ssh-ed25519"]),
    ("host-key-one-word", lambda d: site(d).update(ssh={"host_key": "ssh-ed25519"}), ["ssh.host_key: must be 'TYPE BASE64'"]),
    ("labels-list", lambda d: site(d).update(labels=["edge"]), ["sites[0] (edge1).labels: must be a mapping, got list"]),
    ("label-key", lambda d: site(d)["labels"].update({"9tier": "x"}), ["labels.9tier: label key must match"]),
    ("label-value", lambda d: site(d)["labels"].update(tier="very healthy"), ["labels.tier: label value must be a word", "group tier_<value>"]),
    ("label-value-dict", lambda d: site(d)["labels"].update(tier={"a": 1}), ["labels.tier: label value must be a word"]),
    ("services-list", lambda d: site(d).update(services=["kubernetes"]), ["sites[0] (edge1).services: must be a mapping, got list"]),
    ("service-ssh", lambda d: site(d)["services"].update(ssh={"port": 22}), ["services.ssh: ssh is not a service entry"]),
    ("service-no-kind", lambda d: site(d)["services"].update(node_exporter={"port": 9100}),
     ["services.node_exporter.kind: is required for a service not named kubernetes, o2ims, prometheus"]),
    ("service-bad-kind", lambda d: site(d)["services"].update(x={"kind": "udp", "port": 1}),
     ["services.x.kind: must be one of tcp, http, prometheus, kubernetes, got 'udp'"]),
    ("tcp-no-port", lambda d: site(d)["services"].update(x={"kind": "tcp"}), ["services.x.port: is required for kind tcp"]),
    ("k8s-port-string", lambda d: site(d)["services"]["kubernetes"].update(port="6443"), ["services.kubernetes.port: must be an integer port"]),
    ("k8s-http-url", lambda d: site(d)["services"].update(kubernetes={"url": "http://192.0.2.10:6443"}),
     ["services.kubernetes.url: must use https, got 'http://192.0.2.10:6443'"]),
    ("k8s-port-and-url", lambda d: site(d)["services"]["kubernetes"].update(url="https://192.0.2.10:6443"),
     ["services.kubernetes: give either port or url, not both"]),
    ("k8s-two-creds", lambda d: site(d)["services"]["kubernetes"].update(kubeconfig="/k/config"),
     ["services.kubernetes: give only one of token (vaulted), token_file, kubeconfig; got token_file, kubeconfig"]),
    ("k8s-context-alone", lambda d: site(d)["services"]["kubernetes"].update(context="ro"), ["services.kubernetes.context: needs kubeconfig"]),
    ("k8s-unknown", lambda d: site(d)["services"]["kubernetes"].update(insecure=True),
     ["services.kubernetes.insecure: unknown field (allowed: kind, port, url, ca_file"]),
    ("k8s-relative-ca", lambda d: site(d)["services"]["kubernetes"].update(ca_file="ca.crt"), ["services.kubernetes.ca_file: must be an absolute path"]),
    ("o2ims-no-url", lambda d: site(d)["services"].update(o2ims={"port": 8080}),
     ["services.o2ims.port: unknown field", "services.o2ims.url: is required for kind http"]),
    ("o2ims-bad-scheme", lambda d: site(d)["services"].update(o2ims={"url": "ftp://192.0.2.10/x"}), ["services.o2ims.url: must use http or https"]),
    ("url-credentials", lambda d: site(d)["services"].update(o2ims={"url": "http://u:p@192.0.2.10/x"}),
     ["services.o2ims.url: must not carry credentials"]),
    ("url-bad-port", lambda d: site(d)["services"].update(o2ims={"url": "http://192.0.2.10:99999/x"}), ["services.o2ims.url: is not a valid URL"]),
    ("url-bad-host", lambda d: site(d)["services"].update(o2ims={"url": "http://192.0.2.999/x"}), ["services.o2ims.url: host is not a valid IPv4 address"]),
    ("expect-status", lambda d: site(d)["services"]["o2ims"].update(expect_status=[200, 999]),
     ["services.o2ims.expect_status: must be an HTTP status 100-599"]),
    ("prom-url-scheme", lambda d: site(d)["services"].update(prometheus={"url": "tcp://192.0.2.10:9090"}), ["services.prometheus.url: must use http or https"]),
    ("metadata-list", lambda d: site(d).update(metadata=[1]), ["sites[0] (edge1).metadata: must be a mapping, got list"]),
    ("python-relative", lambda d: site(d).update(python_interpreter="python3"), ["sites[0] (edge1).python_interpreter: must be an absolute path"]),
    ("defaults-unknown", lambda d: d["defaults"].update(services={}), ["defaults.services: unknown field (allowed: ssh, python_interpreter, labels)"]),
    ("defaults-not-mapping", lambda d: d.update(defaults=[1]), ["defaults: must be a mapping, got list"]),
]


@pytest.mark.parametrize("mutate,expected", [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_bad_config_names_site_and_field(mutate, expected):
    with pytest.raises(es.EdgeSitesError) as info:
        es.validate_config(bad(mutate), source="edge-sites.yml")
    text = str(info.value)
    assert text.startswith("edge-sites config (edge-sites.yml) is invalid: ")
    for part in expected:
        assert part in text, "%r not in %r" % (part, text)


def test_not_a_mapping():
    with pytest.raises(es.EdgeSitesError, match="the document must be a mapping with plugin, version and sites, got list"):
        es.validate_config([1, 2])


def test_every_error_is_reported_at_once():
    doc = bad(lambda d: (site(d).update(address="300.1.1.1"), site(d, 1).update(ssh={"port": 0})))
    with pytest.raises(es.EdgeSitesError) as info:
        es.validate_config(doc)
    assert len(info.value.errors) == 2
    assert "sites[0] (edge1).address" in info.value.errors[0]
    assert "sites[1] (edge2).ssh.port" in info.value.errors[1]


def test_good_config_normalized():
    cfg = es.validate_config(copy.deepcopy(GOOD))
    e1, e2 = cfg["sites"]
    assert e1["ssh"] == {"port": 22, "user": "root", "key_file": "/k/id_ed25519", "known_hosts": "/k/known_hosts",
                         "host_key": None}
    assert e1["address_kind"] == "ipv4" and e2["address_kind"] == "ipv6"
    assert e1["services"]["o2ims"] == {"kind": "http", "url": "http://192.0.2.10:8080/o2ims-infrastructureInventory/v1",
                                       "expect_status": [200]}
    assert e1["services"]["prometheus"] == {"kind": "prometheus", "port": 9090}
    assert e1["services"]["kubernetes"]["kind"] == "kubernetes"
    assert e1["python_interpreter"] == "/usr/bin/python3"
    assert e2["services"] == {} and e2["metadata"] == {}


def test_defaults_merge_and_site_overrides():
    doc = copy.deepcopy(GOOD)
    doc["defaults"]["labels"] = {"role": "edge", "region": "west"}
    site(doc)["ssh"] = {"port": 2222, "user": "ops"}
    site(doc)["python_interpreter"] = "/opt/py/bin/python3"
    e1 = es.validate_config(doc)["sites"][0]
    assert e1["ssh"]["port"] == 2222 and e1["ssh"]["user"] == "ops" and e1["ssh"]["known_hosts"] == "/k/known_hosts"
    assert e1["labels"]["region"] == "lab" and e1["labels"]["role"] == "edge"
    assert e1["python_interpreter"] == "/opt/py/bin/python3"


def test_relative_paths_resolve_against_the_config_folder():
    doc = copy.deepcopy(GOOD)
    doc["defaults"]["ssh"]["known_hosts"] = "ssh/known_hosts"
    cfg = es.validate_config(doc, base_dir="/srv/edge")
    assert cfg["sites"][0]["ssh"]["known_hosts"] == "/srv/edge/ssh/known_hosts"


def test_dns_name_and_trailing_dot():
    for name in ("edge1.example.net", "edge1.example.net.", "localhost"):
        assert es.check_address(name) == ("dns", None)
    assert es.check_address("a..example.net")[1].startswith("is neither")
    assert es.check_address("-edge.example.net")[1].startswith("is neither")


def test_vaulted_token_and_password_are_accepted_and_kept_out_of_edge_site():
    doc = copy.deepcopy(GOOD)
    kube = site(doc)["services"]["kubernetes"]
    kube.pop("token_file")
    token = Vaulted("$ANSIBLE_VAULT;1.1;AES256\n3132")
    kube["token"] = token
    site(doc)["ssh"] = {"password": Vaulted("x")}
    s = es.validate_config(doc)["sites"][0]
    assert s["secrets"]["edge_kubernetes_token"] is token
    assert "ansible_password" in s["secrets"]
    assert "token" not in s["services"]["kubernetes"]
    hv = es.site_hostvars(s)
    assert hv["edge_kubernetes_token"] is token
    assert "secrets" not in hv["edge_site"]
    assert "password" not in hv["edge_site"]["ssh"]


def test_hostvars_and_groups():
    s = es.validate_config(copy.deepcopy(GOOD))["sites"][0]
    hv = es.site_hostvars(s)
    assert hv["ansible_host"] == "192.0.2.10"
    assert hv["ansible_port"] == 22
    assert hv["ansible_user"] == "root"
    assert hv["ansible_ssh_private_key_file"] == "/k/id_ed25519"
    assert hv["ansible_python_interpreter"] == "/usr/bin/python3"
    assert hv["ansible_ssh_common_args"] == ("-o HostKeyAlias=edge1 -o StrictHostKeyChecking=yes "
                                             "-o UserKnownHostsFile=/k/known_hosts -o IdentitiesOnly=yes")
    assert hv["edge_labels"] == {"role": "edge", "tier": "healthy", "region": "lab"}
    assert hv["edge_services"]["prometheus"]["port"] == 9090
    assert hv["edge_metadata"]["free"] == "form"
    assert es.site_groups(s) == ["edge_sites", "region_lab", "role_edge", "tier_healthy"]
    assert es.label_group("tier", "ssh-only.v2") == "tier_ssh_only_v2"


def test_paths_with_spaces_are_quoted():
    doc = copy.deepcopy(GOOD)
    doc["defaults"]["ssh"]["known_hosts"] = "/my keys/known_hosts"
    s = es.validate_config(doc)["sites"][0]
    assert "'UserKnownHostsFile=/my keys/known_hosts'" in es.site_hostvars(s)["ansible_ssh_common_args"]


def test_pinned_host_key_line():
    doc = copy.deepcopy(GOOD)
    site(doc)["ssh"] = {"host_key": PIN + " comment"}
    s = es.validate_config(doc)["sites"][0]
    assert s["ssh"]["host_key"] == PIN
    assert es.pinned_known_hosts_line(s) == "edge1,192.0.2.10 %s\n" % PIN


def test_site_targets():
    s = es.public_site(es.validate_config(copy.deepcopy(GOOD))["sites"][0])
    targets = es.site_targets(s, token="tok")
    by = dict((t["service"], t) for t in targets)
    assert sorted(by) == ["kubernetes", "o2ims", "prometheus", "ssh"]
    assert by["ssh"] == {"site": "edge1", "service": "ssh", "kind": "ssh", "address": "192.0.2.10", "port": 22,
                         "alias": "edge1", "known_hosts": "/k/known_hosts", "host_key": None, "user": "root",
                         "key_file": "/k/id_ed25519", "login": False}
    assert by["kubernetes"]["port"] == 6443 and by["kubernetes"]["token"] == "tok"
    assert by["kubernetes"]["ca_file"] == "/pki/ca.crt" and by["kubernetes"]["token_file"] == "/pki/token"
    assert (by["o2ims"]["kind"], by["o2ims"]["address"], by["o2ims"]["port"]) == ("http", "192.0.2.10", 8080)
    assert by["prometheus"]["port"] == 9090
    only = es.site_targets(s, services=["ssh", "prometheus"], ssh_login=True)
    assert [t["service"] for t in only] == ["ssh", "prometheus"] and only[0]["login"] is True
    with pytest.raises(ValueError):
        es.site_targets({"name": "x"})


@pytest.mark.parametrize("path", ["inventory/edge-sites.yml"])
def test_example_inventory_passes_the_schema(path):
    with open(os.path.join(ROOT, path)) as f:
        doc = yaml.safe_load(f)
    cfg = es.validate_config(doc, base_dir=os.path.dirname(os.path.join(ROOT, path)))
    assert len(cfg["sites"]) == 4
    for s in cfg["sites"]:
        assert (s["address"].startswith(("192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:"))
                or s["address"].endswith(".example.net"))
        for svc in s["services"].values():
            if svc.get("url"):
                host = svc["url"].split("/")[2].rsplit(":", 1)[0] if "]" not in svc["url"] else ""
                assert host.startswith(("192.0.2.", "198.51.100.", "203.0.113.")) or host.endswith(".example.net")


def test_lab_config_shape_passes_the_schema():
    """The shape the lab writes (.lab/edge-sites.yml), with lab paths made up."""
    doc = {"plugin": "o2edge.perf.edge_sites", "version": 1,
           "defaults": {"ssh": {"port": 22, "user": "root", "key_file": "/lab/ssh/id_ed25519",
                                "known_hosts": "/lab/ssh/known_hosts"}, "python_interpreter": "/usr/bin/python3"},
           "sites": [{"name": "edge%d" % i, "address": "198.18.%d.10" % i,
                      "labels": {"role": "edge", "tier": "healthy", "region": "lab"},
                      "metadata": {"lab_index": i},
                      "services": {"kubernetes": {"port": 6443, "ca_file": "/lab/pki/ca.crt",
                                                  "token_file": "/lab/pki/token"},
                                   "prometheus": {"port": 9090},
                                   "o2ims": {"url": "http://198.18.%d.10:8080/o2ims-infrastructureInventory/v1" % i}}}
                     for i in (1, 2, 3, 4)]}
    assert [s["name"] for s in es.validate_config(doc)["sites"]] == ["edge1", "edge2", "edge3", "edge4"]


def test_missing_netaddr_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(es, "HAS_NETADDR", False)
    monkeypatch.setattr(es, "NETADDR_IMPORT_ERROR", ImportError("No module named 'netaddr'"))
    with pytest.raises(es.EdgeSitesError, match="netaddr is missing on the controller"):
        es.validate_config(copy.deepcopy(GOOD))

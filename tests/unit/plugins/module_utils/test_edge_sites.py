# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Schema validation of the edge-sites config: a corpus of bad configs, each with its message."""
from __future__ import annotations

import copy
import os

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _edge_sites as es

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
    ("site-not-mapping", lambda d: d["sites"].append("edge3"), ["sites[2]: must be a mapping with name and address, got 'edge3'"]),
    ("no-name", lambda d: site(d).pop("name"), ["sites[0].name: must be a site name"]),
    ("bad-name", lambda d: site(d).update(name="edge 1"), ["sites[0].name: must be a site name", "got 'edge 1'"]),
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
     ["ssh.host_key: says ssh-rsa but the key data is of type 'ssh-ed25519'"]),
    ("host-key-one-word", lambda d: site(d).update(ssh={"host_key": "ssh-ed25519"}), ["ssh.host_key: must be 'TYPE BASE64'"]),
    ("labels-list", lambda d: site(d).update(labels=["edge"]), ["sites[0] (edge1).labels: must be a mapping, got a list (1 items)"]),
    ("label-key", lambda d: site(d)["labels"].update({"9tier": "x"}), ["labels.9tier: label key must match"]),
    ("label-value", lambda d: site(d)["labels"].update(tier="very healthy"), ["labels.tier: label value must be a word", "group tier_<value>"]),
    ("label-value-dict", lambda d: site(d)["labels"].update(tier={"a": 1}), ["labels.tier: label value must be a word"]),
    ("services-list", lambda d: site(d).update(services=["kubernetes"]), ["sites[0] (edge1).services: must be a mapping, got a list (1 items)"]),
    ("service-ssh", lambda d: site(d)["services"].update(ssh={"port": 22}), ["services.ssh: ssh is not a service entry"]),
    ("service-no-kind", lambda d: site(d)["services"].update(node_exporter={"port": 9100}),
     ["services.node_exporter.kind: is required for a service not named kubernetes, o2ims, prometheus"]),
    ("service-bad-kind", lambda d: site(d)["services"].update(x={"kind": "udp", "port": 1}),
     ["services.x.kind: must be one of tcp, http, prometheus, kubernetes, got 'udp'"]),
    ("tcp-no-port", lambda d: site(d)["services"].update(x={"kind": "tcp"}), ["services.x.port: is required for kind tcp"]),
    ("k8s-port-string", lambda d: site(d)["services"]["kubernetes"].update(port="6443"), ["services.kubernetes.port: must be an integer port"]),
    ("k8s-http-url", lambda d: site(d)["services"].update(kubernetes={"url": "http://192.0.2.10:6443"}),
     ["services.kubernetes.url: must use https, got scheme 'http'"]),
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
     ["services.o2ims.url: must not embed credentials", "services.o2ims.url: is a URL with a password in it"]),
    ("url-bad-port", lambda d: site(d)["services"].update(o2ims={"url": "http://192.0.2.10:99999/x"}), ["services.o2ims.url: is not a valid URL"]),
    ("url-bad-host", lambda d: site(d)["services"].update(o2ims={"url": "http://192.0.2.999/x"}), ["services.o2ims.url: host is not a valid IPv4 address"]),
    ("expect-status", lambda d: site(d)["services"]["o2ims"].update(expect_status=[200, 999]),
     ["services.o2ims.expect_status: must be an HTTP status 100-599"]),
    ("prom-url-scheme", lambda d: site(d)["services"].update(prometheus={"url": "tcp://192.0.2.10:9090"}), ["services.prometheus.url: must use http or https"]),
    ("metadata-list", lambda d: site(d).update(metadata=[1]), ["sites[0] (edge1).metadata: must be a mapping, got a list (1 items)"]),
    ("python-relative", lambda d: site(d).update(python_interpreter="python3"), ["sites[0] (edge1).python_interpreter: must be an absolute path"]),
    ("defaults-unknown", lambda d: d["defaults"].update(services={}), ["defaults.services: unknown field (allowed: ssh, python_interpreter, labels)"]),
    ("defaults-not-mapping", lambda d: d.update(defaults=[1]), ["defaults: must be a mapping, got a list (1 items)"]),
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
    with pytest.raises(es.EdgeSitesError, match=r"the document must be a mapping with plugin, version and sites, got a list \(2 items\)"):
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


# ---------------------------------------------------------------------------------------------
# Hardening against hostile and careless files. Each class names the bug class it catches.

SECRET = "s3cr3tVALUE"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt%s\n-----END OPENSSH PRIVATE KEY-----\n" % SECRET


def errors_of(doc):
    with pytest.raises(es.EdgeSitesError) as info:
        es.validate_config(doc, source="edge-sites.yml")
    return str(info.value)


class TestSecretsNeverLeak(object):
    """Catches: a plaintext secret accepted (and so published as a host variable), or a secret value
    printed in an error message."""

    @pytest.mark.parametrize("key", ["api_token", "API_Token", "client_secret", "access_key", "private_key",
                                     "ansible_password", "ansible_ssh_pass", "ansible_become_pass", "bearer",
                                     "Authorization", "cookie", "credentials"])
    def test_secret_named_metadata_refused(self, key):
        text = errors_of(bad(lambda d: site(d)["metadata"].update({key: SECRET})))
        assert "sites[0] (edge1).metadata.%s: a plaintext" % key in text
        assert SECRET not in text

    @pytest.mark.parametrize("value", [[SECRET, "x"], {"nested": SECRET}, 1234])
    def test_password_of_any_type_refused(self, value):
        text = errors_of(bad(lambda d: site(d).update(ssh={"password": value})))
        assert "sites[0] (edge1).ssh.password: a plaintext password is refused" in text
        assert SECRET not in text and "1234" not in text

    def test_password_list_deep_in_metadata_refused(self):
        text = errors_of(bad(lambda d: site(d)["metadata"].update(bmc={"password": [SECRET]})))
        assert "sites[0] (edge1).metadata.bmc.password: a plaintext password is refused" in text
        assert SECRET not in text

    def test_private_key_pasted_as_key_file_refused(self):
        text = errors_of(bad(lambda d: site(d).update(ssh={"key_file": PEM})))
        assert "sites[0] (edge1).ssh.key_file: holds a private key block" in text
        assert SECRET not in text and "BEGIN" not in text

    def test_private_key_in_metadata_list_refused(self):
        text = errors_of(bad(lambda d: site(d)["metadata"].update(notes=["ok", PEM])))
        assert "sites[0] (edge1).metadata.notes[1]: holds a private key block" in text
        assert SECRET not in text

    def test_token_in_url_query_refused(self):
        url = "http://192.0.2.10:8080/o2ims/v1?access_token=" + SECRET
        text = errors_of(bad(lambda d: site(d)["services"]["o2ims"].update(url=url)))
        assert "sites[0] (edge1).services.o2ims.url: is a URL with a secret in its query string" in text
        assert SECRET not in text

    def test_secret_label_refused(self):
        """A label becomes a group name: a secret there would be printed by every --graph."""
        text = errors_of(bad(lambda d: site(d)["labels"].update(api_token="abc")))
        assert "sites[0] (edge1).labels.api_token: a plaintext token is refused" in text

    def test_vaulted_secret_refused_outside_the_schema_places(self):
        text = errors_of(bad(lambda d: site(d)["metadata"].update(bmc={"password": Vaulted("x")})))
        assert "metadata.bmc.password: a vaulted secret is only taken as ssh.password or services.kubernetes.token" \
            in text
        text = errors_of(bad(lambda d: site(d)["metadata"].update(ssh={"password": Vaulted("x")})))
        assert "metadata.ssh.password: a vaulted secret" in text

    @pytest.mark.parametrize("mutate", [
        lambda d: d.update(version={"token": SECRET}),
        lambda d: d.update(plugin=[SECRET]),
        lambda d: d.update(sites={"edge1": {"password": SECRET}}),
        lambda d: site(d).update(name={"password": SECRET}),
        lambda d: site(d).update(ssh={"port": {"password": SECRET}}),
        lambda d: site(d).update(ssh={"user": [SECRET]}),
        lambda d: site(d).update(address={"password": SECRET}),
        lambda d: site(d).update(address=PEM),
        lambda d: site(d).update(labels={"tier": {"password": SECRET}}),
        lambda d: site(d)["services"]["o2ims"].update(expect_status={"token": SECRET}),
        lambda d: site(d)["services"]["o2ims"].update(url={"token": SECRET}),
        lambda d: site(d)["services"].update(x={"kind": {"password": SECRET}}),
        lambda d: site(d).update(metadata=[SECRET]),
        lambda d: site(d).update(python_interpreter=PEM),
        lambda d: site(d).update({PEM: 1}),
        lambda d: site(d)["services"].update({PEM: {"kind": "tcp", "port": 1}}),
    ], ids=["version", "plugin", "sites", "name", "port", "user", "address", "address-pem", "label", "status",
            "url", "kind", "metadata", "python", "key-pem", "service-name-pem"])
    def test_wrong_type_messages_never_print_a_secret(self, mutate):
        text = errors_of(bad(mutate))
        assert SECRET not in text and "BEGIN" not in text

    def test_show(self):
        assert es._show({"password": SECRET}) == "a mapping (1 entries)"
        assert es._show([SECRET, 2]) == "a list (2 items)"
        assert es._show(PEM) == "a hidden value of %d characters" % len(PEM)
        assert es._show("x", key="Api_Token") == "a hidden value of 1 characters"
        assert es._show("x" * 100) == repr("x" * 60) + "... (100 characters)"
        assert es._show(10 ** 100).startswith("an integer of ")

    def test_show_never_builds_a_full_repr(self):
        class NoRepr(dict):
            def __repr__(self):
                raise AssertionError("repr of a whole mapping")

        class NoReprStr(str):
            def __repr__(self):
                raise AssertionError("repr of a whole string")

        assert es._show(NoRepr(a=1)) == "a mapping (1 entries)"
        assert es._show(NoReprStr("y" * 10 ** 6)) == repr("y" * 60) + "... (1000000 characters)"


class TestNothingSecretIsPublished(object):
    """Catches: a secret reaching a host variable when a site did not come through validate_config (or
    validation missed it): site_hostvars and public_site refuse it themselves."""

    def site(self, **changes):
        s = es.validate_config(copy.deepcopy(GOOD))["sites"][0]
        for key, value in changes.items():
            if key == "metadata":
                s["metadata"] = value
            else:
                s["ssh"][key] = value
        return s

    @pytest.mark.parametrize("changes", [
        {"metadata": {"api_token": SECRET}}, {"metadata": {"x": [{"client_secret": SECRET}]}},
        {"metadata": {"url": "http://h.example.net/?token=" + SECRET}}, {"key_file": PEM},
        {"password": SECRET},
    ])
    def test_refused(self, changes):
        s = self.site(**changes)
        for publish in (es.site_hostvars, es.public_site):
            with pytest.raises(es.EdgeSitesError) as info:
                publish(s)
            assert "site edge1: refusing to publish a secret as a host variable" in str(info.value)
            assert SECRET not in str(info.value)

    def test_plaintext_in_secret_vars_refused(self):
        s = self.site()
        s["secrets"] = {"ansible_password": SECRET}
        with pytest.raises(es.EdgeSitesError, match="ansible_password"):
            es.site_hostvars(s)

    def test_vaulted_secret_vars_published(self):
        s = self.site()
        s["secrets"] = {"ansible_password": Vaulted("a"), es.TOKEN_VAR: Vaulted("b")}
        hv = es.site_hostvars(s)
        assert hv["ansible_password"]._ciphertext == "a" and hv[es.TOKEN_VAR]._ciphertext == "b"


class TestNoPythonErrors(object):
    """Catches: a ValueError/TypeError/RecursionError (a traceback) instead of an EdgeSitesError that
    names the site and field."""

    @pytest.mark.parametrize("mutate,where", [
        (lambda d: site(d).update(address="192.0.2.10\x00"), "sites[0] (edge1).address: must not contain"),
        (lambda d: site(d).update(address="2001:db8::1\x00"), "sites[0] (edge1).address: must not contain"),
        (lambda d: site(d).update(address="edge1.example.net\x00"), "sites[0] (edge1).address: must not contain"),
        (lambda d: site(d).update(ssh={"key_file": "/k/id\x00x"}), "sites[0] (edge1).ssh.key_file: must be a file path"),
        (lambda d: d.update(known_hosts_dir="/k/\x00"), "known_hosts_dir: must be a file path"),
        (lambda d: site(d).update(python_interpreter="/usr/bin/python3\n"), "python_interpreter: must be an absolute path"),
        (lambda d: site(d)["services"].update(kubernetes=[1]), "services.kubernetes: must be a mapping"),
        (lambda d: site(d)["services"].update(x=5), "services.x: must be a mapping"),
        (lambda d: site(d)["services"].update(x={"kind": ["tcp"]}), "services.x.kind: must be one of"),
        (lambda d: site(d)["services"].update(x={"kind": {"a": 1}}), "services.x.kind: must be one of"),
        (lambda d: site(d)["services"].update(x={"kind": "tcp", "port": None}), "services.x.port: must be an integer"),
        (lambda d: site(d)["services"]["o2ims"].update(url=["http://x"]), "services.o2ims.url: must be a non-empty URL"),
        (lambda d: site(d)["services"]["o2ims"].update(url="http://192.0.2.10/\x00"), "services.o2ims.url: must not"),
        (lambda d: site(d)["services"]["o2ims"].update(expect_status={"a": 1}), "o2ims.expect_status: must be an HTTP"),
        (lambda d: site(d)["services"]["kubernetes"].update(tls_server_name="a\x00b"), "tls_server_name: must be"),
        (lambda d: site(d).update(ssh=[1]), "sites[0] (edge1).ssh: must be a mapping"),
        (lambda d: site(d).update(labels={(1, 2): "x"}), "sites[0] (edge1).labels.<key 1>"),
        (lambda d: d["sites"].extend([None, 5, []]), "sites[4]: must be a mapping"),
        (lambda d: d["defaults"].update(ssh={"port": 1.5}), "defaults.ssh.port: must be an integer port"),
    ])
    def test_clear_error(self, mutate, where):
        assert where in errors_of(bad(mutate))

    def test_recursive_structure(self):
        doc = copy.deepcopy(GOOD)
        loop = {}
        loop["self"] = loop
        site(doc)["metadata"] = loop
        text = errors_of(doc)
        assert "sites[0].metadata.self.self" in text and "nests deeper than 32 levels (or refers to itself)" in text

    def test_deep_nesting(self):
        doc = copy.deepcopy(GOOD)
        deep = []
        for _level in range(5000):
            deep = [deep]
        site(doc)["metadata"] = {"deep": deep}
        assert "nests deeper than 32 levels" in errors_of(doc)

    @pytest.mark.parametrize("shape", [
        {"name": "e", "address": "192.0.2.1", "services": ["kubernetes"]},
        {"name": "e", "address": "192.0.2.1", "services": {"x": 5}},
        {"name": "e", "address": "192.0.2.1", "services": {"x": None}},
        {"name": "e", "address": "192.0.2.1", "ssh": [22]},
        {"name": "e", "address": "192.0.2.1", "services": {"o2ims": {"url": "ftp://x"}}},
    ])
    def test_site_targets_odd_shapes_are_value_errors(self, shape):
        with pytest.raises(ValueError) as info:
            es.site_targets(shape)
        assert "site 'e'" in str(info.value)


class TestDenialOfService(object):
    """Catches: an alias bomb or a huge value making validation (or its messages) take long or print a lot."""

    def test_shared_structure_bomb_refused_fast(self):
        import time
        level = ["x"] * 9
        for _level in range(8):
            level = [level] * 9  # what yaml.safe_load makes of a 9x9 alias bomb: shared lists, 9**9 leaves
        doc = copy.deepcopy(GOOD)
        site(doc)["metadata"] = {"bomb": level}
        start = time.monotonic()
        text = errors_of(doc)
        assert time.monotonic() - start < 1.0
        assert "more than %d values" % es.MAX_VALUES in text

    def test_huge_name_shown_once_and_truncated(self):
        name = "n" * 100000
        text = errors_of(bad(lambda d: (site(d).update(name=name, address="bad address"),
                                        site(d)["services"].update(x={"kind": "tcp"}))))
        assert len(text) < 2000
        assert text.count("n" * 60) == 1


class TestSilentlyAccepted(object):
    """Catches: careless values that passed validation before: trailing newlines ($ in a regex), the same
    endpoint written twice in different forms, legacy numeric IPv4 forms taken as DNS names, and a site
    named like a group."""

    @pytest.mark.parametrize("mutate,where", [
        (lambda d: site(d).update(name="edge1\n"), "sites[0].name: must be a site name"),
        (lambda d: site(d)["labels"].update(tier="healthy\n"), "labels.tier: label value must be a word"),
        (lambda d: site(d)["labels"].update({"tier\n": "x"}), "label key must match"),
        (lambda d: site(d).update(ssh={"user": "root\n"}), "ssh.user: must be a user name"),
        (lambda d: site(d)["services"].update({"node\n": {"kind": "tcp", "port": 1}}), "service name must match"),
        (lambda d: site(d).update(address="edge1.example.net\n"), "address: must not contain white space"),
        (lambda d: site(d)["services"]["kubernetes"].update(tls_server_name="k8s\n"), "tls_server_name: must be"),
    ])
    def test_trailing_newline_refused(self, mutate, where):
        assert where in errors_of(bad(mutate))

    def test_query_may_span_lines(self):
        doc = bad(lambda d: site(d)["services"]["prometheus"].update(query="sum(\n  up\n)"))
        assert es.validate_config(doc)["sites"][0]["services"]["prometheus"]["query"] == "sum(\n  up\n)"

    @pytest.mark.parametrize("first,second", [
        ("2001:db8::1", "2001:DB8:0:0::1"), ("2001:db8::1", "2001:0db8:0000::0001"),
        ("edge.example.net", "EDGE.Example.NET."), ("192.0.2.10", "192.0.2.10"),
    ])
    def test_duplicate_endpoint_written_differently(self, first, second):
        text = errors_of(bad(lambda d: (site(d).update(address=first), site(d, 1).update(address=second))))
        assert "sites[1] (edge2).address: %s port 22 is already site edge1" % second in text

    def test_same_address_other_port_accepted(self):
        doc = bad(lambda d: (site(d, 1).update(address="192.0.2.10", ssh={"port": 2222})))
        assert len(es.validate_config(doc)["sites"]) == 2

    @pytest.mark.parametrize("address", ["0x7f000001", "127.1", "0177.0.0.1", "2130706433", "0x7f.1",
                                         "edge.0x10", "edge.123", "10"])
    def test_legacy_numeric_ipv4_refused(self, address):
        text = errors_of(bad(lambda d: site(d).update(address=address)))
        assert "sites[0] (edge1).address: " in text
        assert es.check_address(address)[0] is None

    @pytest.mark.parametrize("address", ["edge1.example.net", "0xdead.example.net", "localhost", "edge-1",
                                         "edge1.example.net."])
    def test_dns_names_still_accepted(self, address):
        assert es.check_address(address) == ("dns", None)

    @pytest.mark.parametrize("name", ["all", "ungrouped", "edge_sites", "tier_healthy", "role_edge", "region_lab"])
    def test_site_named_like_a_group_refused(self, name):
        text = errors_of(bad(lambda d: site(d, 1).update(name=name)))
        assert "sites[1] (%s).name: is also the name of a group" % name in text

    def test_normalize_address(self):
        assert es.normalize_address("2001:DB8:0:0::1", "ipv6") == "2001:db8::1"
        assert es.normalize_address("Edge.Example.NET.", "dns") == "edge.example.net"
        assert es.normalize_address("192.0.2.1", "ipv4") == "192.0.2.1"


def test_kinds_and_ports_come_from_services():
    """Catches: the schema drifting from the probe's idea of kinds, well-known names and default ports."""
    from ansible_collections.o2edge.perf.plugins.module_utils import _services
    assert es.KINDS == _services.SERVICE_KINDS
    assert es.WELL_KNOWN is _services.WELL_KNOWN and es.DEFAULT_PORTS is _services.DEFAULT_PORTS
    assert not hasattr(es, "urlsplit") and not hasattr(es, "SECRET_KEYS")


# --------------------------------------------------------------------------- issue 15: a file that is not a config

@pytest.mark.parametrize("key, shown", [
    ("hostname", "sites[0] (edge1).hostname"),
    ("root:$y$j9T$Zq1d8wGx0Wb3$Kq4Qn8bXh1Zp2mQ0Yv:19700:0:99999:7", "sites[0] (edge1).<key 3>"),
    ("DB PASSWORD is hunter2", "sites[0] (edge1).<key 3>"),
    ("AKIAIOSFODNN7EXAMPLE", "sites[0] (edge1).<key 3>"),
    ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "sites[0] (edge1).<key 3>"),
    ("eyJhbGciOiJIUzI1NiJ9", "sites[0] (edge1).<key 3>"),
])
def test_unknown_keys_are_named_by_position_unless_plain_identifiers(key, shown):
    """Bug: an unknown key was echoed (40 characters of it): a config that is really /etc/shadow had
    each of its lines shown. Only short, non-secret-looking identifiers are named; others by position."""
    doc = copy.deepcopy(GOOD)
    doc["sites"][0] = {"name": "edge1", "address": doc["sites"][0]["address"], key: None,
                       **dict((k, v) for k, v in doc["sites"][0].items() if k not in ("name", "address"))}
    with pytest.raises(es.EdgeSitesError) as exc:
        es.validate_config(doc, base_dir="/cfg")
    assert "%s: unknown field" % shown in str(exc.value)
    if shown.endswith(">"):
        assert key[:6] not in str(exc.value)


def test_a_whole_file_as_one_string_is_not_quoted():
    """Bug: a document that is one scalar (any file that is not YAML mapping) was quoted, 60 characters."""
    with pytest.raises(es.EdgeSitesError) as exc:
        es.validate_config("root:x:0:0:root:/root:/bin/bash daemon:x:1:1", base_dir="/cfg")
    assert "got a string of 44 characters" in str(exc.value) and "/bin/bash" not in str(exc.value)


@pytest.mark.parametrize("value", ["/usr/bin/python3; touch pwned", "/usr/bin/python3 -E", "/usr/bin/py`id`",
                                   "/usr/bin/python3|x", "/usr/bin/python3\t", "~/venv/bin/python"])
def test_python_interpreter_refuses_shell_characters(value):
    """Bug: python_interpreter "/usr/bin/python3; touch pwned" was accepted, in defaults and in sites."""
    for where in ("defaults", "site"):
        doc = copy.deepcopy(GOOD)
        (doc["defaults"] if where == "defaults" else doc["sites"][0])["python_interpreter"] = value
        with pytest.raises(es.EdgeSitesError, match=r"python_interpreter: must be an absolute path of letters"):
            es.validate_config(doc, base_dir="/cfg")

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edge/_edge_sites.py: tests written for the survivors of its mutation run (the checker up to validate_config).

Each test is named for the bug it catches: an edge-sites config (a dict or YAML text) that the checker must
accept, with the exact normalized site, or refuse, with every message word for word naming its field.
198.18.0.0/15 and 2001:db8::/32 only as data; nothing here opens a socket.
"""
from __future__ import annotations

import base64
import copy
import importlib.util
import struct
import sys

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _edge_sites as es

SITE = "sites[0] (edge1)"
KH = "/lab/known_hosts"
ALLOWED_TOP = "unknown field (allowed: plugin, version, defaults, sites, known_hosts_dir)"
TOKEN_HINT = ("a plaintext token is refused; use token_file or a vaulted variable (token: !vault | ..., or "
              "edge_kubernetes_token in host_vars)")
PASSWORD_HINT = "a plaintext password is refused; use an SSH key (ssh.key_file) or a vaulted variable (!vault)"
VALUE_REFUSED = ", refused: give a path, a token_file or a vaulted variable instead"
# A token shaped like GitHub's, built here so that no file of the tree holds one.
GH_TOKEN = "ghp_" + "A1b2" * 9


def blob(ktype, body=b"\x01" * 32):
    """The base64 of an SSH public key blob of type ``ktype`` (the type string, then a body)."""
    raw = struct.pack(">I", len(ktype)) + ktype.encode("ascii") + struct.pack(">I", len(body)) + body
    return base64.b64encode(raw).decode("ascii")


def config(**fields):
    """A valid one-site config; ``fields`` replace or add fields of the site edge1."""
    site = {"name": "edge1", "address": "198.18.1.10", "ssh": {"known_hosts": "/lab/known_hosts"}}
    site.update(fields)
    return {"plugin": "o2edge.perf.edge_sites", "version": 1, "sites": [site]}


def accepted(doc, **kwargs):
    """The one site of an accepted config."""
    return es.validate_config(doc, **kwargs)["sites"][0]


def refused(doc, **kwargs):
    with pytest.raises(es.EdgeSitesError) as info:
        es.validate_config(doc, **kwargs)
    return info.value


def errors(doc, **kwargs):
    return refused(doc, **kwargs).errors


class Vaulted(object):
    """Stands for an ansible vault value (!vault)."""

    def __init__(self, ciphertext):
        self._ciphertext = ciphertext


# ---------------------------------------------------------------------------------------------
# netaddr missing: the module loaded afresh with the import failing.

def test_without_netaddr_every_address_is_refused_naming_the_missing_library(monkeypatch):
    """Bugs: netaddr said present when its import failed; the import error left out of the message; its wording."""
    monkeypatch.setitem(sys.modules, "netaddr", None)
    with pytest.raises(ImportError) as missing:
        import netaddr  # noqa: F401 pylint: disable=unused-import,import-outside-toplevel
    reason = str(missing.value)
    spec = importlib.util.spec_from_file_location("o2edge_edge_sites_without_netaddr", es.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.check_address("198.18.1.10") == (None, (
        "cannot be validated: the Python library netaddr is missing on the controller (pip install netaddr): %s" % reason))
    with pytest.raises(fresh.EdgeSitesError) as info:
        fresh.validate_config(config())
    assert info.value.errors == [
        "%s.address: cannot be validated: the Python library netaddr is missing on the controller "
        "(pip install netaddr): %s" % (SITE, reason)]


# ---------------------------------------------------------------------------------------------
# The error text: every problem joined, the first 20 shown, the source named.

def unknown_fields(count):
    doc = config()
    for i in range(count):
        doc["extra%02d" % i] = 1
    return doc


def test_one_error_without_a_source_is_the_whole_text():
    """Bugs: a stray text in place of the missing source; '; and 0 more' (or twice the count) after it."""
    error = refused(unknown_fields(1))
    assert str(error) == "edge-sites config is invalid: extra00: %s" % ALLOWED_TOP
    assert error.source is None


def test_two_errors_are_joined_with_a_semicolon_and_the_source_kept():
    """Bugs: another separator; the source dropped from the error (a caller that reports it separately)."""
    error = refused(unknown_fields(2), source="edge-sites.yml")
    assert str(error) == ("edge-sites config (edge-sites.yml) is invalid: extra00: %s; extra01: %s"
                          % (ALLOWED_TOP, ALLOWED_TOP))
    assert error.source == "edge-sites.yml"


@pytest.mark.parametrize("count, tail", [(20, ""), (21, "; and 1 more"), (22, "; and 2 more")])
def test_the_first_twenty_errors_are_shown_and_the_rest_counted(count, tail):
    """Bugs: 21 shown; the count not shown for one more; the count replacing the text, or its wording."""
    error = refused(unknown_fields(count), source="edge-sites.yml")
    shown = "; ".join("extra%02d: %s" % (i, ALLOWED_TOP) for i in range(20))
    assert str(error) == "edge-sites config (edge-sites.yml) is invalid: %s%s" % (shown, tail)
    assert len(error.errors) == count


# ---------------------------------------------------------------------------------------------
# Vaulted values

@pytest.mark.parametrize("class_name", ["EncryptedString", "AnsibleVaultEncryptedUnicode"])
def test_a_vault_value_is_known_by_its_class_name_alone(class_name):
    """Bug: a vault type not recognised by its name (an ansible-core whose vault value keeps no _ciphertext)."""
    vault_type = type(class_name, (object,), {})
    password = vault_type()
    site = accepted(config(ssh={"known_hosts": "/lab/known_hosts", "password": password}))
    assert site["secrets"] == {"ansible_password": password}
    assert "password" not in site["ssh"]


def test_a_vaulted_address_is_shown_as_a_vaulted_value():
    """Bug: the wording naming a vaulted value in a message."""
    assert errors(config(address=Vaulted("$ANSIBLE_VAULT;1.1;AES256"))) == [
        "%s.address: must be a non-empty string (IPv4, IPv6 or DNS name), got a vaulted value" % SITE]


# ---------------------------------------------------------------------------------------------
# How a value is shown in a message

def test_a_bad_label_value_is_shown_when_its_key_names_no_secret():
    """Bug: every value given with a key hidden (the key's secrecy not asked); the label message wording."""
    assert errors(config(labels={"role": "a b"})) == [
        "%s.labels.role: label value must be a word of [A-Za-z0-9_.-] (it becomes group role_<value>), got 'a b'" % SITE]


@pytest.mark.parametrize("length, shown", [
    (60, "'a_%s'" % ("b" * 58)),
    (61, "'a_%s'... (61 characters)" % ("b" * 58)),
])
def test_a_value_of_sixty_characters_is_shown_whole(length, shown):
    """Bug: a value of exactly the limit marked as cut."""
    address = "a_" + "b" * (length - 2)
    assert errors(config(address=address)) == [
        "%s.address: is neither an IP address nor a valid DNS name: %s" % (SITE, shown)]


@pytest.mark.parametrize("port, shown", [
    (2 ** 63, "9223372036854775808"),  # 64 bits: shown
    (2 ** 64, "an integer of 65 bits"),
])
def test_an_integer_is_shown_up_to_64_bits(port, shown):
    """Bugs: 64 bits counted as too long; 65 bits shown digit by digit."""
    assert errors(config(ssh={"known_hosts": "/lab/known_hosts", "port": port})) == [
        "%s.ssh.port: must be an integer port 1-65535, got %s" % (SITE, shown)]


def test_a_yaml_date_is_shown_by_its_type():
    """Bugs: the wording of a value of another type, or a TypeError in place of the message."""
    doc = yaml.safe_load("""\
plugin: o2edge.perf.edge_sites
version: 1
sites:
  - name: edge1
    address: 2026-12-07
    ssh: {known_hosts: /lab/known_hosts}
""")
    assert errors(doc) == [
        "%s.address: must be a non-empty string (IPv4, IPv6 or DNS name), got a value of type date" % SITE]


# ---------------------------------------------------------------------------------------------
# Keys named in a path: never their text unless harmless

@pytest.mark.parametrize("key, shown", [
    ("true", "[True]"),
    ("null", "[None]"),
    ("1.5", "[1.5]"),
    ("2026-12-07", "<a key of type date>"),
    ("'the api token'", "<a key of 13 characters>"),
])
def test_a_secret_under_a_key_that_is_not_an_identifier_names_the_key_by_its_kind(key, shown):
    """Bugs: a scalar key not named by its value, a date or a long key named otherwise, the wording of each."""
    doc = yaml.safe_load("""\
plugin: o2edge.perf.edge_sites
version: 1
sites:
  - name: edge1
    address: 198.18.1.10
    ssh: {known_hosts: /lab/known_hosts}
    metadata:
      %s: %s
""" % (key, GH_TOKEN))
    reason = ("holds a token shaped like an issuer's (AWS, GitHub, GitLab, Slack)%s" % VALUE_REFUSED
              if "token" not in key else TOKEN_HINT)
    assert errors(doc) == ["%s.metadata.%s: %s" % (SITE, shown, reason)]


# ---------------------------------------------------------------------------------------------
# Document bounds

def test_a_document_of_too_many_values_is_refused_whole():
    """Bug: the wording of the values bound (a YAML alias bomb)."""
    text = "plugin: o2edge.perf.edge_sites\nversion: 1\na: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for level in "bcdef":
        text += "%s: &%s [%s]\n" % (level, level, ", ".join(["*" + chr(ord(level) - 1)] * 10))
    error = refused(yaml.safe_load(text))
    assert error.errors == ["the document holds more than 100000 values (YAML aliases count each time they are used)"]


def test_a_document_nested_too_deep_names_the_path_from_its_first_key():
    """Bugs: letters stripped from the start of the path along with its dot; the wording of the depth bound."""
    doc = config()
    deep = 0
    for _level in range(40):
        deep = [deep]
    doc["Xdeep"] = deep
    assert errors(doc) == ["Xdeep%s: nests deeper than 32 levels (or refers to itself)" % ("[0]" * 31)]


# ---------------------------------------------------------------------------------------------
# Addresses

ADDRESS_REFUSED = [
    ("fe80::1%eth0", "must be a plain address without brackets or zone index, got 'fe80::1%eth0'"),
    ("edge%1", "must be a plain address without brackets or zone index, got 'edge%1'"),
    ("edge_1.lab.", "is neither an IP address nor a valid DNS name: 'edge_1.lab.'"),
    ("edge1.lab-.", "is neither an IP address nor a valid DNS name: 'edge1.lab-.'"),
    ("edge1.lab.123.", "is an IPv4 address in a legacy numeric form (hex, octal or short) or a DNS name with a "
                       "numeric last label; write IPv4 as a dotted quad of decimals: 'edge1.lab.123.'"),
    ("0x7f.1", "is an IPv4 address in a legacy numeric form (hex, octal or short) or a DNS name with a "
               "numeric last label; write IPv4 as a dotted quad of decimals: '0x7f.1'"),
]


@pytest.mark.parametrize("address, message", ADDRESS_REFUSED, ids=[case[0] for case in ADDRESS_REFUSED])
def test_an_address_is_refused_with_its_reason(address, message):
    """Bugs: a zone index reaching netaddr; the trailing dot cutting more than itself; the legacy-form wording."""
    assert errors(config(address=address)) == ["%s.address: %s" % (SITE, message)]


def dns_name(length):
    """A DNS name of ``length`` characters: labels of 63 characters and a last one of the rest."""
    labels = []
    while length > 64:
        labels.append("a" * 63)
        length -= 64
    labels.append("b" * length)
    return ".".join(labels)


@pytest.mark.parametrize("address", ["edge1.lab.1a.", dns_name(253), dns_name(253) + "."])
def test_a_dns_name_is_accepted(address):
    """Bugs: the trailing dot cutting the name's last character; a name of 253 characters refused."""
    site = accepted(config(address=address))
    assert (site["address"], site["address_kind"]) == (address, "dns")


def test_a_dns_name_of_254_characters_is_refused():
    """Bug: one character over the DNS bound let through."""
    address = dns_name(254)
    assert errors(config(address=address)) == [
        "%s.address: is neither an IP address nor a valid DNS name: '%s'... (254 characters)" % (SITE, address[:60])]


# ---------------------------------------------------------------------------------------------
# SSH host key pins

@pytest.mark.parametrize("ktype", [
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
])
def test_every_host_key_type_can_be_pinned(ktype):
    """Bug: a key type of known_hosts refused as unknown."""
    site = accepted(config(ssh={"host_key": "%s %s edge1-pin" % (ktype, blob(ktype))}))
    assert site["ssh"]["host_key"] == "%s %s" % (ktype, blob(ktype))


def test_an_unknown_host_key_type_lists_every_type():
    """Bug: the list of key types joined otherwise."""
    assert errors(config(ssh={"known_hosts": KH, "host_key": "ssh-foo %s" % blob("ssh-foo")})) == [
        "%s.ssh.host_key: has unknown key type 'ssh-foo' (one of ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, "
        "ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com, "
        "ssh-dss)" % SITE]


def test_a_host_key_that_is_not_a_string_is_refused():
    """Bugs: the wording, or a TypeError in place of the message."""
    assert errors(config(ssh={"known_hosts": KH, "host_key": 25519})) == [
        "%s.ssh.host_key: must be a string 'TYPE BASE64' (as in known_hosts), got 25519" % SITE]


@pytest.mark.parametrize("bad", ["-", "_", "*"])
def test_a_host_key_with_a_character_outside_base64_is_refused(bad):
    """Bug: base64 decoded leniently, dropping the stray character and pinning the key anyway."""
    good = blob("ssh-ed25519")
    pin = "ssh-ed25519 %s%s%s" % (good[:20], bad, good[20:])
    assert errors(config(ssh={"known_hosts": KH, "host_key": pin})) == [
        "%s.ssh.host_key: has a key that is not valid base64 SSH key data" % SITE]


@pytest.mark.parametrize("length, shown", [
    (40, "'%s'" % ("x" * 40)),
    (41, "'%s'... (41 characters)" % ("x" * 40)),
])
def test_a_key_blob_of_another_type_shows_at_most_40_characters_of_it(length, shown):
    """Bug: 41 characters of the blob's type shown whole."""
    pin = "ssh-ed25519 %s" % blob("x" * length)
    assert errors(config(ssh={"known_hosts": KH, "host_key": pin})) == [
        "%s.ssh.host_key: says ssh-ed25519 but the key data is of type %s" % (SITE, shown)]


# ---------------------------------------------------------------------------------------------
# Secrets in the config

@pytest.mark.parametrize("key, value, message", [
    ("token", Vaulted("$ANSIBLE_VAULT;1.1;AES256"),
     "a vaulted secret is only taken as ssh.password or services.kubernetes.token; keep others in vaulted "
     "host_vars, never in edge_site"),
    ("bearer", "abc", TOKEN_HINT),
    ("apiToken", "abc", TOKEN_HINT),
    ("pwd", "abc", PASSWORD_HINT),
    ("passphrase", "abc", PASSWORD_HINT),
    ("secret", "abc", "a plaintext secret is refused (its key names a secret); keep it in a file or a vaulted variable"),
    ("cookie", "abc", "a plaintext secret is refused (its key names a secret); keep it in a file or a vaulted variable"),
])
def test_a_secret_in_metadata_is_refused_with_the_advice_for_its_kind(key, value, message):
    """Bugs: 'bearer' or 'pwd' not recognised for their kind; any key word taken for a password; the wording."""
    assert errors(config(metadata={key: value})) == ["%s.metadata.%s: %s" % (SITE, key, message)]


# ---------------------------------------------------------------------------------------------
# Paths, interpreters, ports, strings, URLs

@pytest.mark.parametrize("value, shown", [("   ", "'   '"), (5, "5"), ("", "''")])
def test_a_key_file_that_is_not_a_path_is_refused(value, shown):
    """Bug: a blank or non-string path let through to the base directory (or crashing)."""
    doc = config(ssh={"known_hosts": "/lab/known_hosts", "key_file": value})
    assert errors(doc, base_dir="/lab") == [
        "%s.ssh.key_file: must be a file path (a string without control characters), got %s" % (SITE, shown)]


def test_a_relative_key_file_is_joined_to_the_base_directory():
    """The other side of the test above: with the same base directory a relative path is taken, joined to it."""
    site = accepted(config(ssh={"known_hosts": "/lab/known_hosts", "key_file": "keys/id_ed25519"}), base_dir="/lab")
    assert site["ssh"]["key_file"] == "/lab/keys/id_ed25519"


def test_a_python_interpreter_that_is_not_an_absolute_path_is_refused():
    """Bug: the wording of the interpreter message."""
    assert errors(config(python_interpreter="python3")) == [
        "%s.python_interpreter: must be an absolute path of letters, digits and _ . + - / only (no white space, no "
        "shell characters; e.g. /usr/bin/python3), got 'python3'" % SITE]


@pytest.mark.parametrize("port", [1, 2, 65534, 65535])
def test_the_ssh_port_range_is_inclusive(port):
    """Bugs: port 1 or 65535 refused."""
    assert accepted(config(ssh={"known_hosts": "/lab/known_hosts", "port": port}))["ssh"]["port"] == port


@pytest.mark.parametrize("port", [0, 65536, -22])
def test_an_ssh_port_out_of_range_is_refused(port):
    """Bug: port 65536 let through."""
    assert errors(config(ssh={"known_hosts": "/lab/known_hosts", "port": port})) == [
        "%s.ssh.port: must be an integer port 1-65535, got %d" % (SITE, port)]


def test_a_tls_server_name_that_is_not_a_string_is_refused():
    """Bug: the default wording of a string field."""
    services = {"o2ims": {"url": "https://198.18.1.10:8443/o2ims", "tls_server_name": 5}}
    assert errors(config(services=services)) == ["%s.services.o2ims.tls_server_name: must be a string, got 5" % SITE]


def test_a_url_with_port_0_is_refused():
    """Bugs: port 0 let through, or its wording."""
    services = {"o2ims": {"url": "http://198.18.1.10:0/o2ims"}}
    assert errors(config(services=services)) == ["%s.services.o2ims.url: has port 0" % SITE]


def test_a_url_with_port_1_is_accepted():
    """Bug: port 1 taken for port 0."""
    services = {"o2ims": {"url": "http://198.18.1.10:1/o2ims"}}
    assert accepted(config(services=services))["services"] == {
        "o2ims": {"kind": "http", "url": "http://198.18.1.10:1/o2ims", "expect_status": [200]}}


# ---------------------------------------------------------------------------------------------
# Labels

def test_booleans_and_integers_become_label_words_and_groups():
    """Bugs: true/false or an integer label value spelled otherwise, or refused."""
    site = accepted(config(labels={"enabled": True, "debug": False, "rack": 7}))
    assert site["labels"] == {"enabled": "true", "debug": "false", "rack": "7"}
    assert es.site_groups(site) == ["edge_sites", "debug_false", "enabled_true", "rack_7"]


def test_every_bad_label_is_reported_and_the_good_ones_kept():
    """Bug: the first bad label key or value ending the check of the others."""
    labels = {"1st": "a", "role": "a b", "2nd": "b", "tier": "c d", "zone": "lab"}
    assert errors(config(labels=labels)) == [
        "%s.labels.1st: label key must match [A-Za-z_][A-Za-z0-9_]*" % SITE,
        "%s.labels.role: label value must be a word of [A-Za-z0-9_.-] (it becomes group role_<value>), got 'a b'" % SITE,
        "%s.labels.2nd: label key must match [A-Za-z_][A-Za-z0-9_]*" % SITE,
        "%s.labels.tier: label value must be a word of [A-Za-z0-9_.-] (it becomes group tier_<value>), got 'c d'" % SITE,
    ]
    labels = {"role": "edge", "1st": "a", "zone": "lab", "tier": "c d", "rack": 7}
    doc = config()
    doc["defaults"] = {"labels": labels}
    doc["sites"].append(dict(copy.deepcopy(doc["sites"][0]), name="edge2", address="198.18.2.10"))
    assert errors(doc) == [
        "defaults.labels.1st: label key must match [A-Za-z_][A-Za-z0-9_]*",
        "defaults.labels.tier: label value must be a word of [A-Za-z0-9_.-] (it becomes group tier_<value>), got 'c d'",
    ]
    del labels["1st"], labels["tier"]
    sites = es.validate_config(doc)["sites"]
    assert [s["labels"] for s in sites] == [{"role": "edge", "zone": "lab", "rack": "7"}] * 2


# ---------------------------------------------------------------------------------------------
# Services

def test_a_service_of_no_known_name_needs_its_kind():
    """Bug: the list of kinds joined otherwise."""
    assert errors(config(services={"web": {"port": 8080}})) == [
        "%s.services.web.kind: is required for a service not named kubernetes, o2ims, prometheus "
        "(one of tcp, http, prometheus, kubernetes)" % SITE]


SERVICES_ACCEPTED = [
    ("kubernetes-default-port", {"kubernetes": {"ca_file": "/pki/ca.crt", "token_file": "/pki/token"}},
     {"kubernetes": {"kind": "kubernetes", "port": 6443, "ca_file": "/pki/ca.crt", "token_file": "/pki/token"}}),
    ("prometheus-default-port", {"prometheus": None}, {"prometheus": {"kind": "prometheus", "port": 9090}}),
    ("prometheus-port", {"prometheus": {"port": 19090}}, {"prometheus": {"kind": "prometheus", "port": 19090}}),
    ("prometheus-url-no-port", {"prometheus": {"url": "http://198.18.1.10:9091/"}},
     {"prometheus": {"kind": "prometheus", "url": "http://198.18.1.10:9091/"}}),
    ("kubernetes-url-no-port", {"kubernetes": {"url": "https://198.18.1.10/", "token_file": "/pki/token"}},
     {"kubernetes": {"kind": "kubernetes", "url": "https://198.18.1.10/", "token_file": "/pki/token"}}),
    ("tcp-no-default", {"db": {"kind": "tcp", "port": 5432}}, {"db": {"kind": "tcp", "port": 5432}}),
    ("http-200-by-default", {"web": {"kind": "http", "url": "http://198.18.1.10:8080/"}},
     {"web": {"kind": "http", "url": "http://198.18.1.10:8080/", "expect_status": [200]}}),
    ("http-one-status", {"web": {"kind": "http", "url": "http://198.18.1.10:8080/", "expect_status": 204}},
     {"web": {"kind": "http", "url": "http://198.18.1.10:8080/", "expect_status": [204]}}),
    ("http-status-bounds", {"web": {"kind": "http", "url": "http://198.18.1.10:8080/", "expect_status": [100, 599]}},
     {"web": {"kind": "http", "url": "http://198.18.1.10:8080/", "expect_status": [100, 599]}}),
    ("kubernetes-kubeconfig-context",
     {"kubernetes": {"kubeconfig": "/pki/kubeconfig", "context": "edge-ro", "tls_server_name": "k8s.lab"}},
     {"kubernetes": {"kind": "kubernetes", "port": 6443, "kubeconfig": "/pki/kubeconfig", "context": "edge-ro",
                     "tls_server_name": "k8s.lab"}}),
    ("prometheus-query-on-lines", {"prometheus": {"query": "sum(\n\tup\n)"}},
     {"prometheus": {"kind": "prometheus", "port": 9090, "query": "sum(\n\tup\n)"}}),
]


@pytest.mark.parametrize("services, normalized", [c[1:] for c in SERVICES_ACCEPTED], ids=[c[0] for c in SERVICES_ACCEPTED])
def test_a_service_is_normalized_with_its_defaults(services, normalized):
    """Bugs: a default port given to a service with a url or a port of its own, or to a kind without one, or
    under another key; the context or the status list dropped; a status range that leaves out 100 or 599."""
    site = accepted(config(services=services))
    assert site["services"] == normalized
    assert site["secrets"] == {}


HTTP_NO_URL = "%s.services.web.url: is required for kind http (e.g. http://%s:8080/...)"


def test_an_http_service_without_url_suggests_one_on_the_site_address():
    """Bug: the site's address not suggested (the placeholder in its place)."""
    assert errors(config(services={"web": {"kind": "http"}})) == [HTTP_NO_URL % (SITE, "198.18.1.10")]


def test_an_http_service_without_url_on_a_bad_address_suggests_a_placeholder():
    """Bugs: the invalid address suggested, or the placeholder's wording."""
    assert errors(config(address="edge_1", services={"web": {"kind": "http"}})) == [
        "%s.address: is neither an IP address nor a valid DNS name: 'edge_1'" % SITE, HTTP_NO_URL % (SITE, "ADDRESS")]


@pytest.mark.parametrize("status, shown", [
    (99, "99"), (600, "600"), ([200, 600], "a list (2 items)"), ([], "a list (0 items)"), ("200", "'200'"), (True, "True"),
])
def test_an_expect_status_outside_100_to_599_is_refused(status, shown):
    """Bugs: 600 (or a status that is no integer) let through."""
    services = {"web": {"kind": "http", "url": "http://198.18.1.10:8080/", "expect_status": status}}
    assert errors(config(services=services)) == [
        "%s.services.web.expect_status: must be an HTTP status 100-599 or a list of them, got %s" % (SITE, shown)]


@pytest.mark.parametrize("key", ["tls_server_name", "context"])
def test_a_line_break_is_taken_only_in_a_query(key):
    """Bug: the tab and newline a PromQL query may hold allowed in the other string fields."""
    services = {"kubernetes": {"kubeconfig": "/pki/kubeconfig", key: "edge\tro"}}
    assert errors(config(services=services)) == ["%s.services.kubernetes.%s: must be a string, got 'edge\\tro'" % (SITE, key)]


@pytest.mark.parametrize("given", [("token", "token_file"), ("token", "kubeconfig"), ("token", "token_file", "kubeconfig")])
def test_a_vaulted_kubernetes_token_is_the_one_credential(given):
    """Bug: a vaulted token not counted among the credentials given (another one taken beside it)."""
    values = {"token": Vaulted("$ANSIBLE_VAULT;1.1;AES256"), "token_file": "/pki/token", "kubeconfig": "/pki/kubeconfig"}
    services = {"kubernetes": dict((k, values[k]) for k in given)}
    assert errors(config(services=services)) == [
        "%s.services.kubernetes: give only one of token (vaulted), token_file, kubeconfig; got %s" % (SITE, ", ".join(given))]


def test_a_vaulted_kubernetes_token_alone_is_kept_as_a_secret():
    token = Vaulted("$ANSIBLE_VAULT;1.1;AES256")
    site = accepted(config(services={"kubernetes": {"token": token}}))
    assert site["services"] == {"kubernetes": {"kind": "kubernetes", "port": 6443}}
    assert site["secrets"] == {"edge_kubernetes_token": token}


def test_a_plaintext_kubernetes_token_is_refused_not_kept():
    assert errors(config(services={"kubernetes": {"token": "abc"}})) == ["%s.services.kubernetes.token: %s" % (SITE, TOKEN_HINT)]


@pytest.mark.parametrize("services", [
    {"kubernetes": {"context": "edge-ro"}},
    {"kubernetes": {"context": "edge-ro", "token_file": "/pki/token"}},
])
def test_a_kubernetes_context_needs_a_kubeconfig(services):
    """Bug: a context taken without the kubeconfig it names a part of."""
    assert errors(config(services=services)) == ["%s.services.kubernetes.context: needs kubeconfig" % SITE]

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edge/_edge_address.py: tests written for the survivors of its whole mutation run.

Each test is named for the bug it catches: an edge-sites config, a known_hosts file and candidates that
edge_address must decide, fix or refuse, with the exact outcome, file and message. No packet is sent:
the host-key fetch and the resolver are replaced (198.18.0.0/15 and 2001:db8::/32 only as data).
"""
from __future__ import annotations

import base64
import socket
import struct
import threading
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _edge_address as ea
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import Deadline, ProbeError, Resolver
from ansible_collections.o2edge.perf.plugins.module_utils.probe._probe_ssh import ssh_key_fingerprint
from ansible_collections.o2edge.perf.plugins.modules import edge_address
from tests.unit.module_runner import run_module
from tests.unit.probe_servers import KEY_A, KEY_B


def make_key(seed):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes([seed]) * 32
    return base64.b64encode(blob).decode("ascii")


KEY_C = make_key(7)
KEY_D = make_key(9)
FP_A, FP_B, FP_C, FP_D = ("ssh-ed25519 " + ssh_key_fingerprint(k) for k in (KEY_A, KEY_B, KEY_C, KEY_D))
RSA = "AAAAB3NzaC1yc2E="  # only its fingerprint is ever computed
FP_R = "ssh-rsa " + ssh_key_fingerprint(RSA)
SITES = ["edge1", "edge2"]

CONFIG = """\
plugin: o2edge.perf.edge_sites
version: 1
defaults:
  ssh: {port: 22, user: root, known_hosts: known_hosts}
sites:
  - name: edge1
    address: 198.18.1.10
  - name: edge2
    address: 198.18.102.10
"""
# A known_hosts as people keep it: a blank line, comments, a commented-out and a hashed entry that name
# edge2 after their first pattern, a line with a host field only, and edge2 under two key types.
KNOWN_HOSTS = """\
# lab hosts

edge1,198.18.1.10 ssh-ed25519 %s
edge2,198.18.102.10 ssh-ed25519 %s
#198.18.102.10,edge2 ssh-ed25519 %s
|1|c2FsdA==|aGFzaA==,edge2,198.18.102.10 ssh-ed25519 %s
@revoked,edge2,198.18.102.10 ssh-ed25519 %s
edge2
  edge2,198.18.102.10 ssh-rsa %s rsa key\r
""" % (KEY_B, KEY_A, KEY_C, KEY_C, KEY_C, RSA)


class FakeFetch(object):
    """The host-key fetch: what each address offers; an address not listed gives no answer."""

    def __init__(self, network):
        self.network = network
        self.calls = []

    def __call__(self, address, port, types, deadline, ctx):
        self.calls.append(address)
        if address not in self.network:
            raise ProbeError("timeout", "connect to %s port %s: no answer within 1s" % (address, port))
        return [("ssh-ed25519", k) for k in self.network[address]]


class NoDns(object):
    def __call__(self, host):
        raise AssertionError("DNS looked up for %s" % host)


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "edge-sites.yml"
    kh = tmp_path / "known_hosts"
    cfg.write_text(CONFIG)
    kh.write_bytes(KNOWN_HOSTS.encode("ascii"))
    return cfg, kh


def run(monkeypatch, cfg, network, candidates, check=False):
    fetch = FakeFetch(network)
    monkeypatch.setattr(edge_address, "host_keys", fetch)
    monkeypatch.setattr(edge_address, "Resolver", NoDns)
    res = run_module(edge_address, {"config": str(cfg), "candidates": candidates, "timeout": 1.0}, check_mode=check)
    return res, fetch


def mismatch_detail(address, offered):
    return ("%s port 22 offers %s; the key known for edge2 is %s, %s: not the host expected (stale address "
            "or impostor), never trusted" % (address, ", ".join(offered), FP_A, FP_R))


def impostor(address, origin, offered):
    return {"address": address, "origin": origin, "state": "mismatch", "keys": list(offered),
            "detail": mismatch_detail(address, offered), "site": "edge2"}


# --------------------------------------------------------------------------- whole outcomes

def test_a_fix_reports_every_field_exactly_and_rewrites_only_the_site_lines(files, monkeypatch):
    """Bugs caught: the observation or outcome with a key missing, renamed or added (status, fingerprint,
    configured, candidates_scanned, matches of an ok site, msg, an impostor's site), the `port` wording of
    the proof, the ok and fixed messages and their "why", the impostor list's separators; known_hosts
    lines after a blank line or a host-only line crashing the edit, commented-out, hashed or marker lines
    rewritten when a later pattern names the site."""
    cfg, kh = files
    network = {"198.18.1.10": [KEY_B], "198.18.102.10": [KEY_C], "198.18.103.10": [KEY_D], "198.18.2.10": [KEY_A]}
    res, _fetch = run(monkeypatch, cfg, network,
                      [{"site": "edge2", "addresses": ["198.18.103.10", "198.18.2.10", "198.18.9.9"]}])
    source = "known_hosts %s" % kh
    proof_b = "198.18.1.10 port 22 offers %s, matching %s for edge1" % (FP_B, source)
    configured = {"address": "198.18.102.10", "origin": "address", "state": "mismatch", "keys": [FP_C],
                  "detail": mismatch_detail("198.18.102.10", [FP_C])}
    assert res["sites"] == [
        {"site": "edge1", "status": "ok", "address": "198.18.1.10", "old_address": "198.18.1.10", "new_address": None,
         "fingerprint": FP_B, "source": source,
         "configured": {"address": "198.18.1.10", "origin": "address", "state": "match", "keys": [FP_B],
                        "detail": proof_b, "fingerprint": FP_B},
         "candidates_scanned": 0, "matches": [], "impostors": [], "not_answering": {}, "dns_errors": [],
         "msg": "edge1: ok, " + proof_b},
        {"site": "edge2", "status": "fixed", "address": "198.18.2.10", "old_address": "198.18.102.10",
         "new_address": "198.18.2.10", "fingerprint": FP_A, "source": source, "configured": configured,
         "candidates_scanned": 3,
         "matches": [{"address": "198.18.2.10", "fingerprint": FP_A, "origin": "candidates[0] (edge2).addresses[1]"}],
         "impostors": [dict(configured, site="edge2"),
                       impostor("198.18.103.10", "candidates[0] (edge2).addresses[0]", [FP_D])],
         "not_answering": {"timeout": 1}, "dns_errors": [],
         "msg": "edge2: 198.18.102.10 -> 198.18.2.10 (host key %s matches %s for edge2; at 198.18.102.10 an impostor "
                "offers %s there); impostors (never accepted): %s at 198.18.102.10; %s at 198.18.103.10"
                % (FP_A, source, FP_C, FP_C, FP_D)},
    ]
    assert res["failed"] is False and res["changed"] is True
    assert cfg.read_text() == CONFIG.replace("198.18.102.10", "198.18.2.10")
    expected = KNOWN_HOSTS.replace("edge2,198.18.102.10 ssh-ed25519 %s\n" % KEY_A, "edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A)
    expected = expected.replace("  edge2,198.18.102.10 ssh-rsa", "  edge2,198.18.2.10 ssh-rsa")
    assert kh.read_bytes() == expected.encode("ascii")


def test_an_ambiguous_site_is_refused_with_every_match_and_impostor_group(files, monkeypatch):
    """Bugs caught: the ambiguous message's wording or separators, impostors offering the same key not
    grouped as `KEY at A, B`, an impostor offering two keys not shown as `K1, K2 at A`."""
    cfg, kh = files
    network = {"198.18.1.10": [KEY_B], "198.18.2.10": [KEY_A], "198.18.104.11": [KEY_A],
               "198.18.103.10": [KEY_D], "198.18.103.11": [KEY_D], "198.18.103.12": [KEY_C, KEY_D]}
    res, _fetch = run(monkeypatch, cfg, network, [{"site": "edge2", "addresses": [
        "198.18.2.10", "198.18.103.10", "198.18.104.11", "198.18.103.11", "198.18.103.12"]}])
    assert res["failed"] is True and res["changed"] is False
    assert res["msg"] == (
        "refused, nothing written: edge2: ambiguous, refused: 2 addresses offer the site's host key (known_hosts %s): "
        "198.18.2.10 (%s), 198.18.104.11 (%s); narrow the candidates; impostors (never accepted): %s at 198.18.103.10, "
        "198.18.103.11; %s, %s at 198.18.103.12" % (kh, FP_A, FP_A, FP_D, FP_C, FP_D))
    edge2 = res["sites"][1]
    assert (edge2["status"], edge2["new_address"], edge2["fingerprint"]) == ("ambiguous", None, None)
    assert cfg.read_text() == CONFIG and kh.read_bytes() == KNOWN_HOSTS.encode("ascii")


def test_no_match_says_why_the_configured_address_is_not_the_site(files, monkeypatch):
    """Bugs caught: the no-match message's wording, the "why" of a silent configured address (its probe
    state and detail) swapped for the impostor form or reworded, a no_match outcome without fingerprint."""
    cfg, kh = files
    res, _fetch = run(monkeypatch, cfg, {"198.18.1.10": [KEY_B], "198.18.103.10": [KEY_D]},
                      [{"site": "edge2", "addresses": ["198.18.103.10"]}])
    edge2 = res["sites"][1]
    assert (edge2["status"], edge2["address"], edge2["new_address"], edge2["fingerprint"]) == (
        "no_match", "198.18.102.10", None, None)
    assert edge2["configured"] == {"address": "198.18.102.10", "origin": "address", "state": "timeout", "keys": [],
                                   "detail": "connect to 198.18.102.10 port 22: no answer within 1s"}
    assert edge2["msg"] == ("edge2: no match, nothing changed: 198.18.102.10 is not the site (timeout: connect to "
                            "198.18.102.10 port 22: no answer within 1s); none of 1 candidate addresses offers its "
                            "host key; impostors (never accepted): %s at 198.18.103.10" % FP_D)
    assert res["failed"] is False and res["changed"] is False
    assert cfg.read_text() == CONFIG and kh.read_bytes() == KNOWN_HOSTS.encode("ascii")


def test_no_candidates_names_every_key_the_impostor_at_the_configured_address_offers(files, monkeypatch):
    """Bugs caught: the "no candidates given" wording, the impostor's keys joined wrongly in the "why"."""
    cfg, _kh = files
    res, fetch = run(monkeypatch, cfg, {"198.18.1.10": [KEY_B], "198.18.102.10": [KEY_C, KEY_D]}, [])
    assert res["sites"][1]["msg"] == (
        "edge2: no match, nothing changed: 198.18.102.10 is not the site (an impostor offers %s, %s there); no "
        "candidates given; impostors (never accepted): %s, %s at 198.18.102.10" % (FP_C, FP_D, FP_C, FP_D))
    assert sorted(fetch.calls) == ["198.18.1.10", "198.18.102.10"]


def test_the_outcomes_constant_is_what_sites_are_counted_by(files, monkeypatch):
    """Bug caught: OUTCOMES (the public list of statuses) not the four statuses the module counts."""
    cfg, _kh = files
    res, _fetch = run(monkeypatch, cfg, {"198.18.1.10": [KEY_B], "198.18.2.10": [KEY_A]},
                      [{"site": "edge2", "addresses": ["198.18.2.10"]}], check=True)
    assert ea.OUTCOMES == ("ok", "fixed", "ambiguous", "no_match") == tuple(res["summary"])
    assert [s["status"] for s in res["sites"]] == ["ok", "fixed"]


# --------------------------------------------------------------------------- refusals, word for word

def test_two_invalid_candidates_are_one_message_joined_by_semicolons_with_long_values_cut_at_60(files, monkeypatch):
    """Bugs caught: the errors joined by another separator; a value shown in a message cut at another
    length (a repr of exactly 60 characters is shown whole, 61 is cut to 57 and "...")."""
    cfg, _kh = files
    whole, cut = "a" * 58, "b" * 59   # reprs of 60 and 61 characters
    res, fetch = run(monkeypatch, cfg, {}, [{"site": "edge2", "addresses": [whole, cut]}])
    assert res["failed"] is True and fetch.calls == []
    assert res["msg"] == ("invalid candidates, nothing scanned: candidates[0] (edge2).addresses[0]: '%s' is not a valid "
                          "IPv4 or IPv6 address; candidates[0] (edge2).addresses[1]: '%s... is not a valid IPv4 or "
                          "IPv6 address" % (whole, "b" * 56))


@pytest.mark.parametrize("entries, max_candidates, errors", [
    ([5], 1024, ["candidates[0]: must be a mapping with site and addresses, cidrs or dns"]),
    ([{"site": "edge9"}], 1024,
     ["candidates[0] (edge9).site: no site named 'edge9' in the edge-sites config (sites: edge1, edge2)"]),
    ([{"site": "edge2", "ports": [22]}], 1024,
     ["candidates[0] (edge2).ports: unknown field (allowed: site, addresses, cidrs, dns)"]),
    ([{"site": "edge2", "addresses": "198.18.2.10"}], 1024,
     ["candidates[0] (edge2).addresses: must be a list, got '198.18.2.10'"]),
    ([{"site": "edge2", "cidrs": ["198.18.2.0"]}], 1024,
     ["candidates[0] (edge2).cidrs[0]: '198.18.2.0' is not a CIDR range (ADDRESS/PREFIX, e.g. 198.18.104.8/29)"]),
    ([{"site": "edge2", "cidrs": ["198.18.2.0/33"]}], 1024,
     ["candidates[0] (edge2).cidrs[0]: '198.18.2.0/33' is not a valid CIDR range (ADDRESS/PREFIX, e.g. 198.18.104.8/29)"]),
    ([{"site": "edge2", "cidrs": ["198.18.104.8/29"]}], 5,
     ["candidates[0] (edge2).cidrs[0]: 198.18.104.8/29 expands to 6 addresses, over max_candidates (5 in total); "
      "give a smaller range or raise max_candidates"]),
    ([{"site": "edge2", "dns": ["-bad-.example"]}], 1024,
     ["candidates[0] (edge2).dns[0]: '-bad-.example' is not a valid DNS name"]),
    ([], 0, ["max_candidates: must be a positive integer, got 0"]),
])
def test_each_refusal_is_worded_exactly(entries, max_candidates, errors):
    """Bug caught: a refusal reworded or its field, value or bound left out."""
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates(entries, SITES, max_candidates)
    assert exc.value.errors == errors


def test_every_invalid_candidate_is_reported_not_only_the_first_of_its_list():
    """Bug caught: checking stopped (break for continue) after a non-mapping entry, an unknown site, a
    field that is not a list, a value that is not a range, an invalid range, a range over the bound or an
    invalid name: the operator then fixes one problem per run."""
    entries = [
        5,
        {"site": "edge9"},
        {"site": "edge2", "addresses": "198.18.2.10", "cidrs": ["198.18.2.0/33"]},
        {"site": "edge2", "cidrs": ["198.18.2.0", "198.18.3.0/33", "198.18.104.8/29", "198.18.4.0/40"],
         "dns": ["-a-", "-b-"]},
        {"site": "edge1", "addresses": ["198.18.1.300"]},
    ]
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates(entries, SITES, 5)
    c2, c3 = "candidates[2] (edge2)", "candidates[3] (edge2)"
    hint = " (ADDRESS/PREFIX, e.g. 198.18.104.8/29)"
    assert exc.value.errors == [
        "candidates[0]: must be a mapping with site and addresses, cidrs or dns",
        "candidates[1] (edge9).site: no site named 'edge9' in the edge-sites config (sites: edge1, edge2)",
        c2 + ".addresses: must be a list, got '198.18.2.10'",
        c2 + ".cidrs[0]: '198.18.2.0/33' is not a valid CIDR range" + hint,
        c3 + ".cidrs[0]: '198.18.2.0' is not a CIDR range" + hint,
        c3 + ".cidrs[1]: '198.18.3.0/33' is not a valid CIDR range" + hint,
        c3 + ".cidrs[2]: 198.18.104.8/29 expands to 6 addresses, over max_candidates (5 in total); give a smaller "
             "range or raise max_candidates",
        c3 + ".cidrs[3]: '198.18.4.0/40' is not a valid CIDR range" + hint,
        c3 + ".dns[0]: '-a-' is not a valid DNS name",
        c3 + ".dns[1]: '-b-' is not a valid DNS name",
        "candidates[4] (edge1).addresses[0]: '198.18.1.300' is not a valid IPv4 or IPv6 address",
    ]


def test_the_bound_is_reported_once_and_counts_every_range_before():
    """Bugs caught: after a range over the bound the count restarting at that range's size or going down by
    it (a second, false bound error for what follows); an accepted range replacing the count instead of
    adding to it (a later range over the bound accepted)."""
    five = ["198.18.2.%d" % i for i in range(1, 6)]
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": five, "cidrs": ["198.18.104.8/29", "198.18.105.0/28"],
                              "dns": ["edge2.example"]}], SITES, 10)
    assert exc.value.errors == [
        "candidates[0] (edge2).cidrs[0]: 198.18.104.8/29 expands to 6 addresses, which with the 5 before it is over "
        "max_candidates (10 in total); give a smaller range or raise max_candidates"]
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": five, "cidrs": ["198.18.104.0/30", "198.18.104.8/29"]}],
                            SITES, 10)
    assert exc.value.errors == [
        "candidates[0] (edge2).cidrs[1]: 198.18.104.8/29 expands to 6 addresses, which with the 7 before it is over "
        "max_candidates (10 in total); give a smaller range or raise max_candidates"]


@pytest.mark.parametrize("cidr, hosts", [
    ("198.18.0.0/30", 2),    # IPv4 below /31: without network and broadcast
    ("198.18.0.0/31", 2),    # point-to-point: both are hosts
    ("198.18.0.7/32", 1),
    ("2001:db8::/126", 4),   # IPv6 has no broadcast
])
def test_a_range_counts_its_host_addresses_against_the_bound(cidr, hosts):
    """Bugs caught: /31 or /32 ranges counted as 2 fewer than they expand to (a /31 counted 0, a /32 -1:
    the bound passed), IPv6 ranges counted without 2 addresses."""
    entry = {"site": "edge2", "addresses": ["198.18.2.9"], "cidrs": [cidr]}
    plan = ea.parse_candidates([entry], SITES, hosts + 1)
    assert len(plan["edge2"]["addresses"]) == hosts + 1
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([entry], SITES, hosts)
    assert exc.value.errors == [
        "candidates[0] (edge2).cidrs[0]: %s expands to %d addresses, which with the 1 before it is over max_candidates "
        "(%d in total); give a smaller range or raise max_candidates" % (cidr, hosts, hosts)]


def test_the_default_bound_is_1024_addresses_and_names():
    """Bug caught: the default max_candidates (documented 1024) changed, for parse_candidates and resolve_dns."""
    many = ["198.19.%d.%d" % (i // 250, i % 250 + 1) for i in range(1025)]
    assert len(ea.parse_candidates([{"site": "edge2", "addresses": many[:1024]}], SITES)["edge2"]["addresses"]) == 1024
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": many}], SITES)
    assert exc.value.errors == ["candidates[0] (edge2).addresses[1024]: one address more than max_candidates (1024 in "
                                "total, all sites, addresses, ranges and DNS names together); give fewer or raise "
                                "max_candidates"]
    plan = ea.parse_candidates([{"site": "edge2", "addresses": many[:1023], "dns": ["edge2.example"]}], SITES)
    with pytest.raises(ea.CandidateError) as exc:
        ea.resolve_dns(plan, lambda name: [(socket.AF_INET, "198.18.2.10"), (socket.AF_INET, "198.18.2.11")])
    assert exc.value.errors == ["candidates[0] (edge2).dns[0]: edge2.example resolves to more addresses than "
                                "max_candidates (1024 in total) allows"]


def test_without_netaddr_the_candidates_are_refused_saying_how_to_install_it(monkeypatch):
    """Bug caught: the missing-library message reworded, or crashing (TypeError) instead of refusing."""
    monkeypatch.setattr(ea, "HAS_NETADDR", False)
    monkeypatch.setattr(ea, "NETADDR_IMPORT_ERROR", ImportError("No module named 'netaddr'"))
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.10"]}], SITES)
    assert exc.value.errors == ["candidates: cannot be checked: the Python library netaddr is missing on the controller "
                                "(pip install netaddr): No module named 'netaddr'"]


@pytest.mark.parametrize("name, valid", [
    ("edge2.x.", True),         # a one-character last label before the root dot
    ("edge2.example.", True),
    ("a.b.123.", False),        # an all-numeric last label, with the root dot
    ("edge2.example-.", False),  # a label ending in "-", with the root dot
])
def test_a_dns_candidate_with_the_root_dot_is_checked_without_only_that_dot(name, valid):
    """Bug caught: the root dot cut with one character more (edge2.x. refused) or everything but the first
    character kept (a.b.123. and edge2.example-. accepted)."""
    if valid:
        assert ea.parse_candidates([{"site": "edge2", "dns": [name]}], SITES)["edge2"]["dns"] == [
            (name, "candidates[0] (edge2).dns[0]")]
    else:
        with pytest.raises(ea.CandidateError) as exc:
            ea.parse_candidates([{"site": "edge2", "dns": [name]}], SITES)
        assert exc.value.errors == ["candidates[0] (edge2).dns[0]: '%s' is not a valid DNS name" % name]


def test_a_name_that_does_not_resolve_does_not_stop_the_next_and_results_are_compared_canonically():
    """Bugs caught: the names after one that fails left unresolved (break for continue); a resolved address
    in another spelling (2001:0db8:0:0::0001) scanned again beside the same explicit address."""
    def resolver(name):
        if name == "gone.example":
            raise ProbeError("dns", "cannot resolve gone.example")
        return [(socket.AF_INET6, "2001:0db8:0:0::0001"), (socket.AF_INET, "198.18.2.11")]
    plan = ea.parse_candidates([{"site": "edge2", "addresses": ["2001:db8::1"],
                                 "dns": ["gone.example", "edge2.example"]}], SITES)
    notes = ea.resolve_dns(plan, resolver)
    assert notes == {"edge2": ["candidates[0] (edge2).dns[0]: cannot resolve gone.example"]}
    assert plan["edge2"]["addresses"] == [("2001:db8::1", "candidates[0] (edge2).addresses[0]"),
                                          ("198.18.2.11", "candidates[0] (edge2).dns[1] edge2.example")]


# --------------------------------------------------------------------------- identity

KH_ID = "edge2 ssh-ed25519 %s\n@revoked edge2 ssh-ed25519 %s\n" % (KEY_A, KEY_C)


@pytest.mark.parametrize("site, text, path, message", [
    ({"name": "edge2", "ssh": {"host_key": "ssh-ed25519 " + KEY_C}}, KH_ID, None,
     "site edge2: its pinned host_key is @revoked in known_hosts: never accepted"),
    ({"name": "edge3", "ssh": {}}, None, None,
     "site edge3 has no ssh.host_key and no known_hosts: its identity cannot be checked (host keys are always verified)"),
    ({"name": "edge3", "ssh": {}}, KH_ID, None,
     "site edge3: known_hosts has no host key for edge3 (entries are keyed by site name and address): its identity "
     "cannot be checked"),
    ({"name": "edge2", "ssh": {}}, "edge2 ssh-foo %s\nedge2 ssh-bar %s\n" % (KEY_A, KEY_B), "/kh",
     "site edge2: known_hosts /kh has no key type the host-key fetch can read (ssh-bar, ssh-foo)"),
])
def test_a_site_that_cannot_be_identified_is_refused_word_for_word(site, text, path, message):
    """Bug caught: an identity refusal reworded, or the file it names wrong when the caller gives no path."""
    with pytest.raises(ea.IdentityError) as exc:
        ea.site_identity(site, text, path)
    assert str(exc.value) == message


def test_the_source_of_known_hosts_read_without_a_path_is_named_known_hosts():
    """Bug caught: the source of a match reworded when the caller gives known_hosts text without its path."""
    got = ea.site_identity({"name": "edge2", "ssh": {}}, KH_ID)
    assert got["source"] == "known_hosts" and got["known"] == [("ssh-ed25519", KEY_A)]


# --------------------------------------------------------------------------- the fetch and the scan

@pytest.mark.parametrize("state, detail, hinted", [
    ("protocol", "reading the SSH banner: connection reset by peer", True),
    ("protocol", "reading the SSH banner: connection closed before the banner", True),
    ("protocol", "reading the SSH banner: not an SSH server", False),
    ("refused", "connect to 198.18.2.10 port 22: connection refused (connection reset)", False),
])
def test_only_a_dropped_connection_gets_the_maxstartups_hint(monkeypatch, state, detail, hinted):
    """Bugs caught: the hint lost for a reset connection, given to every protocol error or to a refused
    connect, replacing the detail instead of adding to it, or reworded."""
    def fetch(address, port, types, deadline, resolver):
        raise ProbeError(state, detail)
    monkeypatch.setattr(ea, "read_host_key", fetch)
    with pytest.raises(ProbeError) as exc:
        ea.host_keys("198.18.2.10", 22, ("ssh-ed25519",), Deadline(1.0, 1.0), {"resolver": NoDns()})
    hint = " (an sshd past its MaxStartups drops new connections; scan fewer addresses at once)"
    assert (exc.value.state, exc.value.detail) == (state, detail + (hint if hinted else ""))


def test_scan_defaults_to_5s_per_address_2s_to_connect_and_its_own_resolver():
    """Bugs caught: other default timeouts; the caller's context replaced, or none made when none is given."""
    seen = []

    def fetch(address, port, types, deadline, ctx):
        seen.append((deadline.total, deadline.connect, ctx))
        return [("ssh-ed25519", KEY_A)]
    job = ("198.18.2.10", 22, ("ssh-ed25519",))
    assert ea.scan([job], fetch) == {job: [("ssh-ed25519", KEY_A)]}
    assert seen[0][:2] == (5.0, 2.0) and isinstance(seen[0][2]["resolver"], Resolver)
    ctx = {"resolver": NoDns()}
    assert ea.scan([job], fetch, ctx=ctx) == {job: [("ssh-ed25519", KEY_A)]}
    assert seen[1][2] is ctx


def test_a_fetch_that_crashes_is_one_protocol_error_naming_the_exception():
    """Bug caught: the crash's detail reworded (it must name the exception type and its text)."""
    def fetch(address, port, types, deadline, ctx):
        raise RuntimeError("boom")
    job = ("198.18.2.10", 22, ("ssh-ed25519",))
    got = ea.scan([job], fetch, ctx={"resolver": None})[job]
    assert (got.state, got.detail) == ("protocol", "RuntimeError: boom")


@pytest.mark.parametrize("concurrency, jobs, peak", [(None, 65, 64), (1, 3, 1)])
def test_scan_fetches_at_most_concurrency_addresses_at_once(concurrency, jobs, peak):
    """Bugs caught: a default other than 64 fetches at once (one sshd answering many addresses drops
    fetches past its MaxStartups); concurrency 1 running 2 at once."""
    lock = threading.Lock()
    state = {"active": 0, "peak": 0}
    release = threading.Event()

    def fetch(address, port, types, deadline, ctx):
        with lock:
            state["active"] += 1
            state["peak"] = max(state["peak"], state["active"])
        release.wait(5)
        with lock:
            state["active"] -= 1
        return [("ssh-ed25519", KEY_A)]
    kwargs = {} if concurrency is None else {"concurrency": concurrency}
    work = [("198.18.3.%d" % i, 22, ("ssh-ed25519",)) for i in range(1, jobs + 1)]
    out = {}
    runner = threading.Thread(target=lambda: out.update(ea.scan(work, fetch, ctx={"resolver": None}, **kwargs)))
    runner.start()
    try:
        end = time.monotonic() + 3
        while state["active"] < peak and time.monotonic() < end:
            time.sleep(0.005)
        time.sleep(0.05)  # room for one fetch too many to start
        seen = state["peak"]
    finally:
        release.set()
        runner.join(5)
    assert seen == peak and len(out) == jobs


# --------------------------------------------------------------------------- known_hosts

def test_host_patterns_default_to_port_22():
    """Bug caught: the default port, or a port of None, not written as the plain address."""
    assert ea.host_pattern("198.18.2.10") == "198.18.2.10"
    assert ea.host_pattern("198.18.2.10", None) == "198.18.2.10"
    assert ea.host_pattern("198.18.2.10", 2222) == "[198.18.2.10]:2222"
    assert ea.known_hosts_edit("edge2,198.18.102.10 ssh-ed25519 %s\n" % KEY_A, "edge2", "198.18.102.10",
                               "198.18.2.10", None) == ("edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A, 1)


def test_known_hosts_edit_counts_every_line_it_changes():
    """Bug caught: the count of lines changed stuck at 1 (two key types of the site: 2 lines)."""
    out, n = ea.known_hosts_edit(KNOWN_HOSTS, "edge2", "198.18.102.10", "198.18.2.10")
    assert n == 2
    assert out.count("edge2,198.18.2.10 ") == 2 and out.count("edge2,198.18.102.10") == 2  # the hashed, @ lines


def test_a_site_line_is_rewritten_whatever_its_key_text_is():
    """Bug caught: the line end cut with more than CR and LF (a key text of X letters lost its match)."""
    assert ea.known_hosts_edit("edge2,198.18.102.10 XXXX\n", "edge2", "198.18.102.10", "198.18.2.10") == (
        "edge2,198.18.2.10 XXXX\n", 1)

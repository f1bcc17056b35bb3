# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_edge_address: candidates and their bound, identity by host key, the scan, outcomes, known_hosts edits.

Loopback only: the scans use fake fetch functions and fake resolvers, or the scripted SSH server
(tests/unit/fake_sshd.py) and loopback listeners.
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
from tests.unit import fake_sshd as fs
from tests.unit.probe_servers import KEY_A, KEY_B, closed_port


def make_key(seed):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes([seed]) * 32
    return base64.b64encode(blob).decode("ascii")


KEY_C = make_key(7)
SITES = ["edge1", "edge2"]


def ident(key=KEY_A, revoked=()):
    return {"alias": "edge2", "known": [("ssh-ed25519", key)], "revoked": list(revoked),
            "source": "the pinned host_key", "types": ("ssh-ed25519",)}


# --------------------------------------------------------------------------- candidates

def test_candidates_expand_dedupe_and_keep_their_origin():
    plan = ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.104.9", "198.18.2.10"],
                                 "cidrs": ["198.18.104.8/29"], "dns": ["edge2.example.net"]}], SITES)
    addrs = [a for a, _o in plan["edge2"]["addresses"]]
    assert addrs == ["198.18.104.9", "198.18.2.10", "198.18.104.10", "198.18.104.11", "198.18.104.12",
                     "198.18.104.13", "198.18.104.14"]  # no network or broadcast address, no duplicate
    origins = dict(plan["edge2"]["addresses"])
    assert origins["198.18.104.9"] == "candidates[0] (edge2).addresses[0]"
    assert origins["198.18.104.12"] == "candidates[0] (edge2).cidrs[0] 198.18.104.8/29"
    assert plan["edge2"]["dns"] == [("edge2.example.net", "candidates[0] (edge2).dns[0]")]


def test_the_bound_counts_ranges_before_expanding_them():
    # 1022 + 2 = 1024 addresses: allowed.
    plan = ea.parse_candidates([{"site": "edge2", "cidrs": ["198.19.0.0/22"], "addresses": ["198.19.9.1", "198.19.9.2"]}],
                               SITES, max_candidates=1024)
    assert len(plan["edge2"]["addresses"]) == 1024
    # One more is refused, naming the field and the bound.
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": ["198.19.9.1", "198.19.9.2", "198.19.9.3"],
                              "cidrs": ["198.19.0.0/22"]}], SITES, max_candidates=1024)
    assert "candidates[0] (edge2).cidrs[0]: 198.19.0.0/22 expands to 1022 addresses" in str(exc.value)
    assert "max_candidates (1024 in total)" in str(exc.value)


def test_a_huge_range_is_refused_without_being_expanded(monkeypatch):
    monkeypatch.setattr(ea, "_expand", lambda net: pytest.fail("expanded a refused range"))
    with pytest.raises(ea.CandidateError, match=r"candidates\[1\] \(edge1\)\.cidrs\[0\]: 2001:db8::/64 expands to "
                                                r"18446744073709551616 addresses"):
        ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.10"]},
                             {"site": "edge1", "cidrs": ["2001:db8::/64"]}], SITES)


def test_the_bound_is_over_all_sites():
    with pytest.raises(ea.CandidateError, match=r"candidates\[1\] \(edge1\)\.cidrs\[0\].*with the 6 before it"):
        ea.parse_candidates([{"site": "edge2", "cidrs": ["198.18.104.8/29"]},
                             {"site": "edge1", "cidrs": ["198.18.0.0/29"]}], SITES, max_candidates=10)


@pytest.mark.parametrize("entry, message", [
    ({"site": "edge2", "addresses": ["198.18.2.300"]},
     r"candidates\[0\] \(edge2\)\.addresses\[0\]: '198\.18\.2\.300' is not a valid IPv4 or IPv6 address"),
    ({"site": "edge2", "addresses": ["198.18.2"]}, r"addresses\[0\]: '198\.18\.2' is not a valid"),
    ({"site": "edge2", "addresses": [" 198.18.2.1"]}, r"addresses\[0\]: ' 198\.18\.2\.1' is not a valid"),
    ({"site": "edge2", "addresses": ["fe80::1%eth0"]}, r"addresses\[0\]: 'fe80::1%eth0' is not a valid"),
    ({"site": "edge2", "addresses": ["edge2.example.net"]}, r"addresses\[0\]: 'edge2\.example\.net' is not a valid"),
    ({"site": "edge2", "cidrs": ["198.18.2.0/33"]}, r"cidrs\[0\]: '198\.18\.2\.0/33' is not a valid CIDR range"),
    ({"site": "edge2", "cidrs": ["198.18.2.0"]}, r"cidrs\[0\]: '198\.18\.2\.0' is not a CIDR range"),
    ({"site": "edge2", "cidrs": ["198.18.2/24"]}, r"cidrs\[0\]: '198\.18\.2/24' is not a valid CIDR range"),
    ({"site": "edge2", "dns": ["-bad-.example"]}, r"dns\[0\]: '-bad-\.example' is not a valid DNS name"),
    ({"site": "edge9", "addresses": ["198.18.2.10"]}, r"candidates\[0\] \(edge9\)\.site: no site named 'edge9'"),
    ({"site": "edge2", "ports": [22]}, r"candidates\[0\] \(edge2\)\.ports: unknown field"),
    ({"site": "edge2", "addresses": "198.18.2.10"}, r"addresses: must be a list"),
])
def test_invalid_candidates_are_refused_naming_the_field(entry, message):
    with pytest.raises(ea.CandidateError, match=message):
        ea.parse_candidates([entry], SITES)


def test_every_invalid_candidate_is_reported_at_once():
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": ["1.2.3.4", "x..y", "300.1.1.1"]}], SITES)
    assert len(exc.value.errors) == 2


def test_dns_candidates_are_resolved_counted_and_failures_noted():
    def resolver(name):
        if name == "gone.example":
            raise ProbeError("dns", "cannot resolve gone.example: Name or service not known")
        return [(socket.AF_INET, "198.18.2.10"), (socket.AF_INET, "198.18.2.11")]
    plan = ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.10"],
                                 "dns": ["edge2.example", "gone.example"]}], SITES)
    notes = ea.resolve_dns(plan, resolver)
    assert [a for a, _o in plan["edge2"]["addresses"]] == ["198.18.2.10", "198.18.2.11"]
    assert plan["edge2"]["addresses"][1][1] == "candidates[0] (edge2).dns[0] edge2.example"
    assert notes == {"edge2": ["candidates[0] (edge2).dns[1]: cannot resolve gone.example: Name or service not known"]}
    plan = ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.10"], "dns": ["edge2.example"]}], SITES,
                               max_candidates=2)
    assert ea.resolve_dns(plan, resolver, max_candidates=2) == {}  # 2 addresses: at the bound
    plan = ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.9"], "dns": ["edge2.example"]}], SITES,
                               max_candidates=2)
    with pytest.raises(ea.CandidateError, match=r"dns\[0\]: edge2\.example resolves to more addresses than "
                                                r"max_candidates \(2"):
        ea.resolve_dns(plan, resolver, max_candidates=2)


def test_the_bound_counts_explicit_addresses_and_names_before_any_packet():
    """Bug: explicit addresses were counted but never checked (2,000 scanned against a bound of 1,024), and
    DNS names were only counted after they were resolved (queries sent for a refused run)."""
    many = ["198.19.%d.%d" % (i // 250, i % 250 + 1) for i in range(2000)]
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": "edge2", "addresses": many}], SITES, max_candidates=1024)
    assert exc.value.errors == ["candidates[0] (edge2).addresses[1024]: one address more than max_candidates (1024 "
                                "in total, all sites, addresses, ranges and DNS names together); give fewer or raise "
                                "max_candidates"]
    with pytest.raises(ea.CandidateError, match=r"candidates\[1\] \(edge1\)\.dns\[0\]: one name more than "
                                                r"max_candidates \(2 in total"):
        ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.9", "198.18.2.10"]},
                             {"site": "edge1", "dns": ["edge1.example"]}], SITES, max_candidates=2)
    with pytest.raises(ea.CandidateError, match=r"cidrs\[0\]: 198\.18\.104\.8/29 expands to 6 addresses, which "
                                                r"with the 1 before it"):
        ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.9"], "cidrs": ["198.18.104.8/29"]}], SITES,
                            max_candidates=6)


# --------------------------------------------------------------------------- identity

KH = """\
# lab hosts
edge1,198.18.1.10 ssh-ed25519 %s
edge2,198.18.102.10 ssh-ed25519 %s
198.18.2.10 ssh-ed25519 %s
@revoked edge2 ssh-ed25519 %s
""" % (KEY_B, KEY_A, KEY_C, KEY_C)


def test_identity_by_site_name_like_hostkeyalias():
    site = {"name": "edge2", "ssh": {}}
    got = ea.site_identity(site, KH, "/kh")
    # Only the lines naming edge2 count; the key listed for its address alone does not.
    assert got["known"] == [("ssh-ed25519", KEY_A)]
    assert got["revoked"] == [("ssh-ed25519", KEY_C)]
    assert got["source"] == "known_hosts /kh" and got["types"] == ("ssh-ed25519",)


def test_identity_pin_wins_and_unknown_sites_are_refused():
    pinned = ea.site_identity({"name": "edge2", "ssh": {"host_key": "ssh-ed25519 %s" % KEY_B}}, KH, "/kh")
    assert pinned["known"] == [("ssh-ed25519", KEY_B)] and pinned["source"] == "the pinned host_key"
    with pytest.raises(ea.IdentityError, match="/kh has no host key for edge3"):
        ea.site_identity({"name": "edge3", "ssh": {}}, KH, "/kh")
    with pytest.raises(ea.IdentityError, match="no ssh.host_key and no known_hosts"):
        ea.site_identity({"name": "edge3", "ssh": {}}, None)


# --------------------------------------------------------------------------- observations and outcomes

def test_observe_match_mismatch_revoked_and_silence():
    good = ea.observe("198.18.2.10", "x", [("ssh-ed25519", KEY_A)], ident(), 22)
    assert good["state"] == "match" and good["fingerprint"] == "ssh-ed25519 " + ssh_key_fingerprint(KEY_A)
    bad = ea.observe("198.18.102.10", "address", [("ssh-ed25519", KEY_B)], ident(), 22)
    assert bad["state"] == "mismatch"
    assert bad["keys"] == ["ssh-ed25519 " + ssh_key_fingerprint(KEY_B)]
    assert bad["keys"][0].startswith("ssh-ed25519 SHA256:")
    revoked = ea.observe("198.18.9.9", "x", [("ssh-ed25519", KEY_A), ("ssh-ed25519", KEY_C)],
                         ident(revoked=[("ssh-ed25519", KEY_C)]), 22)
    assert revoked["state"] == "mismatch" and "@revoked" in revoked["detail"]
    silent = ea.observe("198.18.9.8", "x", ProbeError("refused", "connect: connection refused"), ident(), 22)
    assert silent["state"] == "refused" and silent["keys"] == []


def _obs(address, key, origin="c"):
    if key is None:
        return ea.observe(address, origin, ProbeError("timeout", "no answer"), ident(), 22)
    return ea.observe(address, origin, [("ssh-ed25519", key)], ident(), 22)


def test_decide_ok():
    res = ea.decide("edge2", "198.18.2.10", _obs("198.18.2.10", KEY_A, "address"), [], ident())
    assert res["status"] == "ok" and res["new_address"] is None and res["impostors"] == []


def test_decide_fixed_with_the_proof_and_the_impostors():
    cands = [_obs("198.18.103.10", KEY_B), _obs("198.18.2.10", KEY_A), _obs("198.18.9.9", None)]
    res = ea.decide("edge2", "198.18.102.10", _obs("198.18.102.10", KEY_C, "address"), cands, ident())
    fp_a = "ssh-ed25519 " + ssh_key_fingerprint(KEY_A)
    assert res["status"] == "fixed"
    assert (res["old_address"], res["new_address"], res["fingerprint"]) == ("198.18.102.10", "198.18.2.10", fp_a)
    assert res["msg"].startswith("edge2: 198.18.102.10 -> 198.18.2.10 (host key %s matches" % fp_a)
    assert [(o["address"], o["keys"]) for o in res["impostors"]] == [
        ("198.18.102.10", ["ssh-ed25519 " + ssh_key_fingerprint(KEY_C)]),
        ("198.18.103.10", ["ssh-ed25519 " + ssh_key_fingerprint(KEY_B)])]
    assert ssh_key_fingerprint(KEY_B) in res["msg"] and "198.18.103.10" in res["msg"]
    assert res["not_answering"] == {"timeout": 1}


def test_a_key_that_does_not_match_is_never_accepted():
    cands = [_obs("198.18.103.10", KEY_B), _obs("198.18.104.9", KEY_C)]
    res = ea.decide("edge2", "198.18.102.10", _obs("198.18.102.10", KEY_C, "address"), cands, ident())
    assert res["status"] == "no_match" and res["new_address"] is None and res["matches"] == []
    assert res["address"] == "198.18.102.10"
    assert "none of 2 candidate addresses offers its host key" in res["msg"]
    assert len(res["impostors"]) == 3


def test_two_matching_addresses_are_ambiguous():
    cands = [_obs("198.18.104.9", KEY_A), _obs("198.18.2.10", KEY_B), _obs("198.18.104.10", KEY_A),
             _obs("198.18.104.9", KEY_A, "another origin")]
    res = ea.decide("edge2", "198.18.102.10", _obs("198.18.102.10", KEY_C, "address"), cands, ident())
    assert res["status"] == "ambiguous" and res["new_address"] is None
    assert [m["address"] for m in res["matches"]] == ["198.18.104.9", "198.18.104.10"]
    assert "ambiguous, refused: 2 addresses offer" in res["msg"] and "198.18.104.10 (ssh-ed25519 SHA256:" in res["msg"]


def test_the_same_address_twice_is_not_ambiguous():
    cands = [_obs("198.18.2.10", KEY_A, "a"), _obs("198.18.2.10", KEY_A, "b")]
    res = ea.decide("edge2", "198.18.102.10", _obs("198.18.102.10", None, "address"), cands, ident())
    assert res["status"] == "fixed" and res["new_address"] == "198.18.2.10"


def test_no_candidates_given():
    res = ea.decide("edge2", "198.18.102.10", _obs("198.18.102.10", KEY_B, "address"), [], ident(), searched=False)
    assert res["status"] == "no_match" and "no candidates given" in res["msg"]
    assert res["impostors"][0]["address"] == "198.18.102.10"


# --------------------------------------------------------------------------- the scan

def test_scan_runs_jobs_concurrently_with_a_deadline_each():
    active = [0, 0]
    lock = threading.Lock()
    seen = []

    def fake(address, port, types, deadline, ctx):
        assert isinstance(deadline, Deadline) and deadline.total == 3.0 and deadline.connect == 1.0
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
            seen.append(address)
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        if address.endswith(".9"):
            raise ProbeError("refused", "connection refused")
        if address.endswith(".8"):
            raise RuntimeError("boom")
        return [("ssh-ed25519", KEY_A)]
    jobs = [("198.18.0.%d" % i, 22, ("ssh-ed25519",)) for i in range(1, 10)]
    out = ea.scan(jobs + jobs[:2], fake, concurrency=4, connect_timeout=1.0, timeout=3.0, ctx={"resolver": None})
    assert sorted(seen) == sorted(j[0] for j in jobs)  # duplicates scanned once
    assert active[1] == 4
    assert out[jobs[0]] == [("ssh-ed25519", KEY_A)]
    assert out[jobs[8]].state == "refused"
    assert out[jobs[7]].state == "protocol" and "boom" in out[jobs[7]].detail


@pytest.fixture
def sshd():
    yield from fs.servers()


def test_host_keys_is_the_probes_fetch_on_one_connection_offering_the_known_types(sshd):
    """Bug caught: ssh-keyscan still run (a process per address, every key type offered), a second
    connection per address, or key types offered that the site has no key of."""
    srv = sshd(key=KEY_A)
    got = ea.host_keys(srv.address, srv.port, ("ssh-ed25519",), Deadline(3.0, 1.0), ea.context(Resolver()))
    assert got == [("ssh-ed25519", KEY_A)]
    assert srv.connections == 1 and srv.seen[0]["kexinit"][1] == ["ssh-ed25519"]


def test_host_keys_of_a_site_with_two_key_types_offers_both_and_compares_the_servers_choice(sshd):
    srv = sshd(key=KEY_B)
    got = ea.host_keys(srv.address, srv.port, ("ssh-ed25519", "ssh-rsa"), Deadline(3.0, 1.0), ea.context(Resolver()))
    assert srv.seen[0]["kexinit"][1] == ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
    obs = ea.observe(srv.address, "address", got, ident(), srv.port)
    assert obs["state"] == "mismatch" and "not the host expected" in obs["detail"]  # KEY_B is an impostor
    assert ea.observe(srv.address, "address", got, ident(KEY_B), srv.port)["state"] == "match"


def test_host_keys_without_a_key_says_why_refused_or_dropped():
    with pytest.raises(ProbeError) as exc:
        ea.host_keys("127.0.0.1", closed_port(), ("ssh-ed25519",), Deadline(2.0, 1.0), ea.context(Resolver()))
    assert exc.value.state == "refused"
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)

    def drop():  # an sshd past its MaxStartups: accepts, then closes before its banner
        try:
            srv.accept()[0].close()
        except OSError:
            pass
    t = threading.Thread(target=drop, daemon=True)
    t.start()
    try:
        with pytest.raises(ProbeError) as exc:
            ea.host_keys("127.0.0.1", srv.getsockname()[1], ("ssh-ed25519",), Deadline(2.0, 1.0), ea.context(Resolver()))
    finally:
        srv.close()
        t.join(2)
    assert exc.value.state == "protocol" and "MaxStartups" in exc.value.detail, exc.value.detail


def test_a_key_type_the_fetch_cannot_read_is_an_identity_error():
    with pytest.raises(ea.IdentityError, match="no key type the host-key fetch can read .ssh-foo."):
        ea.site_identity({"name": "edge2", "ssh": {"host_key": "ssh-foo %s" % KEY_B}}, None)


# --------------------------------------------------------------------------- known_hosts

def test_known_hosts_edit_rewrites_the_site_pattern_only():
    text = ("# comment edge2,198.18.102.10\n"
            "edge2,198.18.102.10 ssh-ed25519 %s\n"
            "edge22,198.18.102.10 ssh-ed25519 %s\n"
            "|1|abc=|def= ssh-ed25519 %s\n"
            "@revoked edge2,198.18.102.10 ssh-ed25519 %s\n"
            "edge1,198.18.1.10 ssh-ed25519 %s\r\n" % (KEY_A, KEY_B, KEY_A, KEY_C, KEY_B))
    out, n = ea.known_hosts_edit(text, "edge2", "198.18.102.10", "198.18.2.10")
    assert n == 1
    assert out == text.replace("edge2,198.18.102.10 ssh-ed25519 %s\n" % KEY_A, "edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A)
    again, n2 = ea.known_hosts_edit(out, "edge2", "198.18.102.10", "198.18.2.10")
    assert (again, n2) == (out, 0)


def test_known_hosts_edit_adds_the_address_and_uses_brackets_for_other_ports():
    out, n = ea.known_hosts_edit("edge2 ssh-ed25519 %s\n" % KEY_A, "edge2", "1.1.1.1", "198.18.2.10")
    assert (out, n) == ("edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A, 1)
    out, n = ea.known_hosts_edit("edge2,[1.1.1.1]:2222 ssh-ed25519 %s\n" % KEY_A, "edge2", "1.1.1.1", "2.2.2.2", 2222)
    assert out == "edge2,[2.2.2.2]:2222 ssh-ed25519 %s\n" % KEY_A


def test_a_pinned_key_revoked_in_known_hosts_is_never_accepted():
    """Bug: inverting the `known_hosts_text is not None` test made edge_address accept a pinned key that
    known_hosts marks @revoked (no test caught it); the probe ignored @revoked for pins altogether."""
    site = {"name": "edge2", "ssh": {"host_key": "ssh-ed25519 " + KEY_C}}
    with pytest.raises(ea.IdentityError, match=r"edge2: its pinned host_key is @revoked in /kh"):
        ea.site_identity(site, KH, "/kh")
    got = ea.site_identity(site, None, None)  # no known_hosts: the pin alone
    assert got["known"] == [("ssh-ed25519", KEY_C)] and got["revoked"] == []
    site["ssh"]["host_key"] = "ssh-ed25519 " + KEY_A
    got = ea.site_identity(site, KH, "/kh")
    assert got["known"] == [("ssh-ed25519", KEY_A)] and got["revoked"] == [("ssh-ed25519", KEY_C)]


# --------------------------------------------------------------------------- edges the mutation run found untested

def test_the_bound_is_reached_exactly_before_a_range():
    """A range after exactly max_candidates addresses is over the bound (mutant: `<` for `<=`)."""
    with pytest.raises(ea.CandidateError, match=r"cidrs\[0\]: 198\.18\.0\.0/30 expands to 2 addresses, which with "
                                                r"the 2 before it"):
        ea.parse_candidates([{"site": "edge2", "addresses": ["198.18.2.9", "198.18.2.10"],
                              "cidrs": ["198.18.0.0/30"]}], SITES, max_candidates=2)


@pytest.mark.parametrize("cidr, expected", [
    ("198.18.0.0/31", ["198.18.0.0", "198.18.0.1"]),   # point-to-point: both addresses are hosts
    ("198.18.0.7/32", ["198.18.0.7"]),
    ("198.18.0.0/30", ["198.18.0.1", "198.18.0.2"]),   # without network and broadcast
    ("2001:db8::/127", ["2001:db8::", "2001:db8::1"]),
    ("2001:db8::/126", ["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"]),  # IPv6 has no broadcast
])
def test_ranges_expand_to_their_host_addresses(cidr, expected):
    plan = ea.parse_candidates([{"site": "edge2", "cidrs": [cidr]}], SITES, max_candidates=len(expected))
    assert [a for a, _o in plan["edge2"]["addresses"]] == expected


@pytest.mark.parametrize("name, valid", [
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61, True),   # 253 characters
    ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62, False),  # 254
    ("123.example", True), ("a.b.123", False), ("edge2.example.", True), (5, False), ("", False),
])
def test_dns_name_shapes(name, valid):
    assert ea.valid_dns_name(name) is valid


def test_odd_inputs_are_refused_not_crashed():
    assert ea.normalize_ip(5) is None and ea.normalize_ip("") is None
    with pytest.raises(ea.CandidateError, match="max_candidates: must be a positive integer, got True"):
        ea.parse_candidates([], SITES, max_candidates=True)
    with pytest.raises(ea.CandidateError) as exc:
        ea.parse_candidates([{"site": 5, "addresses": ["198.18.2.10"]}], SITES)
    assert exc.value.errors[0].startswith("candidates[0].site: no site named 5 ")

# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edge_address in-process with a fake host-key fetch (no packet leaves the test): the ladder (check mode,
fix, nothing to do), impostors, ambiguity, the bound and bad input before any scan, read-only and
concurrently changed files refused with nothing written."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import struct

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import ProbeError
from ansible_collections.o2edge.perf.plugins.module_utils.probe._probe_ssh import ssh_key_fingerprint
from ansible_collections.o2edge.perf.plugins.modules import edge_address
from tests.unit.module_runner import run_module
from tests.unit.probe_servers import KEY_A, KEY_B


def make_key(seed):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes([seed]) * 32
    return base64.b64encode(blob).decode("ascii")


KEY_C = make_key(7)
KEY_D = make_key(9)
FP_A = "ssh-ed25519 " + ssh_key_fingerprint(KEY_A)

CONFIG = """\
# edge-sites of the test -- comments must survive
plugin: o2edge.perf.edge_sites
version: 1
defaults:
  ssh:
    port: 22
    user: root
    known_hosts: known_hosts   # relative to this file
sites:
  - name: edge1
    address: 198.18.1.10
    labels: {role: edge}
  - name: edge2
    address: 198.18.102.10   # stale
    services:
      o2ims:
        url: http://198.18.102.10:8080/o2ims
      prometheus: {port: 9090}
    metadata: {note: keep me}
"""
KNOWN_HOSTS = "# keys by site name\nedge1,198.18.1.10 ssh-ed25519 %s\nedge2,198.18.102.10 ssh-ed25519 %s\n" % (KEY_B, KEY_A)

# What each address offers: edge2's key (KEY_A) at 198.18.2.10, impostors elsewhere.
NETWORK = {
    "198.18.1.10": [("ssh-ed25519", KEY_B)],
    "198.18.102.10": [("ssh-ed25519", KEY_C)],  # the impostor at the stale address
    "198.18.103.10": [("ssh-ed25519", KEY_D)],  # a second impostor
    "198.18.2.10": [("ssh-ed25519", KEY_A)],
}
for _n in range(9, 15):
    NETWORK["198.18.104.%d" % _n] = [("ssh-ed25519", KEY_D)]  # a decoy range sharing one key
CANDIDATES = [{"site": "edge2", "addresses": ["198.18.103.10", "198.18.2.10"], "cidrs": ["198.18.104.8/29"]}]


class FakeNet(object):
    def __init__(self, network=None, hook=None):
        self.network = dict(NETWORK if network is None else network)
        self.calls = []
        self.hook = hook

    def __call__(self, address, port, types, deadline, ctx):
        self.calls.append(address)
        if self.hook:
            self.hook(address)
        if address not in self.network:
            raise ProbeError("timeout", "connect to %s port %s: no answer within 1s" % (address, port))
        return list(self.network[address])


@pytest.fixture
def files(tmp_path):
    cfg = tmp_path / "edge-sites.yml"
    kh = tmp_path / "known_hosts"
    cfg.write_text(CONFIG)
    kh.write_text(KNOWN_HOSTS)
    os.chmod(str(cfg), 0o640)
    return tmp_path, cfg, kh


@pytest.fixture
def net(monkeypatch):
    fake = FakeNet()
    monkeypatch.setattr(edge_address, "host_keys", fake)

    class NoDns(object):
        def __call__(self, host):
            raise AssertionError("DNS looked up for %s" % host)
    monkeypatch.setattr(edge_address, "Resolver", NoDns)
    return fake


def sha(path):
    with open(str(path), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def others(folder, *names):
    return sorted(n for n in os.listdir(str(folder)) if n not in names)


def run(cfg, check=False, diff=False, **extra):
    args = {"config": str(cfg), "candidates": CANDIDATES, "timeout": 1.0}
    args.update(extra)
    return run_module(edge_address, args, check_mode=check, diff=diff)


# --------------------------------------------------------------------------- the ladder

def test_check_mode_shows_the_diff_and_writes_nothing(files, net):
    folder, cfg, kh = files
    before = (sha(cfg), sha(kh))
    res = run(cfg, check=True, diff=True)
    assert res["failed"] is False and res["changed"] is True
    assert res["fixed"] == ["edge2: 198.18.102.10 -> 198.18.2.10 (%s)" % FP_A]
    assert res["diff"][0]["before"] == CONFIG
    assert res["diff"][0]["after"] == CONFIG.replace("198.18.102.10", "198.18.2.10")
    assert res["diff"][1]["after"] == KNOWN_HOSTS.replace("edge2,198.18.102.10", "edge2,198.18.2.10")
    assert "would fix (check mode)" in res["msg"]
    assert (sha(cfg), sha(kh)) == before
    assert others(folder, "edge-sites.yml", "known_hosts") == []
    assert res["backup_files"] == {}


def test_a_run_fixes_the_address_keeps_the_file_and_a_second_run_changes_nothing(files, net):
    folder, cfg, kh = files
    res = run(cfg)
    assert res["changed"] is True and res["failed"] is False
    assert res["summary"] == {"ok": 1, "fixed": 1, "ambiguous": 0, "no_match": 0}
    edge2 = res["sites"][1]
    assert (edge2["status"], edge2["old_address"], edge2["new_address"], edge2["fingerprint"]) == (
        "fixed", "198.18.102.10", "198.18.2.10", FP_A)
    assert edge2["msg"].startswith("edge2: 198.18.102.10 -> 198.18.2.10 (host key %s matches known_hosts" % FP_A)
    # Only the values changed: comments, order, flow mappings, the relative path all kept.
    assert cfg.read_text() == CONFIG.replace("198.18.102.10", "198.18.2.10")
    assert kh.read_text() == KNOWN_HOSTS.replace("edge2,198.18.102.10", "edge2,198.18.2.10")
    assert oct(os.stat(str(cfg)).st_mode & 0o777) == "0o640"
    backups = res["backup_files"]
    assert sorted(backups) == sorted([str(cfg), str(kh)])
    assert open(backups[str(cfg)]).read() == CONFIG
    assert open(backups[str(kh)]).read() == KNOWN_HOSTS
    assert {c["field"] for c in res["changes"]} == {
        "sites[1] (edge2).address", "sites[1] (edge2).services.o2ims.url", "known_hosts lines of edge2"}
    assert not [n for n in os.listdir(str(folder)) if n.endswith(".tmp")]

    net.calls[:] = []
    again = run(cfg, check=True, diff=True)
    assert again["changed"] is False and "diff" not in again
    again = run(cfg)
    assert again["changed"] is False and again["summary"]["ok"] == 2
    assert sorted(net.calls) == sorted(["198.18.1.10", "198.18.2.10"] * 2)  # ok sites: no candidate scanned
    assert len(others(folder, "edge-sites.yml", "known_hosts")) == 2  # no new backup


def test_impostors_are_reported_with_fingerprints_and_never_accepted(files, net):
    _folder, cfg, _kh = files
    res = run(cfg, check=True)
    edge2 = res["sites"][1]
    by_addr = dict((o["address"], o["keys"]) for o in edge2["impostors"])
    assert sorted(by_addr) == sorted(["198.18.102.10", "198.18.103.10"] + ["198.18.104.%d" % n for n in range(9, 15)])
    assert by_addr["198.18.102.10"] == ["ssh-ed25519 " + ssh_key_fingerprint(KEY_C)]
    assert by_addr["198.18.103.10"] == ["ssh-ed25519 " + ssh_key_fingerprint(KEY_D)]
    assert edge2["matches"] == [{"address": "198.18.2.10", "fingerprint": FP_A,
                                 "origin": "candidates[0] (edge2).addresses[1]"}]
    assert len(res["impostors"]) == 8


def test_an_address_with_a_wrong_key_is_not_written(files, monkeypatch):
    """Only impostors among the candidates: no match, the file untouched."""
    folder, cfg, kh = files
    network = dict(NETWORK)
    network["198.18.2.10"] = [("ssh-ed25519", KEY_D)]
    monkeypatch.setattr(edge_address, "host_keys", FakeNet(network))
    res = run(cfg)
    assert res["failed"] is False and res["changed"] is False
    assert res["sites"][1]["status"] == "no_match" and res["sites"][1]["new_address"] is None
    assert cfg.read_text() == CONFIG and kh.read_text() == KNOWN_HOSTS
    assert others(folder, "edge-sites.yml", "known_hosts") == []


def test_a_pinned_key_wins_over_known_hosts(files, net):
    _folder, cfg, _kh = files
    cfg.write_text(CONFIG.replace("    address: 198.18.102.10   # stale\n",
                                  "    address: 198.18.102.10   # stale\n    ssh: {host_key: ssh-ed25519 %s}\n" % KEY_D))
    res = run(cfg, check=True, candidates=[{"site": "edge2", "addresses": ["198.18.103.10", "198.18.2.10"]}])
    assert res["sites"][1]["status"] == "fixed" and res["sites"][1]["new_address"] == "198.18.103.10"
    assert res["sites"][1]["source"] == "the pinned host_key"


# --------------------------------------------------------------------------- refusals

def test_two_matching_addresses_are_refused_and_nothing_is_written(files, monkeypatch):
    folder, cfg, kh = files
    network = dict(NETWORK)
    network["198.18.104.11"] = [("ssh-ed25519", KEY_A)]
    monkeypatch.setattr(edge_address, "host_keys", FakeNet(network))
    res = run(cfg)
    assert res["failed"] is True and res["changed"] is False
    assert res["sites"][1]["status"] == "ambiguous"
    assert "edge2: ambiguous, refused: 2 addresses offer" in res["msg"]
    assert "198.18.2.10 (%s)" % FP_A in res["msg"] and "198.18.104.11 (%s)" % FP_A in res["msg"]
    assert cfg.read_text() == CONFIG and kh.read_text() == KNOWN_HOSTS
    assert others(folder, "edge-sites.yml", "known_hosts") == []


@pytest.mark.parametrize("candidates, message", [
    ([{"site": "edge2", "cidrs": ["198.18.0.0/16"]}],
     r"candidates\[0\] \(edge2\)\.cidrs\[0\]: 198\.18\.0\.0/16 expands to 65534 addresses.*max_candidates \(1024"),
    ([{"site": "edge2", "addresses": ["198.18.2.300"]}],
     r"candidates\[0\] \(edge2\)\.addresses\[0\]: '198\.18\.2\.300' is not a valid IPv4 or IPv6 address"),
    ([{"site": "edge2", "cidrs": ["198.18.2.0/40"]}], r"candidates\[0\] \(edge2\)\.cidrs\[0\]: '198\.18\.2\.0/40' is not a valid"),
    ([{"site": "edge7", "addresses": ["198.18.2.10"]}], r"candidates\[0\] \(edge7\)\.site: no site named 'edge7'"),
])
def test_bad_candidates_fail_before_any_packet(files, net, candidates, message):
    folder, cfg, kh = files
    res = run(cfg, candidates=candidates)
    assert res["failed"] is True and re.search(message, res["msg"]), res["msg"]
    assert res["msg"].startswith("invalid candidates, nothing scanned")
    assert net.calls == []
    assert cfg.read_text() == CONFIG and others(folder, "edge-sites.yml", "known_hosts") == []


def test_the_bound_can_be_lowered(files, net):
    _folder, cfg, _kh = files
    res = run(cfg, max_candidates=7)  # 2 addresses + 6 in the range
    assert res["failed"] is True and "cidrs[0]: 198.18.104.8/29 expands to 6 addresses" in res["msg"]
    assert net.calls == []


def test_a_read_only_config_is_refused(files, net):
    folder, cfg, kh = files
    os.chmod(str(cfg), 0o444)
    res = run(cfg)
    assert res["failed"] is True and res["changed"] is False
    assert "config %s is read-only (mode 0444)" % cfg in res["msg"]
    assert cfg.read_text() == CONFIG and kh.read_text() == KNOWN_HOSTS
    assert others(folder, "edge-sites.yml", "known_hosts") == []


def test_a_config_changed_while_scanning_is_refused(files, monkeypatch):
    folder, cfg, kh = files

    def edit_meanwhile(address):
        if address == "198.18.2.10":
            with open(str(cfg), "a") as f:
                f.write("# edited by someone else\n")
    monkeypatch.setattr(edge_address, "host_keys", FakeNet(hook=edit_meanwhile))
    res = run(cfg)
    assert res["failed"] is True and res["changed"] is False
    assert "config %s changed on disk since it was read" % cfg in res["msg"]
    assert cfg.read_text() == CONFIG + "# edited by someone else\n"
    assert kh.read_text() == KNOWN_HOSTS
    assert others(folder, "edge-sites.yml", "known_hosts") == []


def test_a_site_unknown_to_known_hosts_is_refused(files, net):
    _folder, cfg, kh = files
    kh.write_text("198.18.102.10 ssh-ed25519 %s\nedge1,198.18.1.10 ssh-ed25519 %s\n" % (KEY_A, KEY_B))
    res = run(cfg)
    assert res["failed"] is True and "sites[1] (edge2):" in res["msg"] and "has no host key for edge2" in res["msg"]
    assert net.calls == []


def test_an_invalid_config_is_reported(files, net):
    _folder, cfg, _kh = files
    cfg.write_text(CONFIG.replace("address: 198.18.1.10", "address: 198.18.1.300"))
    res = run(cfg)
    assert res["failed"] is True and "sites[0] (edge1).address" in res["msg"]


def test_dns_candidates_use_the_resolver(files, net, monkeypatch):
    _folder, cfg, _kh = files

    class Dns(object):
        def __call__(self, host):
            if host == "edge2.example.net":
                return [(socket.AF_INET, "198.18.2.10")]
            raise ProbeError("dns", "cannot resolve %s" % host)
    monkeypatch.setattr(edge_address, "Resolver", Dns)
    res = run(cfg, check=True, candidates=[{"site": "edge2", "dns": ["edge2.example.net", "gone.example.net"]}])
    edge2 = res["sites"][1]
    assert edge2["status"] == "fixed" and edge2["matches"][0]["origin"] == "candidates[0] (edge2).dns[0] edge2.example.net"
    assert edge2["dns_errors"] == ["candidates[0] (edge2).dns[1]: cannot resolve gone.example.net"]


def test_options_are_checked(files, net):
    _folder, cfg, _kh = files
    assert "concurrency must be at least 1" in run(cfg, concurrency=0)["msg"]
    assert "timeout must be a positive number" in run(cfg, timeout=0)["msg"]
    assert "sites[0]: no site named 'edge9'" in run(cfg, sites=["edge9"])["msg"]
    assert net.calls == []


def test_a_fix_that_would_make_the_config_invalid_is_refused(files, monkeypatch):
    """edge2's key answering at edge1's address would put two sites at one address: refused."""
    folder, cfg, kh = files
    network = dict(NETWORK)
    network["198.18.1.10"] = [("ssh-ed25519", KEY_B), ("ssh-ed25519", KEY_A)]
    monkeypatch.setattr(edge_address, "host_keys", FakeNet(network))
    res = run(cfg, candidates=[{"site": "edge2", "addresses": ["198.18.1.10"]}])
    assert res["failed"] is True and "the fixed config would be invalid, nothing written" in res["msg"]
    assert "198.18.1.10 port 22 is already site edge1" in res["msg"]
    assert cfg.read_text() == CONFIG and others(folder, "edge-sites.yml", "known_hosts") == []


# --------------------------------------------------------------------------- issue 15: hostile input

SHADOW = "root:$y$j9T$Zq1d8wGx0Wb3$Kq4Qn8bXh1Zp2mQ0Yv:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n"


def test_a_config_that_is_really_another_file_has_no_line_echoed(files, net):
    """Bug: a config symlinked to /etc/shadow had each line echoed as an "unknown field" (40 characters)."""
    folder, cfg, _kh = files
    (folder / "shadow").write_text(SHADOW)
    cfg.unlink()
    cfg.symlink_to(folder / "shadow")
    res = run(cfg)
    assert res["failed"] is True and "<key 1>: unknown field" in res["msg"] and "<key 2>: unknown field" in res["msg"]
    assert "19700" not in res["msg"] and "daemon" not in res["msg"] and "$y$" not in res["msg"]
    assert net.calls == []


@pytest.mark.parametrize("which", ["config", "known_hosts"])
def test_a_fifo_is_refused_without_blocking(files, net, which):
    """Bug: a named pipe as the config or as known_hosts blocked the module forever."""
    _folder, cfg, kh = files
    target = cfg if which == "config" else kh
    target.unlink()
    os.mkfifo(str(target))
    res = run(cfg)
    assert res["failed"] is True and "named pipe" in res["msg"] and net.calls == []


def test_a_deep_config_is_refused_without_a_recursion_error(files, net):
    """Bug: a 5,000-deep edge-sites file ended in a bare RecursionError inside ruamel's composer."""
    _folder, cfg, _kh = files
    cfg.write_text(CONFIG + "extra: " + "[" * 5000 + "]" * 5000 + "\n")
    res = run(cfg)
    assert res["failed"] is True and "nests deeper than 32 levels" in res["msg"]
    assert "Traceback" not in str(res) and net.calls == []


def test_a_symlinked_config_and_known_hosts_are_edited_at_their_targets(files, net):
    """Bug: fixing a symlinked config replaced the link with a regular file and left the real file stale."""
    folder, cfg, kh = files
    real = folder / "real"
    real.mkdir()
    for link in (cfg, kh):
        os.replace(str(link), str(real / link.name))
        link.symlink_to(real / link.name)
    res = run(cfg)
    assert res["changed"] is True, res
    assert os.path.islink(str(cfg)) and os.path.islink(str(kh))
    assert (real / "edge-sites.yml").read_text() == CONFIG.replace("198.18.102.10", "198.18.2.10")
    assert "edge2,198.18.2.10 ssh-ed25519" in (real / "known_hosts").read_text()
    assert sorted(os.path.dirname(b) for b in res["backup_files"].values()) == [str(real)] * 2


def test_explicit_addresses_count_against_the_bound(files, net):
    """Bug: explicit addresses were never checked against max_candidates (2,000 scanned against 1,024)."""
    _folder, cfg, _kh = files
    many = ["198.19.%d.%d" % (i // 250, i % 250 + 1) for i in range(2000)]
    res = run(cfg, candidates=[{"site": "edge2", "addresses": many}])
    assert res["failed"] is True and "addresses[1024]: one address more than max_candidates (1024" in res["msg"]
    assert net.calls == []


def test_a_lowered_bound_holds_for_dns_results(files, net, monkeypatch):
    """Bug: the DNS results were not held to a lowered max_candidates."""
    _folder, cfg, _kh = files

    class Dns(object):
        def __call__(self, host):
            return [(socket.AF_INET, "198.18.2.10"), (socket.AF_INET, "198.18.2.11")]
    monkeypatch.setattr(edge_address, "Resolver", Dns)
    res = run(cfg, max_candidates=1, candidates=[{"site": "edge2", "dns": ["edge2.example.net"]}])
    assert res["failed"] is True and "resolves to more addresses than max_candidates (1 in total)" in res["msg"]
    assert net.calls == []


def test_a_pinned_key_revoked_in_known_hosts_is_refused(files, net):
    """Bug: a pinned site key that known_hosts marks @revoked was accepted when the known_hosts test was inverted."""
    _folder, cfg, kh = files
    cfg.write_text(CONFIG.replace("    metadata: {note: keep me}\n",
                                  "    metadata: {note: keep me}\n    ssh: {host_key: ssh-ed25519 %s}\n" % KEY_A))
    kh.write_text(KNOWN_HOSTS + "@revoked edge2 ssh-ed25519 %s\n" % KEY_A)
    res = run(cfg)
    assert res["failed"] is True and "edge2: its pinned host_key is @revoked in %s" % kh in res["msg"]
    assert net.calls == []


def test_a_double_write_failure_reports_what_changed_on_disk(files, net, monkeypatch):
    """Bug: when the known_hosts replace and the config's put-back both failed, the module said "refused,
    nothing written" although the config had changed, and left the put-back's temp file."""
    folder, cfg, kh = files
    from ansible_collections.o2edge.perf.plugins.module_utils.edge import _yaml_edit
    real_replace = os.replace
    done = []

    def failing_replace(src, dst):
        if dst == str(kh) or (dst == str(cfg) and done):
            raise OSError(5, "Input/output error")
        if dst == str(cfg):
            done.append(dst)
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "replace", failing_replace)
    res = run(cfg)
    assert res["failed"] is True and res["changed"] is True
    assert "nothing written" not in res["msg"]
    backup = [n for n in os.listdir(str(folder)) if n.startswith("edge-sites.yml.") and n.endswith(".bak")]
    assert len(backup) == 1 and "config %s changed on disk; backup at %s" % (cfg, folder / backup[0]) in res["msg"]
    assert others(folder, "edge-sites.yml", "known_hosts", backup[0]) == []

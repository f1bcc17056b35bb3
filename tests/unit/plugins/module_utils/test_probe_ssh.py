# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh probe kind: banner, host key (known_hosts, pin), login command lines, how many ssh
probes run at once.

The SSH server is tests/unit/fake_sshd.py's scripted one (the wire itself is test_probe_ssh_kex.py's
subject, with a real sshd); ssh is a stand-in script that records its arguments.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import socket
import threading
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_ssh as ps
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import ProbeError
from tests.unit import fake_sshd as fs
from tests.unit.probe_servers import KEY_A, KEY_B, closed_port, recorded_argv, tool


@pytest.fixture
def fake_sshd():
    yield from fs.servers()


def run(target, timeout=3.0, **ctx):
    return pr.probe_one(target, connect_timeout=timeout, timeout=timeout, ctx=pr.default_context(**ctx))


def ssh_target(port, **extra):
    t = {"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": port, "host_key": "ssh-ed25519 " + KEY_A}
    t.update(extra)
    return t


# --------------------------------------------------------------------------- states

def test_ssh_up_with_pin(fake_sshd):
    srv = fake_sshd(key=KEY_A)
    r = run(ssh_target(srv.port))
    assert r["state"] == "up", r
    assert r["info"]["banner"] == "SSH-2.0-OpenSSH_9.2p1 fake"
    assert r["info"]["host_key"] == "ssh-ed25519 " + ps.ssh_key_fingerprint(KEY_A)


def test_ssh_key_fingerprint_is_openssh_sha256():
    raw = base64.b64decode(KEY_A)
    want = "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert ps.ssh_key_fingerprint(KEY_A) == want
    assert ps.ssh_key_fingerprint("not base64!") == "SHA256:?"


def test_silent_server_is_timeout(line_server):
    srv = line_server(None)  # accepts, never sends a banner
    r = run(ssh_target(srv.port), timeout=0.3)
    assert r["state"] == "timeout"


def test_ssh_impostor_is_host_key_mismatch_never_up(fake_sshd, tmp_path):
    srv = fake_sshd(key=KEY_B, banner=b"SSH-2.0-OpenSSH_9.2p1 impostor\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge2", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)})
    assert (r["ok"], r["state"]) == (False, "host_key_mismatch")
    assert ps.ssh_key_fingerprint(KEY_B) in r["detail"] and ps.ssh_key_fingerprint(KEY_A) in r["detail"]
    assert r["info"]["banner"].endswith("impostor")


def test_ssh_unknown_alias_is_host_key_mismatch(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1,198.18.1.10 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge9", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)})
    assert r["state"] == "host_key_mismatch" and "has no host key for edge9" in r["detail"], r


def test_ssh_alias_is_the_site_name_not_the_address(fake_sshd, tmp_path):
    """A key listed for the address only does not vouch for the site (HostKeyAlias semantics)."""
    srv = fake_sshd(key=KEY_B)
    kh = tmp_path / "known_hosts"
    kh.write_text("127.0.0.1 ssh-ed25519 %s\nedge1 ssh-ed25519 %s\n" % (KEY_B, KEY_A))
    r = run({"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)})
    assert r["state"] == "host_key_mismatch"


def test_ssh_not_ssh_is_protocol(line_server):
    srv = line_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    r = run(ssh_target(srv.port), timeout=0.5)
    assert r["state"] == "protocol" and "no SSH banner" in r["detail"]


def test_ssh_refused():
    r = run(ssh_target(closed_port()))
    assert r["state"] == "refused"


def test_known_hosts_parsing():
    salt = os.urandom(20)
    digest = hmac.new(salt, b"edge3", hashlib.sha1).digest()
    hashed = "|1|%s|%s" % (base64.b64encode(salt).decode(), base64.b64encode(digest).decode())
    text = "\n".join([
        "# comment",
        "edge1,198.18.1.10 ssh-ed25519 %s" % KEY_A,
        "edge* ssh-rsa AAAArsa",
        "!edge2,edge? ssh-ed25519 NEG",
        "%s ssh-ed25519 %s" % (hashed, KEY_B),
        "@revoked edge1 ssh-ed25519 %s" % KEY_B,
        "@cert-authority *.example.net ssh-ed25519 CA",
        "",
    ])
    keys, revoked = ps.known_host_keys(text, "edge1")
    assert keys == [("ssh-ed25519", KEY_A), ("ssh-rsa", "AAAArsa"), ("ssh-ed25519", "NEG")]
    assert revoked == [("ssh-ed25519", KEY_B)]
    assert ps.known_host_keys(text, "edge2")[0] == [("ssh-rsa", "AAAArsa")]
    assert ("ssh-ed25519", KEY_B) in ps.known_host_keys(text, "edge3")[0]
    assert ps.known_host_keys(text, "other") == ([], [])


def test_compare_host_keys():
    a, b = ("ssh-ed25519", KEY_A), ("ssh-ed25519", KEY_B)
    assert ps.compare_host_keys([a], [a], [], "e", "x") is None
    assert ps.compare_host_keys([b], [a], [], "e", "x").state == "host_key_mismatch"
    assert "@revoked" in ps.compare_host_keys([a], [a], [a], "e", "x").detail


@pytest.mark.parametrize("stderr,state", [
    ("Host key verification failed.", "host_key_mismatch"),
    ("root@x: Permission denied (publickey).", "auth"),
    ("ssh: connect to host x port 22: Connection refused", "refused"),
    ("ssh: connect to host x port 22: Connection timed out", "timeout"),
    ("ssh: connect to host x port 22: Network is unreachable", "unreachable"),
    ("ssh: Could not resolve hostname x: Name or service not known", "dns"),
    ("kex_exchange_identification: read: Connection reset by peer", "protocol"),
])
def test_ssh_login_errors(stderr, state):
    assert ps._ssh_error(stderr, 255).state == state


# --------------------------------------------------------------------------- command lines

def test_an_option_like_address_reaches_no_program_but_after_double_dash(fake_sshd, tmp_path):
    """An address that looks like an option (``-oProxyCommand=...``) is only resolved and connected
    to by the probe itself; ssh (the login) gets it after ``--``."""
    srv = fake_sshd(key=KEY_A)
    address = "-oProxyCommand=touch %s/pwned" % tmp_path

    def resolver(host):  # the probe connects to the loopback server whatever the name
        return [(socket.AF_INET, "127.0.0.1")]
    r = run(ssh_target(srv.port, address=address, login=True, user="ops"), resolver=resolver, ssh=fake_ssh(tmp_path))
    assert r["state"] == "up", r
    argv = recorded_argv(tmp_path, "ssh")
    assert argv[argv.index("--"):] == ["--", address, "true"]
    assert not os.path.exists(str(tmp_path / "pwned"))


def fake_ssh(directory, rc=0, stderr=""):
    """An ssh stand-in recording its arguments and a copy of its UserKnownHostsFile."""
    return tool(directory, "ssh", "printf '%%s\\n' \"$@\" > '%s/ssh.argv'\n"
                "for a in \"$@\"; do case \"$a\" in UserKnownHostsFile=*) cat \"${a#UserKnownHostsFile=}\" "
                "> '%s/ssh.known_hosts';; esac; done\n"
                "printf '%%s\\n' '%s' >&2\nexit %d\n" % (directory, directory, stderr, rc))


def expected_login(known_hosts, port, alias="edge1", user="root", key_file=None, address="127.0.0.1"):
    argv = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + known_hosts,
            "-o", "GlobalKnownHostsFile=none", "-o", "HostKeyAlias=" + alias, "-o", "IdentitiesOnly=yes",
            "-o", "ConnectTimeout=N", "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "LogLevel=ERROR",
            "-p", str(port), "-l", user]
    if key_file:
        argv += ["-i", key_file]
    return argv + ["--", address, "true"]


# The options that would weaken host-key checking, assembled from parts so that no file of the
# project spells a weakening option out.
_DEVNULL = "/dev/" + "null"
WEAKENING = re.compile(r"(?i)^(StrictHostKeyChecking=(?!yes$)|UserKnownHostsFile=" + re.escape(_DEVNULL) + "|"
                       r"CheckHostIP=no|UpdateHostKeys|KnownHostsCommand|HashKnownHosts|VerifyHostKeyDNS|"
                       r"ProxyCommand|ProxyJump|PermitLocalCommand|BatchMode=no)")


def _login_argv(tmp_path):
    argv = recorded_argv(tmp_path, "ssh")
    timeouts = [i for i, a in enumerate(argv) if a.startswith("ConnectTimeout=")]
    assert len(timeouts) == 1 and re.match(r"^ConnectTimeout=[1-9]\d*$", argv[timeouts[0]])
    argv[timeouts[0]] = "ConnectTimeout=N"
    assert not [a for a in argv if WEAKENING.match(a)], argv
    return argv


def test_login_argv_with_known_hosts_is_strict(fake_sshd, tmp_path):
    srv = fake_sshd(key=KEY_A)
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh),
             "login": True, "user": "root", "key_file": "/keys/id_ed25519"},
            ssh=fake_ssh(tmp_path))
    assert r["state"] == "up" and r["info"]["login"] is True, r
    assert _login_argv(tmp_path) == expected_login(str(kh), srv.port, key_file="/keys/id_ed25519")


def test_login_argv_with_a_pin_trusts_only_the_pin(fake_sshd, tmp_path):
    srv = fake_sshd(key=KEY_A)
    r = run(ssh_target(srv.port, alias="edge1-alias", login=True, user="ops"), ssh=fake_ssh(tmp_path))
    assert r["state"] == "up", r
    argv = _login_argv(tmp_path)
    known_hosts = argv[argv.index("StrictHostKeyChecking=yes") + 2][len("UserKnownHostsFile="):]
    assert argv == expected_login(known_hosts, srv.port, alias="edge1-alias", user="ops")
    # The login's known_hosts held the pin under the alias, and nothing else; it is gone afterwards.
    assert (tmp_path / "ssh.known_hosts").read_text() == "edge1-alias ssh-ed25519 %s\n" % KEY_A
    assert not os.path.exists(known_hosts)


def test_login_failure_is_classified_and_keeps_what_was_seen(fake_sshd, tmp_path):
    srv = fake_sshd(key=KEY_A, banner=b"SSH-2.0-x\r\n")
    r = run(ssh_target(srv.port, login=True, user="ops"),
            ssh=fake_ssh(tmp_path, rc=255, stderr="ops@127.0.0.1: Permission denied (publickey)."))
    assert r["state"] == "auth" and "Permission denied" in r["detail"]
    assert r["info"]["banner"] == "SSH-2.0-x" and r["connect_ms"] is not None


# --------------------------------------------------------------------------- issue 15: revoked pins, FIFOs

def test_a_pinned_key_revoked_in_known_hosts_is_never_trusted(line_server, tmp_path):
    """Bug: the probe ignored @revoked for a pinned key (edge_address honoured it): probe and fix disagreed."""
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("@revoked edge1 ssh-ed25519 %s\n" % KEY_A)
    r = run(ssh_target(srv.port, known_hosts=str(kh)))
    assert r["state"] == "host_key_mismatch" and "@revoked" in r["detail"], r


def test_acceptable_keys_one_rule_revoked_wins():
    text = "edge1 ssh-ed25519 %s\n@revoked edge1 ssh-ed25519 %s\n" % (KEY_A, KEY_B)
    assert ps.acceptable_keys("edge1", None, text) == ([("ssh-ed25519", KEY_A)], [("ssh-ed25519", KEY_B)])
    assert ps.acceptable_keys("edge1", "ssh-ed25519 " + KEY_B, text) == ([], [("ssh-ed25519", KEY_B)])
    assert ps.acceptable_keys("edge1", "ssh-ed25519 " + KEY_B, None) == ([("ssh-ed25519", KEY_B)], [])


def test_a_fifo_as_known_hosts_is_refused_without_blocking(line_server, tmp_path):
    """Bug: a named pipe as known_hosts blocked the probe forever (open() waits for a writer)."""
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = str(tmp_path / "known_hosts")
    os.mkfifo(kh)
    target = ssh_target(srv.port, known_hosts=kh)
    del target["host_key"]
    r = run(target)
    assert r["state"] == "host_key_mismatch" and "named pipe" in r["detail"], r


def test_a_fifo_as_key_file_is_not_handed_to_ssh(fake_sshd, tmp_path):
    """Bug: a FIFO key_file was handed to ssh, which blocked on it until the deadline."""
    srv = fake_sshd(key=KEY_A)
    key = str(tmp_path / "id_ed25519")
    os.mkfifo(key)
    r = run(ssh_target(srv.port, login=True, user="ops", key_file=key), ssh=fake_ssh(tmp_path))
    assert r["state"] == "auth" and "named pipe" in r["detail"], r
    assert not os.path.exists(str(tmp_path / "ssh.argv"))


# --------------------------------------------------------------------------- how many ssh probes at once

def _tracking(monkeypatch, hold=0.15):
    """Replace the ssh and tcp kinds by stand-ins that hold ``hold`` s and count how many run at once."""
    lock = threading.Lock()
    now = {"ssh": 0, "tcp": 0, "all": 0}
    peak = dict(now)

    def kind(name):
        def probe(target, deadline, ctx):
            with lock:
                for k in (name, "all"):
                    now[k] += 1
                    peak[k] = max(peak[k], now[k])
            time.sleep(hold)
            left = deadline.remaining()
            with lock:
                for k in (name, "all"):
                    now[k] -= 1
            if left <= 0:
                raise ProbeError("timeout", "deadline passed")
            return "ok", {}
        return probe

    monkeypatch.setattr(ps, "probe_ssh", kind("ssh"))
    monkeypatch.setattr(pr, "probe_tcp", kind("tcp"))
    return peak


def test_at_most_ssh_concurrency_ssh_probes_at_once_and_the_rest_keep_going(monkeypatch):
    """Bug caught: every worker of the pool in a key exchange at once (the prober's own CPU load
    timing its ssh probes out), or the other kinds starved while ssh probes wait for their turn."""
    peak = _tracking(monkeypatch)
    ts = [{"site": "s%d" % i, "kind": "ssh" if i % 2 else "tcp", "address": "127.0.0.1", "port": 22}
          for i in range(24)]
    res = pr.probe_all(ts, concurrency=8, timeout=5, ctx=pr.default_context(), ssh_concurrency=3)
    assert [r["site"] for r in res] == ["s%d" % i for i in range(24)] and all(r["state"] == "up" for r in res)
    assert peak["ssh"] == 3 and peak["all"] <= 8 and peak["tcp"] >= 2, peak


def test_a_small_concurrency_is_shared_ssh_at_most_half(monkeypatch):
    """Bug caught (bench_slices, 4 slices at concurrency 16 each): ssh given every worker but one
    (16 - 1, under its default limit of 16), the HTTP targets of a slice one at a time: 213 s."""
    peak = _tracking(monkeypatch)
    ts = [{"site": "s%d" % i, "kind": "ssh" if i % 3 == 0 else "tcp", "address": "127.0.0.1", "port": 22}
          for i in range(48)]
    res = pr.probe_all(ts, concurrency=16, timeout=5, ctx=pr.default_context(), ssh_concurrency=16)
    assert all(r["state"] == "up" for r in res)
    assert peak["ssh"] == 8 and peak["tcp"] == 8 and peak["all"] <= 16, peak


def test_a_queued_ssh_probe_starts_its_deadline_when_it_starts(monkeypatch):
    """Bug caught: a target's deadline started when it was queued, so waiting for an ssh turn
    (one at a time here, 0.15 s each) times out the later ones."""
    _tracking(monkeypatch)
    ts = [{"site": "s%d" % i, "kind": "ssh", "address": "127.0.0.1", "port": 22} for i in range(5)]
    t0 = time.monotonic()
    res = pr.probe_all(ts, concurrency=8, connect_timeout=0.4, timeout=0.4, ctx=pr.default_context(),
                       ssh_concurrency=1)
    assert time.monotonic() - t0 >= 0.7  # they did wait for each other
    assert [r["state"] for r in res] == ["up"] * 5, res
    assert all(r["latency_ms"] < 350 for r in res), [r["latency_ms"] for r in res]


def test_ssh_concurrency_default_scales_with_the_cpus(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert pr.ssh_concurrency_default() == 2 * pr.SSH_PER_CPU
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert pr.ssh_concurrency_default() == max(4, pr.SSH_PER_CPU)


def test_one_worker_means_one_probe_at_a_time_with_both_kinds(monkeypatch):
    """Bug caught: an ssh pool and a pool for the rest each given a worker when concurrency is 1."""
    peak = _tracking(monkeypatch, hold=0.05)
    ts = [{"site": "s%d" % i, "kind": "ssh" if i % 2 else "tcp", "address": "127.0.0.1", "port": 22} for i in range(6)]
    res = pr.probe_all(ts, concurrency=1, timeout=5, ctx=pr.default_context())
    assert all(r["state"] == "up" for r in res) and peak["all"] == 1, peak

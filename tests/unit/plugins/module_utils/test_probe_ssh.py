# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh probe kind: banner, host key (known_hosts, pin), keyscan and login command lines.

ssh-keyscan and ssh are stand-in scripts that record their arguments (a real sshd is the lab's
job); one test runs the real ssh-keyscan to check it takes ``--``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import subprocess

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_ssh as ps
from tests.unit.probe_servers import KEY_A, KEY_B, closed_port, fake_keyscan, recorded_argv, tool


def run(target, timeout=3.0, **ctx):
    return pr.probe_one(target, connect_timeout=timeout, timeout=timeout, ctx=pr.default_context(**ctx))


def ssh_target(port, **extra):
    t = {"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": port, "host_key": "ssh-ed25519 " + KEY_A}
    t.update(extra)
    return t


# --------------------------------------------------------------------------- states

def test_ssh_up_with_pin(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-OpenSSH_9.2p1 fake\r\n")
    r = run(ssh_target(srv.port), keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "up", r
    assert r["info"]["banner"] == "SSH-2.0-OpenSSH_9.2p1 fake"
    assert r["info"]["host_key"] == "ssh-ed25519 " + ps.ssh_key_fingerprint(KEY_A)


def test_ssh_key_fingerprint_is_openssh_sha256():
    raw = base64.b64decode(KEY_A)
    want = "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    assert ps.ssh_key_fingerprint(KEY_A) == want
    assert ps.ssh_key_fingerprint("not base64!") == "SHA256:?"


def test_silent_server_is_timeout(line_server, tmp_path):
    srv = line_server(None)  # accepts, never sends a banner
    r = run(ssh_target(srv.port), timeout=0.3, keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "timeout"


def test_ssh_impostor_is_host_key_mismatch_never_up(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-OpenSSH_9.2p1 impostor\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge2", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)},
            keyscan=fake_keyscan(tmp_path, KEY_B))
    assert (r["ok"], r["state"]) == (False, "host_key_mismatch")
    assert ps.ssh_key_fingerprint(KEY_B) in r["detail"] and ps.ssh_key_fingerprint(KEY_A) in r["detail"]
    assert r["info"]["banner"].endswith("impostor")


def test_ssh_unknown_alias_is_host_key_mismatch(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1,198.18.1.10 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge9", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)},
            keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "host_key_mismatch" and "has no host key for edge9" in r["detail"], r


def test_ssh_alias_is_the_site_name_not_the_address(line_server, tmp_path):
    """A key listed for the address only does not vouch for the site (HostKeyAlias semantics)."""
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("127.0.0.1 ssh-ed25519 %s\nedge1 ssh-ed25519 %s\n" % (KEY_B, KEY_A))
    r = run({"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)},
            keyscan=fake_keyscan(tmp_path, KEY_B))
    assert r["state"] == "host_key_mismatch"


def test_ssh_not_ssh_is_protocol(line_server, tmp_path):
    srv = line_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    r = run(ssh_target(srv.port), timeout=0.5, keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "protocol" and "no SSH banner" in r["detail"]


def test_ssh_refused(tmp_path):
    r = run(ssh_target(closed_port()), keyscan=fake_keyscan(tmp_path, KEY_A))
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
    assert ps.parse_keyscan("# x\n1.2.3.4 ssh-ed25519 %s\nbad line\n" % KEY_A) == [a]


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

def test_keyscan_gets_the_address_after_double_dash(line_server, tmp_path):
    """An address that looks like an option (``-oProxyCommand=...``) reaches ssh-keyscan after ``--``."""
    srv = line_server(b"SSH-2.0-x\r\n")
    address = "-oProxyCommand=touch %s/pwned" % tmp_path

    def resolver(host):  # the banner is read from the loopback server whatever the name
        return [(socket.AF_INET, "127.0.0.1")]
    r = run(ssh_target(srv.port, address=address), keyscan=fake_keyscan(tmp_path, KEY_A), resolver=resolver)
    assert r["state"] == "up", r
    argv = recorded_argv(tmp_path, "ssh-keyscan")
    assert argv[argv.index("--"):] == ["--", address]
    assert re.match(r"^\d+$", argv[1]) and argv[:1] + argv[2:-2] == ["-T", "-p", str(srv.port), "-t", "ed25519"]
    assert not os.path.exists(str(tmp_path / "pwned"))


@pytest.mark.skipif(not shutil.which("ssh-keyscan"), reason="ssh-keyscan is not installed")
def test_real_ssh_keyscan_takes_double_dash():
    """OpenSSH's ssh-keyscan (Debian 12: 9.2p1) ends its options at ``--`` (else: usage, exit 1)."""
    argv = ps.keyscan_argv(shutil.which("ssh-keyscan"), "127.0.0.1", closed_port(), ["ed25519"], 1)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=5, check=False)
    err = proc.stderr.decode()
    assert "usage" not in err.lower() and "unknown option" not in err.lower(), err


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


def test_login_argv_with_known_hosts_is_strict(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh),
             "login": True, "user": "root", "key_file": "/keys/id_ed25519"},
            keyscan=fake_keyscan(tmp_path, KEY_A), ssh=fake_ssh(tmp_path))
    assert r["state"] == "up" and r["info"]["login"] is True, r
    assert _login_argv(tmp_path) == expected_login(str(kh), srv.port, key_file="/keys/id_ed25519")


def test_login_argv_with_a_pin_trusts_only_the_pin(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-x\r\n")
    r = run(ssh_target(srv.port, alias="edge1-alias", login=True, user="ops"),
            keyscan=fake_keyscan(tmp_path, KEY_A), ssh=fake_ssh(tmp_path))
    assert r["state"] == "up", r
    argv = _login_argv(tmp_path)
    known_hosts = argv[argv.index("StrictHostKeyChecking=yes") + 2][len("UserKnownHostsFile="):]
    assert argv == expected_login(known_hosts, srv.port, alias="edge1-alias", user="ops")
    # The login's known_hosts held the pin under the alias, and nothing else; it is gone afterwards.
    assert (tmp_path / "ssh.known_hosts").read_text() == "edge1-alias ssh-ed25519 %s\n" % KEY_A
    assert not os.path.exists(known_hosts)


def test_login_failure_is_classified_and_keeps_what_was_seen(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-x\r\n")
    r = run(ssh_target(srv.port, login=True, user="ops"), keyscan=fake_keyscan(tmp_path, KEY_A),
            ssh=fake_ssh(tmp_path, rc=255, stderr="ops@127.0.0.1: Permission denied (publickey)."))
    assert r["state"] == "auth" and "Permission denied" in r["detail"]
    assert r["info"]["banner"] == "SSH-2.0-x" and r["connect_ms"] is not None


# --------------------------------------------------------------------------- issue 15: revoked pins, FIFOs

def test_a_pinned_key_revoked_in_known_hosts_is_never_trusted(line_server, tmp_path):
    """Bug: the probe ignored @revoked for a pinned key (edge_address honoured it): probe and fix disagreed."""
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("@revoked edge1 ssh-ed25519 %s\n" % KEY_A)
    r = run(ssh_target(srv.port, known_hosts=str(kh)), keyscan=fake_keyscan(tmp_path, KEY_A))
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
    r = run(target, keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "host_key_mismatch" and "named pipe" in r["detail"], r


def test_a_fifo_as_key_file_is_not_handed_to_ssh(line_server, tmp_path):
    """Bug: a FIFO key_file was handed to ssh, which blocked on it until the deadline."""
    srv = line_server(b"SSH-2.0-x\r\n")
    key = str(tmp_path / "id_ed25519")
    os.mkfifo(key)
    r = run(ssh_target(srv.port, login=True, user="ops", key_file=key), keyscan=fake_keyscan(tmp_path, KEY_A),
            ssh=fake_ssh(tmp_path))
    assert r["state"] == "auth" and "named pipe" in r["detail"], r
    assert not os.path.exists(str(tmp_path / "ssh.argv"))
